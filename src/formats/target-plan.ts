// Target mapping file → plan: per class, where each canonical leaf lives (its home, its copies,
// its fallback in the custom namespace), plus the derived values, fill-ins and collections.
// Everything that can be wrong with a mapping file is found here, at start-up: unknown canonical
// fields, unknown classes, two fields sharing a home, a derived value overwriting a home, a home
// that could not be read back, an action no route handles.

import { ConfigError } from '../core/errors.ts';
import { VERSION } from '../core/version.ts';
import { canonicalLeaves, type CanonicalLeaf } from './canonical-leaves.ts';
import { isUnder, joinPath, overlaps, parseTargetPath, TargetPathError, type TargetPath } from './target-path.ts';
import type {
  AcceptSpec,
  ActivitySpec,
  ClassSpec,
  CollectSpec,
  DerivedSpec,
  EnsureSpec,
  FieldPlacements,
  FillSpec,
  PlacementSpec,
  RouteSpec,
  Scalar,
  TargetConversion,
  TargetCondition,
  TargetFile,
} from './target-types.ts';

export interface ResolvedFill {
  /** Canonical leaves tried in order. */
  readonly first: readonly CanonicalLeaf[];
  readonly value?: Scalar;
  readonly as?: TargetConversion;
}

export interface ResolvedPlacement {
  readonly to: TargetPath;
  readonly as?: TargetConversion;
  readonly map?: ReadonlyMap<string, Scalar>;
  readonly accept?: AcceptSpec;
  readonly when?: TargetCondition;
  readonly fill?: ResolvedFill;
  readonly fillWhen?: TargetCondition;
}

export interface LeafPlan {
  readonly leaf: CanonicalLeaf;
  /** Where the value lives and is read back from (undefined: only the fallback). */
  readonly home?: ResolvedPlacement;
  readonly copies: readonly ResolvedPlacement[];
  /** `<custom_namespace>.<canonical path>`. */
  readonly fallback: TargetPath;
  /** True when some values of the field end up in the fallback. */
  readonly mayFallback: boolean;
}

export interface ResolvedDerived {
  readonly spec: DerivedSpec;
  readonly to: TargetPath;
  readonly from?: CanonicalLeaf;
  readonly first?: readonly CanonicalLeaf[];
  readonly join?: readonly CanonicalLeaf[];
}

export interface ResolvedEnsure {
  readonly at: TargetPath;
  readonly required: boolean;
  readonly unlessAny: readonly string[];
  readonly set: readonly { readonly to: TargetPath; readonly first: readonly CanonicalLeaf[]; readonly value?: Scalar; readonly as?: TargetConversion }[];
}

export interface ResolvedCollect {
  readonly to: TargetPath;
  readonly from: readonly CanonicalLeaf[];
  readonly accept?: AcceptSpec;
}

export interface ClassPlan {
  /** Class key in the file ('' for a target without classes). */
  readonly name: string;
  readonly spec?: ClassSpec;
  /** Canonical schema order. */
  readonly leaves: readonly LeafPlan[];
  /** Order the decoder restores leaves in: a leaf after the leaves its fill-in default reads. */
  readonly decodeOrder: readonly LeafPlan[];
  readonly derived: readonly ResolvedDerived[];
  readonly ensure: readonly ResolvedEnsure[];
  readonly collect: readonly ResolvedCollect[];
  /** Profiles the class supports → top-level attributes that mean "applied". */
  readonly profiles: readonly { readonly name: string; readonly attributes: readonly string[] }[];
}

export interface ResolvedRoute {
  readonly when: readonly { readonly leaf: CanonicalLeaf; readonly values: readonly Scalar[] }[];
  readonly classIndex: number;
  readonly activity: { readonly from: readonly CanonicalLeaf[]; readonly map: ReadonlyMap<string, number>; readonly default: number; readonly otherName?: { readonly first: readonly CanonicalLeaf[]; readonly value: string } };
}

