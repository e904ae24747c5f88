import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentAuditConfig, SinkBlock, SourceBlock } from '../config/types.ts';
import type { HttpRoutes } from '../core/components.ts';
import { ShutdownError, SinkFatalError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../core/sink.ts';
import type { Source } from '../core/source.ts';
import { VERSION } from '../core/version.ts';
import { sinkEncoder } from '../formats/index.ts';
import { DeliveryRunner } from '../delivery/runner.ts';
import { Ingest } from './ingest.ts';
import { settlesBy } from './deadline.ts';
import { DaemonMetrics } from './metrics.ts';
import { InlineNormalizeStage } from './normalize-stage.ts';
import { WorkerNormalizeStage, workerCount } from './worker-normalize-stage.ts';
import { compileRoutes, type EventPredicate } from './route-filter.ts';
import { sinkFactory, sourceFactory } from './registry.ts';
import { openStorage, type Storage } from './storage.ts';
import { mountOperatorRoutes, startServer, type DaemonServer } from './server.ts';

// The daemon: sources → ingest (normalize, spool) → one delivery runner per sink. It owns the
// lifecycle (start order, graceful drain, reload) and nothing about any component's insides.

interface RunningSource {
  readonly block: SourceBlock;
  readonly source: Source;
}

interface RunningSink {
  /** Block + the routes that concern this sink: a change of either restarts its runner. */
  readonly key: string;
  readonly sink: Sink;
  readonly runner: DeliveryRunner;
}

export interface DaemonOptions {
  readonly config: AgentAuditConfig;
  readonly logger: Logger;
  /** Loads the config file again for SIGHUP and POST /-/reload. */
  readonly loadConfig?: () => AgentAuditConfig;
}

export interface SourceSummary {
  readonly name: string;
  readonly records: number;
  readonly bytes: number;
}

export interface SinkSummary {
  readonly name: string;
  readonly type: string;
  readonly encoding: string;
  readonly delivered: number;
  readonly rejected: number;
  readonly retries: number;
}

export interface RunSummary {
  readonly sources: readonly SourceSummary[];
  readonly sinks: readonly SinkSummary[];
  readonly events: number;
  readonly deadLetters: number;
}

/** How a stop went: `timedOut` names the steps abandoned at the deadline (their work was not finished). */
export interface StopReport {
  readonly complete: boolean;
  readonly timedOut: readonly string[];
}

/**
 * Closing files, sockets and threads after the delivery deadline: a drain that used all of
 * shutdown_timeout still closes the spool and the outputs cleanly, but never waits longer.
 */
const CLOSE_GRACE_MS = 3_000;

export class Daemon {
  readonly metrics = new DaemonMetrics();
  private config: AgentAuditConfig;
  private readonly logger: Logger;
  private readonly loadConfig: (() => AgentAuditConfig) | undefined;
  private storage: Storage | undefined;
  private readonly stage: InlineNormalizeStage | WorkerNormalizeStage;
  private ingest: Ingest | undefined;
  private server: DaemonServer | undefined;
  private readonly sources = new Map<string, RunningSource>();
  private readonly sinks = new Map<string, RunningSink>();
  private started = false;
  /** Components a reload could not start: /readyz reports them until a reload starts them. */
  private readonly failedToStart = new Map<string, string>();
  private starting: Promise<void> | undefined;
  private stopping: Promise<StopReport> | undefined;
  private reloading: Promise<boolean> = Promise.resolve(true);
  /** Per source object: the request counts already added to the metrics counter. */
  private readonly requestsExported = new WeakMap<Source, Map<string, number>>();
  /** `dlq replay` batches that waited for this start, taken into the spool. */
  private replaysAtStart: Promise<void> = Promise.resolve();

  constructor(options: DaemonOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.loadConfig = options.loadConfig;
    const workers = workerCount(this.config.workers);
    this.stage = workers > 0 ? new WorkerNormalizeStage(workers, this.logger, this.config.mappingDirs) : new InlineNormalizeStage(this.config.mappingDirs);
  }

  /** Address of the HTTP server (health, metrics, webhooks, OTLP). */
  get address(): { host: string; port: number } | undefined {
    return this.server?.address;
  }

  /**
   * Opens storage, starts the server, the sinks, then the sources. A stop() while this runs
   * makes it end after the step in progress with ShutdownError: whatever it started is in the
   * daemon's maps by then, so the stop stops it too (a component started behind the stop's
   * back would keep running on a closed spool).
   */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  /** Throws ShutdownError once stop() was called: start and reload end at their next step. */
  private checkNotStopping(): void {
    if (this.stopping) throw new ShutdownError();
  }

  private async doStart(): Promise<void> {
    const c = this.config;
    mkdirSync(c.dataDir, { recursive: true });
    this.metrics.up.set({ version: VERSION }, 1);
    this.checkNotStopping();
    this.storage = await openStorage(c, this.logger);
    for (const [name, block] of Object.entries(c.sources)) this.stage.configure(name, block);
    this.ingest = new Ingest({ stage: this.stage, events: this.storage.spool, dlq: this.storage.deadLetters.ingest, logger: this.logger, dataDir: c.dataDir, metrics: this.metrics });
    this.checkNotStopping();
    this.server = await startServer(c.server, this.logger);
    this.checkNotStopping();
    mountOperatorRoutes(this.server, {
      metrics: this.metrics,
      ready: () => this.readiness(),
      reload: c.server.enableReload ? () => this.reload() : undefined,
    });
    this.metrics.onCollect(() => this.refreshGauges());
    const predicates = compileRoutes(c.routes, Object.keys(c.sinks));
    for (const [name, block] of Object.entries(c.sinks)) {
      await this.startSink(name, block, predicates.get(name)!, sinkKey(c, name));
      this.checkNotStopping();
    }
    // A sink that left the config while the daemon was down must not hold the spool forever.
    const forgotten = await this.storage.spool.pruneReaders(Object.keys(c.sinks));
    if (forgotten.length > 0) this.logger.warn({ sinks: forgotten }, 'sinks no longer in the configuration: their cursors were removed and they no longer hold spool segments');
    this.checkNotStopping();
    this.replaysAtStart = this.storage.startReplays(() => Object.keys(this.config.sinks));
    for (const [name, block] of Object.entries(c.sources)) {
      this.checkNotStopping();
      await this.startSource(name, block);
    }
    this.checkNotStopping();
    this.started = true;
    this.logger.info({ sources: Object.keys(c.sources), sinks: Object.keys(c.sinks), address: this.server.address, dataDir: c.dataDir, normalizeWorkers: workerCount(c.workers), version: VERSION }, 'agent-audit started');
  }

  /**
   * For `run --once`: waits until every source has submitted what it holds now and every sink
   * has confirmed everything in the spool. Fails when a sink stops fatally.
   */
  async drain(): Promise<RunSummary> {
    await this.replaysAtStart;
    await Promise.all([...this.sources.values()].map((s) => s.source.drained?.()));
    const caughtUp = Promise.all([...this.sinks.values()].map((s) => s.runner.whenCaughtUp()));
    let timer: NodeJS.Timeout | undefined;
    const fatal = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        for (const [name, s] of this.sinks) {
          const h = s.runner.health();
          if (h.fatal) reject(new SinkFatalError('sink_fatal', `sink '${name}' stopped: ${h.lastError ?? 'fatal error'}`, { sink: name }));
        }
      }, 100);
    });
    try {
      await Promise.race([caughtUp, fatal]);
    } finally {
      clearInterval(timer);
    }
    return this.summary();
  }

  async summary(): Promise<RunSummary> {
    const events = await counterTotal(this.metrics.eventsIn);
    const deadLetters = await counterTotal(this.metrics.deadLetters);
    return {
      events,
      deadLetters,
      sources: [...this.sources].map(([name, s]) => {
        const st = s.source.stats();
        return { name, records: st.recordsRead, bytes: st.bytesRead };
      }),
      sinks: [...this.sinks].map(([name, s]) => {
        const h = s.runner.health();
        const block = this.config.sinks[name]!;
        return { name, type: block.type, encoding: block.encoding, delivered: h.delivered, rejected: h.rejected, retries: h.retries };
      }),
    };
  }

  /**
   * Graceful drain: refuse new input, let in-flight submits become durable, give sinks until
   * the deadline to deliver, persist cursors and checkpoints. Whatever is not delivered stays
   * in the spool for the next start. Every step is bounded: sources, start and reload get
   * until the deadline, delivery until the deadline, closing until CLOSE_GRACE_MS past it; a
   * step still running then is abandoned and named in the report (nothing acknowledged is
   * lost: a source acknowledges only what is durable, a sink's cursor moves only past what
   * it confirmed).
   */
  stop(timeoutMs = this.config.shutdownTimeoutMs): Promise<StopReport> {
    this.stopping ??= this.doStop(timeoutMs);
    return this.stopping;
  }

  private async doStop(timeoutMs: number): Promise<StopReport> {
    const deadline = Date.now() + timeoutMs;
    this.logger.info({ timeoutMs }, 'agent-audit stopping');
    const timedOut: string[] = [];
    const step = async (name: string, work: Promise<unknown>, until: number): Promise<void> => {
      if (!(await settlesBy(work, until))) timedOut.push(name);
    };
    await step('start', this.starting ?? Promise.resolve(), deadline);
    await step('reload', this.reloading, deadline);
    this.started = false;
    await step('sources', Promise.allSettled([...this.sources.values()].map((s) => s.source.stop())), deadline);
    this.ingest?.close();
    const closeBy = Math.max(deadline, Date.now()) + CLOSE_GRACE_MS;
    await step('delivery', Promise.allSettled([...this.sinks.values()].map((s) => s.runner.stop(Math.max(0, deadline - Date.now())))), closeBy);
    await step('sinks', Promise.allSettled([...this.sinks.values()].map((s) => s.sink.close())), closeBy);
    // Requests still open at the deadline are cut: the sources stopped waiting for them there.
    await step('server', this.server?.close(deadline) ?? Promise.resolve(), closeBy);
    // The spool's last sync and the lock release get their moment even after a slow step.
    const storageBy = Math.max(closeBy, Date.now() + 1_000);
    await step('storage', this.storage?.close() ?? Promise.resolve(), storageBy);
    // A worker is terminated only if it has not ended by then; a stop that overran still gives
    // the workers a moment to end by themselves (terminating one mid-work can abort the process).
    const workersBy = Math.max(closeBy, Date.now() + 1_000);
    await step('normalize workers', this.stage.close(workersBy), workersBy + 1_000);
    if (timedOut.length > 0) {
      this.logger.error({ steps: timedOut, timeoutMs }, 'agent-audit stopped without finishing these steps; undelivered events stay in the spool');
      return { complete: false, timedOut };
    }
    this.logger.info({}, 'agent-audit stopped');
    return { complete: true, timedOut };
  }

  /**
   * SIGHUP / POST /-/reload: loads and validates the config again; on success sources and sinks
   * that were added, removed or changed are started, stopped or restarted, the rest keep
   * running. Sinks keep their cursor across a restart, sources their checkpoints, so nothing is
   * lost or sent twice beyond what was in flight. An invalid config is refused and logged.
   */
  reload(): Promise<boolean> {
    // A reload that failed must not fail every later one (nor the stop's wait for it).
    this.reloading = this.reloading.catch(() => false).then(() => this.doReload());
    return this.reloading;
  }

  private async doReload(): Promise<boolean> {
    if (!this.loadConfig || !this.started || this.stopping) return false;
    let next: AgentAuditConfig;
    try {
      next = this.loadConfig();
    } catch (err) {
      this.logger.error({ err: errorText(err) }, 'config reload refused: the running configuration stays in effect');
      return false;
    }
    const prev = this.config;
    for (const key of ['dataDir', 'spool', 'server', 'workers', 'mappingDirs'] as const) {
      if (JSON.stringify(prev[key]) !== JSON.stringify(next[key])) this.logger.warn({ setting: key }, 'this setting changes only on restart; keeping the running value');
    }
    try {
      // Build every normalizer and load every new or changed component's code and encoder
      // first: an unknown format, a bad pattern or a missing encoding refuses the whole reload
      // before anything running is stopped.
      const probe = new InlineNormalizeStage(next.mappingDirs);
      for (const [name, block] of Object.entries(next.sources)) probe.configure(name, block);
      for (const [name, block] of Object.entries(next.sources)) {
        if (JSON.stringify(block) !== JSON.stringify(this.sources.get(name)?.block)) await sourceFactory(block.type);
      }
      for (const [name, block] of Object.entries(next.sinks)) {
        if (sinkKey(next, name) === this.sinks.get(name)?.key) continue;
        await sinkFactory(block.type);
        sinkEncoder(block);
      }
    } catch (err) {
      this.logger.error({ err: errorText(err) }, 'config reload refused: the running configuration stays in effect');
      return false;
    }
    this.config = { ...next, dataDir: prev.dataDir, spool: prev.spool, server: prev.server, workers: prev.workers, mappingDirs: prev.mappingDirs };
    const changes = { sourcesStarted: [] as string[], sourcesStopped: [] as string[], sinksStarted: [] as string[], sinksStopped: [] as string[] };
    for (const [name, running] of [...this.sources]) {
      const block = next.sources[name];
      if (block === undefined || JSON.stringify(block) !== JSON.stringify(running.block)) {
        if (this.stopping) return false;
        await running.source.stop();
        this.sources.delete(name);
        this.stage.remove(name);
        if (block === undefined) this.metrics.sourceLag.remove({ source: name, unit: running.block.type === 'kafka' ? 'messages' : 'bytes' });
        changes.sourcesStopped.push(name);
      }
    }
    const predicates = compileRoutes(next.routes, Object.keys(next.sinks));
    for (const [name, running] of [...this.sinks]) {
      if (next.sinks[name] === undefined || sinkKey(next, name) !== running.key) {
        if (this.stopping) return false;
        await running.runner.stop(next.shutdownTimeoutMs);
        await running.sink.close();
        this.sinks.delete(name);
        if (next.sinks[name] === undefined) {
          await this.storage!.spool.removeReader(name);
          this.forgetSinkMetrics(name);
        }
        changes.sinksStopped.push(name);
      }
    }
    for (const key of [...this.failedToStart.keys()]) {
      const [kind, name] = key.split(' ', 2) as ['sink' | 'source', string];
      if ((kind === 'sink' ? next.sinks : next.sources)[name] === undefined) this.failedToStart.delete(key);
    }
    for (const [name, block] of Object.entries(next.sinks)) {
      if (this.sinks.has(name)) continue;
      if (this.stopping) return false;
      try {
        await this.startSink(name, block, predicates.get(name)!, sinkKey(next, name));
        this.failedToStart.delete(`sink ${name}`);
        changes.sinksStarted.push(name);
      } catch (err) {
        this.failedToStart.set(`sink ${name}`, errorText(err));
        this.logger.error({ sink: name, err: errorText(err) }, 'sink could not start after reload; its events wait in the spool');
      }
    }
    for (const [name, block] of Object.entries(next.sources)) {
      if (this.sources.has(name)) continue;
      if (this.stopping) return false;
      try {
        this.stage.configure(name, block);
        await this.startSource(name, block);
        this.failedToStart.delete(`source ${name}`);
        changes.sourcesStarted.push(name);
      } catch (err) {
        this.failedToStart.set(`source ${name}`, errorText(err));
        this.logger.error({ source: name, err: errorText(err) }, 'source could not start after reload');
      }
    }
    this.logger.info(changes, 'configuration reloaded');
    return true;
  }

  private async startSource(name: string, block: SourceBlock): Promise<void> {
    const factory = await sourceFactory(block.type);
    const stateDir = join(this.config.dataDir, 'sources', name);
    mkdirSync(stateDir, { recursive: true });
    const logger = this.logger.child({ source: name });
    const source = factory(name, block, { logger, stateDir, http: this.server as HttpRoutes });
    await source.start(this.ingest!);
    this.sources.set(name, { block, source });
  }

  private async startSink(name: string, block: SinkBlock, accepts: EventPredicate, key: string): Promise<void> {
    const factory = await sinkFactory(block.type);
    const stateDir = join(this.config.dataDir, 'sinks', name);
    mkdirSync(stateDir, { recursive: true });
    const logger = this.logger.child({ sink: name });
    const sink = factory(name, block, { logger, stateDir, encoder: sinkEncoder(block) });
    try {
      await sink.start(logger);
    } catch (err) {
      // Bad credentials are an operator error to see at once; an unreachable endpoint is an
      // outage the spool rides out (the runner keeps retrying).
      if (err instanceof SinkFatalError) throw err;
      logger.warn({ err: errorText(err) }, 'sink is not reachable yet; events wait in the spool and delivery retries');
    }
    const reader = await this.storage!.spool.openReader(name, block.start_at);
    const runner = new DeliveryRunner({
      sink,
      reader,
      deadLetters: this.storage!.deadLetters.forSink(name),
      accepts,
      retry: retryPolicyOf(block),
      logger,
      metrics: this.metrics,
    });
    runner.start();
    this.sinks.set(name, { key, sink, runner });
  }

  /**
   * /readyz: every source started, the spool accepts writes (not full, no failing write), no
   * sink failing for longer than the threshold or stopped for good.
   */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.started) reasons.push(this.stopping ? 'shutting down' : 'starting');
    for (const [what, err] of this.failedToStart) reasons.push(`${what} did not start: ${err}`);
    const writeFailure = this.ingest?.writeFailing();
    if (writeFailure) reasons.push(`spool writes failing for ${Math.round((Date.now() - writeFailure.since) / 1000)}s: ${writeFailure.message}`);
    const now = Date.now();
    for (const [name, s] of this.sinks) {
      const h = s.runner.health();
      if (h.fatal) reasons.push(`sink ${name} stopped: ${h.lastError ?? 'fatal error'}`);
      else if (h.failingSince !== undefined && now - h.failingSince > this.config.server.readySinkFailureThresholdMs) reasons.push(`sink ${name} failing for ${Math.round((now - h.failingSince) / 1000)}s: ${h.lastError ?? ''}`);
    }
    if (this.storage?.spool.stats().full) reasons.push('spool is full: sources are paused');
    return { ready: reasons.length === 0, reasons };
  }

  /** A sink that left the configuration leaves the per-sink gauges too (counters keep their totals). */
  private forgetSinkMetrics(name: string): void {
    for (const g of [this.metrics.sinkPendingEvents, this.metrics.sinkOldestUnconfirmedAge, this.metrics.sinkFailing]) g.remove({ sink: name });
  }

  private refreshGauges(): void {
    const st = this.storage?.spool.stats();
    if (st) {
      this.metrics.spoolBytes.set(st.bytes);
      this.metrics.spoolMaxBytes.set(st.maxBytes);
      this.metrics.spoolFull.set(st.full ? 1 : 0);
    }
    const now = Date.now();
    for (const [name, s] of this.sinks) {
      const h = s.runner.health();
      this.metrics.sinkFailing.set({ sink: name }, h.failingSince !== undefined ? (now - h.failingSince) / 1000 : 0);
      const b = s.runner.backlog();
      this.metrics.sinkPendingEvents.set({ sink: name }, b.pending);
      this.metrics.sinkOldestUnconfirmedAge.set({ sink: name }, b.oldestPendingAt !== undefined ? Math.max(0, now - b.oldestPendingAt) / 1000 : 0);
    }
    for (const [name, s] of this.sources) {
      const st = s.source.stats();
      if (st.lag !== undefined) this.metrics.sourceLag.set({ source: name, unit: s.block.type === 'kafka' ? 'messages' : 'bytes' }, st.lag);
      if (st.requests !== undefined) this.exportRequests(name, s.source, st.requests);
    }
  }

  /** Sources count their answers; the counter takes the growth since the last scrape (a restarted source counts from 0 again). */
  private exportRequests(name: string, source: Source, requests: Readonly<Record<string, number>>): void {
    let last = this.requestsExported.get(source);
    if (last === undefined) this.requestsExported.set(source, (last = new Map()));
    for (const [outcome, total] of Object.entries(requests)) {
      const delta = total - (last.get(outcome) ?? 0);
      if (delta > 0) this.metrics.sourceRequests.inc({ source: name, outcome }, delta);
      last.set(outcome, total);
    }
  }
}

function sinkKey(c: AgentAuditConfig, name: string): string {
  return JSON.stringify([c.sinks[name], c.routes.filter((r) => r.to.includes(name))]);
}

function retryPolicyOf(block: SinkBlock): { minDelayMs: number; maxDelayMs: number } {
  const r = (block.retry ?? {}) as { min_delay_ms?: number; max_delay_ms?: number };
  return { minDelayMs: r.min_delay_ms ?? 100, maxDelayMs: r.max_delay_ms ?? 30_000 };
}

async function counterTotal(counter: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  const m = await counter.get();
  return m.values.reduce((a, v) => a + v.value, 0);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

