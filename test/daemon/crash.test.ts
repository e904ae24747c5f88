import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DaemonProcess, runCli } from '../support/daemon-process.ts';

// DESIGN.md "Crash safety": SIGKILL the real daemon and restart it, over and over, while a
// stream flows. Half of the kills land at random moments; the other half are placed by
// failpoints (src/queue/failpoint.ts) exactly where a crash is most dangerous — half a record
// written, frames written but not fsynced, a batch confirmed by the sink but the cursor not
// moved, a cursor between its fsynced temp file and the rename (and after the rename, before
// the directory fsync), one segment deleted of a sweep — so each of those is proven, not
// hoped for. Afterwards every input line has reached the sink, duplicates stay bounded by what
// was in flight, no output line is corrupt, and the output verifies (exact duplicates only).

const EVENTS = 200_000;

/** What kills the daemon in each run: a failpoint (name@hit) or a random moment after start. */
const SCHEDULE: readonly (string | 'random')[] = [
  'spool.append.torn@3',
  'random',
  'delivery.confirmed@4',
  'cursor.tmp_synced@5',
  'random',
  'segment.deleted@1',
  'cursor.renamed@6',
  'random',
  'spool.append.written@8',
  'random',
  'segment.deleted@2',
  'random',
];
const KILLS = SCHEDULE.length;

// Deterministic "random" kill moments, so a failure can be reproduced.
function* delays(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield 150 + (x % 1200);
  }
}

test(`SIGKILL ${KILLS} times (mid-record, before fsync, between sink confirmation and cursor, mid cursor replace, mid segment deletion, and at random) while ${EVENTS} events flow: all delivered, none corrupt, duplicates bounded and accounted for, the chain verifies`, { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-audit-crash-'));
  mkdirSync(join(dir, 'logs'));
  const input = join(dir, 'logs', 'gw.jsonl');
  const w = createWriteStream(input);
  for (let i = 0; i < EVENTS; i++) {
    const line = `{"timestamp":"2026-11-20T10:00:00.000Z","request_id":"req-${i}","agent":"bot-${i % 7}","user":"user${i % 13}@example.com","endpoint":"https://api.openai.com/v1/chat/completions","method":"POST","status":200,"latency_ms":${i % 900},"outcome":"success","provider":"openai","model":"gpt-4o","input_tokens":${i % 500},"output_tokens":${i % 300}}\n`;
    if (!w.write(line)) await once(w, 'drain');
  }
  w.end();
  await once(w, 'finish');
  const out = join(dir, 'out', 'events.jsonl');
  const file = join(dir, 'agent-audit.yaml');
  writeFileSync(
    file,
    `data_dir: ${dir}/state
server: { address: "127.0.0.1:0" }
spool:
  segment_size: 1MiB
sources:
  gw: { type: file, include: ["${dir}/logs/*.jsonl"], format: generic_gateway }
sinks:
  out: { type: file, encoding: canonical, path: ${out} }
`,
  );
  const moments = delays(20261124);
  let tornCut = false;
  let previous: string | undefined;
  for (const kill of SCHEDULE) {
    const d = new DaemonProcess(['run', '--config', file], kill === 'random' ? {} : { AGENT_AUDIT_FAILPOINT: kill });
    const recovered = await d.waitForLog('spool recovered', 120_000);
    if (previous === 'spool.append.torn@3') {
      const cut = recovered.truncated as unknown[];
      assert.ok(cut.length >= 1, `the torn record left by the last kill was cut at recovery: ${JSON.stringify(recovered)}`);
      tornCut = true;
    }
    if (kill === 'random') {
      await d.waitForLog('agent-audit started', 120_000);
      await sleep(moments.next().value!);
      d.kill('SIGKILL');
    } else {
      const timer = setTimeout(() => d.kill('SIGKILL'), 120_000);
      await d.exited;
      clearTimeout(timer);
      assert.ok(d.logs.some((l) => l.failpoint === kill.split('@')[0]), `failpoint ${kill} was never reached: ${d.stderrText.slice(-2000)}`);
    }
    const e = await d.exited;
    assert.equal(e.signal, 'SIGKILL', `daemon ended on its own: ${d.stderrText.slice(-2000)}`);
    previous = kill;
  }
  assert.ok(tornCut);
  // Final run to completion.
  const last = await runCli(['run', '--once', '--config', file]);
  assert.equal(last.code, 0, last.stderr.slice(-3000));

  assert.ok(existsSync(out));
  const text = readFileSync(out, 'utf8');
  assert.ok(text.endsWith('\n'), 'the output ends with a complete line');
  const seen = new Map<string, number>();
  let lineNo = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    lineNo++;
    let ev: { event: { id: string; request_id?: string } };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      assert.fail(`output line ${lineNo} is corrupt: ${line.slice(0, 200)}`);
    }
    const rid = ev.event.request_id!;
    seen.set(rid, (seen.get(rid) ?? 0) + 1);
  }
  const missing: string[] = [];
  for (let i = 0; i < EVENTS && missing.length < 10; i++) if (!seen.has(`req-${i}`)) missing.push(`req-${i}`);
  assert.deepEqual(missing, [], 'events lost across kills');
  assert.equal(seen.size, EVENTS);
  const duplicates = lineNo - EVENTS;
  // In flight at a kill: at most a few batches per kill (source submit batch + sink batch).
  assert.ok(duplicates <= KILLS * 20_000, `too many duplicates: ${duplicates}`);
  // The chain across all those restarts: intact, redeliveries reported as exact duplicates.
  const verified = await runCli(['verify', out]);
  assert.equal(verified.code, 0, verified.stdout.slice(-3000));
  // Every extra line is accounted for as a redelivery (same link) or a resubmission (same event id, new link).
  const exact = Number((/duplicates: ([0-9,]+) exact copies/.exec(verified.stdout)?.[1] ?? '0').replace(/,/g, ''));
  const resubmitted = Number((/resubmitted: ([0-9,]+) events/.exec(verified.stdout)?.[1] ?? '0').replace(/,/g, ''));
  assert.equal(exact + resubmitted, duplicates, verified.stdout);
});
