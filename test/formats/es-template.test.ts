// deploy/elasticsearch/: the index template maps every field the ECS encoder can emit (by the
// compiled mapping, and by every field of every rendered fixture event, with a type that takes
// its value), ECS fields as ECS 9.4.0 maps them, ai_audit.* explicitly; install.sh PUTs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ecsField } from '../../scripts/lib/ecs-flat.ts';
import { ECS_OVERRIDES, ecsMapping } from '../../scripts/lib/es-templates.ts';
import { compiledTarget } from '../../src/formats/index.ts';
import { emittedFields } from '../../src/formats/target-fields.ts';
import { edgeEvents, fixtureEvents } from './fixture-events.ts';

const DIR = new URL('../../deploy/elasticsearch/', import.meta.url);
type Json = Record<string, unknown>;
const readJson = (u: URL) => JSON.parse(readFileSync(u, 'utf8')) as Json;
const components = Object.fromEntries(readdirSync(new URL('component_templates/', DIR)).map((f) => [f.replace(/\.json$/, ''), readJson(new URL(`component_templates/${f}`, DIR))]));
const indexTemplates = readdirSync(new URL('index_templates/', DIR)).map((f) => ({ name: f.replace(/\.json$/, ''), body: readJson(new URL(`index_templates/${f}`, DIR)) }));

/** Field path → mapping, from every component's properties. */
const mapped = new Map<string, Json>();
function collect(props: Json, prefix: string): void {
  for (const [k, v] of Object.entries(props)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    const m = v as Json;
    if (m.properties !== undefined) collect(m.properties as Json, path);
    else {
      assert.ok(!mapped.has(path), `${path} is mapped twice`);
      mapped.set(path, m);
    }
  }
}
for (const c of Object.values(components)) collect(((c.template as Json).mappings as Json | undefined)?.properties as Json ?? {}, '');

const ecs = compiledTarget('ecs');
const docs = [...fixtureEvents(), ...edgeEvents()].map((f) => ({ where: f.where, doc: JSON.parse(JSON.stringify(ecs.encoder.encode(f.event))) as Json }));

function fits(type: string, v: unknown): boolean {
  switch (type) {
    case 'keyword':
    case 'wildcard':
    case 'constant_keyword':
    case 'match_only_text':
    case 'text':
      return typeof v === 'string';
    case 'long':
    case 'integer':
      return Number.isInteger(v);
    case 'double':
    case 'float':
    case 'scaled_float':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'date':
      return (typeof v === 'string' && !Number.isNaN(Date.parse(v))) || Number.isInteger(v);
    case 'ip':
      return typeof v === 'string' && isIP(v) !== 0;
    default:
      return false;
  }
}

test('the committed templates are what scripts/gen-es-templates.ts builds from ecs.yaml', async () => {
  const code = await new Promise<number | null>((res) => spawn(process.execPath, [fileURLToPath(new URL('../../scripts/gen-es-templates.ts', import.meta.url)), '--check'], { stdio: 'inherit' }).on('close', res));
  assert.equal(code, 0);
});

test('every field the ECS encoder can emit (per the compiled mapping) has a mapping', () => {
  const missing = [...new Set(emittedFields(ecs.plan).map((f) => f.path))].filter((p) => !mapped.has(p));
  assert.deepEqual(missing, []);
});

