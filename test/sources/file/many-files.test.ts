import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exactlyOnce, gwLines, openFds, settled, start, tempDir, waitFor } from './pipeline.ts';

// 1,000 files appear at once: all are read, every line exactly once, and the process never holds
// more file descriptors than before plus max_open_files (counted in /proc/self/fd while it runs;
// a little slack for the spool's and the checkpoint file's own transient descriptors).

const FILES = 1000;
const LINES = 10;
const MAX_OPEN = 32;
const SLACK = 4;

test(`${FILES} files at once: all read exactly once with at most max_open_files (${MAX_OPEN}) open handles`, async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const p = await start(t, { dir, source: { include: [`${logs}/**/*.log`], max_open_files: MAX_OPEN, poll_interval: '100ms', rescan_interval: '2s' } });
  await settled(p);
  const baseline = openFds();
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, openFds());
  }, 5);
  t.after(() => clearInterval(sampler));

  const path = (i: number) => join(logs, `d${i % 10}`, `f${i}.log`);
  for (let d = 0; d < 10; d++) mkdirSync(join(logs, `d${d}`));
  for (let i = 0; i < FILES; i++) writeFileSync(path(i), gwLines(`f${i}`, 0, LINES));
  await waitFor(() => p.counts().size === FILES * LINES, 'every line of every file is read', 150_000, () => p.counts().size);
  await settled(p);
  for (let i = 0; i < FILES; i++) assert.deepEqual(exactlyOnce(p.counts(), `f${i}`, 0, LINES), { missing: [], duplicated: [] }, `file ${i}`);

  // Files that gave up their handle are reopened when they grow.
  for (let i = 0; i < FILES; i += 10) appendFileSync(path(i), gwLines(`f${i}`, LINES, LINES + 2));
  await waitFor(() => p.counts().size === FILES * LINES + (FILES / 10) * 2, 'appended lines are read', 120_000, () => p.counts().size);
  await settled(p);
  for (let i = 0; i < FILES; i += 10) assert.deepEqual(exactlyOnce(p.counts(), `f${i}`, 0, LINES + 2), { missing: [], duplicated: [] }, `file ${i}`);
  assert.equal(p.collected.length, FILES * LINES + (FILES / 10) * 2);

  clearInterval(sampler);
  t.diagnostic(`descriptors: ${baseline} before, peak ${peak}`);
  assert.ok(peak > baseline, 'files were open while being read');
  assert.ok(peak <= baseline + MAX_OPEN + SLACK, `peak ${peak} descriptors > ${baseline} + max_open_files ${MAX_OPEN} + ${SLACK}`);
});
