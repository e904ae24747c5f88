// Paths in target mapping files (`actor.user.uid`, `resources[0].name`, `@timestamp`), parsed once
// at compile time into JavaScript property accesses for the generated encoder and decoder.

export type TargetSegment = string | number;

export interface TargetPath {
  readonly text: string;
  /** Keys (strings) and array indexes (numbers). */
  readonly segments: readonly TargetSegment[];
}

const KEY = /^[A-Za-z0-9_@]+$/;

export class TargetPathError extends Error {}

export function parseTargetPath(text: string): TargetPath {
  if (text === '') return { text, segments: [] };
  const segments: TargetSegment[] = [];
  for (const part of text.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (m === null || !KEY.test(m[1]!)) throw new TargetPathError(`invalid path '${text}': '${part}' is not a name (letters, digits, _ and @) optionally followed by [index]`);
    segments.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) segments.push(Number(idx[1]));
  }
  return { text, segments };
}

export function joinPath(a: TargetPath, b: TargetPath): TargetPath {
  if (a.segments.length === 0) return b;
  if (b.segments.length === 0) return a;
  return { text: `${a.text}.${b.text}`, segments: [...a.segments, ...b.segments] };
}

/** True when one path equals the other or lies inside it (writing both would collide). */
export function overlaps(a: TargetPath, b: TargetPath): boolean {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) if (a.segments[i] !== b.segments[i]) return false;
  return true;
}

export function isUnder(path: TargetPath, prefix: TargetPath): boolean {
  if (path.segments.length < prefix.segments.length) return false;
  for (let i = 0; i < prefix.segments.length; i++) if (path.segments[i] !== prefix.segments[i]) return false;
  return true;
}

function access(seg: TargetSegment): string {
  return typeof seg === 'number' ? `[${seg}]` : `[${JSON.stringify(seg)}]`;
}

/** Expression reading the path from `root` with optional chaining (undefined when any step is missing). */
export function readJs(root: string, p: TargetPath): string {
  let js = root;
  for (const s of p.segments) js += `?.${access(s)}`;
  return js;
}

/** Statement assigning `value` at the path under `root`, creating objects and arrays on the way. */
export function writeJs(root: string, p: TargetPath, value: string): string {
  if (p.segments.length === 0) throw new TargetPathError('cannot assign the document root');
  let js = root;
  for (let i = 0; i < p.segments.length - 1; i++) {
    const next = p.segments[i + 1];
    js = `(${js}${access(p.segments[i]!)} ??= ${typeof next === 'number' ? '[]' : '{}'})`;
  }
  return `${js}${access(p.segments[p.segments.length - 1]!)} = ${value};`;
}
