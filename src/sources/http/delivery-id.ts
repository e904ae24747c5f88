import { createHash } from 'node:crypto';

// A delivery id is part of every event id (src/core/event-id.ts) and of log lines, so it must be
// short printable ASCII: no spaces, no control characters that could forge log lines.
const PRINTABLE = /^[\x21-\x7e]{1,256}$/;

export function isValidDeliveryId(id: string): boolean {
  return PRINTABLE.test(id);
}

/**
 * A delivery id from the content when the sender gives none: a retried request with the same
 * body gets the same id, hence the same event ids, so a retry after a lost answer is
 * recognisable downstream instead of becoming a second copy.
 */
export function contentDeliveryId(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex').slice(0, 32)}`;
}
