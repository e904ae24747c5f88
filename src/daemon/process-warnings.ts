import type { Logger } from '../core/logger.ts';

/** What a process warning becomes in the log: its name, code and message, never a stack of free text. */
export interface WarningFields {
  readonly warning: string;
  readonly code?: string;
  readonly detail?: string;
}

export function warningFields(w: Error & { code?: unknown; detail?: unknown }): WarningFields {
  return {
    warning: w.name,
    ...(typeof w.code === 'string' ? { code: w.code } : {}),
    ...(typeof w.detail === 'string' ? { detail: w.detail } : {}),
  };
}

/**
 * Process warnings (kafkajs's TimeoutNegativeWarning, deprecations, MaxListenersExceeded…) as
 * one JSON log line each instead of Node's `(node:PID) Name: message` text on stderr, which
 * breaks a log stream that is otherwise JSON lines. Node prints warnings from a 'warning'
 * listener of its own; it is replaced for the daemon's lifetime. Returns the undo.
 */
export function routeProcessWarnings(logger: Logger): () => void {
  const printers = process.listeners('warning');
  for (const p of printers) process.off('warning', p);
  const onWarning = (w: Error) => logger.warn(warningFields(w), w.message);
  process.on('warning', onWarning);
  return () => {
    process.off('warning', onWarning);
    for (const p of printers) process.on('warning', p);
  };
}
