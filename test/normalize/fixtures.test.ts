// Every line of every fixture format → schema-valid events (or a dead letter with a reason), and
// field-level checks of who / did what / against what / result / when, at least three records per format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { createNormalizer } from '../../src/normalize/index.ts';

const FIXTURES = new URL('../fixtures/formats/', import.meta.url);
const RECEIVED = Date.UTC(2026, 7, 14, 12, 0, 0);
const normalizer = createNormalizer({ now: () => RECEIVED + 5, host: 'test-host' });

// An independent validator (not the normalizer's own) so a normalizer bug cannot hide itself.
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(new URL('../../schemas/audit-event.schema.json', import.meta.url), 'utf8')));

interface FileResult {
  /** events per 1-based line */
  lines: AuditEvent[][];
  dead: DeadLetter[];
  formats: Set<string | undefined>;
}

function run(name: string): FileResult {
  const path = new URL(`${name}.jsonl`, FIXTURES);
  const text = readFileSync(path);
  const out: FileResult = { lines: [[]], dead: [], formats: new Set() };
  let offset = 0;
  let line = 1;
  for (const raw of text.toString('utf8').split('\n')) {
    const bytes = Buffer.from(raw, 'utf8');
    if (raw.trim() !== '') {
      const r = normalizer.normalize({
        source: 'fixtures',
        input: 'file',
        position: { kind: 'file', path: path.pathname, fileId: name, offset, line },
        bytes,
        receivedAt: RECEIVED,
      });
      out.lines[line] = r.events;
      out.dead.push(...r.deadLetters);
      out.formats.add(r.format);
    }
    offset += bytes.length + 1;
    line++;
  }
  return out;
}

const FORMATS = [
  'aws_bedrock_invocation_logs',
  'claude_code_hooks',
  'claude_code_otel_logs',
  'cloudflare_ai_gateway_logs',
  'cloudflare_mcp_portal_logs',
  'generic_gateway',
  'kong_ai_gateway_file_log',
  'litellm_standard_logging_payload',
  'mcp_contextforge_json_logs',
  'openai_agents_tracing',
  'openai_audit_logs',
  'openai_webhooks',
  'otel_genai_traces',
];
const results = new Map(FORMATS.map((f) => [f, run(f)]));
const ev = (format: string, line: number, index = 0): AuditEvent => {
  const e = results.get(format)!.lines[line]?.[index];
  assert.ok(e, `${format}:${line}[${index}] produced no event`);
  return e;
};

test('every fixture line is auto-detected as its format and yields schema-valid events', () => {
  for (const [format, r] of results) {
    assert.deepEqual([...r.formats], [format], `${format}: detected formats`);
    for (const d of r.dead) assert.ok(d.reason && d.message, `${format}: dead letter without reason`);
    assert.deepEqual(r.dead.map((d) => `${d.reason}: ${d.message}`), [], `${format}: unexpected dead letters`);
    let n = 0;
    for (const events of r.lines) {
      for (const e of events ?? []) {
        n++;
        assert.ok(validate(e), `${format}: ${JSON.stringify(validate.errors)}`);
        assert.equal(e.origin.format, format);
        assert.equal(e.origin.host, 'test-host');
        assert.equal(e.event.observed_time, '2026-08-14T12:00:00.005Z');
      }
    }
    assert.ok(n >= 4, `${format}: only ${n} events`);
  }
});

test('event ids are deterministic and unique across all fixtures', () => {
  const ids = new Set<string>();
  for (const r of results.values()) for (const events of r.lines) for (const e of events ?? []) ids.add(e.event.id);
  const total = [...results.values()].reduce((n, r) => n + r.lines.reduce((m, l) => m + (l?.length ?? 0), 0), 0);
  assert.equal(ids.size, total);
  assert.equal(run('generic_gateway').lines[1]![0]!.event.id, ev('generic_gateway', 1).event.id);
});

