import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// The README is part of the product: its configuration reference is generated from the schema
// (and must be current), it has a section with a complete example per source and sink type,
// and every example config in it is valid.

const root = new URL('../../', import.meta.url).pathname;
const readme = readFileSync(`${root}README.md`, 'utf8');

test('the configuration reference in README.md is generated from the current schema', () => {
  const r = spawnSync(process.execPath, ['scripts/gen-config-reference.ts', '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}\nrun: npm run gen:docs`);
});

test('README has the quick start (two commands) and a section per source and sink type', () => {
  assert.match(readme, /npm ci && npm run quickstart/);
  assert.match(readme, /^npm test/m);
  for (const type of ['file', 'kafka', 'webhook', 'otlp']) assert.match(readme, new RegExp(`^### Source: \`${type}\``, 'm'), `source ${type}`);
  for (const type of ['splunk_hec', 'elasticsearch', 'cloudwatch_logs', 'file', 'stdout']) assert.match(readme, new RegExp(`^### Sink: \`${type}\``, 'm'), `sink ${type}`);
});

test('every YAML config example in README.md is a valid configuration', async () => {
  const { parseConfig } = await import('../../src/config/load.ts');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^sources:/m.test(b) && /^sinks:/m.test(b));
  assert.ok(blocks.length >= 9, `expected complete examples, found ${blocks.length}`);
  for (const block of blocks) {
    try {
      parseConfig(block, '/etc/agent-audit/agent-audit.yaml', { env: { env: new Proxy({}, { get: () => 'x'.repeat(32), has: () => true }) as NodeJS.ProcessEnv, readFile: () => 'y'.repeat(32) } });
    } catch (err) {
      assert.fail(`README example is invalid:\n${block}\n${(err as Error).message}`);
    }
  }
});
