import type { AuditEvent } from '../../core/audit-event.ts';
import type { DeadLetter, DeadLetterReason } from '../../core/dead-letter.ts';
import type { RawRecord } from '../../core/raw-record.ts';
import { InlineNormalizeStage } from '../../daemon/normalize-stage.ts';
import { lockHolder } from '../../daemon/data-dir-lock.ts';
import type { LetterRef, StoredLetter } from '../../queue/dead-letter-store.ts';
import { RecordCodec } from '../../queue/record-codec.ts';
import { inboxDir, pendingBatches, writeBatch, type InboxEntry } from '../../queue/replay-inbox.ts';
import { Progress, type ProgressStream } from '../progress.ts';
import { lockDlqCommands, queueOfPartition, type DlqContext } from './context.ts';
import { selectLetters, type LetterFilter } from './selection.ts';

// `dlq replay`: letters go back where they failed. A sink's letter re-enters that sink's
// delivery (only that sink; the event keeps its chain link, so it verifies as the original).
// An ingest letter is a record that never became an event: it is normalized again with the
// current configuration and mappings, from the copy the queue kept — which is redacted, so
// the result is honest about being a rebuild (see REBUILT_LABEL), and a copy that was cut or
// lossy cannot be rebuilt at all.

/** Ingest reasons whose stored raw copy is the whole record (redacted) and worth normalizing again. */
const REBUILDABLE: ReadonlySet<DeadLetterReason> = new Set(['invalid_json', 'no_mapping', 'mapping_error', 'schema_invalid']);

const WHY_NOT: Partial<Record<DeadLetterReason, string>> = {
  invalid_utf8: 'the record was not valid UTF-8 and only a lossy text copy was kept',
  empty_record: 'the record was empty',
  line_too_long: 'only the first bytes of the over-long line were kept',
  body_too_large: 'only the first bytes of the over-long body were kept',
};

/** Set on every event rebuilt from a dead letter's redacted copy. */
export const REBUILT_LABEL = 'agent_audit.rebuilt_from';

const BATCH_ENTRIES = 500;

export interface ReplayOptions {
  readonly dryRun: boolean;
  /** How long to wait for a running daemon to take the batches into its spool. */
  readonly waitMs: number;
  readonly progress: ProgressStream;
}

export interface ReplaySummary {
  readonly selected: number;
  /** Letters re-entered (removed from the dead-letter queue), per queue. */
  readonly replayed: Record<string, number>;
  /** Events rebuilt from ingest letters. */
  readonly rebuiltEvents: number;
  /** Letters left in the queue, by why. */
  readonly left: Record<string, number>;
  readonly batches: number;
  /** 'taken': a running daemon put them in its spool; 'queued': waiting for the daemon; 'none'. */
  readonly handOver: 'taken' | 'queued' | 'none';
  readonly daemonPid?: number;
  readonly inbox: string;
  readonly dryRun: boolean;
}

type Verdict = { readonly entries: InboxEntry[]; readonly events: number } | { readonly left: string };

class Rebuilder {
  private readonly ctx: DlqContext;
  private stage: InlineNormalizeStage | undefined;
  private readonly configured = new Set<string>();

  constructor(ctx: DlqContext) {
    this.ctx = ctx;
  }

  /** Sink letters are replayed as they are; ingest letters are normalized again when their copy allows it. */
  async verdict(s: StoredLetter): Promise<Verdict> {
    const l = s.letter;
    if (s.partition !== 'ingest') {
      const sink = queueOfPartition(s.partition);
      if (!this.ctx.config.sinks[sink]) return { left: `sink '${sink}' is not in the configuration` };
      if (!l.event) return { left: 'the letter holds no event' };
      return { entries: [{ kind: 'sink', sink, letter: l }], events: 0 };
    }
    if (!REBUILDABLE.has(l.reason)) return { left: `${l.reason}: not rebuildable (${WHY_NOT[l.reason] ?? 'no complete copy was kept'})` };
    if (l.raw === '') return { left: `${l.reason}: no copy of the record was kept` };
    if (l.raw.endsWith('…[truncated]')) return { left: `${l.reason}: only a truncated copy of the record was kept` };
    if (!this.ctx.config.sources[l.source]) return { left: `source '${l.source}' is not in the configuration` };
    const [r] = await this.normalizer(l.source).normalize([this.record(l)]);
    if (r!.events.length === 0) {
      const d = r!.deadLetters[0];
      return { left: d ? `still fails: ${d.reason}` : 'the record yields no event' };
    }
    const entries: InboxEntry[] = r!.events.map((e) => ({ kind: 'event', event: labelled(e) }));
    // Items of the record that still fail go back to the ingest queue with their new reason.
    for (const d of r!.deadLetters) entries.push({ kind: 'dead_letter', letter: d });
    return { entries, events: r!.events.length };
  }

