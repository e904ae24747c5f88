import { parentPort, workerData } from 'node:worker_threads';
import type { SourceBlock } from '../config/types.ts';
import type { RawRecord } from '../core/raw-record.ts';
import { warningFields } from './process-warnings.ts';
import { InlineNormalizeStage } from './normalize-stage.ts';
import type { WorkerReply, WorkerRequest, WireRecord } from './worker-protocol.ts';

// Worker thread body: the same InlineNormalizeStage the main thread would run, fed batches of
// records whose bytes arrive in one transferred buffer.

const stage = new InlineNormalizeStage((workerData as { mappingDirs: string[] }).mappingDirs);
const port = parentPort!;

// Node prints a worker's warnings as text on the shared stderr; the daemon's log is JSON lines.
for (const printer of process.listeners('warning')) process.off('warning', printer);
process.on('warning', (w) => port.postMessage({ kind: 'warning', fields: warningFields(w), message: w.message } satisfies WorkerReply));

function unpack(records: readonly WireRecord[], bytes: Uint8Array): RawRecord[] {
  const whole = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RawRecord[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    out[i] = { ...r, bytes: whole.subarray(r.start, r.end) };
  }
  return out;
}

port.on('message', (msg: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    switch (msg.kind) {
      case 'configure':
        stage.configure(msg.name, msg.block as SourceBlock);
        return;
      case 'remove':
        stage.remove(msg.name);
        return;
      case 'close':
        // Nothing else keeps this thread's event loop alive: it ends and the main thread sees 'exit' with code 0.
        port.close();
        return;
      case 'normalize': {
        const records = unpack(msg.records, msg.bytes);
        const results = new Array(records.length);
        for (let i = 0; i < records.length; i++) results[i] = stage.normalizerFor(records[i]!.source).normalize(records[i]!);
        reply = { kind: 'result', id: msg.id, results };
        break;
      }
    }
  } catch (err) {
    if (msg.kind !== 'normalize') throw err;
    reply = { kind: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
