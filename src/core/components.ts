import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SinkBlock, SourceBlock } from '../config/types.ts';
import type { Encoder } from './encoder.ts';
import type { Logger } from './logger.ts';
import type { Sink } from './sink.ts';
import type { Source } from './source.ts';

// How the daemon builds components from config blocks. Each component folder exports one
// factory; src/daemon/registry.ts maps config `type` to it. A factory validates nothing the
// schema fragment already checked, but turns settings into typed options (units, paths).

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The daemon's shared HTTP server, on which webhook and OTLP sources mount their routes. */
export interface HttpRoutes {
  /** Mount a handler for requests whose path equals `path` (any method). */
  add(path: string, handler: HttpHandler): void;
  remove(path: string): void;
}

export interface SourceDeps {
  readonly logger: Logger;
  /** Where the source keeps its checkpoints: a directory owned by this source. */
  readonly stateDir: string;
  readonly http: HttpRoutes;
}

export type SourceFactory = (name: string, block: SourceBlock, deps: SourceDeps) => Source;

export interface SinkDeps {
  readonly logger: Logger;
  readonly encoder: Encoder;
  /** A directory owned by this sink (e.g. HEC channel id). */
  readonly stateDir: string;
}

export type SinkFactory = (name: string, block: SinkBlock, deps: SinkDeps) => Sink;
