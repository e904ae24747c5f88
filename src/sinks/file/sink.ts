import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AuditEvent } from '../../core/audit-event.ts';
import type { Encoder } from '../../core/encoder.ts';
import type { Logger } from '../../core/logger.ts';
import type { BatchLimits, DeliveryResult, Sink } from '../../core/sink.ts';
import type { FileSinkOptions } from './config.ts';
import { cutTornTail } from './torn-tail.ts';

/**
 * JSON lines in a local file, rotated by size or age. A batch is confirmed once it is written
 * (and fsynced, by default), so a crash never loses a confirmed event; a torn last line from
 * a crash is cut at start (its events come again from the spool).
 */
export class FileSink implements Sink {
  readonly name: string;
  readonly type = 'file' as const;
  readonly limits: BatchLimits;
  private readonly options: FileSinkOptions;
  private readonly encoder: Encoder;
  private logger: Logger;
  private handle: FileHandle | undefined;
  private size = 0;
  private openedAt = 0;

  constructor(name: string, options: FileSinkOptions, encoder: Encoder, logger: Logger) {
    this.name = name;
    this.options = options;
    this.limits = options.limits;
    this.encoder = encoder;
    this.logger = logger;
  }

  async start(logger: Logger): Promise<void> {
    this.logger = logger;
    mkdirSync(dirname(this.options.path), { recursive: true });
    const cut = cutTornTail(this.options.path);
    if (cut > 0) logger.warn({ path: this.options.path, bytes: cut }, 'cut a partial last line left by a crash (its events are sent again)');
    await this.openFile();
  }

  private async openFile(): Promise<void> {
    this.handle = await open(this.options.path, 'a');
    const st = statSync(this.options.path);
    this.size = st.size;
    this.openedAt = st.size > 0 ? st.birthtimeMs || st.mtimeMs : Date.now();
  }

  async send(batch: readonly AuditEvent[]): Promise<DeliveryResult> {
    if (!this.handle) await this.openFile();
    const text = batch.map((e) => `${JSON.stringify(this.encoder.encode(e))}\n`).join('');
    const bytes = Buffer.from(text);
    if (this.shouldRotate(bytes.length)) await this.rotate();
    const handle = this.handle!;
    try {
      await handle.write(bytes);
      if (this.options.fsync) await handle.datasync();
    } catch (err) {
      // A partial write would leave half a line: cut back to the last whole line before retrying.
      await handle.truncate(this.size).catch(() => undefined);
      const reason = `cannot write ${this.options.path}: ${(err as Error).message}`;
      return { outcomes: batch.map(() => ({ status: 'retriable', reason }) as const) };
    }
    this.size += bytes.length;
    return { outcomes: batch.map(() => ({ status: 'accepted' }) as const) };
  }

  private shouldRotate(incoming: number): boolean {
    if (this.size === 0) return false;
    if (this.options.rotateBytes > 0 && this.size + incoming > this.options.rotateBytes) return true;
    return this.options.rotateAgeMs > 0 && Date.now() - this.openedAt > this.options.rotateAgeMs;
  }

  private async rotate(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    const p = this.options.path;
    rmSync(`${p}.${this.options.maxFiles}`, { force: true });
    for (let i = this.options.maxFiles - 1; i >= 1; i--) {
      try {
        renameSync(`${p}.${i}`, `${p}.${i + 1}`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    if (this.options.maxFiles > 0) renameSync(p, `${p}.1`);
    else rmSync(p, { force: true });
    await this.openFile();
    this.openedAt = Date.now();
    this.logger.info({ path: p }, 'output file rotated');
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}
