import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** How many leading bytes identify a file's content at most. */
export const FINGERPRINT_BYTES = 1024;
/** How many bytes before a read position are remembered to recognise the content there. */
export const TAIL_BYTES = 256;

/**
 * A file's content identity: a hash of its first line (or of its first FINGERPRINT_BYTES when
 * the first line is longer). It survives renames and moves to another inode (a rotated copy),
 * and tells a reused inode or a truncated-and-rewritten file apart from the old content.
 * Undefined while the file has no complete first line yet (there is nothing to read anyway).
 * The first line rather than a fixed byte count, so a small file that is still growing keeps
 * its identity.
 */
export async function fingerprint(handle: FileHandle): Promise<string | undefined> {
  const buf = Buffer.alloc(FINGERPRINT_BYTES);
  const { bytesRead } = await handle.read(buf, 0, FINGERPRINT_BYTES, 0);
  const head = buf.subarray(0, bytesRead);
  const nl = head.indexOf(0x0a);
  if (nl === -1 && bytesRead < FINGERPRINT_BYTES) return undefined;
  const basis = nl === -1 ? head : head.subarray(0, nl + 1);
  return createHash('sha256').update(basis).digest('hex').slice(0, 32);
}

/** The last TAIL_BYTES (fewer near the start) before `offset`, as the file holds them now. */
export async function readTail(handle: FileHandle, offset: number, length = Math.min(offset, TAIL_BYTES)): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, offset - length);
  return buf.subarray(0, bytesRead);
}

/** `previous` bytes followed by `next`, keeping the last TAIL_BYTES. */
export function extendTail(previous: Buffer, next: Buffer): Buffer {
  if (next.length >= TAIL_BYTES) return Buffer.from(next.subarray(next.length - TAIL_BYTES));
  const keep = Math.min(previous.length, TAIL_BYTES - next.length);
  return Buffer.concat([previous.subarray(previous.length - keep), next]);
}

/**
 * What a checkpoint stores of the bytes before its offset: their length and hash (never the
 * bytes: they are log content and may hold secrets).
 */
export interface Anchor {
  readonly bytes: number;
  readonly sha256: string;
}

export function anchorOf(tail: Buffer): Anchor {
  return { bytes: tail.length, sha256: createHash('sha256').update(tail).digest('hex').slice(0, 32) };
}

/** The bytes before `offset` if they are the anchored ones (the checkpoint is this file's), else undefined. */
export async function tailMatching(handle: FileHandle, offset: number, anchor: Anchor): Promise<Buffer | undefined> {
  const tail = await readTail(handle, offset, Math.min(offset, anchor.bytes));
  return tail.length === anchor.bytes && anchorOf(tail).sha256 === anchor.sha256 ? tail : undefined;
}
