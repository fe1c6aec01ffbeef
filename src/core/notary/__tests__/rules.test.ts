// SPDX-License-Identifier: Apache-2.0
// Docker resolution and the SPEC §3.1 policy rules over hand-built verified repositories.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { parseImageReference } from '../../reference.js';
import type { CompiledPolicy, CompiledSigner } from '../../policy/types.js';
import { checkNotaryPolicy } from '../rules.js';
import { resolveTag } from '../resolve.js';
import type { TargetInfo, VerifiedRepository, VerifiedRole } from '../types.js';

const NOW = new Date('2026-11-30T00:00:00Z');
const DAY = 86_400_000;
const GUN = 'registry.example.com/team/app';
const D = (label: string): string => `sha256:${createHash('sha256').update(label).digest('hex')}`;

function role(
  name: string,
  tags: Record<string, string>,
  o: Partial<VerifiedRole> = {},
): VerifiedRole {
  const targets = new Map<string, TargetInfo>(
    Object.entries(tags).map(([t, d]) => [
      t,
      { name: t, length: 1, sha256: d.slice(7), digest: d },
    ]),
  );
  return {
    name,
    version: 1,
    expires: new Date(NOW.getTime() + 100 * DAY),
    validKeyIds: ['k1'],
    threshold: 1,
    paths: name === 'targets' ? null : [''],
    targets,
    ...o,
  };
}

function repo(
  roles: VerifiedRole[],
  problems: VerifiedRepository['problems'] = [],
): VerifiedRepository {
  return {
    gun: GUN,
    rootVersion: 1,
    rootKeyIds: [],
    timestampVersion: 1,
    snapshotVersion: 1,
    expires: new Date(NOW.getTime() + 14 * DAY),
    roles: new Map(roles.map((r) => [r.name, r])),
    problems,
  };
}

