import { closeSync, copyFileSync, existsSync, fstatSync, openSync, renameSync, truncateSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { gwLine } from './gw-lines.ts';

// A log writer in its own process, appending lines as fast as it can while its log is rotated
// the way logrotate does it:
// - rename ("create" mode): app.log → app.log.1 (older ones shifted), a new app.log is created,
//   and the writer keeps writing to the old file for `lagLines` lines before it reopens (the
//   moment between the rename and the application's reopen after its HUP);
// - copytruncate: app.log is copied to app.log.1, the writer writes `raceLines` more lines,
//   then app.log is truncated (the writer has O_APPEND, so it goes on at the new end). The
//   race-window lines are in neither file unless the reader got them before the truncation.
// With `waitBeforeTruncate` it also waits between the race-window lines and the truncation
// (the reader gets them before the truncation: the copy is then shorter than what was read).
// In the middle of every generation it prints {"wait":n,...} and waits for "go" on stdin, so
// the test can let the rotation happen only once the reader is reading that generation (real
// rotations are minutes apart); the rotation itself happens amid full-speed writing.

interface WriterConfig {
  readonly path: string;
  readonly tag: string;
  readonly lines: number;
  readonly rotateEvery: number;
  readonly mode: 'rename' | 'copytruncate';
  readonly lagLines: number;
  readonly raceLines: number;
  /** copytruncate: wait for "go" between writing the race-window lines and the truncation. */
  readonly waitBeforeTruncate?: boolean;
}

const c = JSON.parse(process.argv[2]!) as WriterConfig;
const input = createInterface({ input: process.stdin });
const gos: (() => void)[] = [];
let goes = 0;
input.on('line', () => {
  goes++;
  gos.shift()?.();
});
let consumed = 0;
function go(): Promise<void> {
  if (goes > consumed) {
    consumed++;
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    gos.push(() => {
      consumed++;
      resolve();
    });
  });
}

function send(msg: object): void {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
}

/** Writes lines [from, to) in chunks of 64 lines; returns `to`. */
function writeLines(fd: number, from: number, to: number): number {
  for (let i = from; i < to; ) {
    const end = Math.min(to, i + 64);
    let s = '';
    for (let k = i; k < end; k++) s += `${gwLine(c.tag, k)}\n`;
    writeSync(fd, s);
    i = end;
  }
  return to;
}

function shiftRotated(generation: number): void {
  for (let k = generation; k >= 1; k--) if (existsSync(`${c.path}.${k}`)) renameSync(`${c.path}.${k}`, `${c.path}.${k + 1}`);
}

let fd = openSync(c.path, 'a');
let i = 0;
const raceWindows: [number, number][] = [];
for (let gen = 0; i < c.lines; gen++) {
  const genStart = i;
  const genEnd = Math.min(c.lines, (gen + 1) * c.rotateEvery);
  i = writeLines(fd, i, Math.min(genEnd, gen * c.rotateEvery + Math.floor(c.rotateEvery / 2)));
  send({ wait: gen, ino: fstatSync(fd).ino, firstLine: genStart });
  await go();
  i = writeLines(fd, i, genEnd);
  if (i >= c.lines) break;
  shiftRotated(gen);
  if (c.mode === 'rename') {
    renameSync(c.path, `${c.path}.1`);
    const next = openSync(c.path, 'a');
    i = writeLines(fd, i, Math.min(c.lines, i + c.lagLines));
    closeSync(fd);
    fd = next;
  } else {
    copyFileSync(c.path, `${c.path}.1`);
    const from = i;
    i = writeLines(fd, i, Math.min(c.lines, i + c.raceLines));
    if (c.waitBeforeTruncate) {
      send({ wait: gen, ino: fstatSync(fd).ino, firstLine: i - 1 });
      await go();
    }
    truncateSync(c.path, 0);
    raceWindows.push([from, i]);
  }
}
closeSync(fd);
send({ done: true, raceWindows });
input.close();
