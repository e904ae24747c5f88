import { createHash, createHmac } from 'node:crypto';
import type { AuditEvent } from '../core/audit-event.ts';
import type { PolicyOptions } from '../core/normalizer.ts';
import type { DraftEvent, PayloadField, PayloadValues, Policy } from './policy-types.ts';
import { createRedactor, type RedactionTally } from './redaction/redactor.ts';
import { sanitizeUrl, URL_FIELDS } from './url-sanitizer.ts';

// The policy every event passes before it is validated, spooled or written anywhere:
// secrets are redacted in every string, URLs lose query, fragment and userinfo, and payloads
// (prompts, completions, tool arguments/results, bodies) are replaced by a digest and a size —
// or, in payload mode `full`, kept with secrets redacted and e-mail addresses masked.

/**
 * Fields that name who acted: an e-mail address there is the identity an investigator pivots
 * on, not personal data leaking from a payload, so it is kept (secrets are still redacted).
 */
const IDENTITY_FIELDS: ReadonlySet<string> = new Set(['user.email', 'user.id', 'user.name', 'principal.id', 'principal.name']);

/** Maps whose keys come from the input (resource attribute names, changed setting names). */
const FREE_FORM_MAPS: ReadonlySet<string> = new Set(['labels', 'config.changes']);

type MutablePayload = { -readonly [K in keyof NonNullable<AuditEvent['payload']>]: NonNullable<AuditEvent['payload']>[K] };

export function createPolicy(options: PolicyOptions): Policy {
  const redactor = createRedactor(options.extraPatterns ?? []);
  const hmacKey = options.hmacKey;
  // Short prompts can be found from a plain SHA-256 by guessing; a keyed HMAC cannot.
  const digest = (bytes: Buffer): string =>
    hmacKey !== undefined ? createHmac('sha256', hmacKey).update(bytes).digest('hex') : createHash('sha256').update(bytes).digest('hex');

  function redactTree(draft: DraftEvent, tally: RedactionTally, fields: string[]): AuditEvent {
    const walk = (value: unknown, path: string): unknown => {
      if (typeof value === 'string') {
        const clean = URL_FIELDS.has(path) ? sanitizeUrl(value) : value;
        const out = redactor.redact(clean, tally, IDENTITY_FIELDS.has(path) ? { keepEmail: true } : undefined);
        if (out !== value) fields.push(path);
        return out;
      }
      if (Array.isArray(value)) return value.map((item) => walk(item, path));
      if (value !== null && typeof value === 'object') {
        const copy: Record<string, unknown> = {};
        const freeForm = FREE_FORM_MAPS.has(path);
        for (const key in value) {
          const child = walk((value as Record<string, unknown>)[key], path === '' ? key : `${path}.${key}`);
          const safeKey = freeForm ? redactor.redact(key, tally) : key;
          if (safeKey !== key) fields.push(path);
          copy[safeKey] = child;
        }
        return copy;
      }
      return value;
    };
    return walk(draft, '') as AuditEvent;
  }

  function digestPayloads(payloads: PayloadValues, tally: RedactionTally): NonNullable<AuditEvent['payload']> {
    const payload: MutablePayload = { mode: options.payloadMode };
    if (options.payloadMode === 'none') return payload;
    payload.algorithm = hmacKey !== undefined ? 'hmac-sha256' : 'sha256';
    for (const field in payloads) {
      const value = payloads[field as PayloadField];
      if (value === undefined || value === null) continue;
      // Structured payloads (tool arguments as objects) are hashed as their compact JSON text.
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      const bytes = Buffer.from(text, 'utf8');
      const entry: { hash: string; bytes: number; content?: string } = { hash: digest(bytes), bytes: bytes.length };
      if (options.payloadMode === 'full') entry.content = redactor.redact(text, tally);
      payload[field as PayloadField] = entry;
    }
    return payload;
  }

  return {
    apply(draft: DraftEvent, payloads: PayloadValues): AuditEvent {
      const tally: RedactionTally = { count: 0, kinds: new Set() };
      const fields: string[] = [];
      const event = redactTree(draft, tally, fields);
      event.payload = digestPayloads(payloads, tally);
      event.redaction = tally.count > 0 ? { applied: true, count: tally.count, kinds: [...tally.kinds].sort(), fields } : { applied: false };
      return event;
    },
    redactText(text: string): string {
      return redactor.redact(text);
    },
  };
}