test('every field of every rendered fixture event is mapped, with a type that takes its value', () => {
  const problems = new Set<string>();
  const walk = (v: unknown, path: string, where: string): void => {
    const m = mapped.get(path);
    if (m?.type === 'flattened') {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) problems.add(`${path}: flattened wants an object of strings (${where})`);
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) walk(x, path, where);
      return;
    }
    if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`, where);
      return;
    }
    if (m === undefined) problems.add(`${path} is not mapped (${where})`);
    else if (!fits(String(m.type), v)) problems.add(`${path}: ${String(m.type)} does not take ${JSON.stringify(v)} (${where})`);
  };
  for (const d of docs) walk(d.doc, '', d.where);
  assert.deepEqual([...problems], []);
});

test('ECS fields are mapped as ECS 9.4.0 maps them, except the documented overrides; ai_audit.* explicitly', () => {
  const ns = `${ecs.plan.file.custom_namespace}.`;
  const ahead = ecs.plan.file.ahead_of_version ?? {};
  for (const [path, m] of mapped) {
    if (path.startsWith(ns)) {
      assert.ok(['keyword', 'long', 'double', 'boolean', 'date', 'flattened', 'match_only_text'].includes(String(m.type)), `${path}: ${String(m.type)}`);
      continue;
    }
    const f = ecsField(path);
    if (f === undefined) {
      assert.ok(ahead[path] !== undefined, `${path} is neither ECS 9.4.0 nor listed in ahead_of_version`);
      assert.equal(m.type, ahead[path]);
      continue;
    }
    if (ECS_OVERRIDES[path] !== undefined) assert.notEqual(m.type, f.type, `${path}: override kept but ECS agrees now`);
    else assert.deepEqual(m, ecsMapping(path, f), path);
  }
  assert.equal(mapped.get('gen_ai.response.finish_reasons')!.type, 'keyword');
  assert.equal(mapped.get('labels')!.type, 'flattened');
  assert.equal(mapped.get('ai_audit.cost.amount')!.type, 'double');
  assert.equal(mapped.get('ai_audit.payload.prompt.content')!.type, 'match_only_text');
});

test('the index template makes logs-ai_audit-default a data stream with these components and no dynamic mapping', () => {
  assert.equal(indexTemplates.length, 1);
  const t = indexTemplates[0]!.body;
  const patterns = t.index_patterns as string[];
  const re = (p: string) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  assert.ok(patterns.some((p) => re(p).test('logs-ai_audit-default')));
  assert.deepEqual(t.data_stream, {});
  assert.ok((t.priority as number) > 100, 'must win over the built-in logs-*-* template (priority 100)');
  for (const c of t.composed_of as string[]) assert.ok(components[c], `component ${c} is not in deploy/elasticsearch/component_templates`);
  assert.equal(((t.template as Json).mappings as Json).dynamic, false);
  assert.equal(mapped.get('@timestamp')!.type, 'date');
});

test('install.sh PUTs every component template, then the index template, with the API key, and fails on an error answer', async () => {
  const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
  let failOn: string | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      const bad = failOn !== undefined && req.url!.includes(failOn);
      res.writeHead(bad ? 400 : 200, { 'content-type': 'application/json' });
      res.end(bad ? '{"error":{"type":"mapper_parsing_exception"}}' : '{"acknowledged":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const run = () =>
    new Promise<{ code: number | null; out: string }>((res) => {
      const p = spawn('sh', [fileURLToPath(new URL('install.sh', DIR))], { env: { PATH: process.env.PATH, ES_URL: url, ES_API_KEY: 'a2V5OnNlY3JldA==' } });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (out += c.toString()));
      p.on('close', (code) => res({ code, out }));
    });
  try {
    const ok = await run();
    assert.equal(ok.code, 0, ok.out);
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}`),
      [...Object.keys(components).sort().map((n) => `PUT /_component_template/${n}`), ...indexTemplates.map((t) => `PUT /_index_template/${t.name}`)],
    );
    for (const s of seen) {
      assert.equal(s.auth, 'ApiKey a2V5OnNlY3JldA==');
      const name = s.url.split('/').pop()!;
      assert.deepEqual(JSON.parse(s.body), components[name] ?? indexTemplates.find((t) => t.name === name)!.body);
    }
    assert.ok(!ok.out.includes('a2V5OnNlY3JldA=='), 'the API key is not printed');
    seen.length = 0;
    failOn = '_index_template';
    const bad = await run();
    assert.equal(bad.code, 1);
    assert.match(bad.out, /PUT _index_template\/logs-ai_audit answered 400: .*mapper_parsing_exception/);
  } finally {
    server.close();
  }
});
