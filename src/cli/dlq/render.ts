import { describePosition } from '../../core/raw-record.ts';
import type { StoredLetter } from '../../queue/dead-letter-store.ts';
import { partitionLabel, queueOfPartition } from './context.ts';
import type { ReplaySummary } from './replay.ts';

export interface ReasonGroup {
  readonly reason: string;
  count: number;
  oldest: number;
  newest: number;
  /** Messages with numbers folded ("at byte N"), most common first after finish. */
  readonly messages: Map<string, number>;
}

export interface QueueSummary {
  readonly queue: string;
  readonly partition: string;
  readonly reasons: Map<string, ReasonGroup>;
}

function messageShape(message: string): string {
  const folded = message.replace(/[0-9]+/g, 'N');
  return folded.length > 140 ? `${folded.slice(0, 140)}…` : folded;
}

export function summarize(letters: Iterable<StoredLetter>): QueueSummary[] {
  const out = new Map<string, QueueSummary>();
  for (const s of letters) {
    let q = out.get(s.partition);
    if (!q) out.set(s.partition, (q = { queue: queueOfPartition(s.partition), partition: s.partition, reasons: new Map() }));
    const l = s.letter;
    let g = q.reasons.get(l.reason);
    if (!g) q.reasons.set(l.reason, (g = { reason: l.reason, count: 0, oldest: l.time, newest: l.time, messages: new Map() }));
    g.count++;
    g.oldest = Math.min(g.oldest, l.time);
    g.newest = Math.max(g.newest, l.time);
    const m = messageShape(l.message);
    g.messages.set(m, (g.messages.get(m) ?? 0) + 1);
  }
  return [...out.values()];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function topMessages(g: ReasonGroup, n: number): [string, number][] {
  return [...g.messages].sort((a, b) => b[1] - a[1]).slice(0, n);
}

export function listJson(queues: readonly QueueSummary[]): unknown {
  return {
    queues: queues.map((q) => ({
      queue: q.queue,
      partition: q.partition,
      total: [...q.reasons.values()].reduce((n, g) => n + g.count, 0),
      reasons: [...q.reasons.values()].map((g) => ({ reason: g.reason, count: g.count, oldest: iso(g.oldest), newest: iso(g.newest), messages: topMessages(g, 5).map(([message, count]) => ({ message, count })) })),
    })),
  };
}

export function listText(queues: readonly QueueSummary[], dlqDir: string): string {
  if (queues.length === 0) return `No dead letters under ${dlqDir}.\n`;
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const q of queues) {
    let first = true;
    for (const g of [...q.reasons.values()].sort((a, b) => b.count - a.count)) {
      rows.push([first ? partitionLabel(q.partition) : '', g.reason, g.count.toLocaleString('en-US'), iso(g.oldest), iso(g.newest)]);
      first = false;
      for (const [m, c] of topMessages(g, 3)) rows.push(['', `  ${c.toLocaleString('en-US')}× ${m}`, '', '', '']);
    }
  }
  const header = ['queue', 'reason', 'count', 'oldest', 'newest'];
  // Message lines span the table: they are not measured as columns.
  const measured = rows.filter((r) => r[2] !== '');
  const widths = header.map((h, i) => Math.max(h.length, ...measured.map((r) => r[i]!.length)));
  const line = (r: string[]) => (r[2] === '' && r[1]!.startsWith('  ') ? `${''.padEnd(widths[0]!)}  ${r[1]}` : r.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
  const total = queues.reduce((n, q) => n + [...q.reasons.values()].reduce((m, g) => m + g.count, 0), 0);
  notes.push(`${total.toLocaleString('en-US')} dead letters under ${dlqDir}. 'agent-audit dlq show --queue NAME' prints them; 'dlq replay' re-enters them; 'dlq purge' removes them.`);
  return `${[line(header), ...rows.map(line)].join('\n')}\n\n${notes.join('\n')}\n`;
}

export function letterJson(s: StoredLetter): Record<string, unknown> {
  return { id: s.id, queue: queueOfPartition(s.partition), ...s.letter };
}

export function letterText(s: StoredLetter, full: boolean): string {
  const l = s.letter;
  const lines = [`${s.id}  ${l.reason}  ${iso(l.time)}  (${partitionLabel(s.partition)})`];
  lines.push(`  source ${l.source} at ${describePosition(l.position)}${l.format ? `, format ${l.format}` : ''}`);
  if (l.sink !== undefined || l.event) {
    const c = l.event?.chain;
    lines.push(`  event ${l.event?.event.id ?? '?'}${c ? ` (chain ${c.id} seq ${c.seq})` : ''}${l.event ? `, ${l.event.event.action} at ${l.event.event.time}` : ''}`);
  }
  lines.push(`  reason: ${l.message}`);
  if (l.raw !== '') {
    const cut = !full && l.raw.length > 300;
    lines.push(`  raw (redacted copy): ${cut ? `${l.raw.slice(0, 300)}… (${l.raw.length} characters; --full shows all)` : l.raw}`);
  }
  return `${lines.join('\n')}\n`;
}

export function replayText(r: ReplaySummary): string {
  const out: string[] = [];
  const replayed = Object.entries(r.replayed);
  const n = replayed.reduce((a, [, c]) => a + c, 0);
  const verb = r.dryRun ? 'would be re-entered' : 're-entered';
  out.push(`${r.selected.toLocaleString('en-US')} dead letters selected; ${n.toLocaleString('en-US')} ${verb}:`);
  for (const [q, c] of replayed) out.push(`  ${q === 'ingest' ? 'ingest' : `sink ${q}`}: ${c.toLocaleString('en-US')}`);
  if (r.rebuiltEvents > 0) {
    out.push('');
    out.push(`${r.rebuiltEvents.toLocaleString('en-US')} events ${r.dryRun ? 'would be' : 'were'} rebuilt from ingest dead letters. They were normalized again from the`);
    out.push('copy the dead-letter queue kept, which is redacted: secrets stay redacted, origin.raw_sha256,');
    out.push('origin.raw_bytes and payload digests describe that copy (not the original bytes), and transport');
    out.push(`metadata (e.g. webhook headers) was not kept. Each carries labels["agent_audit.rebuilt_from"] = "dead_letter".`);
  }
  const left = Object.entries(r.left);
  if (left.length > 0) {
    out.push('');
    out.push('Left in the dead-letter queue:');
    for (const [why, c] of left.sort((a, b) => b[1] - a[1])) out.push(`  ${c.toLocaleString('en-US')}  ${why}`);
  }
  if (!r.dryRun && r.batches > 0) {
    out.push('');
    if (r.handOver === 'taken') out.push(`The running daemon (pid ${r.daemonPid}) took them into its spool; they are delivered from there.`);
    else if (r.daemonPid !== undefined) out.push(`The running daemon (pid ${r.daemonPid}) has not taken ${r.inbox} yet; it does so within seconds, or at its next start. Nothing is lost meanwhile.`);
    else out.push(`No daemon is running on this data directory: the events wait in ${r.inbox} and enter the spool when the daemon starts.`);
  }
  return `${out.join('\n')}\n`;
}
