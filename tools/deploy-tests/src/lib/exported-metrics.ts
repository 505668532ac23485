import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { register } from 'prom-client';
import { WORKSPACE } from './workspace';

export interface ExportedMetric {
  name: string;
  /** prom-client's type: counter, gauge, histogram or summary. */
  type: string;
  labels: string[];
}

/** The series names Prometheus stores for a metric: a histogram's `_bucket`, `_count`, `_sum`. */
export function seriesNames(metric: ExportedMetric): string[] {
  if (metric.type === 'histogram') {
    return ['_bucket', '_count', '_sum'].map((suffix) => `${metric.name}${suffix}`);
  }
  if (metric.type === 'summary') return [metric.name, `${metric.name}_count`, `${metric.name}_sum`];
  return [metric.name];
}

/** The files that define the services' metrics: `*.metrics.ts` under libs/ and apps/. */
export function metricModules(): string[] {
  return ['libs', 'apps'].flatMap((root) =>
    readdirSync(join(WORKSPACE, root), { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.metrics.ts') && !path.includes('node_modules'))
      .map((path) => join(WORKSPACE, root, path)),
  );
}

/**
 * The metrics the services export, read from prom-client's registry after loading every
 * metrics module (they register on import), so names, types and labels are the real ones.
 */
export async function exportedMetrics(): Promise<ExportedMetric[]> {
  for (const file of metricModules()) await import(file);
  return (await register.getMetricsAsJSON()).map(({ name, type }) => {
    const { labelNames } = register.getSingleMetric(name) as unknown as { labelNames?: string[] };
    return { name, type: String(type), labels: [...(labelNames ?? [])] };
  });
}
