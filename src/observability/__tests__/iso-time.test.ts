// SPDX-License-Identifier: Apache-2.0
// toIsoString must be byte-identical to Date.prototype.toISOString.

import { describe, expect, it } from '@jest/globals';
import { toIsoString } from '../iso-time.js';

describe('toIsoString', () => {
  it.each([
    '2026-12-02T12:00:00.000Z',
    '2026-12-02T12:00:05.042Z',
    '2026-12-02T12:00:59.999Z',
    '2026-12-02T12:01:00.000Z',
    '2026-12-31T23:59:59.999Z',
    '2027-01-01T00:00:00.000Z',
    '1970-01-01T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z',
    '0000-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    '2024-02-29T10:10:10.100Z',
  ])('formats %s like toISOString', (iso) => {
    const d = new Date(iso);
    expect(toIsoString(d)).toBe(d.toISOString());
    expect(toIsoString(d)).toBe(iso);
  });

  it('agrees with toISOString on increasing and random instants (prefix cache changes)', () => {
    let ms = Date.parse('2026-12-02T11:59:58.000Z');
    for (let i = 0; i < 5000; i++, ms += 7) {
      expect(toIsoString(new Date(ms))).toBe(new Date(ms).toISOString());
    }
    let seed = 42;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const r = (seed / 2 ** 31) * 4e12 - 1e12;
      const d = new Date(Math.floor(r));
      expect(toIsoString(d)).toBe(d.toISOString());
    }
  });

  it('takes the built-in outside years 0000–9999 and throws for an invalid date like it', () => {
    const far = new Date(Date.parse('9999-12-31T23:59:59.999Z') + 1);
    expect(toIsoString(far)).toBe('+010000-01-01T00:00:00.000Z');
    const before = new Date(Date.parse('0000-01-01T00:00:00.000Z') - 1);
    expect(toIsoString(before)).toBe(before.toISOString());
    expect(() => toIsoString(new Date(Number.NaN))).toThrow(RangeError);
  });
});
