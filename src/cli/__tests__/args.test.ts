// SPDX-License-Identifier: Apache-2.0
// The CLI's strict argv parser and its value parsers (--at, ports): every bad input is a USAGE error.

import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../core/errors.js';
import { flag, flags, parseArgs, parseAt, parsePort, type FlagSpec } from '../args.js';

const SPEC: Readonly<Record<string, FlagSpec>> = {
  policy: { value: true },
  'root-key': { value: true, multiple: true },
  'no-registry': {},
};

describe('parseArgs', () => {
  describe('when flags and positionals are mixed', () => {
    it('keeps positionals in order and collects flag values', () => {
      const args = parseArgs(['a', '--policy', 'p.yaml', 'b', '--no-registry', 'c'], SPEC);
      expect(args.positionals).toEqual(['a', 'b', 'c']);
      expect(flag(args, 'policy')).toBe('p.yaml');
      expect(args.flags.has('no-registry')).toBe(true);
      expect(flag(args, 'missing')).toBeUndefined();
    });

    it('treats a lone dash as a positional (stdin)', () => {
      expect(parseArgs(['-', '--policy', 'x'], SPEC).positionals).toEqual(['-']);
    });
  });

  describe('when a value is given as --name=value', () => {
    it('takes everything after the first =', () => {
      expect(flag(parseArgs(['--policy=a=b.yaml'], SPEC), 'policy')).toBe('a=b.yaml');
    });

    it('refuses a value for a boolean flag', () => {
      expect(() => parseArgs(['--no-registry=yes'], SPEC)).toThrowWithCode(ConfigError, 'USAGE');
    });
  });

  describe('when the flag is unknown', () => {
    it('throws USAGE naming the flag and the known ones', () => {
      let err: unknown;
      try {
        parseArgs(['--polcy', 'x'], SPEC);
      } catch (e) {
        err = e;
      }
      expect(err).toThrowWithCode(ConfigError, 'USAGE');
      expect((err as Error).message).toContain('--polcy');
      expect((err as Error).message).toContain('--policy');
    });

    it.each(['constructor', 'toString', '__proto__'])(
      'throws USAGE for --%s, which only Object.prototype has',
      (name) => {
        expect(() => parseArgs([`--${name}`], SPEC)).toThrowWithCode(ConfigError, 'USAGE');
      },
    );
  });

  describe('when a value is missing', () => {
    it('throws USAGE at the end of argv', () => {
      expect(() => parseArgs(['img', '--policy'], SPEC)).toThrowWithCode(ConfigError, 'USAGE');
    });

    it('throws USAGE when the next word is another flag', () => {
      expect(() => parseArgs(['--policy', '--no-registry'], SPEC)).toThrowWithCode(
        ConfigError,
        'USAGE',
      );
    });
  });

  describe('when a flag is repeated', () => {
    it('throws USAGE for a single-valued flag', () => {
      expect(() => parseArgs(['--policy', 'a', '--policy', 'b'], SPEC)).toThrowWithCode(
        ConfigError,
        'USAGE',
      );
    });

    it('collects every value of a multiple flag, in order', () => {
      const args = parseArgs(['--root-key', 'k1', '--root-key=k2'], SPEC);
      expect(flags(args, 'root-key')).toEqual(['k1', 'k2']);
      expect(flags(args, 'policy')).toEqual([]);
    });
  });

  describe('when -- is given', () => {
    it('treats everything after it as positionals, even flag-like words', () => {
      const args = parseArgs(['--policy', 'p', '--', '--not-a-flag', 'x'], SPEC);
      expect(args.positionals).toEqual(['--not-a-flag', 'x']);
      expect(flag(args, 'policy')).toBe('p');
    });
  });
});

describe('parseAt', () => {
  describe('when the value is an RFC 3339 instant', () => {
    it.each([
      ['2026-12-01T00:00:00Z', '2026-12-01T00:00:00.000Z'],
      ['2026-12-01T01:30:00.250+01:30', '2026-12-01T00:00:00.250Z'],
      ['2028-02-29T23:59:59-00:00', '2028-02-29T23:59:59.000Z'],
    ])('parses %s', (input, iso) => {
      expect(parseAt(input)?.toISOString()).toBe(iso);
    });
  });

  describe('when the flag is absent', () => {
    it('returns undefined', () => {
      expect(parseAt(undefined)).toBeUndefined();
    });
  });

  describe('when the value is not a valid instant', () => {
    it.each([
      '2026-12-01',
      '2026-12-01 00:00:00Z',
      '2026-12-01T00:00:00',
      'tomorrow',
      '',
      '2026-13-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2027-02-29T00:00:00Z',
      '2026-12-01T24:00:00Z',
      '2026-12-01T12:60:00Z',
      '2026-12-01T12:00:00+25:00',
    ])('throws USAGE for %j', (input) => {
      expect(() => parseAt(input)).toThrowWithCode(ConfigError, 'USAGE');
    });
  });
});

describe('parsePort', () => {
  describe('when absent', () => {
    it('returns the default', () => {
      expect(parsePort(undefined, 'port', 8443)).toBe(8443);
    });
  });

  describe('when valid', () => {
    it.each([
      ['0', 0],
      ['9090', 9090],
      ['65535', 65535],
    ])('parses %s', (input, n) => {
      expect(parsePort(input, 'port', 1)).toBe(n);
    });
  });

  describe('when invalid', () => {
    it.each(['', '65536', '-1', '80.5', 'http', '0x50', '1e3', ' 80'])(
      'throws USAGE for %j',
      (input) => {
        expect(() => parsePort(input, 'metrics-port', 1)).toThrowWithCode(ConfigError, 'USAGE');
      },
    );

    it('names the flag in the message', () => {
      expect(() => parsePort('x', 'metrics-port', 1)).toThrow(/--metrics-port/);
    });
  });
});
