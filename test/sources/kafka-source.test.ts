import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceBlock } from '../../src/config/types.ts';
import { ConfigError, StorageError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import type { RawRecord } from '../../src/core/raw-record.ts';
import type { SourceContext, SubmitResult } from '../../src/core/source.ts';
import { kafkaClientConfig } from '../../src/sources/kafka/client.ts';
import { kafkaSourceOptions } from '../../src/sources/kafka/config.ts';
import { PartitionProgress } from '../../src/sources/kafka/partition-progress.ts';
import { messageRecord } from '../../src/sources/kafka/records.ts';
import { KafkaSource } from '../../src/sources/kafka/source.ts';
import { KafkaMock } from '../support/kafka-mock.ts';
import { gatewayMessages, waitFor } from '../support/kafka-fixtures.ts';

// The Kafka source's own rules, checked precisely: its pieces in isolation, then the source
// against the mock broker with a pipeline whose submits the test completes by hand (which
// submit becomes durable when), so the exact commit after each step can be asserted.

function block(extra: Record<string, unknown> = {}): SourceBlock {
  return { type: 'kafka', format: 'auto', payload_mode: 'hash', brokers: ['127.0.0.1:9092'], topics: ['t'], group_id: 'g', ...extra } as SourceBlock;
}

test('partition progress: the commit follows submits in fetch order, across offset gaps, and forgets submits on reset', () => {
  const p = new PartitionProgress('t', 0);
  const a = p.add(0n, 99n);
  const b = p.add(100n, 199n);
  const c = p.add(205n, 300n); // a gap (compaction) is no hole in the fetch order
  assert.equal(p.toCommit(), undefined);
  assert.equal(b.durable(), false, 'b alone is not contiguous with the start');
  assert.equal(p.toCommit(), undefined);
  assert.equal(a.durable(), true);
  assert.equal(p.toCommit(), 200n, 'a and b are durable: commit past b');
  p.committed = 200n;
  assert.equal(p.toCommit(), undefined, 'nothing new');
  const d = p.add(301n, 310n);
  assert.equal(p.resumePoint(), 200n);
  p.reset();
  assert.equal(c.current(), false);
  assert.equal(c.durable(), false, 'a submit from before the reset never counts');
  assert.equal(d.durable(), false);
  assert.equal(p.toCommit(), undefined);
  const e = p.add(200n, 250n);
  assert.equal(e.durable(), true);
  assert.equal(p.toCommit(), 251n);
});

test('config: defaults, ^patterns, TLS files read, errors name the setting', () => {
  const o = kafkaSourceOptions('k', block({ topics: ['plain', '^agents\\..+'], sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'hunter2-secret' } }));
  assert.deepEqual(o.topics.names, ['plain']);
  assert.equal(o.topics.patterns[0]!.test('agents.claude'), true);
  assert.equal(o.topics.patterns[0]!.test('plain'), false);
  assert.equal(o.startAt, 'earliest');
  assert.equal(o.sessionTimeoutMs, 30_000);
  assert.equal(o.heartbeatIntervalMs, 3_000);
  assert.equal(o.maxBytesPerPartition, 1024 * 1024);
  assert.equal(o.commitIntervalMs, 1000);
  assert.equal(o.sasl?.mechanism, 'scram-sha-512');
  assert.throws(() => kafkaSourceOptions('k', block({ topics: ['^(unclosed'] })), (e: unknown) => e instanceof ConfigError && /sources\.k\.topics\[0\]/.test(e.message));
  assert.throws(() => kafkaSourceOptions('k', block({ session_timeout: '3s', heartbeat_interval: '3s' })), /heartbeat_interval must be shorter than session_timeout/);

  const dir = mkdtempSync(join(tmpdir(), 'kafka-tls-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), 'CA-PEM');
    writeFileSync(join(dir, 'cert.pem'), 'CERT-PEM');
    writeFileSync(join(dir, 'key.pem'), 'KEY-PEM-SECRET');
    const t = kafkaSourceOptions('k', block({ tls: { ca_file: join(dir, 'ca.pem'), cert_file: join(dir, 'cert.pem'), key_file: join(dir, 'key.pem'), key_password: 'pw', server_name: 'kafka.internal' } })).tls!;
    assert.equal(t.ca?.toString(), 'CA-PEM');
    assert.equal(t.cert?.toString(), 'CERT-PEM');
    assert.equal(t.key?.toString(), 'KEY-PEM-SECRET');
    assert.equal(t.passphrase, 'pw');
    assert.equal(t.servername, 'kafka.internal');
    assert.equal(t.rejectUnauthorized, true);
    assert.throws(() => kafkaSourceOptions('k', block({ tls: { cert_file: join(dir, 'cert.pem') } })), /cert_file and key_file go together/);
    assert.throws(
      () => kafkaSourceOptions('k', block({ tls: { ca_file: join(dir, 'missing.pem') } })),
      (e: unknown) => e instanceof ConfigError && e.message.includes('sources.k.tls.ca_file') && e.message.includes('ENOENT'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('client config: TLS and SASL reach kafkajs; kafkajs log lines come out as ours without nested context', () => {
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const logger: Logger = {
    info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
    debug: (obj, msg) => lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }),
    child: () => logger,
  };
  const o = kafkaSourceOptions('k', block({ sasl: { mechanism: 'plain', username: 'u', password: 'pw-secret' }, tls: { insecure_skip_verify: true } }));
  const c = kafkaClientConfig(o, logger);
  assert.deepEqual(c.sasl, { mechanism: 'plain', username: 'u', password: 'pw-secret' });
  assert.deepEqual(c.ssl, { rejectUnauthorized: false });
  assert.equal(c.clientId, 'agent-audit');
  const log = c.logCreator!(0);
  log({ namespace: 'Connection', level: 1, label: 'ERROR', log: { timestamp: 'x', message: 'Response Heartbeat', broker: 'b:9092', request: { nested: 'dropped' }, stack: 'trace' } });
  assert.equal(lines[0]!.level, 'warn');
  assert.equal(lines[0]!.msg, 'Response Heartbeat');
  assert.deepEqual(lines[0]!.obj, { kafkajs: 'Connection', broker: 'b:9092' });
});

test('message → raw record: value bytes, topic/partition/offset, headers and key as meta', () => {
  const r = messageRecord('gw', 'logs', 3, {
    key: Buffer.from('tenant-a'),
    value: Buffer.from('{"a":1}'),
    timestamp: '1767225600000',
    attributes: 0,
    offset: '42',
    headers: { 'x-agent-id': Buffer.from('bot-1'), 'x-bin': Buffer.from([0xff, 0xfe]), 'x-multi': [Buffer.from('a'), 'b'] },
  }, 'generic_gateway', 5);
  assert.deepEqual(r.position, { kind: 'kafka', topic: 'logs', partition: 3, offset: '42' });
  assert.equal(r.bytes.toString(), '{"a":1}');
  assert.equal(r.format, 'generic_gateway');
  assert.equal(r.input, 'kafka');
  assert.deepEqual(r.meta, { 'x-agent-id': 'bot-1', 'x-bin': 'base64://4=', 'x-multi': 'a, b', 'kafka.key': 'tenant-a', 'kafka.timestamp': '1767225600000' });
  const tomb = messageRecord('gw', 'logs', 0, { key: null, value: null, timestamp: '-1', attributes: 0, offset: '7', headers: {} }, undefined, 5);
  assert.equal(tomb.bytes.length, 0, 'a tombstone is an empty record (the pipeline dead-letters it)');
  assert.equal(tomb.meta, undefined, 'no headers, no key, no timestamp (-1): no meta');
});

/** The pipeline side, with the test deciding when each submit is durable. */
class GatedContext implements SourceContext {
  readonly logger = silentLogger;
  readonly dataDir = tmpdir();
  readonly pending: { records: readonly RawRecord[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  readonly all: RawRecord[][] = [];
  async submit(records: readonly RawRecord[]): Promise<SubmitResult> {
    this.all.push([...records]);
    await new Promise<void>((resolve, reject) => this.pending.push({ records, resolve, reject }));
    return { events: records.length, deadLetters: 0, rejectedRecords: [] };
  }
  async deadLetter(): Promise<void> {}
  isFull(): boolean {
    return false;
  }
  async whenWritable(): Promise<void> {}
  /** The pending submit holding `offset` of partition `p`. */
  holding(p: number, offset: number): { records: readonly RawRecord[]; resolve: () => void; reject: (e: Error) => void } {
    const s = this.pending.find((x) => x.records.some((r) => r.position.kind === 'kafka' && r.position.partition === p && Number(r.position.offset) === offset));
    assert.ok(s, `a pending submit holds ${p}@${offset}`);
    return s;
  }
  pendingRecords(): number {
    return this.pending.reduce((n, s) => n + s.records.length, 0);
  }
}

function offsetsOf(records: readonly RawRecord[]): number[] {
  return records.map((r) => (r.position.kind === 'kafka' ? Number(r.position.offset) : -1));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keeps the source's log lines (assignments); KAFKA_TEST_LOG=1 also prints them (diagnosing a failure). */
function testLogger(name: string, lines: Record<string, unknown>[] = []): Logger {
  const line = (level: string) => (obj: object, msg?: string) => {
    const l = { t: new Date().toISOString(), level, src: name, msg, ...obj };
    lines.push(l);
    if (process.env.KAFKA_TEST_LOG) process.stderr.write(`${JSON.stringify(l)}\n`);
  };
  const l: Logger = { info: line('info'), warn: line('warn'), error: line('error'), debug: () => {}, child: () => l };
  return l;
}

/** Partitions of the source's last assignment, from its log. */
function lastAssigned(lines: readonly Record<string, unknown>[]): number[] | undefined {
  const l = lines.findLast((x) => x.msg === 'kafka partitions assigned');
  return l ? (l.assigned as string[]).map((a) => Number(a.slice(a.lastIndexOf('/') + 1))).sort() : undefined;
}

function source(kafka: KafkaMock, topic: string, group: string, extra: Record<string, unknown> = {}, name = 'gw', lines: Record<string, unknown>[] = []): KafkaSource {
  return new KafkaSource(
    'gw',
    kafkaSourceOptions('gw', block({ brokers: kafka.brokers, topics: [topic], group_id: group, session_timeout: '4s', heartbeat_interval: '300ms', max_wait: '200ms', commit_interval: '100ms', lag_interval: '200ms', batch_records: 500, max_inflight_batches: 8, stop_timeout: '2s', ...extra })),
    testLogger(name, lines),
  );
}

test('against the broker: offsets are committed only past durable submits, in order; a failed submit is read again; stop commits what is durable', { timeout: 120_000 }, async () => {
  const kafka = await KafkaMock.start(1);
  const ctx = new GatedContext();
  const src = source(kafka, 'ordered', 'ordered');
  const committed = async () => (await kafka.committed('ordered', 'ordered')).get(0);
  try {
    await kafka.createTopic('ordered');
    await kafka.produce('ordered', gatewayMessages(0, 3000, [0]));
    await src.start(ctx);
    await waitFor('all 3,000 messages handed over', () => (ctx.pendingRecords() === 3000 ? true : undefined), 60_000, 20);
    const s0 = ctx.holding(0, 0);
    const s1 = ctx.holding(0, 500);
    const s2 = ctx.holding(0, 1000);
    const s3 = ctx.holding(0, 1500);
    assert.deepEqual(offsetsOf(s1.records).slice(0, 1), [500]);

    s1.resolve();
    await sleep(600);
    assert.equal(await committed(), -1n, 'a later submit alone commits nothing');
    s0.resolve();
    await waitFor('commit past the first two', async () => ((await committed()) === 1000n ? true : undefined), 10_000, 50);
    s3.resolve();
    await sleep(600);
    assert.equal(await committed(), 1000n, 'a gap of one undurable submit holds the commit');

    // The submit at 1000 fails (not durable): the partition is read again from there.
    const before = ctx.all.length;
    s2.reject(new StorageError('disk_failed', 'spool write failed'));
    await waitFor('offset 1000 handed over again', () => (ctx.all.slice(before).some((rs) => offsetsOf(rs)[0] === 1000) ? true : undefined), 20_000, 50);
    assert.equal(await committed(), 1000n, 'nothing past the failed submit was committed');
    // Complete everything that is pending now (the re-read ones included).
    await waitFor('the re-read reaches the end', () => (ctx.all.slice(before).some((rs) => offsetsOf(rs).includes(2999)) ? true : undefined), 20_000, 50);
    for (const s of ctx.pending.splice(0)) s.resolve();
    await waitFor('committed to the end', async () => ((await committed()) === 3000n ? true : undefined), 10_000, 50);
    await waitFor('lag 0', () => (src.stats().lag === 0 ? true : undefined), 10_000, 50);
    assert.equal(src.stats().recordsRead >= 3000, true);
  } finally {
    await src.stop();
  }

  // stop() commits what became durable since the last commit (commit_interval far away).
  const ctx2 = new GatedContext();
  const src2 = source(kafka, 'ordered', 'ordered', { commit_interval: '10m' });
  try {
    await kafka.produce('ordered', gatewayMessages(3000, 3400, [0]));
    await src2.start(ctx2);
    await waitFor('the 400 new messages handed over', () => (ctx2.pendingRecords() === 400 ? true : undefined), 60_000, 20);
    assert.equal(offsetsOf(ctx2.pending[0]!.records)[0], 3000, 'a new member starts at the committed offset');
    for (const s of ctx2.pending.splice(0)) s.resolve();
    await sleep(300);
    assert.equal(await committed(), 3000n, 'not committed yet (commit_interval 10m)');
  } finally {
    await src2.stop();
  }
  assert.equal(await committed(), 3400n, 'stop committed what was durable');
  await kafka.close();
});

test('against the broker: a rebalance drops the revoked partitions\' in-flight work without committing it; the new owner reads it again', { timeout: 120_000 }, async () => {
  const kafka = await KafkaMock.start(1);
  const topic = 'shared';
  const ctxA = new GatedContext();
  const ctxB = new GatedContext();
  const logA: Record<string, unknown>[] = [];
  const logB: Record<string, unknown>[] = [];
  const a = source(kafka, topic, 'shared', {}, 'a', logA);
  const b = source(kafka, topic, 'shared', {}, 'b', logB);
  try {
    await kafka.createTopic(topic);
    await kafka.produce(topic, gatewayMessages(0, 4000, [0, 1, 2, 3]));
    await a.start(ctxA);
    await waitFor('a holds all 4,000', () => (ctxA.pendingRecords() === 4000 ? true : undefined), 60_000, 20);
    // Durable on every partition: the first submit; the rest stays in flight.
    for (const p of [0, 1, 2, 3]) ctxA.holding(p, 0).resolve();
    await waitFor('a committed 500 on every partition', async () => {
      const c = await kafka.committed('shared', topic);
      return [0, 1, 2, 3].every((p) => c.get(p) === 500n) ? true : undefined;
    }, 10_000, 50);

    await b.start(ctxB);
    // The group settles with two partitions each (with the mock's late-SyncGroup deviation a
    // member may crash and come back first: only the final assignment counts). b reads its
    // partitions from the committed offset 500, the work a still holds for them included.
    let bParts: number[] = [];
    await waitFor('a split, b reading its partitions from offset 500', () => {
      const pa = lastAssigned(logA);
      const pb = lastAssigned(logB);
      if (pa?.length !== 2 || pb?.length !== 2 || new Set([...pa, ...pb]).size !== 4) return undefined;
      const fromCommitted = pb.every((p) => ctxB.all.some((rs) => rs[0]!.position.kind === 'kafka' && rs[0]!.position.partition === p && rs[0]!.position.offset === '500'));
      if (!fromCommitted) return undefined;
      bParts = pb;
      return true;
    }, 90_000, 50);
    // a's in-flight work for those partitions becomes durable now, after it lost them: never committed.
    for (const s of ctxA.pending.splice(0)) s.resolve();
    await sleep(800);
    const c = await kafka.committed('shared', topic);
    for (const p of bParts) assert.equal(c.get(p), 500n, `partition ${p}: a does not commit work of a partition it lost`);
    // b's durable progress commits as usual.
    for (const s of ctxB.pending.splice(0)) s.resolve();
    await waitFor('b commits its partitions to the end', async () => {
      const now = await kafka.committed('shared', topic);
      return bParts.every((p) => now.get(p) === 1000n) ? true : undefined;
    }, 10_000, 50);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await kafka.close();
  }
});

test('against the broker: ^patterns pick up topics created later; start_at latest skips what was there', { timeout: 120_000 }, async () => {
  const kafka = await KafkaMock.start(1);
  const ctx = new GatedContext();
  const topicsRead = () => new Set(ctx.all.flat().map((r) => (r.position.kind === 'kafka' ? r.position.topic : '')));
  const src = source(kafka, '^agents\\..+', 'patterns', { topic_refresh_interval: '500ms', start_at: 'latest' });
  const autoResolve = setInterval(() => {
    for (const s of ctx.pending.splice(0)) s.resolve();
  }, 20);
  try {
    await kafka.createTopic('agents.alpha');
    await kafka.createTopic('other');
    await kafka.produce('agents.alpha', gatewayMessages(0, 50, [0]));
    await src.start(ctx);
    await waitFor('joined', () => (src.stats().lag !== undefined ? true : undefined), 60_000, 50);
    assert.equal(ctx.all.length, 0, 'start_at latest: the 50 earlier messages are not read');
    await kafka.produce('agents.alpha', gatewayMessages(50, 60, [1]));
    await kafka.produce('other', gatewayMessages(60, 70, [0]));
    await waitFor('the 10 new messages', () => (ctx.all.flat().length >= 10 ? true : undefined), 30_000, 50);
    // A topic created now matches the pattern: the consumer restarts with it (start_at latest
    // applies to it too, so produce after it is subscribed).
    await kafka.createTopic('agents.beta');
    await waitFor('subscribed to agents.beta', async () => {
      await kafka.produce('agents.beta', gatewayMessages(70, 71, [0]));
      return topicsRead().has('agents.beta') ? true : undefined;
    }, 60_000, 1000);
    assert.deepEqual([...topicsRead()].sort(), ['agents.alpha', 'agents.beta'], 'only matching topics are read');
    assert.ok(!ctx.all.flat().some((r) => r.bytes.toString().includes('"req-0"')), 'nothing from before the start');
  } finally {
    clearInterval(autoResolve);
    await src.stop();
    await kafka.close();
  }
});