  private record(l: DeadLetter): RawRecord {
    const type = this.ctx.config.sources[l.source]!.type;
    return { source: l.source, input: type, position: l.position, bytes: Buffer.from(l.raw, 'utf8'), receivedAt: l.time };
  }

  private normalizer(source: string): InlineNormalizeStage {
    this.stage ??= new InlineNormalizeStage(this.ctx.config.mappingDirs);
    if (!this.configured.has(source)) {
      this.stage.configure(source, this.ctx.config.sources[source]!);
      this.configured.add(source);
    }
    return this.stage;
  }
}

function labelled(e: AuditEvent): AuditEvent {
  return { ...e, labels: { ...e.labels, [REBUILT_LABEL]: 'dead_letter' } };
}

export async function replay(ctx: DlqContext, filter: LetterFilter, options: ReplayOptions): Promise<ReplaySummary> {
  const inbox = inboxDir(ctx.dataDir);
  const unlock = options.dryRun ? () => undefined : lockDlqCommands(ctx.dlqDir);
  try {
    let total = 0;
    for (const _ of selectLetters(ctx, filter)) total++;
    const rebuilder = new Rebuilder(ctx);
    const codec = new RecordCodec(ctx.encryption);
    const replayed: Record<string, number> = {};
    const left: Record<string, number> = {};
    let rebuiltEvents = 0;
    const written: string[] = [];
    const touched = new Set<string>();
    let entries: InboxEntry[] = [];
    let refs = new Map<string, LetterRef[]>();
    const progress = total > 0 ? new Progress(options.dryRun ? 'checking' : 'replaying', total, options.progress) : undefined;

    // The batch is durable in the inbox before its letters are marked removed: a crash in
    // between replays them twice (same event ids), never zero times.
    const flush = async () => {
      if (!options.dryRun) {
        if (entries.length > 0) written.push(await writeBatch(inbox, codec, entries));
        for (const [p, r] of refs) {
          ctx.reader.markRemoved(p, r);
          touched.add(p);
        }
      }
      entries = [];
      refs = new Map();
    };

    for (const s of selectLetters(ctx, filter)) {
      const v = await rebuilder.verdict(s);
      if ('left' in v) left[v.left] = (left[v.left] ?? 0) + 1;
      else {
        entries.push(...v.entries);
        rebuiltEvents += v.events;
        const q = queueOfPartition(s.partition);
        replayed[q] = (replayed[q] ?? 0) + 1;
        let r = refs.get(s.partition);
        if (!r) refs.set(s.partition, (r = []));
        r.push({ segment: s.segment, seq: s.seq });
      }
      progress?.tick();
      if (entries.length >= BATCH_ENTRIES) await flush();
    }
    await flush();
    progress?.finish();
    for (const p of touched) ctx.reader.compact(p);

    let handOver: ReplaySummary['handOver'] = written.length === 0 ? 'none' : 'queued';
    const holder = lockHolder(ctx.dataDir);
    if (written.length > 0 && holder) {
      const taken = new Progress('into the spool (batches)', written.length, options.progress);
      const deadline = Date.now() + options.waitMs;
      for (;;) {
        const waiting = new Set(pendingBatches(inbox));
        const left = written.filter((n) => waiting.has(n)).length;
        taken.update(written.length - left);
        if (left === 0) {
          handOver = 'taken';
          taken.finish();
          break;
        }
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return {
      selected: total,
      replayed,
      rebuiltEvents,
      left,
      batches: written.length,
      handOver,
      ...(holder ? { daemonPid: holder.pid } : {}),
      inbox,
      dryRun: options.dryRun,
    };
  } finally {
    unlock();
  }
}
