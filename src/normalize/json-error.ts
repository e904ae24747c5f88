// Locates a JSON syntax error precisely (byte offset, line, column) without quoting the input:
// V8's own messages embed a snippet of the text, which may hold a secret. Runs only on the error
// path, after JSON.parse has already failed.

export interface JsonErrorLocation {
  /** Byte offset (UTF-8) of the offending character, or the input length when it ended early. */
  readonly byte: number;
  readonly line: number;
  readonly column: number;
  readonly what: string;
  readonly truncated: boolean;
}

class Stop {
  readonly index: number;
  readonly what: string;
  constructor(index: number, what: string) {
    this.index = index;
    this.what = what;
  }
}

export function locateJsonError(s: string): JsonErrorLocation {
  let i = 0;
  const n = s.length;
  const stop = (what: string): never => {
    throw new Stop(i, i >= n ? `unexpected end of input (${what})` : what);
  };
  const ws = (): void => {
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const literal = (word: string): void => {
    for (let k = 0; k < word.length; k++, i++) if (s[i] !== word[k]) stop(`invalid literal, expected '${word}'`);
  };
  const string = (): void => {
    i++; // opening quote
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c === 92) {
        i++;
        const e = s[i];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) stop('invalid \\u escape in string');
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i++;
        else stop('invalid escape in string');
      } else if (c < 32) stop('control character in string');
      else i++;
    }
    stop('unterminated string');
  };
  const number = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(s.slice(i, i + 400));
    if (m === null || m[0] === '' || m[0] === '-') stop('invalid number');
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 2000) stop('nesting too deep');
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (s[i] !== '"') stop('expected a double-quoted property name');
        string();
        ws();
        if (s[i] !== ':') stop("expected ':' after property name");
        i++;
        value(depth + 1);
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') {
          i++;
          return;
        }
        stop("expected ',' or '}' after property value");
      }
    } else if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') {
          i++;
          return;
        }
        stop("expected ',' or ']' after array element");
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) number();
    else stop('expected a JSON value');
  };
  let index = n;
  let what = 'invalid JSON';
  try {
    value(0);
    ws();
    if (i < n) stop('unexpected data after the JSON value');
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    index = e.index;
    what = e.what;
  }
  const before = s.slice(0, index);
  const lastNl = before.lastIndexOf('\n');
  let line = 1;
  for (let k = 0; k < before.length; k++) if (before.charCodeAt(k) === 10) line++;
  return {
    byte: Buffer.byteLength(before, 'utf8'),
    line,
    column: index - lastNl,
    what,
    truncated: index >= n,
  };
}

/** One-sentence message for a dead letter: never contains input text. */
export function describeJsonError(text: string): string {
  const loc = locateJsonError(text);
  return loc.truncated
    ? `truncated JSON: ${loc.what} at byte ${loc.byte} (line ${loc.line} column ${loc.column})`
    : `invalid JSON at byte ${loc.byte} (line ${loc.line} column ${loc.column}): ${loc.what}`;
}
