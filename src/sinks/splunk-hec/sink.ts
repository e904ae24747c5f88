import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { AuditEvent } from '../../core/audit-event.ts';
import type { Encoder } from '../../core/encoder.ts';
import { SinkFatalError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { BatchLimits, DeliveryResult, EventOutcome, Sink } from '../../core/sink.ts';
import { bodySnippet, HttpClient, HttpTransportError, joinPath, jsonBody, redactUrl, retryAfterMs, type HttpResponse } from '../http/client.ts';
import { AckPoller } from './ack.ts';
import { loadChannel, newChannel } from './channel.ts';
import { asHecReply, hecVerdict, type HecReply } from './codes.ts';
import type { SplunkHecOptions } from './config.ts';
import { HecRequestBuilder, joinEvents } from './request.ts';

// The fastest level: repetitive audit JSON still shrinks ~5x, at about half the CPU of the default.
const gzipAsync = promisify(gzipCb);
const gzip = (b: Buffer) => gzipAsync(b, { level: 1 });

const EVENT_PATH = '/services/collector/event';
const ACK_PATH = '/services/collector/ack';
const HEALTH_PATH = '/services/collector/health';

/** What one request did to the events it carried. */
interface Attempt {
  readonly outcomes: Map<number, EventOutcome>;
  retryAfterMs?: number;
}

export class SplunkHecSink implements Sink {
  readonly name: string;
  readonly type = 'splunk_hec' as const;
  readonly limits: BatchLimits;
  private readonly options: SplunkHecOptions;
  private readonly builder: HecRequestBuilder;
  private readonly client: HttpClient;
  private readonly stateDir: string;
  private logger: Logger;
  private channel: string;
  private acks: AckPoller | undefined;
  private readonly where: string;

  constructor(name: string, options: SplunkHecOptions, encoder: Encoder, stateDir: string, logger: Logger) {
    this.name = name;
    this.options = options;
    this.limits = options.limits;
    this.builder = new HecRequestBuilder(options, encoder);
    this.client = new HttpClient({ timeoutMs: options.requestTimeoutMs, tls: options.tls });
    this.stateDir = stateDir;
    this.logger = logger;
    this.channel = loadChannel(stateDir);
    this.where = redactUrl(options.endpoint).replace(/\/+$/, '');
    if (options.ack) this.acks = this.newPoller();
  }

  /** HEC health endpoint, then the token (an empty event request: "No data" means the token is good). */
  async start(logger: Logger): Promise<void> {
    this.logger = logger;
    const health = await this.call('GET', HEALTH_PATH, undefined, false);
    const h = asHecReply(jsonBody(health.body));
    if (health.status === 404) throw new Error(`Splunk HEC not found at ${this.where}${HEALTH_PATH} (404): is HTTP Event Collector enabled, and is this its port (8088 by default)?`);
    if (health.status !== 200) throw new Error(`Splunk HEC at ${this.where} is unhealthy (HTTP ${health.status}): ${h?.text ?? bodySnippet(health.body)}`);
    const probe = await this.call('POST', EVENT_PATH, undefined, true);
    const p = asHecReply(jsonBody(probe.body));
    const verdict = hecVerdict(p?.code, probe.status);
    if (verdict.verdict === 'fatal') throw this.fatal(probe.status, p, verdict.hint);
    if (!(probe.status === 400 && p?.code === 5) && probe.status !== 200) {
      throw new Error(`Splunk HEC at ${this.where} answered the token check with HTTP ${probe.status}: ${p?.text ?? bodySnippet(probe.body)}`);
    }
    if (this.options.ack) {
      // Catches a token without indexer acknowledgement now rather than at the first batch.
      const ack = await this.call('POST', ACK_PATH, Buffer.from('{"acks":[]}'), true);
      const a = asHecReply(jsonBody(ack.body));
      const av = hecVerdict(a?.code, ack.status);
      if (av.verdict === 'fatal') throw this.fatal(ack.status, a, av.hint);
    }
    logger.info({ endpoint: this.where, ack: this.options.ack, channel: this.options.ack ? this.channel : undefined }, 'Splunk HEC reachable, token accepted');
  }

  async send(batch: readonly AuditEvent[]): Promise<DeliveryResult> {
    const encoded = new Array<string>(batch.length);
    for (let i = 0; i < batch.length; i++) encoded[i] = this.builder.encode(batch[i]!);
    const attempt: Attempt = { outcomes: new Map() };
    const all = new Array<number>(batch.length);
    for (let i = 0; i < batch.length; i++) all[i] = i;
    await this.deliver(encoded, all, attempt);
    const outcomes = new Array<EventOutcome>(batch.length);
    for (let i = 0; i < batch.length; i++) outcomes[i] = attempt.outcomes.get(i) ?? { status: 'retriable', reason: 'not sent' };
    return attempt.retryAfterMs !== undefined ? { outcomes, retryAfterMs: attempt.retryAfterMs } : { outcomes };
  }

  /**
   * Sends the events at `indices` and records their outcomes. Recurses on a subset after
   * "invalid data format" (the bad event is rejected, the others resent) and after 413 (halves),
   * so every recursion step removes an event or halves the request: it terminates.
   */
  private async deliver(encoded: readonly string[], indices: readonly number[], attempt: Attempt): Promise<void> {
    if (indices.length === 0) return;
    const body = Buffer.from(joinEvents(encoded, indices), 'utf8');
    let res: HttpResponse;
    try {
      res = await this.call('POST', EVENT_PATH, body, true);
    } catch (err) {
      if (!(err instanceof HttpTransportError)) throw err;
      return markAll(attempt, indices, { status: 'retriable', reason: err.message });
    }
    const reply = asHecReply(jsonBody(res.body));
    const text = reply?.text ?? (bodySnippet(res.body) || `HTTP ${res.status}`);
    if (res.status === 413) {
      if (indices.length === 1) return markAll(attempt, indices, { status: 'rejected', reason: `Splunk HEC: event larger than the request size limit (HTTP 413): ${text}` });
      const half = indices.length >> 1;
      await this.deliver(encoded, indices.slice(0, half), attempt);
      await this.deliver(encoded, indices.slice(half), attempt);
      return;
    }
    const verdict = hecVerdict(reply?.code, res.status);
    switch (verdict.verdict) {
      case 'success':
        return this.confirm(indices, reply, attempt);
      case 'fatal':
        throw this.fatal(res.status, reply, verdict.hint);
      case 'bad_channel':
        // Only a malformed or expired channel gets here; acks on the old one are lost anyway.
        this.renewChannel();
        return markAll(attempt, indices, { status: 'retriable', reason: `Splunk HEC refused the channel (code ${reply?.code}): ${text}; a new channel was created` });
      case 'retriable': {
        const after = retryAfterMs(res.headers['retry-after']);
        if (after !== undefined) attempt.retryAfterMs = Math.max(attempt.retryAfterMs ?? 0, after);
        return markAll(attempt, indices, { status: 'retriable', reason: `Splunk HEC ${res.status}${reply?.code !== undefined ? ` code ${reply.code}` : ''}: ${text}` });
      }
      case 'bad_data':
        return this.isolate(encoded, indices, reply, text, attempt);
    }
  }

  /** A request was refused for its data: find the bad event, reject it, resend the others. */
  private async isolate(encoded: readonly string[], indices: readonly number[], reply: HecReply | undefined, text: string, attempt: Attempt): Promise<void> {
    const n = reply?.['invalid-event-number'];
    const reason = `Splunk HEC code ${reply?.code}: ${text}`;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < indices.length) {
      // HEC indexes the events before the invalid one and drops the ones after it. Without
      // acks their 200-less success is still final; with acks there is no ackId to wait for,
      // so they are sent again (at-least-once: a duplicate is better than a loss).
      if (!this.options.ack) markAll(attempt, indices.slice(0, n), { status: 'accepted' });
      attempt.outcomes.set(indices[n]!, { status: 'rejected', reason });
      const again = this.options.ack ? [...indices.slice(0, n), ...indices.slice(n + 1)] : indices.slice(n + 1);
      return this.deliver(encoded, again, attempt);
    }
    // Older Splunk versions do not say which event: bisect.
    if (indices.length === 1) return markAll(attempt, indices, { status: 'rejected', reason });
    const half = indices.length >> 1;
    await this.deliver(encoded, indices.slice(0, half), attempt);
    await this.deliver(encoded, indices.slice(half), attempt);
  }

  private async confirm(indices: readonly number[], reply: HecReply | undefined, attempt: Attempt): Promise<void> {
    if (!this.acks) return markAll(attempt, indices, { status: 'accepted' });
    if (typeof reply?.ackId !== 'number') {
      throw new SinkFatalError('hec_no_ack', `sink '${this.name}': ack is on but Splunk HEC at ${this.where} returned no ackId: indexer acknowledgement is disabled on this token (enable it, or set ack: false)`, { sink: this.name, endpoint: this.where });
    }
    const acked = await this.acks.wait(reply.ackId);
    markAll(attempt, indices, acked ? { status: 'accepted' } : { status: 'retriable', reason: `Splunk HEC did not acknowledge ackId ${reply.ackId} on channel ${this.channel} within ${this.options.ackTimeoutMs} ms` });
  }

  private newPoller(): AckPoller {
    return new AckPoller(
      async (ids) => {
        const res = await this.call('POST', ACK_PATH, Buffer.from(JSON.stringify({ acks: ids })), true);
        const body = jsonBody(res.body) as { acks?: Record<string, boolean> } & HecReply | undefined;
        if (res.status !== 200 || !body?.acks) throw new Error(`ack poll: HTTP ${res.status} ${body?.text ?? bodySnippet(res.body)}`);
        return body.acks;
      },
      this.options.ackPollIntervalMs,
      this.options.ackTimeoutMs,
      this.logger,
    );
  }

  private renewChannel(): void {
    this.channel = newChannel(this.stateDir);
    if (this.acks) {
      this.acks.close();
      this.acks = this.newPoller();
    }
  }

  private async call(method: string, path: string, body: Buffer | undefined, auth: boolean): Promise<HttpResponse> {
    const url = joinPath(this.options.endpoint, path);
    const headers: Record<string, string> = { 'x-splunk-request-channel': this.channel };
    if (auth) headers.authorization = `Splunk ${this.options.token}`;
    let payload = body;
    if (body && body.length > 0) {
      headers['content-type'] = 'application/json';
      if (this.options.gzip) {
        payload = await gzip(body);
        headers['content-encoding'] = 'gzip';
      }
    }
    return this.client.request(method, url, headers, payload);
  }

  private fatal(status: number, reply: HecReply | undefined, hint: string | undefined): SinkFatalError {
    return new SinkFatalError(
      'hec_refused',
      `sink '${this.name}': Splunk HEC at ${this.where} refused the request (HTTP ${status}${reply?.code !== undefined ? `, code ${reply.code}` : ''}: ${reply?.text ?? 'no reason given'})${hint ? `: ${hint}` : ''}`,
      { sink: this.name, endpoint: this.where, status, hecCode: reply?.code },
    );
  }

  async close(): Promise<void> {
    this.acks?.close();
    this.client.close();
  }
}

function markAll(attempt: Attempt, indices: readonly number[], outcome: EventOutcome): void {
  for (const i of indices) attempt.outcomes.set(i, outcome);
}
