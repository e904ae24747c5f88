import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import type { SinkBlock } from '../../src/config/types.ts';
import { silentLogger, type Logger } from '../../src/core/logger.ts';
import { DeliveryRunner } from '../../src/delivery/runner.ts';
import { createEncoder } from '../../src/formats/index.ts';
import { DeadLetterStore } from '../../src/queue/dead-letter-store.ts';
import { Spool } from '../../src/queue/spool.ts';
import { createFileSink } from '../../src/sinks/file/index.ts';

// Thread body of closed-reader.test.ts: a runner whose spool is closed under it (what a stop
// racing a start did). Run on a thread of its own because the failure it looks for starves
// the thread's event loop: the test's main thread stays free to notice and report it.

const dir = mkdtempSync(join(tmpdir(), 'closed-reader-'));
const warnings: string[] = [];
const logger: Logger = { ...silentLogger, warn: (_o, msg) => void warnings.push(String(msg)), child: () => logger };
const { spool } = await Spool.open({ dir: join(dir, 'spool'), maxBytes: 1 << 20, segmentBytes: 64 * 1024, fsync: { mode: 'always' }, logger: silentLogger });
const dlq = await DeadLetterStore.open({ dir: join(dir, 'dlq'), fsync: { mode: 'always' }, logger: silentLogger });
const sink = createFileSink('out', { type: 'file', encoding: 'canonical', start_at: 'oldest', path: join(dir, 'out.jsonl') } as unknown as SinkBlock, { logger, encoder: createEncoder('canonical'), stateDir: dir });
await sink.start(logger);
const runner = new DeliveryRunner({ sink, reader: await spool.openReader('out', 'oldest'), deadLetters: dlq.partition('sink-out'), accepts: () => true, retry: { minDelayMs: 10, maxDelayMs: 100 }, logger });
runner.start();
await new Promise((r) => setTimeout(r, 50));
await spool.close();
// Only reached while the event loop still turns after the close.
await new Promise((r) => setTimeout(r, 200));
await runner.stop(1_000);
await sink.close();
await dlq.close();
(parentPort ?? { postMessage: (m: unknown) => console.log(m) }).postMessage({ alive: true, warnings });
