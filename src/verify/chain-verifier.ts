import type { KeyObject } from 'node:crypto';
import type { AuditEvent } from '../core/audit-event.ts';
import { chainHash } from '../queue/chain.ts';
import { verifyCheckpoint } from '../queue/checkpoint.ts';

// Checks exported events against their chain links, per chain id (streams of several spools
// may interleave). What breaks a chain is told apart from what at-least-once delivery does on
// its own: a redelivered event is an exact copy (same seq, same content, same hash) and is
// counted as a duplicate, not as tampering.

/** Where a document was read. */
export interface Location {
  readonly file: string;
  readonly line: number;
}

export type ProblemKind =
  /** The event's content does not hash to its chain.hash: edited after it was linked. */
  | 'modified'
  /** Two different events claim the same seq: one was inserted or forged. */
  | 'conflict'
  /** prev_hash does not match the hash of the event before: an event was changed (and rehashed), inserted or replaced. */
  | 'broken_link'
  /** Seqs missing between the first and last event of the chain: deleted (or never delivered: rejected, routed elsewhere). */
  | 'gap'
  /** An event comes after one with a higher seq. */
  | 'out_of_order'
  /** Not JSON, no chain link, or a shape no decoder reads. */
  | 'unreadable'
  /** A checkpoint signature that does not verify. */
  | 'bad_signature'
  /** A checkpoint signed with a key not given to verify. */
  | 'unknown_key'
  /** An event where a checkpoint is due carries none (stripped?). */
  | 'missing_checkpoint';

export interface Problem {
  readonly kind: ProblemKind;
  readonly message: string;
  readonly seq?: number;
  readonly at?: Location;
}

interface Entry {
  readonly hash: string;
  readonly prevHash: string;
  readonly at: Location;
  /** Content hashes to chain.hash. */
  readonly valid: boolean;
  signature: 'none' | 'valid' | 'bad' | 'unknown_key';
  every?: number;
}

export interface ChainReport {
  readonly id: string;
  /** Distinct seqs seen. */
  readonly events: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Exact copies (redeliveries): not tampering. */
  readonly duplicates: number;
  readonly duplicateExamples: readonly { readonly seq: number; readonly first: Location; readonly again: Location }[];
  /**
   * Events whose event.id is already in the chain under another seq: a source read the record
   * again after a restart (its checkpoint was behind the spool) and it was linked anew. Also
   * at-least-once, not tampering; each link is intact.
   */
  readonly resubmitted: number;
  readonly resubmittedExamples: readonly { readonly eventId: string; readonly seqs: readonly [number, number] }[];
  readonly problems: readonly Problem[];
  readonly checkpoints: {
    /** Present on events (checked or not). */
    readonly present: number;
    readonly valid: number;
    /** Highest seq with a valid checkpoint. */
    readonly signedThrough?: number;
    /** Events after the last valid checkpoint: only their hash links vouch for them. */
    readonly unsignedTail: number;
    readonly checked: boolean;
  };
}

export interface VerifyReport {
  readonly documents: number;
  readonly chains: readonly ChainReport[];
  /** Documents that could not be checked (not JSON, no chain link, unknown shape). */
  readonly unreadable: readonly Problem[];
  readonly ok: boolean;
}

export interface VerifierOptions {
  /** Public keys by key id; checkpoints are checked when given. */
  readonly publicKeys?: ReadonlyMap<string, KeyObject>;
  /** The stream's order means nothing (read back from a SIEM, or with dead-letter replays): do not report reordering. */
  readonly unordered?: boolean;
}

const DUPLICATE_EXAMPLES = 5;

class ChainState {
  readonly id: string;
  readonly entries = new Map<number, Entry>();
  readonly problems: Problem[] = [];
  duplicates = 0;
  readonly duplicateExamples: { seq: number; first: Location; again: Location }[] = [];
  previous: { seq: number; at: Location } | undefined;
  readonly eventIds = new Map<string, number>();
  resubmitted = 0;
  readonly resubmittedExamples: { eventId: string; seqs: [number, number] }[] = [];

  constructor(id: string) {
    this.id = id;
  }
}

function where(at: Location): string {
  return `${at.file}:${at.line}`;
}

