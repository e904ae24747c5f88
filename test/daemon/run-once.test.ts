import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/daemon-process.ts';

// The quick start, end to end: the real CLI on the bundled samples, every sink confirmed,
// nothing secret on disk, and a second run sends nothing twice.

const examples = new URL('../../examples/', import.meta.url).pathname;
const CANARY_KEY = 'sk-proj-CANARYcanaryCANARY0123456789abcdefXYZ';
const CANARY_BEARER = 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJ0b2tlbiJ9.Q2FuYXJ5U2lnbmF0dXJlMTIz';

function sandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-once-'));
  cpSync(examples, join(dir, 'examples'), { recursive: true });
  return dir;
}

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function everyFile(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...everyFile(p));
    else if (statSync(p).isFile()) out.push(p);
  }
  return out;
}

test('run --once on the bundled samples writes OCSF and ECS, once, with secrets redacted everywhere on disk', { timeout: 180_000 }, async () => {
  const dir = sandbox();
  const logs = join(dir, 'examples', 'logs');
  // A gateway record carrying secrets, and a line that is not JSON: it must be dead-lettered, not dropped.
  appendFileSync(
    join(logs, 'generic_gateway.jsonl'),
    `${JSON.stringify({ timestamp: '2026-11-20T10:00:00Z', request_id: 'canary-1', agent: 'agent-canary', user: 'alice@example.com', endpoint: `https://api.openai.com/v1/chat/completions?key=${CANARY_KEY}`, method: 'POST', status: 401, latency_ms: 12, outcome: 'failure', provider: 'openai', model: 'gpt-4o', error: `upstream said: invalid Authorization: ${CANARY_BEARER}` })}\n{"broken json with ${CANARY_KEY}\n`,
  );
  const config = join(dir, 'examples', 'agent-audit.yaml');
  const first = await runCli(['run', '--once', '--config', config]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /agent-audit run --once: (\d+) events, 1 dead letters/);
  const events = Number(/: (\d+) events/.exec(first.stdout)![1]);
  assert.ok(events > 40, `expected events from every bundled sample, got ${events}`);

  const ocsf = lines(join(dir, 'out', 'events.ocsf.jsonl'));
  const ecs = lines(join(dir, 'out', 'events.ecs.jsonl'));
  assert.equal(ocsf.length, events);
  assert.equal(ecs.length, events);
  for (const e of ocsf) assert.equal(typeof e.class_uid, 'number');
  for (const e of ecs) assert.equal(typeof e['@timestamp'], 'string');
  // One event per id in each output.
  assert.equal(new Set(ecs.map((e) => (e.event as { id: string }).id)).size, events);

  for (const file of [...everyFile(join(dir, 'out')), ...everyFile(join(dir, '.agent-audit'))]) {
    const bytes = readFileSync(file);
    for (const canary of [CANARY_KEY, CANARY_BEARER.slice(7), 'CANARYcanaryCANARY']) {
      assert.equal(bytes.includes(canary), false, `${file} contains a canary secret`);
    }
  }

  // Checkpoints and cursors: a second run has nothing new to send.
  const second = await runCli(['run', '--once', '--config', config]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /: 0 events, 0 dead letters/);
  assert.equal(lines(join(dir, 'out', 'events.ocsf.jsonl')).length, events);

  // New lines appended later are picked up exactly once.
  const more = readFileSync(join(logs, 'litellm_standard_logging_payload.jsonl'), 'utf8').split('\n')[0]!;
  appendFileSync(join(logs, 'litellm_standard_logging_payload.jsonl'), `${more}\n`);
  const third = await runCli(['run', '--once', '--config', config]);
  assert.equal(third.code, 0, third.stderr);
  const added = Number(/: (\d+) events/.exec(third.stdout)![1]);
  assert.ok(added >= 1);
  assert.equal(lines(join(dir, 'out', 'events.ecs.jsonl')).length, events + added);
});

test('run with an invalid config exits 1 naming the file, line and setting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-badcfg-'));
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(file, 'sources:\n  a:\n    type: file\n    include: ["x/*.log"]\nsinks:\n  out:\n    type: stdout\n    encodng: ecs\n');
  const r = await runCli(['run', '--config', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:8:5 /sinks/out/encodng: unknown setting 'encodng'`));
  const check = await runCli(['check-config', file]);
  assert.equal(check.code, 1);
  assert.match(check.stderr, /unknown setting 'encodng'/);
});
