import type { AuditEvent } from '../core/audit-event.ts';
import type { Logger } from '../core/logger.ts';
import type { Sink } from '../core/sink.ts';
import type { DaemonMetrics } from '../daemon/metrics.ts';
import type { DeadLetterStoreLike, SpoolReader } from '../queue/types.ts';

export interface RetryPolicy {
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export interface DeliveryRunnerOptions {
  readonly sink: Sink;
  readonly reader: SpoolReader;
  readonly deadLetters: DeadLetterStoreLike;
  /** Route predicate: events it refuses are skipped (committed, not sent). */
  readonly accepts: (event: AuditEvent) => boolean;
  readonly retry: RetryPolicy;
  readonly logger: Logger;
  readonly metrics?: DaemonMetrics;
}

export interface DeliveryHealth {
  readonly sink: string;
  /** ms since epoch of the first failure of the current failing streak; undefined when healthy. */
  readonly failingSince?: number;
  readonly lastError?: string;
  readonly delivered: number;
  readonly rejected: number;
  readonly retries: number;
  /** True when SinkFatalError stopped the sink. */
  readonly fatal: boolean;
}

export interface DeliveryRunnerLike {
  start(): void;
  /** Finish the in-flight batch (or abandon it after `timeoutMs`, a request still in flight after a moment more), commit, stop. */
  stop(timeoutMs: number): Promise<void>;
  /** Resolves when everything appended before the call is committed by this sink. */
  whenCaughtUp(): Promise<void>;
  health(): DeliveryHealth;
}
