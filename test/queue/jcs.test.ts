import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import { jcs } from '../../src/queue/jcs.ts';

const reference = canonicalize as unknown as (v: unknown) => string;

test('jcs agrees with the canonicalize package (RFC 8785) on awkward values', () => {
  const samples: unknown[] = [
    { b: 1, a: [3, 2, { z: null, y: 'é\u2028"\\' }], c: { '€': 1, '\u0000': 2, A: 3, a: 4, '10': 5, '9': 6 } },
    { n: [0, -0, 1e21, 1e-7, 123.456, -5e-324, 2 ** 53] },
    { s: 'line\nbreak\ttab \ud83d\ude00 \u001f', u: undefined, arr: [undefined] },
    [],
    {},
    'plain',
    42,
    true,
    null,
  ];
  for (const s of samples) assert.equal(jcs(s), reference(s), JSON.stringify(s));
});

test('key order of the input does not change the output', () => {
  assert.equal(jcs({ a: 1, b: { d: 2, c: 3 } }), jcs({ b: { c: 3, d: 2 }, a: 1 }));
});

test('the serialized link is the canonical form of the linked event, hash included', async () => {
  const { link, linkSerialized, newChain, chainHash } = await import('../../src/queue/chain.ts');
  const state = newChain();
  const ev = { schema_version: '1.0', event: { id: 'x', action: 'llm.call' }, origin: { source: 's' }, chain: { id: 'old', seq: 9, prev_hash: 'f'.repeat(64), hash: 'e'.repeat(64) } } as never;
  const a = link(ev, state);
  const b = linkSerialized(ev, state);
  assert.equal(b.body, jcs(a.event));
  assert.deepEqual(b.state, a.state);
  assert.equal(chainHash(JSON.parse(b.body)), a.event.chain!.hash);
});
