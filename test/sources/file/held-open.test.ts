import { strict as assert } from 'node:assert';
import { appendFileSync, copyFileSync, mkdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exactlyOnce, gwLines, openInodes, settled, start, tempDir, waitFor, type FilePipeline } from './pipeline.ts';

// What happens to a file the source is in the middle of when it is deleted or copy-truncated.
// A small spool with a paused consumer holds the source mid-file (backpressure), so the moment
// is exact: the source has read `readTo` bytes of the file and not more.

const LINES = 8000;

async function heldMidFile(p: FilePipeline, size: number): Promise<number> {
  await waitFor(() => p.spool.isFull(), 'the spool fills');
  let last = -1;
  await waitFor(
    async () => {
      const lag = p.source.stats().lag!;
      const still = lag === last;
      last = lag;
      if (!still) await new Promise((r) => setTimeout(r, 300));
      return still;
    },
    'the source holds still',
    60_000,
  );
  const readTo = size - p.source.stats().lag!;
  assert.ok(readTo > 0 && readTo < size / 2, `held mid-file at byte ${readTo} of ${size}`);
  return readTo;
}

const smallSpool = { spoolMaxBytes: 256 * 1024, segmentBytes: 32 * 1024, consume: false } as const;

test('deletion while open: the rest of the deleted file is read, then its handle is closed', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  writeFileSync(path, gwLines('del', 0, LINES));
  const { ino, size } = statSync(path);
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`], batch_lines: 200, rotate_wait: '500ms' }, ...smallSpool });
  await heldMidFile(p, size);
  unlinkSync(path);
  p.resumeConsumer();
  await waitFor(() => p.counts().size === LINES, 'the rest of the deleted file is read', 120_000, () => p.counts().size);
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'del', 0, LINES), { missing: [], duplicated: [] });
  await waitFor(() => !openInodes().has(ino), 'the deleted file is closed (its space is freed)', 30_000);
});

test('copytruncate mid-file: the truncation is detected, the rest of the old content is read from the rotated copy, nothing is re-sent', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  writeFileSync(path, gwLines('old', 0, LINES));
  const { size } = statSync(path);
  const p = await start(t, { dir, source: { include: [`${logs}/app.log*`], batch_lines: 200, rotate_wait: '500ms' }, ...smallSpool });
  await heldMidFile(p, size);
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  appendFileSync(path, gwLines('new', 0, 100));
  p.resumeConsumer();
  await waitFor(() => p.counts().size === LINES + 100, 'old and new content arrive', 120_000, () => p.counts().size);
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'old', 0, LINES), { missing: [], duplicated: [] }, 'the old rest came from the copy, nothing twice');
  assert.deepEqual(exactlyOnce(p.counts(), 'new', 0, 100), { missing: [], duplicated: [] }, 'the new content is read from its start');
  assert.equal(p.logger.find('warn', /truncated or rewritten/).length, 1);
  assert.equal(p.logger.find('info', /found the rotated copy/).length, 1);
  assert.ok(p.collected.some((c) => c.requestId === `old-${LINES - 1}` && c.path === `${path}.1`), 'the last old lines name the copy');
  assert.equal(p.logger.find('warn', /lost/).length, 0);
});

test('copytruncate with the copy outside the globs: the unread rest of the old content is reported lost with its byte range, never re-sent', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  const text = gwLines('old', 0, LINES);
  writeFileSync(path, text);
  const { size } = statSync(path);
  const p = await start(t, { dir, source: { include: [`${logs}/app.log`], batch_lines: 200, rotate_wait: '500ms' }, ...smallSpool });
  const readTo = await heldMidFile(p, size);
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
  appendFileSync(path, gwLines('new', 0, 100));
  p.resumeConsumer();
  const readLines = text.slice(0, readTo).split('\n').length - 1;
  await waitFor(() => p.counts().size === readLines + 100, 'what was read of the old content and the new content arrive', 120_000, () => p.counts().size);
  await waitFor(() => p.logger.find('warn', /lost/).length === 1, 'the loss is reported');
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'old', 0, readLines), { missing: [], duplicated: [] });
  assert.equal(p.counts().get(`old-${readLines}`), undefined, 'nothing past what was read before the truncation');
  assert.deepEqual(exactlyOnce(p.counts(), 'new', 0, 100), { missing: [], duplicated: [] });
  const [lost] = p.logger.find('warn', /lost/);
  assert.deepEqual({ from: lost!.obj.from, to: lost!.obj.to, path: lost!.obj.path }, { from: readTo, to: size, path });
});
