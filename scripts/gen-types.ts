// Generates src/core/audit-event.ts from schemas/audit-event.schema.json so the TypeScript type
// and the JSON Schema cannot drift apart. `--check` exits 1 when the committed file is stale
// (used by test/core/schema-types.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { compile } from 'json-schema-to-typescript';

const root = new URL('../', import.meta.url);
const schema = JSON.parse(readFileSync(new URL('schemas/audit-event.schema.json', root), 'utf8'));
const target = new URL('src/core/audit-event.ts', root);

export async function generate(): Promise<string> {
  return compile(schema, 'AuditEvent', {
    bannerComment: '// GENERATED from schemas/audit-event.schema.json by scripts/gen-types.ts: do not edit by hand.\n/* eslint-disable */',
    additionalProperties: false,
    style: { singleQuote: true },
    unreachableDefinitions: false,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await generate();
  if (process.argv.includes('--check')) {
    const current = readFileSync(target, 'utf8');
    if (current !== text) {
      console.error('src/core/audit-event.ts is stale: run `npm run gen:types`');
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
  }
}
