// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../errors.js';
import { parseDuration } from '../duration.js';

describe('parseDuration', () => {
  describe('when the text is a valid duration', () => {
    it.each([
      ['30s', 30_000],
      ['30m', 1_800_000],
      ['12h', 43_200_000],
      ['15d', 15 * 86_400_000],
      ['2w', 14 * 86_400_000],
      ['1h30m', 5_400_000],
      ['1d12h', 36 * 3_600_000],
    ])('parses %s to %d ms', (text, ms) => {
      expect(parseDuration(text)).toBe(ms);
    });
  });

  describe('when the text is not a duration', () => {
    it.each(['', '15', 'd', '15 d', '15days', '-1d', '1.5h', '15D', 'x'.repeat(65), '1234567d'])(
      'rejects %j with INVALID_POLICY',
      (text) => {
        expect(() => parseDuration(text)).toThrowWithCode(ConfigError, 'INVALID_POLICY');
      },
    );

    it('says how to write one', () => {
      expect(() => parseDuration('15 days')).toThrow(/number and a unit/);
    });
  });

  describe('when the duration is zero', () => {
    it('rejects it', () => {
      expect(() => parseDuration('0d')).toThrow(/positive/);
    });
  });

  describe('when the duration is absurdly long', () => {
    it('rejects more than 100 years', () => {
      expect(() => parseDuration('999999w')).toThrow(/100 years/);
    });
  });
});
