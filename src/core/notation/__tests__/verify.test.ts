// SPDX-License-Identifier: Apache-2.0
// verifyNotationEnvelope against the upstream vectors (expected outcomes from the vectors README)
// and generated envelopes, at the pinned clock.

import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import {
  buildCose,
  buildJws,
  E2E_TARGET,
  generated,
  identity,
  LAYOUT_DIR,
  MOCK_DIR,
  MOCK_TARGET,
  NOTATION_TEST_ROOT,
  notationSource,
  PINNED_NOW,
  readVector,
  vectorCert,
} from '../../../__fixtures__/notation/builders.js';
import type { CompiledNotationSource, NotationLevel } from '../../policy/types.js';
import {
  NOTATION_LEVELS,
  toFailedNotationOutcome,
  verifyNotationEnvelope,
  type NotationSignatureOutcome,
} from '../verify.js';
import { InconclusiveError, VerificationError } from '../../errors.js';
import { derTlv } from '../../../tls/der.js';
import { certificate, dn, ecKeys, LEAF_EXTENSIONS } from './x509-builder.js';

const JWS = 'application/jose+json';
const COSE = 'application/cose';
const root = vectorCert(NOTATION_TEST_ROOT);
const e2eCert = vectorCert('notation/test/e2e/testdata/config/localkeys/e2e.crt');
const newE2eCert = vectorCert('notation/test/e2e/testdata/config/localkeys/new_e2e.crt');
const expiredE2eCert = vectorCert('notation/test/e2e/testdata/config/localkeys/expired_e2e.crt');
const e2eBlob = (layout: string, digest: string): Buffer =>
  readVector(`${LAYOUT_DIR}/${layout}/blobs/sha256/${digest}`);
const E2E_VALID = e2eBlob(
  'e2e-valid-signature',
  'c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50',
);
const E2E_EXPIRED_SIG = e2eBlob(
  'e2e-expired-signature',
  'b5f927564088f65dad86c81bcdd0b55415a8b4c9a0a5391107210e0cdb305cc7',
);
const E2E_EXPIRED_CERT = e2eBlob(
  'e2e-with-expired-cert',
  '8513a5ba473f32b78a87518b732700632c05cde0d59d179275c5c5a8096beeed',
);

function mock(
  file: string,
  level: NotationLevel = 'strict',
  opts: { ca?: X509Certificate[]; sa?: X509Certificate[] } = {},
): NotationSignatureOutcome {
  return verifyNotationEnvelope(readVector(`${MOCK_DIR}/${file}`), JWS, {
    subject: MOCK_TARGET,
    source: notationSource({
      ca: opts.ca ?? [root],
      signingAuthority: opts.sa ?? [root],
      identities: [
        identity({ CN: 'Notation Test Root', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'US' }),
      ],
      level,
    }),
    now: PINNED_NOW,
  });
}

function e2e(
  envelope: Buffer,
  level: NotationLevel,
  ca: X509Certificate[],
  identities: CompiledNotationSource['trustedIdentities'] = ['*'],
): NotationSignatureOutcome {
  return verifyNotationEnvelope(envelope, JWS, {
    subject: E2E_TARGET,
    source: notationSource({ ca, identities, level }),
    now: PINNED_NOW,
  });
}

