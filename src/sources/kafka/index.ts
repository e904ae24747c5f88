import type { SourceFactory } from '../../core/components.ts';
import { kafkaSourceOptions } from './config.ts';
import { KafkaSource } from './source.ts';

export { KafkaSource } from './source.ts';

/** A Kafka consumer group member that commits offsets only for messages whose events are durable. */
export const createKafkaSource: SourceFactory = (name, block, deps) => new KafkaSource(name, kafkaSourceOptions(name, block), deps.logger);
