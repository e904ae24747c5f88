// A faithful local Elasticsearch / OpenSearch for integration tests: real HTTP(S) on port 0,
// GET / with the product's root document, `_bulk` with the real response shape (per item
// 201 created / 200 updated / 409 version conflict on `create` of an existing _id / 400 / 429,
// `errors` true when any item failed, `filter_path` honoured), data stream rules (only
// `create`, `@timestamp` required), 413 for bodies over http.max_content_length, gzip bodies,
// and authentication (basic, API key, bearer) with the products' 401/403 answers. A test
// scripts per-item failures with `itemStatus` (e.g. by a document field).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export type Flavor = 'elasticsearch' | 'opensearch';

export interface ItemContext {
  readonly op: string;
  readonly index: string;
  readonly id: string;
  /** How many times this _id has been seen in a bulk request before (0 the first time). */
  readonly seen: number;
}

export interface EsEndpointOptions {
  readonly flavor?: Flavor;
  readonly auth?: {
    /** user → password */
    readonly users?: Readonly<Record<string, string>>;
    /** Encoded API keys (base64 of "id:key"), as sent after `ApiKey `. */
    readonly apiKeys?: readonly string[];
    readonly bearerTokens?: readonly string[];
    /** Principals (user names, API keys, bearer tokens) allowed to read but not to write: 403 on _bulk. */
    readonly readOnly?: readonly string[];
  };
  /** http.max_content_length: bigger bodies (after gunzip) get 413. */
  readonly maxContentLength?: number;
  /** Status to answer for one item instead of indexing it (400, 404, 429, 500, …); undefined = index it. */
  readonly itemStatus?: (doc: Record<string, unknown>, ctx: ItemContext) => number | undefined;
  /** Names that are data streams (default: anything matching <type>-<dataset>-<namespace>). */
  readonly isDataStream?: (name: string) => boolean;
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** Keep document bodies (default true); false keeps only the _ids (benchmarks). */
  readonly retain?: boolean;
}

export interface BulkRequestRecord {
  readonly status: number;
  readonly items: number;
  readonly bytes: number;
  readonly gzip: boolean;
  readonly path: string;
  readonly authorization?: string;
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export class ElasticsearchEndpoint {
  /** index / data stream → _id → document. */
  readonly indices = new Map<string, Map<string, Record<string, unknown>>>();
  readonly requests: BulkRequestRecord[] = [];
  /** Whole-request answer override for _bulk (e.g. 429 or 503), with optional Retry-After seconds. */
  rejectAll: { status: number; retryAfter?: number; type?: string; reason?: string } | undefined;
  private readonly seen = new Map<string, number>();
  private readonly options: EsEndpointOptions;
  private server: Server;
  private port = 0;

  private constructor(options: EsEndpointOptions) {
    this.options = options;
    this.server = this.makeServer();
  }

  static async start(options: EsEndpointOptions = {}): Promise<ElasticsearchEndpoint> {
    const e = new ElasticsearchEndpoint(options);
    await e.listen();
    return e;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://${this.options.tls ? 'localhost' : '127.0.0.1'}:${this.port}`;
  }

  docs(index: string): Map<string, Record<string, unknown>> {
    return this.indices.get(index) ?? new Map();
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
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
    };
    return this.options.tls ? createHttpsServer({ key: this.options.tls.key, cert: this.options.tls.cert }, handler) : createHttpServer(handler);
  }

  private get flavor(): Flavor {
    return this.options.flavor ?? 'elasticsearch';
  }

