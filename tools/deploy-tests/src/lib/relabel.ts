/** One `relabel_configs` entry of a Prometheus scrape job. */
export interface RelabelConfig {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  replacement?: string;
  target_label?: string;
  action?: 'replace' | 'keep' | 'drop';
}

/**
 * Applies relabel rules the way Prometheus does for `replace`, `keep` and `drop`: the source
 * labels joined by `;`, the regex anchored at both ends, `$1`-style groups in the replacement,
 * and then every `__meta_*` label dropped. Returns undefined when the target is dropped.
 *
 * @example
 * relabel({ __meta_x: 'a' }, [{ source_labels: ['__meta_x'], target_label: 'x' }]); // { x: 'a' }
 */
export function relabel(
  labels: Record<string, string>,
  configs: RelabelConfig[],
): Record<string, string> | undefined {
  const result = { ...labels };
  for (const config of configs) {
    const value = (config.source_labels ?? [])
      .map((label) => result[label] ?? '')
      .join(config.separator ?? ';');
    const match = new RegExp(`^(?:${config.regex ?? '(.*)'})$`).exec(value);
    const action = config.action ?? 'replace';
    if (action === 'keep' && !match) return undefined;
    if (action === 'drop' && match) return undefined;
    if (action === 'replace' && match && config.target_label) {
      const replaced = (config.replacement ?? '$1').replace(
        /\$\{?(\d+)\}?/g,
        (_all, group: string) => match[Number(group)] ?? '',
      );
      if (replaced === '') delete result[config.target_label];
      else result[config.target_label] = replaced;
    }
  }
  return Object.fromEntries(Object.entries(result).filter(([name]) => !name.startsWith('__meta_')));
}
