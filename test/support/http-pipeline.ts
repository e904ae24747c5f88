import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceBlock } from '../../src/config/types.ts';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import type { Logger } from '../../src/core/logger.ts';
import type { Source } from '../../src/core/source.ts';
import { Ingest } from '../../src/daemon/ingest.ts';
import { InlineNormalizeStage } from '../../src/daemon/normalize-stage.ts';
import { startServer, type DaemonServer } from '../../src/daemon/server.ts';
import { DeadLetterReader, DeadLetterStore } from '../../src/queue/dead-letter-store.ts';
import { Spool } from '../../src/queue/spool.ts';
import type { SpoolPosition, SpoolReader } from '../../src/queue/types.ts';

// The real pipeline behind an HTTP source, in process: the daemon's HTTP server, the inline
// normalizer, ingest, a size-limited spool and the dead-letter store, on a temporary data dir.
// Tests drive it over real HTTP and read back what became durable.

export interface LogEntry {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg?: string;
}

/** A logger that keeps every line, so tests can check what was (and was not) logged. */
export function recordingLogger(lines: LogEntry[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogEntry[] } {
  const at = (level: string) => (obj: object, msg?: string) => {
    lines.push({ level, obj: { ...bindings, ...(obj as Record<string, unknown>) }, ...(msg !== undefined ? { msg } : {}) });
  };
  return {
    lines,
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    child: (b) => recordingLogger(lines, { ...bindings, ...b }),
  };
}

export class HttpPipeline {
  readonly dir: string;
  readonly server: DaemonServer;
  readonly spool: Spool;
  readonly dlq: DeadLetterStore;
  readonly stage: InlineNormalizeStage;
  readonly ingest: Ingest;
  readonly logger: Logger & { lines: LogEntry[] };
  private readonly reader: SpoolReader;
  private readonly seen: AuditEvent[] = [];
  private lastNext: SpoolPosition | undefined;

  private constructor(p: { dir: string; server: DaemonServer; spool: Spool; dlq: DeadLetterStore; stage: InlineNormalizeStage; ingest: Ingest; logger: Logger & { lines: LogEntry[] }; reader: SpoolReader }) {
    this.dir = p.dir;
    this.server = p.server;
    this.spool = p.spool;
    this.dlq = p.dlq;
    this.stage = p.stage;
    this.ingest = p.ingest;
    this.logger = p.logger;
    this.reader = p.reader;
  }

  static async start(sources: Readonly<Record<string, SourceBlock>>, options: { spoolMaxBytes?: number; tls?: { cert_file: string; key_file: string } } = {}): Promise<HttpPipeline> {
    const dir = mkdtempSync(join(tmpdir(), 'http-source-'));
    const logger = recordingLogger();
    const server = await startServer({ host: '127.0.0.1', port: 0, readySinkFailureThresholdMs: 60_000, enableReload: false, ...(options.tls ? { tls: options.tls } : {}) }, logger);
    const { spool } = await Spool.open({ dir: join(dir, 'spool'), maxBytes: options.spoolMaxBytes ?? 64 * 1024 * 1024, segmentBytes: Math.min(options.spoolMaxBytes ?? 1024 * 1024, 1024 * 1024) / 4, fsync: { mode: 'always' }, logger });
    const dlq = await DeadLetterStore.open({ dir: join(dir, 'dlq'), fsync: { mode: 'always' }, logger });
    const stage = new InlineNormalizeStage();
    for (const [name, block] of Object.entries(sources)) stage.configure(name, block);
    const ingest = new Ingest({ stage, events: spool, dlq: dlq.partition('ingest'), logger, dataDir: dir });
    // A reader that never commits: it holds every segment, so a small spool fills up.
    const reader = await spool.openReader('test', 'oldest');
    return new HttpPipeline({ dir, server, spool, dlq, stage, ingest, logger, reader });
  }

  /** A state directory for a source, like the daemon's data_dir/sources/<name>. */
  stateDir(name: string): string {
    const d = join(this.dir, 'sources', name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  url(path: string): string {
    const a = this.server.address;
    return `http://${a.host}:${a.port}${path}`;
  }

  /** Every event durable in the spool so far, in order. */
  async events(): Promise<AuditEvent[]> {
    for (;;) {
      const batch = await this.reader.read(1000, 64 * 1024 * 1024, 0);
      if (batch.length === 0) break;
      for (const e of batch) this.seen.push(e.event);
      this.lastNext = batch[batch.length - 1]!.next;
    }
    return [...this.seen];
  }

  /** Lets sinks "confirm" everything so far: segments are freed and a full spool has room again. */
  async confirmAll(): Promise<void> {
    await this.events();
    if (this.lastNext !== undefined) await this.reader.commit(this.lastNext);
  }

  /** Every dead letter written by ingest so far. */
  deadLetters(): DeadLetter[] {
    return [...new DeadLetterReader(join(this.dir, 'dlq')).letters('ingest')].map((l) => l.letter);
  }

  /** Every file under the data dir, for canary scans. */
  files(): string[] {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(p);
      }
    };
    walk(this.dir);
    return out;
  }

  /** Files under the data dir whose bytes contain `needle`. */
  filesContaining(needle: string): string[] {
    return this.files().filter((f) => readFileSync(f).includes(needle));
  }

  async close(sources: readonly Source[] = []): Promise<void> {
    for (const s of sources) await s.stop();
    this.ingest.close();
    this.reader.close();
    await this.server.close();
    await this.spool.close();
    await this.dlq.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
