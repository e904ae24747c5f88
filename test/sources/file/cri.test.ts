import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exactlyOnce, gwLine, settled, start, tempDir, waitFor } from './pipeline.ts';

// Kubernetes container logs (/var/log/pods) in the CRI format, `decode: cri`: the record is the
// log text; lines the runtime split into P pieces (16 KiB each) are joined with their F piece
// per stream, even with the other stream's lines in between; a checkpoint never lands inside a
// split line (a restart reads it again from its first piece); a split line over max_line_bytes
// is dead-lettered at its first piece and the next line is read.

const PIECE = 16 * 1024;

function cri(stream: 'stdout' | 'stderr', tag: 'P' | 'F', text: string): string {
  return `2026-01-02T03:04:05.123456789Z ${stream} ${tag} ${text}\n`;
}

/** `text` as the runtime writes it: P pieces of 16 KiB, the last one F. */
function pieces(stream: 'stdout' | 'stderr', text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += PIECE) out.push(cri(stream, i + PIECE >= text.length ? 'F' : 'P', text.slice(i, i + PIECE)));
  return out;
}

test('CRI: log text decoded, split lines joined per stream, position at the first piece, checkpoint never inside a split line', async (t) => {
  const dir = tempDir();
  const pod = join(dir, 'pods', 'agents_support-bot-7d9f_0f1e2d3c', 'bot');
  mkdirSync(pod, { recursive: true });
  const path = join(pod, '0.log');
  const long = gwLine('k', 1, 50_000); // ~50 KiB: 4 pieces
  const longPieces = pieces('stdout', long);
  assert.equal(longPieces.length, 4);
  const before = cri('stdout', 'F', gwLine('k', 0));
  // stderr lines between the pieces of the stdout line.
  const content = [before, longPieces[0], cri('stderr', 'F', gwLine('k', 2)), longPieces[1], longPieces[2], cri('stderr', 'F', gwLine('k', 3)), longPieces[3]];
  writeFileSync(path, content.join(''));
  const p = await start(t, { dir, source: { include: [`${dir}/pods/*/*/*.log`], decode: 'cri', max_line_bytes: '128KiB' } });
  await waitFor(() => p.counts().size === 4, 'four records', 30_000, () => [...p.counts().keys()]);
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'k', 0, 4), { missing: [], duplicated: [] });
  assert.deepEqual(p.deadLetters(), [], 'every record parsed: the pieces were joined');
  const joined = p.collected.find((c) => c.requestId === 'k-1')!;
  assert.equal(joined.offset, Buffer.byteLength(before), 'positioned at its first piece');
  assert.equal(joined.line, 2);

  // A split line whose F piece is not written yet: not emitted, and the checkpoint stays before
  // its first piece, across a restart too.
  const open = gwLine('k', 4, 40_000);
  const openPieces = pieces('stdout', open);
  const firstPiece = Buffer.byteLength(content.join(''));
  appendFileSync(path, openPieces.slice(0, -1).join('') + cri('stderr', 'F', gwLine('k', 5)));
  await waitFor(() => p.counts().has('k-5'), 'the stderr line after the open pieces is read');
  await settled(p);
  assert.ok(!p.counts().has('k-4'), 'an incomplete split line is not emitted');
  await waitFor(() => p.checkpoints()[0]?.offset === firstPiece, 'the checkpoint stays at the first piece', 10_000, () => p.checkpoints());
  await p.stopSource();
  appendFileSync(path, openPieces.at(-1)!);
  await p.restartSource();
  await waitFor(() => p.counts().has('k-4'), 'the split line is read whole after the restart', 30_000);
  await settled(p);
  assert.equal(p.counts().get('k-4'), 1);
  assert.equal(p.counts().get('k-5'), 2, 'the line after the open split line is read again after the restart (it was after the checkpoint)');
  assert.deepEqual(p.deadLetters(), []);

  // Over max_line_bytes once joined: dead-lettered at its first piece; the next line is read.
  const tooLong = gwLine('k', 6, 200_000);
  const tooLongAt = Buffer.byteLength(content.join('') + openPieces.join('') + cri('stderr', 'F', gwLine('k', 5)));
  appendFileSync(path, pieces('stdout', tooLong).join('') + cri('stdout', 'F', gwLine('k', 7)));
  await waitFor(() => p.counts().has('k-7'), 'the line after the long one is read');
  await settled(p);
  assert.ok(!p.counts().has('k-6'));
  const letters = p.deadLetters();
  assert.equal(letters.length, 1);
  assert.equal(letters[0]!.reason, 'line_too_long');
  assert.deepEqual(letters[0]!.position.kind === 'file' ? [letters[0]!.position.offset, letters[0]!.position.path] : [], [tooLongAt, path]);
  assert.ok(letters[0]!.raw.startsWith('{"timestamp"'), 'the dead letter holds the start of the log text');
});
