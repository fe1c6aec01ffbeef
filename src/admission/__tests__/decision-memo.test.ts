// SPDX-License-Identifier: Apache-2.0
// The warm decision memo: the same decision object while the images and verdict objects are the same.
import { describe, expect, it } from '@jest/globals';
import type { ImageVerdict } from '../../core/result.js';
import type { WorkloadImage } from '../../verify/ports.js';
import { DecisionMemo } from '../decision-memo.js';

const verdict = (image: string): ImageVerdict => ({
  image,
  allowed: true,
  reasons: [],
  warnings: [],
  audits: [],
  inconclusive: false,
  policies: ['ClusterTrustPolicy/p'],
});
const at = (image: string, i: number): WorkloadImage => ({
  image,
  path: `spec.containers[${i}].image`,
});

function memo(max?: number) {
  const calls: unknown[] = [];
  const m = new DecisionMemo(
    (images: readonly WorkloadImage[], verdicts: readonly ImageVerdict[], pin: boolean) => {
      const d = { images, verdicts, pin };
      calls.push(d);
      return d;
    },
    max,
  );
  return { m, calls };
}

describe('DecisionMemo', () => {
  const a = verdict('r/a:1');
  const b = verdict('r/b:1');
  const images = [at('r/a:1', 0), at('r/b:1', 1)];

  describe('when the same images come with the same verdict objects', () => {
    it('returns the first decision without combining again', () => {
      const { m, calls } = memo();
      const first = m.get(images, [a, b], false);
      expect(m.get([at('r/a:1', 0), at('r/b:1', 1)], [a, b], false)).toBe(first);
      expect(calls).toHaveLength(1);
    });
  });

  describe('when anything that decides differs', () => {
    it.each([
      ['a verdict object (a new memo entry)', images, [verdict('r/a:1'), b], false],
      ['the verdict order', images, [b, a], false],
      ['the number of verdicts', images, [a], false],
      ['pinning (mutate)', images, [a, b], true],
      ['an image path', [at('r/a:1', 0), at('r/b:1', 2)], [a, b], false],
      ['an image', [at('r/a:1', 0), at('r/c:1', 1)], [a, b], false],
    ] as const)('combines again for %s', (_name, imgs, verdicts, pin) => {
      const { m, calls } = memo();
      const first = m.get(images, [a, b], false);
      const second = m.get(imgs, verdicts, pin);
      expect(second).not.toBe(first);
      expect(calls).toHaveLength(2);
    });

    it('keeps the newest decision for the workload', () => {
      const { m, calls } = memo();
      m.get(images, [a, b], false);
      const a2 = verdict('r/a:1');
      const second = m.get(images, [a2, b], false);
      expect(m.get(images, [a2, b], false)).toBe(second);
      expect(calls).toHaveLength(2);
      expect(m.size).toBe(1);
    });
  });

  describe('when more workloads than the bound come by', () => {
    it('forgets the oldest one first', () => {
      const { m, calls } = memo(2);
      const w = (i: number) => [at(`r/${i}:1`, 0)];
      const v = [a];
      const d0 = m.get(w(0), v, false);
      m.get(w(1), v, false);
      m.get(w(2), v, false);
      expect(m.size).toBe(2);
      expect(m.get(w(2), v, false)).toBe(calls[2]);
      expect(m.get(w(0), v, false)).not.toBe(d0);
      expect(calls).toHaveLength(4);
    });
  });
});
