import type { AuditEvent } from '../core/audit-event.ts';
import type { DeadLetter } from '../core/dead-letter.ts';
import { SpoolFullError, ShutdownError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { NormalizeResult } from '../core/normalizer.ts';
import type { RawRecord } from '../core/raw-record.ts';
import type { SourceContext, SubmitResult } from '../core/source.ts';
import type { DaemonMetrics } from './metrics.ts';

/** The part of the spool ingest needs: durable append plus the backpressure signal. */
export interface EventLog {
  append(events: readonly AuditEvent[]): Promise<unknown>;
  isFull(): boolean;
  whenWritable(): Promise<void>;
}

/** Durable store for records that never became deliverable events. */
export interface DeadLetterLog {
  append(letters: readonly DeadLetter[]): Promise<unknown>;
}

/** Turns raw records into events; inline or on worker threads. */
export interface NormalizeStage {
  normalize(records: readonly RawRecord[]): Promise<NormalizeResult[]>;
  /** The source's redaction applied to free text (dead letters built by sources themselves). */
  redactText(source: string, text: string): string;
}

/**
 * The pipeline's side of the acknowledgement protocol (DESIGN.md "Delivery invariants"):
 * `submit` resolves only after every event derived from the records is in the spool and every
 * dead letter is in the dead-letter queue, both durable; only then may a source acknowledge.
 */
export class Ingest implements SourceContext {
  private closed = false;
  readonly logger: Logger;
  readonly dataDir: string;
  private readonly stage: NormalizeStage;
  private readonly events: EventLog;
  private readonly dlq: DeadLetterLog;
  private readonly metrics: DaemonMetrics | undefined;
  /** Set while appends to the spool or the dead-letter queue fail (disk full, I/O error). */
  private writeFailure: { readonly since: number; readonly message: string } | undefined;

  constructor(deps: { stage: NormalizeStage; events: EventLog; dlq: DeadLetterLog; logger: Logger; dataDir: string; metrics?: DaemonMetrics }) {
    this.stage = deps.stage;
    this.events = deps.events;
    this.dlq = deps.dlq;
    this.logger = deps.logger;
    this.dataDir = deps.dataDir;
    this.metrics = deps.metrics;
  }

  async submit(records: readonly RawRecord[], options: { wait?: boolean } = {}): Promise<SubmitResult> {
    if (this.closed) throw new ShutdownError();
    if (this.events.isFull()) {
      if (options.wait === false) throw new SpoolFullError();
      await this.events.whenWritable();
      if (this.closed) throw new ShutdownError();
    }
    const results = await this.stage.normalize(records);
    const events: AuditEvent[] = [];
    const letters: DeadLetter[] = [];
    const rejectedRecords: number[] = [];
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      for (const e of r.events) events.push(e);
      if (r.deadLetters.length > 0) {
        rejectedRecords.push(i);
        for (const d of r.deadLetters) letters.push(d);
      }
    }
    try {
      await Promise.all([events.length > 0 ? this.events.append(events) : undefined, letters.length > 0 ? this.dlq.append(letters) : undefined]);
    } catch (err) {
      this.writeFailure ??= { since: Date.now(), message: err instanceof Error ? err.message : String(err) };
      throw err;
    }
    this.writeFailure = undefined;
    this.count(records, events, letters);
    return { events: events.length, deadLetters: letters.length, rejectedRecords };
  }

  async deadLetter(letter: DeadLetter): Promise<void> {
    // Sources build these from raw input (an oversized line); redact here so a source can never
    // put a secret into the dead-letter queue by mistake.
    const safe: DeadLetter = { ...letter, raw: this.stage.redactText(letter.source, letter.raw) };
    await this.dlq.append([safe]);
    this.metrics?.deadLetters.inc({ source: letter.source, sink: '', reason: letter.reason });
  }

  isFull(): boolean {
    return this.events.isFull();
  }

  /** The current streak of failing durable writes, for /readyz; undefined when writes succeed. */
  writeFailing(): { readonly since: number; readonly message: string } | undefined {
    return this.writeFailure;
  }

  whenWritable(): Promise<void> {
    return this.events.whenWritable();
  }

  /** New submits are refused (ShutdownError); submits already past the check complete. */
  close(): void {
    this.closed = true;
  }

  private count(records: readonly RawRecord[], events: readonly AuditEvent[], letters: readonly DeadLetter[]): void {
    const m = this.metrics;
    if (!m) return;
    // Records of one submit come from one source (sources submit their own batches).
    const source = records[0]?.source ?? '';
    let bytes = 0;
    for (const r of records) bytes += r.bytes.length;
    m.recordsIn.inc({ source }, records.length);
    m.bytesIn.inc({ source }, bytes);
    if (events.length > 0) m.eventsIn.inc({ source }, events.length);
    for (const d of letters) m.deadLetters.inc({ source: d.source, sink: '', reason: d.reason });
  }
}
