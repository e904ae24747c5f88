import { strict as assert } from 'node:assert';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { chainHash } from '../../src/queue/chain.ts';
import { keyIdOf, loadCheckpointSigner, verifyCheckpoint } from '../../src/queue/checkpoint.ts';
import { jcs } from '../../src/queue/jcs.ts';
import { ReplayInbox, writeBatch, pendingBatches } from '../../src/queue/replay-inbox.ts';
import { RecordCodec } from '../../src/queue/record-codec.ts';
import { Spool } from '../../src/queue/spool.ts';
import type { SpoolOptions } from '../../src/queue/types.ts';
import type { DeadLetter } from '../../src/core/dead-letter.ts';

function event(i: number): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i}`, action: 'llm.call', outcome: 'success', time: '2026-01-02T03:04:05.000Z', observed_time: '2026-01-02T03:04:06.000Z' },
    origin: { input: 'file', source: 'gw', format: 'generic_gateway', raw_sha256: '0'.repeat(64), index: 0 },
    payload: { mode: 'hash' },
  } as AuditEvent;
}

function options(dir: string, extra: Partial<SpoolOptions> = {}): SpoolOptions {
  return { dir, maxBytes: 64 * 1024 * 1024, segmentBytes: 64 * 1024, fsync: { mode: 'always' }, logger: silentLogger, ...extra };
}

async function drain(spool: Spool, sink: string): Promise<AuditEvent[]> {
  const reader = await spool.openReader(sink, 'oldest');
  const out: AuditEvent[] = [];
  for (;;) {
    const batch = await reader.read(1000, 1 << 20, 0);
    if (batch.length === 0) break;
    // What the delivery runner does: another sink's replay is committed, not sent.
    out.push(...batch.filter((e) => e.replayFor === undefined || e.replayFor === sink).map((e) => e.event));
    await reader.commit(batch.at(-1)!.next);
  }
  return out;
}

test('replay frames reach their sink only, with the original chain link, and take no seq from the chain', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-replay-'));
  try {
    let { spool } = await Spool.open(options(dir));
    await spool.append([event(0), event(1), event(2)]);
    const original = await drain(spool, 'es');
    await drain(spool, 'file');
    // ev-1 was refused by es and is replayed to es alone.
    await spool.appendReplay('es', [original[1]!]);
    await spool.append([event(3)]);
    const es = await drain(spool, 'es');
    const file = await drain(spool, 'file');
    assert.deepEqual(es.map((e) => e.event.id), ['ev-1', 'ev-3']);
    assert.deepEqual(es[0], original[1], 'the replayed event is the stored one, chain link included');
    assert.deepEqual(file.map((e) => e.event.id), ['ev-3']);
    assert.equal(es[1]!.chain!.seq, 3, 'the replay took no seq');
    assert.equal(es[1]!.chain!.prev_hash, original[2]!.chain!.hash);
    assert.equal((await spool.openReader('es', 'oldest')).pending(), 0);
    await spool.close();
    // Recovery takes the chain's state from the last chained record, not from a replay frame.
    ({ spool } = await Spool.open(options(dir)));
    await spool.appendReplay('es', [original[0]!]);
    await spool.close();
    ({ spool } = await Spool.open(options(dir)));
    await spool.append([event(4)]);
    const [again, next] = await drain(spool, 'es');
    assert.equal(again!.event.id, 'ev-0');
    assert.equal(next!.chain!.seq, 4);
    assert.equal(next!.chain!.prev_hash, es[1]!.chain!.hash);
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('signed checkpoints: every Nth event carries an Ed25519 signature outside the hash; the stored body stays canonical', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-checkpoint-'));
  try {
    const { privateKey } = generateKeyPairSync('ed25519');
    const keyFile = join(dir, 'checkpoint.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const signer = loadCheckpointSigner({ every: 4, key_file: keyFile })!;
    const { spool } = await Spool.open(options(join(dir, 'spool'), { checkpoints: signer }));
    await spool.append(Array.from({ length: 10 }, (_, i) => event(i)));
    const events = await drain(spool, 'a');
    await spool.close();
    const pub = createPublicKey(privateKey);
    assert.deepEqual(events.filter((e) => e.chain!.signature).map((e) => e.chain!.seq), [3, 7]);
    for (const e of events) {
      assert.equal(chainHash(e), e.chain!.hash, `seq ${e.chain!.seq} hashes to its link`);
      assert.equal(JSON.stringify(e), jcs(e), 'stored in canonical key order');
      const sig = e.chain!.signature;
      if (!sig) continue;
      assert.equal(sig.key_id, keyIdOf(pub));
      assert.equal(sig.every, 4);
      assert.equal(verifyCheckpoint(pub, e.chain!.id, e.chain!.seq, e.chain!.hash, sig), true);
      assert.equal(verifyCheckpoint(pub, e.chain!.id, e.chain!.seq + 1, e.chain!.hash, sig), false);
    }
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    writeFileSync(join(dir, 'rsa.key'), rsa.export({ type: 'pkcs8', format: 'pem' }));
    assert.throws(() => loadCheckpointSigner({ key_file: join(dir, 'rsa.key') }), /expected an Ed25519 private key, got rsa/);
    assert.throws(() => loadCheckpointSigner({ key_file: join(dir, 'missing.key') }), /spool\.checkpoints\.key_file .*missing\.key: cannot load/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay inbox: batches enter the spool (events chained, sink letters for their sink, unknown sinks back to their DLQ) and are deleted only after', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spool-inbox-'));
  try {
    const { spool } = await Spool.open(options(join(dir, 'spool')));
    await spool.append([event(0)]);
    const [stored] = await drain(spool, 'es');
    const codec = spool.codec;
    const inbox = join(dir, 'replay');
    const refused: DeadLetter = { reason: 'sink_rejected', message: 'mapper_parsing_exception', source: 'gw', position: { kind: 'file', path: '/x', fileId: 'f', offset: 0 }, raw: '', sink: 'es', event: stored!, time: 1 };
    await writeBatch(inbox, codec, [
      { kind: 'sink', sink: 'es', letter: refused },
      { kind: 'sink', sink: 'gone', letter: { ...refused, sink: 'gone' } },
      { kind: 'event', event: event(1) },
    ]);
    assert.equal(pendingBatches(inbox).length, 1);
    const backToDlq: DeadLetter[] = [];
    const box = new ReplayInbox({ dir: inbox, codec: new RecordCodec(undefined), spool, sinks: () => ['es'], deadLettersFor: (s) => ({ append: async (l) => void backToDlq.push(...l.map((x) => ({ ...x, sink: s }))) }), ingestDeadLetters: { append: async () => undefined }, logger: silentLogger });
    await box.start();
    await box.stop();
    assert.equal(pendingBatches(inbox).length, 0);
    const es = await drain(spool, 'es');
    assert.deepEqual(es.map((e) => e.event.id).sort(), ['ev-0', 'ev-1']);
    assert.deepEqual(es.find((e) => e.event.id === 'ev-0'), stored);
    assert.equal(es.find((e) => e.event.id === 'ev-1')!.chain!.seq, 1);
    assert.equal(backToDlq.length, 1);
    assert.match(backToDlq[0]!.message, /sink 'gone' is not in the running configuration/);
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('spool.checkpoints config: key_file relative to the config file, validated by the fragment, refused without the chain', async () => {
  const { parseConfig } = await import('../../src/config/load.ts');
  const { spoolOptionsFromConfig } = await import('../../src/queue/spool.ts');
  const dir = mkdtempSync(join(tmpdir(), 'spool-checkpoint-config-'));
  try {
    writeFileSync(join(dir, 'checkpoint.key'), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const base = `sources: { a: { type: file, include: ["/x/*.log"] } }\nsinks: { out: { type: file, path: out.jsonl } }\n`;
    const cfg = parseConfig(`spool:\n  checkpoints: { every: 500, key_file: checkpoint.key }\n${base}`, join(dir, 'agent-audit.yaml'));
    const opts = spoolOptionsFromConfig(cfg.spool, dir, silentLogger);
    assert.equal(opts.checkpoints?.every, 500);
    assert.match(opts.checkpoints!.keyId, /^[0-9a-f]{16}$/);
    assert.throws(() => parseConfig(`spool:\n  checkpoints: { every: 0, key_file: checkpoint.key }\n${base}`, join(dir, 'agent-audit.yaml')), /checkpoints\/every/);
    const noChain = parseConfig(`spool:\n  chain: false\n  checkpoints: { key_file: checkpoint.key }\n${base}`, join(dir, 'agent-audit.yaml'));
    assert.throws(() => spoolOptionsFromConfig(noChain.spool, dir, silentLogger), /spool\.checkpoints needs the hash chain/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('delivery: a replay is sent by its sink only, and "caught up" waits for it (run --once)', async () => {
  const { DeliveryRunner } = await import('../../src/delivery/runner.ts');
  const { createFileSink } = await import('../../src/sinks/file/index.ts');
  const { createEncoder } = await import('../../src/formats/index.ts');
  const { readFileSync } = await import('node:fs');
  const dir = mkdtempSync(join(tmpdir(), 'spool-replay-delivery-'));
  try {
    const { spool } = await Spool.open(options(join(dir, 'spool')));
    const runners = ['a', 'b'].map(async (name) => {
      const sink = createFileSink(name, { type: 'file', encoding: 'canonical', start_at: 'oldest', path: join(dir, `${name}.jsonl`) } as never, { logger: silentLogger, encoder: createEncoder('canonical'), stateDir: dir });
      await sink.start(silentLogger);
      const runner = new DeliveryRunner({ sink, reader: await spool.openReader(name, 'oldest'), deadLetters: { append: async () => undefined }, accepts: () => true, retry: { minDelayMs: 10, maxDelayMs: 50 }, logger: silentLogger });
      runner.start();
      return { sink, runner };
    });
    const [a, b] = await Promise.all(runners);
    await spool.append([event(0), event(1)]);
    await Promise.all([a!.runner.whenCaughtUp(), b!.runner.whenCaughtUp()]);
    const [first] = readFileSync(join(dir, 'a.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    await spool.appendReplay('a', [first!]);
    await Promise.all([a!.runner.whenCaughtUp(), b!.runner.whenCaughtUp()]);
    const ids = (name: string) => readFileSync(join(dir, `${name}.jsonl`), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as AuditEvent).event.id);
    assert.deepEqual(ids('a'), ['ev-0', 'ev-1', 'ev-0']);
    assert.deepEqual(ids('b'), ['ev-0', 'ev-1']);
    for (const r of [a!, b!]) {
      await r.runner.stop(1000);
      await r.sink.close();
    }
    await spool.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