test('claude_code_otel_logs: prompts, API calls with tokens/cost, tool results, decisions, old all-string CLI', () => {
  const api = ev('claude_code_otel_logs', 1, 1);
  assert.equal(api.event.action, 'llm.call');
  assert.equal(api.event.time, '2026-08-14T09:33:26.405666816Z', 'ns precision kept');
  assert.equal(api.user?.email, 'maria.garcia@acme-corp.example');
  assert.equal(api.tenant?.id, 'e88b7591-31db-4e32-98dc-b35f94c662cd');
  assert.equal(api.gen_ai?.request?.model, 'claude-sonnet-4-6');
  assert.equal(api.gen_ai?.provider?.name, 'anthropic');
  assert.deepEqual(api.gen_ai?.usage, { input_tokens: 18234, output_tokens: 812, cache_read: { input_tokens: 15002 }, cache_creation: { input_tokens: 2210 } });
  assert.deepEqual(api.cost, { amount: 0.0456, currency: 'USD' });
  assert.equal(api.event.duration_ms, 6843);
  assert.equal(api.event.request_id, 'req_011CZG3fWgGbAjIPDQQQ2k');

  const prompt = ev('claude_code_otel_logs', 1, 0);
  assert.equal(prompt.event.action, 'prompt.submit');
  assert.match(prompt.payload.prompt!.hash, /^[0-9a-f]{64}$/);
  assert.equal(prompt.session?.id, 'eae3732d-38c1-45d6-9a1f-7aa536eafa28');

  const failedTool = ev('claude_code_otel_logs', 2, 3);
  assert.equal(failedTool.event.action, 'tool.call');
  assert.equal(failedTool.event.outcome, 'failure', 'success:"false" string');
  assert.equal(failedTool.gen_ai?.tool?.name, 'Bash');
  assert.equal(failedTool.error?.type, 'ShellError');
  assert.equal(failedTool.event.duration_ms, 15342, 'string duration');

  const reject = ev('claude_code_otel_logs', 4, 0);
  assert.equal(reject.event.action, 'auth.decision');
  assert.equal(reject.policy?.decision, 'deny');
  assert.equal(reject.event.outcome, 'failure');

  // Find the MCP tool result and the old CLI (1.0.44) records by content rather than position.
  const all = results.get('claude_code_otel_logs')!.lines.flat();
  const mcp = all.find((e) => e.mcp?.server?.name === 'github' && e.event.action === 'tool.call')!;
  assert.equal(mcp.gen_ai?.tool?.name, 'create_issue');
  assert.equal(mcp.gen_ai?.tool?.type, 'extension');
  assert.match(mcp.payload.tool_arguments!.hash, /^[0-9a-f]{64}$/);
  const old = all.filter((e) => e.origin.product?.version === '1.0.44');
  assert.equal(old.length, 4);
  const oldApi = old.find((e) => e.event.operation === 'claude_code.api_request')!;
  assert.equal(oldApi.gen_ai?.usage?.input_tokens, 3120, 'all-string values converted');
  assert.deepEqual(oldApi.cost, { amount: 0.01611, currency: 'USD' });
  const oldErr = old.find((e) => e.event.operation === 'claude_code.api_error')!;
  assert.equal(oldErr.http?.response?.status_code, undefined, 'status_code "undefined" dropped');
  assert.equal(oldErr.event.outcome, 'failure');
  const login = all.find((e) => e.event.action === 'auth.login' && e.event.outcome === 'failure')!;
  assert.equal(login.http?.response?.status_code, 400);
  assert.equal(login.error?.type, 'token_exchange_failed');
});

test('openai_audit_logs: actor from session or API key, action from type, outcome, epoch-second time', () => {
  const created = ev('openai_audit_logs', 1, 0);
  assert.equal(created.event.operation, 'tenant.admin_api_key.created');
  assert.equal(created.event.action, 'config.change');
  assert.equal(created.config?.change, 'create');
  assert.equal(created.event.time, '2026-08-13T18:37:03.000Z');
  assert.equal(created.user?.email, 'ops-admin@acme-corp.example');
  assert.equal(created.client?.ip, '2001:db8:85a3::8a2e:370:169');
  assert.equal(created.client?.geo?.country_iso_code, 'US');
  assert.equal(created.credential?.type, 'session');

  const byKey = ev('openai_audit_logs', 9, 1);
  assert.equal(byKey.event.operation, 'user.deleted');
  assert.equal(byKey.credential?.id, 'key_qmmyUhvt8rKEUOvC');
  assert.equal(byKey.principal?.id, 'svc_acct_Rann76dEyTzAeKOmXRrvftva');
  assert.equal(byKey.user?.type, 'service');
  assert.equal(byKey.project?.name, 'billing-agents');
  assert.equal(byKey.config?.object?.id, 'user-0yfgjNgiROTllmzc1DLTfgoc');

  const failed = ev('openai_audit_logs', 16, 0);
  assert.equal(failed.event.action, 'auth.login');
  assert.equal(failed.event.outcome, 'failure');
  assert.equal(failed.error?.code, 'invalid_credentials');
  const ok = ev('openai_audit_logs', 16, 1);
  assert.equal(ok.event.outcome, 'success');
  assert.equal(ok.origin.original_event_id, 'audit_log-t9cbMOeEeUtuieeCIxVc57VV_20260813');
});

