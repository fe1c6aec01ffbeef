// SPDX-License-Identifier: Apache-2.0
// The in-place reader of a targets role must give exactly what the general path (JSON.parse +
// Targets.fromJSON + canonicalize) gives, or step aside (null) so the general path decides.
import { describe, expect, it } from '@jest/globals';
import { canonicalize } from '../../crypto/canonical-json.js';
import { LIMITS } from '../../limits.js';
import { parseEnvelope, type Envelope, type Targets } from '../metadata.js';
import { scanTargets } from '../targets-scan.js';
import { prng } from '../../../__fixtures__/prng.js';

const SHA256 = Buffer.alloc(32, 7).toString('base64');
const SHA512 = Buffer.alloc(64, 9).toString('base64');
const SIG = { keyid: 'k1', method: 'ecdsa', sig: Buffer.alloc(64, 1).toString('base64') };

/** A targets envelope served as notary serves it: `signed` canonical, the rest as given. */
function served(signed: Record<string, unknown>, signatures: unknown = [SIG]): Buffer {
  return Buffer.from(
    `{"signed":${canonicalize(signed).toString('utf8')},"signatures":${JSON.stringify(signatures)}}`,
  );
}

function role(targets: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    _type: 'Targets',
    delegations: { keys: {}, roles: [] },
    expires: '2030-01-01T00:00:00Z',
    targets,
    version: 3,
    ...extra,
  };
}

const entry = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  hashes: { sha256: SHA256, sha512: SHA512 },
  length: 1234,
  ...extra,
});

/** What a parse gave, in a comparable form (or the error it threw). */
function outcome(bytes: Uint8Array, inPlace: boolean): unknown {
  let env: Envelope<Targets>;
  try {
    env = parseEnvelope(bytes, 'Targets', 'targets/releases', { inPlace });
  } catch (err) {
    const e = err as Error & { code?: string };
    return { error: e.constructor.name, code: e.code, message: e.message };
  }
  const t = env.signed;
  return {
    version: t.version,
    expires: t.expires.toISOString(),
    delegations: t.delegations,
    delegationKeys: [...t.delegationKeys],
    size: t.targets.size,
    targets: [...t.targets].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    signatures: env.signatures.map((s) => ({ ...s, sig: s.sig.toString('hex') })),
    canonical: env.canonical.toString('hex'),
  };
}

/** The served text of `bytes` with one edit, which must apply (else the case tests nothing). */
function edit(bytes: Buffer, from: string | RegExp, to: string): Buffer {
  const text = bytes.toString();
  const edited = text.replace(from, to);
  if (edited === text) throw new Error(`the edit ${String(from)} does not apply`);
  return Buffer.from(edited);
}

/** `bytes` with the UTF-8 of `text` replaced by as many 0xff bytes (not UTF-8 there). */
function notUtf8(bytes: Buffer, text: string): Buffer {
  const at = bytes.indexOf(text);
  const copy = Buffer.from(bytes);
  copy.fill(0xff, at, at + Buffer.byteLength(text));
  return copy;
}

function expectSameAsGeneralPath(bytes: Uint8Array): void {
  expect(outcome(bytes, true)).toEqual(outcome(bytes, false));
}

