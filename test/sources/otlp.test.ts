import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { parseConfig } from '../../src/config/load.ts';
import type { SourceBlock } from '../../src/config/types.ts';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { OtlpSource, otlpSourceOptions } from '../../src/sources/otlp/index.ts';
import { HttpPipeline } from '../support/http-pipeline.ts';

// Claude Code-style OTLP log exports and OpenTelemetry GenAI trace exports (the fixtures in
// test/fixtures/formats/), sent over real HTTP as OTLP/JSON and as protobuf (built here with
// protobufjs from the same .proto definitions), plain and gzip, into the OTLP source with the
// real normalizer, ingest, spool and dead-letter queue behind it.

const PROTO_DIR = new URL('../../src/sources/otlp/proto/', import.meta.url).pathname;
const root = new protobuf.Root();
root.resolvePath = (_o, t) => join(PROTO_DIR, t);
root.loadSync(['opentelemetry/proto/collector/logs/v1/logs_service.proto', 'opentelemetry/proto/collector/trace/v1/trace_service.proto', 'google/rpc/status.proto']);
const LogsRequest = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
const LogsResponse = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse');
const TraceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const TraceResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
const Status = root.lookupType('google.rpc.Status');

type Obj = Record<string, any>;

const lines = (name: string): string[] => readFileSync(new URL(`../fixtures/formats/${name}.jsonl`, import.meta.url), 'utf8').split('\n').filter((l) => l.trim() !== '');
const claude = lines('claude_code_otel_logs');
const genai = lines('otel_genai_traces');
const CANARIES = ['ghp_QLWhtjNZ8JJ7P3JIAVWEqt4H2hIcEdoxuNU3', 'sk-proj-6dyxTGmY3P21SHESjoZxT3BlbkFJlaFDW5OQpt4CueAQCwS6', 'sk-proj-OsaxzDcAKYyuK4a5q3yqT3BlbkFJLuKTqT6qbMSjY5TdLGSt', 'eyJzdWIiOiJlNDBjODQxOC05NTUxLTQ5YTctYTM0Ny0xYjlhNWM5M2M0YzUiLCJpYXQiOjE3ODYwMDAwMDB9'];
const TOKEN = 'otlp-ingest-token-0123456789abcdef';

/** OTLP/JSON → protobuf, as an SDK exporter would send it: hex ids become bytes. */
function toProtobuf(type: protobuf.Type, json: string): Buffer {
  const o = JSON.parse(json) as Obj;
  const b64 = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'hex').toString('base64') : v);
  for (const r of o.resourceLogs ?? o.resourceSpans ?? []) {
    for (const s of r.scopeLogs ?? r.scopeSpans ?? []) {
      for (const item of s.logRecords ?? s.spans ?? []) {
        for (const k of ['traceId', 'spanId', 'parentSpanId']) if (k in item) item[k] = b64(item[k]);
        for (const l of item.links ?? []) for (const k of ['traceId', 'spanId']) if (k in l) l[k] = b64(l[k]);
      }
    }
  }
  const bytes = Buffer.from(type.encode(type.fromObject(o)).finish());
  // fromObject skips what the proto does not know: make sure nothing of the fixture was lost.
  const back = type.toObject(type.decode(bytes), { longs: String, enums: Number, bytes: String, json: true });
  assert.deepEqual(back, intsAsStrings(o), 'the fixture fits the OTLP proto');
  return bytes;
}

/**
 * The fixture as proto3 carries it: the JS OTLP exporter writes intValue as a JSON number (proto3
 * JSON: a string), and zero values and empty lists are not sent (except as AnyValue members).
 */
function intsAsStrings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(intsAsStrings);
  if (v === null || typeof v !== 'object') return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const member = k === 'intValue' || k === 'doubleValue' || k === 'stringValue' || k === 'boolValue';
    if (!member && (x === 0 || x === '' || x === false || (Array.isArray(x) && x.length === 0))) continue;
    out[k] = k === 'intValue' && typeof x === 'number' ? String(x) : intsAsStrings(x);
  }
  return out;
}

function itemsOf(json: string): number {
  const o = JSON.parse(json) as Obj;
  let n = 0;
  for (const r of o.resourceLogs ?? o.resourceSpans ?? []) for (const s of r.scopeLogs ?? r.scopeSpans ?? []) n += (s.logRecords ?? s.spans ?? []).length;
  return n;
}

