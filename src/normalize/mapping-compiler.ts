// Compiles a mapping file (mapping-types.ts) into plain JS functions, once, with `new Function`:
// paths become optional-chaining property reads, lookup tables become Maps, conditions become
// boolean expressions. Per event nothing reads the mapping data structure or parses a path.
//
// Generated shape (for a mapping that explodes OTLP logs):
//   function run(record, meta, ctx) {
//     const out = [];
//     const x0 = record?.["resourceLogs"]; const l0 = Array.isArray(x0) ? x0 : EMPTY;
//     for (let i0 = 0; i0 < l0.length; i0++) { const a_resource = l0[i0];
//       ... for (...) { const a_item = ...; out.push(build(record, meta, ctx, a_resource, a_scope, a_item)); } }
//     return out;
//   }
//   function build(record, meta, ctx, a_resource, a_scope, a_item) {
//     const l_attrs = h.otlpAttributes(a_item?.["attributes"]);
//     const o = {}; let v;
//     v = h.toStr(l_attrs?.["model"]); if (h.present(v)) (o.gen_ai ??= {}).request ??= ... ;
//     ...
//     return { draft: o, payloads: p };
//   }

import { ConfigError } from '../core/errors.ts';
import * as conv from './conversions.ts';
import { canonicalFields, type FieldKind } from './canonical-fields.ts';
import { describePath, parsePath, pathToJs, PathSyntaxError } from './path.ts';
import type { Condition, ConversionName, MappingFile, PredicateSpec, ValueObject, ValueSpec } from './mapping-types.ts';
import type { PayloadField, PayloadValues } from './policy-types.ts';

export interface MappedItem {
  /** Canonical fields found by the mapping (nested objects), before the normalizer adds ids and origin. */
  readonly draft: Record<string, unknown>;
  readonly payloads: PayloadValues;
}

export interface MappingContext {
  /** ms since epoch when the record was read (`ctx.received_at` in mapping files). */
  readonly received_at: number;
}

export interface DetectionExplanation {
  readonly matched: boolean;
  /** The rule that matched, or the first condition that failed. */
  readonly reason: string;
}

export interface CompiledMapping {
  readonly name: string;
  readonly product: { readonly name: string; readonly vendor: string };
  /** Higher runs first in auto-detection. */
  readonly priority: number;
  readonly file: string;
  readonly hasDetection: boolean;
  detect(record: unknown): boolean;
  explainDetection(record: unknown): DetectionExplanation;
  /** Record → items; throws only on a bug in a mapping expression (the caller dead-letters it). */
  map(record: unknown, meta: Readonly<Record<string, string>>, ctx: MappingContext): MappedItem[];
  /** The generated code, for `--explain`-style debugging and tests. */
  readonly code: string;
}

const PAYLOAD_FIELDS: readonly PayloadField[] = [
  'prompt',
  'completion',
  'tool_arguments',
  'tool_result',
  'system_instructions',
  'request_body',
  'response_body',
];

const VALUE_KEYS = new Set([
  'value',
  'from',
  'type',
  'map',
  'map_default',
  'default',
  'when',
  'else',
  'scale',
  'duration_ms',
  'concat',
  'separator',
  'split',
  'extract',
  'first_key_except',
]);
const PREDICATE_KEYS = new Set(['has', 'path', 'value', 'exists', 'eq', 'ne', 'in', 'prefix', 'suffix', 'contains', 'matches', 'is', 'gte', 'lt']);
const TOP_KEYS = new Set(['name', 'description', 'product', 'detect', 'explode', 'skip_if', 'let', 'fields', 'labels', 'payloads']);
const NAME_RE = /^[a-z][a-z0-9_]*$/;
const VAR_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_RE = /^[a-z0-9_.]{1,64}$/;

