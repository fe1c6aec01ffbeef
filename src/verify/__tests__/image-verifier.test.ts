// SPDX-License-Identifier: Apache-2.0
// DefaultImageVerifier over fake ports (no network): policy selection, Notary v1 and Notation
// sources, the registry digest cross-check, caching rules, migration mode and `--at`.

import { beforeEach, describe, expect, it } from '@jest/globals';
import { TtlCache } from '../../cache/ttl-cache.js';
import { InconclusiveError, VerificationError } from '../../core/errors.js';
import type { TargetInfo, VerifiedRepository, VerifiedRole } from '../../core/notary/types.js';
import type { NotationSignatureOutcome } from '../../core/notation/verify.js';
import { compilePolicy } from '../../core/policy/compile.js';
import { CA_CERT, KEY_ID } from '../../core/policy/__tests__/pki.js';
import type {
  CompiledNotaryV1Source,
  CompiledNotationSource,
  CompiledPolicy,
  TrustPolicySpec,
} from '../../core/policy/types.js';
import type { ImageVerdict, SourceOutcome } from '../../core/result.js';
import { createDeadline } from '../deadline.js';
import {
  DefaultImageVerifier,
  type ImageVerifierOptions,
  type MemoisedVerdict,
  type NotaryTrustData,
  type NotationSignatures,
} from '../image-verifier.js';
import type {
  FetchedManifest,
  NamespaceInfo,
  NamespaceSource,
  OciDescriptor,
  OciSource,
  RegistryRequestContext,
  VerifyContext,
} from '../ports.js';

