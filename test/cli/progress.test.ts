import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { Progress } from '../../src/cli/progress.ts';

// The replay progress: a bar redrawn in place on a terminal, plain lines (every 10%) elsewhere.

function stream(isTTY: boolean): { isTTY: boolean; columns: number; text: string; write(t: string): boolean } {
  return { isTTY, columns: 100, text: '', write(t: string) { this.text += t; return true; } };
}

test('progress: a bar on a terminal, one line per 10% otherwise', () => {
  const tty = stream(true);
  const p = new Progress('replaying', 1000, tty);
  p.tick(1);
  for (let i = 0; i < 999; i++) p.tick();
  p.finish();
  assert.match(tty.text, /^\rreplaying \[#*\.*\] 0% 1\/1,000/);
  assert.match(tty.text, /\rreplaying \[#+\] 100% 1,000\/1,000 [0-9,]+\/s\s*\n$/);
  assert.ok(!tty.text.slice(0, -1).includes('\n'), 'redrawn in place');

  const plain = stream(false);
  const q = new Progress('replaying', 1000, plain);
  for (let i = 0; i < 1000; i++) q.tick();
  q.finish();
  const lines = plain.text.trim().split('\n');
  assert.equal(lines.length, 11);
  assert.equal(lines[0], 'replaying: 1/1,000 (0%)');
  assert.equal(lines.at(-1), 'replaying: 1,000/1,000 (100%)');
});
