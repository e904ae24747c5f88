import type { SourceBlock } from '../config/types.ts';
import type { NormalizeResult, PolicyOptions } from '../core/normalizer.ts';
import type { RawRecord } from '../core/raw-record.ts';
import { createNormalizer, loadMappings, type MappingNormalizer, type MappingRegistry } from '../normalize/index.ts';
import { createPolicy } from '../normalize/policy.ts';
import type { Policy } from '../normalize/policy-types.ts';
import type { NormalizeStage } from './ingest.ts';

/** The per-source normalizer settings a config block implies. */
export function policyOptionsOf(block: SourceBlock): PolicyOptions {
  const r = block.redaction;
  return {
    payloadMode: block.payload_mode,
    ...(r?.hmac_key !== undefined ? { hmacKey: Buffer.from(r.hmac_key, 'utf8') } : {}),
    ...(r?.extra_patterns !== undefined ? { extraPatterns: r.extra_patterns } : {}),
  };
}

/**
 * Normalization on the calling thread: one normalizer per source (each has its own format and
 * policy), all sharing one compiled mapping registry.
 */
export class InlineNormalizeStage implements NormalizeStage {
  private readonly registry: MappingRegistry;
  private readonly bySource = new Map<string, MappingNormalizer>();
  private readonly policies = new Map<string, Policy>();

  /** `mappingDirs`: extra mapping directories after the built-in ones (config `mapping_dirs`). */
  constructor(mappingDirs: readonly string[] = []) {
    this.registry = loadMappings(mappingDirs);
  }

  /** (Re)configures a source; throws ConfigError for an unknown format or bad pattern. */
  configure(name: string, block: SourceBlock): void {
    const policy = policyOptionsOf(block);
    this.bySource.set(name, createNormalizer({ registry: this.registry, defaultFormat: block.format, policy }));
    this.policies.set(name, createPolicy(policy));
  }

  remove(name: string): void {
    this.bySource.delete(name);
    this.policies.delete(name);
  }

  redactText(source: string, text: string): string {
    const p = this.policies.get(source);
    if (p === undefined) throw new Error(`no policy configured for source '${source}'`);
    return p.redactText(text);
  }

  normalizerFor(source: string): MappingNormalizer {
    const n = this.bySource.get(source);
    if (n === undefined) throw new Error(`no normalizer configured for source '${source}'`);
    return n;
  }

  async normalize(records: readonly RawRecord[]): Promise<NormalizeResult[]> {
    const out: NormalizeResult[] = new Array(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      out[i] = this.normalizerFor(r.source).normalize(r);
    }
    return out;
  }

  async close(): Promise<void> {}
}
