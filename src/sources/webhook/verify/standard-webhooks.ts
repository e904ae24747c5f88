import { createHmac } from 'node:crypto';
import { macEqual } from '../../http/secret-compare.ts';
import { headerValue, type Verifier, type VerifyInput, type VerifyResult } from './types.ts';

/**
 * Standard Webhooks (https://www.standardwebhooks.com/), as OpenAI signs its webhooks:
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">`,
 * a space-separated list while the sender rotates its secret. Several configured secrets cover
 * a rotation on our side. `whsec_` secrets are base64 after the prefix; any other secret is
 * used as its UTF-8 bytes (as the OpenAI SDKs do).
 */
export class StandardWebhooksVerifier implements Verifier {
  readonly preset = 'standard_webhooks' as const;
  readonly credentialHeaders = ['webhook-signature'];
  private readonly keys: readonly Buffer[];
  private readonly toleranceMs: number;

  constructor(secrets: readonly string[], toleranceMs: number) {
    this.keys = secrets.map(standardWebhooksKey);
    this.toleranceMs = toleranceMs;
  }

  verify({ headers, body, nowMs }: VerifyInput): VerifyResult {
    const id = headerValue(headers, 'webhook-id');
    const timestamp = headerValue(headers, 'webhook-timestamp');
    const signatures = headerValue(headers, 'webhook-signature');
    if (!id || !timestamp || !signatures) {
      const missing = [!id && 'webhook-id', !timestamp && 'webhook-timestamp', !signatures && 'webhook-signature'].filter(Boolean).join(', ');
      return { ok: false, reason: 'missing_signature', message: `missing Standard Webhooks header(s): ${missing}` };
    }
    if (!/^[0-9]{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp', message: 'webhook-timestamp is not a Unix time in seconds' };
    const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]);
    const expected = this.keys.map((k) => createHmac('sha256', k).update(signed).digest());
    let match = false;
    for (const entry of signatures.split(' ')) {
      const comma = entry.indexOf(',');
      if (comma === -1 || entry.slice(0, comma) !== 'v1') continue;
      const given = Buffer.from(entry.slice(comma + 1), 'base64');
      for (const e of expected) if (macEqual(given, e)) match = true;
    }
    if (!match) return { ok: false, reason: 'bad_signature', message: 'no v1 signature matches a configured secret' };
    // Checked after the signature, so "stale" is only ever said of an authentic delivery: a
    // replay, or a clock that is off.
    const skewMs = nowMs - Number(timestamp) * 1000;
    if (Math.abs(skewMs) > this.toleranceMs) {
      return { ok: false, reason: 'stale_timestamp', message: `webhook-timestamp is ${Math.round(Math.abs(skewMs) / 1000)} s ${skewMs > 0 ? 'in the past' : 'in the future'} (tolerance ${Math.round(this.toleranceMs / 1000)} s)` };
    }
    return { ok: true, deliveryId: id };
  }
}

export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}
