import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';

/**
 * Writes a document generated from the code, formatted by Prettier with the
 * repository's settings (`npm test` checks every file); with `--check` on the
 * command line, exits 1 instead when the committed file differs.
 *
 * @example
 * await publishGeneratedDoc('docs/CONFIGURATION.md', markdown, 'npm run config:docs');
 */
export async function publishGeneratedDoc(
  file: string,
  generated: string,
  regenerate: string,
): Promise<void> {
  const content = await format(generated, { ...(await resolveConfig(file)), filepath: file });
  if (!process.argv.includes('--check')) {
    writeFileSync(file, content);
    console.log(`wrote ${file}`);
    return;
  }
  if ((existsSync(file) ? readFileSync(file, 'utf8') : '') !== content) {
    console.error(`${file} is stale: run ${regenerate} and commit the result.`);
    process.exit(1);
  }
  console.log(`${file} is up to date.`);
}
