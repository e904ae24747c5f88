// Entry point for output encodings: the daemon, CLI and sinks ask for an encoder by name, and
// `agent-audit verify` for the matching decoder.
import type { Decoder, Encoder, EncodingName } from '../core/encoder.ts';
import { ConfigError, InputError } from '../core/errors.ts';
import { createCanonicalEncoder } from './canonical.ts';
import { compileTarget, type CompiledTarget } from './target-compiler.ts';
import { BUILTIN_TARGETS_DIR, findTargetFile, loadTargetFiles } from './target-loader.ts';
import { parseTargetPath, readJs } from './target-path.ts';

export interface EncoderOptions {
  /** Target schema version; must match the version a mapping file in mappings/targets/ declares (default: `<target>.yaml`). */
  version?: string;
  /** Directory of target mapping files (default: the built-in mappings/targets/). */
  mappingsDir?: string;
}

export { compileTarget, type CompiledTarget } from './target-compiler.ts';
export { BUILTIN_TARGETS_DIR, findTargetFile, loadTargetFiles, readTargetFile } from './target-loader.ts';

const compiled = new Map<string, CompiledTarget>();

/** The compiled ECS or OCSF mapping (once per process per file content, so a reload sees an edited file). */
export function compiledTarget(name: 'ecs' | 'ocsf', options: EncoderOptions = {}): CompiledTarget {
  const source = findTargetFile(name, options.version, options.mappingsDir ?? BUILTIN_TARGETS_DIR);
  const key = `${source.path}\n${JSON.stringify(source.file)}`;
  let c = compiled.get(key);
  if (c === undefined) {
    c = compileTarget(source);
    compiled.set(key, c);
  }
  return c;
}

function checkName(name: string): asserts name is EncodingName {
  if (name !== 'canonical' && name !== 'ecs' && name !== 'ocsf') throw new ConfigError('encoding_unknown', `unknown encoding '${name}' (known: canonical, ecs, ocsf)`, { name });
}

/** Creates (compiles once) the encoder for a target. Throws ConfigError for unknown names/versions. */
export function createEncoder(name: EncodingName, options: EncoderOptions = {}): Encoder {
  checkName(name);
  if (name === 'canonical') {
    if (options.version !== undefined && options.version !== '1.0') {
      throw new ConfigError('encoding_version', `canonical encoding has version 1.0, not ${options.version}`, { name, version: options.version });
    }
    return createCanonicalEncoder();
  }
  return compiledTarget(name, options).encoder;
}

/** The decoder for documents `createEncoder(name, options)` renders: document → the exact canonical event. */
export function createDecoder(name: EncodingName, options: EncoderOptions = {}): Decoder {
  checkName(name);
  if (name === 'canonical') {
    if (options.version !== undefined && options.version !== '1.0') {
      throw new ConfigError('encoding_version', `canonical encoding has version 1.0, not ${options.version}`, { name, version: options.version });
    }
    return { name: 'canonical', version: '1.0', decode: (d) => d as unknown as ReturnType<Decoder['decode']> };
  }
  return compiledTarget(name, options).decoder;
}

interface Detector {
  readonly read: (document: unknown) => unknown;
  readonly version: string;
  readonly target: 'ecs' | 'ocsf';
  decoder?: Decoder;
}
const detectors = new Map<string, readonly Detector[]>();

/**
 * The decoder for a document of unknown encoding (a line of an export): the target whose
 * version field holds its version (ECS `ecs.version`, OCSF `metadata.version`), else canonical
 * when it looks like a canonical event. InputError when it is none of them. The mapping files
 * are read once per directory, so this is cheap per line.
 */
export function decoderFor(document: Record<string, unknown>, options: Pick<EncoderOptions, 'mappingsDir'> = {}): Decoder {
  const dir = options.mappingsDir ?? BUILTIN_TARGETS_DIR;
  let list = detectors.get(dir);
  if (list === undefined) {
    list = loadTargetFiles(dir).map((s) => ({
      read: new Function('d', `return ${readJs('d', parseTargetPath(s.file.version_field))};`) as (d: unknown) => unknown,
      version: s.file.version,
      target: s.file.target,
    }));
    detectors.set(dir, list);
  }
  for (const d of list) if (d.read(document) === d.version) return (d.decoder ??= compiledTarget(d.target, { version: d.version, mappingsDir: dir }).decoder);
  if (document.schema_version === '1.0' && typeof document.event === 'object') return createDecoder('canonical');
  throw new InputError('decode_unknown_encoding', 'document is neither a canonical event nor an ECS or OCSF rendering of a version this build has a mapping for', {});
}

/** The encoder a sink block asks for (`encoding`, and `encoding_version` when set). */
export function sinkEncoder(block: { readonly encoding: EncodingName; readonly encoding_version?: string }): Encoder {
  return createEncoder(block.encoding, block.encoding_version !== undefined ? { version: block.encoding_version } : {});
}
