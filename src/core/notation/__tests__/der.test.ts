// SPDX-License-Identifier: Apache-2.0
// The bounded DER reader: TLV framing, OIDs, validity times, name strings and the extensions Notation
// needs — and a DerError naming the field for every malformed shape (certificates are attacker input).

import { describe, expect, it } from '@jest/globals';
import {
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  derTlv,
} from '../../../tls/der.js';
import { children, DerError, parseCertificateInfo, readTlv, toOid } from '../der.js';
import {
  basicConstraints,
  certificateDer,
  CODE_SIGNING_EKU,
  dn,
  ecKeys,
  extension,
  keyUsage,
  OID,
  type CertSpec,
} from './x509-builder.js';

const keys = ecKeys();
const der = (spec: Partial<CertSpec> = {}): Buffer =>
  certificateDer({ publicKey: keys.publicKey, signingKey: keys.privateKey, ...spec });
const bytes = (...b: number[]): Buffer => Buffer.from(b);

function expectDerError(fn: () => unknown, message: string | RegExp): void {
  expect(fn).toThrow(DerError);
  expect(fn).toThrow(message);
}

describe('readTlv', () => {
  describe('when the TLV is well-formed', () => {
    it('reads short and long (0x81) lengths and points past the TLV', () => {
      const short = readTlv(bytes(0x30, 0x01, 0x05, 0xee), 0);
      expect(short).toEqual(expect.objectContaining({ tag: 0x30, constructed: true, end: 3 }));
      expect([...short.content]).toEqual([0x05]);
      const long = readTlv(Buffer.concat([bytes(0x04, 0x81, 0x80), Buffer.alloc(0x80, 7)]), 0);
      expect(long.constructed).toBe(false);
      expect(long.content).toHaveLength(0x80);
      expect(long.raw).toHaveLength(0x83);
    });
  });

  describe('when the framing is malformed', () => {
    it.each<[string, Buffer, string]>([
      ['a lone tag byte', bytes(0x30), 'truncated TLV'],
      [
        'a high tag number (0x1f)',
        bytes(0x1f, 0x01, 0x00),
        'high-tag-number form is not supported',
      ],
      [
        'BER indefinite length (0x80)',
        bytes(0x30, 0x80, 0x00, 0x00),
        'unsupported length encoding',
      ],
      ['a 5-byte length', bytes(0x30, 0x85, 0, 0, 0, 0, 1, 0), 'unsupported length encoding'],
      ['a long length cut short', bytes(0x30, 0x82, 0x01), 'truncated length'],
      ['a length past the input', bytes(0x30, 0x05, 0x00), 'length exceeds input'],
    ])('rejects %s', (_n, input, message) => {
      expectDerError(() => readTlv(input, 0), message);
    });
  });
});

describe('children', () => {
  it('lists the TLVs of a constructed node and refuses a primitive one', () => {
    const seq = readTlv(derSequence(derInteger(1), derInteger(2)), 0);
    expect(children(seq).map((c) => c.tag)).toEqual([0x02, 0x02]);
    expectDerError(() => children(readTlv(derInteger(1), 0)), 'tag 0x2 is not constructed');
  });
});

describe('toOid', () => {
  describe('when the OID is well-formed', () => {
    it.each(['1.2.840.10045.4.3.2', '2.5.29.37.0', '2.999.3'])('reads %s', (oid) => {
      expect(toOid(readTlv(derOid(oid), 0))).toBe(oid);
    });
  });

  describe('when it is not', () => {
    it.each<[string, Buffer, string]>([
      ['another tag', derInteger(1), 'expected OBJECT IDENTIFIER'],
      ['no content', bytes(0x06, 0x00), 'bad OID length'],
      ['more than 64 bytes', derTlv(0x06, Buffer.alloc(65, 0x01)), 'bad OID length'],
      [
        'an arc above 2^53',
        derTlv(0x06, Buffer.from([...Array(8).fill(0xff), 0x7f])),
        'OID arc too large',
      ],
      ['a last byte with the continuation bit', bytes(0x06, 0x02, 0x2a, 0x86), 'truncated OID'],
    ])('rejects %s', (_n, input, message) => {
      expectDerError(() => toOid(readTlv(input, 0)), message);
    });
  });
});

