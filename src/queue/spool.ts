import { join } from 'node:path';
import type { AuditEvent } from '../core/audit-event.ts';
import { ConfigError, StorageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { parseByteSize, parseDuration } from '../config/units.ts';
import { linkSerialized, newChain, type ChainState } from './chain.ts';
import { loadCheckpointSigner, type CheckpointSettings } from './checkpoint.ts';
import { CursorStore, type Cursor } from './cursor-store.ts';
import { encodeFrame, FRAME_KIND, type Frame } from './frame.ts';
import { loadEncryptionKeys, type EncryptionSettings } from './keys.ts';
import { RecordCodec } from './record-codec.ts';
import { SegmentLog } from './segment-log.ts';
import { SpoolReaderImpl } from './spool-reader.ts';
import type { RecoveryReport, SpoolLike, SpoolOptions, SpoolPosition, SpoolReader, SpoolStats } from './types.ts';

// The write-ahead log between ingest and delivery (DESIGN.md "Spool sketch"). Appends are
// linked into the hash chain and framed in the order they are written; each sink reads at its
// own cursor; segments every cursor has passed are deleted; over `maxBytes` the spool reports
// full and ingest pauses the sources.

interface SegmentHeader {
  readonly chain: ChainState;
}

/** Payload of a replay frame: an event for one sink only. */
export interface ReplayRecord {
  readonly sink: string;
  readonly event: AuditEvent;
}

interface PendingAppend {
  readonly events: readonly AuditEvent[];
  /** Set for a replay: the events keep their chain links and go to this sink only. */
  readonly replayFor?: string;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class Spool implements SpoolLike {
  readonly options: SpoolOptions;
  readonly codec: RecordCodec;
  readonly log: SegmentLog;
  private readonly cursors: CursorStore;
  /** Committed cursors of every sink known to this spool, open or not. */
  private readonly committed = new Map<string, Cursor>();
  private readonly readers = new Map<string, SpoolReaderImpl>();
  private chain: ChainState;
  /** Seq of the last event written (durable per the fsync policy); -1 when none yet. */
  private writtenSeq: number;
  /** Just past the newest record or replay frame written (not a segment header). */
  private lastFrameEnd: SpoolPosition | undefined;
  private appended = 0;
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private writableWaiters: (() => void)[] = [];
  private closed = false;

  private constructor(options: SpoolOptions, log: SegmentLog, codec: RecordCodec, chain: ChainState) {
    this.options = options;
    this.log = log;
    this.codec = codec;
    this.chain = chain;
    this.writtenSeq = chain.nextSeq - 1;
    this.cursors = new CursorStore(join(options.dir, 'cursors'));
    for (const sink of this.cursors.sinks()) this.committed.set(sink, this.validCursor(this.cursors.read(sink)!));
  }

  static async open(options: SpoolOptions): Promise<{ spool: Spool; recovery: RecoveryReport }> {
    const codec = new RecordCodec(options.encryption);
    let chain: ChainState | undefined;
    let last: { segment: number; frame: Frame } | undefined;
    let lastFrameEnd: SpoolPosition | undefined;
    // Filled by segmentHeader() below as the log creates segments; read lazily (after open).
    const state: { spool?: Spool } = {};
    const { log, recovery } = await SegmentLog.open({
      dir: join(options.dir, 'segments'),
      segmentBytes: options.segmentBytes,
      fsync: options.fsync,
      logger: options.logger,
      segmentHeader: () => {
        const c = state.spool?.chain ?? chain ?? newChain();
        chain ??= c;
        return encodeFrame(FRAME_KIND.segmentHeader, c.nextSeq, Date.now(), Buffer.from(JSON.stringify({ chain: c } satisfies SegmentHeader)));
      },
      onRecoveredFrame: (segment, frame) => {
        if (frame.kind === FRAME_KIND.segmentHeader) {
          const h = JSON.parse(frame.payload.toString('utf8')) as SegmentHeader;
          chain = h.chain;
          return;
        }
        lastFrameEnd = { segment, offset: frame.offset + frame.size };
        if (frame.kind === FRAME_KIND.record) {
          last = { segment, frame: { ...frame, payload: Buffer.from(frame.payload) } };
        }
      },
    });
    if (last !== undefined && chain !== undefined) {
      // Opening the newest record proves the key works (a wrong key fails here, at start) and
      // gives the chain's last link.
      const event = JSON.parse(codec.open(last.frame.payload, `${log.dir} segment ${last.segment} byte ${last.frame.offset}`).toString('utf8')) as AuditEvent;
      const seq = last.frame.seq;
      chain = { id: chain.id, nextSeq: seq + 1, lastHash: event.chain?.hash ?? chain.lastHash };
    }
    const spool = new Spool(options, log, codec, chain ?? newChain());
    spool.lastFrameEnd = lastFrameEnd;
    state.spool = spool;
    log.onAppend(() => spool.wakeReaders());
    return {
      spool,
      recovery: { segments: recovery.segments, events: recovery.records, truncated: recovery.truncated, skipped: recovery.skipped },
    };
  }

  /** A cursor pointing into deleted or cut data moves to the nearest valid place. */
  private validCursor(c: Cursor): Cursor {
    const segments = this.log.segments();
    const first = segments[0]!;
    if (c.segment < first) return { segment: first, offset: 0, seq: this.seqBefore(first) };
    const end = this.log.readableEnd(c.segment);
    if (segments.includes(c.segment) && c.offset > end) return { ...c, offset: end };
    return c;
  }

  append(events: readonly AuditEvent[]): Promise<void> {
    return this.enqueue(events, undefined);
  }

  /**
   * Re-enters events a sink refused (from its dead-letter queue) for that sink only. They keep
   * their chain links: a replayed event verifies as the original, it is not a new link.
   */
  appendReplay(sink: string, events: readonly AuditEvent[]): Promise<void> {
    return this.enqueue(events, sink);
  }

  private enqueue(events: readonly AuditEvent[], replayFor: string | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('spool_closed', 'spool is closed'));
    if (events.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ events, resolve, reject, ...(replayFor !== undefined ? { replayFor } : {}) });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    await Promise.resolve();
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      const before = this.chain;
      try {
        const frames: Buffer[] = [];
        const now = Date.now();
        let state = this.chain;
        let events = 0;
        for (const p of group) {
          if (p.replayFor !== undefined) {
            // Seq of the next chained event: a reader past this frame has committed the one before.
            for (const e of p.events) frames.push(encodeFrame(FRAME_KIND.replay, state.nextSeq, now, this.codec.seal(Buffer.from(JSON.stringify({ sink: p.replayFor, event: e } satisfies ReplayRecord)))));
            continue;
          }
          for (const e of p.events) {
            const seq = state.nextSeq;
            let body: string;
            if (this.options.chain !== false) ({ body, state } = linkSerialized(e, state, this.options.checkpoints));
            else {
              body = JSON.stringify(e);
              state = { ...state, nextSeq: seq + 1 };
            }
            frames.push(encodeFrame(FRAME_KIND.record, seq, now, this.codec.seal(Buffer.from(body))));
            events++;
          }
        }
        // The chain state must be current before the log may start a segment (its header).
        this.chain = state;
        await this.log.append(frames);
        // One writer: the group's last frame ends where the active segment ends now.
        if (frames.length > 0) this.lastFrameEnd = { segment: this.log.activeSegment(), offset: this.log.readableEnd(this.log.activeSegment()) };
        this.writtenSeq = state.nextSeq - 1;
        this.appended += events;
        for (const p of group) p.resolve();
      } catch (err) {
        // Nothing of the group is in the log (it cuts a failed write back): reuse the links.
        this.chain = before;
        for (const p of group) p.reject(err);
      }
      this.wakeReaders();
    }
    this.flushing = undefined;
  }

  /** Seq just before the first event of `segment` (what a cursor at its start has committed). */
  private seqBefore(segment: number): number {
    return (this.log.firstSeq(segment) ?? this.writtenSeq + 1) - 1;
  }

  isFull(): boolean {
    return this.log.totalBytes() >= this.options.maxBytes;
  }

  whenWritable(): Promise<void> {
    if (!this.isFull() || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.writableWaiters.push(resolve));
  }

  async openReader(sink: string, startAt: 'oldest' | 'newest'): Promise<SpoolReader> {
    this.readers.get(sink)?.close();
    let cursor = this.committed.get(sink);
    if (cursor === undefined) {
      if (startAt === 'newest') {
        cursor = { segment: this.log.activeSegment(), offset: this.log.readableEnd(this.log.activeSegment()), seq: this.writtenSeq };
      } else {
        const first = this.log.segments()[0]!;
        cursor = { segment: first, offset: 0, seq: this.seqBefore(first) };
      }
      await this.cursors.write(sink, cursor);
      this.committed.set(sink, cursor);
    }
    const reader = new SpoolReaderImpl(sink, cursor, this);
    this.readers.set(sink, reader);
    return reader;
  }

  async removeReader(sink: string): Promise<void> {
    this.readers.get(sink)?.close();
    this.readers.delete(sink);
    this.committed.delete(sink);
    this.cursors.remove(sink);
    this.collect();
  }

  /** Forgets cursors of sinks that are no longer configured, so they stop holding segments. */
  async pruneReaders(keep: readonly string[]): Promise<string[]> {
    const gone = [...this.committed.keys()].filter((s) => !keep.includes(s));
    for (const s of gone) await this.removeReader(s);
    return gone;
  }

  /** Called by a reader once its cursor file is durable. */
  async commitCursor(sink: string, cursor: Cursor): Promise<void> {
    await this.cursors.write(sink, cursor);
    if (this.readers.has(sink)) this.committed.set(sink, cursor);
    this.collect();
  }

  /** Deletes segments every cursor has passed; wakes paused sources when there is room again. */
  private collect(): void {
    if (this.committed.size > 0) {
      let min = Infinity;
      for (const c of this.committed.values()) min = Math.min(min, c.segment);
      this.log.deleteBefore(min);
    }
    if (!this.isFull()) {
      const waiters = this.writableWaiters;
      this.writableWaiters = [];
      for (const w of waiters) w();
    }
  }

  wakeReaders(): void {
    for (const r of this.readers.values()) r.wake();
  }

  appendedEnd(): SpoolPosition | undefined {
    return this.lastFrameEnd;
  }

  /** Seq of the newest event readers may read. */
  lastWrittenSeq(): number {
    return this.writtenSeq;
  }

  stats(): SpoolStats {
    return { bytes: this.log.totalBytes(), maxBytes: this.options.maxBytes, segments: this.log.segments().length, full: this.isFull(), appendedEvents: this.appended };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    for (const r of this.readers.values()) r.close();
    for (const w of this.writableWaiters) w();
    this.writableWaiters = [];
    await this.log.close();
  }
}

