import { ConfigError } from '../../core/errors.ts';
import type { SinkBlock } from '../../config/types.ts';
import type { BatchLimits } from '../../core/sink.ts';
import type { TlsSettings } from '../http/client.ts';
import { baseUrl, batchLimits, durationMs, tlsSettings, type BatchBlock, type TlsBlock } from '../http/settings.ts';

/** The `elasticsearch` block as schemas/components/elasticsearch.schema.json admits it. */
export interface ElasticsearchBlock extends SinkBlock {
  readonly endpoint?: string;
  readonly endpoints?: readonly string[];
  readonly mode?: 'data_stream' | 'index';
  readonly index?: string;
  readonly pipeline?: string;
  readonly user?: string;
  readonly password?: string;
  readonly api_key?: string;
  readonly bearer_token?: string;
  readonly compression?: 'gzip' | 'none';
  readonly batch?: BatchBlock;
  readonly request_timeout?: string | number;
  readonly tls?: TlsBlock;
}

export interface ElasticsearchOptions {
  readonly endpoints: readonly URL[];
  readonly mode: 'data_stream' | 'index';
  /** Data stream or index name. */
  readonly target: string;
  readonly pipeline?: string;
  /** Full Authorization header value, or undefined for none. Never logged. */
  readonly authorization?: string;
  readonly gzip: boolean;
  readonly limits: BatchLimits;
  readonly requestTimeoutMs: number;
  readonly tls: TlsSettings;
}

// Elastic recommends bulk requests of a few MB; 1000 events of ~1 KB ECS each is ~1 MB.
export const ES_DEFAULT_LIMITS: BatchLimits = { maxEvents: 1000, maxBytes: 5 * 1024 * 1024, maxWaitMs: 1000 };
export const DEFAULT_DATA_STREAM = 'logs-ai_audit-default';

export function elasticsearchOptions(name: string, raw: SinkBlock): ElasticsearchOptions {
  const block = raw as ElasticsearchBlock;
  const where = `sinks.${name}`;
  const list = block.endpoints ?? (block.endpoint !== undefined ? [block.endpoint] : []);
  if (list.length === 0) throw new ConfigError('missing_endpoint', `${where}: set endpoint (or endpoints) to the cluster URL, e.g. https://localhost:9200`, { path: `${where}.endpoint` });
  const endpoints = list.map((e, i) => baseUrl(e, block.endpoints ? `${where}.endpoints[${i}]` : `${where}.endpoint`));
  const mode = block.mode ?? 'data_stream';
  const target = block.index ?? DEFAULT_DATA_STREAM;
  if (!/^[^A-Z\\/*?"<>| ,#:]+$/.test(target) || target.startsWith('_') || target.startsWith('-') || target.startsWith('+')) {
    throw new ConfigError('bad_index', `${where}.index: '${target}' is not a valid index or data stream name (lowercase, no \\ / * ? " < > | space , # :)`, { path: `${where}.index` });
  }
  return {
    endpoints,
    mode,
    target,
    ...(block.pipeline !== undefined ? { pipeline: block.pipeline } : {}),
    ...authorization(block, endpoints[0]!, where),
    gzip: block.compression === 'gzip',
    limits: batchLimits(block.batch, ES_DEFAULT_LIMITS, where),
    requestTimeoutMs: durationMs(block.request_timeout, 60_000, `${where}.request_timeout`),
    tls: tlsSettings(block.tls, where),
  };
}

function authorization(block: ElasticsearchBlock, first: URL, where: string): { authorization?: string } {
  const a = block;
  const kinds = [a.user !== undefined || a.password !== undefined, a.api_key !== undefined, a.bearer_token !== undefined].filter(Boolean).length;
  if (kinds > 1) throw new ConfigError('ambiguous_auth', `${where}: set only one of user/password, api_key or bearer_token`, { path: where });
  if (a.api_key !== undefined) return { authorization: `ApiKey ${apiKeyCredential(a.api_key)}` };
  if (a.bearer_token !== undefined) return { authorization: `Bearer ${a.bearer_token}` };
  if (a.user !== undefined) {
    if (a.password === undefined) throw new ConfigError('missing_password', `${where}.password: required with user (e.g. password: \${ES_PASSWORD})`, { path: `${where}.password` });
    return { authorization: `Basic ${Buffer.from(`${a.user}:${a.password}`).toString('base64')}` };
  }
  // https://user:pass@host:9200 works too, as with curl; the URL itself is never logged whole.
  if (first.username !== '') {
    return { authorization: `Basic ${Buffer.from(`${decodeURIComponent(first.username)}:${decodeURIComponent(first.password)}`).toString('base64')}` };
  }
  return {};
}

/**
 * Elasticsearch shows a new API key as `id`, `api_key` and `encoded` (base64 of "id:api_key");
 * Kibana shows only `encoded`. Both the encoded form and "id:api_key" are accepted.
 */
function apiKeyCredential(key: string): string {
  return key.includes(':') ? Buffer.from(key).toString('base64') : key;
}
