import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.ts';

// Signed checkpoints: every `every` events the spool signs (chain id, seq, hash) of one event
// with Ed25519 and puts the signature on that event's chain link (`chain.signature`), outside
// the hash. The signature travels with the event to every sink, so a verifier that holds only
// what a SIEM stored (and the public key) can check it; a file next to the spool would stay on
// the host an attacker is assumed to control. A hash chain alone can be recomputed by whoever
// rewrites the stream; a checkpoint cannot be forged without the private key, so every event up
// to a valid checkpoint, linked to it, is authentic.

/** `spool.checkpoints` block of the config. */
export interface CheckpointSettings {
  readonly every?: number;
  readonly key_file: string;
}

export interface ChainSignature {
  readonly key_id: string;
  readonly every: number;
  readonly value: string;
}

export interface CheckpointSigner {
  readonly every: number;
  readonly keyId: string;
  /** True when the event with this seq carries a checkpoint. */
  due(seq: number): boolean;
  sign(chainId: string, seq: number, hash: string): ChainSignature;
}

/** The exact bytes signed; versioned so the format can change without ambiguity. */
export function checkpointMessage(chainId: string, seq: number, hash: string, every: number): Buffer {
  return Buffer.from(`agent-audit checkpoint v1\n${chainId}\n${seq}\n${hash}\n${every}\n`, 'utf8');
}

/** Key id: first 16 hex characters of SHA-256 over the public key's SPKI DER encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** Checkpoint seqs: the last event of every block of `every` (seq every-1, 2·every-1, …). */
export function isCheckpointSeq(seq: number, every: number): boolean {
  return (seq + 1) % every === 0;
}

export function loadCheckpointSigner(settings: CheckpointSettings | undefined): CheckpointSigner | undefined {
  if (!settings) return undefined;
  const every = settings.every ?? 1000;
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(settings.key_file));
  } catch (err) {
    throw new ConfigError('checkpoint_key_unreadable', `spool.checkpoints.key_file ${settings.key_file}: cannot load an Ed25519 private key (PEM): ${(err as Error).message}`, { file: settings.key_file });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError('checkpoint_key_type', `spool.checkpoints.key_file ${settings.key_file}: expected an Ed25519 private key, got ${key.asymmetricKeyType ?? key.type}`, { file: settings.key_file });
  }
  const keyId = keyIdOf(createPublicKey(key));
  return {
    every,
    keyId,
    due: (seq) => isCheckpointSeq(seq, every),
    sign: (chainId, seq, hash) => ({ key_id: keyId, every, value: sign(null, checkpointMessage(chainId, seq, hash, every), key).toString('base64') }),
  };
}

/** Public keys by key id, for `verify --public-key`. */
export function loadPublicKeys(files: readonly string[]): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const file of files) {
    let key: KeyObject;
    try {
      const text = readFileSync(file);
      // A private key file works too (its public half is derived), which is handy for tests.
      key = /PRIVATE KEY/.test(text.toString('latin1')) ? createPublicKey(createPrivateKey(text)) : createPublicKey(text);
    } catch (err) {
      throw new ConfigError('public_key_unreadable', `${file}: cannot load a public key (PEM): ${(err as Error).message}`, { file });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError('public_key_type', `${file}: expected an Ed25519 public key, got ${key.asymmetricKeyType ?? key.type}`, { file });
    out.set(keyIdOf(key), key);
  }
  return out;
}

export function verifyCheckpoint(key: KeyObject, chainId: string, seq: number, hash: string, sig: ChainSignature): boolean {
  try {
    return verify(null, checkpointMessage(chainId, seq, hash, sig.every), key, Buffer.from(sig.value, 'base64'));
  } catch {
    return false;
  }
}