export interface TargetPlan {
  readonly file: TargetFile;
  readonly source: string;
  readonly customNamespace: TargetPath;
  readonly versionField: TargetPath;
  /** Constants with ${version}/${agent_version} substituted, as a nested object. */
  readonly constants: Readonly<Record<string, unknown>>;
  readonly constantPaths: readonly TargetPath[];
  readonly classes: readonly ClassPlan[];
  readonly routes: readonly ResolvedRoute[];
  readonly profilesField?: TargetPath;
}

const CONVERSIONS: ReadonlySet<string> = new Set(['epoch_ms', 'ns_from_ms', 'int', 'key_value_list']);
/** OCSF classification attributes the compiler writes itself. */
const CLASSIFICATION = ['class_uid', 'class_name', 'category_uid', 'category_name', 'activity_id', 'activity_name', 'type_uid', 'type_name'];

class PlanErrors {
  readonly problems: string[] = [];
  readonly source: string;
  constructor(source: string) {
    this.source = source;
  }
  add(where: string, message: string): void {
    this.problems.push(`${where}: ${message}`);
  }
  throwIfAny(): void {
    if (this.problems.length > 0) {
      throw new ConfigError('target_mapping_invalid', `${this.source}: ${this.problems.length} problem(s) in the target mapping:\n  ${this.problems.join('\n  ')}`, { file: this.source, problems: this.problems });
    }
  }
}

function substitute(value: unknown, version: string): unknown {
  if (typeof value === 'string') return value.replaceAll('${version}', version).replaceAll('${agent_version}', VERSION);
  if (Array.isArray(value)) return value.map((v) => substitute(v, version));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, version)]));
  return value;
}

/** True when some values of the field cannot live at its home (they also go to the fallback). */
function homeIsPartial(l: CanonicalLeaf, h: ResolvedPlacement): boolean {
  if (h.when !== undefined || h.accept !== undefined) return true;
  if (h.as === 'ns_from_ms' || (h.as === 'int' && l.kind !== 'integer')) return true;
  if (h.map !== undefined && (l.enum === undefined || l.enum.some((v) => !h.map!.has(String(v))))) return true;
  if (h.fill !== undefined) {
    if (h.fill.first.length > 0) return true;
    const f = h.fill.value;
    if (h.map !== undefined) return [...h.map.values()].includes(f!);
    return l.enum === undefined || l.enum.includes(f!);
  }
  return false;
}

