// Dead-letter handling of the normalizer: every kind of bad input becomes a dead letter with a
// reason and a redacted raw record; nothing throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNormalizer, createRegistry, loadMappings } from '../../src/normalize/index.ts';
import type { CompiledMapping } from '../../src/normalize/index.ts';
import type { RawRecord } from '../../src/core/raw-record.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { locateJsonError } from '../../src/normalize/json-error.ts';
import { readFileSync } from 'node:fs';

const n = createNormalizer({ now: () => Date.UTC(2026, 7, 14), host: 'h' });

function rec(bytes: Buffer | string, extra: Partial<RawRecord> = {}): RawRecord {
  return {
    source: 'unit',
    input: 'file',
    position: { kind: 'file', path: '/in.jsonl', fileId: 'f', offset: 100, line: 7 },
    bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes,
    receivedAt: Date.UTC(2026, 7, 14),
    ...extra,
  };
}

const GENERIC = {
  timestamp: '2026-08-14T09:30:01.120Z',
  request_id: 'req-1',
  agent: 'a',
  user: 'u',
  endpoint: 'https://api.openai.com/v1/chat/completions',
  method: 'POST',
  payload_hash: 'ab',
  status: 200,
  latency_ms: 5,
  outcome: 'success',
};

test('truncated JSON: invalid_json with the byte position, raw record redacted, no input text in the message', () => {
  const line = '{"request_id":"r","note":"key sk-proj-AAAAAAAAAAAAAAAAAAAAT3BlbkFJBBBBBBBBBBBBBBBBBBBB","endpoint":"https://x/y"';
  const r = n.normalize(rec(line));
  assert.equal(r.events.length, 0);
  const [d] = r.deadLetters;
  assert.equal(d!.reason, 'invalid_json');
  assert.match(d!.message, new RegExp(`truncated JSON: .* at byte ${Buffer.byteLength(line)}`));
  assert.doesNotMatch(d!.message, /sk-proj/);
  assert.doesNotMatch(d!.raw, /sk-proj-A{20}/);
  assert.equal(d!.source, 'unit');
  assert.deepEqual(d!.position, { kind: 'file', path: '/in.jsonl', fileId: 'f', offset: 100, line: 7 });
});

test('JSON error positions are bytes (UTF-8), not UTF-16 characters', () => {
  const text = '{"name":"請求書", oops}';
  const loc = locateJsonError(text);
  assert.equal(loc.byte, Buffer.byteLength('{"name":"請求書", '));
  assert.equal(loc.truncated, false);
  assert.match(n.normalize(rec(text)).deadLetters[0]!.message, /invalid JSON at byte 21 \(line 1 column 16\): expected a double-quoted property name/);
});

test('invalid UTF-8 → invalid_utf8 with the offset of the first bad byte', () => {
  const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
  const r = n.normalize(rec(bytes));
  assert.equal(r.deadLetters[0]!.reason, 'invalid_utf8');
  assert.match(r.deadLetters[0]!.message, /at byte 6$/);
});

test('empty and blank records → empty_record', () => {
  assert.equal(n.normalize(rec('')).deadLetters[0]!.reason, 'empty_record');
  assert.equal(n.normalize(rec('  \r')).deadLetters[0]!.reason, 'empty_record');
});

test('JSON that no mapping recognises → no_mapping; an unknown configured format too', () => {
  const r = n.normalize(rec('{"hello":"world"}'));
  assert.equal(r.deadLetters[0]!.reason, 'no_mapping');
  assert.match(r.deadLetters[0]!.message, /--explain/);
  const u = n.normalize(rec(JSON.stringify(GENERIC), { format: 'nope' }));
  assert.equal(u.deadLetters[0]!.reason, 'no_mapping');
  assert.match(u.deadLetters[0]!.message, /unknown format 'nope'/);
});

test('wrong field types: unconvertible values are dropped; a missing required field is schema_invalid', () => {
  // latency_ms is not a number: dropped, the event is still valid.
  const ok = n.normalize(rec(JSON.stringify({ ...GENERIC, latency_ms: 'fast', status: '200' })));
  assert.deepEqual(ok.deadLetters, []);
  assert.equal(ok.events[0]!.event.duration_ms, undefined);
  assert.equal(ok.events[0]!.http?.response?.status_code, 200, 'numeric string converted');
  // timestamp is an object: no event.time → schema_invalid naming the field, event attached.
  const bad = n.normalize(rec(JSON.stringify({ ...GENERIC, timestamp: { when: 'now' } })));
  assert.equal(bad.events.length, 0);
  const d = bad.deadLetters[0]!;
  assert.equal(d.reason, 'schema_invalid');
  assert.equal(d.format, 'generic_gateway');
  assert.match(d.message, /\/event must have required property 'time'/);
  assert.equal(d.event?.event.request_id, 'req-1');
});

