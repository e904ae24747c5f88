import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { silentLogger } from '../../src/core/logger.ts';
import { startServer } from '../../src/daemon/server.ts';

// The daemon's HTTP server must not let a keep-alive client hold the shutdown: server.close()
// waits for every connection, and one that keeps sending on its kept-alive socket (a scraper
// polling /metrics, a webhook sender) used to keep it open for as long as it kept sending.

function get(port: number, agent: Agent, path: string): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('close() ends keep-alive connections as their responses go out, even while a client keeps sending on them', { timeout: 60_000 }, async () => {
  const server = await startServer({ host: '127.0.0.1', port: 0, readySinkFailureThresholdMs: 60_000, enableReload: false }, silentLogger);
  let release: (() => void) | undefined;
  server.add('/slow', (_req, res) => {
    release = () => res.writeHead(200).end('ok\n');
  });
  server.add('/fast', (_req, res) => res.writeHead(200).end('ok\n'));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const { port } = server.address;
  try {
    // A request in progress when the server closes, then more requests on the same socket.
    const slow = get(port, agent, '/slow');
    while (release === undefined) await new Promise((r) => setTimeout(r, 10));
    let closed = false;
    const closing = server.close().then(() => (closed = true));
    release();
    assert.equal((await slow).status, 200);
    const giveUpAt = Date.now() + 15_000;
    while (!closed && Date.now() < giveUpAt) {
      await get(port, agent, '/fast').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(closed, 'the server was still waiting for the kept-alive connection after 15 s of a client sending on it');
    await closing;
  } finally {
    agent.destroy();
  }
});
