import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from '../support/daemon-process.ts';
import { KafkaMock } from '../support/kafka-mock.ts';
import { countByRequest, gatewayMessages, kafkaConfig, missingRequests, readDelivered, waitFor, type DeliveredEvent } from '../support/kafka-fixtures.ts';

// Two real daemons in one consumer group: they split the partitions and together deliver
// everything; when one dies its partitions move to the other; when a member joins while
// messages flow, the partitions taken from the busy member (in-flight work dropped, what was
// durable committed) are re-read by the new owner: nothing is lost, duplicates stay bounded.

const ALL = [0, 1, 2, 3];
const SETTINGS = { session_timeout: '6s', heartbeat_interval: '500ms' };

function lastAssignment(d: DaemonProcess): string[] | undefined {
  for (let i = d.logs.length - 1; i >= 0; i--) if (d.logs[i]!.msg === 'kafka partitions assigned') return d.logs[i]!.assigned as string[];
  return undefined;
}

function partitionsOf(events: readonly DeliveredEvent[]): Set<number> {
  return new Set(events.map((e) => e.partition));
}

// librdkafka's mock completes a sync as soon as the leader's SyncGroup has assigned every
// member, so a follower whose SyncGroup arrives after the leader's gets INVALID_REQUEST (a real
// coordinator answers with the assignment). kafkajs treats it as fatal; the source then starts
// a new consumer. That crash, followed by a new assignment, is the only error tolerated here.
const MOCK_SYNC_RACE = /request being malformed/;

function assertNoCrash(d: DaemonProcess, who: string): void {
  const bad = d.logs.filter((l) => (l.level === 'error' || l.level === 'fatal') && !(l.msg === 'kafka consumer crashed; starting a new one' && MOCK_SYNC_RACE.test(String(l.err))));
  assert.deepEqual(bad.map((l) => `${String(l.msg)}: ${String(l.err ?? '')}`), [], `${who} logged errors`);
  assert.equal(d.child.exitCode, null, `${who} is still running`);
  const lastCrash = d.logs.findLastIndex((l) => l.msg === 'kafka consumer crashed; starting a new one');
  const lastJoin = d.logs.findLastIndex((l) => l.msg === 'kafka partitions assigned');
  assert.ok(lastCrash < lastJoin, `${who} recovered from its last consumer crash`);
}

test('two daemons in one group split the partitions, take over from each other, and together deliver everything', { timeout: 300_000 }, async () => {
  const kafka = await KafkaMock.start(3);
  const root = mkdtempSync(join(tmpdir(), 'agent-audit-kafka-group-'));
  const dirA = join(root, 'a');
  const dirB = join(root, 'b');
  mkdirSync(dirA);
  mkdirSync(dirB);
  const topic = 'agent-logs';
  const running: DaemonProcess[] = [];
  const start = (file: string) => {
    const d = new DaemonProcess(['run', '--config', file]);
    running.push(d);
    return d;
  };
  try {
    assert.equal(await kafka.createTopic(topic), 4);
    const fileA = kafkaConfig(dirA, { brokers: kafka.brokers, topic, groupId: 'audit', settings: SETTINGS });
    const fileB = kafkaConfig(dirB, { brokers: kafka.brokers, topic, groupId: 'audit', settings: SETTINGS });
    const outA = join(dirA, 'out', 'events.jsonl');
    const outB = join(dirB, 'out', 'events.jsonl');
    const union = () => countByRequest([...readDelivered(outA), ...readDelivered(outB)]);

    // 1. Both members: two partitions each, disjoint.
    const a = start(fileA);
    let b = start(fileB);
    await waitFor('a split of the partitions', () => {
      const pa = lastAssignment(a);
      const pb = lastAssignment(b);
      return pa?.length === 2 && pb?.length === 2 && new Set([...pa, ...pb]).size === 4 ? true : undefined;
    }, 90_000, 100);
    const assignedA = lastAssignment(a)!;
    const assignmentsBefore = a.logs.length;
    await kafka.produce(topic, gatewayMessages(0, 20_000, ALL));
    await waitFor('20,000 events from the two daemons', () => (union().size >= 20_000 ? true : undefined), 120_000, 200);
    const evA = readDelivered(outA);
    const evB = readDelivered(outB);
    assert.deepEqual(missingRequests(union(), 0, 20_000), []);
    assert.ok(evA.length > 0 && evB.length > 0, `both delivered (a ${evA.length}, b ${evB.length})`);
    const stable = !a.logs.slice(assignmentsBefore).some((l) => l.msg === 'kafka partitions assigned');
    assert.ok(stable, 'no rebalance while the first 20,000 flowed');
    assert.deepEqual([...partitionsOf(evA)].sort().map((p) => `${topic}/${p}`), [...assignedA].sort(), 'daemon a read exactly its partitions');
    assert.equal([...partitionsOf(evB)].filter((p) => partitionsOf(evA).has(p)).length, 0, 'no partition read by both');
    assert.equal(evA.length + evB.length, 20_000, 'without a rebalance nothing is read twice');

    // 2. b dies: its partitions move to a (after the session timeout: b never left).
    const gone = b.exited;
    b.kill('SIGKILL');
    await gone;
    await waitFor('a owns every partition', () => (lastAssignment(a)?.length === 4 ? true : undefined), 60_000, 100);
    await kafka.produce(topic, gatewayMessages(20_000, 25_000, ALL));
    await waitFor('the next 5,000 events', () => (missingRequests(union(), 20_000, 25_000, 1).length === 0 ? true : undefined), 120_000, 200);
    assert.equal(partitionsOf(readDelivered(outA).filter((e) => Number(e.requestId.slice(4)) >= 20_000)).size, 4, 'a read all four partitions');

    // 3. b comes back while messages flow: a loses two partitions mid-stream.
    const producing = (async () => {
      for (let i = 25_000; i < 45_000; i += 1_000) {
        await kafka.produce(topic, gatewayMessages(i, i + 1_000, ALL));
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    await new Promise((r) => setTimeout(r, 400));
    b = start(fileB);
    await producing;
    await waitFor('a and b split the partitions again', () => (lastAssignment(a)?.length === 2 && lastAssignment(b)?.length === 2 ? true : undefined), 90_000, 100);
    await waitFor('every event of the stream', () => (missingRequests(union(), 25_000, 45_000, 1).length === 0 ? true : undefined), 120_000, 200);
    const seen = union();
    assert.deepEqual(missingRequests(seen, 0, 45_000), [], 'nothing lost across deaths and rebalances');
    let delivered = 0;
    for (const n of seen.values()) delivered += n;
    const duplicates = delivered - 45_000;
    // Re-read by the new owner at most what was in flight or durable but not yet committed
    // at the kill and at the rebalance (a few submits per partition).
    assert.ok(duplicates <= 15_000, `too many duplicates: ${duplicates}`);
    assertNoCrash(a, 'daemon a');
    assertNoCrash(b, 'daemon b');
    // Together they committed everything.
    await waitFor('offsets committed to the end', async () => {
      const [committed, hw] = await Promise.all([kafka.committed('audit', topic), kafka.highWatermarks(topic)]);
      return ALL.every((p) => committed.get(p) === hw.get(p)) ? true : undefined;
    }, 30_000, 200);
    process.stdout.write(`# kafka group: ${delivered} events for 45000 messages (${duplicates} duplicates over one kill and two rebalances)\n`);
  } finally {
    for (const d of running) if (d.child.exitCode === null && d.child.signalCode === null) d.kill('SIGKILL');
    await Promise.all(running.map((d) => d.exited));
    await kafka.close();
    rmSync(root, { recursive: true, force: true });
  }
});