  private handle(req: IncomingMessage, raw: Buffer, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const principal = this.authenticate(req, url.pathname, res);
    if (principal === false) return;
    if (req.method === 'GET' && url.pathname === '/') return this.root(res);
    const m = /^(?:\/([^/_][^/]*))?\/_bulk$/.exec(url.pathname);
    if (!m || (req.method !== 'POST' && req.method !== 'PUT')) {
      return json(res, 400, { error: { root_cause: [{ type: 'illegal_argument_exception', reason: `no handler found for uri [${url.pathname}] and method [${req.method}]` }], type: 'illegal_argument_exception', reason: `no handler found for uri [${url.pathname}] and method [${req.method}]` }, status: 400 });
    }
    const gzip = req.headers['content-encoding'] === 'gzip';
    const record = (status: number, items: number) =>
      this.requests.push({ status, items, bytes: raw.length, gzip, path: url.pathname, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    let body: Buffer;
    try {
      body = gzip ? gunzipSync(raw) : raw;
    } catch {
      record(400, 0);
      return json(res, 400, errorBody('parse_exception', 'request body is not valid gzip', 400));
    }
    if (this.options.maxContentLength !== undefined && body.length > this.options.maxContentLength) {
      record(413, 0);
      res.writeHead(413, { 'content-length': '0' });
      return void res.end();
    }
    if (principal !== undefined && this.options.auth?.readOnly?.includes(principal)) {
      record(403, 0);
      return json(res, 403, errorBody('security_exception', `action [indices:data/write/bulk] is unauthorized for user [${principal.slice(0, 8)}] with effective roles [viewer] on indices [${m[1] ?? ''}], this action is granted by the index privileges [create_doc,create,index,write,all]`, 403));
    }
    if (this.rejectAll) {
      record(this.rejectAll.status, 0);
      const type = this.rejectAll.type ?? (this.rejectAll.status === 429 ? (this.flavor === 'opensearch' ? 'rejected_execution_exception' : 'es_rejected_execution_exception') : 'unavailable_shards_exception');
      res.setHeader('content-type', 'application/json');
      if (this.rejectAll.retryAfter !== undefined) res.setHeader('retry-after', String(this.rejectAll.retryAfter));
      res.writeHead(this.rejectAll.status);
      return void res.end(JSON.stringify(errorBody(type, this.rejectAll.reason ?? 'rejected execution of coordinating operation', this.rejectAll.status)));
    }
    const text = body.toString('utf8');
    if (text.length > 0 && !text.endsWith('\n')) {
      record(400, 0);
      return json(res, 400, errorBody('illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]', 400));
    }
    const lines = text.split('\n');
    lines.pop();
    const items: Record<string, unknown>[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i++) {
      let action: Record<string, { _index?: string; _id?: string }>;
      try {
        action = JSON.parse(lines[i]!) as typeof action;
      } catch {
        record(400, 0);
        return json(res, 400, errorBody('x_content_parse_exception', `[1:1] Malformed action/metadata line [${i + 1}], expected START_OBJECT`, 400));
      }
      const op = Object.keys(action)[0]!;
      const meta = action[op] ?? {};
      const index = meta._index ?? m[1];
      if (index === undefined) {
        record(400, 0);
        return json(res, 400, errorBody('action_request_validation_exception', 'Validation Failed: 1: index is missing;', 400));
      }
      if (op === 'delete') {
        items.push({ delete: { _index: index, _id: meta._id, status: 404, result: 'not_found' } });
        continue;
      }
      const docLine = lines[++i];
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(docLine ?? '') as Record<string, unknown>;
      } catch {
        errors = true;
        items.push({ [op]: this.itemError(index, meta._id, 400, 'document_parsing_exception', `[1:1] failed to parse: document is not JSON`) });
        continue;
      }
      const item = this.indexOne(op, index, meta._id, doc);
      if ('error' in item) errors = true;
      items.push({ [op]: item });
    }
    record(200, items.length);
    const filter = url.searchParams.get('filter_path');
    const answer = { took: 3, errors, items };
    json(res, 200, filter ? applyFilterPath(answer, filter) : answer);
  }

  private indexOne(op: string, index: string, givenId: string | undefined, doc: Record<string, unknown>): Record<string, unknown> {
    const id = givenId ?? Math.random().toString(36).slice(2, 22);
    const dataStream = (this.options.isDataStream ?? ((n: string) => /^[a-z]+-[^-]+-[^-]+$/.test(n)))(index);
    const concrete = dataStream ? `.ds-${index}-2026.01.02-000001` : index;
    const seen = this.seen.get(id) ?? 0;
    this.seen.set(id, seen + 1);
    if (dataStream && op !== 'create') {
      return this.itemError(concrete, id, 400, 'illegal_argument_exception', `only write ops with an op_type of create are allowed in data streams`);
    }
    if (dataStream && doc['@timestamp'] === undefined) {
      return this.itemError(concrete, id, 400, this.parsingType(), `[1:2] failed to parse: data stream timestamp field [@timestamp] is missing`);
    }
    const scripted = this.options.itemStatus?.(doc, { op, index, id, seen });
    if (scripted !== undefined && scripted !== 200 && scripted !== 201) {
      const [type, reason] = scriptedError(scripted, id, this.flavor, this.parsingType());
      return this.itemError(concrete, id, scripted, type, reason);
    }
    let store = this.indices.get(index);
    if (!store) {
      store = new Map();
      this.indices.set(index, store);
    }
    const exists = store.has(id);
    if (exists && op === 'create') {
      return this.itemError(concrete, id, 409, 'version_conflict_engine_exception', `[${id}]: version conflict, document already exists (current version [1])`);
    }
    store.set(id, this.options.retain === false ? EMPTY : doc);
    return { _index: concrete, _id: id, _version: 1, result: exists ? 'updated' : 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: store.size - 1, _primary_term: 1, status: exists ? 200 : 201 };
  }

  private parsingType(): string {
    return this.flavor === 'opensearch' ? 'mapper_parsing_exception' : 'document_parsing_exception';
  }

  private itemError(index: string, id: string | undefined, status: number, type: string, reason: string): Record<string, unknown> {
    return { _index: index, _id: id, status, error: { type, reason, index_uuid: 'aAsFqTI0Tc2W0LCWgPNrOA', index } };
  }

  private root(res: ServerResponse): void {
    if (this.flavor === 'opensearch') {
      return json(res, 200, {
        name: 'opensearch-node1', cluster_name: 'opensearch-cluster', cluster_uuid: 'E1pu2KvJQWqY1ZsYHNk9NQ',
        version: { distribution: 'opensearch', number: '2.19.1', build_type: 'tar', build_hash: 'unknown', build_date: '2025-02-27T01:16:47.726162386Z', build_snapshot: false, lucene_version: '9.12.1', minimum_wire_compatibility_version: '7.10.0', minimum_index_compatibility_version: '7.0.0' },
        tagline: 'The OpenSearch Project: https://opensearch.org/',
      });
    }
    res.setHeader('x-elastic-product', 'Elasticsearch');
    return json(res, 200, {
      name: 'es01', cluster_name: 'docker-cluster', cluster_uuid: 'gE3Ow6ylQUWo8x0XtUfN3w',
      version: { number: '9.1.0', build_flavor: 'default', build_type: 'docker', build_hash: 'unknown', build_date: '2025-07-24T22:04:43.146Z', build_snapshot: false, lucene_version: '10.2.2', minimum_wire_compatibility_version: '8.19.0', minimum_index_compatibility_version: '8.0.0' },
      tagline: 'You Know, for Search',
    });
  }

  /** undefined: no auth configured; string: the principal; false: answered 401. */
  private authenticate(req: IncomingMessage, path: string, res: ServerResponse): string | undefined | false {
    const auth = this.options.auth;
    if (!auth) return undefined;
    const h = req.headers.authorization ?? '';
    const [scheme, cred = ''] = h.split(' ', 2) as [string, string?];
    if (scheme === 'Basic') {
      const [user, ...rest] = Buffer.from(cred, 'base64').toString('utf8').split(':');
      if (user !== undefined && auth.users?.[user] !== undefined && auth.users[user] === rest.join(':')) return user;
      return this.unauthorized(res, `unable to authenticate user [${user ?? ''}] for REST request [${path}]`);
    }
    if (scheme === 'ApiKey') {
      if (auth.apiKeys?.includes(cred)) return cred;
      return this.unauthorized(res, `unable to authenticate with provided credentials and anonymous access is not allowed for this request`);
    }
    if (scheme === 'Bearer') {
      if (auth.bearerTokens?.includes(cred)) return cred;
      return this.unauthorized(res, 'unable to authenticate with provided credentials and anonymous access is not allowed for this request');
    }
    return this.unauthorized(res, `missing authentication credentials for REST request [${path}]`);
  }

  private unauthorized(res: ServerResponse, reason: string): false {
    if (this.flavor === 'opensearch') {
      // The OpenSearch security plugin answers in plain text.
      res.writeHead(401, { 'content-type': 'text/plain; charset=UTF-8', 'www-authenticate': 'Basic realm="OpenSearch Security"' });
      res.end('Unauthorized');
      return false;
    }
    const header = { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'Bearer realm="security"', 'ApiKey'] };
    res.setHeader('www-authenticate', header['WWW-Authenticate']);
    json(res, 401, { error: { root_cause: [{ type: 'security_exception', reason, header }], type: 'security_exception', reason, header }, status: 401 });
    return false;
  }
}

