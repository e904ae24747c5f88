import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from '../support/daemon-process.ts';
import { appendGateway } from '../support/gateway-log.ts';

// The daemon's stderr is a stream of JSON log lines; Node's own warning text ("(node:PID)
// TimeoutNegativeWarning: …", printed for kafkajs#1751 among others) must not break it. The
// preload makes real warnings happen in the running daemon, on its main thread and on its
// normalize worker.

const PRELOAD = new URL('../support/emit-warnings-preload.mjs', import.meta.url).href;

test('process warnings, on the main thread and on a normalize worker, are JSON log lines with their name, code and message', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-warnings-'));
  mkdirSync(join(dir, 'logs'));
  appendGateway(join(dir, 'logs', 'gw.jsonl'), 'gw', 0, 10);
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(
    file,
    `data_dir: ${dir}/state
workers: 1
server: { address: "127.0.0.1:0" }
sources:
  gw: { type: file, include: ["${dir}/logs/*.jsonl"], format: generic_gateway }
sinks:
  out: { type: file, encoding: canonical, path: "${dir}/out.jsonl" }
`,
  );
  const d = new DaemonProcess(['run', '--config', file], { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${PRELOAD}` });
  t.after(() => d.kill('SIGKILL'));
  await d.waitForLog('agent-audit started');
  d.kill('SIGUSR2');
  // (Node's own text would arrive as a line that is not JSON: the log reader keeps it as msg.)
  const negative = await d.waitForLog(/is a negative number/);
  const coded = await d.waitForLog(/a warning with a code/);
  assert.equal(negative.level, 'warn', `not a log line: ${String(negative.msg)}`);
  assert.equal(negative.warning, 'TimeoutNegativeWarning');
  assert.equal(coded.warning, 'Warning');
  assert.equal(coded.code, 'AGENT_AUDIT_TEST');
  assert.equal(coded.detail, 'and a detail');
  const onWorker = await d.waitForLog('a warning on a normalize worker');
  d.kill('SIGTERM');
  const exit = await d.exited;
  assert.equal(exit.code, 0, d.stderrText.slice(-3000));
  assert.equal(onWorker.warning, 'Warning');
  assert.equal(onWorker.code, 'AGENT_AUDIT_TEST_WORKER');
  assert.equal(onWorker.thread, 'normalize worker');
  const notJson = d.stderrText.split('\n').filter((l) => {
    if (l === '') return false;
    try {
      JSON.parse(l);
      return false;
    } catch {
      return true;
    }
  });
  assert.deepEqual(notJson, [], 'every stderr line is a JSON log line');
});
