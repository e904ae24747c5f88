import { ConfigError } from '../../core/errors.ts';
import type { SinkBlock } from '../../config/types.ts';
import type { BatchLimits } from '../../core/sink.ts';
import { parseByteSize } from '../../config/units.ts';
import { batchLimits, durationMs, type BatchBlock } from '../http/settings.ts';

/** The `file` sink block as schemas/components/file_sink.schema.json admits it. */
export interface FileSinkBlock extends SinkBlock {
  readonly path: string;
  readonly fsync?: boolean;
  readonly rotate?: { readonly max_size?: string | number; readonly max_age?: string | number; readonly max_files?: number };
  readonly batch?: BatchBlock;
}

export interface FileSinkOptions {
  readonly path: string;
  readonly fsync: boolean;
  /** Rotate when the file would grow past this many bytes (0: never). */
  readonly rotateBytes: number;
  /** Rotate when the file is older than this (0: never). */
  readonly rotateAgeMs: number;
  /** Rotated files kept (path.1 … path.N); older ones are deleted. */
  readonly maxFiles: number;
  readonly limits: BatchLimits;
}

export const FILE_DEFAULT_LIMITS: BatchLimits = { maxEvents: 2000, maxBytes: 4 * 1024 * 1024, maxWaitMs: 200 };

export function fileSinkOptions(name: string, raw: SinkBlock, defaults: BatchLimits = FILE_DEFAULT_LIMITS): FileSinkOptions {
  const block = raw as FileSinkBlock;
  const where = `sinks.${name}`;
  if (typeof block.path !== 'string' || block.path === '') throw new ConfigError('missing_path', `${where}.path: the output file is required`, { path: `${where}.path` });
  const rotate = block.rotate ?? {};
  return {
    path: block.path,
    fsync: block.fsync !== false,
    rotateBytes: rotate.max_size !== undefined ? parseByteSize(rotate.max_size, `${where}.rotate.max_size`) : 0,
    rotateAgeMs: durationMs(rotate.max_age, 0, `${where}.rotate.max_age`),
    maxFiles: rotate.max_files ?? 5,
    limits: batchLimits(block.batch, defaults, where),
  };
}
