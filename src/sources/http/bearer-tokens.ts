import type { IncomingHttpHeaders } from 'node:http';
import { secretsEqual } from './secret-compare.ts';

export type BearerCheck = { readonly ok: true } | { readonly ok: false; readonly reason: 'missing_token' | 'bad_token'; readonly message: string };

/**
 * `Authorization: Bearer <token>` against one or more configured tokens (several while a token
 * is rotated). Every configured token is compared, in constant time, whatever matches first.
 * In another header (e.g. `x-webhook-token`) the token may stand alone, without the scheme.
 */
export class BearerTokens {
  private readonly tokens: readonly Buffer[];
  readonly header: string;

  constructor(tokens: readonly string[], header = 'authorization') {
    this.tokens = tokens.map((t) => Buffer.from(t, 'utf8'));
    this.header = header.toLowerCase();
  }

  check(headers: IncomingHttpHeaders): BearerCheck {
    const raw = headers[this.header];
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value === undefined || value === '') return { ok: false, reason: 'missing_token', message: `missing ${this.header} header (expected: Bearer <token>)` };
    const m = (this.header === 'authorization' ? /^Bearer[ \t]+(\S+)[ \t]*$/i : /^(?:Bearer[ \t]+)?(\S+)[ \t]*$/i).exec(value);
    if (m === null) return { ok: false, reason: 'bad_token', message: `${this.header} header is not of the form Bearer <token>` };
    const given = Buffer.from(m[1]!, 'utf8');
    let ok = false;
    for (const t of this.tokens) if (secretsEqual(given, t)) ok = true;
    return ok ? { ok: true } : { ok: false, reason: 'bad_token', message: 'bearer token does not match' };
  }
}
