// SPDX-License-Identifier: Apache-2.0
// fromJSON guards of the TUF models: field types, paths in errors, caps, RFC 3339, role names.
import { describe, expect, it } from '@jest/globals';
import { InconclusiveError, VerificationError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import {
  isValidDelegationName,
  parseEnvelope,
  parseRfc3339,
  Root,
  Snapshot,
  Targets,
  Timestamp,
} from '../metadata.js';
import { canonicalize } from '../../crypto/canonical-json.js';
import { compact, readVector } from '../../../__fixtures__/builders/notary-vectors.js';

const PY = 'connaisseur-py/tests/data/trust_data';
const env = (signed: unknown, signatures: unknown = []): Buffer =>
  Buffer.from(JSON.stringify({ signed, signatures }));
const exp = '2030-01-01T00:00:00Z';
const meta = { hashes: { sha256: Buffer.alloc(32).toString('base64') }, length: 10 };
const targets = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  _type: 'Targets',
  expires: exp,
  version: 1,
  targets: {},
  ...extra,
});

describe('parseRfc3339', () => {
  describe('when the time is valid', () => {
    it.each([
      ['2029-08-26T14:12:13.21926558+02:00', '2029-08-26T12:12:13.219Z'],
      ['2023-10-02T01:30:15.999340461-07:00', '2023-10-02T08:30:15.999Z'],
      ['2116-01-12T00:58:57.1Z', '2116-01-12T00:58:57.100Z'],
      ['2024-02-29T23:59:59Z', '2024-02-29T23:59:59.000Z'],
      ['0050-01-01T00:00:00Z', '0050-01-01T00:00:00.000Z'],
    ])('parses %s', (s, iso) => expect(parseRfc3339(s, 'x').toISOString()).toBe(iso));
  });
  describe('when the time is invalid', () => {
    it.each([
      '2020-15-15T15:30:21.227951409Z',
      '2023-02-29T00:00:00Z',
      '2020-01-01T24:00:00Z',
      '2020-01-01T00:00:60Z',
      '2020-01-01 00:00:00Z',
      '2020-01-01T00:00:00.1234567891Z',
      '2020-01-01T00:00:00+24:00',
      '2020-01-01T00:00:00',
      '2020-00-10T00:00:00Z',
      '2020-01-00T00:00:00Z',
      5,
    ])('refuses %p', (s) => {
      expect(() => parseRfc3339(s, 'signed.expires')).toThrowWithCode(
        VerificationError,
        'METADATA_INVALID',
      );
    });
  });
});

describe('isValidDelegationName', () => {
  it.each([
    ['targets/releases', 'targets', true],
    ['targets/role/foo', 'targets/role', true],
    ['targets/a/b', 'targets', false],
    ['targets/', 'targets', false],
    ['targets/Upper', 'targets', false],
    ['other/x', 'targets', false],
    [`targets/${'a'.repeat(250)}`, 'targets', false],
  ])('%s under %s → %s', (name, parent, ok) =>
    expect(isValidDelegationName(name, parent)).toBe(ok),
  );
});