test('openai_webhooks: body string parsed, type → action/outcome, webhook-id kept', () => {
  const done = ev('openai_webhooks', 1);
  assert.equal(done.event.operation, 'response.completed');
  assert.equal(done.event.action, 'llm.call');
  assert.equal(done.event.outcome, 'success');
  assert.equal(done.event.time, '2026-08-14T09:33:35.000Z');
  assert.equal(done.event.request_id, 'wh_a5e2fd20a885abe36413c9a7c60644d2');
  assert.equal(done.gen_ai?.response?.id, 'resp_15b464c02e66db6a7f18a9acfa639592560b3c9963e6aec1');
  const batch = ev('openai_webhooks', 6);
  assert.equal(batch.event.action, 'api.call');
  assert.equal(batch.event.outcome, 'failure');
  assert.equal(batch.event.correlation_id, 'batch_8eac6dd10eafd2ef0071c9c82e75e7c5');
  const call = ev('openai_webhooks', 16);
  assert.equal(call.event.action, 'notification');
  assert.equal(call.event.correlation_id, 'rtc_a46d3ef001efc9f232f426a065ef0301');
  assert.match(call.payload.request_body!.hash, /^[0-9a-f]{64}$/, 'SIP headers hashed');
});

test('openai_agents_tracing: spans → LLM/tool/guardrail events with durations; traces link by trace id', () => {
  const trace = ev('openai_agents_tracing', 1, 0);
  assert.equal(trace.event.operation, 'trace.start');
  assert.equal(trace.user?.id, 'cus_Q1x8');
  assert.equal(trace.gen_ai?.conversation?.id, 'group_ca75c98c070e44a58131d962');
  assert.equal(trace.trace?.trace_id, 'bf40334518a705d19c432d0fc70242ec');
  assert.equal(trace.event.time, '2026-08-14T12:00:00.000Z', 'trace objects carry no time: receive time');
  const fn = ev('openai_agents_tracing', 1, 2);
  assert.equal(fn.event.action, 'tool.call');
  assert.equal(fn.gen_ai?.tool?.name, 'lookup_invoice');
  assert.equal(fn.event.duration_ms, 310);
  assert.equal(fn.trace?.trace_id, 'bf40334518a705d19c432d0fc70242ec');
  const gen = ev('openai_agents_tracing', 3, 2);
  assert.equal(gen.event.action, 'llm.call');
  assert.equal(gen.gen_ai?.request?.model, 'gpt-4o-2024-08-06');
  assert.deepEqual(gen.gen_ai?.usage, { input_tokens: 412, output_tokens: 38 });
  assert.equal(gen.gen_ai?.request?.temperature, 0.2);
  const timeout = ev('openai_agents_tracing', 3, 4);
  assert.equal(timeout.event.outcome, 'failure');
  assert.equal(timeout.event.reason, 'Error running tool');
  const mcp = ev('openai_agents_tracing', 4, 3);
  assert.equal(mcp.mcp?.server?.name, 'github');
  assert.equal(mcp.mcp?.method?.name, 'tools/call');
  const tripped = ev('openai_agents_tracing', 5, 1);
  assert.equal(tripped.event.action, 'auth.decision');
  assert.equal(tripped.policy?.decision, 'deny');
  assert.equal(tripped.policy?.name, 'jailbreak_guardrail');
});

