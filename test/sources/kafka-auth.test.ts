import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceBlock } from '../../src/config/types.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { RawRecord } from '../../src/core/raw-record.ts';
import type { SourceContext, SubmitResult } from '../../src/core/source.ts';
import { kafkaSourceOptions } from '../../src/sources/kafka/config.ts';
import { KafkaSource } from '../../src/sources/kafka/source.ts';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';
import { KafkaAuthFront, type SaslMechanismName } from '../support/kafka-auth-front.ts';
import { KafkaMock } from '../support/kafka-mock.ts';
import { countByRequest, gatewayMessages, kafkaConfig, missingRequests, readDelivered, waitFor } from '../support/kafka-fixtures.ts';

// TLS (with client certificates) and SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 end to end:
// kafkajs, configured from the source's settings, does the real TLS handshake and the real SASL
// exchange with a broker front (test/support/kafka-auth-front.ts: the mock has neither) that
// checks the certificate and the password (the SCRAM proof per RFC 5802) and forwards the
// rest to the mock broker. Secrets come from ${file:} and ${ENV} and never show in the log.

const TLS = new URL('../fixtures/kafka-tls/', import.meta.url).pathname;
const pem = (name: string) => readFileSync(join(TLS, name));
const PASSWORD = 'kafka-sasl-Pa55word-canary';
const KEY_PASSPHRASE = 'client-key-pass';

async function setup(mechanisms: readonly SaslMechanismName[], requireClientCert: boolean) {
  const kafka = await KafkaMock.start(1);
  await kafka.createTopic('secure');
  await kafka.produce('secure', gatewayMessages(0, 200, [0, 1, 2, 3]));
  const front = await KafkaAuthFront.start({
    upstream: kafka.brokers[0]!,
    tls: { key: pem('server.key'), cert: pem('server.pem'), ca: pem('ca.pem'), requireClientCert },
    sasl: { mechanisms, users: { 'agent-audit': PASSWORD } },
  });
  return { kafka, front };
}

test('mutual TLS + SASL SCRAM-SHA-512 through the real daemon, secrets from ${file:} and ${ENV}, none of them logged', { timeout: 120_000 }, async () => {
  const { kafka, front } = await setup(['SCRAM-SHA-512', 'PLAIN'], true);
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-kafka-auth-'));
  try {
    writeFileSync(join(dir, 'kafka-password'), `${PASSWORD}\n`);
    const settings = `    sasl: { mechanism: scram-sha-512, username: agent-audit, password: "\${file:${dir}/kafka-password}" }
    tls: { ca_file: ${TLS}ca.pem, cert_file: ${TLS}client.pem, key_file: ${TLS}client.key, key_password: "\${KAFKA_KEY_PASSPHRASE}" }`;
    const file = kafkaConfig(dir, { brokers: [front.address], topic: 'secure', groupId: 'secure' });
    writeFileSync(file, readFileSync(file, 'utf8').replace('    group_id: secure\n', `    group_id: secure\n${settings}\n`));
    const run = await runCli(['run', '--once', '--config', file], { KAFKA_KEY_PASSPHRASE: KEY_PASSPHRASE });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.deepEqual(missingRequests(countByRequest(readDelivered(join(dir, 'out', 'events.jsonl'))), 0, 200), []);
    assert.ok(front.authentications.length > 0);
    assert.ok(front.authentications.every((a) => a.ok && a.mechanism === 'SCRAM-SHA-512' && a.user === 'agent-audit' && a.clientCert === 'agent-audit-client'), JSON.stringify(front.authentications));
    for (const secret of [PASSWORD, KEY_PASSPHRASE]) assert.ok(!run.stderr.includes(secret) && !run.stdout.includes(secret), 'a secret reached the log');

    // A wrong password: refused by the broker, retried, said clearly, never echoed.
    writeFileSync(join(dir, 'kafka-password'), 'wrong-password-canary');
    const d = new DaemonProcess(['run', '--config', file], { KAFKA_KEY_PASSPHRASE: KEY_PASSPHRASE });
    try {
      const line = await d.waitForLog(/retrying$/, 60_000);
      assert.match(String(line.err), /SASL SCRAM SHA512 authentication failed/);
      assert.ok(front.authentications.some((a) => !a.ok));
      assert.ok(!d.stderrText.includes('wrong-password-canary') && !d.stderrText.includes(KEY_PASSPHRASE));
    } finally {
      d.kill('SIGKILL');
      await d.exited;
    }
  } finally {
    await front.close();
    await kafka.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Takes every record at once (durable at once). */
class CollectingContext implements SourceContext {
  readonly logger = silentLogger;
  readonly dataDir = tmpdir();
  readonly records: RawRecord[] = [];
  async submit(records: readonly RawRecord[]): Promise<SubmitResult> {
    this.records.push(...records);
    return { events: records.length, deadLetters: 0, rejectedRecords: [] };
  }
  async deadLetter(): Promise<void> {}
  isFull(): boolean {
    return false;
  }
  async whenWritable(): Promise<void> {}
}

for (const mechanism of ['plain', 'scram-sha-256'] as const) {
  test(`TLS + SASL ${mechanism}: the source authenticates and consumes`, { timeout: 120_000 }, async () => {
    const upper = mechanism.toUpperCase() as SaslMechanismName;
    const { kafka, front } = await setup([upper], false);
    const ctx = new CollectingContext();
    const block = { type: 'kafka', format: 'auto', payload_mode: 'hash', brokers: [front.address], topics: ['secure'], group_id: `g-${mechanism}`, sasl: { mechanism, username: 'agent-audit', password: PASSWORD }, session_timeout: '6s', max_wait: '200ms', tls: { ca_file: join(TLS, 'ca.pem') } };
    const src = new KafkaSource('k', kafkaSourceOptions('k', block as unknown as SourceBlock), silentLogger);
    try {
      await src.start(ctx);
      await waitFor('200 messages', () => (ctx.records.length >= 200 ? true : undefined), 60_000, 50);
      assert.equal(new Set(ctx.records.map((r) => r.bytes.toString())).size, 200);
      assert.ok(front.authentications.length > 0 && front.authentications.every((a) => a.ok && a.mechanism === upper));
    } finally {
      await src.stop();
      await front.close();
      await kafka.close();
    }
  });
}
