// The Elasticsearch assets for the ECS rendering (deploy/elasticsearch/): component templates
// that map every field the ECS encoder can write (ECS fields as ECS 9.4.0 maps them, ai_audit.*
// explicitly from the canonical field types), and the composable index template for the data
// stream logs-ai_audit-default. Built from the compiled mapping, so the template follows ecs.yaml.

import type { CanonicalLeaf } from '../../src/formats/canonical-leaves.ts';
import { emittedFields, type EmittedField } from '../../src/formats/target-fields.ts';
import type { TargetPlan } from '../../src/formats/target-plan.ts';
import type { EcsFlatField } from './ecs-flat.ts';

type Mapping = Record<string, unknown>;

/** ECS 9.4.0 mappings this template deliberately differs from, and why (also in the template's _meta). */
export const ECS_OVERRIDES: Readonly<Record<string, { readonly mapping: Mapping; readonly why: string }>> = {
  'gen_ai.response.finish_reasons': {
    mapping: { type: 'keyword', ignore_above: 1024 },
    why: 'ECS 9.4.0 types it nested, but its values are strings (["stop"]), which a nested field rejects',
  },
  labels: {
    mapping: { type: 'flattened' },
    why: 'label keys contain dots (aws.region, team.id); flattened keeps each key whole, where an object mapping would expand them and reject a document whose keys nest into each other (a and a.b)',
  },
};

export const COMPONENTS = { ecs: 'ai_audit-ecs-mappings', custom: 'ai_audit-custom-mappings', settings: 'ai_audit-settings' } as const;
export const INDEX_TEMPLATE = 'logs-ai_audit';

/** The mapping of a custom (ai_audit.*) field, from the canonical field it holds. */
export function customMapping(leaf: CanonicalLeaf): Mapping {
  if (/^payload\.[a-z_]+\.content$/.test(leaf.path)) return { type: 'match_only_text' };
  switch (leaf.kind) {
    case 'string':
    case 'string_array':
      return { type: 'keyword', ignore_above: 1024 };
    case 'time':
      return { type: 'date' };
    case 'integer':
      return { type: 'long' };
    case 'number':
      return { type: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'string_map':
      return { type: 'flattened' };
  }
}

/** The mapping ECS 9.4.0 gives a field (ecs_flat.yml), with the overrides above. */
export function ecsMapping(path: string, f: EcsFlatField): Mapping {
  const o = ECS_OVERRIDES[path];
  if (o !== undefined) return o.mapping;
  const m: Mapping = { type: f.type };
  if (f.ignore_above !== undefined) m.ignore_above = f.ignore_above;
  if (f.scaling_factor !== undefined) m.scaling_factor = f.scaling_factor;
  if (f.index === false) m.index = false;
  if (f.doc_values === false) m.doc_values = false;
  if (f.multi_fields !== undefined && f.multi_fields.length > 0) {
    m.fields = Object.fromEntries(f.multi_fields.map((mf) => [mf.name, { type: mf.type, ...(mf.norms === false ? { norms: false } : {}) }]));
  }
  return m;
}

function insert(root: Mapping, path: string, mapping: Mapping): void {
  const parts = path.split('.');
  let props = root;
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    const existing = props[p] as Mapping | undefined;
    if (last) {
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(mapping)) {
        throw new Error(`${path}: two different mappings (${JSON.stringify(existing)} and ${JSON.stringify(mapping)})`);
      }
      props[p] = mapping;
      return;
    }
    if (existing !== undefined && existing.properties === undefined) throw new Error(`${path}: ${parts.slice(0, i + 1).join('.')} is mapped as a ${String(existing.type)}, not an object`);
    const node = (props[p] ??= { properties: {} }) as Mapping;
    props = node.properties as Mapping;
  });
}

const sortKeys = (v: unknown): unknown =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Mapping)[k])])) : v;

export interface EsTemplates {
  readonly components: Readonly<Record<string, Mapping>>;
  readonly indexTemplate: Mapping;
  /** Every field mapped, with its mapping (flat), for tests and docs. */
  readonly fields: ReadonlyMap<string, Mapping>;
}

export function buildEsTemplates(plan: TargetPlan, ecsField: (name: string) => EcsFlatField | undefined): EsTemplates {
  const ns = `${plan.file.custom_namespace}.`;
  const ahead = plan.file.ahead_of_version ?? {};
  const fields = new Map<string, Mapping>();
  const byPath = new Map<string, EmittedField[]>();
  for (const f of emittedFields(plan)) byPath.set(f.path, [...(byPath.get(f.path) ?? []), f]);
  const ecsProps: Mapping = {};
  const customProps: Mapping = {};
  for (const [path, emitted] of [...byPath].sort(([a], [b]) => a.localeCompare(b))) {
    let mapping: Mapping;
    if (path.startsWith(ns)) {
      const leaf = emitted.find((e) => e.value.from === 'leaf');
      if (leaf === undefined || leaf.value.from !== 'leaf') throw new Error(`${path}: not a canonical field in the custom namespace`);
      mapping = customMapping(leaf.value.leaf);
      insert(customProps, path, mapping);
    } else {
      const f = ecsField(path);
      if (f !== undefined) mapping = ecsMapping(path, f);
      else if (ahead[path] !== undefined) mapping = ahead[path] === 'keyword' ? { type: 'keyword', ignore_above: 1024 } : { type: ahead[path] };
      else throw new Error(`${path} is written by the ECS encoder (${emitted.map((e) => e.role).join(', ')}) but is not an ECS ${plan.file.version} field`);
      insert(ecsProps, path, mapping);
    }
    fields.set(path, mapping);
  }
  const meta = { managed_by: 'agent-audit', generated_by: 'scripts/gen-es-templates.ts from mappings/targets/ecs.yaml', ecs_version: plan.file.version };
  const components: Record<string, Mapping> = {
    [COMPONENTS.ecs]: {
      template: { mappings: { properties: sortKeys(ecsProps) } },
      _meta: { ...meta, description: `ECS ${plan.file.version} fields the agent-audit ECS encoder writes`, overrides: Object.fromEntries(Object.entries(ECS_OVERRIDES).map(([k, v]) => [k, v.why])) },
    },
    [COMPONENTS.custom]: {
      template: { mappings: { properties: sortKeys(customProps) } },
      _meta: { ...meta, description: `${plan.file.custom_namespace}.*: canonical audit event fields ECS has no place for, at their canonical path` },
    },
    [COMPONENTS.settings]: {
      template: { settings: { index: { codec: 'best_compression', mapping: { total_fields: { limit: 2000 } } } } },
      _meta: { ...meta, description: 'Index settings of the agent-audit data stream' },
    },
  };
  const indexTemplate: Mapping = {
    index_patterns: ['logs-ai_audit-*'],
    data_stream: {},
    // Above the built-in logs-*-* template (priority 100), so this one applies to logs-ai_audit-*.
    priority: 200,
    composed_of: [COMPONENTS.settings, COMPONENTS.ecs, COMPONENTS.custom],
    // No dynamic mapping: every field the encoder writes is mapped above; anything else stays in
    // _source without creating mappings.
    template: { mappings: { dynamic: false, date_detection: false } },
    _meta: { ...meta, description: 'agent-audit audit events rendered in ECS (data stream logs-ai_audit-default)' },
  };
  return { components, indexTemplate, fields };
}
