// A target mapping file → an Encoder and a Decoder, compiled once (plan, then generated code).

import type { AuditEvent } from '../core/audit-event.ts';
import type { Decoder, Encoder } from '../core/encoder.ts';
import { generateTarget } from './target-codegen.ts';
import type { TargetMappingSource } from './target-loader.ts';
import { buildPlan, type TargetPlan } from './target-plan.ts';

export interface CompiledTarget {
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  readonly plan: TargetPlan;
  /** The generated source (debugging, tests). */
  readonly code: string;
}

export function compileTarget(source: TargetMappingSource): CompiledTarget {
  const plan = buildPlan(source.file, source.path);
  const gen = generateTarget(plan);
  const name = source.file.target;
  const version = source.file.version;
  return {
    plan,
    code: gen.code,
    encoder: { name, version, encode: gen.encode, classOf: gen.classOf },
    decoder: { name, version, decode: (document: Record<string, unknown>): AuditEvent => gen.decode(document) },
  };
}
