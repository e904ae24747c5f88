import type { AuditEvent } from '../core/audit-event.ts';
import { FRAME_KIND } from './frame.ts';
import type { Cursor } from './cursor-store.ts';
import type { ReplayRecord, Spool } from './spool.ts';
import type { SpoolEntry, SpoolPosition, SpoolReader } from './types.ts';

interface InFlight {
  readonly next: SpoolPosition;
  readonly seq: number;
  readonly appendedAt: number;
}

function notAfter(a: SpoolPosition, b: SpoolPosition): boolean {
  return a.segment < b.segment || (a.segment === b.segment && a.offset <= b.offset);
}

/**
 * One sink's view of the spool: reads ahead of its committed cursor; the cursor moves only on
 * commit (after the sink confirmed), so a crash replays from the last confirmed event.
 */
export class SpoolReaderImpl implements SpoolReader {
  readonly sink: string;
  private readonly spool: Spool;
  private committed: Cursor;
  private readAt: SpoolPosition;
  private inflight: InFlight[] = [];
  private waiter: (() => void) | undefined;
  private isClosed = false;
  private commitChain: Promise<void> = Promise.resolve();

  constructor(sink: string, cursor: Cursor, spool: Spool) {
    this.sink = sink;
    this.spool = spool;
    this.committed = cursor;
    this.readAt = { segment: cursor.segment, offset: cursor.offset };
  }

  async read(maxEvents: number, maxBytes: number, waitMs: number): Promise<SpoolEntry[]> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      if (this.isClosed) return [];
      const entries = await this.readAvailable(maxEvents, maxBytes);
      if (entries.length > 0) return entries;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        const self = this;
        function done(): void {
          clearTimeout(timer);
          if (self.waiter === done) self.waiter = undefined;
          resolve();
        }
        this.waiter = done;
      });
    }
  }

  private async readAvailable(maxEvents: number, maxBytes: number): Promise<SpoolEntry[]> {
    const log = this.spool.log;
    const out: SpoolEntry[] = [];
    let bytes = 0;
    while (out.length < maxEvents && bytes < maxBytes) {
      const { segment, offset } = this.readAt;
      const r = await log.readFrames(segment, offset, maxBytes - bytes);
      let stoppedAt: number | undefined;
      for (const f of r.frames) {
        if (f.kind !== FRAME_KIND.record && f.kind !== FRAME_KIND.replay) continue;
        if (out.length >= maxEvents) {
          stoppedAt = f.offset;
          break;
        }
        const where = `${log.dir} segment ${segment} byte ${f.offset}`;
        const body = JSON.parse(this.spool.codec.open(f.payload, where).toString('utf8')) as AuditEvent | ReplayRecord;
        let event: AuditEvent;
        let seq = f.seq;
        let replayFor: string | undefined;
        if (f.kind === FRAME_KIND.replay) {
          const r = body as ReplayRecord;
          event = r.event;
          replayFor = r.sink;
          // Not a link of the chain: committing it commits through the event before it.
          seq = f.seq - 1;
        } else event = body as AuditEvent;
        const next = { segment, offset: f.offset + f.size };
        out.push({ position: { segment, offset: f.offset }, next, event, bytes: f.size, appendedAt: f.appendedAt, ...(replayFor !== undefined ? { replayFor } : {}) });
        this.inflight.push({ next, seq, appendedAt: f.appendedAt });
        bytes += f.size;
      }
      if (stoppedAt !== undefined) {
        this.readAt = { segment, offset: stoppedAt };
        break;
      }
      this.readAt = { segment, offset: r.nextOffset };
      if (r.endOfSegment) {
        const next = log.nextSegment(segment);
        if (next === undefined) break;
        this.readAt = { segment: next, offset: 0 };
        continue;
      }
      if (r.frames.length === 0) break;
    }
    return out;
  }

  commit(upTo: SpoolPosition): Promise<void> {
    let seq = this.committed.seq;
    while (this.inflight.length > 0 && notAfter(this.inflight[0]!.next, upTo)) seq = this.inflight.shift()!.seq;
    const cursor: Cursor = { segment: upTo.segment, offset: upTo.offset, seq };
    // Cursor writes are serialized: a later commit never lands before an earlier one.
    this.commitChain = this.commitChain.catch(() => undefined).then(async () => {
      if (!notAfter(this.committed, cursor) || (this.committed.segment === cursor.segment && this.committed.offset === cursor.offset && this.committed.seq === cursor.seq)) return;
      await this.spool.commitCursor(this.sink, cursor);
      this.committed = cursor;
    });
    return this.commitChain;
  }

  pending(): number {
    return Math.max(0, this.spool.lastWrittenSeq() - this.committed.seq);
  }

  committedSeq(): number {
    return this.committed.seq;
  }

  lastAppendedSeq(): number {
    return this.spool.lastWrittenSeq();
  }

  oldestPendingAt(): number | undefined {
    return this.inflight[0]?.appendedAt;
  }

  appendedEnd(): SpoolPosition | undefined {
    return this.spool.appendedEnd();
  }

  committedPosition(): SpoolPosition {
    return { segment: this.committed.segment, offset: this.committed.offset };
  }

  wake(): void {
    this.waiter?.();
  }

  get closed(): boolean {
    return this.isClosed;
  }

  close(): void {
    this.isClosed = true;
    this.wake();
  }
}
