// Every document path an encoder can write, with what writes it: the input of the
// Elasticsearch index template generator (scripts/gen-es-templates.ts) and of the test that the
// template maps every field the ECS encoder can emit.

import type { CanonicalLeaf } from './canonical-leaves.ts';
import type { ResolvedPlacement, TargetPlan } from './target-plan.ts';
import type { Scalar, TargetConversion } from './target-types.ts';

export type EmittedValue =
  /** A canonical value, as the leaf's kind says (after the conversion, if any). */
  | { readonly from: 'leaf'; readonly leaf: CanonicalLeaf; readonly as?: TargetConversion; readonly mapped?: readonly Scalar[] }
  /** A constant or a looked-up value. */
  | { readonly from: 'values'; readonly values: readonly unknown[] }
  /** A string built from several fields. */
  | { readonly from: 'text' };

export interface EmittedField {
  readonly path: string;
  readonly role: 'home' | 'copy' | 'fallback' | 'derived' | 'constant' | 'collect' | 'ensure' | 'classification' | 'profiles';
  readonly value: EmittedValue;
}

function placed(p: ResolvedPlacement, leaf: CanonicalLeaf): EmittedValue {
  return { from: 'leaf', leaf, ...(p.as !== undefined ? { as: p.as } : {}), ...(p.map !== undefined ? { mapped: [...p.map.values()] } : {}) };
}

function constantFields(prefix: string, value: unknown, out: EmittedField[]): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) constantFields(prefix === '' ? k : `${prefix}.${k}`, v, out);
  } else if (Array.isArray(value) && value.some((v) => v !== null && typeof v === 'object')) {
    for (const v of value) constantFields(prefix, v, out);
  } else {
    out.push({ path: prefix, role: 'constant', value: { from: 'values', values: Array.isArray(value) ? value : [value] } });
  }
}

/** Paths with array indexes dropped (`resources[0].name` → `resources.name`), as index mappings see them. */
const mappingPath = (text: string): string => text.replace(/\[\d+\]/g, '');

export function emittedFields(plan: TargetPlan): EmittedField[] {
  const out: EmittedField[] = [];
  constantFields('', plan.constants, out);
  for (const c of plan.classes) {
    for (const lp of c.leaves) {
      if (lp.home !== undefined) {
        out.push({ path: mappingPath(lp.home.to.text), role: 'home', value: placed(lp.home, lp.leaf) });
        if (lp.home.fill !== undefined) {
          for (const f of lp.home.fill.first) out.push({ path: mappingPath(lp.home.to.text), role: 'home', value: { from: 'leaf', leaf: f } });
          if (lp.home.fill.value !== undefined) out.push({ path: mappingPath(lp.home.to.text), role: 'home', value: { from: 'values', values: [lp.home.fill.value] } });
        }
      }
      for (const cp of lp.copies) out.push({ path: mappingPath(cp.to.text), role: 'copy', value: placed(cp, lp.leaf) });
      if (lp.mayFallback) out.push({ path: lp.fallback.text, role: 'fallback', value: { from: 'leaf', leaf: lp.leaf } });
    }
    for (const d of c.derived) {
      const s = d.spec;
      let value: EmittedValue;
      if (s.map !== undefined) value = { from: 'values', values: [...Object.values(s.map), ...(s.default !== undefined ? [s.default] : [])].flat() };
      else if (s.value !== undefined) value = { from: 'values', values: [s.value].flat() };
      else if (s.join !== undefined) value = { from: 'text' };
      else value = { from: 'leaf', leaf: (d.from ?? d.first![0])!, ...(s.as !== undefined ? { as: s.as } : {}) };
      out.push({ path: mappingPath(d.to.text), role: 'derived', value });
    }
    for (const en of c.ensure) {
      for (const s of en.set) {
        for (const f of s.first) out.push({ path: mappingPath(s.to.text), role: 'ensure', value: { from: 'leaf', leaf: f, ...(s.as !== undefined ? { as: s.as } : {}) } });
        if (s.value !== undefined) out.push({ path: mappingPath(s.to.text), role: 'ensure', value: { from: 'values', values: [s.value] } });
      }
    }
    for (const col of c.collect) for (const f of col.from) out.push({ path: mappingPath(col.to.text), role: 'collect', value: { from: 'leaf', leaf: f } });
    if (c.spec !== undefined) {
      for (const k of ['class_uid', 'category_uid', 'activity_id', 'type_uid']) out.push({ path: k, role: 'classification', value: { from: 'values', values: [0] } });
      for (const k of ['class_name', 'category_name', 'activity_name', 'type_name']) out.push({ path: k, role: 'classification', value: { from: 'text' } });
    }
  }
  if (plan.profilesField !== undefined) out.push({ path: plan.profilesField.text, role: 'profiles', value: { from: 'text' } });
  return out;
}
