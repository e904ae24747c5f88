import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SinkBlock, SourceBlock } from '../../src/config/types.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { RawRecord } from '../../src/core/raw-record.ts';
import { Ingest } from '../../src/daemon/ingest.ts';
import { InlineNormalizeStage } from '../../src/daemon/normalize-stage.ts';
import { DeliveryRunner } from '../../src/delivery/runner.ts';
import { createEncoder } from '../../src/formats/index.ts';
import { DeadLetterStore } from '../../src/queue/dead-letter-store.ts';
import { Spool } from '../../src/queue/spool.ts';
import { createElasticsearchSink } from '../../src/sinks/elasticsearch/index.ts';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';

// The "full disk" promise with the real parts: a size-limited spool and a stalled sink. The
// source's submits block once the spool is full (nothing dropped, nothing buffered beyond one
// batch), and resume when the sink comes back; every record ends up delivered.

function line(i: number): string {
  return JSON.stringify({ timestamp: '2026-08-14T09:30:01.120Z', request_id: `req-${i}`, agent: 'support-bot', user: 'alice@example.com', endpoint: 'https://api.openai.com/v1/chat/completions', method: 'POST', payload_hash: 'a'.repeat(64), status: 200, latency_ms: 10, outcome: 'success', model: 'gpt-4o', input_tokens: 10, output_tokens: 5 });
}

function record(i: number): RawRecord {
  return { source: 'gw', input: 'file', position: { kind: 'file', path: '/logs/gw.jsonl', fileId: 'f1', offset: i * 400 }, bytes: Buffer.from(line(i)), format: 'generic_gateway', receivedAt: Date.now() };
}

test('spool full: the source blocks (no drop, bounded spool), then everything is delivered when the sink recovers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'backpressure-'));
  const es = await ElasticsearchEndpoint.start({});
  const maxBytes = 256 * 1024;
  const { spool } = await Spool.open({ dir: join(dir, 'spool'), maxBytes, segmentBytes: 32 * 1024, fsync: { mode: 'always' }, logger: silentLogger });
  const dlq = await DeadLetterStore.open({ dir: join(dir, 'dlq'), fsync: { mode: 'always' }, logger: silentLogger });
  const stage = new InlineNormalizeStage();
  stage.configure('gw', { type: 'file', format: 'generic_gateway', payload_mode: 'hash' } as SourceBlock);
  const ingest = new Ingest({ stage, events: spool, dlq: dlq.partition('ingest'), logger: silentLogger, dataDir: dir });
  const sink = createElasticsearchSink('es', { type: 'elasticsearch', encoding: 'ecs', start_at: 'oldest', endpoint: es.url, batch: { max_events: 100, timeout: '20ms' } } as unknown as SinkBlock, { logger: silentLogger, encoder: createEncoder('canonical'), stateDir: dir });
  const runner = new DeliveryRunner({ sink, reader: await spool.openReader('es', 'oldest'), deadLetters: dlq.partition('sink-es'), accepts: () => true, retry: { minDelayMs: 10, maxDelayMs: 100 }, logger: silentLogger });
  const TOTAL = 3000;
  let submitted = 0;
  let maxSeen = 0;
  try {
    await es.down();
    runner.start();
    const producing = (async () => {
      for (let i = 0; i < TOTAL; i += 50) {
        await ingest.submit(Array.from({ length: 50 }, (_, k) => record(i + k)));
        submitted = i + 50;
        maxSeen = Math.max(maxSeen, spool.stats().bytes);
      }
    })();
    // Wait until the producer is stuck behind the full spool.
    for (let last = -1; ; ) {
      await new Promise((r) => setTimeout(r, 200));
      if (spool.isFull() && submitted === last) break;
      last = submitted;
    }
    assert.ok(submitted < TOTAL, 'the spool filled before all input was accepted');
    assert.ok(spool.isFull());
    const blockedAt = submitted;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(submitted, blockedAt, 'no submit completes while the spool is full');
    await es.up();
    await producing;
    await runner.whenCaughtUp();
    const docs = es.docs('logs-ai_audit-default');
    const ids = new Set([...docs.values()].map((d) => ((d.request as { id?: string } | undefined)?.id ?? (d.event as { id?: string }).id)));
    assert.equal(docs.size, TOTAL, 'every record delivered exactly once (event ids are deterministic)');
    assert.equal(ids.size, TOTAL);
    // One batch of overshoot at most: the spool never grows past its limit by more than a submit.
    assert.ok(maxSeen < maxBytes + 64 * 1024, `spool peaked at ${maxSeen} bytes`);
  } finally {
    await runner.stop(2000);
    await sink.close();
    ingest.close();
    await spool.close();
    await dlq.close();
    await es.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
