// Deterministic benchmark input: flat AI-gateway request records in the `generic_gateway`
// format (~600 bytes each), a few percent carrying secrets the policy must redact.
// Same seed → same bytes, so runs and machines compare.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/** mulberry32: tiny, fast, good enough for synthetic data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AGENTS = ['support-bot', 'code-agent', 'billing-agent', 'research-assistant', 'sre-copilot', 'sales-drafts'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const ROUTES: [provider: string, model: string, endpoint: string][] = [
  ['openai', 'gpt-4o-2024-08-06', 'https://api.openai.com/v1/chat/completions'],
  ['openai', 'gpt-4.1-mini', 'https://api.openai.com/v1/responses'],
  ['anthropic', 'claude-sonnet-4-5', 'https://api.anthropic.com/v1/messages'],
  ['aws.bedrock', 'anthropic.claude-3-5-haiku-20241022-v1:0', 'https://bedrock-runtime.us-east-1.amazonaws.com/model/invoke'],
  ['gcp.gemini', 'gemini-2.5-pro', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent'],
];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 429, 500, 400, 401];
const UAS = ['openai-python/1.99.1', 'anthropic-sdk-typescript/0.60.0', 'litellm/1.74.9', 'langchain-core/0.3.72 python/3.12'];

function hex(rand: () => number, n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');
  return s.slice(0, n);
}

/** Secret kinds planted in ~3% of records (fake values in real formats). */
function secret(rand: () => number): { endpointQuery?: string; userAgent?: string; error?: string } {
  switch (Math.floor(rand() * 4)) {
    case 0:
      return { endpointQuery: `?api_key=sk-proj-${hex(rand, 20)}T3BlbkFJ${hex(rand, 20)}` };
    case 1:
      return { error: `upstream rejected Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIke${hex(rand, 12)}fQ.${hex(rand, 43)}` };
    case 2:
      return { userAgent: `deploy-script token=ghp_${hex(rand, 36)}` };
    default:
      return { error: `db error at postgres://svc:${hex(rand, 16)}@db.internal:5432/app` };
  }
}

export interface GeneratedRecord {
  readonly line: string;
  readonly hasSecret: boolean;
}

export function makeRecord(rand: () => number, i: number, baseMs: number): GeneratedRecord {
  const [provider, model, endpoint] = ROUTES[Math.floor(rand() * ROUTES.length)]!;
  const status = STATUSES[Math.floor(rand() * STATUSES.length)]!;
  const user = USERS[Math.floor(rand() * USERS.length)]!;
  const withSecret = rand() < 0.03;
  const s = withSecret ? secret(rand) : {};
  const input = 50 + Math.floor(rand() * 4000);
  const output = status === 200 ? 10 + Math.floor(rand() * 900) : 0;
  const rec: Record<string, unknown> = {
    timestamp: new Date(baseMs + i * 7).toISOString(),
    request_id: `req-${hex(rand, 24)}`,
    agent: AGENTS[Math.floor(rand() * AGENTS.length)],
    agent_version: `1.${Math.floor(rand() * 9)}.${Math.floor(rand() * 20)}`,
    user: `${user}@acme-corp.example`,
    tenant: `org-${hex(rand, 12)}`,
    session_id: `sess-${hex(rand, 16)}`,
    endpoint: endpoint + (s.endpointQuery ?? ''),
    method: 'POST',
    payload_hash: hex(rand, 64),
    status,
    latency_ms: 20 + Math.floor(rand() * 3000),
    outcome: status === 200 ? 'success' : 'failure',
    provider,
    model,
    input_tokens: input,
    output_tokens: output,
    cost_usd: Number(((input * 2.5 + output * 10) / 1e6).toFixed(6)),
    client_ip: `10.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}.${Math.floor(rand() * 255)}`,
    user_agent: s.userAgent ?? UAS[Math.floor(rand() * UAS.length)],
  };
  if (s.error) rec.error = s.error;
  else if (status !== 200) rec.error = status === 429 ? 'rate_limited: tokens per minute exceeded' : `provider_error: HTTP ${status}`;
  return { line: JSON.stringify(rec), hasSecret: withSecret };
}

/** Writes `count` records to `path`; returns the byte size. */
export async function generateFile(path: string, count: number, seed = 20261122): Promise<{ bytes: number; secrets: number }> {
  const rand = prng(seed);
  const out = createWriteStream(path);
  const base = Date.UTC(2026, 7, 14, 9, 0, 0);
  let bytes = 0;
  let secrets = 0;
  let chunk = '';
  for (let i = 0; i < count; i++) {
    const r = makeRecord(rand, i, base);
    if (r.hasSecret) secrets++;
    chunk += r.line + '\n';
    if (chunk.length > 1 << 20 || i === count - 1) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end();
  await once(out, 'finish');
  return { bytes, secrets };
}

if (import.meta.main) {
  const [path, n] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: node bench/generate.ts FILE [COUNT]\n');
    process.exit(2);
  }
  const r = await generateFile(path, Number(n ?? 1000));
  process.stdout.write(`${path}: ${r.bytes} bytes, ${r.secrets} records with secrets\n`);
}
