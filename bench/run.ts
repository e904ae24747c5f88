// `npm run bench`: end-to-end throughput, CPU and memory of the real `agent-audit run`
// process (file source → normalize + redact + validate → spool with fsync always → ECS →
// Elasticsearch `_bulk` into a local endpoint in another process), repeated and summarised as
// median and spread; plus memory under backpressure, write-to-delivered latency at a steady
// rate, and (with --stages) the per-stage micro-benchmarks in bench/stages/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, appendFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { generateFile, makeRecord, prng } from './generate.ts';
import { cpuSeconds, memory } from './proc.ts';

const root = resolve(import.meta.dirname, '..');
const { values: opt } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    'backpressure-events': { type: 'string' },
    'latency-rate': { type: 'string', default: '5000' },
    'latency-seconds': { type: 'string', default: '20' },
    stages: { type: 'boolean', default: false },
    only: { type: 'string' },
    'results-dir': { type: 'string', default: join(root, 'bench', 'results') },
    help: { type: 'boolean', short: 'h' },
  },
});
if (opt.help) {
  process.stdout.write(`Usage: npm run bench -- [--events N] [--runs R] [--stages] [--only e2e,backpressure,latency]
  --events N               events per end-to-end run (default 1,000,000)
  --runs R                 repetitions; median and spread are reported (default 3)
  --backpressure-events N  events for the stalled-endpoint memory run (default = --events)
  --latency-rate R         steady write rate for the latency run, events/s (default 5000)
  --latency-seconds S      duration of the latency run (default 20)
  --stages                 also run the stage benchmarks in bench/stages/
`);
  process.exit(0);
}

