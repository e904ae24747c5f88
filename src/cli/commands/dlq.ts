import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../config/load.ts';
import type { AgentAuditConfig } from '../../config/types.ts';
import { errorText } from '../../daemon/daemon.ts';
import { lockDlqCommands, openDlqContext, type DlqContext } from '../dlq/context.ts';
import { letterJson, letterText, listJson, listText, replayText, summarize } from '../dlq/render.ts';
import { replay } from '../dlq/replay.ts';
import { parseTimeArg, REASONS, selectLetters, type LetterFilter } from '../dlq/selection.ts';
import { DEFAULT_CONFIG } from './run.ts';

const COMMON = `  --config FILE      configuration: finds data_dir, the sinks and the encryption keys
                     (default: $AGENT_AUDIT_CONFIG, else the bundled example)
  -h, --help         show this help`;

const FILTERS = `Filters (repeatable ones match any of their values; different filters must all match):
  --queue NAME       'ingest' (records that never became events) or a sink's name
  --sink NAME        same as --queue NAME
  --reason CODE      ${REASONS.join(', ')}
  --source NAME      source the record came from
  --id ID            letter id (as 'dlq show' prints it, e.g. sink-es:3:17) or event id
  --since TIME       letters written at or after TIME (ISO time, or a duration ago: 90m, 2h, 7d)
  --until TIME       letters written at or before TIME`;

const HELP: Record<string, string> = {
  dlq: `Usage: agent-audit dlq <list|show|replay|purge> [options]

Inspects and replays the dead-letter queues under <data_dir>/dlq: 'ingest' holds records that
never became events (invalid JSON, no mapping, schema failure, …) with a redacted copy of the
record; each sink has a queue of events it refused for good, with the sink's reason.

  list     letters per queue and reason: counts, time range, most common messages
  show     print letters (filters, --limit, --json)
  replay   re-enter letters: back into the sink's delivery, or (ingest) normalized again
  purge    remove letters (needs --yes)

Run 'agent-audit dlq <subcommand> --help' for its options. list and show only read, and are
safe while the daemon runs; so are replay and purge (see their help).
`,
  list: `Usage: agent-audit dlq list [--config FILE] [filters] [--json]

Dead letters per queue (ingest, each sink), grouped by reason, with counts, the oldest and
newest letter and the most common messages (numbers folded to N).

${FILTERS}
  --json             machine-readable
${COMMON}
`,
  show: `Usage: agent-audit dlq show [--config FILE] [filters] [--limit N] [--json] [--full]

Prints letters oldest first: id, reason, time, source and position, the event (sink letters),
the reason's message and the redacted copy of the record (ingest letters).

${FILTERS}
  --limit N          at most N letters (default 20; 0 = all)
  --json             one JSON object per line (the stored letter plus its id and queue)
  --full             do not shorten the raw copy
${COMMON}
`,
  replay: `Usage: agent-audit dlq replay [--config FILE] [filters] [--dry-run] [--wait DURATION]

Re-enters letters and removes them from the dead-letter queue:
  - a sink's letter goes back into that sink's delivery, and only that sink's: the event is the
    stored one, with its original chain link (it verifies as the original; in an exported
    stream it appears out of order, see 'agent-audit verify --unordered'). Fix the cause first
    (index mapping, field limit, …); an event refused again returns to the queue.
  - an ingest letter is normalized again with the current configuration and mappings (after a
    mapping fix, say) from the copy the queue kept. That copy is redacted, so the rebuilt event
    keeps [REDACTED] where secrets were, its origin.raw_sha256 / raw_bytes and payload digests
    describe the copy and not the original bytes, and transport metadata (webhook headers) is
    gone; it is marked labels["agent_audit.rebuilt_from"]="dead_letter". Letters whose copy is
    cut or lossy (line_too_long, body_too_large, invalid_utf8, empty_record) cannot be rebuilt
    and stay; so do records that still fail (reported with the new reason).

Safe while the daemon runs: the command never writes the spool (the daemon is its only
writer). It writes batches to <data_dir>/replay (fsynced) and only then marks the letters
removed; the running daemon takes the batches into its spool within a second (a stopped one at
its next start) and deletes each only once it is durable there. A crash anywhere repeats a
step: letters may be replayed twice (same event ids), never lost. A progress bar is shown on a
terminal, progress lines otherwise (stderr).

${FILTERS}
  --dry-run          report what would be replayed and what would stay, change nothing
  --wait DURATION    how long to wait for a running daemon to take the batches (default 60s)
${COMMON}
`,
  purge: `Usage: agent-audit dlq purge [--config FILE] (filters | --all) [--yes]

Removes letters for good. Without --yes it only reports how many letters would go. Needs a
filter or --all, so that a bare 'purge --yes' cannot empty every queue by accident. Safe while
the daemon runs; a letter in the segment the running daemon is writing is hidden at once and
its bytes are reclaimed after the daemon's next start.

${FILTERS}
  --all              every letter of every queue (or of the --queue given)
  --yes              do it
${COMMON}
`,
};

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  queue: { type: 'string', multiple: true },
  sink: { type: 'string', multiple: true },
  reason: { type: 'string', multiple: true },
  source: { type: 'string', multiple: true },
  id: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  full: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  wait: { type: 'string' },
  all: { type: 'boolean' },
  yes: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ALLOWED: Record<string, readonly string[]> = {
  list: ['config', 'queue', 'sink', 'reason', 'source', 'id', 'since', 'until', 'json', 'help'],
  show: ['config', 'queue', 'sink', 'reason', 'source', 'id', 'since', 'until', 'limit', 'json', 'full', 'help'],
  replay: ['config', 'queue', 'sink', 'reason', 'source', 'id', 'since', 'until', 'dry-run', 'wait', 'help'],
  purge: ['config', 'queue', 'sink', 'reason', 'source', 'id', 'since', 'until', 'all', 'yes', 'help'],
};

