import type { SinkFactory } from '../../core/components.ts';
import { splunkHecOptions } from './config.ts';
import { SplunkHecSink } from './sink.ts';

export { SplunkHecSink } from './sink.ts';
export { splunkHecOptions, type SplunkHecOptions, type SplunkHecBlock } from './config.ts';

/** Splunk HTTP Event Collector (`/services/collector/event`), with optional indexer acknowledgement. */
export const createSplunkHecSink: SinkFactory = (name, block, deps) =>
  new SplunkHecSink(name, splunkHecOptions(name, block), deps.encoder, deps.stateDir, deps.logger);
