// SPDX-License-Identifier: Apache-2.0
// TtlCache: LRU bound, TTL against a fake clock, single-flight loading, failures not cached.

import { describe, expect, it } from '@jest/globals';
import { TtlCache } from '../ttl-cache.js';

class FakeClock {
  constructor(public ms = Date.parse('2026-12-02T00:00:00Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

function cache(
  maxEntries = 3,
  clock = new FakeClock(),
): { c: TtlCache<string, number>; clock: FakeClock; lookups: string[] } {
  const lookups: string[] = [];
  return {
    c: new TtlCache<string, number>({ maxEntries, clock, onLookup: (r) => lookups.push(r) }),
    clock,
    lookups,
  };
}

describe('TtlCache', () => {
  describe('when more entries are set than maxEntries', () => {
    it('evicts the least recently used entry', () => {
      const { c } = cache(3);
      c.set('a', 1, 1000);
      c.set('b', 2, 1000);
      c.set('c', 3, 1000);
      expect(c.get('a')).toBe(1); // a is now most recent; b is the LRU
      c.set('d', 4, 1000);
      expect(c.size).toBe(3);
      expect(c.get('b')).toBeUndefined();
      expect(c.get('a')).toBe(1);
      expect(c.get('c')).toBe(3);
      expect(c.get('d')).toBe(4);
    });
  });

  describe('when an entry outlives its TTL', () => {
    it('is a miss at the expiry instant and a hit just before', () => {
      const { c, clock, lookups } = cache();
      c.set('k', 7, 5000);
      clock.advance(4999);
      expect(c.get('k')).toBe(7);
      clock.advance(1);
      expect(c.get('k')).toBeUndefined();
      expect(c.size).toBe(0);
      expect(lookups).toEqual(['hit', 'miss']);
    });
  });

  describe('expiryOf', () => {
    it('gives the live entry expiry only while it holds that value, without counting a lookup', () => {
      const { c, clock, lookups } = cache();
      c.set('k', 7, 5000);
      const expected = clock.ms + 5000;
      expect(c.expiryOf('k', 7)).toBe(expected);
      expect(c.expiryOf('k', 8)).toBeUndefined();
      expect(c.expiryOf('other', 7)).toBeUndefined();
      clock.advance(5000);
      expect(c.expiryOf('k', 7)).toBeUndefined();
      expect(lookups).toEqual([]);
    });
  });

  describe('when set with a non-positive or non-finite TTL', () => {
    it('stores nothing and drops the older entry', () => {
      const { c } = cache();
      c.set('k', 1, 1000);
      c.set('k', 2, 0);
      expect(c.get('k')).toBeUndefined();
      c.set('k', 3, Number.NaN);
      c.set('j', 3, Number.POSITIVE_INFINITY);
      expect(c.size).toBe(0);
    });
  });

  describe('delete and deleteWhere', () => {
    it('remove exactly the matching entries', () => {
      const { c } = cache(10);
      for (const [k, v] of [
        ['p1|a', 1],
        ['p1|b', 2],
        ['p2|a', 3],
      ] as const)
        c.set(k, v, 1000);
      expect(c.deleteWhere((k) => k.startsWith('p1|'))).toBe(2);
      expect(c.delete('p2|a')).toBe(true);
      expect(c.delete('p2|a')).toBe(false);
      expect(c.size).toBe(0);
    });
  });

  describe('when 100 concurrent getOrLoad calls ask for one key', () => {
    it('calls the loader once and gives every caller its value', async () => {
      const { c, lookups } = cache();
      let calls = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const loader = async (): Promise<{ value: number; ttlMs: number }> => {
        calls++;
        await gate;
        return { value: 42, ttlMs: 1000 };
      };
      const all = Promise.all(Array.from({ length: 100 }, () => c.getOrLoad('k', loader)));
      release();
      expect(await all).toEqual(Array<number>(100).fill(42));
      expect(calls).toBe(1);
      expect(await c.getOrLoad('k', loader)).toBe(42);
      expect(calls).toBe(1);
      expect(lookups.filter((l) => l === 'miss')).toHaveLength(100);
      expect(lookups.filter((l) => l === 'hit')).toHaveLength(1);
    });
  });

  describe('when a load fails', () => {
    it('rejects every waiter and loads again next time', async () => {
      const { c } = cache();
      let calls = 0;
      const failing = async (): Promise<{ value: number; ttlMs: number }> => {
        calls++;
        await Promise.resolve();
        throw new Error('registry down');
      };
      const results = await Promise.allSettled([
        c.getOrLoad('k', failing),
        c.getOrLoad('k', failing),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      expect(calls).toBe(1);
      expect(c.size).toBe(0);
      await expect(c.getOrLoad('k', async () => ({ value: 5, ttlMs: 1000 }))).resolves.toBe(5);
      expect(c.get('k')).toBe(5);
    });

    it('treats a synchronous throw as a rejection that is not cached', async () => {
      const { c } = cache();
      const sync = (): Promise<{ value: number; ttlMs: number }> => {
        throw new Error('bug');
      };
      await expect(c.getOrLoad('k', sync)).rejects.toThrow('bug');
      await expect(c.getOrLoad('k', async () => ({ value: 1, ttlMs: 10 }))).resolves.toBe(1);
    });
  });

  describe('when the loader returns ttlMs 0', () => {
    it('returns the value to the waiters without caching it', async () => {
      const { c } = cache();
      let calls = 0;
      const loader = async (): Promise<{ value: number; ttlMs: 0 }> => ({
        value: ++calls,
        ttlMs: 0,
      });
      expect(await c.getOrLoad('k', loader)).toBe(1);
      expect(await c.getOrLoad('k', loader)).toBe(2);
      expect(c.size).toBe(0);
    });
  });

  describe('when maxEntries is not a positive integer', () => {
    it('throws a RangeError', () => {
      expect(() => new TtlCache({ maxEntries: 0, clock: new FakeClock() })).toThrow(RangeError);
    });
  });
});
