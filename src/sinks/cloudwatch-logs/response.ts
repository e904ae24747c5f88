import type { RejectedLogEventsInfo } from '@aws-sdk/client-cloudwatch-logs';
import type { EventOutcome } from '../../core/sink.ts';

// What a CloudWatch Logs answer means for the events of one call. Errors arrive from the SDK
// as exceptions named after the service's `__type`; a failure that never reached the service
// (refused connection, timeout) has no HTTP status.

export type CallVerdict =
  | { readonly kind: 'already_accepted' }
  /** ResourceNotFoundException: the log group or stream does not exist. */
  | { readonly kind: 'missing'; readonly what: 'group' | 'stream' | 'unknown'; readonly reason: string }
  /** ResourceAlreadyExistsException (from a create call). */
  | { readonly kind: 'exists' }
  /** InvalidParameterException: something in this call; a smaller call finds the event. */
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'retriable'; readonly reason: string; readonly retryAfterMs?: number }
  /** The sink cannot work with these credentials or permissions at all. */
  | { readonly kind: 'fatal'; readonly code: string; readonly reason: string; readonly hint: string };

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** Throttling gets at least this pause: CloudWatch sends no Retry-After, and quotas are per second. */
export const THROTTLE_BACKOFF_MS = 1000;

const PERMISSIONS = 'the sink needs logs:PutLogEvents, plus logs:CreateLogStream, logs:CreateLogGroup and logs:PutRetentionPolicy for what it is set to create, and logs:DescribeLogGroups for its start-up check';

export function classifyError(err: unknown, staticCredentials: boolean): CallVerdict {
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? 'Error';
  const message = e.message ?? String(err);
  const status = e.$metadata?.httpStatusCode;
  const text = `${name}${status !== undefined ? ` (HTTP ${status})` : ''}: ${message}`;
  switch (name) {
    case 'DataAlreadyAcceptedException':
      return { kind: 'already_accepted' };
    case 'ResourceAlreadyExistsException':
      return { kind: 'exists' };
    case 'ResourceNotFoundException':
      return { kind: 'missing', what: /log group/i.test(message) ? 'group' : /log stream/i.test(message) ? 'stream' : 'unknown', reason: text };
    case 'InvalidParameterException':
    case 'ValidationException':
    case 'SerializationException':
      return { kind: 'invalid', reason: text };
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
    case 'MissingAuthenticationTokenException':
      return { kind: 'fatal', code: 'cwl_unrecognized_client', reason: text, hint: 'AWS does not know this access key id: check access_key_id, AWS_ACCESS_KEY_ID or the profile' };
    case 'InvalidSignatureException':
    case 'SignatureDoesNotMatch':
    case 'IncompleteSignatureException':
      return { kind: 'fatal', code: 'cwl_bad_signature', reason: text, hint: 'the secret access key does not belong to the access key id (or this host\'s clock is more than 5 minutes off)' };
    case 'AccessDeniedException':
    case 'AccessDenied':
    case 'NotAuthorized':
      return { kind: 'fatal', code: 'cwl_access_denied', reason: text, hint: `the credentials are valid but not allowed to do this: ${PERMISSIONS}` };
    case 'ExpiredTokenException':
    case 'ExpiredToken':
      // A chain provider (SSO, role, IMDS) refreshes; fixed keys never will.
      if (staticCredentials) return { kind: 'fatal', code: 'cwl_expired_token', reason: text, hint: 'the session token in the sink settings has expired: use a credential source that refreshes (role, SSO, instance profile)' };
      return { kind: 'retriable', reason: text };
    case 'ThrottlingException':
    case 'Throttling':
    case 'TooManyRequestsException':
    case 'RequestLimitExceeded':
      return { kind: 'retriable', reason: text, retryAfterMs: THROTTLE_BACKOFF_MS };
    default:
      // ServiceUnavailableException, OperationAbortedException, LimitExceededException, 5xx,
      // transport errors, and anything unknown: the events wait in the spool, nothing is lost.
      return { kind: 'retriable', reason: status === undefined ? `CloudWatch Logs unreachable: ${e.code ? `${e.code} ` : ''}${message}` : text };
  }
}

/**
 * Per-record outcomes of a successful PutLogEvents from its rejectedLogEventsInfo. The index
 * ranges refer to the call's (time-sorted) events: [0, tooOldLogEventEndIndex) too old,
 * [0, expiredLogEventEndIndex) older than the group's retention (read as exclusive like the
 * too-old end, which the API reference documents), [tooNewLogEventStartIndex, n) too new.
 */
export function outcomesOf(info: RejectedLogEventsInfo | undefined, n: number): EventOutcome[] {
  const out = new Array<EventOutcome>(n);
  const tooOld = clamp(info?.tooOldLogEventEndIndex ?? 0, n);
  const expired = clamp(info?.expiredLogEventEndIndex ?? 0, n);
  const tooNew = info?.tooNewLogEventStartIndex === undefined ? n : clamp(info.tooNewLogEventStartIndex, n);
  for (let k = 0; k < n; k++) {
    if (k < tooOld) out[k] = { status: 'rejected', reason: 'CloudWatch Logs rejected the event as older than 14 days (rejectedLogEventsInfo.tooOldLogEventEndIndex)' };
    else if (k < expired) out[k] = { status: 'rejected', reason: "CloudWatch Logs rejected the event as older than the log group's retention period (rejectedLogEventsInfo.expiredLogEventEndIndex)" };
    else if (k >= tooNew) out[k] = { status: 'rejected', reason: "CloudWatch Logs rejected the event as more than 2 hours in the future by the service's clock (rejectedLogEventsInfo.tooNewLogEventStartIndex)" };
    else out[k] = ACCEPTED;
  }
  return out;
}

const ACCEPTED: EventOutcome = { status: 'accepted' };

function clamp(i: number, n: number): number {
  return Math.max(0, Math.min(n, Math.trunc(i)));
}
