// The canonical event's leaf fields, read from schemas/audit-event.schema.json: the unit a target
// mapping places. A leaf is a value that is not an object with declared properties: scalars,
// arrays, and free-form maps (labels, config.changes). Read from the schema so a new canonical
// field cannot be forgotten by the mappings: it lands in the custom namespace until mapped.

import { readFileSync } from 'node:fs';

export type LeafKind = 'string' | 'time' | 'integer' | 'number' | 'boolean' | 'string_array' | 'string_map';

export interface CanonicalLeaf {
  /** Dotted path, e.g. `gen_ai.usage.input_tokens`. */
  readonly path: string;
  readonly segments: readonly string[];
  readonly kind: LeafKind;
  /** Allowed values, when the schema lists them. */
  readonly enum?: readonly (string | number | boolean)[];
  readonly description: string;
}

interface SchemaNode {
  type?: string;
  format?: string;
  enum?: (string | number | boolean)[];
  const?: string | number | boolean;
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: boolean | SchemaNode;
}

const SCHEMA_URL = new URL('../../schemas/audit-event.schema.json', import.meta.url);

function kindOf(path: string, node: SchemaNode): LeafKind {
  if (node.const !== undefined) return typeof node.const === 'number' ? 'number' : typeof node.const === 'boolean' ? 'boolean' : 'string';
  if (node.enum !== undefined) return 'string';
  switch (node.type) {
    case 'string':
      return node.format === 'date-time' ? 'time' : 'string';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'array':
      return 'string_array';
    case 'object':
      return 'string_map';
    default:
      throw new Error(`audit-event schema: ${path} has no type this compiler knows (${String(node.type)})`);
  }
}

let cached: readonly CanonicalLeaf[] | undefined;

/** Every leaf of the canonical event, in schema order. */
export function canonicalLeaves(): readonly CanonicalLeaf[] {
  if (cached !== undefined) return cached;
  const root = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as SchemaNode;
  const out: CanonicalLeaf[] = [];
  const walk = (node: SchemaNode, segments: string[], description: string): void => {
    if (node.type === 'object' && node.properties !== undefined && Object.keys(node.properties).length > 0) {
      for (const [k, child] of Object.entries(node.properties)) walk(child, [...segments, k], child.description ?? '');
      return;
    }
    const path = segments.join('.');
    out.push({ path, segments, kind: kindOf(path, node), ...(node.enum !== undefined ? { enum: node.enum } : node.const !== undefined ? { enum: [node.const] } : {}), description });
  };
  walk(root, [], '');
  cached = out;
  return out;
}
