// Splits a byte stream into lines as Buffers (so invalid UTF-8 stays detectable), with byte
// offsets and 1-based line numbers. A line longer than `maxLineBytes` is not buffered: only a
// short prefix is kept, the rest is skipped up to the next newline, and the line is reported as
// too long, so one huge line neither exhausts memory nor desynchronizes the lines after it.

import type { Readable } from 'node:stream';

export interface Line {
  readonly bytes: Buffer;
  /** Byte offset of the line's first byte in the stream. */
  readonly offset: number;
  /** 1-based line number. */
  readonly line: number;
  /** Set when the line exceeded the limit: its full length; `bytes` then holds only a prefix. */
  readonly tooLongBytes?: number;
}

export const TOO_LONG_PREFIX_BYTES = 4096;

/**
 * Calls `onLine` for every line (the trailing "\n" and a "\r" before it removed). `onLine` may
 * return a promise (backpressure); reading waits for it.
 */
export async function forEachLine(stream: Readable, maxLineBytes: number, onLine: (l: Line) => void | Promise<void>): Promise<void> {
  let parts: Buffer[] = [];
  let partsLen = 0;
  let lineStart = 0;
  let lineNo = 1;
  let discarding = false;
  let prefix: Buffer = Buffer.alloc(0);
  let total = 0;

  const finish = (): Line => {
    let line: Line;
    const len = discarding ? total : partsLen;
    if (discarding) {
      line = { bytes: prefix, offset: lineStart, line: lineNo, tooLongBytes: total };
    } else {
      let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partsLen);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
      line = { bytes, offset: lineStart, line: lineNo };
    }
    lineStart += len + 1;
    lineNo++;
    parts = [];
    partsLen = 0;
    discarding = false;
    total = 0;
    return line;
  };

  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let pos = 0;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      const end = nl < 0 ? buf.length : nl;
      const piece = buf.subarray(pos, end);
      if (discarding) total += piece.length;
      else if (partsLen + piece.length > maxLineBytes) {
        discarding = true;
        total = partsLen + piece.length;
        prefix = Buffer.concat([...parts, piece.subarray(0, TOO_LONG_PREFIX_BYTES)]).subarray(0, TOO_LONG_PREFIX_BYTES);
        parts = [];
        partsLen = 0;
      } else if (piece.length > 0) {
        parts.push(piece);
        partsLen += piece.length;
      }
      if (nl < 0) break;
      pos = nl + 1;
      const r = onLine(finish());
      if (r !== undefined) await r;
    }
  }
  if (partsLen > 0 || discarding) {
    const r = onLine(finish());
    if (r !== undefined) await r;
  }
}
