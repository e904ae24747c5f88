import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The HEC channel (X-Splunk-Request-Channel) identifies this sink to Splunk's ack service.
// Kept in the sink's state directory so that a restart reuses it instead of leaving an
// abandoned channel per restart behind on the indexers (Splunk limits channels per token).

const FILE = 'hec-channel';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function loadChannel(stateDir: string): string {
  try {
    const id = readFileSync(join(stateDir, FILE), 'utf8').trim();
    if (GUID.test(id)) return id;
  } catch {
    // no channel yet
  }
  return newChannel(stateDir);
}

/** A fresh channel id, written atomically (temp file + rename). */
export function newChannel(stateDir: string): string {
  const id = randomUUID();
  mkdirSync(stateDir, { recursive: true });
  const tmp = join(stateDir, `${FILE}.tmp`);
  writeFileSync(tmp, `${id}\n`);
  renameSync(tmp, join(stateDir, FILE));
  return id;
}
