import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SinkBlock } from '../../src/config/types.ts';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createEncoder } from '../../src/formats/index.ts';
import { chainHash } from '../../src/queue/chain.ts';
import { loadCheckpointSigner } from '../../src/queue/checkpoint.ts';
import { Spool } from '../../src/queue/spool.ts';
import { createElasticsearchSink } from '../../src/sinks/elasticsearch/index.ts';
import { createFileSink } from '../../src/sinks/file/index.ts';
import { ElasticsearchEndpoint } from '../endpoints/elasticsearch-bulk.ts';

// `agent-audit verify` (the real CLI) on streams the real spool and file sink produced, then
// tampered with the way an attacker (or a careless edit) would.

const BIN = new URL('../../bin/agent-audit.js', import.meta.url).pathname;

function event(i: number): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i}`, action: 'llm.call', outcome: 'success', time: '2026-01-02T03:04:05.000Z', observed_time: '2026-01-02T03:04:06.000Z', request_id: `req-${i}` },
    origin: { input: 'file', source: 'gw', format: 'generic_gateway', raw_sha256: '0'.repeat(64), index: 0 },
    user: { id: `user-${i % 5}` },
    payload: { mode: 'hash' },
  } as AuditEvent;
}

interface Keys {
  readonly privateFile: string;
  readonly publicFile: string;
}

function keys(dir: string, name: string): Keys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateFile = join(dir, `${name}.key`);
  const publicFile = join(dir, `${name}.pub`);
  writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privateFile, publicFile };
}

/** Events through a real spool (chained, optionally with checkpoints) and the file sink: the lines it wrote. */
async function exportStream(dir: string, n: number, name = 'spool', checkpoint?: { every: number; key: Keys }): Promise<string[]> {
  const signer = checkpoint ? loadCheckpointSigner({ every: checkpoint.every, key_file: checkpoint.key.privateFile }) : undefined;
  const { spool } = await Spool.open({ dir: join(dir, name), maxBytes: 1 << 30, segmentBytes: 1 << 20, fsync: { mode: 'always' }, logger: silentLogger, ...(signer ? { checkpoints: signer } : {}) });
  await spool.append(Array.from({ length: n }, (_, i) => event(i)));
  const reader = await spool.openReader('out', 'oldest');
  const path = join(dir, `${name}.jsonl`);
  const sink = createFileSink('out', { type: 'file', encoding: 'canonical', start_at: 'oldest', path } as unknown as SinkBlock, { logger: silentLogger, encoder: createEncoder('canonical'), stateDir: dir });
  await sink.start(silentLogger);
  for (;;) {
    const batch = await reader.read(100, 1 << 20, 0);
    if (batch.length === 0) break;
    await sink.send(batch.map((e) => e.event));
    await reader.commit(batch.at(-1)!.next);
  }
  await sink.close();
  await spool.close();
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

function verify(dir: string, lines: readonly string[], args: readonly string[] = []): { code: number | null; out: string } {
  const file = join(dir, `stream-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
  const r = spawnSync(process.execPath, [BIN, 'verify', file, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

function parse(line: string): AuditEvent {
  return JSON.parse(line) as AuditEvent;
}

/** Re-links events from `from` on, as someone rewriting the stream with the (public) algorithm would. */
function rehashFrom(events: AuditEvent[], from: number): void {
  for (let i = from; i < events.length; i++) {
    const prev = events[i - 1]!.chain!;
    const c = { ...events[i]!.chain!, seq: prev.seq + 1, prev_hash: prev.hash, hash: '' };
    events[i] = { ...events[i]!, chain: c };
    events[i] = { ...events[i]!, chain: { ...c, hash: chainHash(events[i]!) } };
  }
}

test('verify: an untouched stream is intact; deleted, inserted, reordered and edited events are each reported with line and seq', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  try {
    const lines = await exportStream(dir, 40);
    assert.equal(lines.length, 40);

    const intact = verify(dir, lines);
    assert.equal(intact.code, 0, intact.out);
    assert.match(intact.out, /seq 0–39, 40 events — intact/);
    assert.match(intact.out, /Result: intact/);

    // Deleted: seq 10 gone.
    const deleted = verify(dir, lines.filter((_, i) => i !== 10));
    assert.equal(deleted.code, 1);
    assert.match(deleted.out, /GAP .*seq 10 is missing between seq 9 \(.*:10\) and seq 11 \(.*:11\)/);

    // Inserted: a forged event claiming seq 20, correctly hashed onto seq 19.
    const forged = { ...parse(lines[20]!), user: { id: 'mallory' } } as AuditEvent;
    forged.chain = { ...forged.chain!, hash: chainHash(forged) };
    const inserted = verify(dir, [...lines.slice(0, 21), JSON.stringify(forged), ...lines.slice(21)]);
    assert.equal(inserted.code, 1);
    assert.match(inserted.out, /CONFLICT .*:22 {2}seq 20: a different event with the same seq is at .*:21/);
    // Inserted without a chain link.
    const bare = verify(dir, [...lines.slice(0, 5), JSON.stringify({ ...event(99) }), ...lines.slice(5)]);
    assert.equal(bare.code, 1);
    assert.match(bare.out, /UNREADABLE .*:6 {2}event has no \(complete\) chain link/);

    // Reordered: seq 30 moved after seq 33.
    const moved = [...lines];
    const [thirty] = moved.splice(30, 1);
    moved.splice(33, 0, thirty!);
    const reordered = verify(dir, moved);
    assert.equal(reordered.code, 1);
    assert.match(reordered.out, /OUT OF ORDER .*:34 {2}seq 30 comes after seq 33 \(.*:33\)/);
    assert.doesNotMatch(reordered.out, /GAP|MODIFIED|BROKEN LINK/);
    const unordered = verify(dir, moved, ['--unordered']);
    assert.equal(unordered.code, 0, unordered.out);

    // Edited: the content of seq 5 changed, its hash left alone.
    const edited = [...lines];
    edited[5] = edited[5]!.replace('"user-0"', '"user-4"');
    assert.notEqual(edited[5], lines[5]);
    const e = verify(dir, edited);
    assert.equal(e.code, 1);
    assert.match(e.out, /MODIFIED .*:6 {2}seq 5: the event's content does not match its chain\.hash/);

    // Edited and rehashed: the next link breaks.
    const rehashed = [...lines];
    const ev = { ...parse(lines[7]!), user: { id: 'mallory' } } as AuditEvent;
    ev.chain = { ...ev.chain!, hash: chainHash(ev) };
    rehashed[7] = JSON.stringify(ev);
    const r = verify(dir, rehashed);
    assert.equal(r.code, 1);
    assert.match(r.out, /BROKEN LINK .*:9 {2}seq 8: prev_hash does not match the hash of seq 7/);
    assert.doesNotMatch(r.out, /MODIFIED/);

    // A torn or garbled line.
    const torn = verify(dir, [...lines.slice(0, 39), lines[39]!.slice(0, 50)]);
    assert.equal(torn.code, 1);
    assert.match(torn.out, /UNREADABLE .*:40 {2}not JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verify: redelivered duplicates are reported as duplicates, not tampering; interleaved chains are checked separately; stdin works', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  try {
    const a = await exportStream(dir, 30, 'a');
    const b = await exportStream(dir, 20, 'b');
    // A crash after a batch was written but before the cursor moved: the batch comes again.
    const redelivered = [...a.slice(0, 20), ...a.slice(10, 30)];
    const d = verify(dir, redelivered);
    assert.equal(d.code, 0, d.out);
    assert.match(d.out, /duplicates: 10 exact copies \(at-least-once redelivery, not tampering\)/);
    assert.doesNotMatch(d.out, /OUT OF ORDER|CONFLICT/);

    // Two spools' streams merged line by line.
    const merged: string[] = [];
    for (let i = 0; i < 30; i++) {
      merged.push(a[i]!);
      if (i < 20) merged.push(b[i]!);
    }
    const m = verify(dir, merged);
    assert.equal(m.code, 0, m.out);
    assert.match(m.out, /2 chains/);
    assert.equal((m.out.match(/— intact/g) ?? []).length, 2);
    // A gap in one chain does not hide in the other.
    const broken = verify(dir, merged.filter((l) => l !== b[7]));
    assert.equal(broken.code, 1);
    assert.equal((broken.out.match(/— intact/g) ?? []).length, 1);
    assert.match(broken.out, /seq 7 is missing/);

    const piped = spawnSync(process.execPath, [BIN, 'verify', '--json'], { input: a.join('\n'), encoding: 'utf8' });
    assert.equal(piped.status, 0, piped.stderr);
    const report = JSON.parse(piped.stdout) as { ok: boolean; documents: number; chains: { events: number }[] };
    assert.equal(report.ok, true);
    assert.equal(report.documents, 30);
    assert.equal(report.chains[0]!.events, 30);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verify: signed checkpoints catch a consistently rewritten chain that hash links alone accept', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  try {
    const key = keys(dir, 'checkpoint');
    const other = keys(dir, 'other');
    const lines = await exportStream(dir, 50, 'signed', { every: 10, key });
    const signedSeqs = lines.map(parse).filter((e) => e.chain!.signature).map((e) => e.chain!.seq);
    assert.deepEqual(signedSeqs, [9, 19, 29, 39, 49]);

    const ok = verify(dir, lines, ['--public-key', key.publicFile]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /checkpoints: 5 valid, signed through seq 49/);
    const unchecked = verify(dir, lines);
    assert.match(unchecked.out, /5 signed checkpoints present, not checked/);

    // Delete seq 25 and re-link everything after it: hash links alone cannot tell.
    const events = lines.map(parse);
    events.splice(25, 1);
    rehashFrom(events, 25);
    const rewritten = events.map((e) => JSON.stringify(e));
    const blind = verify(dir, rewritten);
    assert.equal(blind.code, 0, 'without keys the rewrite is consistent');
    const caught = verify(dir, rewritten, ['--public-key', key.publicFile]);
    assert.equal(caught.code, 1);
    assert.match(caught.out, /BAD SIGNATURE .*seq \d+: checkpoint signature does not verify/);
    assert.match(caught.out, /signed through seq 19/);

    // Signatures stripped from the tail: the checkpoints due there are missing.
    const stripped = lines.map(parse).map((e) => (e.chain!.seq >= 30 && e.chain!.signature ? { ...e, chain: { id: e.chain!.id, seq: e.chain!.seq, prev_hash: e.chain!.prev_hash, hash: e.chain!.hash } } : e));
    const s = verify(dir, stripped.map((e) => JSON.stringify(e)), ['--public-key', key.publicFile]);
    assert.equal(s.code, 1);
    assert.match(s.out, /MISSING CHECKPOINT .*seq 39: a checkpoint is due here/);
    assert.match(s.out, /MISSING CHECKPOINT .*seq 49/);

    // The wrong public key: every checkpoint is from an unknown key.
    const wrong = verify(dir, lines, ['--public-key', other.publicFile]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.out, /UNKNOWN KEY .*seq 9: checkpoint signed with key id [0-9a-f]{16}, which is not among the public keys given/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verify: documents read back from Elasticsearch (hits with _source, @timestamp added by the sink) verify with --unordered; ECS/OCSF needs the decoder', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'verify-'));
  const es = await ElasticsearchEndpoint.start({});
  try {
    const { spool } = await Spool.open({ dir: join(dir, 'spool'), maxBytes: 1 << 30, segmentBytes: 1 << 20, fsync: { mode: 'always' }, logger: silentLogger });
    await spool.append(Array.from({ length: 25 }, (_, i) => event(i)));
    const reader = await spool.openReader('es', 'oldest');
    const sink = createElasticsearchSink('es', { type: 'elasticsearch', encoding: 'canonical', start_at: 'oldest', endpoint: es.url } as unknown as SinkBlock, { logger: silentLogger, encoder: createEncoder('canonical'), stateDir: dir });
    await sink.start(silentLogger);
    const batch = await reader.read(100, 1 << 20, 0);
    const result = await sink.send(batch.map((e) => e.event));
    assert.ok(result.outcomes.every((o) => o.status === 'accepted'));
    await sink.close();
    await spool.close();
    const [index] = [...es.indices.keys()];
    // A search returns hits in no particular order.
    const hits = [...es.docs(index!)].reverse().map(([id, source]) => JSON.stringify({ _index: index, _id: id, _source: source }));
    assert.ok(JSON.parse(hits[0]!)._source['@timestamp'], 'the sink added @timestamp');
    const r = verify(dir, hits, ['--unordered']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /25 events — intact/);

    const formats = (await import('../../src/formats/index.ts')) as unknown as Record<string, unknown>;
    if (typeof formats.createDecoder === 'function') {
      // With the ECS/OCSF decoders in the build: their renderings of the chain verify like the canonical one.
      const chained = [...es.docs(index!).values()].map((d) => { const { '@timestamp': _ts, ...e } = d; return e as unknown as AuditEvent; });
      for (const name of ['ecs', 'ocsf'] as const) {
        const encoder = createEncoder(name);
        const rendered = verify(dir, chained.map((e) => JSON.stringify(encoder.encode(e))), ['--unordered']);
        assert.equal(rendered.code, 0, `${name}: ${rendered.out}`);
        assert.match(rendered.out, /25 events — intact/);
      }
    } else {
      const ecs = verify(dir, [JSON.stringify({ '@timestamp': '2026-01-02T03:04:05.000Z', ecs: { version: '9.4.0' }, event: { id: 'x' } })]);
      const ocsf = verify(dir, [JSON.stringify({ class_uid: 6003, metadata: { version: '1.8.0' } })]);
      for (const x of [ecs, ocsf]) {
        assert.equal(x.code, 1);
        assert.match(x.out, /ECS\/OCSF verification needs the decoder from src\/formats/);
      }
    }
  } finally {
    await es.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
