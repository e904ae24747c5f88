import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

// Runs the real `agent-audit` CLI as a child process, the way users and the benchmark do, and
// follows its JSON log lines on stderr.

const BIN = new URL('../../bin/agent-audit.js', import.meta.url).pathname;

export interface LogLine {
  readonly level?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export class DaemonProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  stdout = '';
  stderrText = '';
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = once(this.child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    let pending = '';
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderrText += chunk;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        let parsed: LogLine;
        try {
          parsed = JSON.parse(line) as LogLine;
        } catch {
          parsed = { msg: line };
        }
        this.logs.push(parsed);
        this.waiters = this.waiters.filter((w) => {
          if (!w.match(parsed)) return true;
          w.resolve(parsed);
          return false;
        });
      }
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
  }

  /** Resolves with the first log line (past or future) whose msg matches; rejects if the process exits first. */
  waitForLog(msg: string | RegExp, timeoutMs = 60_000): Promise<LogLine> {
    const match = (l: LogLine) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg)));
    const seen = this.logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for log '${String(msg)}'; stderr:\n${this.stderrText.slice(-4000)}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${e.code ?? e.signal}) before log '${String(msg)}'; stderr:\n${this.stderrText.slice(-4000)}`));
      });
    });
  }

  /** Base URL of the daemon's HTTP server, from its start-up log line. */
  async url(): Promise<string> {
    const started = await this.waitForLog('agent-audit started');
    const a = started.address as { host: string; port: number };
    return `http://${a.host}:${a.port}`;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal);
  }
}

/** Runs the CLI to completion. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string; logs: LogLine[] }> {
  const p = new DaemonProcess(args, env);
  const { code } = await p.exited;
  // Let the pipes drain.
  await new Promise((r) => setImmediate(r));
  return { code, stdout: p.stdout, stderr: p.stderrText, logs: p.logs };
}
