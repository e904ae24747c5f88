// Plan → JavaScript source for one encoder and one decoder, compiled once with `new Function`
// (as the source mappings are, src/normalize/mapping-compiler.ts): per event the encoder runs
// straight-line property reads and writes, with no look at the mapping data. Shape per class:
//
//   function c0(e, act, actName) {
//     const d = {"class_uid":6003, ..., "metadata":{"version":"1.8.0"}};   // constants, fresh per event
//     let v, t, f, x; let w3 = false;
//     { const o1 = e["gen_ai"]; if (o1 !== undefined) {                    // canonical tree, skipped when absent
//       { const o2 = o1["request"]; if (o2 !== undefined) {
//         v = o2["model"]; if (v !== undefined) { ((d["ai_model"] ??= {}))["name"] = v; w3 = true; } } } } }
//     ...                                                                   // homes, copies, fallbacks
//     if (!w3 && d?.["ai_model"] !== undefined) { f = e?.["gen_ai"]?.["response"]?.["model"]; ... }  // fill-ins
//     ...                                                                   // derived, ensure, collect, type_uid, profiles
//     return d;
//   }
//
// The decoder reads each canonical leaf from the custom namespace first, else from its home
// (undoing the conversion; a value equal to the home's fill-in default means "absent").

import type { AuditEvent } from '../core/audit-event.ts';
import type { CanonicalLeaf } from './canonical-leaves.ts';
import { parseTargetPath, readJs, writeJs } from './target-path.ts';
import type { ClassPlan, LeafPlan, ResolvedFill, ResolvedPlacement, TargetPlan } from './target-plan.ts';
import { runtime } from './target-runtime.ts';
import type { AcceptSpec, TargetCondition, TargetConversion } from './target-types.ts';

export interface GeneratedTarget {
  encode(event: AuditEvent): Record<string, unknown>;
  classOf(event: AuditEvent): string;
  decode(document: Record<string, unknown>): AuditEvent;
  /** The generated source, for debugging and tests. */
  readonly code: string;
}

class Gen {
  readonly k: unknown[] = [];
  /** Reference to a value held outside the generated code (Maps, Sets, RegExps). */
  konst(value: unknown): string {
    this.k.push(value);
    return `k[${this.k.length - 1}]`;
  }
}

const lit = (v: unknown): string => JSON.stringify(v);

function canon(root: string, leaf: CanonicalLeaf): string {
  let js = root;
  for (const s of leaf.segments) js += `?.[${lit(s)}]`;
  return js;
}

function canonWrite(root: string, leaf: CanonicalLeaf, value: string): string {
  let js = root;
  for (let i = 0; i < leaf.segments.length - 1; i++) js = `(${js}[${lit(leaf.segments[i])}] ??= {})`;
  return `${js}[${lit(leaf.segments[leaf.segments.length - 1])}] = ${value};`;
}

function condition(g: Gen, c: TargetCondition | undefined, leafOf: (p: string) => CanonicalLeaf, root = 'e'): string {
  if (c === undefined) return 'true';
  const parts: string[] = [];
  for (const p of c.exists ?? []) parts.push(`${canon(root, leafOf(p))} !== undefined`);
  if (c.any !== undefined && c.any.length > 0) parts.push(`(${c.any.map((p) => `${canon(root, leafOf(p))} !== undefined`).join(' || ')})`);
  for (const p of c.absent ?? []) parts.push(`${canon(root, leafOf(p))} === undefined`);
  for (const [p, values] of Object.entries(c.in ?? {})) parts.push(`${g.konst(new Set(values))}.has(${canon(root, leafOf(p))})`);
  if (c.target_exists !== undefined) parts.push(`${readJs('d', parseTargetPath(c.target_exists))} !== undefined`);
  return parts.length === 0 ? 'true' : parts.join(' && ');
}

function accept(g: Gen, a: AcceptSpec, v: string): string {
  if (a === 'ip') return `h.isIp(${v})`;
  if (a === 'not_ip') return `!h.isIp(${v})`;
  if (a === 'email') return `h.isEmail(${v})`;
  if ('in' in a) return `${g.konst(new Set(a.in))}.has(${v})`;
  return `${g.konst(new RegExp(a.pattern))}.test(${v})`;
}

