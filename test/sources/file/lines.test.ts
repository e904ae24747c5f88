import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exactlyOnce, gwLine, gwLines, settled, start, tempDir, waitFor } from './pipeline.ts';

// Line handling: a partial last line waits for its newline and is never emitted half; a line
// over max_line_bytes goes to the dead-letter queue with its position (path, byte offset, line
// number) and the next line is read correctly; CRLF endings and empty lines.

test('a partial last line waits for its newline and is never emitted half', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  const last = gwLine('p', 10);
  writeFileSync(path, gwLines('p', 0, 10) + last.slice(0, 40));
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`], poll_interval: '50ms' } });
  await waitFor(() => p.collected.length === 10, 'the complete lines are read');
  await settled(p);
  appendFileSync(path, last.slice(40, 120));
  // Two idle passes over the grown file (drained), still nothing: the line is not complete.
  await settled(p);
  assert.equal(p.collected.length, 10, 'the partial line is not emitted');
  assert.deepEqual(p.deadLetters(), [], 'nor dead-lettered as a broken record');
  appendFileSync(path, `${last.slice(120)}\n${gwLine('p', 11)}\n`);
  await waitFor(() => p.collected.length === 12, 'the completed line and the next are read');
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'p', 0, 12), { missing: [], duplicated: [] });
  assert.deepEqual(p.deadLetters(), []);
  const rec = p.collected.find((c) => c.requestId === 'p-10')!;
  assert.equal(rec.line, 11);
  assert.equal(rec.offset, Buffer.byteLength(gwLines('p', 0, 10)));
});

test('CRLF endings and empty lines: records are read whole, empty lines are skipped but counted in line numbers', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'app.log'), `${gwLine('c', 0)}\r\n\n\n${gwLine('c', 1)}\r\n${gwLine('c', 2)}\n`);
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`] } });
  await waitFor(() => p.collected.length === 3, 'the three records are read');
  await settled(p);
  assert.deepEqual(p.deadLetters(), [], 'the \\r is not part of the record and empty lines are no records');
  assert.deepEqual(
    ['c-0', 'c-1', 'c-2'].map((id) => p.collected.find((c) => c.requestId === id)!.line),
    [1, 4, 5],
  );
});

test('a line over max_line_bytes goes to the dead-letter queue with its position; the next line is read correctly', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'app.log');
  const canary = 'sk-proj-CANARYfileSource0123456789abcdefXYZ';
  const huge = (n: number) => `{"request_id":"huge","authorization":"Bearer ${canary}","blob":"${'z'.repeat(n)}"}`;
  const parts = [
    `${gwLine('l', 0)}\n`, // line 1
    `${huge(5000)}\n`, // line 2: over the limit, inside one read
    `${gwLine('l', 1)}\n`, // line 3
    `${huge(3 * 1024 * 1024)}\n`, // line 4: over the limit by far more than a read
    `${gwLine('l', 2)}\n`, // line 5
  ];
  writeFileSync(path, parts.join(''));
  const offsets = parts.map((_, i) => Buffer.byteLength(parts.slice(0, i).join('')));
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`], max_line_bytes: '2KiB', poll_interval: '50ms' } });
  await waitFor(() => p.collected.length === 3, 'the lines around the long ones are read');
  // Line 6 is written in pieces: over the limit before its newline comes, it is dead-lettered
  // at once and skipped up to its newline, then line 7 is read.
  const sixth = huge(3000);
  appendFileSync(path, sixth.slice(0, 2500));
  await waitFor(() => p.deadLetters().length === 3, 'the unfinished over-long line is dead-lettered', 30_000, () => p.deadLetters().map((d) => d.position));
  appendFileSync(path, sixth.slice(2500));
  await settled(p);
  appendFileSync(path, `\n${gwLine('l', 3)}\n`);
  await waitFor(() => p.collected.length === 4, 'the line after it is read');
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'l', 0, 4), { missing: [], duplicated: [] });
  assert.deepEqual(
    ['l-0', 'l-1', 'l-2', 'l-3'].map((id) => p.collected.find((c) => c.requestId === id)!.line),
    [1, 3, 5, 7],
    'line numbers count the skipped lines',
  );
  const letters = p.deadLetters();
  assert.equal(letters.length, 3, 'one dead letter per long line');
  const sixthOffset = Buffer.byteLength(parts.join(''));
  assert.deepEqual(
    letters.map((d) => ({ reason: d.reason, source: d.source, position: d.position })),
    [
      { reason: 'line_too_long', source: 'files', position: { kind: 'file', path, fileId: letters[0]!.position.kind === 'file' ? letters[0]!.position.fileId : '', offset: offsets[1], line: 2 } },
      { reason: 'line_too_long', source: 'files', position: { kind: 'file', path, fileId: letters[0]!.position.kind === 'file' ? letters[0]!.position.fileId : '', offset: offsets[3], line: 4 } },
      { reason: 'line_too_long', source: 'files', position: { kind: 'file', path, fileId: letters[0]!.position.kind === 'file' ? letters[0]!.position.fileId : '', offset: sixthOffset, line: 6 } },
    ],
  );
  for (const d of letters) {
    assert.match(d.message, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+ byte \\d+`), 'the message names file, line and byte offset');
    assert.ok(d.raw.length <= 1024, 'only the start of the line is kept');
    assert.ok(d.raw.startsWith('{"request_id":"huge"'));
    assert.ok(!d.raw.includes(canary), 'the canary secret in the line is redacted in the dead-letter queue');
  }
  assert.equal(p.logger.find('warn', /max_line_bytes/).length, 3);
});
