import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createWithInode, exactlyOnce, gwLines, openInodes, settled, start, tempDir, waitFor } from './pipeline.ts';

// File identity: a file is its content (fingerprint of the first line, plus the bytes before
// the checkpoint) living in an inode (device + inode number). A rename keeps both and is not
// read again; a new file in a reused inode — even one starting with the same line, like a
// fixed header — is new content and is read from its start.

/** A first line many log files share (a W3C-style header): not a JSON record, so it is dead-lettered. */
const HEADER = '#Version: 1.0\n';

test('a renamed file is recognised (running and while stopped): read on at its new name, nothing twice', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'a.log'), gwLines('r', 0, 100));
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`] } });
  await waitFor(() => p.collected.length === 100, 'the file is read');
  renameSync(join(logs, 'a.log'), join(logs, 'b.log'));
  appendFileSync(join(logs, 'b.log'), gwLines('r', 100, 150));
  await waitFor(() => p.collected.length >= 150, 'lines appended after the rename are read');
  await settled(p);
  assert.ok(p.collected.some((c) => c.requestId === 'r-149' && c.path === join(logs, 'b.log')), 'positions name the new path');
  await p.stopSource();
  renameSync(join(logs, 'b.log'), join(logs, 'c.log'));
  appendFileSync(join(logs, 'c.log'), gwLines('r', 150, 200));
  await p.restartSource();
  await waitFor(() => p.collected.length >= 200, 'lines appended while stopped are read from the renamed file');
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'r', 0, 200), { missing: [], duplicated: [] });
  assert.equal(p.collected.length, 200);
  assert.ok(p.logger.find('info', /resuming a known file/).length > 0, 'the restart recognised the file by its fingerprint');
});

test('inode reuse while stopped: a new file in the same inode is read from its start, even with the same first line', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  writeFileSync(path, HEADER + gwLines('old', 0, 300));
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`] } });
  await waitFor(() => p.collected.length === 300, 'the old file is read');
  await settled(p);
  await p.stopSource();
  const ino = statSync(path).ino;
  const cp = p.checkpoints().find((c) => c.ino === ino)!;
  assert.equal(cp.offset, statSync(path).size);

  // Same inode, same first line, longer than the old checkpoint: only the bytes before the
  // checkpoint (its anchor) tell it apart.
  unlinkSync(path);
  if (createWithInode(path, ino, HEADER + gwLines('new', 0, 400)) === undefined) {
    t.skip('this file system did not hand out the freed inode again');
    return;
  }
  await p.restartSource();
  await waitFor(() => p.collected.length === 700, 'the new file is read from its start', 30_000, () => p.collected.length);
  // Same inode, a different first line.
  await settled(p);
  await p.stopSource();
  unlinkSync(path);
  if (createWithInode(path, ino, gwLines('third', 0, 50)) === undefined) {
    t.skip('this file system did not hand out the freed inode again');
    return;
  }
  await p.restartSource();
  await waitFor(() => p.collected.length === 750, 'the third file is read from its start', 30_000, () => p.collected.length);
  await settled(p);
  const c = p.counts();
  assert.deepEqual(exactlyOnce(c, 'old', 0, 300), { missing: [], duplicated: [] });
  assert.deepEqual(exactlyOnce(c, 'new', 0, 400), { missing: [], duplicated: [] });
  assert.deepEqual(exactlyOnce(c, 'third', 0, 50), { missing: [], duplicated: [] });
  assert.equal(p.deadLetters().filter((d) => d.reason === 'invalid_json' && d.position.kind === 'file' && d.position.offset === 0).length, 2, 'each file\'s header line is its own record');
  assert.ok(p.logger.find('warn', /content differs at the checkpoint/).length > 0);
});

test('inode reuse while running: a file that gave up its handle (max_open_files) is replaced by a new file in its inode', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const a = join(logs, 'a.log');
  const b = join(logs, 'b.log');
  writeFileSync(a, gwLines('a', 0, 20));
  writeFileSync(b, HEADER + gwLines('b', 0, 20));
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`], max_open_files: 1, poll_interval: '50ms', rotate_wait: '300ms' } });
  await waitFor(() => p.collected.length === 40, 'both files are read with one handle');
  // a takes the only handle back from b to read new lines.
  appendFileSync(a, gwLines('a', 20, 30));
  await waitFor(() => p.collected.length === 50, 'a is read again');
  const bIno = statSync(b).ino;
  await waitFor(() => !openInodes().has(bIno), 'b gave its handle up');
  unlinkSync(b);
  if (createWithInode(b, bIno, HEADER + gwLines('b2', 0, 60)) === undefined) {
    t.skip('this file system did not hand out the freed inode again');
    return;
  }
  await waitFor(() => p.counts().has('b2-59'), 'the new file in b\'s inode is read', 30_000);
  await settled(p);
  const c = p.counts();
  assert.deepEqual(exactlyOnce(c, 'a', 0, 30), { missing: [], duplicated: [] });
  assert.deepEqual(exactlyOnce(c, 'b', 0, 20), { missing: [], duplicated: [] });
  assert.deepEqual(exactlyOnce(c, 'b2', 0, 60), { missing: [], duplicated: [] }, 'read from its start, not from the old offset');
});

test('checkpoints record the file identity and the offset just past the last durable line', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  const complete = gwLines('cp', 0, 123);
  writeFileSync(path, `${complete}{"timestamp":"2026-11-20T10:00:00.000Z","request_id":"cp-par`);
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`] } });
  await waitFor(() => p.collected.length === 123, 'the complete lines are read');
  await settled(p);
  await waitFor(() => p.checkpoints().length === 1 && p.checkpoints()[0]!.offset === Buffer.byteLength(complete), 'the checkpoint is on disk', 10_000, () => p.checkpoints());
  const st = statSync(path);
  const [cp] = p.checkpoints();
  assert.equal(cp!.path, path);
  assert.equal(cp!.dev, st.dev);
  assert.equal(cp!.ino, st.ino);
  assert.match(cp!.fingerprint, /^[0-9a-f]{32}$/);
  assert.equal(cp!.offset, Buffer.byteLength(complete), 'the partial last line is not passed');
  assert.equal(cp!.line, 123);
  assert.equal(cp!.anchor?.bytes, 256);
  assert.match(cp!.anchor!.sha256, /^[0-9a-f]{32}$/);
  assert.ok(!JSON.stringify(cp).includes('cp-122'), 'no log content in the checkpoint');
});
