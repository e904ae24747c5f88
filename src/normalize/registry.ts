// Loads every mapping file (mappings/sources/ plus user directories), compiles each once, and
// picks a mapping for a record: by name, or by the detection rules (highest priority first).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import { compileMapping, type CompiledMapping, type DetectionExplanation } from './mapping-compiler.ts';
import type { MappingFile } from './mapping-types.ts';

export const BUILTIN_MAPPINGS_DIR = fileURLToPath(new URL('../../mappings/sources/', import.meta.url));

export interface DetectionReport extends DetectionExplanation {
  readonly format: string;
  readonly priority: number;
}

export interface MappingRegistry {
  get(name: string): CompiledMapping | undefined;
  names(): string[];
  /** The first mapping (by priority, then name) whose detection rule holds. */
  detect(record: unknown): CompiledMapping | undefined;
  /** Every mapping's verdict for this record, in the order detection tries them. */
  explain(record: unknown): DetectionReport[];
}

/** Parses and compiles one mapping file; errors name the file and the line or key. */
export function loadMappingFile(path: string): CompiledMapping {
  const text = readFileSync(path, 'utf8');
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0];
    throw new ConfigError('mapping_invalid', `${path}${line ? `:${line.line}:${line.col}` : ''}: ${e.message.split('\n')[0]}`, { file: path });
  }
  return compileMapping(doc.toJS() as MappingFile, path);
}

/**
 * Loads `*.yaml`/`*.yml` from each directory in order (built-ins first unless `includeBuiltin`
 * is false). A later file with the same `name` replaces an earlier one, so a user directory can
 * override a shipped mapping.
 */
export function loadMappings(dirs: readonly string[] = [], includeBuiltin = true): MappingRegistry {
  const all = includeBuiltin ? [BUILTIN_MAPPINGS_DIR, ...dirs] : [...dirs];
  const byName = new Map<string, CompiledMapping>();
  for (const dir of all) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
    } catch (e) {
      throw new ConfigError('mapping_dir_unreadable', `mapping directory ${dir} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { dir });
    }
    for (const f of files) {
      const m = loadMappingFile(join(dir, f));
      byName.set(m.name, m);
    }
  }
  return createRegistry([...byName.values()]);
}

export function createRegistry(mappings: readonly CompiledMapping[]): MappingRegistry {
  const byName = new Map(mappings.map((m) => [m.name, m]));
  const detectOrder = mappings
    .filter((m) => m.hasDetection)
    .sort((a, b) => b.priority - a.priority || (a.name < b.name ? -1 : 1));
  const detectFns = detectOrder.map((m) => m.detect);
  return {
    get: (name) => byName.get(name),
    names: () => [...byName.keys()].sort(),
    detect(record) {
      for (let i = 0; i < detectFns.length; i++) if (detectFns[i]!(record)) return detectOrder[i];
      return undefined;
    },
    explain(record) {
      return detectOrder.map((m) => ({ format: m.name, priority: m.priority, ...m.explainDetection(record) }));
    },
  };
}
