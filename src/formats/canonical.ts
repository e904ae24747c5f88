import type { AuditEvent } from '../core/audit-event.ts';
import type { Encoder } from '../core/encoder.ts';

/** Class label from the action: 'llm.call' → 'llm_call' (safe in Splunk sourcetypes and index names). */
function actionClass(event: AuditEvent): string {
  return event.event.action.replace('.', '_');
}

/** The canonical encoding: the event itself, no copy (sinks serialize it as is). */
export function createCanonicalEncoder(): Encoder {
  return {
    name: 'canonical',
    version: '1.0',
    encode: (event: AuditEvent): Record<string, unknown> => event as unknown as Record<string, unknown>,
    classOf: actionClass,
  };
}
