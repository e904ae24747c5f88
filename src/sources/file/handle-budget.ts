import { open } from 'node:fs/promises';
import type { TailedFile } from './tailed-file.ts';

/**
 * At most `max` files hold an open handle (max_open_files). When a file needs one and none
 * is free, the longest-idle file that is read to its end gives its handle up; it is reopened
 * by path when it grows. If every handle is busy the file waits.
 */
export class HandleBudget {
  private readonly max: number;
  private readonly holders = new Set<TailedFile>();

  constructor(max: number) {
    this.max = max;
  }

  get open(): number {
    return this.holders.size;
  }

  /** Opens `file.path` for `file`; false when no handle can be freed now or the open failed. */
  async acquire(file: TailedFile): Promise<boolean> {
    if (file.handle) return true;
    if (this.holders.size >= this.max) {
      let victim: TailedFile | undefined;
      for (const f of this.holders) if (f.idle && (victim === undefined || f.lastActivity < victim.lastActivity)) victim = f;
      if (victim === undefined) return false;
      await this.release(victim);
    }
    try {
      file.handle = await open(file.path, 'r');
    } catch {
      return false;
    }
    this.holders.add(file);
    return true;
  }

  /** `to` takes over `from`'s handle (the same inode under a new reading state). */
  transfer(from: TailedFile, to: TailedFile): void {
    to.handle = from.handle;
    from.handle = undefined;
    if (this.holders.delete(from)) this.holders.add(to);
  }

  async release(file: TailedFile): Promise<void> {
    this.holders.delete(file);
    await file.closeHandle();
  }
}
