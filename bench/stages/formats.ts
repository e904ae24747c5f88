// Stage benchmark: canonical → ECS and canonical → OCSF on the fixture mix (every event of the 13
// format fixtures, payload mode hash, with chain links as the spool adds them): encode alone,
// encode + JSON.stringify (what a sink does), and decode (what `verify` does on an export).
// Usage: node bench/stages/formats.ts [--events N] → table + a JSON line, bench/results/formats.json
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { createDecoder, createEncoder } from '../../src/formats/index.ts';
import { createNormalizer } from '../../src/normalize/index.ts';
import { link, newChain } from '../../src/queue/chain.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '300000' } } });
const EVENTS = Number(values.events);
const root = resolve(import.meta.dirname, '..', '..');

function fixtureMix(): AuditEvent[] {
  const dir = join(root, 'test', 'fixtures', 'formats');
  const normalizer = createNormalizer({ policy: { payloadMode: 'hash' } });
  let chain = newChain();
  const out: AuditEvent[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    let offset = 0;
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
      const bytes = Buffer.from(line);
      if (line.trim() !== '') {
        const r = normalizer.normalize({ source: 'bench', input: 'file', position: { kind: 'file', path: name, fileId: name, offset }, bytes, receivedAt: Date.now() });
        for (const e of r.events) {
          const l = link(e, chain);
          chain = l.state;
          out.push(l.event);
        }
      }
      offset += bytes.length + 1;
    }
  }
  return out;
}

function rate(label: string, n: number, run: (i: number) => unknown): { cpu: number; wall: number } {
  for (let i = 0; i < 50000; i++) run(i); // warm-up: let V8 optimize the generated code
  // Median of 5 rounds: a round that a neighbour's burst or a GC landed on does not decide.
  const cpu: number[] = [];
  const wall: number[] = [];
  const per = Math.ceil(n / 5);
  for (let r = 0; r < 5; r++) {
    let sink = 0;
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < per; i++) if (run(i) !== undefined) sink++;
    const w = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    if (sink !== per) throw new Error(`${label}: ${per - sink} runs returned nothing`);
    cpu.push(per / ((c.user + c.system) / 1e6));
    wall.push(per / w);
  }
  const median = (xs: number[]) => Math.round(xs.sort((a, b) => a - b)[2]!);
  return { cpu: median(cpu), wall: median(wall) };
}

/**
 * Events per second of CPU time of the process (user + system): on a shared machine wall time
 * measures the neighbours as much as the code. The wall-clock rate is reported beside it.
 */
const mix = fixtureMix();
const results: Record<string, number | string>[] = [];
for (const target of ['ecs', 'ocsf'] as const) {
  const encoder = createEncoder(target);
  const decoder = createDecoder(target);
  const docs = mix.map((e) => JSON.parse(JSON.stringify(encoder.encode(e))) as Record<string, unknown>);
  const bytes = docs.reduce((s, d) => s + JSON.stringify(d).length, 0) / docs.length;
  const encode = rate(`${target} encode`, EVENTS, (i) => encoder.encode(mix[i % mix.length]!));
  const encodeStringify = rate(`${target} encode+stringify`, EVENTS, (i) => JSON.stringify(encoder.encode(mix[i % mix.length]!)));
  const decode = rate(`${target} decode`, EVENTS, (i) => decoder.decode(docs[i % docs.length]!));
  results.push({
    target: `canonical→${target}`,
    version: encoder.version,
    encode_events_per_cpu_s: encode.cpu,
    encode_stringify_events_per_cpu_s: encodeStringify.cpu,
    decode_events_per_cpu_s: decode.cpu,
    encode_events_per_wall_s: encode.wall,
    mean_document_bytes: Math.round(bytes),
  });
}
const canonicalStringify = rate('canonical stringify', EVENTS, (i) => JSON.stringify(mix[i % mix.length]!)).cpu;
for (const r of results) process.stdout.write(`${Object.entries(r).map(([k, v]) => `${k}=${v}`).join('  ')}\n`);
process.stdout.write(`canonical JSON.stringify alone (reference): ${canonicalStringify} events/cpu-s\n`);
const out = { stage: 'formats', events: EVENTS, fixture_events: mix.length, canonical_stringify_events_per_cpu_s: canonicalStringify, results };
const resultsDir = resolve(import.meta.dirname, '..', 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'formats.json'), `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(out)}\n`);
