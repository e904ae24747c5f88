import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigInvalidError } from '../../src/config/load.ts';
import { interpolate } from '../../src/config/interpolate.ts';
import { compileRoutes } from '../../src/daemon/route-filter.ts';
import type { AuditEvent } from '../../src/core/audit-event.ts';

const env = (vars: Record<string, string>, files: Record<string, string> = {}) => ({
  env: vars,
  readFile: (p: string) => {
    if (p in files) return files[p]!;
    throw Object.assign(new Error('missing'), { code: 'ENOENT' });
  },
});

const minimal = `
sources:
  gw:
    type: file
    include: ["/var/log/gw/*.jsonl"]
sinks:
  out:
    type: stdout
`;

test('defaults are applied and relative data_dir is resolved against the config file', () => {
  const c = parseConfig(minimal + 'data_dir: ./state\n', '/etc/agent-audit/agent-audit.yaml');
  assert.equal(c.dataDir, '/etc/agent-audit/state');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.shutdownTimeoutMs, 30_000);
  assert.equal(c.server.port, 8686);
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.sources.gw!.format, 'auto');
  assert.equal(c.sources.gw!.payload_mode, 'hash');
  assert.equal(c.sinks.out!.encoding, 'canonical');
});

test('errors name the file, the line and the path, and say what was expected', () => {
  const text = `log_level: verbose
sources:
  gw:
    type: file
    payload_mode: everything
sinks:
  out:
    type: elastic
`;
  assert.throws(
    () => parseConfig(text, '/cfg/a.yaml'),
    (err: unknown) => {
      assert.ok(err instanceof ConfigInvalidError);
      assert.match(err.message, /\/cfg\/a\.yaml:1:12 \/log_level: must be one of: fatal, error, warn, info, debug, trace/);
      assert.match(err.message, /\/cfg\/a\.yaml:5:19 \/sources\/gw\/payload_mode: must be one of: none, hash, full/);
      assert.match(err.message, /\/cfg\/a\.yaml:8:11 \/sinks\/out\/type: must be one of: splunk_hec/);
      return true;
    },
  );
});

test('unknown top-level settings and YAML syntax errors are located', () => {
  assert.throws(() => parseConfig(minimal + 'spoool: {}\n', '/c.yaml'), /\/c\.yaml:9:1 \/spoool: unknown setting 'spoool' \(expected one of: data_dir, log_level/);
  assert.throws(() => parseConfig('sources: [\n', '/c.yaml'), /\/c\.yaml:\d+:\d+ \/: YAML syntax/);
});

test('routes must name existing sources and sinks', () => {
  const text = minimal + `routes:\n  - from: [gw, ghost]\n    to: [out, nowhere]\n`;
  assert.throws(() => parseConfig(text, '/c.yaml'), (err: unknown) => {
    assert.ok(err instanceof ConfigInvalidError);
    assert.match(err.message, /\/routes\/0\/from\/1: no source named 'ghost'/);
    assert.match(err.message, /\/routes\/0\/to\/1: no sink named 'nowhere'/);
    return true;
  });
});

test('secrets come from ${ENV} and ${file:...} and never appear in errors', () => {
  const canary = 'sk-live-CANARY-0123456789abcdef';
  const r = interpolate({ a: { token: '${TOKEN}', key: '${file:/run/secrets/key}', plain: 'x', dflt: '${NOPE:-fallback}' } }, env({ TOKEN: canary }, { '/run/secrets/key': 'filekey\n' }));
  assert.deepEqual(r.value, { a: { token: canary, key: 'filekey', plain: 'x', dflt: 'fallback' } });
  assert.deepEqual([...r.secretPaths].sort(), ['/a/dflt', '/a/key', '/a/token']);

  // A secret that makes the config invalid: the message names the path, not the value.
  const text = `log_level: \${LEVEL}\n` + minimal;
  assert.throws(() => parseConfig(text, '/c.yaml', { env: env({ LEVEL: canary }) }), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /\/log_level: must be one of/);
    assert.ok(!err.message.includes(canary), 'secret value leaked into the error message');
    return true;
  });
  assert.throws(() => parseConfig(`data_dir: \${MISSING_VAR}\n` + minimal, '/c.yaml', { env: env({}) }), /\/c\.yaml:1:11 \/data_dir: environment variable MISSING_VAR is not set/);
  assert.throws(() => parseConfig(`data_dir: \${file:/nope}\n` + minimal, '/c.yaml', { env: env({}) }), /cannot read \$\{file:\/nope\} \(ENOENT\)/);
});

test('loads from disk', async () => {
  const { loadConfigFile } = await import('../../src/config/load.ts');
  const dir = mkdtempSync(join(tmpdir(), 'aa-cfg-'));
  writeFileSync(join(dir, 'agent-audit.yaml'), minimal);
  assert.equal(loadConfigFile(join(dir, 'agent-audit.yaml')).file, join(dir, 'agent-audit.yaml'));
  assert.throws(() => loadConfigFile(join(dir, 'missing.yaml')), /cannot read config file .*missing\.yaml: ENOENT/);
});

test('route conditions select events per sink (full payloads only to the restricted sink)', () => {
  const routes = [
    { to: ['metadata'] },
    { from: ['gw'], to: ['restricted'], when: { field: 'payload.mode', equals: 'full' } },
    { to: ['denials'], when: { all: [{ field: 'event.action', in: ['tool.call', 'auth.decision'] }, { not: { field: 'policy.decision', equals: 'allow' } }, { field: 'policy.decision', exists: true }] } },
  ];
  const preds = compileRoutes(routes, ['metadata', 'restricted', 'denials', 'unrouted']);
  const ev = (source: string, mode: string, action = 'llm.call', decision?: string) =>
    ({ origin: { source }, payload: { mode }, event: { action }, ...(decision ? { policy: { decision } } : {}) }) as unknown as AuditEvent;
  assert.equal(preds.get('metadata')!(ev('gw', 'hash')), true);
  assert.equal(preds.get('restricted')!(ev('gw', 'hash')), false);
  assert.equal(preds.get('restricted')!(ev('gw', 'full')), true);
  assert.equal(preds.get('restricted')!(ev('other', 'full')), false);
  assert.equal(preds.get('denials')!(ev('gw', 'hash', 'tool.call', 'deny')), true);
  assert.equal(preds.get('denials')!(ev('gw', 'hash', 'tool.call', 'allow')), false);
  assert.equal(preds.get('denials')!(ev('gw', 'hash', 'tool.call')), false);
  assert.equal(preds.get('unrouted')!(ev('gw', 'hash')), false);
  const all = compileRoutes([], ['a']);
  assert.equal(all.get('a')!(ev('x', 'none')), true);
});
