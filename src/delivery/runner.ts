import pRetry, { AbortError } from 'p-retry';
import type { AuditEvent } from '../core/audit-event.ts';
import type { DeadLetter } from '../core/dead-letter.ts';
import { SinkFatalError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { EventOutcome, Sink } from '../core/sink.ts';
import type { DaemonMetrics } from '../daemon/metrics.ts';
import type { SourcePosition } from '../core/raw-record.ts';
import { failpoint } from '../queue/failpoint.ts';
import type { DeadLetterStoreLike, SpoolEntry, SpoolPosition, SpoolReader } from '../queue/types.ts';
import { fullJitterDelay, sleep } from './backoff.ts';
import type { DeliveryHealth, DeliveryRunnerLike, DeliveryRunnerOptions, RetryPolicy } from './types.ts';

// One runner per sink: read a batch at the sink's cursor, send it, retry what is retriable
// (forever: a sink outage is waited out, the spool holds the events), dead-letter what the
// sink refused for good, and only then move the cursor past the batch.

/** Some events of the batch are still retriable: p-retry's signal to try again. */
class RetriableBatchError extends Error {
  readonly retryAfterMs: number;
  constructor(reason: string, retryAfterMs: number) {
    super(reason);
    this.name = 'RetriableBatchError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** How long the runner waits for a first event before checking whether it should stop. */
const IDLE_POLL_MS = 500;
const REJECT_LOG_INTERVAL_MS = 10_000;
const FAILING_AFTER_ATTEMPTS = 3;
const FAILING_AFTER_MS = 2_000;
/** How long stop() still waits, once the deadline abandoned the retries, for a send in flight. */
const ABANDON_GRACE_MS = 1_000;

export class DeliveryRunner implements DeliveryRunnerLike {
  private readonly sink: Sink;
  private readonly reader: SpoolReader;
  private readonly deadLetters: DeadLetterStoreLike;
  private readonly accepts: (event: AuditEvent) => boolean;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  private readonly metrics: DaemonMetrics | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** Aborted when the stop deadline passes: in-flight retries are abandoned (the spool keeps them). */
  private readonly abandon = new AbortController();
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private delivered = 0;
  private rejected = 0;
  private retries = 0;
  private fatal = false;
  private rejectLoggedAt = -Infinity;
  private failureLogged = false;
  private rejectedSinceLog = 0;
  private readonly caughtUpWaiters: { target: SpoolPosition; resolve: () => void }[] = [];

  constructor(options: DeliveryRunnerOptions) {
    this.sink = options.sink;
    this.reader = options.reader;
    this.deadLetters = options.deadLetters;
    this.accepts = options.accepts;
    this.retry = options.retry;
    this.logger = options.logger;
    this.metrics = options.metrics;
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => {
      this.fatal = true;
      this.lastError = err instanceof Error ? err.message : String(err);
      this.logger.error({ err: this.lastError }, 'delivery stopped: the sink cannot work until the problem is fixed (events stay in the spool)');
    });
  }

  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.reader.close();
    // At the deadline the retries are abandoned; a request still in flight then (a server that
    // never answers) is not waited for beyond a short grace: the sink's close() cuts it, and
    // its events are still in the spool (the cursor did not move past them).
    let timer: NodeJS.Timeout | undefined;
    const given = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.abandon.abort();
        timer = setTimeout(resolve, ABANDON_GRACE_MS);
      }, timeoutMs);
    });
    try {
      await Promise.race([this.loop, given]);
    } finally {
      clearTimeout(timer);
    }
  }

  whenCaughtUp(): Promise<void> {
    // By position, not seq: events replayed from a dead-letter queue take no seq.
    const target = this.reader.appendedEnd();
    if (target === undefined || notBefore(this.reader.committedPosition(), target)) return Promise.resolve();
    return new Promise((resolve) => this.caughtUpWaiters.push({ target, resolve }));
  }

  /** Events in the spool this sink has not confirmed, and when the oldest it holds was spooled. */
  backlog(): { pending: number; oldestPendingAt?: number } {
    const oldest = this.reader.oldestPendingAt();
    return { pending: this.reader.pending(), ...(oldest !== undefined ? { oldestPendingAt: oldest } : {}) };
  }

  health(): DeliveryHealth {
    return {
      sink: this.sink.name,
      ...(this.failingSince !== undefined ? { failingSince: this.failingSince } : {}),
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      delivered: this.delivered,
      rejected: this.rejected,
      retries: this.retries,
      fatal: this.fatal,
    };
  }

  private async run(): Promise<void> {
    const { maxEvents, maxBytes, maxWaitMs } = this.sink.limits;
    while (!this.stopping) {
      const batch = await this.reader.read(maxEvents, maxBytes, IDLE_POLL_MS);
      if (batch.length === 0) {
        // A closed reader answers [] without waiting: looping on it would be a microtask-only
        // busy loop that starves the event loop (no timer, no signal handler ever runs again).
        if (this.reader.closed) {
          if (!this.stopping) this.logger.warn({}, 'delivery stopped: the spool reader was closed under a running runner');
          return;
        }
        continue;
      }
      // Linger up to maxWaitMs to fill the batch: fewer, fuller requests under a trickle.
      const lingerUntil = Date.now() + maxWaitMs;
      let bytes = batch.reduce((n, e) => n + e.bytes, 0);
      while (!this.stopping && batch.length < maxEvents && bytes < maxBytes && Date.now() < lingerUntil) {
        const more = await this.reader.read(maxEvents - batch.length, maxBytes - bytes, lingerUntil - Date.now());
        if (more.length === 0) break;
        batch.push(...more);
        bytes += more.reduce((n, e) => n + e.bytes, 0);
      }
      const delivered = await this.deliver(batch);
      if (!delivered) return;
      failpoint('delivery.confirmed');
      await this.reader.commit(batch[batch.length - 1]!.next);
      this.metrics?.sinkPendingEvents.set({ sink: this.sink.name }, this.reader.pending());
      this.notifyCaughtUp();
    }
  }

  private notifyCaughtUp(): void {
    const committed = this.reader.committedPosition();
    for (let i = this.caughtUpWaiters.length - 1; i >= 0; i--) {
      const w = this.caughtUpWaiters[i]!;
      if (notBefore(committed, w.target)) {
        this.caughtUpWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /**
   * Sends the routed events of the batch until each is accepted or rejected (and rejected
   * ones are durably dead-lettered). False when the runner must stop without committing
   * (abandoned at shutdown); throws SinkFatalError when the sink cannot work at all.
   */
  private async deliver(batch: readonly SpoolEntry[]): Promise<boolean> {
    // Another sink's dead-letter replay, or an event routed elsewhere: committed, not sent.
    let pending = batch.filter((e) => (e.replayFor === undefined || e.replayFor === this.sink.name) && this.accepts(e.event));
    if (pending.length === 0) return true;
    try {
      await pRetry(
        async () => {
          const outcomes = await this.send(pending);
          const retriable: SpoolEntry[] = [];
          const letters: DeadLetter[] = [];
          let reason = '';
          let accepted = 0;
          const now = Date.now();
          outcomes.outcomes.forEach((o, i) => {
            const entry = pending[i]!;
            if (o.status === 'accepted') {
              accepted++;
              this.metrics?.deliveryLatency.observe({ sink: this.sink.name }, (now - entry.appendedAt) / 1000);
            } else if (o.status === 'rejected') letters.push(this.letterFor(entry, o.reason));
            else {
              retriable.push(entry);
              reason ||= o.reason;
            }
          });
          if (letters.length > 0) {
            await this.deadLetters.append(letters);
            this.rejected += letters.length;
            for (const l of letters) this.metrics?.deadLetters.inc({ source: l.source, sink: this.sink.name, reason: l.reason });
            this.logRejected(letters.length, letters[0]!.message);
          }
          this.delivered += accepted;
          if (accepted > 0) this.metrics?.eventsOut.inc({ sink: this.sink.name }, accepted);
          pending = retriable;
          if (retriable.length > 0) throw new RetriableBatchError(reason, outcomes.retryAfterMs ?? 0);
        },
        {
          retries: Infinity,
          minTimeout: 0,
          maxTimeout: 0,
          randomize: false,
          signal: this.abandon.signal,
          shouldRetry: ({ error }) => !(error instanceof SinkFatalError) && !this.abandon.signal.aborted,
          onFailedAttempt: async ({ error, attemptNumber }) => {
            if (error instanceof SinkFatalError) return;
            const now = Date.now();
            this.failingSince ??= now;
            this.lastError = error.message;
            this.retries++;
            this.metrics?.retries.inc({ sink: this.sink.name });
            // An item retried once (a 429 in a bulk answer) is routine, not a state change: the
            // log says "failing" once a streak outlasts a couple of attempts, then every 10th.
            const report = this.failureLogged ? attemptNumber % 10 === 0 : attemptNumber >= FAILING_AFTER_ATTEMPTS || now - this.failingSince >= FAILING_AFTER_MS;
            if (report) {
              this.failureLogged = true;
              this.logger.warn({ err: error.message, attempt: attemptNumber, events: pending.length }, 'delivery failed; retrying (events wait in the spool)');
            }
            const hint = error instanceof RetriableBatchError ? error.retryAfterMs : 0;
            await sleep(fullJitterDelay(this.retry, attemptNumber - 1, hint), this.abandon.signal);
          },
        },
      );
    } catch (err) {
      if (this.abandon.signal.aborted) return false;
      throw err;
    }
    if (this.failureLogged) this.logger.info({ failedForMs: Date.now() - this.failingSince! }, 'delivery recovered');
    this.failureLogged = false;
    this.failingSince = undefined;
    this.lastError = undefined;
    return true;
  }

  /** Calls the sink; any throw other than SinkFatalError makes the whole batch retriable. */
  private async send(entries: readonly SpoolEntry[]): Promise<{ outcomes: readonly EventOutcome[]; retryAfterMs?: number }> {
    try {
      const result = await this.sink.send(entries.map((e) => e.event));
      if (result.outcomes.length !== entries.length) throw new Error(`sink returned ${result.outcomes.length} outcomes for ${entries.length} events`);
      return result;
    } catch (err) {
      if (err instanceof SinkFatalError) throw new AbortError(err);
      const reason = err instanceof Error ? err.message : String(err);
      return { outcomes: entries.map(() => ({ status: 'retriable', reason }) as const) };
    }
  }

  /**
   * A sink refusing every event (a mapping conflict) must not turn the log into one line per
   * batch: the first refusal is logged at once, later ones as a count at most every 10 s.
   */
  private logRejected(count: number, reason: string): void {
    this.rejectedSinceLog += count;
    const now = Date.now();
    if (now - this.rejectLoggedAt < REJECT_LOG_INTERVAL_MS) return;
    this.logger.warn({ count: this.rejectedSinceLog, reason }, 'events rejected by the sink went to its dead-letter queue');
    this.rejectLoggedAt = now;
    this.rejectedSinceLog = 0;
  }

  private letterFor(entry: SpoolEntry, reason: string): DeadLetter {
    const e = entry.event;
    return {
      reason: 'sink_rejected',
      message: reason,
      source: e.origin.source,
      position: sourcePositionOf(e),
      format: e.origin.format,
      raw: '',
      sink: this.sink.name,
      event: e,
      time: Date.now(),
    };
  }
}

/** Where the event's record was read, as the dead-letter queue names positions. */
function sourcePositionOf(e: AuditEvent): SourcePosition {
  const p = e.origin.position;
  if (p?.kafka) return { kind: 'kafka', topic: p.kafka.topic ?? '', partition: p.kafka.partition ?? 0, offset: p.kafka.offset ?? '' };
  if (p?.http) return { kind: 'http', path: p.http.path ?? '', deliveryId: p.http.delivery_id ?? '' };
  return { kind: 'file', path: p?.file?.path ?? e.origin.source, fileId: '', offset: p?.file?.offset ?? 0, ...(p?.file?.line !== undefined ? { line: p.file.line } : {}) };
}

function notBefore(a: SpoolPosition, b: SpoolPosition): boolean {
  return a.segment > b.segment || (a.segment === b.segment && a.offset >= b.offset);
}
