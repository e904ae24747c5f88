// The policy on its own: every secret kind the issue names, in the contexts real logs put them
// (JSON, headers, shell, URLs, connection strings, PEM blocks), and the strings that must NOT be
// touched (ids, hashes, model names, times), which keep their identity (no copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { createPolicy } from '../../src/normalize/policy.ts';
import { createRedactor } from '../../src/normalize/redaction/redactor.ts';
import type { DraftEvent } from '../../src/normalize/policy-types.ts';
import { ConfigError } from '../../src/core/errors.ts';

// Canary values: fake, but in each issuer's real format. Built by concatenation so this file
// itself does not trip secret scanners.
const C = {
  openai: 'sk-proj-' + 'Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z' + 'T3BlbkFJ' + 'q7Rt0uVw3xYz6aBc9dEf',
  anthropic: 'sk-ant-api03-' + 'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA-_aBcDeFgHiJkLmNoPq',
  github: 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  githubPat: 'github_pat_' + '11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN',
  slack: 'xoxb-' + '1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx',
  npm: 'npm_' + 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
  stripe: 'rk_live_' + '51HxYzAbCdEfGhIjKlMnOp',
  awsId: 'AKIA' + 'IOSFODNN7EXAMPL2',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY',
  jwt: 'eyJhbGciOiJIUzI1NiJ9' + '.eyJzdWIiOiJ1c2VyLTQyIiwiaWF0IjoxNzAwMDAwMDAwfQ' + '.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk',
  bearer: 'op4q' + 'Rt7uVw0xYz3aBc6dEf9g',
  dbPassword: 'Tr0ub4dor' + '-and-3',
  pgPassword: 'hunter' + '2hunter2',
  pemKeyBody: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7' + 'VJTUt9Us8cKjMzEfYyjiWA4R4',
  pemCertBody: 'MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQsw' + 'CQYDVQQGEwJJRTESMBAGA1UE',
  linear: 'lin_api_' + 'AbCdEfGhIjKlMnOpQrStUvWx',
  whsec: 'whsec_' + 'Zm9ybWF0cy1yZXNlYXJjaC1vcGVuYWktd2ViaG9vayE=',
  basic: 'YWxhZGRpbjpvcGVu' + 'c2VzYW1l',
  apiKeyValue: 'f3a9c2' + 'e7b1d4a8c6',
};

const redactor = createRedactor();
const clean = (s: string) => redactor.redact(s);

