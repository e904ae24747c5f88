import type { AuditEvent } from './audit-event.ts';
import type { DeadLetter } from './dead-letter.ts';
import type { RawRecord } from './raw-record.ts';

export interface NormalizeResult {
  readonly events: AuditEvent[];
  readonly deadLetters: DeadLetter[];
  /** Format that handled the record (configured or detected). */
  readonly format?: string;
}

/**
 * Raw record → redacted, validated canonical events. Synchronous and side-effect free, so it
 * can run in worker threads. Never throws for bad input: that becomes a dead letter.
 */
export interface Normalizer {
  normalize(record: RawRecord): NormalizeResult;
}

/** Per-source policy settings (from the config). */
export interface PolicyOptions {
  /** none: drop payloads; hash: hash + size only (default); full: keep redacted content. */
  readonly payloadMode: 'none' | 'hash' | 'full';
  /** When set, payload digests are HMAC-SHA256 with this key instead of plain SHA-256. */
  readonly hmacKey?: Buffer;
  /** Extra regular expressions (source strings) whose matches are redacted. */
  readonly extraPatterns?: readonly string[];
}
