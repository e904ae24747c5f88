// A faithful local CloudWatch Logs for integration tests: real HTTP on port 0 speaking the AWS
// JSON 1.1 protocol the SDK uses (POST /, X-Amz-Target: Logs_20140328.<Operation>,
// application/x-amz-json-1.1), SigV4 verified for real (unknown access key id →
// UnrecognizedClientException, wrong secret → InvalidSignatureException), and PutLogEvents
// enforcing the API's rules as the service does: at most 10,000 events and 1,048,576 bytes
// (UTF-8 messages + 26 bytes each), each event at most 1 MB, events in chronological order,
// the valid ones spanning at most 24 hours (InvalidParameterException, nothing stored), and
// events too old (> 14 days), older than the group's retention, or too new (> 2 hours ahead)
// answered in rejectedLogEventsInfo while the rest are stored. Missing groups/streams give
// ResourceNotFoundException, creating an existing one ResourceAlreadyExistsException. Errors
// have the service's shape: HTTP 400 (500 for ServiceUnavailableException) with `__type` and
// `message`. Controls: throttle(n), unavailable(n), latencyMs, down() / up(), a clock skew,
// per-principal AccessDenied, and a scripted InvalidParameterException for chosen events.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOCAL_ACCESS_KEY_ID = 'AKIALOCALTESTKEY0001';
export const LOCAL_SECRET_ACCESS_KEY = 'local/secret/access/key/for/tests/only0000';

const EVENT_OVERHEAD = 26;
const MAX_BATCH_BYTES = 1_048_576;
const MAX_EVENT_BYTES = 1_048_576;
const MAX_EVENTS = 10_000;
const DAY = 24 * 3_600_000;
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]+$/;
const STREAM_NAME = /^[^:*]*$/;

export interface StoredEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly ingestionTime: number;
}

interface LogStream {
  readonly creationTime: number;
  readonly events: StoredEvent[];
  count: number;
}

interface LogGroup {
  readonly creationTime: number;
  retentionInDays?: number;
  readonly streams: Map<string, LogStream>;
}

export interface CwlRequestRecord {
  readonly op: string;
  readonly status: number;
  readonly errorType?: string;
  readonly group?: string;
  readonly stream?: string;
  /** Events in a PutLogEvents request. */
  readonly events?: number;
  /** The request carried a sequenceToken (ignored by the service since 2023). */
  readonly sequenceToken?: boolean;
  readonly accessKeyId?: string;
}

export interface CwlEndpointOptions {
  /** access key id → secret access key (default: LOCAL_ACCESS_KEY_ID / LOCAL_SECRET_ACCESS_KEY). */
  readonly credentials?: Readonly<Record<string, string>>;
  /** AccessDeniedException for this principal / operation / log group. */
  readonly denied?: (accessKeyId: string, op: string, group: string | undefined) => boolean;
  /** InvalidParameterException text for a PutLogEvents that contains this message; undefined = fine. */
  readonly invalidEvent?: (message: string) => string | undefined;
  /** Keep the events (default true); false only counts them (benchmarks). */
  readonly retain?: boolean;
  /** The account id in ARNs. */
  readonly accountId?: string;
}

class ServiceError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

export class CloudWatchLogsEndpoint {
  readonly groups = new Map<string, LogGroup>();
  readonly requests: CwlRequestRecord[] = [];
  /** Events stored over all streams. */
  stored = 0;
  /** The service's clock is Date.now() + clockSkewMs (to make it disagree with the sink's). */
  clockSkewMs = 0;
  /** Delay before every answer. */
  latencyMs = 0;
  private throttleLeft = 0;
  private unavailableLeft = 0;
  private readonly options: CwlEndpointOptions;
  private readonly credentials: Readonly<Record<string, string>>;
  private server: Server;
  private port = 0;
  private sequence = 0;

  private constructor(options: CwlEndpointOptions) {
    this.options = options;
    this.credentials = options.credentials ?? { [LOCAL_ACCESS_KEY_ID]: LOCAL_SECRET_ACCESS_KEY };
    this.server = this.makeServer();
  }

