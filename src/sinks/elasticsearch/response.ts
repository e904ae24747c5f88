import type { EventOutcome } from '../../core/sink.ts';

// Per-item verdicts of a `_bulk` response. Unlike Fluent Bit (which counts a chunk as sent when
// any item succeeded) and Vector (which by default retries or drops the whole request), every
// item gets its own outcome.

export interface BulkItemError {
  readonly type?: string;
  readonly reason?: string;
  readonly caused_by?: { readonly type?: string; readonly reason?: string };
}

export interface BulkItem {
  readonly status?: number;
  readonly error?: BulkItemError;
}

export interface BulkReply {
  readonly errors?: boolean;
  readonly items?: readonly Readonly<Record<string, BulkItem>>[];
}

export type ItemVerdict = EventOutcome | { readonly status: 'fatal'; readonly reason: string };

const ACCEPTED: EventOutcome = { status: 'accepted' };

export function itemVerdict(item: BulkItem | undefined): ItemVerdict {
  const status = item?.status;
  if (status === undefined) return { status: 'retriable', reason: 'bulk response item without a status' };
  if (status >= 200 && status < 300) return ACCEPTED;
  // `create` of an _id that exists: this event was delivered before (a redelivery after a crash).
  if (status === 409) return ACCEPTED;
  const reason = `${status} ${describeError(item?.error)}`;
  if (status === 429 || status === 408 || status >= 500) return { status: 'retriable', reason };
  if (status === 401 || status === 403) return { status: 'fatal', reason };
  return { status: 'rejected', reason };
}

export function describeError(e: BulkItemError | undefined): string {
  if (!e) return 'no error detail';
  const main = `${e.type ?? 'error'}: ${e.reason ?? ''}`.trim();
  return e.caused_by?.reason && e.caused_by.reason !== e.reason ? `${main} (caused by ${e.caused_by.type ?? 'error'}: ${e.caused_by.reason})` : main;
}

/** The item object under its op key ({"create": {...}}). */
export function itemOf(entry: Readonly<Record<string, BulkItem>> | undefined): BulkItem | undefined {
  if (!entry) return undefined;
  for (const k in entry) return entry[k];
  return undefined;
}

/** Reason text of a whole-request error body (`{"error":{"type","reason"},"status"}`). */
export function requestErrorText(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const e = (body as { error?: unknown }).error;
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const root = (e as { root_cause?: BulkItemError[] }).root_cause?.[0];
    return describeError((root ?? e) as BulkItemError);
  }
  return undefined;
}

/** `error.type` of a whole-request error body. */
export function requestErrorType(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const e = (body as { error?: { type?: unknown } }).error;
  return e && typeof e === 'object' && typeof e.type === 'string' ? e.type : undefined;
}