test('a mapping that throws → mapping_error; the normalizer itself never throws', () => {
  const real = loadMappings().get('generic_gateway')!;
  const broken: CompiledMapping = { ...real, name: 'broken', map: () => { throw new TypeError('boom'); } };
  const nb = createNormalizer({ registry: createRegistry([broken]), defaultFormat: 'broken' });
  const r = nb.normalize(rec(JSON.stringify(GENERIC)));
  assert.equal(r.deadLetters[0]!.reason, 'mapping_error');
  assert.match(r.deadLetters[0]!.message, /mapping broken failed: boom/);
});

test('payload modes: hash keeps digests only, none drops them, full keeps redacted content', () => {
  const line = JSON.stringify({ session_id: 's', hook_event_name: 'UserPromptSubmit', prompt: 'use ghp_QLWhtjNZ8JJ7P3JIAVWEqt4H2hIcEdoxuNU3 please' });
  const hash = n.normalize(rec(line)).events[0]!;
  assert.equal(hash.payload.mode, 'hash');
  assert.equal(hash.payload.prompt!.bytes, Buffer.byteLength('use ghp_QLWhtjNZ8JJ7P3JIAVWEqt4H2hIcEdoxuNU3 please'));
  assert.equal(hash.payload.prompt!.content, undefined);
  const none = createNormalizer({ policy: { payloadMode: 'none' } }).normalize(rec(line)).events[0]!;
  assert.equal(none.payload.prompt, undefined);
  const full = createNormalizer({ policy: { payloadMode: 'full' } }).normalize(rec(line)).events[0]!;
  assert.ok(full.payload.prompt!.content!.startsWith('use '));
  assert.doesNotMatch(full.payload.prompt!.content!, /ghp_QLWh/);
});

test('origin and ids: position, raw hash, index, host, deterministic id, observed time from the clock', () => {
  const line = JSON.stringify(GENERIC);
  const a = n.normalize(rec(line)).events[0]!;
  assert.deepEqual(a.origin.position, { file: { path: '/in.jsonl', offset: 100, line: 7 } });
  assert.equal(a.origin.raw_bytes, Buffer.byteLength(line));
  assert.match(a.origin.raw_sha256, /^[0-9a-f]{64}$/);
  assert.equal(a.origin.index, 0);
  assert.equal(a.origin.input, 'file');
  assert.equal(a.event.observed_time, '2026-08-14T00:00:00.000Z');
  assert.equal(n.normalize(rec(line)).events[0]!.event.id, a.event.id);
  const k = n.normalize(rec(line, { input: 'kafka', position: { kind: 'kafka', topic: 't', partition: 2, offset: '9007199254740993' } })).events[0]!;
  assert.deepEqual(k.origin.position, { kafka: { topic: 't', partition: 2, offset: '9007199254740993' } });
  assert.notEqual(k.event.id, a.event.id);
});

test('webhook deliveries: body as the record, headers from meta', () => {
  const body = '{"object":"event","id":"evt_1","type":"batch.completed","created_at":1786702274,"data":{"id":"batch_1"}}';
  const r = n.normalize(rec(body, { input: 'webhook', position: { kind: 'http', path: '/webhooks/openai', deliveryId: 'wh_1' }, meta: { 'webhook-id': 'wh_1' } }));
  assert.deepEqual(r.deadLetters, []);
  assert.equal(r.format, 'openai_webhooks');
  assert.equal(r.events[0]!.event.request_id, 'wh_1');
  assert.equal(r.events[0]!.event.outcome, 'success');
});

test('OTLP export with empty resourceLogs: no events and no dead letter', () => {
  const r = n.normalize(rec('{"resourceLogs":[]}'));
  assert.equal(r.format, 'claude_code_otel_logs');
  assert.deepEqual(r.events, []);
  assert.deepEqual(r.deadLetters, []);
});

test('bad options fail at creation with a ConfigError', () => {
  assert.throws(() => createNormalizer({ defaultFormat: 'nope' }), (e: unknown) => e instanceof ConfigError && /unknown format 'nope'/.test(e.message));
});

