// Reads fields out of the official ECS 9.4.0 ecs_flat.yml (the reference copy the tests validate
// against, test/fixtures/reference/) without parsing all 1.2 MB of it:
// every field is a top-level key, so the file splits into one small block per field.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';

export interface EcsFlatField {
  readonly type: string;
  readonly normalize?: readonly string[];
  readonly ignore_above?: number;
  readonly doc_values?: boolean;
  readonly index?: boolean;
  readonly scaling_factor?: number;
  readonly multi_fields?: readonly { readonly name: string; readonly type: string; readonly norms?: boolean }[];
  readonly allowed_values?: readonly { readonly name: string; readonly expected_event_types?: readonly string[] }[];
}

const text = gunzipSync(readFileSync(new URL('../../test/fixtures/reference/ecs/9.4.0/ecs_flat.yml.gz', import.meta.url))).toString('utf8');
const blocks = new Map<string, string>();
for (const block of text.split(/\n(?=\S)/)) {
  const name = block.slice(0, block.indexOf(':')).replace(/^'(.*)'$/, '$1');
  blocks.set(name, block);
}

/** Every ECS 9.4.0 field name. */
export const ecsFieldNames: ReadonlySet<string> = new Set(blocks.keys());

const parsed = new Map<string, EcsFlatField>();
export function ecsField(name: string): EcsFlatField | undefined {
  let f = parsed.get(name);
  if (f === undefined) {
    const block = blocks.get(name);
    if (block === undefined) return undefined;
    f = Object.values(parse(block) as Record<string, EcsFlatField>)[0]!;
    parsed.set(name, f);
  }
  return f;
}
