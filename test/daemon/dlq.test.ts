import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';

// A sink that refuses some events for good, with the real daemon and a faithful Elasticsearch:
// the refused events land in the sink's dead-letter queue with the reason; after the fix
// `agent-audit dlq replay` (while the daemon runs) re-delivers exactly them, and the stream
// read back from Elasticsearch verifies intact, with no gap. Ingest dead letters are rebuilt
// from their redacted copy after a mapping fix, also when the daemon is stopped.

const CANARY = 'sk-proj-CANARYdlqCANARY0123456789abcdefXYZ';
const TOTAL = 300;

function gatewayLine(i: number): string {
  return JSON.stringify({ timestamp: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, i)).toISOString(), request_id: `req-${i}`, agent: 'bot', user: 'alice@example.com', endpoint: 'https://api.openai.com/v1/chat/completions', method: 'POST', status: 200, latency_ms: i % 7 === 0 ? 7 : 5, outcome: 'success', provider: 'openai', model: 'gpt-4o' });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

interface ListJson {
  queues: { queue: string; total: number; reasons: { reason: string; count: number; messages: { message: string; count: number }[] }[] }[];
}

async function dlq(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(['dlq', ...args]);
}

test('sink-rejected events land in the DLQ with the reason; dlq replay re-delivers them while the daemon runs; ingest letters are rebuilt after a mapping fix', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-dlq-'));
  let rejecting = true;
  // Events with latency 7 have a field the index mapping refuses (until the "mapping fix").
  const es = await ElasticsearchEndpoint.start({ itemStatus: (doc) => (rejecting && (doc.event as { duration_ms?: number }).duration_ms === 7 ? 400 : undefined) });
  let daemon: DaemonProcess | undefined;
  try {
    mkdirSync(join(dir, 'logs'));
    mkdirSync(join(dir, 'mappings'));
    const lines: string[] = [];
    for (let i = 0; i < TOTAL; i++) lines.push(gatewayLine(i));
    // Two records that never become events: broken JSON (with a secret in it) and an unknown shape.
    lines.push(`{"request_id":"bad-1","token":"${CANARY}",`);
    lines.push(JSON.stringify({ widget: 'w-1', at: '2026-11-20T10:00:00.000Z', note: `key ${CANARY}` }));
    writeFileSync(join(dir, 'logs', 'gw.jsonl'), `${lines.join('\n')}\n`);
    const file = join(dir, 'agent-audit.yaml');
    writeFileSync(
      file,
      `data_dir: ${dir}/state
shutdown_timeout: 10s
mapping_dirs: [mappings]
server: { address: "127.0.0.1:0" }
sources:
  gw: { type: file, include: ["${dir}/logs/*.jsonl"], start_at: beginning, format: auto }
sinks:
  es: { type: elasticsearch, encoding: canonical, endpoint: "${es.url}", batch: { max_events: 50, timeout: 20ms }, retry: { min_delay_ms: 10, max_delay_ms: 200 } }
`,
    );
    const rejected = Array.from({ length: TOTAL }, (_, i) => i).filter((i) => i % 7 === 0).length;
    const index = 'logs-ai_audit-default';

    daemon = new DaemonProcess(['run', '--config', file]);
    await daemon.waitForLog('agent-audit started');
    await until('accepted events indexed', () => es.docs(index).size === TOTAL - rejected);
    let listed: ListJson | undefined;
    await until('rejected events in the DLQ', async () => {
      const r = await dlq(['list', '--config', file, '--json']);
      listed = JSON.parse(r.stdout) as ListJson;
      return listed.queues.find((q) => q.queue === 'es')?.total === rejected;
    });
    const esQueue = listed!.queues.find((q) => q.queue === 'es')!;
    assert.equal(esQueue.reasons[0]!.reason, 'sink_rejected');
    assert.match(esQueue.reasons[0]!.messages[0]!.message, /failed to parse field \[event\.duration\]/);
    const ingest = listed!.queues.find((q) => q.queue === 'ingest')!;
    assert.deepEqual(ingest.reasons.map((r) => r.reason).sort(), ['invalid_json', 'no_mapping']);

    const text = await dlq(['list', '--config', file]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /sink es\s+sink_rejected\s+43/);
    const shown = await dlq(['show', '--config', file, '--queue', 'es', '--json', '--limit', '0']);
    const letters = shown.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; reason: string; message: string; event: { event: { id: string; request_id: string } } });
    assert.equal(letters.length, rejected);
    assert.ok(letters.every((l) => l.reason === 'sink_rejected' && /document_parsing_exception|mapper_parsing_exception/.test(l.message)));
    const one = await dlq(['show', '--config', file, '--id', letters[3]!.id]);
    assert.match(one.stdout, new RegExp(`${letters[3]!.id}  sink_rejected`));
    assert.match(one.stdout, /reason: .*failed to parse field/);
    const raw = await dlq(['show', '--config', file, '--queue', 'ingest']);
    assert.ok(!raw.stdout.includes(CANARY), 'the stored raw copy is redacted');
    assert.match(raw.stdout, /invalid_json/);

    // Usage errors and a dry run change nothing.
    assert.equal((await dlq(['purge', '--config', file, '--queue', 'es'])).code, 2);
    assert.equal((await dlq(['list', '--config', file, '--yes'])).code, 2);
    const dry = await dlq(['replay', '--config', file, '--queue', 'es', '--dry-run']);
    assert.match(dry.stdout, /43 would be re-entered/);
    assert.equal(es.docs(index).size, TOTAL - rejected);

    // The fix on the Elasticsearch side, then the replay while the daemon runs.
    rejecting = false;
    const replayed = await dlq(['replay', '--config', file, '--queue', 'es']);
    assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
    assert.match(replayed.stdout, /43 re-entered/);
    assert.match(replayed.stdout, /The running daemon \(pid \d+\) took them into its spool/);
    assert.match(replayed.stderr, /replaying: 43\/43 \(100%\)/, 'progress lines when stderr is not a terminal');
    await until('replayed events indexed', () => es.docs(index).size === TOTAL);
    const requestIds = new Set([...es.docs(index).values()].map((d) => (d.event as { request_id: string }).request_id));
    assert.equal(requestIds.size, TOTAL);
    const after = JSON.parse((await dlq(['list', '--config', file, '--json'])).stdout) as ListJson;
    assert.equal(after.queues.find((q) => q.queue === 'es'), undefined, 'the replayed letters left the queue');

    // The replayed events kept their chain links: the read-back verifies with no gap.
    const hits = [...es.docs(index)].map(([id, source]) => JSON.stringify({ _id: id, _source: source }));
    writeFileSync(join(dir, 'readback.jsonl'), `${hits.join('\n')}\n`);
    const verified = spawnSync(process.execPath, [new URL('../../bin/agent-audit.js', import.meta.url).pathname, 'verify', '--unordered', join(dir, 'readback.jsonl')], { encoding: 'utf8' });
    assert.equal(verified.status, 0, verified.stdout);
    assert.match(verified.stdout, new RegExp(`seq 0–${TOTAL - 1}, ${TOTAL} events — intact`));

    // Ingest letters: the broken JSON stays (still invalid), the unknown shape needs a mapping.
    const before = await dlq(['replay', '--config', file, '--queue', 'ingest']);
    assert.equal(before.code, 1);
    assert.match(before.stdout, /1 {2}still fails: invalid_json/);
    assert.match(before.stdout, /1 {2}still fails: no_mapping/);

    daemon.kill('SIGTERM');
    await daemon.exited;
    daemon = undefined;
    writeFileSync(
      join(dir, 'mappings', 'widget.yaml'),
      `name: widget_log
description: test widget records
product: { name: Widget, vendor: Test }
detect:
  priority: 50
  when:
    all:
      - has: widget
fields:
  event.time: record.at
  event.action: { value: api.call }
  event.request_id: record.widget
`,
    );
    const rebuilt = await dlq(['replay', '--config', file, '--queue', 'ingest', '--reason', 'no_mapping']);
    assert.equal(rebuilt.code, 0, rebuilt.stdout + rebuilt.stderr);
    assert.match(rebuilt.stdout, /1 events were rebuilt from ingest dead letters/);
    assert.match(rebuilt.stdout, /No daemon is running on this data directory: the events wait in/);
    assert.equal(readdirSync(join(dir, 'state', 'replay')).filter((n) => n.endsWith('.log')).length, 1);

    daemon = new DaemonProcess(['run', '--config', file]);
    await daemon.waitForLog('dead-letter replay batch taken into the spool');
    await until('the rebuilt event indexed', () => es.docs(index).size === TOTAL + 1);
    const widget = [...es.docs(index).values()].find((d) => (d.event as { request_id?: string }).request_id === 'w-1')!;
    assert.deepEqual(widget.labels, { 'agent_audit.rebuilt_from': 'dead_letter' });
    assert.equal((widget.origin as { format: string }).format, 'widget_log');
    assert.ok(!JSON.stringify(widget).includes(CANARY));

    // Purge: a dry run without --yes, then for good; the daemon is running.
    const wouldPurge = await dlq(['purge', '--config', file, '--reason', 'invalid_json']);
    assert.match(wouldPurge.stdout, /1 dead letters would be removed/);
    assert.match((await dlq(['list', '--config', file])).stdout, /invalid_json\s+1/);
    const purged = await dlq(['purge', '--config', file, '--reason', 'invalid_json', '--yes']);
    assert.equal(purged.code, 0, purged.stderr);
    assert.match(purged.stdout, /1 dead letters removed/);
    assert.match((await dlq(['list', '--config', file])).stdout, /No dead letters/);
  } finally {
    if (daemon) {
      daemon.kill('SIGTERM');
      await daemon.exited;
    }
    await es.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
