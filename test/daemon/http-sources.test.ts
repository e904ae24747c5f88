import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { DaemonProcess } from '../support/daemon-process.ts';

// The real daemon (the CLI as operators run it) serving HTTPS, with an OpenAI webhook source
// whose secret comes from ${file:…} and an OTLP source with a bearer token from ${ENV}: the
// recorded OpenAI deliveries and Claude Code exports go in over real TLS, the file sink gets one
// event per delivery / log record, metrics count the answers, a restart keeps the remembered
// delivery ids, and no secret of the requests is on disk afterwards.

const SECRET = 'whsec_Zm9ybWF0cy1yZXNlYXJjaC1vcGVuYWktd2ViaG9vayE=';
const TOKEN = 'otlp-daemon-token-CANARY-0123456789';
const HEADER_CANARY = 'sk-ant-api03-CANARYheaderCANARY0123456789abcdef';
const FIXTURE_CANARIES = ['ghp_QLWhtjNZ8JJ7P3JIAVWEqt4H2hIcEdoxuNU3', 'sk-proj-6dyxTGmY3P21SHESjoZxT3BlbkFJlaFDW5OQpt4CueAQCwS6'];

interface Delivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}
const fixture = (name: string) => readFileSync(new URL(`../fixtures/formats/${name}.jsonl`, import.meta.url), 'utf8').split('\n').filter((l) => l.trim() !== '');
const deliveries = fixture('openai_webhooks').map((l) => JSON.parse(l) as Delivery);
const claude = fixture('claude_code_otel_logs');
const stamps = deliveries.map((d) => Number(d.headers['webhook-timestamp']));
// The test clock sits in the middle of the recorded deliveries; the tolerance covers them all.
const TEST_NOW = Math.round((Math.min(...stamps) + Math.max(...stamps)) / 2);

