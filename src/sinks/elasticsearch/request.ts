import type { AuditEvent } from '../../core/audit-event.ts';
import type { Encoder } from '../../core/encoder.ts';
import type { ElasticsearchOptions } from './config.ts';

// The `_bulk` body: per event an action line and a document line. This is the hot path of the
// benchmark, so each event becomes one string by plain concatenation (V8 ropes, flattened once
// by Buffer.from); the per-event strings are kept so a 413 split re-joins without re-encoding.

export type BulkOp = 'create' | 'index';

export class BulkRequestBuilder {
  readonly op: BulkOp;
  private readonly encoder: Encoder;
  private readonly actionPrefix: string;
  /** Data streams need @timestamp; the ECS rendering has it, the others get the event time. */
  private readonly addTimestamp: boolean;

  constructor(options: ElasticsearchOptions, encoder: Encoder) {
    this.op = options.mode === 'data_stream' ? 'create' : 'index';
    this.encoder = encoder;
    // The target is in the URL path (/<target>/_bulk), so the action line carries only _id.
    this.actionPrefix = `{"${this.op}":{"_id":`;
    this.addTimestamp = options.mode === 'data_stream' && encoder.name !== 'ecs';
  }

  /** Action line + document line, each newline-terminated. */
  encode(event: AuditEvent): string {
    const doc = this.encoder.encode(event);
    const id = event.event.id;
    const json = JSON.stringify(doc);
    if (this.addTimestamp && doc['@timestamp'] === undefined) {
      const rest = json.length > 2 ? `,${json.slice(1)}` : '}';
      return `${this.actionPrefix}${JSON.stringify(id)}}}\n{"@timestamp":${JSON.stringify(event.event.time)}${rest}\n`;
    }
    return `${this.actionPrefix}${JSON.stringify(id)}}}\n${json}\n`;
  }
}

export function joinItems(encoded: readonly string[], indices: readonly number[]): string {
  let body = '';
  for (let k = 0; k < indices.length; k++) body += encoded[indices[k]!];
  return body;
}
