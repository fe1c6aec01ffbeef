// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import type { ReasonCode } from '../../errors.js';
import type { SourceOutcome } from '../../result.js';
import { compilePolicy } from '../compile.js';
import {
  activeSources,
  evaluateImage,
  evaluatePolicy,
  isSourceActive,
  type EvaluateInput,
  type MatchedPolicy,
} from '../evaluate.js';
import type { CompiledPolicy, PolicyMode } from '../types.js';
import { CA_CERT, KEY_ID } from './pki.js';

const NOW = new Date('2026-12-02T12:00:00Z');
const LATER = new Date('2026-12-10T00:00:00Z');
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

function policy(
  name: string,
  opts: { mode?: PolicyMode; requireSignatures?: boolean; until?: string } = {},
): CompiledPolicy {
  return compilePolicy({
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterTrustPolicy',
    metadata: { name },
    spec: {
      images: ['**'],
      ...(opts.mode ? { mode: opts.mode } : {}),
      ...(opts.requireSignatures === false ? { requireSignatures: false } : {}),
      trustSources: [
        { name: 'dct', notaryV1: { server: 'https://notary.example.com', rootKeys: [KEY_ID] } },
        { name: 'notation', notation: { trustStore: { ca: [CA_CERT] }, trustedIdentities: ['*'] } },
      ],
      ...(opts.until ? { migration: { notaryV1Until: opts.until } } : {}),
    },
  });
}

const ok = (source: string, digest = D1, validUntil = LATER): SourceOutcome => ({
  ok: true,
  source,
  digest,
  signers: ['targets'],
  validUntil,
});
const bad = (source: string, code: ReasonCode = 'TAG_NOT_SIGNED'): SourceOutcome => ({
  ok: false,
  source,
  definite: true,
  reason: { code, message: `${source}: ${code}` },
});
const down = (source: string, code: ReasonCode = 'TRUST_SOURCE_UNAVAILABLE'): SourceOutcome => ({
  ok: false,
  source,
  definite: false,
  reason: { code, message: `${source} unreachable`, source },
});

function run(matched: MatchedPolicy[], extra: Partial<EvaluateInput> = {}) {
  return evaluateImage({
    image: 'nginx:1.25',
    matched,
    noMatchAction: 'deny',
    failureAction: 'deny',
    now: NOW,
    ...extra,
  });
}

