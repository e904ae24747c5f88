// The CLI faces of the encoders, through the real process: `schema` prints the field dictionary,
// `normalize --to ecs|ocsf` renders any input (and the rendering converts back), `check-config`
// refuses an encoding version no mapping file has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { canonicalLeaves } from '../../src/formats/canonical-leaves.ts';
import { createDecoder } from '../../src/formats/index.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/formats/', import.meta.url));
const FILES = readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(FIXTURES, f));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}
const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

test('schema --to ecs prints a row per canonical field with its ECS field, custom fields marked', async () => {
  const r = await cli(['schema', '--to', 'ecs']);
  assert.equal(r.code, 0, r.stderr);
  const rows = new Map(
    r.stdout
      .split('\n')
      .map((l) => /^(\S+)\s{2,}(\S+(?: \S+)?)\s{2,}(.+)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1]!, m[3]!]),
  );
  for (const leaf of canonicalLeaves()) assert.ok(rows.has(leaf.path), `no row for ${leaf.path}`);
  assert.equal(rows.get('gen_ai.usage.input_tokens'), 'gen_ai.usage.input_tokens');
  assert.equal(rows.get('principal.id'), 'user.effective.id');
  assert.equal(rows.get('gen_ai.provider.name'), 'gen_ai.system + gen_ai.provider.name');
  assert.equal(rows.get('cost.amount'), 'ai_audit.cost.amount  (custom)');
  assert.equal(rows.get('event.duration_ms'), 'event.duration (nanoseconds) *');
});

test('schema --to ocsf --format json gives each field its attribute per class; markdown is a table', async () => {
  const r = await cli(['schema', '--to', 'ocsf', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as { version: string; entries: { field: string; placements: { classes: string[]; placement: { path: string } }[] }[]; routes: { class: string }[] };
  assert.equal(d.version, '1.8.0');
  assert.equal(d.entries.length, canonicalLeaves().length);
  const user = d.entries.find((e) => e.field === 'user.id')!;
  const where = Object.fromEntries(user.placements.flatMap((p) => p.classes.map((c) => [c, p.placement.path])));
  assert.equal(where.api_activity, 'actor.user.uid');
  assert.equal(where.authentication, 'user.uid');
  assert.equal(where.base_event, 'unmapped.ai_audit.user.id');
  assert.ok(d.routes.some((x) => x.class === 'entity_management'));
  const md = await cli(['schema', '--format', 'markdown', '--field', 'gen_ai.usage']);
  assert.equal(md.code, 0, md.stderr);
  assert.match(md.stdout, /^\| canonical field \| type \| ECS 9\.4\.0 \| OCSF 1\.8\.0 \|$/m);
  assert.match(md.stdout, /^\| gen_ai\.usage\.input_tokens \| integer \| gen_ai\.usage\.input_tokens \| message_context\.prompt_tokens<br>in .*: unmapped\.ai_audit\.gen_ai\.usage\.input_tokens {2}\(custom\) \|$/m);
});

test('schema: --help, and usage errors exit 2', async () => {
  const help = await cli(['schema', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: agent-audit schema/);
  for (const args of [['--to', 'splunk'], ['--format', 'xml'], ['--version', '1.8.0'], ['--to', 'ocsf', '--version', '9.9.9'], ['--field', 'nope']]) {
    const r = await cli(['schema', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0);
  }
});

test('normalize --to ocsf and --to ecs render every fixture; each line converts back to the canonical event', async () => {
  const canonical = await cli(['normalize', '--to', 'canonical', ...FILES]);
  assert.equal(canonical.code, 0, canonical.stderr);
  const events = lines(canonical.stdout) as unknown as AuditEvent[];
  assert.ok(events.length > 200);
  for (const target of ['ocsf', 'ecs'] as const) {
    const r = await cli(['normalize', '--to', target, ...FILES]);
    assert.equal(r.code, 0, r.stderr);
    const docs = lines(r.stdout);
    assert.equal(docs.length, events.length);
    const decoder = createDecoder(target);
    docs.forEach((doc, i) => {
      if (target === 'ocsf') assert.equal(typeof doc.class_uid, 'number');
      else assert.equal(typeof doc['@timestamp'], 'string');
      // observed_time is the clock of each run (and so is the event time of records without
      // one, e.g. hooks); everything else is deterministic.
      const back = decoder.decode(doc);
      const want = events[i]!;
      assert.equal(back.event.time, target === 'ocsf' ? doc.time_dt : doc['@timestamp']);
      const clockless = (e: AuditEvent) => ({ ...e, event: { ...e.event, observed_time: '', time: '' } });
      assert.deepStrictEqual(clockless(back), clockless(want), `${target} line ${i + 1}`);
    });
  }
});

test('check-config refuses an encoding_version no mapping file has, naming the versions there', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'enc-version-'));
  try {
    const file = join(dir, 'agent-audit.yaml');
    const config = (v: string) => `sources:\n  a:\n    type: file\n    include: ["x/*.log"]\nsinks:\n  out:\n    type: stdout\n    encoding: ocsf\n    encoding_version: ${v}\n`;
    writeFileSync(file, config('1.9.0'));
    const bad = await cli(['check-config', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\/sinks\/out: encoding ocsf has no mapping for version 1\.9\.0; mapping files have: 1\.8\.0/);
    writeFileSync(file, config('1.8.0'));
    const good = await cli(['check-config', file]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /sink out: stdout, encoding ocsf 1\.8\.0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
