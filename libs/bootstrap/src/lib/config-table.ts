import { z } from 'zod';

interface JsonProperty {
  default?: unknown;
  description?: string;
}

/**
 * The Markdown table of a config schema: each key, its default (or
 * **required**) and what it means. docs/CONFIGURATION.md is made of these, and
 * the READMEs of the auth server and the web client show theirs.
 */
export function configTable(schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, JsonProperty>;
    required?: string[];
  };
  const rows = Object.entries(json.properties).map(([key, property]) => {
    const required = json.required?.includes(key) && property.default === undefined;
    const fallback =
      property.default === undefined
        ? required
          ? '**required**'
          : '-'
        : `\`${String(property.default)}\``;
    return `| \`${key}\` | ${fallback} | ${(property.description ?? '').replace(/\|/g, '\\|')} |`;
  });
  return ['| Key | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** Trims every table cell: the same text whatever Prettier's column alignment. */
export function normalizeTables(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => cell.trim().replace(/^-+$/, '---'))
            .join('|')
        : line,
    )
    .join('\n');
}
