// SPDX-License-Identifier: Apache-2.0
// The projecting reader must give exactly what JSON.parse and then a projection give, or step
// aside (NOT_READ) so that JSON.parse decides. It must never accept what JSON.parse rejects.
import { describe, expect, it } from '@jest/globals';
import {
  each,
  fields,
  MAX_SCAN_DEPTH,
  NOT_READ,
  readProjected,
  WHOLE,
  type Projection,
} from '../json-projection.js';
import { prng } from '../../__fixtures__/prng.js';

/** A projection described as data, so the oracle below does not use the code under test. */
type Spec = 'whole' | { readonly fields: Readonly<Record<string, Spec>> } | { readonly each: Spec };

function toProjection(spec: Spec): Projection {
  if (spec === 'whole') return WHOLE;
  if ('each' in spec) return each(toProjection(spec.each));
  const members: Record<string, Projection> = {};
  for (const [name, s] of Object.entries(spec.fields)) members[name] = toProjection(s);
  return fields(members);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The meaning of a projection, applied to what JSON.parse gave. */
function project(v: unknown, spec: Spec): unknown {
  if (spec === 'whole') return v;
  if ('each' in spec) return Array.isArray(v) ? v.map((x) => project(x, spec.each)) : v;
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(spec.fields)) {
    if (Object.hasOwn(v, name)) out[name] = project(v[name], s);
  }
  return out;
}

/** JSON.parse's verdict on the bytes, projected; `invalid` when it throws. */
function oracle(bytes: Buffer, spec: Spec): { value: unknown } | 'invalid' {
  try {
    return { value: project(JSON.parse(bytes.toString('utf8')), spec) };
  } catch {
    return 'invalid';
  }
}

const read = (text: string | Buffer, spec: Spec): unknown =>
  readProjected(typeof text === 'string' ? Buffer.from(text) : text, toProjection(spec));

const AB: Spec = { fields: { a: 'whole', b: { fields: { c: 'whole' } }, d: { each: 'whole' } } };

