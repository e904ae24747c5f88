import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';
import { exactlyOnce, gatewayLine, jsonLines, until } from '../support/gateway-log.ts';

// A stop step that cannot finish by shutdown_timeout: a webhook delivery whose body is still
// arriving (the source waits for requests in flight, and a body may take 30 s). The daemon
// does not wait for it: at the deadline it carries on, cuts the connection, names the step in
// an error line and exits 1 within seconds, and what it had acknowledged is delivered by the
// next run.

test('a stop step still running at shutdown_timeout is given up: the daemon names it, exits 1 at once, and loses nothing acknowledged', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-incomplete-'));
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(
    file,
    `data_dir: ${dir}/state
shutdown_timeout: 2s
server: { address: "127.0.0.1:0" }
sources:
  hook: { type: webhook, path: /hook, format: generic_gateway, verify: { preset: none } }
sinks:
  out: { type: file, encoding: canonical, path: "${dir}/out.jsonl" }
`,
  );
  const d = new DaemonProcess(['run', '--config', file]);
  const stalled = { destroy: () => {} };
  t.after(() => {
    d.kill('SIGKILL');
    stalled.destroy();
  });
  const url = new URL(await d.url());
  const accepted = await fetch(`${url.origin}/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: gatewayLine('hook-1') });
  assert.equal(accepted.status, 200, await accepted.text());
  // Headers and the start of a body, then nothing more. The server's '100 Continue' says the
  // request reached the webhook source.
  const socket = connect(Number(url.port), url.hostname);
  stalled.destroy = () => socket.destroy();
  socket.on('error', () => undefined);
  let answer = '';
  socket.setEncoding('utf8').on('data', (c: string) => (answer += c));
  socket.write(`POST /hook HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: 4000\r\nexpect: 100-continue\r\n\r\n`);
  await until('the delivery in flight', () => answer.startsWith('HTTP/1.1 100 Continue'));
  socket.write('{"request_id":"hook-2",');
  const t0 = Date.now();
  d.kill('SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000).unref());
  const exit = await Promise.race([d.exited, timer]);
  if (exit === 'timeout') assert.fail(`the daemon was still stopping 20 s after SIGTERM (shutdown_timeout 2s); stderr:\n${d.stderrText.slice(-3000)}`);
  assert.equal(exit.code, 1, 'a stop that gave up on a step is not a clean exit');
  assert.ok(Date.now() - t0 >= 1_500, 'the step had until the deadline');
  const gaveUp = d.logs.find((l) => l.msg === 'agent-audit stopped without finishing these steps; undelivered events stay in the spool');
  assert.ok(gaveUp, d.stderrText.slice(-3000));
  assert.deepEqual(gaveUp.steps, ['sources']);

  const again = await runCli(['run', '--once', '--config', file]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(exactlyOnce(jsonLines(join(dir, 'out.jsonl')), ['hook-1']), undefined);
});
