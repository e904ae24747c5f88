import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../core/errors.ts';
import { failpoint } from './failpoint.ts';
import { syncDir } from './segment-log.ts';
import type { SpoolPosition } from './types.ts';

/** A sink's committed place in the spool: the next frame to deliver and the seq before it. */
export interface Cursor extends SpoolPosition {
  /** Sequence number of the last committed event (-1: none). */
  readonly seq: number;
}

/**
 * One small file per sink, replaced atomically (temp file, fsync, rename, fsync of the
 * directory): a crash leaves either the old or the new cursor, never a torn one.
 */
export class CursorStore {
  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  private file(sink: string): string {
    return join(this.dir, `${encodeURIComponent(sink)}.json`);
  }

  read(sink: string): Cursor | undefined {
    let text: string;
    try {
      text = readFileSync(this.file(sink), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const c = JSON.parse(text) as Cursor;
      if (Number.isInteger(c.segment) && Number.isInteger(c.offset) && Number.isInteger(c.seq)) return { segment: c.segment, offset: c.offset, seq: c.seq };
    } catch {
      // fall through
    }
    throw new StorageError('cursor_corrupt', `${this.file(sink)}: cursor of sink '${sink}' is unreadable; delete it to restart that sink from the oldest retained event`, { sink });
  }

  /** Every sink with a cursor on disk (sinks of earlier runs hold segments until removed). */
  sinks(): string[] {
    return readdirSync(this.dir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => decodeURIComponent(n.slice(0, -'.json'.length)));
  }

  async write(sink: string, cursor: Cursor): Promise<void> {
    const target = this.file(sink);
    const tmp = `${target}.tmp`;
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(JSON.stringify(cursor));
      await h.sync();
    } finally {
      await h.close();
    }
    failpoint('cursor.tmp_synced');
    await rename(tmp, target);
    failpoint('cursor.renamed');
    await syncDir(this.dir);
  }

  remove(sink: string): void {
    try {
      unlinkSync(this.file(sink));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
