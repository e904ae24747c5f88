import { mkdirSync, readdirSync, readFileSync, truncateSync, unlinkSync, statSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { failpoint } from './failpoint.ts';
import { FRAME_KIND, parseFrame, resync, type Frame } from './frame.ts';

// Segmented append-only log: the storage under both the spool and the dead-letter queue.
// One writer; appends from concurrent callers are grouped into one write and (fsync `always`)
// one fsync, so the cost of durability is paid per group, not per event.

export type FsyncPolicy = { readonly mode: 'always' } | { readonly mode: 'interval'; readonly intervalMs: number };

export interface SegmentLogOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly fsync: FsyncPolicy;
  readonly logger: Logger;
  /** Frame written first in every new segment (chain state, for a spool whose older segments are gone). */
  readonly segmentHeader?: () => Buffer;
  /**
   * Append to a fresh segment instead of the last one, so segments of earlier runs are sealed
   * and a CLI can rewrite them while a daemon appends (the dead-letter queue).
   */
  readonly freshSegmentOnOpen?: boolean;
  /** Called for every intact frame found during recovery, in order. */
  readonly onRecoveredFrame?: (segment: number, frame: Frame) => void;
}

export interface LogRecovery {
  readonly segments: number;
  readonly records: number;
  readonly truncated: { segment: number; offset: number; bytes: number }[];
  readonly skipped: { segment: number; offset: number; reason: string }[];
}

export interface ReadFramesResult {
  readonly frames: Frame[];
  /** Offset to read from next in the same segment. */
  readonly nextOffset: number;
  /** The segment is sealed and `nextOffset` is its end: continue in the next segment. */
  readonly endOfSegment: boolean;
}