  static async start(options: CwlEndpointOptions = {}): Promise<CloudWatchLogsEndpoint> {
    const e = new CloudWatchLogsEndpoint(options);
    await e.listen();
    return e;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The next `n` calls (any operation) answer ThrottlingException. */
  throttle(n: number): void {
    this.throttleLeft = n;
  }

  /** The next `n` calls answer ServiceUnavailableException (HTTP 500). */
  unavailable(n: number): void {
    this.unavailableLeft = n;
  }

  /** Test set-up without going through the API. */
  createGroup(name: string, retentionInDays?: number): void {
    if (!this.groups.has(name)) this.groups.set(name, { creationTime: Date.now(), ...(retentionInDays ? { retentionInDays } : {}), streams: new Map() });
  }

  createStream(group: string, stream: string): void {
    this.createGroup(group);
    const g = this.groups.get(group)!;
    if (!g.streams.has(stream)) g.streams.set(stream, { creationTime: Date.now(), events: [], count: 0 });
  }

  events(group: string, stream: string): StoredEvent[] {
    return this.groups.get(group)?.streams.get(stream)?.events ?? [];
  }

  /** Every stored message of a group (all streams), parsed as JSON. */
  documents(group: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const s of this.groups.get(group)?.streams.values() ?? []) for (const e of s.events) out.push(JSON.parse(e.message) as Record<string, unknown>);
    return out;
  }

  puts(): CwlRequestRecord[] {
    return this.requests.filter((r) => r.op === 'PutLogEvents');
  }

