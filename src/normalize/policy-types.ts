import type { AuditEvent } from '../core/audit-event.ts';

/** Payload fields the policy hashes (and keeps, redacted, only in payload mode `full`). */
export type PayloadField =
  | 'prompt'
  | 'completion'
  | 'tool_arguments'
  | 'tool_result'
  | 'system_instructions'
  | 'request_body'
  | 'response_body';

/** Raw payload values as found in the record: strings, or JSON values (hashed as compact JSON). */
export type PayloadValues = Partial<Record<PayloadField, unknown>>;

/**
 * An event as a mapping produces it: every field the mapping found, strings not yet redacted,
 * and without `payload`/`redaction` (the policy sets those).
 */
export type DraftEvent = Omit<AuditEvent, 'payload' | 'redaction'>;

/**
 * Applied to every event before it is validated, spooled or written anywhere. Implemented in
 * src/normalize/policy.ts (`createPolicy(options: PolicyOptions): Policy`).
 */
export interface Policy {
  /**
   * Redacts secrets in every string of the draft (recording kinds, count and field paths in
   * `redaction`), sanitizes URLs (`url.*`, `mcp.server.url`, `mcp.resource.uri`: no query,
   * userinfo or fragment), and replaces payloads by digests per the payload mode.
   * Returns a new event; does not mutate the draft.
   */
  apply(draft: DraftEvent, payloads: PayloadValues): AuditEvent;
  /** Redacts secrets (and masks e-mail addresses) in free text: used for dead-letter raw records. */
  redactText(text: string): string;
}
