// Typed conversions used by compiled mappings. Each takes whatever the record holds and returns
// the converted value or `undefined` (absent): a conversion never throws, so one odd field (an old
// CLI sending `status_code: "undefined"`) drops that field, not the event.
//
// Times become the canonical form: RFC 3339 UTC with `Z`, keeping the source precision up to
// nanoseconds. Nanosecond epochs are handled as BigInt (they exceed 2^53).

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const DIGITS_RE = /^-?\d+$/;
const DECIMAL_RE = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const HEX_RE = /^[0-9a-fA-F]+$/;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const NS_PER_S = 1_000_000_000n;

export function toStr(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return Number.isFinite(v) ? String(v) : undefined;
    case 'boolean':
    case 'bigint':
      return String(v);
    default:
      return undefined;
  }
}

export function toInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v) : undefined;
  if (typeof v === 'string') {
    if (DIGITS_RE.test(v)) {
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : undefined;
    }
    if (DECIMAL_RE.test(v)) {
      const n = Number(v);
      return Number.isFinite(n) ? Math.round(n) : undefined;
    }
    return undefined;
  }
  if (typeof v === 'bigint') {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

export function toNum(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && DECIMAL_RE.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function toBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true' || s === '1' || s === 'yes') return true;
    if (s === 'false' || s === '0' || s === 'no') return false;
    return undefined;
  }
  if (v === 1) return true;
  if (v === 0) return false;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Time

let cachedSecond = -1n;
let cachedPrefix = '';

/** Formats seconds + nanoseconds since the epoch as canonical RFC 3339 (fraction trimmed, ≥ ms). */
function formatNs(ns: bigint): string | undefined {
  if (ns <= 0n) return undefined; // OTLP: 0 means "unset"
  const sec = ns / NS_PER_S;
  const frac = ns % NS_PER_S;
  if (sec !== cachedSecond) {
    const ms = Number(sec) * 1000;
    if (!Number.isFinite(ms) || ms > 253402300799000) return undefined; // past year 9999
    cachedPrefix = new Date(ms).toISOString().slice(0, 19);
    cachedSecond = sec;
  }
  return `${cachedPrefix}.${trimFraction(frac.toString().padStart(9, '0'))}Z`;
}

function trimFraction(f: string): string {
  let end = f.length;
  while (end > 3 && f.charCodeAt(end - 1) === 48) end--;
  return f.slice(0, end);
}

/** Epoch in a given unit (1 = s, 1e3 = ms, 1e6 = µs, 1e9 = ns) → canonical time. */
function fromEpoch(v: unknown, perSecond: number): string | undefined {
  if (typeof v === 'bigint') return formatNs(v * (NS_PER_S / BigInt(perSecond)));
  if (typeof v === 'string') {
    if (DIGITS_RE.test(v)) return formatNs(BigInt(v) * (NS_PER_S / BigInt(perSecond)));
    if (!DECIMAL_RE.test(v)) return undefined;
    v = Number(v);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  if (Number.isInteger(v) && perSecond === 1e9) return formatNs(BigInt(v)); // precision already lost beyond 2^53
  // Floats keep microsecond precision (what a double holds at today's epoch in seconds).
  const micros = Math.round((v * 1e6) / perSecond);
  return formatNs(BigInt(micros) * 1000n);
}

export const timeS = (v: unknown): string | undefined => fromEpoch(v, 1);
export const timeMs = (v: unknown): string | undefined => fromEpoch(v, 1e3);
export const timeNs = (v: unknown): string | undefined => fromEpoch(v, 1e9);

const UTC_OFFSET_RE = /^[+-]00(?::?00)?$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(y: number, m: number): number {
  return m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : MONTH_DAYS[m - 1]!;
}

/** ISO 8601 / RFC 3339 (any offset; no zone = UTC) or python `YYYY-MM-DD HH:MM:SS.ffffff`. */
export function timeIso(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = ISO_RE.exec(v);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, fracRaw, zone] = m as unknown as string[];
  const month = +mo!;
  const day = +d!;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(+y!, month) || +h! > 23 || +mi! > 59 || +s! > 59) return undefined;
  const frac = fracRaw === undefined ? '000' : trimFraction(fracRaw.slice(0, 9).padEnd(3, '0'));
  if (zone === undefined || zone === 'Z' || zone === 'z' || UTC_OFFSET_RE.test(zone)) {
    return `${y}-${mo}-${d}T${h}:${mi}:${s}.${frac}Z`;
  }
  const ms = Date.UTC(+y!, month - 1, day, +h!, +mi!, +s!);
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offsetMin = +digits.slice(0, 2) * 60 + (digits.length > 2 ? +digits.slice(2, 4) : 0);
  const utc = new Date(ms - sign * offsetMin * 60_000).toISOString().slice(0, 19);
  return `${utc}.${frac}Z`;
}

/** Any time representation: ISO/python strings, or epoch numbers/digit strings by magnitude. */
export function timeAuto(v: unknown): string | undefined {
  if (typeof v === 'string') {
    if (DECIMAL_RE.test(v)) {
      const intDigits = v.replace(/^-/, '').split('.')[0]!.length;
      return fromEpoch(v, intDigits <= 11 ? 1 : intDigits <= 14 ? 1e3 : intDigits <= 17 ? 1e6 : 1e9);
    }
    return timeIso(v);
  }
  if (typeof v === 'bigint') return formatNs(v);
  if (typeof v === 'number') {
    const a = Math.abs(v);
    return fromEpoch(v, a < 1e11 ? 1 : a < 1e14 ? 1e3 : a < 1e17 ? 1e6 : 1e9);
  }
  return undefined;
}

