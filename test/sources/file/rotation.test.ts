import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { exactlyOnce, openInodes, settled, start, tempDir, waitFor, type FilePipeline } from './pipeline.ts';

// Rotation while a writer (its own process) appends at full speed, checked by content: every
// line the writer wrote is an event exactly once. Rename rotation loses and duplicates nothing;
// copytruncate never re-sends anything, reads the rest of the old content from the rotated copy,
// and can lose only lines written between logrotate's copy and its truncation that were not read
// before the truncation (copytruncate's inherent race: they are in neither file).

const WRITER = new URL('./rotating-writer.ts', import.meta.url).pathname;

interface WaitMessage {
  readonly wait: number;
  readonly ino: number;
  readonly firstLine: number;
}

interface WriterReport {
  readonly raceWindows: [number, number][];
}

/** Runs the writer; `ready` decides when it may go on past the middle of each generation. */
function runWriter(config: object, ready: (m: WaitMessage) => Promise<void>): Promise<WriterReport> {
  const child = spawn(process.execPath, [WRITER, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise<WriterReport>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`writer exited with ${code}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as (WaitMessage & { done?: undefined }) | (WriterReport & { done: true });
      if (m.done) resolve(m);
      else
        ready(m).then(
          () => child.stdin!.write('go\n'),
          (err: unknown) => {
            child.kill();
            reject(err as Error);
          },
        );
    });
  });
}

const LINES = 20_000;
const ROTATE_EVERY = 4_000;

async function allRead(p: FilePipeline, expected: number): Promise<void> {
  await waitFor(() => p.counts().size >= expected, `${expected} distinct lines read`, 120_000, () => ({ distinct: p.counts().size, events: p.collected.length }));
  await settled(p);
}

test('rename rotation (logrotate create) while the writer appends at full speed: the old file is read to its end, every line exactly once', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  // Rotated names are not matched: the old file is followed through its open handle only.
  const p = await start(t, { dir, source: { include: [`${logs}/app.log`], rotate_wait: '1s', poll_interval: '50ms' } });
  const rotatedInodes: number[] = [];
  const report = await runWriter({ path, tag: 'rn', lines: LINES, rotateEvery: ROTATE_EVERY, mode: 'rename', lagLines: 300, raceLines: 0 }, async (m) => {
    rotatedInodes.push(m.ino);
    // A rename-rotated file is readable only if it was opened before it left the globs.
    await waitFor(() => openInodes().has(m.ino), `generation ${m.wait} is open`, 60_000);
  });
  assert.deepEqual(report.raceWindows, []);
  await allRead(p, LINES);
  assert.deepEqual(exactlyOnce(p.counts(), 'rn', 0, LINES), { missing: [], duplicated: [] });
  assert.equal(p.collected.length, LINES, 'no line twice');
  // Lines the writer put into the old file after the rename were read from it.
  assert.ok(p.collected.some((c) => c.requestId === `rn-${ROTATE_EVERY + 100}` && c.path === path), 'lag lines are read');
  // Rotated files are given up once quiet for rotate_wait.
  const current = rotatedInodes.at(-1)!;
  await waitFor(() => rotatedInodes.slice(0, -1).every((ino) => !openInodes().has(ino)), 'rotated files are closed after rotate_wait', 30_000);
  assert.ok(openInodes().has(current), 'the current file stays open');
});

test('rename rotation with rotated names matched too: renames are recognised by inode, every line exactly once', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  const p = await start(t, { dir, source: { include: [`${logs}/app.log*`], poll_interval: '50ms' } });
  // No waiting: rotations as fast as the writer can write (the renamed files stay matched).
  await runWriter({ path, tag: 'rm', lines: LINES, rotateEvery: ROTATE_EVERY, mode: 'rename', lagLines: 300, raceLines: 0 }, async () => {});
  await allRead(p, LINES);
  assert.deepEqual(exactlyOnce(p.counts(), 'rm', 0, LINES), { missing: [], duplicated: [] });
  assert.equal(p.collected.length, LINES);
});

test('copytruncate while the writer appends at full speed: detected every time, the rest read from the copy, nothing re-sent; only race-window lines can be missing', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  const p = await start(t, { dir, source: { include: [`${logs}/app.log*`], poll_interval: '50ms', rotate_wait: '2s' } });
  const report = await runWriter({ path, tag: 'ct', lines: LINES, rotateEvery: ROTATE_EVERY, mode: 'copytruncate', lagLines: 0, raceLines: 200 }, async (m) => {
    // Rotate only once the reader is reading this generation (real rotations are far apart).
    await waitFor(() => p.counts().has(`ct-${m.firstLine}`), `generation ${m.wait} is being read`, 60_000);
  });
  const inRace = (i: number) => report.raceWindows.some(([a, b]) => i >= a && i < b);
  const raceLines = report.raceWindows.reduce((n, [a, b]) => n + b - a, 0);
  await waitFor(() => p.counts().size >= LINES - raceLines, 'every line outside the race windows is read', 120_000, () => p.counts().size);
  await settled(p);
  const counts = p.counts();
  const missingOutside: string[] = [];
  const duplicated: string[] = [];
  let raceMissing = 0;
  for (let i = 0; i < LINES; i++) {
    const n = counts.get(`ct-${i}`) ?? 0;
    if (n > 1) duplicated.push(`ct-${i}×${n}`);
    if (n === 0 && !inRace(i)) missingOutside.push(`ct-${i}`);
    if (n === 0 && inRace(i)) raceMissing++;
  }
  assert.deepEqual(duplicated.slice(0, 10), [], 'nothing re-sent (never from zero)');
  assert.deepEqual(missingOutside.slice(0, 10), [], 'every line outside the copy/truncate race windows arrives');
  assert.equal(p.collected.length, LINES - raceMissing);
  assert.equal(p.logger.find('warn', /truncated or rewritten/).length, report.raceWindows.length, 'every truncation is detected');
  t.diagnostic(`race-window lines: ${raceLines}, of which not read before the truncation (lost): ${raceMissing}`);
});

test('copytruncate when the reader got the race-window lines before the truncation: they arrive once, the shorter copy is not read again', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  const lines = 8000;
  const p = await start(t, { dir, source: { include: [`${logs}/app.log*`], poll_interval: '50ms', rotate_wait: '1s' } });
  const report = await runWriter({ path, tag: 'cs', lines, rotateEvery: 2000, mode: 'copytruncate', lagLines: 0, raceLines: 100, waitBeforeTruncate: true }, async (m) => {
    // Mid-generation: the reader reads this generation; before a truncation: it read the race lines.
    await waitFor(() => p.counts().has(`cs-${m.firstLine}`), `line ${m.firstLine} is read`, 60_000);
  });
  assert.equal(report.raceWindows.length, 3);
  await waitFor(() => p.counts().size === lines, 'every line arrives', 120_000, () => p.counts().size);
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'cs', 0, lines), { missing: [], duplicated: [] });
  assert.equal(p.collected.length, lines, 'the copies (shorter than what was read) are not read again');
  assert.equal(p.logger.find('warn', /truncated or rewritten/).length, 3);
  assert.equal(p.logger.find('warn', /lost/).length, 0, 'nothing seen was lost');
});