const CASES: [kind: string, text: string, secret: string][] = [
    ['openai_api_key', `{"api_base":"x","key":"${C.openai}"}`, C.openai],
    ['anthropic_api_key', `ANTHROPIC_API_KEY=${C.anthropic} claude -p hi`, C.anthropic],
    ['github_token', `git clone https://x-access-token:${C.github}@github.com/acme/app`, C.github],
    ['github_token', `token ${C.githubPat}`, C.githubPat],
    ['slack_token', `curl -H 'Authorization: Bearer ${C.slack}' https://slack.com/api/chat.postMessage`, C.slack],
    ['npm_token', `//registry.npmjs.org/:_authToken=${C.npm}`, C.npm],
    ['stripe_key', `stripe.api_key = "${C.stripe}"`, C.stripe],
    ['aws_access_key_id', `aws_access_key_id = ${C.awsId}`, C.awsId],
    ['aws_secret_access_key', `aws_secret_access_key = ${C.awsSecret}`, C.awsSecret],
    ['aws_secret_access_key', `{"AWS_SECRET_ACCESS_KEY":"${C.awsSecret}"}`, C.awsSecret],
    ['jwt', `{"id_token_hint":"${C.jwt}"}`, C.jwt],
    ['bearer_token', `Authorization: Bearer ${C.bearer}`, C.bearer],
    ['url_password', `postgres://app:${C.dbPassword}@db.internal:5432/prod`, C.dbPassword],
    ['credential_assignment', `PGPASSWORD=${C.pgPassword} psql -h db`, C.pgPassword],
    ['credential_assignment', `Server=db;Database=prod;User Id=app;Password=${C.pgPassword};`, C.pgPassword],
    ['credential_assignment', `{"x-api-key": "${C.apiKeyValue}"}`, C.apiKeyValue],
    ['credential_param', `https://mcp.example.com/sse?team=a&token=${C.apiKeyValue}`, C.apiKeyValue],
    ['linear_api_key', `https://mcp.linear.app/sse?key=${C.linear}`, C.linear],
    ['webhook_secret', `OPENAI_WEBHOOK_SECRET=${C.whsec}`, C.whsec],
    ['authorization', `proxy-authorization: Basic ${C.basic}`, C.basic],
    ['private_key', `-----BEGIN PRIVATE KEY-----\\n${C.pemKeyBody}\\n-----END PRIVATE KEY-----`, C.pemKeyBody],
    ['private_key', `key: -----BEGIN RSA PRIVATE KEY-----\n${C.pemKeyBody}\n-----END RSA PRIVATE KEY-----\n`, C.pemKeyBody],
    // A block cut off by the platform's own truncation still loses its body.
    ['private_key', `"-----BEGIN EC PRIVATE KEY-----\\n${C.pemKeyBody}…"`, C.pemKeyBody],
    ['certificate', `{"certificate":"-----BEGIN CERTIFICATE-----\\n${C.pemCertBody}\\n-----END CERTIFICATE-----"}`, C.pemCertBody],
    ['iban', 'IBAN DE89 3704 0044 0532 0130 00', 'DE89 3704 0044 0532 0130 00'],
    ['us_ssn', 'ssn 078-05-1120', '078-05-1120'],
  ];

test('every credential kind is redacted in the contexts real logs carry it, and its kind is recorded', () => {
  for (const [kind, text, secret] of CASES) {
    const tally = { count: 0, kinds: new Set<string>() };
    const out = redactor.redact(text, tally);
    assert.ok(!out.includes(secret), `${kind} survived in ${out}`);
    assert.ok(tally.kinds.has(kind), `${text} → kinds ${[...tally.kinds].join(',')}, expected ${kind}`);
    assert.match(out, new RegExp(`\\[REDACTED:${kind}\\]`));
  }
});

test('personal data: SSN, IBAN, phone numbers and e-mail addresses are masked in free text', () => {
  const out = clean('call +14155550123 or mail jane.doe@example.com, SSN 078-05-1120, IBAN DE89 3704 0044 0532 0130 00');
  for (const pii of ['+14155550123', 'jane.doe@example.com', '078-05-1120', 'DE89 3704 0044 0532 0130 00']) assert.ok(!out.includes(pii), out);
  assert.equal(out, 'call [REDACTED:phone] or mail [REDACTED:email], SSN [REDACTED:us_ssn], IBAN [REDACTED:iban]');
});

test('ordinary values are left alone, and returned without a copy', () => {
  const untouched = [
    'claude-sonnet-4-5-20250929',
    'gpt-4o-2024-08-06',
    'anthropic.claude-3-5-sonnet-20240620-v1:0',
    '2026-12-04T18:55:46.123456789Z',
    '0f4e2d8a9b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e',
    '550e8400-e29b-41d4-a716-446655440000',
    'req_011CUhN4PvBEDXwzq6b1Srrt',
    'https://api.openai.com/v1/chat/completions',
    'mcp__github__create_issue',
    'input_tokens: 1234, output_tokens: 56',
    'The key idea is to pass a token budget to the model.',
    'session.id',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude',
  ];
  for (const s of untouched) {
    const tally = { count: 0, kinds: new Set<string>() };
    assert.equal(redactor.redact(s, tally), s);
    assert.equal(tally.count, 0, `${s} was counted as a secret: ${[...tally.kinds].join(',')}`);
  }
});

test('several secrets in one string are all replaced in one pass, in order', () => {
  const tally = { count: 0, kinds: new Set<string>() };
  const out = redactor.redact(`a=${C.openai} b=${C.github} c=${C.openai}`, tally);
  assert.equal(out, 'a=[REDACTED:openai_api_key] b=[REDACTED:github_token] c=[REDACTED:openai_api_key]');
  assert.equal(tally.count, 3);
});

