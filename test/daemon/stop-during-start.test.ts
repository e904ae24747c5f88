import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';
import { createDecoder } from '../../src/formats/index.ts';
import { appendGateway, exactlyOnce, jsonLines } from '../support/gateway-log.ts';

// SIGTERM while the daemon is still starting (storage open, sinks and sources not yet all
// started). The stop used to run beside the start: a sink started after the stop had passed
// the runners kept a runner on a spool reader the stop then closed, and that runner looped on
// empty reads without ever yielding to the event loop: no timer, no signal handler, not even a
// second SIGTERM ran again, and the process never exited. Now the start gives way to the stop.

const SINKS = ['a', 'b', 'c', 'd'];

/** Exit status within `ms`, or a failure with the daemon's log tail (never a silent hang). */
async function exitWithin(d: DaemonProcess, ms: number): Promise<number | null> {
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
  const e = await Promise.race([d.exited, timer]);
  if (e === 'timeout') assert.fail(`daemon did not exit within ${ms} ms of SIGTERM; stderr:\n${d.stderrText.slice(-3000)}`);
  return e.code;
}

test('SIGTERM during start: the daemon stops what it started, exits 0, and the next run delivers every event exactly once', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-early-stop-'));
  mkdirSync(join(dir, 'logs'));
  const file = join(dir, 'agent-audit.yaml');
  const encodings = ['canonical', 'ecs', 'ocsf', 'ecs'];
  writeFileSync(
    file,
    `data_dir: ${dir}/state
shutdown_timeout: 10s
server: { address: "127.0.0.1:0" }
sources:
  gw: { type: file, include: ["${dir}/logs/*.jsonl"], format: generic_gateway, start_at: beginning }
sinks:
${SINKS.map((s, i) => `  ${s}: { type: file, encoding: ${encodings[i]}, path: "${dir}/out/${s}.jsonl" }`).join('\n')}
`,
  );
  const ids = appendGateway(join(dir, 'logs', 'gw.jsonl'), 'gw', 0, 200);
  const daemons: DaemonProcess[] = [];
  t.after(() => {
    for (const d of daemons) d.kill('SIGKILL');
  });
  // The stop lands at a different step of the start each time: right as storage is open, and
  // a little later, while the sinks (their encoders) are being set up.
  for (const delayMs of [0, 20, 80]) {
    const d = new DaemonProcess(['run', '--config', file]);
    daemons.push(d);
    await d.waitForLog('spool recovered');
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    d.kill('SIGTERM');
    const code = await exitWithin(d, 30_000);
    assert.equal(code, 0, d.stderrText.slice(-3000));
    assert.ok(d.logs.some((l) => l.msg === 'agent-audit stopped'), d.stderrText.slice(-3000));
  }
  const once = await runCli(['run', '--once', '--config', file]);
  assert.equal(once.code, 0, once.stderr);
  for (const [i, s] of SINKS.entries()) {
    const lines = jsonLines(join(dir, 'out', `${s}.jsonl`));
    const encoding = encodings[i]!;
    const decoder = createDecoder(encoding as 'canonical' | 'ecs' | 'ocsf');
    const events = lines.map((l) => decoder.decode(l));
    assert.equal(exactlyOnce(events, ids), undefined, `sink ${s} (${encoding})`);
  }
});
