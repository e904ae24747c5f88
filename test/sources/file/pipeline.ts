import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { SourceBlock } from '../../../src/config/types.ts';
import type { AuditEvent } from '../../../src/core/audit-event.ts';
import type { HttpRoutes } from '../../../src/core/components.ts';
import type { DeadLetter } from '../../../src/core/dead-letter.ts';
import type { Logger } from '../../../src/core/logger.ts';
import type { Source } from '../../../src/core/source.ts';
import { Ingest } from '../../../src/daemon/ingest.ts';
import { InlineNormalizeStage } from '../../../src/daemon/normalize-stage.ts';
import { DeadLetterReader, DeadLetterStore } from '../../../src/queue/dead-letter-store.ts';
import { Spool } from '../../../src/queue/spool.ts';
import type { SpoolReader } from '../../../src/queue/types.ts';
import { createFileSource } from '../../../src/sources/file/index.ts';
import type { FileCheckpoint } from '../../../src/sources/file/checkpoints.ts';

// The file source with the real rest of the ingest side: its factory builds it from a config
// block, Ingest normalizes (generic_gateway mapping, redaction) and appends to a real spool and
// dead-letter store on disk. A consumer reads the spool like a sink's delivery runner does
// (reader + commit), so what it collects is what became durable.

export const SOURCE = 'files';

export { gwLine, gwLines } from './gw-lines.ts';

export interface Collected {
  readonly requestId: string;
  readonly path: string;
  readonly offset: number;
  readonly line: number | undefined;
  readonly seq: number;
}

export interface LogEntry {
  readonly level: string;
  readonly msg: string;
  readonly obj: Record<string, unknown>;
}

/** A logger that keeps what it was told (tests assert on warnings). */
export class RecordingLogger implements Logger {
  readonly entries: LogEntry[];
  private readonly bindings: Record<string, unknown>;
  constructor(entries: LogEntry[] = [], bindings: Record<string, unknown> = {}) {
    this.entries = entries;
    this.bindings = bindings;
  }
  private add(level: string, obj: object, msg?: string): void {
    this.entries.push({ level, msg: msg ?? '', obj: { ...this.bindings, ...obj } });
    if (process.env.FILE_TEST_LOG) console.error(level, msg, JSON.stringify(obj));
  }
  info(obj: object, msg?: string): void {
    this.add('info', obj, msg);
  }
  warn(obj: object, msg?: string): void {
    this.add('warn', obj, msg);
  }
  error(obj: object, msg?: string): void {
    this.add('error', obj, msg);
  }
  debug(obj: object, msg?: string): void {
    this.add('debug', obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.entries, { ...this.bindings, ...bindings });
  }
  find(level: string, msg: RegExp): LogEntry[] {
    return this.entries.filter((e) => e.level === level && msg.test(e.msg));
  }
}

export interface PipelineOptions {
  readonly dir: string;
  /** The file source's settings (include, exclude, start_at, …); `type` and `format` are added. */
  readonly source: Record<string, unknown>;
  readonly spoolMaxBytes?: number;
  readonly segmentBytes?: number;
  /** Start the consumer at once (default true). */
  readonly consume?: boolean;
}

const noHttp: HttpRoutes = {
  add() {
    throw new Error('the file source mounts no routes');
  },
  remove() {},
};

export class FilePipeline {
  readonly dir: string;
  readonly stateDir: string;
  readonly logger = new RecordingLogger();
  readonly collected: Collected[] = [];
  readonly spool: Spool;
  readonly dlq: DeadLetterStore;
  readonly stage: InlineNormalizeStage;
  ingest: Ingest;
  source: Source;
  private readonly block: SourceBlock;
  private reader: SpoolReader;
  private consuming: boolean;
  private consumer: Promise<void> | undefined;
  private closed = false;

  private constructor(o: PipelineOptions, spool: Spool, dlq: DeadLetterStore, reader: SpoolReader) {
    this.dir = o.dir;
    this.stateDir = join(o.dir, 'state', 'sources', SOURCE);
    mkdirSync(this.stateDir, { recursive: true });
    this.spool = spool;
    this.dlq = dlq;
    this.reader = reader;
    this.block = { type: 'file', format: 'generic_gateway', payload_mode: 'hash', ...o.source } as SourceBlock;
    this.stage = new InlineNormalizeStage();
    this.stage.configure(SOURCE, this.block);
    this.ingest = this.newIngest();
    this.source = this.newSource();
    this.consuming = o.consume !== false;
  }

  static async start(o: PipelineOptions): Promise<FilePipeline> {
    const { spool } = await Spool.open({ dir: join(o.dir, 'state', 'spool'), maxBytes: o.spoolMaxBytes ?? 1024 ** 3, segmentBytes: o.segmentBytes ?? 8 * 1024 * 1024, fsync: { mode: 'always' }, logger: silent() });
    const dlq = await DeadLetterStore.open({ dir: join(o.dir, 'state', 'dlq'), fsync: { mode: 'always' }, logger: silent() });
    const reader = await spool.openReader('test', 'oldest');
    const p = new FilePipeline(o, spool, dlq, reader);
    p.consumer = p.consume();
    await p.source.start(p.ingest);
    return p;
  }

  private newIngest(): Ingest {
    return new Ingest({ stage: this.stage, events: this.spool, dlq: this.dlq.partition('ingest'), logger: this.logger, dataDir: join(this.dir, 'state') });
  }

  private newSource(): Source {
    return createFileSource(SOURCE, this.block, { logger: this.logger.child({ source: SOURCE }), stateDir: this.stateDir, http: noHttp });
  }

