// SPDX-License-Identifier: Apache-2.0
// Status planning: condition content, transition times, skipping identical writes, message format.

import { describe, expect, it } from '@jest/globals';
import {
  formatFieldErrors,
  planStatusPatch,
  type StatusCondition,
  type StatusTarget,
} from '../status.js';

const NOW = new Date('2026-12-02T10:00:00.123Z');
const EARLIER = '2026-11-30T08:00:00Z';

function target(generation: number, conditions?: StatusCondition[]): StatusTarget {
  return {
    kind: 'ClusterTrustPolicy',
    metadata: { name: 'p', generation },
    ...(conditions ? { status: { conditions } } : {}),
  };
}

const readyTrue = (gen: number, at = EARLIER): StatusCondition => ({
  type: 'Ready',
  status: 'True',
  reason: 'Compiled',
  message: 'policy compiled and in use',
  observedGeneration: gen,
  lastTransitionTime: at,
});

describe('planStatusPatch', () => {
  describe('when the object has no status yet', () => {
    it('writes Ready=True with observedGeneration and a second-precision transition time', () => {
      expect(planStatusPatch(target(3), { ok: true }, NOW)).toEqual({
        status: { observedGeneration: 3, conditions: [readyTrue(3, '2026-12-02T10:00:00Z')] },
      });
    });

    it('writes Ready=False InvalidSpec with the field errors', () => {
      const patch = planStatusPatch(
        target(1),
        {
          ok: false,
          errors: [
            {
              path: 'spec.trustSources[0].notaryV1.rootKeys[1]',
              message: 'not PEM and not a 64-hex key ID',
            },
          ],
        },
        NOW,
      );
      expect(patch?.status.conditions).toEqual([
        {
          type: 'Ready',
          status: 'False',
          reason: 'InvalidSpec',
          message: 'spec.trustSources[0].notaryV1.rootKeys[1]: not PEM and not a 64-hex key ID',
          observedGeneration: 1,
          lastTransitionTime: '2026-12-02T10:00:00Z',
        },
      ]);
    });
  });

  describe('when the Ready condition is already identical', () => {
    it('plans no write', () => {
      expect(planStatusPatch(target(2, [readyTrue(2)]), { ok: true }, NOW)).toBeUndefined();
    });
  });

  describe('when only the generation moved on', () => {
    it('writes the new observedGeneration but keeps the transition time', () => {
      const patch = planStatusPatch(target(3, [readyTrue(2)]), { ok: true }, NOW);
      expect(patch?.status.conditions).toEqual([readyTrue(3, EARLIER)]);
    });
  });

  describe('when the status flips', () => {
    it('sets the transition time to now', () => {
      const patch = planStatusPatch(
        target(3, [readyTrue(2)]),
        { ok: false, errors: [{ path: 'spec.images', message: 'required' }] },
        NOW,
      );
      expect(patch?.status.conditions[0]).toMatchObject({
        status: 'False',
        lastTransitionTime: '2026-12-02T10:00:00Z',
      });
    });
  });

  describe('when other condition types exist', () => {
    it('keeps them (merge patch replaces the whole array)', () => {
      const other: StatusCondition = {
        type: 'Other',
        status: 'True',
        reason: 'X',
        message: '',
        lastTransitionTime: EARLIER,
      };
      const patch = planStatusPatch(target(1, [other]), { ok: true }, NOW);
      expect(patch?.status.conditions.map((c) => c.type)).toEqual(['Other', 'Ready']);
    });
  });

  describe('when the existing status is malformed', () => {
    it('ignores it and writes a fresh condition', () => {
      const t: StatusTarget = {
        kind: 'TrustPolicy',
        metadata: { name: 'p', namespace: 'n', generation: 1 },
        status: { conditions: 'nope' },
      };
      expect(planStatusPatch(t, { ok: true }, NOW)?.status.conditions).toEqual([
        readyTrue(1, '2026-12-02T10:00:00Z'),
      ]);
    });
  });
});

describe('formatFieldErrors', () => {
  it('joins path: message pairs with "; "', () => {
    expect(
      formatFieldErrors([
        { path: 'spec.images[0]', message: 'empty' },
        { path: 'spec.mode', message: 'must be enforce, warn or audit' },
      ]),
    ).toBe('spec.images[0]: empty; spec.mode: must be enforce, warn or audit');
  });

  it('omits an empty path', () => {
    expect(formatFieldErrors([{ path: '', message: 'not an object' }])).toBe('not an object');
  });

  describe('when the errors exceed the cap', () => {
    it('truncates and says how many were left out, within the cap', () => {
      const errors = Array.from({ length: 50 }, (_, i) => ({
        path: `spec.images[${i}]`,
        message: 'not a repository glob',
      }));
      const msg = formatFieldErrors(errors, 200);
      expect(msg.length).toBeLessThanOrEqual(200);
      expect(msg.startsWith('spec.images[0]: not a repository glob; spec.images[1]')).toBe(true);
      const kept = msg.split('; ').length;
      expect(msg.endsWith(`(and ${50 - kept} more)`)).toBe(true);
    });

    it('cuts a single overlong message', () => {
      const msg = formatFieldErrors(
        [
          { path: 'spec', message: 'x'.repeat(500) },
          { path: 'b', message: 'y' },
        ],
        100,
      );
      expect(msg.length).toBeLessThanOrEqual(100);
      expect(msg.endsWith('… (and 1 more)')).toBe(true);
    });
  });
});
