import type { AuditEvent } from './audit-event.ts';

export type EncodingName = 'canonical' | 'ecs' | 'ocsf';

/** Renders a canonical event in a target schema. Compiled once from mappings/targets/. */
export interface Encoder {
  readonly name: EncodingName;
  /** Target schema version, e.g. "9.4.0" for ECS, "1.8.0" for OCSF, "1.0" for canonical. */
  readonly version: string;
  encode(event: AuditEvent): Record<string, unknown>;
  /** Short class label of an encoded document, e.g. "api_activity" (Splunk sourcetype suffix). */
  classOf(event: AuditEvent): string;
}

/**
 * The inverse of an Encoder: a rendered document back to the exact canonical event (so the hash
 * chain can be re-checked on an ECS or OCSF export). Throws InputError (code `decode_invalid`)
 * for a document the mapping could not have produced.
 */
export interface Decoder {
  readonly name: EncodingName;
  readonly version: string;
  decode(document: Record<string, unknown>): AuditEvent;
}