class UsageError extends Error {}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function filterOf(v: Values): LetterFilter {
  for (const r of v.reason ?? []) if (!(REASONS as readonly string[]).includes(r)) throw new UsageError(`--reason ${r}: not a reason code (${REASONS.join(', ')})`);
  const queues = [...(v.queue ?? []), ...(v.sink ?? [])];
  return {
    ...(queues.length > 0 ? { queues } : {}),
    ...(v.reason ? { reasons: v.reason } : {}),
    ...(v.source ? { sources: v.source } : {}),
    ...(v.id ? { ids: v.id } : {}),
    ...(v.since !== undefined ? { since: parseTimeArg(v.since, 'since') } : {}),
    ...(v.until !== undefined ? { until: parseTimeArg(v.until, 'until') } : {}),
  };
}

function hasFilter(f: LetterFilter): boolean {
  return Object.keys(f).length > 0;
}

function durationMs(text: string): number {
  const m = /^([0-9]+)(ms|s|m)?$/.exec(text);
  if (!m) throw new UsageError(`--wait must look like 500ms, 30s or 5m, got '${text}'`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
}

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(HELP.dlq!);
    return sub === undefined ? 2 : 0;
  }
  if (!ALLOWED[sub]) {
    process.stderr.write(`agent-audit dlq: unknown subcommand '${sub}'\n\n${HELP.dlq}`);
    return 2;
  }
  let values: Values;
  try {
    ({ values } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true }));
    const extra = Object.keys(values).filter((k) => !ALLOWED[sub]!.includes(k));
    if (extra.length > 0) throw new UsageError(`--${extra[0]} does not apply to 'dlq ${sub}'`);
  } catch (err) {
    process.stderr.write(`agent-audit dlq ${sub}: ${errorText(err)}\n\n${HELP[sub]}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP[sub]!);
    return 0;
  }
  let filter: LetterFilter;
  try {
    filter = filterOf(values);
  } catch (err) {
    process.stderr.write(`agent-audit dlq ${sub}: ${errorText(err)}\n`);
    return 2;
  }
  let ctx: DlqContext;
  try {
    const file = values.config ?? process.env.AGENT_AUDIT_CONFIG ?? DEFAULT_CONFIG;
    const config: AgentAuditConfig = loadConfigFile(file);
    ctx = openDlqContext(config);
  } catch (err) {
    process.stderr.write(`agent-audit dlq ${sub}: ${errorText(err)}\n`);
    return 1;
  }
  try {
    switch (sub) {
      case 'list':
        return list(ctx, filter, values);
      case 'show':
        return show(ctx, filter, values);
      case 'replay':
        return await replayCommand(ctx, filter, values);
      default:
        return purge(ctx, filter, values);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`agent-audit dlq ${sub}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`agent-audit dlq ${sub}: ${errorText(err)}\n`);
    return 1;
  }
}

