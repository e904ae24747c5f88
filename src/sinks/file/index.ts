import type { SinkFactory } from '../../core/components.ts';
import { fileSinkOptions } from './config.ts';
import { FileSink } from './sink.ts';

export { FileSink } from './sink.ts';

/** JSON lines to a local file, with size/age rotation. */
export const createFileSink: SinkFactory = (name, block, deps) => new FileSink(name, fileSinkOptions(name, block), deps.encoder, deps.logger);
