import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../core/errors.ts';

// One daemon per data directory: two writers would interleave spool appends and break the
// framing and the chain. The lock is a small file the daemon refreshes (mtime) while it runs;
// Node has no flock, so a holder counts as alive while its process exists on this host and the
// file was refreshed recently (a SIGKILLed daemon leaves the file behind: its pid is gone; a
// reused pid is not mistaken for it once the refresh stops). `agent-audit dlq` reads it to know
// whether a daemon will pick up a replay now or at its next start.

const FILE = 'daemon.lock';
const REFRESH_MS = 5_000;
/** A lock not refreshed for this long is stale, whatever its pid. */
const STALE_MS = 30_000;

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
  readonly nonce: string;
}

export interface DataDirLock {
  readonly holder: LockHolder;
  release(): void;
}

function readHolder(file: string): { holder: LockHolder; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(file).mtimeMs;
    const holder = JSON.parse(readFileSync(file, 'utf8')) as LockHolder;
    if (!Number.isInteger(holder.pid) || typeof holder.host !== 'string') return undefined;
    return { holder, mtimeMs };
  } catch {
    return undefined;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function alive(found: { holder: LockHolder; mtimeMs: number }, now = Date.now()): boolean {
  if (now - found.mtimeMs > STALE_MS) return false;
  if (found.holder.host !== hostname()) return true;
  if (found.holder.pid === process.pid) return false;
  return processExists(found.holder.pid);
}

/** The running daemon that holds `dataDir`, if any. */
export function lockHolder(dataDir: string): LockHolder | undefined {
  const found = readHolder(join(dataDir, FILE));
  return found && alive(found) ? found.holder : undefined;
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Takes the data directory for this process; throws StorageError naming the holder when another daemon has it. */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, FILE);
  const found = readHolder(file);
  if (found && alive(found)) {
    const h = found.holder;
    throw new StorageError('data_dir_locked', `${dataDir} is in use by another agent-audit daemon (pid ${h.pid} on ${h.host}, since ${new Date(h.startedAt).toISOString()}); one daemon per data_dir`, { dataDir, pid: h.pid, host: h.host });
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), startedAt: Date.now(), nonce: randomUUID() };
  writeAtomically(file, JSON.stringify(holder));
  // Two daemons taking over the same stale lock at once: the last rename wins, the other sees it.
  if (readHolder(file)?.holder.nonce !== holder.nonce) throw new StorageError('data_dir_locked', `${dataDir} was taken by another agent-audit daemon while starting`, { dataDir });
  const timer = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // The file vanished (data dir removed under us): nothing sensible to do from a timer.
    }
  }, REFRESH_MS);
  timer.unref();
  let released = false;
  return {
    holder,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (readHolder(file)?.holder.nonce === holder.nonce) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    },
  };
}