function tls(dir: string): { ca: Buffer; cert: string; key: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=agent-audit test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  return { ca: readFileSync(join(dir, 'ca.pem')), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

function https(url: string, ca: Buffer, method: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
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

const countLines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length : 0);

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('daemon over HTTPS: OpenAI webhooks and Claude Code OTLP exports become durable events, counted, de-duplicated across a restart, no secret on disk', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-http-'));
  const cert = tls(dir);
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'openai-webhook'), `${SECRET}\n`);
  const out = join(dir, 'out', 'events.jsonl');
  const config = join(dir, 'agent-audit.yaml');
  writeFileSync(
    config,
    `data_dir: ${dir}/state
log_level: info
server:
  address: 127.0.0.1:0
  tls: { cert_file: ${cert.cert}, key_file: ${cert.key} }
sources:
  openai:
    type: webhook
    path: /webhooks/openai
    format: openai_webhooks
    verify:
      preset: standard_webhooks
      secrets: ["\${file:${dir}/secrets/openai-webhook}"]
      tolerance: 62m
  claude:
    type: otlp
    signals: [logs]
    auth:
      tokens: ["\${OTLP_TOKEN}"]
sinks:
  out:
    type: file
    encoding: canonical
    path: ${out}
`,
  );
  const env = { AGENT_AUDIT_TEST_NOW: String(TEST_NOW), OTLP_TOKEN: TOKEN };
  let d = new DaemonProcess(['run', '--config', config], env);
  const logs: string[] = [];
  const base = async (p: DaemonProcess) => (await p.url()).replace(/^http:/, 'https:');
  try {
    let url = await base(d);
    assert.ok(d.logs.some((l) => l.msg === 'webhook source uses the TEST clock (AGENT_AUDIT_TEST_NOW): never set it in production'));
    for (const w of deliveries) {
      const r = await https(`${url}/webhooks/openai`, cert.ca, 'POST', w.body, { ...w.headers, 'x-api-key': HEADER_CANARY });
      assert.equal(r.status, 200, r.text);
    }
    let records = 0;
    for (const [i, line] of claude.entries()) {
      const body = i % 2 === 0 ? Buffer.from(line) : gzipSync(line);
      const r = await https(`${url}/v1/logs`, cert.ca, 'POST', body, { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...(i % 2 === 0 ? {} : { 'content-encoding': 'gzip' }) });
      assert.equal(r.status, 200, r.text);
      const o = JSON.parse(line) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] };
      for (const rl of o.resourceLogs) for (const sl of rl.scopeLogs) records += sl.logRecords.length;
    }
    const expected = deliveries.length + records;
    await until(`${expected} events in the file sink`, () => countLines(out) === expected);

    // A redelivery (new timestamp, same webhook-id) is answered 2xx and not delivered twice.
    const again = deliveries[0]!;
    const ts = String(TEST_NOW);
    const key = Buffer.from(SECRET.slice(6), 'base64');
    const sig = `v1,${createHmac('sha256', key).update(`${again.headers['webhook-id']}.${ts}.${again.body}`).digest('base64')}`;
    const dup = await https(`${url}/webhooks/openai`, cert.ca, 'POST', again.body, { ...again.headers, 'webhook-timestamp': ts, 'webhook-signature': sig });
    assert.equal(dup.status, 200);
    assert.equal(JSON.parse(dup.text).status, 'duplicate');
    // Refusals: a bad signature, a missing token.
    assert.equal((await https(`${url}/webhooks/openai`, cert.ca, 'POST', again.body, { ...again.headers, 'webhook-signature': 'v1,AAAA' })).status, 401);
    assert.equal((await https(`${url}/v1/logs`, cert.ca, 'POST', claude[0], { 'content-type': 'application/json' })).status, 401);

    const metrics = (await https(`${url}/metrics`, cert.ca, 'GET')).text;
    assert.match(metrics, /agent_audit_source_http_requests_total\{source="openai",outcome="accepted"\} 16/);
    assert.match(metrics, /agent_audit_source_http_requests_total\{source="openai",outcome="duplicate"\} 1/);
    assert.match(metrics, /agent_audit_source_http_requests_total\{source="openai",outcome="bad_signature"\} 1/);
    assert.match(metrics, new RegExp(`agent_audit_source_http_requests_total\\{source="claude",outcome="accepted"\\} ${claude.length}`));
    assert.match(metrics, /agent_audit_source_http_requests_total\{source="claude",outcome="missing_token"\} 1/);
    assert.match(metrics, /agent_audit_source_events_total\{source="openai"\} 16/);
    assert.match(metrics, new RegExp(`agent_audit_source_events_total\\{source="claude"\\} ${records}`));
    const refused = d.logs.find((l) => l.msg === 'webhook delivery refused' && l.reason === 'bad_signature');
    assert.ok(refused, 'the refusal is logged');
    assert.equal(refused.source, 'openai');
    assert.equal(refused.path, '/webhooks/openai');

    // Restart: the remembered delivery ids survive, new deliveries still get in.
    d.kill('SIGTERM');
    assert.equal((await d.exited).code, 0, d.stderrText.slice(-3000));
    logs.push(d.stderrText);
    d = new DaemonProcess(['run', '--config', config], env);
    url = await base(d);
    const afterRestart = await https(`${url}/webhooks/openai`, cert.ca, 'POST', deliveries[5]!.body, deliveries[5]!.headers);
    assert.equal(JSON.parse(afterRestart.text).status, 'duplicate');
    const fresh = JSON.stringify({ object: 'event', id: 'evt_after_restart', type: 'response.completed', created_at: TEST_NOW, data: { id: 'resp_after_restart' } });
    const freshSig = `v1,${createHmac('sha256', key).update(`wh_after_restart.${ts}.${fresh}`).digest('base64')}`;
    const accepted = await https(`${url}/webhooks/openai`, cert.ca, 'POST', fresh, { 'content-type': 'application/json', 'webhook-id': 'wh_after_restart', 'webhook-timestamp': ts, 'webhook-signature': freshSig });
    assert.equal(JSON.parse(accepted.text).status, 'accepted');
    await until('the new delivery in the file sink', () => countLines(out) === expected + 1);
  } finally {
    d.kill('SIGTERM');
    await d.exited;
    logs.push(d.stderrText);
  }
  const events = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: { id: string; request_id?: string }; origin: { source: string } });
  assert.equal(new Set(events.map((e) => e.event.id)).size, events.length, 'no event twice');
  assert.deepEqual(new Set(events.filter((e) => e.origin.source === 'openai').map((e) => e.event.request_id)).size, deliveries.length + 1);
  const secretFile = join(dir, 'secrets', 'openai-webhook');
  for (const file of everyFile(dir).filter((f) => f !== secretFile)) {
    const bytes = readFileSync(file);
    for (const secret of [TOKEN, HEADER_CANARY, ...FIXTURE_CANARIES, SECRET]) assert.equal(bytes.includes(secret), false, `${file} contains ${secret.slice(0, 10)}…`);
  }
  for (const text of logs) for (const secret of [TOKEN, SECRET, HEADER_CANARY]) assert.ok(!text.includes(secret), `${secret.slice(0, 10)}… in the logs`);
});
