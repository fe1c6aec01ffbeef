// SPDX-License-Identifier: Apache-2.0
// docker/go canonical JSON: key order by UTF-8 bytes, minimal escaping, integers only.
import { describe, expect, it } from '@jest/globals';
import { VerificationError } from '../../errors.js';
import { canonicalize, compareUtf8 } from '../canonical-json.js';

const c = (v: unknown): string => canonicalize(v).toString('utf8');

describe('canonicalize', () => {
  describe('when given objects', () => {
    it('sorts keys and drops whitespace', () => {
      expect(c({ b: 1, a: [true, false, null], c: { z: 'x', y: {} } })).toBe('{"a":[true,false,null],"b":1,"c":{"y":{},"z":"x"}}');
    });
    it('keeps integer-like keys in byte order, unlike JSON.stringify', () => {
      expect(c(JSON.parse('{"b":0,"10":1,"9":2}'))).toBe('{"10":1,"9":2,"b":0}');
    });
    it('orders keys by UTF-8 bytes, placing astral characters after U+FFFF-range ones', () => {
      expect(c({ '\u{1F600}': 1, '\uFF5E': 2, é: 3, z: 4 })).toBe('{"z":4,"é":3,"～":2,"😀":1}');
      expect(compareUtf8('\u{1F600}', '\uE000')).toBeGreaterThan(0);
      expect(compareUtf8('ab', 'abc')).toBeLessThan(0);
      expect(compareUtf8('\uD800', '\uD801')).toBeLessThan(0);
    });
  });

  describe('when given strings', () => {
    it('escapes only quote and backslash, writing control characters, <>& and U+2028 raw', () => {
      const s = 'a"b\\c\t\n<>&\u2028ü\u0001';
      expect(canonicalize(s)).toEqual(Buffer.from(`"a\\"b\\\\c\t\n<>&\u2028ü\u0001"`, 'utf8'));
    });
    it('replaces lone surrogates by U+FFFD like Go', () => {
      expect(c('x\uD800y')).toBe('"x\uFFFDy"');
      expect(c({ '\uDC00': 1 })).toBe('{"\uFFFD":1}');
      expect(c('\u{1F600}')).toBe('"\u{1F600}"');
    });
  });

  describe('when given numbers', () => {
    it('writes integers, including negative zero as 0', () => {
      expect(c([0, -0, -12, 9007199254740991])).toBe('[0,0,-12,9007199254740991]');
    });
    it.each([1.5, NaN, Infinity, 2 ** 60])('refuses %p', (n) => {
      expect(() => canonicalize({ n })).toThrowWithCode(VerificationError, 'METADATA_INVALID');
    });
  });

  describe('when given non-JSON values or deep nesting', () => {
    it.each([undefined, () => 1, Symbol('s'), 1n])('refuses %p', (v) => {
      expect(() => canonicalize([v])).toThrowWithCode(VerificationError, 'METADATA_INVALID');
    });
    it('refuses nesting deeper than 256 levels', () => {
      const deep = JSON.parse('['.repeat(300) + ']'.repeat(300));
      expect(() => canonicalize(deep)).toThrow(/nested deeper/);
      expect(c(JSON.parse('['.repeat(100) + ']'.repeat(100)))).toHaveLength(200);
    });
  });
});
