import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import type { HttpRoutes } from '../../core/components.ts';
import type { DeadLetterReason } from '../../core/dead-letter.ts';
import { ShutdownError, SpoolFullError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { HttpPosition, RawRecord } from '../../core/raw-record.ts';
import type { Source, SourceContext, SourceStats, SubmitResult } from '../../core/source.ts';
import { describeJsonError } from '../../normalize/json-error.ts';
import { safePrefix } from '../../normalize/normalizer.ts';
import { contentDeliveryId, isValidDeliveryId } from '../http/delivery-id.ts';
import { headerMeta } from '../http/header-meta.ts';
import { readBody } from '../http/read-body.ts';
import { retryAfterHeader, sendReply } from '../http/reply.ts';
import { RequestOutcomes } from '../http/request-outcomes.ts';
import { WarnThrottle } from '../http/warn-throttle.ts';
import type { WebhookSourceOptions } from './config.ts';
import { DeliveryLog } from './delivery-log.ts';
import { createVerifier, type Verifier } from './verify/index.ts';

/** Dead-letter `raw` is cut to this many characters (then redacted by the pipeline). */
const MAX_DEAD_LETTER_CHARS = 64 * 1024;

export interface WebhookSourceDeps {
  readonly http: HttpRoutes;
  readonly stateDir: string;
  readonly logger: Logger;
  /** The clock came from the test-only hook (logged as a warning at start). */
  readonly testClock?: boolean;
}

interface Refusal {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** The body was not read to its end: close the connection after answering. */
  readonly close?: boolean;
}

/**
 * One webhook endpoint on the daemon's HTTP server. A delivery is verified on its raw bytes,
 * de-duplicated by delivery id, and answered 2xx only once its events are durable in the spool
 * (the sender retries anything else). Refusals: 401 unauthentic, 400 malformed body (dead-lettered),
 * 422 well-formed but unmappable (dead-lettered by the normalizer), 413 over the size limit,
 * 503 + Retry-After when the spool is full, 405 other methods.
 */
export class WebhookSource implements Source {
  readonly name: string;
  readonly kind = 'webhook' as const;
  private readonly options: WebhookSourceOptions;
  private readonly http: HttpRoutes;
  private readonly logger: Logger;
  private readonly testClock: boolean;
  private readonly verifier: Verifier;
  private readonly accepted: DeliveryLog;
  private readonly refusals: WarnThrottle;
  private readonly outcomes = new RequestOutcomes();
  private ctx: SourceContext | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /** Deliveries being made durable now, by id: a concurrent redelivery waits for the first. */
  private readonly pending = new Map<string, Promise<boolean>>();
  private mounted = false;
  private stopping: Promise<void> | undefined;
  private recordsRead = 0;
  private bytesRead = 0;

  constructor(name: string, options: WebhookSourceOptions, deps: WebhookSourceDeps) {
    this.name = name;
    this.options = options;
    this.http = deps.http;
    this.logger = deps.logger;
    this.testClock = deps.testClock ?? false;
    this.verifier = createVerifier(options.verify);
    this.accepted = new DeliveryLog({ dir: deps.stateDir, windowMs: options.dedupeWindowMs, maxEntries: options.dedupeMaxEntries, now: options.now, logger: deps.logger });
    this.refusals = new WarnThrottle(deps.logger);
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    await this.accepted.open();
    this.http.add(this.options.path, (req, res) => this.onRequest(req, res));
    this.mounted = true;
    if (this.verifier.preset === 'none') this.logger.warn({ path: this.options.path }, 'webhook source verifies nothing (verify.preset: none): anyone who can reach the port can add audit events');
    if (this.testClock) this.logger.warn({ path: this.options.path }, 'webhook source uses the TEST clock (AGENT_AUDIT_TEST_NOW): never set it in production');
    this.logger.info({ path: this.options.path, verify: this.verifier.preset, rememberedDeliveries: this.accepted.size }, 'webhook source listening');
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (this.stopping) {
      this.refuse(req, res, { status: 503, reason: 'shutting_down', message: 'agent-audit is shutting down; retry later', headers: retryAfterHeader(this.options.retryAfterSeconds), close: true });
      return;
    }
    if (this.inflight.size >= this.options.maxConcurrentRequests) {
      this.refuse(req, res, { status: 503, reason: 'busy', message: `more than ${this.options.maxConcurrentRequests} deliveries in progress; retry later`, headers: retryAfterHeader(this.options.retryAfterSeconds), close: true });
      return;
    }
    const work: Promise<void> = this.handle(req, res)
      .catch((err: unknown) => {
        this.logger.error({ path: this.options.path, err: err instanceof Error ? err.message : String(err) }, 'webhook delivery failed inside agent-audit');
        this.refuse(req, res, { status: 500, reason: 'internal_error', message: 'internal error; the delivery was not accepted, retry later' });
      })
      .finally(() => this.inflight.delete(work));
    this.inflight.add(work);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return this.refuse(req, res, { status: 405, reason: 'method_not_allowed', message: 'webhooks are delivered with POST', headers: { allow: 'POST' }, close: true });
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity') {
      return this.refuse(req, res, { status: 415, reason: 'unsupported_encoding', message: `Content-Encoding ${encoding} is not accepted: signatures cover the body as sent`, close: true });
    }
    if (this.ctx!.isFull()) return this.refuse(req, res, this.spoolFull());
    const read = await readBody(req, this.options.maxBodyBytes, this.options.bodyTimeoutMs);
    if (!read.ok) {
      if (read.reason === 'aborted') {
        this.outcomes.count('aborted');
        return;
      }
      if (read.reason === 'timeout') return this.refuse(req, res, { status: 408, reason: 'body_timeout', message: `the body did not arrive within ${this.options.bodyTimeoutMs} ms`, close: true });
      return this.refuse(req, res, { status: 413, reason: 'body_too_large', message: `body is larger than max_body_bytes (${this.options.maxBodyBytes} bytes)`, close: true });
    }
    const body = read.body;
    this.bytesRead += body.length;
    const verdict = this.verifier.verify({ headers: req.headers, body, nowMs: this.options.now() });
    if (!verdict.ok) return this.refuse(req, res, { status: 401, reason: verdict.reason, message: verdict.message });
    const deliveryId = verdict.deliveryId ?? this.headerDeliveryId(req) ?? contentDeliveryId(body);
    if (!isValidDeliveryId(deliveryId)) return this.refuse(req, res, { status: 400, reason: 'bad_delivery_id', message: 'delivery id must be 1 to 256 printable ASCII characters without spaces' });
    if (this.accepted.has(deliveryId) || (await this.pending.get(deliveryId)?.catch(() => false)) === true) {
      this.outcomes.count('duplicate');
      this.logger.debug({ path: this.options.path, deliveryId }, 'redelivery of an accepted delivery: answered 2xx, nothing spooled again');
      return this.answer(req, res, 200, { status: 'duplicate', delivery_id: deliveryId });
    }
    const attempt = this.deliver(req, res, body, deliveryId);
    this.pending.set(deliveryId, attempt);
    try {
      await attempt;
    } finally {
      if (this.pending.get(deliveryId) === attempt) this.pending.delete(deliveryId);
    }
  }

  /** Makes one authentic delivery durable and answers it; true when it was accepted. */
  private async deliver(req: IncomingMessage, res: ServerResponse, body: Buffer, deliveryId: string): Promise<boolean> {
    const position: HttpPosition = { kind: 'http', path: this.options.path, deliveryId };
    const problem = malformed(body);
    if (problem !== undefined) {
      await this.ctx!.deadLetter({
        reason: problem.reason,
        message: `webhook body: ${problem.message}`,
        source: this.name,
        position,
        ...(this.options.format ? { format: this.options.format } : {}),
        raw: safePrefix(body.toString('utf8'), MAX_DEAD_LETTER_CHARS),
        time: Date.now(),
      });
      this.refuse(req, res, { status: 400, reason: 'malformed_body', message: `${problem.message}; the body was kept in the dead-letter queue` }, deliveryId);
      return false;
    }
    const record: RawRecord = {
      source: this.name,
      input: 'webhook',
      position,
      bytes: body,
      ...(this.options.format ? { format: this.options.format } : {}),
      receivedAt: Date.now(),
      meta: headerMeta(req.headers, this.verifier.credentialHeaders),
    };
    this.recordsRead++;
    let result: SubmitResult;
    try {
      result = await this.ctx!.submit([record], { wait: false });
    } catch (err) {
      if (err instanceof SpoolFullError) this.refuse(req, res, this.spoolFull(), deliveryId);
      else if (err instanceof ShutdownError) this.refuse(req, res, { status: 503, reason: 'shutting_down', message: 'agent-audit is shutting down; retry later', headers: retryAfterHeader(this.options.retryAfterSeconds) }, deliveryId);
      else throw err;
      return false;
    }
    if (result.events === 0 && result.deadLetters > 0) {
      this.refuse(req, res, { status: 422, reason: 'unmappable', message: 'the body could not be turned into an audit event; it was kept in the dead-letter queue with the reason (agent-audit dlq list)' }, deliveryId);
      return false;
    }
    this.accepted.add(deliveryId);
    this.outcomes.count('accepted');
    this.logger.debug({ path: this.options.path, deliveryId, events: result.events }, 'webhook delivery accepted');
    this.answer(req, res, 200, { status: 'accepted', delivery_id: deliveryId, events: result.events, ...(result.deadLetters > 0 ? { dead_letters: result.deadLetters } : {}) });
    return true;
  }

  private headerDeliveryId(req: IncomingMessage): string | undefined {
    const h = this.options.deliveryIdHeader;
    if (h === undefined) return undefined;
    const v = req.headers[h];
    const id = Array.isArray(v) ? v[0] : v;
    return id === undefined || id === '' ? undefined : id;
  }

  private spoolFull(): Refusal {
    return { status: 503, reason: 'spool_full', message: 'the spool is full (sinks are behind); retry later', headers: retryAfterHeader(this.options.retryAfterSeconds) };
  }

  private answer(req: IncomingMessage, res: ServerResponse, status: number, body: Record<string, unknown>): void {
    sendReply(req, res, { status, contentType: 'application/json', body: `${JSON.stringify(body)}\n` });
  }

  /** Answers a refusal, counts it and logs it (throttled; never the body or a credential). */
  private refuse(req: IncomingMessage, res: ServerResponse, r: Refusal, deliveryId?: string): void {
    this.outcomes.count(r.reason);
    this.refusals.warn(r.reason, { path: this.options.path, ...(deliveryId !== undefined ? { deliveryId } : {}), status: r.status, message: r.message, remote: req.socket.remoteAddress }, 'webhook delivery refused');
    sendReply(req, res, {
      status: r.status,
      contentType: 'application/json',
      body: `${JSON.stringify({ error: r.reason, message: r.message, ...(deliveryId !== undefined ? { delivery_id: deliveryId } : {}) })}\n`,
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
      // New deliveries get 503 (the sender retries); those in flight finish and are answered.
      await Promise.allSettled([...this.inflight]);
      if (this.mounted) this.http.remove(this.options.path);
      this.mounted = false;
      await this.accepted.close();
    })();
    return this.stopping;
  }
}

/** Why a body cannot be an event at all (the sender's fault, answered 400). */
function malformed(body: Buffer): { reason: DeadLetterReason; message: string } | undefined {
  if (body.length === 0 || body.toString('utf8').trim() === '') return { reason: 'empty_record', message: 'body is empty' };
  if (!isUtf8(body)) return { reason: 'invalid_utf8', message: 'body is not valid UTF-8' };
  const text = body.toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    return { reason: 'invalid_json', message: describeJsonError(text) };
  }
  return undefined;
}
