import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { HttpRoutes } from '../../core/components.ts';
import type { DeadLetterReason } from '../../core/dead-letter.ts';
import { ShutdownError, SpoolFullError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { HttpPosition, RawRecord } from '../../core/raw-record.ts';
import type { Source, SourceContext, SourceStats, SubmitResult } from '../../core/source.ts';
import { describeJsonError } from '../../normalize/json-error.ts';
import { safePrefix } from '../../normalize/normalizer.ts';
import { BearerTokens } from '../http/bearer-tokens.ts';
import { contentDeliveryId } from '../http/delivery-id.ts';
import { readBody } from '../http/read-body.ts';
import { retryAfterHeader, sendReply } from '../http/reply.ts';
import { RequestOutcomes } from '../http/request-outcomes.ts';
import { WarnThrottle } from '../http/warn-throttle.ts';
import type { OtlpSourceOptions } from './config.ts';
import { checkJsonRequest, protobufToOtlpJson } from './otlp-json.ts';
import { decodeRequest, encodeExportResponse, encodeStatus, otlpRoot, RPC_CODE, type Encoding } from './proto-codec.ts';
import { LOGS, TRACES, type Signal } from './signals.ts';

const gunzipAsync = promisify(gunzip);
const MAX_DEAD_LETTER_CHARS = 64 * 1024;

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly rpcCode: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly close?: boolean;
}

/** A decoded request, as the OTLP/JSON bytes the mappings read, or why it is not one. */
type Decoded = { readonly ok: true; readonly json: Buffer; readonly items: number } | { readonly ok: false; readonly reason: DeadLetterReason; readonly message: string; readonly raw: string };

/**
 * OTLP/HTTP receiver for logs and traces. One export request becomes one raw record in
 * OTLP/JSON (protobuf bodies are converted), so the existing mappings serve both encodings; the
 * answer is 200 only once its events are durable, with OTLP partial success when some of its
 * items ended in the dead-letter queue. Backpressure is 503 + Retry-After, which OTLP exporters
 * retry; malformed bodies are 400 (not retried) and dead-lettered.
 */