function scriptedError(status: number, id: string, flavor: Flavor, parsing: string): [string, string] {
  if (status === 429) return [flavor === 'opensearch' ? 'rejected_execution_exception' : 'es_rejected_execution_exception', 'rejected execution of primary operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, primary_operation_bytes=512, max_coordinating_and_primary_bytes=1073741824]'];
  if (status === 400) return [parsing, `[1:42] failed to parse field [event.duration] of type [long] in document with id '${id}'. Preview of field's value: 'slow'`];
  if (status === 404) return ['index_not_found_exception', 'no such index [logs-ai_audit-default] and [require_alias] request flag is [true] and [logs-ai_audit-default] is not an alias'];
  if (status === 409) return ['version_conflict_engine_exception', `[${id}]: version conflict, document already exists (current version [1])`];
  if (status === 403) return ['security_exception', 'action [indices:data/write/bulk[s]] is unauthorized for user [writer] on indices [logs-ai_audit-default]'];
  return ['unavailable_shards_exception', `[logs-ai_audit-default][0] primary shard is not active Timeout: [1m]`];
}

function errorBody(type: string, reason: string, status: number): Record<string, unknown> {
  return { error: { root_cause: [{ type, reason }], type, reason }, status };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The subset of filter_path the products support that a bulk client uses: top-level names and items.*.<field>. */
export function applyFilterPath(answer: { took: number; errors: boolean; items: Record<string, unknown>[] }, filter: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const itemFields = new Set<string>();
  for (const f of filter.split(',')) {
    const p = f.trim().split('.');
    if (p.length === 1 && p[0] !== 'items') out[p[0]!] = (answer as unknown as Record<string, unknown>)[p[0]!];
    else if (p[0] === 'items' && p.length === 1) return { ...out, items: answer.items };
    else if (p[0] === 'items' && p[1] === '*' && p[2]) itemFields.add(p[2]);
  }
  if (itemFields.size > 0) {
    out.items = answer.items.map((entry) => {
      const [op, body] = Object.entries(entry)[0] as [string, Record<string, unknown>];
      const kept: Record<string, unknown> = {};
      for (const k of itemFields) if (body[k] !== undefined) kept[k] = body[k];
      return { [op]: kept };
    });
  }
  return out;
}
