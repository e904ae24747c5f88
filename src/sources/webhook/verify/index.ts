import { BearerVerifier } from './bearer.ts';
import { HmacSha256Verifier, type HmacSha256Options } from './hmac-sha256.ts';
import { NoVerifier } from './none.ts';
import { StandardWebhooksVerifier } from './standard-webhooks.ts';
import type { Verifier } from './types.ts';

export type { Verifier, VerifyFailure, VerifyInput, VerifyResult } from './types.ts';

export type VerifyOptions =
  | { readonly preset: 'standard_webhooks'; readonly secrets: readonly string[]; readonly toleranceMs: number }
  | ({ readonly preset: 'hmac_sha256' } & HmacSha256Options)
  | { readonly preset: 'bearer'; readonly tokens: readonly string[]; readonly header: string }
  | { readonly preset: 'none' };

export function createVerifier(o: VerifyOptions): Verifier {
  switch (o.preset) {
    case 'standard_webhooks':
      return new StandardWebhooksVerifier(o.secrets, o.toleranceMs);
    case 'hmac_sha256':
      return new HmacSha256Verifier(o);
    case 'bearer':
      return new BearerVerifier(o.tokens, o.header);
    case 'none':
      return new NoVerifier();
  }
}
