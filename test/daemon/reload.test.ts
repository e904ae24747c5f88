import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess } from '../support/daemon-process.ts';
import { appendGateway, exactlyOnce, jsonLines, sample, until } from '../support/gateway-log.ts';

// Reload (SIGHUP and POST /-/reload) of the real daemon while lines keep arriving: a changed
// source (new globs), a changed sink (new batch size), a removed sink, an added sink, an added
// and later removed source. Every sink that stays sees every event exactly once; a removed one
// sees nothing after its removal; invalid configs are refused with a clear log line and the
// running configuration keeps working.

interface Shape {
  readonly gwGlobs: string[];
  readonly extra?: boolean;
  readonly sinks: Record<string, string>;
}

function render(dir: string, s: Shape): string {
  const sinks = Object.entries(s.sinks)
    .map(([name, extra]) => `  ${name}:\n    type: file\n    path: ${dir}/out/${name}.jsonl\n${extra}`)
    .join('');
  return `data_dir: ${dir}/state
shutdown_timeout: 10s
server: { address: "127.0.0.1:0" }
sources:
  gw:
    type: file
    include: [${s.gwGlobs.map((g) => `"${dir}/logs/${g}"`).join(', ')}]
    format: generic_gateway
    poll_interval: 50ms
${s.extra ? `  extra:\n    type: file\n    include: ["${dir}/logs/three/*.jsonl"]\n    format: generic_gateway\n    poll_interval: 50ms\n` : ''}sinks:
${sinks}`;
}

test('reload adds, removes and changes sources and sinks while lines arrive, without losing or duplicating an event; invalid configs are refused', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-reload-'));
  for (const d of ['one', 'two', 'three']) mkdirSync(join(dir, 'logs', d), { recursive: true });
  const one = join(dir, 'logs', 'one', 'gw.jsonl');
  const two = join(dir, 'logs', 'two', 'gw.jsonl');
  const three = join(dir, 'logs', 'three', 'gw.jsonl');
  const out = (s: string) => jsonLines(join(dir, 'out', `${s}.jsonl`));
  const file = join(dir, 'agent-audit.yaml');
  const write = (s: Shape) => writeFileSync(file, render(dir, s));
  write({ gwGlobs: ['one/*.jsonl'], sinks: { a: '', b: '' } });

  const ids: string[] = appendGateway(one, 'one', 0, 300);
  const d = new DaemonProcess(['run', '--config', file]);
  let feeding = true;
  let fed = 300;
  const feeder = (async () => {
    while (feeding) {
      ids.push(...appendGateway(one, 'one', fed, fed + 10));
      fed += 10;
      await sleep(30);
    }
  })();
  try {
    const url = await d.url();
    await until('a and b have the first lines', () => out('a').length >= 300 && out('b').length >= 300);

    // SIGHUP: gw also reads two/ (changed source), a gets a new batch size (changed sink),
    // b is removed, c is added (starts at the oldest retained event), extra is added.
    write({ gwGlobs: ['one/*.jsonl', 'two/*.jsonl'], extra: true, sinks: { a: '    batch: { max_events: 7 }\n', c: '' } });
    d.kill('SIGHUP');
    const reloaded = await d.waitForLog('configuration reloaded');
    assert.deepEqual(reloaded.sourcesStopped, ['gw']);
    assert.deepEqual([...(reloaded.sourcesStarted as string[])].sort(), ['extra', 'gw']);
    assert.deepEqual([...(reloaded.sinksStopped as string[])].sort(), ['a', 'b']);
    assert.deepEqual([...(reloaded.sinksStarted as string[])].sort(), ['a', 'c']);
    const bAtRemoval = out('b').length;
    ids.push(...appendGateway(two, 'two', 0, 200));
    ids.push(...appendGateway(three, 'three', 0, 50));
    await sleep(300);

    // Refused: schema error by SIGHUP (the log line names file, line and path), then a format
    // no mapping has by POST. The running configuration keeps working in between.
    writeFileSync(file, render(dir, { gwGlobs: ['one/*.jsonl', 'two/*.jsonl'], extra: true, sinks: { a: '    batch: { max_events: 7 }\n', c: '    encodng: ecs\n' } }));
    d.kill('SIGHUP');
    const refused = await d.waitForLog(/config reload refused/);
    assert.match(String(refused.err), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+ /sinks/c/encodng: unknown setting 'encodng'`));
    writeFileSync(file, render(dir, { gwGlobs: ['one/*.jsonl'], sinks: { a: '' } }).replace('format: generic_gateway', 'format: no_such_format'));
    const post = await fetch(`${url}/-/reload`, { method: 'POST' });
    assert.equal(post.status, 400);
    await until('second refusal logged', () => d.logs.filter((l) => /config reload refused/.test(String(l.msg))).length === 2);
    assert.match(String(d.logs.filter((l) => /config reload refused/.test(String(l.msg)))[1]!.err), /no_such_format/);
    ids.push(...appendGateway(two, 'two', 200, 220));

    // POST: extra is removed again; lines it would have read stay unread.
    write({ gwGlobs: ['one/*.jsonl', 'two/*.jsonl'], sinks: { a: '    batch: { max_events: 7 }\n', c: '' } });
    await until('extra caught up before its removal', () => out('a').some((e) => (e.event as { request_id: string }).request_id === 'three-49'));
    assert.equal((await fetch(`${url}/-/reload`, { method: 'POST' })).status, 200);
    appendGateway(three, 'three-late', 0, 20);

    feeding = false;
    await feeder;
    await until('a has every event', () => out('a').length >= ids.length, 60_000);
    await until('c has every event', () => out('c').length >= ids.length, 60_000);
    await sleep(500);
    assert.equal(exactlyOnce(out('a'), ids), undefined, 'a (changed twice)');
    assert.equal(exactlyOnce(out('c'), ids), undefined, 'c (added)');
    const b = out('b');
    assert.equal(b.length, bAtRemoval, 'b received nothing after its removal');
    assert.equal(exactlyOnce(b, ids.slice(0, b.length)), undefined, 'b up to its removal');
    const m = await (await fetch(`${url}/metrics`)).text();
    assert.equal(sample(m, 'agent_audit_sink_pending_events', { sink: 'b' }), undefined, 'a removed sink leaves the gauges');
    assert.equal(sample(m, 'agent_audit_sink_pending_events', { sink: 'a' }), 0);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
  } finally {
    feeding = false;
    await feeder;
    d.kill('SIGTERM');
  }
  const exit = await d.exited;
  assert.equal(exit.code, 0, d.stderrText.slice(-3000));
});