  private async consume(): Promise<void> {
    while (!this.closed) {
      if (!this.consuming) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const entries = await this.reader.read(2000, 8 * 1024 * 1024, 50);
      if (entries.length === 0) continue;
      for (const e of entries) this.collected.push(collect(e.event));
      await this.reader.commit(entries.at(-1)!.next);
    }
  }

  pauseConsumer(): void {
    this.consuming = false;
  }

  resumeConsumer(): void {
    this.consuming = true;
  }

  /** Events per request id (a line's identity by content). */
  counts(): Map<string, number> {
    const m = new Map<string, number>();
    for (const c of this.collected) m.set(c.requestId, (m.get(c.requestId) ?? 0) + 1);
    return m;
  }

  deadLetters(): DeadLetter[] {
    const r = new DeadLetterReader(join(this.dir, 'state', 'dlq'));
    return [...r.letters('ingest')].map((s) => s.letter);
  }

  /** The checkpoints as on disk. */
  checkpoints(): FileCheckpoint[] {
    try {
      return JSON.parse(readFileSync(join(this.stateDir, 'checkpoints.json'), 'utf8')) as FileCheckpoint[];
    } catch {
      return [];
    }
  }

  /** Stops the source (as the daemon does on shutdown: source, then ingest refuses new input). */
  async stopSource(): Promise<void> {
    await this.source.stop();
    this.ingest.close();
  }

  /** A fresh source instance on the same state directory (a restart of the source). */
  async restartSource(): Promise<void> {
    this.ingest = this.newIngest();
    this.source = this.newSource();
    await this.source.start(this.ingest);
  }

  async close(): Promise<void> {
    await this.source.stop();
    this.ingest.close();
    this.closed = true;
    this.reader.close();
    await this.consumer;
    await this.spool.close();
    await this.dlq.close();
  }
}

function collect(e: AuditEvent): Collected {
  const f = e.origin.position?.file;
  return { requestId: e.event.request_id!, path: f?.path ?? '', offset: f?.offset ?? -1, line: f?.line, seq: e.chain?.seq ?? -1 };
}

function silent(): Logger {
  return new RecordingLogger();
}

/** Waits until `cond` holds, polling; fails with `what` and the last `detail` after `timeoutMs`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, detail?: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${detail ? `\n${JSON.stringify(detail())}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Asserts every `tag-i` for i in [from, to) was collected exactly once; returns problems. */
export function exactlyOnce(counts: Map<string, number>, tag: string, from: number, to: number): { missing: string[]; duplicated: string[] } {
  const missing: string[] = [];
  const duplicated: string[] = [];
  for (let i = from; i < to; i++) {
    const n = counts.get(`${tag}-${i}`) ?? 0;
    if (n === 0) missing.push(`${tag}-${i}`);
    else if (n > 1) duplicated.push(`${tag}-${i}×${n}`);
  }
  return { missing: missing.slice(0, 20), duplicated: duplicated.slice(0, 20) };
}

interface TestContext {
  after(fn: () => Promise<void> | void): void;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'file-source-'));
}

/** Starts a pipeline that is closed (and its directory removed) when the test ends. */
export async function start(t: TestContext, o: PipelineOptions): Promise<FilePipeline> {
  const p = await FilePipeline.start(o);
  t.after(async () => {
    await p.close();
    rmSync(o.dir, { recursive: true, force: true });
  });
  return p;
}

/** Waits until the source has submitted all it holds and the consumer has read all of it. */
export async function settled(p: FilePipeline): Promise<void> {
  await p.source.drained!();
  await waitFor(() => p.collected.length === p.spool.stats().appendedEvents, 'the consumer caught up with the spool');
}

/** Inodes this process has open (what /proc/self/fd points at). */
export function openInodes(): Set<number> {
  const out = new Set<number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out.add(statSync(`/proc/self/fd/${fd}`).ino);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/**
 * Creates `path` with `content` in a new file that gets inode `ino` (freed before: ext4 hands a
 * freed inode out again at once). Undefined when the file system gave out another inode.
 */
export function createWithInode(path: string, ino: number, content: string): number | undefined {
  const dir = dirname(path);
  const tries: string[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      const candidate = join(dir, `.inode-candidate-${i}`);
      writeFileSync(candidate, content);
      if (statSync(candidate).ino === ino) {
        renameSync(candidate, path);
        return ino;
      }
      tries.push(candidate);
    }
    return undefined;
  } finally {
    for (const c of tries) rmSync(c, { force: true });
  }
}

/**
 * A second spool reader that reads (and commits) everything durable so far: what the pipeline
 * made durable, independent of the paused consumer.
 */
export class DurableProbe {
  readonly requestIds = new Set<string>();
  private reader: SpoolReader | undefined;
  private readonly spool: Spool;

  constructor(spool: Spool) {
    this.spool = spool;
  }

  async catchUp(): Promise<Set<string>> {
    this.reader ??= await this.spool.openReader('probe', 'oldest');
    for (;;) {
      const entries = await this.reader.read(5000, 16 * 1024 * 1024, 0);
      if (entries.length === 0 && this.reader.pending() === 0) return this.requestIds;
      for (const e of entries) this.requestIds.add(e.event.event.request_id!);
      if (entries.length > 0) await this.reader.commit(entries.at(-1)!.next);
    }
  }

  /** Stops holding spool segments. */
  async close(): Promise<void> {
    await this.spool.removeReader('probe');
  }
}
