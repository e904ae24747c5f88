// The shape of a mapping file in mappings/sources/*.yaml, as a user writes it. The compiler
// (mapping-compiler.ts) turns one of these into plain functions once, at start-up; nothing here
// is looked at per event.
//
// Paths name a value in the record: a root variable (`record`, `meta`, `ctx`, an `explode` alias
// or a `let` name) followed by `.key`, `["key.with.dots"]`, `[0]` or `[other.path]` (a key read
// from another value, e.g. `item[item.type]`).

import type { PayloadField } from './policy-types.ts';

/** Conversion applied to a source value. Schema-typed targets get a default conversion. */
export type ConversionName =
  | 'string'
  | 'int'
  | 'number'
  | 'bool'
  | 'time' // auto: ISO, python "YYYY-MM-DD HH:MM:SS.ffffff", epoch s/ms/µs/ns by magnitude
  | 'time_iso'
  | 'time_s'
  | 'time_ms'
  | 'time_ns'
  | 'hex_id' // hex (optionally `prefix_`-ed or a dashed uuid) or base64 → lowercase hex
  | 'trace_id' // hex_id that must be 32 hex digits, else absent
  | 'span_id' // hex_id that must be 16 hex digits, else absent
  | 'json' // a string holding JSON → its value (objects/arrays pass through)
  | 'otlp_attributes' // [{key, value: AnyValue}] → { key: plain value }
  | 'otlp_value' // AnyValue → plain value
  | 'string_array'
  | 'lower'
  | 'upper'
  | 'url' // → {full, scheme, domain, port, path} without query, fragment or userinfo
  | 'raw'; // no conversion at all (also disables the schema-implied one)

/**
 * Where a value comes from and how it is converted. A bare string is a path; a list is "the first
 * of these that is present" (not null, undefined or "").
 */
export type ValueSpec = string | number | boolean | null | ValueObject | ValueSpec[];

export interface ValueObject {
  /** A constant. */
  value?: unknown;
  /** A path, a nested spec, or a list of them: the first one present (not null/undefined/"") wins. */
  from?: ValueSpec | ValueSpec[];
  type?: ConversionName;
  /** Lookup table applied after conversion: source value (as string) → result. */
  map?: Record<string, unknown>;
  /** Result when the looked-up value is absent from `map` (absent: keep undefined). */
  map_default?: unknown;
  /** Result when everything above produced nothing. */
  default?: unknown;
  /**
   * Conditional: the first `if` that holds gives its `then`. In `then` and `else` a bare string is
   * a constant (`then: llm.call`); use `{from: path}` or a list of paths to read the record.
   */
  when?: { if: Condition; then: ValueSpec }[];
  else?: ValueSpec;
  /** Multiply a number (e.g. seconds → ms). */
  scale?: number;
  /** Milliseconds between two times (each converted with `time`). */
  duration_ms?: { start: ValueSpec; end: ValueSpec };
  /** Concatenate several values (absent parts are skipped; all absent → absent). */
  concat?: ValueSpec[];
  separator?: string;
  /** Split a string and take one part, e.g. MCP tool names `mcp__server__tool`. */
  split?: { separator: string; index: number; min_parts?: number };
  /** Regular expression: the first capture group (or whole match) of the value, else absent. */
  extract?: string;
  /** The first key of an object that is not listed (e.g. Kong's `ai.<plugin>` block). */
  first_key_except?: string[];
}

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | PredicateSpec;

export interface PredicateSpec {
  /** Shorthand: `has: key` = `{path: record.key, exists: true}`. */
  has?: string;
  path?: string;
  value?: ValueSpec;
  exists?: boolean;
  eq?: unknown;
  ne?: unknown;
  in?: unknown[];
  prefix?: string;
  suffix?: string;
  contains?: string;
  matches?: string;
  is?: 'array' | 'object' | 'string' | 'number' | 'boolean' | 'empty_array';
  gte?: number;
  lt?: number;
}

export interface ExplodeLevel {
  /** Array to iterate; each element is bound to `as`. */
  path: string;
  as: string;
  /** When `path` is not an array: bind this value (a path) once instead, e.g. the record itself. */
  fallback?: string;
}

export interface MappingFile {
  name: string;
  description?: string;
  product: { name: string; vendor: string };
  detect?: { priority?: number; when: Condition };
  explode?: ExplodeLevel[];
  /** Skip an exploded item (no event, not a dead letter) when this holds. */
  skip_if?: Condition;
  /** Per-item variables, computed in order; later ones and `fields` may use earlier ones. */
  let?: Record<string, ValueSpec>;
  /** Canonical field (dotted path in the AuditEvent schema) → value. */
  fields: Record<string, ValueSpec>;
  /** `labels.<key>` values (string). */
  labels?: Record<string, ValueSpec>;
  /** Raw payload values the policy hashes (never copied into fields). */
  payloads?: Partial<Record<PayloadField, ValueSpec>>;
}
