import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer as createTcpServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';

// A broker front for the mock cluster, for what the mock lacks: TLS listeners and SASL. Clients
// connect here (TLS, optionally requiring a client certificate); the front answers the SASL
// exchange itself as a broker does (SaslHandshake v0/v1, SaslAuthenticate v0/v1, PLAIN and
// SCRAM-SHA-256/512 per RFC 5802 with the proof checked against the configured password), adds
// those two APIs to the broker's ApiVersions answer, rewrites the broker address in Metadata and
// FindCoordinator answers to its own, and forwards every other request to the mock unchanged.
// Until a connection has authenticated, only ApiVersions and the SASL requests are served (a
// broker closes the connection on anything else).

const API = { Metadata: 3, FindCoordinator: 10, SaslHandshake: 17, ApiVersions: 18, SaslAuthenticate: 36 } as const;
const SASL_AUTHENTICATION_FAILED = 58;
const UNSUPPORTED_SASL_MECHANISM = 33;

export type SaslMechanismName = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface AuthFrontOptions {
  /** host:port of the (single) mock broker behind the front. */
  readonly upstream: string;
  readonly tls?: { readonly key: Buffer; readonly cert: Buffer; readonly ca?: Buffer; readonly requireClientCert?: boolean };
  /** Enabled mechanisms and the users they accept; no SASL when absent. */
  readonly sasl?: { readonly mechanisms: readonly SaslMechanismName[]; readonly users: Readonly<Record<string, string>> };
}

export interface Authentication {
  readonly mechanism: SaslMechanismName;
  readonly user: string;
  readonly ok: boolean;
  /** Subject CN of the client certificate, when one was presented. */
  readonly clientCert?: string;
}

/** Cursor over a request or response body. */
class Reader {
  offset = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  str(): string | null {
    const n = this.i16();
    if (n < 0) return null;
    const s = this.buf.toString('utf8', this.offset, this.offset + n);
    this.offset += n;
    return s;
  }
  bytes(): Buffer {
    const n = this.i32();
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
}

const i16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const i32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const str = (s: string | null) => (s === null ? i16(-1) : Buffer.concat([i16(Buffer.byteLength(s)), Buffer.from(s)]));
const bytes = (b: Buffer) => Buffer.concat([i32(b.length), b]);

/** Splits a stream into Kafka frames (int32 size + payload). */
function frames(socket: Socket, onFrame: (payload: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      onFrame(pending.subarray(4, 4 + size));
      pending = pending.subarray(4 + size);
    }
  });
}

function frame(payload: Buffer): Buffer {
  return Buffer.concat([i32(payload.length), payload]);
}

interface ScramState {
  readonly user: string;
  readonly password: string;
  readonly clientFirstBare: string;
  readonly serverFirst: string;
  readonly nonce: string;
  readonly salt: Buffer;
  readonly iterations: number;
}

export class KafkaAuthFront {
  readonly authentications: Authentication[] = [];
  private readonly server: Server;
  private readonly options: AuthFrontOptions;
  private readonly upstreamHost: string;
  private readonly upstreamPort: number;
  private port = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(options: AuthFrontOptions) {
    this.options = options;
    const [host, port] = options.upstream.split(':');
    this.upstreamHost = host!;
    this.upstreamPort = Number(port);
    const onConnection = (client: Socket) => this.serve(client);
    this.server = options.tls
      ? createTlsServer({ key: options.tls.key, cert: options.tls.cert, ...(options.tls.ca ? { ca: options.tls.ca } : {}), requestCert: options.tls.requireClientCert === true, rejectUnauthorized: options.tls.requireClientCert === true }, onConnection)
      : createTcpServer(onConnection);
  }

