import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The data keys: the id of the current one, and every key still needed to read old values. */
export interface DataKeys {
  current: string;
  keys: Record<string, string>;
}

/** Where an encrypted value lives: it decrypts there and nowhere else. */
export interface FieldRef {
  table: string;
  column: string;
  rowId: string;
}

const VERSION = 'v2';
/** The first format: bound to a caller-chosen context only (the row), not to its column or key. */
const LEGACY_VERSION = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
// GCM accepts tags down to 4 bytes; a shorter tag is easier to forge, so only the full one is valid.
const TAG_BYTES = 16;

/**
 * Encrypts single fields at rest with AES-256-GCM. Each value carries the id of
 * its key (`v2.<kid>.<iv>.<tag>.<ciphertext>`, base64url), so keys can rotate
 * while old rows stay readable until they are re-encrypted. The associated
 * data binds a value to its table, column, row and key
 * (`v2/<table>/<column>/<rowId>/<kid>`): copied into another column or row,
 * or relabelled with another key id, it does not decrypt.
 *
 * @example
 * const cipher = FieldCipher.fromFile('/run/secrets/payment-data-keys.json');
 * const stored = cipher.encrypt(JSON.stringify(billing), { table: 'payments', column: 'billing_details', rowId: id });
 */
export class FieldCipher {
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(private readonly dataKeys: DataKeys) {
    const keys = new Map<string, Buffer>();
    for (const [id, encoded] of Object.entries(dataKeys.keys)) {
      const key = Buffer.from(encoded, 'base64');
      if (!KEY_ID.test(id) || key.length !== 32) {
        throw new Error(`data key ${id} must be 32 bytes, base64`);
      }
      keys.set(id, key);
    }
    if (!keys.has(dataKeys.current)) {
      throw new Error(`current data key ${dataKeys.current} is missing`);
    }
    this.keys = keys;
  }

  static fromFile(path: string): FieldCipher {
    return new FieldCipher(JSON.parse(readFileSync(path, 'utf8')) as DataKeys);
  }

  /** A new key set with a fresh current key; the old keys stay for decryption. */
  static rotate(dataKeys: DataKeys, newKeyId: string): DataKeys {
    if (!KEY_ID.test(newKeyId) || dataKeys.keys[newKeyId]) {
      throw new Error(`invalid or existing key id ${newKeyId}`);
    }
    return {
      current: newKeyId,
      keys: { ...dataKeys.keys, [newKeyId]: randomBytes(32).toString('base64') },
    };
  }

  /**
   * The key set without `keyId`. Only the caller can know that no stored value
   * still uses it (count them first); the current key is never retired.
   */
  static retire(dataKeys: DataKeys, keyId: string): DataKeys {
    if (!dataKeys.keys[keyId]) throw new Error(`unknown data key ${keyId}`);
    if (keyId === dataKeys.current) {
      throw new Error(`data key ${keyId} is current: rotate to a new key before retiring it`);
    }
    const keys = { ...dataKeys.keys };
    delete keys[keyId];
    return { current: dataKeys.current, keys };
  }

  get currentKeyId(): string {
    return this.dataKeys.current;
  }

  /** How every value `encrypt` writes now begins: a stored value without it needs re-encrypting. */
  get currentPrefix(): string {
    return `${VERSION}.${this.dataKeys.current}.`;
  }

  encrypt(plaintext: string, field: FieldRef): string {
    const keyId = this.dataKeys.current;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key(keyId), iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(associatedData(field, keyId));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, keyId, iv, cipher.getAuthTag(), ciphertext]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  decrypt(stored: string, field: FieldRef): string {
    const { version, keyId } = parse(stored);
    if (version === LEGACY_VERSION) {
      throw new Error('v1 value: run the rotate step to re-encrypt it in the v2 format');
    }
    return this.open(stored, associatedData(field, keyId));
  }

  /**
   * The value re-encrypted with the current key, in the current format. A v1
   * value (written before values were bound to their column and key) is read
   * with the context it was written with, `v1Context`, so that rotation
   * upgrades old rows; nothing else reads v1.
   */
  reencrypt(stored: string, field: FieldRef, v1Context: string): string {
    const { version, keyId } = parse(stored);
    const aad = version === LEGACY_VERSION ? Buffer.from(v1Context) : associatedData(field, keyId);
    return this.encrypt(this.open(stored, aad), field);
  }

  /** The key id a stored value was encrypted with. */
  keyIdOf(stored: string): string {
    return parse(stored).keyId;
  }

  private open(stored: string, aad: Buffer): string {
    const { keyId, iv, tag, ciphertext } = parse(stored);
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new Error(`encrypted field needs a ${IV_BYTES}-byte IV and a ${TAG_BYTES}-byte tag`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key(keyId), iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  }

  private key(id: string): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new Error(`unknown data key ${id}`);
    return key;
  }
}

function parse(stored: string) {
  const [version, keyId, iv, tag, ciphertext, extra] = stored.split('.');
  if (
    (version !== VERSION && version !== LEGACY_VERSION) ||
    !keyId ||
    !iv ||
    !tag ||
    ciphertext === undefined ||
    extra !== undefined
  ) {
    throw new Error('not an encrypted field');
  }
  return {
    version,
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
    ciphertext: Buffer.from(ciphertext, 'base64url'),
  };
}

function associatedData({ table, column, rowId }: FieldRef, keyId: string): Buffer {
  // Each part is checked, so that no two fields share a string ('/' cannot move between parts).
  for (const part of [table, column, rowId]) {
    if (!part || part.includes('/')) throw new Error(`invalid field reference part: ${part}`);
  }
  return Buffer.from([VERSION, table, column, rowId, keyId].join('/'));
}
