import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';
import { SplunkHecEndpoint } from '../endpoints/splunk-hec.ts';
import { runCli } from '../support/daemon-process.ts';

// `agent-audit check-config FILE [--connect]`: exit 0 for a valid file, 1 with located errors
// for an invalid one; --connect starts every sink once against the local HEC and
// Elasticsearch (reachable, wrong credentials, nothing listening) and reports each.

const HEC_TOKEN = 'CANARY-check-hec-token-11112222';
const ES_PASSWORD = 'CANARY-check-es-password-3333';

/** A port on which nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function write(dir: string, name: string, sinks: string, extra = ''): string {
  const file = join(dir, name);
  writeFileSync(file, `data_dir: ${dir}/state\nsources:\n  gw: { type: file, include: ["${dir}/logs/*.jsonl"], format: generic_gateway }\nsinks:\n${sinks}${extra}`);
  return file;
}

test('check-config: 0 for a valid file (with a summary), 1 with file:line for an invalid one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-check-'));
  const ok = write(dir, 'ok.yaml', `  out: { type: file, path: out.jsonl }\n  siem: { type: splunk_hec, endpoint: "https://hec.example:8088", token: "\${HEC_TOKEN}" }\n`, 'routes:\n  - to: [out]\n  - to: [siem]\n    when: { field: payload.mode, not_equals: full }\n');
  const r = await runCli(['check-config', ok], { HEC_TOKEN });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok\.yaml: valid/);
  assert.match(r.stdout, /source gw: file, format generic_gateway, payload hash/);
  assert.match(r.stdout, /sink siem: splunk_hec, encoding canonical/);
  assert.match(r.stdout, /route 1: all sources -> siem \(with a condition\)/);
  assert.match(r.stdout, /secrets from references \(never shown\): \/sinks\/siem\/token/);
  assert.ok(!r.stdout.includes(HEC_TOKEN) && !r.stderr.includes(HEC_TOKEN));

  const bad = write(dir, 'bad.yaml', `  out: { type: file, path: out.jsonl, batch: { timeout: soon } }\n`);
  const b = await runCli(['check-config', bad]);
  assert.equal(b.code, 1);
  assert.match(b.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:5:57 /sinks/out/batch/timeout: expected a duration`));

  // Valid by the schema, but `run` would not start: an unknown mapping name.
  const unknownFormat = join(dir, 'format.yaml');
  writeFileSync(unknownFormat, `sources:\n  gw: { type: file, include: ["x/*.jsonl"], format: no_such_format }\nsinks:\n  out: { type: stdout }\n`);
  const f = await runCli(['check-config', unknownFormat]);
  assert.equal(f.code, 1);
  assert.match(f.stderr, /\/sources\/gw: .*no_such_format/);

  const missing = await runCli(['check-config', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read config file .*nope\.yaml: ENOENT/);
  assert.equal((await runCli(['check-config'])).code, 2);
});

test('check-config --connect: each sink reachable with its credentials, or FAILED with the reason; exit 1 when any fails', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-connect-'));
  const hec = await SplunkHecEndpoint.start({ tokens: { [HEC_TOKEN]: {}, 'disabled-token': { enabled: false } } });
  const es = await ElasticsearchEndpoint.start({ auth: { users: { shipper: ES_PASSWORD } } });
  const nothing = await closedPort();
  const env = { HEC_TOKEN, ES_PASSWORD, WRONG: 'CANARY-wrong-secret-44445555' };
  try {
    const good = write(dir, 'good.yaml', `  siem: { type: splunk_hec, endpoint: "${hec.url}", token: "\${HEC_TOKEN}" }\n  search: { type: elasticsearch, endpoint: "${es.url}", user: shipper, password: "\${ES_PASSWORD}" }\n  out: { type: file, path: ${dir}/out/events.jsonl }\n`);
    const ok = await runCli(['check-config', '--connect', good], env);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    for (const s of ['siem', 'search']) assert.match(ok.stdout, new RegExp(`sink ${s}: reachable, credentials accepted`));
    assert.match(ok.stdout, /sink out: output file writable/);

    const cases: [string, string, RegExp][] = [
      ['HEC, wrong token', `  siem: { type: splunk_hec, endpoint: "${hec.url}", token: "\${WRONG}" }\n`, /sink siem: FAILED: .*(403|401).*token/i],
      ['HEC, disabled token', `  siem: { type: splunk_hec, endpoint: "${hec.url}", token: disabled-token }\n`, /sink siem: FAILED: .*disabled/i],
      ['HEC, nothing listening', `  siem: { type: splunk_hec, endpoint: "http://127.0.0.1:${nothing}", token: "\${HEC_TOKEN}" }\n`, /sink siem: FAILED: .*127\.0\.0\.1:\d+.*connection refused/],
      ['ES, wrong password', `  search: { type: elasticsearch, endpoint: "${es.url}", user: shipper, password: "\${WRONG}" }\n`, /sink search: FAILED: .*rejected the credentials \(HTTP 401/],
      ['ES, nothing listening', `  search: { type: elasticsearch, endpoint: "http://127.0.0.1:${nothing}", user: shipper, password: "\${ES_PASSWORD}" }\n`, /sink search: FAILED: .*unreachable.*connection refused/],
    ];
    for (const [what, sinks, expected] of cases) {
      const file = write(dir, 'case.yaml', `${sinks}  out: { type: file, path: ${dir}/out/events.jsonl }\n`);
      const r = await runCli(['check-config', '--connect', file], env);
      assert.equal(r.code, 1, `${what}: ${r.stdout}`);
      assert.match(r.stdout, expected, what);
      assert.match(r.stdout, /sink out: output file writable/, `${what}: the other sinks are still checked`);
      for (const secret of Object.values(env)) assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), `${what}: a secret is in the output`);
    }
  } finally {
    await hec.close();
    await es.close();
  }
});
