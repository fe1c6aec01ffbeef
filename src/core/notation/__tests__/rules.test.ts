// SPDX-License-Identifier: Apache-2.0
// checkNotationPolicy: one valid signature, required signers, thresholds over distinct identities,
// signature age, inconclusive fetches, level skip.

import { describe, expect, it } from '@jest/globals';
import { InconclusiveError, VerificationError } from '../../errors.js';
import {
  buildJws,
  E2E_TARGET,
  generated,
  identity,
  notationSource,
  PINNED_NOW,
  policyWith,
} from '../../../__fixtures__/notation/builders.js';
import type { CompiledSigner } from '../../policy/types.js';
import { checkNotationPolicy } from '../rules.js';
import {
  toFailedNotationOutcome,
  verifyNotationEnvelope,
  type NotationSignatureOutcome,
} from '../verify.js';

const ecRoot = generated('ec-root').cert;
const source = notationSource({ ca: [ecRoot] });
const ref = { digest: E2E_TARGET.digest };
const DAY = 86_400_000;

/** The rule check for `ref` under the Notation source at the pinned instant. */
const check = (
  outcomes: readonly NotationSignatureOutcome[],
  policy: ReturnType<typeof policyWith>,
): ReturnType<typeof checkNotationPolicy> =>
  checkNotationPolicy({ outcomes, ref, policy, source: 'notation', now: PINNED_NOW });

function signedBy(
  name: string,
  signingTime = new Date('2025-05-01T00:00:00Z'),
): NotationSignatureOutcome {
  const id = generated(name);
  const env = buildJws({ key: id.key!, chain: [id.cert, ecRoot], alg: 'ES256', signingTime });
  return verifyNotationEnvelope(env, 'application/jose+json', {
    subject: E2E_TARGET,
    source,
    now: PINNED_NOW,
  });
}
const release = identity({ C: 'US', ST: 'WA', O: 'Trustgate Test', OU: 'Release' });
const security = identity({ C: 'US', ST: 'WA', O: 'Trustgate Test', OU: 'Security' });
const signer = (
  name: string,
  identities: CompiledSigner['identities'],
  required = false,
): CompiledSigner => ({
  name,
  role: `targets/${name}`,
  required,
  identities,
});
const untrusted = (): NotationSignatureOutcome => {
  const other = generated('other-leaf');
  const env = buildJws({
    key: other.key!,
    chain: [other.cert, generated('other-root').cert],
    alg: 'ES256',
  });
  return verifyNotationEnvelope(env, 'application/jose+json', {
    subject: E2E_TARGET,
    source,
    now: PINNED_NOW,
  });
};

/** A valid outcome as only level skip produces it: no identity, key id, signing time or validUntil. */
const bare = (extra: Partial<NotationSignatureOutcome> = {}): NotationSignatureOutcome => ({
  ok: true,
  level: 'strict',
  checks: [],
  logged: [],
  ...extra,
});

