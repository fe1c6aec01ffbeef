// SPDX-License-Identifier: Apache-2.0
// Individual Notation checks: signed-attribute rules, certificate requirements, algorithm selection,
// trusted-identity matching (vectors README §5), expiry and authentic timestamp.

import { describe, expect, it } from '@jest/globals';
import type { X509Certificate } from 'node:crypto';
import { VerificationError } from '../../errors.js';
import {
  buildJws,
  generated,
  identity,
  MOCK_DIR,
  PINNED_NOW,
  readVector,
  vectorCert,
  type EnvelopeSpec,
} from '../../../__fixtures__/notation/builders.js';
import {
  algorithmForKey,
  certificateInfo,
  checkAuthenticity,
  checkAuthenticTimestamp,
  checkExpiry,
  checkIntegrity,
  checkTrustedIdentity,
  subjectOf,
  verifyCertificateChain,
} from '../checks.js';
import { parseEnvelope, type SignedEnvelope } from '../envelope.js';
import { derSequence, derTime, derTlv } from '../../../tls/der.js';
import {
  basicConstraints,
  CODE_SIGNING_EKU,
  certificate,
  dn,
  ecKeys,
  issue,
  keyUsage,
  LEAF_EXTENSIONS,
  selfSigned,
  testCa,
  UNDECODABLE_SPKI,
} from './x509-builder.js';

const JWS = 'application/jose+json';
const ecLeaf = generated('ec-leaf');
const ecRoot = generated('ec-root').cert;
const base: EnvelopeSpec = { key: ecLeaf.key!, chain: [ecLeaf.cert, ecRoot], alg: 'ES256' };
const env = (spec: Partial<EnvelopeSpec> = {}): SignedEnvelope =>
  parseEnvelope(buildJws({ ...base, ...spec }), JWS);
const store = (ca: X509Certificate[] = [], signingAuthority: X509Certificate[] = []) => ({
  ca,
  signingAuthority,
  tsa: [],
});

describe('certificateInfo', () => {
  describe('when openssl accepts a certificate that the DER reader refuses', () => {
    it('throws SIGNATURE_INVALID naming the certificate and the DER problem', () => {
      const k = ecKeys();
      // UniversalString is not a DirectoryString Notation (or Go's x509) reads.
      const cert = certificate({
        subject: dn('', derTlv(0x1c, Buffer.from([0, 0, 0, 0x41]))),
        publicKey: k.publicKey,
        signingKey: k.privateKey,
      });
      expect(() => certificateInfo(cert)).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
      expect(() => certificateInfo(cert)).toThrow(
        'certificate "CN=A": unsupported string type 0x1c in name',
      );
    });

    it('refuses a validity time with month 13 (openssl accepts it; Date would read 2021-01-01)', () => {
      const k = ecKeys();
      const cert = certificate({
        publicKey: k.publicKey,
        signingKey: k.privateKey,
        validity: derSequence(
          derTlv(0x17, Buffer.from('201301000000Z')),
          derTime(new Date('2120-01-01T00:00:00Z')),
        ),
      });
      expect(() => certificateInfo(cert)).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
      expect(() => certificateInfo(cert)).toThrow(/bad certificate validity time/);
    });
  });
});

describe('subjectOf', () => {
  it("prints notation's display order, and openssl's subject when the DER reader refuses the name", () => {
    expect(subjectOf(ecLeaf.cert)).toBe('CN=release-bot,OU=Release,O=Trustgate Test,ST=WA,C=US');
    const k = ecKeys();
    const universal = certificate({
      subject: dn('', derTlv(0x1c, Buffer.from([0, 0, 0, 0x41]))),
      publicKey: k.publicKey,
      signingKey: k.privateKey,
    });
    expect(subjectOf(universal)).toBe('CN=A');
  });
});

