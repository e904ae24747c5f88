// Every event of every fixture, rendered in OCSF 1.8.0, validates against its class's JSON Schema
// (ajv 2020, nulls dropped), has type_uid = class_uid * 100 + activity_id, and lists in
// metadata.profiles exactly the profiles whose attributes it carries (read from the OCSF export).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { compiledTarget } from '../../src/formats/index.ts';
import { dropNulls, edgeEvents, fixtureEvents } from './fixture-events.ts';

const REF = new URL('../fixtures/reference/ocsf/1.8.0/', import.meta.url);
interface ExportAttribute {
  profiles?: string[];
  enum?: Record<string, { caption: string }>;
}
interface ExportClass {
  name: string;
  uid: number;
  caption: string;
  category_uid: number;
  category_name?: string;
  profiles: string[];
  attributes: Record<string, ExportAttribute>;
}
const exported = JSON.parse(gunzipSync(readFileSync(new URL('ocsf-1.8.0.export-v2.json.gz', REF))).toString('utf8')) as { version: string; classes: Record<string, ExportClass> };
const classByUid = new Map(Object.values(exported.classes).map((c) => [c.uid, c]));

const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
const validators = new Map<number, ValidateFunction>();
function validatorFor(c: ExportClass): ValidateFunction {
  let v = validators.get(c.uid);
  if (v === undefined) {
    v = ajv.compile(JSON.parse(readFileSync(new URL(`classes/${c.name}.schema.json`, REF), 'utf8')) as object);
    validators.set(c.uid, v);
  }
  return v;
}

const ocsf = compiledTarget('ocsf');
const events = [...fixtureEvents(), ...edgeEvents()];
const rendered = events.map((f) => ({ ...f, doc: dropNulls(JSON.parse(JSON.stringify(ocsf.encoder.encode(f.event)))) as Record<string, unknown> }));

test('the export is OCSF 1.8.0 and the mapping file targets it', () => {
  assert.equal(exported.version, '1.8.0');
  assert.equal(ocsf.encoder.version, '1.8.0');
});

test('every class of the mapping matches the OCSF 1.8.0 class: uid, captions, category, activities, attributes, profiles', () => {
  for (const c of ocsf.plan.classes) {
    const x = exported.classes[c.name];
    assert.ok(x, `${c.name} is not an OCSF 1.8.0 class`);
    assert.equal(c.spec!.uid, x.uid, `${c.name} uid`);
    assert.equal(c.spec!.caption, x.caption, `${c.name} caption`);
    assert.equal(c.spec!.category.uid, x.category_uid, `${c.name} category`);
    const activities = Object.fromEntries(Object.entries(x.attributes.activity_id!.enum!).map(([k, v]) => [k, v.caption]));
    assert.deepEqual(c.spec!.activities, activities, `${c.name} activities`);
    for (const a of [...c.spec!.attributes, ...(ocsf.plan.file.base_attributes ?? [])]) assert.ok(x.attributes[a], `${c.name} has no attribute ${a}`);
    for (const p of c.spec!.profiles ?? []) assert.ok(x.profiles.includes(p), `${c.name} does not support profile ${p}`);
  }
});

