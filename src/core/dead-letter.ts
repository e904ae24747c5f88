import type { SourcePosition } from './raw-record.ts';
import type { AuditEvent } from './audit-event.ts';

/**
 * Why a record or event left the pipeline without being delivered. Stable codes: they are
 * metric labels and what `agent-audit dlq list` groups by.
 */
export type DeadLetterReason =
  | 'invalid_json'
  | 'invalid_utf8'
  | 'empty_record'
  | 'line_too_long'
  | 'body_too_large'
  /** An OTLP body that is not the request message it was sent as (protobuf or JSON shape). */
  | 'invalid_otlp'
  /** A body whose Content-Encoding (gzip) does not decode. */
  | 'invalid_gzip'
  | 'no_mapping'
  | 'mapping_error'
  | 'schema_invalid'
  | 'sink_rejected';

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  /** One sentence naming what was wrong, e.g. "Unexpected token } in JSON at byte 41". */
  readonly message: string;
  readonly source: string;
  readonly position: SourcePosition;
  /** Format that was tried, when one was. */
  readonly format?: string;
  /** The raw record with secrets redacted (never the original bytes), possibly truncated. */
  readonly raw: string;
  /** Set when a sink rejected the event. */
  readonly sink?: string;
  /** The canonical event, when one was produced (schema failures, sink rejections). */
  readonly event?: AuditEvent;
  /** ms since epoch. */
  readonly time: number;
}
