// The PutLogEvents rules as the CloudWatch Logs API reference states them (API_PutLogEvents,
// SDK 3.1169 model docs): the sink plans its calls within them, the test endpoint enforces them.

/** Bytes CloudWatch counts per event on top of its UTF-8 message. */
export const EVENT_OVERHEAD_BYTES = 26;
/** Sum of UTF-8 messages + 26 bytes per event, per call. */
export const MAX_BATCH_BYTES = 1_048_576;
export const MAX_BATCH_EVENTS = 10_000;
/** One event (message + 26) may be at most 1 MB since the 2025 quota raise (256 KB before). */
export const MAX_EVENT_BYTES = 1_048_576;
/** Largest message one event can carry: 1 MiB minus the per-event overhead. */
export const MAX_MESSAGE_BYTES = MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES;
/** The valid events of one call may not span more than this. */
export const MAX_SPAN_MS = 24 * 3_600_000;
/** Events older than this are refused (tooOldLogEventEndIndex). */
export const MAX_AGE_MS = 14 * 24 * 3_600_000;
/** Events further in the future than this are refused (tooNewLogEventStartIndex). */
export const MAX_FUTURE_MS = 2 * 3_600_000;
export const MAX_NAME_LENGTH = 512;
/** Log group names: letters, digits, and . _ - / # (API_CreateLogGroup). */
export const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]+$/;
/** Log stream names: anything but : and * (API_CreateLogStream). */
export const LOG_STREAM_NAME = /^[^:*]+$/;
/** The values PutRetentionPolicy accepts for retentionInDays. */
export const RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
