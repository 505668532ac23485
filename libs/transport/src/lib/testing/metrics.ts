import { register } from 'prom-client';

/**
 * The current value of one series in prom-client's default registry (0 if
 * the series has not been touched yet), for specs that assert deltas. All of
 * the series' labels must be given; a histogram is read as `<name>_count`.
 *
 * @example
 * const before = await metricValue('acme_auth_denials_total', { reason: 'role', check: '' });
 */
export async function metricValue(
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric =
    register.getSingleMetric(name) ?? register.getSingleMetric(name.replace(/_(count|sum)$/, ''));
  if (!metric) throw new Error(`no metric ${name} is registered`);
  const { values } = await metric.get();
  const series = values.find(
    (value) =>
      ((value as { metricName?: string }).metricName ?? name) === name &&
      Object.keys(value.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
  );
  return series?.value ?? 0;
}
