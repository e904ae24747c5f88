import { loadAuditEventSchema } from '../normalize/canonical-fields.ts';

// Route conditions name fields of the canonical event by dotted path. The event schema says
// which paths exist; below a free-form object (labels, attributes) any key may appear.

interface SchemaNode {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: boolean | SchemaNode;
}

let root: SchemaNode | undefined;

function eventSchema(): SchemaNode {
  root ??= loadAuditEventSchema() as SchemaNode;
  return root;
}

export function isCanonicalField(path: string): boolean {
  let node: SchemaNode = eventSchema();
  for (const part of path.split('.')) {
    const next = node.properties?.[part];
    if (next !== undefined) {
      node = next;
      continue;
    }
    // Not declared: only a free-form object may hold it.
    return node.additionalProperties !== undefined && node.additionalProperties !== false;
  }
  return true;
}
