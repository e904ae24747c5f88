import type { AuditEvent } from '../../core/audit-event.ts';
import type { SinkFactory } from '../../core/components.ts';
import type { Encoder } from '../../core/encoder.ts';
import type { BatchLimits, DeliveryResult, Sink } from '../../core/sink.ts';
import type { SinkBlock } from '../../config/types.ts';
import { batchLimits, type BatchBlock } from '../http/settings.ts';

/** JSON lines on standard output (for `kubectl logs`, pipes, trying things out). */
export class StdoutSink implements Sink {
  readonly name: string;
  readonly type = 'stdout' as const;
  readonly limits: BatchLimits;
  private readonly encoder: Encoder;
  private readonly out: NodeJS.WritableStream;

  constructor(name: string, limits: BatchLimits, encoder: Encoder, out: NodeJS.WritableStream = process.stdout) {
    this.name = name;
    this.limits = limits;
    this.encoder = encoder;
    this.out = out;
  }

  async start(): Promise<void> {}

  async send(batch: readonly AuditEvent[]): Promise<DeliveryResult> {
    const text = batch.map((e) => `${JSON.stringify(this.encoder.encode(e))}\n`).join('');
    // Confirmed only once the pipe took it (or buffered it below its high-water mark): a slow
    // reader slows delivery instead of growing memory.
    await new Promise<void>((resolve, reject) => {
      const ok = this.out.write(text, (err) => (err ? reject(err) : undefined));
      if (ok) resolve();
      else this.out.once('drain', resolve);
    });
    return { outcomes: batch.map(() => ({ status: 'accepted' }) as const) };
  }

  async close(): Promise<void> {}
}

export const createStdoutSink: SinkFactory = (name, block, deps) =>
  new StdoutSink(name, batchLimits((block as SinkBlock & { batch?: BatchBlock }).batch, { maxEvents: 1000, maxBytes: 1024 * 1024, maxWaitMs: 100 }, `sinks.${name}`), deps.encoder);
