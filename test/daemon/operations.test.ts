import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';
import { SplunkHecEndpoint } from '../endpoints/splunk-hec.ts';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';
import { appendGateway, exactlyOnce, jsonLines, sample, until } from '../support/gateway-log.ts';

// The real daemon as operators watch it, against the local Splunk HEC and Elasticsearch:
// routes with a field condition keep full-payload events out of the SIEMs, /metrics has every
// figure the operations docs list and they match the traffic, /readyz follows a sink outage,
// `agent-audit status` reads it all, logs stay at one line per state change, and the sink
// credentials (from ${ENV} references) appear nowhere the daemon writes.

const HEC_TOKEN = 'CANARY-hec-0f3e2d1c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const ES_KEY_PLAIN = 'canary-key-id:CANARYesApiKey0123456789';
const ES_API_KEY = Buffer.from(ES_KEY_PLAIN).toString('base64');
const CANARIES = [HEC_TOKEN, ES_API_KEY, 'CANARYesApiKey0123456789'];

// Elasticsearch refuses every 100th document for good (mapping conflict) and asks for a retry
// of every 50th the first time it sees it (429 in the bulk answer).
const refused = (id: string) => /^meta-\d*07$/.test(id);
const throttledOnce = (id: string) => /^meta-\d*(03|53)$/.test(id);

