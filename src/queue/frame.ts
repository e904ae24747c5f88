import { crc32 } from 'node:zlib';

// On-disk framing shared by the spool and the dead-letter queue:
//
//   magic u32 | length u32 | crc32 u32 | kind u8 | seq f64 | appendedAt f64 | payload[length]
//
// The CRC covers everything after itself, so a torn or bit-flipped record is never read as an
// event. The magic lets recovery find the next good record after a corrupt one in the middle
// of a segment instead of giving up on the rest of the file.

export const FRAME_MAGIC = 0x41415344; // "AASD"
export const HEADER_BYTES = 4 + 4 + 4 + 1 + 8 + 8;
/** Sanity bound: no single record is larger (events are far smaller; a length above it is corruption). */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/**
 * record: an event of the chain. segmentHeader: chain state at the start of a segment.
 * replay: an event re-entered from a sink's dead-letter queue, for that sink only, with its
 * original chain link (it takes no new seq: the chain is not extended).
 */
export const FRAME_KIND = { record: 0, segmentHeader: 1, replay: 2 } as const;
export type FrameKind = (typeof FRAME_KIND)[keyof typeof FRAME_KIND];

export interface Frame {
  readonly kind: FrameKind;
  readonly seq: number;
  readonly appendedAt: number;
  readonly payload: Buffer;
  /** Offset of the frame in the buffer it was parsed from. */
  readonly offset: number;
  /** Total bytes of the frame (header + payload). */
  readonly size: number;
}

export function encodeFrame(kind: FrameKind, seq: number, appendedAt: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(FRAME_MAGIC, 0);
  out.writeUInt32LE(payload.length, 4);
  out.writeUInt8(kind, 12);
  out.writeDoubleLE(seq, 13);
  out.writeDoubleLE(appendedAt, 21);
  payload.copy(out, HEADER_BYTES);
  out.writeUInt32LE(crc32(out.subarray(12)), 8);
  return out;
}

export type ParseResult =
  | { readonly status: 'ok'; readonly frame: Frame }
  /** Not enough bytes for the whole frame (the writer may still be appending, or a torn tail). */
  | { readonly status: 'incomplete'; readonly needed: number }
  | { readonly status: 'corrupt'; readonly reason: string };

/** Parses the frame starting at `offset` of `buf`. */
export function parseFrame(buf: Buffer, offset: number): ParseResult {
  if (buf.length - offset < HEADER_BYTES) return { status: 'incomplete', needed: HEADER_BYTES };
  if (buf.readUInt32LE(offset) !== FRAME_MAGIC) return { status: 'corrupt', reason: 'bad frame marker' };
  const length = buf.readUInt32LE(offset + 4);
  if (length > MAX_PAYLOAD_BYTES) return { status: 'corrupt', reason: `implausible record length ${length}` };
  const size = HEADER_BYTES + length;
  if (buf.length - offset < size) return { status: 'incomplete', needed: size };
  const expected = buf.readUInt32LE(offset + 8);
  if (crc32(buf.subarray(offset + 12, offset + size)) !== expected) return { status: 'corrupt', reason: 'checksum mismatch' };
  const kind = buf.readUInt8(offset + 12);
  if (kind !== FRAME_KIND.record && kind !== FRAME_KIND.segmentHeader && kind !== FRAME_KIND.replay) return { status: 'corrupt', reason: `unknown record kind ${kind}` };
  return {
    status: 'ok',
    frame: { kind, seq: buf.readDoubleLE(offset + 13), appendedAt: buf.readDoubleLE(offset + 21), payload: buf.subarray(offset + HEADER_BYTES, offset + size), offset, size },
  };
}

/**
 * After a corrupt frame at `from`: the offset of the next frame that parses cleanly, or
 * undefined when none follows in `buf` (the damage runs to the end of what was read).
 */
export function resync(buf: Buffer, from: number): number | undefined {
  const marker = Buffer.alloc(4);
  marker.writeUInt32LE(FRAME_MAGIC, 0);
  let at = buf.indexOf(marker, from + 1);
  while (at !== -1) {
    if (parseFrame(buf, at).status === 'ok') return at;
    at = buf.indexOf(marker, at + 1);
  }
  return undefined;
}
