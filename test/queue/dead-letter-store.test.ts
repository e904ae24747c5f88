import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DeadLetter } from '../../src/core/dead-letter.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { DeadLetterReader, DeadLetterStore } from '../../src/queue/dead-letter-store.ts';
import type { EncryptionKeys } from '../../src/queue/types.ts';

function letter(i: number, note = ''): DeadLetter {
  return { reason: 'invalid_json', message: `bad JSON at byte ${i}`, source: 'gw', position: { kind: 'file', path: '/logs/gw.jsonl', fileId: 'f', offset: i * 100 }, raw: `{"n":${i}${note}`, time: 1_700_000_000_000 + i };
}

async function run(dir: string, letters: readonly DeadLetter[], encryption?: EncryptionKeys): Promise<DeadLetterStore> {
  const store = await DeadLetterStore.open({ dir, fsync: { mode: 'always' }, logger: silentLogger, ...(encryption ? { encryption } : {}) });
  await store.partition('ingest').append(letters);
  return store;
}

test('dead letters: removal hides letters at once, compaction rewrites every segment but the newest (which a running daemon may be appending to), ids stay stable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dlq-store-'));
  try {
    await (await run(dir, Array.from({ length: 10 }, (_, i) => letter(i)))).close();
    // A second daemon run, still open: it appends to a fresh segment of its own.
    const live = await run(dir, Array.from({ length: 5 }, (_, i) => letter(10 + i)));
    const reader = new DeadLetterReader(dir);
    assert.deepEqual(reader.segments('ingest'), [1, 2]);
    const all = [...reader.letters('ingest')];
    assert.equal(all.length, 15);
    assert.equal(new Set(all.map((s) => s.id)).size, 15);
    const first = join(dir, 'ingest', '000000001.log');
    const sizeBefore = statSync(first).size;
    const gone = [all[1]!, all[4]!, all[7]!, all[11]!, all[13]!];
    reader.markRemoved('ingest', gone.map((s) => ({ segment: s.segment, seq: s.seq })));
    const visible = () => [...reader.letters('ingest')].map((s) => s.id);
    const expected = all.filter((s) => !gone.includes(s)).map((s) => s.id);
    assert.deepEqual(visible(), expected, 'removed letters are hidden before any compaction');
    const freed = reader.compact('ingest');
    assert.ok(freed > 0 && statSync(first).size === sizeBefore - freed, 'the sealed segment was rewritten smaller');
    assert.deepEqual(visible(), expected, 'ids survive the rewrite');
    // The daemon keeps appending to its segment, untouched by the compaction.
    await live.partition('ingest').append([letter(15)]);
    assert.equal(visible().length, 11);
    await live.close();
    // The next start moves on to a new segment: the removals of segment 2 can now be applied.
    await (await run(dir, [letter(16)])).close();
    reader.compact('ingest');
    assert.equal(readFileSync(join(dir, 'ingest', 'removed.jsonl'), 'utf8'), '', 'every removal applied');
    assert.deepEqual(visible().slice(0, 11), [...expected, visible()[10]!]);
    assert.equal(visible().length, 12);
    // Removing every letter of a sealed segment deletes it.
    reader.markRemoved('ingest', [...reader.letters('ingest')].filter((s) => s.segment === 1).map((s) => ({ segment: s.segment, seq: s.seq })));
    reader.compact('ingest');
    assert.equal(existsSync(first), false);
    assert.deepEqual(reader.segments('ingest'), [2, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dead letters: encrypted at rest like the spool; reading with a wrong key is a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dlq-store-'));
  const canary = 'CANARY-dlq-plaintext-91c2';
  const keys: EncryptionKeys = { current: { id: 'k1', key: randomBytes(32) }, previous: [] };
  try {
    await (await run(dir, [letter(1, canary)], keys)).close();
    for (const f of readdirSync(join(dir, 'ingest'))) assert.equal(readFileSync(join(dir, 'ingest', f)).includes(canary), false, `plaintext in ${f}`);
    assert.equal([...new DeadLetterReader(dir, keys).letters('ingest')][0]!.letter.raw.includes(canary), true);
    const wrong: EncryptionKeys = { current: { id: 'k1', key: randomBytes(32) }, previous: [] };
    assert.throws(() => [...new DeadLetterReader(dir, wrong).letters('ingest')], /key id 'k1': the key material is wrong/);
    assert.throws(() => [...new DeadLetterReader(dir).letters('ingest')], /encrypted with key id 'k1', which is not configured/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