test('litellm_standard_logging_payload: key owner, team/org, requested vs served model, cost, MCP tool calls', () => {
  const ok = ev('litellm_standard_logging_payload', 1);
  assert.equal(ok.event.time, '2026-08-14T09:34:00.949072Z');
  assert.equal(ok.user?.email, 'maria.garcia@acme-corp.example');
  assert.equal(ok.credential?.name, 'maria-laptop');
  assert.match(ok.credential?.fingerprint ?? '', /^[0-9a-f]{64}$/);
  assert.equal(ok.tenant?.id, 'org-7eca1be0');
  assert.equal(ok.project?.id, 'team-f86abf45');
  assert.equal(ok.gen_ai?.request?.model, 'gpt-4o');
  assert.equal(ok.gen_ai?.response?.model, 'gpt-4o-2024-08-06');
  assert.deepEqual(ok.cost, { amount: 0.0003325, currency: 'USD' });
  assert.equal(ok.client?.ip, '10.20.3.17');
  assert.equal(Math.round(ok.event.duration_ms!), 10590);
  const limited = ev('litellm_standard_logging_payload', 3);
  assert.equal(limited.event.outcome, 'failure');
  assert.equal(limited.http?.response?.status_code, 429);
  assert.equal(limited.error?.type, 'RateLimitError');
  const guard = ev('litellm_standard_logging_payload', 7);
  assert.equal(guard.policy?.decision, 'deny');
  const mcp = ev('litellm_standard_logging_payload', 9);
  assert.equal(mcp.event.action, 'tool.call');
  assert.equal(mcp.gen_ai?.tool?.name, 'create_issue');
  assert.equal(mcp.mcp?.server?.name, 'github');
  assert.equal(mcp.gen_ai?.request?.model, undefined);
  assert.match(mcp.payload.tool_arguments!.hash, /^[0-9a-f]{64}$/);
  assert.match(mcp.payload.tool_result!.hash, /^[0-9a-f]{64}$/);
});

test('cloudflare_ai_gateway_logs: metadata JSON string, tokens, cost, status', () => {
  const a = ev('cloudflare_ai_gateway_logs', 1);
  assert.equal(a.user?.id, 'u_1042');
  assert.equal(a.project?.name, 'growth');
  assert.equal(a.gen_ai?.provider?.name, 'openai');
  assert.equal(a.gen_ai?.request?.model, 'gpt-4o-mini');
  assert.deepEqual(a.gen_ai?.usage, { input_tokens: 3559, output_tokens: 1659 });
  assert.deepEqual(a.cost, { amount: 0.00152925, currency: 'USD' });
  assert.equal(a.event.time, '2026-08-14T09:36:38.300Z');
  const failed = ev('cloudflare_ai_gateway_logs', 9);
  assert.equal(failed.event.outcome, 'failure');
  assert.equal(failed.http?.response?.status_code, 401);
  assert.equal(failed.gen_ai?.usage, undefined, 'null tokens dropped');
  const azure = ev('cloudflare_ai_gateway_logs', 6);
  assert.equal(azure.event.operation, 'acme-eastus2/gpt-4.1/chat/completions', 'query string not kept');
  assert.equal(azure.gen_ai?.provider?.name, 'azure-openai');
});

test('cloudflare_mcp_portal_logs: Access user, MCP method/tool/server, sanitized server URL, policy denial', () => {
  const call = ev('cloudflare_mcp_portal_logs', 3);
  assert.equal(call.event.action, 'tool.call');
  assert.equal(call.gen_ai?.tool?.name, 'create_issue');
  assert.equal(call.user?.email !== undefined, true);
  assert.equal(call.mcp?.method?.name, 'tools/call');
  const failed = ev('cloudflare_mcp_portal_logs', 5);
  assert.equal(failed.event.outcome, 'failure');
  assert.equal(failed.gen_ai?.tool?.name, 'list_refunds');
  const stripe = ev('cloudflare_mcp_portal_logs', 12);
  assert.equal(stripe.mcp?.server?.url, 'https://mcp.stripe.example/sse', 'api_key query removed');
  const denied = ev('cloudflare_mcp_portal_logs', 8);
  assert.equal(denied.policy?.decision, 'deny');
  assert.equal(denied.error?.type, 'policy_denied');
  assert.equal(denied.client?.geo?.country_iso_code, denied.client?.geo?.country_iso_code?.toUpperCase());
  const init = ev('cloudflare_mcp_portal_logs', 1);
  assert.equal(init.event.action, 'agent.lifecycle');
  assert.equal(init.event.time, '2026-08-14T09:34:08.000Z');
  assert.equal(init.event.duration_ms, 1315);
});

