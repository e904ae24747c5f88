import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AuditEvent } from '../../src/core/audit-event.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createEncoder } from '../../src/formats/index.ts';
import { createFileSink } from '../../src/sinks/file/index.ts';

function event(i: number): AuditEvent {
  return {
    schema_version: '1.0',
    event: { id: `ev-${i}`, action: 'llm.call', outcome: 'success', time: '2026-01-02T03:04:05.000Z', observed_time: '2026-01-02T03:04:06.000Z' },
    origin: { input: 'file', source: 'gw', format: 'generic_gateway', raw_sha256: '0'.repeat(64), index: 0 },
    payload: { mode: 'hash' },
  } as AuditEvent;
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

test('file sink: whole JSON lines, parent directories created, config validated by its fragment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-sink-'));
  try {
    const cfg = parseConfig(`sources: { a: { type: file, include: ["/x/*.log"] } }\nsinks: { out: { type: file, path: out/events.jsonl, rotate: { max_size: 1MiB }, batch: { max_events: 10 } } }\n`, join(dir, 'agent-audit.yaml'));
    assert.throws(() => parseConfig(`sources: { a: { type: file, include: ["/x/*.log"] } }\nsinks: { out: { type: file, pth: x } }\n`, join(dir, 'c.yaml')), /pth/);
    const sink = createFileSink('out', cfg.sinks.out!, { logger: silentLogger, encoder: createEncoder('canonical'), stateDir: dir });
    assert.equal(sink.limits.maxEvents, 10);
    await sink.start(silentLogger);
    const r = await sink.send([event(1), event(2)]);
    assert.deepEqual(r.outcomes.map((o) => o.status), ['accepted', 'accepted']);
    await sink.close();
    const got = lines(join(dir, 'out', 'events.jsonl')).map((l) => (JSON.parse(l) as AuditEvent).event.id);
    assert.deepEqual(got, ['ev-1', 'ev-2']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file sink: a torn last line left by a crash is cut at start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-sink-'));
  const path = join(dir, 'out.jsonl');
  try {
    writeFileSync(path, `${JSON.stringify(event(1))}\n`);
    appendFileSync(path, JSON.stringify(event(2)).slice(0, 40));
    const sink = createFileSink('out', { type: 'file', encoding: 'canonical', start_at: 'oldest', path } as never, { logger: silentLogger, encoder: createEncoder('canonical'), stateDir: dir });
    await sink.start(silentLogger);
    await sink.send([event(2)]);
    await sink.close();
    assert.deepEqual(lines(path).map((l) => (JSON.parse(l) as AuditEvent).event.id), ['ev-1', 'ev-2']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file sink: rotation by size keeps max_files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'file-sink-'));
  const path = join(dir, 'out.jsonl');
  try {
    const sink = createFileSink('out', { type: 'file', encoding: 'canonical', start_at: 'oldest', path, rotate: { max_size: 2000, max_files: 2 } } as never, { logger: silentLogger, encoder: createEncoder('canonical'), stateDir: dir });
    await sink.start(silentLogger);
    for (let i = 0; i < 40; i++) await sink.send([event(i)]);
    await sink.close();
    assert.ok(existsSync(`${path}.1`) && existsSync(`${path}.2`));
    assert.equal(existsSync(`${path}.3`), false);
    const newest = [...lines(`${path}.2`), ...lines(`${path}.1`), ...lines(path)].map((l) => (JSON.parse(l) as AuditEvent).event.id);
    assert.equal(newest.at(-1), 'ev-39');
    for (let i = 1; i < newest.length; i++) assert.equal(Number(newest[i]!.slice(3)), Number(newest[i - 1]!.slice(3)) + 1, 'consecutive across rotated files');
    for (const f of [path, `${path}.1`, `${path}.2`]) assert.ok(readFileSync(f).length <= 2000, f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stdout sink: JSON lines on standard output', () => {
  const script = `
    import { createStdoutSink } from './src/sinks/stdout/index.ts';
    import { createEncoder } from './src/formats/index.ts';
    import { silentLogger } from './src/core/logger.ts';
    const sink = createStdoutSink('o', { type: 'stdout', encoding: 'canonical', start_at: 'oldest' }, { logger: silentLogger, encoder: createEncoder('canonical'), stateDir: '/tmp' });
    const ev = (i) => ({ schema_version: '1.0', event: { id: 'ev-' + i, action: 'llm.call' }, origin: {}, payload: { mode: 'hash' } });
    const r = await sink.send(Array.from({ length: 5000 }, (_, i) => ev(i)));
    process.stderr.write(r.outcomes.filter((o) => o.status === 'accepted').length + '\\n');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../../', import.meta.url).pathname, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '5000');
  const out = r.stdout.split('\n').filter((l) => l);
  assert.equal(out.length, 5000);
  assert.equal((JSON.parse(out[4999]!) as AuditEvent).event.id, 'ev-4999');
});
