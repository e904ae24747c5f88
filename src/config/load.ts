import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import type { ErrorObject } from 'ajv';
import { ConfigError } from '../core/errors.ts';
import { interpolate, type InterpolationEnv } from './interpolate.ts';
import { configValidator } from './schema.ts';
import { isCanonicalField } from './event-fields.ts';
import { parseDuration } from './units.ts';
import type { AgentAuditConfig, Condition, Route, ServerConfig, SinkBlock, SourceBlock } from './types.ts';

export interface LoadOptions {
  readonly env?: InterpolationEnv;
}

/** One problem in a config file, located by line and column and by config path. */
export interface ConfigProblem {
  readonly line?: number;
  readonly column?: number;
  readonly path: string;
  readonly message: string;
}

export class ConfigInvalidError extends ConfigError {
  readonly problems: readonly ConfigProblem[];
  constructor(file: string, problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${file}${p.line !== undefined ? `:${p.line}:${p.column}` : ''} ${p.path || '/'}: ${p.message}`);
    super('config_invalid', `invalid configuration in ${file}:\n${lines.join('\n')}`, { file, problems });
    this.problems = problems;
  }
}

export function loadConfigFile(file: string, options: LoadOptions = {}): AgentAuditConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('config_unreadable', `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file });
  }
  return parseConfig(text, resolve(file), options);
}

export function parseConfig(text: string, file: string, options: LoadOptions = {}): AgentAuditConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigInvalidError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { line: pos.line, column: pos.col, path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const raw = doc.toJS() as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigInvalidError(file, [{ path: '', message: 'expected a mapping with sources and sinks at the top level' }]);
  }
  let interpolated: ReturnType<typeof interpolate>;
  try {
    interpolated = interpolate(raw, options.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      const path = String(err.context.path ?? '');
      throw new ConfigInvalidError(file, [{ ...locate(doc, lineCounter, path), path, message: err.message.replace(/^[^:]*: /, '') }]);
    }
    throw err;
  }
  const value = interpolated.value as Record<string, unknown>;
  const validate = configValidator();
  if (!validate(value)) {
    throw new ConfigInvalidError(file, describeErrors(validate.errors ?? [], doc, lineCounter));
  }
  const problems = crossChecks(value);
  if (problems.length > 0) {
    throw new ConfigInvalidError(file, problems.map((p) => ({ ...locate(doc, lineCounter, p.path), ...p })));
  }
  return toConfig(value, file, interpolated.secretPaths);
}

function toConfig(v: Record<string, unknown>, file: string, secretPaths: ReadonlySet<string>): AgentAuditConfig {
  const baseDir = dirname(file);
  const server = (v.server ?? {}) as Record<string, unknown>;
  const address = String(server.address ?? '127.0.0.1:8686');
  const sep = address.lastIndexOf(':');
  const serverConfig: ServerConfig = {
    host: address.slice(0, sep).replace(/^\[|\]$/g, ''),
    port: Number(address.slice(sep + 1)),
    ...(server.tls ? { tls: server.tls as ServerConfig['tls'] & object } : {}),
    readySinkFailureThresholdMs: parseDuration((server.ready_sink_failure_threshold as string | number | undefined) ?? '5m', '/server/ready_sink_failure_threshold'),
    enableReload: server.enable_reload !== false,
  };
  return {
    file,
    // Relative data directories are relative to the config file, so a config works from any cwd.
    dataDir: resolve(baseDir, String(v.data_dir)),
    logLevel: v.log_level as AgentAuditConfig['logLevel'],
    shutdownTimeoutMs: parseDuration(v.shutdown_timeout as string | number, '/shutdown_timeout'),
    workers: Number(v.workers ?? 0),
    mappingDirs: ((v.mapping_dirs ?? []) as string[]).map((d) => resolve(baseDir, d)),
    spool: spoolBlock((v.spool ?? {}) as Record<string, unknown>, baseDir),
    server: serverConfig,
    sources: resolveBlockPaths(v.sources as Record<string, SourceBlock>, baseDir),
    sinks: resolveBlockPaths(v.sinks as Record<string, SinkBlock>, baseDir),
    routes: (v.routes ?? []) as Route[],
    secretPaths,
  };
}

/** The spool's `dir` and key files, like every path, are relative to the config file. */
function spoolBlock(block: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  const out = resolvePathsIn(block, baseDir) as Record<string, unknown>;
  if (typeof out.dir === 'string') out.dir = resolve(baseDir, out.dir);
  return out;
}

/**
 * Relative file paths in component blocks are relative to the config file, like data_dir, so a
 * config works from any working directory. Applies to `path`, `include`/`exclude` globs and
 * every `*_file` setting, at any depth (e.g. `tls.ca_file`).
 */