test('mcp_contextforge_json_logs: call start/complete/timeout share correlation ids; admin events carry the user', () => {
  const start = ev('mcp_contextforge_json_logs', 1);
  assert.equal(start.event.action, 'tool.call');
  assert.equal(start.event.outcome, 'unknown');
  assert.equal(start.mcp?.server?.url, 'https://mcp-github.internal:8443/mcp');
  assert.equal(start.trace?.trace_id, '5efa8380167fa97841fe7426e8ed89ca');
  const done = ev('mcp_contextforge_json_logs', 2);
  assert.equal(done.event.outcome, 'success');
  assert.equal(done.event.duration_ms, 7283.454);
  assert.equal(done.event.correlation_id, start.event.correlation_id);
  assert.equal(done.gen_ai?.tool?.name, 'github-create-issue');
  const timeout = ev('mcp_contextforge_json_logs', 8);
  assert.equal(timeout.event.outcome, 'failure');
  assert.equal(timeout.error?.type, 'timeout');
  assert.equal(timeout.event.severity, 'medium');
  const denied = ev('mcp_contextforge_json_logs', 18);
  assert.equal(denied.event.action, 'config.change');
  assert.equal(denied.user?.email, 'contractor@acme-corp.example');
  assert.equal(denied.policy?.decision, 'deny');
  assert.equal(denied.error?.type, 'PermissionError');
  const leaky = ev('mcp_contextforge_json_logs', 5);
  assert.equal(leaky.mcp?.server?.url, 'http://pg-mcp.default.svc.cluster.local:9000/mcp', 'access_token query removed');
});

test('otel_genai_traces: semconv spans, int64 strings, status, MCP server spans, legacy and Langfuse attributes', () => {
  const chat = ev('otel_genai_traces', 1, 1);
  assert.equal(chat.event.action, 'llm.call');
  assert.equal(chat.gen_ai?.request?.model, 'gpt-4o');
  assert.equal(chat.gen_ai?.response?.model, 'gpt-4o-2024-08-06');
  assert.deepEqual(chat.gen_ai?.response?.finish_reasons, ['tool_calls']);
  assert.equal(chat.gen_ai?.usage?.input_tokens, 912);
  assert.equal(chat.gen_ai?.request?.max_tokens, 1024);
  assert.equal(chat.trace?.parent_span_id, '7bed93d1d630f6b9');
  assert.match(chat.payload.prompt!.hash, /^[0-9a-f]{64}$/);
  const err = ev('otel_genai_traces', 2);
  assert.equal(err.event.outcome, 'failure');
  assert.equal(err.error?.type, '429');
  assert.equal(err.gen_ai?.provider?.name, 'anthropic');
  const server = ev('otel_genai_traces', 4);
  assert.equal(server.event.action, 'tool.call');
  assert.equal(server.mcp?.server?.name, 'github-mcp-server');
  assert.equal(server.mcp?.session?.id, '3f7041e716436cbe28d5290cab8ac9a7');
  const legacy = ev('otel_genai_traces', 7);
  assert.equal(legacy.gen_ai?.provider?.name, 'openai', 'gen_ai.system fallback');
  assert.deepEqual(legacy.gen_ai?.usage, { input_tokens: 54, output_tokens: 120 });
  const lf = ev('otel_genai_traces', 8);
  assert.equal(lf.user?.id, 'user_8812');
  assert.equal(lf.gen_ai?.usage?.total_tokens, 26);
  assert.deepEqual(lf.cost, { amount: 0.0000057, currency: 'USD' });
});

test('aws_bedrock_invocation_logs: IAM identity, model, tokens, errors, guardrails, latency from the body', () => {
  const conv = ev('aws_bedrock_invocation_logs', 1);
  assert.equal(conv.event.action, 'llm.call');
  assert.equal(conv.tenant?.id, '123456789012');
  assert.equal(conv.principal?.type, 'iam_role');
  assert.equal(conv.gen_ai?.request?.model, 'us.anthropic.claude-sonnet-4-20250514-v1:0');
  assert.equal(conv.gen_ai?.usage?.input_tokens, 61);
  assert.equal(conv.event.duration_ms, 1843);
  assert.equal(conv.event.time, '2026-08-14T09:37:10.000Z');
  const throttled = ev('aws_bedrock_invocation_logs', 7);
  assert.equal(throttled.event.outcome, 'failure');
  assert.equal(throttled.error?.code, 'ThrottlingException');
  const guard = ev('aws_bedrock_invocation_logs', 10);
  assert.equal(guard.policy?.decision, 'deny');
  assert.equal(guard.user?.email, 'maria.garcia@acme-corp.example');
  const minimal = ev('aws_bedrock_invocation_logs', 16);
  assert.equal(minimal.principal, undefined, 'no identity in old records');
  assert.equal(minimal.gen_ai?.request?.model, 'ai21.jamba-1-5-mini-v1:0');
});

