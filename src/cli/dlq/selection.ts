import type { DeadLetterReason } from '../../core/dead-letter.ts';
import type { StoredLetter } from '../../queue/dead-letter-store.ts';
import type { DlqContext } from './context.ts';

/** Which letters a `dlq show|replay|purge` acts on; every given filter must match. */
export interface LetterFilter {
  /** Queue names: `ingest` or sink names. */
  readonly queues?: readonly string[];
  readonly reasons?: readonly string[];
  readonly sources?: readonly string[];
  /** Letter ids (`sink-es:3:17`) or event ids. */
  readonly ids?: readonly string[];
  /** Letter time bounds, ms since epoch. */
  readonly since?: number;
  readonly until?: number;
}

export const REASONS: readonly DeadLetterReason[] = ['invalid_json', 'invalid_utf8', 'empty_record', 'line_too_long', 'body_too_large', 'no_mapping', 'mapping_error', 'schema_invalid', 'sink_rejected'];

function partitionsFor(ctx: DlqContext, queues: readonly string[] | undefined): string[] {
  const all = ctx.reader.partitions();
  if (!queues || queues.length === 0) return all;
  return all.filter((p) => queues.some((q) => p === q || p === `sink-${q}`));
}

export function matches(f: LetterFilter, s: StoredLetter): boolean {
  const l = s.letter;
  if (f.reasons?.length && !f.reasons.includes(l.reason)) return false;
  if (f.sources?.length && !f.sources.includes(l.source)) return false;
  if (f.ids?.length && !f.ids.includes(s.id) && !(l.event && f.ids.includes(l.event.event.id))) return false;
  if (f.since !== undefined && l.time < f.since) return false;
  if (f.until !== undefined && l.time > f.until) return false;
  return true;
}

/** Matching letters, partition by partition, oldest first. */
export function* selectLetters(ctx: DlqContext, f: LetterFilter): Generator<StoredLetter> {
  for (const p of partitionsFor(ctx, f.queues)) {
    for (const s of ctx.reader.letters(p)) if (matches(f, s)) yield s;
  }
}

/** "2026-05-01T10:00:00Z" or a duration ago ("90m", "2h", "7d") → ms since epoch. */
export function parseTimeArg(text: string, name: string, now = Date.now()): number {
  const m = /^([0-9]+)(s|m|h|d)$/.exec(text);
  if (m) return now - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`--${name} must be an ISO time (2026-05-01T10:00:00Z) or a duration ago (90m, 2h, 7d), got '${text}'`);
  return t;
}