const GUN = 'registry.example.com/team/web';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const START = new Date('2026-12-02T00:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const YEAR = 365 * 24 * 60 * MINUTE;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

// ---------------------------------------------------------------------------------------------
// Fakes

class FakeClock {
  t = START.getTime();
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

function role(name: string, targets: Record<string, string>, expires: Date): VerifiedRole {
  return {
    name,
    version: 1,
    expires,
    validKeyIds: ['k1'],
    threshold: 1,
    paths: null,
    targets: new Map(
      Object.entries(targets).map(([tag, digest]): [string, TargetInfo] => [
        tag,
        { name: tag, length: 100, sha256: digest.slice(7), digest },
      ]),
    ),
  };
}

/** Trust data with `targets` signing `tags`; everything expires at `expires`. */
function repo(
  tags: Record<string, string>,
  expires = new Date(START.getTime() + YEAR),
): VerifiedRepository {
  return {
    gun: GUN,
    rootVersion: 1,
    rootKeyIds: [KEY_ID],
    timestampVersion: 1,
    snapshotVersion: 1,
    expires,
    roles: new Map([['targets', role('targets', tags, expires)]]),
    problems: [],
  };
}

class FakeNotary implements NotaryTrustData {
  calls: { gun: string; now: Date; server: string }[] = [];
  answer: VerifiedRepository | Error = repo({ v1: D1 });
  load(
    source: CompiledNotaryV1Source,
    gun: string,
    ctx: { now: Date },
  ): Promise<VerifiedRepository> {
    this.calls.push({ gun, now: ctx.now, server: source.server });
    return this.answer instanceof Error
      ? Promise.reject(this.answer)
      : Promise.resolve(this.answer);
  }
}

class FakeOci implements OciSource {
  tagCalls: string[] = [];
  manifestCalls: string[] = [];
  /** What each tag resolves to; a missing tag is a 404 (null). */
  tags = new Map<string, OciDescriptor | Error>([
    ['v1', { mediaType: MANIFEST, digest: D1, size: 100 }],
  ]);
  resolveTag(
    name: { registry: string; repository: string },
    tag: string,
  ): Promise<OciDescriptor | null> {
    this.tagCalls.push(`${name.registry}/${name.repository}:${tag}`);
    const d = this.tags.get(tag);
    return d instanceof Error ? Promise.reject(d) : Promise.resolve(d ?? null);
  }
  fetchManifest(
    name: { registry: string; repository: string },
    reference: string,
  ): Promise<FetchedManifest> {
    this.manifestCalls.push(`${name.registry}/${name.repository}@${reference}`);
    return Promise.resolve({
      descriptor: { mediaType: MANIFEST, digest: reference, size: 321 },
      bytes: new Uint8Array(),
    });
  }
  fetchBlob(): Promise<Uint8Array> {
    return Promise.reject(new Error('not used by the verifier'));
  }
  listReferrers(): Promise<readonly OciDescriptor[]> {
    return Promise.reject(new Error('not used by the verifier'));
  }
}

function notationOk(identity = 'CN=Release,O=Example'): NotationSignatureOutcome {
  return {
    ok: true,
    level: 'strict',
    checks: [],
    logged: [],
    identity,
    signingTime: new Date(START.getTime() - MINUTE),
  };
}

class FakeNotation implements NotationSignatures {
  calls: { subject: { digest: string; size: number; mediaType: string }; now: Date }[] = [];
  answer: NotationSignatureOutcome[] | Error = [notationOk()];
  load(
    _source: CompiledNotationSource,
    _name: { registry: string; repository: string },
    subject: { digest: string; size: number; mediaType: string },
    ctx: RegistryRequestContext & { now: Date },
  ): Promise<NotationSignatureOutcome[]> {
    this.calls.push({ subject, now: ctx.now });
    return this.answer instanceof Error
      ? Promise.reject(this.answer)
      : Promise.resolve(this.answer);
  }
}

// ---------------------------------------------------------------------------------------------
// Policies (compiled from real resources)

const NOTARY_SOURCE = {
  name: 'dct',
  notaryV1: { server: 'http://127.0.0.1:4443', rootKeys: [KEY_ID] },
};
const NOTATION_SOURCE = {
  name: 'notation',
  notation: { trustStore: { ca: [CA_CERT] }, trustedIdentities: ['*'] },
};

function cluster(name: string, spec: Partial<TrustPolicySpec> = {}): CompiledPolicy {
  return compilePolicy({
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterTrustPolicy',
    metadata: { name },
    spec: { images: ['registry.example.com/team/*'], trustSources: [NOTARY_SOURCE], ...spec },
  });
}

function namespaced(
  name: string,
  namespace: string,
  spec: Partial<TrustPolicySpec> = {},
): CompiledPolicy {
  return compilePolicy({
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'TrustPolicy',
    metadata: { name, namespace },
    spec: { images: ['registry.example.com/team/*'], trustSources: [NOTARY_SOURCE], ...spec },
  });
}

/** Two policies on separate notary servers; `web`'s id is a prefix of `web-b`'s. */
const SERVER_A = NOTARY_SOURCE.notaryV1.server;
const SERVER_B = 'http://127.0.0.1:4444';
const WEB = 'ClusterTrustPolicy/web';
function webB(spec: Partial<TrustPolicySpec> = {}): CompiledPolicy {
  return cluster('web-b', {
    trustSources: [{ name: 'dct', notaryV1: { server: SERVER_B, rootKeys: [KEY_ID] } }],
    ...spec,
  });
}

// ---------------------------------------------------------------------------------------------
// Harness

/** Verifier settings every harness starts from (each test overrides what it is about). */
const SETTINGS: ImageVerifierOptions['settings'] = {
  noMatchAction: 'deny',
  failureAction: 'deny',
  verifyRegistryDigest: true,
  maxTtlMs: 5 * MINUTE,
  negativeTtlMs: 30 * SECOND,
  tagTtlMs: 30 * SECOND,
};

let clock: FakeClock;
let notary: FakeNotary;
let oci: FakeOci;
let notation: FakeNotation;
let events: string[];

beforeEach(() => {
  clock = new FakeClock();
  notary = new FakeNotary();
  oci = new FakeOci();
  notation = new FakeNotation();
  events = [];
});

interface Setup {
  policies?: CompiledPolicy[];
  namespaces?: NamespaceSource;
  registry?: boolean;
  settings?: Partial<ImageVerifierOptions['settings']>;
}

function verifier(setup: Setup = {}): DefaultImageVerifier {
  const registry = setup.registry ?? true;
  return new DefaultImageVerifier({
    policies: { current: () => setup.policies ?? [cluster('p')], ready: () => true },
    ...(setup.namespaces ? { namespaces: setup.namespaces } : {}),
    notary,
    ...(registry ? { oci, notation } : {}),
    clock,
    outcomeCache: new TtlCache<string, SourceOutcome>({ maxEntries: 100, clock }),
    tagCache: new TtlCache<string, OciDescriptor | null>({ maxEntries: 100, clock }),
    settings: {
      ...SETTINGS,
      ...setup.settings,
    },
    events: { verification: (s, r) => events.push(`${s}:${r}`) },
  });
}

function ctx(over: Partial<VerifyContext> = {}): VerifyContext {
  return { namespace: '', deadline: createDeadline(5000), ...over };
}

async function verifyOne(
  v: DefaultImageVerifier,
  image: string,
  c: VerifyContext = ctx(),
): Promise<ImageVerdict> {
  const [verdict] = await v.verifyImages([{ image, path: 'spec.containers[0].image' }], c);
  return verdict!;
}

function codes(v: ImageVerdict): string[] {
  return v.reasons.map((r) => r.code);
}

// ---------------------------------------------------------------------------------------------

describe('DefaultImageVerifier', () => {
  describe('when the reference is invalid', () => {
    it('denies with INVALID_IMAGE_REFERENCE and calls nothing upstream', async () => {
      const v = await verifyOne(verifier(), 'Registry.Example.com/UPPER:tag');
      expect(v).toMatchObject({
        allowed: false,
        inconclusive: false,
        path: 'spec.containers[0].image',
      });
      expect(codes(v)).toEqual(['INVALID_IMAGE_REFERENCE']);
      expect(notary.calls).toHaveLength(0);
      expect(oci.tagCalls).toHaveLength(0);
    });
  });

  describe('when no policy matches', () => {
    it('denies with NO_MATCHING_POLICY when noMatchAction is deny', async () => {
      const v = await verifyOne(verifier(), 'quay.io/other/app:1');
      expect(v.allowed).toBe(false);
      expect(codes(v)).toEqual(['NO_MATCHING_POLICY']);
      expect(notary.calls).toHaveLength(0);
    });

    it('allows and records an audit when noMatchAction is allow', async () => {
      const v = await verifyOne(
        verifier({ settings: { noMatchAction: 'allow' } }),
        'quay.io/other/app:1',
      );
      expect(v.allowed).toBe(true);
      expect(v.audits.map((a) => a.code)).toEqual(['NO_MATCHING_POLICY']);
    });
  });

  describe('when the tag is signed and the registry serves the signed digest', () => {
    it('allows with the digest, asking notary for the GUN and the registry for the tag', async () => {
      const v = await verifyOne(verifier(), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: true, digest: D1, policies: ['ClusterTrustPolicy/p'] });
      expect(notary.calls).toEqual([{ gun: GUN, now: START, server: 'http://127.0.0.1:4443' }]);
      expect(oci.tagCalls).toEqual([`${GUN}:v1`]);
      expect(events).toEqual(['notaryV1:pass']);
    });
  });

  describe('when both the trust source and the registry are slow (cold path)', () => {
    it('asks the registry for the tag while the trust source is consulted', async () => {
      // Notary answers only once the registry was asked: a sequential check would never finish.
      let asked: () => void = () => undefined;
      const registryAsked = new Promise<void>((resolve) => (asked = resolve));
      const load = notary.load.bind(notary);
      notary.load = (source, gun, ctx) => registryAsked.then(() => load(source, gun, ctx));
      const resolveTag = oci.resolveTag.bind(oci);
      oci.resolveTag = (name, tag) => (asked(), resolveTag(name, tag));
      const v = await verifyOne(verifier(), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
    });

    it('ignores the registry when the signatures fail, even if the registry fails too', async () => {
      notary.answer = repo({ other: D1 });
      oci.tags.set('v1', new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', 'registry down'));
      const v = await verifyOne(verifier(), `${GUN}:v1`);
      expect(v.allowed).toBe(false);
      expect(codes(v)).toEqual(['TAG_NOT_SIGNED']);
    });
  });

  describe('when the registry serves another digest for the signed tag', () => {
    it('denies with DIGEST_MISMATCH naming both digests', async () => {
      oci.tags.set('v1', { mediaType: MANIFEST, digest: D2, size: 100 });
      const v = await verifyOne(verifier(), `${GUN}:v1`);
      expect(v.allowed).toBe(false);
      expect(v.inconclusive).toBe(false);
      expect(codes(v)).toEqual(['DIGEST_MISMATCH']);
      expect(v.reasons[0]!.message).toContain(D1);
      expect(v.reasons[0]!.message).toContain(D2);
    });
  });

  describe('when the registry has no such tag (404)', () => {
    it('denies with DIGEST_MISMATCH', async () => {
      oci.tags.clear();
      const v = await verifyOne(verifier(), `${GUN}:v1`);
      expect(v.allowed).toBe(false);
      expect(codes(v)).toEqual(['DIGEST_MISMATCH']);
      expect(v.reasons[0]!.message).toContain('serves no manifest');
    });
  });

  describe('when the reference carries a digest', () => {
    it('verifies by digest without asking the registry', async () => {
      const v = await verifyOne(verifier(), `${GUN}@${D1}`);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
      expect(oci.tagCalls).toHaveLength(0);
      expect(oci.manifestCalls).toHaveLength(0);
    });

    it('does not ask the registry for tag@digest either', async () => {
      oci.tags.set('v1', { mediaType: MANIFEST, digest: D2, size: 100 });
      const v = await verifyOne(verifier(), `${GUN}:v1@${D1}`);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
      expect(oci.tagCalls).toHaveLength(0);
    });
  });

  describe('when the digest cross-check is off', () => {
    it.each([
      ['verifyRegistryDigest is false', { settings: { verifyRegistryDigest: false } }],
      ['there is no registry access', { registry: false }],
    ] as const)('makes no registry call (%s)', async (_what, setup) => {
      oci.tags.set('v1', { mediaType: MANIFEST, digest: D2, size: 100 });
      const v = await verifyOne(verifier(setup), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
      expect(oci.tagCalls).toHaveLength(0);
    });
  });

  describe('when the registry cannot be reached', () => {
    it('is inconclusive and denied under failureAction deny', async () => {
      oci.tags.set('v1', new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', 'connection refused'));
      const v = await verifyOne(verifier(), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: false, inconclusive: true });
      expect(codes(v)).toEqual(['TRUST_SOURCE_UNAVAILABLE']);
    });

    it('is allowed with a warning under failureAction allow', async () => {
      oci.tags.set('v1', new InconclusiveError('TIMEOUT', 'deadline passed'));
      const v = await verifyOne(verifier({ settings: { failureAction: 'allow' } }), `${GUN}:v1`);
      expect(v.allowed).toBe(true);
      expect(v.warnings.join('\n')).toContain('TIMEOUT');
    });
  });

  describe('when the same image is verified twice', () => {
    it('answers the second time from the caches', async () => {
      const v = verifier();
      await verifyOne(v, `${GUN}:v1`);
      clock.advance(10 * SECOND);
      const again = await verifyOne(v, `${GUN}:v1`);
      expect(again).toMatchObject({ allowed: true, digest: D1 });
      expect(notary.calls).toHaveLength(1);
      expect(oci.tagCalls).toHaveLength(1);
      expect(events).toEqual(['notaryV1:pass']);
    });

    it('asks the registry again once the tag TTL passed, though the signed outcome is still cached', async () => {
      const v = verifier();
      await verifyOne(v, `${GUN}:v1`);
      clock.advance(31 * SECOND);
      oci.tags.set('v1', { mediaType: MANIFEST, digest: D2, size: 100 });
      const again = await verifyOne(v, `${GUN}:v1`);
      expect(codes(again)).toEqual(['DIGEST_MISMATCH']);
      expect(notary.calls).toHaveLength(1);
      expect(oci.tagCalls).toHaveLength(2);
    });
  });

  describe('when the evidence is definitely bad', () => {
    it('caches the failure for negativeTtl only', async () => {
      notary.answer = repo({ other: D1 });
      const v = verifier();
      expect(codes(await verifyOne(v, `${GUN}:v1`))).toEqual(['TAG_NOT_SIGNED']);
      clock.advance(29 * SECOND);
      expect(codes(await verifyOne(v, `${GUN}:v1`))).toEqual(['TAG_NOT_SIGNED']);
      expect(notary.calls).toHaveLength(1);
      clock.advance(2 * SECOND);
      notary.answer = repo({ v1: D1 });
      expect(await verifyOne(v, `${GUN}:v1`)).toMatchObject({ allowed: true });
      expect(notary.calls).toHaveLength(2);
    });

    it('caches a VerificationError from the trust source as a definite failure', async () => {
      notary.answer = new VerificationError('ROOT_NOT_TRUSTED', 'root not pinned');
      const v = verifier();
      const first = await verifyOne(v, `${GUN}:v1`);
      expect(first).toMatchObject({ allowed: false, inconclusive: false });
      expect(codes(first)).toEqual(['ROOT_NOT_TRUSTED']);
      await verifyOne(v, `${GUN}:v1`);
      expect(notary.calls).toHaveLength(1);
      expect(events).toEqual(['notaryV1:fail']);
    });
  });

  describe('when the trust source is unreachable', () => {
    it('never caches the inconclusive outcome', async () => {
      notary.answer = new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', 'notary down');
      const v = verifier();
      const first = await verifyOne(v, `${GUN}:v1`);
      expect(first).toMatchObject({ allowed: false, inconclusive: true });
      await verifyOne(v, `${GUN}:v1`);
      expect(notary.calls).toHaveLength(2);
      expect(events).toEqual(['notaryV1:inconclusive', 'notaryV1:inconclusive']);
    });

    it('treats an unexpected error as inconclusive, not as bad evidence', async () => {
      notary.answer = new TypeError('bug');
      const v = await verifyOne(verifier(), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: false, inconclusive: true });
      expect(codes(v)).toEqual(['TRUST_SOURCE_UNAVAILABLE']);
    });
  });

  describe('when a positive outcome is cached', () => {
    it('keeps it no longer than the evidence is valid', async () => {
      notary.answer = repo({ v1: D1 }, new Date(START.getTime() + 60 * SECOND));
      const v = verifier({ settings: { tagTtlMs: 10 * MINUTE } });
      await verifyOne(v, `${GUN}:v1`);
      clock.advance(59 * SECOND);
      await verifyOne(v, `${GUN}:v1`);
      expect(notary.calls).toHaveLength(1);
      clock.advance(2 * SECOND);
      await verifyOne(v, `${GUN}:v1`);
      expect(notary.calls).toHaveLength(2);
    });

    it('keeps it no longer than maxTtl', async () => {
      const v = verifier({ settings: { maxTtlMs: 2 * MINUTE, tagTtlMs: 10 * MINUTE } });
      await verifyOne(v, `${GUN}:v1`);
      clock.advance(2 * MINUTE - SECOND);
      await verifyOne(v, `${GUN}:v1`);
      expect(notary.calls).toHaveLength(1);
      clock.advance(2 * SECOND);
      await verifyOne(v, `${GUN}:v1`);
      expect(notary.calls).toHaveLength(2);
    });
  });

  describe('when the migration cut-over has passed', () => {
    // A migration policy must have a Notation source (validation refuses one without).
    const both = { trustSources: [NOTARY_SOURCE, NOTATION_SOURCE] };
    const until = { ...both, migration: { notaryV1Until: '2026-12-01T00:00:00Z' } };

    it('denies a Notary-only signed image without even asking notary', async () => {
      notation.answer = [];
      const v = await verifyOne(verifier({ policies: [cluster('m', until)] }), `${GUN}:v1`);
      expect(v.allowed).toBe(false);
      const dct = v.reasons.find((r) => r.source === 'dct');
      expect(dct).toMatchObject({
        code: 'NO_TRUST_DATA',
        message: expect.stringContaining('no longer accepted'),
      });
      expect(notary.calls).toHaveLength(0);
    });

    it('still allows through a Notation signature', async () => {
      const policy = cluster('m', until);
      const v = await verifyOne(verifier({ policies: [policy] }), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
      expect(notary.calls).toHaveLength(0);
      expect(notation.calls).toHaveLength(1);
    });

    it('still asks notary before the cut-over', async () => {
      notation.answer = [];
      const policy = cluster('m', {
        ...both,
        migration: { notaryV1Until: '2026-12-03T00:00:00Z' },
      });
      const v = await verifyOne(verifier({ policies: [policy] }), `${GUN}:v1`);
      expect(v.allowed).toBe(true);
      expect(notary.calls).toHaveLength(1);
    });
  });

  describe('when the source is Notation', () => {
    const notationOnly = (): CompiledPolicy => cluster('n', { trustSources: [NOTATION_SOURCE] });

    it('resolves the tag to the served manifest and verifies its signatures', async () => {
      const v = await verifyOne(verifier({ policies: [notationOnly()] }), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
      expect(notation.calls).toEqual([
        { subject: { mediaType: MANIFEST, digest: D1, size: 100 }, now: START },
      ]);
      expect(notary.calls).toHaveLength(0);
      expect(events).toEqual(['notation:pass']);
    });

    it('fetches the manifest descriptor for a digest reference', async () => {
      const v = await verifyOne(verifier({ policies: [notationOnly()] }), `${GUN}@${D2}`);
      expect(v).toMatchObject({ allowed: true, digest: D2 });
      expect(oci.manifestCalls).toEqual([`${GUN}@${D2}`]);
      expect(notation.calls[0]!.subject).toEqual({ mediaType: MANIFEST, digest: D2, size: 321 });
    });

    it('denies with NO_TRUST_DATA when the tag does not exist', async () => {
      oci.tags.clear();
      const v = await verifyOne(verifier({ policies: [notationOnly()] }), `${GUN}:v1`);
      expect(codes(v)).toEqual(['NO_TRUST_DATA']);
      expect(notation.calls).toHaveLength(0);
    });

    it('denies when there is no signature', async () => {
      notation.answer = [];
      const v = await verifyOne(verifier({ policies: [notationOnly()] }), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: false, inconclusive: false });
      expect(codes(v)).toEqual(['NO_TRUST_DATA']);
    });

    it('is inconclusive when registry access is disabled', async () => {
      const v = await verifyOne(
        verifier({ policies: [notationOnly()], registry: false }),
        `${GUN}:v1`,
      );
      expect(v).toMatchObject({ allowed: false, inconclusive: true });
      expect(codes(v)).toEqual(['TRUST_SOURCE_UNAVAILABLE']);
    });
  });

  describe('when several trust sources are configured (OR)', () => {
    it('allows when any one passes', async () => {
      notary.answer = repo({ other: D1 });
      const policy = cluster('or', { trustSources: [NOTARY_SOURCE, NOTATION_SOURCE] });
      const v = await verifyOne(verifier({ policies: [policy] }), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
      expect(notary.calls).toHaveLength(1);
      expect(notation.calls).toHaveLength(1);
    });

    it('denies with every source reason when none passes', async () => {
      notary.answer = repo({ other: D1 });
      notation.answer = [];
      const policy = cluster('or', { trustSources: [NOTARY_SOURCE, NOTATION_SOURCE] });
      const v = await verifyOne(verifier({ policies: [policy] }), `${GUN}:v1`);
      expect(v.allowed).toBe(false);
      expect(codes(v).sort()).toEqual(['NO_TRUST_DATA', 'TAG_NOT_SIGNED']);
    });
  });

  describe('when several policies match (AND)', () => {
    it('denies when one of them fails', async () => {
      const strict = cluster('strict', { allow: { paths: ['v*.*.*'] } });
      const v = await verifyOne(verifier({ policies: [cluster('loose'), strict] }), `${GUN}:v1`);
      expect(v.allowed).toBe(false);
      expect(v.policies).toEqual(['ClusterTrustPolicy/loose', 'ClusterTrustPolicy/strict']);
      expect(v.reasons).toEqual([
        expect.objectContaining({ code: 'PATH_NOT_ALLOWED', policy: 'ClusterTrustPolicy/strict' }),
      ]);
    });

    it('allows when all of them pass', async () => {
      const v = await verifyOne(verifier({ policies: [cluster('a'), cluster('b')] }), `${GUN}:v1`);
      expect(v).toMatchObject({ allowed: true, digest: D1 });
      expect(v.policies).toHaveLength(2);
    });
  });

  describe('when the policy does not require signatures', () => {
    it('allows with an audit record and calls nothing upstream', async () => {
      const v = await verifyOne(
        verifier({ policies: [cluster('exempt', { requireSignatures: false })] }),
        `${GUN}:v1`,
      );
      expect(v.allowed).toBe(true);
      expect(v.audits.map((a) => a.code)).toEqual(['SIGNATURES_NOT_REQUIRED']);
      expect(notary.calls).toHaveLength(0);
      expect(oci.tagCalls).toHaveLength(0);
    });
  });

  describe('when the context names an instant (--at)', () => {
    it('evaluates at that instant instead of the clock', async () => {
      const at = new Date('2027-06-01T00:00:00Z');
      await verifyOne(verifier(), `${GUN}:v1`, ctx({ at }));
      expect(notary.calls[0]!.now).toEqual(at);
    });

    it('applies the migration cut-over as of that instant', async () => {
      notation.answer = [];
      const policy = cluster('m', {
        trustSources: [NOTARY_SOURCE, NOTATION_SOURCE],
        migration: { notaryV1Until: '2027-01-01T00:00:00Z' },
      });
      const v = await verifyOne(
        verifier({ policies: [policy] }),
        `${GUN}:v1`,
        ctx({ at: new Date('2027-06-01T00:00:00Z') }),
      );
      expect(v.reasons.find((r) => r.source === 'dct')?.message).toContain('no longer accepted');
      expect(notary.calls).toHaveLength(0);
    });

    it('does not reuse an outcome cached for another instant', async () => {
      const v = verifier();
      await verifyOne(v, `${GUN}:v1`);
      await verifyOne(v, `${GUN}:v1`, ctx({ at: new Date('2027-06-01T00:00:00Z') }));
      expect(notary.calls).toHaveLength(2);
    });
  });

  describe('when a policy is forgotten (forgetPolicy)', () => {
    it('drops exactly its cached outcomes: it is asked again, the other policy is answered from cache', async () => {
      const v = verifier({ policies: [cluster('web'), webB()] });
      const images = [`${GUN}:v1`, `${GUN}@${D1}`];
      const verifyAll = async (): Promise<void> => {
        for (const image of images)
          expect(await verifyOne(v, image)).toMatchObject({ allowed: true });
      };
      await verifyAll();
      expect(notary.calls.map((c) => c.server).sort()).toEqual([
        SERVER_A,
        SERVER_A,
        SERVER_B,
        SERVER_B,
      ]);
      // An id that is only a prefix of both policies' ids owns nothing.
      expect(v.forgetPolicy('ClusterTrustPolicy/we')).toBe(0);
      expect(v.forgetPolicy(WEB)).toBe(2);
      notary.calls = [];
      await verifyAll();
      expect(notary.calls.map((c) => c.server)).toEqual([SERVER_A, SERVER_A]);
      await verifyAll();
      expect(notary.calls).toHaveLength(2);
    });
  });

  describe('when policies select namespaces', () => {
    const labels: Record<string, NamespaceInfo> = {
      shop: { name: 'shop', labels: { env: 'prod' } },
      sandbox: { name: 'sandbox', labels: { env: 'dev' } },
    };
    const namespaces: NamespaceSource = { get: (name) => labels[name] };

    it('applies a ClusterTrustPolicy by the namespace labels the NamespaceSource gives', async () => {
      const prodOnly = cluster('prod', { namespaceSelector: { matchLabels: { env: 'prod' } } });
      const v = verifier({ policies: [prodOnly], namespaces });
      expect(await verifyOne(v, `${GUN}:v1`, ctx({ namespace: 'shop' }))).toMatchObject({
        allowed: true,
        policies: ['ClusterTrustPolicy/prod'],
      });
      expect(codes(await verifyOne(v, `${GUN}:v1`, ctx({ namespace: 'sandbox' })))).toEqual([
        'NO_MATCHING_POLICY',
      ]);
    });

    it('does not apply a selector policy in an unknown namespace or without one', async () => {
      const prodOnly = cluster('prod', { namespaceSelector: { matchLabels: { env: 'prod' } } });
      const v = verifier({ policies: [prodOnly], namespaces });
      expect(codes(await verifyOne(v, `${GUN}:v1`, ctx({ namespace: 'unknown' })))).toEqual([
        'NO_MATCHING_POLICY',
      ]);
      expect(codes(await verifyOne(v, `${GUN}:v1`, ctx({ namespace: '' })))).toEqual([
        'NO_MATCHING_POLICY',
      ]);
      expect(notary.calls).toHaveLength(0);
    });

    it('applies a TrustPolicy only in its own namespace', async () => {
      const v = verifier({ policies: [namespaced('team', 'shop')], namespaces });
      expect(await verifyOne(v, `${GUN}:v1`, ctx({ namespace: 'shop' }))).toMatchObject({
        allowed: true,
        policies: ['TrustPolicy/shop/team'],
      });
      expect(codes(await verifyOne(v, `${GUN}:v1`, ctx({ namespace: 'sandbox' })))).toEqual([
        'NO_MATCHING_POLICY',
      ]);
    });
  });

  describe('when several images are verified at once', () => {
    it('returns one verdict per image, in order', async () => {
      const verdicts = await verifier().verifyImages(
        [
          { image: `${GUN}:v1`, path: 'a' },
          { image: 'quay.io/x/y:1', path: 'b' },
          { image: `${GUN}@${D1}`, path: 'c' },
        ],
        ctx(),
      );
      expect(verdicts.map((v) => [v.path, v.allowed])).toEqual([
        ['a', true],
        ['b', false],
        ['c', true],
      ]);
    });
  });

  describe('when no verdict memo is configured', () => {
    it('memoisedVerdicts finds nothing, so every image is verified', () => {
      const images = [
        { image: `${GUN}:v1`, path: 'a' },
        { image: `${GUN}:v2`, path: 'b' },
      ];
      expect(verifier().memoisedVerdicts(images, 'shop')).toEqual([undefined, undefined]);
    });
  });

  describe('when a verdict memo is configured', () => {
    /** A TtlCache that counts lookups, so a memo hit can be shown to make none. */
    class CountingCache<V> extends TtlCache<string, V> {
      lookups = 0;
      override getOrLoad(
        key: string,
        loader: () => Promise<{ value: V; ttlMs: number }>,
      ): Promise<V> {
        this.lookups++;
        return super.getOrLoad(key, loader);
      }
    }

    interface MemoHarness {
      v: DefaultImageVerifier;
      outcomes: CountingCache<SourceOutcome>;
      tags: CountingCache<OciDescriptor | null>;
      memo: TtlCache<string, MemoisedVerdict>;
      setPolicies(p: readonly CompiledPolicy[]): void;
      setLabels(ns: string, info: NamespaceInfo): void;
    }

    function memoVerifier(
      settings: Partial<ImageVerifierOptions['settings']> = {},
      initial: readonly CompiledPolicy[] = [cluster('p')],
    ): MemoHarness {
      let snapshot = Object.freeze([...initial]);
      const labels = new Map<string, NamespaceInfo>();
      const outcomes = new CountingCache<SourceOutcome>({ maxEntries: 100, clock });
      const tags = new CountingCache<OciDescriptor | null>({ maxEntries: 100, clock });
      const memo = new TtlCache<string, MemoisedVerdict>({ maxEntries: 100, clock });
      const v = new DefaultImageVerifier({
        policies: { current: () => snapshot, ready: () => true },
        namespaces: { get: (name) => labels.get(name) },
        notary,
        oci,
        notation,
        clock,
        outcomeCache: outcomes,
        tagCache: tags,
        verdictMemo: memo,
        settings: {
          ...SETTINGS,
          ...settings,
        },
      });
      return {
        v,
        outcomes,
        tags,
        memo,
        setPolicies: (p) => (snapshot = Object.freeze([...p])),
        setLabels: (ns, info) => labels.set(ns, info),
      };
    }

    function lookups(h: MemoHarness): number {
      return h.outcomes.lookups + h.tags.lookups;
    }

    it('answers a repeated image without upstream calls or cache look-ups', async () => {
      const h = memoVerifier();
      const first = await verifyOne(h.v, `${GUN}:v1`);
      const before = lookups(h);
      clock.advance(5 * SECOND);
      const again = await verifyOne(h.v, `${GUN}:v1`);
      expect(again).toEqual(first);
      expect(lookups(h)).toBe(before);
      expect(notary.calls).toHaveLength(1);
      expect(oci.tagCalls).toHaveLength(1);
      expect(h.memo.size).toBe(1);
    });

    it('gives each verdict the field path of the current request', async () => {
      const h = memoVerifier();
      await verifyOne(h.v, `${GUN}:v1`);
      const before = lookups(h);
      const [a, b] = await h.v.verifyImages(
        [
          { image: `${GUN}:v1`, path: 'spec.initContainers[0].image' },
          { image: `${GUN}:v1`, path: 'spec.containers[2].image' },
        ],
        ctx(),
      );
      expect(lookups(h)).toBe(before);
      expect([a?.path, b?.path]).toEqual([
        'spec.initContainers[0].image',
        'spec.containers[2].image',
      ]);
      expect(a).toMatchObject({ allowed: true, digest: D1 });
    });

    it('keeps a verdict no longer than the migration cut-over it was made before', async () => {
      notation.answer = [];
      const migrating = cluster('m', {
        trustSources: [NOTARY_SOURCE, NOTATION_SOURCE],
        migration: { notaryV1Until: '2026-12-02T00:01:00Z' },
      });
      // Tag and outcome TTLs outlast the cut-over: only the cut-over can end the memo entry.
      const h = memoVerifier({ tagTtlMs: 10 * MINUTE }, [migrating]);
      expect(await verifyOne(h.v, `${GUN}:v1`)).toMatchObject({ allowed: true });
      expect(h.v.memoisedVerdicts([{ image: `${GUN}:v1`, path: 'p' }], '')[0]).toBeDefined();
      clock.advance(2 * 60 * SECOND);
      // Past the cut-over the memo has nothing, and the same evidence now denies.
      expect(h.v.memoisedVerdicts([{ image: `${GUN}:v1`, path: 'p' }], '')).toEqual([undefined]);
      expect((await verifyOne(h.v, `${GUN}:v1`)).allowed).toBe(false);
    });

    it('hands out the same verdict object for a path each time (decisions are memoised by identity)', async () => {
      const h = memoVerifier();
      const first = await verifyOne(h.v, `${GUN}:v1`);
      const at = (path: string) => h.v.memoisedVerdicts([{ image: `${GUN}:v1`, path }], '')[0];
      const template = at('spec.template.spec.containers[0].image');
      expect(template).toEqual({ ...first, path: 'spec.template.spec.containers[0].image' });
      expect(at('spec.template.spec.containers[0].image')).toBe(template);
      expect(at(first.path!)).toBe(first);
      // Only so many paths are remembered per verdict; beyond that each answer is a fresh copy.
      for (let i = 0; i < 20; i++) at(`spec.containers[${i + 10}].image`);
      const late = at('spec.containers[29].image');
      expect(late).toEqual({ ...first, path: 'spec.containers[29].image' });
      expect(at('spec.containers[29].image')).not.toBe(late);
    });

    it('bypasses the memo once the policy snapshot changes', async () => {
      const h = memoVerifier();
      expect(await verifyOne(h.v, `${GUN}:v1`)).toMatchObject({ allowed: true });
      h.setPolicies([cluster('p', { images: ['quay.io/*'] })]);
      expect(codes(await verifyOne(h.v, `${GUN}:v1`))).toEqual(['NO_MATCHING_POLICY']);
    });

    describe('and a policy is forgotten', () => {
      const OTHER = 'registry.example.com/other/web:v1';
      const images = [
        { image: `${GUN}:v1`, path: 'spec.containers[0].image' },
        { image: OTHER, path: 'spec.containers[1].image' },
      ];
      /** `web` applies to GUN only, `web-b` to OTHER only. */
      const onlyOther = (): CompiledPolicy => webB({ images: ['registry.example.com/other/*'] });

      it('drops the memoised verdicts the policy applied to and keeps the others', async () => {
        const h = memoVerifier({}, [cluster('web'), onlyOther()]);
        const first = await h.v.verifyImages(images, ctx());
        expect(first.map((v) => v.policies)).toEqual([[WEB], ['ClusterTrustPolicy/web-b']]);
        h.v.forgetPolicy(WEB);
        expect(h.v.memoisedVerdicts(images, '')).toEqual([undefined, first[1]]);
        notary.calls = [];
        expect(await verifyOne(h.v, `${GUN}:v1`)).toMatchObject({ allowed: true });
        expect(notary.calls.map((c) => c.server)).toEqual([SERVER_A]);
        expect(h.v.memoisedVerdicts(images, '')).toEqual([first[0], first[1]]);
      });

      it('rebuilds the memo after a policy change: the changed policy from upstream, the other from the outcome cache', async () => {
        const h = memoVerifier({}, [cluster('web'), onlyOther()]);
        const first = await h.v.verifyImages(images, ctx());
        expect(first.map((v) => v.allowed)).toEqual([true, true]);
        // What serve does when the store reports `web` edited: new snapshot, then forget `web`.
        h.setPolicies([cluster('web', { allow: { paths: ['v*.*.*'] } }), onlyOther()]);
        h.v.forgetPolicy(WEB);
        expect(h.v.memoisedVerdicts(images, '')).toEqual([undefined, undefined]);
        notary.calls = [];
        const before = lookups(h);
        const second = await h.v.verifyImages(images, ctx());
        expect(codes(second[0]!)).toEqual(['PATH_NOT_ALLOWED']);
        expect(second[1]).toEqual(first[1]);
        expect(notary.calls.map((c) => c.server)).toEqual([SERVER_A]);
        // Memoised again: the next request makes no look-up and no upstream call at all.
        const after = lookups(h);
        expect(after).toBeGreaterThan(before);
        expect(await h.v.verifyImages(images, ctx())).toEqual(second);
        expect(lookups(h)).toBe(after);
        expect(notary.calls).toHaveLength(1);
      });
    });

    it('bypasses the memo once the namespace labels change', async () => {
      const prodOnly = cluster('prod', { namespaceSelector: { matchLabels: { env: 'prod' } } });
      const h = memoVerifier({}, [prodOnly]);
      h.setLabels('shop', { name: 'shop', labels: { env: 'prod' } });
      const shop = ctx({ namespace: 'shop' });
      expect(await verifyOne(h.v, `${GUN}:v1`, shop)).toMatchObject({ allowed: true });
      h.setLabels('shop', { name: 'shop', labels: { env: 'dev' } });
      expect(codes(await verifyOne(h.v, `${GUN}:v1`, shop))).toEqual(['NO_MATCHING_POLICY']);
    });

    it('memoisedVerdicts answers memoised images synchronously, undefined for the others', async () => {
      const h = memoVerifier();
      const first = await verifyOne(h.v, `${GUN}:v1`);
      const memoised = h.v.memoisedVerdicts(
        [
          { image: `${GUN}:v1`, path: 'spec.containers[3].image' },
          { image: `${GUN}:v2`, path: 'spec.containers[4].image' },
        ],
        '',
      );
      expect(memoised).toEqual([{ ...first, path: 'spec.containers[3].image' }, undefined]);
      h.setPolicies([cluster('p')]);
      expect(h.v.memoisedVerdicts([{ image: `${GUN}:v1`, path: 'p' }], '')).toEqual([undefined]);
    });

    it('looks each image up once when verifyImages is given what memoisedVerdicts found', async () => {
      const h = memoVerifier();
      const first = await verifyOne(h.v, `${GUN}:v1`);
      let memoLookups = 0;
      const get = h.memo.get.bind(h.memo);
      h.memo.get = (key) => (memoLookups++, get(key));
      const images = [
        { image: `${GUN}:v1`, path: 'spec.containers[0].image' },
        { image: `${GUN}:v2`, path: 'spec.containers[1].image' },
      ];
      const memoised = h.v.memoisedVerdicts(images, '');
      const verdicts = await h.v.verifyImages(images, ctx({ memoised }));
      expect(memoLookups).toBe(2);
      expect(verdicts[0]).toBe(memoised[0]);
      expect(verdicts[0]).toEqual({ ...first, path: 'spec.containers[0].image' });
      expect(verdicts[1]).toMatchObject({ image: `${GUN}:v2`, allowed: false });
    });

    it('expires with the shortest underlying cache entry (the tag TTL)', async () => {
      const h = memoVerifier();
      await verifyOne(h.v, `${GUN}:v1`);
      clock.advance(29 * SECOND);
      await verifyOne(h.v, `${GUN}:v1`);
      expect(oci.tagCalls).toHaveLength(1);
      clock.advance(2 * SECOND);
      oci.tags.set('v1', { mediaType: MANIFEST, digest: D2, size: 100 });
      expect(codes(await verifyOne(h.v, `${GUN}:v1`))).toEqual(['DIGEST_MISMATCH']);
      expect(oci.tagCalls).toHaveLength(2);
    });

    it('expires with the outcome entry when that is the shortest (a cached denial)', async () => {
      const h = memoVerifier();
      notary.answer = repo({});
      expect(codes(await verifyOne(h.v, `${GUN}@${D1}`))).toEqual(['TAG_NOT_SIGNED']);
      clock.advance(29 * SECOND);
      notary.answer = repo({ v1: D1 });
      expect(codes(await verifyOne(h.v, `${GUN}@${D1}`))).toEqual(['TAG_NOT_SIGNED']);
      expect(notary.calls).toHaveLength(1);
      clock.advance(2 * SECOND);
      expect(await verifyOne(h.v, `${GUN}@${D1}`)).toMatchObject({ allowed: true });
      expect(notary.calls).toHaveLength(2);
    });

    it('never memoises an inconclusive verdict', async () => {
      const h = memoVerifier();
      notary.answer = new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', 'notary down');
      expect(await verifyOne(h.v, `${GUN}:v1`)).toMatchObject({ inconclusive: true });
      expect(h.memo.size).toBe(0);
      notary.answer = repo({ v1: D1 });
      expect(await verifyOne(h.v, `${GUN}:v1`)).toMatchObject({ allowed: true });
      expect(notary.calls).toHaveLength(2);
    });

    it('does not memoise a verdict whose registry cross-check failed uncached', async () => {
      const h = memoVerifier();
      oci.tags.set('v1', new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', 'registry down'));
      await verifyOne(h.v, `${GUN}:v1`);
      expect(h.memo.size).toBe(0);
    });

    it('is not used for an evaluation instant (--at)', async () => {
      const h = memoVerifier();
      await verifyOne(h.v, `${GUN}:v1`, ctx({ at: new Date(START.getTime() + MINUTE) }));
      expect(h.memo.size).toBe(0);
    });
  });
});
