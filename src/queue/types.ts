import type { AuditEvent } from '../core/audit-event.ts';
import type { DeadLetter } from '../core/dead-letter.ts';
import type { Logger } from '../core/logger.ts';
import type { CheckpointSigner } from './checkpoint.ts';

// The contract between the spool (src/queue), the delivery runners (src/delivery) and the
// daemon. The spool owns the bytes on disk; a runner only reads at its sink's cursor and
// commits what its sink confirmed.

/** Where a record sits in the spool: segment number + byte offset of its frame. */
export interface SpoolPosition {
  readonly segment: number;
  readonly offset: number;
}

export interface SpoolEntry {
  readonly position: SpoolPosition;
  /** Position just past this entry; what a runner commits once the entry is confirmed. */
  readonly next: SpoolPosition;
  readonly event: AuditEvent;
  /** Encoded size of the event in the spool (for byte-bounded batches). */
  readonly bytes: number;
  /** When the event was appended (ms since epoch), for latency and cursor-age metrics. */
  readonly appendedAt: number;
  /**
   * Set for an event replayed from a sink's dead-letter queue: only that sink sends it, the
   * others commit past it (it reaches every reader so that cursors and caught-up stay simple).
   */
  readonly replayFor?: string;
}

export interface SpoolOptions {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly fsync: { readonly mode: 'always' } | { readonly mode: 'interval'; readonly intervalMs: number };
  readonly encryption?: EncryptionKeys;
  /** Assign chain.seq/prev_hash/hash at append (default true). */
  readonly chain?: boolean;
  /** Sign a checkpoint on every Nth event (chain.signature). */
  readonly checkpoints?: CheckpointSigner;
  readonly logger: Logger;
}

export interface EncryptionKeys {
  /** Key used for new records. */
  readonly current: { readonly id: string; readonly key: Buffer };
  /** Older keys, still accepted for reading. */
  readonly previous: readonly { readonly id: string; readonly key: Buffer }[];
}

export interface RecoveryReport {
  readonly segments: number;
  readonly events: number;
  /** Torn/corrupt tail cut at recovery, with where. */
  readonly truncated: readonly { readonly segment: number; readonly offset: number; readonly bytes: number }[];
  /** Corrupt records skipped in the middle of a segment. */
  readonly skipped: readonly { readonly segment: number; readonly offset: number; readonly reason: string }[];
}

export interface SpoolStats {
  readonly bytes: number;
  readonly maxBytes: number;
  readonly segments: number;
  readonly full: boolean;
  readonly appendedEvents: number;
}

/** A sink's view of the spool. */
export interface SpoolReader {
  readonly sink: string;
  /**
   * Up to `maxEvents` entries / `maxBytes` from the reader's read position (which starts at
   * the committed cursor). Waits up to `waitMs` for at least one entry; returns [] on timeout
   * or when the reader is closed.
   */
  read(maxEvents: number, maxBytes: number, waitMs: number): Promise<SpoolEntry[]>;
  /** Durably move the cursor (atomic file replace). Positions must not go backwards. */
  commit(upTo: SpoolPosition): Promise<void>;
  /** Events appended but not committed by this reader. */
  pending(): number;
  /** Sequence number of the last event this reader committed (-1: none). */
  committedSeq(): number;
  /** Sequence number of the newest durable event in the spool. */
  lastAppendedSeq(): number;
  /** appendedAt of the oldest uncommitted entry, undefined when caught up. */
  oldestPendingAt(): number | undefined;
  /** Position just past the newest event appended so far (chained or replayed); undefined when the spool holds none. */
  appendedEnd(): SpoolPosition | undefined;
  /** Position of the committed cursor. */
  committedPosition(): SpoolPosition;
  /** Closed by its runner, by a newer reader for the same sink, or by the spool closing: read() then returns [] at once. */
  readonly closed: boolean;
  close(): void;
}

export interface SpoolLike {
  append(events: readonly AuditEvent[]): Promise<void>;
  isFull(): boolean;
  whenWritable(): Promise<void>;
  openReader(sink: string, startAt: 'oldest' | 'newest'): Promise<SpoolReader>;
  /** Forget a sink that left the config (its cursor no longer holds segments back). */
  removeReader(sink: string): Promise<void>;
  stats(): SpoolStats;
  close(): Promise<void>;
}

/** Dead letters: `ingest` for records that never became events, `sink:<name>` per sink. */
export interface DeadLetterStoreLike {
  append(letters: readonly DeadLetter[]): Promise<void>;
}
