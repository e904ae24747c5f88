// Finds and reads target mapping files: mappings/targets/*.yaml, each declaring `target` and
// `version`. `<target>.yaml` is the default version of a target; further files (for example an
// `ocsf-1.9.0.yaml` next to `ocsf.yaml`) make other versions selectable with the sink's
// `encoding_version`, so a new release of a target is a new mapping file, not new code.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import type { TargetFile } from './target-types.ts';

export const BUILTIN_TARGETS_DIR = fileURLToPath(new URL('../../mappings/targets/', import.meta.url));
const SCHEMA_URL = new URL('../../schemas/target-mapping.schema.json', import.meta.url);

export interface TargetMappingSource {
  readonly file: TargetFile;
  /** File path, for messages. */
  readonly path: string;
  /** True for `<target>.yaml`: used when no version is asked for. */
  readonly isDefault: boolean;
}

let validator: ValidateFunction | undefined;

function validate(data: unknown): readonly ErrorObject[] {
  validator ??= new Ajv2020({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  return validator(data) ? [] : (validator.errors ?? []);
}

/** Parses and checks the shape of one target mapping file (ConfigError with file, line and reason). */
export function readTargetFile(path: string, text = readFileSync(path, 'utf8')): TargetFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new ConfigError('target_mapping_yaml', `${path}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`, { file: path, line: pos.line });
  }
  const data: unknown = doc.toJS();
  const problems = validate(data)
    .filter((e) => e.keyword !== 'oneOf')
    .slice(0, 10)
    .map((e) => {
      const keyPath = e.instancePath.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
      const node = keyPath.length > 0 ? doc.getIn(keyPath, true) : undefined;
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      const line = range !== undefined ? `:${lc.linePos(range[0]).line}` : '';
      const extra = e.keyword === 'additionalProperties' ? ` '${String((e.params as { additionalProperty: string }).additionalProperty)}'` : '';
      return `${path}${line}: ${e.instancePath === '' ? '(top level)' : keyPath.join('.')} ${e.message ?? 'is invalid'}${extra}`;
    });
  if (problems.length > 0) throw new ConfigError('target_mapping_invalid', `invalid target mapping:\n  ${problems.join('\n  ')}`, { file: path, problems });
  return data as TargetFile;
}

/** Every target mapping file in `dir`. */
export function loadTargetFiles(dir: string = BUILTIN_TARGETS_DIR): TargetMappingSource[] {
  const out: TargetMappingSource[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
    const path = join(dir, name);
    const file = readTargetFile(path);
    out.push({ file, path, isDefault: name === `${file.target}.yaml` || name === `${file.target}.yml` });
  }
  return out;
}

/** The mapping file for a target and (optional) version; ConfigError naming the versions available. */
export function findTargetFile(target: 'ecs' | 'ocsf', version: string | undefined, dir: string = BUILTIN_TARGETS_DIR): TargetMappingSource {
  const all = loadTargetFiles(dir).filter((s) => s.file.target === target);
  const pick = version === undefined ? all.find((s) => s.isDefault) : all.find((s) => s.file.version === version);
  if (pick === undefined) {
    const have = all.map((s) => `${s.file.version} (${s.path})`).join(', ') || 'none';
    throw new ConfigError(
      'encoding_version',
      version === undefined ? `no default mapping file ${target}.yaml for encoding ${target} in ${dir}` : `encoding ${target} has no mapping for version ${version}; mapping files have: ${have}`,
      { target, version },
    );
  }
  return pick;
}