export class ChainVerifier {
  private readonly options: VerifierOptions;
  private readonly chains = new Map<string, ChainState>();
  private readonly unreadable: Problem[] = [];
  private documents = 0;

  constructor(options: VerifierOptions = {}) {
    this.options = options;
  }

  /** A document that could not be turned into a chained event. */
  reject(at: Location, message: string): void {
    this.documents++;
    this.unreadable.push({ kind: 'unreadable', message, at });
  }

  add(event: AuditEvent, at: Location): void {
    this.documents++;
    const c = event.chain;
    if (!c || typeof c.id !== 'string' || !Number.isInteger(c.seq) || typeof c.hash !== 'string' || typeof c.prev_hash !== 'string') {
      this.unreadable.push({ kind: 'unreadable', message: 'event has no (complete) chain link: it was not written through a chained spool, or the link was removed', at });
      return;
    }
    let chain = this.chains.get(c.id);
    if (!chain) this.chains.set(c.id, (chain = new ChainState(c.id)));
    let valid: boolean;
    try {
      valid = chainHash(event) === c.hash;
    } catch {
      valid = false;
    }
    if (!valid) chain.problems.push({ kind: 'modified', seq: c.seq, at, message: `seq ${c.seq}: the event's content does not match its chain.hash (edited after it was written)` });
    const seen = chain.entries.get(c.seq);
    if (seen) {
      if (seen.valid && valid && seen.hash === c.hash) {
        // A redelivery: the same event again. Not tampering, and not a step in the order.
        chain.duplicates++;
        if (chain.duplicateExamples.length < DUPLICATE_EXAMPLES) chain.duplicateExamples.push({ seq: c.seq, first: seen.at, again: at });
        return;
      }
      if (valid && seen.valid) chain.problems.push({ kind: 'conflict', seq: c.seq, at, message: `seq ${c.seq}: a different event with the same seq is at ${where(seen.at)} (one of them was inserted or forged)` });
      // An intact copy of an event seen modified before: links are checked against the intact one.
      else if (valid && !seen.valid) chain.entries.set(c.seq, this.entry(chain, event, at, valid));
      return;
    }
    chain.entries.set(c.seq, this.entry(chain, event, at, valid));
    const id = event.event?.id;
    if (typeof id === 'string') {
      const earlier = chain.eventIds.get(id);
      if (earlier === undefined) chain.eventIds.set(id, c.seq);
      else {
        chain.resubmitted++;
        if (chain.resubmittedExamples.length < DUPLICATE_EXAMPLES) chain.resubmittedExamples.push({ eventId: id, seqs: [earlier, c.seq] });
      }
    }
    if (!this.options.unordered && chain.previous && c.seq < chain.previous.seq) {
      chain.problems.push({ kind: 'out_of_order', seq: c.seq, at, message: `seq ${c.seq} comes after seq ${chain.previous.seq} (${where(chain.previous.at)})` });
    }
    chain.previous = { seq: c.seq, at };
  }

  private entry(chain: ChainState, event: AuditEvent, at: Location, valid: boolean): Entry {
    const c = event.chain!;
    const entry: Entry = { hash: c.hash, prevHash: c.prev_hash, at, valid, signature: 'none' };
    if (c.signature) this.checkSignature(chain, entry, event);
    return entry;
  }

  private checkSignature(chain: ChainState, entry: Entry, event: AuditEvent): void {
    const c = event.chain!;
    const sig = c.signature!;
    entry.every = Number.isInteger(sig.every) && sig.every > 0 ? sig.every : undefined;
    const keys = this.options.publicKeys;
    if (!keys) return;
    const key = keys.get(sig.key_id);
    if (!key) {
      entry.signature = 'unknown_key';
      chain.problems.push({ kind: 'unknown_key', seq: c.seq, at: entry.at, message: `seq ${c.seq}: checkpoint signed with key id ${sig.key_id}, which is not among the public keys given (${[...keys.keys()].join(', ')})` });
      return;
    }
    // The signature vouches for the hash the event claims; 'modified' already covers content that does not match it.
    if (verifyCheckpoint(key, c.id, c.seq, c.hash, sig)) entry.signature = 'valid';
    else {
      entry.signature = 'bad';
      chain.problems.push({ kind: 'bad_signature', seq: c.seq, at: entry.at, message: `seq ${c.seq}: checkpoint signature does not verify with key ${sig.key_id} (forged, or chain id/seq/hash changed)` });
    }
  }

