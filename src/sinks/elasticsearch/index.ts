import type { SinkFactory } from '../../core/components.ts';
import { elasticsearchOptions } from './config.ts';
import { ElasticsearchSink } from './sink.ts';

export { ElasticsearchSink, type ClusterInfo } from './sink.ts';
export { elasticsearchOptions, DEFAULT_DATA_STREAM, type ElasticsearchOptions, type ElasticsearchBlock } from './config.ts';

/** Elasticsearch / OpenSearch `_bulk`: `create` into a data stream or `index` into an index, `_id` = event id. */
export const createElasticsearchSink: SinkFactory = (name, block, deps) => new ElasticsearchSink(name, elasticsearchOptions(name, block), deps.encoder, deps.logger);
