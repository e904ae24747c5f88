import { ConfigError } from '../../core/errors.ts';
import { SECRET_PATTERNS, type SecretPattern } from './secret-patterns.ts';

// One pass per string: every pattern row is a numbered alternative of one global expression, so
// a string is scanned once whatever the number of kinds (the old loop scanned it once per kind).
// Most strings an event holds (ids, model names, numbers as text) contain no secret; for them
// the cost is one failed scan of the rows' cheap triggers, and the original string is returned.

/** What redaction found in one string (accumulated across the strings of one event). */
export interface RedactionTally {
  count: number;
  readonly kinds: Set<string>;
}

export interface Redactor {
  /** `text` with every secret replaced by `[REDACTED:<kind>]`; the same string when none was found. */
  redact(text: string, tally?: RedactionTally, options?: { keepEmail?: boolean }): string;
}

interface CompiledSet {
  /** Union of the rows' triggers: no match here means no row can match. */
  readonly trigger: RegExp;
  readonly re: RegExp;
  readonly kinds: readonly string[];
}

function compile(rows: readonly SecretPattern[]): CompiledSet {
  return {
    trigger: new RegExp([...new Set(rows.map((r) => r.trigger))].join('|')),
    re: new RegExp(rows.map((r) => `(${r.source})`).join('|'), 'g'),
    kinds: rows.map((r) => r.kind),
  };
}

/** User patterns (`redaction.extra_patterns`) are checked here so a bad one fails at start-up, named. */
function compileExtra(patterns: readonly string[]): RegExp[] {
  return patterns.map((p, i) => {
    try {
      return new RegExp(p, 'g');
    } catch (e) {
      throw new ConfigError('redaction_pattern', `redaction.extra_patterns[${i}] is not a valid regular expression: ${(e as Error).message}`, { index: i });
    }
  });
}

function replaceAll(text: string, set: CompiledSet, tally: RedactionTally | undefined): string {
  if (!set.trigger.test(text)) return text;
  const re = set.re;
  re.lastIndex = 0;
  let m = re.exec(text);
  if (m === null) return text;
  let out = '';
  let from = 0;
  while (m !== null) {
    let row = 1;
    while (m[row] === undefined) row++;
    const kind = set.kinds[row - 1]!;
    out += `${text.slice(from, m.index)}[REDACTED:${kind}]`;
    from = m.index + m[0].length;
    if (tally !== undefined) {
      tally.count++;
      tally.kinds.add(kind);
    }
    // An empty match cannot happen (every row consumes characters), but never loop on one.
    if (m[0].length === 0) re.lastIndex++;
    m = re.exec(text);
  }
  return out + text.slice(from);
}

export function createRedactor(extraPatterns: readonly string[] = []): Redactor {
  const all = compile(SECRET_PATTERNS);
  const withoutEmail = compile(SECRET_PATTERNS.filter((p) => p.kind !== 'email'));
  const extra = compileExtra(extraPatterns);
  return {
    redact(text, tally, options) {
      let out = replaceAll(text, options?.keepEmail === true ? withoutEmail : all, tally);
      for (const re of extra) {
        out = out.replace(re, () => {
          if (tally !== undefined) {
            tally.count++;
            tally.kinds.add('custom');
          }
          return '[REDACTED:custom]';
        });
      }
      return out;
    },
  };
}
