// SPDX-License-Identifier: Apache-2.0
// NotationEvidence over a fake OciSource serving the e2e OCI layouts: both manifest forms,
// subject filtering, the one-layer rule, the attempt cap, blob integrity and fetch failures.

import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { InconclusiveError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import {
  E2E_TARGET,
  LAYOUT_DIR,
  notationSource,
  PINNED_NOW,
  readVector,
  vectorCert,
} from '../../__fixtures__/notation/builders.js';
import { classifySignatureManifest, NotationEvidence } from '../notation-evidence.js';
import type {
  Deadline,
  FetchedManifest,
  OciDescriptor,
  OciSource,
  RegistryRequestContext,
} from '../ports.js';

const name = { registry: 'localhost:5000', repository: 'e2e' };
const e2eCert = vectorCert('notation/test/e2e/testdata/config/localkeys/e2e.crt');
const source = notationSource({ ca: [e2eCert] });
const deadline: Deadline = {
  signal: new AbortController().signal,
  expiresAt: Number.MAX_SAFE_INTEGER,
};
const ctx: RegistryRequestContext & { now: Date } = { deadline, now: PINNED_NOW };
const SIG_VALID = 'sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f';
const SIG_UNTRUSTED = 'sha256:c3ebe4a20b6832328fc5078a7795ddc1114b896e13fca2add38109c3866b5fbf';
const ENVELOPE = 'sha256:c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50';

const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blob = (layout: string, digest: string): Buffer =>
  readVector(`${LAYOUT_DIR}/${layout}/blobs/sha256/${digest.slice(7)}`);

/** In-memory registry: content by digest; referrers listed explicitly. Records every call. */
class FakeOci implements OciSource {
  readonly content = new Map<string, Uint8Array>();
  referrers: OciDescriptor[] = [];
  readonly calls: string[] = [];
  blobOverride?: (d: OciDescriptor) => Uint8Array;
  listError?: Error;
  blobError?: Error;

  add(
    bytes: Uint8Array,
    mediaType = 'application/vnd.oci.image.manifest.v1+json',
    artifactType?: string,
  ): OciDescriptor {
    const d: OciDescriptor = {
      mediaType,
      digest: sha(bytes),
      size: bytes.length,
      ...(artifactType && { artifactType }),
    };
    this.content.set(d.digest, bytes);
    return d;
  }
  refer(bytes: Uint8Array): OciDescriptor {
    const m = JSON.parse(Buffer.from(bytes).toString()) as {
      artifactType?: string;
      config: { mediaType: string };
    };
    // Registries copy config.mediaType into artifactType for legacy manifests (distribution-spec).
    const d = this.add(bytes, undefined, m.artifactType ?? m.config.mediaType);
    this.referrers.push(d);
    return d;
  }
  async resolveTag(): Promise<OciDescriptor | null> {
    throw new Error('not used');
  }
  async fetchManifest(_n: unknown, reference: string): Promise<FetchedManifest> {
    this.calls.push(`manifest ${reference}`);
    const bytes = this.content.get(reference);
    if (!bytes) throw new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', `404 ${reference}`);
    return {
      descriptor: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: reference,
        size: bytes.length,
      },
      bytes,
    };
  }
  async fetchBlob(_n: unknown, d: OciDescriptor, maxBytes: number): Promise<Uint8Array> {
    this.calls.push(`blob ${d.digest} ${maxBytes}`);
    if (this.blobError) throw this.blobError;
    if (this.blobOverride) return this.blobOverride(d);
    const bytes = this.content.get(d.digest);
    if (!bytes) throw new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', `404 ${d.digest}`);
    return bytes;
  }
  async listReferrers(
    _n: unknown,
    digest: string,
    artifactType: string | undefined,
  ): Promise<readonly OciDescriptor[]> {
    this.calls.push(`referrers ${digest} ${String(artifactType)}`);
    if (this.listError) throw this.listError;
    return this.referrers;
  }
}

function layoutRegistry(layout: string, sigs: string[], envelopes: string[]): FakeOci {
  const oci = new FakeOci();
  for (const s of sigs) oci.refer(blob(layout, s));
  for (const e of envelopes) oci.add(blob(layout, e), 'application/jose+json');
  return oci;
}

