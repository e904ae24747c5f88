import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadLetterReader } from '../../src/queue/dead-letter-store.ts';
import { createDecoder } from '../../src/formats/index.ts';
import { CloudWatchLogsEndpoint, LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY } from '../endpoints/cloudwatch-logs.ts';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';
import { SplunkHecEndpoint } from '../endpoints/splunk-hec.ts';
import { DaemonProcess } from '../support/daemon-process.ts';

// Fan-out with the real daemon process: one file source feeding Splunk HEC, Elasticsearch and
// CloudWatch Logs (their local endpoints) at once. Each sink has its own cursor, retry state
// and dead-letter queue: with Elasticsearch dead and CloudWatch slow, HEC still gets
// everything at once, CloudWatch everything at its pace, and Elasticsearch catches up when it
// returns. An event one sink refuses goes to that sink's dead-letter queue only.
// Each sink renders its own encoding, as a SIEM pipeline would: OCSF to Splunk, ECS to
// Elasticsearch, canonical to CloudWatch. Assertions read every document back to the canonical
// event through the decoders (the renderings are lossless), so they compare the same ids.

const CANARY = 'sk-proj-FANOUTCANARY0123456789abcdefABCDEF';
const HOUR = 3_600_000;

function gatewayLine(i: number, at: number): string {
  return JSON.stringify({
    timestamp: new Date(at).toISOString(), request_id: `req-${i}`, agent: i % 2 ? 'support-bot' : 'review-bot', user: 'alice@example.com',
    endpoint: `https://api.openai.com/v1/chat/completions?api_key=${CANARY}`, method: 'POST', status: 200, latency_ms: 5, outcome: 'success', provider: 'openai', model: 'gpt-4o',
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Exit code within `ms`, or a failure with the daemon's last log lines (never a silent hang). */
async function exitWithin(d: DaemonProcess, ms: number): Promise<number | null> {
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
  const e = await Promise.race([d.exited, timer]);
  if (e === 'timeout') assert.fail(`daemon did not exit within ${ms} ms of SIGTERM; stderr:\n${d.stderrText.slice(-3000)}`);
  return e.code;
}

interface Canonical {
  readonly event: { readonly id: string; readonly request_id?: string };
}

const fromOcsf = createDecoder('ocsf');
const fromEcs = createDecoder('ecs');
const ocsf = (doc: unknown) => fromOcsf.decode(doc as Record<string, unknown>) as unknown as Canonical;
const ecs = (doc: unknown) => fromEcs.decode(doc as Record<string, unknown>) as unknown as Canonical;

test('fan-out: one source to Splunk HEC, Elasticsearch and CloudWatch Logs; a dead and a slow sink block none of the others; the dead one catches up', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-fanout-'));
  mkdirSync(join(dir, 'logs'));
  const hec = await SplunkHecEndpoint.start({ tokens: { fan: {} } });
  const es = await ElasticsearchEndpoint.start({ itemStatus: (doc) => (ecs(doc).event.request_id === 'req-13' ? 400 : undefined) });
  const cwl = await CloudWatchLogsEndpoint.start();
  const esUrl = es.url;
  await es.down();
  cwl.latencyMs = 250;
  const N = 400;
  const now = Date.now();
  // req-21 is 20 days old: CloudWatch Logs refuses such events, the others take it.
  const at = (i: number) => (i === 21 ? now - 20 * 24 * HOUR : now - HOUR + i);
  const log = join(dir, 'logs', 'gw.jsonl');
  writeFileSync(log, Array.from({ length: N / 2 }, (_, i) => gatewayLine(i, at(i))).join('\n') + '\n');
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(file, `data_dir: ${dir}/state
log_level: info
shutdown_timeout: 10s
server:
  address: 127.0.0.1:0
  ready_sink_failure_threshold: 1s
sources:
  gw:
    type: file
    include: ["${dir}/logs/*.jsonl"]
    format: generic_gateway
sinks:
  splunk:
    type: splunk_hec
    encoding: ocsf
    endpoint: ${hec.url}
    token: fan
    batch: { max_events: 50, timeout: 50ms }
    retry: { min_delay_ms: 20, max_delay_ms: 300 }
  elastic:
    type: elasticsearch
    encoding: ecs
    endpoint: ${esUrl}
    batch: { max_events: 50, timeout: 50ms }
    retry: { min_delay_ms: 20, max_delay_ms: 300 }
  cloudwatch:
    type: cloudwatch_logs
    encoding: canonical
    endpoint: ${cwl.url}
    region: eu-west-1
    log_group: /agent-audit/fanout
    log_stream: "{{ gen_ai.agent.name ?? unknown }}"
    create_log_group: true
    retention_days: 30
    batch: { max_events: 20, timeout: 50ms }
    retry: { min_delay_ms: 20, max_delay_ms: 300 }
`);
  // CloudWatch credentials come from the standard chain: the daemon's environment.
  const d = new DaemonProcess(['run', '--config', file], { AWS_ACCESS_KEY_ID: LOCAL_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: LOCAL_SECRET_ACCESS_KEY, AWS_REGION: '', AWS_PROFILE: '' });
  // Also after a timeout, when the test body never reaches its finally.
  t.after(async () => {
    if (d.child.exitCode === null && d.child.signalCode === null) d.kill('SIGKILL');
    await d.exited;
    await Promise.all([hec.close(), es.close(), cwl.close()]);
  });
  const hecIds = () => new Set(hec.events.map((e) => ocsf(e.event).event.id));
  const cwlDocs = () => [...(cwl.groups.get('/agent-audit/fanout')?.streams.values() ?? [])].flatMap((s) => s.events.map((e) => JSON.parse(e.message) as Canonical));
  try {
    const url = await d.url();
    await d.waitForLog('sink is not reachable yet; events wait in the spool and delivery retries');
    await until('HEC has the first half', () => hec.events.length >= N / 2);
    appendFileSync(log, Array.from({ length: N / 2 }, (_, k) => gatewayLine(N / 2 + k, at(N / 2 + k))).join('\n') + '\n');
    await until('HEC has everything', () => hec.events.length >= N);
    // With Elasticsearch dead and CloudWatch answering slowly, HEC did not wait for either.
    const cwlWhenHecDone = cwlDocs().length;
    assert.equal(es.docs('logs-ai_audit-default').size, 0);
    assert.ok(cwlWhenHecDone < N - 1, `CloudWatch (slow) had ${cwlWhenHecDone} when HEC had all ${N}`);
    await until('CloudWatch has everything it accepts', () => cwlDocs().length >= N - 1);
    assert.equal(es.docs('logs-ai_audit-default').size, 0, 'Elasticsearch still down');
    const ready = await fetch(`${url}/readyz`);
    const why = await ready.text();
    assert.equal(ready.status, 503, why);
    assert.match(why, /sink elastic failing for \d+s/);
    assert.doesNotMatch(why, /splunk|cloudwatch/);
    // Elasticsearch comes back (same port) and catches up from its own cursor.
    await es.up();
    assert.equal(es.url, esUrl);
    await until('Elasticsearch caught up', () => es.docs('logs-ai_audit-default').size >= N - 1);

    const all = hecIds();
    assert.equal(all.size, N, 'HEC: every event exactly once');
    assert.equal(hec.events.length, N);
    const byRequest = new Map(hec.events.map((e) => [ocsf(e.event).event.request_id, ocsf(e.event).event.id]));
    assert.ok(hec.events.every((e) => e.sourcetype === 'ocsf:api_activity'), 'HEC sourcetype from the OCSF class');
    assert.ok([...es.docs('logs-ai_audit-default').entries()].every(([id, doc]) => ecs(doc).event.id === id && typeof doc['@timestamp'] === 'string'), 'ES: ECS documents, _id = event id');
    const idOf = (r: string) => byRequest.get(r)!;
    const esIds = new Set(es.docs('logs-ai_audit-default').keys());
    assert.deepEqual([...all].filter((id) => !esIds.has(id)), [idOf('req-13')]);
    const cwlIds = cwlDocs().map((c) => c.event.id);
    assert.equal(new Set(cwlIds).size, cwlIds.length, 'CloudWatch: no duplicates');
    assert.deepEqual([...all].filter((id) => !cwlIds.includes(id)), [idOf('req-21')]);
    assert.deepEqual([...(cwl.groups.get('/agent-audit/fanout')?.streams.keys() ?? [])].sort(), ['review-bot', 'support-bot']);
    assert.equal(cwl.groups.get('/agent-audit/fanout')!.retentionInDays, 30);
    // The canary API key in the endpoint query string reached no sink.
    const everything = JSON.stringify([hec.events, [...es.docs('logs-ai_audit-default').values()], cwlDocs()]);
    assert.ok(!everything.includes(CANARY) && !everything.includes('FANOUTCANARY'));

    d.kill('SIGTERM');
    assert.equal(await exitWithin(d, 30_000), 0, d.stderrText.slice(-3000));
    // Each sink its own dead-letter queue.
    const reader = new DeadLetterReader(join(dir, 'state', 'dlq'));
    const letters = (p: string) => [...reader.letters(p)].map((s) => s.letter);
    const esLetters = letters('sink-elastic');
    assert.deepEqual(esLetters.map((l) => l.event?.event.request_id), ['req-13']);
    assert.match(esLetters[0]!.message, /^400 document_parsing_exception/);
    const cwlLetters = letters('sink-cloudwatch');
    assert.deepEqual(cwlLetters.map((l) => l.event?.event.request_id), ['req-21']);
    assert.match(cwlLetters[0]!.message, /older than 14 days/);
    assert.deepEqual(letters('sink-splunk'), []);
  } finally {
    if (d.child.exitCode === null && d.child.signalCode === null) d.kill('SIGKILL');
    await d.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fan-out up to the spool limit: a dead sink holds the spool until it is full, then sources pause for every sink; all catch up when it returns', { timeout: 240_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-fanout-full-'));
  mkdirSync(join(dir, 'logs'));
  const hec = await SplunkHecEndpoint.start({ tokens: { fan: {} }, retain: false });
  const es = await ElasticsearchEndpoint.start({ retain: false });
  const cwl = await CloudWatchLogsEndpoint.start({ retain: false });
  const esUrl = es.url;
  await es.down();
  const N = 12_000;
  const now = Date.now();
  writeFileSync(join(dir, 'logs', 'gw.jsonl'), Array.from({ length: N }, (_, i) => gatewayLine(i, now - HOUR + i)).join('\n') + '\n');
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(file, `data_dir: ${dir}/state
log_level: info
shutdown_timeout: 10s
spool:
  max_size: 256KiB
  segment_size: 32KiB
server:
  address: 127.0.0.1:0
sources:
  gw:
    type: file
    include: ["${dir}/logs/*.jsonl"]
    format: generic_gateway
sinks:
  splunk: { type: splunk_hec, encoding: ocsf, endpoint: "${hec.url}", token: fan, batch: { max_events: 200, timeout: 20ms }, retry: { min_delay_ms: 20, max_delay_ms: 200 } }
  elastic: { type: elasticsearch, encoding: ecs, endpoint: "${esUrl}", batch: { max_events: 200, timeout: 20ms }, retry: { min_delay_ms: 20, max_delay_ms: 200 } }
  cloudwatch: { type: cloudwatch_logs, encoding: canonical, endpoint: "${cwl.url}", region: eu-west-1, log_group: /agent-audit/full, create_log_group: true, batch: { max_events: 100, timeout: 20ms }, retry: { min_delay_ms: 20, max_delay_ms: 200 } }
`);
  const d = new DaemonProcess(['run', '--config', file], { AWS_ACCESS_KEY_ID: LOCAL_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: LOCAL_SECRET_ACCESS_KEY, AWS_REGION: '', AWS_PROFILE: '' });
  t.after(async () => {
    if (d.child.exitCode === null && d.child.signalCode === null) d.kill('SIGKILL');
    await d.exited;
    await Promise.all([hec.close(), es.close(), cwl.close()]);
  });
  try {
    const url = await d.url();
    // The live sinks take what the spool holds, then everything stops: the dead sink's cursor
    // pins the spool, which is full, so the source is paused.
    await until('the spool is full', async () => /spool is full: sources are paused/.test(await (await fetch(`${url}/readyz`)).text()));
    let last = '';
    await until('the live sinks stop receiving', async () => {
      const n = `${hec.indexed}/${cwl.stored}`;
      await sleep(500);
      const stable = n === `${hec.indexed}/${cwl.stored}` && n === last;
      last = n;
      return stable;
    });
    assert.ok(hec.indexed > 0 && hec.indexed < N, `HEC got ${hec.indexed} of ${N} before the spool filled`);
    assert.equal(cwl.stored, hec.indexed, 'the live sinks are level: both delivered all that the spool took');
    assert.equal(es.docs('logs-ai_audit-default').size, 0);
    await es.up();
    await until('every sink has everything', () => hec.indexed === N && cwl.stored === N && es.docs('logs-ai_audit-default').size === N);
  } finally {
    if (d.child.exitCode === null && d.child.signalCode === null) d.kill('SIGKILL');
    await d.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
