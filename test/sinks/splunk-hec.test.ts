import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import type { Encoder } from '../../src/core/encoder.ts';
import { SinkFatalError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { SinkBlock } from '../../src/config/types.ts';
import { createSplunkHecSink } from '../../src/sinks/splunk-hec/index.ts';
import { SplunkHecEndpoint, type HecTokenSpec } from '../endpoints/splunk-hec.ts';

// Real HTTP against the local HEC (test/endpoints/splunk-hec.ts), every failure mode of the issue.

const canonical: Encoder = { name: 'canonical', version: '1.0', encode: (e) => e as unknown as Record<string, unknown>, classOf: () => 'api_activity' };
const ocsfLike: Encoder = { name: 'ocsf', version: '1.8.0', encode: (e) => ({ class_uid: 6003, id: e.event.id }), classOf: (e) => (e.event.action === 'auth.login' ? 'authentication' : 'api_activity') };

function event(i: number, extra: Partial<AuditEvent['event']> = {}): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i}`, action: 'llm.call', outcome: 'success', time: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, i % 1000)).toISOString(), observed_time: '2026-01-02T03:04:06.000Z', ...extra },
    origin: { input: 'file', source: 'gateway', format: 'generic_gateway', raw_sha256: '0'.repeat(64), index: 0, host: 'node-1' },
    payload: { mode: 'hash' },
  } as AuditEvent;
}
const events = (n: number, from = 0) => Array.from({ length: n }, (_, i) => event(from + i));

const dirs: string[] = [];
function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hec-sink-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function block(url: string, extra: Record<string, unknown> = {}): SinkBlock {
  return { type: 'splunk_hec', encoding: 'canonical', start_at: 'oldest', endpoint: url, token: 'good', ...extra } as SinkBlock;
}

const tokens: Record<string, HecTokenSpec> = {
  good: {},
  acked: { ack: true },
  off: { enabled: false },
  restricted: { indexes: ['main'] },
};

describe('Splunk HEC sink', () => {
  let hec: SplunkHecEndpoint;
  before(async () => {
    hec = await SplunkHecEndpoint.start({ tokens, invalid: (e) => (e as { event?: { reason?: string } }).event?.reason === 'poison', maxContentLength: 64 * 1024 });
  });
  after(() => hec.close());

  it('delivers a batch: token, gzip, time from the event in epoch seconds with ms, configured index/source/host', async () => {
    const sink = createSplunkHecSink('s', block(hec.url, { index: 'main', source: 'ai', host: 'h1' }), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    await sink.start(silentLogger);
    const before = hec.events.length;
    const batch = events(5);
    const r = await sink.send(batch);
    assert.deepEqual(r.outcomes.map((o) => o.status), ['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    const got = hec.events.slice(before);
    assert.equal(got.length, 5);
    assert.equal(got[3]!.time, Date.parse(batch[3]!.event.time) / 1000);
    assert.equal(got[3]!.time, 1767323045.003);
    assert.deepEqual([got[0]!.index, got[0]!.source, got[0]!.host, got[0]!.sourcetype], ['main', 'ai', 'h1', 'agent_audit:canonical']);
    assert.equal((got[2]!.event as AuditEvent).event.id, 'ev-2');
    assert.equal(hec.requests.at(-1)!.gzip, true);
    await sink.close();
  });

  it('defaults: sourcetype ocsf:<class> per event, host from the event, source from the input name, no gzip when off', async () => {
    const sink = createSplunkHecSink('s', { ...block(hec.url, { compression: 'none' }), encoding: 'ocsf' }, { logger: silentLogger, encoder: ocsfLike, stateDir: stateDir() });
    const before = hec.events.length;
    const r = await sink.send([event(1), event(2, { action: 'auth.login' })]);
    assert.ok(r.outcomes.every((o) => o.status === 'accepted'));
    const got = hec.events.slice(before);
    assert.deepEqual(got.map((e) => e.sourcetype), ['ocsf:api_activity', 'ocsf:authentication']);
    assert.deepEqual([got[0]!.host, got[0]!.source, got[0]!.index], ['node-1', 'agent-audit:gateway', undefined]);
    assert.deepEqual(got[1]!.event, { class_uid: 6003, id: 'ev-2' });
    assert.equal(hec.requests.at(-1)!.gzip, false);
    await sink.close();
  });

  it('start(): an invalid or disabled token stops the sink loudly; an unreachable endpoint is an ordinary error', async () => {
    for (const token of ['nope', 'off']) {
      const sink = createSplunkHecSink('s', block(hec.url, { token }), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
      await assert.rejects(sink.start(silentLogger), (err: Error) => err instanceof SinkFatalError && /code (4|1)/.test(err.message) && !err.message.includes(token));
      await sink.close();
    }
    const dead = await SplunkHecEndpoint.start({ tokens });
    const deadUrl = dead.url;
    await dead.close();
    const sink = createSplunkHecSink('s', block(deadUrl), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    await assert.rejects(sink.start(silentLogger), (err: Error) => !(err instanceof SinkFatalError) && /connection refused/.test(err.message));
    await sink.close();
  });

  it('start(): ack on with a token whose acknowledgement is off is fatal at once', async () => {
    const sink = createSplunkHecSink('s', block(hec.url, { ack: true }), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    await assert.rejects(sink.start(silentLogger), (err: Error) => err instanceof SinkFatalError && /code 14/.test(err.message) && /ack: false/.test(err.message));
    await sink.close();
  });

  it('a token disabled while running: send throws SinkFatalError, nothing is marked delivered', async () => {
    const sink = createSplunkHecSink('s', block(hec.url, { token: 'good2' }), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    tokens.good2 = {};
    await sink.start(silentLogger);
    tokens.good2 = { enabled: false };
    await assert.rejects(sink.send(events(3)), (err: Error) => err instanceof SinkFatalError && /Token disabled/.test(err.message));
    await sink.close();
  });

  it('an index the token may not write to is fatal (code 7), not retried forever', async () => {
    const sink = createSplunkHecSink('s', block(hec.url, { token: 'restricted', index: 'secret' }), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    await assert.rejects(sink.send(events(2)), (err: Error) => err instanceof SinkFatalError && /Incorrect index/.test(err.message));
    await sink.close();
  });

  it('server busy (code 9, 503): every event retriable, Retry-After passed on; then delivered', async () => {
    const sink = createSplunkHecSink('s', block(hec.url), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    hec.busy = true;
    hec.busyRetryAfter = 7;
    try {
      const r = await sink.send(events(4, 100));
      assert.ok(r.outcomes.every((o) => o.status === 'retriable' && /Server is busy/.test(o.reason)));
      assert.equal(r.retryAfterMs, 7000);
    } finally {
      hec.busy = false;
    }
    const r2 = await sink.send(events(4, 100));
    assert.ok(r2.outcomes.every((o) => o.status === 'accepted'));
    await sink.close();
  });

  it('invalid data format: only the bad events are rejected with HEC\'s text, the others are indexed exactly once', async () => {
    const sink = createSplunkHecSink('s', block(hec.url), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    const batch = events(10, 200);
    batch[3] = event(203, { reason: 'poison' });
    batch[7] = event(207, { reason: 'poison' });
    const before = hec.events.length;
    const r = await sink.send(batch);
    assert.deepEqual(r.outcomes.map((o) => o.status), ['accepted', 'accepted', 'accepted', 'rejected', 'accepted', 'accepted', 'accepted', 'rejected', 'accepted', 'accepted']);
    assert.match((r.outcomes[3] as { reason: string }).reason, /code 6: Invalid data format/);
    const ids = hec.events.slice(before).map((e) => (e.event as AuditEvent).event.id);
    assert.deepEqual(ids.sort(), ['ev-200', 'ev-201', 'ev-202', 'ev-204', 'ev-205', 'ev-206', 'ev-208', 'ev-209']);
    await sink.close();
  });

  it('a request over the size limit (413) is split; an event too large alone is rejected', async () => {
    const sink = createSplunkHecSink('s', block(hec.url, { compression: 'none' }), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    const batch = events(200, 300);
    batch[50] = event(350, { reason: 'x'.repeat(70 * 1024) });
    const before = hec.events.length;
    const r = await sink.send(batch);
    assert.equal(r.outcomes.filter((o) => o.status === 'accepted').length, 199);
    assert.equal(r.outcomes[50]!.status, 'rejected');
    assert.match((r.outcomes[50] as { reason: string }).reason, /413/);
    assert.equal(hec.events.length - before, 199);
    await sink.close();
  });

  it('a 200 that is not HEC speaking (a proxy page) is never counted as delivered', async () => {
    const sink = createSplunkHecSink('s', block(hec.url), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    hec.proxyAnswer = { status: 200, contentType: 'text/html', body: '<html>Please log in</html>' };
    try {
      const r = await sink.send(events(2, 350));
      assert.ok(r.outcomes.every((o) => o.status === 'retriable' && /Please log in/.test(o.reason)));
    } finally {
      hec.proxyAnswer = undefined;
    }
    await sink.close();
  });

  it('endpoint down: everything retriable with a clear reason; back up: delivered', async () => {
    const sink = createSplunkHecSink('s', block(hec.url), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    await hec.down();
    try {
      const r = await sink.send(events(3, 400));
      assert.ok(r.outcomes.every((o) => o.status === 'retriable' && /connection refused/.test(o.reason)));
    } finally {
      await hec.up();
    }
    const r2 = await sink.send(events(3, 400));
    assert.ok(r2.outcomes.every((o) => o.status === 'accepted'));
    await sink.close();
  });
});

describe('Splunk HEC sink with indexer acknowledgement', () => {
  let hec: SplunkHecEndpoint;
  before(async () => {
    hec = await SplunkHecEndpoint.start({ tokens, invalid: (e) => (e as { event?: { reason?: string } }).event?.reason === 'poison' });
  });
  after(() => hec.close());
  const ackBlock = (url: string, extra: Record<string, unknown> = {}) => block(url, { token: 'acked', ack: true, ack_poll_interval: '20ms', ack_timeout: '2s', ...extra });

  it('accepted only once acknowledged; the channel is persisted and reused after a restart', async () => {
    const dir = stateDir();
    hec.ackMode = { kind: 'immediate' };
    const sink = createSplunkHecSink('s', ackBlock(hec.url), { logger: silentLogger, encoder: canonical, stateDir: dir });
    await sink.start(silentLogger);
    const polls = hec.ackPolls;
    const r = await sink.send(events(3));
    assert.ok(r.outcomes.every((o) => o.status === 'accepted'));
    assert.ok(hec.ackPolls > polls, 'the sink asked /services/collector/ack');
    const channel = readFileSync(join(dir, 'hec-channel'), 'utf8').trim();
    assert.equal(hec.requests.at(-1)!.channel, channel);
    await sink.close();
    const again = createSplunkHecSink('s', ackBlock(hec.url), { logger: silentLogger, encoder: canonical, stateDir: dir });
    await again.send(events(1, 10));
    assert.equal(hec.requests.at(-1)!.channel, channel);
    await again.close();
  });

  it('an ack that arrives late (within ack_timeout) still counts', async () => {
    hec.ackMode = { kind: 'delayed', ms: 300 };
    const sink = createSplunkHecSink('s', ackBlock(hec.url), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    const polls = hec.ackPolls;
    const r = await sink.send(events(2, 20));
    assert.ok(r.outcomes.every((o) => o.status === 'accepted'));
    assert.ok(hec.ackPolls - polls >= 2, 'polled more than once before the ack came');
    await sink.close();
  });

  it('an ack that never comes is retriable, never delivered', async () => {
    hec.ackMode = { kind: 'never' };
    const sink = createSplunkHecSink('s', ackBlock(hec.url, { ack_timeout: '300ms' }), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    const r = await sink.send(events(2, 30));
    assert.ok(r.outcomes.every((o) => o.status === 'retriable' && /did not acknowledge ackId/.test(o.reason)));
    await sink.close();
  });

  it('invalid data with acks: the bad event rejected, every good one resent and acknowledged', async () => {
    hec.ackMode = { kind: 'immediate' };
    const sink = createSplunkHecSink('s', ackBlock(hec.url), { logger: silentLogger, encoder: canonical, stateDir: stateDir() });
    const batch = events(5, 40);
    batch[2] = event(42, { reason: 'poison' });
    const before = hec.events.length;
    const r = await sink.send(batch);
    assert.deepEqual(r.outcomes.map((o) => o.status), ['accepted', 'accepted', 'rejected', 'accepted', 'accepted']);
    const ids = new Set(hec.events.slice(before).map((e) => (e.event as AuditEvent).event.id));
    assert.deepEqual([...ids].sort(), ['ev-40', 'ev-41', 'ev-43', 'ev-44']);
    await sink.close();
  });

  it('the local HEC refuses an ack token without a channel (code 10), like Splunk', async () => {
    const res = await fetch(`${hec.url}/services/collector/event`, { method: 'POST', headers: { authorization: 'Splunk acked' }, body: '{"event":"x"}' });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { text: 'Data channel is missing', code: 10 });
  });
});
