// The target compiler refuses mapping files that could not render or could not be read back,
// naming the file, the entry and the reason; and the target version is a setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../src/core/errors.ts';
import { BUILTIN_TARGETS_DIR, compileTarget, createDecoder, createEncoder, readTargetFile } from '../../src/formats/index.ts';
import type { TargetFile } from '../../src/formats/target-types.ts';
import { edgeEvents } from './fixture-events.ts';

const ecsText = readFileSync(join(BUILTIN_TARGETS_DIR, 'ecs.yaml'), 'utf8');
const ocsfText = readFileSync(join(BUILTIN_TARGETS_DIR, 'ocsf.yaml'), 'utf8');
const mutate = (text: string, change: (f: Record<string, any>) => void): TargetFile => {
  const f = parse(text) as Record<string, any>;
  change(f);
  return f as TargetFile;
};
const compileFails = (file: TargetFile, pattern: RegExp) =>
  assert.throws(
    () => compileTarget({ file, path: 'test.yaml', isDefault: true }),
    (e: unknown) => e instanceof ConfigError && e.code === 'target_mapping_invalid' && pattern.test(e.message) && e.message.startsWith('test.yaml'),
  );

test('an unknown canonical field is refused, with a suggestion', () => {
  compileFails(mutate(ecsText, (f) => (f.fields['gen_ai.request.modle'] = 'gen_ai.request.model')), /fields\.gen_ai\.request\.modle: 'gen_ai\.request\.modle' is not a canonical field/);
  compileFails(mutate(ecsText, (f) => (f.fields['usage.input_tokens'] = 'x.y')), /did you mean gen_ai\.usage\.input_tokens/);
});

test('two fields sharing a home are refused (the decoder could not tell them apart)', () => {
  compileFails(mutate(ecsText, (f) => (f.fields['user.name'] = 'user.id')), /user\.id and user\.name share the home user\.id/);
  compileFails(mutate(ecsText, (f) => (f.fields['labels'] = 'user')), /share the home/);
});

test('a derived value, copy or constant that would overwrite a home is refused', () => {
  compileFails(mutate(ecsText, (f) => f.derived.push({ to: 'user.id', value: 'x' })), /derived value at user\.id would overwrite the home of user\.id/);
  compileFails(mutate(ecsText, (f) => (f.constants['event.action'] = 'x')), /constant at event\.action would overwrite the home of event\.action/);
  compileFails(mutate(ecsText, (f) => (f.fields['user.name'] = ['user.name', { to: 'user.email', copy: true }])), /copy of user\.name at user\.email would overwrite the home of user\.email/);
});

test('a home that could not be read back is refused: lossy conversion, many-to-one table, inside the custom namespace', () => {
  compileFails(mutate(ecsText, (f) => (f.fields['event.time'] = { to: '@timestamp', as: 'epoch_ms' })), /epoch_ms loses sub-millisecond digits/);
  compileFails(mutate(ecsText, (f) => (f.fields['event.severity'] = { to: 'event.severity', map: { low: 1, medium: 1 } })), /map is not one-to-one: 'low' and 'medium' both give 1/);
  compileFails(mutate(ecsText, (f) => (f.fields['cost.amount'] = 'ai_audit.cost_usd')), /inside the custom namespace ai_audit/);
});

test('OCSF: an action no route takes, an unknown class, an attribute no class has, a wrong activity are refused', () => {
  compileFails(mutate(ocsfText, (f) => (f.routes = f.routes.filter((r: { when: Record<string, string[]> }) => !r.when['event.action']!.includes('notification')))), /no route takes every 'notification' event/);
  compileFails(mutate(ocsfText, (f) => (f.routes[0].class = 'api_activty')), /unknown class 'api_activty'/);
  compileFails(mutate(ocsfText, (f) => (f.fields['cost.amount'] = 'cost.amount')), /'cost' is not an attribute of any class/);
  compileFails(mutate(ocsfText, (f) => (f.routes[0].activity = 7)), /activity 7 is not an activity of api_activity/);
});

test('a mapping file of the wrong shape is refused with its line', () => {
  const text = ecsText.replace('  event.id: event.id\n', '  event.id: { too: event.id }\n');
  assert.throws(
    () => readTargetFile('bad.yaml', text),
    (e: unknown) => e instanceof ConfigError && /bad\.yaml:\d+: fields\.event\.id must have required property 'to'/.test(e.message),
  );
  assert.throws(() => readTargetFile('bad.yaml', 'target: ecs\nversion: [\n'), (e: unknown) => e instanceof ConfigError && /^bad\.yaml:\d+:\d+:/.test(e.message));
});

test('a canonical field the file does not list lands in the custom namespace, and still reads back', () => {
  const file = mutate(ecsText, (f) => delete f.fields['gen_ai.request.model']);
  const c = compileTarget({ file, path: 'test.yaml', isDefault: true });
  const e = edgeEvents()[0]!.event;
  const doc = c.encoder.encode(e) as { gen_ai: { request?: { model?: string } }; ai_audit: { gen_ai: { request: { model: string } } } };
  assert.equal(doc.gen_ai.request?.model, undefined);
  assert.equal(doc.ai_audit.gen_ai.request.model, e.gen_ai!.request!.model);
  assert.deepStrictEqual(c.decoder.decode(JSON.parse(JSON.stringify(doc))), e);
});

test('the target version is a setting: it must match a mapping file, and another file adds another version', () => {
  assert.equal(createEncoder('ocsf', { version: '1.8.0' }).version, '1.8.0');
  assert.equal(createEncoder('ecs').version, '9.4.0');
  assert.throws(() => createEncoder('ocsf', { version: '1.9.0' }), (e: unknown) => e instanceof ConfigError && e.code === 'encoding_version' && /no mapping for version 1\.9\.0; mapping files have: 1\.8\.0/.test(e.message));
  assert.throws(() => createEncoder('canonical', { version: '2.0' }), (e: unknown) => e instanceof ConfigError && e.code === 'encoding_version');
  const dir = mkdtempSync(join(tmpdir(), 'targets-'));
  try {
    writeFileSync(join(dir, 'ocsf.yaml'), ocsfText);
    const next = parse(ocsfText) as Record<string, any>;
    next.version = '1.9.0';
    next.constants['metadata.version'] = '1.9.0';
    next.constants['metadata.transformation_info_list'][0].uid = 'agent-audit/ocsf-1.9.0';
    writeFileSync(join(dir, 'ocsf-1.9.0.yaml'), stringify(next));
    const enc = createEncoder('ocsf', { version: '1.9.0', mappingsDir: dir });
    const e = edgeEvents()[0]!.event;
    const doc = enc.encode(e) as { metadata: { version: string } };
    assert.equal(doc.metadata.version, '1.9.0');
    assert.deepStrictEqual(createDecoder('ocsf', { version: '1.9.0', mappingsDir: dir }).decode(JSON.parse(JSON.stringify(doc))), e);
    assert.equal((createEncoder('ocsf', { mappingsDir: dir }).encode(e) as { metadata: { version: string } }).metadata.version, '1.8.0', 'ocsf.yaml is the default');
    // A file whose version constant disagrees with its version is refused.
    next.constants['metadata.version'] = '1.8.0';
    writeFileSync(join(dir, 'ocsf-1.9.0.yaml'), stringify(next));
    assert.throws(() => compileTarget({ file: next as TargetFile, path: 'x.yaml', isDefault: false }), /constant metadata\.version must equal the file's version 1\.9\.0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