export class OtlpSource implements Source {
  readonly name: string;
  readonly kind = 'otlp' as const;
  private readonly options: OtlpSourceOptions;
  private readonly http: HttpRoutes;
  private readonly logger: Logger;
  private readonly auth: BearerTokens | undefined;
  private readonly refusals: WarnThrottle;
  private readonly outcomes = new RequestOutcomes();
  private readonly mounted: string[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private ctx: SourceContext | undefined;
  private stopping: Promise<void> | undefined;
  private recordsRead = 0;
  private bytesRead = 0;

  constructor(name: string, options: OtlpSourceOptions, deps: { http: HttpRoutes; logger: Logger }) {
    this.name = name;
    this.options = options;
    this.http = deps.http;
    this.logger = deps.logger;
    this.auth = options.auth ? new BearerTokens(options.auth.tokens, options.auth.header) : undefined;
    this.refusals = new WarnThrottle(deps.logger);
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    otlpRoot();
    for (const signal of [LOGS, TRACES]) {
      const path = this.options.paths[signal.name];
      if (path === undefined) continue;
      this.http.add(path, (req, res) => this.onRequest(signal, path, req, res));
      this.mounted.push(path);
    }
    if (this.auth === undefined) this.logger.warn({ paths: this.mounted }, 'OTLP source has no auth: anyone who can reach the port can add audit events (set auth.tokens, or keep server.address on loopback)');
    this.logger.info({ paths: this.mounted, auth: this.auth ? 'bearer' : 'none' }, 'OTLP source listening');
  }

  private onRequest(signal: Signal, path: string, req: IncomingMessage, res: ServerResponse): void {
    const encoding = responseEncoding(req);
    if (this.stopping) {
      this.refuse(req, res, path, encoding, { status: 503, reason: 'shutting_down', rpcCode: RPC_CODE.unavailable, message: 'agent-audit is shutting down; retry later', headers: retryAfterHeader(this.options.retryAfterSeconds), close: true });
      return;
    }
    if (this.inflight.size >= this.options.maxConcurrentRequests) {
      this.refuse(req, res, path, encoding, { status: 503, reason: 'busy', rpcCode: RPC_CODE.unavailable, message: `more than ${this.options.maxConcurrentRequests} exports in progress; retry later`, headers: retryAfterHeader(this.options.retryAfterSeconds), close: true });
      return;
    }
    const work: Promise<void> = this.handle(signal, path, encoding, req, res)
      .catch((err: unknown) => {
        this.logger.error({ path, err: err instanceof Error ? err.message : String(err) }, 'OTLP export failed inside agent-audit');
        this.refuse(req, res, path, encoding, { status: 500, reason: 'internal_error', rpcCode: RPC_CODE.internal, message: 'internal error; the export was not accepted' });
      })
      .finally(() => this.inflight.delete(work));
    this.inflight.add(work);
  }

  private async handle(signal: Signal, path: string, encoding: Encoding, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return this.refuse(req, res, path, encoding, { status: 405, reason: 'method_not_allowed', rpcCode: RPC_CODE.unimplemented, message: 'OTLP/HTTP exports are sent with POST', headers: { allow: 'POST' }, close: true });
    const type = requestEncoding(req);
    if (type === undefined) {
      return this.refuse(req, res, path, encoding, { status: 415, reason: 'unsupported_media_type', rpcCode: RPC_CODE.invalidArgument, message: `Content-Type ${req.headers['content-type'] ?? '(none)'} is not accepted: send application/json or application/x-protobuf`, close: true });
    }
    const contentEncoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (contentEncoding !== 'identity' && contentEncoding !== 'gzip') {
      return this.refuse(req, res, path, encoding, { status: 415, reason: 'unsupported_encoding', rpcCode: RPC_CODE.invalidArgument, message: `Content-Encoding ${contentEncoding} is not accepted: use gzip or none`, close: true });
    }
    if (this.auth !== undefined) {
      const check = this.auth.check(req.headers);
      if (!check.ok) return this.refuse(req, res, path, encoding, { status: 401, reason: check.reason, rpcCode: RPC_CODE.unauthenticated, message: check.message, close: true });
    }
    if (this.ctx!.isFull()) return this.refuse(req, res, path, encoding, this.spoolFull(true));
    const tooLarge: Refusal = { status: 413, reason: 'body_too_large', rpcCode: RPC_CODE.resourceExhausted, message: `body is larger than max_body_bytes (${this.options.maxBodyBytes} bytes)` };
    const read = await readBody(req, this.options.maxBodyBytes, this.options.bodyTimeoutMs);
    if (!read.ok) {
      if (read.reason === 'aborted') {
        this.outcomes.count('aborted');
        return;
      }
      if (read.reason === 'timeout') return this.refuse(req, res, path, encoding, { status: 408, reason: 'body_timeout', rpcCode: RPC_CODE.unavailable, message: `the body did not arrive within ${this.options.bodyTimeoutMs} ms`, close: true });
      return this.refuse(req, res, path, encoding, { ...tooLarge, close: true });
    }
    this.bytesRead += read.body.length;
    let body = read.body;
    if (contentEncoding === 'gzip') {
      try {
        body = await gunzipAsync(read.body, { maxOutputLength: this.options.maxBodyBytes });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return this.refuse(req, res, path, encoding, { ...tooLarge, message: `body is larger than max_body_bytes (${this.options.maxBodyBytes} bytes) once decompressed` });
        // The compressed bytes are not kept: a partly valid gzip stream could still be inflated to a secret.
        return this.malformed(req, res, path, encoding, contentDeliveryId(read.body), { ok: false, reason: 'invalid_gzip', message: `gzip body does not decompress (${(err as Error).message})`, raw: '' });
      }
    }
    const deliveryId = contentDeliveryId(body);
    const decoded = decode(signal, type, body);
    if (!decoded.ok) return this.malformed(req, res, path, encoding, deliveryId, decoded);
    if (decoded.items === 0) {
      this.outcomes.count('accepted');
      return this.answer(req, res, signal, encoding, 0, 0);
    }
    const record: RawRecord = {
      source: this.name,
      input: 'otlp',
      position: { kind: 'http', path, deliveryId },
      bytes: decoded.json,
      ...(this.options.format ? { format: this.options.format } : {}),
      receivedAt: Date.now(),
    };
    this.recordsRead++;
    let result: SubmitResult;
    try {
      result = await this.ctx!.submit([record], { wait: false });
    } catch (err) {
      if (err instanceof SpoolFullError) return this.refuse(req, res, path, encoding, this.spoolFull(false), deliveryId);
      if (err instanceof ShutdownError) return this.refuse(req, res, path, encoding, { status: 503, reason: 'shutting_down', rpcCode: RPC_CODE.unavailable, message: 'agent-audit is shutting down; retry later', headers: retryAfterHeader(this.options.retryAfterSeconds) }, deliveryId);
      throw err;
    }
    // A record that failed as a whole (no mapping) rejects all of its items; otherwise each dead letter is one item.
    const rejected = result.events === 0 && result.deadLetters > 0 ? decoded.items : Math.min(result.deadLetters, decoded.items);
    if (rejected > 0) {
      this.outcomes.count('partial');
      this.refusals.warn('partial', { path, deliveryId, rejected, of: decoded.items, events: result.events }, `OTLP export partly rejected: ${signal.itemNoun} kept in the dead-letter queue`);
    } else {
      this.outcomes.count('accepted');
      this.logger.debug({ path, deliveryId, events: result.events }, 'OTLP export accepted');
    }
    this.answer(req, res, signal, encoding, rejected, decoded.items);
  }

  private async malformed(req: IncomingMessage, res: ServerResponse, path: string, encoding: Encoding, deliveryId: string, why: Decoded & { ok: false }): Promise<void> {
    const position: HttpPosition = { kind: 'http', path, deliveryId };
    await this.ctx!.deadLetter({ reason: why.reason, message: `OTLP body: ${why.message}`, source: this.name, position, ...(this.options.format ? { format: this.options.format } : {}), raw: why.raw, time: Date.now() });
    this.refuse(req, res, path, encoding, { status: 400, reason: 'malformed_body', rpcCode: RPC_CODE.invalidArgument, message: `${why.message}; the body was kept in agent-audit's dead-letter queue` }, deliveryId);
  }

  private answer(req: IncomingMessage, res: ServerResponse, signal: Signal, encoding: Encoding, rejected: number, items: number): void {
    const message = rejected > 0 ? `${rejected} of ${items} ${signal.itemNoun} could not be turned into audit events; they were kept in agent-audit's dead-letter queue with the reason (agent-audit dlq list)` : '';
    sendReply(req, res, { status: 200, contentType: contentTypeOf(encoding), body: encodeExportResponse(signal, encoding, rejected, message) });
  }

  private spoolFull(close: boolean): Refusal {
    return { status: 503, reason: 'spool_full', rpcCode: RPC_CODE.unavailable, message: 'the spool is full (sinks are behind); retry later', headers: retryAfterHeader(this.options.retryAfterSeconds), ...(close ? { close } : {}) };
  }

  /** Answers with a google.rpc.Status in the request's encoding; counts and logs (throttled) the refusal. */
  private refuse(req: IncomingMessage, res: ServerResponse, path: string, encoding: Encoding, r: Refusal, deliveryId?: string): void {
    this.outcomes.count(r.reason);
    this.refusals.warn(r.reason, { path, ...(deliveryId !== undefined ? { deliveryId } : {}), status: r.status, message: r.message, remote: req.socket.remoteAddress }, 'OTLP export refused');
    sendReply(req, res, {
      status: r.status,
      contentType: contentTypeOf(encoding),
      body: encodeStatus(encoding, r.rpcCode, r.message),
      ...(r.headers ? { headers: r.headers } : {}),
      ...(r.close ? { close: true } : {}),
    });
  }

  stats(): SourceStats {
    return { recordsRead: this.recordsRead, bytesRead: this.bytesRead, requests: this.outcomes.snapshot() };
  }

  async drained(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled([...this.inflight]);
      for (const path of this.mounted.splice(0)) this.http.remove(path);
    })();
    return this.stopping;
  }
}

