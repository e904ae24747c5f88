import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

// A delivery runner whose spool reader is closed while it runs (the spool closing under it)
// must end, not loop: a closed reader answers every read at once with nothing, and the runner
// used to ask again at once for ever, a loop of promises that never let the event loop turn
// (a daemon stuck so could not even take SIGTERM).

test('a runner whose spool reader is closed under it ends and leaves the event loop running', { timeout: 60_000 }, async () => {
  const worker = new Worker(new URL('./closed-reader-worker.ts', import.meta.url), { execArgv: [] });
  const timer = new Promise<'starved'>((r) => setTimeout(() => r('starved'), 30_000).unref());
  const answer = await Promise.race([once(worker, 'message').then(([m]) => m as { alive: boolean; warnings: string[] }), once(worker, 'error').then(([e]) => Promise.reject(e as Error)), timer]);
  if (answer === 'starved') {
    await worker.terminate();
    assert.fail('the runner thread never got back to its event loop after its spool was closed');
  }
  assert.equal(answer.alive, true);
  assert.ok(answer.warnings.includes('delivery stopped: the spool reader was closed under a running runner'), answer.warnings.join('; '));
  await once(worker, 'exit');
});
