import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import type { AuditEvent } from '../../core/audit-event.ts';
import type { Encoder } from '../../core/encoder.ts';
import { SinkFatalError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { BatchLimits, DeliveryResult, EventOutcome, Sink } from '../../core/sink.ts';
import { bodySnippet, HttpClient, HttpTransportError, joinPath, jsonBody, redactUrl, retryAfterMs, type HttpResponse } from '../http/client.ts';
import type { ElasticsearchOptions } from './config.ts';
import { BulkRequestBuilder, joinItems } from './request.ts';
import { itemOf, itemVerdict, requestErrorText, requestErrorType, type BulkReply } from './response.ts';

// The fastest level: repetitive audit JSON still shrinks ~5x, at about half the CPU of the default.
const gzipAsync = promisify(gzipCb);
const gzip = (b: Buffer) => gzipAsync(b, { level: 1 });

/** What the cluster said at GET /. */
export interface ClusterInfo {
  readonly distribution: 'elasticsearch' | 'opensearch';
  readonly version: string;
  readonly clusterName: string;
}

interface Attempt {
  readonly outcomes: EventOutcome[];
  retryAfterMs?: number;
}

export class ElasticsearchSink implements Sink {
  readonly name: string;
  readonly type = 'elasticsearch' as const;
  readonly limits: BatchLimits;
  private readonly options: ElasticsearchOptions;
  private readonly builder: BulkRequestBuilder;
  private readonly client: HttpClient;
  private readonly headers: Record<string, string>;
  private readonly bulkPaths: readonly URL[];
  /** Index of the endpoint in use; moves on when one fails at the transport level or with 5xx. */
  private current = 0;
  private logger: Logger;
  cluster: ClusterInfo | undefined;

  constructor(name: string, options: ElasticsearchOptions, encoder: Encoder, logger: Logger) {
    this.name = name;
    this.options = options;
    this.limits = options.limits;
    this.builder = new BulkRequestBuilder(options, encoder);
    this.client = new HttpClient({ timeoutMs: options.requestTimeoutMs, tls: options.tls });
    this.logger = logger;
    this.headers = { 'content-type': 'application/x-ndjson', accept: 'application/json' };
    if (options.authorization) this.headers.authorization = options.authorization;
    if (options.gzip) this.headers['content-encoding'] = 'gzip';
    // filter_path keeps the answer to what we read: ~30 bytes per item instead of ~250.
    const query = `filter_path=errors,items.*.status,items.*.error${options.pipeline ? `&pipeline=${encodeURIComponent(options.pipeline)}` : ''}`;
    this.bulkPaths = options.endpoints.map((e) => joinPath(e, `/${encodeURIComponent(options.target)}/_bulk`, query));
  }

  /** GET /: reachable, credentials accepted, which product and version. */
  async start(logger: Logger): Promise<void> {
    this.logger = logger;
    const failures: string[] = [];
    for (let k = 0; k < this.options.endpoints.length; k++) {
      const base = this.options.endpoints[(this.current + k) % this.options.endpoints.length]!;
      const where = redactUrl(base);
      let res: HttpResponse;
      try {
        res = await this.client.request('GET', joinPath(base, '/'), this.authHeaders());
      } catch (err) {
        if (!(err instanceof HttpTransportError)) throw err;
        failures.push(`cluster unreachable: ${err.message}`);
        continue;
      }
      const body = jsonBody(res.body);
      if (res.status === 401) {
        throw new SinkFatalError('es_unauthorized', `sink '${this.name}': ${where} rejected the credentials (HTTP 401${errorSuffix(body, res.body)}): check auth`, { sink: this.name, endpoint: where, status: 401 });
      }
      if (res.status === 403) {
        // A least-privilege writer (create_doc on the target only) may not read GET /: fine.
        logger.warn({ endpoint: where, reason: requestErrorText(body) }, 'credentials accepted but not allowed to read cluster info (GET /): continuing; bulk writes will tell');
        return;
      }
      if (res.status !== 200) {
        failures.push(`${where} answered GET / with HTTP ${res.status}${errorSuffix(body, res.body)}`);
        continue;
      }
      this.cluster = clusterInfo(body);
      this.current = (this.current + k) % this.options.endpoints.length;
      logger.info({ endpoint: where, distribution: this.cluster.distribution, version: this.cluster.version, cluster: this.cluster.clusterName, target: this.options.target, mode: this.options.mode }, `${this.cluster.distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'} reachable`);
      return;
    }
    throw new Error(`sink '${this.name}': ${failures.join('; ')}`);
  }

  async send(batch: readonly AuditEvent[]): Promise<DeliveryResult> {
    const n = batch.length;
    const encoded = new Array<string>(n);
    const all = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      encoded[i] = this.builder.encode(batch[i]!);
      all[i] = i;
    }
    const attempt: Attempt = { outcomes: new Array<EventOutcome>(n) };
    await this.deliver(encoded, all, attempt);
    return attempt.retryAfterMs !== undefined ? { outcomes: attempt.outcomes, retryAfterMs: attempt.retryAfterMs } : { outcomes: attempt.outcomes };
  }

  /** One `_bulk` request for `indices`; 413 and a whole-request 400 split it in halves. */
  private async deliver(encoded: readonly string[], indices: readonly number[], attempt: Attempt): Promise<void> {
    const raw = Buffer.from(joinItems(encoded, indices), 'utf8');
    const body = this.options.gzip ? await gzip(raw) : raw;
    let res: HttpResponse | undefined;
    let lastError = '';
    // Each endpoint at most once per request: a dead node is skipped, a dead cluster retried later.
    for (let k = 0; k < this.bulkPaths.length && res === undefined; k++) {
      try {
        res = await this.client.request('POST', this.bulkPaths[this.current]!, this.headers, body);
      } catch (err) {
        if (!(err instanceof HttpTransportError)) throw err;
        lastError = err.message;
        this.current = (this.current + 1) % this.bulkPaths.length;
      }
    }
    if (res === undefined) return mark(attempt, indices, { status: 'retriable', reason: lastError });
    const status = res.status;
    if (status === 200) return this.perItem(res, indices, attempt);
    const json = jsonBody(res.body);
    const text = requestErrorText(json) ?? (bodySnippet(res.body) || 'no body');
    if (status === 401) throw new SinkFatalError('es_unauthorized', `sink '${this.name}': ${this.where()} rejected the credentials (HTTP 401: ${text}): check auth`, { sink: this.name, endpoint: this.where(), status });
    if (status === 403) throw new SinkFatalError('es_forbidden', `sink '${this.name}': not allowed to write to '${this.options.target}' on ${this.where()} (HTTP 403: ${text}): the credentials need create_doc (or index) on it`, { sink: this.name, endpoint: this.where(), status });
    if (status === 413 || status === 400) {
      if (indices.length === 1) {
        if (status === 413) return mark(attempt, indices, { status: 'rejected', reason: `document larger than the cluster accepts (HTTP 413, http.max_content_length)` });
        // Only request validation depends on one event (an _id too long, say); any other
        // request-level 400 (bad index name, unknown pipeline) would refuse every event the
        // same way: stop loudly instead of dead-lettering the whole stream.
        if (requestErrorType(json) === 'action_request_validation_exception') return mark(attempt, indices, { status: 'rejected', reason: `HTTP 400: ${text}` });
        throw new SinkFatalError('es_bad_request', `sink '${this.name}': ${this.where()} refused the bulk request to '${this.options.target}' (HTTP 400: ${text}): check index, mode and pipeline`, { sink: this.name, endpoint: this.where(), status });
      }
      const half = indices.length >> 1;
      await this.deliver(encoded, indices.slice(0, half), attempt);
      await this.deliver(encoded, indices.slice(half), attempt);
      return;
    }
    if (status >= 500) this.current = (this.current + 1) % this.bulkPaths.length;
    const after = retryAfterMs(res.headers['retry-after']);
    if (after !== undefined) attempt.retryAfterMs = Math.max(attempt.retryAfterMs ?? 0, after);
    mark(attempt, indices, { status: 'retriable', reason: `HTTP ${status}: ${text}` });
  }

  private perItem(res: HttpResponse, indices: readonly number[], attempt: Attempt): void {
    let reply: BulkReply;
    try {
      reply = JSON.parse(res.body.toString('utf8')) as BulkReply;
    } catch {
      return mark(attempt, indices, { status: 'retriable', reason: `bulk response is not JSON: ${bodySnippet(res.body)}` });
    }
    if (reply.errors === false) return mark(attempt, indices, { status: 'accepted' });
    const items = reply.items;
    if (!Array.isArray(items) || items.length !== indices.length) {
      return mark(attempt, indices, { status: 'retriable', reason: `bulk response has ${Array.isArray(items) ? items.length : 'no'} items for ${indices.length} documents` });
    }
    let retriable = false;
    for (let k = 0; k < indices.length; k++) {
      const v = itemVerdict(itemOf(items[k]));
      if (v.status === 'fatal') {
        throw new SinkFatalError('es_forbidden', `sink '${this.name}': ${this.where()} refused to write to '${this.options.target}': ${v.reason}`, { sink: this.name, endpoint: this.where() });
      }
      if (v.status === 'retriable') retriable = true;
      attempt.outcomes[indices[k]!] = v;
    }
    // Items rejected with 429 mean the cluster is pushing back: let the runner back off.
    if (retriable) this.logger.debug({ target: this.options.target }, 'some bulk items are retriable');
  }

  private where(): string {
    return redactUrl(this.options.endpoints[this.current]!).replace(/\/+$/, '');
  }

  private authHeaders(): Record<string, string> {
    return this.options.authorization ? { authorization: this.options.authorization, accept: 'application/json' } : { accept: 'application/json' };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

function mark(attempt: Attempt, indices: readonly number[], outcome: EventOutcome): void {
  for (let k = 0; k < indices.length; k++) attempt.outcomes[indices[k]!] = outcome;
}

function errorSuffix(json: unknown, raw: Buffer): string {
  const t = requestErrorText(json) ?? bodySnippet(raw);
  return t ? `: ${t}` : '';
}

function clusterInfo(body: unknown): ClusterInfo {
  const b = (body ?? {}) as { cluster_name?: string; version?: { number?: string; distribution?: string } };
  return {
    distribution: b.version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch',
    version: b.version?.number ?? 'unknown',
    clusterName: b.cluster_name ?? 'unknown',
  };
}