/** Canonical time → ns since epoch (for durations). */
function canonicalToNs(t: string): bigint | undefined {
  const ms = Date.parse(t.slice(0, 19) + 'Z');
  if (Number.isNaN(ms)) return undefined;
  const dot = t.indexOf('.', 19);
  const frac = dot < 0 ? '0' : t.slice(dot + 1, t.length - 1).padEnd(9, '0').slice(0, 9);
  return BigInt(ms) * 1_000_000n + BigInt(frac);
}

/** Milliseconds from start to end (both canonical times); absent if either is missing or end < start. */
export function durationMs(start: string | undefined, end: string | undefined): number | undefined {
  if (start === undefined || end === undefined) return undefined;
  const a = canonicalToNs(start);
  const b = canonicalToNs(end);
  if (a === undefined || b === undefined || b < a) return undefined;
  return Number(b - a) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Ids

/** Hex, `prefix_<hex>`, dashed UUID or base64 (OTLP proto-JSON default) → lowercase hex. */
export function hexId(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length === 0) return undefined;
  if (HEX_RE.test(v)) return v.length % 2 === 0 ? v.toLowerCase() : undefined;
  if (UUID_RE.test(v)) return v.replaceAll('-', '').toLowerCase();
  const us = v.lastIndexOf('_');
  if (us > 0) {
    const tail = v.slice(us + 1);
    if (tail.length % 2 === 0 && HEX_RE.test(tail)) return tail.toLowerCase();
  }
  if (v.length % 4 === 0 && BASE64_RE.test(v)) return Buffer.from(v, 'base64').toString('hex');
  return undefined;
}

const ZERO_RE = /^0+$/;
export function traceId(v: unknown): string | undefined {
  const h = hexId(v);
  return h !== undefined && h.length === 32 && !ZERO_RE.test(h) ? h : undefined;
}
export function spanId(v: unknown): string | undefined {
  const h = hexId(v);
  return h !== undefined && h.length === 16 && !ZERO_RE.test(h) ? h : undefined;
}

// ---------------------------------------------------------------------------------------------
// Structures

export function json(v: unknown): unknown {
  if (typeof v !== 'string') return v === null ? undefined : v;
  const c = v.charCodeAt(0);
  // Only strings that look like JSON containers or scalars are parsed; others are absent.
  if (c !== 123 && c !== 91 && c !== 34 && !(c >= 48 && c <= 57) && c !== 45 && v !== 'true' && v !== 'false') return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** OTLP AnyValue ({stringValue}|{intValue}|…) → plain JS value. intValue may be a number or a string. */
export function otlpValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if ('stringValue' in o) return o.stringValue;
  if ('intValue' in o) {
    const i = o.intValue;
    if (typeof i === 'string' && DIGITS_RE.test(i)) {
      const n = Number(i);
      return Number.isSafeInteger(n) ? n : i; // int64 beyond 2^53 stays a decimal string
    }
    return i;
  }
  if ('doubleValue' in o) {
    const d = o.doubleValue;
    return typeof d === 'string' ? toNum(d) : d;
  }
  if ('boolValue' in o) return o.boolValue;
  if ('arrayValue' in o) {
    const values = (o.arrayValue as { values?: unknown[] } | null)?.values;
    return Array.isArray(values) ? values.map(otlpValue) : [];
  }
  if ('kvlistValue' in o) return otlpAttributes((o.kvlistValue as { values?: unknown } | null)?.values);
  if ('bytesValue' in o) return o.bytesValue;
  return undefined;
}

/** OTLP KeyValue list → object (a plain object passes through). */
export function otlpAttributes(v: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(v)) {
    // No prototype: an attribute named "__proto__" or "toString" is just a key.
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (let i = 0; i < v.length; i++) {
      const kv = v[i] as { key?: unknown; value?: unknown } | null;
      if (kv !== null && typeof kv === 'object' && typeof kv.key === 'string') out[kv.key] = otlpValue(kv.value);
    }
    return out;
  }
  if (v !== null && typeof v === 'object') return v as Record<string, unknown>;
  return undefined;
}

export function stringArray(v: unknown): string[] | undefined {
  if (typeof v === 'string') return v.length > 0 ? [v] : undefined;
  if (!Array.isArray(v)) return undefined;
  const out: string[] = [];
  for (const x of v) {
    const s = toStr(x);
    if (s !== undefined && s.length > 0) out.push(s);
  }
  return out.length > 0 ? out : undefined;
}

export interface UrlParts {
  full: string;
  scheme: string;
  domain: string;
  port?: number;
  path: string;
}

/** URL → parts without query string, fragment or userinfo (those may hold credentials). */
export function urlParts(v: unknown): UrlParts | undefined {
  if (typeof v !== 'string' || v.length === 0) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return undefined;
  }
  const scheme = u.protocol.slice(0, -1);
  const out: UrlParts = { full: `${u.protocol}//${u.host}${u.pathname}`, scheme, domain: u.hostname, path: u.pathname };
  if (u.port !== '') out.port = Number(u.port);
  return out;
}

export function lower(v: unknown): string | undefined {
  return typeof v === 'string' ? v.toLowerCase() : undefined;
}
export function upper(v: unknown): string | undefined {
  return typeof v === 'string' ? v.toUpperCase() : undefined;
}

/** First own key of an object that is not in `except` (Kong `ai.<plugin>`). */
export function firstKeyExcept(v: unknown, except: ReadonlySet<string>): string | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  for (const k in v) if (!except.has(k)) return k;
  return undefined;
}

export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}
