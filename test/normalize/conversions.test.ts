import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as c from '../../src/normalize/conversions.ts';

test('ns epoch strings keep full precision (BigInt, never Number)', () => {
  // 1786700000734016512 is > 2^53: Number() would round the last digits.
  assert.equal(c.timeNs('1786700000734016512'), '2026-08-14T09:33:20.734016512Z');
  assert.equal(c.timeAuto('1786700000734016512'), '2026-08-14T09:33:20.734016512Z');
  assert.equal(c.timeNs('0'), undefined, 'OTLP 0 means unset');
  assert.equal(c.timeNs('not a number'), undefined);
});

test('epoch seconds, milliseconds and python-style strings', () => {
  assert.equal(c.timeS(1786646223), '2026-08-13T18:37:03.000Z');
  assert.equal(c.timeS('1786646223'), '2026-08-13T18:37:03.000Z');
  assert.equal(c.timeMs(1786700112611), '2026-08-14T09:35:12.611Z');
  assert.equal(c.timeAuto(1786700040.9490721), '2026-08-14T09:34:00.949072Z');
  assert.equal(c.timeAuto(1786700112611), '2026-08-14T09:35:12.611Z');
  assert.equal(c.timeAuto('2025-01-24 09:20:46.847371'), '2025-01-24T09:20:46.847371Z');
});

test('ISO strings: offsets converted to UTC, no zone = UTC, invalid dates rejected', () => {
  assert.equal(c.timeIso('2026-08-14T09:33:20.040000+00:00'), '2026-08-14T09:33:20.040Z');
  assert.equal(c.timeIso('2026-08-14T11:33:20.5+02:00'), '2026-08-14T09:33:20.500Z');
  assert.equal(c.timeIso('2026-08-14T09:33:38'), '2026-08-14T09:33:38.000Z');
  assert.equal(c.timeIso('2026-02-30T00:00:00Z'), undefined);
  assert.equal(c.timeIso('yesterday'), undefined);
  assert.equal(c.timeIso(12), undefined);
});

test('durations between canonical times', () => {
  assert.equal(c.durationMs('2026-08-14T09:33:20.040Z', '2026-08-14T09:33:20.041Z'), 1);
  assert.equal(c.durationMs('2026-08-14T09:33:20.000000001Z', '2026-08-14T09:33:20.000000002Z'), 0.000001);
  assert.equal(c.durationMs('2026-08-14T09:33:21Z', '2026-08-14T09:33:20Z'), undefined);
});

test('ids: hex, prefixed hex, dashed uuid and base64 all become lowercase hex', () => {
  assert.equal(c.traceId('EACF054E0A9B7942695A5C7E7E0DB9B8'), 'eacf054e0a9b7942695a5c7e7e0db9b8');
  assert.equal(c.traceId('trace_bf40334518a705d19c432d0fc70242ec'), 'bf40334518a705d19c432d0fc70242ec');
  assert.equal(c.traceId('9710cd26-80fc-43e4-ad48-85117c40218e'), '9710cd2680fc43e4ad4885117c40218e');
  assert.equal(c.traceId(Buffer.from('eacf054e0a9b7942695a5c7e7e0db9b8', 'hex').toString('base64')), 'eacf054e0a9b7942695a5c7e7e0db9b8');
  assert.equal(c.spanId('7bed93d1d630f6b9'), '7bed93d1d630f6b9');
  assert.equal(c.spanId('span_5f216b58f2e0939c2aeb522b'), undefined, '24 hex digits are not a span id');
  assert.equal(c.traceId('00000000000000000000000000000000'), undefined);
});

test('numbers: int64 strings, "undefined", floats', () => {
  assert.equal(c.toInt('912'), 912);
  assert.equal(c.toInt(41), 41);
  assert.equal(c.toInt('undefined'), undefined);
  assert.equal(c.toInt('9223372036854775807'), undefined, 'beyond 2^53 is not silently rounded');
  assert.equal(c.toNum('0.01611'), 0.01611);
  assert.equal(c.toBool('false'), false);
  assert.equal(c.toBool('TRUE'), true);
  assert.equal(c.toBool('maybe'), undefined);
});

test('OTLP AnyValue and KeyValue lists', () => {
  const attrs = c.otlpAttributes([
    { key: 's', value: { stringValue: 'x' } },
    { key: 'i', value: { intValue: '912' } },
    { key: 'big', value: { intValue: '9223372036854775807' } },
    { key: 'n', value: { intValue: 7 } },
    { key: 'd', value: { doubleValue: 0.2 } },
    { key: 'b', value: { boolValue: true } },
    { key: 'a', value: { arrayValue: { values: [{ stringValue: 'stop' }] } } },
    { key: 'kv', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
  ]);
  assert.deepEqual(JSON.parse(JSON.stringify(attrs)), { s: 'x', i: 912, big: '9223372036854775807', n: 7, d: 0.2, b: true, a: ['stop'], kv: { k: 'v' } });
  const evil = c.otlpAttributes([{ key: '__proto__', value: { stringValue: 'x' } }])!;
  assert.equal(Object.getPrototypeOf(evil), null);
  assert.equal(evil['__proto__'], 'x');
});

test('JSON strings, string arrays and URLs', () => {
  assert.deepEqual(c.json('{"a": 1}'), { a: 1 });
  assert.equal(c.json('{"a": '), undefined);
  assert.equal(c.json('plain text'), undefined);
  assert.deepEqual(c.stringArray(['a', 1, '']), ['a', '1']);
  const u = c.urlParts('https://user:pw@mcp.stripe.example:8443/sse?api_key=rk_live_x#frag');
  assert.deepEqual(u, { full: 'https://mcp.stripe.example:8443/sse', scheme: 'https', domain: 'mcp.stripe.example', path: '/sse', port: 8443 });
});
