// Stage benchmark: spool append + read throughput for ~1 KB events, fsync `always` (appends
// grouped as concurrent sources produce them) and `interval`, with the p99 time from append
// to durable (under `interval`: until the first fsync begun after the append was written). Usage: node bench/stages/spool.ts [--events N] → table + a JSON line, bench/results/spool.json
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { Spool } from '../../src/queue/spool.ts';
import type { SpoolOptions } from '../../src/queue/types.ts';

const { values } = parseArgs({ options: { events: { type: 'string', default: '200000' } } });
const EVENTS = Number(values.events);
const BATCH = 500;
const PRODUCERS = 4;

function event(i: number): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i.toString(16).padStart(12, '0')}`, action: 'llm.call', outcome: 'success', time: '2026-01-02T03:04:05.000Z', observed_time: '2026-01-02T03:04:06.000Z', operation: 'chat' },
    origin: { input: 'file', source: 'gateway', format: 'generic_gateway', raw_sha256: 'a'.repeat(64), index: 0, position: { file: { path: '/var/log/gateway/requests.jsonl', offset: i * 600 } } },
    agent: { id: `agent-${i % 17}`, name: 'support-bot', version: '2.3.1' },
    user: { id: `user-${i % 1000}`, email: 'someone@example.com' },
    gen_ai: { provider: { name: 'openai' }, request: { model: 'gpt-4o' }, response: { model: 'gpt-4o-2024-08-06' }, usage: { input_tokens: 1200, output_tokens: 350 } },
    url: { full: 'https://api.openai.com/v1/chat/completions', path: '/v1/chat/completions' },
    payload: { mode: 'hash', prompt: { sha256: 'b'.repeat(64), bytes: 5123 }, completion: { sha256: 'c'.repeat(64), bytes: 811 } },
    labels: { team: 'platform', env: 'prod', region: 'eu-west-1' },
  } as unknown as AuditEvent;
}

async function run(fsync: SpoolOptions['fsync']): Promise<Record<string, number | string>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-spool-'));
  try {
    const { spool } = await Spool.open({ dir, maxBytes: 8 * 1024 ** 3, segmentBytes: 64 * 1024 * 1024, fsync, logger: silentLogger });
    const events = Array.from({ length: EVENTS }, (_, i) => event(i));
    const durableMs: number[] = [];
    // Under `interval` an append resolves once written; it is durable at the next fsync.
    const syncs: { startedAt: number; doneAt: number }[] = [];
    spool.log.onSync((startedAt) => syncs.push({ startedAt, doneAt: performance.now() }));
    const appends: { start: number; written: number }[] = [];
    const t0 = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < EVENTS) {
          const from = next;
          next += BATCH;
          const start = performance.now();
          await spool.append(events.slice(from, Math.min(from + BATCH, EVENTS)));
          appends.push({ start, written: performance.now() });
        }
      }),
    );
    const appendSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (fsync.mode === 'interval') await new Promise((r) => setTimeout(r, fsync.intervalMs * 2));
    for (const a of appends) {
      const durableAt = fsync.mode === 'always' ? a.written : syncs.find((s) => s.startedAt >= a.written)?.doneAt;
      if (durableAt !== undefined) durableMs.push(durableAt - a.start);
    }
    const bytes = spool.stats().bytes;
    const reader = await spool.openReader('bench', 'oldest');
    const t1 = process.hrtime.bigint();
    let read = 0;
    for (;;) {
      const batch = await reader.read(1000, 4 * 1024 * 1024, 0);
      if (batch.length === 0) break;
      read += batch.length;
      await reader.commit(batch[batch.length - 1]!.next);
    }
    const readSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
    await spool.close();
    durableMs.sort((a, b) => a - b);
    return {
      fsync: fsync.mode,
      events: EVENTS,
      bytes_per_event: Math.round(bytes / EVENTS),
      append_events_per_s: Math.round(EVENTS / appendSeconds),
      append_mb_per_s: Number((bytes / 1e6 / appendSeconds).toFixed(1)),
      append_to_durable_p99_ms: Number(durableMs[Math.floor(durableMs.length * 0.99)]!.toFixed(2)),
      read_events_per_s: Math.round(read / readSeconds),
      read_mb_per_s: Number((bytes / 1e6 / readSeconds).toFixed(1)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [await run({ mode: 'always' }), await run({ mode: 'interval', intervalMs: 100 })];
for (const r of results) process.stdout.write(`${Object.entries(r).map(([k, v]) => `${k}=${v}`).join('  ')}\n`);
const out = { stage: 'spool', batch_events: BATCH, producers: PRODUCERS, results };
const resultsDir = resolve(import.meta.dirname, '..', 'results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'spool.json'), `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(out)}\n`);
