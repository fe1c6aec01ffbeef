// SPDX-License-Identifier: Apache-2.0
import { X509Certificate, createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../errors.js';
import {
  isIdentitySubset,
  parseCertificates,
  parseRootKey,
  parseTrustedIdentity,
  splitPem,
} from '../material.js';
import {
  CA_CERT,
  EC_PRIVATE_KEY,
  EC_PUBLIC_KEY,
  KEY_ID,
  ROOT_CERT,
  RSA_PKCS1_PUBLIC_KEY,
  TSA_CERT,
} from './pki.js';

describe('splitPem', () => {
  it('splits several blocks with blank lines and CRLF between them', () => {
    const blocks = splitPem(`${CA_CERT}\r\n\r\n${TSA_CERT}`);
    expect(blocks?.map((b) => b.label)).toEqual(['CERTIFICATE', 'CERTIFICATE']);
  });

  it.each([
    ['text that is not PEM', 'hello'],
    ['an unterminated block', '-----BEGIN CERTIFICATE-----\nAAAA'],
    ['an empty block', '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----'],
    ['non-base64 content', '-----BEGIN CERTIFICATE-----\n$$$\n-----END CERTIFICATE-----'],
    ['only whitespace', '  \n '],
  ])('returns undefined for %s', (_what, text) => {
    expect(splitPem(text)).toBeUndefined();
  });
});

describe('parseRootKey', () => {
  describe('when the entry is a key ID', () => {
    it('lower-cases it', () => {
      expect(parseRootKey(KEY_ID.toUpperCase())).toEqual({ kind: 'keyId', id: KEY_ID });
    });
  });

  describe('when the entry is a certificate', () => {
    it('returns the sha256 fingerprint of the DER', () => {
      const key = parseRootKey(ROOT_CERT);
      const der = new X509Certificate(ROOT_CERT).raw;
      expect(key).toMatchObject({
        kind: 'certificate',
        fingerprint: createHash('sha256').update(der).digest('hex'),
      });
    });
  });

  describe('when the entry is a public key', () => {
    it.each([
      ['SPKI', EC_PUBLIC_KEY, 'ec'],
      ['PKCS#1 RSA', RSA_PKCS1_PUBLIC_KEY, 'rsa'],
    ])('parses a %s key', (_what, pem, type) => {
      const key = parseRootKey(pem);
      expect(key.kind).toBe('publicKey');
      expect(key.kind === 'publicKey' && key.key.asymmetricKeyType).toBe(type);
    });
  });

  describe('when the entry is invalid', () => {
    const corrupt = ROOT_CERT.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    it.each([
      ['neither PEM nor hex', 'abc123', /not PEM and not a 64-hex key ID/],
      ['63 hex digits', KEY_ID.slice(1), /not PEM and not a 64-hex key ID/],
      ['two blocks', `${ROOT_CERT}${CA_CERT}`, /one key per entry/],
      ['a private key', EC_PRIVATE_KEY, /PRIVATE KEY/],
      ['a corrupt certificate', corrupt, /does not parse as X.509/],
      [
        'a corrupt public key',
        '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
        /does not parse/,
      ],
      [
        'another block type',
        '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----',
        /expected CERTIFICATE or PUBLIC KEY/,
      ],
    ])('rejects %s', (_what, text, message) => {
      expect(() => parseRootKey(text)).toThrowWithCode(ConfigError, 'INVALID_POLICY');
      expect(() => parseRootKey(text)).toThrow(message);
    });
  });
});

describe('parseCertificates', () => {
  it('parses a bundle', () => {
    expect(parseCertificates(`${CA_CERT}${TSA_CERT}`, true)).toHaveLength(2);
  });

  it.each([
    ['not PEM', 'nope', false, /is not PEM/],
    ['a public key', EC_PUBLIC_KEY, false, /expected CERTIFICATE/],
    [
      'a public key inside a bundle',
      `${CA_CERT}${EC_PUBLIC_KEY}`,
      false,
      /\(block 2\) is a PUBLIC KEY/,
    ],
    ['a private key', EC_PRIVATE_KEY, false, /PRIVATE KEY/],
    ['a leaf where a CA is required', ROOT_CERT, true, /not a CA certificate/],
    ['a leaf inside a CA bundle', `${CA_CERT}${ROOT_CERT}`, true, /\(block 2\) is not a CA/],
  ])('rejects %s', (_what, text, requireCa, message) => {
    expect(() => parseCertificates(text, requireCa)).toThrow(message);
  });

  it('accepts a leaf when no CA is required', () => {
    expect(parseCertificates(ROOT_CERT)).toHaveLength(1);
  });
});

describe('parseTrustedIdentity', () => {
  describe('when the identity is valid', () => {
    it('accepts "*"', () => {
      expect(parseTrustedIdentity(' * ')).toBe('*');
    });

    it.each([
      ['x509.subject: C=US, ST=WA, O=Example', { C: 'US', ST: 'WA', O: 'Example' }],
      [
        'x509.subject:C=US,S=WA,O=Example,CN=Release',
        { C: 'US', ST: 'WA', O: 'Example', CN: 'Release' },
      ],
      ['x509.subject: C=US; ST=WA; o=Ex\\, Inc.', { C: 'US', ST: 'WA', O: 'Ex, Inc.' }],
      ['x509.subject: C=US, ST=WA, O=A\\2bB', { C: 'US', ST: 'WA', O: 'A+B' }],
      ['x509.subject: C=US, ST=WA, O=Trailing\\ ', { C: 'US', ST: 'WA', O: 'Trailing ' }],
      ['x509.subject: C=US, ST=WA, O=Sp ace  ', { C: 'US', ST: 'WA', O: 'Sp ace' }],
      ['x509.subject: C= US, ST=WA, O=x', { C: 'US', ST: 'WA', O: 'x' }],
    ])('parses %j', (text, expected) => {
      expect(Object.fromEntries(parseTrustedIdentity(text) as Map<string, string>)).toEqual(
        expected,
      );
    });
  });

  describe('when the identity is invalid', () => {
    it.each([
      ['no prefix', 'C=US, ST=WA, O=x', /not a trusted identity/],
      ['another prefix', 'x509.san: foo', /not a trusted identity/],
      ['an empty DN', 'x509.subject:  ', /empty/],
      ['missing ST', 'x509.subject: C=US, O=x', /missing ST/],
      ['a repeated attribute', 'x509.subject: C=US, ST=WA, O=x, O=y', /more than once/],
      ['a multi-valued RDN', 'x509.subject: C=US+ST=WA, O=x', /multi-valued/],
      ['a hex value', 'x509.subject: C=US, ST=WA, O=#0101', /hex form/],
      [
        'an unknown attribute',
        'x509.subject: C=US, ST=WA, O=x, emailAddress=a@b',
        /cannot be matched/,
      ],
      ['an empty value', 'x509.subject: C=US, ST=WA, O=', /empty value/],
      ['a missing "="', 'x509.subject: C=US, ST', /no "=value"/],
      ['a separator in a type', 'x509.subject: C, ST=WA, O=x', /no "=value"/],
      ['a trailing backslash', 'x509.subject: C=US, ST=WA, O=x\\', /lone/],
      ['an empty RDN', 'x509.subject: C=US, ST=WA, O=x,', /empty RDN/],
      ['a very long text', `x509.subject: C=US, ST=WA, O=${'x'.repeat(1100)}`, /longer than 1024/],
    ])('rejects %s', (_what, text, message) => {
      expect(() => parseTrustedIdentity(text)).toThrowWithCode(ConfigError, 'INVALID_POLICY');
      expect(() => parseTrustedIdentity(text)).toThrow(message);
    });
  });
});

describe('isIdentitySubset', () => {
  it('is true when every attribute of a is in b with the same value', () => {
    const a = new Map([['O', 'x']]);
    const b = new Map([
      ['O', 'x'],
      ['C', 'US'],
    ]);
    expect(isIdentitySubset(a, b)).toBe(true);
    expect(isIdentitySubset(b, a)).toBe(false);
  });
});
