// Every canonical event the 13 format fixtures produce, in each payload mode (so payload content
// fields are exercised too), each linked into a hash chain as the spool does.
import { readdirSync, readFileSync } from 'node:fs';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { createNormalizer, validateEvent } from '../../src/normalize/index.ts';
import { generateKeyPairSync, sign } from 'node:crypto';
import { link, newChain } from '../../src/queue/chain.ts';
import { checkpointMessage, isCheckpointSeq, keyIdOf, type CheckpointSigner } from '../../src/queue/checkpoint.ts';

const FIXTURES = new URL('../fixtures/formats/', import.meta.url);
const RECEIVED = Date.UTC(2026, 7, 14, 12, 0, 0);

export interface FixtureEvent {
  /** `<format>:<line>[index] (<payload mode>)`, for messages. */
  readonly where: string;
  readonly format: string;
  readonly event: AuditEvent;
}

let cached: FixtureEvent[] | undefined;

export function fixtureEvents(): readonly FixtureEvent[] {
  if (cached !== undefined) return cached;
  const out: FixtureEvent[] = [];
  let chain = newChain();
  for (const payloadMode of ['none', 'hash', 'full'] as const) {
    const normalizer = createNormalizer({ now: () => RECEIVED + 5, host: 'collector-1', policy: { payloadMode } });
    for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl')).sort()) {
      const format = name.replace(/\.jsonl$/, '');
      const path = new URL(name, FIXTURES);
      let offset = 0;
      let line = 1;
      for (const raw of readFileSync(path, 'utf8').split('\n')) {
        const bytes = Buffer.from(raw, 'utf8');
        if (raw.trim() !== '') {
          const r = normalizer.normalize({ source: 'fixtures', input: 'file', position: { kind: 'file', path: path.pathname, fileId: name, offset, line }, bytes, receivedAt: RECEIVED });
          if (r.deadLetters.length > 0) throw new Error(`${format}:${line}: ${r.deadLetters.map((d) => d.message).join('; ')}`);
          r.events.forEach((e, i) => {
            const linked = link(e, chain);
            chain = linked.state;
            out.push({ where: `${format}:${line}[${i}] (${payloadMode})`, format, event: linked.event });
          });
        }
        offset += bytes.length + 1;
        line++;
      }
    }
  }
  cached = out;
  return out;
}

/** Drops null values (OCSF validation is defined on documents without nulls). */
export function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNulls);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
  return v;
}

/** Leaf paths of a JSON value; `stopAt` says which objects count as one leaf (free-form maps). */
export function leafPaths(v: unknown, stopAt: (p: string) => boolean = () => false, prefix = '', out: Map<string, unknown> = new Map()): Map<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !stopAt(prefix)) {
    for (const [k, x] of Object.entries(v)) leafPaths(x, stopAt, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out.set(prefix, v);
  }
  return out;
}

const BASE: AuditEvent = {
  schema_version: '1.0',
  event: { id: '0123456789abcdef0123456789abcdef', action: 'llm.call', operation: 'chat/completions', outcome: 'success', time: '2026-08-14T09:33:20.123456789Z', observed_time: '2026-08-14T09:33:21.000Z' },
  gen_ai: { operation: { name: 'chat' }, provider: { name: 'openai' }, request: { model: 'gpt-4o' } },
  user: { id: 'u-1', email: 'alice@acme.example' },
  payload: { mode: 'hash' },
  origin: { input: 'file', source: 'edge', format: 'generic_gateway', index: 0, raw_sha256: 'a'.repeat(64), product: { name: 'Generic gateway', vendor: 'acme' } },
};