function draft(fields: Record<string, unknown>): DraftEvent {
  return { schema_version: '1.0', event: { id: 'x', action: 'tool.call', outcome: 'success', time: '2026-01-01T00:00:00.000Z' }, ...fields } as unknown as DraftEvent;
}

test('events: every string field is redacted, URLs lose query/userinfo/fragment, the record says what changed', () => {
  const policy = createPolicy({ payloadMode: 'hash' });
  const ev = policy.apply(
    draft({
      user: { email: 'jane.doe@example.com', id: 'u-1' },
      url: { full: `https://bob:${C.dbPassword}@api.example.com/v1/run?api_key=${C.apiKeyValue}#frag` },
      error: { message: `401 for key ${C.anthropic}; contact ops@example.com` },
      gen_ai: { tool: { name: 'Bash' } },
    }),
    {},
  ) as unknown as Record<string, Record<string, unknown>>;
  assert.equal((ev.user as Record<string, unknown>).email, 'jane.doe@example.com', 'the acting identity is kept');
  assert.equal((ev.url as Record<string, unknown>).full, 'https://api.example.com/v1/run');
  assert.equal((ev.error as Record<string, unknown>).message, '401 for key [REDACTED:anthropic_api_key]; contact [REDACTED:email]');
  assert.deepEqual(ev.redaction, { applied: true, count: 2, kinds: ['anthropic_api_key', 'email'], fields: ['url.full', 'error.message'] });
  assert.deepEqual(ev.payload, { mode: 'hash', algorithm: 'sha256' });
});

test('payloads: hash mode keeps digest and size only; HMAC when a key is set; full keeps redacted, e-mail-masked content; none drops them', () => {
  const prompt = `deploy with ${C.openai} and tell alice@example.com`;
  const args = { command: `PGPASSWORD=${C.pgPassword} psql`, timeout: 5 };
  const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

  const hashed = createPolicy({ payloadMode: 'hash' }).apply(draft({}), { prompt, tool_arguments: args });
  assert.deepEqual(hashed.payload, {
    mode: 'hash',
    algorithm: 'sha256',
    prompt: { hash: createHash('sha256').update(bytes(prompt)).digest('hex'), bytes: bytes(prompt).length },
    tool_arguments: { hash: createHash('sha256').update(bytes(args)).digest('hex'), bytes: bytes(args).length },
  });
  assert.deepEqual(hashed.redaction, { applied: false });

  const key = Buffer.from('k'.repeat(32));
  const keyed = createPolicy({ payloadMode: 'hash', hmacKey: key }).apply(draft({}), { prompt });
  assert.equal(keyed.payload?.algorithm, 'hmac-sha256');
  assert.equal(keyed.payload?.prompt?.hash, createHmac('sha256', key).update(bytes(prompt)).digest('hex'));

  const full = createPolicy({ payloadMode: 'full' }).apply(draft({}), { prompt, tool_arguments: args });
  assert.equal(full.payload?.prompt?.content, 'deploy with [REDACTED:openai_api_key] and tell [REDACTED:email]');
  assert.equal(full.payload?.tool_arguments?.content, '{"command":"PGPASSWORD=[REDACTED:credential_assignment] psql","timeout":5}');
  assert.deepEqual(full.redaction?.kinds, ['credential_assignment', 'email', 'openai_api_key']);

  const none = createPolicy({ payloadMode: 'none' }).apply(draft({}), { prompt });
  assert.deepEqual(none.payload, { mode: 'none' });
});

test('extra patterns from the config are redacted as custom; an invalid one is a ConfigError naming it', () => {
  const policy = createPolicy({ payloadMode: 'hash', extraPatterns: ['ACME-[0-9]{6}'] });
  assert.equal(policy.redactText('ticket ACME-123456 opened'), 'ticket [REDACTED:custom] opened');
  assert.throws(() => createPolicy({ payloadMode: 'hash', extraPatterns: ['ok', '(unclosed'] }), (e: unknown) => e instanceof ConfigError && /extra_patterns\[1\]/.test(e.message));
});

