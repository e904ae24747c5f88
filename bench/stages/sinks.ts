// Stage benchmark: events/s from a sink's send() into each faithful local endpoint
// (Elasticsearch _bulk with ECS, Splunk HEC with OCSF, with and without gzip, with acks,
// CloudWatch Logs PutLogEvents through the AWS SDK with SigV4), plus
// the request count and mean batch size the endpoint saw. The endpoints run in a worker thread
// so their parsing does not eat the sink's core; the sink runs as the delivery runner drives
// it: one batch of `limits.maxEvents` at a time. Events are real canonical events from the
// benchmark generator through the normalizer (not timed).
// Usage: node bench/stages/sinks.ts [--events N]   → prints a table and a JSON line, writes bench/results/sinks.json
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import type { Encoder, EncodingName } from '../../src/core/encoder.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { Sink } from '../../src/core/sink.ts';
import type { SinkBlock } from '../../src/config/types.ts';

type Kind = 'elasticsearch' | 'splunk_hec' | 'cloudwatch_logs';
interface Stats {
  readonly requests: number;
  readonly delivered: number;
}

if (!isMainThread) {
  // ---- endpoint thread ----
  const kind = (workerData as { kind: Kind }).kind;
  if (kind === 'elasticsearch') {
    const { ElasticsearchEndpoint } = await import('../../test/endpoints/elasticsearch-bulk.ts');
    const es = await ElasticsearchEndpoint.start({ retain: false });
    parentPort!.on('message', (m: string) => {
      if (m === 'stats') {
        let delivered = 0;
        for (const docs of es.indices.values()) delivered += docs.size;
        parentPort!.postMessage({ requests: es.requests.length, delivered } satisfies Stats);
      } else if (m === 'close') void es.close().then(() => process.exit(0));
    });
    parentPort!.postMessage(es.url);
  } else if (kind === 'cloudwatch_logs') {
    const { CloudWatchLogsEndpoint } = await import('../../test/endpoints/cloudwatch-logs.ts');
    const cwl = await CloudWatchLogsEndpoint.start({ retain: false });
    parentPort!.on('message', (m: string) => {
      // Requests = PutLogEvents calls (the one-off CreateLogGroup/CreateLogStream are not batches).
      if (m === 'stats') parentPort!.postMessage({ requests: cwl.puts().length, delivered: cwl.stored } satisfies Stats);
      else if (m === 'close') void cwl.close().then(() => process.exit(0));
    });
    parentPort!.postMessage(cwl.url);
  } else {
    const { SplunkHecEndpoint } = await import('../../test/endpoints/splunk-hec.ts');
    const hec = await SplunkHecEndpoint.start({ tokens: { bench: {}, acked: { ack: true } }, retain: false });
    parentPort!.on('message', (m: string) => {
      if (m === 'stats') parentPort!.postMessage({ requests: hec.requests.length, delivered: hec.indexed } satisfies Stats);
      else if (m === 'close') void hec.close().then(() => process.exit(0));
    });
    parentPort!.postMessage(hec.url);
  }
} else {
  await main();
}

interface EndpointThread {
  readonly url: string;
  stats(): Promise<Stats>;
  close(): Promise<void>;
}

async function startEndpoint(kind: Kind): Promise<EndpointThread> {
  const w = new Worker(new URL(import.meta.url), { workerData: { kind } });
  const url = await new Promise<string>((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
  });
  return {
    url,
    stats: () =>
      new Promise<Stats>((res) => {
        w.once('message', res);
        w.postMessage('stats');
      }),
    close: async () => {
      const exited = new Promise((r) => w.once('exit', r));
      w.postMessage('close');
      await exited;
    },
  };
}

async function loadEvents(n: number): Promise<AuditEvent[]> {
  const { makeRecord, prng } = await import('../generate.ts');
  const { createNormalizer } = await import('../../src/normalize/index.ts');
  const normalizer = createNormalizer({ defaultFormat: 'generic_gateway', host: 'bench-host' });
  const rand = prng(42);
  const out: AuditEvent[] = [];
  const base = Date.UTC(2026, 0, 1);
  for (let i = 0; out.length < n; i++) {
    const line = makeRecord(rand, i, base).line;
    const r = normalizer.normalize({ source: 'gateway', input: 'file', position: { kind: 'file', path: '/bench/input.jsonl', fileId: 'bench', offset: i * 600 }, bytes: Buffer.from(line) } as never);
    out.push(...r.events);
  }
  return out.slice(0, n);
}

/** The real encoder when src/formats has it, otherwise canonical (reported as such). */
async function encoderFor(name: EncodingName): Promise<Encoder> {
  const { createEncoder } = await import('../../src/formats/index.ts');
  try {
    return createEncoder(name);
  } catch {
    return createEncoder('canonical');
  }
}

/**
 * The generator's events are dated 2026-01-01; CloudWatch refuses events older than 14 days,
 * so its case gets the same events re-dated to the last hour (1 ms apart, in order).
 */
