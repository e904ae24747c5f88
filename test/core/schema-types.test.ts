import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generate } from '../../scripts/gen-types.ts';

test('src/core/audit-event.ts is generated from the current schema (types and schema cannot drift)', async () => {
  const committed = readFileSync(new URL('../../src/core/audit-event.ts', import.meta.url), 'utf8');
  assert.equal(committed, await generate(), 'run `npm run gen:types` after changing schemas/audit-event.schema.json');
});