/** Positions compare by segment, then offset. */
export function comparePositions(a: SpoolPosition, b: SpoolPosition): number {
  return a.segment !== b.segment ? a.segment - b.segment : a.offset - b.offset;
}

/** `spool:` block of the config (validated by schemas/components/spool.schema.json). */
export interface SpoolSettings {
  readonly dir?: string;
  readonly max_size?: string | number;
  readonly segment_size?: string | number;
  readonly fsync?: 'always' | 'interval';
  readonly fsync_interval?: string | number;
  readonly chain?: boolean;
  readonly encryption?: EncryptionSettings;
  readonly checkpoints?: CheckpointSettings;
}

export function spoolOptionsFromConfig(block: Readonly<Record<string, unknown>>, dataDir: string, logger: Logger): SpoolOptions {
  const s = block as SpoolSettings;
  const encryption = loadEncryptionKeys(s.encryption);
  if (s.checkpoints && s.chain === false) throw new ConfigError('checkpoints_without_chain', 'spool.checkpoints needs the hash chain: remove spool.chain: false or the checkpoints block');
  const checkpoints = loadCheckpointSigner(s.checkpoints);
  return {
    dir: s.dir ?? join(dataDir, 'spool'),
    maxBytes: parseByteSize(s.max_size ?? '1GiB', 'spool.max_size'),
    segmentBytes: parseByteSize(s.segment_size ?? '64MiB', 'spool.segment_size'),
    fsync: s.fsync === 'interval' ? { mode: 'interval', intervalMs: parseDuration(s.fsync_interval ?? '100ms', 'spool.fsync_interval') } : { mode: 'always' },
    chain: s.chain ?? true,
    ...(encryption ? { encryption } : {}),
    ...(checkpoints ? { checkpoints } : {}),
    logger,
  };
}
