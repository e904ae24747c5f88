import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import type { Encoder } from '../../src/core/encoder.ts';
import { SinkFatalError } from '../../src/core/errors.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { SinkBlock } from '../../src/config/types.ts';
import { createElasticsearchSink, ElasticsearchSink } from '../../src/sinks/elasticsearch/index.ts';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';

// Real HTTP(S) against the local Elasticsearch / OpenSearch (test/endpoints/elasticsearch-bulk.ts).

const canonical: Encoder = { name: 'canonical', version: '1.0', encode: (e) => e as unknown as Record<string, unknown>, classOf: () => 'api_activity' };
// Shaped like the ECS rendering where it matters here: @timestamp, event.id, event.reason.
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
const events = (n: number, from = 0) => Array.from({ length: n }, (_, i) => event(from + i));
const reasonOf = (doc: Record<string, unknown>) => (doc.event as { reason?: string } | undefined)?.reason;

function sinkFor(url: string | string[], extra: Record<string, unknown> = {}, encoder: Encoder = ecsLike): ElasticsearchSink {
  const b = { type: 'elasticsearch', encoding: encoder.name, start_at: 'oldest', ...(Array.isArray(url) ? { endpoints: url } : { endpoint: url }), ...extra } as SinkBlock;
  return createElasticsearchSink('es', b, { logger: silentLogger, encoder, stateDir: tmpdir() }) as ElasticsearchSink;
}
const statuses = (r: { outcomes: readonly { status: string }[] }) => r.outcomes.map((o) => o.status);