const CONVERSIONS: Record<ConversionName, string> = {
  string: 'h.toStr',
  int: 'h.toInt',
  number: 'h.toNum',
  bool: 'h.toBool',
  time: 'h.timeAuto',
  time_iso: 'h.timeIso',
  time_s: 'h.timeS',
  time_ms: 'h.timeMs',
  time_ns: 'h.timeNs',
  hex_id: 'h.hexId',
  trace_id: 'h.traceId',
  span_id: 'h.spanId',
  json: 'h.json',
  otlp_attributes: 'h.otlpAttributes',
  otlp_value: 'h.otlpValue',
  string_array: 'h.stringArray',
  lower: 'h.lower',
  upper: 'h.upper',
  url: 'h.urlParts',
  raw: '',
};

/** Conversions whose result is final: the schema-implied conversion is not applied after them. */
const FINAL_CONVERSIONS = new Set<ConversionName>(['string', 'int', 'number', 'bool', 'time', 'time_iso', 'time_s', 'time_ms', 'time_ns', 'trace_id', 'span_id', 'string_array', 'url', 'raw']);

const IMPLIED: Record<FieldKind, string> = {
  string: 'h.toStr',
  int: 'h.toInt',
  number: 'h.toNum',
  bool: 'h.toBool',
  time: 'h.timeAuto',
  string_array: 'h.stringArray',
  object: '',
};

const EMPTY: readonly unknown[] = Object.freeze([]);

/** Helpers visible to generated code as `h`. */
const helpers = {
  ...conv,
  present: conv.isPresent,
  keyOf: (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '\u0000'),
  lookup: (table: Map<string, unknown>, v: unknown, dflt: unknown): unknown => {
    if (v === undefined || v === null) return undefined;
    const r = table.get(typeof v === 'string' ? v : String(v));
    return r === undefined ? dflt : r;
  },
  startsWith: (v: unknown, s: string): boolean => typeof v === 'string' && v.startsWith(s),
  endsWith: (v: unknown, s: string): boolean => typeof v === 'string' && v.endsWith(s),
  includes: (v: unknown, s: string): boolean => typeof v === 'string' && v.includes(s),
  test: (re: RegExp, v: unknown): boolean => typeof v === 'string' && re.test(v),
  isObj: (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v),
  isEmptyArr: (v: unknown): boolean => Array.isArray(v) && v.length === 0,
  gte: (v: unknown, n: number): boolean => {
    const x = conv.toNum(v);
    return x !== undefined && x >= n;
  },
  lt: (v: unknown, n: number): boolean => {
    const x = conv.toNum(v);
    return x !== undefined && x < n;
  },
  scale: (v: unknown, f: number): number | undefined => {
    const x = conv.toNum(v);
    return x === undefined ? undefined : x * f;
  },
  split: (v: unknown, sep: string, index: number, minParts: number): string | undefined => {
    if (typeof v !== 'string') return undefined;
    const parts = v.split(sep);
    if (parts.length < minParts) return undefined;
    const p = index < 0 ? parts[parts.length + index] : parts[index];
    return p === undefined || p === '' ? undefined : p;
  },
  extract: (re: RegExp, v: unknown): string | undefined => {
    if (typeof v !== 'string') return undefined;
    const m = re.exec(v);
    return m === null ? undefined : (m[1] ?? m[0]);
  },
  concat: (parts: unknown[], sep: string): string | undefined => {
    let out: string | undefined;
    for (const p of parts) {
      const s = conv.toStr(p);
      if (s === undefined || s === '') continue;
      out = out === undefined ? s : out + sep + s;
    }
    return out;
  },
  duration: (a: unknown, b: unknown): number | undefined => conv.durationMs(conv.timeAuto(a), conv.timeAuto(b)),
  firstKeyExcept: conv.firstKeyExcept,
  EMPTY,
};

export type Helpers = typeof helpers;

interface Scope {
  /** mapping-file root name → JS identifier */
  readonly roots: Map<string, string>;
}