  finish(): VerifyReport {
    const chains: ChainReport[] = [];
    for (const chain of this.chains.values()) chains.push(this.finishChain(chain));
    const ok = this.unreadable.length === 0 && chains.every((c) => c.problems.length === 0);
    return { documents: this.documents, chains, unreadable: this.unreadable, ok };
  }

  private finishChain(chain: ChainState): ChainReport {
    const seqs = [...chain.entries.keys()].sort((a, b) => a - b);
    const problems = chain.problems;
    for (let i = 1; i < seqs.length; i++) {
      const s = seqs[i]!;
      const p = seqs[i - 1]!;
      const cur = chain.entries.get(s)!;
      const prev = chain.entries.get(p)!;
      if (s !== p + 1) {
        const n = s - p - 1;
        problems.push({ kind: 'gap', seq: p + 1, message: `${n === 1 ? `seq ${p + 1} is` : `seq ${p + 1}–${s - 1} (${n} events) are`} missing between seq ${p} (${where(prev.at)}) and seq ${s} (${where(cur.at)})` });
      } else if (cur.prevHash !== prev.hash) {
        problems.push({ kind: 'broken_link', seq: s, at: cur.at, message: `seq ${s}: prev_hash does not match the hash of seq ${p} (${where(prev.at)}): an event between them was changed and rehashed, inserted or replaced` });
      }
    }
    const checkpoints = this.finishCheckpoints(chain, seqs, problems);
    const order: Record<ProblemKind, number> = { modified: 0, conflict: 1, broken_link: 2, gap: 3, out_of_order: 4, bad_signature: 5, unknown_key: 6, missing_checkpoint: 7, unreadable: 8 };
    problems.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || order[a.kind] - order[b.kind]);
    return {
      id: chain.id,
      events: seqs.length,
      firstSeq: seqs[0] ?? 0,
      lastSeq: seqs[seqs.length - 1] ?? 0,
      duplicates: chain.duplicates,
      duplicateExamples: chain.duplicateExamples,
      resubmitted: chain.resubmitted,
      resubmittedExamples: chain.resubmittedExamples,
      problems,
      checkpoints,
    };
  }

  private finishCheckpoints(chain: ChainState, seqs: readonly number[], problems: Problem[]): ChainReport['checkpoints'] {
    let present = 0;
    for (const e of chain.entries.values()) if (e.every !== undefined || e.signature !== 'none') present++;
    const checked = this.options.publicKeys !== undefined;
    if (!checked) return { present, valid: 0, unsignedTail: 0, checked };
    const valid = seqs.filter((s) => chain.entries.get(s)!.signature === 'valid');
    // Where checkpoints are due, from each valid one's interval up to the next valid one (and
    // back to the start of the stream from the first): an event there without one lost it.
    const due = new Set<number>();
    for (let i = 0; i < valid.length; i++) {
      const s = valid[i]!;
      const every = chain.entries.get(s)!.every!;
      const until = valid[i + 1] ?? seqs[seqs.length - 1]! + 1;
      for (let d = s + every; d < until; d += every) due.add(d);
      if (i === 0) for (let d = s - every; d >= seqs[0]!; d -= every) due.add(d);
    }
    for (const d of [...due].sort((a, b) => a - b)) {
      const e = chain.entries.get(d);
      if (e && e.signature === 'none' && e.every === undefined) problems.push({ kind: 'missing_checkpoint', seq: d, at: e.at, message: `seq ${d}: a checkpoint is due here and the event carries none (removed?)` });
    }
    const signedThrough = valid[valid.length - 1];
    const unsignedTail = signedThrough === undefined ? seqs.length : seqs.filter((s) => s > signedThrough).length;
    return { present, valid: valid.length, ...(signedThrough !== undefined ? { signedThrough } : {}), unsignedTail, checked };
  }
}
