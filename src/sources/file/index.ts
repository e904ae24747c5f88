import type { SourceFactory } from '../../core/components.ts';
import { fileSourceOptions } from './config.ts';
import { FileSource } from './source.ts';

export { FileSource } from './source.ts';

/** Tails files matched by globs, acknowledging (checkpointing) lines only once durable. */
export const createFileSource: SourceFactory = (name, block, deps) => new FileSource(name, fileSourceOptions(name, block), deps.stateDir, deps.logger);
