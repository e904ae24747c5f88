import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';

// The daemon as operators run it: health and metrics endpoints, SIGHUP and POST /-/reload
// (valid and invalid configs), graceful SIGTERM.

function gatewayLine(i: number): string {
  return JSON.stringify({ timestamp: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, i)).toISOString(), request_id: `req-${i}`, agent: 'bot', user: 'alice@example.com', endpoint: 'https://api.openai.com/v1/chat/completions', method: 'POST', status: 200, latency_ms: 5, outcome: 'success', provider: 'openai', model: 'gpt-4o' });
}

function countLines(file: string): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const config = (dir: string, sinks: string) => `data_dir: ${dir}/state
log_level: info
shutdown_timeout: 10s
server:
  address: 127.0.0.1:0
sources:
  gw:
    type: file
    include: ["${dir}/logs/*.jsonl"]
    format: generic_gateway
sinks:
${sinks}`;

const sinkA = (dir: string) => `  a:\n    type: file\n    encoding: canonical\n    path: ${dir}/out/a.jsonl\n`;
const sinkB = (dir: string) => `  b:\n    type: file\n    encoding: ecs\n    path: ${dir}/out/b.jsonl\n`;

test('health, readiness and metrics; reload by SIGHUP and by POST adds a sink that catches up from the oldest event; an invalid config is refused; SIGTERM drains and exits 0', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-life-'));
  mkdirSync(join(dir, 'logs'));
  const log = join(dir, 'logs', 'gw.jsonl');
  writeFileSync(log, Array.from({ length: 100 }, (_, i) => gatewayLine(i)).join('\n') + '\n');
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(file, config(dir, sinkA(dir)));
  const d = new DaemonProcess(['run', '--config', file]);
  try {
    const url = await d.url();
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    await until('sink a has 100 events', () => countLines(join(dir, 'out', 'a.jsonl')) === 100);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /agent_audit_source_events_total\{source="gw"\} 100/);
    assert.match(metrics, /agent_audit_sink_events_total\{sink="a"\} 100/);
    assert.match(metrics, /agent_audit_spool_bytes \d+/);
    const status = await runCli(['status', '--url', url, '--interval', '0', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const figures = JSON.parse(status.stdout) as { sources: Record<string, { events: number }>; sinks: Record<string, { delivered: number; pending: number }> };
    assert.equal(figures.sources.gw!.events, 100);
    assert.equal(figures.sinks.a!.delivered, 100);
    assert.equal(figures.sinks.a!.pending, 0);

    // SIGHUP with a second sink: it starts at the oldest retained event.
    writeFileSync(file, config(dir, sinkA(dir) + sinkB(dir)));
    d.kill('SIGHUP');
    await d.waitForLog('configuration reloaded');
    appendFileSync(log, Array.from({ length: 50 }, (_, i) => gatewayLine(100 + i)).join('\n') + '\n');
    await until('sink a has 150', () => countLines(join(dir, 'out', 'a.jsonl')) === 150);
    await until('sink b has 150', () => countLines(join(dir, 'out', 'b.jsonl')) === 150);

    // An invalid config is refused; the running one keeps working.
    writeFileSync(file, config(dir, sinkA(dir) + '  c:\n    type: nosuchsink\n'));
    const refused = await fetch(`${url}/-/reload`, { method: 'POST' });
    assert.equal(refused.status, 400);
    await d.waitForLog(/config reload refused/);
    appendFileSync(log, gatewayLine(150) + '\n');
    await until('sink a has 151', () => countLines(join(dir, 'out', 'a.jsonl')) === 151);

    // POST /-/reload removing sink b.
    writeFileSync(file, config(dir, sinkA(dir)));
    assert.equal((await fetch(`${url}/-/reload`, { method: 'POST' })).status, 200);
    appendFileSync(log, gatewayLine(151) + '\n');
    await until('sink a has 152', () => countLines(join(dir, 'out', 'a.jsonl')) === 152);
    assert.equal(countLines(join(dir, 'out', 'b.jsonl')), 151);
  } finally {
    d.kill('SIGTERM');
  }
  const exit = await d.exited;
  assert.equal(exit.code, 0, d.stderrText.slice(-3000));
  assert.ok(d.logs.some((l) => l.msg === 'agent-audit stopped'));
  // One line per state change, never one per event.
  assert.ok(d.logs.length < 40, `too many log lines: ${d.logs.length}`);
});
