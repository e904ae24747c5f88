import type { SinkFactory } from '../../core/components.ts';
import { cloudWatchLogsOptions } from './config.ts';
import { CloudWatchLogsSink } from './sink.ts';

export { CloudWatchLogsSink } from './sink.ts';
export { cloudWatchLogsOptions, DEFAULT_LOG_STREAM, type CloudWatchLogsOptions, type CloudWatchLogsBlock } from './config.ts';
export { compileTemplate, sanitizeGroupName, sanitizeStreamName, type NameTemplate } from './template.ts';

/** AWS CloudWatch Logs (PutLogEvents), log group and stream templated from event fields. */
export const createCloudWatchLogsSink: SinkFactory = (name, block, deps) => new CloudWatchLogsSink(name, cloudWatchLogsOptions(name, block), deps.encoder, deps.logger);