describe('Elasticsearch sink', () => {
  let es: ElasticsearchEndpoint;
  before(async () => {
    es = await ElasticsearchEndpoint.start({
      maxContentLength: 256 * 1024,
      itemStatus: (doc, ctx) => {
        const r = reasonOf(doc);
        if (r === 'throttle-once') return ctx.seen === 0 ? 429 : undefined;
        if (r === 'unavailable-once') return ctx.seen === 0 ? 503 : undefined;
        if (r === 'bad-mapping') return 400;
        if (r === 'no-index') return 404;
        return undefined;
      },
    });
  });
  after(() => es.close());

  it('start(): reads product, version and cluster name', async () => {
    const sink = sinkFor(es.url);
    await sink.start(silentLogger);
    assert.deepEqual(sink.cluster, { distribution: 'elasticsearch', version: '9.1.0', clusterName: 'docker-cluster' });
    await sink.close();
  });

  it('create into the data stream with _id = event id; a redelivery is accepted (409) and never duplicates', async () => {
    const sink = sinkFor(es.url);
    const batch = events(50);
    assert.ok(statuses(await sink.send(batch)).every((s) => s === 'accepted'));
    const stored = es.docs('logs-ai_audit-default');
    assert.equal(stored.size, 50);
    assert.equal((stored.get('ev-7')!.event as { id: string }).id, 'ev-7');
    const last = es.requests.at(-1)!;
    assert.equal(last.path, '/logs-ai_audit-default/_bulk');
    assert.equal(statuses(await sink.send(batch)).filter((s) => s === 'accepted').length, 50);
    assert.equal(stored.size, 50, 'no duplicates after redelivery');
    await sink.close();
  });

  it('per item: 429 and 5xx retried alone, 400/404 rejected with the reason, the rest accepted', async () => {
    const sink = sinkFor(es.url, { index: 'logs-ai_audit-mixed' });
    const batch = [event(100), event(101, 'throttle-once'), event(102, 'bad-mapping'), event(103), event(104, 'unavailable-once'), event(105, 'no-index')];
    const r = await sink.send(batch);
    assert.deepEqual(statuses(r), ['accepted', 'retriable', 'rejected', 'accepted', 'retriable', 'rejected']);
    assert.match((r.outcomes[2] as { reason: string }).reason, /^400 document_parsing_exception: .*failed to parse field \[event\.duration\]/);
    assert.match((r.outcomes[5] as { reason: string }).reason, /^404 index_not_found_exception/);
    assert.match((r.outcomes[1] as { reason: string }).reason, /^429 es_rejected_execution_exception/);
    // What the runner does next: resend only the retriable ones.
    const again = await sink.send([batch[1]!, batch[4]!]);
    assert.deepEqual(statuses(again), ['accepted', 'accepted']);
    assert.deepEqual([...es.docs('logs-ai_audit-mixed').keys()].sort(), ['ev-100', 'ev-101', 'ev-103', 'ev-104']);
    await sink.close();
  });

  it('canonical encoding into a data stream gets @timestamp from the event time', async () => {
    const sink = sinkFor(es.url, { index: 'logs-ai_audit-canonical' }, canonical);
    const r = await sink.send(events(2, 200));
    assert.deepEqual(statuses(r), ['accepted', 'accepted']);
    const doc = es.docs('logs-ai_audit-canonical').get('ev-201')!;
    assert.equal(doc['@timestamp'], '2026-01-02T03:04:05.201Z');
    assert.equal((doc.event as { id: string }).id, 'ev-201');
    await sink.close();
  });

  it('mode: index writes with `index` (a resend overwrites)', async () => {
    const sink = sinkFor(es.url, { mode: 'index', index: 'ai-audit' });
    assert.deepEqual(statuses(await sink.send(events(3, 300))), ['accepted', 'accepted', 'accepted']);
    assert.deepEqual(statuses(await sink.send(events(3, 300))), ['accepted', 'accepted', 'accepted']);
    assert.equal(es.docs('ai-audit').size, 3);
    await sink.close();
  });

  it('413 for the whole request: split until it fits; a document too large alone is rejected', async () => {
    const sink = sinkFor(es.url, { index: 'logs-ai_audit-big' });
    const batch = events(400, 400);
    batch[123] = event(523, 'x'.repeat(300 * 1024));
    const r = await sink.send(batch);
    assert.equal(statuses(r).filter((s) => s === 'accepted').length, 399);
    assert.equal(r.outcomes[123]!.status, 'rejected');
    assert.match((r.outcomes[123] as { reason: string }).reason, /413/);
    assert.equal(es.docs('logs-ai_audit-big').size, 399);
    await sink.close();
  });

  it('whole request 429 / 503: every event retriable, Retry-After passed on', async () => {
    const sink = sinkFor(es.url, { index: 'logs-ai_audit-busy' });
    es.rejectAll = { status: 429, retryAfter: 3 };
    try {
      const r = await sink.send(events(3, 600));
      assert.deepEqual(statuses(r), ['retriable', 'retriable', 'retriable']);
      assert.equal(r.retryAfterMs, 3000);
      es.rejectAll = { status: 503 };
      assert.deepEqual(statuses(await sink.send(events(3, 600))), ['retriable', 'retriable', 'retriable']);
    } finally {
      es.rejectAll = undefined;
    }
    assert.deepEqual(statuses(await sink.send(events(3, 600))), ['accepted', 'accepted', 'accepted']);
    await sink.close();
  });

  it('a request-level 400 that every event would get (unknown pipeline) stops the sink instead of dead-lettering the stream', async () => {
    const sink = sinkFor(es.url, { index: 'logs-ai_audit-pipe', pipeline: 'missing' });
    es.rejectAll = { status: 400, type: 'illegal_argument_exception', reason: 'pipeline with id [missing] does not exist' };
    try {
      await assert.rejects(sink.send(events(4, 650)), (err: Error) => err instanceof SinkFatalError && /pipeline with id \[missing\] does not exist/.test(err.message));
      es.rejectAll = { status: 400, type: 'action_request_validation_exception', reason: 'Validation Failed: 1: id is too long, must be no longer than 512 bytes but was: 600;' };
      const r = await sink.send(events(2, 660));
      assert.deepEqual(statuses(r), ['rejected', 'rejected']);
      assert.match((r.outcomes[0] as { reason: string }).reason, /id is too long/);
    } finally {
      es.rejectAll = undefined;
    }
    await sink.close();
  });

  it('gzip bodies', async () => {
    const sink = sinkFor(es.url, { index: 'logs-ai_audit-gz', compression: 'gzip' });
    assert.deepEqual(statuses(await sink.send(events(20, 700))), new Array(20).fill('accepted'));
    assert.equal(es.requests.at(-1)!.gzip, true);
    assert.equal(es.docs('logs-ai_audit-gz').size, 20);
    await sink.close();
  });

  it('cluster down, then back: retriable with a clear reason, then delivered; a dead node in `endpoints` is skipped', async () => {
    const sink = sinkFor(es.url, { index: 'logs-ai_audit-outage' });
    await es.down();
    try {
      const r = await sink.send(events(3, 800));
      assert.ok(r.outcomes.every((o) => o.status === 'retriable' && /connection refused/.test(o.reason)));
      await assert.rejects(sink.start(silentLogger), (err: Error) => !(err instanceof SinkFatalError) && /unreachable.*connection refused/.test(err.message));
    } finally {
      await es.up();
    }
    assert.deepEqual(statuses(await sink.send(events(3, 800))), ['accepted', 'accepted', 'accepted']);
    await sink.close();

    const gone = await ElasticsearchEndpoint.start();
    const deadUrl = gone.url;
    await gone.close();
    const multi = sinkFor([deadUrl, es.url], { index: 'logs-ai_audit-multi' });
    assert.deepEqual(statuses(await multi.send(events(2, 900))), ['accepted', 'accepted']);
    await multi.close();
  });
});

