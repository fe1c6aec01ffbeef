// SPDX-License-Identifier: Apache-2.0
// docker/go canonical JSON: key order by UTF-8 bytes, minimal escaping, integers only.
import { describe, expect, it } from '@jest/globals';
import { VerificationError } from '../../errors.js';
import { canonicalMember, canonicalize, compareUtf8 } from '../canonical-json.js';
import { prng } from '../../../__fixtures__/prng.js';

const c = (v: unknown): string => canonicalize(v).toString('utf8');

describe('canonicalize', () => {
  describe('when given objects', () => {
    it('sorts keys and drops whitespace', () => {
      expect(c({ b: 1, a: [true, false, null], c: { z: 'x', y: {} } })).toBe(
        '{"a":[true,false,null],"b":1,"c":{"y":{},"z":"x"}}',
      );
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

/** Test oracle: a direct transcription of docker/go canonical/json, written for clarity not speed. */
function reference(v: unknown): string {
  const wf = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');
  const str = (s: string): string => `"${wf(s).replace(/["\\]/g, (m) => `\\${m}`)}"`;
  if (typeof v === 'string') return str(v);
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort((a, b) =>
    Buffer.compare(Buffer.from(wf(a)), Buffer.from(wf(b))),
  );
  return `{${keys.map((k) => `${str(k)}:${reference(o[k])}`).join(',')}}`;
}

const ALPHABET = [
  'a',
  'b',
  'z',
  'A',
  '0',
  '9',
  '-',
  '.',
  '/',
  '"',
  '\\',
  '<',
  '>',
  '&',
  '\u2028',
  'é',
  'ü',
  '\u00ff',
  '\u4e2d',
  '\ue000',
  '\uff5e',
  '\ufffd',
  '\u{1F600}',
  '\u{10FFFF}',
  '\ud800',
  '\udc00',
  '\n',
  '\t',
  '\u0001',
  '\u007f',
];

function randomString(rnd: () => number, max: number, plain: boolean): string {
  let s = '';
  const n = Math.floor(rnd() * max);
  for (let i = 0; i < n; i++)
    s += plain
      ? 'abcxyz019-._'[Math.floor(rnd() * 12)]!
      : ALPHABET[Math.floor(rnd() * ALPHABET.length)]!;
  return s;
}

function randomValue(rnd: () => number, depth: number, plain: boolean): unknown {
  const r = rnd();
  if (depth > 5 || r < 0.3) {
    const s = rnd();
    if (s < 0.4) return randomString(rnd, 12, plain);
    if (s < 0.7) return Math.floor((rnd() - 0.5) * 2 ** (1 + Math.floor(rnd() * 53)));
    if (s < 0.8) return rnd() < 0.5;
    if (s < 0.9) return null;
    return [0, -1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER][Math.floor(rnd() * 4)];
  }
  if (r < 0.55)
    return Array.from({ length: Math.floor(rnd() * 5) }, () => randomValue(rnd, depth + 1, plain));
  const o: Record<string, unknown> = {};
  const n = Math.floor(rnd() * 7);
  for (let i = 0; i < n; i++) {
    const key = rnd() < 0.15 ? String(Math.floor(rnd() * 20)) : randomString(rnd, 6, plain);
    o[key] = randomValue(rnd, depth + 1, plain);
  }
  return o;
}

/** Objects re-created in canonical key order, so JSON.parse of the reference output gives them back. */
const roundTrip = (v: unknown): unknown => JSON.parse(reference(v));

describe('canonicalize (differential)', () => {
  describe('when given random documents with unicode, escapes and nesting', () => {
    it('matches the reference encoder, whichever internal path is taken', () => {
      const rnd = prng(20261202);
      let checked = 0;
      for (let i = 0; i < 600; i++) {
        const doc = randomValue(rnd, 0, i % 3 === 0);
        expect(c(doc)).toBe(reference(doc));
        // The same document with its keys already in canonical order (as JSON.parse of
        // served canonical bytes gives it), when it survives JSON (no raw control characters).
        let sorted: unknown;
        try {
          sorted = roundTrip(doc);
        } catch {
          continue;
        }
        expect(c(sorted)).toBe(reference(doc));
        checked++;
      }
      expect(checked).toBeGreaterThan(300);
    });
  });
});

describe('canonicalize (already-ordered input)', () => {
  describe('when keys are already in canonical order', () => {
    it('writes objects without a prototype and nested arrays', () => {
      const o = Object.assign(Object.create(null) as Record<string, unknown>, {
        a: [1, [true, null]],
        b: { c: 'd' },
      });
      expect(c(o)).toBe('{"a":[1,[true,null]],"b":{"c":"d"}}');
    });
    it('still writes control characters raw and escapes quote and backslash', () => {
      expect(c({ a: 'x\ny', b: 'q"\\' })).toBe('{"a":"x\ny","b":"q\\"\\\\"}');
    });
    it('orders keys from U+E000 up against astral keys by UTF-8 bytes', () => {
      expect(c({ '\u{1F600}': 1, '\uE000': 2 })).toBe('{"\uE000":2,"😀":1}');
    });
  });
  describe('when values are not plain JSON', () => {
    it('encodes class instances and arrays with another prototype by their own keys and elements', () => {
      class Pair {
        b = 1;
        a = 2;
      }
      expect(c(new Pair())).toBe('{"a":2,"b":1}');
      const arr = Object.setPrototypeOf([1, 2], Object.prototype) as unknown;
      expect(Array.isArray(arr)).toBe(true);
      expect(c(arr)).toBe('[1,2]');
      expect(c(Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 }))).toBe(
        '{"own":2}',
      );
    });
    it('refuses holes and non-integers below an ordered object with the JSON path', () => {
      // eslint-disable-next-line no-sparse-arrays
      expect(() => canonicalize({ a: [1, , 3] })).toThrow('$.a[1]: undefined cannot be encoded');
      expect(() => canonicalize({ a: 1, b: { c: 0.5 } })).toThrow('$.b.c: 0.5 is not an integer');
    });
    it('passes on errors that are not encoding errors, such as a throwing getter', () => {
      const trap = {
        b: 1,
        get a(): number {
          throw new RangeError('boom');
        },
      };
      expect(() => canonicalize(trap)).toThrow(RangeError);
      expect(() => canonicalize([trap])).toThrow(RangeError);
    });
    it('refuses nesting deeper than 256 levels of objects', () => {
      let deep: unknown = 1;
      for (let i = 0; i < 300; i++) deep = { a: deep };
      expect(() => canonicalize(deep)).toThrowWithCode(VerificationError, 'METADATA_INVALID');
      let ok: unknown = 1;
      for (let i = 0; i < 255; i++) ok = { a: ok };
      expect(c(ok)).toBe(`${'{"a":'.repeat(255)}1${'}'.repeat(255)}`);
    });
  });
});

const member = (text: string | Buffer, name = 'signed'): string | null => {
  const out = canonicalMember(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, name);
  return out === null ? null : out.toString('utf8');
};

describe('canonicalMember', () => {
  describe('when the member is served in canonical form', () => {
    it('returns its bytes as a view of the input', () => {
      const bytes = Buffer.from(
        '{"signed":{"a":[1,-2,true,false,null,"x\\"y\\\\"],"b":{}},"signatures":[{"keyid":"k","sig":"]}"}]}',
      );
      const out = canonicalMember(bytes, 'signed')!;
      expect(out.toString()).toBe('{"a":[1,-2,true,false,null,"x\\"y\\\\"],"b":{}}');
      expect(out.buffer).toBe(bytes.buffer);
    });
    it('finds it after other members, around whitespace, and takes the last duplicate as JSON.parse does', () => {
      expect(
        member(
          ' \t\r\n{ "x" : [ {"signed":1} , "]" ] , "n": -1.5e3 ,"t":true, "signed" : {"v":1} \n}',
        ),
      ).toBe('{"v":1}');
      expect(member('{"signed":{"v":1},"signed":{"v":2}}')).toBe('{"v":2}');
      expect(member('{"signed":{"b":1,"a":2},"signed":{"v":2}}')).toBe('{"v":2}');
      expect(member('{"signed":[],"other":"s\\"}"}')).toBe('[]');
      expect(member('{"a":{"signed":{}},"signed":"s"}')).toBe('"s"');
      expect(member('{"signed":0}')).toBe('0');
      expect(member('{"signed":{},"n":5}')).toBe('{}');
      expect(member('{"signex":{},"signed":{"a":1}}')).toBe('{"a":1}');
      expect(member('{"signed":{"k":1}}', 'k')).toBeNull();
    });
    it('accepts keys in UTF-8 byte order, including prefixes and non-ASCII keys', () => {
      expect(member('{"signed":{"a":1,"ab":2,"b":3,"z":4,"é":5,"～":6,"😀":7}}')).toBe(
        '{"a":1,"ab":2,"b":3,"z":4,"é":5,"～":6,"😀":7}',
      );
      expect(member('{"signed":{"10":1,"9":2}}')).toBe('{"10":1,"9":2}');
      // Escaped keys compare by their unescaped bytes: `"` (0x22) < `.` < `\` (0x5c) < `a`.
      expect(member('{"signed":{"\\"a":1,".":2,"\\\\":3,"a":4}}')).toBe(
        '{"\\"a":1,".":2,"\\\\":3,"a":4}',
      );
      expect(member('{"signed":{"x\\"":1,"x\\\\":2,"x\\\\\\\\":3}}')).toBe(
        '{"x\\"":1,"x\\\\":2,"x\\\\\\\\":3}',
      );
    });
    it('accepts every safe integer form String(n) writes', () => {
      expect(member('{"signed":[0,-1,10,9007199254740991,-9007199254740991]}')).toBe(
        '[0,-1,10,9007199254740991,-9007199254740991]',
      );
    });
  });

  describe('when the member is not canonical', () => {
    it.each([
      ['unsorted keys', '{"b":1,"a":2}'],
      ['a duplicate key', '{"a":1,"a":1}'],
      ['a key before its prefix', '{"ab":1,"a":2}'],
      ['escaped keys out of order', '{"\\\\":1,"\\"":2}'],
      ['an escaped key equal to the previous one', '{"\\"":1,"\\"":2}'],
      ['whitespace', '{"a": 1}'],
      ['a trailing space', '[1 ]'],
      ['an escape other than quote or backslash', '["\\n"]'],
      ['a \\u escape', '["\\u0041"]'],
      ['an HTML escape as Go json.Marshal writes it', '["\\u003c"]'],
      ['a raw control character', '["a\u0001"]'],
      ['negative zero', '[-0]'],
      ['a leading zero', '[01]'],
      ['a fraction', '[1.5]'],
      ['an exponent', '[1e3]'],
      ['an upper-case exponent', '[1E3]'],
      ['an integer above 2^53 - 1', '[9007199254740992]'],
      ['seventeen digits', '[10000000000000000]'],
      ['a lone minus', '[-]'],
      ['a truncated literal', '[tru]'],
      ['an unknown token', '[x]'],
      ['a non-string key', '{1:2}'],
      ['a missing colon', '{"a"1}'],
      ['a missing comma', '[1 2]'],
      ['a bad object separator', '{"a":1;"b":2}'],
      ['an unterminated string', '["abc'],
      ['an unterminated key', '{"abc'],
      ['an unterminated array', '[1,'],
      ['an unterminated object', '{"a":1,'],
    ])('returns null for %s', (_what, signed) => {
      expect(member(`{"signed":${signed}}`)).toBeNull();
    });
    it('returns null when nesting exceeds 256 levels, leaving canonicalize to refuse it', () => {
      expect(member(`{"signed":${'['.repeat(257)}${']'.repeat(257)}}`)).toBeNull();
      expect(member(`{"signed":${'['.repeat(256)}${']'.repeat(256)}}`)).toHaveLength(512);
      expect(c(JSON.parse('['.repeat(256) + ']'.repeat(256)))).toHaveLength(512);
      expect(member(`{"signed":${'{"a":'.repeat(257)}1${'}'.repeat(257)}}`)).toBeNull();
    });
  });

  describe('when the document has no such member or is not an object', () => {
    it.each([
      ['an empty object', '{}'],
      ['an array', '[{"signed":{}}]'],
      ['another member only', '{"signatures":[]}'],
      ['an escaped top-level key', '{"sign\\u0065d":{}}'],
      ['an escaped key before it', '{"a\\"b":1,"signed":{}}'],
      ['a missing colon', '{"signed" {}}'],
      ['a missing comma', '{"a":1 "signed":{}}'],
      ['an unterminated key', '{"sig'],
      ['an unterminated value', '{"a":[1,2'],
      ['an unterminated string value', '{"a":"xyz'],
      ['a non-canonical member that never ends', '{"signed":{"b":1,"a":[2'],
      ['a scalar that runs to the end', '{"a":123'],
      ['a canonical array that stops after a comma', '{"signed":[1,'],
      ['the end of the input after the colon', '{"signed":'],
      ['nothing', ''],
    ])('returns null for %s', (_what, text) => {
      expect(member(text)).toBeNull();
    });
  });

  describe('when compared with canonicalize over random served documents', () => {
    it('returns either null or exactly canonicalize(JSON.parse(bytes).signed), and never null for canonical bytes', () => {
      const rnd = prng(7);
      let accepted = 0;
      for (let i = 0; i < 600; i++) {
        const doc = randomValue(rnd, 0, i % 2 === 0);
        const canonical = Buffer.from(reference(doc), 'utf8');
        const forms = [
          Buffer.concat([Buffer.from('{"signed":'), canonical, Buffer.from(',"signatures":[]}')]),
          Buffer.from(JSON.stringify({ signatures: [], signed: doc })),
          Buffer.from(JSON.stringify({ signed: doc, signatures: [] }, null, 1)),
          Buffer.from(JSON.stringify({ signed: doc }).replace(/</g, '\\u003c')),
        ];
        for (const [f, bytes] of forms.entries()) {
          let parsed: { signed: unknown };
          try {
            parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as {
              signed: unknown;
            };
          } catch {
            continue; // raw control characters: not JSON, never reaches canonicalMember
          }
          const out = canonicalMember(bytes, 'signed');
          if (f === 0 && out === null)
            throw new Error(`canonical bytes refused: ${JSON.stringify(bytes.toString())}`);
          if (out !== null) {
            expect(out.equals(canonicalize(parsed.signed))).toBe(true);
            accepted++;
          }
        }
      }
      expect(accepted).toBeGreaterThan(500);
    });
  });
});