test('every fixture event rendered in OCSF validates against its class schema', () => {
  assert.ok(rendered.length > 700, `only ${rendered.length} events`);
  const failures: string[] = [];
  for (const r of rendered) {
    const c = classByUid.get(r.doc.class_uid as number);
    if (c === undefined) {
      failures.push(`${r.where}: class_uid ${String(r.doc.class_uid)} is not an OCSF class`);
      continue;
    }
    const validate = validatorFor(c);
    if (!validate(r.doc)) failures.push(`${r.where} (${c.name}): ${(validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
  }
  assert.deepEqual(failures, []);
});

test('type_uid = class_uid * 100 + activity_id; names are the captions', () => {
  for (const r of rendered) {
    const c = classByUid.get(r.doc.class_uid as number)!;
    const activity = r.doc.activity_id as number;
    assert.equal(r.doc.type_uid, c.uid * 100 + activity, r.where);
    const caption = c.attributes.activity_id!.enum![String(activity)]!.caption;
    assert.equal(r.doc.type_name, `${c.caption}: ${caption}`, r.where);
    assert.equal(r.doc.class_name, c.caption, r.where);
    if (activity !== 99) assert.equal(r.doc.activity_name, caption, r.where);
    else assert.equal(typeof r.doc.activity_name, 'string', r.where);
  }
});

test('metadata.profiles lists exactly the profiles whose attributes the event carries', () => {
  for (const r of rendered) {
    const c = classByUid.get(r.doc.class_uid as number)!;
    const listed = ((r.doc.metadata as { profiles?: string[] }).profiles ?? []).slice().sort();
    const carried = new Set<string>();
    for (const key of Object.keys(r.doc)) for (const p of c.attributes[key]?.profiles ?? []) carried.add(p);
    assert.deepEqual(listed, [...carried].sort(), `${r.where}: metadata.profiles`);
    for (const p of listed) assert.ok(c.profiles.includes(p), `${r.where}: ${c.name} does not support ${p}`);
  }
});

test('metadata: OCSF version, the product that wrote the log, agent-audit as the transformation, ms timestamps with time_dt kept', () => {
  for (const r of rendered) {
    const m = r.doc.metadata as Record<string, unknown>;
    assert.equal(m.version, '1.8.0', r.where);
    assert.equal((m.product as { name: string }).name, r.event.origin.product?.name ?? 'unknown', r.where);
    const t = (m.transformation_info_list as { name: string; product: { name: string } }[])[0]!;
    assert.equal(t.name, 'agent-audit', r.where);
    assert.equal(t.product.name, 'agent-audit', r.where);
    assert.equal(r.doc.time_dt, r.event.event.time, r.where);
    assert.equal(r.doc.time, Math.floor(Date.parse(r.event.event.time)), r.where);
    assert.equal(m.uid, r.event.event.id, r.where);
  }
});

test('class choice: AI and API calls are API Activity with ai_operation when a model is known; changes are Entity Management or Account Change; logins Authentication; decisions ride on the event', () => {
  const seen = new Set<string>();
  for (const r of rendered) {
    const a = r.event.event.action;
    const cls = r.doc.class_uid as number;
    const profiles = (r.doc.metadata as { profiles: string[] }).profiles;
    seen.add(`${a}→${cls}`);
    if (a === 'llm.call' || a === 'tool.call' || a === 'api.call' || a === 'auth.decision' || a === 'prompt.submit') assert.equal(cls, 6003, r.where);
    if (a === 'auth.login' || a === 'auth.logout') assert.equal(cls, 3002, r.where);
    if (a === 'config.change') assert.ok(cls === 3004 || cls === 3001, r.where);
    if (a === 'llm.call' && r.event.gen_ai?.request?.model !== undefined) {
      assert.ok(profiles.includes('ai_operation'), r.where);
      assert.equal((r.doc.ai_model as { name: string }).name, r.event.gen_ai.request.model, r.where);
    }
    if (r.event.gen_ai?.usage?.input_tokens !== undefined && cls === 6003) {
      assert.equal((r.doc.message_context as { prompt_tokens: number }).prompt_tokens, r.event.gen_ai.usage.input_tokens, r.where);
    }
    if (r.event.policy?.decision !== undefined) {
      assert.ok(profiles.includes('security_control'), r.where);
      const expected = { allow: 1, deny: 2, observe: 3, redact: 4, require_approval: 99 }[r.event.policy.decision];
      assert.equal(r.doc.action_id, expected, r.where);
      assert.equal(typeof r.doc.disposition_id, 'number', r.where);
    }
    if (r.event.event.outcome === 'failure') assert.equal(r.doc.status_id, 2, r.where);
  }
  for (const want of ['llm.call→6003', 'tool.call→6003', 'config.change→3004', 'config.change→3001', 'auth.login→3002', 'auth.decision→6003']) assert.ok(seen.has(want), `no fixture event rendered as ${want}`);
});

test('the class schemas do reject what OCSF forbids (so the validation above can fail)', () => {
  const llm = rendered.find((r) => r.doc.class_uid === 6003 && r.doc.ai_model !== undefined)!;
  const validate = validatorFor(classByUid.get(6003)!);
  const { api: _api, ...noApi } = llm.doc;
  assert.equal(validate(noApi), false, 'API Activity without api');
  assert.equal(validate({ ...llm.doc, ai_model: { name: 'gpt-4o' } }), false, 'ai_model without ai_provider');
  assert.equal(validate({ ...llm.doc, actor: { user: { email_addr: 'søren@example.com', uid: 'u' } } }), false, 'email_addr outside email_t');
  assert.equal(validate({ ...llm.doc, ai_audit: {} }), false, 'an attribute the class does not have');
});
