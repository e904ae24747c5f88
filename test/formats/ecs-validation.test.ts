// Every event of every fixture, rendered in ECS 9.4.0, validates against the ECS document schema
// (closed ECS objects, custom fields only under ai_audit), and each event.type is one ECS expects
// for one of the event's categories (the pairs in ecs_flat.yml).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { compiledTarget } from '../../src/formats/index.ts';
import { ecsField } from '../../scripts/lib/ecs-flat.ts';
import { edgeEvents, fixtureEvents } from './fixture-events.ts';

const REF = new URL('../fixtures/reference/ecs/9.4.0/', import.meta.url);
const gz = (name: string): string => gunzipSync(readFileSync(new URL(name, REF))).toString('utf8');
const expectedTypes = new Map((ecsField('event.category')!.allowed_values ?? []).map((v) => [v.name, new Set(v.expected_event_types ?? [])]));

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean;
}
const ecs = compiledTarget('ecs');
const schema = JSON.parse(gz('ecs-9.4.0.document.schema.json.gz')) as SchemaNode;
// Fields of the next ECS release the mapping writes early (gen_ai.provider.name, ECS 9.5): the
// only exception to the 9.4.0 schema, and each must really be missing from 9.4.0.
const ahead = Object.keys(ecs.plan.file.ahead_of_version ?? {});
for (const field of ahead) {
  assert.equal(ecsField(field), undefined, `${field} is in ECS 9.4.0 already; drop it from ahead_of_version`);
  let node = schema;
  const parts = field.split('.');
  parts.forEach((p, i) => {
    node.properties ??= {};
    node = node.properties[p] ??= i === parts.length - 1 ? { type: 'string' } : { type: 'object', properties: {}, additionalProperties: false };
  });
}
const rendered = [...fixtureEvents(), ...edgeEvents()].map((f) => ({ ...f, doc: JSON.parse(JSON.stringify(ecs.encoder.encode(f.event))) as Record<string, unknown> }));

// The schema is 1 MB; compiling it whole takes ajv many seconds. Only the top-level field sets
// the documents use are kept: the root stays closed (additionalProperties: false), so for these
// documents the verdict is the same as with the whole schema.
const used = new Set([...rendered.flatMap((r) => Object.keys(r.doc)), 'ai_audit', 'source']);
schema.properties = Object.fromEntries(Object.entries(schema.properties!).filter(([k]) => used.has(k)));
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
const validate = ajv.compile(schema);
const ev = (d: Record<string, unknown>) => d.event as Record<string, unknown>;

test('the mapping targets ECS 9.4.0 and writes only gen_ai.provider.name ahead of it', () => {
  assert.equal(ecs.encoder.version, '9.4.0');
  assert.deepEqual(ahead, ['gen_ai.provider.name']);
});

test('every fixture event rendered in ECS validates against the ECS 9.4.0 document schema', () => {
  assert.ok(rendered.length > 700);
  const failures: string[] = [];
  for (const r of rendered) {
    if (!validate(r.doc)) failures.push(`${r.where}: ${(validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
  }
  assert.deepEqual(failures, []);
});

test('each event.type is expected for one of the event.category values (ecs_flat.yml)', () => {
  for (const r of rendered) {
    const categories = ev(r.doc).category as string[];
    const types = ev(r.doc).type as string[];
    assert.ok(categories.length > 0 && types.length > 0, `${r.where}: categorized`);
    for (const t of types) {
      assert.ok(categories.some((c) => expectedTypes.get(c)?.has(t)), `${r.where}: event.type ${t} is not expected for categories ${categories.join(', ')}`);
    }
  }
});

test('the ECS fields the issue names: @timestamp, event.*, user / user.effective, gen_ai (system and provider.name), observer, agent, related', () => {
  for (const r of rendered) {
    const e = r.event;
    const d = r.doc;
    assert.equal(d['@timestamp'], e.event.time, r.where);
    assert.equal(ev(d).kind, 'event', r.where);
    assert.equal(ev(d).outcome, e.event.outcome, r.where);
    assert.equal(ev(d).action, e.event.action, r.where);
    assert.equal(ev(d).id, e.event.id, r.where);
    assert.equal(ev(d).hash, e.origin.raw_sha256, r.where);
    if (e.event.duration_ms !== undefined) assert.equal(ev(d).duration, Math.round(e.event.duration_ms * 1e6), r.where);
    if (e.user?.id !== undefined) assert.equal((d.user as { id: string }).id, e.user.id, r.where);
    if (e.principal?.id !== undefined) assert.equal((d.user as { effective: { id: string } }).effective.id, e.principal.id, r.where);
    const provider = e.gen_ai?.provider?.name;
    if (provider !== undefined) {
      const g = d.gen_ai as { system: string; provider: { name: string } };
      assert.equal(g.system, provider, r.where);
      assert.equal(g.provider.name, provider, r.where);
    }
    assert.equal((d.agent as { type: string }).type, 'agent-audit', r.where);
    assert.equal((d.observer as { product: string } | undefined)?.product, e.origin.product?.name, r.where);
    const related = d.related as Record<string, string[]>;
    assert.ok(related.hash.includes(e.origin.raw_sha256), r.where);
    if (e.chain !== undefined) assert.ok(related.hash.includes(e.chain.hash), r.where);
    for (const u of [e.user?.id, e.user?.email, e.principal?.id]) if (u !== undefined) assert.ok(related.user.includes(u), `${r.where}: related.user has ${u}`);
    if (e.client?.ip !== undefined && isIP(e.client.ip) !== 0) assert.ok(related.ip.includes(e.client.ip), r.where);
    if (e.client?.ip !== undefined && isIP(e.client.ip) === 0) assert.equal((d.source as { ip?: string }).ip, undefined, `${r.where}: source.ip only holds IPs`);
    if (e.policy?.decision === 'deny') assert.ok((ev(d).type as string[]).includes('denied'), r.where);
  }
});

test('the document schema does reject non-ECS fields and bad values (so the validation above can fail)', () => {
  const d = rendered[0]!.doc;
  assert.equal(validate({ ...d, gen_ai: { ...(d.gen_ai as object), usage: { total_tokens: 3 } } }), false, 'gen_ai.usage.total_tokens is not ECS');
  assert.equal(validate({ ...d, source: { ip: 'not-an-ip' } }), false, 'source.ip must be an IP');
  assert.equal(validate({ ...d, event: { ...ev(d), category: ['llm'] } }), false, 'event.category is an enum');
  assert.equal(validate({ ...d, custom: {} }), false, 'only ai_audit is free-form');
});
