import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SourceBlock } from '../config/types.ts';
import type { Logger } from '../core/logger.ts';
import type { NormalizeResult } from '../core/normalizer.ts';
import type { RawRecord } from '../core/raw-record.ts';
import type { NormalizeStage } from './ingest.ts';
import { settlesBy } from './deadline.ts';
import { InlineNormalizeStage } from './normalize-stage.ts';
import type { WireRecord, WorkerReply, WorkerRequest } from './worker-protocol.ts';

/** `workers: 0` → one per core beyond the first (the main thread reads, spools and delivers), at most 3. */
export function workerCount(configured: number): number {
  if (configured > 0) return configured;
  return Math.min(3, Math.max(0, availableParallelism() - 1));
}

interface Pending {
  readonly resolve: (r: NormalizeResult[]) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

/** How long close() waits by default for the workers to end before terminating them. */
const CLOSE_WAIT_MS = 10_000;

/**
 * Parsing, mapping, redaction and validation on worker threads, so a 2-core machine uses both
 * cores. Each batch goes to the least busy worker with its record bytes packed into one
 * transferred buffer (no copy per record). Source settings are broadcast to every worker; the
 * main thread keeps its own copy for redacting dead letters built by sources. A worker that
 * dies fails its in-flight batches (the sources have not acknowledged them, so they are
 * re-read) and is replaced.
 */
export class WorkerNormalizeStage implements NormalizeStage {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly owner = new Map<number, Slot>();
  private readonly blocks = new Map<string, SourceBlock>();
  private readonly local: InlineNormalizeStage;
  private readonly mappingDirs: readonly string[];
  private nextId = 1;
  private closing = false;
  private readonly logger: Logger;

  constructor(count: number, logger: Logger, mappingDirs: readonly string[] = []) {
    this.logger = logger;
    this.mappingDirs = mappingDirs;
    this.local = new InlineNormalizeStage(mappingDirs);
    for (let i = 0; i < count; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('./normalize-worker.ts', import.meta.url), { workerData: { mappingDirs: this.mappingDirs } });
    const slot: Slot = { worker, inFlight: 0 };
    worker.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'warning') return this.logger.warn({ ...reply.fields, thread: 'normalize worker' }, reply.message);
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      this.owner.delete(reply.id);
      slot.inFlight--;
      if (reply.kind === 'result') p.resolve(reply.results);
      else p.reject(new Error(`normalize worker: ${reply.message}`));
    });
    worker.on('error', (err) => this.onWorkerDeath(slot, err));
    worker.on('exit', (code) => {
      if (!this.closing) this.onWorkerDeath(slot, new Error(`normalize worker exited with code ${code}`));
    });
    for (const [name, block] of this.blocks) worker.postMessage({ kind: 'configure', name, block } satisfies WorkerRequest);
    return slot;
  }

  private onWorkerDeath(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.logger.error({ err: err.message }, 'normalize worker died; replacing it');
    for (const [id, s] of this.owner) {
      if (s !== slot) continue;
      this.pending.get(id)?.reject(err);
      this.pending.delete(id);
      this.owner.delete(id);
    }
    void slot.worker.terminate();
    if (!this.closing) this.slots[i] = this.spawn();
  }

  configure(name: string, block: SourceBlock): void {
    // Validates on this thread first, so a bad setting is a ConfigError here, not in a worker.
    this.local.configure(name, block);
    this.blocks.set(name, block);
    for (const s of this.slots) s.worker.postMessage({ kind: 'configure', name, block } satisfies WorkerRequest);
  }

  remove(name: string): void {
    this.local.remove(name);
    this.blocks.delete(name);
    for (const s of this.slots) s.worker.postMessage({ kind: 'remove', name } satisfies WorkerRequest);
  }

  redactText(source: string, text: string): string {
    return this.local.redactText(source, text);
  }

  normalize(records: readonly RawRecord[]): Promise<NormalizeResult[]> {
    if (records.length === 0) return Promise.resolve([]);
    let total = 0;
    for (const r of records) total += r.bytes.length;
    const bytes = new Uint8Array(total);
    const wire: WireRecord[] = new Array(records.length);
    let at = 0;
    for (let i = 0; i < records.length; i++) {
      const { bytes: b, ...rest } = records[i]!;
      bytes.set(b, at);
      wire[i] = { ...rest, start: at, end: at + b.length };
      at += b.length;
    }
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.inFlight < slot.inFlight) slot = s;
    const id = this.nextId++;
    slot.inFlight++;
    return new Promise<NormalizeResult[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.owner.set(id, slot);
      slot.worker.postMessage({ kind: 'normalize', id, records: wire, bytes } satisfies WorkerRequest, [bytes.buffer]);
    });
  }

  /**
   * Asks every worker to end once it has answered what it was sent (a 'close' message queued
   * behind them), so no thread is terminated while it loads its modules, handles a transferred
   * batch or posts a reply: terminate() at such a moment can abort the whole process in V8
   * (nodejs/node#60755). Only a worker still running at `until` (epoch ms) is terminated.
   */
  async close(until: number = Date.now() + CLOSE_WAIT_MS): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async (s) => {
        const exited = new Promise<void>((resolve) => {
          if (s.worker.threadId === -1) resolve();
          else s.worker.once('exit', () => resolve());
        });
        s.worker.postMessage({ kind: 'close' } satisfies WorkerRequest);
        if (await settlesBy(exited, until)) return;
        this.logger.error({ threadId: s.worker.threadId }, 'normalize worker did not end by the shutdown deadline; terminating it');
        await s.worker.terminate();
      }),
    );
    for (const p of this.pending.values()) p.reject(new Error('normalize workers stopped'));
    this.pending.clear();
  }
}
