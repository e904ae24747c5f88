import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { StorageError } from '../../core/errors.ts';
import type { Anchor } from './fingerprint.ts';

/**
 * Where reading a file's content stream stopped: every line before `offset` is durable. The
 * content is identified by `fingerprint` (its first line); `anchor` recognises the bytes just
 * before `offset`, so a different file that happens to start with the same line is not
 * mistaken for this one. `path`, `dev` and `ino` say where the content was last seen.
 */
export interface FileCheckpoint {
  readonly fingerprint: string;
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  readonly offset: number;
  /** Absent when offset is 0. */
  readonly anchor?: Anchor;
  /** Lines before `offset` (for positions in messages); undefined when reading did not start at 0. */
  readonly line?: number;
  /** ms since epoch of the last update (old entries of vanished files are pruned). */
  readonly updatedAt: number;
}

/** All checkpoints of one source, in one JSON file replaced atomically. */
export class CheckpointStore {
  private readonly file: string;
  private readonly entries = new Map<string, FileCheckpoint>();
  private dirty = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true });
    this.file = join(stateDir, 'checkpoints.json');
    let text: string | undefined;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return;
    }
    try {
      for (const c of JSON.parse(text) as FileCheckpoint[]) this.entries.set(c.fingerprint, c);
    } catch (cause) {
      throw new StorageError('checkpoints_corrupt', `${this.file}: checkpoints are unreadable; move the file away to re-read inputs per start_at`, { file: this.file }, { cause });
    }
  }

  get(fp: string): FileCheckpoint | undefined {
    return this.entries.get(fp);
  }

  set(c: FileCheckpoint): void {
    this.entries.set(c.fingerprint, c);
    this.dirty = true;
  }

  delete(fp: string): void {
    if (this.entries.delete(fp)) this.dirty = true;
  }

  /** Forget files not seen for `maxAgeMs` (deleted long ago), so the file stays small. */
  prune(maxAgeMs: number, live: ReadonlySet<string>): void {
    const now = Date.now();
    for (const [fp, c] of this.entries) if (!live.has(fp) && now - c.updatedAt > maxAgeMs) this.delete(fp);
  }

  /** Writes the checkpoints if they changed (temp file, fsync, rename). */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const tmp = `${this.file}.tmp`;
      const h = await open(tmp, 'w');
      try {
        await h.writeFile(JSON.stringify([...this.entries.values()]));
        await h.sync();
      } finally {
        await h.close();
      }
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}
