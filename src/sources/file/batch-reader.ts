import type { FileHandle } from 'node:fs/promises';
import type { RawRecord } from '../../core/raw-record.ts';
import { CriAssembler } from './cri.ts';
import { extendTail } from './fingerprint.ts';
import { splitLines } from './line-splitter.ts';
import type { ReadPoint, TailedFile } from './tailed-file.ts';

/** A first read this big is enough for most batches; a longer line gets a read of max_line_bytes. */
const CHUNK_BYTES = 256 * 1024;

export interface BatchSettings {
  readonly source: string;
  readonly maxLineBytes: number;
  readonly batchLines: number;
  readonly decode: 'none' | 'cri';
  readonly format?: string;
}

/** A line over max_line_bytes: where it starts, and the first bytes of it for the dead letter. */
export interface OverlongLine {
  readonly offset: number;
  readonly line: number | undefined;
  readonly prefix: Buffer;
}

/** What reading the next bytes of a file gave; the file's read point has moved past it. */
export interface Batch {
  readonly records: RawRecord[];
  /** Bytes of the lines consumed (records + empty lines), for metrics. */
  readonly bytes: number;
  /** Lines over max_line_bytes met in this batch (to the dead-letter queue). */
  readonly overlong: OverlongLine[];
  /** The read point moved (lines consumed, or an over-long line skipped over). */
  readonly progressed: boolean;
  /**
   * The line boundary after the consumed lines (or after a skipped over-long line), when the
   * batch reached a new one: what a checkpoint may record once the records are durable.
   */
  readonly boundary?: ReadPoint;
}

/**
 * Reads the complete lines after `file.readOffset` (up to `size`) and advances the file's
 * read point (offset, line number, tail) past them. A trailing partial line is left for later;
 * `unterminated` takes it as the last line (the file will not grow any more).
 */
export async function readBatch(file: TailedFile, handle: FileHandle, size: number, s: BatchSettings, unterminated = false): Promise<Batch> {
  const remaining = size - file.readOffset;
  const base = file.readOffset;
  let data = await readAt(handle, base, Math.min(remaining, CHUNK_BYTES));
  if (file.skipping) return skipOverlong(file, data);
  let split = splitLines(data, base, s.maxLineBytes, s.batchLines);
  if (split.lines.length === 0 && split.overlong === undefined && data.length < remaining && data.length < s.maxLineBytes + 2) {
    data = await readAt(handle, base, Math.min(remaining, s.maxLineBytes + 2));
    split = splitLines(data, base, s.maxLineBytes, s.batchLines);
  }
  const lines = [...split.lines];
  let consumed = split.consumed;
  if (unterminated && split.overlong === undefined && lines.length < s.batchLines && consumed < base + data.length && base + data.length === size) {
    lines.push({ start: consumed, end: size, bytes: data.subarray(consumed - base) });
    consumed = size;
  }
  const records: RawRecord[] = [];
  const overlong: OverlongLine[] = [];
  const add = recordMaker(file, s);
  const cri = s.decode === 'cri' ? (file.cri ??= new CriAssembler(s.maxLineBytes)) : undefined;
  const tailBefore = file.tail;
  let line = file.line;
  let bytes = 0;
  for (const l of lines) {
    if (line !== undefined) line++;
    bytes += l.end - l.start;
    if (cri === undefined) {
      add(records, l.start, line, l.bytes);
      continue;
    }
    const lineBefore = line === undefined ? undefined : line - 1;
    const r = cri.push(l.bytes, () => ({ offset: l.start, line: lineBefore, tail: extendTail(tailBefore, data.subarray(0, l.start - base)) }), line);
    if (r.record) add(records, r.record.offset, r.record.line, r.record.text);
    if (r.tooLong) overlong.push(r.tooLong);
  }
  if (unterminated && cri !== undefined && consumed === size) for (const a of cri.flush()) add(records, a.offset, a.line, a.text);
  const progressed = consumed > base || split.overlong !== undefined;
  file.tail = extendTail(file.tail, data.subarray(0, consumed - base));
  file.readOffset = consumed;
  file.line = line;
  // While a split CRI line is open, a checkpoint may not pass its first piece.
  const boundary = consumed > base ? (cri?.earliestOpen() ?? { offset: consumed, line, tail: file.tail }) : undefined;
  if (split.overlong === undefined) return { records, bytes, overlong, progressed, ...(boundary ? { boundary } : {}) };
  const o = split.overlong;
  overlong.push({ offset: o.start, line: line !== undefined ? line + 1 : undefined, prefix: Buffer.from(data.subarray(o.start - base, o.start - base + 1024)) });
  file.skipping = true;
  file.tail = extendTail(file.tail, data.subarray(o.start - base, o.start - base + o.seen));
  file.readOffset = o.start + o.seen;
  return { records, bytes, overlong, progressed, ...(boundary ? { boundary } : {}) };
}

/** The end of a file that will not grow any more: CRI lines still split are read as they are. */
export function flushOpenLines(file: TailedFile, s: BatchSettings): Batch {
  const records: RawRecord[] = [];
  const add = recordMaker(file, s);
  for (const a of file.cri?.flush() ?? []) add(records, a.offset, a.line, a.text);
  return { records, bytes: 0, overlong: [], progressed: records.length > 0, boundary: { offset: file.readOffset, line: file.line, tail: file.tail } };
}

function recordMaker(file: TailedFile, s: BatchSettings): (out: RawRecord[], offset: number, line: number | undefined, body: Buffer) => void {
  const now = Date.now();
  return (out, offset, line, body) => {
    if (body.length === 0) return;
    out.push({
      source: s.source,
      input: 'file',
      position: { kind: 'file', path: file.path, fileId: file.fingerprint!, offset, ...(line !== undefined ? { line } : {}) },
      bytes: Buffer.from(body),
      ...(s.format !== undefined ? { format: s.format } : {}),
      receivedAt: now,
    });
  };
}

/** Inside a line over the limit: skip to just past its newline (it was dead-lettered already). */
function skipOverlong(file: TailedFile, data: Buffer): Batch {
  const nl = data.indexOf(0x0a);
  const skipped = nl === -1 ? data : data.subarray(0, nl + 1);
  file.tail = extendTail(file.tail, skipped);
  file.readOffset += skipped.length;
  if (nl === -1) return { records: [], bytes: 0, overlong: [], progressed: skipped.length > 0 };
  file.skipping = false;
  if (file.line !== undefined) file.line++;
  return { records: [], bytes: 0, overlong: [], progressed: true, boundary: file.cri?.earliestOpen() ?? { offset: file.readOffset, line: file.line, tail: file.tail } };
}

async function readAt(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  const { bytesRead } = await handle.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}