class Compiler {
  readonly constants: unknown[] = [];
  private temps = 0;
  readonly tempNames: string[] = [];
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  fail(where: string, message: string): never {
    throw new ConfigError('mapping_invalid', `${this.file}: ${where}: ${message}`, { file: this.file, path: where });
  }

  constant(v: unknown): string {
    if (v === undefined) return 'undefined';
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
    this.constants.push(v);
    return `c[${this.constants.length - 1}]`;
  }

  temp(): string {
    const t = `t${this.temps++}`;
    this.tempNames.push(t);
    return t;
  }

  path(text: unknown, scope: Scope, where: string): string {
    if (typeof text !== 'string') this.fail(where, `expected a path string, got ${JSON.stringify(text)}`);
    try {
      return pathToJs(parsePath(text), (root) => {
        const id = scope.roots.get(root);
        if (id === undefined) this.fail(where, `unknown root '${root}' in path '${text}' (known: ${[...scope.roots.keys()].join(', ')})`);
        return id;
      });
    } catch (e) {
      if (e instanceof PathSyntaxError) this.fail(where, e.message);
      throw e;
    }
  }

  value(spec: ValueSpec, scope: Scope, where: string): string {
    if (typeof spec === 'string') return this.path(spec, scope, where);
    if (spec === null || typeof spec === 'number' || typeof spec === 'boolean') return JSON.stringify(spec);
    if (Array.isArray(spec)) return this.coalesce(spec, scope, where);
    if (typeof spec !== 'object') this.fail(where, 'expected a path, a constant or a value object');
    const o = spec as ValueObject;
    for (const k of Object.keys(o)) if (!VALUE_KEYS.has(k)) this.fail(where, `unknown key '${k}' (known: ${[...VALUE_KEYS].join(', ')})`);
    let js: string;
    if ('value' in o) js = this.constant(o.value);
    else if (o.from !== undefined) js = this.coalesce(Array.isArray(o.from) ? o.from : [o.from], scope, `${where}.from`);
    else if (o.when !== undefined) {
      if (!Array.isArray(o.when)) this.fail(`${where}.when`, 'expected a list of {if, then}');
      js = o.else === undefined ? 'undefined' : this.outcome(o.else, scope, `${where}.else`);
      for (let i = o.when.length - 1; i >= 0; i--) {
        const w = o.when[i]!;
        if (w === null || typeof w !== 'object' || !('if' in w) || !('then' in w)) this.fail(`${where}.when[${i}]`, 'expected {if, then}');
        js = `(${this.condition(w.if, scope, `${where}.when[${i}].if`)} ? ${this.outcome(w.then, scope, `${where}.when[${i}].then`)} : ${js})`;
      }
    } else if (o.duration_ms !== undefined) {
      js = `h.duration(${this.value(o.duration_ms.start, scope, `${where}.duration_ms.start`)}, ${this.value(o.duration_ms.end, scope, `${where}.duration_ms.end`)})`;
    } else if (o.concat !== undefined) {
      if (!Array.isArray(o.concat)) this.fail(`${where}.concat`, 'expected a list');
      js = `h.concat([${o.concat.map((p, i) => this.value(p, scope, `${where}.concat[${i}]`)).join(', ')}], ${JSON.stringify(o.separator ?? '')})`;
    } else {
      this.fail(where, 'needs one of value, from, when, duration_ms, concat');
    }
    if (o.type !== undefined) {
      const fn = CONVERSIONS[o.type];
      if (fn === undefined) this.fail(`${where}.type`, `unknown conversion '${o.type}' (known: ${Object.keys(CONVERSIONS).join(', ')})`);
      if (fn !== '') js = `${fn}(${js})`;
    }
    if (o.first_key_except !== undefined) js = `h.firstKeyExcept(${js}, ${this.constant(new Set(o.first_key_except))})`;
    if (o.split !== undefined) js = `h.split(${js}, ${JSON.stringify(o.split.separator)}, ${Number(o.split.index)}, ${Number(o.split.min_parts ?? 1)})`;
    if (o.extract !== undefined) js = `h.extract(${this.regex(o.extract, `${where}.extract`)}, ${js})`;
    if (o.map !== undefined) {
      if (o.map === null || typeof o.map !== 'object') this.fail(`${where}.map`, 'expected a table');
      js = `h.lookup(${this.constant(new Map(Object.entries(o.map)))}, ${js}, ${this.constant(o.map_default)})`;
    }
    if (o.scale !== undefined) js = `h.scale(${js}, ${Number(o.scale)})`;
    if (o.default !== undefined) {
      const t = this.temp();
      js = `(h.present(${t} = ${js}) ? ${t} : ${this.constant(o.default)})`;
    }
    return js;
  }

