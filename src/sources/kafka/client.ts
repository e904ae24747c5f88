import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '../../core/logger.ts';
import type { KafkaSourceOptions } from './config.ts';

/**
 * kafkajs client settings for a source's options: brokers, client id, TLS, SASL, timeouts, and
 * kafkajs's own log lines routed into ours. kafkajs logs each broker error answer at ERROR
 * (a routine rebalance shows as "The group is rebalancing"), so its ERROR and WARN both become
 * warnings here and its INFO becomes debug.
 */
export function kafkaClientConfig(o: KafkaSourceOptions, logger: Logger): KafkaConfig {
  const log = logger.child({ component: 'kafkajs' });
  return {
    clientId: o.clientId,
    brokers: [...o.brokers],
    connectionTimeout: o.connectionTimeoutMs,
    requestTimeout: o.requestTimeoutMs,
    ...(o.tls ? { ssl: { ...o.tls } } : {}),
    ...(o.sasl ? { sasl: saslOptions(o.sasl) } : {}),
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 8 },
    logLevel: logLevel.INFO,
    logCreator: () => (entry: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry.log as { message: string; timestamp: string; logger?: string; [k: string]: unknown };
      const fields = { kafkajs: entry.namespace, ...safeExtra(extra) };
      if (entry.level === logLevel.ERROR || entry.level === logLevel.WARN) log.warn(fields, message);
      else log.debug(fields, message);
    },
  };
}

function saslOptions(s: NonNullable<KafkaSourceOptions['sasl']>): SASLOptions {
  return { mechanism: s.mechanism, username: s.username, password: s.password };
}

/** Keeps scalar context fields of a kafkajs log entry; drops stacks and anything nested. */
function safeExtra(extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(extra)) {
    if (k === 'stack') continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

export function createKafkaClient(o: KafkaSourceOptions, logger: Logger): Kafka {
  return new Kafka(kafkaClientConfig(o, logger));
}
