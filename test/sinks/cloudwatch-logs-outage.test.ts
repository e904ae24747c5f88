import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import type { Encoder } from '../../src/core/encoder.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { SinkBlock } from '../../src/config/types.ts';
import { DeliveryRunner } from '../../src/delivery/runner.ts';
import { DeadLetterStore } from '../../src/queue/dead-letter-store.ts';
import { Spool } from '../../src/queue/spool.ts';
import type { DeadLetterStoreLike } from '../../src/queue/types.ts';
import { createCloudWatchLogsSink } from '../../src/sinks/cloudwatch-logs/index.ts';
import { CloudWatchLogsEndpoint, LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY } from '../endpoints/cloudwatch-logs.ts';

// End to end with the real spool, dead-letter store and delivery runner against the local
// CloudWatch Logs: a long outage (down while events keep coming, back up, then throttling and
// 5xx for a while) loses nothing and duplicates nothing; events CloudWatch would refuse for
// good (older than 14 days) land in the dead-letter queue with the reason.

const canonical: Encoder = { name: 'canonical', version: '1.0', encode: (e) => e as unknown as Record<string, unknown>, classOf: () => 'api_activity' };
const DAY = 24 * 3_600_000;

function event(i: number, at: number): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i}`, action: 'llm.call', outcome: 'success', time: new Date(at).toISOString(), observed_time: new Date().toISOString() },
    origin: { input: 'file', source: 'gateway', format: 'generic_gateway', raw_sha256: '0'.repeat(64), index: 0, host: 'node-1' },
    payload: { mode: 'hash' },
    ...(i % 2 === 0 ? { gen_ai: { agent: { name: 'reviewer' } } } : { gen_ai: { agent: { name: 'planner' } } }),
  } as AuditEvent;
}

async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('long outage: everything spooled is delivered once when CloudWatch returns; events too old are dead-lettered with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cwl-outage-'));
  const cwl = await CloudWatchLogsEndpoint.start();
  const { spool } = await Spool.open({ dir: join(dir, 'spool'), maxBytes: 256 * 1024 * 1024, segmentBytes: 1024 * 1024, fsync: { mode: 'interval', intervalMs: 50 }, logger: silentLogger });
  const dlq = await DeadLetterStore.open({ dir: join(dir, 'dlq'), fsync: { mode: 'interval', intervalMs: 50 }, logger: silentLogger });
  const real = dlq.partition('sink-cwl');
  const dead: DeadLetter[] = [];
  const deadLetters: DeadLetterStoreLike = { append: async (l) => { dead.push(...l); await real.append(l); } };
  const block = {
    type: 'cloudwatch_logs', encoding: 'canonical', start_at: 'oldest', endpoint: cwl.url, region: 'us-east-1',
    access_key_id: LOCAL_ACCESS_KEY_ID, secret_access_key: LOCAL_SECRET_ACCESS_KEY,
    log_group: '/agent-audit/outage', log_stream: '{{ gen_ai.agent.name }}', create_log_group: true, retention_days: 7,
    batch: { max_events: 500, timeout: '50ms' },
  } as unknown as SinkBlock;
  const sink = createCloudWatchLogsSink('cwl', block, { logger: silentLogger, encoder: canonical, stateDir: dir });
  const runner = new DeliveryRunner({ sink, reader: await spool.openReader('cwl', 'oldest'), deadLetters, accepts: () => true, retry: { minDelayMs: 20, maxDelayMs: 200 }, logger: silentLogger });
  try {
    const old = new Set([17, 777, 1500, 2999]);
    const now = Date.now();
    const make = (from: number, n: number) => Array.from({ length: n }, (_, k) => event(from + k, old.has(from + k) ? now - 20 * DAY : now - 3_600_000 + from + k));
    await spool.append(make(0, 1000));
    await cwl.down();
    runner.start();
    await until('the runner notices the outage', () => runner.health().failingSince !== undefined);
    // Events keep arriving while CloudWatch is away.
    for (let b = 1; b < 3; b++) await spool.append(make(b * 1000, 1000));
    await until('several failed attempts', () => runner.health().retries >= 3);
    // Back, but throttling and failing for a while.
    cwl.throttle(3);
    cwl.unavailable(2);
    await cwl.up();
    await runner.whenCaughtUp();
    const seen = new Map<string, number>();
    for (const name of ['reviewer', 'planner']) {
      for (const e of cwl.events('/agent-audit/outage', name)) {
        const id = (JSON.parse(e.message) as AuditEvent).event.id;
        seen.set(id, (seen.get(id) ?? 0) + 1);
      }
    }
    for (let i = 0; i < 3000; i++) assert.equal(seen.get(`ev-${i}`) ?? 0, old.has(i) ? 0 : 1, `ev-${i}`);
    assert.deepEqual(dead.map((d) => d.event?.event.id).sort(), [...old].map((i) => `ev-${i}`).sort());
    assert.ok(dead.every((d) => d.reason === 'sink_rejected' && d.sink === 'cwl' && /older than 14 days/.test(d.message)));
    assert.equal(cwl.groups.get('/agent-audit/outage')!.retentionInDays, 7);
    const errors = cwl.requests.filter((r) => r.errorType).map((r) => r.errorType);
    assert.ok(errors.includes('ThrottlingException') && errors.includes('ServiceUnavailableException'), String(errors));
    assert.equal(runner.health().failingSince, undefined);
  } finally {
    await runner.stop(5000);
    await sink.close();
    await spool.close();
    await dlq.close();
    await cwl.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
