import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a connection we stopped reading stays open after the answer, so the client can read it. */
const LINGER_MS = 2000;

export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The request body was not read to its end (over the size limit): close the connection after
   * the answer instead of draining an unbounded body.
   */
  readonly close?: boolean;
}

export function sendReply(req: IncomingMessage, res: ServerResponse, r: Reply): void {
  if (res.headersSent || res.writableEnded) return;
  const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  const headers: Record<string, string> = { 'content-type': r.contentType, 'content-length': String(body.length), ...r.headers };
  if (r.close) headers.connection = 'close';
  res.writeHead(r.status, headers);
  res.end(body);
  if (r.close) {
    res.once('finish', () => {
      const socket = req.socket;
      const timer = setTimeout(() => socket.destroy(), LINGER_MS);
      timer.unref();
      socket.once('close', () => clearTimeout(timer));
    });
  }
}

/** Retry-After in whole seconds, as HTTP wants it. */
export function retryAfterHeader(seconds: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(seconds))) };
}
