// A faithful local Splunk HTTP Event Collector for integration tests: real HTTP on port 0, the
// real paths, status codes and response bodies (`{"text":"Success","code":0}`, codes 1–14,
// `invalid-event-number`), tokens enabled/disabled/with acknowledgement, channels required
// when acks are on, acks that come at once, late or never (and are forgotten once reported
// true, as Splunk does), a busy mode, gzip request bodies, and partial indexing: HEC indexes
// the events before an invalid one and drops the rest of the request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface HecTokenSpec {
  /** Default true. A disabled token answers 403 code 1. */
  readonly enabled?: boolean;
  /** Indexer acknowledgement enabled on the token (channels required). */
  readonly ack?: boolean;
  /** Allowed indexes; an event naming another index fails with code 7. */
  readonly indexes?: readonly string[];
}

export type AckMode = { readonly kind: 'immediate' } | { readonly kind: 'delayed'; readonly ms: number } | { readonly kind: 'never' };

export interface HecEndpointOptions {
  readonly tokens: Readonly<Record<string, HecTokenSpec>>;
  /** An event object this returns true for is "Invalid data format" (code 6). */
  readonly invalid?: (event: Record<string, unknown>) => boolean;
  /** Bodies above this many bytes (after gunzip) get 413. */
  readonly maxContentLength?: number;
  /** Keep the events in `events` (default true); false only counts them (benchmarks). */
  readonly retain?: boolean;
}

export interface StoredHecEvent {
  readonly token: string;
  readonly channel?: string;
  readonly time?: number;
  readonly host?: string;
  readonly source?: string;
  readonly sourcetype?: string;
  readonly index?: string;
  readonly event: unknown;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface PendingAck {
  readonly readyAt: number;
}

export class SplunkHecEndpoint {
  readonly events: StoredHecEvent[] = [];
  /** Events indexed, retained or not. */
  indexed = 0;
  /** POSTs to /services/collector/event, with their status code and HEC code. */
  readonly requests: { status: number; code: number; events: number; gzip: boolean; channel?: string }[] = [];
  ackPolls = 0;
  busy = false;
  /** Seconds for a Retry-After header on busy answers (Splunk itself sends none). */
  busyRetryAfter: number | undefined;
  ackMode: AckMode = { kind: 'immediate' };
  /** Event requests carrying events get no answer at all (a hung indexer): counted, held open until down(). */
  stalled = false;
  stalledRequests = 0;
  /** A proxy in front of HEC answering every event request itself (e.g. 200 with an HTML page). */
  proxyAnswer: { status: number; contentType: string; body: string } | undefined;
  private readonly options: HecEndpointOptions;
  private readonly channels = new Map<string, { next: number; acks: Map<number, PendingAck> }>();
  private server: Server;
  private port = 0;

  private constructor(options: HecEndpointOptions) {
    this.options = options;
    this.server = this.makeServer();
  }

