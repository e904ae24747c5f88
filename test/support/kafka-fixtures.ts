import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProducedMessage } from './kafka-mock.ts';

// Inputs and output readers shared by the Kafka source tests (real daemon, real broker protocol).

/** One generic_gateway record whose request_id names the message. */
export function gatewayLine(i: number): string {
  return JSON.stringify({
    timestamp: '2026-11-20T10:00:00.000Z',
    request_id: `req-${i}`,
    agent: `bot-${i % 7}`,
    user: `user${i % 13}@example.com`,
    endpoint: 'https://api.openai.com/v1/chat/completions',
    method: 'POST',
    status: 200,
    latency_ms: i % 900,
    outcome: 'success',
    provider: 'openai',
    model: 'gpt-4o',
    input_tokens: i % 500,
    output_tokens: i % 300,
  });
}

/** Messages from..to-1 spread round-robin over `partitions`. */
export function gatewayMessages(from: number, to: number, partitions: readonly number[]): ProducedMessage[] {
  const out: ProducedMessage[] = [];
  for (let i = from; i < to; i++) out.push({ partition: partitions[i % partitions.length]!, value: gatewayLine(i) });
  return out;
}

export interface KafkaSourceSettings {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  /** Source settings over the test defaults below. */
  readonly settings?: Readonly<Record<string, string | number>>;
}

/** Test defaults: a short session timeout (the mock never sees LeaveGroup), fast commits. */
const SOURCE_DEFAULTS: Readonly<Record<string, string | number>> = {
  format: 'generic_gateway',
  session_timeout: '4s',
  heartbeat_interval: '400ms',
  max_wait: '300ms',
  commit_interval: '200ms',
  lag_interval: '500ms',
  batch_records: 500,
  max_inflight_batches: 4,
  stop_timeout: '3s',
};

/** A daemon config: the Kafka source into a file sink (or the given sinks). */
export function kafkaConfig(dir: string, k: KafkaSourceSettings, options: { sink?: string; spool?: string; extraTop?: string } = {}): string {
  const file = join(dir, 'agent-audit.yaml');
  const settings = Object.entries({ ...SOURCE_DEFAULTS, ...k.settings })
    .map(([key, v]) => `    ${key}: ${typeof v === 'number' ? v : JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(
    file,
    `data_dir: ${dir}/state
server: { address: "127.0.0.1:0" }
${options.extraTop ?? ''}
${options.spool ?? ''}
sources:
  gw:
    type: kafka
    brokers: [${k.brokers.join(', ')}]
    topics: [${JSON.stringify(k.topic)}]
    group_id: ${k.groupId}
${settings}
sinks:
${options.sink ?? `  out: { type: file, encoding: canonical, path: ${dir}/out/events.jsonl }`}
`,
  );
  return file;
}

export interface DeliveredEvent {
  readonly requestId: string;
  readonly id: string;
  readonly partition: number;
  readonly offset: string;
}

/** Events in a file sink's output (every line must parse). */
export function readDelivered(file: string): DeliveredEvent[] {
  if (!existsSync(file)) return [];
  const out: DeliveredEvent[] = [];
  const text = readFileSync(file, 'utf8');
  let n = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    n++;
    let ev: { event: { id: string; request_id: string }; origin: { position: { kafka: { partition: number; offset: string } } } };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      throw new Error(`${file}: line ${n} is corrupt: ${line.slice(0, 200)}`);
    }
    out.push({ requestId: ev.event.request_id, id: ev.event.id, partition: ev.origin.position.kafka.partition, offset: ev.origin.position.kafka.offset });
  }
  return out;
}

/** Count per request id. */
export function countByRequest(events: readonly DeliveredEvent[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const e of events) seen.set(e.requestId, (seen.get(e.requestId) ?? 0) + 1);
  return seen;
}

/** request ids req-from..req-(to-1) that are absent (at most `limit` listed). */
export function missingRequests(seen: ReadonlyMap<string, number>, from: number, to: number, limit = 10): string[] {
  const missing: string[] = [];
  for (let i = from; i < to && missing.length < limit; i++) if (!seen.has(`req-${i}`)) missing.push(`req-${i}`);
  return missing;
}

/** Lines in a file, cheaply (for polling progress). */
export function lineCount(file: string): number {
  if (!existsSync(file)) return 0;
  const b = readFileSync(file);
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}

/** Sum of a Prometheus sample's values whose labels include `labels` (e.g. source="gw"). */
export async function metric(baseUrl: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labels && !(m[2] ?? '').includes(labels)) continue;
    sum += Number(m[3]);
  }
  return sum;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
