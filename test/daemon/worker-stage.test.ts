import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceBlock } from '../../src/config/types.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { RawRecord } from '../../src/core/raw-record.ts';
import { InlineNormalizeStage } from '../../src/daemon/normalize-stage.ts';
import { WorkerNormalizeStage } from '../../src/daemon/worker-normalize-stage.ts';

const fixtures = new URL('../fixtures/formats/', import.meta.url).pathname;
const block = { type: 'file', format: 'auto', payload_mode: 'hash' } as SourceBlock;

function records(): RawRecord[] {
  const out: RawRecord[] = [];
  for (const f of readdirSync(fixtures).sort()) {
    let offset = 0;
    for (const line of readFileSync(join(fixtures, f), 'utf8').split('\n')) {
      if (line !== '') out.push({ source: 'fx', input: 'file', position: { kind: 'file', path: f, fileId: `id-${f}`, offset }, bytes: Buffer.from(line), receivedAt: 1_700_000_000_000 });
      offset += Buffer.byteLength(line) + 1;
    }
  }
  out.push({ source: 'fx', input: 'file', position: { kind: 'file', path: 'bad', fileId: 'bad', offset: 0 }, bytes: Buffer.from('{"nope'), receivedAt: 1_700_000_000_000 });
  return out;
}

// observed_time and a dead letter's time come from the clock of whichever thread normalized.
function stable(results: unknown): unknown {
  return JSON.parse(JSON.stringify(results, (k, v: unknown) => (k === 'observed_time' || (k === 'time' && typeof v === 'number') ? undefined : v)));
}

test('worker threads produce exactly what the inline stage produces, across several workers and batches', async () => {
  const inline = new InlineNormalizeStage();
  inline.configure('fx', block);
  const workers = new WorkerNormalizeStage(2, silentLogger);
  workers.configure('fx', block);
  try {
    const all = records();
    const expected = await inline.normalize(all);
    const batches = [all.slice(0, 10), all.slice(10, 25), all.slice(25)];
    const got = (await Promise.all(batches.map((b) => workers.normalize(b)))).flat();
    assert.equal(got.length, all.length);
    assert.ok(got.some((r) => r.events.length > 0));
    assert.equal(got.at(-1)!.deadLetters[0]!.reason, 'invalid_json');
    assert.deepEqual(stable(got), stable(expected));
    assert.equal(workers.redactText('fx', 'key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD'), inline.redactText('fx', 'key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD'));
  } finally {
    await workers.close();
  }
});

test('an unknown format is refused on the calling thread, before any worker sees it', async () => {
  const workers = new WorkerNormalizeStage(1, silentLogger);
  try {
    assert.throws(() => workers.configure('x', { ...block, format: 'no_such_format' }), /unknown format 'no_such_format'/);
  } finally {
    await workers.close();
  }
});

test('close() lets the workers answer what they were sent and end by themselves; none is terminated', async () => {
  const errors: string[] = [];
  const logger = { ...silentLogger, error: (_o: object, msg?: string) => void errors.push(String(msg)), child: () => logger };
  const inline = new InlineNormalizeStage();
  inline.configure('fx', block);
  const expected = stable(await inline.normalize(records()));
  // Closed at once: the workers are still loading their modules, the batches wait for them.
  const workers = new WorkerNormalizeStage(2, logger);
  workers.configure('fx', block);
  const all = records();
  const inFlight = [workers.normalize(all.slice(0, 20)), workers.normalize(all.slice(20))];
  await workers.close(Date.now() + 60_000);
  const got = await Promise.all(inFlight);
  assert.deepEqual(stable(got.flat()), expected);
  assert.deepEqual(errors, [], 'no worker had to be terminated');
});
