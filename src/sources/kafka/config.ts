import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';
import type { SourceBlock } from '../../config/types.ts';
import { parseByteSize, parseDuration } from '../../config/units.ts';

/** The `kafka` source block as schemas/components/kafka_source.schema.json admits it. */
export interface KafkaSourceBlock extends SourceBlock {
  readonly brokers: readonly string[];
  readonly topics: readonly string[];
  readonly group_id: string;
  readonly client_id?: string;
  readonly start_at?: 'earliest' | 'latest';
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
  readonly tls?: {
    readonly ca_file?: string;
    readonly cert_file?: string;
    readonly key_file?: string;
    readonly key_password?: string;
    readonly server_name?: string;
    readonly insecure_skip_verify?: boolean;
  };
  readonly session_timeout?: string | number;
  readonly rebalance_timeout?: string | number;
  readonly heartbeat_interval?: string | number;
  readonly connection_timeout?: string | number;
  readonly request_timeout?: string | number;
  readonly max_bytes_per_partition?: string | number;
  readonly max_bytes?: string | number;
  readonly max_wait?: string | number;
  readonly batch_records?: number;
  readonly max_inflight_batches?: number;
  readonly commit_interval?: string | number;
  readonly lag_interval?: string | number;
  readonly topic_refresh_interval?: string | number;
  readonly stop_timeout?: string | number;
  readonly isolation_level?: 'read_committed' | 'read_uncommitted';
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** What to subscribe to: exact names, plus patterns matched against the cluster's topics. */
export interface TopicSelection {
  readonly names: readonly string[];
  readonly patterns: readonly RegExp[];
}

export interface KafkaTlsOptions {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly passphrase?: string;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  readonly topics: TopicSelection;
  readonly groupId: string;
  readonly clientId: string;
  /** Where a partition without a committed offset for the group starts. */
  readonly startAt: 'earliest' | 'latest';
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
  readonly tls?: KafkaTlsOptions;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxBytesPerPartition: number;
  readonly maxBytes: number;
  readonly maxWaitMs: number;
  /** Messages per hand-over to the pipeline (a fetched batch is split into submits of this size). */
  readonly batchRecords: number;
  /** Submits not yet durable before the consumer is paused. */
  readonly maxInflightBatches: number;
  /** Durable progress is committed at most this often (and at every rebalance and stop). */
  readonly commitIntervalMs: number;
  readonly lagIntervalMs: number;
  /** How often topic patterns are matched against the cluster's topics again. */
  readonly topicRefreshIntervalMs: number;
  /** How long stop() waits for in-flight submits and for leaving the group. */
  readonly stopTimeoutMs: number;
  readonly readUncommitted: boolean;
  readonly format?: string;
}

/**
 * Topic entries starting with `^` are regular expressions (as in Vector's kafka source); the
 * others are exact names.
 */
export function topicSelection(entries: readonly string[], where: string): TopicSelection {
  const names: string[] = [];
  const patterns: RegExp[] = [];
  entries.forEach((t, i) => {
    if (!t.startsWith('^')) {
      names.push(t);
      return;
    }
    try {
      patterns.push(new RegExp(t));
    } catch (err) {
      throw new ConfigError('bad_topic_pattern', `${where}.topics[${i}]: '${t}' is not a valid regular expression: ${(err as Error).message}`, { path: `${where}.topics[${i}]` });
    }
  });
  return { names, patterns };
}

export function kafkaSourceOptions(name: string, raw: SourceBlock): KafkaSourceOptions {
  const b = raw as KafkaSourceBlock;
  const where = `sources.${name}`;
  if (!Array.isArray(b.brokers) || b.brokers.length === 0) throw new ConfigError('missing_brokers', `${where}.brokers: at least one broker (host:port) is required`, { path: `${where}.brokers` });
  if (!Array.isArray(b.topics) || b.topics.length === 0) throw new ConfigError('missing_topics', `${where}.topics: at least one topic name or ^pattern is required`, { path: `${where}.topics` });
  if (typeof b.group_id !== 'string' || b.group_id === '') throw new ConfigError('missing_group_id', `${where}.group_id: a consumer group id is required`, { path: `${where}.group_id` });
  const ms = (v: string | number | undefined, fallback: string, key: string) => parseDuration(v ?? fallback, `${where}.${key}`);
  const sessionTimeoutMs = ms(b.session_timeout, '30s', 'session_timeout');
  const heartbeatIntervalMs = ms(b.heartbeat_interval, `${Math.max(1, Math.floor(sessionTimeoutMs / 10))}ms`, 'heartbeat_interval');
  if (heartbeatIntervalMs >= sessionTimeoutMs) throw new ConfigError('bad_heartbeat_interval', `${where}.heartbeat_interval must be shorter than session_timeout (about a third of it or less)`, { path: `${where}.heartbeat_interval` });
  return {
    brokers: b.brokers,
    topics: topicSelection(b.topics, where),
    groupId: b.group_id,
    clientId: b.client_id ?? 'agent-audit',
    startAt: b.start_at ?? 'earliest',
    ...(b.sasl ? { sasl: { mechanism: b.sasl.mechanism, username: b.sasl.username, password: b.sasl.password } } : {}),
    ...(b.tls ? { tls: tlsOptions(b.tls, `${where}.tls`) } : {}),
    sessionTimeoutMs,
    rebalanceTimeoutMs: ms(b.rebalance_timeout, '60s', 'rebalance_timeout'),
    heartbeatIntervalMs,
    connectionTimeoutMs: ms(b.connection_timeout, '3s', 'connection_timeout'),
    requestTimeoutMs: ms(b.request_timeout, '30s', 'request_timeout'),
    maxBytesPerPartition: parseByteSize(b.max_bytes_per_partition ?? '1MiB', `${where}.max_bytes_per_partition`),
    maxBytes: parseByteSize(b.max_bytes ?? '10MiB', `${where}.max_bytes`),
    maxWaitMs: ms(b.max_wait, '1s', 'max_wait'),
    batchRecords: b.batch_records ?? 1000,
    maxInflightBatches: b.max_inflight_batches ?? 8,
    commitIntervalMs: ms(b.commit_interval, '1s', 'commit_interval'),
    lagIntervalMs: ms(b.lag_interval, '10s', 'lag_interval'),
    topicRefreshIntervalMs: ms(b.topic_refresh_interval, '1m', 'topic_refresh_interval'),
    stopTimeoutMs: ms(b.stop_timeout, '10s', 'stop_timeout'),
    readUncommitted: b.isolation_level === 'read_uncommitted',
    ...(b.format && b.format !== 'auto' ? { format: b.format } : {}),
  };
}

function readPem(file: string, path: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    // The path is config, not a secret; the contents are never echoed.
    throw new ConfigError('tls_file_unreadable', `${path}: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { path });
  }
}

function tlsOptions(t: NonNullable<KafkaSourceBlock['tls']>, where: string): KafkaTlsOptions {
  if ((t.cert_file === undefined) !== (t.key_file === undefined)) throw new ConfigError('tls_client_cert_incomplete', `${where}: cert_file and key_file go together (client certificate authentication)`, { path: where });
  return {
    ...(t.ca_file ? { ca: readPem(t.ca_file, `${where}.ca_file`) } : {}),
    ...(t.cert_file ? { cert: readPem(t.cert_file, `${where}.cert_file`) } : {}),
    ...(t.key_file ? { key: readPem(t.key_file, `${where}.key_file`) } : {}),
    ...(t.key_password !== undefined ? { passphrase: t.key_password } : {}),
    ...(t.server_name ? { servername: t.server_name } : {}),
    rejectUnauthorized: t.insecure_skip_verify !== true,
  };
}
