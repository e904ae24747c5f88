import { stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from '../../core/logger.ts';
import type { RawRecord } from '../../core/raw-record.ts';
import type { Source, SourceContext, SourceStats } from '../../core/source.ts';
import { ShutdownError } from '../../core/errors.ts';
import { flushOpenLines, readBatch, type BatchSettings, type OverlongLine } from './batch-reader.ts';
import { CheckpointStore } from './checkpoints.ts';
import type { FileSourceOptions } from './config.ts';
import { Discovery } from './discovery.ts';
import { anchorOf, fingerprint, readTail, tailMatching } from './fingerprint.ts';
import { HandleBudget } from './handle-budget.ts';
import { lastLineBoundary } from './line-splitter.ts';
import { TailedFile, type InFlight, type ReadPoint } from './tailed-file.ts';

const MAX_INFLIGHT_BATCHES = 4;
const CHECKPOINT_FLUSH_MS = 200;
const CHECKPOINT_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** What one look at a file gave: lines read, nothing to do, or no handle free for it now. */
type StepResult = 'read' | 'idle' | 'blocked';

/**
 * Batches of several files going into one submit (many small files would otherwise cost one
 * spool write each); every file's checkpoint still follows its own batches.
 */
interface Gathered {
  records: RawRecord[];
  batches: { readonly file: TailedFile; readonly entry: InFlight; readonly epoch: number }[];
}

/** The old content of a truncated file, waiting for its rotated copy (copytruncate). */
interface Orphan {
  readonly file: TailedFile;
  readonly since: number;
  /** The old content's size when last seen: what is not read of it is in the copy or lost. */
  readonly knownSize: number;
}

/**
 * Tails files matched by globs. Lines are submitted in batches; a file's checkpoint moves past
 * a batch only when the pipeline says its events are durable (several batches may be in
 * flight, the checkpoint follows them in file order). Rotation by rename, copytruncate,
 * deletion while open and partial last lines are handled; see the file source section of
 * the README for the exact behaviour.
 */
export class FileSource implements Source {
  readonly name: string;
  readonly kind = 'file' as const;
  private readonly options: FileSourceOptions;
  private readonly batch: BatchSettings;
  private readonly logger: Logger;
  private readonly checkpoints: CheckpointStore;
  private readonly discovery: Discovery;
  private readonly handles: HandleBudget;
  private ctx: SourceContext | undefined;
  /** Followed files by dev:ino. */
  private readonly files = new Map<string, TailedFile>();
  /** By fingerprint. */
  private readonly orphans = new Map<string, Orphan>();
  /** Paths already warned about as copies of a followed file. */
  private readonly warnedCopies = new Set<string>();
  private readonly copySeen = new Map<string, number>();
  private inflight = new Set<Promise<void>>();
  private gathered: Gathered = { records: [], batches: [] };
  private running = false;
  private pump: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private stopped!: Promise<void>;
  private signalStop!: () => void;
  private pokes = 0;
  /**
   * Bumped by every poll tick, change notification and re-scan: a caught-up file is looked at
   * again only after one (a pass started by a finished submit skips the idle files).
   */
  private lookGeneration = 0;
  private timers: NodeJS.Timeout[] = [];
  private firstScanDone = false;
  private rescanWanted = true;
  private recordsRead = 0;
  private bytesRead = 0;
  private idlePasses = 0;
  private drainWaiters: (() => void)[] = [];
  private flushing: Promise<void> | undefined;

  constructor(name: string, options: FileSourceOptions, stateDir: string, logger: Logger) {
    this.name = name;
    this.options = options;
    this.batch = { source: name, maxLineBytes: options.maxLineBytes, batchLines: options.batchLines, decode: options.decode, ...(options.format !== undefined ? { format: options.format } : {}) };
    this.logger = logger;
    this.checkpoints = new CheckpointStore(stateDir);
    this.discovery = new Discovery(options.include, options.exclude);
    this.handles = new HandleBudget(options.maxOpenFiles);
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.running = true;
    this.stopped = new Promise<void>((resolve) => {
      this.signalStop = resolve;
    });
    if (this.options.watch) this.discovery.watch((kind, path) => (kind === 'tree' || path === undefined ? this.poke(true) : this.changed(path)), this.logger);
    this.timers.push(
      setInterval(() => {
        this.lookGeneration++;
        this.poke(false);
      }, this.options.pollIntervalMs),
    );
    this.timers.push(setInterval(() => this.poke(true), this.options.rescanIntervalMs));
    this.timers.push(setInterval(() => void this.flushCheckpoints(), CHECKPOINT_FLUSH_MS));
    for (const t of this.timers) t.unref();
    this.pump = this.run().catch((err: unknown) => {
      if (err instanceof ShutdownError) return;
      this.logger.error({ err: (err as Error).message }, 'file source stopped on an error');
    });
  }

  private poke(rescan: boolean): void {
    if (rescan) this.rescanWanted = true;
    this.pokes++;
    this.wakeUp?.();
  }

  /** A followed path changed; if it names a file not followed yet (a rename rotation created it), look for files. */
  private changed(path: string): void {
    this.lookGeneration++;
    stat(path).then(
      (st) => this.poke(!this.files.has(`${st.dev}:${st.ino}`)),
      () => this.poke(true),
    );
  }

  /** `p`, or nothing once the source is stopping (a wait on the spool must not block stop). */
  private until(p: Promise<unknown>): Promise<unknown> {
    return Promise.race([p, this.stopped]);
  }

  private async run(): Promise<void> {
    while (this.running) {
      const pokesBefore = this.pokes;
      if (this.rescanWanted) {
        this.rescanWanted = false;
        try {
          await this.rescan();
        } catch (err) {
          // An unreadable directory must not stop the files already followed; the next re-scan retries.
          this.logger.warn({ err: (err as Error).message }, 'cannot expand the include globs; retrying at the next re-scan');
        }
      }
      let progressed = false;
      let blocked = false;
      for (const file of [...this.files.values()]) {
        if (file.caughtUp && file.lookedAt === this.lookGeneration) continue;
        await this.roomForSubmit();
        if (this.gathered.records.length >= this.options.batchLines) {
          this.submitGathered();
          await this.roomForSubmit();
        }
        if (!this.running) break;
        if (this.files.get(file.key) !== file) continue;
        const r = await this.step(file);
        if (r === 'read') progressed = true;
        else if (r === 'blocked') blocked = true;
      }
      if (this.gathered.batches.length > 0) await this.roomForSubmit();
      if (this.running) this.submitGathered();
      this.expireOrphans();
      if (progressed) {
        this.idlePasses = 0;
        continue;
      }
      // A pass that read nothing: drained once the submits in flight are durable.
      if (!blocked && this.inflight.size === 0 && this.orphans.size === 0 && this.firstScanDone) {
        this.idlePasses++;
        if (this.idlePasses >= 2) this.resolveDrained();
      }
      if (this.pokes !== pokesBefore || !this.running) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
      this.wakeUp = undefined;
    }
  }

  /**
   * Waits until another submit may start: the spool has room and fewer than
   * MAX_INFLIGHT_BATCHES submits are in flight (what bounds the lines held in memory).
   */
  private async roomForSubmit(): Promise<void> {
    if (this.ctx!.isFull()) await this.until(this.ctx!.whenWritable());
    while (this.running && this.inflight.size >= MAX_INFLIGHT_BATCHES) await this.until(Promise.race(this.inflight));
  }

  private resolveDrained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Finds matching files; new ones are identified (and positioned) when they are first read. */
  private async rescan(): Promise<void> {
    const seen = new Set<string>();
    for (const path of this.discovery.scan()) {
      let st;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const key = `${st.dev}:${st.ino}`;
      seen.add(key);
      const known = this.files.get(key);
      if (known) {
        if (known.path !== path) this.logger.info({ from: known.path, to: path }, 'file renamed; still following it');
        known.path = path;
        known.unmatchedSince = undefined;
        continue;
      }
      if (this.options.ignoreOlderThanMs > 0 && Date.now() - st.mtimeMs > this.options.ignoreOlderThanMs) continue;
      const file = new TailedFile({ path, dev: st.dev, ino: st.ino, size: st.size });
      if (!this.firstScanDone && this.options.startAt === 'end') file.startAtEndOf = st.size;
      this.files.set(key, file);
      // Opened at once when a handle is free: an open handle keeps the file readable when it
      // is renamed away from the globs (rotation) or deleted before its first read.
      if (await this.handles.acquire(file)) {
        const opened = await file.handle!.stat();
        if (opened.dev !== file.dev || opened.ino !== file.ino) await this.forget(file, 'replaced while being opened');
      }
    }
    const now = Date.now();
    for (const f of this.files.values()) if (!seen.has(f.key)) f.unmatchedSince ??= now;
    this.firstScanDone = true;
    this.lookGeneration++;
    const live = new Set<string>();
    for (const f of this.files.values()) if (f.fingerprint !== undefined) live.add(f.fingerprint);
    for (const fp of this.orphans.keys()) live.add(fp);
    this.checkpoints.prune(CHECKPOINT_RETENTION_MS, live);
  }

  /** One look at a file: identify it, notice rotation, read and submit its next batch. */
  private async step(file: TailedFile): Promise<StepResult> {
    file.lookedAt = this.lookGeneration;
    try {
      if (!file.handle) {
        const r = await this.reopen(file);
        if (r !== undefined) return r;
      }
      const handle = file.handle!;
      const st = await handle.stat();
      if (st.size !== file.size) file.lastActivity = Date.now();
      if (file.fingerprint === undefined) {
        const r = await this.identify(file, handle, st.size);
        if (r !== undefined) return r;
      }
      if (st.size < file.readOffset || (st.size > file.readOffset && !(await this.sameContent(file, handle)))) {
        this.rewritten(file);
        return 'read';
      }
      file.size = st.size;
      const gone = st.nlink === 0 || file.unmatchedSince !== undefined;
      const quietFor = Date.now() - Math.max(file.lastActivity, file.unmatchedSince ?? 0);
      if (st.size === file.readOffset) {
        file.caughtUp = true;
        if (!gone || quietFor <= this.options.rotateWaitMs) return 'idle';
        if (file.cri?.hasOpen) {
          const last = flushOpenLines(file, this.batch);
          this.gather(file, last.records, last.boundary!);
          return 'read';
        }
        if (file.inflight.length === 0) await this.forget(file, st.nlink === 0 ? 'deleted and read to its end' : 'rotated away and read to its end');
        return 'idle';
      }
      // A gone file's unterminated last line will not get its newline any more: it is read as is.
      const room = this.options.batchLines - this.gathered.records.length;
      const batch = await readBatch(file, handle, st.size, { ...this.batch, batchLines: room }, gone && quietFor > this.options.rotateWaitMs);
      if (!batch.progressed) {
        file.caughtUp = true;
        return 'idle';
      }
      // Read to its end: it may give its handle to another file right away.
      file.caughtUp = file.readOffset === st.size && !file.skipping;
      this.recordsRead += batch.records.length;
      this.bytesRead += batch.bytes;
      if (batch.boundary) this.gather(file, batch.records, batch.boundary);
      for (const o of batch.overlong) await this.deadLetterOverlong(file, o);
      return 'read';
    } catch (err) {
      // One unreadable file (EIO, a handle gone bad) must not stop the others; it is retried.
      this.logger.warn({ path: file.path, err: (err as Error).message }, 'cannot read file; retrying');
      await this.handles.release(file);
      return 'idle';
    }
  }

  private async deadLetterOverlong(file: TailedFile, o: OverlongLine): Promise<void> {
    const where = `${file.path}${o.line !== undefined ? `:${o.line}` : ''} byte ${o.offset}`;
    try {
      await this.ctx!.deadLetter({
        reason: 'line_too_long',
        message: `line longer than max_line_bytes (${this.options.maxLineBytes} bytes) at ${where}: skipped up to its end`,
        source: this.name,
        position: { kind: 'file', path: file.path, fileId: file.fingerprint!, offset: o.offset, ...(o.line !== undefined ? { line: o.line } : {}) },
        raw: o.prefix.toString('utf8'),
        time: Date.now(),
      });
    } catch (err) {
      // Not in the dead-letter queue: the line must not be skipped; read again from the checkpoint.
      file.rewind();
      throw err;
    }
    this.logger.warn({ path: file.path, offset: o.offset, line: o.line }, 'line over max_line_bytes sent to the dead-letter queue');
  }

  /**
   * A file without a handle (it gave it up, or was just found): takes one if the path still
   * names it and there is something to read. Undefined when the file now has its handle.
   */
  private async reopen(file: TailedFile): Promise<StepResult | undefined> {
    let st;
    try {
      st = await stat(file.path);
    } catch {
      await this.forget(file, 'gone while it held no open handle');
      return 'idle';
    }
    if (st.dev !== file.dev || st.ino !== file.ino) {
      await this.forget(file, 'its path names another file now');
      this.rescanWanted = true;
      return 'idle';
    }
    if (file.fingerprint !== undefined) {
      if (st.size !== file.size) file.lastActivity = Date.now();
      file.size = st.size;
      if (st.size === file.readOffset) {
        file.caughtUp = true;
        return 'idle';
      }
    }
    if (!(await this.handles.acquire(file))) return 'blocked';
    const opened = await file.handle!.stat();
    if (opened.dev !== file.dev || opened.ino !== file.ino) {
      // Renamed or replaced between the look-up and the open: discovery sorts it out.
      await this.forget(file, 'replaced while being opened');
      this.rescanWanted = true;
      return 'idle';
    }
    return undefined;
  }

  /**
   * First complete line seen: the file gets its identity and where to start — the old content
   * of a truncated file (this is its rotated copy), its checkpoint, start_at, or the start.
   * Undefined when the file is now ready to be read.
   */
  private async identify(file: TailedFile, handle: FileHandle, size: number): Promise<StepResult | undefined> {
    const fp = await fingerprint(handle);
    if (fp === undefined) {
      file.caughtUp = true;
      return 'idle';
    }
    const orphan = this.orphans.get(fp);
    // The inode the old content was cut in holds new content (which may start with the same line).
    if (orphan && orphan.file.key !== file.key) {
      if (size > orphan.file.readOffset) {
        this.adoptCopy(orphan, file, size);
        return 'read';
      }
      // The copy was made before the lines read last: it holds nothing unread.
      this.orphans.delete(fp);
      this.reportOrphanLoss(orphan, orphan.file.readOffset, `rotated copy ${file.path} holds nothing unread`);
    }
    const original = [...this.files.values()].find((f) => f !== file && f.fingerprint === fp);
    if (original) {
      this.ignoreCopy(file, original);
      await this.forget(file, 'a copy of a followed file');
      return 'idle';
    }
    file.fingerprint = fp;
    const cp = this.checkpoints.get(fp);
    if (cp && cp.offset >= size) {
      // Read further than this file is long: a rotated copy made before the last lines read
      // (copytruncate), all of it read already.
      file.startAt({ offset: size, line: undefined, tail: await readTail(handle, size) });
      if (cp.offset > size) this.logger.info({ path: file.path, checkpointOf: cp.path, offset: cp.offset, size }, 'file starts like a file read up to a later byte (its rotated copy): nothing to read in it');
    } else if (cp) {
      const tail = cp.offset === 0 ? Buffer.alloc(0) : cp.anchor ? await tailMatching(handle, cp.offset, cp.anchor) : await readTail(handle, cp.offset);
      if (tail !== undefined) {
        file.startAt({ offset: cp.offset, line: cp.line, tail });
        if (cp.dev !== file.dev || cp.ino !== file.ino || cp.path !== file.path) this.logger.info({ path: file.path, was: cp.path, offset: cp.offset }, 'resuming a known file (renamed or copied) at its checkpoint');
      } else {
        // Same first line, other content (a reused inode, a new file with a fixed header):
        // reading it from the start may repeat lines, skipping could lose them.
        this.logger.warn({ path: file.path, checkpointOf: cp.path, offset: cp.offset, size }, 'file starts like a known file but its content differs at the checkpoint: reading it from the start');
      }
    } else if (file.startAtEndOf !== undefined) {
      const offset = await lastLineBoundary(handle, Math.min(file.startAtEndOf, size));
      file.startAt({ offset, line: undefined, tail: await readTail(handle, offset) });
      // Checkpointed at once, so lines written while agent-audit is down are read after a restart.
      this.saveCheckpoint(file);
    }
    file.startAtEndOf = undefined;
    return undefined;
  }

  /** Whether the file still holds the content read so far (a truncation or rewrite changes it). */
  private async sameContent(file: TailedFile, handle: FileHandle): Promise<boolean> {
    if (file.readOffset === 0) return true;
    if ((await fingerprint(handle)) !== file.fingerprint) return false;
    const tail = await readTail(handle, file.readOffset, file.tail.length);
    return tail.equals(file.tail);
  }

  /**
   * The inode holds new content (copytruncate, or the file was rewritten): the new content is
   * read from its start; the old content's reading state waits for its rotated copy, which
   * keeps its fingerprint under another inode.
   */
  private rewritten(file: TailedFile): void {
    const fresh = new TailedFile({ path: file.path, dev: file.dev, ino: file.ino, size: 0 });
    this.handles.transfer(file, fresh);
    this.files.set(fresh.key, fresh);
    this.logger.warn({ path: file.path, readOffset: file.readOffset, durableOffset: file.durableOffset }, 'file was truncated or rewritten (copytruncate?): reading its new content from the start; the rest of the old content is read from its rotated copy if the globs match one');
    if (file.fingerprint !== undefined) {
      const previous = this.orphans.get(file.fingerprint);
      if (previous) this.reportOrphanLoss(previous, previous.file.readOffset, 'truncated again before its copy was found');
      this.orphans.set(file.fingerprint, { file, since: Date.now(), knownSize: file.size });
    }
    this.rescanWanted = true;
  }

  /** The rotated copy of a truncated file's old content: reading continues in it where it stopped. */
  private adoptCopy(orphan: Orphan, copy: TailedFile, size: number): void {
    const old = orphan.file;
    this.orphans.delete(old.fingerprint!);
    this.files.delete(copy.key);
    this.reportOrphanLoss(orphan, size, `rotated copy ${copy.path} found`);
    old.path = copy.path;
    old.dev = copy.dev;
    old.ino = copy.ino;
    old.size = size;
    old.unmatchedSince = undefined;
    old.caughtUp = false;
    this.handles.transfer(copy, old);
    this.copySeen.delete(copy.path);
    this.files.set(old.key, old);
    this.logger.info({ path: old.path, offset: old.readOffset }, 'found the rotated copy of a truncated file: reading the rest of its old content from it');
    if (old.inflight.length === 0) this.saveCheckpoint(old);
  }

  /** A file with the first line of a followed file is its copy (copytruncate's, until the original is cut). */
  private ignoreCopy(copy: TailedFile, original: TailedFile): void {
    const first = this.copySeen.get(copy.path) ?? Date.now();
    this.copySeen.set(copy.path, first);
    if (Date.now() - first > this.options.rotateWaitMs && !this.warnedCopies.has(copy.path)) {
      this.warnedCopies.add(copy.path);
      this.logger.warn({ path: copy.path, original: original.path }, 'file has the same first line as a followed file and is taken for its copy: it is not read while that file is followed');
    }
  }

  /** Old content whose copy did not appear within rotate_wait is given up, saying what was not read. */
  private expireOrphans(): void {
    const now = Date.now();
    for (const [fp, o] of this.orphans) {
      if (now - o.since <= this.options.rotateWaitMs || o.file.inflight.length > 0) continue;
      this.orphans.delete(fp);
      this.reportOrphanLoss(o, o.file.readOffset, 'no rotated copy matched the globs');
    }
  }

  /**
   * Says what of a truncated file's old content was not read: what agent-audit saw of it
   * beyond `readable` (what was read, or what its copy holds). Bytes written after the last
   * look and before the truncation were never seen: copytruncate's inherent race.
   */
  private reportOrphanLoss(o: Orphan, readable: number, why: string): void {
    const f = o.file;
    const seenTo = Math.max(o.knownSize, f.readOffset);
    if (seenTo > readable) this.logger.warn({ path: f.path, from: readable, to: seenTo, bytes: seenTo - readable, why }, 'truncated file: bytes of its old content that were neither read before the truncation nor are in a rotated copy are lost');
    else this.logger.info({ path: f.path, offset: f.readOffset, why }, 'truncated file: every byte of its old content seen before the truncation is read or in its rotated copy');
  }

  /** A file's batch joins the next submit; its checkpoint moves past it once that is durable. */
  private gather(file: TailedFile, records: readonly RawRecord[], at: ReadPoint): void {
    const entry: InFlight = { end: at.offset, line: at.line, tail: at.tail, done: false };
    file.inflight.push(entry);
    for (const r of records) this.gathered.records.push(r);
    this.gathered.batches.push({ file, entry, epoch: file.epoch });
  }

  /** Submits the gathered batches; when durable, each file's checkpoint follows in file order. */
  private submitGathered(): void {
    const { records, batches } = this.gathered;
    if (batches.length === 0) return;
    this.gathered = { records: [], batches: [] };
    const done = records.length > 0 ? this.ctx!.submit(records) : Promise.resolve();
    const p = done.then(
      () => {
        for (const b of batches) {
          b.entry.done = true;
          if (b.file.epoch === b.epoch && b.file.advance()) this.saveCheckpoint(b.file);
        }
      },
      (err: unknown) => {
        // Not durable: read the batches again (the checkpoints never passed them).
        if (!(err instanceof ShutdownError)) this.logger.warn({ err: (err as Error).message }, 'submit failed; re-reading from the last durable lines');
        for (const b of batches) if (b.file.epoch === b.epoch) b.file.rewind();
      },
    );
    const tracked = p.finally(() => {
      this.inflight.delete(tracked);
      this.poke(false);
    });
    this.inflight.add(tracked);
  }

  private saveCheckpoint(file: TailedFile): void {
    const point: ReadPoint = { offset: file.durableOffset, line: file.durableLine, tail: file.durableTail };
    this.checkpoints.set({
      fingerprint: file.fingerprint!,
      path: file.path,
      dev: file.dev,
      ino: file.ino,
      offset: point.offset,
      ...(point.line !== undefined ? { line: point.line } : {}),
      ...(point.offset > 0 ? { anchor: anchorOf(point.tail) } : {}),
      updatedAt: Date.now(),
    });
  }

  private async forget(file: TailedFile, why: string): Promise<void> {
    this.logger.debug({ path: file.path, why }, 'no longer following file');
    await this.handles.release(file);
    if (this.files.get(file.key) === file) this.files.delete(file.key);
  }

  private async flushCheckpoints(): Promise<void> {
    this.flushing ??= this.checkpoints
      .flush()
      .catch((err: unknown) => this.logger.error({ err: (err as Error).message }, 'cannot write checkpoints'))
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  drained(): Promise<void> {
    this.idlePasses = 0;
    this.lookGeneration++;
    this.poke(true);
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve)).then(() => this.checkpoints.flush());
  }

  stats(): SourceStats {
    let lag = 0;
    for (const f of this.files.values()) lag += Math.max(0, f.size - f.readOffset);
    for (const o of this.orphans.values()) lag += Math.max(0, o.knownSize - o.file.readOffset);
    return { recordsRead: this.recordsRead, bytesRead: this.bytesRead, lag };
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.signalStop();
    this.wakeUp?.();
    for (const t of this.timers) clearInterval(t);
    await this.pump;
    // Submits in flight become durable and are checkpointed; those waiting for room in a full
    // spool would wait forever: they are abandoned (not checkpointed, so read again next time).
    while (this.inflight.size > 0 && !this.ctx!.isFull()) await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => setTimeout(r, 50))]);
    await this.discovery.close();
    await this.checkpoints.flush();
    for (const f of this.files.values()) await this.handles.release(f);
    this.resolveDrained();
  }
}