describe('verifyNotationEnvelope', () => {
  describe('when the notation-go mock envelopes are verified at strict', () => {
    it('accepts ca_valid_sig_env.json with the ca store and reports identity and signing time', () => {
      const o = mock('ca_valid_sig_env.json');
      expect(o.error).toBeUndefined();
      expect(o.ok).toBe(true);
      expect(o.identity).toBe('CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US');
      expect(o.signingTime?.toISOString()).toBe('2020-11-09T07:00:00.000Z');
      expect(o.signingScheme).toBe('notary.x509');
      expect(o.checks.map((c) => [c.check, c.ok, c.action])).toEqual([
        ['integrity', true, 'enforce'],
        ['authenticity', true, 'enforce'],
        ['trustedIdentity', true, 'enforce'],
        ['expiry', true, 'enforce'],
        ['authenticTimestamp', true, 'enforce'],
      ]);
    });

    it('accepts sa_valid_sig_env.json with the signingAuthority store', () => {
      const o = mock('sa_valid_sig_env.json');
      expect(o.error).toBeUndefined();
      expect(o.signingScheme).toBe('notary.x509.signingAuthority');
      expect(o.signingTime?.toISOString()).toBe('2020-11-09T07:00:00.000Z');
    });

    it('rejects sa_valid_sig_env.json when only the ca store holds the root (a ca store cannot vouch for SA)', () => {
      const o = mock('sa_valid_sig_env.json', 'strict', { sa: [] });
      expect(o.ok).toBe(false);
      expect(o.error?.code).toBe('ROOT_NOT_TRUSTED');
    });

    it.each(['ca_invalid_sig_env.json', 'sa_invalid_sig_env.json'])(
      'rejects %s for integrity at every level',
      (file) => {
        for (const level of ['strict', 'permissive', 'audit'] as const) {
          const o = mock(file, level);
          expect(o.ok).toBe(false);
          expect(o.error?.code).toBe('SIGNATURE_INVALID');
          expect(o.checks).toEqual([
            expect.objectContaining({ check: 'integrity', ok: false, action: 'enforce' }),
          ]);
        }
      },
    );

    it.each([
      'ca_plugin_sig_env.json',
      'sa_plugin_sig_env.json',
      'ca_compatible_pluginver_sig_env_1.0.0.json',
    ])('rejects %s because it requires a verification plugin', (file) => {
      const o = mock(file, 'audit', {
        ca: [
          root,
          vectorCert(
            'notation-go/verifier/testdata/truststore/x509/ca/valid-trust-store/wabbit-networks.io.crt',
          ),
        ],
      });
      expect(o.ok).toBe(false);
      expect(o.error?.code).toBe('SIGNATURE_INVALID');
      expect(o.error?.message).toMatch(/verification plugin/);
    });
  });

  describe('when the signature has expired (ca_expired / sa_expired)', () => {
    it.each([
      ['strict', false],
      ['permissive', true],
      ['audit', true],
    ] as const)(
      'at %s the outcome ok is %s and the expiry failure is enforced or logged',
      (level, ok) => {
        for (const file of ['ca_expired_sig_env.json', 'sa_expired_sig_env.json']) {
          const o = mock(file, level);
          expect(o.ok).toBe(ok);
          const err = ok ? o.logged[0] : o.error;
          expect(err?.code).toBe('METADATA_EXPIRED');
          expect(err?.message).toBe(
            'digital signature has expired on "Fri, 29 Jul 2022 23:59:00 +0000"',
          );
        }
      },
    );
  });

  describe('when the e2e layouts are verified', () => {
    it('accepts e2e-valid-signature at strict with trust store e2e.crt and identity *', () => {
      const o = e2e(E2E_VALID, 'strict', [e2eCert]);
      expect(o.error).toBeUndefined();
      expect(o.identity).toBe('CN=e2e,O=Notary,L=Seattle,ST=WA,C=US');
    });

    it('accepts the exact identity and rejects C=USB', () => {
      const good = identity({ CN: 'e2e', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'US' });
      expect(e2e(E2E_VALID, 'strict', [e2eCert], [good]).ok).toBe(true);
      const bad = e2e(
        E2E_VALID,
        'strict',
        [e2eCert],
        [identity({ CN: 'e2e', O: 'Notary', L: 'Seattle', ST: 'WA', C: 'USB' })],
      );
      expect(bad.error?.code).toBe('UNTRUSTED_IDENTITY');
    });

    it.each([
      ['strict', false],
      ['permissive', false],
      ['audit', true],
    ] as const)('with new_e2e.crt (same key, other certificate) at %s: ok=%s', (level, ok) => {
      const o = e2e(E2E_VALID, level, [newE2eCert]);
      expect(o.ok).toBe(ok);
      expect((ok ? o.logged[0] : o.error)?.code).toBe('ROOT_NOT_TRUSTED');
    });

    it.each([
      ['strict', false],
      ['permissive', true],
      ['audit', true],
    ] as const)('e2e-expired-signature at %s: ok=%s (expiry)', (level, ok) => {
      const o = e2e(E2E_EXPIRED_SIG, level, [e2eCert]);
      expect(o.ok).toBe(ok);
      expect((ok ? o.logged[0] : o.error)?.code).toBe('METADATA_EXPIRED');
    });

    it.each([
      ['strict', false],
      ['permissive', true],
      ['audit', true],
    ] as const)('e2e-with-expired-cert at %s: ok=%s (authentic timestamp)', (level, ok) => {
      const o = e2e(E2E_EXPIRED_CERT, level, [expiredE2eCert]);
      expect(o.ok).toBe(ok);
      const err = ok ? o.logged[0] : o.error;
      expect(err?.code).toBe('METADATA_EXPIRED');
      expect(err?.message).toContain('it was expired at "Tue, 27 Jun 2023 06:10:00 +0000"');
      expect(o.checks.at(-1)).toEqual(
        expect.objectContaining({ check: 'authenticTimestamp', ok: false }),
      );
    });

    it('rejects e2e-invalid-signature (layer is not an envelope) for integrity', () => {
      const layer = e2eBlob(
        'e2e-invalid-signature',
        '9a8decdf3775708f4eed16859f19561d730cad40b1af0dcfc37ac1e5f879a934',
      );
      const o = verifyNotationEnvelope(layer, 'application/vnd.oci.image.layer.v1.tar', {
        subject: E2E_TARGET,
        source: notationSource({ ca: [e2eCert], level: 'audit' }),
        now: PINNED_NOW,
      });
      expect(o.error?.code).toBe('SIGNATURE_INVALID');
      expect(o.error?.message).toMatch(/unsupported signature envelope media type/);
    });
  });

  describe('when the level is skip', () => {
    it('verifies nothing and accepts even garbage', () => {
      const o = verifyNotationEnvelope(Buffer.from('garbage'), JWS, {
        subject: E2E_TARGET,
        source: notationSource({ level: 'skip' }),
        now: PINNED_NOW,
      });
      expect(o.ok).toBe(true);
      expect(o.checks.every((c) => c.action === 'skip')).toBe(true);
    });
  });

  describe('when the signed payload names another artifact', () => {
    it('fails with DIGEST_MISMATCH for another digest even at audit', () => {
      const o = verifyNotationEnvelope(E2E_VALID, JWS, {
        subject: { ...E2E_TARGET, digest: `sha256:${'0'.repeat(64)}` },
        source: notationSource({ ca: [e2eCert], level: 'audit' }),
        now: PINNED_NOW,
      });
      expect(o.error?.code).toBe('DIGEST_MISMATCH');
    });

    it('fails with SIGNATURE_INVALID for the same digest with another size or media type', () => {
      for (const subject of [
        { ...E2E_TARGET, size: 518 },
        { ...E2E_TARGET, mediaType: 'application/vnd.oci.image.index.v1+json' },
      ]) {
        const o = verifyNotationEnvelope(E2E_VALID, JWS, {
          subject,
          source: notationSource({ ca: [e2eCert] }),
          now: PINNED_NOW,
        });
        expect(o.error?.code).toBe('SIGNATURE_INVALID');
      }
    });
  });

  describe('when COSE vectors are verified', () => {
    it('accepts cose_signature.sig with its self-signed certificate in the ca store', () => {
      const env = readVector('notation-go/internal/testdata/cose_signature.sig');
      const subject = {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
        size: 481,
      };
      const parsedLeaf = readVector('notation-go/internal/testdata/jws_signature.sig');
      const leafB64 = (JSON.parse(parsedLeaf.toString()) as { header: { x5c: string[] } }).header
        .x5c[0]!;
      const leaf = new X509Certificate(Buffer.from(leafB64, 'base64'));
      const o = verifyNotationEnvelope(env, COSE, {
        subject,
        source: notationSource({ ca: [leaf] }),
        now: PINNED_NOW,
      });
      expect(o.error).toBeUndefined();
      expect(o.identity).toBe('CN=alpine,O=Notary,L=Seattle,ST=WA,C=US');
      expect(o.signingTime?.toISOString()).toBe('2023-03-14T04:45:22.000Z');
      // The same signer's JWS verifies too.
      expect(
        verifyNotationEnvelope(parsedLeaf, JWS, {
          subject,
          source: notationSource({ ca: [leaf] }),
          now: PINNED_NOW,
        }).error,
      ).toBeUndefined();
    });
  });

  describe('when envelopes carry RFC 3161 timestamp countersignatures (not verified yet)', () => {
    const TS_TARGET = {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: 'sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda',
      size: 528,
    };
    const tsEnv = (f: string): Buffer =>
      readVector(`notation-go/verifier/testdata/timestamp/sigEnv/${f}`);
    it('accepts coseWithTimestamp.sig (chain valid now) even with a tsa store configured', () => {
      const env = tsEnv('coseWithTimestamp.sig');
      const leaf = vectorCert(
        'notation-go/verifier/testdata/truststore/x509/ca/valid-trust-store/TestTimestamp.crt',
      );
      const o = verifyNotationEnvelope(env, COSE, {
        subject: TS_TARGET,
        source: notationSource({ ca: [leaf], tsa: [root] }),
        now: PINNED_NOW,
      });
      expect(o.error).toBeUndefined();
    });

    it.each([
      ['jwsExpiredWithTimestamp.sig', JWS],
      ['timestampAfterNotAfter.sig', COSE],
    ])(
      'rejects %s at strict: the expired chain cannot be rescued by the unverified timestamp',
      (file, mt) => {
        const env = tsEnv(file);
        const audit = verifyNotationEnvelope(env, mt, {
          subject: TS_TARGET,
          source: notationSource({ level: 'audit' }),
          now: PINNED_NOW,
        });
        expect(audit.ok).toBe(true);
        expect(audit.logged.map((e) => e.code)).toEqual(['ROOT_NOT_TRUSTED', 'METADATA_EXPIRED']);
        expect(audit.logged[1]?.message).toMatch(
          /timestamp countersignatures are not supported yet/,
        );
        expect(audit.checks.at(-1)).toEqual(
          expect.objectContaining({ check: 'authenticTimestamp', ok: false, action: 'log' }),
        );
      },
    );
  });

  describe('when envelopes are generated at test time', () => {
    const leaf = generated('ec-leaf');
    const ecRoot = generated('ec-root').cert;
    const source = notationSource({ ca: [ecRoot] });
    const spec = { key: leaf.key!, chain: [leaf.cert, ecRoot], alg: 'ES256' as const };

    it.each([
      ['JWS', JWS, buildJws],
      ['COSE', COSE, buildCose],
    ] as const)('accepts an ES256 %s envelope from a CA-issued leaf', (_n, mt, build) => {
      const o = verifyNotationEnvelope(build(spec), mt, {
        subject: E2E_TARGET,
        source,
        now: PINNED_NOW,
      });
      expect(o.error).toBeUndefined();
      expect(o.identity).toBe('CN=release-bot,OU=Release,O=Trustgate Test,ST=WA,C=US');
      expect(o.validUntil?.toISOString()).toBe('2120-01-01T00:00:00.000Z');
    });

    it.each([
      ['p384-self', 'ES384'],
      ['p521-self', 'ES512'],
      ['rsa4096-self', 'PS512'],
    ] as const)('accepts a self-signed %s leaf with %s in JWS and COSE', (name, alg) => {
      const id = generated(name);
      for (const [build, mt] of [
        [buildJws, JWS],
        [buildCose, COSE],
      ] as const) {
        const o = verifyNotationEnvelope(build({ key: id.key!, chain: [id.cert], alg }), mt, {
          subject: E2E_TARGET,
          source: notationSource({ ca: [id.cert] }),
          now: PINNED_NOW,
        });
        expect(o.error).toBeUndefined();
      }
    });

    it('accepts a three-certificate chain trusted through its root', () => {
      const l = generated('ec-int-leaf');
      const chain = [l.cert, generated('ec-int').cert, ecRoot];
      const o = verifyNotationEnvelope(buildJws({ key: l.key!, chain, alg: 'ES256' }), JWS, {
        subject: E2E_TARGET,
        source,
        now: PINNED_NOW,
      });
      expect(o.error).toBeUndefined();
    });

    it('rejects a tampered payload byte (JWS and COSE)', () => {
      const jws = JSON.parse(buildJws(spec).toString()) as Record<string, string>;
      const payload = Buffer.from(jws['payload']!, 'base64url')
        .toString()
        .replace('b8479de3', 'b8479de4');
      jws['payload'] = Buffer.from(payload).toString('base64url');
      const o = verifyNotationEnvelope(Buffer.from(JSON.stringify(jws)), JWS, {
        subject: E2E_TARGET,
        source,
        now: PINNED_NOW,
      });
      expect(o.error?.code).toBe('SIGNATURE_INVALID');

      const cose = buildCose(spec);
      const at = cose.indexOf(Buffer.from('b8479de3'));
      cose[at + 7] = '4'.charCodeAt(0);
      const c = verifyNotationEnvelope(cose, COSE, {
        subject: E2E_TARGET,
        source,
        now: PINNED_NOW,
      });
      expect(c.error?.code).toBe('SIGNATURE_INVALID');
    });

    it('rejects an envelope whose header alg disagrees with the leaf key (algorithm substitution)', () => {
      const o = verifyNotationEnvelope(
        buildJws({ ...spec, alg: 'ES384', signWith: 'ES256' }),
        JWS,
        { subject: E2E_TARGET, source, now: PINNED_NOW },
      );
      expect(o.error?.code).toBe('SIGNATURE_INVALID');
      expect(o.error?.message).toMatch(/requires ES256/);
    });

    it('rejects a chain from an untrusted root with ROOT_NOT_TRUSTED at strict and logs it at audit', () => {
      const other = generated('other-leaf');
      const env = buildJws({
        key: other.key!,
        chain: [other.cert, generated('other-root').cert],
        alg: 'ES256',
      });
      expect(
        verifyNotationEnvelope(env, JWS, { subject: E2E_TARGET, source, now: PINNED_NOW }).error
          ?.code,
      ).toBe('ROOT_NOT_TRUSTED');
      const audit = verifyNotationEnvelope(env, JWS, {
        subject: E2E_TARGET,
        source: notationSource({ ca: [ecRoot], level: 'audit' }),
        now: PINNED_NOW,
      });
      expect(audit.ok).toBe(true);
      expect(audit.logged.map((e) => e.code)).toEqual(['ROOT_NOT_TRUSTED']);
    });

    it('rejects a signingAuthority envelope whose authentic signing time is outside the chain validity', () => {
      const env = buildJws({
        ...spec,
        scheme: 'notary.x509.signingAuthority',
        signingTime: new Date('2019-06-01T00:00:00Z'),
      });
      const o = verifyNotationEnvelope(env, JWS, {
        subject: E2E_TARGET,
        source: notationSource({ signingAuthority: [ecRoot] }),
        now: PINNED_NOW,
      });
      expect(o.error?.code).toBe('METADATA_EXPIRED');
      expect(o.error?.message).toMatch(/authentic signing time/);
    });

    it('uses each level as data: integrity is enforced everywhere but skip', () => {
      for (const level of ['strict', 'permissive', 'audit'] as const)
        expect(NOTATION_LEVELS[level].integrity).toBe('enforce');
      expect(Object.values(NOTATION_LEVELS.skip).every((a) => a === 'skip')).toBe(true);
    });

    it('stops at integrity, even at audit, for a chain certificate the DER reader refuses (later checks never reparse it)', () => {
      const k = ecKeys();
      const cert = certificate({
        subject: dn('', derTlv(0x1c, Buffer.from([0, 0, 0, 0x41]))), // UniversalString: openssl accepts it
        publicKey: k.publicKey,
        signingKey: k.privateKey,
        extensions: LEAF_EXTENSIONS,
      });
      const o = verifyNotationEnvelope(
        buildJws({ key: k.privateKey, chain: [cert], alg: 'ES256' }),
        JWS,
        {
          subject: E2E_TARGET,
          source: notationSource({ ca: [cert], level: 'audit' }),
          now: PINNED_NOW,
        },
      );
      expect(o.ok).toBe(false);
      expect(o.error).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
      expect(o.error?.message).toBe('certificate "CN=A": unsupported string type 0x1c in name');
      expect(o.checks.map((c) => [c.check, c.ok])).toEqual([['integrity', false]]);
    });
  });
});

describe('toFailedNotationOutcome', () => {
  it('records the error, with the signature manifest digest only when it is known', () => {
    const error = new InconclusiveError('TIMEOUT', 'registry timed out');
    expect(toFailedNotationOutcome(error, 'strict')).toEqual({
      ok: false,
      level: 'strict',
      checks: [],
      error,
      logged: [],
    });
    expect(toFailedNotationOutcome(error, 'audit', 'sha256:abc').signatureDigest).toBe(
      'sha256:abc',
    );
  });
});
