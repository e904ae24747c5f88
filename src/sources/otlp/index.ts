import type { SourceFactory } from '../../core/components.ts';
import { otlpSourceOptions } from './config.ts';
import { OtlpSource } from './source.ts';

export { OtlpSource } from './source.ts';
export { otlpSourceOptions } from './config.ts';

/** OTLP/HTTP logs and traces receiver on the daemon's HTTP server; answers 200 only once durable. */
export const createOtlpSource: SourceFactory = (name, block, deps) => new OtlpSource(name, otlpSourceOptions(name, block), { http: deps.http, logger: deps.logger });
