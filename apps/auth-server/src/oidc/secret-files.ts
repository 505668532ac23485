import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A random secret with 256 bits of entropy. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes a file only its owner can read, atomically, so a reader never sees half of it. */
export function writeSecretFile(file: string, content: string): void {
  const temporary = temporaryFile(file);
  writeFileSync(temporary, content, { mode: 0o600 });
  renameSync(temporary, file);
}

/** A unique sibling path to write before renaming; creates the folder (owner-only) if needed. */
function temporaryFile(file: string): string {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Reads a secret file; when it is missing, writes `create()` into it first. Only for development:
 * in production every secret is provisioned, and a missing one must stop the start-up.
 */
export function readOrCreateSecretFile(file: string, create: () => string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temporary = temporaryFile(file);
  writeFileSync(temporary, create(), { mode: 0o600 });
  try {
    // link() creates the file whole or fails when another process created it first; then use theirs.
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  return readFileSync(file, 'utf8');
}
