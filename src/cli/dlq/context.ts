import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentAuditConfig } from '../../config/types.ts';
import { AgentAuditError } from '../../core/errors.ts';
import { loadEncryptionKeys, type EncryptionSettings } from '../../queue/keys.ts';
import { DeadLetterReader } from '../../queue/dead-letter-store.ts';
import type { EncryptionKeys } from '../../queue/types.ts';

/** What every `dlq` subcommand works on: the config's data directory and keys. */
export interface DlqContext {
  readonly config: AgentAuditConfig;
  readonly dataDir: string;
  readonly dlqDir: string;
  readonly encryption: EncryptionKeys | undefined;
  readonly reader: DeadLetterReader;
}

export function openDlqContext(config: AgentAuditConfig): DlqContext {
  const encryption = loadEncryptionKeys(config.spool.encryption as EncryptionSettings | undefined);
  const dlqDir = join(config.dataDir, 'dlq');
  return { config, dataDir: config.dataDir, dlqDir, encryption, reader: new DeadLetterReader(dlqDir, encryption) };
}

/** Queue name users type (`ingest`, or a sink's name) ↔ partition directory. */
export function queueOfPartition(partition: string): string {
  return partition.startsWith('sink-') ? partition.slice('sink-'.length) : partition;
}

export function partitionLabel(partition: string): string {
  return partition === 'ingest' ? 'ingest' : `sink ${queueOfPartition(partition)}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Replay and purge change the dead-letter files: one such command at a time per data directory
 * (a second one would mark or compact the same letters). The daemon does not take this lock: it
 * only appends to the newest segments, which these commands never rewrite.
 */
export function lockDlqCommands(dlqDir: string): () => void {
  mkdirSync(dlqDir, { recursive: true });
  const file = join(dlqDir, 'command.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
        throw new AgentAuditError('dlq_busy', `another 'agent-audit dlq replay/purge' (pid ${pid}) is working on ${dlqDir}; wait for it to finish`, { pid });
      }
      // Left by a command that died: take it over.
      unlinkSync(file);
    }
  }
  throw new AgentAuditError('dlq_busy', `cannot take ${file}`);
}