test('routes, metrics, readiness, status and logs of the real daemon over real traffic; no secret anywhere', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-ops-'));
  mkdirSync(join(dir, 'logs', 'meta'), { recursive: true });
  mkdirSync(join(dir, 'logs', 'full'), { recursive: true });
  const hec = await SplunkHecEndpoint.start({ tokens: { [HEC_TOKEN]: {} } });
  const es = await ElasticsearchEndpoint.start({
    auth: { apiKeys: [ES_API_KEY] },
    itemStatus: (doc, ctx) => {
      const id = String((doc.event as { request_id?: string } | undefined)?.request_id);
      if (refused(id)) return 400;
      if (throttledOnce(id) && ctx.seen === 0) return 429;
      return undefined;
    },
  });
  const metaLog = join(dir, 'logs', 'meta', 'gw.jsonl');
  const fullLog = join(dir, 'logs', 'full', 'gw.jsonl');
  const metaIds = appendGateway(metaLog, 'meta', 0, 1000);
  appendFileSync(metaLog, '{"not json\n');
  const fullIds = appendGateway(fullLog, 'full', 0, 100);
  const restrictedOut = join(dir, 'out', 'restricted.jsonl');
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(
    file,
    `data_dir: ${dir}/state
log_level: info
shutdown_timeout: 10s
server:
  address: 127.0.0.1:0
  ready_sink_failure_threshold: 1s
sources:
  meta:
    type: file
    include: ["${dir}/logs/meta/*.jsonl"]
    format: generic_gateway
    poll_interval: 50ms
  full:
    type: file
    include: ["${dir}/logs/full/*.jsonl"]
    format: generic_gateway
    payload_mode: full
    poll_interval: 50ms
sinks:
  siem:
    type: splunk_hec
    endpoint: ${hec.url}
    token: \${HEC_TOKEN}
    compression: none
    batch: { timeout: 100ms }
    retry: { min_delay_ms: 50, max_delay_ms: 200 }
  search:
    type: elasticsearch
    endpoint: ${es.url}
    mode: index
    index: audit-canonical
    api_key: \${file:${dir}/es-api-key}
    batch: { timeout: 100ms }
    retry: { min_delay_ms: 50, max_delay_ms: 200 }
  restricted:
    type: file
    path: ${restrictedOut}
routes:
  # The separation security reviewers ask for: full payloads only to the restricted sink.
  - to: [siem, search]
    when: { not: { field: payload.mode, equals: full } }
  - to: [restricted]
`,
  );
  writeFileSync(join(dir, 'es-api-key'), `${ES_API_KEY}\n`);
  const d = new DaemonProcess(['run', '--config', file], { HEC_TOKEN });
  const hecIds = () => hec.events.map((e) => e.event);
  const esDocs = () => [...es.docs('audit-canonical').values()];
  try {
    const url = await d.url();
    const accepted = metaIds.filter((id) => !refused(id));
    await until('siem has every metadata event', () => hec.events.length >= 1000);
    await until('search has every accepted metadata event', () => es.docs('audit-canonical').size >= accepted.length);
    await until('restricted has everything', () => jsonLines(restrictedOut).length >= 1100);

    // Routes: full payloads only in the restricted sink, metadata everywhere.
    assert.equal(exactlyOnce(hecIds(), metaIds), undefined, 'siem');
    assert.equal(exactlyOnce(esDocs(), accepted), undefined, 'search');
    assert.equal(exactlyOnce(jsonLines(restrictedOut), [...metaIds, ...fullIds]), undefined, 'restricted');
    for (const e of hecIds()) assert.equal((e as { payload: { mode: string } }).payload.mode, 'hash');
    assert.ok(jsonLines(restrictedOut).some((e) => (e as { payload: { mode: string } }).payload.mode === 'full'));

    // Metrics after real traffic: every figure the README lists, with the right values.
    await until('sinks caught up in the metrics', async () => {
      const m = await (await fetch(`${url}/metrics`)).text();
      return sample(m, 'agent_audit_sink_pending_events', { sink: 'search' }) === 0 && sample(m, 'agent_audit_sink_pending_events', { sink: 'siem' }) === 0;
    });
    const m = await (await fetch(`${url}/metrics`)).text();
    const metaBytes = statSync(metaLog).size;
    assert.equal(sample(m, 'agent_audit_source_records_total', { source: 'meta' }), 1001);
    assert.equal(sample(m, 'agent_audit_source_events_total', { source: 'meta' }), 1000);
    assert.equal(sample(m, 'agent_audit_source_events_total', { source: 'full' }), 100);
    const bytesIn = sample(m, 'agent_audit_source_bytes_total', { source: 'meta' })!;
    assert.ok(bytesIn === metaBytes || bytesIn === metaBytes - 1001, `bytes in ${bytesIn} vs file ${metaBytes}`);
    assert.equal(sample(m, 'agent_audit_sink_events_total', { sink: 'siem' }), 1000);
    assert.equal(sample(m, 'agent_audit_sink_events_total', { sink: 'search' }), accepted.length);
    assert.equal(sample(m, 'agent_audit_sink_events_total', { sink: 'restricted' }), 1100);
    assert.equal(sample(m, 'agent_audit_dead_letters_total', { source: 'meta', sink: '', reason: 'invalid_json' }), 1);
    assert.equal(sample(m, 'agent_audit_dead_letters_total', { source: 'meta', sink: 'search', reason: 'sink_rejected' }), metaIds.length - accepted.length);
    assert.ok(sample(m, 'agent_audit_sink_retries_total', { sink: 'search' })! >= 1, 'the 429s were retried');
    assert.ok(sample(m, 'agent_audit_spool_bytes')! > 0);
    assert.equal(sample(m, 'agent_audit_spool_max_bytes'), 1024 ** 3);
    assert.equal(sample(m, 'agent_audit_spool_full'), 0);
    assert.equal(sample(m, 'agent_audit_sink_oldest_unconfirmed_age_seconds', { sink: 'siem' }), 0);
    assert.equal(sample(m, 'agent_audit_sink_failing_seconds', { sink: 'siem' }), 0);
    assert.equal(sample(m, 'agent_audit_delivery_latency_seconds_count', { sink: 'siem' }), 1000);
    assert.equal(sample(m, 'agent_audit_delivery_latency_seconds_bucket', { sink: 'restricted', le: '+Inf' }), 1100);
    assert.equal(sample(m, 'agent_audit_source_lag', { source: 'meta', unit: 'bytes' }), 0);
    assert.equal(sample(m, 'agent_audit_up', { version: '0.1.0' }), 1);
    assert.ok(sample(m, 'agent_audit_process_resident_memory_bytes')! > 0, 'process metrics');
    assert.equal((await fetch(`${url}/readyz`)).status, 200);

    // Logs: one line per state change. A second, larger wave of traffic adds no line.
    const before = d.logs.length;
    const wave2 = appendGateway(metaLog, 'meta', 1000, 3000);
    await until('wave 2 delivered to siem', () => hec.events.length >= 3000);
    await until('wave 2 in restricted', () => jsonLines(restrictedOut).length >= 3100);
    await sleep(500);
    assert.deepEqual(d.logs.slice(before).map((l) => l.msg), [], 'log lines while 2000 events flowed');
    assert.ok(d.logs.length < 20, `start-up wrote ${d.logs.length} lines`);

    // Splunk is busy: the sink fails, /readyz turns 503 past the 1 s threshold and says why,
    // the gauges show the backlog, status shows it on its screen; then it recovers.
    hec.busy = true;
    const wave3 = appendGateway(metaLog, 'meta', 3000, 3050);
    await until('/readyz reports the failing sink', async () => (await fetch(`${url}/readyz`)).status === 503, 30_000);
    const notReady = (await (await fetch(`${url}/readyz`)).json()) as { ready: boolean; reasons: string[] };
    assert.equal(notReady.ready, false);
    assert.ok(notReady.reasons.some((r) => /^sink siem failing for \d+s: /.test(r)), notReady.reasons.join('; '));
    const during = await (await fetch(`${url}/metrics`)).text();
    assert.ok(sample(during, 'agent_audit_sink_failing_seconds', { sink: 'siem' })! >= 1);
    assert.ok(sample(during, 'agent_audit_sink_oldest_unconfirmed_age_seconds', { sink: 'siem' })! >= 1);
    assert.equal(sample(during, 'agent_audit_sink_pending_events', { sink: 'siem' }), 50);
    assert.equal(sample(during, 'agent_audit_sink_failing_seconds', { sink: 'search' }), 0);
    const screen = await runCli(['status', '--url', url, '--interval', '0']);
    assert.equal(screen.code, 0, screen.stderr);
    const siemRow = screen.stdout.split('\n').find((l) => l.startsWith('siem '))!;
    assert.ok(siemRow, screen.stdout);
    assert.match(siemRow, /\b50\b/, 'pending 50');
    assert.doesNotMatch(siemRow, /healthy/);
    assert.match(screen.stdout.split('\n').find((l) => l.startsWith('search '))!, /healthy/);
    assert.ok(d.logs.some((l) => l.msg === 'delivery failed; retrying (events wait in the spool)' && l.sink === 'siem'));
    hec.busy = false;
    await until('siem recovered', () => hec.events.length >= 3050);
    await until('/readyz ready again', async () => (await fetch(`${url}/readyz`)).status === 200, 30_000);
    assert.ok(d.logs.some((l) => l.msg === 'delivery recovered' && l.sink === 'siem'));

    // status: one screen with rates while traffic flows.
    const feeding = (async () => {
      for (let k = 0; k < 12; k++) {
        appendGateway(metaLog, 'meta', 4000 + k * 20, 4000 + (k + 1) * 20);
        await sleep(150);
      }
    })();
    const live = await runCli(['status', '--url', url, '--interval', '1500ms']);
    await feeding;
    assert.equal(live.code, 0, live.stderr);
    const out = live.stdout;
    assert.match(out, /^Spool: [\d.]+ (B|KiB|MiB) \([\d.]+% of 1\.0 GiB\)$/m);
    assert.match(out, /^source\s+events\/s\s+records\s+events\s+lag\s+dead letters$/m);
    const metaRow = out.split('\n').find((l) => l.startsWith('meta '))!;
    const rate = Number(metaRow.trim().split(/\s+/)[1]);
    assert.ok(rate > 0, `meta events/s while lines are appended: ${metaRow}`);
    assert.match(out, /^sink\s+events\/s\s+delivered\s+pending\s+oldest unconfirmed\s+failing for\s+retries\s+dead letters$/m);
    for (const s of ['siem', 'search', 'restricted']) assert.ok(out.split('\n').some((l) => l.startsWith(`${s} `)), `row for ${s}`);
    assert.match(out, /^Dead letters by reason$/m);
    assert.match(out, /^source meta: invalid_json\s+1$/m);
    const shownRejects = Number(/^sink search: sink_rejected\s+(\d+)$/m.exec(out)?.[1]);
    assert.ok(shownRejects >= 30, out);
    assert.ok(out.split('\n').length < 40, 'one screen');

    const all = [...metaIds, ...wave2, ...wave3, ...Array.from({ length: 240 }, (_, i) => `meta-${4000 + i}`)];
    await until('everything delivered to siem', () => hec.events.length >= all.length);
    assert.equal(exactlyOnce(hecIds(), all), undefined, 'siem after the outage');
    await until('everything accepted is in search', () => es.docs('audit-canonical').size >= all.filter((id) => !refused(id)).length);
    assert.equal(exactlyOnce(esDocs(), all.filter((id) => !refused(id))), undefined, 'search after the outage');
    const end = await (await fetch(`${url}/metrics`)).text();
    assert.equal(sample(end, 'agent_audit_dead_letters_total', { source: 'meta', sink: 'search', reason: 'sink_rejected' }), all.filter(refused).length);

    // The secrets: in no log line, no /metrics page, no output.
    const pages = [m, during, await (await fetch(`${url}/metrics`)).text(), screen.stdout, live.stdout, JSON.stringify(await (await fetch(`${url}/readyz`)).json())];
    for (const canary of CANARIES) {
      assert.ok(!d.stderrText.includes(canary), 'a secret is in the daemon log');
      assert.ok(!d.stdout.includes(canary));
      for (const p of pages) assert.ok(!p.includes(canary), 'a secret is on an HTTP page or the status screen');
    }
  } finally {
    d.kill('SIGTERM');
    await d.exited;
    await hec.close();
    await es.close();
  }
  assert.ok(d.logs.some((l) => l.msg === 'agent-audit stopped'));
});

