// SPDX-License-Identifier: Apache-2.0
// Root certificate checks from notary trust pinning: CN, leaf, validity, SHA-1, RSA size, CA chains.
import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import {
  chainsTo,
  cnMatchesGun,
  commonName,
  isValidAt,
  rootCertificateProblem,
  signatureAlgorithmOid,
  weakCertificateProblem,
} from '../x509.js';
import {
  keyPair,
  makeCertificate,
  type CertOptions,
} from '../../../__fixtures__/builders/tuf-repo.js';

const NOW = new Date('2026-11-30T00:00:00Z');
const DAY = 86_400_000;
const base: CertOptions = {
  cn: 'example.com/app',
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2036-01-01T00:00:00Z'),
};
const cert = (
  o: Partial<CertOptions> = {},
  kind: 'ecdsa' | 'rsa' = 'ecdsa',
  index = 0,
  bits = 2048,
): X509Certificate => {
  const k = keyPair(kind, index, bits);
  return new X509Certificate(
    makeCertificate(k.publicKey, o.issuer?.key ?? k.privateKey, { ...base, ...o }),
  );
};

describe('x509 helpers', () => {
  describe('when reading certificate fields', () => {
    it('reads the signature algorithm OID', () => {
      expect(signatureAlgorithmOid(cert())).toBe('1.2.840.10045.4.3.2');
      expect(signatureAlgorithmOid(cert({}, 'rsa'))).toBe('1.2.840.113549.1.1.11');
      expect(signatureAlgorithmOid(cert({ sha1: true }))).toBe('1.2.840.10045.4.1');
    });
    it('returns undefined for DER it cannot walk', () => {
      const fake = {
        raw: Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
      } as unknown as X509Certificate;
      expect(signatureAlgorithmOid(fake)).toBeUndefined();
      const wrongTags = {
        raw: Buffer.from([0x30, 0x06, 0x30, 0x00, 0x31, 0x02, 0x06, 0x00]),
      } as unknown as X509Certificate;
      expect(signatureAlgorithmOid(wrongTags)).toBeUndefined();
      const noLen = { raw: Buffer.from([0x30, 0x80]) } as unknown as X509Certificate;
      expect(signatureAlgorithmOid(noLen)).toBeUndefined();
    });
    it('reads the common name, unquoting special characters', () => {
      expect(commonName(cert())).toBe('example.com/app');
      expect(commonName(cert({ cn: 'a,b+c' }))).toBe('a,b+c');
      expect(commonName({ subject: 'CN=x\\0Ay\\' } as X509Certificate)).toBe('x\ny\\');
      expect(commonName({ subject: 'CN="quoted"' } as X509Certificate)).toBe('quoted');
      expect(commonName({ subject: 'O=x' } as X509Certificate)).toBeUndefined();
      expect(commonName({ subject: 'CN=a\nCN=b' } as X509Certificate)).toBeUndefined();
      expect(commonName({ subject: 'CN="broken' } as X509Certificate)).toBeUndefined();
    });
  });

  describe('when matching CN to GUN', () => {
    it.each([
      ['a/b', 'a/b', true],
      ['a/b', 'a/bc', false],
      ['a/*', 'a/b/c', true],
      ['a/**', 'a/b', true],
      ['b/*', 'a/b', false],
    ])('%s vs %s → %s', (cn, gun, ok) => expect(cnMatchesGun(cn, gun)).toBe(ok));
  });

  describe('when checking validity', () => {
    it('allows notBefore up to one day ahead and refuses after notAfter', () => {
      const c = cert({
        notBefore: new Date(NOW.getTime() + DAY - 1000),
        notAfter: new Date(NOW.getTime() + 2 * DAY),
      });
      expect(isValidAt(c, NOW)).toBe(true);
      expect(
        isValidAt(
          cert({
            notBefore: new Date(NOW.getTime() + 2 * DAY),
            notAfter: new Date(NOW.getTime() + 3 * DAY),
          }),
          NOW,
        ),
      ).toBe(false);
      expect(isValidAt(cert({ notAfter: new Date(NOW.getTime() - 1000) }), NOW)).toBe(false);
    });
  });

  describe('when judging a root certificate', () => {
    it('accepts a valid leaf with CN = GUN (with or without a time)', () => {
      expect(rootCertificateProblem(cert(), 'example.com/app', NOW)).toBeUndefined();
      expect(
        rootCertificateProblem(
          cert({ notAfter: new Date('2020-01-01'), notBefore: new Date('2019-01-01') }),
          'example.com/app',
          null,
        ),
      ).toBeUndefined();
    });
    it.each([
      ['a CA', { ca: true }, 'example.com/app', /CA certificate/],
      ['a CN mismatch', {}, 'other/app', /does not match/],
      ['no CN', { cn: '' }, 'example.com/app', /no single common name|does not match/],
      ['SHA-1', { sha1: true }, 'example.com/app', /SHA-1/],
      [
        'expired',
        { notBefore: new Date('2019-01-01'), notAfter: new Date('2020-01-01') },
        'example.com/app',
        /not valid at/,
      ],
      [
        'an inverted window',
        { notBefore: new Date('2030-01-01'), notAfter: new Date('2020-01-01') },
        'example.com/app',
        /invalid validity window/,
      ],
    ])('refuses %s', (_w, o, gun, message) => {
      expect(rootCertificateProblem(cert(o as Partial<CertOptions>), gun, NOW)).toMatch(message);
    });
    it('refuses RSA keys below 2048 bits and SHA-1 RSA', () => {
      expect(weakCertificateProblem(cert({}, 'rsa', 0, 1024))).toMatch(/shorter than 2048/);
      expect(weakCertificateProblem(cert({ sha1: true }, 'rsa', 0))).toMatch(/SHA-1/);
      expect(weakCertificateProblem(cert({}, 'rsa', 0))).toBeUndefined();
    });
  });

  describe('when chaining to a pinned CA', () => {
    const caKey = keyPair('ecdsa', 5);
    const ca = new X509Certificate(
      makeCertificate(caKey.publicKey, caKey.privateKey, { ...base, cn: 'Root CA', ca: true }),
    );
    const midKey = keyPair('ecdsa', 6);
    const mid = new X509Certificate(
      makeCertificate(midKey.publicKey, caKey.privateKey, {
        ...base,
        cn: 'Mid CA',
        ca: true,
        issuer: { cn: 'Root CA', key: caKey.privateKey },
      }),
    );
    const leafDirect = cert({ issuer: { cn: 'Root CA', key: caKey.privateKey } });
    const leafViaMid = cert({ issuer: { cn: 'Mid CA', key: midKey.privateKey } });
    it('accepts a leaf issued by the CA', () =>
      expect(chainsTo(leafDirect, [], [ca], NOW)).toBe(true));
    it('accepts a leaf through an intermediate from the bundle', () =>
      expect(chainsTo(leafViaMid, [mid], [ca], NOW)).toBe(true));
    it('refuses without the intermediate, or with an expired CA', () => {
      expect(chainsTo(leafViaMid, [], [ca], NOW)).toBe(false);
      expect(chainsTo(leafDirect, [], [ca], new Date('2040-01-01'))).toBe(false);
    });
    it('refuses a self-signed leaf and a non-CA intermediate', () => {
      const notCa = new X509Certificate(
        makeCertificate(midKey.publicKey, caKey.privateKey, {
          ...base,
          cn: 'Mid CA',
          issuer: { cn: 'Root CA', key: caKey.privateKey },
        }),
      );
      expect(chainsTo(cert(), [], [ca], NOW)).toBe(false);
      expect(chainsTo(leafViaMid, [notCa, leafViaMid], [ca], NOW)).toBe(false);
    });
    it('stops at the chain depth limit', () => {
      // A loop of intermediates that never reaches the CA must end.
      const other = keyPair('ecdsa', 7);
      const a = new X509Certificate(
        makeCertificate(midKey.publicKey, other.privateKey, {
          ...base,
          cn: 'Mid CA',
          ca: true,
          issuer: { cn: 'Loop', key: other.privateKey },
        }),
      );
      const b = new X509Certificate(
        makeCertificate(other.publicKey, midKey.privateKey, {
          ...base,
          cn: 'Loop',
          ca: true,
          issuer: { cn: 'Mid CA', key: midKey.privateKey },
        }),
      );
      expect(chainsTo(leafViaMid, [a, b], [ca], NOW)).toBe(false);
    });
    it('treats a throwing certificate as not issued', () => {
      const broken = {
        checkIssued: () => {
          throw new Error('x');
        },
      } as unknown as X509Certificate;
      expect(chainsTo(broken, [], [ca], NOW)).toBe(false);
    });
  });
});

describe('x509 helpers on unusual input', () => {
  describe('when the signature OID starts with arc 2', () => {
    it('decodes it', () => {
      // Certificate SEQUENCE { tbs SEQUENCE {}, alg SEQUENCE { OID 2.999.1 } }
      const raw = Buffer.from([0x30, 0x09, 0x30, 0x00, 0x30, 0x05, 0x06, 0x03, 0x88, 0x37, 0x01]);
      expect(signatureAlgorithmOid({ raw } as unknown as X509Certificate)).toBe('2.999.1');
    });
  });
  describe('when a root certificate has no single CN', () => {
    it('reports a CA without CN and a leaf without CN', () => {
      expect(
        rootCertificateProblem({ ca: true, subject: 'O=x' } as X509Certificate, 'g', null),
      ).toMatch(/\(no CN\) is a CA/);
      expect(
        rootCertificateProblem({ ca: false, subject: 'O=x' } as X509Certificate, 'g', null),
      ).toMatch(/no single common name/);
    });
  });
});
