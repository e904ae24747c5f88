import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigInvalidError, resolveBlockPaths } from '../../src/config/load.ts';
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

test('relative paths, globs and *_file settings in component blocks are resolved against the config file', () => {
  const c = parseConfig(
    `
sources:
  gw:
    type: file
    include: ["logs/*.jsonl", "/abs/**/*.log"]
    exclude: ["logs/skip-*.jsonl"]
sinks:
  out:
    type: file
    path: ../out/events.jsonl
`,
    '/etc/agent-audit/agent-audit.yaml',
  );
  assert.deepEqual(c.sources.gw!.include, ['/etc/agent-audit/logs/*.jsonl', '/abs/**/*.log']);
  assert.deepEqual(c.sources.gw!.exclude, ['/etc/agent-audit/logs/skip-*.jsonl']);
  assert.equal(c.sinks.out!.path, '/etc/out/events.jsonl');
  const nested = resolveBlockPaths({ es: { tls: { ca_file: 'certs/ca.pem', key_file: '/k.pem' }, endpoint: 'https://x' } }, '/etc/agent-audit');
  assert.deepEqual(nested.es, { tls: { ca_file: '/etc/agent-audit/certs/ca.pem', key_file: '/k.pem' }, endpoint: 'https://x' });
});

test('mapping_dirs are resolved against the config file and default to none', () => {
  assert.deepEqual(parseConfig(minimal, '/etc/agent-audit/agent-audit.yaml').mappingDirs, []);
  const c = parseConfig(minimal + 'mapping_dirs: [mappings.d, /opt/maps]\n', '/etc/agent-audit/agent-audit.yaml');
  assert.deepEqual(c.mappingDirs, ['/etc/agent-audit/mappings.d', '/opt/maps']);
});

