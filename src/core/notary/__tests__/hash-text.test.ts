// SPDX-License-Identifier: Apache-2.0
// Target hash texts: the string check (general path) and the byte check (in-place reader)
// must accept exactly the same texts.
import { describe, expect, it } from '@jest/globals';
import { hashTextLength, isBase64Hash, isBase64HashAt, type HashSize } from '../hash-text.js';

const text = (size: HashSize, fill = 0xab): string => Buffer.alloc(size, fill).toString('base64');

/** The byte check over `s` served as a JSON string at the end of a buffer. */
const atEnd = (s: string, size: HashSize): boolean =>
  isBase64HashAt(Buffer.from(`"${s}"`, 'latin1'), 1, size);

describe('hash-text', () => {
  describe('when the text is base64 of a digest of the size', () => {
    it.each([32, 64] as const)('accepts %i-byte digests both ways', (size) => {
      for (const fill of [0x00, 0xff, 0x5a]) {
        const s = text(size, fill);
        expect(s.length).toBe(hashTextLength(size));
        expect([isBase64Hash(s, size), atEnd(s, size)]).toEqual([true, true]);
      }
    });
  });

  describe('when the text is anything else', () => {
    const sha256 = text(32);
    const sha512 = text(64);
    it.each([
      ['the other size', sha512, 32],
      ['the other size', sha256, 64],
      ['missing padding', `${sha256.slice(0, 43)}A`, 32],
      ['one pad for 64 bytes', `${sha512.slice(0, 87)}A`, 64],
      ['a character outside the alphabet', `-${sha256.slice(1)}`, 32],
      ['a character above U+00FF', `\u0100${sha256.slice(1)}`, 32],
      ['url-safe base64', `_${sha256.slice(1)}`, 32],
      ['too short', sha256.slice(4), 32],
      ['empty', '', 32],
    ] as const)('refuses %s both ways', (_why, s, size) => {
      expect([isBase64Hash(s, size), atEnd(s, size)]).toEqual([false, false]);
    });

    it('refuses served text without its closing quote or cut by the end of the bytes', () => {
      const s = text(32);
      expect(isBase64HashAt(Buffer.from(`"${s}x`, 'latin1'), 1, 32)).toBe(false);
      expect(isBase64HashAt(Buffer.from(`"${s}`, 'latin1'), 1, 32)).toBe(false);
      expect(isBase64HashAt(Buffer.from(`"${s.slice(0, 20)}`, 'latin1'), 1, 32)).toBe(false);
    });
  });
});
