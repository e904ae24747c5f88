import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, truncateSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { chainHash } from '../../src/queue/chain.ts';
import { Spool } from '../../src/queue/spool.ts';
import type { EncryptionKeys, SpoolOptions } from '../../src/queue/types.ts';

function event(i: number, note = ''): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i}`, action: 'llm.call', outcome: 'success', time: '2026-01-02T03:04:05.000Z', observed_time: '2026-01-02T03:04:06.000Z', ...(note ? { reason: note } : {}) },
    origin: { input: 'file', source: 'gw', format: 'generic_gateway', raw_sha256: '0'.repeat(64), index: 0 },
    payload: { mode: 'hash' },
  } as AuditEvent;
}

function options(dir: string, extra: Partial<SpoolOptions> = {}): SpoolOptions {
  return { dir, maxBytes: 64 * 1024 * 1024, segmentBytes: 64 * 1024, fsync: { mode: 'always' }, logger: silentLogger, ...extra };
}

async function readAll(spool: Spool, sink: string, commit = true): Promise<AuditEvent[]> {
  const reader = await spool.openReader(sink, 'oldest');
  const out: AuditEvent[] = [];
  for (;;) {
    const batch = await reader.read(500, 1 << 20, 0);
    if (batch.length === 0) break;
    out.push(...batch.map((e) => e.event));
    if (commit) await reader.commit(batch[batch.length - 1]!.next);
  }
  return out;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'spool-'));
}

test('appends are read back in order across segments, chained, and survive a restart', async () => {
  const dir = tmp();
  try {
    let { spool } = await Spool.open(options(dir));
    await Promise.all([spool.append(Array.from({ length: 700 }, (_, i) => event(i))), spool.append(Array.from({ length: 300 }, (_, i) => event(700 + i)))]);
    assert.ok(spool.stats().segments > 3, 'rolled into several segments');
    const reader = await spool.openReader('a', 'oldest');
    const first = await reader.read(100, 1 << 20, 0);
    assert.equal(first.length, 100);
    await reader.commit(first[99]!.next);
    assert.equal(reader.pending(), 900);
    await spool.close();

    ({ spool } = await Spool.open(options(dir)));
    const rest = await readAll(spool, 'a');
    assert.deepEqual(rest.map((e) => e.event.id), Array.from({ length: 900 }, (_, i) => `ev-${100 + i}`));
    for (let i = 1; i < rest.length; i++) {
      assert.equal(rest[i]!.chain!.seq, rest[i - 1]!.chain!.seq + 1);
      assert.equal(rest[i]!.chain!.prev_hash, rest[i - 1]!.chain!.hash);
      assert.equal(chainHash(rest[i]!), rest[i]!.chain!.hash);
    }
    // The chain continues after a restart.
    await spool.append([event(1000)]);
    const reader2 = await spool.openReader('a', 'oldest');
    const [last] = await reader2.read(10, 1 << 20, 0);
    assert.equal(last!.event.chain!.prev_hash, rest[rest.length - 1]!.chain!.hash);
    assert.equal(last!.event.chain!.seq, 1000);
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('segments are deleted once every cursor passed them; a new sink can start at the newest event', async () => {
  const dir = tmp();
  try {
    const { spool } = await Spool.open(options(dir));
    await spool.append(Array.from({ length: 1000 }, (_, i) => event(i)));
    await spool.openReader('slow', 'oldest');
    const segmentsBefore = spool.stats().segments;
    await readAll(spool, 'fast');
    assert.equal(spool.stats().segments, segmentsBefore, 'the slow sink holds every segment');
    await readAll(spool, 'slow');
    assert.ok(spool.stats().segments <= 2, `only the newest segments remain, got ${spool.stats().segments}`);
    const late = await spool.openReader('late', 'newest');
    await spool.append([event(5000)]);
    const got = await late.read(10, 1 << 20, 1000);
    assert.deepEqual(got.map((e) => e.event.event.id), ['ev-5000']);
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn last record is cut at recovery and never read as an event', async () => {
  const dir = tmp();
  try {
    let { spool } = await Spool.open(options(dir, { segmentBytes: 1 << 20 }));
    await spool.append(Array.from({ length: 50 }, (_, i) => event(i)));
    await spool.close();
    const segDir = join(dir, 'segments');
    const file = join(segDir, readdirSync(segDir).sort().at(-1)!);
    const size = statSync(file).size;
    truncateSync(file, size - 37);
    const opened = await Spool.open(options(dir, { segmentBytes: 1 << 20 }));
    spool = opened.spool;
    assert.equal(opened.recovery.truncated.length, 1);
    assert.equal(opened.recovery.events, 49);
    const events = await readAll(spool, 'a');
    assert.deepEqual(events.map((e) => e.event.id), Array.from({ length: 49 }, (_, i) => `ev-${i}`));
    // Appends continue cleanly after the cut.
    await spool.append([event(49)]);
    const reader = await spool.openReader('a', 'oldest');
    assert.deepEqual((await reader.read(10, 1 << 20, 0)).map((e) => e.event.event.id), ['ev-49']);
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flipped bit in the middle of a segment skips that record only, and is reported with its position', async () => {
  const dir = tmp();
  try {
    let { spool } = await Spool.open(options(dir, { segmentBytes: 1 << 20 }));
    await spool.append(Array.from({ length: 100 }, (_, i) => event(i)));
    await spool.close();
    const segDir = join(dir, 'segments');
    const file = join(segDir, readdirSync(segDir).sort()[0]!);
    const size = statSync(file).size;
    const fd = openSync(file, 'r+');
    const at = Math.floor(size / 2);
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0x10;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);
    const opened = await Spool.open(options(dir, { segmentBytes: 1 << 20 }));
    spool = opened.spool;
    assert.equal(opened.recovery.skipped.length, 1);
    assert.equal(opened.recovery.truncated.length, 0);
    const ids = (await readAll(spool, 'a')).map((e) => e.event.id);
    assert.equal(ids.length, 99);
    assert.equal(new Set(ids).size, 99);
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('full spool: whenWritable resolves only after sinks make room', async () => {
  const dir = tmp();
  try {
    const { spool } = await Spool.open(options(dir, { maxBytes: 200 * 1024, segmentBytes: 32 * 1024 }));
    const reader = await spool.openReader('a', 'oldest');
    while (!spool.isFull()) await spool.append(Array.from({ length: 50 }, (_, i) => event(i)));
    let writable = false;
    const waiting = spool.whenWritable().then(() => (writable = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(writable, false);
    for (;;) {
      const batch = await reader.read(1000, 1 << 20, 0);
      if (batch.length === 0) break;
      await reader.commit(batch.at(-1)!.next);
    }
    await waiting;
    assert.equal(spool.isFull(), false);
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encryption at rest: no plaintext on disk, rotation keeps old records readable, a wrong key fails at start', async () => {
  const dir = tmp();
  const k1 = { id: 'k1', key: randomBytes(32) };
  const k2 = { id: 'k2', key: randomBytes(32) };
  const canary = 'CANARY-plaintext-7f3a';
  try {
    const enc1: EncryptionKeys = { current: k1, previous: [] };
    let { spool } = await Spool.open(options(dir, { encryption: enc1 }));
    await spool.append([event(1, canary)]);
    await spool.close();
    for (const f of readdirSync(join(dir, 'segments'))) {
      const fd = openSync(join(dir, 'segments', f), 'r');
      const buf = Buffer.alloc(statSync(join(dir, 'segments', f)).size);
      readSync(fd, buf, 0, buf.length, 0);
      closeSync(fd);
      assert.equal(buf.includes(canary), false, `plaintext in ${f}`);
    }
    ({ spool } = await Spool.open(options(dir, { encryption: { current: k2, previous: [k1] } })));
    await spool.append([event(2, canary)]);
    const events = await readAll(spool, 'a');
    assert.deepEqual(events.map((e) => e.event.id), ['ev-1', 'ev-2']);
    await spool.close();
    await assert.rejects(Spool.open(options(dir, { encryption: { current: { id: 'k2', key: randomBytes(32) }, previous: [] } })), /key id 'k2'.*wrong/);
    await assert.rejects(Spool.open(options(dir)), /encrypted|not configured/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fsync interval: the periodic fsync still happens while appends never pause', async () => {
  const dir = tmp();
  try {
    const { spool } = await Spool.open(options(dir, { fsync: { mode: 'interval', intervalMs: 50 }, segmentBytes: 1 << 20 }));
    let syncs = 0;
    spool.log.onSync(() => syncs++);
    const until = Date.now() + 1500;
    // Four producers keep a write in progress nearly all the time.
    await Promise.all(Array.from({ length: 4 }, async (_, p) => {
      for (let i = 0; Date.now() < until; i++) await spool.append([event(p * 1_000_000 + i)]);
    }));
    assert.ok(syncs >= 3, `only ${syncs} fsyncs in 1.5 s of continuous appends with a 50 ms interval`);
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
