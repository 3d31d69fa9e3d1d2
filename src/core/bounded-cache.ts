/**
 * A map that holds at most `limit` entries, the oldest leaving first: for memoizing pure work over a
 * small, stable set of keys (parsed templates, time-zone formatters, redactors), bounded so unexpected
 * key churn cannot grow memory.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** The value for `key`, made by `create` the first time. */
  get(key: K, create: (key: K) => V): V {
    if (this.#entries.has(key)) return this.#entries.get(key) as V;
    const value = create(key);
    if (this.#entries.size >= this.#limit) this.#entries.delete(this.#entries.keys().next().value as K);
    this.#entries.set(key, value);
    return value;
  }

  clear(): void {
    this.#entries.clear();
  }
}