describe('parseEnvelope', () => {
  describe('when the bytes are not metadata', () => {
    it.each([
      ['not JSON', Buffer.from('\\\\\\\n')],
      ['not UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
      ['an array', Buffer.from('[]')],
      ['no signatures array', Buffer.from('{"signed":{},"signatures":{}}')],
      ['a wrong _type', env(targets(), [])],
      ['a bad signature entry', env({ _type: 'Root' }, [{ keyid: 1, method: 'ecdsa', sig: '' }])],
      ['a non-base64 sig', env({ _type: 'Root' }, [{ keyid: 'a', method: 'ecdsa', sig: '*' }])],
      ['a BOM', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), env(targets())])],
    ])('refuses %s', (_w, bytes) => {
      expect(() => parseEnvelope(bytes, 'Root', 'root')).toThrowWithCode(
        VerificationError,
        'METADATA_INVALID',
      );
    });
    it('names the JSON path of a bad field', () => {
      expect(() =>
        parseEnvelope(readVector(`${PY}/missing_keys_root.json`), 'Root', 'root'),
      ).toThrow('root.json: signed.keys: expected an object');
      expect(() => parseEnvelope(env({ ...targets(), version: -1 }), 'Targets', 'targets')).toThrow(
        'targets.json: signed.version: expected an integer ≥ 0',
      );
    });
  });

  describe('when a document exceeds the caps', () => {
    it('refuses a signature flood', () => {
      const sigs = Array.from({ length: 65 }, () => ({ keyid: 'a', method: 'ecdsa', sig: '' }));
      expect(() => parseEnvelope(env(targets(), sigs), 'Targets', 'targets')).toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
    });
    it('refuses more keys or delegations than allowed', () => {
      const keys = Object.fromEntries(
        Array.from({ length: 65 }, (_, i) => [
          `k${i}`,
          { keytype: 'ecdsa', keyval: { public: 'AA==' } },
        ]),
      );
      expect(() =>
        parseEnvelope(env(targets({ delegations: { keys, roles: [] } })), 'Targets', 'targets'),
      ).toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
      const roles = Array.from({ length: 33 }, (_, i) => ({
        name: `targets/r${i}`,
        keyids: [],
        threshold: 1,
      }));
      expect(() =>
        parseEnvelope(env(targets({ delegations: { keys: {}, roles } })), 'Targets', 'targets'),
      ).toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
    });
  });

  describe('when models are built directly', () => {
    it('names the default path', () => {
      expect(() => Root.fromJSON({})).toThrow('signed.version');
      expect(() => Snapshot.fromJSON({})).toThrow('signed.version');
      expect(() => Timestamp.fromJSON({})).toThrow('signed.version');
      expect(() => Targets.fromJSON({}, 'targets')).toThrow('signed.version');
    });
    it('caps targets per role before checking any of them', () => {
      const many = Object.fromEntries(
        Array.from({ length: LIMITS.maxTargetsPerRole + 1 }, (_, i) => [`t${i}`, 0]),
      );
      expect(() => Targets.fromJSON(targets({ targets: many }), 'targets')).toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
    });
    it('caps keyids per role', () => {
      const keyids = Array.from({ length: 65 }, (_, i) => `k${i}`);
      expect(() =>
        parseEnvelope(
          env(targets({ delegations: { roles: [{ name: 'targets/a', keyids, threshold: 1 }] } })),
          'Targets',
          'targets',
        ),
      ).toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
    });
  });

  describe('when parsing roles', () => {
    it('parses a root from a vector', () => {
      const r = parseEnvelope(compact(readVector(`${PY}/sample_root.json`)), 'Root', 'root');
      expect(r.signed).toBeInstanceOf(Root);
      expect(r.signed.roles.root.threshold).toBe(1);
      expect(r.signed.consistentSnapshot).toBe(false);
      expect(r.signatures[0]!.method).toBe('ecdsa');
    });
    it('parses a targets file with delegations, missing paths and custom data', () => {
      const t = parseEnvelope(
        compact(readVector(`${PY}/missing_path.json`)),
        'Targets',
        'targets',
      ).signed;
      expect(t).toBeInstanceOf(Targets);
      expect(t.delegations.find((d) => d.name === 'targets/new')!.paths).toEqual([]);
      const custom = parseEnvelope(
        env(targets({ targets: { v: { ...meta, custom: { n: 1 } } } })),
        'Targets',
        'targets',
      ).signed;
      expect(custom.targets.get('v')!.custom).toEqual({ n: 1 });
      expect(
        parseEnvelope(env(targets({ delegations: {} })), 'Targets', 'targets').signed.delegations,
      ).toEqual([]);
    });
    it('parses a snapshot and timestamp with optional versions and sha512', () => {
      const sha512 = Buffer.alloc(64).toString('base64');
      const ts = parseEnvelope(
        env({
          _type: 'Timestamp',
          expires: exp,
          version: 3,
          meta: { snapshot: { hashes: { sha512 }, version: 4 } },
        }),
        'Timestamp',
        'timestamp',
      );
      expect(ts.signed.snapshot.version).toBe(4);
      expect(ts.signed.snapshot.length).toBeUndefined();
      const snap = parseEnvelope(
        env({ _type: 'Snapshot', expires: exp, version: 3, meta: { targets: meta } }),
        'Snapshot',
        'snapshot',
      );
      expect(snap.signed.meta.get('targets')!.length).toBe(10);
    });
    it.each([
      [
        'the ReDoS delegation name',
        () => parseEnvelope(compact(readVector(`${PY}/redos_targets.json`)), 'Targets', 'targets'),
        /not a valid delegation/,
      ],
      [
        'a duplicate delegation',
        () =>
          parseEnvelope(
            env(
              targets({
                delegations: {
                  keys: {},
                  roles: [
                    { name: 'targets/a', keyids: [], threshold: 1 },
                    { name: 'targets/a', keyids: [], threshold: 1 },
                  ],
                },
              }),
            ),
            'Targets',
            'targets',
          ),
        /delegated twice/,
      ],
      [
        'a non-array roles',
        () => parseEnvelope(env(targets({ delegations: { roles: {} } })), 'Targets', 'targets'),
        /expected an array/,
      ],
      [
        'threshold 0',
        () =>
          parseEnvelope(
            env(
              targets({
                delegations: { roles: [{ name: 'targets/a', keyids: [], threshold: 0 }] },
              }),
            ),
            'Targets',
            'targets',
          ),
        /threshold/,
      ],
      [
        'a 31-byte meta sha256',
        () =>
          parseEnvelope(
            env({
              _type: 'Snapshot',
              expires: exp,
              version: 1,
              meta: {
                targets: { hashes: { sha256: Buffer.alloc(31).toString('base64') }, length: 1 },
              },
            }),
            'Snapshot',
            'snapshot',
          ),
        /meta\.targets\.hashes\.sha256: expected 32 bytes, got 31/,
      ],
      [
        'a meta without hashes',
        () =>
          parseEnvelope(
            env({
              _type: 'Snapshot',
              expires: exp,
              version: 1,
              meta: { targets: { hashes: {}, length: 1 } },
            }),
            'Snapshot',
            'snapshot',
          ),
        /no sha256 or sha512/,
      ],
      [
        'a target that is not an object',
        () => Targets.fromJSON(targets({ targets: { v: [] } }), 'targets'),
        /signed\.targets\.v: expected an object/,
      ],
      [
        'a target without hashes',
        () => Targets.fromJSON(targets({ targets: { v: { length: 1 } } }), 'targets'),
        /signed\.targets\.v\.hashes: expected an object/,
      ],
      [
        'a non-string sha256',
        () =>
          Targets.fromJSON(
            targets({ targets: { v: { hashes: { sha256: 5 }, length: 1 } } }),
            'targets',
          ),
        /targets\.v\.hashes\.sha256: expected a string/,
      ],
      [
        'a non-base64 sha256',
        () =>
          Targets.fromJSON(
            targets({ targets: { v: { hashes: { sha256: `${'*'.repeat(43)}=` }, length: 1 } } }),
            'targets',
          ),
        /targets\.v\.hashes\.sha256: not base64/,
      ],
      [
        'an unpadded 33-byte sha256',
        () =>
          Targets.fromJSON(
            targets({
              targets: {
                v: { hashes: { sha256: Buffer.alloc(33).toString('base64') }, length: 1 },
              },
            }),
            'targets',
          ),
        /sha256: expected 32 bytes, got 33/,
      ],
      [
        'a 63-byte sha512',
        () =>
          Targets.fromJSON(
            targets({
              targets: { v: { ...meta, hashes: { sha512: Buffer.alloc(63).toString('base64') } } },
            }),
            'targets',
          ),
        /targets\.v\.hashes\.sha512: expected 64 bytes, got 63/,
      ],
      [
        'a negative target length',
        () => Targets.fromJSON(targets({ targets: { v: { ...meta, length: -1 } } }), 'targets'),
        /targets\.v\.length: expected an integer ≥ 0/,
      ],
      [
        'a fractional target length',
        () => Targets.fromJSON(targets({ targets: { v: { ...meta, length: 1.5 } } }), 'targets'),
        /targets\.v\.length: expected an integer/,
      ],
      [
        'a 31-byte sha256',
        () =>
          parseEnvelope(
            env(
              targets({
                targets: {
                  v: { hashes: { sha256: Buffer.alloc(31).toString('base64') }, length: 1 },
                },
              }),
            ),
            'Targets',
            'targets',
          ),
        /expected 32 bytes/,
      ],
      [
        'a non-string path',
        () =>
          parseEnvelope(
            env(
              targets({
                delegations: {
                  roles: [{ name: 'targets/a', keyids: [], threshold: 1, paths: [1] }],
                },
              }),
            ),
            'Targets',
            'targets',
          ),
        /paths\[0\]: expected a string/,
      ],
      [
        'a non-array keyids',
        () =>
          parseEnvelope(
            env(
              targets({
                delegations: { roles: [{ name: 'targets/a', keyids: 'x', threshold: 1 }] },
              }),
            ),
            'Targets',
            'targets',
          ),
        /keyids: expected an array/,
      ],
    ])('refuses %s', (_w, f, message) => {
      expect(f).toThrowWithCode(VerificationError, 'METADATA_INVALID');
      expect(f).toThrow(message);
    });
  });

  describe('when the served bytes are not canonical', () => {
    it('signs over the canonical form of the parsed object, whatever the escaping (pitfall 1)', () => {
      const served = Buffer.from(
        '{"signed":{"version":1,"_type":"Targets","targets":{"a\\u003cb\\u0026c\\u003e":{"hashes":{"sha256":"' +
          Buffer.alloc(32).toString('base64') +
          '"},"length":1}},"expires":"2030-01-01T00:00:00Z"},"signatures":[]}',
      );
      const e = parseEnvelope(served, 'Targets', 'targets');
      expect(e.canonical.toString()).toContain('"a<b&c>"');
      expect(e.signed.targets.has('a<b&c>')).toBe(true);
    });
    it('uses canonical served bytes as they are, and keeps the last of duplicate `signed` members', () => {
      const first = `{"_type":"Targets","expires":"${exp}","targets":{},"version":1}`;
      const last = `{"_type":"Targets","expires":"${exp}","targets":{"v":{"hashes":{"sha256":"${meta.hashes.sha256}"},"length":10}},"version":2}`;
      const e = parseEnvelope(
        Buffer.from(`{"signed":${first},"signatures":[],"signed":${last}}`),
        'Targets',
        'targets',
      );
      expect(e.signed.version).toBe(2);
      expect(e.canonical.toString()).toBe(last);
      expect(e.canonical).toEqual(canonicalize(JSON.parse(last)));
    });
    it('accepts a target hash exactly when it is base64 of 32 (sha256) or 64 (sha512) bytes', () => {
      // Oracle: the rule for every other base64 field (padding-aware alphabet, decoded size).
      const oracle = (s: string, size: number): boolean =>
        s.length % 4 === 0 &&
        /^[A-Za-z0-9+/]*={0,2}$/.test(s) &&
        Buffer.from(s, 'base64').length === size;
      const chars = ['A', 'z', '9', '+', '/', '=', '*', '-', 'é', '\u0100'];
      let seed = 12345;
      const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
      let accepted = 0;
      for (let i = 0; i < 3000; i++) {
        const size = i % 2 === 0 ? 32 : 64;
        const base = Buffer.alloc(size, i).toString('base64').split('');
        // Mutate a valid hash: change, drop or add characters near the end and anywhere.
        for (let m = next(3); m > 0; m--) {
          const at = next(2) === 0 ? base.length - 1 - next(3) : next(base.length);
          const op = next(3);
          if (op === 0) base[at] = chars[next(chars.length)]!;
          else if (op === 1) base.splice(at, 1);
          else base.splice(at, 0, chars[next(chars.length)]!);
        }
        const s = base.join('');
        const hashes = size === 32 ? { sha256: s } : { sha512: s };
        let ok = true;
        try {
          Targets.fromJSON(targets({ targets: { v: { hashes, length: 1 } } }), 'targets');
        } catch (err) {
          expect(err).toBeInstanceOf(VerificationError);
          ok = false;
        }
        expect([s, ok]).toEqual([s, oracle(s, size)]);
        if (ok) accepted++;
      }
      expect(accepted).toBeGreaterThan(300);
    });
    it('keeps the sha256 and sha512 of a target as served base64', () => {
      const sha512 = Buffer.alloc(64, 7).toString('base64');
      const t = Targets.fromJSON(
        targets({
          targets: {
            v: { hashes: { sha256: meta.hashes.sha256, sha512 }, length: 3 },
            w: { hashes: {}, length: 0 },
          },
        }),
        'targets',
      );
      expect(t.targets.get('v')).toEqual({ length: 3, sha256: meta.hashes.sha256, sha512 });
      expect(t.targets.get('w')).toEqual({ length: 0 });
    });
    it('keeps the last of duplicate JSON keys in both the model and the signed bytes', () => {
      const served = Buffer.from(
        `{"signed":{"_type":"Targets","version":1,"version":7,"expires":"${exp}","targets":{}},"signatures":[]}`,
      );
      const e = parseEnvelope(served, 'Targets', 'targets');
      expect(e.signed.version).toBe(7);
      expect(e.canonical).toEqual(
        canonicalize({ _type: 'Targets', expires: exp, targets: {}, version: 7 }),
      );
    });
  });

  describe('when checking expiry', () => {
    it('is expired only strictly after expires', () => {
      const t = parseEnvelope(env(targets()), 'Targets', 'targets').signed;
      expect(t.isExpired(new Date(exp))).toBe(false);
      expect(t.isExpired(new Date(new Date(exp).getTime() + 1))).toBe(true);
    });
  });
});
