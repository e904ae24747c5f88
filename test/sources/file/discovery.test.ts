import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exactlyOnce, gwLines, settled, start, tempDir, waitFor } from './pipeline.ts';

// Which files the file source reads and from where: include/exclude globs with `**`, new files
// found by file-system notifications and by the periodic re-scan alone, start_at for files that
// exist at start and for files that appear later. Real files, the real source, ingest and spool.

test('include/exclude globs with **: matching files at any depth are read, excluded and unmatched ones are not', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  for (const d of ['a/b/c', 'a/private/x', 'other']) mkdirSync(join(logs, d), { recursive: true });
  writeFileSync(join(logs, 'top.log'), gwLines('top', 0, 5)); // ** matches zero directories
  writeFileSync(join(logs, 'a', 'x.log'), gwLines('x', 0, 5));
  writeFileSync(join(logs, 'a', 'b', 'c', 'deep.log'), gwLines('deep', 0, 5));
  writeFileSync(join(logs, 'a', 'skip-me.log'), gwLines('skip', 0, 5)); // exclude **/skip-*.log
  writeFileSync(join(logs, 'a', 'private', 'x', 'secret.log'), gwLines('private', 0, 5)); // exclude a/private/**
  writeFileSync(join(logs, 'a', 'notes.txt'), gwLines('txt', 0, 5)); // not *.log
  writeFileSync(join(logs, 'a', 'b', 'app.log.1'), gwLines('rotated', 0, 5)); // not *.log
  writeFileSync(join(logs, 'other', 'o.jsonl'), gwLines('jsonl', 0, 5)); // second include pattern {a,b}
  const p = await start(t, {
    dir,
    source: { include: [`${logs}/**/*.log`, `${logs}/{other,none}/*.jsonl`], exclude: [`${logs}/**/skip-*.log`, `${logs}/a/private/**`] },
  });
  await settled(p);
  const c = p.counts();
  for (const tag of ['top', 'x', 'deep', 'jsonl']) assert.deepEqual(exactlyOnce(c, tag, 0, 5), { missing: [], duplicated: [] }, tag);
  const tags = new Set([...c.keys()].map((k) => k.split('-')[0]));
  assert.deepEqual([...tags].sort(), ['deep', 'jsonl', 'top', 'x']);
  // A file created later in an excluded place stays unread, one in a new deep directory is read.
  mkdirSync(join(logs, 'a', 'private', 'y'), { recursive: true });
  writeFileSync(join(logs, 'a', 'private', 'y', 'later.log'), gwLines('private2', 0, 3));
  mkdirSync(join(logs, 'n1', 'n2'), { recursive: true });
  writeFileSync(join(logs, 'n1', 'n2', 'later.log'), gwLines('later', 0, 3));
  await waitFor(() => p.counts().has('later-2'), 'the file in the new directory is read');
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'later', 0, 3), { missing: [], duplicated: [] });
  assert.equal([...p.counts().keys()].filter((k) => k.startsWith('private')).length, 0, 'excluded files are never read');
});

test('new files are found by file-system notifications at once (re-scan an hour away)', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const p = await start(t, { dir, source: { include: [`${logs}/**/*.log`], rescan_interval: '1h', poll_interval: '1h' } });
  await settled(p);
  writeFileSync(join(logs, 'new.log'), gwLines('new', 0, 10));
  await waitFor(() => p.counts().size === 10, 'the new file is read', 30_000);
  mkdirSync(join(logs, 'made', 'later'), { recursive: true });
  writeFileSync(join(logs, 'made', 'later', 'deeper.log'), gwLines('deeper', 0, 10));
  await waitFor(() => p.counts().size === 20, 'the file in a new directory is read', 30_000);
  // Growth is noticed by notifications too (the poll interval is an hour).
  appendFileSync(join(logs, 'new.log'), gwLines('new', 10, 20));
  await waitFor(() => p.counts().size === 30, 'appended lines are read', 30_000);
  assert.deepEqual(exactlyOnce(p.counts(), 'new', 0, 20), { missing: [], duplicated: [] });
  assert.deepEqual(exactlyOnce(p.counts(), 'deeper', 0, 10), { missing: [], duplicated: [] });
});

