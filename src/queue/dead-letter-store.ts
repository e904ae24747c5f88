import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DeadLetter } from '../core/dead-letter.ts';
import type { Logger } from '../core/logger.ts';
import { encodeFrame, FRAME_KIND, type Frame } from './frame.ts';
import { RecordCodec } from './record-codec.ts';
import { listSegments, scanSegment, segmentFile, SegmentLog, type FsyncPolicy } from './segment-log.ts';
import type { DeadLetterStoreLike, EncryptionKeys } from './types.ts';

// The dead-letter queue: one segmented log per partition (`ingest` for input that never
// became an event, `sink-<name>` for events a sink refused), in the spool's framing and
// encryption. Each daemon start appends to a new segment, so the `dlq` command can rewrite
// older segments (replay, purge) while a daemon runs: the daemon only ever appends to the
// newest segment of a partition, and reads the others only at open.
//
// Removing letters: the command first records them in the partition's `removed` file (segment
// + frame seq, which stay the same when a segment is rewritten), then compacts: every segment
// but the newest one is rewritten without its removed letters (temp file, fsync, rename) or
// deleted when none is left. A letter removed from the newest segment stays hidden until a
// later daemon start has moved on to a new segment.

export interface DeadLetterStoreOptions {
  readonly dir: string;
  readonly fsync: FsyncPolicy;
  readonly encryption?: EncryptionKeys;
  readonly logger: Logger;
  readonly segmentBytes?: number;
}

/** A dead letter as stored, with where it is (for show/replay/purge). */
export interface StoredLetter {
  /** Stable id: `<partition>:<segment>:<seq>`. */
  readonly id: string;
  readonly partition: string;
  readonly segment: number;
  /** Frame seq, unique within the segment (one daemon run writes a segment). */
  readonly seq: number;
  readonly offset: number;
  readonly letter: DeadLetter;
}

export interface LetterRef {
  readonly segment: number;
  readonly seq: number;
}

export const PARTITION_NAME = /^[A-Za-z0-9_.-]+$/;

class Partition implements DeadLetterStoreLike {
  private log: Promise<SegmentLog> | undefined;
  private seq = 0;
  private readonly store: DeadLetterStore;
  readonly name: string;

  constructor(store: DeadLetterStore, name: string) {
    this.store = store;
    this.name = name;
  }

  private opened(): Promise<SegmentLog> {
    this.log ??= SegmentLog.open({
      dir: join(this.store.options.dir, this.name),
      segmentBytes: this.store.options.segmentBytes ?? 4 * 1024 * 1024,
      fsync: this.store.options.fsync,
      logger: this.store.options.logger,
      freshSegmentOnOpen: true,
    }).then(({ log, recovery }) => {
      this.seq = recovery.records;
      if (recovery.truncated.length > 0 || recovery.skipped.length > 0) this.store.options.logger.warn({ partition: this.name, ...recovery }, 'dead-letter queue recovered with damage');
      return log;
    });
    return this.log;
  }

  async append(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const log = await this.opened();
    const now = Date.now();
    await log.append(letters.map((l) => encodeFrame(FRAME_KIND.record, this.seq++, now, this.store.codec.seal(Buffer.from(JSON.stringify(l))))));
  }

  async close(): Promise<void> {
    if (this.log) await (await this.log).close();
  }
}

export class DeadLetterStore {
  readonly options: DeadLetterStoreOptions;
  readonly codec: RecordCodec;
  private readonly partitions = new Map<string, Partition>();

  private constructor(options: DeadLetterStoreOptions) {
    this.options = options;
    this.codec = new RecordCodec(options.encryption);
  }

  static async open(options: DeadLetterStoreOptions): Promise<DeadLetterStore> {
    return new DeadLetterStore(options);
  }

  partition(name: string): DeadLetterStoreLike {
    if (!PARTITION_NAME.test(name)) throw new Error(`invalid dead-letter partition name '${name}'`);
    let p = this.partitions.get(name);
    if (!p) {
      p = new Partition(this, name);
      this.partitions.set(name, p);
    }
    return p;
  }

  async close(): Promise<void> {
    await Promise.all([...this.partitions.values()].map((p) => p.close()));
  }
}

const REMOVED_FILE = 'removed.jsonl';

function refKey(segment: number, seq: number): string {
  return `${segment}:${seq}`;
}

/**
 * Read and remove side for the `dlq` command: works on the files, with or without a daemon
 * running (see the top of this file for why that is safe).
 */
