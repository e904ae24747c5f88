import type { IncomingMessage } from 'node:http';

export type BodyResult =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly reason: 'body_too_large'; readonly declared?: number }
  | { readonly ok: false; readonly reason: 'aborted' }
  | { readonly ok: false; readonly reason: 'timeout' };

/**
 * Reads a request body of at most `maxBytes`. A declared Content-Length over the limit is
 * refused before a byte is read; a chunked body is cut off as soon as it passes the limit and
 * the rest is never buffered (the caller answers 413 and closes the connection). A body that
 * does not arrive within `timeoutMs` is given up (408), so a slow client cannot hold one of
 * the few request slots for minutes.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs = 30_000): Promise<BodyResult> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const n = Number(declared);
    if (Number.isFinite(n) && n > maxBytes) return Promise.resolve({ ok: false, reason: 'body_too_large', declared: n });
  }
  return new Promise<BodyResult>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const timer = setTimeout(() => settle({ ok: false, reason: 'timeout' }), timeoutMs);
    const settle = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        settle({ ok: false, reason: 'body_too_large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    // 'close' before 'end': the client went away mid-body.
    const onClose = () => settle({ ok: false, reason: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}