/** What an event says, without what depends on the transport (ids, position, raw digest, time read, chain). */
function content(e: AuditEvent): Obj {
  const c = structuredClone(e) as Obj;
  delete c.chain;
  delete c.event.id;
  delete c.event.observed_time;
  delete c.origin.position;
  delete c.origin.raw_sha256;
  delete c.origin.raw_bytes;
  return c;
}

function block(yaml: string): SourceBlock {
  return parseConfig(`sources:\n  otel:\n${yaml.replace(/^/gm, '    ')}\nsinks:\n  out: { type: stdout }\n`, '/etc/agent-audit/agent-audit.yaml').sources.otel!;
}

async function send(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const JSON_H = { 'content-type': 'application/json' };
const PB_H = { 'content-type': 'application/x-protobuf' };

describe('OTLP source: logs and traces, JSON and protobuf, gzip', () => {
  let p: HttpPipeline;
  let source: OtlpSource;
  let auto: OtlpSource;
  before(async () => {
    const b = block(`type: otlp\nmax_body_bytes: 256KiB\nauth:\n  tokens: ["${TOKEN}"]`);
    const a = block('type: otlp\nsignals: [logs]\nlogs_path: /auto/v1/logs');
    p = await HttpPipeline.start({ otel: b, auto: a });
    source = new OtlpSource('otel', otlpSourceOptions('otel', b), { http: p.server, logger: p.logger.child({ source: 'otel' }) });
    await source.start(p.ingest);
    auto = new OtlpSource('auto', otlpSourceOptions('auto', a), { http: p.server, logger: p.logger.child({ source: 'auto' }) });
    await auto.start(p.ingest);
  });
  after(async () => {
    await p.close([source, auto]);
  });
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('Claude Code log exports as OTLP/JSON: 200 with an empty ExportLogsServiceResponse, one event per log record, durable', async () => {
    const before = (await p.events()).length;
    let items = 0;
    for (const line of claude) {
      const r = await send(p.url('/v1/logs'), line, { ...JSON_H, ...auth });
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.deepEqual(JSON.parse(r.body.toString()), {}, 'full success: no partial_success');
      items += itemsOf(line);
    }
    const events = (await p.events()).slice(before);
    assert.equal(events.length, items);
    assert.ok(events.every((e) => e.origin.format === 'claude_code_otel_logs' && e.origin.input === 'otlp'));
    assert.ok(events.some((e) => e.event.action === 'llm.call' && e.gen_ai?.usage?.input_tokens !== undefined));
  });

  it('the same exports as protobuf, plain and gzip: the same events as from JSON (one mapping serves both encodings)', async () => {
    const fromJson = (await p.events()).filter((e) => e.origin.format === 'claude_code_otel_logs').map(content);
    const before = (await p.events()).length;
    for (const [i, line] of claude.entries()) {
      const pb = toProtobuf(LogsRequest, line);
      const gzip = i % 2 === 1;
      const r = await send(p.url('/v1/logs'), gzip ? gzipSync(pb) : pb, { ...PB_H, ...auth, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.headers.get('content-type'), 'application/x-protobuf');
      const response = LogsResponse.toObject(LogsResponse.decode(r.body));
      assert.deepEqual(response, {}, 'full success');
    }
    const fromProtobuf = (await p.events()).slice(before).map(content);
    assert.equal(fromProtobuf.length, fromJson.length);
    assert.deepEqual(fromProtobuf, fromJson);
  });

  it('GenAI trace exports, JSON and gzip protobuf, give the same events', async () => {
    const before = (await p.events()).length;
    for (const line of genai) assert.equal((await send(p.url('/v1/traces'), gzipSync(line), { ...JSON_H, ...auth, 'content-encoding': 'gzip' })).status, 200);
    const mid = (await p.events()).length;
    for (const line of genai) {
      const r = await send(p.url('/v1/traces'), gzipSync(toProtobuf(TraceRequest, line)), { ...PB_H, ...auth, 'content-encoding': 'gzip' });
      assert.equal(r.status, 200);
      assert.deepEqual(TraceResponse.toObject(TraceResponse.decode(r.body)), {});
    }
    const all = await p.events();
    const json = all.slice(before, mid);
    assert.equal(json.length, genai.reduce((n, l) => n + itemsOf(l), 0));
    assert.ok(json.every((e) => e.origin.format === 'otel_genai_traces'));
    assert.ok(json.some((e) => e.trace?.trace_id !== undefined && /^[0-9a-f]{32}$/.test(e.trace.trace_id)), 'trace ids are hex');
    assert.deepEqual(all.slice(mid).map(content), json.map(content));
  });

  it('partial success: items that cannot become events are dead-lettered and reported in rejected_log_records, in the request\'s encoding', async () => {
    const request = {
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
        scopeLogs: [{
          scope: { name: 'com.anthropic.claude_code.events', version: '2.1.3' },
          logRecords: [
            { timeUnixNano: '1786700015000000000', body: { stringValue: 'claude_code.user_prompt' }, attributes: [{ key: 'session.id', value: { stringValue: 's-1' } }, { key: 'prompt', value: { stringValue: `deploy with ${CANARIES[1]}` } }] },
            { body: { stringValue: 'claude_code.user_prompt' }, attributes: [{ key: 'session.id', value: { stringValue: 's-2' } }] },
            { timeUnixNano: '1786700016000000000', body: { stringValue: 'claude_code.api_request' }, attributes: [{ key: 'model', value: { stringValue: 'claude-sonnet-4' } }, { key: 'input_tokens', value: { intValue: '12' } }] },
          ],
        }],
      }],
    };
    const before = (await p.events()).length;
    const json = await send(p.url('/v1/logs'), JSON.stringify(request), { ...JSON_H, ...auth });
    assert.equal(json.status, 200);
    const answer = JSON.parse(json.body.toString()) as Obj;
    assert.equal(answer.partialSuccess.rejectedLogRecords, '1', 'int64 as a string in OTLP/JSON');
    assert.match(answer.partialSuccess.errorMessage, /1 of 3 log records .*dead-letter queue/);
    const pb = await send(p.url('/v1/logs'), toProtobuf(LogsRequest, JSON.stringify(request)), { ...PB_H, ...auth });
    const decoded = LogsResponse.toObject(LogsResponse.decode(pb.body), { longs: Number }) as Obj;
    assert.equal(decoded.partialSuccess.rejectedLogRecords, 1);
    assert.equal((await p.events()).length, before + 4, 'the good records of both requests are durable');
    const letters = p.deadLetters().filter((l) => l.reason === 'schema_invalid' && l.source === 'otel');
    assert.equal(letters.length, 2);
    for (const l of letters) {
      assert.equal(l.position.kind, 'http');
      assert.ok(l.position.kind === 'http' && l.position.path === '/v1/logs' && /^sha256:[0-9a-f]{32}$/.test(l.position.deliveryId));
      assert.ok(!l.raw.includes(CANARIES[1]!), 'dead letter redacted');
    }
    // A request no mapping recognises: every record is rejected, still kept.
    const foreign = { resourceLogs: [{ scopeLogs: [{ scope: { name: 'io.example.billing' }, logRecords: [{ timeUnixNano: '1786700017000000000', body: { stringValue: 'invoice paid' } }, { timeUnixNano: '1786700018000000000', body: { stringValue: 'invoice sent' } }] }] }] };
    const all = await send(p.url('/auto/v1/logs'), JSON.stringify(foreign), JSON_H);
    assert.equal(all.status, 200);
    assert.equal((JSON.parse(all.body.toString()) as Obj).partialSuccess.rejectedLogRecords, '2');
    assert.ok(p.deadLetters().some((l) => l.source === 'auto' && l.reason === 'no_mapping'));
    assert.equal(source.stats().requests?.partial, 2);
  });

  it('400 with a google.rpc.Status for bodies that are not export requests; each is dead-lettered with its position', async () => {
    const badJson = await send(p.url('/v1/logs'), `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"${CANARIES[0]}"}`, { ...JSON_H, ...auth });
    assert.equal(badJson.status, 400);
    const s1 = JSON.parse(badJson.body.toString()) as Obj;
    assert.equal(s1.code, 3);
    assert.match(s1.message, /unexpected end of input/);
    const badPb = await send(p.url('/v1/logs'), Buffer.from([0x0a, 0xff, 0xff, 0x03, 0x01]), { ...PB_H, ...auth });
    assert.equal(badPb.status, 400);
    const s2 = Status.toObject(Status.decode(badPb.body)) as Obj;
    assert.equal(s2.code, 3);
    assert.match(s2.message, /not a protobuf ExportLogsServiceRequest/);
    const badGzip = await send(p.url('/v1/logs'), Buffer.from('not gzip at all'), { ...JSON_H, ...auth, 'content-encoding': 'gzip' });
    assert.equal(badGzip.status, 400);
    const wrongEndpoint = await send(p.url('/v1/logs'), genai[0]!, { ...JSON_H, ...auth });
    assert.equal(wrongEndpoint.status, 400);
    assert.match((JSON.parse(wrongEndpoint.body.toString()) as Obj).message, /resourceSpans.*wrong endpoint/);
    const reasons = p.deadLetters().filter((l) => l.source === 'otel').map((l) => l.reason);
    for (const r of ['invalid_json', 'invalid_otlp', 'invalid_gzip']) assert.ok(reasons.includes(r as never), `dead letter ${r}`);
    const j = p.deadLetters().find((l) => l.reason === 'invalid_json')!;
    assert.ok(j.position.kind === 'http' && j.position.path === '/v1/logs');
    assert.ok(!j.raw.includes(CANARIES[0]!), 'redacted');
  });

  it('413 over max_body_bytes, on the wire and after gzip; 415, 405, 401', async () => {
    const big = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'x'.repeat(300 * 1024) } }] }] }] });
    const wire = await send(p.url('/v1/logs'), big, { ...JSON_H, ...auth });
    assert.equal(wire.status, 413);
    const bomb = gzipSync(big);
    assert.ok(bomb.length < 256 * 1024);
    const inflated = await send(p.url('/v1/logs'), bomb, { ...JSON_H, ...auth, 'content-encoding': 'gzip' });
    assert.equal(inflated.status, 413);
    assert.match((JSON.parse(inflated.body.toString()) as Obj).message, /once decompressed/);
    assert.equal((await send(p.url('/v1/logs'), '{}', { 'content-type': 'text/plain', ...auth })).status, 415);
    const get = await fetch(p.url('/v1/traces'));
    assert.equal(get.status, 405);
    await get.arrayBuffer();
    const noToken = await send(p.url('/v1/logs'), claude[0]!, JSON_H);
    assert.equal(noToken.status, 401);
    assert.equal((JSON.parse(noToken.body.toString()) as Obj).code, 16);
    assert.equal((await send(p.url('/v1/logs'), claude[0]!, { ...JSON_H, authorization: 'Bearer not-the-token-0123456789' })).status, 401);
    const r = source.stats().requests!;
    assert.equal(r.body_too_large, 2);
    assert.equal(r.unsupported_media_type, 1);
    assert.equal(r.method_not_allowed, 1);
    assert.equal(r.bad_token, 1);
    assert.equal(r.missing_token, 1);
  });

  it('no canary secret of the exports, nor the bearer token, reached the disk', () => {
    for (const secret of [...CANARIES, TOKEN]) assert.deepEqual(p.filesContaining(secret), [], `${secret.slice(0, 12)}… on disk`);
  });
});

