import { globSync } from 'node:fs';
import { dirname, matchesGlob, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from '../../core/logger.ts';

/** The directory a glob can only match below: the part before its first wildcard. */
export function staticBase(pattern: string): string {
  const parts = resolve(pattern).split('/');
  const i = parts.findIndex((p) => /[*?[\]{}]/.test(p));
  return i === -1 ? dirname(resolve(pattern)) : parts.slice(0, i).join('/') || '/';
}

/** What a file-system notification means for the source. */
export type ChangeKind = 'content' | 'tree';

/**
 * Which files the source reads: include globs (with `**`) minus exclude globs. New files are
 * noticed by chokidar at once, and by a periodic re-scan as a safety net (watches can be
 * lost: inotify limits, network file systems, directories created later, files created while
 * the watcher was still starting).
 */
export class Discovery {
  private readonly include: readonly string[];
  private readonly exclude: readonly string[];
  private watcher: FSWatcher | undefined;

  constructor(include: readonly string[], exclude: readonly string[]) {
    this.include = include.map((p) => resolve(p));
    this.exclude = exclude.map((p) => resolve(p));
  }

  matches(path: string): boolean {
    return this.include.some((g) => matchesGlob(path, g)) && !this.exclude.some((g) => matchesGlob(path, g));
  }

  /** Every matching path now (directories too; the caller keeps regular files). */
  scan(): string[] {
    const out = new Set<string>();
    for (const pattern of this.include) {
      for (const p of globSync(pattern, { withFileTypes: false })) {
        const abs = resolve(p);
        if (!this.exclude.some((g) => matchesGlob(abs, g))) out.add(abs);
      }
    }
    return [...out].sort();
  }

  /**
   * Calls `onChange('content', path)` when a matching file changed, `onChange('tree')` when
   * files or directories appeared or went (and once the watcher is ready: files created while
   * it was starting raised no event). A rename rotation (the path renamed away and created
   * again at once) is reported as a change of the path: the caller checks whether the path
   * still names the file it follows.
   */
  watch(onChange: (kind: ChangeKind, path?: string) => void, logger: Logger): void {
    const bases = [...new Set(this.include.map(staticBase))];
    this.watcher = watch(bases, {
      ignoreInitial: true,
      persistent: false,
      // Unlinks are reported at once rather than held back 100 ms to be merged with an add.
      atomic: false,
      // Directories are walked; files the globs do not match cost no watch and raise no event.
      ignored: (path, stats) => stats?.isFile() === true && !this.matches(resolve(path)),
    });
    this.watcher.on('all', (event, path) => (event === 'change' ? onChange('content', resolve(path)) : onChange('tree')));
    this.watcher.on('ready', () => onChange('tree'));
    this.watcher.on('error', (err) => logger.warn({ err: (err as Error).message }, 'file watch error; the periodic re-scan keeps discovering files'));
  }

  async close(): Promise<void> {
    await this.watcher?.close();
  }
}