/** Expression of a one-way conversion (undefined when the value cannot be converted). */
function convert(as: TargetConversion | undefined, v: string): string {
  switch (as) {
    case 'epoch_ms':
      return `h.epochMs(${v})`;
    case 'ns_from_ms':
      return `Math.round(${v} * 1e6)`;
    case 'int':
      return `Math.round(${v})`;
    case 'key_value_list':
      return `h.kvList(${v})`;
    default:
      return v;
  }
}

/**
 * Expression looking `v` up in a table: a chain of comparisons for small tables (values are
 * fresh literals, so a document never shares an array with another), a Map for large ones.
 */
function lookup(g: Gen, table: ReadonlyMap<string, unknown>, kind: CanonicalLeaf['kind'], otherwise = 'undefined'): string {
  const key = kind === 'string' ? 'v' : 'x';
  const prefix = kind === 'string' ? '' : 'x = String(v), ';
  if (table.size <= 16) return `(${prefix}${[...table].map(([k, val]) => `${key} === ${lit(k)} ? ${lit(val)} : `).join('')}${otherwise})`;
  return `(${prefix}h.own(${g.konst(table)}.get(${key}) ?? ${otherwise}))`;
}

function fillExpr(fill: ResolvedFill, root: string): string {
  const parts = fill.first.map((l) => canon(root, l));
  if (fill.value !== undefined) parts.push(lit(fill.value));
  const e = parts.length === 1 ? parts[0]! : `(${parts.join(' ?? ')})`;
  return fill.as !== undefined ? `((x = ${e}) === undefined ? undefined : ${convert(fill.as, 'x')})` : e;
}

interface TreeNode {
  readonly children: Map<string, TreeNode>;
  plan?: LeafPlan;
}

function leafTree(plans: readonly LeafPlan[]): TreeNode {
  const root: TreeNode = { children: new Map() };
  for (const p of plans) {
    let n = root;
    for (const s of p.leaf.segments) {
      let c = n.children.get(s);
      if (c === undefined) {
        c = { children: new Map() };
        n.children.set(s, c);
      }
      n = c;
    }
    n.plan = p;
  }
  return root;
}

