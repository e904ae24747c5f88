// Preloaded into the daemon (NODE_OPTIONS=--import) by process-warnings.test.ts to make real
// process warnings happen in it. Main thread, on SIGUSR2: a negative timeout (what kafkajs
// does, kafkajs#1751) and a warning with a code and a detail. Normalize worker: a warning, once
// the worker has replaced Node's own warning printer (so it happens in a running worker).
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.on('SIGUSR2', () => {
    setTimeout(() => {}, -5);
    process.emitWarning('a warning with a code', { code: 'AGENT_AUDIT_TEST', detail: 'and a detail' });
  });
} else {
  const nodePrinters = process.listeners('warning');
  const timer = setInterval(() => {
    const listeners = process.listeners('warning');
    if (listeners.length === 0 || listeners.some((l) => nodePrinters.includes(l))) return;
    clearInterval(timer);
    process.emitWarning('a warning on a normalize worker', { code: 'AGENT_AUDIT_TEST_WORKER' });
  }, 10);
  timer.unref();
}