const fixtureLine = (name: string, line = 1): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../fixtures/formats/${name}.jsonl`, import.meta.url), 'utf8').split('\n')[line - 1]!) as Record<string, unknown>;

test('explode variants not in the fixtures: Kong JSON array per line, Cloudflare v4 envelope, empty audit page', () => {
  const k1 = fixtureLine('kong_ai_gateway_file_log', 1);
  const k2 = fixtureLine('kong_ai_gateway_file_log', 2);
  const kong = n.normalize(rec(JSON.stringify([k1, k2])));
  assert.equal(kong.format, 'kong_ai_gateway_file_log');
  assert.deepEqual(kong.events.map((e) => [e.origin.index, e.user?.name]), [[0, 'billing-agent'], [1, 'support-bot']]);

  const c1 = fixtureLine('cloudflare_ai_gateway_logs', 1);
  const c2 = fixtureLine('cloudflare_ai_gateway_logs', 2);
  const env = { success: true, errors: [], messages: [], result: [c1, c2], result_info: { page: 1, per_page: 2, count: 2, total_count: 9 } };
  const cf = n.normalize(rec(JSON.stringify(env)));
  assert.equal(cf.format, 'cloudflare_ai_gateway_logs');
  assert.deepEqual(cf.events.map((e) => e.origin.original_event_id), [c1.id, c2.id]);

  const page = n.normalize(rec('{"object":"list","data":[],"first_id":null,"last_id":null,"has_more":false}'));
  assert.equal(page.format, 'openai_audit_logs');
  assert.deepEqual(page.events, []);
  assert.deepEqual(page.deadLetters, []);
});

test('LiteLLM pub/sub style times ("2025-01-24 09:20:46.847371") and OTLP base64 ids', () => {
  const l = fixtureLine('litellm_standard_logging_payload', 1);
  const r = n.normalize(rec(JSON.stringify({ ...l, startTime: '2025-01-24 09:20:46.847371', endTime: '2025-01-24 09:20:47.847371', response_time: undefined })));
  assert.equal(r.events[0]!.event.time, '2025-01-24T09:20:46.847371Z');
  assert.equal(r.events[0]!.event.duration_ms, 1000);

  const span = {
    traceId: Buffer.from('eacf054e0a9b7942695a5c7e7e0db9b8', 'hex').toString('base64'),
    spanId: Buffer.from('7bed93d1d630f6b9', 'hex').toString('base64'),
    name: 'chat m',
    kind: 3,
    startTimeUnixNano: '1786700000000000001',
    endTimeUnixNano: '1786700000500000001',
    attributes: [
      { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
      { key: 'gen_ai.usage.input_tokens', value: { intValue: '9007199254740993' } },
      { key: 'gen_ai.usage.output_tokens', value: { intValue: 12 } },
    ],
    status: {},
  };
  const o = n.normalize(rec(JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans: [span] }] }] })));
  const e = o.events[0]!;
  assert.equal(e.trace?.trace_id, 'eacf054e0a9b7942695a5c7e7e0db9b8');
  assert.equal(e.trace?.span_id, '7bed93d1d630f6b9');
  assert.equal(e.event.time, '2026-08-14T09:33:20.000000001Z');
  assert.equal(e.event.duration_ms, 500);
  assert.equal(e.gen_ai?.usage?.input_tokens, undefined, 'int64 beyond 2^53 is not rounded into a wrong count');
  assert.equal(e.gen_ai?.usage?.output_tokens, 12);
});

test('Bedrock records inside a CloudWatch Logs subscription envelope', () => {
  const a = fixtureLine('aws_bedrock_invocation_logs', 1);
  const b = fixtureLine('aws_bedrock_invocation_logs', 7);
  const env = {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/bedrock/modelinvocations',
    logStream: 'aws/bedrock/modelinvocations',
    logEvents: [
      { id: '3829', timestamp: 1786700230000, message: JSON.stringify(a) },
      { id: '3830', timestamp: 1786700231000, message: JSON.stringify(b, null, 1) },
    ],
  };
  const r = n.normalize(rec(JSON.stringify(env)));
  assert.equal(r.format, 'aws_bedrock_invocation_logs');
  assert.deepEqual(r.deadLetters, []);
  assert.deepEqual(r.events.map((e) => [e.event.request_id, e.event.outcome, e.origin.original_event_id]), [
    [a.requestId, 'success', '3829'],
    [b.requestId, 'failure', '3830'],
  ]);
});
