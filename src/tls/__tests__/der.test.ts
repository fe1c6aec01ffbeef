// SPDX-License-Identifier: Apache-2.0
// DER encoder against known encodings (X.690 examples and well-known OIDs).

import { describe, expect, it } from '@jest/globals';
import {
  derBitString,
  derInteger,
  derLength,
  derOid,
  derSequence,
  derSet,
  derTime,
  derUtf8String,
} from '../der.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('der', () => {
  it('encodes lengths in short and long form', () => {
    expect(hex(derLength(5))).toBe('05');
    expect(hex(derLength(127))).toBe('7f');
    expect(hex(derLength(128))).toBe('8180');
    expect(hex(derLength(0x1234))).toBe('821234');
    expect(() => derLength(-1)).toThrow(RangeError);
  });

  it('encodes integers minimally and positive', () => {
    expect(hex(derInteger(0))).toBe('020100');
    expect(hex(derInteger(2))).toBe('020102');
    expect(hex(derInteger(128))).toBe('02020080');
    expect(hex(derInteger(Buffer.from([0, 0, 0x7f])))).toBe('02017f');
    expect(hex(derInteger(Buffer.from([0xff, 0x01])))).toBe('020300ff01');
  });

  it('encodes OIDs in base 128', () => {
    expect(hex(derOid('1.2.840.10045.4.3.2'))).toBe('06082a8648ce3d040302'); // ecdsa-with-SHA256
    expect(hex(derOid('2.5.29.17'))).toBe('0603551d11'); // subjectAltName
    expect(() => derOid('1.40')).toThrow(RangeError);
    expect(() => derOid('x.1')).toThrow(RangeError);
  });

  it('encodes times as UTCTime before 2050 and GeneralizedTime after', () => {
    expect(derTime(new Date('2026-12-02T10:20:30Z')).subarray(2).toString('ascii')).toBe(
      '261202102030Z',
    );
    expect(derTime(new Date('2026-12-02T10:20:30Z'))[0]).toBe(0x17);
    expect(derTime(new Date('2050-01-01T00:00:00Z')).subarray(2).toString('ascii')).toBe(
      '20500101000000Z',
    );
    expect(derTime(new Date('2050-01-01T00:00:00Z'))[0]).toBe(0x18);
  });

  it('sorts SET OF members and wraps constructed types', () => {
    expect(hex(derSet(Buffer.from([0x02, 0x01, 0x05]), Buffer.from([0x02, 0x01, 0x01])))).toBe(
      '3106020101020105',
    );
    expect(hex(derSequence(derUtf8String('a'), derBitString(Buffer.from([0xff]))))).toBe(
      '30070c0161030200ff',
    );
  });
});
