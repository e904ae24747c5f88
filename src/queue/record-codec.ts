import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { StorageError } from '../core/errors.ts';
import type { EncryptionKeys } from './types.ts';

// The payload of a frame: plain bytes, or AES-256-GCM sealed with the id of the key that
// sealed it, so keys can be rotated (old records stay readable with a `previous` key).
//
//   plain:     0x00 | body
//   encrypted: 0x01 | keyIdLength u8 | keyId | iv[12] | tag[16] | ciphertext

const PLAIN = 0;
const AES_256_GCM = 1;

export class RecordCodec {
  private readonly keys: EncryptionKeys | undefined;
  private readonly byId: Map<string, Buffer>;

  constructor(keys: EncryptionKeys | undefined) {
    this.keys = keys;
    this.byId = new Map();
    if (keys) for (const k of [keys.current, ...keys.previous]) this.byId.set(k.id, k.key);
  }

  seal(body: Buffer): Buffer {
    if (!this.keys) return Buffer.concat([Buffer.of(PLAIN), body]);
    const { id, key } = this.keys.current;
    const idBytes = Buffer.from(id, 'utf8');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const ct = Buffer.concat([cipher.update(body), cipher.final()]);
    return Buffer.concat([Buffer.of(AES_256_GCM, idBytes.length), idBytes, iv, cipher.getAuthTag(), ct]);
  }

  /** Throws StorageError naming the key id when the record cannot be opened with the configured keys. */
  open(payload: Buffer, where: string): Buffer {
    const mode = payload[0];
    if (mode === PLAIN) {
      if (this.keys) throw new StorageError('spool_unencrypted_record', `${where}: record is not encrypted but encryption is configured (remove the key to read an unencrypted spool, or let it drain first)`, { where });
      return payload.subarray(1);
    }
    if (mode !== AES_256_GCM) throw new StorageError('spool_record_mode', `${where}: unknown record encoding ${mode}`, { where });
    const idLength = payload[1]!;
    const id = payload.subarray(2, 2 + idLength).toString('utf8');
    const key = this.byId.get(id);
    if (!key) {
      throw new StorageError('spool_key_unknown', `${where}: record was encrypted with key id '${id}', which is not configured (current: ${this.keys ? `'${this.keys.current.id}'` : 'no encryption'})`, { where, keyId: id });
    }
    const at = 2 + idLength;
    const iv = payload.subarray(at, at + 12);
    const tag = payload.subarray(at + 12, at + 28);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(payload.subarray(at + 28)), decipher.final()]);
    } catch (cause) {
      throw new StorageError('spool_key_wrong', `${where}: record cannot be decrypted with key id '${id}': the key material is wrong`, { where, keyId: id }, { cause });
    }
  }
}