  /** `then`/`else` of a `when`: a bare string is a constant there (actions, outcomes), not a path. */
  private outcome(spec: ValueSpec, scope: Scope, where: string): string {
    return typeof spec === 'string' ? this.constant(spec) : this.value(spec, scope, where);
  }

  private coalesce(list: ValueSpec[], scope: Scope, where: string): string {
    const parts = list.map((s, i) => this.value(s, scope, `${where}[${i}]`));
    if (parts.length === 1) return parts[0]!;
    const t = this.temp();
    let js = parts[parts.length - 1]!;
    for (let i = parts.length - 2; i >= 0; i--) js = `(h.present(${t} = ${parts[i]}) ? ${t} : ${js})`;
    return js;
  }

  regex(source: string, where: string): string {
    try {
      return this.constant(new RegExp(source));
    } catch (e) {
      return this.fail(where, `invalid regular expression: ${(e as Error).message}`);
    }
  }

  condition(c: Condition, scope: Scope, where: string): string {
    if (c === null || typeof c !== 'object') this.fail(where, 'expected a condition object');
    if ('all' in c) return `(${this.list(c.all, scope, `${where}.all`).join(' && ') || 'true'})`;
    if ('any' in c) return `(${this.list(c.any, scope, `${where}.any`).join(' || ') || 'false'})`;
    if ('not' in c) return `!${this.condition(c.not, scope, `${where}.not`)}`;
    return this.predicate(c, scope, where);
  }

  private list(l: Condition[], scope: Scope, where: string): string[] {
    if (!Array.isArray(l)) this.fail(where, 'expected a list of conditions');
    return l.map((c, i) => this.condition(c, scope, `${where}[${i}]`));
  }

  predicate(p: PredicateSpec, scope: Scope, where: string): string {
    for (const k of Object.keys(p)) if (!PREDICATE_KEYS.has(k)) this.fail(where, `unknown key '${k}' (known: all, any, not, ${[...PREDICATE_KEYS].join(', ')})`);
    let subject: string;
    if (p.has !== undefined) subject = this.path(hasPath(p.has), scope, `${where}.has`);
    else if (p.path !== undefined) subject = this.path(p.path, scope, `${where}.path`);
    else if (p.value !== undefined) subject = this.value(p.value, scope, `${where}.value`);
    else this.fail(where, 'a predicate needs has, path or value');
    const t = this.temp();
    const checks: string[] = [];
    const s = t;
    if (p.exists !== undefined) checks.push(p.exists ? `h.present(${s})` : `!h.present(${s})`);
    if (p.eq !== undefined) checks.push(`${s} === ${this.constant(p.eq)}`);
    if (p.ne !== undefined) checks.push(`${s} !== ${this.constant(p.ne)}`);
    if (p.in !== undefined) checks.push(`${this.constant(new Set(p.in))}.has(${s})`);
    if (p.prefix !== undefined) checks.push(`h.startsWith(${s}, ${JSON.stringify(p.prefix)})`);
    if (p.suffix !== undefined) checks.push(`h.endsWith(${s}, ${JSON.stringify(p.suffix)})`);
    if (p.contains !== undefined) checks.push(`h.includes(${s}, ${JSON.stringify(p.contains)})`);
    if (p.matches !== undefined) checks.push(`h.test(${this.regex(p.matches, `${where}.matches`)}, ${s})`);
    if (p.gte !== undefined) checks.push(`h.gte(${s}, ${Number(p.gte)})`);
    if (p.lt !== undefined) checks.push(`h.lt(${s}, ${Number(p.lt)})`);
    if (p.is !== undefined) {
      const is: Record<string, string> = {
        array: `Array.isArray(${s})`,
        object: `h.isObj(${s})`,
        string: `typeof ${s} === 'string'`,
        number: `typeof ${s} === 'number'`,
        boolean: `typeof ${s} === 'boolean'`,
        empty_array: `h.isEmptyArr(${s})`,
      };
      const check = is[p.is];
      if (check === undefined) this.fail(`${where}.is`, `unknown type '${p.is}' (known: ${Object.keys(is).join(', ')})`);
      checks.push(check);
    }
    if (checks.length === 0) checks.push(`h.present(${s})`);
    return `((${t} = ${subject}), ${checks.join(' && ')})`;
  }
}

