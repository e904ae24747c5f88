// Source paths of mapping files, parsed once at compile time into JS property-access code.
//   record.actor.session.user.email
//   attrs["user.email"]            keys holding dots
//   record.data[0].object          array index ([-1] = last element)
//   item[item.type]                key read from another value (OpenAI audit payload keyed by type)

export type PathSegment =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'dynamic'; readonly path: ParsedPath };

export interface ParsedPath {
  readonly root: string;
  readonly segments: readonly PathSegment[];
}

const IDENT = /[A-Za-z0-9_$@-]/;

export class PathSyntaxError extends Error {}

export function parsePath(text: string): ParsedPath {
  let pos = 0;
  const fail = (what: string): never => {
    throw new PathSyntaxError(`invalid path '${text}' at character ${pos + 1}: ${what}`);
  };
  const ident = (): string => {
    const start = pos;
    while (pos < text.length && IDENT.test(text[pos]!)) pos++;
    if (pos === start) fail('expected a name');
    return text.slice(start, pos);
  };
  const parse = (nested: boolean): ParsedPath => {
    const root = ident();
    const segments: PathSegment[] = [];
    while (pos < text.length) {
      const ch = text[pos]!;
      if (ch === '.') {
        pos++;
        segments.push({ kind: 'key', key: ident() });
      } else if (ch === '[') {
        pos++;
        const q = text[pos];
        if (q === '"' || q === "'") {
          const end = text.indexOf(q, pos + 1);
          if (end < 0) fail('unterminated quoted key');
          segments.push({ kind: 'key', key: text.slice(pos + 1, end) });
          pos = end + 1;
        } else if (q !== undefined && /[-0-9]/.test(q)) {
          const start = pos;
          pos++;
          while (pos < text.length && /[0-9]/.test(text[pos]!)) pos++;
          const index = Number(text.slice(start, pos));
          if (!Number.isInteger(index)) fail("invalid index");
          segments.push({ kind: 'index', index });
        } else {
          segments.push({ kind: 'dynamic', path: parse(true) });
        }
        if (text[pos] !== ']') fail("expected ']'");
        pos++;
      } else if (nested && ch === ']') {
        break;
      } else {
        fail(`unexpected '${ch}'`);
      }
    }
    return { root, segments };
  };
  const p = parse(false);
  if (pos !== text.length) fail('trailing characters');
  return p;
}

/**
 * JS expression reading the path with optional chaining. `rootExpr` maps a root name to the JS
 * identifier holding it (and throws for unknown roots, so typos fail at start-up).
 */
export function pathToJs(p: ParsedPath, rootExpr: (root: string) => string): string {
  let js = rootExpr(p.root);
  for (const s of p.segments) {
    if (s.kind === 'key') js += `?.[${JSON.stringify(s.key)}]`;
    else if (s.kind === 'index') js += s.index < 0 ? `?.at?.(${s.index})` : `?.[${s.index}]`;
    else js += `?.[h.keyOf(${pathToJs(s.path, rootExpr)})]`;
  }
  return js;
}

export function describePath(p: ParsedPath): string {
  let s = p.root;
  for (const seg of p.segments) {
    if (seg.kind === 'key') s += /^[A-Za-z0-9_$@-]+$/.test(seg.key) ? `.${seg.key}` : `[${JSON.stringify(seg.key)}]`;
    else if (seg.kind === 'index') s += `[${seg.index}]`;
    else s += `[${describePath(seg.path)}]`;
  }
  return s;
}
