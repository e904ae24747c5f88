import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeadLetterReader } from '../../src/queue/dead-letter-store.ts';
import { runCli } from '../support/daemon-process.ts';
import { KafkaMock, type ProducedMessage } from '../support/kafka-mock.ts';
import { gatewayLine, kafkaConfig } from '../support/kafka-fixtures.ts';

// Bad input through the real daemon: a message that is not JSON and one that is cut off (and
// carries a canary API key) land in the dead-letter queue with topic/partition/offset and the
// reason, the canary redacted; the messages after them are delivered; the partition's offset is
// committed past them once the dead letters are durable. Kafka headers and the key reach the
// mapping as record meta.

const CANARY = 'sk-proj-KafkaCanary0123456789abcdefghijklmnopqrstuvwx';

// A user mapping (mapping_dirs) that reads transport metadata: the agent from a header, the
// tenant from the message key.
const TAGGED_MAPPING = `name: kafka_tagged_gateway
description: gateway records whose agent and tenant travel in Kafka headers and key
product: { name: Tagged gateway, vendor: test }
detect:
  priority: 10
  when: { all: [ { has: request_id } ] }
fields:
  event.time: record.timestamp
  event.request_id: record.request_id
  event.action: { value: llm.call }
  event.outcome: { value: success }
  gen_ai.agent.name: [ 'meta["x-agent-id"]', record.agent ]
  tenant.id: 'meta["kafka.key"]'
`;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

test('unparseable messages go to the dead-letter queue with topic/partition/offset, later ones flow, the offset is committed past them; headers reach mappings', { timeout: 120_000 }, async () => {
  const kafka = await KafkaMock.start(1);
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-kafka-dlq-'));
  try {
    const topic = 'mixed';
    await kafka.createTopic(topic);
    const messages: ProducedMessage[] = [];
    for (let i = 0; i < 100; i++) messages.push({ partition: 1, value: gatewayLine(i), key: 'tenant-a', headers: { 'x-agent-id': 'agent-from-header' } });
    messages.push({ partition: 1, value: 'this is not json {' }); // offset 100
    messages.push({ partition: 1, value: `{"request_id":"req-cut","api_key":"${CANARY}","endpoint":"https://api.openai.com/v1/chat` }); // offset 101
    for (let i = 100; i < 200; i++) messages.push({ partition: 1, value: gatewayLine(i) });
    for (let i = 200; i < 300; i++) messages.push({ partition: 2, value: gatewayLine(i), headers: { 'x-agent-id': 'agent-2' } });
    await kafka.produce(topic, messages);

    const mappings = join(dir, 'mappings');
    mkdirSync(mappings);
    writeFileSync(join(mappings, 'kafka_tagged_gateway.yaml'), TAGGED_MAPPING);
    const file = kafkaConfig(dir, { brokers: kafka.brokers, topic, groupId: 'dlq', settings: { format: 'kafka_tagged_gateway' } }, { extraTop: `mapping_dirs: [${mappings}]` });
    const run = await runCli(['run', '--once', '--config', file]);
    assert.equal(run.code, 0, run.stderr.slice(-3000));

    const lines = readFileSync(join(dir, 'out', 'events.jsonl'), 'utf8').trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { event: { request_id: string }; gen_ai?: { agent?: { name?: string } }; tenant?: { id?: string }; origin: { position: { kafka: { partition: number; offset: string } } } });
    const ids = new Set(events.map((e) => e.event.request_id));
    for (let i = 0; i < 300; i++) assert.ok(ids.has(`req-${i}`), `req-${i} delivered`);
    assert.equal(events.length, 300, 'only the two bad messages are missing from the output');
    const after = events.find((e) => e.event.request_id === 'req-100')!;
    assert.deepEqual(after.origin.position.kafka, { topic, partition: 1, offset: '102' }, 'the message after the bad ones keeps its own position');

    const letters = [...new DeadLetterReader(join(dir, 'state', 'dlq')).letters('ingest')].map((s) => s.letter);
    assert.equal(letters.length, 2);
    const byOffset = new Map(letters.map((l) => [l.position.kind === 'kafka' ? l.position.offset : '', l]));
    const notJson = byOffset.get('100')!;
    const cut = byOffset.get('101')!;
    for (const l of [notJson, cut]) {
      assert.equal(l.source, 'gw');
      assert.equal(l.reason, 'invalid_json');
      assert.ok(l.message.length > 0);
      assert.deepEqual({ ...l.position }, { kind: 'kafka', topic, partition: 1, offset: l.position.kind === 'kafka' ? l.position.offset : '' });
    }
    assert.equal(notJson.raw, 'this is not json {');
    assert.ok(!cut.raw.includes(CANARY), 'the canary is redacted in the dead letter');
    assert.ok(cut.raw.includes('req-cut'), 'the rest of the record is kept for diagnosis');
    for (const f of filesUnder(join(dir, 'state'))) assert.ok(!readFileSync(f).includes(CANARY), `the canary reached ${f}`);

    // Committed past the dead letters: nothing is read again.
    const committed = await kafka.committed('dlq', topic);
    assert.equal(committed.get(1), 202n);
    assert.equal(committed.get(2), 100n);

    // Headers and key as meta.
    const tagged = events.filter((e) => Number(e.event.request_id.slice(4)) < 100);
    assert.ok(tagged.every((e) => e.gen_ai?.agent?.name === 'agent-from-header' && e.tenant?.id === 'tenant-a'));
    assert.ok(events.filter((e) => e.origin.position.kafka.partition === 2).every((e) => e.gen_ai?.agent?.name === 'agent-2' && e.tenant?.id === undefined));
    assert.ok(events.filter((e) => e.event.request_id === 'req-150').every((e) => e.gen_ai?.agent?.name === 'bot-3'), 'without the header the record field is used');
  } finally {
    await kafka.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
