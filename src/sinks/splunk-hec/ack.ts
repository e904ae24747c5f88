import type { Logger } from '../../core/logger.ts';

// Indexer acknowledgement: HEC answers an accepted request with an ackId; the events are
// durable only once /services/collector/ack reports that id true. One poller per sink asks
// for every pending id in one request per interval (as Splunk recommends) and settles each
// waiter with true (acknowledged) or false (ack_timeout passed: the caller retries).

export type AckQuery = (ids: readonly number[]) => Promise<Readonly<Record<string, boolean>>>;

interface Waiter {
  readonly deadline: number;
  readonly settle: (acked: boolean) => void;
}

export class AckPoller {
  private readonly pending = new Map<number, Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly query: AckQuery;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly logger: Logger;

  constructor(query: AckQuery, intervalMs: number, timeoutMs: number, logger: Logger) {
    this.query = query;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.logger = logger;
  }

  /** Resolves true when Splunk acknowledges `ackId`, false when ack_timeout passes first. */
  wait(ackId: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.pending.set(ackId, { deadline: Date.now() + this.timeoutMs, settle: resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer !== undefined || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, this.intervalMs);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const ids = [...this.pending.keys()];
      let acks: Readonly<Record<string, boolean>> = {};
      try {
        acks = await this.query(ids);
      } catch (err) {
        // A failed poll is not a failed delivery: keep asking until the deadline.
        this.logger.debug({ err: (err as Error).message }, 'HEC ack poll failed');
      }
      const now = Date.now();
      for (const id of ids) {
        const w = this.pending.get(id);
        if (!w) continue;
        if (acks[String(id)] === true) {
          this.pending.delete(id);
          w.settle(true);
        } else if (now >= w.deadline) {
          this.pending.delete(id);
          w.settle(false);
        }
      }
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  /** Settles every waiter as not acknowledged (sink closing: the events stay in the spool). */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.pending.values()) w.settle(false);
    this.pending.clear();
  }
}
