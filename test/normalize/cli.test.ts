// End to end through the real CLI process (node src/cli/main.ts normalize …).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/formats/', import.meta.url));
const FIXTURE_FILES = readdirSync(FIXTURES).filter((f) => f.endsWith('.jsonl')).sort().map((f) => join(FIXTURES, f));

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

function cli(args: string[], stdin?: Buffer | string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'normalize', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.end(stdin ?? '');
  });
}

const jsonLines = (b: Buffer | string): Record<string, unknown>[] =>
  b.toString().split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

/** Planted secrets, grepped out of the fixture files by kind (values, not patterns, are scanned for). */
function canaries(): Map<string, Set<string>> {
  const text = FIXTURE_FILES.map((f) => readFileSync(f, 'utf8')).join('\n');
  const kinds: [string, RegExp, number][] = [
    ['openai_api_key', /sk-proj-[A-Za-z0-9_-]{20,}/g, 0],
    ['anthropic_api_key', /sk-ant-api03-[A-Za-z0-9_-]{20,}/g, 0],
    ['github_token', /gh[pousr]_[A-Za-z0-9]{30,}/g, 0],
    ['slack_token', /xox[abpr]-[A-Za-z0-9-]{10,}/g, 0],
    ['aws_access_key_id', /AKIA[A-Z0-9]{16}/g, 0],
    ['npm_token', /npm_[A-Za-z0-9]{30,}/g, 0],
    ['jwt', /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, 0],
    ['url_query_token', /(?:rk_live_|lin_api_)[A-Za-z0-9]{10,}/g, 0],
    ['access_token_param', /access_token=([^&"\\\s]{8,})/g, 1],
    ['db_url_password', /[a-z]+:\/\/[^:/\s"@]+:([^@\s"]{6,})@/g, 1],
    ['pgpassword', /PGPASSWORD=([^\s"\\]{4,})/g, 1],
    ['pem_certificate', /-----BEGIN CERTIFICATE-----(?:\\n)?([A-Za-z0-9+/]{40})/g, 1],
    ['us_ssn', /\b\d{3}-\d{2}-\d{4}\b/g, 0],
    ['iban', /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){4,7}\b/g, 0],
    ['phone', /\+\d{10,15}\b/g, 0],
    ['kong_apikey_header', /"apikey":\s*"([^"]{12,})"/g, 1],
  ];
  const found = new Map<string, Set<string>>();
  for (const [kind, re, group] of kinds) {
    for (const m of text.matchAll(re)) {
      const v = m[group]!;
      if (!found.has(kind)) found.set(kind, new Set());
      found.get(kind)!.add(v);
    }
  }
  return found;
}

for (const mode of ['hash', 'full'] as const) {
  test(`all fixtures through the CLI (payload mode ${mode}): exit 0, valid output, and no planted secret in any output byte`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aa-cli-'));
    try {
      const dlFile = join(dir, 'dead.jsonl');
      const r = await cli(['--payload-mode', mode, '--dead-letters', dlFile, ...FIXTURE_FILES]);
      assert.equal(r.code, 0, r.stderr);
      const events = jsonLines(r.stdout);
      assert.ok(events.length >= 250, `only ${events.length} events`);
      assert.match(r.stderr, /205 records read, \d+ events written, 0 dead letters/);
      for (const f of ['claude_code_otel_logs', 'kong_ai_gateway_file_log', 'generic_gateway']) assert.match(r.stderr, new RegExp(`${f}: \\d+ records`));
      const dead = readFileSync(dlFile);
      const all = Buffer.concat([r.stdout, dead, Buffer.from(r.stderr)]).toString('utf8');

      const c = canaries();
      for (const kind of ['openai_api_key', 'anthropic_api_key', 'github_token', 'jwt', 'url_query_token', 'access_token_param', 'db_url_password', 'pem_certificate', 'us_ssn', 'phone', 'kong_apikey_header']) {
        assert.ok((c.get(kind)?.size ?? 0) > 0, `canary extraction found no ${kind} in the fixtures`);
      }
      const leaks: string[] = [];
      for (const [kind, values] of c) for (const v of values) if (all.includes(v)) leaks.push(`${kind}: ${v.slice(0, 12)}…`);
      assert.deepEqual(leaks, []);
      if (mode === 'full') assert.ok(events.some((e) => JSON.stringify(e).includes('"content":')), 'full mode keeps redacted content');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('edge cases in one file: truncated JSON, 1 MB+ line, invalid UTF-8, blank line; following lines stay in sync', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aa-cli-'));
  try {
    const good = (id: string) => JSON.stringify({ timestamp: '2026-08-14T09:30:01Z', request_id: id, endpoint: 'https://api.x.example/v1', latency_ms: 1, status: 200 });
    const huge = JSON.stringify({ timestamp: '2026-08-14T09:30:01Z', request_id: 'big', endpoint: 'https://x/y', latency_ms: 1, pad: 'x'.repeat(1_100_000) });
    const lines = [
      Buffer.from(good('first')),
      Buffer.from('{"request_id":"cut","endpoint":"https://x/y","latency'),
      Buffer.from(huge),
      Buffer.concat([Buffer.from('{"request_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
      Buffer.from(''),
      Buffer.from(good('last')),
    ];
    const file = join(dir, 'edge.jsonl');
    writeFileSync(file, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
    const r = await cli(['--format', 'auto', file]);
    assert.equal(r.code, 0, r.stderr);
    const events = jsonLines(r.stdout) as { event: { request_id: string }; origin: { position: { file: { line: number; offset: number } } } }[];
    assert.deepEqual(events.map((e) => e.event.request_id), ['first', 'last']);
    const offsetOfLast = lines.slice(0, 5).reduce((n, l) => n + l.length + 1, 0);
    assert.deepEqual(events[1]!.origin.position.file, { path: file, offset: offsetOfLast, line: 6 });
    const dead = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { reason: string; position: { line: number }; message: string; raw: string });
    assert.deepEqual(dead.map((d) => [d.reason, d.position.line]), [
      ['invalid_json', 2],
      ['line_too_long', 3],
      ['invalid_utf8', 4],
    ]);
    assert.match(dead[1]!.message, /line is \d+ bytes, over the 1048576-byte limit/);
    assert.ok(dead[1]!.raw.length < 5000, 'only a prefix of the long line is kept');
    assert.match(r.stderr, /5 records read, 2 events written, 3 dead letters, 1 blank lines skipped/);
    assert.match(r.stderr, /dead letters by reason: invalid_json 1, invalid_utf8 1, line_too_long 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--max-line-bytes applies, an empty file is fine, stdin is read when no file is given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aa-cli-'));
  try {
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const e = await cli([empty]);
    assert.equal(e.code, 0);
    assert.equal(e.stdout.length, 0);
    assert.match(e.stderr, /0 records read, 0 events written, 0 dead letters/);

    const line = readFileSync(join(FIXTURES, 'claude_code_hooks.jsonl'), 'utf8').split('\n')[0]!;
    const s = await cli(['--max-line-bytes', '100'], line + '\n');
    assert.equal(s.code, 0);
    assert.match(s.stderr, /"reason":"line_too_long"/);
    const ok = await cli([], line);
    const [ev] = jsonLines(ok.stdout) as { origin: { input: string; format: string } }[];
    assert.equal(ev!.origin.input, 'stdin');
    assert.equal(ev!.origin.format, 'claude_code_hooks');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--explain prints the matching rule and the rejected formats', async () => {
  const line = readFileSync(join(FIXTURES, 'kong_ai_gateway_file_log.jsonl'), 'utf8').split('\n')[0]!;
  const r = await cli(['--explain'], line);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /explain <stdin>:1 \(byte 0\):\n {2}matched kong_ai_gateway_file_log \(priority 50\): record\.latencies exists and record\.started_at exists/);
  assert.match(r.stderr, /rejected generic_gateway \(priority 100\): failed: record\.request_id exists/);
  assert.match(r.stderr, /rejected otel_genai_traces \(priority 50\): failed: record\.resourceSpans is array/);
  const forced = await cli(['--explain', '--format', 'kong_ai_gateway_file_log'], line);
  assert.match(forced.stderr, /format kong_ai_gateway_file_log \(configured, detection skipped\)/);
});

test('--format forces a mapping; a record it cannot map becomes a schema_invalid dead letter', async () => {
  const line = readFileSync(join(FIXTURES, 'claude_code_hooks.jsonl'), 'utf8').split('\n')[0]!;
  const r = await cli(['--format', 'generic_gateway'], line);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /"reason":"schema_invalid"/);
});

test('exit codes: usage errors 2, missing file 1, --help 0', async () => {
  assert.equal((await cli(['--bogus'])).code, 2);
  const fmt = await cli(['--format', 'nope']);
  assert.equal(fmt.code, 2);
  assert.match(fmt.stderr, /unknown format 'nope'/);
  assert.equal((await cli(['--to', 'xml'])).code, 2);
  assert.equal((await cli(['--payload-mode', 'some'])).code, 2);
  assert.equal((await cli(['--max-line-bytes', '0'])).code, 2);
  const missing = await cli(['/nonexistent/file.jsonl']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read \/nonexistent\/file\.jsonl: ENOENT/);
  assert.equal(missing.stdout.length, 0);
  const help = await cli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /Usage: agent-audit normalize/);
  const list = await cli(['--list-formats']);
  assert.match(list.stdout.toString(), /^aws_bedrock_invocation_logs\n/);
});