test('without notifications (watch: false, as on NFS) the periodic re-scan finds new files and the poll finds growth', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const p = await start(t, { dir, source: { include: [`${logs}/**/*.log`], watch: false, rescan_interval: '300ms', poll_interval: '100ms' } });
  await settled(p);
  mkdirSync(join(logs, 'x', 'y'), { recursive: true });
  writeFileSync(join(logs, 'x', 'y', 'missed.log'), gwLines('missed', 0, 10));
  await waitFor(() => p.counts().size === 10, 'the re-scan finds the file', 30_000);
  appendFileSync(join(logs, 'x', 'y', 'missed.log'), gwLines('missed', 10, 15));
  await waitFor(() => p.counts().size === 15, 'the poll finds its growth', 30_000);
  assert.deepEqual(exactlyOnce(p.counts(), 'missed', 0, 15), { missing: [], duplicated: [] });
});

test('start_at: beginning reads files that exist at start and files that appear later from their start', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'old.log'), gwLines('old', 0, 50));
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`], start_at: 'beginning' } });
  await waitFor(() => p.counts().size === 50, 'the existing file is read from its start');
  writeFileSync(join(logs, 'new.log'), gwLines('new', 0, 20));
  appendFileSync(join(logs, 'old.log'), gwLines('old', 50, 60));
  await waitFor(() => p.counts().size === 80, 'the new file and the appended lines are read');
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'old', 0, 60), { missing: [], duplicated: [] });
  assert.deepEqual(exactlyOnce(p.counts(), 'new', 0, 20), { missing: [], duplicated: [] });
  // Line numbers count from the file's start.
  const first = p.collected.find((c) => c.requestId === 'old-0')!;
  assert.equal(first.line, 1);
  assert.equal(first.offset, 0);
});

test('start_at: end skips what existing files hold at start, reads new files from their start, and a restart loses nothing written meanwhile', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'busy.log'), gwLines('before', 0, 100));
  writeFileSync(join(logs, 'quiet.log'), gwLines('quiet-before', 0, 100));
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`], start_at: 'end' } });
  await settled(p);
  assert.equal(p.collected.length, 0, 'nothing that existed at start is read');
  appendFileSync(join(logs, 'busy.log'), gwLines('after', 0, 10));
  writeFileSync(join(logs, 'fresh.log'), gwLines('fresh', 0, 10));
  await waitFor(() => p.counts().size === 20, 'appended lines and the new file are read');
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'after', 0, 10), { missing: [], duplicated: [] });
  assert.deepEqual(exactlyOnce(p.counts(), 'fresh', 0, 10), { missing: [], duplicated: [] });
  // The quiet file got no line while the source ran; lines written to it while agent-audit is
  // down are still read after the restart (its start position was checkpointed at once).
  await p.stopSource();
  appendFileSync(join(logs, 'quiet.log'), gwLines('quiet-while-down', 0, 7));
  appendFileSync(join(logs, 'busy.log'), gwLines('busy-while-down', 0, 5));
  await p.restartSource();
  await waitFor(() => p.counts().size === 32, 'lines written while down are read', 30_000, () => [...p.counts().keys()].slice(-15));
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'quiet-while-down', 0, 7), { missing: [], duplicated: [] });
  assert.deepEqual(exactlyOnce(p.counts(), 'busy-while-down', 0, 5), { missing: [], duplicated: [] });
  assert.equal([...p.counts().keys()].filter((k) => k.startsWith('before') || k.startsWith('quiet-before')).length, 0);
  assert.equal(p.collected.length, 32, 'nothing read twice across the restart');
});
