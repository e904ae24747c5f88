import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import type { SourceBlock } from '../../src/config/types.ts';
import { WebhookSource, webhookSourceOptions } from '../../src/sources/webhook/index.ts';
import { HttpPipeline } from '../support/http-pipeline.ts';

// OpenAI's real webhook deliveries (test/fixtures/formats/openai_webhooks.jsonl, signed with the
// secret FORMATS.md gives) replayed over real HTTP into the webhook source, with the real
// normalizer, ingest, spool and dead-letter queue behind it, and a clock the test moves to the
// time each delivery was sent.

const SECRET = 'whsec_Zm9ybWF0cy1yZXNlYXJjaC1vcGVuYWktd2ViaG9vayE=';
const ROTATED = 'whsec_Zm9ybWF0cy1yZXNlYXJjaC1yb3RhdGVkLXNlY3JldDA=';
const UNKNOWN = 'whsec_c29tZS1vdGhlci1wcm9qZWN0cy1zZWNyZXQtdmFsdWUh';
const CANARY_KEY = 'sk-proj-CANARYwebhookCANARY0123456789abcdefXYZ';
const CANARY_BEARER = 'eyJhbGciOiJIUzI1NiJ9.eyJjYW5hcnkiOiJ3ZWJob29rIn0.Q2FuYXJ5V2ViaG9va1NpZzEyMw';

interface Delivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}

