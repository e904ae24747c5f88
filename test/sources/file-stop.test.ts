import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SourceBlock } from '../../src/config/types.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { SourceContext } from '../../src/core/source.ts';
import { createFileSource } from '../../src/sources/file/index.ts';

// stop() while the source's read loop is between awaits (its first scan) must still end the
// loop: the daemon's graceful SIGTERM waits for it. It used to wait forever (found by the
// fan-out test under load).

test('file source: stop() during the first scan resolves', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-stop-'));
  mkdirSync(join(dir, 'logs'));
  mkdirSync(join(dir, 'state'));
  for (let k = 0; k < 5; k++) writeFileSync(join(dir, 'logs', `f${k}.jsonl`), '{"a":1}\n');
  const ctx: SourceContext = {
    submit: async (records) => ({ events: records.length, deadLetters: 0, rejectedRecords: [] }),
    deadLetter: async () => {},
    isFull: () => false,
    whenWritable: async () => {},
    logger: silentLogger,
    dataDir: dir,
  };
  try {
    for (let round = 0; round < 20; round++) {
      const source = createFileSource('f', { type: 'file', format: 'auto', payload_mode: 'hash', include: [`${dir}/logs/*.jsonl`] } as unknown as SourceBlock, { logger: silentLogger, stateDir: join(dir, 'state'), http: { add() {}, remove() {} } });
      await source.start(ctx);
      const stopped = await Promise.race([source.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]);
      assert.ok(stopped, `round ${round}: stop() did not resolve within 5 s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