function encodeClass(g: Gen, plan: TargetPlan, c: ClassPlan, index: number, leafOf: (p: string) => CanonicalLeaf): string {
  const flags = new Map<string, string>();
  c.leaves.forEach((p, i) => {
    if (p.home?.fill !== undefined) flags.set(p.leaf.path, `w${i}`);
  });
  const out: string[] = [];
  const literal: Record<string, unknown> = structuredClone(plan.constants) as Record<string, unknown>;
  if (c.spec !== undefined) {
    Object.assign(literal, { class_uid: c.spec.uid, class_name: c.spec.caption, category_uid: c.spec.category.uid, category_name: c.spec.category.caption });
  }
  out.push(`function c${index}(e, act, actName) {`, `const d = ${lit(literal)};`, 'let v, t, f, x;');
  if (flags.size > 0) out.push(`let ${[...flags.values()].map((f) => `${f} = false`).join(', ')};`);

  const writeHome = (p: LeafPlan, value: string): string => `${writeJs('d', p.home!.to, value)}${flags.has(p.leaf.path) ? ` ${flags.get(p.leaf.path)} = true;` : ''}`;
  const leafCode = (p: LeafPlan, fbObject: string): string => {
    const fb = `${fbObject}[${lit(p.leaf.segments[p.leaf.segments.length - 1])}] = v;`;
    const code: string[] = [];
    const h = p.home;
    if (h === undefined) {
      code.push(fb);
    } else {
      const conds: string[] = [];
      if (h.when !== undefined) conds.push(condition(g, h.when, leafOf));
      if (h.accept !== undefined) conds.push(accept(g, h.accept, 'v'));
      // The home gets the (converted) value whenever it has one; the exact value also goes to
      // the fallback when the home's value would not read back as the original.
      let t = 'v';
      let mayMiss = false;
      const inexact: string[] = [];
      if (h.map !== undefined) {
        t = lookup(g, h.map, p.leaf.kind);
        mayMiss = true;
        inexact.push('t === undefined');
      } else if (h.as === 'ns_from_ms') {
        t = 'Math.round(v * 1e6)';
        inexact.push('t / 1e6 !== v');
      } else if (h.as === 'int') {
        t = 'Math.round(v)';
        inexact.push('t !== v');
      } else if (h.as === 'key_value_list') {
        t = 'h.kvList(v)';
      }
      if (h.fill !== undefined) inexact.push(`t === ${fillExpr(h.fill, 'e')}`);
      if (conds.length === 0 && inexact.length === 0) {
        code.push(writeHome(p, t));
      } else {
        const home = mayMiss ? `if (t !== undefined) { ${writeHome(p, 't')} }` : writeHome(p, 't');
        const inner = `t = ${t}; ${home}${inexact.length > 0 ? ` if (${inexact.join(' || ')}) { ${fb} }` : ''}`;
        code.push(conds.length === 0 ? inner : `if (${conds.join(' && ')}) { ${inner} } else { ${fb} }`);
      }
    }
    for (const cp of p.copies) code.push(copyCode(g, cp, p.leaf, leafOf));
    return code.join(' ');
  };
  // The fallback object of each canonical object is created on first use and kept in u<depth>,
  // so a deep fallback path is walked once per event, not once per field.
  const walk = (n: TreeNode, v: string, depth: number, fbObject: string): void => {
    for (const [key, child] of n.children) {
      if (child.plan !== undefined) {
        out.push(`v = ${v}[${lit(key)}]; if (v !== undefined) { ${leafCode(child.plan, fbObject)} }`);
      } else {
        const o = `o${depth}`;
        const u = `u${depth}`;
        out.push(`{ const ${o} = ${v}[${lit(key)}]; if (${o} !== undefined) { let ${u};`);
        walk(child, o, depth + 1, `(${u} ??= (${fbObject}[${lit(key)}] ??= {}))`);
        out.push('} }');
      }
    }
  };
  let nsRoot = 'd';
  for (const seg of plan.customNamespace.segments) nsRoot = `(${nsRoot}[${lit(seg)}] ??= {})`;
  out.push('let u0;');
  walk(leafTree(c.leaves), 'e', 1, `(u0 ??= ${nsRoot})`);

  // Fill-ins for homes nothing was written to.
  for (const p of c.leaves) {
    if (p.home?.fill === undefined) continue;
    out.push(`if (!${flags.get(p.leaf.path)} && ${condition(g, p.home.fillWhen, leafOf)}) { f = ${fillExpr(p.home.fill, 'e')}; if (f !== undefined) ${writeJs('d', p.home.to, 'f')} }`);
  }
  for (const d of c.derived) {
    const s = d.spec;
    let src: string;
    let kind: CanonicalLeaf['kind'] = 'string';
    if (d.from !== undefined) {
      src = `v = ${canon('e', d.from)};`;
      kind = d.from.kind;
    } else if (d.first !== undefined) src = `v = ${d.first.map((l) => canon('e', l)).join(' ?? ')};`;
    else if (d.join !== undefined) {
      // Present values joined by a space, without building an array per event.
      src = `v = undefined; ${d.join.map((l) => `x = ${canon('e', l)}; if (x !== undefined && x !== "") v = v === undefined ? String(x) : v + " " + x;`).join(' ')}`;
    } else src = `v = ${lit(s.value)};`;
    let t = convert(s.as, 'v');
    if (s.map !== undefined) t = lookup(g, new Map(Object.entries(s.map)), kind, s.default !== undefined ? lit(s.default) : 'undefined');
    const set = s.append ? writeJs('d', d.to, `h.addTo(${readJs('d', d.to)}, t)`) : writeJs('d', d.to, 't');
    out.push(`if (${condition(g, s.when, leafOf)}) { ${src} if (v !== undefined) { t = ${t}; if (t !== undefined) ${set} } }`);
  }
  for (const en of c.ensure) {
    const at = en.at.segments.length === 0 ? 'd' : readJs('d', en.at);
    const create = en.required && en.at.segments.length > 0 ? ` if (x === undefined) { x = {}; ${writeJs('d', en.at, 'x')} }` : '';
    const none = en.unlessAny.map((key) => `x[${lit(key)}] === undefined`).join(' && ') || 'true';
    const sets = en.set.map((s) => `t = ${fillExpr({ first: s.first, ...(s.value !== undefined ? { value: s.value } : {}), ...(s.as !== undefined ? { as: s.as } : {}) }, 'e')}; if (t !== undefined) ${writeJs('d', s.to, 't')}`).join(' ');
    out.push(`x = ${at};${create} if (x !== undefined && ${none}) { ${sets} }`);
  }
  for (const col of c.collect) {
    out.push('t = undefined;');
    const add = (y: string): string => `{ ${col.accept !== undefined ? `if (${accept(g, col.accept, y)}) ` : ''}{ if (t === undefined) t = [${y}]; else if (!t.includes(${y})) t.push(${y}); } }`;
    for (const l of col.from) {
      if (l.kind === 'string_array') out.push(`v = ${canon('e', l)}; if (v !== undefined) for (const y of v) ${add('y')}`);
      else out.push(`v = ${canon('e', l)}; if (v !== undefined) ${add('v')}`);
    }
    out.push(`if (t !== undefined) ${writeJs('d', col.to, 't')}`);
  }
  if (c.spec !== undefined) {
    const caps = g.konst(new Map(Object.entries(c.spec.activities).map(([id, cap]) => [Number(id), cap])));
    out.push(`d["activity_id"] = act; d["activity_name"] = actName; d["type_uid"] = ${c.spec.uid * 100} + act; d["type_name"] = ${lit(`${c.spec.caption}: `)} + ${caps}.get(act);`);
  }
  if (plan.profilesField !== undefined && c.profiles.length > 0) {
    out.push('t = [];');
    for (const pr of c.profiles) {
      const present = pr.attributes.map((a) => `d[${lit(a)}] !== undefined`).join(' || ') || 'false';
      out.push(`if (${present}) t.push(${lit(pr.name)});`);
    }
    out.push(`if (t.length > 0) ${writeJs('d', plan.profilesField, 't')}`);
  }
  out.push('return d;', '}');
  return out.join('\n');
}

