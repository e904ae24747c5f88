// RFC 8785 JSON Canonicalization Scheme for the hash chain. RFC 8785 serializes primitives
// exactly as ECMAScript's JSON.stringify does and sorts object keys by UTF-16 code units
// (Array.prototype.sort's default order). So: give every object its keys in sorted order
// (copying only objects whose keys are not already sorted) and let the native JSON.stringify
// do the rest. Hand-rolled instead of the `canonicalize` package because it runs once per
// event on the spool's hot path and this is several times faster; test/queue/jcs.test.ts
// checks it against that package.

function sorted(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const s = sorted(v);
      if (s !== v) {
        copy ??= value.slice();
        copy[i] = s;
      }
    }
    return copy ?? value;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return sorted((value as { toJSON(): unknown }).toJSON());
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let inOrder = true;
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      inOrder = false;
      break;
    }
  }
  // Integer-like keys are always enumerated first by JS, whatever the insertion order: such an
  // object cannot be re-ordered by copying, so it needs the slow path.
  let changed: Record<string, unknown> | undefined;
  for (const k of keys) {
    const v = obj[k];
    const s = sorted(v);
    if (s !== v) {
      changed ??= {};
      changed[k] = s;
    }
  }
  if (inOrder && !changed) return value;
  const out: Record<string, unknown> = {};
  for (const k of inOrder ? keys : keys.sort()) out[k] = changed && k in changed ? changed[k] : obj[k];
  return out;
}

function hasIntegerKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasIntegerKey);
  for (const [k, v] of Object.entries(value)) if (/^(0|[1-9][0-9]*)$/.test(k) || hasIntegerKey(v)) return true;
  return false;
}

function slow(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return slow((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map((v: unknown) => (v === undefined || typeof v === 'function' ? 'null' : slow(v))).join(',')}]`;
  const parts: string[] = [];
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(`${JSON.stringify(k)}:${slow(v)}`);
  }
  return `{${parts.join(',')}}`;
}

export function jcs(value: unknown): string {
  const s = JSON.stringify(sorted(value)) ?? 'null';
  // Rare in audit events (labels and attributes have name-like keys), but exact when it happens.
  if (/"(0|[1-9][0-9]*)":/.test(s) && hasIntegerKey(value)) return slow(value);
  return s;
}
