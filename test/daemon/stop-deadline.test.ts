import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SplunkHecEndpoint } from '../endpoints/splunk-hec.ts';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';
import { appendGateway, exactlyOnce, sample, until } from '../support/gateway-log.ts';

// shutdown_timeout bounds the stop even when a sink's request never comes back (a hung indexer
// with a long request_timeout): the daemon gives up at the deadline, exits, and the spool still
// holds every event, so the next run delivers each exactly once.

const TOKEN = 'deadline-test-token';

test('SIGTERM while a sink request hangs: the daemon exits at shutdown_timeout, not at the request timeout, and nothing is lost', { timeout: 180_000 }, async (t) => {
  const hec = await SplunkHecEndpoint.start({ tokens: { [TOKEN]: {} } });
  hec.stalled = true;
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-deadline-'));
  mkdirSync(join(dir, 'logs'));
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(
    file,
    `data_dir: ${dir}/state
shutdown_timeout: 2s
server: { address: "127.0.0.1:0" }
sources:
  gw: { type: file, include: ["${dir}/logs/*.jsonl"], format: generic_gateway }
sinks:
  siem:
    type: splunk_hec
    endpoint: ${hec.url}
    token: ${TOKEN}
    compression: none
    request_timeout: 120s
    batch: { max_events: 100, timeout: 50ms }
`,
  );
  const ids = appendGateway(join(dir, 'logs', 'gw.jsonl'), 'gw', 0, 300);
  const d = new DaemonProcess(['run', '--config', file]);
  t.after(async () => {
    d.kill('SIGKILL');
    await hec.close();
  });
  const url = await d.url();
  await until('events spooled', async () => sample(await (await fetch(`${url}/metrics`)).text(), 'agent_audit_source_events_total', { source: 'gw' }) === 300);
  await until('a request hanging', () => hec.stalledRequests >= 1);
  const t0 = Date.now();
  d.kill('SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref());
  const exit = await Promise.race([d.exited, timer]);
  if (exit === 'timeout') assert.fail(`the daemon was still stopping 30 s after SIGTERM (shutdown_timeout 2s); stderr:\n${d.stderrText.slice(-3000)}`);
  const took = Date.now() - t0;
  assert.equal(exit.code, 0, d.stderrText.slice(-3000));
  assert.ok(took >= 1_500, `waited for the deadline (${took} ms)`);
  assert.ok(d.logs.some((l) => l.msg === 'agent-audit stopped'), d.stderrText.slice(-3000));
  assert.equal(hec.events.length, 0);

  hec.stalled = false;
  const again = await runCli(['run', '--once', '--config', file]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(exactlyOnce(hec.events.map((e) => e.event), ids), undefined);
});
