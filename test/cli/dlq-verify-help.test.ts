import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

// Every dlq subcommand and verify explain themselves; a usage mistake is exit 2 with the help.

const BIN = new URL('../../bin/agent-audit.js', import.meta.url).pathname;

function cli(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('dlq list|show|replay|purge and verify: --help, and usage errors exit 2', () => {
  const expect: Record<string, RegExp> = { list: /grouped by reason/, show: /--limit N/, replay: /Safe while the daemon runs/, purge: /--yes/ };
  for (const [sub, text] of Object.entries(expect)) {
    const r = cli('dlq', sub, '--help');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`Usage: agent-audit dlq ${sub}`));
    assert.match(r.out, text);
    assert.match(r.out, /--config FILE/);
  }
  assert.match(cli('dlq', '--help').out, /list +letters per queue and reason/);
  const bad = cli('dlq', 'show', '--yes');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--yes does not apply to 'dlq show'/);
  assert.equal(cli('dlq', 'frobnicate').code, 2);
  const v = cli('verify', '--help');
  assert.equal(v.code, 0);
  assert.match(v.out, /--public-key FILE/);
  assert.match(v.out, /duplicates +exact copies/);
});