export function resolveBlockPaths<T extends object>(blocks: Record<string, T>, baseDir: string): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [name, block] of Object.entries(blocks)) out[name] = resolvePathsIn(block, baseDir) as T;
  return out;
}

function resolvePathsIn(value: unknown, baseDir: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if ((key === 'path' || key.endsWith('_file')) && typeof v === 'string' && !isAbsolute(v) && !v.startsWith('/')) out[key] = resolve(baseDir, v);
    else if ((key === 'include' || key === 'exclude') && Array.isArray(v)) out[key] = v.map((g: unknown) => (typeof g === 'string' && !isAbsolute(g) ? resolve(baseDir, g) : g));
    else out[key] = resolvePathsIn(v, baseDir);
  }
  return out;
}

/** Checks a schema cannot express: routes name existing components and fields, regexes compile. */
function crossChecks(v: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const sources = new Set(Object.keys(v.sources as object));
  const sinks = new Set(Object.keys(v.sinks as object));
  const routes = (v.routes ?? []) as Route[];
  routes.forEach((route, i) => {
    route.from?.forEach((name, j) => {
      if (!sources.has(name)) problems.push({ path: `/routes/${i}/from/${j}`, message: `no source named '${name}' (sources: ${[...sources].join(', ')})` });
    });
    route.to.forEach((name, j) => {
      if (!sinks.has(name)) problems.push({ path: `/routes/${i}/to/${j}`, message: `no sink named '${name}' (sinks: ${[...sinks].join(', ')})` });
    });
    if (route.when) checkCondition(route.when, `/routes/${i}/when`, problems);
  });
  for (const [name, block] of Object.entries(v.sources as Record<string, SourceBlock>)) {
    block.redaction?.extra_patterns?.forEach((p, i) => {
      if (!compiles(p)) problems.push({ path: `/sources/${name}/redaction/extra_patterns/${i}`, message: 'not a valid regular expression' });
    });
  }
  return problems;
}

function checkCondition(c: Condition, path: string, problems: ConfigProblem[]): void {
  // A misspelt field would silently match nothing (or, under `not`, everything).
  if (c.field !== undefined && !isCanonicalField(c.field)) problems.push({ path: `${path}/field`, message: `'${c.field}' is not a field of the canonical event (schemas/audit-event.schema.json), e.g. payload.mode, event.action, origin.source` });
  if (c.matches !== undefined && !compiles(c.matches)) problems.push({ path: `${path}/matches`, message: 'not a valid regular expression' });
  c.all?.forEach((x, i) => checkCondition(x, `${path}/all/${i}`, problems));
  c.any?.forEach((x, i) => checkCondition(x, `${path}/any/${i}`, problems));
  if (c.not) checkCondition(c.not, `${path}/not`, problems);
}

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/**
 * ajv reports every failed branch of if/then, oneOf and anyOf; users need the leaf causes.
 * Keep the most specific errors, phrase them in config terms (what was expected, and the
 * type that was found), and never echo a value: it may have come from a secret reference.
 */
function describeErrors(errors: readonly ErrorObject[], doc: Document, lc: LineCounter): ConfigProblem[] {
  // A duration or size fails every branch of its oneOf (integer, pattern): say it once.
  const units = new Map<string, string>();
  for (const e of errors) {
    const title = (e.parentSchema as { title?: unknown } | undefined)?.title;
    if (e.keyword === 'oneOf' && (title === 'duration' || title === 'size')) units.set(e.instancePath, title);
  }
  // Settings of which one must be given (`endpoint` or `endpoints`, a condition's operator).
  const alternatives = new Map<string, string[]>();
  for (const e of errors) {
    if (e.keyword !== 'required' || !/\/(oneOf|anyOf)\/\d+/.test(e.schemaPath)) continue;
    const list = alternatives.get(e.instancePath) ?? [];
    const name = (e.params as { missingProperty: string }).missingProperty;
    if (!list.includes(name)) list.push(name);
    alternatives.set(e.instancePath, list);
  }
  // Two operators where one is allowed: other branches then fail on `required`; that is noise.
  const tooMany = new Set(errors.filter((e) => e.keyword === 'oneOf' && Array.isArray((e.params as { passingSchemas?: unknown }).passingSchemas)).map((e) => e.instancePath));
  const below = (e: ErrorObject) => errors.some((o) => o !== e && o.instancePath.startsWith(e.instancePath) && o.keyword !== e.keyword && o.keyword !== 'if');
  const meaningful = errors.filter((e) => {
    if (e.keyword === 'if') return false;
    // A bad component name is reported once, by `propertyNames`, with the name.
    if (e.keyword !== 'propertyNames' && errors.some((o) => o.keyword === 'propertyNames' && o.instancePath === e.instancePath)) return false;
    if (tooMany.has(e.instancePath)) return e.keyword === 'oneOf' && Array.isArray((e.params as { passingSchemas?: unknown }).passingSchemas);
    return !((e.keyword === 'oneOf' || e.keyword === 'anyOf') && !units.has(e.instancePath) && below(e));
  });
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const e of meaningful.length > 0 ? meaningful : errors) {
    let path = e.instancePath;
    let message: string;
    const unit = units.get(path);
    if (unit !== undefined) {
      message = unit === 'duration' ? 'expected a duration such as 250ms, 5s, 10m or 1h, or a number of milliseconds' : 'expected a size such as 512KiB, 64MiB or 10GiB (KB, MB, GB are decimal), or a number of bytes';
    } else if (e.keyword === 'required' && alternatives.has(path)) {
      const names = alternatives.get(path)!;
      message = names.length > 1 ? `missing a setting: expected one of ${names.map((n) => `'${n}'`).join(', ')}` : `missing required setting '${names[0]}'`;
    } else {
      ({ path, message } = describeOne(e, path));
    }
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...locate(doc, lc, path, e.keyword === 'additionalProperties' || e.keyword === 'propertyNames'), path, message });
  }
  return out;
}

