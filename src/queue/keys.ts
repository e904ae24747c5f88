import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';
import type { EncryptionKeys } from './types.ts';

/** `encryption:` block of the spool config. */
export interface EncryptionSettings {
  readonly key_id: string;
  readonly key_file?: string;
  readonly key_env?: string;
  readonly previous_keys?: readonly { readonly key_id: string; readonly key_file?: string; readonly key_env?: string }[];
}

/**
 * A key is 32 bytes given as 64 hex characters or base64 (from a file or an environment
 * variable, never inline in the config). Anything else is a config error at start.
 */
function loadKey(id: string, file: string | undefined, env: string | undefined): Buffer {
  let text: string | undefined;
  let from: string;
  if (file !== undefined) {
    from = `key_file ${file}`;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('encryption_key_unreadable', `spool encryption key '${id}': cannot read ${from}: ${(err as Error).message}`, { keyId: id });
    }
  } else if (env !== undefined) {
    from = `environment variable ${env}`;
    text = process.env[env];
    if (text === undefined) throw new ConfigError('encryption_key_missing', `spool encryption key '${id}': ${from} is not set`, { keyId: id });
  } else {
    throw new ConfigError('encryption_key_source', `spool encryption key '${id}': set key_file or key_env`, { keyId: id });
  }
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new ConfigError('encryption_key_length', `spool encryption key '${id}' from ${from} must be 32 bytes (64 hex characters or base64), got ${key.length} bytes`, { keyId: id });
  return key;
}

export function loadEncryptionKeys(settings: EncryptionSettings | undefined): EncryptionKeys | undefined {
  if (!settings) return undefined;
  return {
    current: { id: settings.key_id, key: loadKey(settings.key_id, settings.key_file, settings.key_env) },
    previous: (settings.previous_keys ?? []).map((k) => ({ id: k.key_id, key: loadKey(k.key_id, k.key_file, k.key_env) })),
  };
}