describe('scanTargets', () => {
  describe('when a role is served canonically', () => {
    const names = [
      '',
      '1',
      '10',
      '9',
      'latest',
      'v1.2.3',
      'quote"inside',
      'back\\slash',
      'ü-umlaut',
      '中文',
      '\u{1F600}',
      '\ue000',
      '\u2028',
      '__proto__',
    ];
    const targets: Record<string, unknown> = {};
    names.forEach((n, i) => (targets[n] = entry({ length: i })));
    targets['custom-null'] = entry({ custom: null });
    targets['custom-object'] = entry({ custom: { a: [1, 'x"y', { b: null }], z: true } });
    targets['extra-members'] = entry({ aaa: [1, 2], zzz: { y: 'x' } });
    targets['extra-hash'] = entry({ hashes: { md5: 'abc', sha256: SHA256, zz: [1] } });
    targets['only-sha512'] = entry({ hashes: { sha512: SHA512 } });
    targets['no-hash'] = entry({ hashes: {} });
    targets['zero'] = entry({ length: 0 });
    targets['max'] = entry({ length: Number.MAX_SAFE_INTEGER });
    const bytes = served(role(targets));

    it('reads every target in place, as the general path does', () => {
      const scanned = scanTargets(bytes);
      expect(scanned).not.toBeNull();
      expect(scanned!.targets.size).toBe(Object.keys(targets).length);
      expectSameAsGeneralPath(bytes);
    });

    it('finds each name and only those', () => {
      const { targets: map } = scanTargets(bytes)!;
      const general = parseEnvelope(bytes, 'Targets', 'r', { inPlace: false }).signed.targets;
      for (const name of Object.keys(targets)) {
        expect(map.has(name)).toBe(true);
        expect(map.get(name)).toEqual(general.get(name));
      }
      for (const miss of ['lates', 'latest0', 'v', 'zzzz', '\u0000', 'quote', '\ud800', 'ü'])
        expect([map.has(miss), map.get(miss)]).toEqual([false, undefined]);
    });

    it('iterates in signed order through every Map method', () => {
      const { targets: map } = scanTargets(bytes)!;
      const keys = [...map.keys()];
      expect(keys).toEqual(
        Object.keys(targets).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
      expect([...map.values()]).toEqual(keys.map((k) => map.get(k)));
      expect([...map]).toEqual([...map.entries()]);
      const seen: string[] = [];
      map.forEach(function (this: unknown, v, k, m) {
        expect(this).toBe(seen);
        expect(m).toBe(map);
        expect(v).toEqual(map.get(k));
        seen.push(k);
      }, seen);
      expect(seen).toEqual(keys);
    });

    it('decodes the hashes, length and custom value of an entry', () => {
      const { targets: map } = scanTargets(bytes)!;
      expect(map.get('custom-object')).toEqual({
        length: 1234,
        sha256: SHA256,
        sha512: SHA512,
        custom: { a: [1, 'x"y', { b: null }], z: true },
      });
      expect(map.get('only-sha512')).toEqual({
        length: 1234,
        sha256: undefined,
        sha512: SHA512,
        custom: undefined,
      });
    });

    it('reads an empty targets object and a role whose targets member is last', () => {
      for (const bytes of [
        served(role({})),
        served({ _type: 'Targets', expires: '2030-01-01T00:00:00Z', targets: {} }),
      ]) {
        expect(scanTargets(bytes)?.targets.size).toBe(0);
        expectSameAsGeneralPath(bytes);
      }
    });

    it('keeps the last of duplicated signed members, as JSON.parse does', () => {
      const first = canonicalize(role({ a: entry() })).toString('utf8');
      const last = canonicalize(role({ b: entry() })).toString('utf8');
      const bytes = Buffer.from(`{"signed":${first},"signed":${last},"signatures":[]}`);
      expect([...scanTargets(bytes)!.targets.keys()]).toEqual(['b']);
      expectSameAsGeneralPath(bytes);
    });
  });

  describe('when the bytes are not what the reader takes', () => {
    const cases: [string, Buffer][] = [
      ['signed with whitespace', Buffer.from(`{"signed":{ "_type":"Targets"},"signatures":[]}`)],
      ['signed not an object', Buffer.from(`{"signed":[],"signatures":[]}`)],
      ['no targets member', served({ _type: 'Targets', expires: '2030-01-01T00:00:00Z' })],
      ['targets not an object', served(role([] as unknown as Record<string, unknown>))],
      ['an entry not an object', served(role({ a: 5 }))],
      ['an entry without hashes', served(role({ a: { length: 1 } }))],
      ['an entry without length', served(role({ a: { hashes: {} } }))],
      ['an empty entry', served(role({ a: {} }))],
      ['hashes not an object', served(role({ a: entry({ hashes: [] }) }))],
      ['sha256 not a string', served(role({ a: entry({ hashes: { sha256: 5 } }) }))],
      ['sha256 too short', served(role({ a: entry({ hashes: { sha256: SHA256.slice(4) } }) }))],
      ['sha256 of sha512 size', served(role({ a: entry({ hashes: { sha256: SHA512 } }) }))],
      ['sha512 of sha256 size', served(role({ a: entry({ hashes: { sha512: SHA256 } }) }))],
      [
        'sha256 bad alphabet',
        served(role({ a: entry({ hashes: { sha256: `!${SHA256.slice(1)}` } }) })),
      ],
      [
        'sha256 without padding',
        served(role({ a: entry({ hashes: { sha256: `${SHA256.slice(0, 43)}A` } }) })),
      ],
      [
        'sha512 one pad',
        served(role({ a: entry({ hashes: { sha512: `${SHA512.slice(0, 87)}A` } }) })),
      ],
      ['negative length', served(role({ a: entry({ length: -1 }) }))],
      ['string length', served(role({ a: entry({ length: '1' }) }))],
      ['null length', served(role({ a: entry({ length: null }) }))],
      [
        'an entry member not canonical',
        edit(served(role({ a: entry({ x: 1 }) })), '"x":1', '"x":01'),
      ],
      [
        'a hash member not canonical',
        edit(served(role({ a: entry({ hashes: { md5: 1 } }) })), '"md5":1', '"md5":1.0'),
      ],
      ['targets out of order', edit(served(role({ a: entry(), b: entry() })), '"b":', '"0":')],
      ['entry members out of order', edit(served(role({ a: entry() })), '"length"', '"aength"')],
      ['hash members out of order', edit(served(role({ a: entry() })), '"sha512"', '"sha100"')],
      ['signed members out of order', edit(served(role({ a: entry() })), '"version"', '"aersion"')],
      ['a key with a control character', edit(served(role({ a: entry() })), '"a":', '"\u0001":')],
      ['a missing colon', edit(served(role({ a: entry() })), '"a":', '"a",')],
      ['a missing colon in an entry', edit(served(role({ a: entry() })), '"length":', '"length",')],
      ['a missing colon in hashes', edit(served(role({ a: entry() })), '"sha256":', '"sha256",')],
      ['a missing colon in signed', edit(served(role({ a: entry() })), '"version":', '"version",')],
      [
        'a bad separator in targets',
        edit(served(role({ a: entry(), b: entry() })), '},"b"', '};"b"'),
      ],
      ['a bad separator in an entry', edit(served(role({ a: entry() })), ',"length"', ';"length"')],
      ['a bad separator in hashes', edit(served(role({ a: entry() })), ',"sha512"', ';"sha512"')],
      ['a bad separator in signed', edit(served(role({ a: entry() })), ',"version"', ';"version"')],
      [
        'truncated in targets',
        edit(served(role({ a: entry() })), /"a":\{.*$/, '"a":{"hashes":{},"length":1},'),
      ],
      ...(
        [
          ['targets', '1234}},', '1234},},'],
          ['an entry', '"length":1234}', '"length":1234,}'],
          ['hashes', '"},"length"', '",},"length"'],
          ['signed', '"version":3}', '"version":3,}'],
        ] as const
      ).map(([where, from, to]): [string, Buffer] => [
        `a trailing comma in ${where}`,
        edit(served(role({ a: entry() })), from, to),
      ]),
      ['not UTF-8 in targets', notUtf8(served(role({ 'a\u00ff': entry() })), 'a\u00ff')],
      [
        'not UTF-8 outside targets',
        notUtf8(served(role({ a: entry() }, { zz: 'q\u00ff' })), 'q\u00ff'),
      ],
    ];

    it.each(cases)('steps aside when %s', (_name, bytes) => {
      expect(scanTargets(bytes)).toBeNull();
      expectSameAsGeneralPath(bytes);
    });

    it('leaves a document that is not JSON outside signed to the general path', () => {
      const bytes = Buffer.concat([served(role({ a: entry() })), Buffer.from(' x')]);
      expect(scanTargets(bytes)).not.toBeNull(); // the rest is parsed by the caller
      expect(outcome(bytes, true)).toMatchObject({ code: 'METADATA_INVALID' });
      expectSameAsGeneralPath(bytes);
    });

    it('steps aside above LIMITS.maxTargetsPerRole targets, so the cap is reported', () => {
      const body = Array.from(
        { length: LIMITS.maxTargetsPerRole + 1 },
        (_, i) => `"${String(i).padStart(6, '0')}":{"hashes":{},"length":0}`,
      ).join(',');
      const bytes = Buffer.from(
        `{"signed":{"_type":"Targets","expires":"2030-01-01T00:00:00Z","targets":{${body}},"version":1},"signatures":[]}`,
      );
      expect(scanTargets(bytes)).toBeNull();
      expect(outcome(bytes, true)).toMatchObject({ code: 'LIMIT_EXCEEDED' });
    });
  });

  describe('when compared with the general path over generated and mutated roles', () => {
    const NAMES = ['a', 'b', 'latest', '1', '10', 'v1.0', 'x"y', 'b\\s', 'é', '\u{1F600}', ''];
    const VALUES: unknown[] = [0, 1, -1, 12345, null, true, 'x', 'q"\\', [], {}, [1, { a: 'b' }]];

    function randomEntry(rnd: () => number): Record<string, unknown> {
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const e: Record<string, unknown> = {};
      if (rnd() < 0.95) {
        const hashes: Record<string, unknown> = {};
        if (rnd() < 0.8) hashes['sha256'] = rnd() < 0.9 ? SHA256 : pick(VALUES);
        if (rnd() < 0.6) hashes['sha512'] = rnd() < 0.9 ? SHA512 : SHA256;
        if (rnd() < 0.1) hashes[pick(NAMES)] = pick(VALUES);
        e['hashes'] = rnd() < 0.97 ? hashes : pick(VALUES);
      }
      if (rnd() < 0.95) e['length'] = rnd() < 0.9 ? Math.floor(rnd() * 1e6) : pick(VALUES);
      if (rnd() < 0.3) e['custom'] = pick(VALUES);
      if (rnd() < 0.1) e[pick(NAMES)] = pick(VALUES);
      return e;
    }

    it('gives the same result or the same error for every document', () => {
      const rnd = prng(20261202);
      let inPlace = 0;
      let mutated = 0;
      for (let doc = 0; doc < 400; doc++) {
        const targets: Record<string, unknown> = {};
        const n = Math.floor(rnd() * 8);
        for (let i = 0; i < n; i++)
          targets[`${NAMES[Math.floor(rnd() * NAMES.length)]!}${i}`] = randomEntry(rnd);
        const bytes = served(role(targets));
        if (scanTargets(bytes) !== null) inPlace++;
        expectSameAsGeneralPath(bytes);
        // Byte mutations anywhere in the document: whatever the reader accepts must agree.
        for (let m = 0; m < 6; m++) {
          const copy = Buffer.from(bytes);
          const at = Math.floor(rnd() * copy.length);
          const bytesPool = [
            0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x30, 0x2d, 0x41, 0x3d, 0x20, 0xc3,
          ];
          copy[at] = bytesPool[Math.floor(rnd() * bytesPool.length)]!;
          const variant =
            rnd() < 0.3 ? Buffer.concat([copy.subarray(0, at), copy.subarray(at + 1)]) : copy;
          if (scanTargets(variant) !== null) mutated++;
          expectSameAsGeneralPath(variant);
        }
      }
      // The comparison is only worth something if the reader took most documents.
      expect(inPlace).toBeGreaterThan(150);
      expect(400 - inPlace).toBeGreaterThan(100);
      expect(mutated).toBeGreaterThan(100);
    });
  });
});
