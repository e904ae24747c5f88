import type { AuditEvent } from './audit-event.ts';
import type { Logger } from './logger.ts';

/** Per-event result of one delivery attempt. */
export type EventOutcome =
  | { readonly status: 'accepted' }
  | { readonly status: 'retriable'; readonly reason: string }
  | { readonly status: 'rejected'; readonly reason: string };

export interface DeliveryResult {
  /** Same length and order as the batch handed to `send`. */
  readonly outcomes: readonly EventOutcome[];
  /** Server asked to slow down (429 Retry-After, HEC busy, ThrottlingException). */
  readonly retryAfterMs?: number;
}

export interface BatchLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
  /** How long the runner may wait to fill a batch before sending a partial one. */
  readonly maxWaitMs: number;
}

/**
 * A destination. The delivery runner reads canonical events from the spool at the sink's
 * cursor, hands them over in batches within `limits`, and moves the cursor only past events
 * whose outcome is `accepted` (or `rejected`, after they are durably dead-lettered).
 * `send` must not throw for per-event problems; it throws SinkFatalError when the sink cannot
 * work at all (bad credentials), and any other error counts as retriable for the whole batch.
 */
export interface Sink {
  readonly name: string;
  readonly type: 'splunk_hec' | 'elasticsearch' | 'cloudwatch_logs' | 'file' | 'stdout';
  readonly limits: BatchLimits;
  /** Connect / health check; throws with a clear message when unreachable or unauthorized. */
  start(logger: Logger): Promise<void>;
  send(batch: readonly AuditEvent[]): Promise<DeliveryResult>;
  close(): Promise<void>;
}
