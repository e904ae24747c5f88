import type { RawRecord } from './raw-record.ts';
import type { DeadLetter } from './dead-letter.ts';
import type { Logger } from './logger.ts';

/**
 * What the pipeline offers a source. `submit` is the acknowledgement protocol: it resolves
 * only once every event derived from the records is durable in the spool (or durably in the
 * dead-letter queue), and only then may the source advance its checkpoint / commit its offset /
 * answer 2xx. It waits while the spool is full (backpressure), unless `wait: false`, in which
 * case it rejects at once with SpoolFullError (webhooks answer 503).
 */
export interface SourceContext {
  submit(records: readonly RawRecord[], options?: { wait?: boolean }): Promise<SubmitResult>;
  /** Durably record input that never became a RawRecord (oversized line, unreadable body). */
  deadLetter(letter: DeadLetter): Promise<void>;
  /** True while the spool is over its size limit. */
  isFull(): boolean;
  /** Resolves when the spool has room again. */
  whenWritable(): Promise<void>;
  readonly logger: Logger;
  readonly dataDir: string;
}

export interface SubmitResult {
  readonly events: number;
  readonly deadLetters: number;
  /** Dead letters per record index, so OTLP can answer with partial success. */
  readonly rejectedRecords: readonly number[];
}

export interface SourceStats {
  readonly recordsRead: number;
  readonly bytesRead: number;
  /** Bytes behind for files, offset lag for Kafka; undefined when not meaningful. */
  readonly lag?: number;
  /**
   * HTTP sources: requests answered so far, by outcome (accepted, partial, duplicate, or the
   * reason of a refusal: bad_signature, body_too_large, spool_full, …). Monotonic per source.
   */
  readonly requests?: Readonly<Record<string, number>>;
}

export interface Source {
  readonly name: string;
  readonly kind: 'file' | 'kafka' | 'webhook' | 'otlp';
  start(ctx: SourceContext): Promise<void>;
  /** Stop reading, wait for in-flight submits, persist checkpoints. Idempotent. */
  stop(): Promise<void>;
  stats(): SourceStats;
  /** For `run --once`: resolves when everything the source holds now has been submitted. */
  drained?(): Promise<void>;
}
