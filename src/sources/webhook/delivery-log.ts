import { open, readFile, rename, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/logger.ts';

const FILE = 'accepted-deliveries.log';

/**
 * Delivery ids whose events are durable, remembered for a window so a redelivery (senders retry
 * whenever they miss our 2xx) is answered 2xx without a second copy of its events.
 *
 * An id is added only after its events are durable, so a delivery we never acknowledged is
 * always accepted again (at-least-once). The ids also go to an append-only file so the window
 * survives a restart; the file is not fsynced: losing its tail in a crash only means a
 * redelivery is spooled once more, and its events keep the same ids (the delivery id is part
 * of the event id), so downstream recognises them. Memory is bounded by `maxEntries`
 * (oldest forgotten first), the file by compaction.
 */
export class DeliveryLog {
  private readonly file: string;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  /** id → accepted at (ms); insertion order = age order. */
  private readonly seen = new Map<string, number>();
  private handle: FileHandle | undefined;
  private lines = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(options: { dir: string; windowMs: number; maxEntries: number; now: () => number; logger: Logger }) {
    this.file = join(options.dir, FILE);
    this.windowMs = options.windowMs;
    this.maxEntries = options.maxEntries;
    this.now = options.now;
    this.logger = options.logger;
  }

  async open(): Promise<void> {
    if (this.windowMs === 0) return;
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ file: this.file, err: (err as Error).message }, 'cannot read remembered delivery ids; redeliveries of recent deliveries are accepted again');
    }
    for (const line of text.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp <= 0) continue;
      const at = Number(line.slice(0, sp));
      if (!Number.isFinite(at)) continue;
      const id = line.slice(sp + 1);
      this.seen.delete(id);
      this.seen.set(id, at);
    }
    this.expire();
    await this.compact();
  }

  has(id: string): boolean {
    const at = this.seen.get(id);
    return at !== undefined && this.now() - at <= this.windowMs;
  }

  /** Remembers an accepted delivery; the file write is not waited for (see the class comment). */
  add(id: string): void {
    if (this.windowMs === 0) return;
    const at = this.now();
    this.seen.delete(id);
    this.seen.set(id, at);
    this.expire();
    this.writing = this.writing.then(async () => {
      if (this.handle === undefined) return;
      await this.handle.write(`${at} ${id}\n`);
      if (++this.lines > 2 * this.maxEntries) await this.compact();
    }).catch((err: unknown) => this.logger.warn({ file: this.file, err: (err as Error).message }, 'cannot record an accepted delivery id; a redelivery of it would be accepted again'));
  }

  get size(): number {
    return this.seen.size;
  }

  private expire(): void {
    const horizon = this.now() - this.windowMs;
    for (const [id, at] of this.seen) {
      if (this.seen.size <= this.maxEntries && at >= horizon) break;
      this.seen.delete(id);
    }
  }

  /** Rewrites the file with what is remembered now (atomic rename), then appends to it. */
  private async compact(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const tmp = `${this.file}.tmp`;
    let body = '';
    for (const [id, at] of this.seen) body += `${at} ${id}\n`;
    await writeFile(tmp, body);
    await rename(tmp, this.file);
    this.lines = this.seen.size;
    this.handle = await open(this.file, 'a');
  }

  async close(): Promise<void> {
    await this.writing;
    await this.handle?.close();
    this.handle = undefined;
  }
}