export function buildPlan(file: TargetFile, source: string): TargetPlan {
  const errors = new PlanErrors(source);
  const leaves = canonicalLeaves();
  const leafByPath = new Map(leaves.map((l) => [l.path, l]));

  const path = (text: string, where: string): TargetPath | undefined => {
    try {
      return parseTargetPath(text);
    } catch (e) {
      if (e instanceof TargetPathError) errors.add(where, e.message);
      else throw e;
      return undefined;
    }
  };
  const leaf = (p: string, where: string): CanonicalLeaf | undefined => {
    const l = leafByPath.get(p);
    if (l === undefined) {
      const near = leaves.filter((x) => x.path.endsWith(`.${p.split('.').pop()}`)).map((x) => x.path).slice(0, 3);
      errors.add(where, `'${p}' is not a canonical field${near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : ''}`);
    }
    return l;
  };
  const leafList = (ps: readonly string[] | undefined, where: string): CanonicalLeaf[] => (ps ?? []).flatMap((p) => leaf(p, where) ?? []);
  const checkCondition = (c: TargetCondition | undefined, where: string, allowTarget: boolean): void => {
    if (c === undefined) return;
    for (const p of [...(c.exists ?? []), ...(c.any ?? []), ...(c.absent ?? []), ...Object.keys(c.in ?? {})]) leaf(p, where);
    if (c.target_exists !== undefined) {
      if (!allowTarget) errors.add(where, '`target_exists` is only allowed in default_when, derived, and ensure (homes are placed before the document is complete)');
      path(c.target_exists, where);
    }
  };
  const checkConversion = (as: string | undefined, where: string): void => {
    if (as !== undefined && !CONVERSIONS.has(as)) errors.add(where, `unknown conversion '${as}' (known: ${[...CONVERSIONS].join(', ')})`);
  };

  const customNamespace = path(file.custom_namespace, 'custom_namespace') ?? parseTargetPath('custom');
  const versionField = path(file.version_field, 'version_field') ?? parseTargetPath('version');

  // Constants: dotted paths → nested object.
  const constants: Record<string, unknown> = {};
  const constantPaths: TargetPath[] = [];
  for (const [p, raw] of Object.entries(file.constants ?? {})) {
    const tp = path(p, `constants.${p}`);
    if (tp === undefined) continue;
    constantPaths.push(tp);
    let o: Record<string, unknown> = constants;
    for (let i = 0; i < tp.segments.length - 1; i++) {
      const s = tp.segments[i]!;
      if (typeof s === 'number' || typeof tp.segments[i + 1] === 'number') {
        errors.add(`constants.${p}`, 'constants cannot index into arrays; give the whole array as the value');
        break;
      }
      o = (o[s] ??= {}) as Record<string, unknown>;
    }
    o[tp.segments[tp.segments.length - 1] as string] = substitute(raw, file.version);
  }
  if (!constantPaths.some((c) => c.text === versionField.text)) errors.add('version_field', `${file.version_field} must be one of the constants (decoders check it)`);
  else if (!Object.entries(file.constants ?? {}).some(([k, v]) => k === file.version_field && v === file.version)) errors.add('version_field', `constant ${file.version_field} must equal the file's version ${file.version}`);

  // Classes.
  const classSpecs = Object.entries(file.classes ?? {});
  const hasClasses = classSpecs.length > 0;
  const classNames = new Set(classSpecs.map(([n]) => n));
  const baseAttributes = new Set(file.base_attributes ?? []);
  const checkClasses = (cs: readonly string[] | undefined, where: string): void => {
    for (const c of cs ?? []) if (!classNames.has(c)) errors.add(where, `unknown class '${c}' (known: ${[...classNames].join(', ')})`);
  };
  const classAttributes = (name: string): ReadonlySet<string> => new Set([...baseAttributes, ...(file.classes?.[name]?.attributes ?? [])]);
  const allAttributes = new Set([...baseAttributes, ...classSpecs.flatMap(([, s]) => s.attributes)]);
  const applies = (to: TargetPath, classes: readonly string[] | undefined, className: string): boolean => {
    if (!hasClasses) return true;
    if (classes !== undefined && !classes.includes(className)) return false;
    return classAttributes(className).has(String(to.segments[0]));
  };
  const checkRoot = (to: TargetPath | undefined, where: string): void => {
    if (hasClasses && to !== undefined && to.segments.length > 0 && !allAttributes.has(String(to.segments[0]))) {
      errors.add(where, `'${String(to.segments[0])}' is not an attribute of any class in this file (add it to base_attributes or a class's attributes)`);
    }
  };

  // Field placements, parsed once.
  interface Candidate {
    readonly spec: PlacementSpec;
    readonly to: TargetPath;
    readonly placement: ResolvedPlacement;
  }
  const candidates = new Map<string, Candidate[]>();
  for (const [field, raw] of Object.entries(file.fields) as [string, FieldPlacements][]) {
    const l = leaf(field, `fields.${field}`);
    if (l === undefined) continue;
    const list = (Array.isArray(raw) ? raw : [raw]) as (string | PlacementSpec)[];
    const out: Candidate[] = [];
    list.forEach((item, i) => {
      const where = `fields.${field}[${i}]`;
      const spec: PlacementSpec = typeof item === 'string' ? { to: item } : item;
      const to = path(spec.to, where);
      if (to === undefined) return;
      checkRoot(to, where);
      checkClasses(spec.classes, where);
      checkConversion(spec.as, where);
      checkCondition(spec.when, where, false);
      checkCondition(spec.default_when, where, true);
      if (isUnder(to, customNamespace)) errors.add(where, `${spec.to} is inside the custom namespace ${file.custom_namespace}; fields without a home go there by themselves`);
      if (!spec.copy) {
        if (spec.as === 'epoch_ms') errors.add(where, 'epoch_ms loses sub-millisecond digits and the original text: a home must keep the value (use it on a copy)');
        if (spec.as === 'key_value_list' && l.kind !== 'string_map') errors.add(where, 'key_value_list needs a map field');
        if (spec.map !== undefined) {
          const seen = new Map<string, string>();
          for (const [k, v] of Object.entries(spec.map)) {
            const key = JSON.stringify(v);
            if (seen.has(key)) errors.add(where, `map is not one-to-one: '${seen.get(key)}' and '${k}' both give ${key}, so the decoder could not tell them apart`);
            seen.set(key, k);
          }
        }
      } else if (spec.default !== undefined) {
        errors.add(where, 'a copy cannot have a default (defaults belong to the home)');
      }
      let fill: ResolvedFill | undefined;
      if (spec.default !== undefined) {
        const d: FillSpec = spec.default;
        if (typeof d === 'object') {
          checkConversion(d.as, where);
          fill = { first: leafList(d.first, where), ...(d.value !== undefined ? { value: d.value } : {}), ...(d.as !== undefined ? { as: d.as } : {}) };
          if (fill.first.length === 0 && fill.value === undefined) errors.add(where, 'default needs `first` or `value`');
          if (fill.first.some((f) => f.path === l.path)) errors.add(where, 'a default cannot read the field itself');
        } else {
          fill = { first: [], value: d };
        }
      }
      const placement: ResolvedPlacement = {
        to,
        ...(spec.as !== undefined ? { as: spec.as } : {}),
        ...(spec.map !== undefined ? { map: new Map(Object.entries(spec.map)) } : {}),
        ...(spec.accept !== undefined ? { accept: spec.accept } : {}),
        ...(spec.when !== undefined ? { when: spec.when } : {}),
        ...(fill !== undefined ? { fill } : {}),
        ...(spec.default_when !== undefined ? { fillWhen: spec.default_when } : {}),
      };
      out.push({ spec, to, placement });
    });
    candidates.set(l.path, out);
  }

  // Derived, ensure, collect: parsed once, filtered per class.
  const derived: { classes?: readonly string[]; r: ResolvedDerived }[] = [];
  (file.derived ?? []).forEach((spec, i) => {
    const where = `derived[${i}] (${spec.to})`;
    const to = path(spec.to, where);
    if (to === undefined) return;
    checkRoot(to, where);
    checkClasses(spec.classes, where);
    checkConversion(spec.as, where);
    checkCondition(spec.when, where, true);
    const sources = [spec.from, spec.first, spec.join, spec.value].filter((x) => x !== undefined).length;
    if (sources !== 1) errors.add(where, 'give exactly one of from, first, join, value');
    const from = spec.from !== undefined ? leaf(spec.from, where) : undefined;
    derived.push({
      ...(spec.classes !== undefined ? { classes: spec.classes } : {}),
      r: { spec, to, ...(from !== undefined ? { from } : {}), ...(spec.first !== undefined ? { first: leafList(spec.first, where) } : {}), ...(spec.join !== undefined ? { join: leafList(spec.join, where) } : {}) },
    });
  });
  const ensures: { spec: EnsureSpec; r: Omit<ResolvedEnsure, 'required'> }[] = [];
  (file.ensure ?? []).forEach((spec, i) => {
    const where = `ensure[${i}] (${spec.at === '' ? 'root' : spec.at})`;
    const at = path(spec.at, where);
    if (at === undefined) return;
    checkRoot(at, where);
    checkClasses(spec.classes, where);
    checkClasses(spec.required_in, where);
    const set = Object.entries(spec.set).flatMap(([sub, v]) => {
      const rel = path(sub, where);
      if (rel === undefined) return [];
      checkConversion(v.as, where);
      const to = joinPath(at, rel);
      checkRoot(to, where);
      if (v.first === undefined && v.value === undefined) errors.add(where, `set.${sub} needs first or value`);
      return [{ to, first: leafList(v.first, where), ...(v.value !== undefined ? { value: v.value } : {}), ...(v.as !== undefined ? { as: v.as } : {}) }];
    });
    ensures.push({ spec, r: { at, unlessAny: spec.unless_any, set } });
  });
  const collects: ResolvedCollect[] = [];
  for (const [p, spec] of Object.entries(file.collect ?? {}) as [string, CollectSpec][]) {
    const where = `collect.${p}`;
    const to = path(p, where);
    if (to === undefined) continue;
    checkRoot(to, where);
    const from = Array.isArray(spec) ? (spec as readonly string[]) : (spec as { from: readonly string[] }).from;
    const accept = Array.isArray(spec) ? undefined : (spec as { accept?: AcceptSpec }).accept;
    collects.push({ to, from: leafList(from, where), ...(accept !== undefined ? { accept } : {}) });
  }

  // Profiles.
  let profilesField: TargetPath | undefined;
  if (file.profiles !== undefined) profilesField = path(file.profiles.field, 'profiles.field');

  // Per class plans.
  const classList: [string, ClassSpec | undefined][] = hasClasses ? classSpecs : [['', undefined]];
  const classes: ClassPlan[] = classList.map(([name, spec]) => {
    const where = hasClasses ? `class ${name}` : 'document';
    const plans: LeafPlan[] = leaves.map((l) => {
      const applicable = (candidates.get(l.path) ?? []).filter((c) => applies(c.to, c.spec.classes, name));
      const homeCandidate = applicable.find((c) => !c.spec.copy);
      const copies = applicable.filter((c) => c.spec.copy).map((c) => c.placement);
      const home = homeCandidate?.placement;
      const mayFallback = home === undefined || homeIsPartial(l, home);
      return { leaf: l, ...(home !== undefined ? { home } : {}), copies, fallback: joinPath(customNamespace, parseTargetPath(l.path)), mayFallback };
    });

    // Homes must not collide with each other, nor with anything else written into the document.
    const homes = plans.filter((p) => p.home !== undefined);
    for (let i = 0; i < homes.length; i++) {
      for (let j = i + 1; j < homes.length; j++) {
        if (overlaps(homes[i]!.home!.to, homes[j]!.home!.to)) {
          errors.add(where, `${homes[i]!.leaf.path} and ${homes[j]!.leaf.path} share the home ${homes[i]!.home!.to.text} / ${homes[j]!.home!.to.text}: the decoder could not tell them apart`);
        }
      }
    }
    const classDerived = derived.filter((d) => (d.classes === undefined || d.classes.includes(name)) && applies(d.r.to, undefined, name)).map((d) => d.r);
    const classEnsure = ensures
      .filter((x) => (x.spec.classes === undefined || x.spec.classes.includes(name)) && (x.r.at.segments.length === 0 || applies(x.r.at, undefined, name)))
      .map((x) => ({ ...x.r, required: x.spec.required_in?.includes(name) ?? false, set: x.r.set.filter((s) => applies(s.to, undefined, name)) }));
    const classCollect = collects.filter((c) => applies(c.to, undefined, name));
    const others: { what: string; to: TargetPath }[] = [
      ...plans.flatMap((p) => p.copies.map((c) => ({ what: `copy of ${p.leaf.path}`, to: c.to }))),
      ...classDerived.map((d) => ({ what: 'derived value', to: d.to })),
      ...classEnsure.flatMap((x) => x.set.map((s) => ({ what: 'ensure', to: s.to }))),
      ...classCollect.map((c) => ({ what: 'collect', to: c.to })),
      ...constantPaths.map((c) => ({ what: 'constant', to: c })),
      { what: 'custom namespace', to: customNamespace },
      ...(profilesField !== undefined ? [{ what: 'profiles field', to: profilesField }] : []),
      ...(hasClasses ? CLASSIFICATION.map((c) => ({ what: 'classification', to: parseTargetPath(c) })) : []),
    ];
    for (const o of others) {
      for (const h of homes) {
        if (overlaps(o.to, h.home!.to)) errors.add(where, `${o.what} at ${o.to.text} would overwrite the home of ${h.leaf.path} (${h.home!.to.text})`);
      }
    }

    // Decode order: a leaf whose default reads other leaves comes after them.
    const byPath = new Map(plans.map((p) => [p.leaf.path, p]));
    const order: LeafPlan[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (p: LeafPlan, trail: string[]): void => {
      const s = state.get(p.leaf.path);
      if (s === 'done') return;
      if (s === 'visiting') {
        errors.add(where, `defaults read each other in a cycle: ${[...trail, p.leaf.path].join(' → ')}`);
        return;
      }
      state.set(p.leaf.path, 'visiting');
      for (const dep of p.home?.fill?.first ?? []) visit(byPath.get(dep.path)!, [...trail, p.leaf.path]);
      state.set(p.leaf.path, 'done');
      order.push(p);
    };
    for (const p of plans) visit(p, []);

    const profiles = (spec?.profiles ?? []).map((pn) => {
      const attrs = file.profiles?.applies[pn];
      if (attrs === undefined) errors.add(where, `profile '${pn}' has no entry in profiles.applies`);
      return { name: pn, attributes: attrs ?? [] };
    });
    if (spec !== undefined) {
      for (const a of Object.keys(spec.activities)) if (!/^\d+$/.test(a)) errors.add(where, `activity id '${a}' is not a number`);
    }
    return { name, ...(spec !== undefined ? { spec } : {}), leaves: plans, decodeOrder: order, derived: classDerived, ensure: classEnsure, collect: classCollect, profiles };
  });

  // Routes (targets with classes).
  const routes: ResolvedRoute[] = [];
  if (hasClasses) {
    (file.routes ?? []).forEach((r: RouteSpec, i) => {
      const where = `routes[${i}]`;
      const classIndex = classList.findIndex(([n]) => n === r.class);
      if (classIndex < 0) {
        errors.add(where, `unknown class '${r.class}'`);
        return;
      }
      const when = Object.entries(r.when).flatMap(([p, values]) => {
        const l = leaf(p, where);
        return l === undefined ? [] : [{ leaf: l, values }];
      });
      const a: ActivitySpec = typeof r.activity === 'number' ? { default: r.activity } : r.activity;
      const activities = classList[classIndex]![1]!.activities;
      for (const id of [a.default, ...Object.values(a.map ?? {})]) {
        if (activities[String(id)] === undefined) errors.add(where, `activity ${id} is not an activity of ${r.class} (known: ${Object.keys(activities).join(', ')})`);
      }
      const otherName = a.other_name === undefined ? undefined : typeof a.other_name === 'string' ? { first: [], value: a.other_name } : { first: leafList(a.other_name.first, where), value: a.other_name.value };
      routes.push({
        when,
        classIndex,
        activity: { from: leafList(a.from, where), map: new Map(Object.entries(a.map ?? {})), default: a.default, ...(otherName !== undefined ? { otherName } : {}) },
      });
    });
    // Every action must reach a class.
    const action = leafByPath.get('event.action')!;
    for (const v of action.enum ?? []) {
      const covered = routes.some((r) => r.when.every((w) => w.leaf.path === 'event.action' && w.values.includes(v)));
      if (!covered) errors.add('routes', `no route takes every '${String(v)}' event (add one whose only condition is event.action)`);
    }
  }

  errors.throwIfAny();
  return { file, source, customNamespace, versionField, constants, constantPaths, classes, routes, ...(profilesField !== undefined ? { profilesField } : {}) };
}