function hasPath(has: string): string {
  return has.startsWith('[') ? `record${has}` : `record.${has}`;
}

/** Human-readable form of one predicate, for `--explain`. */
function describePredicate(p: PredicateSpec): string {
  let subject: string;
  try {
    subject = p.has !== undefined ? describePath(parsePath(hasPath(p.has))) : p.path !== undefined ? describePath(parsePath(p.path)) : 'value';
  } catch {
    subject = String(p.has ?? p.path);
  }
  const parts: string[] = [];
  if (p.exists !== undefined) parts.push(p.exists ? 'exists' : 'is absent');
  if (p.eq !== undefined) parts.push(`== ${JSON.stringify(p.eq)}`);
  if (p.ne !== undefined) parts.push(`!= ${JSON.stringify(p.ne)}`);
  if (p.in !== undefined) parts.push(`in ${JSON.stringify(p.in)}`);
  if (p.prefix !== undefined) parts.push(`starts with ${JSON.stringify(p.prefix)}`);
  if (p.suffix !== undefined) parts.push(`ends with ${JSON.stringify(p.suffix)}`);
  if (p.contains !== undefined) parts.push(`contains ${JSON.stringify(p.contains)}`);
  if (p.matches !== undefined) parts.push(`matches /${p.matches}/`);
  if (p.is !== undefined) parts.push(`is ${p.is}`);
  if (p.gte !== undefined) parts.push(`>= ${p.gte}`);
  if (p.lt !== undefined) parts.push(`< ${p.lt}`);
  if (parts.length === 0) parts.push('exists');
  return `${subject} ${parts.join(' and ')}`;
}

function describeCondition(c: Condition): string {
  if ('all' in c) return c.all.map(describeCondition).join(' and ');
  if ('any' in c) return `(${c.any.map(describeCondition).join(' or ')})`;
  if ('not' in c) return `not (${describeCondition(c.not)})`;
  return describePredicate(c);
}

type Check = (record: unknown) => boolean;

/** Builds a tree of separately compiled leaf checks, used only by `explainDetection`. */
function explainer(compileLeaf: (c: Condition) => Check, c: Condition): (record: unknown) => DetectionExplanation {
  if ('all' in c) {
    const kids = c.all.map((k) => explainer(compileLeaf, k));
    return (r) => {
      for (const k of kids) {
        const e = k(r);
        if (!e.matched) return e;
      }
      return { matched: true, reason: describeCondition(c) };
    };
  }
  if ('any' in c) {
    const kids = c.any.map((k) => explainer(compileLeaf, k));
    return (r) => {
      const failed: string[] = [];
      for (const k of kids) {
        const e = k(r);
        if (e.matched) return e;
        failed.push(e.reason);
      }
      return { matched: false, reason: `none of: ${failed.join('; ')}` };
    };
  }
  const leaf = compileLeaf(c);
  const desc = describeCondition(c);
  return (r) => (leaf(r) ? { matched: true, reason: desc } : { matched: false, reason: `failed: ${desc}` });
}

