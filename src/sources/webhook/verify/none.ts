import type { Verifier, VerifyResult } from './types.ts';

/** No verification: only when the config says `preset: none` (e.g. behind an authenticating proxy). */
export class NoVerifier implements Verifier {
  readonly preset = 'none' as const;
  readonly credentialHeaders: readonly string[] = [];

  verify(): VerifyResult {
    return { ok: true };
  }
}
