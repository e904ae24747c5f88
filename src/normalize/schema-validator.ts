// The canonical event schema, compiled once with ajv (draft 2020-12 + formats). Errors are
// reported with their instance paths so a dead letter says which field was wrong.

import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { AuditEvent } from '../core/audit-event.ts';
import { loadAuditEventSchema } from './canonical-fields.ts';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled !== undefined) return compiled;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  // "fast" formats are regex-only (no calendar arithmetic per event): our own conversions already
  // produce real dates, this guards the shape.
  const addFormats = addFormatsModule as unknown as (a: Ajv2020, o: { mode: 'fast' | 'full' }) => void;
  addFormats(ajv, { mode: 'fast' });
  compiled = ajv.compile(loadAuditEventSchema());
  return compiled;
}

/** Formats ajv errors as "instancePath message" pairs, e.g. "/event/time must match format \"date-time\"". */
export function formatSchemaErrors(errors: readonly ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'schema validation failed';
  return errors
    .slice(0, 10)
    .map((e) => {
      const at = e.instancePath === '' ? '(event)' : e.instancePath;
      const extra =
        e.keyword === 'additionalProperties'
          ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
          : e.keyword === 'enum'
            ? ` ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
            : '';
      return `${at} ${e.message ?? e.keyword}${extra}`;
    })
    .join('; ');
}

/** Returns undefined when valid, else the formatted errors. */
export function validateEvent(event: unknown): string | undefined {
  const v = validator();
  return v(event) ? undefined : formatSchemaErrors(v.errors);
}

export function isAuditEvent(event: unknown): event is AuditEvent {
  return validator()(event);
}
