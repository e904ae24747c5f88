import type { Logger } from '../../core/logger.ts';

/**
 * Refused requests are logged, but a client that keeps sending bad requests must not flood the
 * log: at most one line per reason per interval, carrying how many were left out in between.
 */
export class WarnThrottle {
  private readonly logger: Logger;
  private readonly intervalMs: number;
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(logger: Logger, intervalMs = 10_000) {
    this.logger = logger;
    this.intervalMs = intervalMs;
  }

  warn(reason: string, fields: Record<string, unknown>, msg: string): void {
    const now = Date.now();
    const seen = this.last.get(reason);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    this.last.set(reason, { at: now, suppressed: 0 });
    this.logger.warn(seen !== undefined && seen.suppressed > 0 ? { ...fields, reason, suppressedSinceLast: seen.suppressed } : { ...fields, reason }, msg);
  }
}
