import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';

/**
 * Replaces `${ENV_VAR}`, `${ENV_VAR:-default}` and `${file:/path}` references in every string
 * of a parsed config. Secrets therefore never need to be written in the file. Errors name the
 * reference and the config path, never a value. Returns the paths that were filled from a
 * reference so that logs and `check-config` output can mask them.
 */
export interface InterpolationResult {
  readonly value: unknown;
  readonly secretPaths: ReadonlySet<string>;
}

const REFERENCE = /\$\{([^}]+)\}/g;

export interface InterpolationEnv {
  readonly env: NodeJS.ProcessEnv;
  readonly readFile: (path: string) => string;
}

const defaultEnv: InterpolationEnv = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
};

export function interpolate(config: unknown, source = defaultEnv): InterpolationResult {
  const secretPaths = new Set<string>();
  const value = walk(config, [], source, secretPaths);
  return { value, secretPaths };
}

function walk(node: unknown, path: (string | number)[], source: InterpolationEnv, secrets: Set<string>): unknown {
  if (typeof node === 'string') return resolveString(node, path, source, secrets);
  if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i], source, secrets));
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v, [...path, k], source, secrets);
    return out;
  }
  return node;
}

function resolveString(text: string, path: (string | number)[], source: InterpolationEnv, secrets: Set<string>): string {
  if (!text.includes('${')) return text;
  const where = '/' + path.join('/');
  const resolved = text.replace(REFERENCE, (_match, ref: string) => {
    secrets.add(where);
    if (ref.startsWith('file:')) {
      const file = ref.slice('file:'.length);
      try {
        // A trailing newline is almost always an editor artifact, never part of a token.
        return source.readFile(file).replace(/\r?\n$/, '');
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new ConfigError('secret_file_unreadable', `${where}: cannot read \${file:${file}} (${reason})`, { path: where });
      }
    }
    const [name, fallback] = splitDefault(ref);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConfigError('bad_reference', `${where}: \${${ref}} is not a valid reference (use \${ENV_VAR}, \${ENV_VAR:-default} or \${file:/path})`, { path: where });
    }
    const value = source.env[name];
    if (value !== undefined && value !== '') return value;
    if (fallback !== undefined) return fallback;
    throw new ConfigError('env_missing', `${where}: environment variable ${name} is not set (referenced as \${${name}})`, { path: where });
  });
  return resolved;
}

function splitDefault(ref: string): [string, string | undefined] {
  const i = ref.indexOf(':-');
  return i < 0 ? [ref, undefined] : [ref.slice(0, i), ref.slice(i + 2)];
}
