import type { Tree } from '@nx/devkit';
import { isSeq, parseDocument } from 'yaml';
import type { Document } from 'yaml';

/**
 * Edits one YAML file of the tree in place, keeping its comments and layout.
 * Returns false when the file does not exist.
 */
export function updateYaml(
  tree: Tree,
  path: string,
  update: (document: Document) => void,
): boolean {
  const source = tree.read(path, 'utf-8');
  if (source === null) return false;
  const document = parseDocument(source);
  if (document.errors.length) throw new Error(`${path}: ${document.errors[0].message}`);
  update(document);
  tree.write(path, document.toString());
  return true;
}

/** Appends `item` to the list at `key` of the document's top-level map, unless it is already there. */
export function appendToList(document: Document, key: string, item: unknown, path: string): void {
  const list = document.get(key);
  if (!isSeq(list)) throw new Error(`${path}: expected a list at "${key}"`);
  const present = (list.toJSON() as unknown[]).some(
    (existing) => JSON.stringify(existing) === JSON.stringify(item),
  );
  if (!present) list.add(document.createNode(item));
}
