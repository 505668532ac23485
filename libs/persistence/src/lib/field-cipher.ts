import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The data keys: the id of the current one, and every key still needed to read old values. */
export interface DataKeys {
  current: string;
  keys: Record<string, string>;
}

const VERSION = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Encrypts single fields at rest with AES-256-GCM. Each value carries the id of
 * its key (`v1.<kid>.<iv>.<tag>.<ciphertext>`, base64url), so keys can rotate
 * while old rows stay readable until they are re-encrypted.
 *
 * @example
 * const cipher = FieldCipher.fromFile('/run/secrets/payment-data-keys.json');
 * const stored = cipher.encrypt(JSON.stringify(billing), `payment:${id}`);
 */
export class FieldCipher {
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(private readonly dataKeys: DataKeys) {
    const keys = new Map<string, Buffer>();
    for (const [id, encoded] of Object.entries(dataKeys.keys)) {
      const key = Buffer.from(encoded, 'base64');
      if (!KEY_ID.test(id) || key.length !== 32)
        throw new Error(`data key ${id} must be 32 bytes, base64`);
      keys.set(id, key);
    }
    if (!keys.has(dataKeys.current))
      throw new Error(`current data key ${dataKeys.current} is missing`);
    this.keys = keys;
  }

  static fromFile(path: string): FieldCipher {
    return new FieldCipher(JSON.parse(readFileSync(path, 'utf8')) as DataKeys);
  }

  /** A new key set with a fresh current key; the old keys stay for decryption. */
  static rotate(dataKeys: DataKeys, newKeyId: string): DataKeys {
    if (!KEY_ID.test(newKeyId) || dataKeys.keys[newKeyId])
      throw new Error(`invalid or existing key id ${newKeyId}`);
    return {
      current: newKeyId,
      keys: { ...dataKeys.keys, [newKeyId]: randomBytes(32).toString('base64') },
    };
  }

  get currentKeyId(): string {
    return this.dataKeys.current;
  }

  /**
   * @param context binds the value to its row (authenticated, not stored): a
   *   ciphertext copied into another row does not decrypt.
   */
  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(this.dataKeys.current), iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.dataKeys.current, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  decrypt(stored: string, context: string): string {
    const [version, keyId, iv, tag, ciphertext] = stored.split('.');
    if (version !== VERSION || !keyId || !iv || !tag || ciphertext === undefined) {
      throw new Error('not an encrypted field');
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key(keyId), Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(ciphertext, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }

  /** The key id a stored value was encrypted with. */
  keyIdOf(stored: string): string | undefined {
    return stored.split('.')[1];
  }

  private key(id: string): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new Error(`unknown data key ${id}`);
    return key;
  }
}
