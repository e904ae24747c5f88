// The field dictionary of a compiled target: for each canonical field, where it lives in the
// rendering (per class for OCSF), as data for `agent-audit schema` and for reviewers' evidence.

import { canonicalLeaves, type LeafKind } from './canonical-leaves.ts';
import type { ClassPlan, LeafPlan, ResolvedPlacement, TargetPlan } from './target-plan.ts';

export interface Placement {
  /** Target path (the home) or the fallback path. */
  readonly path: string;
  /** Short note on the conversion, e.g. "ns", "success→1, failure→2". */
  readonly note?: string;
  /** Some values go to the fallback (a guard, a lossy conversion, a fill-in default). */
  readonly partial: boolean;
  /** True when the field has no home here: the value lives in the custom namespace. */
  readonly fallback: boolean;
  readonly copies: readonly string[];
}

export interface DictionaryEntry {
  readonly field: string;
  readonly kind: LeafKind;
  readonly description: string;
  /** Placement per class (one entry `''` for a target without classes), grouped: classes sharing a placement. */
  readonly placements: readonly { readonly classes: readonly string[]; readonly placement: Placement }[];
}

export interface ClassRoute {
  readonly class: string;
  readonly uid: number;
  readonly caption: string;
  /** Route conditions, e.g. "event.action: llm.call, tool.call". */
  readonly when: string;
  readonly activity: string;
}

export interface FieldDictionary {
  readonly target: string;
  readonly version: string;
  readonly customNamespace: string;
  readonly entries: readonly DictionaryEntry[];
  readonly routes: readonly ClassRoute[];
}

function note(h: ResolvedPlacement): string | undefined {
  if (h.map !== undefined) return [...h.map].map(([k, v]) => `${k}→${String(v)}`).join(', ');
  if (h.as === 'ns_from_ms') return 'nanoseconds';
  if (h.as === 'int') return 'rounded';
  if (h.as === 'key_value_list') return 'list of {name, value}';
  return undefined;
}

function placementOf(p: LeafPlan): Placement {
  const copies = p.copies.map((c) => (c.as === 'epoch_ms' ? `${c.to.text} (epoch ms)` : c.to.text));
  if (p.home === undefined) return { path: p.fallback.text, partial: false, fallback: true, copies };
  const n = note(p.home);
  return { path: p.home.to.text, ...(n !== undefined ? { note: n } : {}), partial: p.mayFallback, fallback: false, copies };
}

const same = (a: Placement, b: Placement): boolean => a.path === b.path && a.note === b.note && a.partial === b.partial && a.copies.join() === b.copies.join();

export function fieldDictionary(plan: TargetPlan): FieldDictionary {
  const entries = canonicalLeaves().map((leaf) => {
    const groups: { classes: string[]; placement: Placement }[] = [];
    for (const c of plan.classes) {
      const lp = c.leaves.find((l) => l.leaf.path === leaf.path)!;
      const placement = placementOf(lp);
      const g = groups.find((x) => same(x.placement, placement));
      if (g !== undefined) g.classes.push(c.name);
      else groups.push({ classes: [c.name], placement });
    }
    // Homes before the custom namespace, then the placement most classes share first.
    groups.sort((a, b) => Number(a.placement.fallback) - Number(b.placement.fallback) || b.classes.length - a.classes.length);
    return { field: leaf.path, kind: leaf.kind, description: leaf.description, placements: groups };
  });
  const caption = (c: ClassPlan) => c.spec?.caption ?? c.name;
  const routes = plan.routes.map((r) => {
    const c = plan.classes[r.classIndex]!;
    const acts = c.spec!.activities;
    const a = r.activity;
    const name = (id: number) => (id === 99 && a.otherName !== undefined ? `Other (${a.otherName.first.length > 0 ? `${a.otherName.first.map((l) => l.path).join(' or ')}, else ` : ''}"${a.otherName.value}")` : `${acts[String(id)]}`);
    const activity =
      a.from.length === 0
        ? `${a.default} ${name(a.default)}`
        : `by ${a.from.map((l) => l.path).join(', then ')}: ${[...a.map].map(([k, id]) => `${k}→${id}`).join(', ')}; else ${a.default} ${name(a.default)}`;
    return { class: c.name, uid: c.spec!.uid, caption: caption(c), when: r.when.map((w) => `${w.leaf.path}: ${w.values.join(', ')}`).join('; '), activity };
  });
  return { target: plan.file.target, version: plan.file.version, customNamespace: plan.file.custom_namespace, entries, routes };
}
