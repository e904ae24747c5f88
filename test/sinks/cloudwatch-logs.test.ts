import { strict as assert } from 'node:assert';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import type { Encoder } from '../../src/core/encoder.ts';
import { ConfigError, SinkFatalError } from '../../src/core/errors.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import type { DeliveryResult } from '../../src/core/sink.ts';
import type { SinkBlock } from '../../src/config/types.ts';
import { cloudWatchLogsOptions, CloudWatchLogsSink, compileTemplate, createCloudWatchLogsSink, sanitizeGroupName, sanitizeStreamName } from '../../src/sinks/cloudwatch-logs/index.ts';
import { CloudWatchLogsEndpoint, LOCAL_ACCESS_KEY_ID, LOCAL_SECRET_ACCESS_KEY } from '../endpoints/cloudwatch-logs.ts';

// Real AWS SDK client over real HTTP against the local CloudWatch Logs
// (test/endpoints/cloudwatch-logs.ts), which verifies SigV4 and enforces the PutLogEvents rules.

const canonical: Encoder = { name: 'canonical', version: '1.0', encode: (e) => e as unknown as Record<string, unknown>, classOf: () => 'api_activity' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function event(i: number, at: number, extra: Record<string, unknown> = {}): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i}`, action: 'llm.call', outcome: 'success', time: new Date(at).toISOString(), observed_time: new Date().toISOString() },
    origin: { input: 'file', source: 'gateway', format: 'generic_gateway', raw_sha256: '0'.repeat(64), index: 0, host: 'node-1' },
    payload: { mode: 'hash' },
    ...extra,
  } as AuditEvent;
}
const events = (n: number, from = 0, at = Date.now() - HOUR) => Array.from({ length: n }, (_, i) => event(from + i, at + i));
const statuses = (r: DeliveryResult) => r.outcomes.map((o) => o.status);
const reasons = (r: DeliveryResult) => r.outcomes.map((o) => ('reason' in o ? o.reason : ''));
const count = (r: DeliveryResult, s: string) => statuses(r).filter((x) => x === s).length;

function sinkFor(url: string, extra: Record<string, unknown> = {}, encoder: Encoder = canonical): CloudWatchLogsSink {
  const b = { type: 'cloudwatch_logs', encoding: 'canonical', start_at: 'oldest', endpoint: url, region: 'us-east-1', access_key_id: LOCAL_ACCESS_KEY_ID, secret_access_key: LOCAL_SECRET_ACCESS_KEY, log_group: '/agent-audit/test', log_stream: 'main', ...extra } as SinkBlock;
  return createCloudWatchLogsSink('cwl', b, { logger: silentLogger, encoder, stateDir: tmpdir() }) as CloudWatchLogsSink;
}

function capture(): Logger & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const log = (level: string) => (obj: object, msg?: string) => lines.push({ level, msg: msg ?? '', obj });
  const l = { lines, info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug'), child: () => l };
  return l;
}

describe('CloudWatch Logs name templates', () => {
  it('fields, fallbacks, UTC time tokens, sanitized to what the API allows', () => {
    const t = compileTemplate('/agent-audit/{{ tenant.id ?? shared }}/{{ gen_ai.agent.name }}/%Y-%m-%d', 'x', sanitizeGroupName);
    const at = Date.UTC(2026, 2, 9, 23, 30);
    assert.equal(t.render(event(1, at, { tenant: { id: 'acme' }, gen_ai: { agent: { name: 'code review bot' } } }), at), '/agent-audit/acme/code_review_bot/2026-03-09');
    assert.equal(t.render(event(1, at), at), '/agent-audit/shared/unknown/2026-03-09');
    assert.equal(t.isStatic, false);
    assert.equal(t.staticPrefix, '/agent-audit/');
    const s = compileTemplate('{{ origin.host }}:{{ event.action }}*%H %%', 'y', sanitizeStreamName);
    assert.equal(s.render(event(1, at), at), 'node-1_llm.call_23 %');
    assert.equal(compileTemplate('static-group', 'z', sanitizeGroupName).isStatic, true);
  });

  it('bad templates and names are config errors naming the setting', () => {
    assert.throws(() => compileTemplate('/a/{{ tenant.id', 'sinks.c.log_group', sanitizeGroupName), (e: Error) => e instanceof ConfigError && /sinks\.c\.log_group: '\{\{' at character 4 is not closed/.test(e.message));
    assert.throws(() => compileTemplate('/a/%q', 'sinks.c.log_group', sanitizeGroupName), (e: Error) => e instanceof ConfigError && /'%q' at character 4 is not a time token/.test(e.message));
    assert.throws(() => compileTemplate('bad group!', 'sinks.c.log_group', sanitizeGroupName), (e: Error) => e instanceof ConfigError && /not a valid name here \(characters not allowed:   !\)/.test(e.message));
    const base = { type: 'cloudwatch_logs', encoding: 'canonical', start_at: 'oldest', log_group: 'g' } as unknown as SinkBlock;
    assert.throws(() => cloudWatchLogsOptions('c', { ...base, retention_days: 2 } as SinkBlock), /retention_days: 2 is not a value CloudWatch Logs accepts/);
    assert.throws(() => cloudWatchLogsOptions('c', { ...base, retention_days: 30 } as SinkBlock), /set create_log_group: true/);
    assert.throws(() => cloudWatchLogsOptions('c', { ...base, access_key_id: 'AKIA' } as SinkBlock), /access_key_id and secret_access_key go together/);
  });
});

describe('CloudWatch Logs sink', () => {
  let cwl: CloudWatchLogsEndpoint;
  before(async () => {
    cwl = await CloudWatchLogsEndpoint.start({
      invalidEvent: (m) => (m.includes('"reason":"refuse-me"') ? '1 validation error detected: Value at \'logEvents.member.message\' failed to satisfy constraint: entity is not valid' : undefined),
      denied: (_k, op, group) => op === 'PutLogEvents' && group === '/agent-audit/forbidden',
    });
  });
  after(() => cwl.close());

  it('start(): reachable and credentials accepted; says when the group is missing and will not be created', async () => {
    const log = capture();
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/not-there' });
    await sink.start(log);
    assert.ok(log.lines.some((l) => l.level === 'warn' && /log group '\/agent-audit\/not-there' does not exist and create_log_group is off/.test(l.msg)), JSON.stringify(log.lines));
    assert.ok(log.lines.some((l) => l.level === 'info' && l.msg === 'CloudWatch Logs reachable, credentials accepted'));
    assert.equal(cwl.requests.at(-1)!.op, 'DescribeLogGroups');
    await sink.close();
  });

  it('start(): unknown access key and wrong secret are fatal with a clear message; an unreachable endpoint is not', async () => {
    const unknown = sinkFor(cwl.url, { access_key_id: 'AKIANOTKNOWN00000000' });
    await assert.rejects(unknown.start(silentLogger), (e: Error) => e instanceof SinkFatalError && /UnrecognizedClientException.*does not know this access key id/.test(e.message) && !e.message.includes(LOCAL_SECRET_ACCESS_KEY));
    const wrongSecret = sinkFor(cwl.url, { secret_access_key: 'not-the-secret' });
    await assert.rejects(wrongSecret.start(silentLogger), (e: Error) => e instanceof SinkFatalError && /InvalidSignatureException.*secret access key does not belong/.test(e.message) && !e.message.includes('not-the-secret'));
    const gone = await CloudWatchLogsEndpoint.start();
    const url = gone.url;
    await gone.close();
    const down = sinkFor(url);
    await assert.rejects(down.start(silentLogger), (e: Error) => !(e instanceof SinkFatalError) && /did not answer the start-up check: CloudWatch Logs unreachable: ECONNREFUSED/.test(e.message));
    await Promise.all([unknown.close(), wrongSecret.close(), down.close()]);
  });

  it('the standard credential chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) when no keys are set', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = LOCAL_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = LOCAL_SECRET_ACCESS_KEY;
    try {
      const sink = sinkFor(cwl.url, { access_key_id: undefined, secret_access_key: undefined, log_group: '/agent-audit/chain', create_log_group: true });
      await sink.start(silentLogger);
      assert.deepEqual(statuses(await sink.send(events(3))), ['accepted', 'accepted', 'accepted']);
      assert.equal(cwl.puts().at(-1)!.accessKeyId, LOCAL_ACCESS_KEY_ID);
      await sink.close();
    } finally {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });

  it('creates the missing group (with retention) and stream only on ResourceNotFoundException, never DescribeLogStreams or sequence tokens', async () => {
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/{{ tenant.id ?? shared }}', log_stream: '{{ origin.host }}/%Y-%m-%d', create_log_group: true, retention_days: 30 });
    const from = cwl.requests.length;
    const at = Date.now() - HOUR;
    const day = new Date(at).toISOString().slice(0, 10);
    const batch = [event(1, at, { tenant: { id: 'acme' } }), event(2, at + 1), event(3, at + 2, { tenant: { id: 'acme' } })];
    assert.deepEqual(statuses(await sink.send(batch)), ['accepted', 'accepted', 'accepted']);
    assert.equal(cwl.groups.get('/agent-audit/acme')!.retentionInDays, 30);
    assert.equal(cwl.groups.get('/agent-audit/shared')!.retentionInDays, 30);
    assert.deepEqual(cwl.events('/agent-audit/acme', `node-1/${day}`).map((e) => (JSON.parse(e.message) as AuditEvent).event.id), ['ev-1', 'ev-3']);
    assert.equal(cwl.events('/agent-audit/shared', `node-1/${day}`)[0]!.timestamp, at + 1);
    const ops = cwl.requests.slice(from).map((r) => `${r.op}${r.errorType ? `:${r.errorType}` : ''}`);
    assert.deepEqual(ops.filter((o) => o.startsWith('PutLogEvents')).sort(), ['PutLogEvents', 'PutLogEvents', 'PutLogEvents:ResourceNotFoundException', 'PutLogEvents:ResourceNotFoundException']);
    assert.ok(!ops.some((o) => o.startsWith('DescribeLogStreams')));
    assert.ok(cwl.requests.slice(from).every((r) => r.sequenceToken === undefined));
    // The next batch goes straight to PutLogEvents.
    const next = cwl.requests.length;
    assert.deepEqual(statuses(await sink.send([event(4, at + 3, { tenant: { id: 'acme' } })])), ['accepted']);
    assert.deepEqual(cwl.requests.slice(next).map((r) => r.op), ['PutLogEvents']);
    await sink.close();
  });

  it('missing group with create_log_group off: retriable with the reason until the group exists', async () => {
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/later' });
    const r = await sink.send(events(2, 10));
    assert.deepEqual(statuses(r), ['retriable', 'retriable']);
    assert.match(reasons(r)[0]!, /log group '\/agent-audit\/later' does not exist and create_log_group is off/);
    cwl.createGroup('/agent-audit/later');
    assert.deepEqual(statuses(await sink.send(events(2, 10))), ['accepted', 'accepted']);
    assert.equal(cwl.events('/agent-audit/later', 'main').length, 2);
    await sink.close();
  });

  it('calls within the API rules: ≤10,000 events, ≤1,048,576 bytes with 26 per event, sorted, ≤24 h span', async () => {
    cwl.createStream('/agent-audit/limits', 'main');
    const small = sinkFor(cwl.url, { log_group: '/agent-audit/limits' }, { ...canonical, encode: (e) => ({ id: e.event.id }) });
    const from = cwl.requests.length;
    // 25,000 small events, handed over in reverse time order.
    const many = events(25_000, 1000).reverse();
    assert.equal(count(await small.send(many), 'accepted'), 25_000);
    await small.close();
    const calls = cwl.requests.slice(from);
    assert.ok(calls.every((c) => c.status === 200 && c.events! <= 10_000), JSON.stringify(calls));
    assert.equal(calls.length, 3);
    const stored = cwl.events('/agent-audit/limits', 'main');
    assert.ok(stored.every((e, k) => k === 0 || e.timestamp >= stored[k - 1]!.timestamp));
    // Canonical events of ~430 bytes: the 1,048,576-byte rule cuts first.
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/limits' });
    const c0 = cwl.requests.length;
    const canon = events(10_000, 50_000);
    const perEvent = Buffer.byteLength(JSON.stringify(canon[0])) + 26;
    assert.equal(count(await sink.send(canon), 'accepted'), 10_000);
    const sizes = cwl.requests.slice(c0).map((c) => c.events!);
    assert.ok(sizes.every((n) => n * perEvent <= 1_048_576 + n * 2) && sizes.length === Math.ceil((10_000 * perEvent) / 1_048_576), `${sizes} at ~${perEvent} bytes`);
    // 12 events of ~200 KB: at most 5 per call.
    const big = events(12, 30_000).map((e) => ({ ...e, event: { ...e.event, reason: 'y'.repeat(200 * 1024) } }) as AuditEvent);
    const b0 = cwl.requests.length;
    assert.equal(count(await sink.send(big), 'accepted'), 12);
    assert.deepEqual(cwl.requests.slice(b0).map((c) => c.events), [5, 5, 2]);
    // Three days of events (all within 14 days): one call per 24 hours.
    const spread = [0, 1, 2].flatMap((d) => events(3, 40_000 + d * 10, Date.now() - 4 * DAY + d * DAY));
    const s0 = cwl.requests.length;
    assert.equal(count(await sink.send(spread), 'accepted'), 9);
    assert.deepEqual(cwl.requests.slice(s0).map((c) => c.events), [3, 3, 3]);
    await sink.close();
  });

  it('the endpoint refuses what the API refuses (the real SDK, no sink in between)', async () => {
    cwl.createStream('/agent-audit/raw', 'main');
    const { PutLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
    const client = sinkFor(cwl.url).client;
    const put = (logEvents: { timestamp: number; message: string }[]) => client.send(new PutLogEventsCommand({ logGroupName: '/agent-audit/raw', logStreamName: 'main', logEvents }));
    const t = Date.now() - HOUR;
    await assert.rejects(put([{ timestamp: t + 1, message: 'b' }, { timestamp: t, message: 'a' }]), { name: 'InvalidParameterException', message: 'Log events in a single PutLogEvents request must be in chronological order.' });
    await assert.rejects(put([{ timestamp: t - 2 * DAY, message: 'a' }, { timestamp: t, message: 'b' }]), { name: 'InvalidParameterException', message: 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.' });
    await assert.rejects(put([{ timestamp: t, message: 'x'.repeat(1_048_551) }]), { name: 'InvalidParameterException', message: 'Log event too large: 1048577 bytes exceeds limit of 1048576' });
    await put([{ timestamp: t, message: 'x'.repeat(1_048_550) }]);
    await assert.rejects(put([{ timestamp: t, message: 'x'.repeat(600_000) }, { timestamp: t, message: 'y'.repeat(600_000) }]), { name: 'InvalidParameterException', message: 'Upload too large: 1200052 bytes exceeds limit of 1048576' });
    await assert.rejects(put(Array.from({ length: 10_001 }, () => ({ timestamp: t, message: 'm' }))), (e: Error) => e.name === 'InvalidParameterException' && /length less than or equal to 10000/.test(e.message));
    await assert.rejects(client.send(new PutLogEventsCommand({ logGroupName: '/agent-audit/raw', logStreamName: 'nope', logEvents: [{ timestamp: t, message: 'a' }] })), { name: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' });
    client.destroy();
  });

  it('too old (> 14 days) and too new (> 2 h ahead) are dead-lettered with the reason before any call; oversized too', async () => {
    cwl.createStream('/agent-audit/time', 'main');
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/time' });
    const now = Date.now();
    const big = { ...event(4, now - HOUR), event: { ...event(4, now - HOUR).event, reason: 'z'.repeat(1_100_000) } } as AuditEvent;
    const from = cwl.requests.length;
    const r = await sink.send([event(1, now - 15 * DAY), event(2, now - HOUR), event(3, now + 3 * HOUR), big]);
    assert.deepEqual(statuses(r), ['rejected', 'accepted', 'rejected', 'rejected']);
    assert.match(reasons(r)[0]!, /older than 14 days: event\.time .* is 15\.0 days old/);
    assert.match(reasons(r)[2]!, /more than 2 hours in the future: event\.time .* is 3\.0 hours ahead/);
    assert.match(reasons(r)[3]!, /over the maximum event size of 1,048,576 bytes \(set oversized_events: split/);
    assert.deepEqual(cwl.requests.slice(from).map((c) => c.events), [1]);
    await sink.close();
  });

  it('oversized_events: split sends an event in parts that put it back together', async () => {
    cwl.createStream('/agent-audit/split', 'main');
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/split', oversized_events: 'split' });
    const e = { ...event(5, Date.now() - HOUR), event: { ...event(5, Date.now() - HOUR).event, reason: 'é"\\'.repeat(700_000) } } as AuditEvent;
    assert.deepEqual(statuses(await sink.send([e])), ['accepted']);
    const parts = cwl.events('/agent-audit/split', 'main').map((s) => JSON.parse(s.message) as { agent_audit_part: { event_id: string; index: number; count: number }; data: string });
    assert.ok(parts.length >= 4, `${parts.length} parts`);
    assert.ok(parts.every((p, k) => p.agent_audit_part.event_id === 'ev-5' && p.agent_audit_part.index === k + 1 && p.agent_audit_part.count === parts.length));
    assert.deepEqual(JSON.parse(parts.map((p) => p.data).join('')), JSON.parse(JSON.stringify(e)));
    await sink.close();
  });

  it('rejectedLogEventsInfo (too old, expired by retention, too new by the service clock) becomes per-event rejections; the rest accepted', async () => {
    cwl.createStream('/agent-audit/info', 'main');
    cwl.groups.get('/agent-audit/info')!.retentionInDays = 3;
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/info' });
    const now = Date.now();
    // The service's clock runs 1 day ahead: 13.5 days old is too old there (and 5 days is past
    // the group's 3-day retention), while 1.5 h ahead is now in its past.
    cwl.clockSkewMs = DAY;
    try {
      const batch = [event(1, now + 1.5 * HOUR), event(2, now - 13.5 * DAY), event(3, now - 5 * DAY), event(4, now), event(5, now - 2 * HOUR)];
      const r = await sink.send(batch);
      assert.deepEqual(statuses(r), ['accepted', 'rejected', 'rejected', 'accepted', 'accepted']);
      assert.match(reasons(r)[1]!, /older than 14 days \(rejectedLogEventsInfo\.tooOldLogEventEndIndex\)/);
      assert.match(reasons(r)[2]!, /retention period \(rejectedLogEventsInfo\.expiredLogEventEndIndex\)/);
      // ...and with the clock 3 hours behind, 1.5 h ahead is too new there.
      cwl.clockSkewMs = -3 * HOUR;
      const r2 = await sink.send([event(6, now + 1.5 * HOUR), event(7, now - HOUR)]);
      assert.deepEqual(statuses(r2), ['rejected', 'accepted']);
      assert.match(reasons(r2)[0]!, /more than 2 hours in the future by the service's clock \(rejectedLogEventsInfo\.tooNewLogEventStartIndex\)/);
      assert.deepEqual(cwl.events('/agent-audit/info', 'main').map((e) => (JSON.parse(e.message) as AuditEvent).event.id).sort(), ['ev-1', 'ev-4', 'ev-5', 'ev-7']);
    } finally {
      cwl.clockSkewMs = 0;
    }
    await sink.close();
  });

  it('InvalidParameterException for one event: that event is found and rejected, the other 99 delivered', async () => {
    cwl.createStream('/agent-audit/invalid', 'main');
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/invalid' });
    const batch = events(100, 2000);
    batch[37] = { ...batch[37]!, event: { ...batch[37]!.event, reason: 'refuse-me' } } as AuditEvent;
    const from = cwl.requests.length;
    const r = await sink.send(batch);
    assert.equal(count(r, 'accepted'), 99);
    assert.equal(r.outcomes[37]!.status, 'rejected');
    assert.match(reasons(r)[37]!, /^CloudWatch Logs refused the event: InvalidParameterException \(HTTP 400\): 1 validation error detected/);
    assert.equal(cwl.events('/agent-audit/invalid', 'main').length, 99);
    assert.ok(cwl.requests.length - from <= 2 * Math.ceil(Math.log2(100)) + 1, `${cwl.requests.length - from} calls`);
    await sink.close();
  });

  it('ThrottlingException and ServiceUnavailableException are retriable with a backoff hint; the batch goes through after', async () => {
    cwl.createStream('/agent-audit/throttle', 'main');
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/throttle', log_stream: 's-{{ event.id }}', concurrency: 1 });
    // Ten streams, ten calls: after the throttled call the others are not even sent.
    const batch = events(10, 3000);
    for (const e of batch) cwl.createStream('/agent-audit/throttle', `s-${e.event.id}`);
    cwl.throttle(1);
    const from = cwl.requests.length;
    const r = await sink.send(batch);
    assert.deepEqual(new Set(statuses(r)), new Set(['retriable']));
    assert.ok((r.retryAfterMs ?? 0) >= 1000);
    assert.ok(reasons(r).some((x) => /^ThrottlingException \(HTTP 400\): Rate exceeded$/.test(x)));
    assert.equal(cwl.requests.length - from, 1, 'stops putting once throttled');
    cwl.unavailable(1);
    const r2 = await sink.send(batch.slice(0, 1));
    assert.deepEqual(statuses(r2), ['retriable']);
    assert.match(reasons(r2)[0]!, /ServiceUnavailableException \(HTTP 500\)/);
    assert.equal(count(await sink.send(batch), 'accepted'), 10);
    await sink.close();
  });

  it('endpoint down, then back: retriable with a clear reason, then delivered', async () => {
    const own = await CloudWatchLogsEndpoint.start();
    own.createStream('/agent-audit/test', 'main');
    const sink = sinkFor(own.url);
    assert.equal(count(await sink.send(events(2, 4000)), 'accepted'), 2);
    await own.down();
    const r = await sink.send(events(2, 4002));
    assert.deepEqual(statuses(r), ['retriable', 'retriable']);
    assert.match(reasons(r)[0]!, /CloudWatch Logs unreachable: (ECONNREFUSED|ECONNRESET)/);
    await own.up();
    assert.equal(count(await sink.send(events(2, 4002)), 'accepted'), 2);
    assert.equal(own.events('/agent-audit/test', 'main').length, 4);
    await sink.close();
    await own.close();
  });

  it('AccessDenied is fatal and names the permissions needed', async () => {
    cwl.createStream('/agent-audit/forbidden', 'main');
    const sink = sinkFor(cwl.url, { log_group: '/agent-audit/forbidden' });
    await assert.rejects(sink.send(events(1)), (e: Error) => e instanceof SinkFatalError && /AccessDeniedException.*not authorized to perform: logs:PutLogEvents.*the sink needs logs:PutLogEvents/.test(e.message));
    await sink.close();
  });

  it('the config fragment validates a full block', async () => {
    const { configValidator } = await import('../../src/config/schema.ts');
    const validate = configValidator();
    const ok = { sources: { a: { type: 'file', include: ['/x/*.jsonl'] } }, sinks: { c: { type: 'cloudwatch_logs', region: 'eu-west-1', log_group: '/agent-audit/{{ tenant.id ?? shared }}', log_stream: '%Y-%m-%d', create_log_group: true, retention_days: 90, batch: { max_events: 5000, timeout: '2s' } } } };
    assert.ok(validate(structuredClone(ok)), JSON.stringify(validate.errors));
    const bad = structuredClone(ok) as { sinks: { c: Record<string, unknown> } };
    bad.sinks.c.retention_days = 2;
    assert.equal(validate(bad), false);
    const none = structuredClone(ok) as { sinks: { c: Record<string, unknown> } };
    delete none.sinks.c.log_group;
    assert.equal(validate(none), false);
  });
});