  static async start(options: HecEndpointOptions): Promise<SplunkHecEndpoint> {
    const e = new SplunkHecEndpoint(options);
    await e.listen();
    return e;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The endpoint goes away (connections cut, port closed) until `up()`. */
  async down(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Back on the same port. */
  async up(): Promise<void> {
    this.server = this.makeServer();
    await this.listen();
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.down();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private makeServer(): Server {
    return createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
    });
  }

  private handle(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/services/collector/health' || path === '/services/collector/health/1.0') {
      if (this.busy) return reply(res, 503, { text: 'HEC is unhealthy, queues are full', code: 18 });
      return reply(res, 200, { text: 'HEC is healthy', code: 17 });
    }
    const isEvent = path === '/services/collector/event' || path === '/services/collector/event/1.0' || path === '/services/collector';
    const isAck = path === '/services/collector/ack';
    if (!isEvent && !isAck) return reply(res, 404, { text: 'The requested URL was not found on this server.', code: 404 });
    if (req.method !== 'POST') return reply(res, 405, { text: 'Method Not Allowed', code: 405 });
    if (this.stalled && isEvent && raw.length > 0) {
      this.stalledRequests++;
      return;
    }
    if (this.proxyAnswer && isEvent) {
      res.writeHead(this.proxyAnswer.status, { 'content-type': this.proxyAnswer.contentType });
      return void res.end(this.proxyAnswer.body);
    }

    const auth = req.headers.authorization;
    if (auth === undefined) return reply(res, 401, { text: 'Token is required', code: 2 });
    const m = /^Splunk (\S+)$/.exec(auth);
    if (!m) return reply(res, 401, { text: 'Invalid authorization', code: 3 });
    const token = m[1]!;
    const spec = this.options.tokens[token];
    if (!spec) return reply(res, 403, { text: 'Invalid token', code: 4 });
    if (spec.enabled === false) return reply(res, 403, { text: 'Token disabled', code: 1 });

    const channel = (req.headers['x-splunk-request-channel'] as string | undefined) ?? url.searchParams.get('channel') ?? undefined;
    if (isAck && !spec.ack) return reply(res, 400, { text: 'ACK is disabled', code: 14 });
    if (spec.ack) {
      if (channel === undefined) return reply(res, 400, { text: 'Data channel is missing', code: 10 });
      if (!GUID.test(channel)) return reply(res, 400, { text: 'Invalid data channel', code: 11 });
    }
    let body: Buffer;
    const gzip = req.headers['content-encoding'] === 'gzip';
    try {
      body = gzip ? gunzipSync(raw) : raw;
    } catch {
      return reply(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 });
    }
    if (isAck) return this.answerAcks(body, channel!, res);
    if (this.options.maxContentLength !== undefined && body.length > this.options.maxContentLength) {
      this.requests.push({ status: 413, code: -1, events: 0, gzip, channel });
      res.writeHead(413, { 'content-type': 'text/html' });
      res.end('<html><body>Content-Length of the request exceeds the limit</body></html>');
      return;
    }
    if (this.busy) {
      this.requests.push({ status: 503, code: 9, events: 0, gzip, channel });
      return reply(res, 503, { text: 'Server is busy', code: 9 }, this.busyRetryAfter !== undefined ? { 'retry-after': String(this.busyRetryAfter) } : {});
    }
    const parsed = splitObjects(body.toString('utf8'));
    if (parsed.objects.length === 0 && parsed.errorAt === undefined) {
      this.requests.push({ status: 400, code: 5, events: 0, gzip, channel });
      return reply(res, 400, { text: 'No data', code: 5 });
    }
    // Events are indexed in order until the first bad one; the rest of the request is dropped.
    for (let i = 0; i < parsed.objects.length; i++) {
      const o = parsed.objects[i]!;
      const fail = this.check(o, spec);
      if (fail) {
        this.requests.push({ status: 400, code: fail.code, events: i, gzip, channel });
        return reply(res, 400, { ...fail, 'invalid-event-number': i });
      }
      this.indexed++;
      if (this.options.retain === false) continue;
      this.events.push({
        token,
        ...(channel !== undefined ? { channel } : {}),
        ...(typeof o.time === 'number' ? { time: o.time } : typeof o.time === 'string' ? { time: Number(o.time) } : {}),
        ...(typeof o.host === 'string' ? { host: o.host } : {}),
        ...(typeof o.source === 'string' ? { source: o.source } : {}),
        ...(typeof o.sourcetype === 'string' ? { sourcetype: o.sourcetype } : {}),
        ...(typeof o.index === 'string' ? { index: o.index } : {}),
        event: o.event,
      });
    }
    if (parsed.errorAt !== undefined) {
      this.requests.push({ status: 400, code: 6, events: parsed.objects.length, gzip, channel });
      return reply(res, 400, { text: 'Invalid data format', code: 6, 'invalid-event-number': parsed.errorAt });
    }
    this.requests.push({ status: 200, code: 0, events: parsed.objects.length, gzip, channel });
    if (!spec.ack) return reply(res, 200, { text: 'Success', code: 0 });
    const ch = this.channelState(channel!);
    const ackId = ch.next++;
    const readyAt = this.ackMode.kind === 'immediate' ? 0 : this.ackMode.kind === 'delayed' ? Date.now() + this.ackMode.ms : Number.POSITIVE_INFINITY;
    ch.acks.set(ackId, { readyAt });
    return reply(res, 200, { text: 'Success', code: 0, ackId });
  }

  private check(o: Record<string, unknown>, spec: HecTokenSpec): { text: string; code: number } | undefined {
    if (!('event' in o)) return { text: 'Event field is required', code: 12 };
    if (o.event === '' || o.event === null) return { text: 'Event field cannot be blank', code: 13 };
    if (spec.indexes && typeof o.index === 'string' && !spec.indexes.includes(o.index)) return { text: 'Incorrect index', code: 7 };
    if (this.options.invalid && typeof o.event === 'object' && this.options.invalid(o.event as Record<string, unknown>)) return { text: 'Invalid data format', code: 6 };
    return undefined;
  }

  private answerAcks(body: Buffer, channel: string, res: ServerResponse): void {
    this.ackPolls++;
    let ids: unknown;
    try {
      ids = (JSON.parse(body.toString('utf8')) as { acks?: unknown }).acks;
    } catch {
      return reply(res, 400, { text: 'Invalid data format', code: 6 });
    }
    if (!Array.isArray(ids)) return reply(res, 400, { text: 'Invalid data format', code: 6 });
    const ch = this.channelState(channel);
    const now = Date.now();
    const acks: Record<string, boolean> = {};
    for (const id of ids) {
      const p = ch.acks.get(Number(id));
      const done = p !== undefined && p.readyAt <= now;
      // Splunk forgets an ack once it has reported it true.
      if (done) ch.acks.delete(Number(id));
      acks[String(id)] = done;
    }
    reply(res, 200, { acks });
  }

  private channelState(channel: string): { next: number; acks: Map<number, PendingAck> } {
    let ch = this.channels.get(channel);
    if (!ch) {
      ch = { next: 0, acks: new Map() };
      this.channels.set(channel, ch);
    }
    return ch;
  }
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * HEC bodies are JSON objects one after another (any whitespace between). Returns the objects
 * that parse and, when one does not, its 0-based number.
 */
export function splitObjects(text: string): { objects: Record<string, unknown>[]; errorAt?: number } {
  const objects: Record<string, unknown>[] = [];
  let i = 0;
  const n = text.length;
  for (;;) {
    while (i < n && /\s/.test(text[i]!)) i++;
    if (i >= n) return { objects };
    if (text[i] !== '{') return { objects, errorAt: objects.length };
    let depth = 0;
    let inString = false;
    let j = i;
    for (; j < n; j++) {
      const c = text[j];
      if (inString) {
        if (c === '\\') j++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    if (j >= n) return { objects, errorAt: objects.length };
    try {
      objects.push(JSON.parse(text.slice(i, j + 1)) as Record<string, unknown>);
    } catch {
      return { objects, errorAt: objects.length };
    }
    i = j + 1;
  }
}
