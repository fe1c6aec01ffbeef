// SPDX-License-Identifier: Apache-2.0
// The strict CBOR decoder: accepted shapes, and bounded rejection of hostile input.

import { describe, expect, it } from '@jest/globals';
import { encodeCbor, Tagged } from '../../../__fixtures__/notation/builders.js';
import { CBOR_LIMITS, CborError, CborTag, decodeCbor, encodeSigStructure } from '../cbor.js';

describe('decodeCbor', () => {
  describe('when the input is well-formed', () => {
    it('decodes integers, strings, bytes, arrays, maps, tags and simple values', () => {
      const v = decodeCbor(
        encodeCbor([
          0,
          23,
          24,
          65535,
          4294967295,
          -1,
          -100,
          'hé',
          Buffer.from([1, 2]),
          new Map<number | string, unknown>([
            [1, 'a'],
            ['k', [true, false, null]],
          ]),
          new Tagged(1, 1700000000),
        ]),
      );
      expect(v).toEqual([
        0,
        23,
        24,
        65535,
        4294967295,
        -1,
        -100,
        'hé',
        new Uint8Array([1, 2]),
        new Map<number | string, unknown>([
          [1, 'a'],
          ['k', [true, false, null]],
        ]),
        new CborTag(1, 1700000000),
      ]);
    });

    it('decodes simple value 23 as undefined (the only simple value the test encoder lacks)', () => {
      expect(decodeCbor(Buffer.from([0x82, 0xf7, 0xf6]))).toStrictEqual([undefined, null]);
    });

    it('decodes 64-bit lengths up to 2^53 - 1 and rejects larger integers', () => {
      expect(decodeCbor(Buffer.from([0x1b, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(
        Number.MAX_SAFE_INTEGER,
      );
      expect(() => decodeCbor(Buffer.from([0x1b, 0, 0x20, 0, 0, 0, 0, 0, 0]))).toThrow(CborError);
    });
  });

  describe('when the input is hostile', () => {
    it.each<[string, Buffer, RegExp]>([
      ['empty input', Buffer.alloc(0), /truncated/],
      ['a huge byte-string length', Buffer.from([0x5a, 0xff, 0xff, 0xff, 0xff]), /exceeds input/],
      ['a huge array length', Buffer.from([0x9a, 0xff, 0xff, 0xff, 0xff]), /exceeds input/],
      ['a huge map length', Buffer.from([0xba, 0xff, 0xff, 0xff, 0xff]), /exceeds input/],
      ['indefinite length', Buffer.from([0x5f, 0x41, 0x00, 0xff]), /indefinite/],
      ['reserved additional info', Buffer.from([0x1c]), /reserved/],
      ['a float', Buffer.from([0xf9, 0x3c, 0x00]), /float/],
      ['a byte-string map key', Buffer.from([0xa1, 0x41, 0x00, 0x01]), /map keys/],
      ['a duplicate map key', Buffer.from([0xa2, 0x01, 0x01, 0x01, 0x02]), /duplicate/],
      [
        'invalid UTF-8 text',
        Buffer.from([0x81, 0x62, 0xc3, 0x28]),
        /^text string at byte 2 is not valid UTF-8$/,
      ],
      ['trailing bytes', Buffer.from([0x01, 0x02]), /trailing/],
      ['deep nesting', Buffer.alloc(CBOR_LIMITS.maxDepth + 2, 0x81), /too deep/],
      [
        'a deep tag chain',
        Buffer.concat([Buffer.alloc(CBOR_LIMITS.maxDepth + 2, 0xc1), Buffer.from([0x01])]),
        /too deep/,
      ],
    ])('rejects %s with a CborError', (_n, input, message) => {
      expect(() => decodeCbor(input)).toThrow(CborError);
      expect(() => decodeCbor(input)).toThrow(message);
    });

    it('stops after CBOR_LIMITS.maxItems items', () => {
      const n = CBOR_LIMITS.maxItems + 1;
      const input = Buffer.concat([
        Buffer.from([0x9a, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]),
        Buffer.alloc(n, 0x00),
      ]);
      expect(() => decodeCbor(input)).toThrow(/too many items/);
    });
  });
});

describe('encodeSigStructure', () => {
  it('equals the generic encoding of ["Signature1", protected, h\'\', payload] for short and long inputs', () => {
    for (const size of [0, 23, 24, 300, 70_000]) {
      const p = Buffer.alloc(size, 7);
      expect(encodeSigStructure(Buffer.from([0xa0]), p)).toEqual(
        encodeCbor(['Signature1', Buffer.from([0xa0]), Buffer.alloc(0), p]),
      );
    }
  });
});
