import { ConfigError } from '../../core/errors.ts';
import type { SourceBlock } from '../../config/types.ts';
import { parseByteSize, parseDuration } from '../../config/units.ts';

/** The `file` source block as schemas/components/file_source.schema.json admits it. */
export interface FileSourceBlock extends SourceBlock {
  readonly include: readonly string[];
  readonly exclude?: readonly string[];
  readonly start_at?: 'beginning' | 'end';
  readonly max_line_bytes?: string | number;
  readonly max_open_files?: number;
  readonly batch_lines?: number;
  readonly poll_interval?: string | number;
  readonly rescan_interval?: string | number;
  readonly ignore_older_than?: string | number;
  readonly rotate_wait?: string | number;
  readonly watch?: boolean;
  readonly decode?: 'none' | 'cri';
}

export interface FileSourceOptions {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** For files found at the first scan with no checkpoint; files appearing later are read from their start. */
  readonly startAt: 'beginning' | 'end';
  readonly maxLineBytes: number;
  readonly maxOpenFiles: number;
  readonly batchLines: number;
  readonly pollIntervalMs: number;
  readonly rescanIntervalMs: number;
  /** Files not modified for this long are not opened (0: no limit). */
  readonly ignoreOlderThanMs: number;
  /**
   * A file renamed away from the globs or deleted is still read while it grows, and given up
   * this long after its last growth; a truncated file's old content waits this long for its
   * rotated copy to appear.
   */
  readonly rotateWaitMs: number;
  /** File-system notifications (inotify through chokidar) besides the periodic re-scan. */
  readonly watch: boolean;
  /** `cri`: lines are Kubernetes container-runtime log lines (`<time> <stream> <P|F> <log>`); the record is `<log>`. */
  readonly decode: 'none' | 'cri';
  readonly format?: string;
}

export function fileSourceOptions(name: string, raw: SourceBlock): FileSourceOptions {
  const b = raw as FileSourceBlock;
  const where = `sources.${name}`;
  if (!Array.isArray(b.include) || b.include.length === 0) throw new ConfigError('missing_include', `${where}.include: at least one glob pattern is required`, { path: `${where}.include` });
  return {
    include: b.include,
    exclude: b.exclude ?? [],
    startAt: b.start_at ?? 'beginning',
    maxLineBytes: parseByteSize(b.max_line_bytes ?? '1MiB', `${where}.max_line_bytes`),
    maxOpenFiles: b.max_open_files ?? 256,
    batchLines: b.batch_lines ?? 1000,
    pollIntervalMs: parseDuration(b.poll_interval ?? '250ms', `${where}.poll_interval`),
    rescanIntervalMs: parseDuration(b.rescan_interval ?? '10s', `${where}.rescan_interval`),
    ignoreOlderThanMs: b.ignore_older_than !== undefined ? parseDuration(b.ignore_older_than, `${where}.ignore_older_than`) : 0,
    rotateWaitMs: parseDuration(b.rotate_wait ?? '5s', `${where}.rotate_wait`),
    watch: b.watch ?? true,
    decode: b.decode ?? 'none',
    ...(b.format && b.format !== 'auto' ? { format: b.format } : {}),
  };
}
