import type { AuditEvent } from '../../core/audit-event.ts';
import type { Encoder } from '../../core/encoder.ts';
import type { SplunkHecOptions } from './config.ts';

// Turns events into HEC event objects. HEC takes a request body of JSON objects one after the
// other; each is rendered once per send as a string, so a split after "invalid data format"
// only joins strings again instead of re-encoding.

export class HecRequestBuilder {
  private readonly encoder: Encoder;
  private readonly fixedSourcetype: string | undefined;
  /** `"index":…,` and friends, escaped once. */
  private readonly staticFields: string;
  private readonly host: string | undefined;
  private readonly source: string | undefined;

  constructor(options: SplunkHecOptions, encoder: Encoder) {
    this.encoder = encoder;
    this.fixedSourcetype = options.sourcetype ?? (encoder.name === 'ecs' ? 'ecs' : encoder.name === 'canonical' ? 'agent_audit:canonical' : undefined);
    this.host = options.host;
    this.source = options.source;
    this.staticFields = options.index !== undefined ? `"index":${JSON.stringify(options.index)},` : '';
  }

  /** Sourcetype of one event: the configured one, or the default of the encoding. */
  sourcetypeOf(event: AuditEvent): string {
    return this.fixedSourcetype ?? `ocsf:${this.encoder.classOf(event)}`;
  }

  /** One HEC event object (no separator). */
  encode(event: AuditEvent): string {
    const ms = Date.parse(event.event.time);
    // HEC wants epoch seconds; milliseconds as decimals keep the event's own sub-second order.
    const time = Number.isNaN(ms) ? '' : `"time":${(ms / 1000).toFixed(3)},`;
    const host = this.host ?? event.origin.host;
    const source = this.source ?? `agent-audit:${event.origin.source}`;
    return `{${time}${host !== undefined ? `"host":${JSON.stringify(host)},` : ''}"source":${JSON.stringify(source)},"sourcetype":${JSON.stringify(this.sourcetypeOf(event))},${this.staticFields}"event":${JSON.stringify(this.encoder.encode(event))}}`;
  }
}

/** Body for the events at `indices` of `encoded`, newline separated (HEC accepts whitespace between objects). */
export function joinEvents(encoded: readonly string[], indices: readonly number[]): string {
  let body = '';
  for (const i of indices) body += encoded[i] + '\n';
  return body;
}
