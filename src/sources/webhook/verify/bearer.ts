import { BearerTokens } from '../../http/bearer-tokens.ts';
import type { Verifier, VerifyInput, VerifyResult } from './types.ts';

/** A shared token in `Authorization: Bearer <token>` (or another header): no body integrity, no replay window. */
export class BearerVerifier implements Verifier {
  readonly preset = 'bearer' as const;
  readonly credentialHeaders: readonly string[];
  private readonly tokens: BearerTokens;

  constructor(tokens: readonly string[], header = 'authorization') {
    this.tokens = new BearerTokens(tokens, header);
    this.credentialHeaders = [this.tokens.header];
  }

  verify({ headers }: VerifyInput): VerifyResult {
    const r = this.tokens.check(headers);
    return r.ok ? { ok: true } : r;
  }
}
