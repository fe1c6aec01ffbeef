// SPDX-License-Identifier: Apache-2.0
// backoffDelay: exponential growth, cap, jitter range.

import { describe, expect, it } from '@jest/globals';
import { backoffDelay } from '../resilient-informer.js';

describe('backoffDelay', () => {
  describe('with jitter pinned to its maximum', () => {
    it('doubles per attempt up to the cap', () => {
      const opts = { initialMs: 100, maxMs: 1000, random: () => 0.999999 };
      expect([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(a, opts))).toEqual([
        100, 200, 400, 800, 1000, 1000, 1000,
      ]);
    });
  });

  describe('with jitter pinned to its minimum', () => {
    it('never goes below half the delay', () => {
      const opts = { initialMs: 100, maxMs: 1000, random: () => 0 };
      expect([0, 1, 5].map((a) => backoffDelay(a, opts))).toEqual([50, 100, 500]);
    });
  });

  describe('with defaults', () => {
    it('stays within 250 ms … 30 s', () => {
      for (const a of [0, 3, 50]) {
        const d = backoffDelay(a);
        expect(d).toBeGreaterThanOrEqual(250);
        expect(d).toBeLessThanOrEqual(30_000);
      }
    });
  });
});