interface Pending {
  readonly frames: readonly Buffer[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const SEGMENT_NAME = /^(\d{9,})\.log$/;

export function segmentFile(dir: string, segment: number): string {
  return join(dir, `${String(segment).padStart(9, '0')}.log`);
}

export function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => SEGMENT_NAME.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Scans one segment's bytes: intact frames in order, corrupt stretches in the middle skipped
 * (resynchronising on the next frame marker whose checksum holds), and the length of the valid
 * prefix when the end is torn or corrupt with nothing intact after it.
 */
export function scanSegment(buf: Buffer, segment: number, onFrame: (f: Frame) => void, skipped: LogRecovery['skipped']): { validEnd: number; records: number } {
  let offset = 0;
  let records = 0;
  while (offset < buf.length) {
    const r = parseFrame(buf, offset);
    if (r.status === 'ok') {
      onFrame(r.frame);
      if (r.frame.kind === FRAME_KIND.record) records++;
      offset += r.frame.size;
      continue;
    }
    const next = resync(buf, offset);
    if (next === undefined) return { validEnd: offset, records };
    skipped.push({ segment, offset, reason: r.status === 'corrupt' ? r.reason : 'truncated record' });
    offset = next;
  }
  return { validEnd: offset, records };
}

export class SegmentLog {
  readonly dir: string;
  private readonly options: SegmentLogOptions;
  /** Sizes of every segment on disk; the last one is the active segment. */
  private readonly sizes = new Map<number, number>();
  private active = 0;
  private activeHandle: FileHandle | undefined;
  private activeSynced = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  /** The interval's fsync came while a group was being written: that group does it. */
  private syncDue = false;
  private closed = false;
  private readonly appendListeners = new Set<() => void>();
  private readonly syncListeners = new Set<(startedAt: number) => void>();
  /** Sequence number of the first record in each segment (pending counts, new cursors). */
  private readonly firstSeqs = new Map<number, number>();

  private constructor(options: SegmentLogOptions) {
    this.options = options;
    this.dir = options.dir;
  }

  static async open(options: SegmentLogOptions): Promise<{ log: SegmentLog; recovery: LogRecovery }> {
    const log = new SegmentLog(options);
    const recovery = log.recover();
    await log.openActive();
    if (options.fsync.mode === 'interval') {
      log.timer = setInterval(() => void log.syncIfDirty(), options.fsync.intervalMs);
      log.timer.unref();
    }
    return { log, recovery };
  }

  private recover(): LogRecovery {
    mkdirSync(this.dir, { recursive: true });
    const truncated: LogRecovery['truncated'] = [];
    const skipped: LogRecovery['skipped'] = [];
    let records = 0;
    const segments = listSegments(this.dir);
    for (const segment of segments) {
      const file = segmentFile(this.dir, segment);
      const buf = readFileSync(file);
      const scan = scanSegment(
        buf,
        segment,
        (f) => {
          if (f.kind === FRAME_KIND.record && !this.firstSeqs.has(segment)) this.firstSeqs.set(segment, f.seq);
          this.options.onRecoveredFrame?.(segment, f);
        },
        skipped,
      );
      records += scan.records;
      if (scan.validEnd < buf.length) {
        truncateSync(file, scan.validEnd);
        truncated.push({ segment, offset: scan.validEnd, bytes: buf.length - scan.validEnd });
      }
      this.sizes.set(segment, scan.validEnd);
    }
    return { segments: segments.length, records, truncated, skipped };
  }

  private async openActive(): Promise<void> {
    const segments = [...this.sizes.keys()];
    if (segments.length === 0) {
      await this.startSegment(1);
      return;
    }
    const last = segments[segments.length - 1]!;
    if (this.options.freshSegmentOnOpen && this.sizes.get(last)! > 0) {
      await this.startSegment(last + 1);
      return;
    }
    this.active = last;
    this.activeHandle = await open(segmentFile(this.dir, this.active), 'a');
    this.activeSynced = this.sizes.get(this.active)!;
  }

  private async startSegment(segment: number): Promise<void> {
    const handle = await open(segmentFile(this.dir, segment), 'a');
    this.active = segment;
    this.activeHandle = handle;
    this.sizes.set(segment, 0);
    this.activeSynced = 0;
    const header = this.options.segmentHeader?.();
    if (header) {
      await handle.write(header);
      this.sizes.set(segment, header.length);
    }
    await handle.datasync();
    this.activeSynced = this.sizes.get(segment)!;
    await syncDir(this.dir);
  }

  /** Appends frames; resolves once they are written (and fsynced under `always`). */
  append(frames: readonly Buffer[]): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError('log_closed', `${this.dir}: log is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ frames, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Yield once so appends issued in the same tick join this group.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      try {
        await this.write(group.flatMap((p) => p.frames));
        for (const p of group) p.resolve();
      } catch (err) {
        for (const p of group) p.reject(err);
      }
    }
    this.flushing = undefined;
  }

  private async write(frames: readonly Buffer[]): Promise<void> {
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    for (const f of frames) {
      const size = this.sizes.get(this.active)!;
      if (size + chunkBytes >= this.options.segmentBytes) {
        await this.writeChunk(chunk, chunkBytes);
        chunk = [];
        chunkBytes = 0;
        await this.roll();
      }
      chunk.push(f);
      chunkBytes += f.length;
    }
    await this.writeChunk(chunk, chunkBytes);
    failpoint('spool.append.written');
    if (this.options.fsync.mode === 'always') await this.sync();
    else if (this.syncDue) {
      this.syncDue = false;
      this.dirty = false;
      await this.sync();
    } else this.dirty = true;
    for (const l of this.appendListeners) l();
  }

  private async writeChunk(chunk: readonly Buffer[], bytes: number): Promise<void> {
    if (chunk.length === 0) return;
    if (!this.firstSeqs.has(this.active)) this.firstSeqs.set(this.active, chunk[0]!.readDoubleLE(13));
    const handle = this.activeHandle!;
    const before = this.sizes.get(this.active)!;
    failpoint('spool.append.torn', () => {
      const all = Buffer.concat(chunk);
      writeSync(handle.fd, all, 0, Math.max(1, Math.floor(all.length / 2)));
    });
    try {
      let written = 0;
      let buffers = chunk;
      while (written < bytes) {
        const r = await handle.writev(buffers as Buffer[]);
        written += r.bytesWritten;
        if (written < bytes) buffers = [Buffer.concat(chunk).subarray(written)];
      }
    } catch (err) {
      // Never leave half a group behind (a full disk mid-write): cut back to where it began.
      await handle.truncate(before).catch(() => undefined);
      const e = err as NodeJS.ErrnoException;
      throw new StorageError(e.code === 'ENOSPC' ? 'disk_full' : 'write_failed', `${segmentFile(this.dir, this.active)}: cannot append: ${e.message}`, { dir: this.dir, code: e.code }, { cause: err });
    }
    this.sizes.set(this.active, before + bytes);
  }

  private async roll(): Promise<void> {
    const old = this.activeHandle!;
    await old.datasync();
    await old.close();
    await this.startSegment(this.active + 1);
  }

  private async sync(): Promise<void> {
    const startedAt = performance.now();
    await this.activeHandle!.datasync();
    this.activeSynced = this.sizes.get(this.active)!;
    for (const l of this.syncListeners) l(startedAt);
  }

  private async syncIfDirty(): Promise<void> {
    if (this.closed) return;
    // Under a steady stream a write is almost always in progress; skipping the fsync then would
    // defer it indefinitely and break the "at most fsync_interval on power loss" promise.
    if (this.flushing) {
      this.syncDue = true;
      return;
    }
    if (!this.dirty) return;
    this.dirty = false;
    try {
      await this.sync();
      for (const l of this.appendListeners) l();
    } catch (err) {
      this.dirty = true;
      this.options.logger.error({ err: (err as Error).message, dir: this.dir }, 'periodic fsync failed');
    }
  }

  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Called after each fsync of the active segment with when it began (performance.now()): what was written before that is durable. */
  onSync(listener: (startedAt: number) => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  segments(): number[] {
    return [...this.sizes.keys()];
  }

  /** Seq of the first record in `segment`; undefined while it holds none. */
  firstSeq(segment: number): number | undefined {
    return this.firstSeqs.get(segment);
  }

  activeSegment(): number {
    return this.active;
  }

  /** Bytes a reader may read in a segment: written and (fsync `always`) durable. */
  readableEnd(segment: number): number {
    if (segment !== this.active) return this.sizes.get(segment) ?? 0;
    return this.options.fsync.mode === 'always' ? this.activeSynced : this.sizes.get(segment)!;
  }

  totalBytes(): number {
    let n = 0;
    for (const s of this.sizes.values()) n += s;
    return n;
  }

  /** First segment after `segment` that exists (segments can be numbered with gaps after deletion). */
  nextSegment(segment: number): number | undefined {
    for (const s of this.sizes.keys()) if (s > segment) return s;
    return undefined;
  }

  /** Deletes sealed segments numbered below `segment`. */
  deleteBefore(segment: number): number {
    let deleted = 0;
    for (const s of [...this.sizes.keys()]) {
      if (s >= segment || s === this.active) continue;
      try {
        unlinkSync(segmentFile(this.dir, s));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      failpoint('segment.deleted');
      this.sizes.delete(s);
      this.firstSeqs.delete(s);
      deleted++;
    }
    return deleted;
  }

  /**
   * Intact frames of `segment` from `offset`, up to about `maxBytes` (at least one frame),
   * never past the readable end. Corrupt stretches are skipped (recovery reported them).
   */
  async readFrames(segment: number, offset: number, maxBytes: number): Promise<ReadFramesResult> {
    const end = this.readableEnd(segment);
    const sealed = segment !== this.active;
    if (offset >= end) return { frames: [], nextOffset: offset, endOfSegment: sealed && this.sizes.has(segment) };
    let length = Math.min(end - offset, Math.max(maxBytes, 64 * 1024));
    let handle: FileHandle;
    try {
      handle = await open(segmentFile(this.dir, segment), 'r');
    } catch (err) {
      throw new StorageError('segment_missing', `${segmentFile(this.dir, segment)}: cannot read: ${(err as Error).message}`, { segment }, { cause: err });
    }
    try {
      for (;;) {
        const buf = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buf, 0, length, offset);
        const data = buf.subarray(0, bytesRead);
        const frames: Frame[] = [];
        let at = 0;
        let bytes = 0;
        let biggerRead: number | undefined;
        while (at < data.length && bytes < maxBytes) {
          const r = parseFrame(data, at);
          if (r.status === 'ok') {
            frames.push({ ...r.frame, offset: offset + at });
            at += r.frame.size;
            bytes += r.frame.size;
          } else if (r.status === 'incomplete') {
            // A record larger than this read: read again, bigger. Past the readable end it is
            // a record the writer has not finished (or made durable) yet.
            if (frames.length === 0 && offset + at + r.needed <= end) biggerRead = at + r.needed;
            break;
          } else {
            this.options.logger.warn({ segment, offset: offset + at, reason: r.reason }, 'corrupt spool record skipped');
            at = resync(data, at) ?? data.length;
          }
        }
        if (biggerRead !== undefined && biggerRead > length) {
          length = biggerRead;
          continue;
        }
        const nextOffset = offset + at;
        return { frames, nextOffset, endOfSegment: sealed && nextOffset >= end };
      }
    } finally {
      await handle.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flushing;
    if (this.activeHandle) {
      await this.activeHandle.datasync().catch(() => undefined);
      await this.activeHandle.close();
      this.activeHandle = undefined;
    }
  }
}

export async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