test('at log_level trace, with the wrong credentials, nothing the daemon says contains them', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-canary-'));
  mkdirSync(join(dir, 'logs'));
  const hec = await SplunkHecEndpoint.start({ tokens: { 'the-right-token': {} } });
  const es = await ElasticsearchEndpoint.start({ auth: { apiKeys: ['cmlnaHQ6a2V5'] } });
  appendGateway(join(dir, 'logs', 'gw.jsonl'), 'gw', 0, 20);
  const config = (sinks: string) => `data_dir: ${dir}/state
log_level: trace
server: { address: "127.0.0.1:0" }
sources:
  gw: { type: file, include: ["${dir}/logs/*.jsonl"], format: generic_gateway }
sinks:
${sinks}`;
  const hecSink = `  siem: { type: splunk_hec, endpoint: "${hec.url}", token: "\${HEC_TOKEN}" }\n`;
  const esSink = `  search: { type: elasticsearch, endpoint: "${es.url}", mode: index, index: audit, api_key: "\${ES_API_KEY}" }\n`;
  const env = { HEC_TOKEN, ES_API_KEY };
  try {
    for (const sinks of [hecSink, esSink]) {
      const file = join(dir, 'agent-audit.yaml');
      writeFileSync(file, config(sinks));
      // The sink refuses the credentials: the daemon does not start, and says why.
      const run = await runCli(['run', '--config', file], env);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /token|credentials/i);
      const check = await runCli(['check-config', '--connect', file], env);
      assert.equal(check.code, 1);
      assert.match(check.stdout, /FAILED/);
      for (const canary of CANARIES) {
        for (const text of [run.stderr, run.stdout, check.stdout, check.stderr]) assert.ok(!text.includes(canary), `a secret leaked:\n${text}`);
      }
    }
  } finally {
    await hec.close();
    await es.close();
  }
  // Valid credentials at trace level, events delivered: still no secret in any line.
  const good = await SplunkHecEndpoint.start({ tokens: { [HEC_TOKEN]: {} } });
  try {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, config(`  siem: { type: splunk_hec, endpoint: "${good.url}", token: "\${HEC_TOKEN}", batch: { timeout: 50ms } }\n`));
    const r = await runCli(['run', '--once', '--config', file], { HEC_TOKEN });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(good.events.length, 20);
    assert.ok(r.logs.length > 3);
    for (const canary of CANARIES) assert.ok(!r.stderr.includes(canary) && !r.stdout.includes(canary), 'a secret is in a trace log line');
    const check = await runCli(['check-config', '--connect', file], { HEC_TOKEN });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /secrets from references \(never shown\): \/sinks\/siem\/token/);
    assert.ok(!check.stdout.includes(HEC_TOKEN));
  } finally {
    await good.close();
  }
});

