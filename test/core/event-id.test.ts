import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventId } from '../../src/core/event-id.ts';

test('event id is deterministic per source, position and index', () => {
  const pos = { kind: 'file', path: '/var/log/a.jsonl', fileId: 'abc', offset: 120 } as const;
  const a = eventId('gw', pos, 0);
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.equal(eventId('gw', pos, 0), a);
  assert.notEqual(eventId('gw', pos, 1), a);
  assert.notEqual(eventId('other', pos, 0), a);
  assert.notEqual(eventId('gw', { ...pos, offset: 121 }, 0), a);
});