test('keys of the free-form maps (labels, config.changes) are redacted too', () => {
  const ev = createPolicy({ payloadMode: 'hash' }).apply(draft({ labels: { [`team ${C.github}`]: 'a', env: 'prod' } }), {}) as unknown as Record<string, Record<string, string>>;
  assert.deepEqual(ev.labels, { 'team [REDACTED:github_token]': 'a', env: 'prod' });
  assert.deepEqual((ev.redaction as unknown as Record<string, unknown>).fields, ['labels']);
});

test('the draft is not mutated', () => {
  const d = draft({ error: { message: `bad key ${C.openai}` } });
  const before = JSON.stringify(d);
  createPolicy({ payloadMode: 'hash' }).apply(d, {});
  assert.equal(JSON.stringify(d), before);
});

test('a row never matches where its trigger does not (the prefilter can only skip strings with no secret)', async () => {
  const { SECRET_PATTERNS } = await import('../../src/normalize/redaction/secret-patterns.ts');
  const rows = SECRET_PATTERNS.map((r) => ({ kind: r.kind, re: new RegExp(r.source), trigger: new RegExp(r.trigger) }));
  // Fragments that build every row's context in many combinations, plus filler.
  const parts = [
    'sk-', 'ant-', 'proj-', 'gh', 'p_', 'github_pat_', 'glpat-', 'xoxb-', 'hooks.slack.com/services/', 'AKIA', 'ASIA', 'AIza', 'hf_', 'eyJ', '.', 'npm_',
    'rk_live_', 'sk_test_', 'whsec_', 'lin_api_', 'kong_', '://', 'user', ':', '@', 'host', 'Authorization', 'proxy-authorization', 'Basic ', 'Bearer ', 'bEaReR ',
    'password', 'PASSWORD', 'Pwd', 'x-api-key', 'aws_secret_access_key', 'SecretAccessKey', '=', '"', "'", ' ', '  ', '?', '&', 'token', 'key', 'DE', '89', '1234',
    '078', '-', '05', '1120', '+', '14155550123', 'a.b', '.com', '-----BEGIN ', 'PRIVATE KEY-----', 'CERTIFICATE-----', '\\n', '\n', 'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '9', 'Z', 'é', 'IOSFODNN7EXAMPLE', 'ghp_', 'eyJhbGciOiJIUzI1NiJ9', 'https://', 'api_key=', '3704', '0044',
  ];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const matchedKinds = new Set<string>();
  for (let i = 0; i < 60000; i++) {
    let s = '';
    const n = 1 + Math.floor(rand() * 10);
    for (let j = 0; j < n; j++) s += parts[Math.floor(rand() * parts.length)];
    for (const r of rows) {
      if (!r.re.test(s)) continue;
      matchedKinds.add(r.kind);
      assert.ok(r.trigger.test(s), `${r.kind} matches ${JSON.stringify(s)} but its trigger /${r.trigger.source}/ does not`);
    }
  }
  // Near misses of real cases: each canary text with a random cut or insertion.
  for (const [, text] of CASES) {
    for (let k = 0; k < 400; k++) {
      const at = Math.floor(rand() * text.length);
      const s = rand() < 0.5 ? text.slice(0, at) + text.slice(at + 1 + Math.floor(rand() * 3)) : text.slice(0, at) + parts[Math.floor(rand() * parts.length)] + text.slice(at);
      for (const r of rows) {
        if (!r.re.test(s)) continue;
        matchedKinds.add(r.kind);
        assert.ok(r.trigger.test(s), `${r.kind} matches ${JSON.stringify(s)} but its trigger /${r.trigger.source}/ does not`);
      }
    }
  }
  // The generator must actually reach the rows, or this test proves nothing.
  assert.equal(matchedKinds.size, rows.length, `random strings reached only ${[...matchedKinds].join(', ')}`);
});
