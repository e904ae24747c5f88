import { pino } from 'pino';
import type { Logger } from '../core/logger.ts';

/**
 * agent-audit's own logs: pino JSON on stderr (stdout may carry events for the stdout sink),
 * one line per meaningful state change, never one per event. Config secrets are not logged
 * at all: components log names, paths and counts, not config values.
 */
export function createLogger(level: string, destination: number = 2): Logger {
  return pino(
    {
      level,
      base: { service: 'agent-audit', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Belt and braces: these keys never carry a value into a log line.
      redact: { paths: ['token', 'password', 'api_key', 'secret', 'authorization', '*.token', '*.password', '*.api_key', '*.secret', '*.authorization'], censor: '[REDACTED]' },
    },
    // Synchronous: the daemon logs state changes only, and a line must not be lost on exit.
    pino.destination({ dest: destination, sync: true }),
  ) as unknown as Logger;
}
