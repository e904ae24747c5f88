import type { SourceBlock } from '../../config/types.ts';
import { parseByteSize, parseDuration } from '../../config/units.ts';
import type { VerifyOptions } from './verify/index.ts';

/** The `webhook` source block as schemas/components/webhook_source.schema.json admits it. */
export interface WebhookSourceBlock extends SourceBlock {
  readonly path: string;
  readonly verify:
    | { readonly preset: 'standard_webhooks'; readonly secrets: readonly string[]; readonly tolerance?: string | number }
    | { readonly preset: 'hmac_sha256'; readonly secrets: readonly string[]; readonly header?: string; readonly prefix?: string; readonly encoding?: 'hex' | 'base64' }
    | { readonly preset: 'bearer'; readonly tokens: readonly string[]; readonly header?: string }
    | { readonly preset: 'none' };
  readonly delivery_id_header?: string;
  readonly max_body_bytes?: string | number;
  readonly dedupe_window?: string | number;
  readonly dedupe_max_entries?: number;
  readonly retry_after?: string | number;
  readonly max_concurrent_requests?: number;
}

export interface WebhookSourceOptions {
  readonly path: string;
  readonly verify: VerifyOptions;
  /** Header holding the sender's delivery id when the preset does not sign one (e.g. x-github-delivery). */
  readonly deliveryIdHeader?: string;
  readonly maxBodyBytes: number;
  /** A body must arrive within this long after the headers (408 otherwise). */
  readonly bodyTimeoutMs: number;
  /** 0 disables de-duplication. */
  readonly dedupeWindowMs: number;
  readonly dedupeMaxEntries: number;
  readonly retryAfterSeconds: number;
  readonly maxConcurrentRequests: number;
  readonly format?: string;
  /** The clock for the replay window and de-duplication (ms since epoch). */
  readonly now: () => number;
}

const BODY_TIMEOUT_MS = 30_000;

export function webhookSourceOptions(name: string, raw: SourceBlock, now: () => number): WebhookSourceOptions {
  const b = raw as WebhookSourceBlock;
  const where = `sources.${name}`;
  return {
    path: b.path,
    verify: verifyOptions(b.verify, `${where}.verify`),
    ...(b.delivery_id_header ? { deliveryIdHeader: b.delivery_id_header.toLowerCase() } : {}),
    maxBodyBytes: parseByteSize(b.max_body_bytes ?? '1MiB', `${where}.max_body_bytes`),
    bodyTimeoutMs: BODY_TIMEOUT_MS,
    dedupeWindowMs: parseDuration(b.dedupe_window ?? '24h', `${where}.dedupe_window`),
    dedupeMaxEntries: b.dedupe_max_entries ?? 100_000,
    retryAfterSeconds: parseDuration(b.retry_after ?? '5s', `${where}.retry_after`) / 1000,
    maxConcurrentRequests: b.max_concurrent_requests ?? 64,
    ...(b.format && b.format !== 'auto' ? { format: b.format } : {}),
    now,
  };
}

function verifyOptions(v: WebhookSourceBlock['verify'], where: string): VerifyOptions {
  switch (v.preset) {
    case 'standard_webhooks':
      return { preset: v.preset, secrets: v.secrets, toleranceMs: parseDuration(v.tolerance ?? '5m', `${where}.tolerance`) };
    case 'hmac_sha256':
      return { preset: v.preset, secrets: v.secrets, header: (v.header ?? 'x-hub-signature-256').toLowerCase(), prefix: v.prefix ?? 'sha256=', encoding: v.encoding ?? 'hex' };
    case 'bearer':
      return { preset: v.preset, tokens: v.tokens, header: (v.header ?? 'authorization').toLowerCase() };
    case 'none':
      return { preset: 'none' };
  }
}
