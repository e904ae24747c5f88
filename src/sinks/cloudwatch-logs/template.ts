import type { AuditEvent } from '../../core/audit-event.ts';
import { ConfigError } from '../../core/errors.ts';
import { MAX_NAME_LENGTH } from './limits.ts';

// Log group and stream names from canonical event fields and the event time, so one sink can
// write per agent, per tenant or per day. The syntax:
//   {{ gen_ai.agent.name }}          value of a canonical field (dotted path; string, number, boolean)
//   {{ tenant.id ?? shared }}        the text after ?? when the field is missing or empty
//   %Y %m %d %H                      UTC year, month, day, hour of event.time; %% is a literal %
// A missing field without a fallback renders as "unknown": an event is never held back or
// dropped for its name. Characters the name may not contain become "_", and the result is cut
// to 512 characters (the API's limit).

type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'field'; readonly path: readonly string[]; readonly fallback: string }
  | { readonly kind: 'time'; readonly unit: 'Y' | 'm' | 'd' | 'H' };

export interface NameTemplate {
  readonly source: string;
  /** No field or time token: the same name for every event. */
  readonly isStatic: boolean;
  /** The text before the first token (a DescribeLogGroups prefix at start-up). */
  readonly staticPrefix: string;
  render(event: AuditEvent, time: number): string;
}

const FIELD = /^\s*([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\s*(?:\?\?\s*(.*?))?\s*$/;

export function compileTemplate(source: string, where: string, sanitize: (name: string) => string): NameTemplate {
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < source.length; ) {
    if (source.startsWith('{{', i)) {
      const end = source.indexOf('}}', i + 2);
      if (end < 0) throw new ConfigError('bad_template', `${where}: '{{' at character ${i + 1} is not closed by '}}'`, { path: where });
      const m = FIELD.exec(source.slice(i + 2, end));
      if (!m) throw new ConfigError('bad_template', `${where}: '${source.slice(i, end + 2)}' is not a field reference (e.g. {{ gen_ai.agent.name }} or {{ tenant.id ?? shared }})`, { path: where });
      if (text) parts.push({ kind: 'text', text });
      text = '';
      parts.push({ kind: 'field', path: m[1]!.split('.'), fallback: m[2] ?? 'unknown' });
      i = end + 2;
    } else if (source[i] === '%') {
      const c = source[i + 1];
      if (c === '%') text += '%';
      else if (c === 'Y' || c === 'm' || c === 'd' || c === 'H') {
        if (text) parts.push({ kind: 'text', text });
        text = '';
        parts.push({ kind: 'time', unit: c });
      } else throw new ConfigError('bad_template', `${where}: '%${c ?? ''}' at character ${i + 1} is not a time token (use %Y, %m, %d, %H, or %% for a literal %)`, { path: where });
      i += 2;
    } else {
      text += source[i];
      i++;
    }
  }
  if (text) parts.push({ kind: 'text', text });
  const firstToken = parts.findIndex((p) => p.kind !== 'text');
  const isStatic = firstToken < 0;
  const staticPrefix = (isStatic ? parts : parts.slice(0, firstToken)).map((p) => (p as { text: string }).text).join('');
  if (isStatic) {
    const name = sanitize(staticPrefix);
    if (name !== staticPrefix) throw new ConfigError('bad_name', `${where}: '${source}' is not a valid name here (${describeDifference(staticPrefix, sanitize)})`, { path: where });
    return { source, isStatic, staticPrefix, render: () => name };
  }
  return {
    source,
    isStatic,
    staticPrefix,
    render(event, time) {
      let out = '';
      let date: Date | undefined;
      for (const p of parts) {
        if (p.kind === 'text') out += p.text;
        else if (p.kind === 'field') out += fieldText(event, p.path) ?? p.fallback;
        else {
          date ??= new Date(Number.isFinite(time) ? time : 0);
          out += timeText(date, p.unit);
        }
      }
      return sanitize(out);
    },
  };
}

function fieldText(event: AuditEvent, path: readonly string[]): string | undefined {
  let v: unknown = event;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

function timeText(d: Date, unit: 'Y' | 'm' | 'd' | 'H'): string {
  switch (unit) {
    case 'Y':
      return String(d.getUTCFullYear()).padStart(4, '0');
    case 'm':
      return String(d.getUTCMonth() + 1).padStart(2, '0');
    case 'd':
      return String(d.getUTCDate()).padStart(2, '0');
    case 'H':
      return String(d.getUTCHours()).padStart(2, '0');
  }
}

function describeDifference(given: string, sanitize: (name: string) => string): string {
  if (given.length === 0) return 'empty';
  if (given.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`;
  const bad = [...new Set([...given].filter((c) => sanitize(c) !== c))].join(' ');
  return `characters not allowed: ${bad}`;
}

/** Log group names: [.\-_/#A-Za-z0-9]{1,512}. */
export function sanitizeGroupName(name: string): string {
  const s = name.replace(/[^.\-_/#A-Za-z0-9]/g, '_').slice(0, MAX_NAME_LENGTH);
  return s === '' ? 'unknown' : s;
}

/** Log stream names: [^:*]{1,512}. */
export function sanitizeStreamName(name: string): string {
  const s = name.replace(/[:*]/g, '_').slice(0, MAX_NAME_LENGTH);
  return s === '' ? 'unknown' : s;
}
