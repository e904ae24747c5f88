import type { SourceBlock } from '../../config/types.ts';
import { parseByteSize, parseDuration } from '../../config/units.ts';

/** The `otlp` source block as schemas/components/otlp_source.schema.json admits it. */
export interface OtlpSourceBlock extends SourceBlock {
  readonly signals?: readonly ('logs' | 'traces')[];
  readonly logs_path?: string;
  readonly traces_path?: string;
  readonly max_body_bytes?: string | number;
  readonly auth?: { readonly tokens: readonly string[]; readonly header?: string };
  readonly retry_after?: string | number;
  readonly max_concurrent_requests?: number;
}

export interface OtlpSourceOptions {
  /** Route per signal received; a signal that is not configured has no route. */
  readonly paths: Readonly<Partial<Record<'logs' | 'traces', string>>>;
  /** Largest body, both as sent and after gzip decompression. */
  readonly maxBodyBytes: number;
  /** A body must arrive within this long after the headers (408 otherwise). */
  readonly bodyTimeoutMs: number;
  readonly auth?: { readonly tokens: readonly string[]; readonly header: string };
  readonly retryAfterSeconds: number;
  readonly maxConcurrentRequests: number;
  readonly format?: string;
}

const BODY_TIMEOUT_MS = 30_000;

export function otlpSourceOptions(name: string, raw: SourceBlock): OtlpSourceOptions {
  const b = raw as OtlpSourceBlock;
  const where = `sources.${name}`;
  const signals = b.signals ?? ['logs', 'traces'];
  const paths: Partial<Record<'logs' | 'traces', string>> = {};
  if (signals.includes('logs')) paths.logs = b.logs_path ?? '/v1/logs';
  if (signals.includes('traces')) paths.traces = b.traces_path ?? '/v1/traces';
  return {
    paths,
    maxBodyBytes: parseByteSize(b.max_body_bytes ?? '8MiB', `${where}.max_body_bytes`),
    bodyTimeoutMs: BODY_TIMEOUT_MS,
    ...(b.auth ? { auth: { tokens: b.auth.tokens, header: (b.auth.header ?? 'authorization').toLowerCase() } } : {}),
    retryAfterSeconds: parseDuration(b.retry_after ?? '5s', `${where}.retry_after`) / 1000,
    maxConcurrentRequests: b.max_concurrent_requests ?? 32,
    ...(b.format && b.format !== 'auto' ? { format: b.format } : {}),
  };
}