export class DeadLetterReader {
  readonly dir: string;
  private readonly codec: RecordCodec;

  constructor(dir: string, encryption?: EncryptionKeys) {
    this.dir = dir;
    this.codec = new RecordCodec(encryption);
  }

  partitions(): string[] {
    try {
      return readdirSync(this.dir)
        .filter((n) => PARTITION_NAME.test(n) && statSync(join(this.dir, n)).isDirectory())
        .sort();
    } catch {
      return [];
    }
  }

  segments(partition: string): number[] {
    return listSegments(join(this.dir, partition));
  }

  /** Letters marked removed but still in a segment (not compacted yet). */
  removed(partition: string): Set<string> {
    const out = new Set<string>();
    let text: string;
    try {
      text = readFileSync(join(this.dir, partition, REMOVED_FILE), 'utf8');
    } catch {
      return out;
    }
    // A torn last line (crash while appending) is ignored: that removal did not happen.
    for (const line of text.split('\n')) {
      try {
        const r = JSON.parse(line) as LetterRef;
        if (Number.isInteger(r.segment) && Number.isInteger(r.seq)) out.add(refKey(r.segment, r.seq));
      } catch {
        // skip
      }
    }
    return out;
  }

  /** Every letter of a partition not removed, oldest first. */
  *letters(partition: string): Generator<StoredLetter> {
    const dir = join(this.dir, partition);
    const removed = this.removed(partition);
    for (const segment of listSegments(dir)) {
      let buf: Buffer;
      try {
        buf = readFileSync(segmentFile(dir, segment));
      } catch (err) {
        // Compacted away by another dlq command between listing and reading.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const frames: Frame[] = [];
      // A partial frame at the end of the newest segment is a daemon still writing it.
      scanSegment(buf, segment, (f) => {
        if (f.kind === FRAME_KIND.record && !removed.has(refKey(segment, f.seq))) frames.push(f);
      }, []);
      for (const f of frames) {
        const letter = JSON.parse(this.codec.open(f.payload, `${dir} segment ${segment} byte ${f.offset}`).toString('utf8')) as DeadLetter;
        yield { id: `${partition}:${segment}:${f.seq}`, partition, segment, seq: f.seq, offset: f.offset, letter };
      }
    }
  }

  /** Durably marks letters removed (replayed or purged); compact() reclaims their space. */
  markRemoved(partition: string, refs: readonly LetterRef[]): void {
    if (refs.length === 0) return;
    const file = join(this.dir, partition, REMOVED_FILE);
    const fd = openSync(file, 'a');
    try {
      writeSync(fd, refs.map((r) => `${JSON.stringify({ segment: r.segment, seq: r.seq })}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Rewrites every segment but the newest without its removed letters (or deletes it when none
   * is left), then forgets the removals it applied. Returns the bytes freed.
   */
  compact(partition: string): number {
    const dir = join(this.dir, partition);
    const removed = this.removed(partition);
    if (removed.size === 0) return 0;
    const segments = listSegments(dir);
    const compacted = new Set<number>();
    let freed = 0;
    for (const segment of segments.slice(0, -1)) {
      const file = segmentFile(dir, segment);
      const buf = readFileSync(file);
      const keep: Buffer[] = [];
      let hit = false;
      scanSegment(buf, segment, (f) => {
        if (f.kind === FRAME_KIND.record && removed.has(refKey(segment, f.seq))) hit = true;
        else keep.push(buf.subarray(f.offset, f.offset + f.size));
      }, []);
      if (!hit) continue;
      const kept = keep.reduce((n, b) => n + b.length, 0);
      if (keep.length === 0) rmSync(file, { force: true });
      else {
        const tmp = `${file}.compact`;
        const fd = openSync(tmp, 'w');
        try {
          for (const b of keep) writeSync(fd, b);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, file);
      }
      syncDirSync(dir);
      freed += buf.length - kept;
      compacted.add(segment);
    }
    if (compacted.size === 0) return 0;
    // Removals of segments not compacted (the newest) stay recorded.
    const left = [...removed].filter((k) => !compacted.has(Number(k.split(':')[0])));
    const file = join(dir, REMOVED_FILE);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, left.map((k) => `${JSON.stringify({ segment: Number(k.split(':')[0]), seq: Number(k.split(':')[1]) })}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    syncDirSync(dir);
    return freed;
  }
}

function syncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