test('claude_code_hooks: receive time, hook → action, MCP tool names split, failures', () => {
  const start = ev('claude_code_hooks', 1);
  assert.equal(start.event.time, '2026-08-14T12:00:00.000Z');
  assert.equal(start.event.action, 'agent.lifecycle');
  assert.equal(start.gen_ai?.request?.model, 'claude-sonnet-4-6');
  const post = ev('claude_code_hooks', 4);
  assert.equal(post.event.action, 'tool.call');
  assert.equal(post.event.outcome, 'success');
  assert.equal(post.gen_ai?.tool?.name, 'Bash');
  assert.match(post.payload.tool_result!.hash, /^[0-9a-f]{64}$/);
  const fail = ev('claude_code_hooks', 8);
  assert.equal(fail.event.outcome, 'failure');
  const mcp = ev('claude_code_hooks', 9);
  assert.equal(mcp.gen_ai?.tool?.name, 'create_pull_request');
  assert.equal(mcp.mcp?.server?.name, 'github');
  assert.equal(mcp.session?.id, 'ebd05eb7-3677-44a5-b2df-6035d3c17334');
  const prompt = ev('claude_code_hooks', 2);
  assert.equal(prompt.event.action, 'prompt.submit');
  assert.match(prompt.payload.prompt!.hash, /^[0-9a-f]{64}$/);
});

test('kong_ai_gateway_file_log: consumer, credential, tokens/cost, gateway rejections, ms time', () => {
  const a = ev('kong_ai_gateway_file_log', 1);
  assert.equal(a.user?.name, 'billing-agent');
  assert.equal(a.credential?.id, '6ff1e187-5ccf-4c24-8068-e596c67d4e0c');
  assert.equal(a.gen_ai?.request?.model, 'gpt-4o');
  assert.equal(a.gen_ai?.response?.model, 'gpt-4o-2024-08-06');
  assert.deepEqual(a.gen_ai?.usage, { input_tokens: 2350, output_tokens: 379, total_tokens: 2729 });
  assert.deepEqual(a.cost, { amount: 0.009665, currency: 'USD' });
  assert.equal(a.event.time, '2026-08-14T09:35:12.611Z');
  assert.equal(a.event.duration_ms, 3997);
  const limited = ev('kong_ai_gateway_file_log', 3);
  assert.equal(limited.event.outcome, 'failure');
  assert.equal(limited.http?.response?.status_code, 429);
  const rejected = ev('kong_ai_gateway_file_log', 6);
  assert.equal(rejected.event.action, 'api.call');
  assert.equal(rejected.policy?.decision, 'deny');
  assert.equal(rejected.error?.type, 'gateway_rejected');
});

test('generic_gateway: flat record, URL without query, outcome, tokens', () => {
  const a = ev('generic_gateway', 1);
  assert.equal(a.event.action, 'llm.call');
  assert.equal(a.gen_ai?.agent?.name, 'support-bot');
  assert.equal(a.user?.email, 'alice@acme-corp.example');
  assert.equal(a.event.duration_ms, 812);
  assert.equal(a.labels?.payload_sha256, '3f1c8e0b6a7d2e94c5b1f0a8d6e3c7b2a9f4e1d0c8b7a6f5e4d3c2b1a0f9e8d7');
  const b = ev('generic_gateway', 2);
  assert.equal(b.event.outcome, 'failure');
  assert.equal(b.http?.response?.status_code, 429);
  const c = ev('generic_gateway', 3);
  assert.equal(c.event.action, 'api.call');
  assert.equal(c.url?.full, 'https://api.stripe.example/v1/charges');
  assert.equal(c.http?.request?.method, 'GET');
});
