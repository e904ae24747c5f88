// A lean Elasticsearch `_bulk` endpoint for the benchmark, run as its own process so its CPU is
// not counted as agent-audit's. It answers per item like Elasticsearch (201 created, 409 on a
// duplicate `_id` for `create`), counts unique ids, and can stall (hold every request unanswered)
// to measure memory under backpressure. Control: GET /_bench/stats, POST /_bench/stall,
// POST /_bench/resume. With --latency it reads each document's @timestamp and records
// receive-time − @timestamp.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createGunzip } from 'node:zlib';

const args = process.argv.slice(2);
const port = Number(args[args.indexOf('--port') + 1] ?? 0) || 0;
const measureLatency = args.includes('--latency');

const ids = new Set<string>();
let duplicates = 0;
let requests = 0;
let bytes = 0;
let stalled = false;
const held: (() => void)[] = [];
const latencies: number[] = [];

const ID = /"_id"\s*:\s*"([^"]+)"/;
const TS = /"@timestamp"\s*:\s*"([^"]+)"/;

function readBody(req: IncomingMessage): Promise<Buffer> {
  const stream = req.headers['content-encoding'] === 'gzip' ? req.pipe(createGunzip()) : req;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function answerBulk(body: string, res: ServerResponse): void {
  requests++;
  bytes += body.length;
  const now = Date.now();
  const items: string[] = [];
  let start = 0;
  let isAction = true;
  let op = 'create';
  let id = '';
  while (start < body.length) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    const line = body.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    if (isAction) {
      op = line.startsWith('{"index"') ? 'index' : 'create';
      id = ID.exec(line)?.[1] ?? '';
    } else {
      let status = 201;
      if (ids.has(id)) {
        duplicates++;
        status = op === 'create' ? 409 : 200;
      } else ids.add(id);
      if (measureLatency) {
        const ts = TS.exec(line)?.[1];
        if (ts) latencies.push(now - Date.parse(ts));
      }
      items.push(
        status === 409
          ? `{"${op}":{"_index":"logs-ai_audit-default","_id":"${id}","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[${id}]: version conflict, document already exists"}}}`
          : `{"${op}":{"_index":"logs-ai_audit-default","_id":"${id}","_version":1,"result":"created","status":${status}}}`,
      );
    }
    isAction = !isAction;
  }
  const hasErrors = items.some((i) => i.includes('"status":409'));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(`{"took":1,"errors":${hasErrors},"items":[${items.join(',')}]}`);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const server = createServer(async (req, res) => {
  const url = req.url ?? '/';
  if (url.startsWith('/_bench/')) {
    if (url === '/_bench/stats') {
      const sorted = measureLatency ? [...latencies].sort((a, b) => a - b) : [];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ unique: ids.size, duplicates, requests, bytes, stalled, held: held.length, latency: measureLatency ? { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 } : undefined }));
    } else if (url === '/_bench/stall') {
      stalled = true;
      res.end('{}');
    } else if (url === '/_bench/resume') {
      stalled = false;
      for (const release of held.splice(0)) release();
      res.end('{}');
    } else {
      res.writeHead(404).end();
    }
    return;
  }
  if (req.method === 'GET' && (url === '/' || url === '')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: 'bench', cluster_name: 'bench', version: { number: '9.1.0', build_flavor: 'default' }, tagline: 'You Know, for Search' }));
    return;
  }
  if (req.method === 'POST' && url.split('?')[0]!.endsWith('/_bulk')) {
    const body = (await readBody(req)).toString('utf8');
    if (stalled) {
      held.push(() => answerBulk(body, res));
      return;
    }
    answerBulk(body, res);
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":"not found"}');
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => {
  const addr = server.address();
  const p = typeof addr === 'object' && addr ? addr.port : port;
  process.stdout.write(`http://127.0.0.1:${p}\n`);
});
process.on('SIGTERM', () => process.exit(0));
