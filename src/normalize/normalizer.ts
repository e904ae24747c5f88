// RawRecord → redacted, schema-valid canonical events (or dead letters with a reason).
//
// Order per record: empty? → valid UTF-8? → JSON → mapping (configured or detected) → items →
// per item: ids + origin → policy (redact, hash payloads) → ajv. Everything that can be done once
// (mapping compilation, schema compilation, regexes) is done in createNormalizer.

import { hash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { hostname } from 'node:os';
import type { AuditEvent } from '../core/audit-event.ts';
import type { DeadLetter, DeadLetterReason } from '../core/dead-letter.ts';
import { ConfigError } from '../core/errors.ts';
import { eventId } from '../core/event-id.ts';
import type { NormalizeResult, Normalizer, PolicyOptions } from '../core/normalizer.ts';
import type { RawRecord, SourcePosition } from '../core/raw-record.ts';
import { describeJsonError } from './json-error.ts';
import type { CompiledMapping } from './mapping-compiler.ts';
import { createPolicy } from './policy.ts';
import type { DraftEvent, Policy } from './policy-types.ts';
import { loadMappings, type MappingRegistry } from './registry.ts';
import { validateEvent } from './schema-validator.ts';

export interface NormalizerOptions {
  /** Extra directories of mapping files (after the built-in mappings/sources/; same name overrides). */
  readonly mappingDirs?: readonly string[];
  /** Load mappings/sources/ (default true). */
  readonly includeBuiltinMappings?: boolean;
  /** Use this registry instead of loading one (several normalizers can share it). */
  readonly registry?: MappingRegistry;
  /** Format for records that do not name one: a mapping name or 'auto' (default 'auto'). */
  readonly defaultFormat?: string;
  readonly policy?: PolicyOptions;
  /** Policy implementation (default: createPolicy from ./policy.ts); stage benchmarks and tests may swap it. */
  readonly policyFactory?: (options: PolicyOptions) => Policy;
  /** origin.host (default: this machine's host name). */
  readonly host?: string;
  /** Clock for event.observed_time, ms since epoch (default Date.now). */
  readonly now?: () => number;
  /** Dead-letter `raw` is cut to this many characters after redaction (default 65536). */
  readonly maxRawChars?: number;
}

export const NORMALIZER_DEFAULTS = {
  defaultFormat: 'auto',
  policy: { payloadMode: 'hash' } as PolicyOptions,
  maxRawChars: 65536,
} as const;

export interface MappingNormalizer extends Normalizer {
  readonly registry: MappingRegistry;
  /** A dead letter for a record rejected before normalization (line too long, body too large). */
  reject(record: RawRecord, reason: DeadLetterReason, message: string, rawPrefix?: string): DeadLetter;
  /** Which mapping would handle the record and why (detection verdict per format). */
  explain(record: RawRecord): string[];
}

const EMPTY_META: Readonly<Record<string, string>> = Object.freeze({});

/** Validates normalizer options; returns human-readable problems (empty when fine). */
export function validateNormalizerOptions(o: NormalizerOptions, registry: MappingRegistry): string[] {
  const problems: string[] = [];
  const f = o.defaultFormat ?? 'auto';
  if (f !== 'auto' && registry.get(f) === undefined) problems.push(`unknown format '${f}' (known: auto, ${registry.names().join(', ')})`);
  const mode = o.policy?.payloadMode;
  if (mode !== undefined && mode !== 'none' && mode !== 'hash' && mode !== 'full') problems.push(`payload mode must be none, hash or full (got '${String(mode)}')`);
  if (o.maxRawChars !== undefined && !(o.maxRawChars > 0)) problems.push('maxRawChars must be > 0');
  return problems;
}

function originPosition(p: SourcePosition): NonNullable<AuditEvent['origin']['position']> {
  switch (p.kind) {
    case 'file':
      return { file: p.line !== undefined ? { path: p.path, offset: p.offset, line: p.line } : { path: p.path, offset: p.offset } };
    case 'kafka':
      return { kafka: { topic: p.topic, partition: p.partition, offset: p.offset } };
    case 'http':
      return { http: { path: p.path, delivery_id: p.deliveryId } };
  }
}

/** Offset of the first byte that is not valid UTF-8 (error path only). */
export function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need = 0;
    let min = 0;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/** Cuts text to at most `max` chars, backing off to a delimiter so no token (secret) is cut in half. */
export function safePrefix(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const min = Math.max(0, max - 512);
  while (end > min && !/[\s,{}[\]":]/.test(text[end - 1]!)) end--;
  return `${text.slice(0, end)}…[truncated]`;
}

function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

export function createNormalizer(options: NormalizerOptions = {}): MappingNormalizer {
  const registry = options.registry ?? loadMappings(options.mappingDirs ?? [], options.includeBuiltinMappings ?? true);
  const problems = validateNormalizerOptions(options, registry);
  if (problems.length > 0) throw new ConfigError('normalizer_invalid', `normalizer: ${problems.join('; ')}`, { problems });
  const policy: Policy = (options.policyFactory ?? createPolicy)(options.policy ?? NORMALIZER_DEFAULTS.policy);
  const host = options.host ?? hostname();
  const now = options.now ?? Date.now;
  const maxRaw = options.maxRawChars ?? NORMALIZER_DEFAULTS.maxRawChars;
  const defaultFormat = options.defaultFormat ?? NORMALIZER_DEFAULTS.defaultFormat;
  const fixed = defaultFormat === 'auto' ? undefined : registry.get(defaultFormat);

  let lastMs = -1;
  let lastIso = '';
  const observed = (): string => {
    const ms = now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };

  const redactedRaw = (text: string): string => safePrefix(policy.redactText(text), maxRaw);

  function deadLetter(record: RawRecord, reason: DeadLetterReason, message: string, raw: string, format?: string, event?: AuditEvent): DeadLetter {
    const dl: { -readonly [K in keyof DeadLetter]: DeadLetter[K] } = {
      reason,
      message: policy.redactText(message),
      source: record.source,
      position: record.position,
      raw,
      time: now(),
    };
    if (format !== undefined) dl.format = format;
    if (event !== undefined) dl.event = event;
    return dl;
  }

  function chooseMapping(record: RawRecord, parsed: unknown): CompiledMapping | string {
    const name = record.format ?? defaultFormat;
    if (name !== 'auto') {
      if (record.format === undefined && fixed !== undefined) return fixed;
      return registry.get(name) ?? `unknown format '${name}'`;
    }
    return registry.detect(parsed) ?? 'no mapping matched this record (auto-detection); run with --explain to see why each format was rejected, or name the format';
  }

  function normalize(record: RawRecord): NormalizeResult {
    const bytes = record.bytes;
    if (bytes.length === 0 || (bytes[0] !== 123 && bytes[0] !== 91 && isBlank(bytes))) return { events: [], deadLetters: [deadLetter(record, 'empty_record', 'record is empty', '')] };
    if (!isUtf8(bytes)) {
      const at = firstInvalidUtf8(bytes);
      return {
        events: [],
        deadLetters: [deadLetter(record, 'invalid_utf8', `invalid UTF-8 at byte ${at < 0 ? 0 : at}`, redactedRaw(bytes.toString('utf8')))],
      };
    }
    let text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { events: [], deadLetters: [deadLetter(record, 'invalid_json', describeJsonError(text), redactedRaw(text))] };
    }
    const mapping = chooseMapping(record, parsed);
    if (typeof mapping === 'string') {
      return { events: [], deadLetters: [deadLetter(record, 'no_mapping', mapping, redactedRaw(text), record.format)] };
    }
    let items;
    try {
      items = mapping.map(parsed, record.meta ?? EMPTY_META, { received_at: record.receivedAt });
    } catch (e) {
      return {
        events: [],
        deadLetters: [deadLetter(record, 'mapping_error', `mapping ${mapping.name} failed: ${(e as Error).message}`, redactedRaw(text), mapping.name)],
        format: mapping.name,
      };
    }
    const events: AuditEvent[] = [];
    let deadLetters: DeadLetter[] | undefined;
    if (items.length === 0) return { events, deadLetters: [], format: mapping.name };
    const rawSha = hash('sha256', bytes, 'hex');
    const position = originPosition(record.position);
    const obs = observed();
    for (let i = 0; i < items.length; i++) {
      const { draft, payloads } = items[i]!;
      const ev = (draft.event ??= {}) as Record<string, unknown>;
      ev.id = eventId(record.source, record.position, i);
      ev.observed_time = obs;
      if (ev.outcome === undefined) ev.outcome = 'unknown';
      const mapped = draft.origin as { original_event_id?: string; original_time?: string; product?: { version?: string } } | undefined;
      const origin: AuditEvent['origin'] = {
        input: record.input,
        source: record.source,
        format: mapping.name,
        product: mapped?.product?.version !== undefined ? { ...mapping.product, version: mapped.product.version } : mapping.product,
        position,
        index: i,
        raw_sha256: rawSha,
        raw_bytes: bytes.length,
        host,
      };
      if (mapped?.original_event_id !== undefined) origin.original_event_id = mapped.original_event_id;
      if (mapped?.original_time !== undefined) origin.original_time = mapped.original_time;
      draft.origin = origin;
      // The compiled mapping already put schema_version first in the draft.
      let event: AuditEvent;
      try {
        event = policy.apply(draft as unknown as DraftEvent, payloads);
      } catch (e) {
        (deadLetters ??= []).push(deadLetter(record, 'mapping_error', `policy failed on item ${i}: ${(e as Error).message}`, redactedRaw(text), mapping.name));
        continue;
      }
      const invalid = validateEvent(event);
      if (invalid === undefined) events.push(event);
      else (deadLetters ??= []).push(deadLetter(record, 'schema_invalid', `item ${i}: ${invalid}`, redactedRaw(text), mapping.name, event));
    }
    return { events, deadLetters: deadLetters ?? [], format: mapping.name };
  }

  function explain(record: RawRecord): string[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(record.bytes.toString('utf8'));
    } catch {
      return ['not JSON: no format can apply'];
    }
    const name = record.format ?? defaultFormat;
    if (name !== 'auto') return [`format ${name} (configured, detection skipped)`];
    const lines: string[] = [];
    let chosen: string | undefined;
    for (const r of registry.explain(parsed)) {
      if (r.matched && chosen === undefined) {
        chosen = r.format;
        lines.unshift(`matched ${r.format} (priority ${r.priority}): ${r.reason}`);
      } else if (r.matched) lines.push(`  also matches ${r.format} (priority ${r.priority}, lower): ${r.reason}`);
      else lines.push(`  rejected ${r.format} (priority ${r.priority}): ${r.reason}`);
    }
    if (chosen === undefined) lines.unshift('no format matched');
    return lines.map((l) => policy.redactText(l));
  }

  return {
    registry,
    normalize(record: RawRecord): NormalizeResult {
      try {
        return normalize(record);
      } catch (e) {
        // Last line of defence: bad input must never throw out of the normalizer.
        let raw = '';
        try {
          raw = redactedRaw(record.bytes.toString('utf8'));
        } catch {
          /* keep empty */
        }
        return { events: [], deadLetters: [deadLetter(record, 'mapping_error', `unexpected error: ${(e as Error).message}`, raw)] };
      }
    },
    reject(record, reason, message, rawPrefix = '') {
      return deadLetter(record, reason, message, policy.redactText(safePrefix(rawPrefix, Math.min(maxRaw, 4096))));
    },
    explain,
  };
}
