import type { FileHandle } from 'node:fs/promises';
import type { CriAssembler } from './cri.ts';

/** A batch of lines handed to the pipeline and not yet durable. */
export interface InFlight {
  /** File offset just past the batch's last line. */
  readonly end: number;
  /** Line number at `end` (when counted). */
  readonly line: number | undefined;
  /** The bytes just before `end` (see TailedFile.tail). */
  readonly tail: Buffer;
  done: boolean;
}

/** Where reading (re)starts: an offset with the line count and the bytes before it. */
export interface ReadPoint {
  readonly offset: number;
  readonly line: number | undefined;
  readonly tail: Buffer;
}

/**
 * One content stream being followed. Its identity is the content fingerprint (what a rename
 * and a copy keep, what a truncation or a new file changes); it lives in the inode `dev:ino`
 * at `path` — both can change when a copytruncate copy is adopted.
 */
export class TailedFile {
  path: string;
  dev: number;
  ino: number;
  /** Undefined until the file has a complete first line (then it is identified). */
  fingerprint: string | undefined;
  handle: FileHandle | undefined;
  /** Next byte to read. */
  readOffset: number;
  /** Line number of the line starting at readOffset minus one; undefined if unknown. */
  line: number | undefined;
  /** The last bytes before readOffset (up to TAIL_BYTES): a rewrite of the file changes them. */
  tail: Buffer;
  /** Every line before this offset is durable (what the checkpoint says). */
  durableOffset: number;
  durableLine: number | undefined;
  durableTail: Buffer;
  /** Inside a line over the size limit: bytes are skipped up to its newline. */
  skipping = false;
  /** CRI lines split by the runtime and not complete yet (decode: cri). */
  cri: CriAssembler | undefined;
  /** Batches submitted and not yet confirmed, in file order. */
  inflight: InFlight[] = [];
  /** Bumped when in-flight batches are abandoned, so their late results are ignored. */
  epoch = 0;
  /** Last time the file grew or was read (idle files give up their handle first). */
  lastActivity = Date.now();
  /** The last read found no complete line to read (the file is caught up). */
  caughtUp = false;
  /** The source's look generation at the last look (see FileSource.lookGeneration). */
  lookedAt = -1;
  /** When discovery last failed to find this inode at any matching path (renamed away, deleted). */
  unmatchedSince: number | undefined;
  /** Found by the first scan with start_at: end and no checkpoint: starts at the end of what existed then. */
  startAtEndOf: number | undefined;
  /** Size at the last stat. */
  size = 0;

  constructor(init: { path: string; dev: number; ino: number; size: number }) {
    this.path = init.path;
    this.dev = init.dev;
    this.ino = init.ino;
    this.size = init.size;
    this.fingerprint = undefined;
    this.readOffset = this.durableOffset = 0;
    this.line = this.durableLine = 0;
    this.tail = this.durableTail = Buffer.alloc(0);
  }

  get key(): string {
    return `${this.dev}:${this.ino}`;
  }

  /** Sets where reading starts; the point is durable (it came from a checkpoint or start_at). */
  startAt(p: ReadPoint): void {
    this.readOffset = this.durableOffset = p.offset;
    this.line = this.durableLine = p.line;
    this.tail = this.durableTail = p.tail;
  }

  /**
   * Read to its end and still at a matching path: may give up its handle (it is reopened by
   * path when it grows). A file renamed away or deleted keeps it: its handle is the only way
   * left to read what is still written to it.
   */
  get idle(): boolean {
    return this.caughtUp && this.unmatchedSince === undefined;
  }

  /** Moves the durable offset over the leading batches that are confirmed; true if it moved. */
  advance(): boolean {
    let moved = false;
    while (this.inflight.length > 0 && this.inflight[0]!.done) {
      const b = this.inflight.shift()!;
      this.durableOffset = b.end;
      this.durableLine = b.line;
      this.durableTail = b.tail;
      moved = true;
    }
    return moved;
  }

  /** A submit failed: forget what is in flight and read again from the last durable line. */
  rewind(): void {
    this.epoch++;
    this.inflight = [];
    this.skipping = false;
    // Durable points are never inside a split CRI line: it is read again from its first piece.
    this.cri?.clear();
    this.readOffset = this.durableOffset;
    this.line = this.durableLine;
    this.tail = this.durableTail;
  }

  async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => undefined);
  }
}