function fieldAssignment(target: string): string {
  const parts = target.split('.');
  let js = 'o';
  for (let i = 0; i < parts.length - 1; i++) js = `(${js}.${parts[i]} ??= {})`;
  return `${js}.${parts[parts.length - 1]}`;
}

/** Compiles one mapping. `file` names it in errors. Throws ConfigError with file and key path. */
export function compileMapping(spec: MappingFile, file: string): CompiledMapping {
  const cc = new Compiler(file);
  if (spec === null || typeof spec !== 'object') cc.fail('(top)', 'a mapping file must be a YAML mapping');
  for (const k of Object.keys(spec)) if (!TOP_KEYS.has(k)) cc.fail(k, `unknown key (known: ${[...TOP_KEYS].join(', ')})`);
  if (typeof spec.name !== 'string' || !NAME_RE.test(spec.name)) cc.fail('name', 'required, lowercase letters, digits and _');
  if (spec.product === undefined || typeof spec.product.name !== 'string' || typeof spec.product.vendor !== 'string') cc.fail('product', 'required: {name, vendor}');
  if (spec.fields === undefined || typeof spec.fields !== 'object') cc.fail('fields', 'required');

  // Roots: record, meta, ctx, explode aliases, let variables.
  const roots = new Map<string, string>([
    ['record', 'record'],
    ['meta', 'meta'],
    ['ctx', 'ctx'],
  ]);
  const detectScope: Scope = { roots: new Map(roots) };

  // --- explode
  const explode = spec.explode ?? [];
  if (!Array.isArray(explode)) cc.fail('explode', 'expected a list of {path, as}');
  const aliasIds: string[] = [];
  let runBody = '';
  let close = '';
  explode.forEach((lvl, i) => {
    const where = `explode[${i}]`;
    if (lvl === null || typeof lvl !== 'object' || typeof lvl.as !== 'string' || !VAR_RE.test(lvl.as)) cc.fail(where, 'needs {path, as: name}');
    if (roots.has(lvl.as)) cc.fail(`${where}.as`, `'${lvl.as}' is already defined`);
    const scope: Scope = { roots };
    const src = cc.path(lvl.path, scope, `${where}.path`);
    const fb = lvl.fallback === undefined ? 'h.EMPTY' : `((f) => h.present(f) ? [f] : h.EMPTY)(${cc.path(lvl.fallback, scope, `${where}.fallback`)})`;
    const id = `a_${lvl.as}`;
    runBody += `const x${i} = ${src}; const l${i} = Array.isArray(x${i}) ? x${i} : ${fb};\nfor (let i${i} = 0; i${i} < l${i}.length; i${i}++) { const ${id} = l${i}[i${i}];\n`;
    close += '}\n';
    roots.set(lvl.as, id);
    aliasIds.push(id);
  });
  const params = ['record', 'meta', 'ctx', ...aliasIds].join(', ');
  const itemScope: Scope = { roots };

  // --- build
  let build = '';
  for (const [name, v] of Object.entries(spec.let ?? {})) {
    if (!VAR_RE.test(name) || roots.has(name)) cc.fail(`let.${name}`, `invalid or duplicate variable name`);
    const id = `l_${name}`;
    build += `const ${id} = ${cc.value(v, itemScope, `let.${name}`)};\n`;
    roots.set(name, id);
  }
  build += 'const o = { schema_version: "1.0" }; let v;\n';
  const known = canonicalFields();
  for (const [target, v] of Object.entries(spec.fields)) {
    const kind = known.get(target);
    if (kind === undefined) cc.fail(`fields["${target}"]`, 'not a canonical field a mapping may set (see schemas/audit-event.schema.json)');
    let js = cc.value(v, itemScope, `fields["${target}"]`);
    const explicit = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as ValueObject).type : undefined;
    const implied = IMPLIED[kind!];
    if (implied !== '' && (explicit === undefined || !FINAL_CONVERSIONS.has(explicit))) js = `${implied}(${js})`;
    build += `v = ${js}; if (h.present(v)) ${fieldAssignment(target)} = v;\n`;
  }
  const labels = Object.entries(spec.labels ?? {});
  if (labels.length > 0) {
    build += 'let lb;\n';
    for (const [key, v] of labels) {
      if (!LABEL_RE.test(key)) cc.fail(`labels.${key}`, 'label keys are 1-64 of a-z 0-9 _ .');
      build += `v = h.toStr(${cc.value(v, itemScope, `labels.${key}`)}); if (h.present(v)) (lb ??= {})[${JSON.stringify(key)}] = v;\n`;
    }
    build += 'if (lb !== undefined) o.labels = lb;\n';
  }
  build += 'const p = {};\n';
  for (const [field, v] of Object.entries(spec.payloads ?? {})) {
    if (!PAYLOAD_FIELDS.includes(field as PayloadField)) cc.fail(`payloads.${field}`, `unknown payload field (known: ${PAYLOAD_FIELDS.join(', ')})`);
    build += `v = ${cc.value(v as ValueSpec, itemScope, `payloads.${field}`)}; if (v !== undefined && v !== null && v !== '') p.${field} = v;\n`;
  }
  build += 'return { draft: o, payloads: p };\n';

  const skip = spec.skip_if === undefined ? '' : `if (${cc.condition(spec.skip_if, itemScope, 'skip_if')}) continue;\n`;
  if (skip !== '' && explode.length === 0) cc.fail('skip_if', 'only meaningful with explode');
  const emit = `${skip}out.push(build(${params}));\n`;
  const run = `const out = [];\n${runBody}${emit}${close}return out;`;

  // --- detection
  let detectJs = 'false';
  let explain: (r: unknown) => DetectionExplanation = () => ({ matched: false, reason: 'no detection rule (use --format)' });
  const detectTemps = new Compiler(file);
  if (spec.detect !== undefined) {
    if (spec.detect.when === undefined) cc.fail('detect', 'needs when: <condition>');
    detectJs = cc.condition(spec.detect.when, detectScope, 'detect.when');
    explain = explainer((leaf) => {
      const js = detectTemps.condition(leaf, detectScope, 'detect.when');
      const temps = detectTemps.tempNames.length > 0 ? `let ${detectTemps.tempNames.join(', ')};` : '';
      return new Function('h', 'c', `return function leaf(record) { const meta = undefined, ctx = undefined; ${temps} return ${js}; };`)(helpers, detectTemps.constants) as Check;
    }, spec.detect.when);
  }

  // Temporaries are locals of each generated function (cheaper than shared closure slots).
  const temps = cc.tempNames.length > 0 ? `let ${cc.tempNames.join(', ')};\n` : '';
  const code =
    `"use strict";\n` +
    `function build(${params}) {\n${temps}${build}}\n` +
    `function run(record, meta, ctx) {\n${temps}${run}\n}\n` +
    `function detect(record) { const meta = undefined, ctx = undefined; ${temps} return ${detectJs}; }\n` +
    'return { run, detect };';
  let fns: { run: (r: unknown, m: unknown, c: unknown) => MappedItem[]; detect: (r: unknown) => boolean };
  try {
    fns = new Function('h', 'c', code)(helpers, cc.constants);
  } catch (e) {
    return cc.fail('(generated code)', `does not compile: ${(e as Error).message}`);
  }
  return {
    name: spec.name,
    product: { name: spec.product.name, vendor: spec.product.vendor },
    priority: Number(spec.detect?.priority ?? 0),
    file,
    hasDetection: spec.detect !== undefined,
    detect: fns.detect,
    explainDetection: explain,
    map: (record, meta, ctx) => fns.run(record, meta, ctx),
    code,
  };
}