const EVENTS = Number(opt.events);
const RUNS = Number(opt.runs);
const BP_EVENTS = Number(opt['backpressure-events'] ?? EVENTS);
const only = new Set((opt.only ?? 'e2e,backpressure,latency').split(','));
// The same entry point a user runs (TypeScript sources, types stripped by Node).
const daemonEntry = join(root, 'bin', 'agent-audit.js');
const work = mkdtempSync(join(tmpdir(), 'agent-audit-bench-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Endpoint {
  readonly url: string;
  readonly proc: ChildProcess;
  stats(): Promise<{ unique: number; duplicates: number; requests: number; bytes: number; latency?: { count: number; p50: number; p99: number; max: number } }>;
  control(action: 'stall' | 'resume'): Promise<void>;
  stop(): void;
}

async function startEndpoint(latency = false): Promise<Endpoint> {
  const proc = spawn(process.execPath, [join(root, 'bench', 'bulk-endpoint.ts'), '--port', '0', ...(latency ? ['--latency'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((res, rej) => {
    createInterface({ input: proc.stdout! }).once('line', res);
    proc.once('exit', (c) => rej(new Error(`endpoint exited with ${c}`)));
  });
  return {
    url,
    proc,
    stats: async () => (await fetch(`${url}/_bench/stats`)).json() as ReturnType<Endpoint['stats']>,
    control: async (action) => {
      await fetch(`${url}/_bench/${action}`, { method: 'POST' });
    },
    stop: () => proc.kill('SIGTERM'),
  };
}

function writeConfig(dir: string, input: string, endpointUrl: string, extra = ''): string {
  const file = join(dir, 'agent-audit.yaml');
  // The production defaults: fsync always, payload hashing + redaction, schema validation.
  writeFileSync(
    file,
    `data_dir: ${join(dir, 'data')}
log_level: warn
server:
  address: 127.0.0.1:0
spool:
  fsync: always
${extra}
sources:
  gateway:
    type: file
    include: ["${input}"]
    start_at: beginning
    format: generic_gateway
sinks:
  elasticsearch:
    type: elasticsearch
    encoding: ecs
    endpoint: ${endpointUrl}
`,
  );
  return file;
}

function startDaemon(config: string): ChildProcess {
  return spawn(process.execPath, [daemonEntry, 'run', '--config', config], { stdio: ['ignore', 'inherit', 'inherit'] });
}

async function stopDaemon(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

interface E2eRun {
  events: number;
  seconds: number;
  eventsPerSec: number;
  mbPerSec: number;
  cpuSecondsPerMillion: number;
  peakRssMb: number;
  duplicates: number;
}

async function e2eRun(input: string, inputBytes: number, i: number): Promise<E2eRun> {
  const dir = join(work, `e2e-${i}`);
  mkdirSync(dir);
  const endpoint = await startEndpoint();
  const daemon = startDaemon(writeConfig(dir, input, endpoint.url));
  const started = process.hrtime.bigint();
  let peak = 0;
  let cpu = 0;
  try {
    for (;;) {
      await sleep(100);
      if (daemon.exitCode !== null) throw new Error(`agent-audit exited early with status ${daemon.exitCode}`);
      const m = memory(daemon.pid!);
      peak = Math.max(peak, m.peakRss);
      cpu = cpuSeconds(daemon.pid!);
      const s = await endpoint.stats();
      if (s.unique >= EVENTS) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        return {
          events: s.unique,
          seconds,
          eventsPerSec: s.unique / seconds,
          mbPerSec: inputBytes / 1e6 / seconds,
          cpuSecondsPerMillion: (cpu / s.unique) * 1e6,
          peakRssMb: peak / 1e6,
          duplicates: s.duplicates,
        };
      }
    }
  } finally {
    await stopDaemon(daemon);
    endpoint.stop();
  }
}

async function backpressureRun(input: string): Promise<Record<string, number>> {
  const dir = join(work, 'backpressure');
  mkdirSync(dir);
  const endpoint = await startEndpoint();
  await endpoint.control('stall');
  const daemon = startDaemon(writeConfig(dir, input, endpoint.url));
  const samples: { t: number; rss: number; spool: number }[] = [];
  const t0 = Date.now();
  try {
    // Feed the whole input while nothing is delivered; stop when the spool stops growing.
    let lastSpool = -1;
    let still = 0;
    while (still < 20) {
      await sleep(250);
      if (daemon.exitCode !== null) throw new Error(`agent-audit exited early with status ${daemon.exitCode}`);
      const spool = dirBytes(join(dir, 'data'));
      samples.push({ t: Date.now() - t0, rss: memory(daemon.pid!).rss, spool });
      still = spool === lastSpool ? still + 1 : 0;
      lastSpool = spool;
    }
    const stalledPeak = memory(daemon.pid!).peakRss;
    await endpoint.control('resume');
    for (;;) {
      await sleep(200);
      if ((await endpoint.stats()).unique >= BP_EVENTS) break;
      if (daemon.exitCode !== null) throw new Error(`agent-audit exited early with status ${daemon.exitCode}`);
    }
    // RSS flatness: compare the second half of the stalled period with the first.
    const half = samples.slice(Math.floor(samples.length / 2));
    const firstHalf = samples.slice(0, Math.floor(samples.length / 2));
    const max = (xs: typeof samples) => Math.max(...xs.map((s) => s.rss));
    return {
      events: BP_EVENTS,
      spoolBytesWhileStalled: Math.max(...samples.map((s) => s.spool)),
      rssMbFirstHalf: max(firstHalf) / 1e6,
      rssMbSecondHalf: max(half) / 1e6,
      peakRssMbWhileStalled: stalledPeak / 1e6,
      peakRssMbOverall: memory(daemon.pid!).peakRss / 1e6,
    };
  } finally {
    await stopDaemon(daemon);
    endpoint.stop();
  }
}

async function latencyRun(): Promise<Record<string, number>> {
  const dir = join(work, 'latency');
  mkdirSync(dir);
  const input = join(dir, 'live.jsonl');
  closeSync(openSync(input, 'a'));
  const endpoint = await startEndpoint(true);
  const daemon = startDaemon(writeConfig(dir, input, endpoint.url));
  const rate = Number(opt['latency-rate']);
  const seconds = Number(opt['latency-seconds']);
  const total = rate * seconds;
  const rand = prng(7);
  try {
    await sleep(1500); // let the daemon discover the file before the clock starts
    const t0 = Date.now();
    let written = 0;
    // Writes in 10 ms ticks: each line's timestamp is the time it is written.
    while (written < total) {
      const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
      let chunk = '';
      for (; written < due; written++) {
        const rec = JSON.parse(makeRecord(rand, written, 0).line) as Record<string, unknown>;
        rec.timestamp = new Date().toISOString();
        chunk += JSON.stringify(rec) + '\n';
      }
      if (chunk) appendFileSync(input, chunk);
      await sleep(10);
    }
    for (;;) {
      await sleep(200);
      const s = await endpoint.stats();
      if (s.unique >= total) return { rate, events: total, p50Ms: s.latency!.p50, p99Ms: s.latency!.p99, maxMs: s.latency!.max };
      if (daemon.exitCode !== null) throw new Error(`agent-audit exited early with status ${daemon.exitCode}`);
    }
  } finally {
    await stopDaemon(daemon);
    endpoint.stop();
  }
}

async function stageRuns(): Promise<Record<string, unknown>> {
  const dir = join(root, 'bench', 'stages');
  const out: Record<string, unknown> = {};
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const name = f.replace(/\.ts$/, '');
    const text = await new Promise<string>((res) => {
      const p = spawn(process.execPath, [join(dir, f)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let buf = '';
      p.stdout!.on('data', (c: Buffer) => (buf += c.toString()));
      p.on('exit', () => res(buf));
    });
    process.stdout.write(`\n== stage ${name}\n${text}`);
    const jsonLine = text.split('\n').reverse().find((l) => l.startsWith('{'));
    out[name] = jsonLine ? (JSON.parse(jsonLine) as unknown) : { output: text.trim() };
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function summarise(runs: E2eRun[]): Record<string, { median: number; min: number; max: number }> {
  const keys = ['eventsPerSec', 'mbPerSec', 'cpuSecondsPerMillion', 'peakRssMb', 'seconds'] as const;
  const out: Record<string, { median: number; min: number; max: number }> = {};
  for (const k of keys) {
    const xs = runs.map((r) => r[k]);
    out[k] = { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
  }
  return out;
}

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  events: EVENTS,
  runs: RUNS,
};
try {
  const input = join(work, 'input.jsonl');
  const gen = await generateFile(input, Math.max(EVENTS, BP_EVENTS));
  results.input = { bytes: gen.bytes, recordsWithSecrets: gen.secrets };
  if (only.has('e2e')) {
    const runs: E2eRun[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await e2eRun(input, gen.bytes, i);
      runs.push(r);
      process.stdout.write(`run ${i + 1}/${RUNS}: ${Math.round(r.eventsPerSec)} events/s, ${r.cpuSecondsPerMillion.toFixed(1)} CPU-s/M, peak RSS ${r.peakRssMb.toFixed(0)} MB\n`);
    }
    results.e2e = { runs, summary: summarise(runs) };
  }
  if (only.has('backpressure')) results.backpressure = await backpressureRun(input);
  if (only.has('latency')) results.latency = await latencyRun();
  if (opt.stages) results.stages = await stageRuns();
} finally {
  rmSync(work, { recursive: true, force: true });
}

const e2e = results.e2e as { summary: ReturnType<typeof summarise> } | undefined;
let table = `\nagent-audit benchmark (${EVENTS.toLocaleString('en-US')} events, ${RUNS} runs, ${cpus().length} cores, Node ${process.version})\n`;
if (e2e) {
  const s = e2e.summary;
  const row = (label: string, v: { median: number; min: number; max: number }, d = 0) => `  ${label.padEnd(24)} ${v.median.toFixed(d).padStart(10)}   (min ${v.min.toFixed(d)}, max ${v.max.toFixed(d)})\n`;
  table += row('events/s', s.eventsPerSec!) + row('MB/s', s.mbPerSec!, 1) + row('CPU-s per 1M events', s.cpuSecondsPerMillion!, 1) + row('peak RSS (MB)', s.peakRssMb!) + row('wall time (s)', s.seconds!, 1);
}
if (results.backpressure) table += `  backpressure: ${JSON.stringify(results.backpressure)}\n`;
if (results.latency) table += `  latency: ${JSON.stringify(results.latency)}\n`;
process.stdout.write(table);
mkdirSync(opt['results-dir']!, { recursive: true });
const out = join(opt['results-dir']!, `bench-${(results.date as string).replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
process.stdout.write(`results: ${out}\n`);