describe('readProjected', () => {
  describe('when the document is valid JSON', () => {
    it.each([
      ['only the named members', '{"a":1,"x":{"deep":[1,2,{"y":null}]},"b":{"c":"s","z":2}}'],
      ['every scalar kind', '{"a":[true,false,null,0,-0,1.5,-2e3,3E+2,4e-1,"s"],"b":{"c":{}}}'],
      ['whitespace everywhere', ' \t\r\n{ "a" : [ 1 , 2 ] , "b" : { "c" : "x" } } \n'],
      ['empty containers', '{"a":{},"b":{},"d":[]}'],
      ['escapes in strings', '{"a":"q\\"b\\\\s\\/n\\nt\\tu\\u00e9\\ud83d\\ude00\\ud800 x"}'],
      ['raw UTF-8 in strings', '{"a":"é😀","b":{"c":"ü"}}'],
      ['a repeated member: the last one wins', '{"a":1,"b":{"c":1},"a":2,"b":{"c":3}}'],
      ['a member named by escapes', '{"\\u0061":"escaped key","b":{"\\u0063":true}}'],
      ['a projected object that is not an object', '{"a":1,"b":[{"c":1}],"d":{"e":1}}'],
      ['a top-level value that is not an object', '[{"a":1}]'],
      ['a top-level string', '"just a string"'],
      ['__proto__ in the document', '{"__proto__":{"a":1},"a":{"__proto__":2}}'],
      ['arrays projected element by element', '{"d":[{"x":1},[2],"s",null]}'],
    ])('reads %s as JSON.parse does', (_name, text) => {
      const expected = oracle(Buffer.from(text), AB);
      expect(expected).not.toBe('invalid');
      expect(read(text, AB)).toStrictEqual((expected as { value: unknown }).value);
    });

    it('projects array elements and nested members', () => {
      const spec: Spec = { fields: { list: { each: { fields: { image: 'whole' } } } } };
      expect(
        read('{"list":[{"name":"a","image":"x:1","env":[{"n":"v"}]},{"image":"y"},7]}', spec),
      ).toStrictEqual({ list: [{ image: 'x:1' }, { image: 'y' }, 7] });
    });

    it.each([
      ['a surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
      ['an overlong quote', [0xc0, 0xa2]],
      ['an overlong three-byte quote', [0xe0, 0x80, 0xa2]],
      ['a cut sequence before the closing quote', [0xf0, 0x9f, 0x98]],
      ['a lone continuation byte', [0x80]],
      ['a raw line separator and DEL', [0xe2, 0x80, 0xa8, 0x7f]],
    ])('reads %s inside a string as the full decode does', (_name, raw) => {
      const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from(raw), Buffer.from('"}')]);
      const expected = oracle(bytes, AB);
      expect(expected).not.toBe('invalid');
      expect(readProjected(bytes, toProjection(AB))).toStrictEqual(
        (expected as { value: unknown }).value,
      );
    });

    it('decodes invalid UTF-8 inside strings as the full decode does (U+FFFD)', () => {
      const bytes = Buffer.concat([
        Buffer.from('{"a":"x'),
        Buffer.from([0xff, 0xc3, 0x41, 0xe2, 0x82]),
        Buffer.from('","b":{"c":"'),
        Buffer.from([0xf0, 0x9f, 0x98]),
        Buffer.from('"}}'),
      ]);
      const expected = oracle(bytes, AB);
      expect(expected).not.toBe('invalid');
      expect(readProjected(bytes, toProjection(AB))).toStrictEqual(
        (expected as { value: unknown }).value,
      );
    });

    it(`reads nesting ${MAX_SCAN_DEPTH} levels deep and leaves one level deeper to JSON.parse`, () => {
      const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);
      expect(read(`{"a":1,"x":${nested(MAX_SCAN_DEPTH - 1)}}`, AB)).toStrictEqual({ a: 1 });
      const tooDeep = `{"a":1,"x":${nested(MAX_SCAN_DEPTH)}}`;
      expect(JSON.parse(tooDeep)).toBeDefined();
      expect(read(tooDeep, AB)).toBe(NOT_READ);
      const tooDeepProjected = `{"d":${nested(MAX_SCAN_DEPTH + 1)}}`;
      expect(read(tooDeepProjected, { fields: { d: { each: { each: 'whole' } } } })).toBe(NOT_READ);
    });
  });

  describe('when the document is not valid JSON', () => {
    it.each([
      ['empty input', ''],
      ['only whitespace', '  \n'],
      ['a trailing comma in an object', '{"a":1,}'],
      ['a trailing comma in an array', '{"d":[1,]}'],
      ['a trailing comma in a skipped array', '{"x":[1,]}'],
      ['a missing colon', '{"a" 1}'],
      ['a missing value', '{"a":}'],
      ['a key that is not a string', '{a:1}'],
      ['a single-quoted string', "{'a':1}"],
      ['a leading zero', '{"a":01}'],
      ['a lone minus', '{"a":-}'],
      ['a plus sign', '{"a":+1}'],
      ['a bare dot', '{"a":.5}'],
      ['a dot without digits', '{"a":1.}'],
      ['an exponent without digits', '{"a":1e}'],
      ['an exponent sign without digits', '{"x":1e+}'],
      ['a hex number', '{"a":0x10}'],
      ['Infinity', '{"a":Infinity}'],
      ['NaN', '{"x":NaN}'],
      ['a misspelt true', '{"a":tru}'],
      ['a misspelt false', '{"x":fals}'],
      ['a misspelt null', '{"x":nul}'],
      ['a literal with extra letters', '{"a":nullx}'],
      ['a raw control character in a string', '{"a":"x\u0001y"}'],
      ['a raw newline in a key', '{"a\nb":1}'],
      ['an unknown escape', '{"a":"\\x41"}'],
      ['a short \\u escape', '{"a":"\\u12"}'],
      ['a non-hex \\u escape', '{"x":"\\u12G4"}'],
      ['an unterminated string', '{"a":"abc'],
      ['an unterminated escape', '{"a":"abc\\'],
      ['an unterminated object', '{"a":1'],
      ['an unterminated array', '{"d":[1,2'],
      ['an unterminated skipped object', '{"x":{"y":1'],
      ['two top-level values', '{"a":1} {"a":2}'],
      ['a closing bracket of the wrong kind', '{"d":[1}'],
      ['a byte order mark', '\ufeff{"a":1}'],
      ['a non-ASCII byte outside strings', '{"a":1é}'],
      ['a comment', '{"a":1 /* no */}'],
      ['a vertical tab as whitespace', '{"a":\v1}'],
      ['a form feed as whitespace', '{"a":1\f}'],
      ['a no-break space as whitespace', '{"a":\u00a01}'],
      ['a line separator as whitespace', '{"a":1\u2028}'],
      ['a NUL byte in a string', '{"a":"x\u0000"}'],
    ])('steps aside for %s', (_name, text) => {
      expect(oracle(Buffer.from(text), AB)).toBe('invalid');
      expect(read(text, AB)).toBe(NOT_READ);
    });
  });

  describe('fields', () => {
    it('refuses a projection that names __proto__', () => {
      expect(() => fields({ ['__proto__']: WHOLE })).toThrow(/__proto__/);
    });

    it.each([['\uFFFD'], ['é'], ['\ud800'], ['a"b'], ['a\\b'], ['tab\t']])(
      'refuses the name %j: raw key bytes would not match it as decoded text does',
      (name) => {
        expect(() => fields({ [name]: WHOLE })).toThrow(/plain ASCII names only/);
      },
    );

    it('accepts every other printable ASCII name, and the empty name', () => {
      expect(() => fields({ '': WHOLE, 'a b-c.d/e~!': WHOLE, metadata: WHOLE })).not.toThrow();
    });
  });

  describe('differential against JSON.parse', () => {
    const KEYS = ['a', 'b', 'c', 'd', 'xy', ''];
    /** Keys in documents only: never projected (fields() takes plain ASCII names). */
    const DOC_ONLY_KEYS = ['é', 'a\u00e9'];
    const STRING_PIECES: readonly (Buffer | string)[] = [
      'plain',
      ' ',
      'é',
      '😀',
      '\\"',
      '\\\\',
      '\\/',
      '\\b\\f\\n\\r\\t',
      '\\u0041',
      '\\u00e9',
      '\\ud83d\\ude00',
      '\\udc00',
      Buffer.from([0xff]),
      Buffer.from([0xc3]),
      Buffer.from([0xe2, 0x82]),
    ];
    const NUMBERS = [
      '0',
      '-0',
      '7',
      '-12',
      '3.25',
      '1e3',
      '1E-2',
      '-4.5e+6',
      '123456789012345678901',
    ];
    const WS = ['', '', '', ' ', '\n', '\t', '\r\n  '];

    function generate(rand: () => number) {
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
      const parts: Buffer[] = [];
      const emit = (s: string | Buffer): void => {
        parts.push(typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
      };
      const string = (): void => {
        emit('"');
        const n = Math.floor(rand() * 4);
        for (let i = 0; i < n; i++) emit(pick(STRING_PIECES));
        emit('"');
      };
      const key = (): void => {
        const k = rand() < 0.1 ? pick(DOC_ONLY_KEYS) : pick(KEYS);
        // Sometimes spell the key with \u escapes: it must still match the projection.
        if (rand() < 0.15 && k.length > 0) {
          emit(
            `"${[...k].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"`,
          );
        } else emit(JSON.stringify(k));
      };
      const value = (depth: number): void => {
        emit(pick(WS));
        const r = rand();
        if (depth < 6 && r < 0.3) {
          emit('{');
          const n = Math.floor(rand() * 5);
          for (let i = 0; i < n; i++) {
            if (i > 0) emit(',');
            emit(pick(WS));
            key();
            emit(pick(WS) + ':');
            value(depth + 1);
          }
          emit(pick(WS) + '}');
        } else if (depth < 6 && r < 0.5) {
          emit('[');
          const n = Math.floor(rand() * 4);
          for (let i = 0; i < n; i++) {
            if (i > 0) emit(',');
            value(depth + 1);
          }
          emit(pick(WS) + ']');
        } else if (r < 0.7) string();
        else if (r < 0.85) emit(pick(NUMBERS));
        else emit(pick(['true', 'false', 'null']));
        emit(pick(WS));
      };
      const spec = (depth: number): Spec => {
        const r = rand();
        if (depth > 3 || r < 0.3) return 'whole';
        if (r < 0.5) return { each: spec(depth + 1) };
        const f: Record<string, Spec> = {};
        for (const k of KEYS) if (rand() < 0.4) f[k] = spec(depth + 1);
        return { fields: f };
      };
      value(0);
      return { bytes: Buffer.concat(parts), spec: spec(0) };
    }

    const MUTATION_BYTES = Buffer.from(',:[]{}"\\0-.eE+ \u0001tnf5', 'latin1');
    function mutate(bytes: Buffer, rand: () => number): Buffer {
      const at = Math.floor(rand() * (bytes.length + 1));
      const b = MUTATION_BYTES[Math.floor(rand() * MUTATION_BYTES.length)] as number;
      const r = rand();
      if (r < 0.3) return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      if (r < 0.6)
        return Buffer.concat([bytes.subarray(0, at), Buffer.from([b]), bytes.subarray(at)]);
      if (r < 0.9 && at < bytes.length) {
        const copy = Buffer.from(bytes);
        copy[at] = r < 0.85 ? b : 0xff;
        return copy;
      }
      return bytes.subarray(0, at);
    }

    function check(bytes: Buffer, spec: Spec): 'valid' | 'invalid' {
      const expected = oracle(bytes, spec);
      const got = readProjected(bytes, toProjection(spec));
      if (expected === 'invalid') {
        expect({ text: bytes.toString('latin1'), got }).toEqual({
          text: bytes.toString('latin1'),
          got: NOT_READ,
        });
        return 'invalid';
      }
      // Valid documents nest at most 7 levels here: the reader must take every one of them.
      expect({ text: bytes.toString('latin1'), got }).toStrictEqual({
        text: bytes.toString('latin1'),
        got: expected.value,
      });
      return 'valid';
    }

    it('agrees on 2,000 generated documents and 12,000 mutations of them', () => {
      const rand = prng(20261202);
      const seen = { valid: 0, invalid: 0 };
      for (let n = 0; n < 2000; n++) {
        const { bytes, spec } = generate(rand);
        expect(check(bytes, spec)).toBe('valid');
        seen.valid++;
        for (let m = 0; m < 6; m++) {
          let mutated = mutate(bytes, rand);
          if (rand() < 0.3) mutated = mutate(mutated, rand);
          seen[check(mutated, spec)]++;
        }
      }
      // The mutations must exercise both outcomes, or the comparison proves little.
      expect(seen.invalid).toBeGreaterThan(5000);
      expect(seen.valid).toBeGreaterThan(3000);
    });
  });
});