function copyCode(g: Gen, cp: ResolvedPlacement, leaf: CanonicalLeaf, leafOf: (p: string) => CanonicalLeaf): string {
  const conds: string[] = [];
  if (cp.when !== undefined) conds.push(condition(g, cp.when, leafOf));
  if (cp.accept !== undefined) conds.push(accept(g, cp.accept, 'v'));
  const t = cp.map !== undefined ? lookup(g, cp.map, leaf.kind) : convert(cp.as, 'v');
  const body = `t = ${t}; if (t !== undefined) ${writeJs('d', cp.to, 't')}`;
  return conds.length === 0 ? `{ ${body} }` : `if (${conds.join(' && ')}) { ${body} }`;
}

function decodeClass(g: Gen, plan: TargetPlan, c: ClassPlan, index: number): string {
  const target = plan.file.target;
  const out: string[] = [`function d${index}(d) {`, 'const e = {}; let v, t;', `const u = ${readJs('d', plan.customNamespace)};`];
  for (const p of c.decodeOrder) {
    const rel = p.leaf.segments.map((s) => `?.[${lit(s)}]`).join('');
    out.push(`v = u${rel};`);
    const h = p.home;
    if (h !== undefined) {
      let inv = '';
      if (h.map !== undefined) {
        const reverse = g.konst(new Map([...h.map].map(([k, v]) => [v, k])));
        inv = `t = ${reverse}.get(v); if (t === undefined) h.notOurs(${lit(target)}, ${lit(h.to.text)}, v); v = t;`;
      } else if (h.as === 'ns_from_ms') inv = 'v = v / 1e6;';
      else if (h.as === 'key_value_list') inv = `v = h.kvObject(v, ${lit(`${target} ${h.to.text}`)});`;
      const fill = h.fill !== undefined ? `if (v === ${fillExpr(h.fill, 'e')}) v = undefined; else { ${inv} }` : inv;
      out.push(`if (v === undefined) { v = ${readJs('d', h.to)}; if (v !== undefined) { ${fill} } }`);
    }
    out.push(`if (v !== undefined) ${canonWrite('e', p.leaf, 'v')}`);
  }
  out.push('return e;', '}');
  return out.join('\n');
}