function signatureManifest(over: Record<string, unknown>): Buffer {
  const env = blob('e2e-valid-signature', ENVELOPE);
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cncf.notary.signature',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
        data: 'e30=',
      },
      layers: [{ mediaType: 'application/jose+json', digest: ENVELOPE, size: env.length }],
      subject: E2E_TARGET,
      ...over,
    }),
  );
}

describe('NotationEvidence', () => {
  describe('when the registry serves e2e-valid-multiple-signatures (legacy form)', () => {
    it('verifies both signatures: CN=e2e is valid, CN=testcert11 is not trusted', async () => {
      const oci = layoutRegistry(
        'e2e-valid-multiple-signatures',
        [SIG_VALID, SIG_UNTRUSTED],
        [ENVELOPE, 'sha256:a54333638acfa773a6b25429ee409b558d39c6f3c45dd14f714d72452bc36481'],
      );
      const out = await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx);
      expect(out.map((o) => [o.signatureDigest, o.ok, o.error?.code])).toEqual([
        [SIG_VALID, true, undefined],
        [SIG_UNTRUSTED, false, 'ROOT_NOT_TRUSTED'],
      ]);
      expect(oci.calls[0]).toBe(
        `referrers ${E2E_TARGET.digest} application/vnd.cncf.notary.signature`,
      );
      expect(oci.calls).toContain(`blob ${ENVELOPE} ${LIMITS.maxEnvelopeBytes}`);
    });
  });

  describe('when the signature manifest uses the artifactType form', () => {
    it('accepts it', async () => {
      const oci = new FakeOci();
      oci.refer(signatureManifest({}));
      oci.add(blob('e2e-valid-signature', ENVELOPE));
      const out = await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx);
      expect(out).toHaveLength(1);
      expect(out[0]?.ok).toBe(true);
    });
  });

  describe('when manifests are not Notation signatures for this image', () => {
    it.each<[string, Record<string, unknown>]>([
      ['another subject', { subject: { ...E2E_TARGET, digest: `sha256:${'1'.repeat(64)}` } }],
      ['no subject', { subject: undefined }],
      [
        'artifactType notary with a non-empty config type',
        {
          config: {
            mediaType: 'application/vnd.cncf.notary.signature',
            digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
            size: 2,
          },
        },
      ],
      ['an image index', { mediaType: 'application/vnd.oci.image.index.v1+json' }],
      [
        'a cosign-like artifact',
        { artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json' },
      ],
    ])('ignores %s (no outcome, no blob fetch)', async (_n, over) => {
      const oci = new FakeOci();
      oci.referrers.push({
        ...oci.add(signatureManifest(over)),
        artifactType: 'application/vnd.cncf.notary.signature',
      });
      const out = await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx);
      expect(out).toEqual([]);
      expect(oci.calls.some((c) => c.startsWith('blob'))).toBe(false);
    });

    it('does not even fetch referrers whose listed artifactType is something else', async () => {
      const oci = new FakeOci();
      oci.referrers.push({
        ...oci.add(signatureManifest({})),
        artifactType: 'application/spdx+json',
      });
      expect(await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx)).toEqual([]);
      expect(oci.calls).toHaveLength(1);
    });
  });

  describe('when a Notation signature manifest is broken', () => {
    it.each([
      [
        'two layers',
        {
          layers: [
            { mediaType: 'application/jose+json', digest: ENVELOPE, size: 2070 },
            { mediaType: 'application/jose+json', digest: ENVELOPE, size: 2070 },
          ],
        },
      ],
      ['no layers', { layers: [] }],
      [
        'a layer without a digest',
        { layers: [{ mediaType: 'application/jose+json', size: 2070 }] },
      ],
    ])('rejects one with %s as SIGNATURE_INVALID', async (_n, over) => {
      const oci = new FakeOci();
      oci.refer(signatureManifest(over));
      const out = await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx);
      expect(out.map((o) => o.error?.code)).toEqual(['SIGNATURE_INVALID']);
    });

    it('rejects e2e-invalid-signature (layer is a tar, not an envelope) for integrity', async () => {
      const layout = 'e2e-invalid-signature';
      const oci = new FakeOci();
      oci.refer(
        blob(layout, 'sha256:321fcc674d6771dd0e5bd21e599f2df3a482de99a400fd3a3fe371221b97a9c9'),
      );
      oci.add(
        blob(layout, 'sha256:9a8decdf3775708f4eed16859f19561d730cad40b1af0dcfc37ac1e5f879a934'),
      );
      const out = await new NotationEvidence({ oci }).load(
        notationSource({ ca: [e2eCert], level: 'audit' }),
        name,
        E2E_TARGET,
        ctx,
      );
      expect(out[0]?.error?.message).toMatch(/unsupported signature envelope media type/);
    });

    it('rejects an envelope blob whose bytes do not match the layer digest', async () => {
      const oci = layoutRegistry('e2e-valid-signature', [SIG_VALID], [ENVELOPE]);
      oci.blobOverride = () =>
        blob(
          'e2e-expired-signature',
          'sha256:b5f927564088f65dad86c81bcdd0b55415a8b4c9a0a5391107210e0cdb305cc7',
        );
      const out = await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx);
      expect(out[0]?.error?.code).toBe('DIGEST_MISMATCH');
    });

    it('rejects a layer larger than LIMITS.maxEnvelopeBytes without fetching it', async () => {
      const oci = new FakeOci();
      oci.refer(
        signatureManifest({
          layers: [
            {
              mediaType: 'application/jose+json',
              digest: ENVELOPE,
              size: LIMITS.maxEnvelopeBytes + 1,
            },
          ],
        }),
      );
      const out = await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx);
      expect(out[0]?.error?.message).toMatch(/limit/);
      expect(oci.calls.some((c) => c.startsWith('blob'))).toBe(false);
    });
  });

  describe('when fetching fails', () => {
    it('turns a blob fetch failure into an inconclusive outcome for that signature only', async () => {
      const oci = layoutRegistry('e2e-valid-signature', [SIG_VALID], [ENVELOPE]);
      oci.blobError = new InconclusiveError('TIMEOUT', 'deadline exceeded');
      const out = await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx);
      expect(out[0]?.error).toBeInstanceOf(InconclusiveError);
      expect(out[0]?.error?.code).toBe('TIMEOUT');
    });

    it('rejects when listing referrers fails', async () => {
      const oci = new FakeOci();
      oci.listError = new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', 'registry down');
      await expect(
        new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx),
      ).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
    });
  });

  describe('when there are more candidates than LIMITS.maxSignatureAttempts', () => {
    it('fetches only the first maxSignatureAttempts manifests', async () => {
      const oci = new FakeOci();
      for (let i = 0; i < LIMITS.maxSignatureAttempts + 20; i++) {
        oci.refer(
          signatureManifest({
            annotations: { n: String(i) },
            subject: { ...E2E_TARGET, digest: `sha256:${'2'.repeat(64)}` },
          }),
        );
      }
      expect(await new NotationEvidence({ oci }).load(source, name, E2E_TARGET, ctx)).toEqual([]);
      expect(oci.calls.filter((c) => c.startsWith('manifest'))).toHaveLength(
        LIMITS.maxSignatureAttempts,
      );
    });
  });

  describe('when the level is skip', () => {
    it('returns no outcomes without calling the registry', async () => {
      const oci = new FakeOci();
      expect(
        await new NotationEvidence({ oci }).load(
          notationSource({ level: 'skip' }),
          name,
          E2E_TARGET,
          ctx,
        ),
      ).toEqual([]);
      expect(oci.calls).toEqual([]);
    });
  });
});

describe('classifySignatureManifest', () => {
  it('ignores non-JSON bytes and accepts the legacy e2e manifest', () => {
    expect(classifySignatureManifest(Buffer.from('{'), E2E_TARGET.digest).kind).toBe('ignore');
    const legacy = classifySignatureManifest(
      blob('e2e-valid-signature', SIG_VALID),
      E2E_TARGET.digest,
    );
    expect(legacy).toEqual({
      kind: 'envelope',
      layer: { mediaType: 'application/jose+json', digest: ENVELOPE, size: 2070 },
    });
  });
});
