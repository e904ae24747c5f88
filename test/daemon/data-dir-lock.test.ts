import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireDataDirLock, lockHolder } from '../../src/daemon/data-dir-lock.ts';

// One daemon per data directory: a second one is refused while the first lives; a SIGKILLed
// holder does not block the restart.

const LOCK_MODULE = new URL('../../src/daemon/data-dir-lock.ts', import.meta.url).href;

test('data-dir lock: refused while another process holds it, taken over once that process is SIGKILLed', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lock-'));
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `const { acquireDataDirLock } = await import(${JSON.stringify(LOCK_MODULE)}); acquireDataDirLock(${JSON.stringify(dir)}); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = (await once(holder.stdout!, 'data')) as [Buffer];
    assert.equal(chunk.toString().trim(), 'locked');
    assert.equal(lockHolder(dir)?.pid, holder.pid);
    assert.throws(() => acquireDataDirLock(dir), new RegExp(`in use by another agent-audit daemon \\(pid ${holder.pid} `));
    holder.kill('SIGKILL');
    await once(holder, 'close');
    assert.equal(lockHolder(dir), undefined, 'a dead holder does not count');
    const lock = acquireDataDirLock(dir);
    assert.equal(lockHolder(dir), undefined, 'this process is not "another" daemon');
    lock.release();
  } finally {
    holder.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
