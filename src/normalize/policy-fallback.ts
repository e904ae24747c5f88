// TEMPORARY stand-in for src/normalize/policy.ts (owned by another engineer, not yet in the tree
// when the normalizer was written). It honours the same contract (policy-types.ts) with a small
// set of secret patterns so the normalizer can run end to end; `policy-loader.ts` prefers the real
// policy as soon as it exists. Delete this file once policy.ts has landed.

import { createHash, createHmac } from 'node:crypto';
import type { AuditEvent } from '../core/audit-event.ts';
import type { PolicyOptions } from '../core/normalizer.ts';
import type { DraftEvent, PayloadField, PayloadValues, Policy } from './policy-types.ts';

const PATTERNS: [kind: string, re: RegExp][] = [
  ['private_key', /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g],
  ['certificate', /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g],
  ['openai_api_key', /\bsk-(?:proj-|admin-|svcacct-)?[A-Za-z0-9_-]{20,}/g],
  ['anthropic_api_key', /\bsk-ant-[A-Za-z0-9_-]{20,}/g],
  ['github_token', /\bgh[pousr]_[A-Za-z0-9]{30,}/g],
  ['slack_token', /\bxox[abprs]-[A-Za-z0-9-]{10,}/g],
  ['aws_access_key_id', /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g],
  ['aws_secret_access_key', /(?<=aws_secret_access_key["'\s:=]+|AWS_SECRET_ACCESS_KEY["'\s:=]+)[A-Za-z0-9/+=]{40}/g],
  ['jwt', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
  ['npm_token', /\bnpm_[A-Za-z0-9]{30,}/g],
  ['stripe_key', /\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/g],
  ['linear_api_key', /\blin_api_[A-Za-z0-9]{20,}/g],
  ['kong_key', /\bkong_[A-Za-z0-9]{20,}/g],
  ['url_password', /(?<=:\/\/[^\s:@/]+:)[^\s@/]+(?=@)/g],
  ['password', /(?<=(?:PGPASSWORD|password|passwd|pwd)["']?\s*[=:]\s*["']?)[^\s"'&]+/gi],
  ['bearer_token', /(?<=\bBearer\s+)[A-Za-z0-9._~+/-]{16,}=*/g],
  ['api_key_param', /(?<=[?&](?:api_key|apikey|token|access_token|key)=)[^&\s"']+/gi],
  ['iban', /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b/g],
  ['us_ssn', /\b\d{3}-\d{2}-\d{4}\b/g],
  ['phone', /\+\d{10,15}\b/g],
  ['email', /[A-Za-z0-9._%+\-\u00C0-\u024F]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g],
];
// Cheap pre-filter: most strings (ids, model names) contain none of these, and skip the full list.
const ANY = /-----BEGIN|sk-|gh[pousr]_|xox[abprs]-|A[KS]IA|eyJ|npm_|[rs]k_(?:live|test)_|lin_api_|kong_|:\/\/[^\s/]*@|pass|pwd|Bearer|[?&][A-Za-z_]+=|\d{3}-\d{2}-\d{4}|[A-Z]{2}\d{2}|\+\d{10}|@|aws_secret/i;

const IDENTITY_FIELDS = new Set(['user.email', 'user.id', 'user.name', 'principal.id', 'principal.name']);
const URL_FIELDS = new Set(['url.full', 'mcp.server.url', 'mcp.resource.uri']);

/** E-mail addresses are masked in free text and payload content, not in identity fields. */
function redact(text: string, found: Set<string>, counter: { n: number }, extra: RegExp[], maskEmail = true): string {
  if (!ANY.test(text) && extra.length === 0) return text;
  let out = text;
  for (const [kind, re] of PATTERNS) {
    if (kind === 'email' && (!maskEmail || !out.includes('@'))) continue;
    out = out.replace(re, () => {
      found.add(kind);
      counter.n++;
      return `[REDACTED:${kind}]`;
    });
  }
  for (const re of extra) {
    out = out.replace(re, () => {
      found.add('custom');
      counter.n++;
      return '[REDACTED:custom]';
    });
  }
  return out;
}

function sanitizeUrl(v: string): string {
  const q = v.search(/[?#]/);
  let s = q >= 0 ? v.slice(0, q) : v;
  s = s.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
  return s;
}

export function createPolicy(options: PolicyOptions): Policy {
  const extra = (options.extraPatterns ?? []).map((p) => new RegExp(p, 'g'));
  const digest = (bytes: Buffer): string =>
    options.hmacKey !== undefined ? createHmac('sha256', options.hmacKey).update(bytes).digest('hex') : createHash('sha256').update(bytes).digest('hex');

  return {
    apply(draft: DraftEvent, payloads: PayloadValues): AuditEvent {
      const found = new Set<string>();
      const counter = { n: 0 };
      const fields: string[] = [];
      const walk = (v: unknown, path: string): unknown => {
        if (typeof v === 'string') {
          let s = URL_FIELDS.has(path) ? sanitizeUrl(v) : v;
          s = redact(s, found, counter, extra, !IDENTITY_FIELDS.has(path));
          if (s !== v) fields.push(path);
          return s;
        }
        if (Array.isArray(v)) return v.map((x) => walk(x, path));
        if (v !== null && typeof v === 'object') {
          const o: Record<string, unknown> = {};
          for (const k in v) o[k] = walk((v as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`);
          return o;
        }
        return v;
      };
      const event = walk(draft, '') as AuditEvent;
      const payload: AuditEvent['payload'] = { mode: options.payloadMode };
      if (options.payloadMode !== 'none') {
        payload.algorithm = options.hmacKey !== undefined ? 'hmac-sha256' : 'sha256';
        for (const [field, value] of Object.entries(payloads) as [PayloadField, unknown][]) {
          if (value === undefined || value === null) continue;
          const text = typeof value === 'string' ? value : JSON.stringify(value);
          const bytes = Buffer.from(text, 'utf8');
          const entry: { hash: string; bytes: number; content?: string } = { hash: digest(bytes), bytes: bytes.length };
          if (options.payloadMode === 'full') entry.content = redact(text, found, counter, extra);
          payload[field] = entry;
        }
      }
      event.payload = payload;
      event.redaction = counter.n > 0 ? { applied: true, count: counter.n, kinds: [...found].sort(), fields } : { applied: false };
      return event;
    },
    redactText(text: string): string {
      return redact(text, new Set(), { n: 0 }, extra);
    },
  };
}