describe('checkIntegrity', () => {
  describe('when the signed attributes break a Notation rule', () => {
    const T = new Date('2025-01-01T00:00:00Z');
    it.each<[string, Partial<EnvelopeSpec>, RegExp]>([
      ['wrong content type', { protectedExtra: { cty: 'application/json' } }, /content type/],
      [
        'signingScheme not critical',
        { crit: ['io.cncf.notary.expiry'], expiry: new Date('2030-01-01T00:00:00Z') },
        /signingScheme must be marked critical/,
      ],
      [
        'expiry not critical',
        { expiry: new Date('2030-01-01T00:00:00Z'), crit: ['io.cncf.notary.signingScheme'] },
        /expiry must be marked critical/,
      ],
      [
        'critical attribute absent',
        { crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'] },
        /listed in crit but not present/,
      ],
      [
        'unknown critical attribute',
        { crit: ['io.cncf.notary.signingScheme', 'acme'], protectedExtra: { acme: 1 } },
        /unknown critical attribute/,
      ],
      [
        'verification plugin (non-critical)',
        { protectedExtra: { 'io.cncf.notary.verificationPlugin': 'p' } },
        /verification plugin/,
      ],
      [
        'verification plugin listed in crit but absent',
        { crit: ['io.cncf.notary.signingScheme', 'io.cncf.notary.verificationPlugin'] },
        /requires the verification plugin ""/,
      ],
      [
        'plugin min version',
        { protectedExtra: { 'io.cncf.notary.verificationPluginMinVersion': '1.0.0' } },
        /plugin version/,
      ],
      [
        'notary.x509 without signing time',
        { protectedExtra: { 'io.cncf.notary.signingTime': undefined } },
        /signingTime is required/,
      ],
      [
        'notary.x509 with authentic signing time',
        { protectedExtra: { 'io.cncf.notary.authenticSigningTime': '2025-01-01T00:00:00Z' } },
        /not allowed/,
      ],
      [
        'signingAuthority without authentic signing time',
        {
          scheme: 'notary.x509.signingAuthority',
          protectedExtra: { 'io.cncf.notary.authenticSigningTime': undefined },
          crit: ['io.cncf.notary.signingScheme'],
        },
        /authenticSigningTime is required/,
      ],
      [
        'signingAuthority with authentic signing time not critical',
        { scheme: 'notary.x509.signingAuthority', crit: ['io.cncf.notary.signingScheme'] },
        /authenticSigningTime must be marked critical/,
      ],
      [
        'signingAuthority with signing time',
        {
          scheme: 'notary.x509.signingAuthority',
          protectedExtra: { 'io.cncf.notary.signingTime': '2025-01-01T00:00:00Z' },
        },
        /signingTime is not allowed/,
      ],
      [
        'expiry before signing time',
        { signingTime: T, expiry: new Date('2024-01-01T00:00:00Z') },
        /expiry is not after the signing time/,
      ],
    ])('fails for %s', (_n, spec, message) => {
      const r = checkIntegrity(env(spec));
      expect(r.ok).toBe(false);
      expect(r.error).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
      expect(r.error?.message).toMatch(message);
    });

    it('passes for a well-formed envelope with a non-critical unknown attribute (ignored)', () => {
      expect(checkIntegrity(env({ protectedExtra: { 'io.example.note': 'x' } }))).toEqual({
        check: 'integrity',
        ok: true,
      });
    });
  });

  describe('when the certificate chain breaks a certificate requirement', () => {
    const chainOf = (leaf: string, ...rest: string[]): X509Certificate[] => [
      generated(leaf).cert,
      ...rest.map((n) => generated(n).cert),
    ];
    it.each<[string, X509Certificate[], RegExp]>([
      [
        'keyUsage not critical',
        chainOf('bad-ku', 'ec-root'),
        /keyUsage extension must be marked critical/,
      ],
      ['serverAuth EKU on the leaf', chainOf('bad-eku', 'ec-root'), /must not include serverAuth/],
      ['a CA certificate as leaf', chainOf('bad-ca', 'ec-root'), /must not be a CA/],
      [
        'SHA-1 certificate signature',
        chainOf('sha1-leaf', 'ec-root'),
        /signature algorithm 1\.2\.840\.10045\.4\.1 is not allowed/,
      ],
      [
        'pathLenConstraint exceeded',
        chainOf('pl0-leaf', 'pl0-int', 'pl0-root'),
        /pathLenConstraint 0 is exceeded/,
      ],
      ['a chain without its root', chainOf('ec-leaf'), /must be a self-signed root/],
      ['a chain in the wrong order', [ecRoot, ecLeaf.cert], /not issued by the next certificate/],
      [
        'an unrelated certificate',
        chainOf('ec-leaf', 'other-root'),
        /not issued by the next certificate/,
      ],
      [
        'a self-signed certificate before the end',
        chainOf('p384-self', 'ec-root'),
        /not issued by the next|self-signed/,
      ],
      [
        'a root repeated in the chain',
        chainOf('ec-leaf', 'ec-root', 'ec-root'),
        /self-signed but is not the last/,
      ],
    ])('rejects %s', (_n, chain, message) => {
      expect(() => verifyCertificateChain(chain)).toThrowWithCode(
        VerificationError,
        'SIGNATURE_INVALID',
      );
      expect(() => verifyCertificateChain(chain)).toThrow(message);
    });

    describe('built at test time with one defect each', () => {
      const ca = testCa();
      it('accepts the defect-free leaf → CA chain and self-signed leaf (control)', () => {
        expect(() => verifyCertificateChain([issue(ca), ca.cert])).not.toThrow();
        expect(() => verifyCertificateChain([selfSigned(LEAF_EXTENSIONS)])).not.toThrow();
      });

      it.each<[string, () => X509Certificate[], string]>([
        [
          'a leaf without keyUsage',
          () => [selfSigned([CODE_SIGNING_EKU], 'no-ku')],
          'certificate chain[0] "CN=no-ku": keyUsage extension is missing',
        ],
        [
          'a leaf keyUsage without digitalSignature',
          () => [selfSigned([keyUsage(['contentCommitment'])], 'cc')],
          'certificate chain[0] "CN=cc": keyUsage must include digitalSignature',
        ],
        [
          'a leaf keyUsage with keyEncipherment',
          () => [selfSigned([keyUsage(['digitalSignature', 'keyEncipherment'])], 'ke')],
          'certificate chain[0] "CN=ke": keyUsage must not include keyEncipherment',
        ],
        [
          'an issuer without basicConstraints',
          () => {
            const c = testCa([keyUsage(['keyCertSign'])], 'No BC');
            return [issue(c), c.cert];
          },
          'certificate chain[1] "CN=No BC": is not a CA certificate (basicConstraints cA=true required)',
        ],
        [
          'an issuer without keyUsage',
          () => {
            const c = testCa([basicConstraints(true)], 'No KU');
            return [issue(c), c.cert];
          },
          'certificate chain[1] "CN=No KU": keyUsage extension is missing',
        ],
        [
          'an issuer keyUsage not marked critical',
          () => {
            const c = testCa([basicConstraints(true), keyUsage(['keyCertSign'], false)], 'Soft KU');
            return [issue(c), c.cert];
          },
          'certificate chain[1] "CN=Soft KU": keyUsage extension must be marked critical',
        ],
        [
          'an issuer keyUsage without keyCertSign',
          () => {
            const c = testCa([basicConstraints(true), keyUsage(['cRLSign'])], 'CRL only');
            return [issue(c), c.cert];
          },
          'certificate chain[1] "CN=CRL only": keyUsage must include keyCertSign',
        ],
        [
          // isIssuedBy must answer "no" when node:crypto cannot decode the key, not throw.
          'a self-issued certificate whose key cannot be decoded',
          () => {
            const k = ecKeys();
            return [
              certificate({
                cn: 'bad-key',
                spki: UNDECODABLE_SPKI,
                signingKey: k.privateKey,
                extensions: LEAF_EXTENSIONS,
              }),
            ];
          },
          'certificate chain[0] "CN=bad-key": the last certificate of the chain must be a self-signed root',
        ],
      ])('rejects %s', (_n, chain, message) => {
        const c = chain();
        expect(() => verifyCertificateChain(c)).toThrowWithCode(
          VerificationError,
          'SIGNATURE_INVALID',
        );
        expect(() => verifyCertificateChain(c)).toThrow(message);
      });
    });

    it('accepts a leaf → intermediate → root chain and a single self-signed leaf', () => {
      expect(() =>
        verifyCertificateChain(chainOf('ec-int-leaf', 'ec-int', 'ec-root')),
      ).not.toThrow();
      expect(() =>
        verifyCertificateChain([vectorCert('notation/test/e2e/testdata/config/localkeys/e2e.crt')]),
      ).not.toThrow();
    });
  });

  describe('when the leaf key determines the algorithm', () => {
    it.each([
      ['ec-leaf', 'ES256'],
      ['p384-self', 'ES384'],
      ['p521-self', 'ES512'],
      ['rsa4096-self', 'PS512'],
    ])('%s → %s', (name, alg) => {
      expect(algorithmForKey(generated(name).cert)).toBe(alg);
    });

    it('derives PS384 from the RSA-3072 mock leaf and PS256 from RSA-2048 e2e.crt', () => {
      expect(
        algorithmForKey(vectorCert('notation/test/e2e/testdata/config/localkeys/e2e.crt')),
      ).toBe('PS256');
      const mockLeaf = parseEnvelope(readVector(`${MOCK_DIR}/ca_valid_sig_env.json`), JWS)
        .certChain[0]!;
      expect(algorithmForKey(mockLeaf)).toBe('PS384');
    });

    it.each([
      ['rsa2560-self', /RSA key size 2560/],
      ['ed25519-self', /key type ed25519/],
    ])('refuses %s', (name, message) => {
      expect(() => algorithmForKey(generated(name).cert)).toThrow(message);
    });

    it('refuses an EC key on a curve Notation does not allow (secp256k1)', () => {
      const cert = certificate({
        publicKey: ecKeys('secp256k1').publicKey,
        signingKey: ecKeys().privateKey,
      });
      expect(() => algorithmForKey(cert)).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
      expect(() => algorithmForKey(cert)).toThrow(
        'unsupported EC curve secp256k1 in the signing certificate (P-256, P-384 or P-521 required)',
      );
    });

    it('turns a node:crypto error (leaf key it cannot decode) into SIGNATURE_INVALID, never a throw', () => {
      const ca = testCa();
      const leaf = issue(ca, LEAF_EXTENSIONS, { spki: UNDECODABLE_SPKI });
      const r = checkIntegrity({ ...env(), certChain: [leaf, ca.cert] });
      expect(r.ok).toBe(false);
      expect(r.error).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
      expect(r.error?.message).toMatch(/^integrity check failed: Error: /);
      expect(r.error?.cause).toBeDefined(); // node:crypto's error, kept as the cause
      expect(r.error?.cause).not.toBeInstanceOf(VerificationError);
    });

    it('fails integrity for an Ed25519 leaf even when the signature itself is valid', () => {
      const ed = generated('ed25519-self');
      const r = checkIntegrity(
        parseEnvelope(
          buildJws({ key: ed.key!, chain: [ed.cert], alg: 'ES256', signWith: 'EdDSA' }),
          JWS,
        ),
      );
      expect(r.error?.message).toMatch(/unsupported key type/);
    });

    it('fails integrity for a truncated ECDSA signature', () => {
      const e = env();
      const r = checkIntegrity({ ...e, signature: e.signature.subarray(0, 63) });
      expect(r.error?.message).toMatch(/does not verify/);
    });
  });
});

describe('checkAuthenticity', () => {
  describe('when the trust store holds a chain certificate of the right type', () => {
    it('passes with the root in the ca store, and with only the intermediate (a pin)', () => {
      expect(checkAuthenticity(env(), store([ecRoot])).ok).toBe(true);
      const l = generated('ec-int-leaf');
      const e = env({ key: l.key!, chain: [l.cert, generated('ec-int').cert, ecRoot] });
      expect(checkAuthenticity(e, store([generated('ec-int').cert])).ok).toBe(true);
    });
  });

  describe('when it does not', () => {
    it('fails with ROOT_NOT_TRUSTED for another root, an empty store, or the wrong store type', () => {
      for (const s of [store([generated('other-root').cert]), store([]), store([], [ecRoot])]) {
        expect(checkAuthenticity(env(), s).error).toThrowWithCode(
          VerificationError,
          'ROOT_NOT_TRUSTED',
        );
      }
      expect(
        checkAuthenticity(env({ scheme: 'notary.x509.signingAuthority' }), store([ecRoot])).error
          ?.code,
      ).toBe('ROOT_NOT_TRUSTED');
    });
  });
});

describe('checkTrustedIdentity', () => {
  // notation-go verifier_test.go TestVerifyX509TrustedIdentities (vectors README §5).
  const signingCert = vectorCert('notation-go/verifier/testdata/verifier/signing-cert.pem');
  const badCert = vectorCert('notation-go/verifier/testdata/verifier/bad-cert.pem');
  const asEnvelope = (cert: X509Certificate): SignedEnvelope => ({ ...env(), certChain: [cert] });
  const wa = identity({ C: 'US', O: 'SomeOrg', ST: 'WA' });
  const ind = identity({ C: 'IND', O: 'SomeOrg', ST: 'TS' });

  it.each<[string, X509Certificate, Parameters<typeof checkTrustedIdentity>[1], boolean]>([
    ['subset match', signingCert, [wa], true],
    ['any one of several', signingCert, [ind, wa], true],
    ['wildcard', signingCert, ['*'], true],
    ['S alias of ST', signingCert, [identity({ C: 'US', O: 'SomeOrg', S: 'WA' })], true],
    ['no match', signingCert, [ind], false],
    ['case-sensitive values', signingCert, [identity({ C: 'us', O: 'SomeOrg', ST: 'WA' })], false],
    ['no identities configured', signingCert, [], false],
    ['leaf subject containing =#', badCert, [wa], false],
  ])('%s → %s', (_n, cert, ids, ok) => {
    const r = checkTrustedIdentity(asEnvelope(cert), ids);
    expect(r.ok).toBe(ok);
    if (!ok) expect(r.error?.code).toBe('UNTRUSTED_IDENTITY');
  });

  it('explains why a =# subject cannot be matched', () => {
    expect(checkTrustedIdentity(asEnvelope(badCert), [wa]).error?.message).toMatch(/=#/);
  });
});

describe('checkExpiry', () => {
  it('fails at and after the signed expiry, passes before it and without one', () => {
    const e = env({ expiry: new Date('2025-06-01T00:00:00Z') });
    expect(checkExpiry(e, new Date('2025-05-31T23:59:59Z')).ok).toBe(true);
    expect(checkExpiry(e, PINNED_NOW).error?.code).toBe('METADATA_EXPIRED');
    expect(checkExpiry(env(), new Date('2999-01-01T00:00:00Z')).ok).toBe(true);
  });
});

describe('checkAuthenticTimestamp', () => {
  describe('when the scheme is notary.x509', () => {
    it('requires every chain certificate to be valid now', () => {
      expect(checkAuthenticTimestamp(env(), PINNED_NOW, store()).ok).toBe(true);
      const early = checkAuthenticTimestamp(env(), new Date('2019-12-31T23:59:59Z'), store());
      expect(early.error?.message).toMatch(/will be valid from "Wed, 01 Jan 2020 00:00:00 \+0000"/);
      const late = checkAuthenticTimestamp(env(), new Date('2120-01-01T00:00:01Z'), store());
      expect(late.error?.code).toBe('METADATA_EXPIRED');
      expect(late.error?.message).not.toMatch(/timestamp/);
    });

    it('says timestamps are unsupported when a tsa store is configured or a token is present', () => {
      const late = new Date('2120-01-01T00:00:01Z');
      expect(
        checkAuthenticTimestamp(env(), late, { ...store(), tsa: [ecRoot] }).error?.message,
      ).toMatch(/not supported yet/);
      expect(
        checkAuthenticTimestamp({ ...env(), timestampToken: Buffer.from([0x30]) }, late, store())
          .error?.message,
      ).toMatch(/not supported yet/);
    });
  });

  describe('when the scheme is notary.x509.signingAuthority', () => {
    it('uses the authentic signing time, not now', () => {
      const inside = env({
        scheme: 'notary.x509.signingAuthority',
        signingTime: new Date('2021-01-01T00:00:00Z'),
      });
      expect(checkAuthenticTimestamp(inside, new Date('2200-01-01T00:00:00Z'), store()).ok).toBe(
        true,
      );
      const outside = env({
        scheme: 'notary.x509.signingAuthority',
        signingTime: new Date('2121-01-01T00:00:00Z'),
      });
      expect(checkAuthenticTimestamp(outside, PINNED_NOW, store()).error?.code).toBe(
        'METADATA_EXPIRED',
      );
    });
  });
});