describe('OTLP source: spool full', () => {
  let p: HttpPipeline;
  let source: OtlpSource;
  before(async () => {
    const b = block('type: otlp\nretry_after: 7s');
    p = await HttpPipeline.start({ otel: b }, { spoolMaxBytes: 64 * 1024 });
    source = new OtlpSource('otel', otlpSourceOptions('otel', b), { http: p.server, logger: p.logger });
    await source.start(p.ingest);
  });
  after(async () => {
    await p.close([source]);
  });

  it('503 with Retry-After and a retryable Status (UNAVAILABLE) while full; accepted again once sinks catch up', async () => {
    let refused: { status: number; headers: Headers; body: Buffer } | undefined;
    let i = 0;
    for (; i < 500 && refused === undefined; i++) {
      const r = await send(p.url('/v1/logs'), toProtobuf(LogsRequest, claude[i % claude.length]!), PB_H);
      if (r.status === 503) refused = r;
      else assert.equal(r.status, 200);
    }
    assert.ok(refused, 'the spool filled up');
    assert.equal(refused.headers.get('retry-after'), '7');
    const status = Status.toObject(Status.decode(refused.body)) as Obj;
    assert.equal(status.code, 14);
    const durable = (await p.events()).length;
    await p.confirmAll();
    const retry = await send(p.url('/v1/logs'), toProtobuf(LogsRequest, claude[(i - 1) % claude.length]!), PB_H);
    assert.equal(retry.status, 200);
    assert.ok((await p.events()).length > durable);
    assert.ok(source.stats().requests!.spool_full! >= 1);
  });
});
