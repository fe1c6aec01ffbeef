// SPDX-License-Identifier: Apache-2.0
// Verdict printing (SPEC §5 JSON shape, text for people) and the verdicts → exit code mapping.

import { describe, expect, it } from '@jest/globals';
import type { ImageVerdict } from '../../core/result.js';
import { EXIT, exitCodeFor, toJsonOutput, toTextOutput } from '../output.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function verdict(over: Partial<ImageVerdict> = {}): ImageVerdict {
  return {
    image: 'registry.example.com/team/web:1.0',
    allowed: true,
    digest: DIGEST,
    reasons: [],
    warnings: [],
    audits: [],
    inconclusive: false,
    policies: ['ClusterTrustPolicy/p'],
    ...over,
  };
}

const denied = verdict({
  allowed: false,
  digest: undefined,
  reasons: [
    {
      code: 'TAG_NOT_SIGNED',
      message: 'tag 1.0 is not signed',
      policy: 'ClusterTrustPolicy/p',
      source: 'dct',
    },
  ],
});
const undecided = verdict({
  allowed: false,
  inconclusive: true,
  digest: undefined,
  reasons: [
    { code: 'TRUST_SOURCE_UNAVAILABLE', message: 'notary down', policy: 'ClusterTrustPolicy/p' },
  ],
});

describe('exitCodeFor', () => {
  describe('when every image is allowed', () => {
    it('is 0 (also for no images)', () => {
      expect(exitCodeFor([verdict(), verdict()])).toBe(EXIT.ok);
      expect(exitCodeFor([])).toBe(0);
    });
  });

  describe('when any image is definitely denied', () => {
    it('is 1, even when another one is inconclusive', () => {
      expect(exitCodeFor([verdict(), denied])).toBe(1);
      expect(exitCodeFor([undecided, denied])).toBe(1);
    });
  });

  describe('when denials are only inconclusive', () => {
    it('is 3', () => {
      expect(exitCodeFor([verdict(), undecided])).toBe(3);
    });
  });
});

describe('toJsonOutput', () => {
  describe('when a verdict is allowed', () => {
    it('prints exactly image, digest, allowed and reasons', () => {
      const out = JSON.parse(toJsonOutput([verdict()])) as { results: Record<string, unknown>[] };
      expect(Object.keys(out)).toEqual(['results']);
      expect(out.results).toEqual([
        { image: 'registry.example.com/team/web:1.0', digest: DIGEST, allowed: true, reasons: [] },
      ]);
    });
  });

  describe('when a verdict is denied', () => {
    it('prints code, message and policy for each reason, and a null digest', () => {
      const out = JSON.parse(toJsonOutput([denied])) as { results: Record<string, unknown>[] };
      expect(out.results[0]).toEqual({
        image: denied.image,
        digest: null,
        allowed: false,
        reasons: [
          {
            code: 'TAG_NOT_SIGNED',
            message: 'tag 1.0 is not signed',
            policy: 'ClusterTrustPolicy/p',
          },
        ],
      });
    });

    it('prints a null policy for a reason without one', () => {
      const v = verdict({
        allowed: false,
        reasons: [{ code: 'NO_MATCHING_POLICY', message: 'none' }],
      });
      const out = JSON.parse(toJsonOutput([v])) as { results: { reasons: unknown[] }[] };
      expect(out.results[0]!.reasons).toEqual([
        { code: 'NO_MATCHING_POLICY', message: 'none', policy: null },
      ]);
    });
  });

  describe('when a verdict carries warnings', () => {
    it('adds them after the SPEC fields', () => {
      const out = JSON.parse(toJsonOutput([verdict({ warnings: ['w1'] })])) as {
        results: Record<string, unknown>[];
      };
      expect(Object.keys(out.results[0]!)).toEqual([
        'image',
        'digest',
        'allowed',
        'reasons',
        'warnings',
      ]);
      expect(out.results[0]!['warnings']).toEqual(['w1']);
    });
  });
});

describe('toTextOutput', () => {
  describe('when verdicts differ', () => {
    it('prints one status line per image and one line per reason, warning and audit', () => {
      const text = toTextOutput([
        verdict({
          warnings: ['careful'],
          audits: [
            { code: 'SIGNATURES_NOT_REQUIRED', message: 'exempt', policy: 'ClusterTrustPolicy/x' },
          ],
        }),
        denied,
        undecided,
      ]);
      expect(text.split('\n')).toEqual([
        `ALLOWED registry.example.com/team/web:1.0 ${DIGEST} (ClusterTrustPolicy/p)`,
        '  warning: careful',
        '  audit: SIGNATURES_NOT_REQUIRED [ClusterTrustPolicy/x]: exempt',
        'DENIED registry.example.com/team/web:1.0 (ClusterTrustPolicy/p)',
        '  TAG_NOT_SIGNED [ClusterTrustPolicy/p]: tag 1.0 is not signed',
        'INCONCLUSIVE registry.example.com/team/web:1.0 (ClusterTrustPolicy/p)',
        '  TRUST_SOURCE_UNAVAILABLE [ClusterTrustPolicy/p]: notary down',
      ]);
    });
  });
});
