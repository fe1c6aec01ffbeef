// SPDX-License-Identifier: Apache-2.0
// A bounded LRU cache with per-entry TTL and single-flight loading (STYLE rule 9, SPEC §4:
// concurrent identical lookups collapse into one upstream fetch). Recency is the Map's
// insertion order: a hit re-inserts the entry at the end; eviction takes the first entry.

/** Structurally the same as verify/ports `Clock`; declared here so the cache stays a leaf module. */
export interface CacheClock {
  now(): Date;
}

/** What a loader returns: the value and how long it may be reused (`0` = do not cache). */
export type LoadResult<V> = { value: V; ttlMs: number } | { value: V; ttlMs: 0 };

export interface TtlCacheOptions {
  /** Upper bound on stored entries; the least recently used entry is evicted first. */
  readonly maxEntries: number;
  readonly clock: CacheClock;
  /** Called once per `get`/`getOrLoad` lookup (e.g. `metrics.cacheRecorder('verdict')`). */
  readonly onLookup?: (result: 'hit' | 'miss') => void;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
}

export class TtlCache<K extends string, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly inflight = new Map<K, Promise<V>>();
  private readonly maxEntries: number;
  private readonly clock: CacheClock;
  private readonly onLookup: ((result: 'hit' | 'miss') => void) | undefined;

  /** @throws RangeError when `maxEntries` is not a positive integer. */
  constructor(opts: TtlCacheOptions) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${opts.maxEntries}`);
    }
    this.maxEntries = opts.maxEntries;
    this.clock = opts.clock;
    this.onLookup = opts.onLookup;
  }

  /** Number of stored entries (expired ones count until they are looked up or evicted). */
  get size(): number {
    return this.entries.size;
  }

  /** The live value for `key`, marking it most recently used; `undefined` when absent or expired. */
  get(key: K): V | undefined {
    const value = this.peek(key);
    this.onLookup?.(value === undefined ? 'miss' : 'hit');
    return value;
  }

  /**
   * Store `value` for `ttlMs` milliseconds. A non-positive or non-finite TTL stores nothing
   * (and drops any older entry), so callers can pass "valid until" arithmetic straight through.
   */
  set(key: K, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) return;
    this.entries.set(key, { value, expiresAt: this.clock.now().getTime() + ttlMs });
    if (this.entries.size > this.maxEntries) this.evict();
  }

  /**
   * Epoch ms at which the live entry for `key` expires, if it holds exactly `value` (by
   * identity); otherwise `undefined`. Does not count as a lookup and does not touch recency.
   */
  expiryOf(key: K, value: V): number | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.value !== value) return undefined;
    return entry.expiresAt > this.clock.now().getTime() ? entry.expiresAt : undefined;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** Delete every entry for which `pred` is true (e.g. all verdicts of a changed policy). Returns how many. */
  deleteWhere(pred: (key: K, value: V) => boolean): number {
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (pred(key, entry.value)) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /**
   * The cached value, or the result of `loader()`. Concurrent calls for the same key while a
   * load is running share that one load (single-flight). A rejected load is not cached: the
   * rejection goes to every waiter and the next call loads again.
   */
  getOrLoad(key: K, loader: () => Promise<LoadResult<V>>): Promise<V> {
    const cached = this.peek(key);
    if (cached !== undefined) {
      this.onLookup?.('hit');
      return Promise.resolve(cached);
    }
    this.onLookup?.('miss');
    const running = this.inflight.get(key);
    if (running !== undefined) return running;

    // The loader starts on a later microtask, so even a synchronous throw is a rejection of
    // the shared promise, and the in-flight entry is registered before anything can settle.
    const load = Promise.resolve()
      .then(loader)
      .then(({ value, ttlMs }) => {
        this.set(key, value, ttlMs);
        return value;
      });
    this.inflight.set(key, load);
    const settle = (): void => {
      if (this.inflight.get(key) === load) this.inflight.delete(key);
    };
    load.then(settle, settle);
    return load;
  }

  private peek(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.clock.now().getTime()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  private evict(): void {
    // The first key in insertion order is the least recently used one.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) return;
      this.entries.delete(key);
    }
  }
}
