import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the daemon exports, in one registry (no global state, so tests and reloads can
 * build fresh ones). Names follow Prometheus conventions: `_total` counters, base units.
 * Gauges that mirror component state (spool bytes, lag, cursor age) are refreshed by
 * `collect` callbacks at scrape time instead of on every event.
 */
export class DaemonMetrics {
  readonly registry = new Registry();

  readonly recordsIn = new Counter({ name: 'agent_audit_source_records_total', help: 'Raw records read, per source.', labelNames: ['source'], registers: [this.registry] });
  readonly bytesIn = new Counter({ name: 'agent_audit_source_bytes_total', help: 'Raw bytes read, per source.', labelNames: ['source'], registers: [this.registry] });
  readonly eventsIn = new Counter({ name: 'agent_audit_source_events_total', help: 'Canonical events made durable in the spool, per source.', labelNames: ['source'], registers: [this.registry] });
  readonly eventsOut = new Counter({ name: 'agent_audit_sink_events_total', help: 'Events confirmed by a sink.', labelNames: ['sink'], registers: [this.registry] });
  readonly deadLetters = new Counter({ name: 'agent_audit_dead_letters_total', help: 'Records or events sent to a dead-letter queue, by where and why.', labelNames: ['source', 'sink', 'reason'], registers: [this.registry] });
  readonly retries = new Counter({ name: 'agent_audit_sink_retries_total', help: 'Delivery attempts retried, per sink.', labelNames: ['sink'], registers: [this.registry] });
  readonly spoolBytes = new Gauge({ name: 'agent_audit_spool_bytes', help: 'Bytes held in the spool on disk.', registers: [this.registry] });
  readonly spoolMaxBytes = new Gauge({ name: 'agent_audit_spool_max_bytes', help: 'Configured spool size limit.', registers: [this.registry] });
  readonly spoolFull = new Gauge({ name: 'agent_audit_spool_full', help: '1 while the spool is full and sources are paused.', registers: [this.registry] });
  readonly sinkPendingEvents = new Gauge({ name: 'agent_audit_sink_pending_events', help: 'Events in the spool not yet confirmed by the sink.', labelNames: ['sink'], registers: [this.registry] });
  readonly sinkOldestUnconfirmedAge = new Gauge({ name: 'agent_audit_sink_oldest_unconfirmed_age_seconds', help: 'Age of the oldest event the sink has not confirmed.', labelNames: ['sink'], registers: [this.registry] });
  readonly sinkFailing = new Gauge({ name: 'agent_audit_sink_failing_seconds', help: 'How long the sink has been failing (0 when healthy).', labelNames: ['sink'], registers: [this.registry] });
  readonly sourceRequests = new Counter({ name: 'agent_audit_source_http_requests_total', help: 'Requests answered by HTTP sources (webhook, otlp), by outcome: accepted, partial, duplicate, or the reason they were refused (bad_signature, body_too_large, spool_full, …).', labelNames: ['source', 'outcome'], registers: [this.registry] });
  readonly sourceLag = new Gauge({ name: 'agent_audit_source_lag', help: 'Input not yet read: bytes behind for files, offset lag for Kafka.', labelNames: ['source', 'unit'], registers: [this.registry] });
  readonly deliveryLatency = new Histogram({
    name: 'agent_audit_delivery_latency_seconds',
    help: 'Time from reading a record to the sink confirming its event.',
    labelNames: ['sink'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly up = new Gauge({ name: 'agent_audit_up', help: '1 while the daemon runs; labels carry the version.', labelNames: ['version'], registers: [this.registry] });

  private readonly collectors: (() => void)[] = [];

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'agent_audit_' });
  }

  /** Registers a callback that refreshes gauges right before each scrape. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  async render(): Promise<string> {
    for (const fn of this.collectors) fn();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
