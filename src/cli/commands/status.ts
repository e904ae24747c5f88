import { parseArgs } from 'node:util';
import { parsePrometheusText, type Sample } from '../../daemon/prometheus-text.ts';

const HELP = `Usage: agent-audit status [--url http://127.0.0.1:8686] [--interval 2s] [--json]

Reads a running daemon's /metrics twice, --interval apart, and prints one screen:
event rates, lag, spool use and dead letters per source and per sink.

Options:
  --url URL         the daemon's HTTP server (default http://127.0.0.1:8686)
  --interval DUR    time between the two samples used for rates (default 2s; 0 = totals only)
  --json            print the figures as JSON instead of a table
  -h, --help        show this help
`;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { url: { type: 'string' }, interval: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`agent-audit status: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const base = (values.url ?? 'http://127.0.0.1:8686').replace(/\/$/, '');
  const intervalMs = parseInterval(values.interval ?? '2s');
  if (intervalMs === undefined) {
    process.stderr.write(`agent-audit status: --interval must look like 500ms, 2s or 0\n`);
    return 2;
  }
  try {
    const first = await scrape(base);
    let second = first;
    if (intervalMs > 0) {
      await new Promise((r) => setTimeout(r, intervalMs));
      second = await scrape(base);
    }
    const report = buildReport(first, second, intervalMs / 1000);
    process.stdout.write(values.json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report, base));
    return 0;
  } catch (err) {
    process.stderr.write(`agent-audit status: cannot read ${base}/metrics: ${(err as Error).message}\n`);
    return 1;
  }
}

function parseInterval(text: string): number | undefined {
  const m = /^([0-9]+)(ms|s)?$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : 1000);
}

async function scrape(base: string): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return parsePrometheusText(await res.text());
}

export interface StatusReport {
  readonly sources: Record<string, { records: number; events: number; bytes: number; eventsPerSec?: number; lag?: number; lagUnit?: string; deadLetters: number }>;
  readonly sinks: Record<string, { delivered: number; eventsPerSec?: number; pending: number; oldestUnconfirmedSec: number; failingSec: number; retries: number; deadLetters: number }>;
  readonly spool: { bytes: number; maxBytes: number; full: boolean };
  readonly deadLettersByReason: Record<string, number>;
}

function sum(samples: Sample[], name: string, match: (l: Readonly<Record<string, string>>) => boolean = () => true): number {
  let total = 0;
  for (const s of samples) if (s.name === name && match(s.labels)) total += s.value;
  return total;
}

function labelValues(samples: Sample[], name: string, label: string): string[] {
  return [...new Set(samples.filter((s) => s.name === name && s.labels[label]).map((s) => s.labels[label]!))].sort();
}

export function buildReport(first: Sample[], second: Sample[], seconds: number): StatusReport {
  const rate = (name: string, match: (l: Readonly<Record<string, string>>) => boolean) =>
    seconds > 0 ? (sum(second, name, match) - sum(first, name, match)) / seconds : undefined;
  const sources: StatusReport['sources'] = {};
  const sourceNames = new Set([...labelValues(second, 'agent_audit_source_records_total', 'source'), ...labelValues(second, 'agent_audit_source_lag', 'source')]);
  for (const name of [...sourceNames].sort()) {
    const is = (l: Readonly<Record<string, string>>) => l.source === name;
    const lagSample = second.find((s) => s.name === 'agent_audit_source_lag' && s.labels.source === name);
    sources[name] = {
      records: sum(second, 'agent_audit_source_records_total', is),
      events: sum(second, 'agent_audit_source_events_total', is),
      bytes: sum(second, 'agent_audit_source_bytes_total', is),
      ...(rate('agent_audit_source_events_total', is) !== undefined ? { eventsPerSec: rate('agent_audit_source_events_total', is)! } : {}),
      ...(lagSample ? { lag: lagSample.value, lagUnit: lagSample.labels.unit ?? '' } : {}),
      deadLetters: sum(second, 'agent_audit_dead_letters_total', (l) => l.source === name && !l.sink),
    };
  }
  const sinks: StatusReport['sinks'] = {};
  const sinkNames = new Set([...labelValues(second, 'agent_audit_sink_events_total', 'sink'), ...labelValues(second, 'agent_audit_sink_pending_events', 'sink')]);
  for (const name of [...sinkNames].sort()) {
    const is = (l: Readonly<Record<string, string>>) => l.sink === name;
    const r = rate('agent_audit_sink_events_total', is);
    sinks[name] = {
      delivered: sum(second, 'agent_audit_sink_events_total', is),
      ...(r !== undefined ? { eventsPerSec: r } : {}),
      pending: sum(second, 'agent_audit_sink_pending_events', is),
      oldestUnconfirmedSec: sum(second, 'agent_audit_sink_oldest_unconfirmed_age_seconds', is),
      failingSec: sum(second, 'agent_audit_sink_failing_seconds', is),
      retries: sum(second, 'agent_audit_sink_retries_total', is),
      deadLetters: sum(second, 'agent_audit_dead_letters_total', is),
    };
  }
  const deadLettersByReason: Record<string, number> = {};
  for (const s of second) {
    if (s.name !== 'agent_audit_dead_letters_total' || s.value === 0) continue;
    const key = `${s.labels.sink ? `sink ${s.labels.sink}` : `source ${s.labels.source ?? '?'}`}: ${s.labels.reason ?? '?'}`;
    deadLettersByReason[key] = (deadLettersByReason[key] ?? 0) + s.value;
  }
  return {
    sources,
    sinks,
    spool: { bytes: sum(second, 'agent_audit_spool_bytes'), maxBytes: sum(second, 'agent_audit_spool_max_bytes'), full: sum(second, 'agent_audit_spool_full') > 0 },
    deadLettersByReason,
  };
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined) return '-';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function renderReport(r: StatusReport, base: string): string {
  const spoolPct = r.spool.maxBytes > 0 ? ` (${((100 * r.spool.bytes) / r.spool.maxBytes).toFixed(1)}% of ${bytes(r.spool.maxBytes)})` : '';
  let out = `agent-audit at ${base}\n\nSpool: ${bytes(r.spool.bytes)}${spoolPct}${r.spool.full ? '  FULL: sources paused' : ''}\n\nSources\n`;
  out += table(
    ['source', 'events/s', 'records', 'events', 'lag', 'dead letters'],
    Object.entries(r.sources).map(([n, s]) => [n, fmt(s.eventsPerSec, 1), fmt(s.records), fmt(s.events), s.lag === undefined ? '-' : s.lagUnit === 'bytes' ? bytes(s.lag) : `${fmt(s.lag)} ${s.lagUnit ?? ''}`.trim(), fmt(s.deadLetters)]),
  );
  out += '\nSinks\n';
  out += table(
    ['sink', 'events/s', 'delivered', 'pending', 'oldest unconfirmed', 'failing for', 'retries', 'dead letters'],
    Object.entries(r.sinks).map(([n, s]) => [n, fmt(s.eventsPerSec, 1), fmt(s.delivered), fmt(s.pending), `${fmt(s.oldestUnconfirmedSec, 1)} s`, s.failingSec > 0 ? `${fmt(s.failingSec)} s` : 'healthy', fmt(s.retries), fmt(s.deadLetters)]),
  );
  const reasons = Object.entries(r.deadLettersByReason);
  if (reasons.length > 0) {
    out += '\nDead letters by reason\n';
    out += table(['where: reason', 'count'], reasons.map(([k, v]) => [k, fmt(v)]));
  }
  return out;
}
