import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerConfig } from '../config/types.ts';
import type { HttpHandler, HttpRoutes } from '../core/components.ts';
import { ConfigError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { DaemonMetrics } from './metrics.ts';

/**
 * The daemon's one HTTP server: operator endpoints (/healthz, /readyz, /metrics, /-/reload)
 * and the routes webhook and OTLP sources mount. Exact path match; a source added or removed
 * by a reload mounts or unmounts its path without restarting the listener.
 */
export interface DaemonServer extends HttpRoutes {
  readonly address: { host: string; port: number };
  /**
   * Stops listening, closes idle keep-alive connections at once and waits for requests in
   * progress; at `forceAt` (epoch ms) the connections still open are cut (a sender that got
   * no answer retries, and nothing was acknowledged to it).
   */
  close(forceAt?: number): Promise<void>;
}

export async function startServer(config: ServerConfig, logger: Logger): Promise<DaemonServer> {
  const routes = new Map<string, HttpHandler>();
  let closing = false;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // server.close() waits for every connection, and a keep-alive client (a scraper, a webhook
    // sender) would hold one open for ever by sending on it: once closing, each connection is
    // closed as soon as its response is out.
    if (closing) res.setHeader('connection', 'close');
    res.once('finish', () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const handler = routes.get(path);
    if (handler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no route for ${path}\n`);
      return;
    }
    try {
      handler(req, res);
    } catch (err) {
      logger.error({ path, err: err instanceof Error ? err.message : String(err) }, 'HTTP handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    }
  };
  let server: Server;
  if (config.tls) {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(config.tls.cert_file);
      key = readFileSync(config.tls.key_file);
    } catch (err) {
      throw new ConfigError('tls_unreadable', `server.tls: cannot read certificate or key: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    server = createHttpsServer({ cert, key }, handle);
  } else {
    server = createHttpServer(handle);
  }
  // Webhook senders keep connections alive; idle sockets must not hold shutdown hostage.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ConfigError('listen_failed', `cannot listen on ${config.host}:${config.port}: ${err.code ?? err.message}`, { host: config.host, port: config.port })),
    );
    server.listen(config.port, config.host, () => resolve());
  });
  const info = server.address() as AddressInfo;
  return {
    address: { host: info.address, port: info.port },
    add(path, handler) {
      if (routes.has(path)) throw new ConfigError('route_taken', `HTTP path ${path} is already used by another source`, { path });
      routes.set(path, handler);
    },
    remove(path) {
      routes.delete(path);
    },
    close(forceAt) {
      closing = true;
      return new Promise<void>((resolve) => {
        const force = forceAt !== undefined ? setTimeout(() => server.closeAllConnections(), Math.max(0, forceAt - Date.now())) : undefined;
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

export interface OperatorEndpoints {
  readonly metrics: DaemonMetrics;
  readonly ready: () => { ready: boolean; reasons: string[] };
  /** Undefined when reload over HTTP is disabled. */
  readonly reload: (() => Promise<boolean>) | undefined;
}

export function mountOperatorRoutes(server: HttpRoutes, ops: OperatorEndpoints): void {
  server.add('/healthz', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  });
  server.add('/readyz', (_req, res) => {
    const r = ops.ready();
    res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(r)}\n`);
  });
  server.add('/metrics', (_req, res) => {
    ops.metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': ops.metrics.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  server.add('/-/reload', (req, res) => {
    if (ops.reload === undefined) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('reload over HTTP is disabled (server.enable_reload: false)\n');
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('use POST\n');
      return;
    }
    ops.reload().then(
      (ok) => res.writeHead(ok ? 200 : 400, { 'content-type': 'text/plain' }).end(ok ? 'reloaded\n' : 'reload refused: see the daemon log\n'),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`reload failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
}