type Patch = (e: AuditEvent) => void;
const EDGES: Record<string, Patch> = {
  'a duration ECS nanoseconds and OCSF milliseconds cannot hold exactly': (e) => void (e.event.duration_ms = 12.3456789012345),
  'an integer duration': (e) => void (e.event.duration_ms = 40),
  'a client address that is not an IP': (e) => void (e.client = { ip: 'client.internal', address: 'client.internal', port: 51000 }),
  'an e-mail address outside OCSF email_t': (e) => void (e.user = { id: 'u-2', email: 'søren.kierkegaard@acme.example' }),
  'a user known only by e-mail': (e) => void (e.user = { email: 'bob@acme.example' }),
  'a user name equal to the e-mail': (e) => void (e.user = { email: 'bob@acme.example', name: 'bob@acme.example' }),
  'a severity': (e) => void (e.event.severity = 'high'),
  'an MCP method equal to the GenAI operation': (e) => {
    e.event.action = 'tool.call';
    e.mcp = { method: { name: 'chat' }, server: { name: 'openai' } };
  },
  'a provider literally called unknown': (e) => void (e.gen_ai!.provider = { name: 'unknown' }),
  'request and response model equal': (e) => void (e.gen_ai!.response = { model: 'gpt-4o' }),
  'only a response model': (e) => void (e.gen_ai = { response: { model: 'gpt-4o-2024-08-06' } }),
  'a provider without a model': (e) => void (e.gen_ai = { provider: { name: 'anthropic' } }),
  'an HTTP method OCSF does not list': (e) => {
    e.event.action = 'api.call';
    e.http = { request: { method: 'PROPFIND', body: { size: 10 } }, response: { body: { size: 20 } } };
    e.url = { scheme: 'https', domain: 'dav.example' };
  },
  'no operation at all': (e) => {
    delete e.event.operation;
    delete e.gen_ai!.operation;
  },
  'an operation literally called unknown': (e) => {
    e.event.operation = 'unknown';
    delete e.gen_ai!.operation;
  },
  'labels with dots and a change set': (e) => {
    e.event.action = 'config.change';
    e.labels = { 'a.b': 'x', a_b: 'y', 'team.id': 't-1' };
    e.config = { object: { type: 'api_key', id: 'key_1', name: 'ci-key' }, change: 'update', changes: { 'limits.rpm': '60', scopes: 'chat' } };
  },
  'a user account deleted, known only by type': (e) => {
    e.event.action = 'config.change';
    e.config = { object: { type: 'user' }, change: 'delete' };
  },
  'a login without user': (e) => {
    e.event.action = 'auth.login';
    delete e.user;
  },
  'a span without end time, a trace with parent': (e) => void (e.trace = { trace_id: 'f'.repeat(32), span_id: 'e'.repeat(16), parent_span_id: 'd'.repeat(16) }),
  'a span without trace': (e) => void (e.trace = { span_id: 'e'.repeat(16) }),
  'a denied tool call with policy and redaction': (e) => {
    e.event.action = 'tool.call';
    e.event.outcome = 'failure';
    e.gen_ai = { tool: { name: 'shell', type: 'function', call: { id: 'call_1' } }, agent: { name: 'coder', version: '1.2', framework: 'claude-code' } };
    e.policy = { decision: 'deny', id: 'p-1', name: 'no-shell', source: 'hook' };
    e.redaction = { applied: true, count: 1, kinds: ['openai_api_key'], fields: ['payload.tool_arguments'] };
    e.payload = { mode: 'full', algorithm: 'sha256', tool_arguments: { hash: 'b'.repeat(64), bytes: 12, content: 'rm -rf [REDACTED]', truncated: true } };
  },
  'an agent session start': (e) => {
    e.event.action = 'agent.lifecycle';
    e.event.operation = 'SessionStart';
    e.gen_ai = { agent: { framework: 'claude-code', version: '2.1.0', instance_id: 'run-1' } };
  },
  'a notification from Kafka': (e) => {
    e.event.action = 'notification';
    e.origin = { ...e.origin, input: 'kafka', position: { kafka: { topic: 't', partition: 3, offset: '9007199254740993' } } };
  },
  'every identity and cost field': (e) => {
    e.principal = { id: 'arn:aws:iam::1:role/x', name: 'x', type: 'iam_role' };
    e.tenant = { id: 'org-1', name: 'Acme' };
    e.project = { id: 'p-1', name: 'growth' };
    e.credential = { id: 'key_1', name: 'ci', type: 'api_key', fingerprint: 'c'.repeat(64) };
    e.delegation = { chain: ['u-1', 'agent-1'], parent_agent_id: 'agent-0', acting_as: 'u-1', scopes: ['read'] };
    e.cost = { amount: 0.0123, currency: 'USD' };
    e.session = { id: 's-1' };
    e.server = { address: '10.1.2.3', port: 443 };
    e.mcp = { session: { id: 'm-1' }, protocol: { version: '2025-06-18' }, resource: { uri: 'file:///x' }, server: { id: 'srv-1', url: 'https://mcp.example/mcp' }, rpc_status_code: -32602 };
    e.error = { type: 'invalid_params', code: '-32602', message: 'bad' };
    e.user = { id: 'u-1', name: 'Alice', email: 'alice@acme.example', roles: ['admin'], type: 'admin' };
  },
  'every payload field, from a webhook': (e) => {
    const digest = (c: string) => ({ hash: c.repeat(64), bytes: 3, content: 'x y', truncated: false });
    e.payload = { mode: 'full', algorithm: 'hmac-sha256', prompt: digest('1'), completion: digest('2'), tool_arguments: digest('3'), tool_result: digest('4'), system_instructions: digest('5'), request_body: digest('6'), response_body: digest('7') };
    e.gen_ai = { ...e.gen_ai, request: { model: 'gpt-4o', top_p: 0.9 }, agent: { id: 'a-1', description: 'Answers billing questions' } };
    e.origin = { ...e.origin, input: 'webhook', position: { http: { path: '/hooks/openai', delivery_id: 'wh_1' } } };
  },
};

/** A signed-checkpoint signer as the spool uses (every 4th edge event carries chain.signature). */
function edgeSigner(): CheckpointSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyId = keyIdOf(publicKey);
  const every = 4;
  return {
    every,
    keyId,
    due: (seq) => isCheckpointSeq(seq, every),
    sign: (chainId, seq, hash) => ({ key_id: keyId, every, value: sign(null, checkpointMessage(chainId, seq, hash, every), privateKey).toString('base64') }),
  };
}

/** Hand-made events for the cases the mappings must handle exactly (fallbacks, fill-ins, collisions). */
export function edgeEvents(): readonly FixtureEvent[] {
  let chain = newChain();
  const signer = edgeSigner();
  return Object.entries(EDGES).map(([name, patch], i) => {
    const e = structuredClone(BASE);
    e.event.id = i.toString(16).padStart(32, '0');
    patch(e);
    const problems = validateEvent(e);
    if (problems !== undefined) throw new Error(`edge event '${name}' is not a valid canonical event: ${problems}`);
    const linked = link(e, chain, signer);
    chain = linked.state;
    return { where: `edge: ${name}`, format: 'edge', event: linked.event };
  });
}
