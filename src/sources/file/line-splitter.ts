import type { FileHandle } from 'node:fs/promises';

/** One complete line found in a chunk, as byte offsets in the file. */
export interface LineSpan {
  readonly start: number;
  /** Offset just past the newline. */
  readonly end: number;
  readonly bytes: Buffer;
}

export interface SplitResult {
  readonly lines: LineSpan[];
  /** Offset up to which the chunk was consumed (the start of a trailing partial line). */
  readonly consumed: number;
  /** A line longer than the limit started at this offset and has no newline within the limit. */
  readonly overlong?: { readonly start: number; readonly seen: number };
}

/**
 * Splits `chunk` (file bytes from `base`) at newlines. A trailing partial line is not
 * consumed (the writer has not finished it). `\r\n` endings lose the `\r`. Empty lines are
 * returned too (they count for line numbers); the caller skips them.
 */
export function splitLines(chunk: Buffer, base: number, maxLineBytes: number, maxLines: number): SplitResult {
  const lines: LineSpan[] = [];
  let at = 0;
  while (lines.length < maxLines) {
    const nl = chunk.indexOf(0x0a, at);
    if (nl === -1) break;
    let body = chunk.subarray(at, nl);
    if (body.length > 0 && body[body.length - 1] === 0x0d) body = body.subarray(0, body.length - 1);
    if (body.length > maxLineBytes) return { lines, consumed: base + at, overlong: { start: base + at, seen: nl - at } };
    lines.push({ start: base + at, end: base + nl + 1, bytes: body });
    at = nl + 1;
  }
  if (lines.length < maxLines && chunk.length - at > maxLineBytes) return { lines, consumed: base + at, overlong: { start: base + at, seen: chunk.length - at } };
  return { lines, consumed: base + at };
}

/** Offset just past the last newline before `size` (start_at: end never begins mid-line). */
export async function lastLineBoundary(handle: FileHandle, size: number): Promise<number> {
  const buf = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - buf.length);
    const { bytesRead } = await handle.read(buf, 0, end - start, start);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (nl !== -1) return start + nl + 1;
    end = start;
  }
  return 0;
}