describe('checkNotationPolicy', () => {
  describe('when there are no signer roles', () => {
    it('passes with one valid signature among failed ones and lists the identity', () => {
      const r = check([untrusted(), signedBy('ec-leaf')], policyWith({}));
      expect(r).toEqual({
        ok: true,
        source: 'notation',
        digest: E2E_TARGET.digest,
        signers: ['CN=release-bot,OU=Release,O=Trustgate Test,ST=WA,C=US'],
        validUntil: new Date('2120-01-01T00:00:00Z'),
      });
    });

    it('fails with NO_TRUST_DATA when there is no signature at all', () => {
      const r = check([], policyWith({}));
      expect(r).toEqual(
        expect.objectContaining({
          ok: false,
          definite: true,
          reason: expect.objectContaining({
            code: 'NO_TRUST_DATA',
            message: `no Notation signature found for ${E2E_TARGET.digest}`,
          }),
        }),
      );
    });

    it('lists "unknown" for a valid signature without an identity', () => {
      const r = check([bare()], policyWith({}));
      expect(r.ok && r.signers).toEqual(['unknown']);
    });

    it('does not bound validUntil by a signingAuthority signature without expiry (no chain notAfter applies)', () => {
      const id = generated('ec-leaf');
      const sa = verifyNotationEnvelope(
        buildJws({
          key: id.key!,
          chain: [id.cert, ecRoot],
          alg: 'ES256',
          scheme: 'notary.x509.signingAuthority',
          signingTime: new Date('2025-05-01T00:00:00Z'),
        }),
        'application/jose+json',
        {
          subject: E2E_TARGET,
          source: notationSource({ signingAuthority: [ecRoot] }),
          now: PINNED_NOW,
        },
      );
      expect(sa.ok).toBe(true);
      expect(sa.validUntil).toBeUndefined();
      const r = check([sa], policyWith({}));
      expect(r.ok && r.validUntil.getTime()).toBe(8.64e15);
    });

    it("names the only signature's failure as rejected", () => {
      const r = check([untrusted()], policyWith({}));
      expect(r.ok === false && r.reason).toEqual(
        expect.objectContaining({
          code: 'ROOT_NOT_TRUSTED',
          message: expect.stringMatching(
            new RegExp(`^Notation signature for ${E2E_TARGET.digest} rejected: `),
          ),
        }),
      );
    });

    it('is inconclusive with the fetch error when the only signature could not be fetched', () => {
      const down = toFailedNotationOutcome(
        new InconclusiveError('TIMEOUT', 'registry timed out'),
        'strict',
      );
      const r = check([down], policyWith({}));
      expect(r).toEqual(
        expect.objectContaining({
          ok: false,
          definite: false,
          reason: expect.objectContaining({
            code: 'TIMEOUT',
            message: `Notation signature for ${E2E_TARGET.digest} rejected: registry timed out`,
          }),
        }),
      );
    });

    it('reports the failure of the signature that got furthest', () => {
      const garbage = toFailedNotationOutcome(
        new VerificationError('SIGNATURE_INVALID', 'bad'),
        'strict',
      );
      const r = check([garbage, untrusted()], policyWith({}));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason.code).toBe('ROOT_NOT_TRUSTED');
        expect(r.reason.message).toMatch(/none of the 2 Notation signatures/);
        expect(r.reason.policy).toBe('ClusterTrustPolicy/test');
      }
    });

    it('is inconclusive (not definite) when nothing is valid and one signature could not be fetched', () => {
      const down = toFailedNotationOutcome(
        new InconclusiveError('TIMEOUT', 'registry timed out'),
        'strict',
      );
      const r = check([untrusted(), down], policyWith({}));
      expect(r).toEqual(
        expect.objectContaining({
          ok: false,
          definite: false,
          reason: expect.objectContaining({ code: 'TIMEOUT' }),
        }),
      );
    });
  });

  describe('when the policy limits signature age', () => {
    it('fails with SIGNATURE_TOO_OLD when every valid signature is older than maxAge', () => {
      const old = signedBy('ec-leaf', new Date('2025-01-01T00:00:00Z'));
      const r = check([old], policyWith({ maxAgeMs: 15 * DAY }));
      expect(r.ok === false && r.reason.code).toBe('SIGNATURE_TOO_OLD');
    });

    it('counts a valid signature without a signing time as too old (it cannot prove freshness)', () => {
      const r = check([bare()], policyWith({ maxAgeMs: 15 * DAY }));
      expect(r.ok === false && [r.reason.code, r.definite]).toEqual(['SIGNATURE_TOO_OLD', true]);
    });

    it('passes with a fresh one and caps validUntil at signing time + maxAge', () => {
      const fresh = signedBy('ec-leaf', new Date('2025-05-30T00:00:00Z'));
      const r = check(
        [signedBy('ec-leaf', new Date('2025-01-01T00:00:00Z')), fresh],
        policyWith({ maxAgeMs: 15 * DAY }),
      );
      expect(r.ok && r.validUntil.toISOString()).toBe('2025-06-14T00:00:00.000Z');
    });
  });

  describe('when signer roles define identities', () => {
    const signers = [signer('release', [release], true), signer('security', [security], true)];

    it('passes when every required role has a valid signature and names the roles', () => {
      const r = check([signedBy('ec-leaf'), signedBy('ec-leaf2')], policyWith({ signers }));
      expect(r.ok && r.signers).toEqual(['release', 'security']);
    });

    it('fails with REQUIRED_SIGNER_MISSING when one required role has none', () => {
      const r = check([signedBy('ec-leaf')], policyWith({ signers }));
      expect(r.ok === false && r.reason).toEqual(
        expect.objectContaining({
          code: 'REQUIRED_SIGNER_MISSING',
          message: expect.stringContaining('"security"'),
        }),
      );
    });

    it('accepts any valid signature for a role whose identity is "*"', () => {
      const r = check(
        [signedBy('ec-leaf2')],
        policyWith({ signers: [signer('anyone', ['*'], true)] }),
      );
      expect(r.ok && r.signers).toEqual(['anyone']);
    });

    it('ignores a threshold naming an identity-less signer next to a Notation role', () => {
      const r = check(
        [signedBy('ec-leaf')],
        policyWith({
          signers: [signer('release', [release], true), signer('notary', [])],
          thresholds: { 'targets/notary': 3 },
        }),
      );
      expect(r.ok && r.signers).toEqual(['release']);
    });

    it('ignores identity-less (Notary v1) signers and thresholds naming them', () => {
      const r = check(
        [signedBy('ec-leaf')],
        policyWith({
          signers: [signer('releases', [], true)],
          thresholds: { 'targets/releases': 3 },
        }),
      );
      expect(r.ok).toBe(true);
    });
  });

  describe('when a threshold applies to a role', () => {
    const twoReleaseIds = [
      identity({ C: 'US', O: 'Trustgate Test', CN: 'release-bot' }),
      identity({ C: 'US', O: 'Trustgate Test', CN: 'release-bot-2' }),
    ];
    const policy = policyWith({
      signers: [signer('release-managers', twoReleaseIds)],
      thresholds: { 'targets/release-managers': 2 },
    });

    it('passes with two signatures from distinct identities', () => {
      const r = check([signedBy('ec-leaf'), signedBy('ec-leaf3')], policy);
      expect(r.ok).toBe(true);
    });

    it('fails with THRESHOLD_NOT_MET for two signatures by the same key', () => {
      const r = check(
        [signedBy('ec-leaf'), signedBy('ec-leaf', new Date('2025-05-02T00:00:00Z'))],
        policy,
      );
      expect(r.ok === false && r.reason).toEqual(
        expect.objectContaining({
          code: 'THRESHOLD_NOT_MET',
          message: expect.stringMatching(/needs 2 .* found 1/),
        }),
      );
    });

    it('fails when two keys can only fill the same identity (no augmenting path)', () => {
      const ids = [identity({ C: 'US', OU: 'Release' }), identity({ CN: 'nobody' })];
      const p = policyWith({ signers: [signer('rm', ids)], thresholds: { rm: 2 } });
      const r = check([signedBy('ec-leaf'), signedBy('ec-leaf3')], p);
      expect(r.ok === false && r.reason.message).toMatch(/needs 2 .* found 1/);
    });

    it('counts signatures without a key id as distinct signers', () => {
      const p = policyWith({ signers: [signer('rm', [release, security])], thresholds: { rm: 2 } });
      const r = check(
        [bare({ identityAttributes: release }), bare({ identityAttributes: security })],
        p,
      );
      expect(r.ok && r.signers).toEqual(['rm']);
    });

    it('counts one signer once even when it matches two identities of the role', () => {
      const broad = [
        identity({ C: 'US', OU: 'Release' }),
        identity({ C: 'US', O: 'Trustgate Test' }),
      ];
      const p = policyWith({ signers: [signer('rm', broad)], thresholds: { rm: 2 } });
      expect(check([signedBy('ec-leaf')], p).ok).toBe(false);
      // Two keys, where only a matching that avoids the greedy choice reaches 2 (augmenting path).
      const ids = [
        identity({ C: 'US', O: 'Trustgate Test' }),
        identity({ C: 'US', OU: 'Release' }),
      ];
      const q = policyWith({ signers: [signer('rm', ids)], thresholds: { rm: 2 } });
      expect(check([signedBy('ec-leaf'), signedBy('ec-leaf2')], q).ok).toBe(true);
    });
  });

  describe('when the source level is skip', () => {
    it('passes without any signature', () => {
      const p = policyWith({ sources: [notationSource({ level: 'skip' })] });
      expect(check([], p).ok).toBe(true);
    });
  });
});