test('every kind of mistake is located (file:line:column and path) and says what was expected', () => {
  const src = `sources:\n  a: {type: file, include: ["x"]}\n`;
  const sink = `sinks:\n  o: {type: stdout}\n`;
  const cases: [string, string, RegExp][] = [
    ['unknown key', src + `sinks:\n  o:\n    type: stdout\n    encodng: ecs\n`, /\/c\.yaml:6:5 \/sinks\/o\/encodng: unknown setting 'encodng' \(expected one of: batch, type, encoding, encoding_version, start_at\)/],
    ['wrong type', `workers: two\n` + src + sink, /\/c\.yaml:1:10 \/workers: expected an integer, got a string/],
    ['wrong type (list)', `sources:\n  a: {type: file, include: "x"}\n` + sink, /\/c\.yaml:2:28 \/sources\/a\/include: expected a list, got a string/],
    ['empty value', src + `sinks:\n  o: {type: file, path: }\n`, /\/c\.yaml:4:25 \/sinks\/o\/path: expected a string, got an empty value/],
    ['unknown source type', `sources:\n  a: {type: syslog}\n` + sink, /\/c\.yaml:2:13 \/sources\/a\/type: must be one of: file, kafka, webhook, otlp/],
    ['unknown sink type', src + `sinks:\n  o: {type: elastic}\n`, /\/c\.yaml:4:13 \/sinks\/o\/type: must be one of: splunk_hec, elasticsearch, cloudwatch_logs, file, stdout/],
    ['bad duration (top level)', `shutdown_timeout: 10 seconds\n` + src + sink, /\/c\.yaml:1:19 \/shutdown_timeout: expected a duration such as 250ms, 5s, 10m or 1h/],
    ['bad duration (in a component)', src + `sinks:\n  o:\n    type: file\n    path: x\n    batch: {timeout: fast}\n`, /\/c\.yaml:7:22 \/sinks\/o\/batch\/timeout: expected a duration such as 250ms/],
    ['bad size', `spool:\n  max_size: 10 gigs\n` + src + sink, /\/c\.yaml:2:13 \/spool\/max_size: expected a size such as 512KiB, 64MiB or 10GiB/],
    ['bad size (in a source)', `sources:\n  a: {type: file, include: ["x"], max_line_bytes: 1 meg}\n` + sink, /\/c\.yaml:2:51 \/sources\/a\/max_line_bytes: expected a size/],
    ['missing required setting', src + `sinks:\n  o: {type: splunk_hec, endpoint: "https://hec:8088"}\n`, /\/c\.yaml:4:6 \/sinks\/o: missing required setting 'token'/],
    ['missing one of two settings', src + `sinks:\n  o: {type: elasticsearch, api_key: k}\n`, /\/c\.yaml:4:6 \/sinks\/o: missing a setting: expected one of 'endpoint', 'endpoints'/],
    ['missing sinks', src, /\/c\.yaml:1:1 \/: missing required setting 'sinks'/],
    ['no sources', `sources: {}\n` + sink, /\/c\.yaml:1:10 \/sources: expected at least 1 entry/],
    ['bad component name', `sources:\n  Bad Name: {type: file, include: ["x"]}\n` + sink, /\/c\.yaml:2:3 \/sources\/Bad Name: 'Bad Name' is not a valid name/],
    ['bad server address', `server: {address: localhost}\n` + src + sink, /\/c\.yaml:1:19 \/server\/address: has the wrong form: expected host:port/],
    ['condition without operator', src + sink + `routes:\n  - to: [o]\n    when: {field: payload.mode}\n`, /\/c\.yaml:7:11 \/routes\/0\/when: missing a setting: expected one of 'equals', 'not_equals', 'in', 'exists', 'matches', 'all', 'any', 'not'/],
    ['condition with two operators', src + sink + `routes:\n  - to: [o]\n    when: {field: payload.mode, equals: full, in: [full]}\n`, /\/c\.yaml:7:11 \/routes\/0\/when: sets more than one of settings that exclude each other/],
    ['condition on a field that does not exist', src + sink + `routes:\n  - to: [o]\n    when: {field: payload.mod, equals: full}\n`, /\/c\.yaml:7:19 \/routes\/0\/when\/field: 'payload\.mod' is not a field of the canonical event/],
    ['undefined ${ENV_VAR}', src + `sinks:\n  o: {type: splunk_hec, endpoint: "https://hec:8088", token: "\${HEC_TOKEN}"}\n`, /\/c\.yaml:4:62 \/sinks\/o\/token: environment variable HEC_TOKEN is not set \(referenced as \$\{HEC_TOKEN\}\)/],
    ['unreadable ${file:}', src + `sinks:\n  o: {type: splunk_hec, endpoint: "https://hec:8088", token: "\${file:/run/secrets/hec}"}\n`, /\/c\.yaml:4:62 \/sinks\/o\/token: cannot read \$\{file:\/run\/secrets\/hec\} \(ENOENT\)/],
  ];
  for (const [what, text, expected] of cases) {
    assert.throws(() => parseConfig(text, '/c.yaml', { env: env({}) }), (err: unknown) => {
      assert.ok(err instanceof ConfigInvalidError, what);
      assert.match(err.message, expected, `${what}:\n${err.message}`);
      assert.ok(err.problems.every((p) => p.line !== undefined), `${what}: every problem has a line`);
      return true;
    }, what);
  }
  // Free-form objects accept any key below them.
  assert.doesNotThrow(() => parseConfig(src + sink + `routes:\n  - to: [o]\n    when: {field: labels.team, equals: x}\n`, '/c.yaml'));
});

test('a value that came from a secret reference is never echoed, whatever the mistake', () => {
  const canary = 'CANARY-s3cr3t-0123456789';
  const texts = [
    `workers: \${S}\nsources:\n  a: {type: file, include: ["x"]}\nsinks:\n  o: {type: stdout}\n`,
    `shutdown_timeout: \${S}\nsources:\n  a: {type: file, include: ["x"]}\nsinks:\n  o: {type: stdout}\n`,
    `server: {address: "\${S}"}\nsources:\n  a: {type: file, include: ["x"]}\nsinks:\n  o: {type: stdout}\n`,
    `sources:\n  a: {type: file, include: ["x"]}\nsinks:\n  o: {type: elasticsearch, endpoint: "\${S}"}\n`,
    `sources:\n  a: {type: "\${S}"}\nsinks:\n  o: {type: stdout}\n`,
  ];
  for (const text of texts) {
    assert.throws(() => parseConfig(text, '/c.yaml', { env: env({ S: canary }) }), (err: unknown) => {
      assert.ok(err instanceof ConfigInvalidError);
      assert.ok(!err.message.includes(canary), `secret leaked:\n${err.message}`);
      assert.ok(!JSON.stringify(err.problems).includes(canary));
      return true;
    });
  }
});
