import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { AgentAuditError } from '../../core/errors.ts';

// A small HTTP client for the sinks: one keep-alive agent per sink (connections are reused
// across batches, which matters at tens of thousands of events per second), whole-body
// responses (HEC and _bulk answers are small JSON documents), and errors that name the host
// but never a credential.

export interface TlsSettings {
  /** PEM bundle of CAs to trust in addition to nothing else (replaces the system store). */
  readonly ca?: Buffer;
  /** false only when the operator set insecure_skip_verify. */
  readonly rejectUnauthorized: boolean;
}

export interface HttpClientOptions {
  readonly tls?: TlsSettings;
  /** Whole request (connect + upload + response) must finish within this. */
  readonly timeoutMs: number;
  readonly maxSockets?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The request never produced an HTTP response (refused, reset, DNS, TLS, timeout). */
export class HttpTransportError extends AgentAuditError {}

export class HttpClient {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;
  private readonly timeoutMs: number;

  constructor(options: HttpClientOptions) {
    this.timeoutMs = options.timeoutMs;
    const maxSockets = options.maxSockets ?? 8;
    this.http = new HttpAgent({ keepAlive: true, maxSockets });
    this.https = new HttpsAgent({
      keepAlive: true,
      maxSockets,
      ...(options.tls?.ca ? { ca: options.tls.ca } : {}),
      rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
    });
  }

  request(method: string, url: URL, headers: OutgoingHttpHeaders, body?: Buffer): Promise<HttpResponse> {
    const secure = url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    const where = redactUrl(url);
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          agent: secure ? this.https : this.http,
          headers: body ? { ...headers, 'content-length': body.length } : headers,
          timeout: this.timeoutMs,
          // Credentials travel in headers set by the caller, never in the URL.
          auth: undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
          res.on('error', (err) => reject(transportError(err, method, where)));
        },
      );
      // `timeout` is idle time on the socket; a response that trickles in forever is cut too.
      const deadline = setTimeout(() => req.destroy(new HttpTransportError('http_timeout', `${method} ${where}: no response within ${this.timeoutMs} ms`, { url: where })), this.timeoutMs);
      req.on('timeout', () => req.destroy(new HttpTransportError('http_timeout', `${method} ${where}: no response within ${this.timeoutMs} ms`, { url: where })));
      req.on('error', (err) => {
        clearTimeout(deadline);
        reject(transportError(err, method, where));
      });
      req.on('close', () => clearTimeout(deadline));
      req.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

function transportError(err: Error, method: string, where: string): HttpTransportError {
  if (err instanceof HttpTransportError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  return new HttpTransportError('http_transport', `${method} ${where}: ${describe(code, err.message)}`, { url: where, errno: code }, { cause: err });
}

function describe(code: string, message: string): string {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the service running and the port right?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name does not resolve';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `TLS certificate not trusted (${code}): set tls.ca_file to the CA that signed it`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return 'TLS certificate does not match the host name';
    default:
      return message || code;
  }
}

/** The URL without user info or query string, for messages and logs. */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Retry-After as seconds or an HTTP date → ms, undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Parses a JSON body, undefined when it is not JSON (a proxy's HTML error page, say). */
export function jsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** First `max` characters of a body for an error message. */
export function bodySnippet(body: Buffer, max = 300): string {
  const s = body.toString('utf8', 0, Math.min(body.length, max * 4)).replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** `base` with `path` appended to its path (a base of "https://h:8088" or "https://h/splunk/" both work). */
export function joinPath(base: URL, path: string, query?: string): URL {
  const url = new URL(base.href);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  if (query !== undefined) url.search = query;
  return url;
}