function recent(events: readonly AuditEvent[]): AuditEvent[] {
  const start = Date.now() - 3_600_000;
  return events.map((e, i) => ({ ...e, event: { ...e.event, time: new Date(start + (i % 3_000_000)).toISOString() } }));
}

interface Case {
  readonly label: string;
  readonly kind: Kind;
  readonly encoding: EncodingName;
  readonly block: Record<string, unknown>;
}

async function runCase(c: Case, input: readonly AuditEvent[], stateRoot: string): Promise<Record<string, unknown>> {
  let events = input;
  const endpoint = await startEndpoint(c.kind);
  const encoder = await encoderFor(c.encoding);
  const block = { type: c.kind, encoding: encoder.name, start_at: 'oldest', endpoint: endpoint.url, ...c.block } as SinkBlock;
  const factory =
    c.kind === 'elasticsearch'
      ? (await import('../../src/sinks/elasticsearch/index.ts')).createElasticsearchSink
      : c.kind === 'cloudwatch_logs'
        ? (await import('../../src/sinks/cloudwatch-logs/index.ts')).createCloudWatchLogsSink
        : (await import('../../src/sinks/splunk-hec/index.ts')).createSplunkHecSink;
  if (c.kind === 'cloudwatch_logs') events = recent(events);
  const stateDir = join(stateRoot, c.label.replace(/\W+/g, '_'));
  mkdirSync(stateDir, { recursive: true });
  const sink: Sink = factory('bench', block, { logger: silentLogger, encoder, stateDir });
  await sink.start(silentLogger);
  const size = sink.limits.maxEvents;
  // Warm-up (JIT, connections), not counted.
  await sink.send(events.slice(0, Math.min(size, events.length)));
  const before = await endpoint.stats();
  const cpu0 = process.threadCpuUsage?.() ?? process.cpuUsage();
  const t0 = performance.now();
  let accepted = 0;
  for (let i = 0; i < events.length; i += size) {
    const r = await sink.send(events.slice(i, i + size));
    for (const o of r.outcomes) if (o.status === 'accepted') accepted++;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = process.threadCpuUsage?.(cpu0) ?? process.cpuUsage(cpu0);
  const after = await endpoint.stats();
  await sink.close();
  await endpoint.close();
  const requests = after.requests - before.requests;
  return {
    case: c.label,
    encoding: encoder.name,
    events: events.length,
    accepted,
    eventsPerSec: Math.round(events.length / seconds),
    requests,
    // Documents per request as the endpoint counted requests (splits would show up here).
    meanBatch: requests > 0 ? Math.round(events.length / requests) : 0,
    newDocuments: after.delivered - before.delivered,
    sinkCpuUsPerEvent: Number(((cpu1.user + cpu1.system) / events.length).toFixed(2)),
    seconds: Number(seconds.toFixed(2)),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '100000' } } });
  const n = Number(values.events);
  const events = await loadEvents(n);
  const stateRoot = mkdtempSync(join(tmpdir(), 'bench-sinks-'));
  const cases: Case[] = [
    { label: 'elasticsearch ecs', kind: 'elasticsearch', encoding: 'ecs', block: {} },
    { label: 'elasticsearch ecs gzip', kind: 'elasticsearch', encoding: 'ecs', block: { compression: 'gzip' } },
    { label: 'splunk_hec ocsf gzip', kind: 'splunk_hec', encoding: 'ocsf', block: { token: 'bench' } },
    { label: 'splunk_hec ocsf', kind: 'splunk_hec', encoding: 'ocsf', block: { token: 'bench', compression: 'none' } },
    { label: 'splunk_hec ocsf ack', kind: 'splunk_hec', encoding: 'ocsf', block: { token: 'acked', ack: true, ack_poll_interval: '10ms' } },
    {
      label: 'cloudwatch_logs ocsf',
      kind: 'cloudwatch_logs',
      encoding: 'ocsf',
      block: { region: 'us-east-1', access_key_id: 'AKIALOCALTESTKEY0001', secret_access_key: 'local/secret/access/key/for/tests/only0000', log_group: '/agent-audit/bench', log_stream: 'bench', create_log_group: true },
    },
  ];
  const rows: Record<string, unknown>[] = [];
  try {
    for (const c of cases) {
      const row = await runCase(c, events, stateRoot);
      rows.push(row);
      process.stdout.write(`${String(row.case).padEnd(26)} ${String(row.encoding).padEnd(9)} ${String(row.eventsPerSec).padStart(8)} events/s  ${String(row.requests).padStart(5)} requests  mean batch ${row.meanBatch}  sink CPU ${row.sinkCpuUsPerEvent} µs/event\n`);
    }
  } finally {
    rmSync(stateRoot, { recursive: true, force: true });
  }
  const result = { stage: 'sinks', date: new Date().toISOString(), host: hostname(), node: process.version, events: n, cases: rows };
  const dir = resolve(import.meta.dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sinks.json'), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
