import { join } from 'node:path';
import type { AgentAuditConfig } from '../config/types.ts';
import type { Logger } from '../core/logger.ts';
import { DeadLetterStore } from '../queue/dead-letter-store.ts';
import { ReplayInbox, inboxDir } from '../queue/replay-inbox.ts';
import { Spool, spoolOptionsFromConfig } from '../queue/spool.ts';
import type { DeadLetterStoreLike } from '../queue/types.ts';
import { acquireDataDirLock } from './data-dir-lock.ts';

/** The daemon's on-disk state: the spool and the dead-letter queues. */
export interface Storage {
  readonly spool: Spool;
  readonly deadLetters: {
    /** Records that never became events (bad input). */
    readonly ingest: DeadLetterStoreLike;
    /** Events a sink refused for good. */
    forSink(name: string): DeadLetterStoreLike;
  };
  /**
   * Starts taking `agent-audit dlq replay` batches into the spool (once sinks have their
   * cursors, so a replay for a new sink is not before its start). `sinks`: the configured ones.
   * Resolves when the batches waiting at start are in the spool.
   */
  startReplays(sinks: () => readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export async function openStorage(config: AgentAuditConfig, logger: Logger): Promise<Storage> {
  const options = spoolOptionsFromConfig(config.spool, config.dataDir, logger.child({ component: 'spool' }));
  const lock = acquireDataDirLock(config.dataDir);
  let spool: Spool;
  let dlq: DeadLetterStore;
  try {
    const opened = await Spool.open(options);
    spool = opened.spool;
    const recovery = opened.recovery;
    const log = recovery.truncated.length > 0 || recovery.skipped.length > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
    log({ segments: recovery.segments, events: recovery.events, truncated: recovery.truncated, skipped: recovery.skipped }, 'spool recovered');
    dlq = await DeadLetterStore.open({ dir: join(config.dataDir, 'dlq'), encryption: options.encryption, fsync: options.fsync, logger });
  } catch (err) {
    lock.release();
    throw err;
  }
  const forSink = (name: string) => dlq.partition(`sink-${name}`);
  let replays: ReplayInbox | undefined;
  return {
    spool,
    deadLetters: { ingest: dlq.partition('ingest'), forSink },
    startReplays(sinks) {
      replays ??= new ReplayInbox({ dir: inboxDir(config.dataDir), codec: spool.codec, spool, sinks, deadLettersFor: forSink, ingestDeadLetters: dlq.partition('ingest'), logger: logger.child({ component: 'dlq-replay' }) });
      return replays.start();
    },
    async close() {
      await replays?.stop();
      await spool.close();
      await dlq.close();
      lock.release();
    },
  };
}