  static async start(options: AuthFrontOptions): Promise<KafkaAuthFront> {
    const f = new KafkaAuthFront(options);
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    f.port = (f.server.address() as AddressInfo).port;
    return f;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(client: Socket): void {
    this.sockets.add(client);
    const upstream = connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    let authenticated = this.options.sasl === undefined;
    let mechanism: SaslMechanismName | undefined;
    let scram: ScramState | undefined;
    const inflight = new Map<number, { apiKey: number; version: number }>();
    const cn = (client as TLSSocket).getPeerCertificate?.()?.subject?.CN;
    const clientCert = Array.isArray(cn) ? cn[0] : cn;
    const reply = (correlationId: number, body: Buffer) => client.write(frame(Buffer.concat([i32(correlationId), body])));

    frames(client, (req) => {
      const r = new Reader(req);
      const apiKey = r.i16();
      const version = r.i16();
      const correlationId = r.i32();
      r.str(); // client id
      if (apiKey === API.SaslHandshake && this.options.sasl) {
        const wanted = r.str() as SaslMechanismName;
        const enabled = this.options.sasl.mechanisms;
        mechanism = enabled.includes(wanted) ? wanted : undefined;
        reply(correlationId, Buffer.concat([i16(mechanism ? 0 : UNSUPPORTED_SASL_MECHANISM), i32(enabled.length), ...enabled.map((m) => str(m))]));
        return;
      }
      if (apiKey === API.SaslAuthenticate && this.options.sasl && mechanism) {
        const step = this.authenticate(mechanism, r.bytes(), scram, clientCert);
        scram = step.scram;
        if (step.done === true) authenticated = true;
        const body = [i16(step.error ? SASL_AUTHENTICATION_FAILED : 0), str(step.error ?? null), bytes(step.reply)];
        if (version >= 1) body.push(Buffer.alloc(8)); // session_lifetime_ms 0: no re-authentication
        reply(correlationId, Buffer.concat(body));
        if (step.error) client.end();
        return;
      }
      if (!authenticated && apiKey !== API.ApiVersions) {
        close();
        return;
      }
      inflight.set(correlationId, { apiKey, version });
      upstream.write(frame(req));
    });

    frames(upstream, (res) => {
      const correlationId = res.readInt32BE(0);
      const req = inflight.get(correlationId);
      inflight.delete(correlationId);
      client.write(frame(req ? this.rewrite(req.apiKey, req.version, res) : res));
    });
  }

  /** One SaslAuthenticate step; `done` once the client proved it knows the password. */
  private authenticate(m: SaslMechanismName, auth: Buffer, scram: ScramState | undefined, clientCert: string | undefined): { reply: Buffer; done?: boolean; error?: string; scram?: ScramState } {
    const users = this.options.sasl!.users;
    const record = (user: string, ok: boolean) => this.authentications.push({ mechanism: m, user, ok, ...(clientCert ? { clientCert } : {}) });
    if (m === 'PLAIN') {
      const [, user = '', password = ''] = auth.toString('utf8').split('\u0000');
      const ok = users[user] !== undefined && safeEqual(users[user]!, password);
      record(user, ok);
      return ok ? { reply: Buffer.alloc(0), done: true } : { reply: Buffer.alloc(0), error: 'Authentication failed: Invalid username or password' };
    }
    const hash = m === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
    const text = auth.toString('utf8');
    if (!scram) {
      // client-first: "n,,n=<user>,r=<nonce>"
      const bare = text.slice(text.indexOf(',', text.indexOf(',') + 1) + 1);
      const attrs = parseAttrs(bare);
      const user = (attrs.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
      const password = users[user];
      if (password === undefined) {
        record(user, false);
        return { reply: Buffer.alloc(0), error: 'Authentication failed during authentication due to invalid credentials with SASL mechanism ' + m };
      }
      const nonce = `${attrs.r}${randomBytes(18).toString('base64')}`;
      const salt = randomBytes(16);
      const iterations = 4096;
      const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
      return { reply: Buffer.from(serverFirst), scram: { user, password, clientFirstBare: bare, serverFirst, nonce, salt, iterations } };
    }
    // client-final: "c=<cbind>,r=<nonce>,p=<proof>"
    const withoutProof = text.slice(0, text.lastIndexOf(',p='));
    const attrs = parseAttrs(text);
    const salted = pbkdf2Sync(scram.password, scram.salt, scram.iterations, hash === 'sha256' ? 32 : 64, hash);
    const clientKey = createHmac(hash, salted).update('Client Key').digest();
    const storedKey = createHash(hash).update(clientKey).digest();
    const authMessage = `${scram.clientFirstBare},${scram.serverFirst},${withoutProof}`;
    const signature = createHmac(hash, storedKey).update(authMessage).digest();
    const expected = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    const proof = Buffer.from(attrs.p ?? '', 'base64');
    const ok = attrs.r === scram.nonce && proof.length === expected.length && timingSafeEqual(proof, expected);
    record(scram.user, ok);
    if (!ok) return { reply: Buffer.alloc(0), error: 'Authentication failed during authentication due to invalid credentials with SASL mechanism ' + m };
    const serverKey = createHmac(hash, salted).update('Server Key').digest();
    const serverSignature = createHmac(hash, serverKey).update(authMessage).digest('base64');
    return { reply: Buffer.from(`v=${serverSignature}`), done: true };
  }

  /** Adds the SASL APIs to ApiVersions; points Metadata and FindCoordinator at this front. */
  private rewrite(apiKey: number, version: number, res: Buffer): Buffer {
    const r = new Reader(res);
    const correlationId = r.i32();
    const head = i32(correlationId);
    if (apiKey === API.ApiVersions && this.options.sasl && version <= 2) {
      const error = r.i16();
      const n = r.i32();
      const entries: Buffer[] = [];
      for (let k = 0; k < n; k++) entries.push(res.subarray(r.offset + k * 6, r.offset + k * 6 + 6));
      r.offset += n * 6;
      const extra = [Buffer.concat([i16(API.SaslHandshake), i16(0), i16(1)]), Buffer.concat([i16(API.SaslAuthenticate), i16(0), i16(1)])];
      return Buffer.concat([head, i16(error), i32(n + extra.length), ...entries, ...extra, res.subarray(r.offset)]);
    }
    if (apiKey === API.Metadata && version >= 1 && version <= 8) {
      const throttle = version >= 3 ? res.subarray(r.offset, (r.offset += 4)) : Buffer.alloc(0);
      const n = r.i32();
      const brokers: Buffer[] = [];
      for (let k = 0; k < n; k++) {
        const nodeId = r.i32();
        r.str();
        r.i32();
        const rack = r.str();
        brokers.push(Buffer.concat([i32(nodeId), str('127.0.0.1'), i32(this.port), str(rack)]));
      }
      return Buffer.concat([head, throttle, i32(n), ...brokers, res.subarray(r.offset)]);
    }
    if (apiKey === API.FindCoordinator && version <= 2) {
      const start = r.offset;
      if (version >= 1) {
        r.i32();
        r.i16();
        r.str();
      } else r.i16();
      const prefix = res.subarray(start, r.offset);
      const nodeId = r.i32();
      r.str();
      r.i32();
      return Buffer.concat([head, prefix, i32(nodeId), str('127.0.0.1'), i32(this.port), res.subarray(r.offset)]);
    }
    return res;
  }
}

function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of s.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
