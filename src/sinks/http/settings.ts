import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';
import { parseByteSize, parseDuration } from '../../config/units.ts';
import type { BatchLimits } from '../../core/sink.ts';
import type { TlsSettings } from './client.ts';

// Settings shared by the HTTP sinks' config blocks (`batch`, `tls`, `request_timeout`).

export interface BatchBlock {
  readonly max_events?: number;
  readonly max_bytes?: string | number;
  readonly timeout?: string | number;
}

export function batchLimits(block: BatchBlock | undefined, defaults: BatchLimits, where: string): BatchLimits {
  return {
    maxEvents: block?.max_events ?? defaults.maxEvents,
    maxBytes: block?.max_bytes !== undefined ? parseByteSize(block.max_bytes, `${where}.batch.max_bytes`) : defaults.maxBytes,
    maxWaitMs: block?.timeout !== undefined ? parseDuration(block.timeout, `${where}.batch.timeout`) : defaults.maxWaitMs,
  };
}

export interface TlsBlock {
  readonly ca_file?: string;
  readonly insecure_skip_verify?: boolean;
}

export function tlsSettings(block: TlsBlock | undefined, where: string): TlsSettings {
  let ca: Buffer | undefined;
  if (block?.ca_file) {
    try {
      ca = readFileSync(block.ca_file);
    } catch (err) {
      throw new ConfigError('bad_ca_file', `${where}.tls.ca_file: cannot read '${block.ca_file}': ${(err as Error).message}`, { path: `${where}.tls.ca_file` }, { cause: err });
    }
  }
  return { ...(ca ? { ca } : {}), rejectUnauthorized: block?.insecure_skip_verify !== true };
}

export function durationMs(value: string | number | undefined, fallback: number, where: string): number {
  return value === undefined ? fallback : parseDuration(value, where);
}

/** An http(s) base URL without a trailing slash; rejects anything else with a clear message. */
export function baseUrl(value: unknown, where: string): URL {
  if (typeof value !== 'string' || value === '') throw new ConfigError('missing_endpoint', `${where}: an endpoint URL is required`, { path: where });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value is not echoed: it may carry credentials in its user-info part.
    throw new ConfigError('bad_endpoint', `${where}: not a valid URL`, { path: where });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('bad_endpoint', `${where}: endpoint must be http:// or https://`, { path: where });
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}
