/** Typed reads of validated configuration; `ConfigService<AppConfig, true>` is one. */
export interface ConfigReader<T> {
  get<K extends keyof T>(key: K, options: { infer: true }): T[K];
}

/** Reads the given keys of validated configuration into a plain object. */
export function readConfig<T, K extends keyof T>(
  config: ConfigReader<T>,
  keys: readonly K[],
): Pick<T, K> {
  return Object.fromEntries(keys.map((key) => [key, config.get(key, { infer: true })])) as Pick<
    T,
    K
  >;
}
