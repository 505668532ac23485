/** One scrape of a Prometheus endpoint: the value of each series. */
export class Scrape {
  private constructor(private readonly series: ReadonlyMap<string, number>) {}

  static async of(url: string): Promise<Scrape> {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    const series = new Map<string, number>();
    for (const line of (await response.text()).split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (match) series.set(key(match[1], parseLabels(match[2] ?? '')), Number(match[3]));
    }
    return new Scrape(series);
  }

  /** The value of the series with exactly these labels; 0 if it does not exist yet. */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.series.get(key(name, labels)) ?? 0;
  }

  /** How much each series grew since `before`. */
  delta(before: Scrape, name: string, labels: Record<string, string> = {}): number {
    return this.value(name, labels) - before.value(name, labels);
  }
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [, name, value] of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    labels[name] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

function key(name: string, labels: Record<string, string>): string {
  const sorted = Object.entries(labels)
    .filter(([, value]) => value !== '')
    .sort(([a], [b]) => a.localeCompare(b));
  return `${name}{${sorted.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}