test('/readyz: a full spool pauses the sources and makes the daemon unready until the sink drains it', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-full-'));
  mkdirSync(join(dir, 'logs'));
  const hec = await SplunkHecEndpoint.start({ tokens: { 'full-test-token': {} } });
  hec.busy = true;
  const ids = appendGateway(join(dir, 'logs', 'gw.jsonl'), 'gw', 0, 1500);
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(
    file,
    `data_dir: ${dir}/state
server: { address: "127.0.0.1:0", ready_sink_failure_threshold: 10m }
spool: { max_size: 512KiB, segment_size: 64KiB }
sources:
  gw: { type: file, include: ["${dir}/logs/*.jsonl"], format: generic_gateway, batch_lines: 100, poll_interval: 50ms }
sinks:
  siem: { type: splunk_hec, endpoint: "${hec.url}", token: full-test-token, compression: none, batch: { max_events: 200, timeout: 50ms }, retry: { min_delay_ms: 50, max_delay_ms: 200 } }
`,
  );
  const d = new DaemonProcess(['run', '--config', file]);
  try {
    const url = await d.url();
    await until('/readyz unready', async () => (await fetch(`${url}/readyz`)).status === 503, 60_000);
    const r = (await (await fetch(`${url}/readyz`)).json()) as { reasons: string[] };
    assert.deepEqual(r.reasons, ['spool is full: sources are paused']);
    const m = await (await fetch(`${url}/metrics`)).text();
    assert.equal(sample(m, 'agent_audit_spool_full'), 1);
    assert.ok(sample(m, 'agent_audit_spool_bytes')! >= 512 * 1024);
    const read = sample(m, 'agent_audit_source_records_total', { source: 'gw' })!;
    assert.ok(read < 1500, `reading paused (${read} of 1500 read)`);
    assert.ok(sample(m, 'agent_audit_source_lag', { source: 'gw', unit: 'bytes' })! > 0, 'the file lag shows what is left');
    hec.busy = false;
    await until('everything delivered', () => hec.events.length >= 1500, 180_000);
    await until('/readyz ready', async () => (await fetch(`${url}/readyz`)).status === 200);
    assert.equal(exactlyOnce(hec.events.map((e) => e.event), ids), undefined);
  } finally {
    d.kill('SIGTERM');
    await d.exited;
    await hec.close();
  }
});
