import type { AuditEvent } from '../../core/audit-event.ts';
import type { Encoder } from '../../core/encoder.ts';
import type { CloudWatchLogsOptions } from './config.ts';
import { EVENT_OVERHEAD_BYTES, MAX_AGE_MS, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_FUTURE_MS, MAX_MESSAGE_BYTES, MAX_SPAN_MS } from './limits.ts';

// From a runner batch to PutLogEvents calls: each event rendered once (its message, timestamp,
// log group and stream), the ones CloudWatch would refuse for their time or size set aside
// with the reason, the rest grouped per log stream, sorted by time and cut into calls that
// keep every API rule (10,000 events, 1,048,576 bytes with 26 bytes per event, 24 hours).

/** One log event to put: an audit event, or one part of an oversized one. */
export interface LogRecord {
  /** Index of the audit event in the runner's batch. */
  readonly event: number;
  readonly timestamp: number;
  readonly message: string;
  /** UTF-8 bytes of the message + the 26 bytes CloudWatch adds. */
  readonly size: number;
}

export interface Destination {
  readonly group: string;
  readonly stream: string;
  /** Sorted by timestamp (stable: batch order among equal times). */
  readonly records: LogRecord[];
}

export interface PreparedBatch {
  readonly destinations: Destination[];
  /** Events refused before any call, with the reason. */
  readonly refused: { readonly event: number; readonly reason: string }[];
}

export class LogEventsBuilder {
  private readonly options: CloudWatchLogsOptions;
  private readonly encoder: Encoder;

  constructor(options: CloudWatchLogsOptions, encoder: Encoder) {
    this.options = options;
    this.encoder = encoder;
  }

  prepare(batch: readonly AuditEvent[], now: number): PreparedBatch {
    const byName = new Map<string, Destination>();
    const refused: { event: number; reason: string }[] = [];
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i]!;
      const timestamp = Date.parse(event.event.time);
      if (!Number.isFinite(timestamp)) {
        refused.push({ event: i, reason: `event.time '${event.event.time}' is not a timestamp CloudWatch Logs can take` });
        continue;
      }
      // Refused here with the reason rather than sent to be dropped by the service: CloudWatch
      // answers such events only with an index range, and a whole call may not span 24 hours.
      if (timestamp < now - MAX_AGE_MS) {
        refused.push({ event: i, reason: `CloudWatch Logs refuses events older than 14 days: event.time ${event.event.time} is ${ageText(now - timestamp)} old` });
        continue;
      }
      if (timestamp > now + MAX_FUTURE_MS) {
        refused.push({ event: i, reason: `CloudWatch Logs refuses events more than 2 hours in the future: event.time ${event.event.time} is ${ageText(timestamp - now)} ahead of this host's clock` });
        continue;
      }
      const message = JSON.stringify(this.encoder.encode(event));
      const bytes = Buffer.byteLength(message, 'utf8');
      let records: LogRecord[];
      if (bytes > MAX_MESSAGE_BYTES) {
        if (this.options.oversized === 'dead_letter') {
          refused.push({ event: i, reason: `event is ${bytes + EVENT_OVERHEAD_BYTES} bytes as a CloudWatch log event (message + 26), over the maximum event size of 1,048,576 bytes (set oversized_events: split to send it in parts)` });
          continue;
        }
        records = splitMessage(message, event.event.id).map((m) => ({ event: i, timestamp, message: m, size: Buffer.byteLength(m, 'utf8') + EVENT_OVERHEAD_BYTES }));
      } else records = [{ event: i, timestamp, message, size: bytes + EVENT_OVERHEAD_BYTES }];
      const group = this.options.logGroup.render(event, timestamp);
      const stream = this.options.logStream.render(event, timestamp);
      const key = `${group}\u0000${stream}`;
      let dest = byName.get(key);
      if (!dest) {
        dest = { group, stream, records: [] };
        byName.set(key, dest);
      }
      dest.records.push(...records);
    }
    const destinations = [...byName.values()];
    for (const d of destinations) d.records.sort((a, b) => a.timestamp - b.timestamp);
    return { destinations, refused };
  }
}

/** Cuts time-sorted records into PutLogEvents calls within the API's count, size and span rules. */
export function planCalls(records: readonly LogRecord[]): LogRecord[][] {
  const calls: LogRecord[][] = [];
  let current: LogRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const first = current[0];
    if (first !== undefined && (current.length >= MAX_BATCH_EVENTS || bytes + r.size > MAX_BATCH_BYTES || r.timestamp - first.timestamp >= MAX_SPAN_MS)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += r.size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}

/**
 * An event too large for one log event, as several: each part is a JSON object naming the
 * event id, its position and the part count, with a slice of the original message in `data`
 * (concatenate the `data` of parts 1..count to get the event back).
 */
export function splitMessage(message: string, eventId: string): string[] {
  const head = (index: number, count: number) => `{"agent_audit_part":{"event_id":${JSON.stringify(eventId)},"index":${index},"count":${count}},"data":`;
  // Room for the widest index/count and the closing `"}`.
  const budget = MAX_MESSAGE_BYTES - Buffer.byteLength(head(99_999, 99_999), 'utf8') - 3;
  const slices: string[] = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < message.length; ) {
    const cp = message.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const b = escapedBytes(cp);
    if (size + b > budget) {
      slices.push(message.slice(start, i));
      start = i;
      size = 0;
    }
    size += b;
    i += width;
  }
  slices.push(message.slice(start));
  return slices.map((s, k) => `${head(k + 1, slices.length)}${JSON.stringify(s)}}`);
}

/** UTF-8 bytes of one code point once JSON.stringify has escaped it inside a string. */
function escapedBytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c) return 2;
  if (cp < 0x20) return cp === 0x08 || cp === 0x09 || cp === 0x0a || cp === 0x0c || cp === 0x0d ? 2 : 6;
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp >= 0xd800 && cp <= 0xdfff) return 6; // a lone surrogate becomes \udxxx
  if (cp < 0x10000) return 3;
  return 4;
}

function ageText(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 48 ? `${(h / 24).toFixed(1)} days` : `${h.toFixed(1)} hours`;
}
