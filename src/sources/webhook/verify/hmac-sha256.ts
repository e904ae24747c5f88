import { createHmac } from 'node:crypto';
import { macEqual } from '../../http/secret-compare.ts';
import { headerValue, type Verifier, type VerifyInput, type VerifyResult } from './types.ts';

export interface HmacSha256Options {
  readonly secrets: readonly string[];
  /** Lowercase header name, e.g. x-hub-signature-256. */
  readonly header: string;
  /** Text before the signature, e.g. `sha256=`; compared case-insensitively. */
  readonly prefix: string;
  readonly encoding: 'hex' | 'base64';
}

/**
 * HMAC-SHA256 over the raw body in one header, as GitHub (`X-Hub-Signature-256: sha256=<hex>`)
 * and many gateways sign. The body alone is signed, so there is no timestamp to bound replays:
 * de-duplication by delivery id is the only guard against a replayed request.
 */
export class HmacSha256Verifier implements Verifier {
  readonly preset = 'hmac_sha256' as const;
  readonly credentialHeaders: readonly string[];
  private readonly keys: readonly Buffer[];
  private readonly options: HmacSha256Options;

  constructor(options: HmacSha256Options) {
    this.options = options;
    this.keys = options.secrets.map((s) => Buffer.from(s, 'utf8'));
    this.credentialHeaders = [options.header];
  }

  verify({ headers, body }: VerifyInput): VerifyResult {
    const { header, prefix, encoding } = this.options;
    const value = headerValue(headers, header)?.trim();
    if (!value) return { ok: false, reason: 'missing_signature', message: `missing ${header} header` };
    if (value.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return { ok: false, reason: 'bad_signature', message: `${header} does not start with '${prefix}'` };
    const text = value.slice(prefix.length);
    const given = encoding === 'hex' ? (/^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.alloc(0)) : Buffer.from(text, 'base64');
    let match = false;
    for (const k of this.keys) if (macEqual(given, createHmac('sha256', k).update(body).digest())) match = true;
    return match ? { ok: true } : { ok: false, reason: 'bad_signature', message: `${header} does not match a configured secret` };
  }
}