export function generateTarget(plan: TargetPlan): GeneratedTarget {
  const g = new Gen();
  const leafOf = (p: string): CanonicalLeaf => {
    for (const c of plan.classes) for (const l of c.leaves) if (l.leaf.path === p) return l.leaf;
    throw new Error(`unknown canonical field ${p}`);
  };
  const parts: string[] = ['"use strict";', 'let x;'];
  plan.classes.forEach((c, i) => parts.push(encodeClass(g, plan, c, i, leafOf), decodeClass(g, plan, c, i)));

  const target = plan.file.target;
  if (plan.routes.length > 0) {
    const enc: string[] = ['function encode(e) {'];
    const cls: string[] = ['function classOf(e) {'];
    for (const r of plan.routes) {
      const cond = r.when.map((w) => `${g.konst(new Set(w.values))}.has(${canon('e', w.leaf)})`).join(' && ') || 'true';
      const spec = plan.classes[r.classIndex]!.spec!;
      const caps = g.konst(new Map(Object.entries(spec.activities).map(([id, cap]) => [Number(id), cap])));
      const map = g.konst(r.activity.map);
      const act = r.activity.from.length === 0 ? String(r.activity.default) : `(${[...r.activity.from.map((l) => `${map}.get(${canon('e', l)})`), String(r.activity.default)].join(' ?? ')})`;
      const other = r.activity.otherName !== undefined ? [...r.activity.otherName.first.map((l) => canon('e', l)), lit(r.activity.otherName.value)].join(' ?? ') : `${caps}.get(99)`;
      enc.push(`if (${cond}) { const a = ${act}; return c${r.classIndex}(e, a, a === 99 ? (${other}) : ${caps}.get(a)); }`);
      cls.push(`if (${cond}) return ${lit(plan.classes[r.classIndex]!.name)};`);
    }
    const noRoute = `throw new Error("${target} encoder: no route for action " + String(e?.event?.action));`;
    enc.push(noRoute, '}');
    cls.push(noRoute, '}');
    parts.push(enc.join('\n'), cls.join('\n'));
    const dec = ['function decodeClass(d) {', 'switch (d["class_uid"]) {'];
    plan.classes.forEach((c, i) => dec.push(`case ${c.spec!.uid}: return d${i}(d);`));
    dec.push(`default: h.notOurs(${lit(target)}, "class_uid", d["class_uid"]);`, '}', '}');
    parts.push(dec.join('\n'));
  } else {
    parts.push('function encode(e) { return c0(e); }', 'function classOf(e) { return String(e.event.action).replace(".", "_"); }', 'function decodeClass(d) { return d0(d); }');
  }
  parts.push(
    'function decode(d) {',
    `if (d === null || typeof d !== "object" || Array.isArray(d)) h.notOurs(${lit(target)}, "the document", d);`,
    `const ver = ${readJs('d', plan.versionField)}; if (ver !== ${lit(plan.file.version)}) h.notOurs(${lit(target)}, ${lit(`${plan.versionField.text} (expected ${plan.file.version})`)}, ver);`,
    'return decodeClass(d);',
    '}',
    'return { encode, classOf, decode };',
  );
  const code = parts.join('\n');
  const made = new Function('h', 'k', code) as (h: typeof runtime, k: unknown[]) => Omit<GeneratedTarget, 'code'>;
  return { ...made(runtime, g.k), code };
}
