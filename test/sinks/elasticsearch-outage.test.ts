import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import type { Encoder } from '../../src/core/encoder.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import type { SinkBlock } from '../../src/config/types.ts';
import type { DeliveryRunnerLike, DeliveryRunnerOptions } from '../../src/delivery/types.ts';
import type { DeadLetterStoreLike, SpoolLike, SpoolOptions } from '../../src/queue/types.ts';
import { createElasticsearchSink } from '../../src/sinks/elasticsearch/index.ts';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';

// End to end with the real spool, dead-letter store and delivery runner: a long outage of the
// cluster (down, events keep coming, back up) loses nothing and duplicates nothing; items the
// cluster refuses for good land in the dead-letter queue with the reason. Skipped until the
// spool (src/queue/spool.ts) and runner (src/delivery/runner.ts) exist in the tree.

interface Parts {
  Spool: { open(o: SpoolOptions): Promise<{ spool: SpoolLike }> };
  DeadLetterStore: { open(o: { dir: string; fsync: SpoolOptions['fsync']; logger: Logger }): Promise<{ partition(name: string): DeadLetterStoreLike; close(): Promise<void> }> };
  DeliveryRunner: new (o: DeliveryRunnerOptions) => DeliveryRunnerLike;
}

async function pipelineParts(): Promise<Parts | undefined> {
  // Paths in variables: these modules are written by other work in progress.
  const at = (p: string) => new URL(`../../src/${p}`, import.meta.url).href;
  try {
    const [spool, dlq, runner] = await Promise.all([import(at('queue/spool.ts')), import(at('queue/dead-letter-store.ts')), import(at('delivery/runner.ts'))]);
    return { Spool: spool.Spool, DeadLetterStore: dlq.DeadLetterStore, DeliveryRunner: runner.DeliveryRunner } as Parts;
  } catch {
    return undefined;
  }
}
const parts = await pipelineParts();

const ecsLike: Encoder = {
  name: 'ecs',
  version: '9.4.0',
  encode: (e) => ({ '@timestamp': e.event.time, event: { id: e.event.id, action: e.event.action, reason: e.event.reason } }),
  classOf: () => 'api_activity',
};

function event(i: number, reason?: string): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i}`, action: 'llm.call', outcome: 'success', time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, i % 1000)).toISOString(), observed_time: '2026-01-02T03:04:06.000Z', ...(reason ? { reason } : {}) },
    origin: { input: 'file', source: 'gateway', format: 'generic_gateway', raw_sha256: '0'.repeat(64), index: 0 },
    payload: { mode: 'hash' },
  } as AuditEvent;
}

async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('long outage: everything spooled is delivered exactly once when the cluster returns; refused items are dead-lettered', { skip: parts === undefined ? 'spool/runner not in the tree yet' : false }, async () => {
  const { Spool, DeadLetterStore, DeliveryRunner } = parts!;
  const dir = mkdtempSync(join(tmpdir(), 'es-outage-'));
  const es = await ElasticsearchEndpoint.start({ itemStatus: (doc) => ((doc.event as { reason?: string }).reason === 'bad-mapping' ? 400 : undefined) });
  const { spool } = await Spool.open({ dir: join(dir, 'spool'), maxBytes: 256 * 1024 * 1024, segmentBytes: 1024 * 1024, fsync: { mode: 'interval', intervalMs: 50 }, logger: silentLogger });
  const dlq = await DeadLetterStore.open({ dir: join(dir, 'dlq'), fsync: { mode: 'interval', intervalMs: 50 }, logger: silentLogger });
  const real = dlq.partition('sink-es');
  const dead: DeadLetter[] = [];
  const deadLetters: DeadLetterStoreLike = { append: async (l) => { dead.push(...l); await real.append(l); } };
  const sink = createElasticsearchSink('es', { type: 'elasticsearch', encoding: 'ecs', start_at: 'oldest', endpoint: es.url, batch: { max_events: 200, timeout: '50ms' } } as unknown as SinkBlock, { logger: silentLogger, encoder: ecsLike, stateDir: dir });
  const runner = new DeliveryRunner({ sink, reader: await spool.openReader('es', 'oldest'), deadLetters, accepts: () => true, retry: { minDelayMs: 20, maxDelayMs: 200 }, logger: silentLogger });
  try {
    const bad = new Set([17, 777, 1500, 2999]);
    const make = (from: number, n: number) => Array.from({ length: n }, (_, k) => event(from + k, bad.has(from + k) ? 'bad-mapping' : undefined));
    await spool.append(make(0, 1000));
    await es.down();
    runner.start();
    await until('the runner notices the outage', () => runner.health().failingSince !== undefined);
    // Events keep arriving while the cluster is away.
    for (let b = 1; b < 3; b++) await spool.append(make(b * 1000, 1000));
    await until('several failed attempts', () => runner.health().retries >= 3);
    await es.up();
    await runner.whenCaughtUp();
    const stored = es.docs('logs-ai_audit-default');
    assert.equal(stored.size, 3000 - bad.size);
    for (let i = 0; i < 3000; i++) assert.equal(stored.has(`ev-${i}`), !bad.has(i), `ev-${i}`);
    assert.deepEqual(dead.map((d) => d.event?.event.id).sort(), [...bad].map((i) => `ev-${i}`).sort());
    assert.ok(dead.every((d) => d.reason === 'sink_rejected' && /document_parsing_exception/.test(d.message)));
    assert.equal(runner.health().failingSince, undefined);
  } finally {
    await runner.stop(5000);
    await sink.close();
    await spool.close();
    await dlq.close();
    await es.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
