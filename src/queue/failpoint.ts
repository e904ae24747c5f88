import { writeSync } from 'node:fs';

// Crash-test failpoints. AGENT_AUDIT_FAILPOINT="<name>@<n>" makes the process SIGKILL itself
// the n-th time it reaches the named point, so test/daemon/crash.test.ts can prove recovery
// from a kill at each dangerous moment (mid-append, between delivery and cursor, mid cursor
// replace, mid segment deletion) instead of hoping a random kill lands there. Unset (always,
// outside that test) it costs one comparison.

export type FailpointName =
  /** Frames written to the segment, not yet fsynced; no source acknowledged. */
  | 'spool.append.written'
  /** Half of a group's bytes written: a torn record at the tail. */
  | 'spool.append.torn'
  /** The sink confirmed a batch; the cursor has not moved. */
  | 'delivery.confirmed'
  /** New cursor in its temp file, fsynced, not renamed. */
  | 'cursor.tmp_synced'
  /** Cursor renamed into place, directory not fsynced. */
  | 'cursor.renamed'
  /** One segment unlinked, others of the same sweep not yet. */
  | 'segment.deleted';

const spec = /^([a-z._]+)@([0-9]+)$/.exec(process.env.AGENT_AUDIT_FAILPOINT ?? '');
const target = spec?.[1];
const at = spec ? Number(spec[2]) : 0;
let hits = 0;

/** Kills the process here when this failpoint is armed and due; `before` runs first (e.g. a partial write). */
export function failpoint(name: FailpointName, before?: () => void): void {
  if (target !== name || ++hits !== at) return;
  before?.();
  writeSync(2, `${JSON.stringify({ level: 'fatal', msg: 'failpoint reached: killing the process', failpoint: name, hit: at })}\n`);
  process.kill(process.pid, 'SIGKILL');
}