/** The body as OTLP/JSON bytes plus its item count, or why it is not an export request. */
function decode(signal: Signal, type: Encoding, body: Buffer): Decoded {
  if (type === 'protobuf') {
    let request: Record<string, unknown>;
    try {
      request = decodeRequest(signal, body);
    } catch (err) {
      // Binary framing around readable string fields: shown as text so redaction still sees the strings.
      return { ok: false, reason: 'invalid_otlp', message: `not a protobuf ${signal.requestType.split('.').pop()} (${(err as Error).message})`, raw: safePrefix(body.toString('utf8'), MAX_DEAD_LETTER_CHARS) };
    }
    const items = protobufToOtlpJson(signal, request);
    return { ok: true, json: Buffer.from(JSON.stringify(request), 'utf8'), items };
  }
  if (!isUtf8(body)) return { ok: false, reason: 'invalid_utf8', message: 'JSON body is not valid UTF-8', raw: safePrefix(body.toString('utf8'), MAX_DEAD_LETTER_CHARS) };
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'invalid_json', message: describeJsonError(text), raw: safePrefix(text, MAX_DEAD_LETTER_CHARS) };
  }
  const check = checkJsonRequest(signal, parsed);
  if (!check.ok) return { ok: false, reason: 'invalid_otlp', message: check.message, raw: safePrefix(text, MAX_DEAD_LETTER_CHARS) };
  return { ok: true, json: body, items: check.items };
}

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function requestEncoding(req: IncomingMessage): Encoding | undefined {
  const t = mediaType(req);
  if (t === 'application/json') return 'json';
  if (t === 'application/x-protobuf' || t === 'application/protobuf') return 'protobuf';
  return undefined;
}

/** OTLP answers in the encoding of the request; JSON when the request's is unknown. */
function responseEncoding(req: IncomingMessage): Encoding {
  return requestEncoding(req) ?? 'json';
}

function contentTypeOf(encoding: Encoding): string {
  return encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json';
}
