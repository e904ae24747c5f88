import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { ShutdownError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { RawRecord } from '../../core/raw-record.ts';
import type { Source, SourceContext, SourceStats } from '../../core/source.ts';
import { createKafkaClient } from './client.ts';
import type { KafkaSourceOptions } from './config.ts';
import { computeLag } from './lag.ts';
import { PartitionProgress, partitionKey } from './partition-progress.ts';
import { messageRecord } from './records.ts';
import { resolveTopics, sameTopics } from './topics.ts';

type PauseReason = 'spool_full' | 'submit_failed' | 'stopping';

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
const SUBMIT_FAILURE_PAUSE_MS = 1000;
const DRAIN_POLL_MS = 200;

/**
 * A Kafka consumer group member (kafkajs). Offsets are committed only for messages whose events
 * (or dead letters) are durable: kafkajs's auto-commit is off, every fetched batch is handed to
 * the pipeline and tracked per partition in fetch order, and what is committed is last + 1 of
 * the newest submit whose predecessors are all durable (several submits may be in flight).
 *
 * Rebalances: when kafkajs learns that the group rebalances, what is durable is committed while
 * the group is still preparing (the coordinator accepts commits of the old generation then);
 * the new assignment starts fresh progress for every partition, because kafkajs reads every
 * assigned partition again from its committed offset: in-flight work of the old assignment may
 * still become durable but is never committed, so the new owner (maybe this member) re-reads it.
 *
 * Backpressure: at most max_inflight_batches submits wait for durability (eachBatch waits for
 * one to finish before handing over more), and while the spool is full the consumer is paused
 * (kafkajs pause/resume): memory holds those submits plus one fetch response per broker, and
 * heartbeats go on meanwhile.
 */
export class KafkaSource implements Source {
  readonly name: string;
  readonly kind = 'kafka' as const;
  private readonly options: KafkaSourceOptions;
  private readonly logger: Logger;
  private readonly kafka: Kafka;
  private ctx: SourceContext | undefined;
  private admin: Admin | undefined;
  private consumer: Consumer | undefined;
  private topics: readonly string[] = [];
  private joined = false;
  /** Progress of the current assignment, by partitionKey. */
  private progress = new Map<string, PartitionProgress>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly pauseReasons = new Set<PauseReason>();
  private consumerPaused = false;
  private waitingForRoom = false;
  private running = false;
  private supervisor: Promise<void> | undefined;
  private endConsumer: ((reason: string) => void) | undefined;
  private wakeSleep: (() => void) | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private committing: Promise<void> | undefined;
  private commitAgain = false;
  private lagTimer: NodeJS.Timeout | undefined;
  private lag: number | undefined;
  private recordsRead = 0;
  private bytesRead = 0;

  constructor(name: string, options: KafkaSourceOptions, logger: Logger) {
    this.name = name;
    this.options = options;
    this.logger = logger;
    this.kafka = createKafkaClient(options, logger);
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.running = true;
    // Connecting happens in the background: a broker outage at start-up must not keep the
    // daemon (and its other sources) from running; the supervisor retries with backoff.
    this.supervisor = this.supervise().catch((err: unknown) => this.logger.error({ err: errorText(err) }, 'kafka source stopped on an error'));
    this.lagTimer = setInterval(() => void this.refreshLag(), this.options.lagIntervalMs);
    this.lagTimer.unref();
  }

  /** Runs one consumer after another: a crash that kafkajs does not restart, or a change of the matched topics, starts a new one. */
  private async supervise(): Promise<void> {
    let backoff = RETRY_MIN_MS;
    let warnedNoTopics = false;
    while (this.running) {
      let topics: string[];
      try {
        topics = await resolveTopics(this.options.topics, () => this.adminClient());
      } catch (err) {
        this.logger.warn({ err: errorText(err), brokers: this.options.brokers, retryInMs: backoff }, 'cannot list the Kafka cluster\'s topics (unreachable, or refusing this client); retrying');
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, RETRY_MAX_MS);
        continue;
      }
      if (topics.length === 0) {
        if (!warnedNoTopics) this.logger.warn({ topics: describeSelection(this.options) }, 'no existing topic matches the configured topics yet; checking again every topic_refresh_interval');
        warnedNoTopics = true;
        await this.sleep(this.options.topicRefreshIntervalMs);
        continue;
      }
      warnedNoTopics = false;
      const ended = new Promise<string>((resolve) => (this.endConsumer = resolve));
      const consumer = this.newConsumer();
      this.consumer = consumer;
      this.topics = topics;
      this.joined = false;
      const watch = this.watchTopics(topics);
      let failed = false;
      const starting = (async () => {
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning: this.options.startAt === 'earliest' });
        await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch: (payload) => this.onBatch(consumer, payload) });
      })().then(
        () => {
          if (consumer === this.consumer) this.logger.info({ topics, groupId: this.options.groupId }, 'kafka consumer started');
        },
        (err: unknown) => {
          failed = true;
          if (!this.running) return;
          this.logger.warn({ err: errorText(err), brokers: this.options.brokers, retryInMs: backoff }, 'kafka consumer could not start; retrying');
          this.endConsumer?.('start failed');
        },
      );
      const reason = await ended;
      clearInterval(watch);
      // Stopping while still connecting: let the attempt end (bounded by stop_timeout) before leaving.
      await withTimeout(starting, this.options.stopTimeoutMs);
      await this.retire(consumer, reason);
      if (!this.running) break;
      if (failed || reason === 'crashed') {
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, RETRY_MAX_MS);
      } else backoff = RETRY_MIN_MS;
    }
  }

  private newConsumer(): Consumer {
    const o = this.options;
    const consumer = this.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      maxBytesPerPartition: o.maxBytesPerPartition,
      maxBytes: o.maxBytes,
      maxWaitTimeInMs: o.maxWaitMs,
      allowAutoTopicCreation: false,
      readUncommitted: o.readUncommitted,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => this.onAssignment(consumer, e.payload.memberAssignment, e.payload.memberId));
    consumer.on(consumer.events.REBALANCING, () => {
      if (consumer !== this.consumer) return;
      this.logger.info({ groupId: o.groupId }, 'consumer group is rebalancing: committing what is durable');
      void this.commitNow();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (consumer !== this.consumer) return;
      this.logger.error({ err: errorText(e.payload.error), restart: e.payload.restart }, e.payload.restart ? 'kafka consumer crashed; kafkajs restarts it' : 'kafka consumer crashed; starting a new one');
      this.joined = false;
      if (!e.payload.restart) {
        this.consumer = undefined; // no longer fed: eachBatch calls from it are ignored
        this.endConsumer?.('crashed');
      }
    });
    return consumer;
  }

  /** Checks every topic_refresh_interval whether the topics to consume changed (patterns, topics created later). */
  private watchTopics(current: readonly string[]): NodeJS.Timeout {
    const t = setInterval(() => {
      void resolveTopics(this.options.topics, () => this.adminClient()).then(
        (next) => {
          if (!sameTopics(next, current)) {
            this.logger.info({ from: current, to: next }, 'matched topics changed: restarting the consumer');
            this.endConsumer?.('topics changed');
          }
        },
        () => undefined,
      );
    }, this.options.topicRefreshIntervalMs);
    t.unref();
    return t;
  }

  private onAssignment(consumer: Consumer, assignment: Record<string, number[]>, memberId: string): void {
    if (consumer !== this.consumer) return;
    // kafkajs reads every assigned partition again from its committed offset: progress of the
    // previous assignment is dropped (its submits may still become durable, never committed).
    const next = new Map<string, PartitionProgress>();
    const names: string[] = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const p of partitions) {
        next.set(partitionKey(topic, p), new PartitionProgress(topic, p));
        names.push(`${topic}/${p}`);
      }
    }
    const revoked = [...this.progress.values()].filter((p) => !next.has(partitionKey(p.topic, p.partition))).map((p) => `${p.topic}/${p.partition}`);
    this.progress = next;
    this.joined = true;
    this.consumerPaused = false;
    this.syncPause();
    this.logger.info({ memberId, assigned: names, revoked }, 'kafka partitions assigned');
    void this.refreshLag();
  }

  private async onBatch(consumer: Consumer, { batch, isStale, heartbeat }: EachBatchPayload): Promise<void> {
    if (!this.accepting(consumer) || isStale()) return;
    const progress = this.progress.get(partitionKey(batch.topic, batch.partition));
    if (!progress || batch.messages.length === 0) return;
    const now = Date.now();
    const size = this.options.batchRecords;
    const msgs = batch.messages;
    for (let i = 0; i < msgs.length; i += size) {
      // Bounded in flight: wait here (kafkajs fetches nothing more for this worker meanwhile),
      // heartbeating so that a long wait behind a full spool does not cost the membership. A
      // rebalance surfaces as the heartbeat throwing, which hands control back to kafkajs.
      while (this.inflight.size >= this.options.maxInflightBatches) {
        await Promise.race([...this.inflight, sleep(this.options.heartbeatIntervalMs)]);
        if (!this.accepting(consumer) || isStale() || this.progress.get(partitionKey(batch.topic, batch.partition)) !== progress) return;
        await heartbeat();
      }
      const chunk = msgs.slice(i, i + size);
      const records: RawRecord[] = [];
      for (const m of chunk) {
        const r = messageRecord(this.name, batch.topic, batch.partition, m, this.options.format, now);
        records.push(r);
        this.bytesRead += r.bytes.length;
      }
      this.recordsRead += records.length;
      const first = BigInt(chunk[0]!.offset);
      // The last submit of a batch covers the batch's last offset (control records included).
      const last = i + size >= msgs.length ? BigInt(batch.lastOffset()) : BigInt(chunk[chunk.length - 1]!.offset);
      this.track(consumer, progress, first, last, this.ctx!.submit(records));
      this.syncPause();
    }
  }

  private accepting(consumer: Consumer): boolean {
    return this.running && consumer === this.consumer && !this.pauseReasons.has('stopping');
  }

  private track(consumer: Consumer, progress: PartitionProgress, first: bigint, last: bigint, submitted: Promise<unknown>): void {
    const entry = progress.add(first, last);
    const current = () => consumer === this.consumer && this.progress.get(partitionKey(progress.topic, progress.partition)) === progress;
    const p = submitted.then(
      () => {
        if (entry.durable() && current()) this.scheduleCommit();
      },
      (err: unknown) => {
        if (err instanceof ShutdownError || !current() || !entry.current()) return;
        this.rewind(consumer, progress, err);
      },
    );
    const tracked = p.finally(() => {
      this.inflight.delete(tracked);
      this.syncPause();
    });
    this.inflight.add(tracked);
  }

  /** A submit failed (not durable): read the partition again from the first message that is not durable. */
  private rewind(consumer: Consumer, progress: PartitionProgress, err: unknown): void {
    const from = progress.resumePoint();
    progress.reset();
    this.logger.warn({ topic: progress.topic, partition: progress.partition, offset: from?.toString(), err: errorText(err) }, 'submit failed: re-reading the partition from the first message that is not durable');
    if (from !== undefined) {
      try {
        consumer.seek({ topic: progress.topic, partition: progress.partition, offset: from.toString() });
      } catch (seekErr) {
        this.logger.warn({ err: errorText(seekErr) }, 'cannot seek; the partition is re-read from its committed offset after the next rebalance');
      }
    }
    this.pauseReasons.add('submit_failed');
    setTimeout(() => {
      this.pauseReasons.delete('submit_failed');
      this.syncPause();
    }, SUBMIT_FAILURE_PAUSE_MS).unref();
    this.syncPause();
  }

  /** Pauses the consumer while the spool is full or too much is in flight; resumes when both cleared. */
  private syncPause(): void {
    const ctx = this.ctx;
    if (!ctx) return;
    if (ctx.isFull()) {
      this.pauseReasons.add('spool_full');
      if (!this.waitingForRoom) {
        this.waitingForRoom = true;
        void ctx.whenWritable().then(
          () => {
            this.waitingForRoom = false;
            this.pauseReasons.delete('spool_full');
            this.syncPause();
          },
          () => {
            this.waitingForRoom = false;
          },
        );
      }
    }
    const consumer = this.consumer;
    if (!consumer || !this.joined) return;
    const want = this.pauseReasons.size > 0;
    if (want === this.consumerPaused) return;
    const topics = this.topics.map((topic) => ({ topic }));
    try {
      if (want) consumer.pause(topics);
      else consumer.resume(topics);
      this.consumerPaused = want;
    } catch {
      return; // between a kafkajs restart and the next join: applied again on assignment
    }
    const reasons = [...this.pauseReasons];
    if (want) this.logger.info({ reasons, inflight: this.inflight.size, read: this.recordsRead }, reasons.includes('spool_full') ? 'kafka consumer paused: spool is full' : 'kafka consumer paused');
    else this.logger.info({ read: this.recordsRead }, 'kafka consumer resumed');
  }

  private scheduleCommit(): void {
    if (this.commitTimer || !this.running) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commitNow();
    }, this.options.commitIntervalMs);
    this.commitTimer.unref();
  }

  /** Commits the durable progress of every assigned partition (one commit at a time). */
  private commitNow(): Promise<void> {
    if (this.committing) {
      this.commitAgain = true;
      return this.committing;
    }
    this.committing = (async () => {
      do {
        this.commitAgain = false;
        const consumer = this.consumer;
        if (!consumer) return;
        const due: { p: PartitionProgress; offset: bigint }[] = [];
        for (const p of this.progress.values()) {
          const offset = p.toCommit();
          if (offset !== undefined) due.push({ p, offset });
        }
        if (due.length === 0) return;
        try {
          await consumer.commitOffsets(due.map(({ p, offset }) => ({ topic: p.topic, partition: p.partition, offset: offset.toString() })));
          for (const { p, offset } of due) p.committed = offset;
          this.logger.debug({ offsets: due.map(({ p, offset }) => `${p.topic}/${p.partition}@${offset}`) }, 'offsets committed');
        } catch (err) {
          // Not committed: the progress stays due and is committed with the next one (or read again by whoever owns the partition next).
          this.logger.warn({ err: errorText(err) }, 'offset commit failed; durable progress is committed again later');
          this.scheduleCommit();
          return;
        }
      } while (this.commitAgain);
    })().finally(() => {
      this.committing = undefined;
    });
    return this.committing;
  }

  /** Stops a consumer: no new submits, in-flight ones settle, durable progress committed, group left. */
  private async retire(consumer: Consumer, reason: string): Promise<void> {
    const deadline = Date.now() + this.options.stopTimeoutMs;
    this.pauseReasons.add('stopping');
    this.syncPause();
    const left = () => Math.max(0, deadline - Date.now());
    if (this.inflight.size > 0) {
      const settled = await withTimeout(Promise.allSettled([...this.inflight]), left());
      if (!settled) this.logger.warn({ inflight: this.inflight.size }, 'submits still waiting (spool full?): their messages are not committed and are read again');
    }
    if (this.joined) await withTimeout(this.commitNow(), left());
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    this.consumer = undefined;
    this.joined = false;
    this.progress = new Map();
    this.pauseReasons.delete('stopping');
    this.consumerPaused = false;
    const gone = await withTimeout(consumer.disconnect().then(() => true, () => false), left());
    if (gone !== true) this.logger.warn({ reason }, 'kafka consumer did not leave the group cleanly in time; the coordinator drops this member after session_timeout');
    else this.logger.info({ reason }, 'kafka consumer stopped');
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } catch (err) {
        await admin.disconnect().catch(() => undefined);
        throw err;
      }
      this.admin = admin;
    }
    return this.admin;
  }

  private async refreshLag(): Promise<number | undefined> {
    if (!this.joined) return this.lag;
    try {
      const assigned = [...this.progress.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
      this.lag = await computeLag(await this.adminClient(), this.options.groupId, assigned, this.options.startAt);
    } catch (err) {
      this.logger.debug({ err: errorText(err) }, 'cannot compute consumer lag');
    }
    return this.lag;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakeSleep = () => {
        clearTimeout(t);
        resolve();
      };
    }).finally(() => {
      this.wakeSleep = undefined;
    });
  }

  /** For `run --once`: resolves when every assigned partition is committed up to its end. */
  async drained(): Promise<void> {
    while (this.running) {
      if (this.joined && this.inflight.size === 0) {
        await this.commitNow();
        const lag = await this.refreshLag();
        if (lag === 0 && this.inflight.size === 0 && this.joined) return;
      }
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  }

  stats(): SourceStats {
    return { recordsRead: this.recordsRead, bytesRead: this.bytesRead, ...(this.lag !== undefined ? { lag: this.lag } : {}) };
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.lagTimer) clearInterval(this.lagTimer);
    this.endConsumer?.('stopping');
    this.wakeSleep?.();
    await this.supervisor;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}

function describeSelection(o: KafkaSourceOptions): string[] {
  return [...o.topics.names, ...o.topics.patterns.map((p) => p.source)];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