function list(ctx: DlqContext, filter: LetterFilter, v: Values): number {
  const queues = summarize(selectLetters(ctx, filter));
  process.stdout.write(v.json ? `${JSON.stringify(listJson(queues), null, 2)}\n` : listText(queues, ctx.dlqDir));
  return 0;
}

function show(ctx: DlqContext, filter: LetterFilter, v: Values): number {
  const limit = v.limit === undefined ? 20 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit must be a whole number, got '${v.limit}'`);
  let shown = 0;
  let more = false;
  for (const s of selectLetters(ctx, filter)) {
    if (limit > 0 && shown >= limit) {
      more = true;
      break;
    }
    process.stdout.write(v.json ? `${JSON.stringify(letterJson(s))}\n` : `${shown > 0 ? '\n' : ''}${letterText(s, v.full === true)}`);
    shown++;
  }
  if (!v.json) {
    if (shown === 0) process.stdout.write('No dead letters match.\n');
    else if (more) process.stdout.write(`\n(first ${shown} shown; --limit 0 shows all)\n`);
  }
  return 0;
}

async function replayCommand(ctx: DlqContext, filter: LetterFilter, v: Values): Promise<number> {
  const summary = await replay(ctx, filter, { dryRun: v['dry-run'] === true, waitMs: durationMs(v.wait ?? '60s'), progress: process.stderr });
  process.stdout.write(replayText(summary));
  return Object.keys(summary.left).length === 0 ? 0 : 1;
}

function purge(ctx: DlqContext, filter: LetterFilter, v: Values): number {
  const onlyQueues = Object.keys(filter).every((k) => k === 'queues');
  if (!hasFilter(filter) && !v.all) throw new UsageError('give a filter (--queue, --reason, --id, --since, …) or --all');
  if (onlyQueues && hasFilter(filter) && !v.all) throw new UsageError('a whole queue is purged only with --all (e.g. --queue es --all)');
  if (!v.yes) {
    const queues = summarize(selectLetters(ctx, filter));
    const n = queues.reduce((a, q) => a + [...q.reasons.values()].reduce((m, g) => m + g.count, 0), 0);
    process.stdout.write(`${n.toLocaleString('en-US')} dead letters would be removed${n > 0 ? ':' : '.'}\n`);
    for (const q of queues) for (const g of q.reasons.values()) process.stdout.write(`  ${q.queue}  ${g.reason}  ${g.count.toLocaleString('en-US')}\n`);
    if (n > 0) process.stdout.write('Nothing removed: add --yes to remove them.\n');
    return 0;
  }
  const unlock = lockDlqCommands(ctx.dlqDir);
  try {
    const byPartition = new Map<string, { segment: number; seq: number }[]>();
    for (const s of selectLetters(ctx, filter)) {
      let refs = byPartition.get(s.partition);
      if (!refs) byPartition.set(s.partition, (refs = []));
      refs.push({ segment: s.segment, seq: s.seq });
    }
    let n = 0;
    let freed = 0;
    for (const [p, refs] of byPartition) {
      ctx.reader.markRemoved(p, refs);
      freed += ctx.reader.compact(p);
      n += refs.length;
      process.stdout.write(`  ${p === 'ingest' ? 'ingest' : `sink ${p.slice('sink-'.length)}`}: ${refs.length.toLocaleString('en-US')} removed\n`);
    }
    process.stdout.write(`${n.toLocaleString('en-US')} dead letters removed (${freed.toLocaleString('en-US')} bytes freed now; letters in a queue's newest segment are freed after the daemon's next start).\n`);
    return 0;
  } finally {
    unlock();
  }
}
