import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import type { ErrorObject } from 'ajv';
import { ConfigError } from '../core/errors.ts';
import { interpolate, type InterpolationEnv } from './interpolate.ts';
import { configValidator } from './schema.ts';
import { parseByteSize, parseDuration } from './units.ts';
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
    spool: (v.spool ?? {}) as Record<string, unknown>,
    server: serverConfig,
    sources: v.sources as Record<string, SourceBlock>,
    sinks: v.sinks as Record<string, SinkBlock>,
    routes: (v.routes ?? []) as Route[],
    secretPaths,
  };
}

/** Checks a schema cannot express: routes name existing components, regexes compile. */
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
  for (const [name, block] of Object.entries(v.sinks as Record<string, unknown>)) {
    const size = (block as Record<string, unknown>).max_bytes;
    if (typeof size === 'string') {
      try {
        parseByteSize(size, `/sinks/${name}/max_bytes`);
      } catch (err) {
        problems.push({ path: `/sinks/${name}/max_bytes`, message: (err as Error).message });
      }
    }
  }
  return problems;
}

function checkCondition(c: Condition, path: string, problems: ConfigProblem[]): void {
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
 * ajv reports every failed branch of if/then and oneOf; users need the leaf causes. Keep the
 * most specific errors, phrase them in config terms, and never echo a value (it may be a secret).
 */
function describeErrors(errors: readonly ErrorObject[], doc: Document, lc: LineCounter): ConfigProblem[] {
  const meaningful = errors.filter((e) => e.keyword !== 'if' && !(e.keyword === 'oneOf' && errors.some((o) => o !== e && o.instancePath.startsWith(e.instancePath) && o.keyword !== 'oneOf')));
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const e of meaningful.length > 0 ? meaningful : errors) {
    let path = e.instancePath;
    let message: string;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        path = `${path}/${key}`;
        const allowed = Object.keys(((e.parentSchema as Record<string, unknown> | undefined)?.properties as object | undefined) ?? {});
        message = `unknown setting '${key}'${allowed.length ? ` (expected one of: ${allowed.join(', ')})` : ''}`;
        break;
      }
      case 'required':
        message = `missing required setting '${(e.params as { missingProperty: string }).missingProperty}'`;
        break;
      case 'enum':
        message = `must be one of: ${((e.params as { allowedValues: unknown[] }).allowedValues).map(String).join(', ')}`;
        break;
      case 'type':
        message = `must be ${(e.params as { type: string }).type}`;
        break;
      case 'pattern':
        message = `has the wrong form (expected to match ${(e.params as { pattern: string }).pattern})`;
        break;
      default:
        message = e.message ?? e.keyword;
    }
    const key = `${path}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ...locate(doc, lc, path, e.keyword === 'additionalProperties'), path, message });
  }
  return out;
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
