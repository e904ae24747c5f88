import type { IncomingHttpHeaders } from 'node:http';

export interface VerifyInput {
  readonly headers: IncomingHttpHeaders;
  /** The body exactly as received: signatures cover these bytes, never a re-serialisation. */
  readonly body: Buffer;
  /** The receiver's clock, ms since epoch. */
  readonly nowMs: number;
}

export type VerifyFailure = 'missing_signature' | 'bad_signature' | 'bad_timestamp' | 'stale_timestamp' | 'missing_token' | 'bad_token';

export type VerifyResult =
  | { readonly ok: true; /** The sender's delivery id when the scheme signs one (webhook-id). */ readonly deliveryId?: string }
  | { readonly ok: false; readonly reason: VerifyFailure; /** Safe to log and to answer: never a secret or a signature. */ readonly message: string };

/** One verification preset: decides from headers and raw body whether a delivery is authentic. */
export interface Verifier {
  readonly preset: 'standard_webhooks' | 'hmac_sha256' | 'bearer' | 'none';
  /** Headers that carry the proof; they are never handed on as record metadata. */
  readonly credentialHeaders: readonly string[];
  verify(input: VerifyInput): VerifyResult;
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(' ') : v;
}
