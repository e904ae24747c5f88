import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// Input and output helpers for tests that run the real daemon on generic_gateway lines: each
// line carries a unique request_id, so outputs can be checked for loss and duplicates.

export function gatewayLine(id: string, i = 0): string {
  return JSON.stringify({
    timestamp: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, i % 1000)).toISOString(),
    request_id: id,
    agent: `bot-${i % 5}`,
    user: 'alice@example.com',
    endpoint: 'https://api.openai.com/v1/chat/completions',
    method: 'POST',
    status: 200,
    latency_ms: i % 900,
    outcome: 'success',
    provider: 'openai',
    model: 'gpt-4o',
  });
}

/** Appends lines `${prefix}-${from}` … `${prefix}-${to - 1}`; returns their request ids. */
export function appendGateway(file: string, prefix: string, from: number, to: number): string[] {
  const ids: string[] = [];
  const lines: string[] = [];
  for (let i = from; i < to; i++) {
    ids.push(`${prefix}-${i}`);
    lines.push(gatewayLine(`${prefix}-${i}`, i));
  }
  appendFileSync(file, lines.join('\n') + '\n');
  return ids;
}

/** Canonical events of a JSON-lines output file (its complete lines: a sink may be writing the last one). */
export function jsonLines(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function requestIdOf(event: unknown): string {
  return String(((event as { event?: { request_id?: unknown } }).event ?? {}).request_id);
}

/** How often each request id occurs. */
export function tally(events: readonly unknown[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) out.set(requestIdOf(e), (out.get(requestIdOf(e)) ?? 0) + 1);
  return out;
}

/** Asserts each id occurs exactly once and nothing else does; returns a description on failure. */
export function exactlyOnce(events: readonly unknown[], ids: readonly string[]): string | undefined {
  const seen = tally(events);
  const missing = ids.filter((id) => !seen.has(id));
  const dup = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  const extra = [...seen.keys()].filter((id) => !ids.includes(id));
  if (missing.length + dup.length + extra.length === 0) return undefined;
  return `missing ${missing.length} (${missing.slice(0, 5).join(', ')}), duplicated ${dup.length} (${dup.slice(0, 5).join(', ')}), unexpected ${extra.length} (${extra.slice(0, 5).join(', ')})`;
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One sample of a Prometheus text page, by name and exact labels; undefined when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) got[l[1]!] = l[2]!;
    const want = Object.entries(labels);
    if (want.length === Object.keys(got).length && want.every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}
