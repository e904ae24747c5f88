import type { SourceBlock } from '../config/types.ts';
import type { NormalizeResult } from '../core/normalizer.ts';
import type { RawRecord } from '../core/raw-record.ts';
import type { WarningFields } from './process-warnings.ts';

/** A RawRecord without its bytes, which travel in one shared transferred buffer. */
export type WireRecord = Omit<RawRecord, 'bytes'> & { readonly start: number; readonly end: number };

export type WorkerRequest =
  | { readonly kind: 'configure'; readonly name: string; readonly block: SourceBlock }
  | { readonly kind: 'remove'; readonly name: string }
  | { readonly kind: 'normalize'; readonly id: number; readonly records: readonly WireRecord[]; readonly bytes: Uint8Array }
  /** Answer what came before, then close the port: the thread ends by itself, never terminated mid-work. */
  | { readonly kind: 'close' };

export type WorkerReply =
  /** A process warning on the worker, logged by the main thread (one JSON line, not stderr text). */
  | { readonly kind: 'warning'; readonly fields: WarningFields; readonly message: string }
  | { readonly kind: 'result'; readonly id: number; readonly results: NormalizeResult[] }
  | { readonly kind: 'error'; readonly id: number; readonly message: string };