const deliveries: Delivery[] = readFileSync(new URL('../fixtures/formats/openai_webhooks.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Delivery);

/** Standard Webhooks signing, as the sender does it (independent of the source's verifier). */
function sign(secret: string, id: string, timestamp: string, body: string | Buffer): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

function signed(id: string, timestamp: number, body: string, secret = SECRET): Record<string, string> {
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': sign(secret, id, String(timestamp), body) };
}

/** A source block validated (and defaulted) by the real config schema. */
function block(yaml: string): SourceBlock {
  const c = parseConfig(`sources:\n  hook:\n${yaml.replace(/^/gm, '    ')}\nsinks:\n  out: { type: stdout }\n`, '/etc/agent-audit/agent-audit.yaml');
  return c.sources.hook!;
}

const OPENAI = `type: webhook
path: /webhooks/openai
format: openai_webhooks
verify:
  preset: standard_webhooks
  secrets: ["${SECRET}"]`;

async function post(url: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('webhook source: OpenAI deliveries (Standard Webhooks)', () => {
  let p: HttpPipeline;
  let source: WebhookSource;
  let auto: WebhookSource;
  let now = 0;
  const start = (b: SourceBlock, name = 'hook') => {
    const s = new WebhookSource(name, webhookSourceOptions(name, b, () => now), { http: p.server, stateDir: p.stateDir(name), logger: p.logger.child({ source: name }) });
    return s;
  };

  before(async () => {
    const b = block(OPENAI);
    // Format auto-detection: a body no mapping recognises is unmappable.
    const a = block(OPENAI.replace('/webhooks/openai', '/webhooks/auto').replace('format: openai_webhooks', 'format: auto'));
    p = await HttpPipeline.start({ hook: b, auto: a });
    source = start(b);
    await source.start(p.ingest);
    auto = start(a, 'auto');
    await auto.start(p.ingest);
  });
  after(async () => {
    await p.close([source, auto]);
  });

  it('accepts every recorded delivery, each once durable, and maps it', async () => {
    for (const d of deliveries) {
      now = Number(d.headers['webhook-timestamp']) * 1000 + 30_000;
      const r = await post(p.url('/webhooks/openai'), d.body, d.headers);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.equal(r.json.status, 'accepted');
      assert.equal(r.json.delivery_id, d.headers['webhook-id']);
    }
    const events = await p.events();
    assert.equal(events.length, deliveries.length, 'one event per delivery, durable before the 2xx');
    for (const [i, d] of deliveries.entries()) {
      const e = events[i]!;
      const body = JSON.parse(d.body) as { id: string; type: string };
      assert.equal(e.event.operation, body.type);
      assert.equal(e.event.request_id, d.headers['webhook-id'], 'webhook-id reached the mapping as metadata');
      assert.equal(e.origin.original_event_id, body.id);
      assert.equal(e.origin.input, 'webhook');
      assert.deepEqual(e.origin.position, { http: { path: '/webhooks/openai', delivery_id: d.headers['webhook-id'] } });
    }
    assert.equal(p.deadLetters().length, 0);
    assert.equal(source.stats().requests?.accepted, deliveries.length);
  });

  it('answers a redelivery (same webhook-id, new timestamp and signature) 2xx without spooling it again', async () => {
    const d = deliveries[1]!;
    const ts = Number(d.headers['webhook-timestamp']) + 600;
    now = ts * 1000;
    const before = (await p.events()).length;
    const r = await post(p.url('/webhooks/openai'), d.body, signed(d.headers['webhook-id']!, ts, d.body));
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'duplicate');
    assert.equal((await p.events()).length, before);
  });

  it('remembers accepted delivery ids across a restart of the source', async () => {
    await source.stop();
    source = start(block(OPENAI));
    await source.start(p.ingest);
    const d = deliveries[2]!;
    now = Number(d.headers['webhook-timestamp']) * 1000;
    const before = (await p.events()).length;
    const r = await post(p.url('/webhooks/openai'), d.body, d.headers);
    assert.equal(r.json.status, 'duplicate');
    assert.equal((await p.events()).length, before);
  });

  it('refuses a delivery signed with an unknown secret, a tampered body and a missing signature: 401, nothing spooled, nothing logged of the body', async () => {
    const before = (await p.events()).length;
    const ts = 1786710000;
    now = ts * 1000;
    const body = JSON.stringify({ object: 'event', id: 'evt_unknown_secret', type: 'response.completed', created_at: ts, data: { id: `resp_${CANARY_KEY}` } });
    const unknown = await post(p.url('/webhooks/openai'), body, signed('wh_unknown_secret_0001', ts, body, UNKNOWN));
    assert.equal(unknown.status, 401);
    assert.equal(unknown.json.error, 'bad_signature');
    const good = signed('wh_tampered_0001', ts, body);
    const tampered = await post(p.url('/webhooks/openai'), body.replace('completed', 'failed'), good);
    assert.equal(tampered.status, 401);
    const missing = await post(p.url('/webhooks/openai'), body, { 'content-type': 'application/json', 'webhook-id': 'wh_x', 'webhook-timestamp': String(ts) });
    assert.equal(missing.status, 401);
    assert.equal(missing.json.error, 'missing_signature');
    assert.equal((await p.events()).length, before);
    assert.equal(p.deadLetters().length, 0, 'an unauthentic body is not kept anywhere');
    const logged = JSON.stringify(p.logger.lines);
    assert.ok(!logged.includes('evt_unknown_secret') && !logged.includes(CANARY_KEY), 'no body in the logs');
    assert.ok(!logged.includes(good['webhook-signature']!.slice(3)), 'no signature in the logs');
    assert.ok(p.logger.lines.some((l) => l.msg === 'webhook delivery refused' && l.obj.reason === 'bad_signature' && l.obj.path === '/webhooks/openai' && l.obj.source === 'hook'));
  });

  it('enforces the 5 minute replay window on authentic deliveries, in both directions', async () => {
    const d = deliveries[3]!;
    const ts = Number(d.headers['webhook-timestamp']);
    const fresh = `wh_replay_${ts}`;
    now = (ts + 301) * 1000;
    const old = await post(p.url('/webhooks/openai'), d.body, signed(fresh, ts, d.body));
    assert.equal(old.status, 401);
    assert.equal(old.json.error, 'stale_timestamp');
    assert.match(String(old.json.message), /301 s in the past \(tolerance 300 s\)/);
    now = (ts - 301) * 1000;
    const future = await post(p.url('/webhooks/openai'), d.body, signed(fresh, ts, d.body));
    assert.equal(future.status, 401);
    now = (ts + 299) * 1000;
    const inside = await post(p.url('/webhooks/openai'), d.body, signed(fresh, ts, d.body));
    assert.equal(inside.status, 200);
  });

  it('400 for a malformed body: kept in the dead-letter queue, redacted, with source and position', async () => {
    const ts = 1786711000;
    now = ts * 1000;
    const truncated = `{"object":"event","id":"evt_truncated","type":"response.failed","created_at":${ts},"data":{"id":"resp_1","note":"${CANARY_KEY}"`;
    const r = await post(p.url('/webhooks/openai'), truncated, signed('wh_truncated_0001', ts, truncated));
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'malformed_body');
    assert.match(String(r.json.message), /unexpected end of input/);
    const empty = await post(p.url('/webhooks/openai'), '', signed('wh_empty_0001', ts, ''));
    assert.equal(empty.status, 400);
    const letters = p.deadLetters();
    const t = letters.find((l) => l.position.kind === 'http' && l.position.deliveryId === 'wh_truncated_0001')!;
    assert.ok(t, 'the truncated body is in the dead-letter queue');
    assert.equal(t.reason, 'invalid_json');
    assert.equal(t.source, 'hook');
    assert.deepEqual(t.position, { kind: 'http', path: '/webhooks/openai', deliveryId: 'wh_truncated_0001' });
    assert.ok(t.raw.includes('evt_truncated'));
    assert.ok(!t.raw.includes(CANARY_KEY), 'the dead letter is redacted');
    assert.ok(letters.some((l) => l.reason === 'empty_record' && l.position.kind === 'http' && l.position.deliveryId === 'wh_empty_0001'));
  });

  it('422 for valid JSON no mapping can read: kept in the dead-letter queue', async () => {
    const ts = 1786712000;
    now = ts * 1000;
    const body = JSON.stringify({ hello: 'not an OpenAI event' });
    const r = await post(p.url('/webhooks/auto'), body, signed('wh_unmappable_01', ts, body));
    assert.equal(r.status, 422, JSON.stringify(r.json));
    const letter = p.deadLetters().find((l) => l.position.kind === 'http' && l.position.deliveryId === 'wh_unmappable_01');
    assert.equal(letter?.reason, 'no_mapping');
    assert.equal(letter?.source, 'auto');
    // Not remembered as accepted: once a mapping is added, the sender's retry gets in.
    const again = await post(p.url('/webhooks/auto'), body, signed('wh_unmappable_01', ts, body));
    assert.equal(again.status, 422);
    assert.equal(auto.stats().requests?.unmappable, 2);
    // The auto-detected OpenAI delivery is accepted on the same source.
    const d = deliveries[0]!;
    now = Number(d.headers['webhook-timestamp']) * 1000;
    assert.equal((await post(p.url('/webhooks/auto'), d.body, d.headers)).status, 200);
  });

  it('405 for other methods, 415 for a compressed body', async () => {
    const get = await fetch(p.url('/webhooks/openai'));
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    await get.text();
    const gz = await post(p.url('/webhooks/openai'), 'x', { 'content-encoding': 'gzip' });
    assert.equal(gz.status, 415);
  });
});

describe('webhook source: key rotation', () => {
  let p: HttpPipeline;
  const sources: WebhookSource[] = [];
  const now = 1786720000 * 1000;
  before(async () => {
    const both = block(`type: webhook\npath: /both\nformat: openai_webhooks\nverify:\n  preset: standard_webhooks\n  secrets: ["${SECRET}", "${ROTATED}"]`);
    const onlyNew = block(`type: webhook\npath: /new\nformat: openai_webhooks\nverify:\n  preset: standard_webhooks\n  secrets: ["${ROTATED}"]`);
    p = await HttpPipeline.start({ both, only_new: onlyNew });
    for (const [name, b] of [['both', both], ['only_new', onlyNew]] as const) {
      const s = new WebhookSource(name, webhookSourceOptions(name, b, () => now), { http: p.server, stateDir: p.stateDir(name), logger: p.logger });
      await s.start(p.ingest);
      sources.push(s);
    }
  });
  after(async () => {
    await p.close(sources);
  });

  it('accepts any configured secret, and a signature list during the sender\'s rotation', async () => {
    const ts = now / 1000;
    const body = (id: string) => JSON.stringify({ object: 'event', id, type: 'batch.completed', created_at: ts, data: { id: 'batch_1' } });
    // Our side rotates: both secrets configured, deliveries signed with either.
    assert.equal((await post(p.url('/both'), body('evt_a'), signed('wh_rot_a', ts, body('evt_a'), SECRET))).status, 200);
    assert.equal((await post(p.url('/both'), body('evt_b'), signed('wh_rot_b', ts, body('evt_b'), ROTATED))).status, 200);
    // The sender rotates: two space-separated v1 signatures, only the new secret configured.
    const b = body('evt_c');
    const list = `${sign(SECRET, 'wh_rot_c', String(ts), b)} ${sign(ROTATED, 'wh_rot_c', String(ts), b)}`;
    assert.equal((await post(p.url('/new'), b, { 'webhook-id': 'wh_rot_c', 'webhook-timestamp': String(ts), 'webhook-signature': list })).status, 200);
    // Neither secret configured there: refused.
    const d = body('evt_d');
    assert.equal((await post(p.url('/new'), d, signed('wh_rot_d', ts, d, SECRET))).status, 401);
    assert.equal((await p.events()).length, 3);
  });
});

describe('webhook source: generic HMAC, bearer token, limits, spool full', () => {
  let p: HttpPipeline;
  const sources: WebhookSource[] = [];
  const GH_SECRET = 'github-webhook-secret-for-tests';
  const TOKEN = 'gateway-token-0123456789abcdef';
  before(async () => {
    const gh = block(`type: webhook\npath: /github\nformat: generic_gateway\ndelivery_id_header: x-github-delivery\nverify:\n  preset: hmac_sha256\n  secrets: ["${GH_SECRET}"]\nmax_body_bytes: 4KiB`);
    const gw = block(`type: webhook\npath: /gateway\nformat: generic_gateway\nverify:\n  preset: bearer\n  tokens: ["${TOKEN}"]`);
    const b64 = block(`type: webhook\npath: /b64\nformat: generic_gateway\nverify:\n  preset: hmac_sha256\n  secrets: ["${GH_SECRET}"]\n  header: x-signature\n  prefix: ""\n  encoding: base64`);
    p = await HttpPipeline.start({ gh, gw, b64 }, { spoolMaxBytes: 48 * 1024 });
    for (const [name, b] of [['gh', gh], ['gw', gw], ['b64', b64]] as const) {
      const s = new WebhookSource(name, webhookSourceOptions(name, b, Date.now), { http: p.server, stateDir: p.stateDir(name), logger: p.logger });
      await s.start(p.ingest);
      sources.push(s);
    }
  });
  after(async () => {
    await p.close(sources);
  });

  const gatewayBody = (i: number, extra = '') => JSON.stringify({ timestamp: '2026-08-14T09:30:01.120Z', request_id: `req-${i}`, agent: 'support-bot', user: 'alice@example.com', endpoint: 'https://api.openai.com/v1/chat/completions', method: 'POST', status: 200, latency_ms: 10, outcome: 'success', model: 'gpt-4o', note: extra });
  const ghSig = (body: string, secret = GH_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  it('hmac_sha256 (GitHub style): verifies the raw body, uses the delivery header as id and de-duplicates by it', async () => {
    const body = gatewayBody(1);
    const ok = await post(p.url('/github'), body, { 'x-hub-signature-256': ghSig(body), 'x-github-delivery': 'gh-delivery-1' });
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.equal(ok.json.delivery_id, 'gh-delivery-1');
    const again = await post(p.url('/github'), body, { 'x-hub-signature-256': ghSig(body), 'x-github-delivery': 'gh-delivery-1' });
    assert.equal(again.json.status, 'duplicate');
    const wrong = await post(p.url('/github'), body, { 'x-hub-signature-256': ghSig(body, 'other-secret'), 'x-github-delivery': 'gh-delivery-2' });
    assert.equal(wrong.status, 401);
    const b64body = gatewayBody(2);
    const b64 = await post(p.url('/b64'), b64body, { 'x-signature': createHmac('sha256', GH_SECRET).update(b64body).digest('base64') });
    assert.equal(b64.status, 200);
    assert.match(String(b64.json.delivery_id), /^sha256:[0-9a-f]{32}$/, 'without a delivery header the id is the body hash');
  });

  it('bearer: the token is checked in constant time, and never reaches an event or the disk', async () => {
    const body = gatewayBody(3);
    assert.equal((await post(p.url('/gateway'), body, { authorization: 'Bearer wrong-token-0123456789' })).status, 401);
    assert.equal((await post(p.url('/gateway'), body, {})).status, 401);
    const ok = await post(p.url('/gateway'), body, { authorization: `Bearer ${TOKEN}`, 'x-api-key': CANARY_KEY, 'x-forwarded-authorization': `Bearer ${CANARY_BEARER}` });
    assert.equal(ok.status, 200);
    const events = await p.events();
    assert.ok(!JSON.stringify(events).includes(TOKEN));
    assert.deepEqual(p.filesContaining(TOKEN), []);
    assert.deepEqual(p.filesContaining(CANARY_KEY), []);
    assert.deepEqual(p.filesContaining(CANARY_BEARER), []);
  });

  it('413 over max_body_bytes, declared or chunked, without reading the rest', async () => {
    const big = gatewayBody(4, 'x'.repeat(64 * 1024));
    const declared = await post(p.url('/github'), big, { 'x-hub-signature-256': ghSig(big), 'x-github-delivery': 'gh-big-1' });
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error, 'body_too_large');
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request(p.url('/github'), { method: 'POST', headers: { 'x-hub-signature-256': ghSig(big), 'x-github-delivery': 'gh-big-2', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 1024) req.write(big.slice(i, i + 1024));
      req.end();
    });
    assert.equal(chunked, 413);
    assert.equal(sources[0]!.stats().requests?.body_too_large, 2);
  });

  it('503 with Retry-After while the spool is full; the refused delivery is accepted after the sinks catch up', async () => {
    let i = 100;
    let refused: { status: number; headers: Headers; json: Record<string, unknown> } | undefined;
    let refusedBody = '';
    for (; i < 1000 && refused === undefined; i++) {
      const body = gatewayBody(i, 'y'.repeat(1500));
      const r = await post(p.url('/github'), body, { 'x-hub-signature-256': ghSig(body), 'x-github-delivery': `gh-fill-${i}` });
      if (r.status === 503) {
        refused = r;
        refusedBody = body;
      } else assert.equal(r.status, 200);
    }
    assert.ok(refused, 'the spool filled up');
    assert.equal(refused.json.error, 'spool_full');
    assert.equal(refused.headers.get('retry-after'), '5');
    const id = `gh-fill-${i - 1}`;
    const before = (await p.events()).length;
    assert.ok(!(await p.events()).some((e) => e.event.request_id === `req-${i - 1}`), 'nothing of the refused delivery was spooled');
    await p.confirmAll();
    assert.equal(p.spool.isFull(), false);
    const retry = await post(p.url('/github'), refusedBody, { 'x-hub-signature-256': ghSig(refusedBody), 'x-github-delivery': id });
    assert.equal(retry.status, 200);
    assert.equal(retry.json.status, 'accepted', 'a delivery never answered 2xx is accepted again, not treated as a duplicate');
    assert.equal((await p.events()).length, before + 1);
  });
});

describe('webhook source: de-duplication window and bounds, slow bodies', () => {
  let p: HttpPipeline;
  let source: WebhookSource;
  let now = 1786730000 * 1000;
  const b = () => block(`type: webhook\npath: /hooks\nformat: openai_webhooks\ndedupe_window: 10m\ndedupe_max_entries: 3\nverify:\n  preset: standard_webhooks\n  secrets: ["${SECRET}"]`);
  const open = async () => {
    source = new WebhookSource('hooks', { ...webhookSourceOptions('hooks', b(), () => now), bodyTimeoutMs: 300 }, { http: p.server, stateDir: p.stateDir('hooks'), logger: p.logger });
    await source.start(p.ingest);
  };
  before(async () => {
    p = await HttpPipeline.start({ hooks: b() });
    await open();
  });
  after(async () => {
    await p.close([source]);
  });
  const deliver = async (id: string) => {
    const ts = Math.floor(now / 1000);
    const body = JSON.stringify({ object: 'event', id: `evt_${id}`, type: 'response.completed', created_at: ts, data: { id: `resp_${id}` } });
    return (await post(p.url('/hooks'), body, signed(id, ts, body))).json.status;
  };

  it('forgets ids after the window, and the oldest beyond max entries (also after a restart)', async () => {
    for (const id of ['wh_w1', 'wh_w2', 'wh_w3']) assert.equal(await deliver(id), 'accepted');
    assert.equal(await deliver('wh_w1'), 'duplicate');
    assert.equal(await deliver('wh_w4'), 'accepted');
    // wh_w1 was the oldest of four remembered ids, with room for three.
    assert.equal(await deliver('wh_w1'), 'accepted');
    assert.equal(await deliver('wh_w3'), 'duplicate');
    await source.stop();
    await open();
    assert.equal(await deliver('wh_w4'), 'duplicate', 'remembered across the restart');
    now += 11 * 60 * 1000;
    assert.equal(await deliver('wh_w4'), 'accepted', 'the window has passed');
    const file = readFileSync(join(p.stateDir('hooks'), 'accepted-deliveries.log'), 'utf8').split('\n').filter(Boolean);
    assert.ok(file.length <= 2 * 3 + 3, `the id file stays bounded (${file.length} lines)`);
  });

  it('408 for a body that does not arrive in time', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(p.url('/hooks'), { method: 'POST', headers: { 'content-length': '1000', 'webhook-id': 'wh_slow', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.write('{"object":');
    });
    assert.equal(status, 408);
    assert.equal(source.stats().requests?.body_timeout, 1);
  });
});