function policy(
  o: {
    signers?: [string, boolean][];
    thresholds?: [string, number][];
    paths?: string[];
    maxAgeDays?: number;
  } = {},
): CompiledPolicy {
  const signers: CompiledSigner[] = (o.signers ?? []).map(([r, required]) => ({
    name: r.replace(/^targets\//, ''),
    role: r,
    required,
    identities: [],
  }));
  return {
    id: 'ClusterTrustPolicy/p',
    kind: 'ClusterTrustPolicy',
    name: 'p',
    generation: '1',
    mode: 'enforce',
    images: [],
    imageMatchers: [],
    requireSignatures: true,
    sources: [],
    signers,
    thresholds: new Map(o.thresholds ?? []),
    ...(o.paths
      ? {
          allowPaths: o.paths.map(
            (p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`),
          ),
          allowPathPatterns: o.paths,
        }
      : {}),
    ...(o.maxAgeDays !== undefined ? { maxAgeMs: o.maxAgeDays * DAY } : {}),
  };
}

const check = (r: VerifiedRepository, ref: string, p: CompiledPolicy = policy()) =>
  checkNotaryPolicy({
    repo: r,
    ref: parseImageReference(`${GUN}${ref}`),
    policy: p,
    source: 'dct',
    now: NOW,
  });
const reasonOf = (o: ReturnType<typeof check>): [string, string] =>
  o.ok ? ['ok', o.digest] : [o.reason.code, o.reason.message];

describe('resolveTag', () => {
  const r = repo([
    role('targets', { a: D('t'), b: D('t') }),
    role('targets/releases', { a: D('r') }),
    role('targets/releases/sub', { b: D('s') }),
    role('targets/alice', { c: D('c') }),
  ]);
  describe('when no roles are given', () => {
    it('prefers targets/releases over targets', () =>
      expect(resolveTag(r, 'a')).toMatchObject({
        role: 'targets/releases',
        target: { digest: D('r') },
      }));
    it('refuses a hit only in a releases sub-delegation, as Docker does', () =>
      expect(resolveTag(r, 'b')).toBeNull());
    it('does not accept other delegations', () => expect(resolveTag(r, 'c')).toBeNull());
    it('falls back to targets', () =>
      expect(resolveTag(repo([role('targets', { x: D('x') })]), 'x')!.role).toBe('targets'));
  });
  describe('when roles are named', () => {
    it('returns the first named role holding the tag', () => {
      expect(resolveTag(r, 'a', ['targets/alice', 'targets'])!.role).toBe('targets');
      expect(resolveTag(r, 'c', ['targets/alice'])!.target.digest).toBe(D('c'));
      expect(resolveTag(r, 'z', ['targets'])).toBeNull();
    });
  });
});

describe('checkNotaryPolicy', () => {
  describe('when no signers are configured (Docker precedence)', () => {
    const r = repo([
      role('targets', { v1: D('t'), only: D('o') }),
      role('targets/releases', { v1: D('r') }),
      role('targets/releases/x', { deep: D('d') }),
    ]);
    it('returns the releases digest with the role used and the repository expiry', () => {
      expect(check(r, ':v1')).toEqual({
        ok: true,
        source: 'dct',
        digest: D('r'),
        signers: ['targets/releases'],
        validUntil: r.expires,
      });
      expect(check(r, ':only')).toMatchObject({ ok: true, digest: D('o'), signers: ['targets'] });
    });
    it('fails TAG_NOT_SIGNED naming the roles searched', () => {
      const o = check(r, ':nope');
      expect(o).toMatchObject({
        ok: false,
        definite: true,
        source: 'dct',
        reason: { code: 'TAG_NOT_SIGNED', policy: 'ClusterTrustPolicy/p', source: 'dct' },
      });
      expect(reasonOf(o)[1]).toBe(
        `tag nope of ${GUN} is not signed by targets/releases or targets`,
      );
      expect(reasonOf(check(r, ':deep'))[1]).toMatch(/only targets\/releases\/x signed it/);
      const dropped = repo(
        [role('targets', {})],
        [
          {
            role: 'targets/releases',
            code: 'METADATA_EXPIRED',
            message: 'targets/releases expired at X; ignored',
          },
        ],
      );
      expect(reasonOf(check(dropped, ':v1'))[1]).toMatch(
        /\(targets\/releases expired at X; ignored\)/,
      );
    });
    it('checks a pinned digest against the signed one', () => {
      expect(check(r, `:v1@${D('r')}`).ok).toBe(true);
      expect(reasonOf(check(r, `:v1@${D('t')}`))).toEqual([
        'DIGEST_MISMATCH',
        `tag v1 of ${GUN} is signed with ${D('r')}, but the reference pins ${D('t')}`,
      ]);
    });
    it('accepts a digest-only reference when a resolvable tag carries it', () => {
      expect(check(r, `@${D('r')}`)).toMatchObject({ ok: true, digest: D('r') });
      // Shadowed by releases: under Docker resolution no tag yields this digest.
      expect(reasonOf(check(r, `@${D('t')}`))[0]).toBe('TAG_NOT_SIGNED');
      expect(reasonOf(check(r, `@${D('zz')}`))).toEqual([
        'TAG_NOT_SIGNED',
        `digest ${D('zz')} of ${GUN} is not signed by targets/releases or targets`,
      ]);
    });
  });

  describe('when signers are configured', () => {
    const r = repo([
      role('targets', { v1: D('a') }),
      role('targets/security-team', { v1: D('a'), v2: D('b') }),
      role('targets/developer', { v1: D('a'), v2: D('c') }),
      role('targets/alice', { v3: D('x') }),
    ]);
    it('requires every required signer', () => {
      const p = policy({
        signers: [
          ['targets/security-team', true],
          ['targets/developer', true],
        ],
      });
      expect(check(r, ':v1', p)).toMatchObject({
        ok: true,
        digest: D('a'),
        signers: ['targets/security-team', 'targets/developer'],
      });
      expect(reasonOf(check(r, ':v3', p))).toEqual([
        'REQUIRED_SIGNER_MISSING',
        `tag v3 of ${GUN} is not signed by required signer targets/security-team`,
      ]);
    });
    it('requires all signing roles to agree on the digest', () => {
      const p = policy({
        signers: [
          ['targets/security-team', true],
          ['targets/developer', false],
        ],
      });
      expect(reasonOf(check(r, ':v2', p))).toEqual([
        'DIGEST_MISMATCH',
        `signers disagree on tag v2 of ${GUN}: targets/security-team signed ${D('b')}, targets/developer signed ${D('c')}`,
      ]);
    });
    it('needs one listed signer when none is required; other delegations only count when named', () => {
      const p = policy({
        signers: [
          ['targets/security-team', false],
          ['targets/developer', false],
        ],
      });
      expect(check(r, ':v1', p).ok).toBe(true);
      expect(reasonOf(check(r, ':v3', p))).toEqual([
        'TAG_NOT_SIGNED',
        `tag v3 of ${GUN} is not signed by targets/security-team or targets/developer`,
      ]);
      expect(check(r, ':v3', policy({ signers: [['targets/alice', false]] }))).toMatchObject({
        ok: true,
        signers: ['targets/alice'],
      });
    });
    it('accepts a digest-only reference through a tag that satisfies the signers', () => {
      const p = policy({ signers: [['targets/security-team', true]] });
      expect(check(r, `@${D('b')}`, p)).toMatchObject({ ok: true, digest: D('b') });
      expect(reasonOf(check(r, `@${D('x')}`, p))[0]).toBe('TAG_NOT_SIGNED');
      const both = policy({
        signers: [
          ['targets/security-team', true],
          ['targets/developer', true],
        ],
      });
      expect(reasonOf(check(r, `@${D('c')}`, both))[0]).toBe('DIGEST_MISMATCH');
      const withAlice = policy({
        signers: [
          ['targets/security-team', true],
          ['targets/alice', true],
        ],
      });
      expect(reasonOf(check(r, `@${D('x')}`, withAlice))[0]).toBe('REQUIRED_SIGNER_MISSING');
    });
  });

  describe('when thresholds are configured', () => {
    const r = repo([
      role('targets', { v1: D('a') }),
      role('targets/release-managers', { v1: D('a') }, { validKeyIds: ['k1'] }),
      role('targets/two', { v1: D('a'), v2: D('z') }, { validKeyIds: ['k1', 'k2'] }),
    ]);
    it('counts distinct valid key signatures on the role', () => {
      expect(
        reasonOf(check(r, ':v1', policy({ thresholds: [['targets/release-managers', 2]] }))),
      ).toEqual([
        'THRESHOLD_NOT_MET',
        'role targets/release-managers has 1 valid signature(s), policy requires 2',
      ]);
      expect(check(r, ':v1', policy({ thresholds: [['targets/two', 2]] }))).toMatchObject({
        ok: true,
        signers: ['targets', 'targets/two'],
      });
      expect(
        reasonOf(check(r, `@${D('z')}`, policy({ thresholds: [['targets/two', 2]] })))[0],
      ).toBe('TAG_NOT_SIGNED');
      const named = policy({ signers: [['targets/two', true]], thresholds: [['targets/two', 2]] });
      expect(check(r, `@${D('z')}`, named)).toMatchObject({
        ok: true,
        digest: D('z'),
        signers: ['targets/two'],
      });
    });
    it('requires the role to have signed the tag, and to agree with the other roles', () => {
      expect(reasonOf(check(r, ':v1', policy({ thresholds: [['targets/missing', 1]] })))[1]).toBe(
        `role targets/missing has not signed tag v1 of ${GUN}, policy requires 1 signature(s)`,
      );
      expect(
        reasonOf(
          check(
            repo([
              role('targets', { v2: D('a') }),
              role('targets/two', { v2: D('z') }, { validKeyIds: ['k1', 'k2'] }),
            ]),
            ':v2',
            policy({ thresholds: [['targets/two', 2]] }),
          ),
        )[0],
      ).toBe('DIGEST_MISMATCH');
    });
  });

  describe('when allowed paths are configured', () => {
    const r = repo([role('targets', { 'v1.2.3': D('a'), latest: D('b'), dev: D('b') })]);
    const p = policy({ paths: ['v*.*.*'] });
    it('admits matching tags and refuses others', () => {
      expect(check(r, ':v1.2.3', p).ok).toBe(true);
      expect(reasonOf(check(r, ':latest', p))).toEqual([
        'PATH_NOT_ALLOWED',
        `tag latest of ${GUN} is not allowed by ClusterTrustPolicy/p (allowed: v*.*.*)`,
      ]);
    });
    it('for a digest-only reference needs a matching signed tag', () => {
      expect(check(r, `@${D('a')}`, p).ok).toBe(true);
      expect(reasonOf(check(r, `@${D('b')}`, p))[0]).toBe('PATH_NOT_ALLOWED');
      const noPatterns = { ...p, allowPathPatterns: undefined } as unknown as CompiledPolicy;
      expect(reasonOf(check(r, ':latest', noPatterns))[1]).toMatch(/allowed: \^v/);
    });
  });

  describe('when a signature age limit is configured', () => {
    const r = repo([
      role('targets', { v1: D('a') }, { expires: new Date(NOW.getTime() + 30 * DAY) }),
    ]);
    it('refuses roles expiring later than the window', () => {
      expect(check(r, ':v1', policy({ maxAgeDays: 31 })).ok).toBe(true);
      expect(reasonOf(check(r, ':v1', policy({ maxAgeDays: 15 })))[0]).toBe('SIGNATURE_TOO_OLD');
    });
  });

  describe('when the reference has neither tag nor digest', () => {
    it('fails rather than guessing', () => {
      const ref = { ...parseImageReference(`${GUN}:v1`), tag: undefined } as unknown as ReturnType<
        typeof parseImageReference
      >;
      expect(
        checkNotaryPolicy({
          repo: repo([role('targets', {})]),
          ref,
          policy: policy(),
          source: 'dct',
          now: NOW,
        }),
      ).toMatchObject({ ok: false, reason: { code: 'TAG_NOT_SIGNED' } });
    });
  });
});
