import type { SinkFactory, SourceFactory } from '../core/components.ts';
import { ConfigError } from '../core/errors.ts';
import type { SinkType, SourceType } from '../config/types.ts';

// Config `type` → factory. Modules load lazily so a config without Kafka or CloudWatch never
// pays for kafkajs or the AWS SDK at start-up.

interface Entry {
  readonly module: string;
  readonly factory: string;
}

const SOURCES: Readonly<Record<SourceType, Entry>> = {
  file: { module: '../sources/file/index.ts', factory: 'createFileSource' },
  kafka: { module: '../sources/kafka/index.ts', factory: 'createKafkaSource' },
  webhook: { module: '../sources/webhook/index.ts', factory: 'createWebhookSource' },
  otlp: { module: '../sources/otlp/index.ts', factory: 'createOtlpSource' },
};

const SINKS: Readonly<Record<SinkType, Entry>> = {
  splunk_hec: { module: '../sinks/splunk-hec/index.ts', factory: 'createSplunkHecSink' },
  elasticsearch: { module: '../sinks/elasticsearch/index.ts', factory: 'createElasticsearchSink' },
  cloudwatch_logs: { module: '../sinks/cloudwatch-logs/index.ts', factory: 'createCloudWatchLogsSink' },
  file: { module: '../sinks/file/index.ts', factory: 'createFileSink' },
  stdout: { module: '../sinks/stdout/index.ts', factory: 'createStdoutSink' },
};

async function load<F>(kind: string, type: string, entry: Entry | undefined): Promise<F> {
  if (entry === undefined) throw new ConfigError('unknown_component', `unknown ${kind} type '${type}'`, { kind, type });
  const mod = (await import(entry.module)) as Record<string, unknown>;
  const factory = mod[entry.factory];
  if (typeof factory !== 'function') throw new ConfigError('component_unavailable', `${kind} type '${type}': ${entry.module} does not export ${entry.factory}`, { kind, type });
  return factory as F;
}

export function sourceFactory(type: SourceType): Promise<SourceFactory> {
  return load<SourceFactory>('source', type, SOURCES[type]);
}

export function sinkFactory(type: SinkType): Promise<SinkFactory> {
  return load<SinkFactory>('sink', type, SINKS[type]);
}
