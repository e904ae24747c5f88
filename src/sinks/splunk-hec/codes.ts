// HEC status codes (Splunk REST API reference, "HTTP Event Collector error codes") and what
// each means for the events of the request that got it.

export type HecVerdict =
  /** Indexed (or queued for indexing; with acks, the ack says when). */
  | 'success'
  /** The sink cannot work with this token / settings: stop loudly. */
  | 'fatal'
  /** Try the same events again later. */
  | 'retriable'
  /** Something in the events themselves: isolate the bad one, resend the rest. */
  | 'bad_data'
  /** The channel id was refused: take a new one, then retry. */
  | 'bad_channel';

export interface HecCodeInfo {
  readonly verdict: HecVerdict;
  /** Operator-facing hint added to the message. */
  readonly hint?: string;
}

const CODES: Readonly<Record<number, HecCodeInfo>> = {
  0: { verdict: 'success' },
  1: { verdict: 'fatal', hint: 'the HEC token is disabled: enable it in Settings > Data inputs > HTTP Event Collector' },
  2: { verdict: 'fatal', hint: 'the request carried no token: set token' },
  3: { verdict: 'fatal', hint: 'the authorization header was refused: check token' },
  4: { verdict: 'fatal', hint: 'the HEC token is not valid: check token' },
  // We never send an empty request, so "no data" means the body was lost on the way.
  5: { verdict: 'retriable' },
  6: { verdict: 'bad_data' },
  7: { verdict: 'fatal', hint: 'the index does not exist or the token may not write to it: check index and the token\'s allowed indexes' },
  8: { verdict: 'retriable' },
  9: { verdict: 'retriable' },
  10: { verdict: 'bad_channel' },
  11: { verdict: 'bad_channel' },
  12: { verdict: 'bad_data' },
  13: { verdict: 'bad_data' },
  14: { verdict: 'fatal', hint: 'indexer acknowledgement is disabled on this token: enable it on the token or set ack: false' },
  15: { verdict: 'bad_data' },
  16: { verdict: 'fatal', hint: 'query-string authorization is not enabled' },
  17: { verdict: 'success' },
  18: { verdict: 'retriable' },
  19: { verdict: 'retriable' },
  20: { verdict: 'retriable' },
};

/** Verdict for a HEC code; unknown codes follow the HTTP status class. */
export function hecVerdict(code: number | undefined, status: number): HecCodeInfo {
  if (code !== undefined && CODES[code]) return CODES[code];
  if (status === 401 || status === 403) return { verdict: 'fatal', hint: 'the endpoint refused the credentials' };
  // A 2xx without HEC's JSON is not HEC speaking (a proxy or captive portal): never count it.
  if (status >= 200 && status < 300) return { verdict: 'retriable', hint: 'the answer is not from HEC' };
  return { verdict: 'retriable' };
}

/** The JSON body HEC answers with. */
export interface HecReply {
  readonly text?: string;
  readonly code?: number;
  readonly ackId?: number;
  readonly 'invalid-event-number'?: number;
}

export function asHecReply(value: unknown): HecReply | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as HecReply;
}
