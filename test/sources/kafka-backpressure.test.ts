import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';
import { DaemonProcess, type LogLine } from '../support/daemon-process.ts';
import { KafkaMock, type ProducedMessage } from '../support/kafka-mock.ts';
import { gatewayLine, kafkaConfig, metric, waitFor } from '../support/kafka-fixtures.ts';

// Backpressure and the commit rule with the real daemon: a tiny spool and a stalled
// Elasticsearch (503 to every _bulk). The consumer pauses once the spool is full, memory stays
// flat although ~80 MB of messages wait in the topic, nothing more becomes durable and the
// group's committed offsets never pass what is durable. The sink recovers: the consumer
// resumes. Stalled again and SIGKILLed while submits wait in front of the full spool (read, not
// durable): a restart with a working sink delivers every message, those included.

const TOTAL = 60_000;
const INDEX = 'logs-ai_audit-default';
// ~1.3 KB per message; the padding compresses well, so the mock (5 MiB per partition) keeps
// the whole backlog, while kafkajs holds it decompressed.
const PAD = 'x'.repeat(1000);

function message(i: number): ProducedMessage {
  const line = gatewayLine(i);
  return { partition: i % 4, value: `${line.slice(0, -1)},"note":"${PAD}"}` };
}

async function committedTotal(kafka: KafkaMock, topic: string): Promise<bigint> {
  let sum = 0n;
  for (const c of (await kafka.committed('bp', topic)).values()) if (c > 0n) sum += c;
  return sum;
}

/** True while the daemon's last pause/resume line is a pause for a full spool. */
function pausedForFullSpool(d: DaemonProcess): boolean {
  const last = d.logs.findLast((l: LogLine) => l.msg === 'kafka consumer resumed' || String(l.msg).startsWith('kafka consumer paused'));
  return last?.msg === 'kafka consumer paused: spool is full';
}

