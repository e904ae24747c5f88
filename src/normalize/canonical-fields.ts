// Which canonical fields a mapping may assign, and the conversion each one implies, read from
// schemas/audit-event.schema.json (so a typo in a mapping file fails at start-up, and a field
// the schema types as integer gets an integer even when the platform sent "123").

import { readFileSync } from 'node:fs';

export type FieldKind = 'string' | 'int' | 'number' | 'bool' | 'time' | 'string_array' | 'object';

interface SchemaNode {
  type?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: boolean | SchemaNode;
}

/** Set by the normalizer itself or the policy; a mapping may not write them. */
const RESERVED = [
  'schema_version',
  'event.id',
  'event.observed_time',
  'payload',
  'redaction',
  'chain',
  'labels',
  'origin.input',
  'origin.source',
  'origin.format',
  'origin.product.name',
  'origin.product.vendor',
  'origin.position',
  'origin.index',
  'origin.raw_sha256',
  'origin.raw_bytes',
  'origin.host',
];

export const AUDIT_EVENT_SCHEMA_URL = new URL('../../schemas/audit-event.schema.json', import.meta.url);

let cached: Map<string, FieldKind> | undefined;

export function loadAuditEventSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(AUDIT_EVENT_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
}

/** Canonical dotted path → kind, for every field a mapping may assign (objects included). */
export function canonicalFields(): Map<string, FieldKind> {
  if (cached !== undefined) return cached;
  const out = new Map<string, FieldKind>();
  const walk = (node: SchemaNode, path: string): void => {
    if (path !== '' && RESERVED.some((r) => path === r || path.startsWith(r + '.'))) return;
    if (node.type === 'object' && node.properties !== undefined) {
      if (path !== '') out.set(path, 'object');
      for (const [k, child] of Object.entries(node.properties)) walk(child, path === '' ? k : `${path}.${k}`);
      return;
    }
    if (node.type === 'object') out.set(path, 'object');
    else if (node.type === 'integer') out.set(path, 'int');
    else if (node.type === 'number') out.set(path, 'number');
    else if (node.type === 'boolean') out.set(path, 'bool');
    else if (node.type === 'array') out.set(path, 'string_array');
    else if (node.format === 'date-time') out.set(path, 'time');
    else out.set(path, 'string');
  };
  walk(loadAuditEventSchema() as SchemaNode, '');
  cached = out;
  return out;
}
