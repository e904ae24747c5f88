import { ConfigError } from '../../core/errors.ts';
import type { SinkBlock } from '../../config/types.ts';
import type { BatchLimits } from '../../core/sink.ts';
import type { TlsSettings } from '../http/client.ts';
import { baseUrl, batchLimits, durationMs, tlsSettings, type BatchBlock, type TlsBlock } from '../http/settings.ts';

/** The `splunk_hec` block as schemas/components/splunk_hec.schema.json admits it. */
export interface SplunkHecBlock extends SinkBlock {
  readonly endpoint: string;
  readonly token: string;
  readonly index?: string;
  readonly sourcetype?: string;
  readonly source?: string;
  readonly host?: string;
  readonly compression?: 'gzip' | 'none';
  readonly batch?: BatchBlock;
  readonly ack?: boolean;
  readonly ack_timeout?: string | number;
  readonly ack_poll_interval?: string | number;
  readonly request_timeout?: string | number;
  readonly tls?: TlsBlock;
}

export interface SplunkHecOptions {
  readonly endpoint: URL;
  readonly token: string;
  readonly index?: string;
  readonly sourcetype?: string;
  readonly source?: string;
  readonly host?: string;
  readonly gzip: boolean;
  readonly limits: BatchLimits;
  readonly ack: boolean;
  readonly ackTimeoutMs: number;
  readonly ackPollIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly tls: TlsSettings;
}

// HEC's default max_content_length is 800 MB and Splunk Cloud's is 1 MB per request: 1 MiB of
// events per request is safe on both and keeps a retry cheap.
export const HEC_DEFAULT_LIMITS: BatchLimits = { maxEvents: 1000, maxBytes: 1024 * 1024, maxWaitMs: 1000 };

export function splunkHecOptions(name: string, raw: SinkBlock): SplunkHecOptions {
  const block = raw as SplunkHecBlock;
  const where = `sinks.${name}`;
  if (typeof block.token !== 'string' || block.token === '') {
    throw new ConfigError('missing_token', `${where}.token: the HEC token is required (e.g. token: \${SPLUNK_HEC_TOKEN})`, { path: `${where}.token` });
  }
  return {
    endpoint: baseUrl(block.endpoint, `${where}.endpoint`),
    token: block.token,
    ...(block.index !== undefined ? { index: block.index } : {}),
    ...(block.sourcetype !== undefined ? { sourcetype: block.sourcetype } : {}),
    ...(block.source !== undefined ? { source: block.source } : {}),
    ...(block.host !== undefined ? { host: block.host } : {}),
    gzip: (block.compression ?? 'gzip') === 'gzip',
    limits: batchLimits(block.batch, HEC_DEFAULT_LIMITS, where),
    ack: block.ack === true,
    ackTimeoutMs: durationMs(block.ack_timeout, 120_000, `${where}.ack_timeout`),
    ackPollIntervalMs: durationMs(block.ack_poll_interval, 1000, `${where}.ack_poll_interval`),
    requestTimeoutMs: durationMs(block.request_timeout, 30_000, `${where}.request_timeout`),
    tls: tlsSettings(block.tls, where),
  };
}