function describeOne(e: ErrorObject, instancePath: string): { path: string; message: string } {
  const params = e.params as Record<string, unknown>;
  const schema = (e.parentSchema ?? {}) as { description?: string; properties?: object };
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(schema.properties ?? {});
      return { path: `${instancePath}/${escapePointer(key)}`, message: `unknown setting '${key}'${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}` };
    }
    case 'propertyNames':
      return { path: `${instancePath}/${escapePointer(String(params.propertyName))}`, message: `'${String(params.propertyName)}' is not a valid name (expected lowercase letters, digits, _ and -, starting with a letter)` };
    case 'required':
      return { path: instancePath, message: `missing required setting '${String(params.missingProperty)}'` };
    case 'dependentRequired':
      return { path: instancePath, message: `'${String(params.missingProperty)}' is required when '${String(params.property)}' is set` };
    case 'enum':
      return { path: instancePath, message: `must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}` };
    case 'const':
      return { path: instancePath, message: `must be ${String(params.allowedValue)}` };
    case 'type':
      return { path: instancePath, message: `expected ${String(params.type).split(',').map(typeWord).join(' or ')}, got ${kindOf(e.data)}` };
    case 'pattern':
      return { path: instancePath, message: `has the wrong form: expected ${schema.description ? `${schema.description.replace(/\.$/, '')} (matching ${String(params.pattern)})` : `to match ${String(params.pattern)}`}` };
    case 'minLength':
      return { path: instancePath, message: Number(params.limit) === 1 ? 'must not be empty' : `must be at least ${String(params.limit)} characters long` };
    case 'maxLength':
      return { path: instancePath, message: `must be at most ${String(params.limit)} characters long` };
    case 'minItems':
      return { path: instancePath, message: `expected at least ${String(params.limit)} item${Number(params.limit) === 1 ? '' : 's'}` };
    case 'minProperties':
      return { path: instancePath, message: `expected at least ${String(params.limit)} entr${Number(params.limit) === 1 ? 'y' : 'ies'}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path: instancePath, message: `must be ${String(params.comparison)} ${String(params.limit)}` };
    case 'oneOf':
      return { path: instancePath, message: params.passingSchemas ? 'sets more than one of settings that exclude each other (e.g. two operators in one condition): use exactly one' : 'matches none of the allowed forms' };
    case 'anyOf':
      return { path: instancePath, message: 'matches none of the allowed forms' };
    default:
      return { path: instancePath, message: e.message ?? e.keyword };
  }
}

function typeWord(t: string): string {
  return ({ integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', array: 'a list', object: 'a mapping', null: 'nothing' } as Record<string, string>)[t] ?? t;
}

/** The kind of a value, never the value itself. */
function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'boolean') return 'true/false';
  return 'a string';
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Line/column of the deepest existing node on a JSON-pointer path; with `atKey`, of the key
 * itself (an unknown setting is best shown where its name is written).
 */
function locate(doc: Document, lc: LineCounter, pointer: string, atKey = false): { line?: number; column?: number } {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (atKey && parts.length > 0) {
    const parent = parts.length === 1 ? doc.contents : doc.getIn(parts.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && String(it.key.value) === parts[parts.length - 1]);
      if (pair && isScalar(pair.key) && pair.key.range) {
        const pos = lc.linePos(pair.key.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
  }
  for (let n = parts.length; n >= 0; n--) {
    const keys = parts.slice(0, n).map((p) => (/^[0-9]+$/.test(p) ? Number(p) : p));
    const node = n === 0 ? doc.contents : doc.getIn(keys, true);
    if (isNode(node) && node.range) {
      const pos = lc.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}
