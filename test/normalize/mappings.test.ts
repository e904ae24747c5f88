import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileMapping, createNormalizer, createRegistry, loadMappings } from '../../src/normalize/index.ts';
import type { MappingFile } from '../../src/normalize/index.ts';
import { ConfigError } from '../../src/core/errors.ts';
import type { RawRecord } from '../../src/core/raw-record.ts';

function record(obj: unknown, extra: Partial<RawRecord> = {}): RawRecord {
  return {
    source: 'test',
    input: 'file',
    position: { kind: 'file', path: '/x.jsonl', fileId: 'f', offset: 0, line: 1 },
    bytes: Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj)),
    receivedAt: Date.UTC(2026, 7, 14, 12, 0, 0),
    ...extra,
  };
}

test('every shipped mapping file compiles, and detection names each of the 13 formats', () => {
  const reg = loadMappings();
  assert.deepEqual(reg.names(), [
    'aws_bedrock_invocation_logs',
    'claude_code_hooks',
    'claude_code_otel_logs',
    'cloudflare_ai_gateway_logs',
    'cloudflare_mcp_portal_logs',
    'generic_gateway',
    'kong_ai_gateway_file_log',
    'litellm_standard_logging_payload',
    'mcp_contextforge_json_logs',
    'openai_agents_tracing',
    'openai_audit_logs',
    'openai_webhooks',
    'otel_genai_traces',
  ]);
});

test('compiled code is plain property reads: no path strings are parsed per event', () => {
  const m = loadMappings().get('claude_code_otel_logs')!;
  assert.match(m.code, /l_attrs\?\.\["user\.email"\]/);
  assert.doesNotMatch(m.code, /parsePath|split\('\.'\)/);
});

test('a brand-new mapping file in a user directory normalizes a new format without code changes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aa-mappings-'));
  try {
    writeFileSync(
      join(dir, 'acme_agent_log.yaml'),
      `# A made-up format: batches of tool calls
name: acme_agent_log
product: { name: ACME Agent, vendor: ACME }
detect:
  priority: 70
  when:
    all:
      - { path: record.kind, eq: acme.batch }
explode:
  - { path: record.calls, as: call }
let:
  ok: { from: call.ok, type: bool }
fields:
  event.time: { from: call.ts_ms, type: time_ms }
  event.action: { value: tool.call }
  event.outcome:
    from: ok
    map: { "true": success, "false": failure }
  gen_ai.tool.name: call.tool
  gen_ai.agent.name: record.agent
  user.id: record.owner.id
  event.duration_ms: { from: call.took_s, scale: 1000 }
  gen_ai.usage.input_tokens: call.tokens
labels:
  acme.region: record.region
payloads:
  tool_arguments: call.args
`,
    );
    const n = createNormalizer({ mappingDirs: [dir], now: () => 0, host: 'h' });
    const r = n.normalize(
      record({
        kind: 'acme.batch',
        agent: 'acme-bot',
        owner: { id: 'u-1' },
        region: 'eu',
        calls: [
          { ts_ms: 1786700000123, ok: 'true', tool: 'search', took_s: 0.25, tokens: '17', args: { q: 'x' } },
          { ts_ms: 1786700001000, ok: false, tool: 'write' },
        ],
      }),
    );
    assert.equal(r.format, 'acme_agent_log');
    assert.deepEqual(r.deadLetters, []);
    assert.equal(r.events.length, 2);
    const [a, b] = r.events;
    assert.equal(a!.event.time, '2026-08-14T09:33:20.123Z');
    assert.equal(a!.event.outcome, 'success');
    assert.equal(a!.event.duration_ms, 250);
    assert.equal(a!.gen_ai?.tool?.name, 'search');
    assert.equal(a!.gen_ai?.usage?.input_tokens, 17);
    assert.equal(a!.user?.id, 'u-1');
    assert.equal(a!.labels?.['acme.region'], 'eu');
    assert.match(a!.payload.tool_arguments!.hash, /^[0-9a-f]{64}$/);
    assert.equal(a!.origin.product?.name, 'ACME Agent');
    assert.equal(b!.event.outcome, 'failure');
    assert.equal(b!.origin.index, 1);
    assert.notEqual(a!.event.id, b!.event.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a user mapping with the same name overrides the built-in one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aa-mappings-'));
  try {
    writeFileSync(
      join(dir, 'override.yaml'),
      'name: generic_gateway\nproduct: { name: Mine, vendor: Me }\ndetect: { priority: 100, when: { has: request_id } }\nfields:\n  event.time: record.timestamp\n  event.action: { value: api.call }\n',
    );
    const n = createNormalizer({ mappingDirs: [dir] });
    const r = n.normalize(record({ request_id: 'r', timestamp: '2026-08-14T00:00:00Z' }));
    assert.equal(r.events[0]?.origin.product?.name, 'Mine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function compileError(spec: unknown): string {
  try {
    compileMapping(spec as MappingFile, 'bad.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.message;
  }
  assert.fail('expected a compile error');
}

test('mapping mistakes fail at start-up with the file and the key path', () => {
  const base = { name: 'x', product: { name: 'X', vendor: 'X' } };
  assert.match(compileError({ ...base, fields: { 'event.tyme': 'record.t' } }), /bad\.yaml: fields\["event\.tyme"\]: not a canonical field/);
  assert.match(compileError({ ...base, fields: { 'event.time': 'rec.t' } }), /unknown root 'rec'/);
  assert.match(compileError({ ...base, fields: { 'event.time': { from: 'record.t', type: 'epoch' } } }), /unknown conversion 'epoch'/);
  assert.match(compileError({ ...base, fields: { 'event.time': { form: 'record.t' } } }), /unknown key 'form'/);
  assert.match(compileError({ ...base, fields: { 'event.id': 'record.id' } }), /not a canonical field a mapping may set/);
  assert.match(compileError({ ...base, fields: {}, detect: { when: { path: 'record.a', matches: '(' } } }), /invalid regular expression/);
  assert.match(compileError({ ...base, fields: { 'event.time': 'record.a[' } }), /invalid path/);
});

test('detection prefers the higher priority and explains rejections', () => {
  const mk = (name: string, priority: number) =>
    compileMapping({ name, product: { name, vendor: 'v' }, detect: { priority, when: { has: 'k' } }, fields: { 'event.action': { value: 'api.call' } } } as MappingFile, name);
  const low = mk('low', 1);
  const high = mk('high', 9);
  const n = createNormalizer({ registry: createRegistry([low, high]) });
  const r = n.normalize(record({ k: 1, timestamp: 1 }));
  assert.equal(r.format, 'high');
  const lines = n.explain(record({ k: 1 }));
  assert.match(lines[0]!, /^matched high \(priority 9\): record\.k exists/);
  assert.match(lines.join('\n'), /also matches low/);
  const none = n.explain(record({ other: 1 }));
  assert.equal(none[0], 'no format matched');
  assert.match(none.join('\n'), /rejected high \(priority 9\): failed: record\.k exists/);
});

