import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';
import { KafkaMock } from '../support/kafka-mock.ts';
import { countByRequest, gatewayMessages, kafkaConfig, lineCount, missingRequests, readDelivered, waitFor } from '../support/kafka-fixtures.ts';

// The Kafka crash test: 50,000 messages across 3 partitions, the real daemon (Kafka
// source → file sink) SIGKILLed mid-way and restarted; afterwards every message is an event at
// least once (by request id, and by the deterministic event id of its topic/partition/offset),
// and the duplicates stay within what can be read but not yet committed at a kill.

const TOTAL = 50_000;
const KILLS = 2;
const PARTITIONS = [0, 1, 2];
// Per kill, read but not committed: submits in flight (max_inflight_batches 4 × batch_records
// 500), the fetch responses kafkajs holds (up to 1 MiB per partition ≈ 3,500 messages each),
// and what became durable within the last commit_interval (200 ms).
const DUPLICATES_PER_KILL = 15_000;

test(`${TOTAL} messages across 3 partitions, SIGKILL ${KILLS}× mid-way: every message becomes an event at least once, duplicates bounded`, { timeout: 300_000 }, async () => {
  const kafka = await KafkaMock.start(3);
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-kafka-crash-'));
  try {
    const topic = 'ai-gateway-logs';
    await kafka.createTopic(topic);
    await kafka.produce(topic, gatewayMessages(0, TOTAL, PARTITIONS));
    const marks = await kafka.watermarks(topic);
    assert.deepEqual(PARTITIONS.map((p) => [Number(marks.get(p)!.low), Number(marks.get(p)!.high)]), [[0, 16_667], [0, 16_667], [0, 16_666]], 'all 50,000 messages are in the topic');
    const hw = new Map([...marks].map(([p, m]) => [p, m.high]));
    const out = join(dir, 'out', 'events.jsonl');
    const file = kafkaConfig(dir, { brokers: kafka.brokers, topic, groupId: 'audit' });

    for (let k = 0; k < KILLS; k++) {
      const before = lineCount(out);
      const d = new DaemonProcess(['run', '--config', file]);
      await d.waitForLog('kafka partitions assigned', 60_000);
      // Mid-way: this run has delivered a good part, but not everything.
      await waitFor('progress before the kill', () => lineCount(out) >= before + 8_000 || undefined, 120_000, 20);
      const exit = d.exited;
      d.kill('SIGKILL');
      const e = await exit;
      assert.equal(e.signal, 'SIGKILL', `daemon ended on its own: ${d.stderrText.slice(-2000)}`);
      assert.ok(countByRequest(readDelivered(out)).size < TOTAL, 'the kill came before everything was delivered');
    }

    const last = await runCli(['run', '--once', '--config', file]);
    assert.equal(last.code, 0, last.stderr.slice(-3000));

    const events = readDelivered(out);
    const seen = countByRequest(events);
    assert.deepEqual(missingRequests(seen, 0, TOTAL), [], 'messages lost across kills');
    assert.equal(seen.size, TOTAL);
    // A redelivered message is recognisable: the same position gives the same event id.
    const idOf = new Map<string, string>();
    for (const ev of events) {
      const known = idOf.get(ev.requestId);
      if (known !== undefined) assert.equal(ev.id, known, `${ev.requestId} delivered twice under different event ids`);
      idOf.set(ev.requestId, ev.id);
      assert.ok(PARTITIONS.includes(ev.partition));
    }
    assert.equal(new Set(idOf.values()).size, TOTAL);
    const duplicates = events.length - TOTAL;
    assert.ok(duplicates <= KILLS * DUPLICATES_PER_KILL, `too many duplicates: ${duplicates}`);
    // The group has committed every partition to its end.
    const committed = await kafka.committed('audit', topic);
    for (const p of PARTITIONS) assert.equal(committed.get(p), hw.get(p), `partition ${p} committed to its end`);
    process.stdout.write(`# kafka crash: ${events.length} events for ${TOTAL} messages (${duplicates} duplicates over ${KILLS} kills)\n`);
  } finally {
    await kafka.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
