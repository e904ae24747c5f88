import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { AuditEvent } from '../core/audit-event.ts';
import type { DeadLetter } from '../core/dead-letter.ts';
import type { Logger } from '../core/logger.ts';
import { encodeFrame, FRAME_KIND } from './frame.ts';
import type { RecordCodec } from './record-codec.ts';
import { scanSegment, syncDir, type LogRecovery } from './segment-log.ts';
import type { DeadLetterStoreLike } from './types.ts';

// How `agent-audit dlq replay` hands events to the spool without writing it: the spool has one
// writer, the daemon. The command writes a batch file here (spool framing and encryption,
// fsynced, renamed into place), and only then marks the letters replayed; the daemon appends
// each file's entries to the spool (at start, then every second) and deletes the file only once
// they are durable there. A crash on either side repeats a step, it never loses one: a batch
// is in the dead-letter queue, in this inbox, or in the spool.

export type InboxEntry =
  /** A record rebuilt from an ingest dead letter: a new event, chained and routed like any other. */
  | { readonly kind: 'event'; readonly event: AuditEvent }
  /** An event a sink refused: back to that sink only, with its original chain link. */
  | { readonly kind: 'sink'; readonly sink: string; readonly letter: DeadLetter }
  /** Items of a rebuilt record that still fail: back to the ingest dead-letter queue (the daemon is its writer). */
  | { readonly kind: 'dead_letter'; readonly letter: DeadLetter };

const BATCH_FILE = /^\d{13}-[0-9a-f-]{36}\.log$/;

export function inboxDir(dataDir: string): string {
  return join(dataDir, 'replay');
}

/** Batch files waiting for the daemon, oldest first. */
export function pendingBatches(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => BATCH_FILE.test(n))
      .sort();
  } catch {
    return [];
  }
}

/** Writes one batch durably; returns its file name. */
export async function writeBatch(dir: string, codec: RecordCodec, entries: readonly InboxEntry[]): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const name = `${String(Date.now()).padStart(13, '0')}-${randomUUID()}.log`;
  const tmp = join(dir, `${name}.tmp`);
  const now = Date.now();
  const frames = entries.map((e, i) => encodeFrame(FRAME_KIND.record, i, now, codec.seal(Buffer.from(JSON.stringify(e)))));
  const h = await open(tmp, 'w');
  try {
    await h.writev(frames);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, join(dir, name));
  await syncDir(dir);
  return name;
}

/** The part of the spool the inbox writes to. */
export interface ReplayTarget {
  append(events: readonly AuditEvent[]): Promise<void>;
  appendReplay(sink: string, events: readonly AuditEvent[]): Promise<void>;
  isFull(): boolean;
  whenWritable(): Promise<void>;
}

export interface ReplayInboxOptions {
  readonly dir: string;
  readonly codec: RecordCodec;
  readonly spool: ReplayTarget;
  /** Sinks the running configuration has (a replay for another one goes back to its DLQ). */
  readonly sinks: () => readonly string[];
  readonly deadLettersFor: (sink: string) => DeadLetterStoreLike;
  readonly ingestDeadLetters: DeadLetterStoreLike;
  readonly logger: Logger;
  readonly pollMs?: number;
}

/** The daemon's side: moves batch files into the spool. */
export class ReplayInbox {
  private readonly options: ReplayInboxOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly stopSignal: Promise<void>;
  private signalStop: () => void = () => undefined;

  constructor(options: ReplayInboxOptions) {
    this.options = options;
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
  }

  /** Resolves when the batches waiting now are taken. */
  start(): Promise<void> {
    this.timer = setInterval(() => void this.drain(), this.options.pollMs ?? 1000);
    this.timer.unref();
    return this.drain();
  }

  /** Takes every waiting batch (one pass at a time). */
  drain(): Promise<void> {
    this.running ??= this.takeAll().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async takeAll(): Promise<void> {
    for (const name of pendingBatches(this.options.dir)) {
      if (this.stopped) return;
      try {
        await this.take(name);
      } catch (err) {
        // Left in place: taken again on the next pass (e.g. once the spool has room or the key is fixed).
        this.options.logger.error({ file: join(this.options.dir, name), err: (err as Error).message }, 'dead-letter replay batch not taken yet');
        return;
      }
    }
  }

  private async take(name: string): Promise<void> {
    const { dir, codec, spool, logger } = this.options;
    const file = join(dir, name);
    const buf = readFileSync(file);
    const skipped: LogRecovery['skipped'] = [];
    const entries: InboxEntry[] = [];
    const scan = scanSegment(buf, 0, (f) => entries.push(JSON.parse(codec.open(f.payload, `${file} byte ${f.offset}`).toString('utf8')) as InboxEntry), skipped);
    if (skipped.length > 0 || scan.validEnd < buf.length) logger.error({ file, skipped, validEnd: scan.validEnd, size: buf.length }, 'dead-letter replay batch is damaged: its intact entries are replayed, the damaged ones are lost (disk corruption)');
    const events: AuditEvent[] = [];
    const bySink = new Map<string, AuditEvent[]>();
    const orphans = new Map<string, DeadLetter[]>();
    const stillFailing: DeadLetter[] = [];
    const known = new Set(this.options.sinks());
    for (const e of entries) {
      if (e.kind === 'event') events.push(e.event);
      else if (e.kind === 'dead_letter') stillFailing.push(e.letter);
      else if (known.has(e.sink) && e.letter.event) push(bySink, e.sink, e.letter.event);
      else push(orphans, e.sink, { ...e.letter, message: `replay not possible: sink '${e.sink}' is not in the running configuration (first refusal: ${e.letter.message})`, time: Date.now() });
    }
    // A full spool waits for room like a source does; shutdown does not wait for it.
    if (spool.isFull()) await Promise.race([spool.whenWritable(), this.stopSignal]);
    if (this.stopped) return;
    await Promise.all([
      spool.append(events),
      ...[...bySink].map(([sink, evs]) => spool.appendReplay(sink, evs)),
      ...[...orphans].map(([sink, letters]) => this.options.deadLettersFor(sink).append(letters)),
      this.options.ingestDeadLetters.append(stillFailing),
    ]);
    unlinkSync(file);
    await syncDir(dir);
    logger.info({ file, events: events.length, replays: Object.fromEntries([...bySink].map(([s, e]) => [s, e.length])), backToDlq: Object.fromEntries([...orphans].map(([s, l]) => [s, l.length])), stillFailing: stillFailing.length }, 'dead-letter replay batch taken into the spool');
  }
}

function push<T>(m: Map<string, T[]>, key: string, value: T): void {
  const list = m.get(key);
  if (list) list.push(value);
  else m.set(key, [value]);
}