describe('parseCertificateInfo', () => {
  describe('when the certificate is well-formed', () => {
    it('reads the algorithm, validity, subject, raw names and the Notation extensions', () => {
      const info = parseCertificateInfo(
        der({
          subject: dn('leaf'),
          issuer: dn('issuer'),
          extensions: [
            keyUsage(['digitalSignature', 'decipherOnly']),
            basicConstraints(false),
            CODE_SIGNING_EKU,
          ],
        }),
      );
      expect(info).toEqual({
        signatureAlgorithm: OID.ecdsaWithSha256,
        notBefore: new Date('2020-01-01T00:00:00Z'),
        notAfter: new Date('2120-01-01T00:00:00Z'),
        subject: [{ oid: OID.commonName, value: 'leaf', rdn: 0 }],
        rawIssuer: dn('issuer'),
        rawSubject: dn('leaf'),
        keyUsage: { critical: true, bits: new Set(['digitalSignature', 'decipherOnly']) },
        basicConstraints: { critical: true, ca: false },
        extKeyUsage: { critical: false, oids: [OID.codeSigning] },
      });
    });

    it('reads a CA pathLenConstraint and ignores extensions it does not need', () => {
      const info = parseCertificateInfo(
        der({
          extensions: [basicConstraints(true, 3), extension('2.5.29.14', derOctetString(bytes(1)))],
        }),
      );
      expect(info.basicConstraints).toEqual({ critical: true, ca: true, pathLen: 3 });
      expect(info.keyUsage).toBeUndefined();
      expect(parseCertificateInfo(der()).basicConstraints).toBeUndefined();
    });

    it('reads UTCTime years 50–99 as 19YY and GeneralizedTime as written (RFC 5280 4.1.2.5)', () => {
      const validity = derSequence(
        derTlv(0x17, Buffer.from('991231235959Z')),
        derTlv(0x18, Buffer.from('00250101000000Z')),
      );
      const info = parseCertificateInfo(der({ validity }));
      expect(info.notBefore.toISOString()).toBe('1999-12-31T23:59:59.000Z');
      // Year 25, not 1925 (Date.UTC would map 0–99 to 19xx).
      expect(info.notAfter.toISOString()).toBe('0025-01-01T00:00:00.000Z');
    });

    it.each<[string, Buffer, string]>([
      ['TeletexString (Latin-1)', derTlv(0x14, Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'café'],
      ['BMPString (UTF-16BE)', derTlv(0x1e, Buffer.from([0x03, 0xa9, 0x00, 0x21])), 'Ω!'],
      ['PrintableString', derTlv(0x13, Buffer.from('Acme')), 'Acme'],
    ])('decodes a subject %s', (_n, value, text) => {
      expect(parseCertificateInfo(der({ subject: dn('', value) })).subject[0]?.value).toBe(text);
    });
  });

  describe('when the validity is malformed', () => {
    const validity = (notBefore: string, tag = 0x17): Buffer =>
      derSequence(derTlv(tag, Buffer.from(notBefore)), derTime(new Date('2120-01-01T00:00:00Z')));
    it.each<[string, Buffer]>([
      // Date would roll these over to 2021-01-01, 2020-03-01 and 2020-01-02: Go's x509 rejects them.
      ['month 13', validity('201301000000Z')],
      ['30 February', validity('200230000000Z')],
      ['hour 24', validity('200101240000Z')],
      ['a UTCTime without seconds', validity('2001010000Z')],
      ['a UTCTime with an offset', validity('200101000000+0100')],
      ['a GeneralizedTime with fractional seconds', validity('20200101000000.5Z', 0x18)],
      ['a time of another type', validity('20200101000000Z', 0x0c)],
    ])('rejects %s', (_n, v) => {
      expectDerError(
        () => parseCertificateInfo(der({ validity: v })),
        'bad certificate validity time',
      );
    });

    it.each<[string, Buffer, string]>([
      ['no times', derSequence(), 'expected notBefore'],
      [
        'only notBefore',
        derSequence(derTime(new Date('2020-01-01T00:00:00Z'))),
        'expected notAfter',
      ],
    ])('rejects a Validity with %s', (_n, v, message) => {
      expectDerError(() => parseCertificateInfo(der({ validity: v })), message);
    });
  });

  describe('when the subject is malformed', () => {
    it.each<[string, Buffer, string | RegExp]>([
      ['a BMPString of odd length', dn('', derTlv(0x1e, bytes(0x00, 0x41, 0x00))), 'bad BMPString'],
      [
        'a UniversalString',
        dn('', derTlv(0x1c, bytes(0, 0, 0, 0x41))),
        'unsupported string type 0x1c in name',
      ],
      [
        'a UTF8String that is not UTF-8',
        dn('', derTlv(0x0c, bytes(0x61, 0xc3, 0x28))),
        'string type 0xc in name is not valid UTF-8',
      ],
      [
        'an AttributeTypeAndValue without a value',
        derSequence(derSet(derSequence(derOid(OID.commonName)))),
        'bad AttributeTypeAndValue',
      ],
      [
        'an RDN that is not a SET',
        derSequence(derSequence()),
        'expected RelativeDistinguishedName SET',
      ],
    ])('rejects %s', (_n, subject, message) => {
      expectDerError(() => parseCertificateInfo(der({ subject })), message);
    });
  });

  describe('when the structure or an extension is malformed', () => {
    it('rejects input that is not a Certificate SEQUENCE', () => {
      expectDerError(() => parseCertificateInfo(derInteger(1)), 'expected Certificate SEQUENCE');
    });

    it('rejects a repeated extension (RFC 5280 4.2)', () => {
      const ku = keyUsage(['digitalSignature']);
      expectDerError(
        () => parseCertificateInfo(der({ extensions: [ku, ku] })),
        `duplicate extension ${OID.keyUsage}`,
      );
    });

    it.each<[string, Buffer, string]>([
      [
        'an empty INTEGER',
        derSequence(derTlv(0x01, bytes(0xff)), derTlv(0x02, Buffer.alloc(0))),
        'bad pathLenConstraint',
      ],
      [
        'a 5-byte INTEGER',
        derSequence(derTlv(0x02, bytes(1, 0, 0, 0, 0))),
        'bad pathLenConstraint',
      ],
      ['a negative INTEGER', derSequence(derTlv(0x02, bytes(0xff))), 'bad pathLenConstraint'],
      ['an element of another type', derSequence(derOctetString(bytes(0))), 'bad basicConstraints'],
    ])('rejects a basicConstraints with %s', (_n, value, message) => {
      expectDerError(
        () =>
          parseCertificateInfo(der({ extensions: [extension(OID.basicConstraints, value, true)] })),
        message,
      );
    });

    it('rejects a keyUsage that is not a BIT STRING', () => {
      expectDerError(
        () =>
          parseCertificateInfo(
            der({ extensions: [extension(OID.keyUsage, derOctetString(bytes(0)), true)] }),
          ),
        'expected keyUsage BIT STRING',
      );
    });
  });
});
