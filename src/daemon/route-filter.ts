import type { AuditEvent } from '../core/audit-event.ts';
import type { Condition, Route } from '../config/types.ts';

export type EventPredicate = (event: AuditEvent) => boolean;

/**
 * Compiles the config's routes into one predicate per sink: "does this sink get this event?".
 * Without routes every sink gets every event. Compiled once; conditions become closures.
 */
export function compileRoutes(routes: readonly Route[], sinkNames: readonly string[]): Map<string, EventPredicate> {
  const out = new Map<string, EventPredicate>();
  if (routes.length === 0) {
    for (const name of sinkNames) out.set(name, () => true);
    return out;
  }
  for (const sink of sinkNames) {
    const matching = routes.filter((r) => r.to.includes(sink)).map(compileRoute);
    out.set(sink, matching.length === 0 ? () => false : (ev) => matching.some((m) => m(ev)));
  }
  return out;
}

function compileRoute(route: Route): EventPredicate {
  const from = route.from ? new Set(route.from) : undefined;
  const when = route.when ? compileCondition(route.when) : undefined;
  return (ev) => (from === undefined || from.has(ev.origin.source)) && (when === undefined || when(ev));
}

export function compileCondition(c: Condition): EventPredicate {
  if (c.all) {
    const parts = c.all.map(compileCondition);
    return (ev) => parts.every((p) => p(ev));
  }
  if (c.any) {
    const parts = c.any.map(compileCondition);
    return (ev) => parts.some((p) => p(ev));
  }
  if (c.not) {
    const inner = compileCondition(c.not);
    return (ev) => !inner(ev);
  }
  const get = fieldGetter(c.field ?? '');
  if (c.equals !== undefined) {
    const want = c.equals;
    return (ev) => get(ev) === want;
  }
  if (c.not_equals !== undefined) {
    const want = c.not_equals;
    return (ev) => get(ev) !== want;
  }
  if (c.in !== undefined) {
    const set = new Set<unknown>(c.in);
    return (ev) => set.has(get(ev));
  }
  if (c.exists !== undefined) {
    const want = c.exists;
    return (ev) => (get(ev) !== undefined) === want;
  }
  if (c.matches !== undefined) {
    const re = new RegExp(c.matches);
    return (ev) => {
      const v = get(ev);
      return typeof v === 'string' && re.test(v);
    };
  }
  return () => true;
}

function fieldGetter(path: string): (ev: AuditEvent) => unknown {
  const parts = path.split('.');
  return (ev) => {
    let cur: unknown = ev;
    for (const p of parts) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[p];
    }
    return cur;
  };
}