  async down(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

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
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (this.latencyMs > 0) setTimeout(() => this.handle(req, body, res), this.latencyMs);
        else this.handle(req, body, res);
      });
    });
    server.keepAliveTimeout = 60_000;
    return server;
  }

  private handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.startsWith('Logs_20140328.') ? target.slice('Logs_20140328.'.length) : target;
    let input: Record<string, unknown> = {};
    let accessKeyId: string | undefined;
    try {
      if (req.method !== 'POST') throw new ServiceError('UnknownOperationException', `method ${req.method} not supported`);
      accessKeyId = this.authenticate(req, body);
      if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) throw new ServiceError('SerializationException', 'content type must be application/x-amz-json-1.1');
      try {
        input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      } catch {
        throw new ServiceError('SerializationException', 'Start of structure or map found where not expected.');
      }
      const group = typeof input.logGroupName === 'string' ? input.logGroupName : undefined;
      if (this.options.denied?.(accessKeyId, op, group)) {
        throw new ServiceError('AccessDeniedException', `User: arn:aws:iam::${this.accountId}:user/agent-audit is not authorized to perform: logs:${op} on resource: arn:aws:logs:us-east-1:${this.accountId}:log-group:${group ?? '*'}${op === 'PutLogEvents' ? `:log-stream:${String(input.logStreamName)}` : ''} because no identity-based policy allows the logs:${op} action`);
      }
      if (this.throttleLeft > 0) {
        this.throttleLeft--;
        throw new ServiceError('ThrottlingException', 'Rate exceeded');
      }
      if (this.unavailableLeft > 0) {
        this.unavailableLeft--;
        throw new ServiceError('ServiceUnavailableException', 'The server failed to fulfill the request. Please try again.', 500);
      }
      const out = this.dispatch(op, input);
      this.requests.push({ op, status: 200, ...this.describe(input), ...(accessKeyId ? { accessKeyId } : {}) });
      return reply(res, 200, out);
    } catch (err) {
      const e = err instanceof ServiceError ? err : new ServiceError('InternalFailure', (err as Error).message, 500);
      this.requests.push({ op, status: e.status, errorType: e.type, ...this.describe(input), ...(accessKeyId ? { accessKeyId } : {}) });
      return reply(res, e.status, { __type: e.type, message: e.message });
    }
  }

  private describe(input: Record<string, unknown>): Partial<CwlRequestRecord> {
    return {
      ...(typeof input.logGroupName === 'string' ? { group: input.logGroupName } : {}),
      ...(typeof input.logStreamName === 'string' ? { stream: input.logStreamName } : {}),
      ...(Array.isArray(input.logEvents) ? { events: input.logEvents.length } : {}),
      ...(input.sequenceToken !== undefined ? { sequenceToken: true } : {}),
    };
  }

  private get accountId(): string {
    return this.options.accountId ?? '123456789012';
  }

  /** SigV4 as AWS checks it: the signature recomputed with the secret of the access key id. */
  private authenticate(req: IncomingMessage, body: Buffer): string {
    const auth = req.headers.authorization;
    if (!auth) throw new ServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
    if (!m) throw new ServiceError('IncompleteSignatureException', `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth.split(' ')[0]}`);
    const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
    const secret = this.credentials[keyId];
    if (secret === undefined) throw new ServiceError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    const amzDate = String(req.headers['x-amz-date'] ?? '');
    const payloadHash = createHash('sha256').update(body).digest('hex');
    const claimed = req.headers['x-amz-content-sha256'];
    if (claimed !== undefined && claimed !== payloadHash) throw new ServiceError('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
    const names = signedHeaders.split(';');
    const canonicalHeaders = names.map((n) => `${n}:${headerValue(req, n)}\n`).join('');
    const url = new URL(req.url ?? '/', 'http://x');
    const canonicalRequest = [req.method, url.pathname || '/', canonicalQuery(url), canonicalHeaders, signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${region}/${service}/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    const kSigning = createHmac('sha256', kService).update('aws4_request').digest();
    const expected = createHmac('sha256', kSigning).update(toSign).digest();
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      throw new ServiceError('InvalidSignatureException', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    }
    return keyId;
  }

  private dispatch(op: string, input: Record<string, unknown>): Record<string, unknown> {
    switch (op) {
      case 'PutLogEvents':
        return this.putLogEvents(input);
      case 'CreateLogGroup': {
        const name = groupName(input.logGroupName);
        if (this.groups.has(name)) throw new ServiceError('ResourceAlreadyExistsException', 'The specified log group already exists');
        this.groups.set(name, { creationTime: Date.now(), streams: new Map() });
        return {};
      }
      case 'CreateLogStream': {
        const g = this.group(groupName(input.logGroupName));
        const name = streamName(input.logStreamName);
        if (g.streams.has(name)) throw new ServiceError('ResourceAlreadyExistsException', 'The specified log stream already exists');
        g.streams.set(name, { creationTime: Date.now(), events: [], count: 0 });
        return {};
      }
      case 'PutRetentionPolicy': {
        const days = input.retentionInDays;
        if (typeof days !== 'number' || !RETENTION_DAYS.includes(days)) {
          throw new ServiceError('InvalidParameterException', `1 validation error detected: Value '${String(days)}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`);
        }
        this.group(groupName(input.logGroupName)).retentionInDays = days;
        return {};
      }
      case 'DescribeLogGroups': {
        const prefix = typeof input.logGroupNamePrefix === 'string' ? input.logGroupNamePrefix : '';
        const limit = typeof input.limit === 'number' ? input.limit : 50;
        if (limit < 1 || limit > 50) throw new ServiceError('InvalidParameterException', `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50`);
        const names = [...this.groups.keys()].filter((n) => n.startsWith(prefix)).sort();
        const from = typeof input.nextToken === 'string' ? Number(input.nextToken) : 0;
        const page = names.slice(from, from + limit);
        return {
          logGroups: page.map((n) => {
            const g = this.groups.get(n)!;
            const arn = `arn:aws:logs:us-east-1:${this.accountId}:log-group:${n}`;
            return { logGroupName: n, creationTime: g.creationTime, ...(g.retentionInDays ? { retentionInDays: g.retentionInDays } : {}), metricFilterCount: 0, arn: `${arn}:*`, logGroupArn: arn, storedBytes: 0, logGroupClass: 'STANDARD' };
          }),
          ...(from + limit < names.length ? { nextToken: String(from + limit) } : {}),
        };
      }
      default:
        throw new ServiceError('UnknownOperationException', `Operation ${op} is not supported by this endpoint`);
    }
  }

  private group(name: string): LogGroup {
    const g = this.groups.get(name);
    if (!g) throw new ServiceError('ResourceNotFoundException', 'The specified log group does not exist.');
    return g;
  }

  private putLogEvents(input: Record<string, unknown>): Record<string, unknown> {
    const group = groupName(input.logGroupName);
    const stream = streamName(input.logStreamName);
    const raw = input.logEvents;
    if (!Array.isArray(raw) || raw.length === 0) throw new ServiceError('InvalidParameterException', "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1");
    if (raw.length > MAX_EVENTS) throw new ServiceError('InvalidParameterException', `1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to ${MAX_EVENTS}`);
    const events = raw.map((e: unknown, i) => {
      const ev = (e ?? {}) as { timestamp?: unknown; message?: unknown };
      if (typeof ev.message !== 'string' || ev.message.length === 0) throw new ServiceError('InvalidParameterException', `1 validation error detected: Value '' at 'logEvents.${i + 1}.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1`);
      if (typeof ev.timestamp !== 'number' || !Number.isInteger(ev.timestamp) || ev.timestamp < 0) throw new ServiceError('InvalidParameterException', `1 validation error detected: Value '${String(ev.timestamp)}' at 'logEvents.${i + 1}.member.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0`);
      return { timestamp: ev.timestamp, message: ev.message, size: Buffer.byteLength(ev.message, 'utf8') + EVENT_OVERHEAD };
    });
    const g = this.group(group);
    const s = g.streams.get(stream);
    if (!s) throw new ServiceError('ResourceNotFoundException', 'The specified log stream does not exist.');
    let total = 0;
    for (const e of events) {
      if (e.size > MAX_EVENT_BYTES) throw new ServiceError('InvalidParameterException', `Log event too large: ${e.size} bytes exceeds limit of ${MAX_EVENT_BYTES}`);
      total += e.size;
    }
    if (total > MAX_BATCH_BYTES) throw new ServiceError('InvalidParameterException', `Upload too large: ${total} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
    for (let i = 1; i < events.length; i++) {
      if (events[i]!.timestamp < events[i - 1]!.timestamp) throw new ServiceError('InvalidParameterException', 'Log events in a single PutLogEvents request must be in chronological order.');
    }
    const now = Date.now() + this.clockSkewMs;
    // Sorted, so the refused ones are a prefix (too old, expired) and a suffix (too new).
    let tooOldEnd = 0;
    while (tooOldEnd < events.length && events[tooOldEnd]!.timestamp < now - 14 * DAY) tooOldEnd++;
    let expiredEnd = 0;
    if (g.retentionInDays !== undefined) while (expiredEnd < events.length && events[expiredEnd]!.timestamp < now - g.retentionInDays * DAY) expiredEnd++;
    let tooNewStart = events.length;
    while (tooNewStart > 0 && events[tooNewStart - 1]!.timestamp > now + 2 * 3_600_000) tooNewStart--;
    const validFrom = Math.max(tooOldEnd, expiredEnd);
    const valid = events.slice(validFrom, Math.max(validFrom, tooNewStart));
    if (valid.length > 1 && valid[valid.length - 1]!.timestamp - valid[0]!.timestamp > DAY) {
      throw new ServiceError('InvalidParameterException', 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
    }
    for (const e of valid) {
      const why = this.options.invalidEvent?.(e.message);
      if (why !== undefined) throw new ServiceError('InvalidParameterException', why);
    }
    const ingestionTime = Date.now();
    for (const e of valid) {
      if (this.options.retain !== false) s.events.push({ timestamp: e.timestamp, message: e.message, ingestionTime });
      s.count++;
    }
    this.stored += valid.length;
    const info: Record<string, number> = {};
    if (tooOldEnd > 0) info.tooOldLogEventEndIndex = tooOldEnd;
    if (expiredEnd > 0) info.expiredLogEventEndIndex = expiredEnd;
    if (tooNewStart < events.length) info.tooNewLogEventStartIndex = tooNewStart;
    this.sequence++;
    return { nextSequenceToken: String(49_000_000_000_000 + this.sequence).padStart(56, '0'), ...(Object.keys(info).length > 0 ? { rejectedLogEventsInfo: info } : {}) };
  }
}

function groupName(v: unknown): string {
  if (typeof v !== 'string' || v.length < 1 || v.length > 512) throw new ServiceError('InvalidParameterException', `1 validation error detected: Value '${String(v)}' at 'logGroupName' failed to satisfy constraint: Member must have length between 1 and 512`);
  if (!GROUP_NAME.test(v)) throw new ServiceError('InvalidParameterException', `1 validation error detected: Value '${v}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`);
  return v;
}

function streamName(v: unknown): string {
  if (typeof v !== 'string' || v.length < 1 || v.length > 512) throw new ServiceError('InvalidParameterException', `1 validation error detected: Value '${String(v)}' at 'logStreamName' failed to satisfy constraint: Member must have length between 1 and 512`);
  if (!STREAM_NAME.test(v)) throw new ServiceError('InvalidParameterException', `1 validation error detected: Value '${v}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`);
  return v;
}

function headerValue(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  return s.trim().replace(/\s+/g, ' ');
}

function canonicalQuery(url: URL): string {
  return [...url.searchParams.entries()]
    .map(([k, v]) => [encodeURIComponent(k), encodeURIComponent(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID(), 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
