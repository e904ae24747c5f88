import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { CompressionTypes, Kafka, logLevel, type Admin, type Producer } from 'kafkajs';

// A Kafka cluster for tests: librdkafka's mock cluster in a helper process (see
// kafka-mock-broker.ts), plus kafkajs admin/producer helpers that talk to it over the real
// protocol. What the mock does not implement, and how the tests live with it:
// - CreateTopics is not implemented: topics are created by a Metadata request (auto-create),
//   always with the mock's fixed default of 4 partitions (librdkafka hard-codes it; node-rdkafka
//   does not expose rd_kafka_mock_topic_create).
// - LeaveGroup v3 (what kafkajs sends) is advertised but decoded as v0-v2 (librdkafka PR #5248
//   is open), so a member that stops is removed only by the session timeout.
// - No SASL and no TLS listeners (kafka-auth-front.ts puts both in front of a one-broker mock).
// - Each partition keeps at most 5 MiB of record batches (older ones are deleted, as retention
//   would): tests produce gzip-compressed batches so that nothing is gone before it is read.

const HELPER = new URL('./kafka-mock-broker.ts', import.meta.url).pathname;

export interface ProducedMessage {
  readonly partition: number;
  readonly value: string | Buffer;
  readonly key?: string;
  readonly headers?: Record<string, string>;
}

export class KafkaMock {
  readonly brokers: readonly string[];
  private readonly child: ChildProcess;
  private readonly kafka: Kafka;
  private adminClient: Admin | undefined;
  private producerClient: Producer | undefined;

  private constructor(child: ChildProcess, brokers: readonly string[]) {
    this.child = child;
    this.brokers = brokers;
    this.kafka = new Kafka({ clientId: 'agent-audit-test', brokers: [...brokers], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
  }

  static async start(brokerCount = 3): Promise<KafkaMock> {
    const child = spawn(process.execPath, [HELPER, String(brokerCount)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const lines = createInterface({ input: child.stdout! });
    const first = await Promise.race([
      once(lines, 'line').then(([l]) => l as string),
      once(child, 'exit').then(() => {
        throw new Error(`mock Kafka cluster exited before announcing its address: ${stderr}`);
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`mock Kafka cluster did not start: ${stderr}`)), 30_000).unref()),
    ]);
    const { bootstrap } = JSON.parse(first) as { bootstrap: string };
    return new KafkaMock(child, bootstrap.split(','));
  }

  async admin(): Promise<Admin> {
    if (!this.adminClient) {
      this.adminClient = this.kafka.admin();
      await this.adminClient.connect();
    }
    return this.adminClient;
  }

  /**
   * Creates the topic by a producer's Metadata request (the admin client never auto-creates);
   * the mock gives it 4 partitions (see above). Returns its partition count.
   */
  async createTopic(topic: string): Promise<number> {
    await (await this.producer()).send({ topic, messages: [] });
    const admin = await this.admin();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  }

  private async producer(): Promise<Producer> {
    if (!this.producerClient) {
      this.producerClient = this.kafka.producer({ allowAutoTopicCreation: true });
      await this.producerClient.connect();
    }
    return this.producerClient;
  }

  async produce(topic: string, messages: readonly ProducedMessage[], options: { chunk?: number; compression?: CompressionTypes } = {}): Promise<void> {
    const chunk = options.chunk ?? 2000;
    const producer = await this.producer();
    for (let i = 0; i < messages.length; i += chunk) {
      const slice = messages.slice(i, i + chunk);
      await producer.sendBatch({
        acks: -1,
        compression: options.compression ?? CompressionTypes.GZIP,
        topicMessages: [{ topic, messages: slice.map((m) => ({ partition: m.partition, value: m.value, ...(m.key !== undefined ? { key: m.key } : {}), ...(m.headers ? { headers: m.headers } : {}) })) }],
      });
    }
  }

  /** Committed offset per partition for the group (-1: none). */
  async committed(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const admin = await this.admin();
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  }

  /** High watermark per partition. */
  async highWatermarks(topic: string): Promise<Map<number, bigint>> {
    return new Map([...(await this.watermarks(topic))].map(([p, w]) => [p, w.high]));
  }

  /** Log start (low) and end (high) offset per partition. */
  async watermarks(topic: string): Promise<Map<number, { low: bigint; high: bigint }>> {
    const admin = await this.admin();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
  }

  async close(): Promise<void> {
    await this.producerClient?.disconnect().catch(() => undefined);
    await this.adminClient?.disconnect().catch(() => undefined);
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.stdin!.end();
      this.child.kill('SIGTERM');
      await exited;
    }
  }
}