describe('evaluateImage', () => {
  describe('when no policy matches', () => {
    it('denies with NO_MATCHING_POLICY by default', () => {
      const v = run([]);
      expect(v).toMatchObject({
        allowed: false,
        inconclusive: false,
        policies: [],
        warnings: [],
        audits: [],
      });
      expect(v.reasons).toEqual([
        {
          code: 'NO_MATCHING_POLICY',
          message:
            'no TrustPolicy or ClusterTrustPolicy matches nginx:1.25; add one or set noMatchAction',
        },
      ]);
    });

    it('allows, with an audit record, when noMatchAction is allow', () => {
      const v = run([], { noMatchAction: 'allow', path: 'spec.containers[0].image' });
      expect(v).toMatchObject({ allowed: true, reasons: [], path: 'spec.containers[0].image' });
      expect(v.audits.map((r) => r.code)).toEqual(['NO_MATCHING_POLICY']);
    });
  });

  describe('when one enforce policy matches (OR across its sources)', () => {
    const p = policy('p');
    it.each<[string, SourceOutcome[], boolean, boolean]>([
      ['both sources pass', [ok('dct'), ok('notation')], true, false],
      ['one passes, one fails', [bad('dct'), ok('notation')], true, false],
      ['one passes, one is down', [down('dct'), ok('notation')], true, false],
      ['both fail', [bad('dct'), bad('notation', 'NO_TRUST_DATA')], false, false],
      ['both are down', [down('dct'), down('notation', 'TIMEOUT')], false, true],
      [
        'one fails and one is down (could have passed)',
        [bad('dct'), down('notation')],
        false,
        true,
      ],
    ])('%s → allowed=%s inconclusive=%s', (_what, outcomes, allowed, inconclusive) => {
      const v = run([{ policy: p, outcomes }]);
      expect(v.allowed).toBe(allowed);
      expect(v.inconclusive).toBe(inconclusive);
      expect(v.policies).toEqual(['ClusterTrustPolicy/p']);
    });

    it('returns the digest and the earliest validity of the passing sources', () => {
      const soon = new Date('2026-12-05T00:00:00Z');
      const v = run([{ policy: p, outcomes: [ok('dct', D1, LATER), ok('notation', D1, soon)] }]);
      expect(v.digest).toBe(D1);
      expect(v.validUntil).toEqual(soon);
      expect(v.outcomes?.[0]).toMatchObject({ status: 'pass', digest: D1, validUntil: soon });
    });

    it('reports every source reason with the policy id on failure', () => {
      const v = run([{ policy: p, outcomes: [bad('dct'), bad('notation', 'UNTRUSTED_IDENTITY')] }]);
      expect(v.reasons).toEqual([
        {
          code: 'TAG_NOT_SIGNED',
          message: 'dct: TAG_NOT_SIGNED',
          policy: 'ClusterTrustPolicy/p',
          source: 'dct',
        },
        {
          code: 'UNTRUSTED_IDENTITY',
          message: 'notation: UNTRUSTED_IDENTITY',
          policy: 'ClusterTrustPolicy/p',
          source: 'notation',
        },
      ]);
    });

    it('fails with DIGEST_MISMATCH when its sources disagree on the digest', () => {
      const v = run([{ policy: p, outcomes: [ok('dct', D1), ok('notation', D2)] }]);
      expect(v.allowed).toBe(false);
      expect(v.reasons[0]?.code).toBe('DIGEST_MISMATCH');
      expect(v.digest).toBeUndefined();
    });

    it('fails with NO_TRUST_DATA when no source produced an outcome', () => {
      const v = run([{ policy: p, outcomes: [] }]);
      expect(v).toMatchObject({ allowed: false, inconclusive: false });
      expect(v.reasons[0]?.code).toBe('NO_TRUST_DATA');
    });
  });

  describe('when several policies match (AND across policies)', () => {
    it('allows only when every enforce policy passes', () => {
      const v = run([
        { policy: policy('a'), outcomes: [ok('dct')] },
        { policy: policy('b'), outcomes: [bad('dct'), bad('notation')] },
      ]);
      expect(v.allowed).toBe(false);
      expect(v.reasons.every((r) => r.policy === 'ClusterTrustPolicy/b')).toBe(true);
      expect(v.policies).toEqual(['ClusterTrustPolicy/a', 'ClusterTrustPolicy/b']);
    });

    it('allows when all pass with the same digest', () => {
      const v = run([
        { policy: policy('a'), outcomes: [ok('dct')] },
        { policy: policy('b'), outcomes: [ok('notation')] },
      ]);
      expect(v).toMatchObject({ allowed: true, digest: D1, reasons: [] });
    });

    it('denies with DIGEST_MISMATCH when passing enforce policies established different digests', () => {
      const v = run([
        { policy: policy('a'), outcomes: [ok('dct', D1)] },
        { policy: policy('b'), outcomes: [ok('notation', D2)] },
      ]);
      expect(v.allowed).toBe(false);
      expect(v.reasons.map((r) => [r.code, r.policy])).toEqual([
        ['DIGEST_MISMATCH', 'ClusterTrustPolicy/a'],
        ['DIGEST_MISMATCH', 'ClusterTrustPolicy/b'],
      ]);
      expect(v.digest).toBeUndefined();
    });

    it('leaves the other policies alone when enforce policies disagree on the digest', () => {
      const v = run([
        { policy: policy('a'), outcomes: [ok('dct', D1)] },
        { policy: policy('b'), outcomes: [ok('notation', D2)] },
        { policy: policy('w', { mode: 'warn' }), outcomes: [bad('dct')] },
      ]);
      expect(v.allowed).toBe(false);
      expect(v.outcomes?.map((o) => [o.policy, o.status])).toEqual([
        ['ClusterTrustPolicy/a', 'fail'],
        ['ClusterTrustPolicy/b', 'fail'],
        ['ClusterTrustPolicy/w', 'fail'],
      ]);
      expect(v.warnings).toHaveLength(1);
    });

    it('warns when a warn policy verified another digest than the enforced one', () => {
      const v = run([
        { policy: policy('a'), outcomes: [ok('dct', D1)] },
        { policy: policy('w', { mode: 'warn' }), outcomes: [ok('notation', D2)] },
      ]);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
      expect(v.warnings).toEqual([
        expect.stringMatching(/^\[ClusterTrustPolicy\/w\] image nginx:1.25: DIGEST_MISMATCH: /),
      ]);
    });

    it('takes the digest from warn/audit policies when no enforce policy passed', () => {
      const v = run([
        { policy: policy('w', { mode: 'warn' }), outcomes: [ok('dct', D2)] },
        { policy: policy('x', { mode: 'audit' }), outcomes: [ok('dct', D2)] },
      ]);
      expect(v).toMatchObject({ allowed: true, digest: D2, warnings: [], audits: [] });
    });

    it('records a mismatch between non-enforce policies without denying', () => {
      const v = run([
        { policy: policy('w', { mode: 'warn' }), outcomes: [ok('dct', D1)] },
        { policy: policy('x', { mode: 'audit' }), outcomes: [ok('dct', D2)] },
      ]);
      expect(v.allowed).toBe(true);
      expect(v.digest).toBeUndefined();
      expect(v.warnings).toHaveLength(1);
      expect(v.audits.map((r) => r.code)).toEqual(['DIGEST_MISMATCH']);
    });
  });

  describe('when a policy is in warn or audit mode', () => {
    it('warn never denies and adds a warning per reason', () => {
      const v = run([
        { policy: policy('w', { mode: 'warn' }), outcomes: [bad('dct'), bad('notation')] },
      ]);
      expect(v).toMatchObject({ allowed: true, reasons: [], audits: [] });
      expect(v.warnings).toEqual([
        '[ClusterTrustPolicy/w] image nginx:1.25: TAG_NOT_SIGNED: dct: TAG_NOT_SIGNED',
        '[ClusterTrustPolicy/w] image nginx:1.25: TAG_NOT_SIGNED: notation: TAG_NOT_SIGNED',
      ]);
    });

    it('warn also covers inconclusive results', () => {
      const v = run([
        { policy: policy('w', { mode: 'warn' }), outcomes: [down('dct'), down('notation')] },
      ]);
      expect(v).toMatchObject({ allowed: true, inconclusive: false });
      expect(v.warnings).toHaveLength(2);
    });

    it('audit never denies and records the reasons', () => {
      const v = run([
        { policy: policy('x', { mode: 'audit' }), outcomes: [bad('dct'), down('notation')] },
      ]);
      expect(v).toMatchObject({ allowed: true, warnings: [], reasons: [] });
      expect(v.audits.map((r) => r.code)).toEqual(['TAG_NOT_SIGNED', 'TRUST_SOURCE_UNAVAILABLE']);
    });

    it('an enforce failure still denies next to a warn policy', () => {
      const v = run([
        { policy: policy('w', { mode: 'warn' }), outcomes: [bad('dct')] },
        { policy: policy('e'), outcomes: [bad('dct')] },
      ]);
      expect(v.allowed).toBe(false);
      expect(v.warnings).toHaveLength(1);
    });

    it('an unknown mode is enforced', () => {
      const p = { ...policy('odd'), mode: 'shadow' as PolicyMode };
      expect(run([{ policy: p, outcomes: [bad('dct')] }]).allowed).toBe(false);
      expect(run([{ policy: p, outcomes: [down('dct')] }])).toMatchObject({
        allowed: false,
        inconclusive: true,
      });
    });
  });

  describe('when a policy does not require signatures', () => {
    it('exempts the image and records an audit reason', () => {
      const v = run([
        { policy: policy('free', { requireSignatures: false }), outcomes: [bad('dct')] },
      ]);
      expect(v).toMatchObject({ allowed: true, reasons: [], warnings: [] });
      expect(v.audits).toEqual([
        expect.objectContaining({
          code: 'SIGNATURES_NOT_REQUIRED',
          policy: 'ClusterTrustPolicy/free',
        }),
      ]);
      expect(v.outcomes?.[0]?.status).toBe('exempt');
    });

    it('does not override another policy that fails', () => {
      const v = run([
        { policy: policy('free', { requireSignatures: false }), outcomes: [] },
        { policy: policy('e'), outcomes: [bad('dct')] },
      ]);
      expect(v.allowed).toBe(false);
    });
  });

  describe('when results are inconclusive', () => {
    const p = policy('p');
    it('failureAction deny denies, marked inconclusive, with the inconclusive reasons', () => {
      const v = run([{ policy: p, outcomes: [down('dct'), down('notation', 'TIMEOUT')] }]);
      expect(v).toMatchObject({ allowed: false, inconclusive: true, warnings: [] });
      expect(v.reasons.map((r) => r.code)).toEqual(['TRUST_SOURCE_UNAVAILABLE', 'TIMEOUT']);
    });

    it('failureAction allow admits with a warning and keeps the details', () => {
      const v = run([{ policy: p, outcomes: [down('dct'), down('notation', 'TIMEOUT')] }], {
        failureAction: 'allow',
      });
      expect(v).toMatchObject({ allowed: true, inconclusive: false });
      expect(v.reasons.map((r) => r.code)).toEqual(['TRUST_SOURCE_UNAVAILABLE', 'TIMEOUT']);
      expect(v.warnings[0]).toMatch(
        /TRUST_SOURCE_UNAVAILABLE: dct unreachable \(allowed because failureAction is allow\)$/,
      );
    });

    it('failureAction allow does not rescue a definite failure elsewhere', () => {
      const v = run(
        [
          { policy: policy('a'), outcomes: [down('dct')] },
          { policy: policy('b'), outcomes: [bad('dct')] },
        ],
        { failureAction: 'allow' },
      );
      expect(v).toMatchObject({ allowed: false, inconclusive: false });
      expect(v.reasons.map((r) => r.code)).toEqual(['TAG_NOT_SIGNED', 'TRUST_SOURCE_UNAVAILABLE']);
    });
  });

  describe('when the policy migrates from DCT to Notation', () => {
    const p = policy('mig', { until: '2026-12-08T00:00:00Z' });

    it('before the date, Notary v1 outcomes count', () => {
      expect(run([{ policy: p, outcomes: [ok('dct'), bad('notation')] }]).allowed).toBe(true);
      expect(run([{ policy: p, outcomes: [bad('dct'), ok('notation')] }]).allowed).toBe(true);
    });

    it('after the date, Notary v1 outcomes no longer count', () => {
      const v = run([{ policy: p, outcomes: [ok('dct'), bad('notation')] }], { now: LATER });
      expect(v.allowed).toBe(false);
      expect(v.reasons[0]).toEqual({
        code: 'NO_TRUST_DATA',
        message:
          'Notary v1 signatures are no longer accepted by ClusterTrustPolicy/mig since 2026-12-08T00:00:00.000Z; sign with Notation',
        policy: 'ClusterTrustPolicy/mig',
        source: 'dct',
      });
    });

    it('after the date, an unreachable notary no longer makes the result inconclusive', () => {
      const v = run([{ policy: p, outcomes: [down('dct'), bad('notation')] }], { now: LATER });
      expect(v).toMatchObject({ allowed: false, inconclusive: false });
    });

    it('after the date, Notation still passes', () => {
      expect(
        run([{ policy: p, outcomes: [bad('dct'), ok('notation')] }], { now: LATER }).allowed,
      ).toBe(true);
    });

    it('counts outcomes from sources the policy does not list', () => {
      expect(run([{ policy: p, outcomes: [ok('other')] }], { now: LATER }).allowed).toBe(true);
    });
  });
});

describe('isSourceActive / activeSources', () => {
  const p = policy('mig', { until: '2026-12-08T00:00:00Z' });
  it('drops Notary v1 sources from the cut-over instant on', () => {
    expect(activeSources(p, NOW).map((s) => s.name)).toEqual(['dct', 'notation']);
    expect(activeSources(p, new Date('2026-12-08T00:00:00Z')).map((s) => s.name)).toEqual([
      'notation',
    ]);
    expect(isSourceActive(policy('plain'), policy('plain').sources[0]!, LATER)).toBe(true);
  });
});

describe('evaluatePolicy', () => {
  it('keeps a source name already on the reason', () => {
    const o = evaluatePolicy(
      policy('p'),
      [
        {
          ok: false,
          source: 'dct',
          definite: true,
          reason: { code: 'TAG_NOT_SIGNED', message: 'm', source: 'inner' },
        },
      ],
      NOW,
    );
    expect(o.reasons[0]?.source).toBe('inner');
  });
});
