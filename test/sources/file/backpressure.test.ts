import { strict as assert } from 'node:assert';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DurableProbe, exactlyOnce, gwLines, settled, start, tempDir, waitFor } from './pipeline.ts';

// A full spool stops the file source: it reads no further than the batches in flight (memory
// stays bounded), reports how far behind it is (lag in bytes), never checkpoints a line that is
// not durable, and stops promptly even while its submits wait for room. When the spool drains,
// every line arrives exactly once.

const LINES = 12_000;
const BATCH = 200;
const MAX_INFLIGHT_BATCHES = 4; // src/sources/file/source.ts

test('a full spool stops reading (bounded memory), lag is reported, checkpoints stay behind durability, stop does not hang', async (t) => {
  const dir = tempDir();
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  const path = join(logs, 'big.log');
  const text = gwLines('bp', 0, LINES);
  writeFileSync(path, text);
  const size = statSync(path).size;
  const ends: number[] = [];
  for (let i = 0, at = 0; i < LINES; i++) ends.push((at = text.indexOf('\n', at) + 1));
  const p = await start(t, { dir, source: { include: [`${logs}/*.log`], batch_lines: BATCH, poll_interval: '50ms' }, spoolMaxBytes: 256 * 1024, segmentBytes: 32 * 1024, consume: false });

  await waitFor(() => p.spool.isFull(), 'the spool fills');
  // Reading stops: the count of lines read holds still while the spool stays full.
  let last = -1;
  await waitFor(
    async () => {
      const now = p.source.stats().recordsRead;
      const still = now === last;
      last = now;
      if (!still) await new Promise((r) => setTimeout(r, 300));
      return still;
    },
    'reading stops',
    60_000,
  );
  const stats = p.source.stats();
  const durable = p.spool.stats().appendedEvents;
  assert.ok(stats.recordsRead < LINES / 2, `the source stopped early (${stats.recordsRead} of ${LINES} lines read)`);
  assert.ok(stats.recordsRead - durable <= (MAX_INFLIGHT_BATCHES + 1) * BATCH, `read but not durable: ${stats.recordsRead - durable} lines (at most the batches in flight and one being gathered)`);
  assert.equal(stats.lag, size - stats.bytesRead, 'lag: the bytes not read yet');
  assert.ok(stats.lag! > size / 2);

  // Every line up to the checkpoint on disk is durable in the spool.
  await waitFor(() => p.checkpoints().length === 1, 'a checkpoint is written');
  const cp = p.checkpoints()[0]!;
  const probe = new DurableProbe(p.spool);
  const durableIds = await probe.catchUp();
  const covered = ends.filter((e) => e <= cp.offset).length;
  assert.ok(covered > 0 && ends.includes(cp.offset), 'the checkpoint is at a line end');
  for (let i = 0; i < covered; i++) assert.ok(durableIds.has(`bp-${i}`), `bp-${i} is before the checkpoint (byte ${cp.offset}) but not durable`);
  assert.ok(covered <= durableIds.size);
  await probe.close();

  // Stopping while submits wait for room returns (they are abandoned, not checkpointed).
  const stopped = await Promise.race([p.stopSource().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
  assert.ok(stopped, 'stop returned while the spool was full');

  // Room again: a new source instance resumes at the checkpoint; everything exactly once.
  p.resumeConsumer();
  await p.restartSource();
  await waitFor(() => p.counts().size === LINES, 'every line arrives', 120_000, () => p.counts().size);
  await settled(p);
  assert.deepEqual(exactlyOnce(p.counts(), 'bp', 0, LINES), { missing: [], duplicated: [] });
  assert.equal(p.collected.length, LINES);
  assert.equal(p.source.stats().lag, 0);
});