describe('Elasticsearch sink: authentication', () => {
  let es: ElasticsearchEndpoint;
  const encodedKey = Buffer.from('key-id:key-secret').toString('base64');
  before(async () => {
    es = await ElasticsearchEndpoint.start({ auth: { users: { writer: 's3cret-pw', reader: 'r3ad' }, apiKeys: [encodedKey], bearerTokens: ['tok-123'], readOnly: ['reader'] } });
  });
  after(() => es.close());

  it('basic, API key (encoded or id:key) and bearer are accepted', async () => {
    for (const auth of [{ user: 'writer', password: 's3cret-pw' }, { api_key: encodedKey }, { api_key: 'key-id:key-secret' }, { bearer_token: 'tok-123' }]) {
      const sink = sinkFor(es.url, auth);
      await sink.start(silentLogger);
      assert.deepEqual(statuses(await sink.send(events(2))), ['accepted', 'accepted'], JSON.stringify(Object.keys(auth)));
      await sink.close();
    }
  });

  it('wrong credentials: start() and send() stop the sink loudly, without the secret in the message', async () => {
    const sink = sinkFor(es.url, { user: 'writer', password: 'wrong-pw' });
    await assert.rejects(sink.start(silentLogger), (err: Error) => err instanceof SinkFatalError && /rejected the credentials \(HTTP 401: security_exception: unable to authenticate user \[writer\]/.test(err.message) && !err.message.includes('wrong-pw'));
    await assert.rejects(sink.send(events(1)), (err: Error) => err instanceof SinkFatalError && /401/.test(err.message));
    await sink.close();
    const none = sinkFor(es.url);
    await assert.rejects(none.start(silentLogger), (err: Error) => err instanceof SinkFatalError && /missing authentication credentials/.test(err.message));
    await none.close();
  });

  it('credentials that may not write: 403 on _bulk is fatal', async () => {
    const sink = sinkFor(es.url, { user: 'reader', password: 'r3ad' });
    await sink.start(silentLogger);
    await assert.rejects(sink.send(events(1)), (err: Error) => err instanceof SinkFatalError && /not allowed to write to 'logs-ai_audit-default'.*403/.test(err.message));
    await sink.close();
  });
});

describe('OpenSearch', () => {
  let os: ElasticsearchEndpoint;
  before(async () => {
    os = await ElasticsearchEndpoint.start({ flavor: 'opensearch', auth: { users: { admin: 'Adm1n!pass' } }, itemStatus: (doc) => (reasonOf(doc) === 'bad-mapping' ? 400 : undefined) });
  });
  after(() => os.close());

  it('detected at start; bulk works the same, mapper_parsing_exception items rejected', async () => {
    const sink = sinkFor(os.url, { user: 'admin', password: 'Adm1n!pass' });
    await sink.start(silentLogger);
    assert.deepEqual(sink.cluster, { distribution: 'opensearch', version: '2.19.1', clusterName: 'opensearch-cluster' });
    const r = await sink.send([event(1), event(2, 'bad-mapping'), event(3)]);
    assert.deepEqual(statuses(r), ['accepted', 'rejected', 'accepted']);
    assert.match((r.outcomes[1] as { reason: string }).reason, /^400 mapper_parsing_exception/);
    await sink.close();
  });

  it('its plain-text 401 is reported as bad credentials', async () => {
    const sink = sinkFor(os.url, { user: 'admin', password: 'nope' });
    await assert.rejects(sink.start(silentLogger), (err: Error) => err instanceof SinkFatalError && /HTTP 401: Unauthorized/.test(err.message));
    await sink.close();
  });
});

describe('TLS with a custom CA', () => {
  const dir = mkdtempSync(join(tmpdir(), 'es-tls-'));
  let es: ElasticsearchEndpoint;
  before(async () => {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=agent-audit test CA');
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
    es = await ElasticsearchEndpoint.start({ tls: { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) } });
  });
  after(async () => {
    await es.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trusted through tls.ca_file; refused without it with a hint; insecure_skip_verify connects', async () => {
    const trusted = sinkFor(es.url, { tls: { ca_file: join(dir, 'ca.pem') } });
    await trusted.start(silentLogger);
    assert.deepEqual(statuses(await trusted.send(events(2))), ['accepted', 'accepted']);
    await trusted.close();

    const untrusted = sinkFor(es.url);
    await assert.rejects(untrusted.start(silentLogger), /not trusted.*tls\.ca_file/);
    const r = await untrusted.send(events(1, 10));
    assert.equal(r.outcomes[0]!.status, 'retriable');
    await untrusted.close();

    const insecure = sinkFor(es.url, { tls: { insecure_skip_verify: true } });
    assert.deepEqual(statuses(await insecure.send(events(1, 20))), ['accepted']);
    await insecure.close();
  });
});
