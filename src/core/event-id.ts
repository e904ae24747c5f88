import { createHash } from 'node:crypto';
import { positionKey, type SourcePosition } from './raw-record.ts';

/**
 * Deterministic event id: the same source, position and index always give the same id, so a
 * redelivery after a crash is recognisable downstream (Elasticsearch `_id`). 128 bits of
 * SHA-256, lowercase hex.
 */
export function eventId(source: string, position: SourcePosition, index: number): string {
  return createHash('sha256').update(`${source}\u0000${positionKey(position)}\u0000${index}`).digest('hex').slice(0, 32);
}