test('spool full: the consumer pauses with flat memory, commits never pass durability, resumes; a kill while submits wait loses nothing', { timeout: 240_000 }, async () => {
  const kafka = await KafkaMock.start(1);
  const es = await ElasticsearchEndpoint.start({ retain: false });
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-kafka-bp-'));
  const running: DaemonProcess[] = [];
  try {
    const topic = 'bp';
    await kafka.createTopic(topic);
    const msgs: ProducedMessage[] = [];
    for (let i = 0; i < TOTAL; i++) msgs.push(message(i));
    await kafka.produce(topic, msgs);
    for (const m of (await kafka.watermarks(topic)).values()) assert.equal(m.low, 0n, 'the whole backlog is in the topic');

    es.rejectAll = { status: 503 };
    const config = (spool: string) =>
      kafkaConfig(
        dir,
        { brokers: kafka.brokers, topic, groupId: 'bp', settings: { max_bytes_per_partition: '64KiB', max_bytes: '256KiB' } },
        {
          spool: `spool: ${spool}`,
          sink: `  es: { type: elasticsearch, encoding: canonical, endpoint: "${es.url}", batch: { max_events: 500, timeout: 20ms }, retry: { min_delay_ms: 20, max_delay_ms: 200 } }`,
        },
      );
    const file = config('{ max_size: 256KiB, segment_size: 32KiB }');

    // 1. Stalled sink: the spool fills, the consumer pauses.
    const d1 = new DaemonProcess(['run', '--config', file]);
    running.push(d1);
    const url = await d1.url();
    await d1.waitForLog('kafka partitions assigned', 60_000);
    const rssStart = await metric(url, 'agent_audit_process_resident_memory_bytes');
    const paused = await d1.waitForLog('kafka consumer paused: spool is full', 60_000);
    assert.ok(Number(paused.inflight) > 0, 'submits were waiting in front of the full spool when it paused (read, not durable)');
    // Submits that had passed the spool's gate before it filled still finish (the limit is soft
    // by at most the in-flight batches, bounded below); on a loaded machine that can take
    // seconds. Wait until they settled, then nothing more may become durable.
    let settled = -1;
    await waitFor('in-flight submits settled', async () => {
      const before = await metric(url, 'agent_audit_source_events_total', 'source="gw"');
      await new Promise((r) => setTimeout(r, 1500));
      const after = await metric(url, 'agent_audit_source_events_total', 'source="gw"');
      settled = after;
      return before === after ? true : undefined;
    }, 30_000, 0);
    assert.ok(settled <= Number(paused.read), 'only what was read before the pause became durable');
    const durable1 = await metric(url, 'agent_audit_source_events_total', 'source="gw"');
    const rss1 = await metric(url, 'agent_audit_process_resident_memory_bytes');
    await new Promise((r) => setTimeout(r, 3000));
    const durable2 = await metric(url, 'agent_audit_source_events_total', 'source="gw"');
    const rss2 = await metric(url, 'agent_audit_process_resident_memory_bytes');
    assert.equal(durable2, durable1, 'nothing more becomes durable while the spool is full');
    // Read when it paused: what was durable then (≤ durable1) plus at most the submits in flight,
    // max_inflight_batches (4) × batch_records (500).
    assert.ok(Number(paused.read) <= durable1 + 4 * 500, `read ahead of the spool at most the in-flight bound (read ${String(paused.read)}, durable ${durable1})`);
    assert.ok(durable1 < TOTAL / 10, `the spool bounded what was taken in (${durable1} events)`);
    assert.ok(rss2 - rss1 < 32 * 2 ** 20, `memory stays flat while paused (${rss1} → ${rss2} bytes)`);
    assert.ok(rss2 - rssStart < 96 * 2 ** 20, `far below the ~80 MB backlog (${rssStart} → ${rss2} bytes)`);
    assert.ok(!d1.logs.some((l) => l.msg === 'kafka consumer resumed'));
    assert.ok((await committedTotal(kafka, topic)) <= BigInt(durable2), 'committed offsets never pass what is durable');
    const lag = await metric(url, 'agent_audit_source_lag', 'source="gw"');
    assert.ok(lag >= TOTAL - durable2, `lag counts what is not acknowledged (${lag})`);

    // 2. The sink recovers: the spool drains, the consumer resumes and makes progress.
    es.rejectAll = undefined;
    await d1.waitForLog('kafka consumer resumed', 60_000);
    await waitFor('progress after resuming', async () => ((await metric(url, 'agent_audit_source_events_total', 'source="gw"')) > durable2 + 5_000 ? true : undefined), 60_000, 100);

    // 3. Stalled again; SIGKILL while submits wait in front of the full spool.
    es.rejectAll = { status: 503 };
    let durable3 = -1;
    await waitFor('paused in front of the full spool, nothing becoming durable', async () => {
      if (!pausedForFullSpool(d1)) return undefined;
      const before = await metric(url, 'agent_audit_source_events_total', 'source="gw"');
      await new Promise((r) => setTimeout(r, 300));
      const now = await metric(url, 'agent_audit_source_events_total', 'source="gw"');
      if (now !== before || !pausedForFullSpool(d1)) return undefined;
      durable3 = now;
      return true;
    }, 60_000, 50);
    const exit = d1.exited;
    d1.kill('SIGKILL');
    await exit;
    const committed = await committedTotal(kafka, topic);
    assert.ok(committed > 0n, 'durable progress was committed');
    assert.ok(committed <= BigInt(durable3), `committed ${committed} ≤ durable ${durable3}`);
    assert.ok(committed < BigInt(TOTAL));

    // 4. Restart with a working sink (and room to move fast): every message arrives, the ones
    // in flight at the kill too.
    config('{ max_size: 64MiB, segment_size: 4MiB }');
    es.rejectAll = undefined;
    const d2 = new DaemonProcess(['run', '--config', file]);
    running.push(d2);
    await waitFor(`${TOTAL} documents in Elasticsearch`, () => (es.docs(INDEX).size >= TOTAL ? true : undefined), 180_000, 250);
    assert.equal(es.docs(INDEX).size, TOTAL, 'every message delivered exactly once by _id');
    process.stdout.write(`# kafka backpressure: paused with ${durable1} events durable, rss ${Math.round(rss1 / 2 ** 20)} → ${Math.round(rss2 / 2 ** 20)} MiB; killed with ${committed} committed ≤ ${durable3} durable\n`);
  } finally {
    for (const d of running) if (d.child.exitCode === null && d.child.signalCode === null) d.kill('SIGKILL');
    await Promise.all(running.map((d) => d.exited));
    await es.close();
    await kafka.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
