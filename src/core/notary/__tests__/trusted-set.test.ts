// SPDX-License-Identifier: Apache-2.0
// The TUF state machine over generated repositories: anchoring, rotation, thresholds, expiry, rollback, hashes, delegations, reuse.
import { describe, expect, it } from '@jest/globals';
import { InconclusiveError, VerificationError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import { TrustedSet, restrictPaths, type TrustedState } from '../trusted-set.js';
import { notarySource } from '../../../__fixtures__/builders/notary-vectors.js';
import {
  digestOf,
  driveTrustedSet,
  keyPair,
  makeCertificate,
  tufKey,
  TufRepo,
  x509Key,
  type TestKey,
} from '../../../__fixtures__/builders/tuf-repo.js';

const NOW = new Date('2026-11-30T00:00:00Z');
const DAY = 86_400_000;
const GUN = 'registry.example.com/team/app';
const later = (days: number): Date => new Date(NOW.getTime() + days * DAY);
const rootCert = (
  index: number,
  o: { cn?: string; from?: Date; to?: Date; ca?: boolean } = {},
): TestKey =>
  x509Key('ecdsa', index, {
    cn: o.cn ?? GUN,
    notBefore: o.from ?? later(-30),
    notAfter: o.to ?? later(3650),
    ...(o.ca ? { ca: true } : {}),
  });

function repo(): TufRepo {
  return new TufRepo({ gun: GUN, now: NOW });
}
/** ed25519 signatures are deterministic: republishing gives the same snapshot bytes. */
function stable(): TufRepo {
  return new TufRepo({ gun: GUN, now: NOW, kinds: { targets: 'ed25519', snapshot: 'ed25519' } });
}
const pinOf = (r: TufRepo) => notarySource({ keyIds: [r.root.keys[0]!.keyId] });
const run = (
  r: TufRepo,
  o: {
    previous?: TrustedState;
    now?: Date;
    fromTimestamp?: boolean;
    anchor?: ReturnType<typeof notarySource>;
    files?: Map<string, Uint8Array>;
  } = {},
) =>
  driveTrustedSet(o.files ?? r.publish(), {
    gun: GUN,
    anchor: o.anchor ?? pinOf(r),
    now: o.now ?? NOW,
    ...(o.previous ? { previous: o.previous } : {}),
    ...(o.fromTimestamp ? { fromTimestamp: true } : {}),
  });
const expectCode = (f: () => unknown, code: string, message?: RegExp): void => {
  expect(f).toThrowWithCode(VerificationError, code);
  if (message) expect(f).toThrow(message);
};

describe('TrustedSet', () => {
  describe('when the repository is well-formed', () => {
    it('verifies every role and reports versions, keys and the earliest expiry', () => {
      const r = repo();
      const rel = tufKey('ecdsa', 3);
      r.delegate(
        'targets/releases',
        [rel],
        { 'v1.0': { digest: digestOf('rel'), length: 5 } },
        { expires: later(20) },
      );
      const { repository, requests } = run(r);
      expect(requests).toEqual([
        'root.json',
        'timestamp.json',
        `snapshot.${requests[2]!.split('.')[1]}.json`,
        `targets.${requests[3]!.split('.')[1]}.json`,
        `targets/releases.${requests[4]!.split('.')[1]}.json`,
      ]);
      expect(repository).toMatchObject({
        gun: GUN,
        rootVersion: 1,
        timestampVersion: 1,
        snapshotVersion: 2,
        rootKeyIds: [r.root.keys[0]!.keyId],
        problems: [],
      });
      expect(repository.expires).toEqual(later(14));
      const releases = repository.roles.get('targets/releases')!;
      expect(releases).toMatchObject({
        version: 1,
        threshold: 1,
        validKeyIds: [rel.keyId],
        paths: [''],
      });
      expect(releases.targets.get('v1.0')).toEqual({
        name: 'v1.0',
        length: 5,
        sha256: digestOf('rel').slice(7),
        digest: digestOf('rel'),
      });
      expect(repository.roles.get('targets')!.paths).toBeNull();
    });

    it.each(['ecdsa', 'ed25519', 'rsa'] as const)(
      'accepts %s keys for every non-root role',
      (kind) => {
        const r = new TufRepo({
          gun: GUN,
          now: NOW,
          kinds: { targets: kind, snapshot: kind, timestamp: kind },
        });
        expect(run(r).repository.roles.get('targets')!.targets.has('v1.0')).toBe(true);
      },
    );

    it('verifies HTML-escaped target names over their canonical bytes', () => {
      const r = repo();
      r.targetFiles = {
        'a<b&c>': { digest: digestOf('x') },
        'ü-tag': { digest: digestOf('y'), sha512: true, custom: { n: 1 } },
      };
      r.htmlEscape = true;
      const files = r.publish();
      expect(files.get('targets.json')!.toString()).toContain('a\\u003cb\\u0026c\\u003e');
      const t = run(r, { files }).repository.roles.get('targets')!.targets;
      expect(t.get('a<b&c>')!.digest).toBe(digestOf('x'));
      expect(t.get('ü-tag')!.custom).toEqual({ n: 1 });
    });

    it('ignores targets without a sha256 hash', () => {
      const r = repo();
      r.mutate['targets'] = (s) => {
        (s['targets'] as Record<string, unknown>)['x'] = {
          hashes: { sha512: Buffer.alloc(64).toString('base64') },
          length: 1,
        };
      };
      expect(run(r).repository.roles.get('targets')!.targets.has('x')).toBe(false);
    });
  });

  describe('when anchoring the root', () => {
    it('trusts a certificate pin by fingerprint, a bare public key pin, a CA pin and TOFU', () => {
      const r = repo();
      expect(
        run(r, { anchor: notarySource({ pems: [r.root.keys[0]!.certPem!] }) }).repository
          .rootVersion,
      ).toBe(1);
      const spki = r.root.keys[0]!.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(run(r, { anchor: notarySource({ pems: [spki] }) }).repository.rootVersion).toBe(1);
      expect(run(r, { anchor: notarySource({ tofu: true }) }).repository.rootVersion).toBe(1);
      const ca = keyPair('ecdsa', 8);
      const caPem = makeCertificate(ca.publicKey, ca.privateKey, {
        cn: 'Team CA',
        ca: true,
        notBefore: later(-100),
        notAfter: later(1000),
      });
      const issued = new TufRepo({
        gun: GUN,
        now: NOW,
        rootKey: x509Key('ecdsa', 4, {
          cn: GUN,
          notBefore: later(-1),
          notAfter: later(100),
          issuer: { cn: 'Team CA', key: ca.privateKey },
        }),
      });
      expect(run(issued, { anchor: notarySource({ cas: [caPem] }) }).repository.rootVersion).toBe(
        1,
      );
      expectCode(
        () => run(r, { anchor: notarySource({ cas: [caPem] }) }),
        'ROOT_NOT_TRUSTED',
        /not signed by a root key the policy pins/,
      );
    });

    it('lets a bare public key pin vouch for a CA certificate with another CN (connaisseur model)', () => {
      const r = new TufRepo({
        gun: GUN,
        now: NOW,
        rootKey: rootCert(5, { cn: 'securesystems.de', ca: true }),
      });
      const spki = r.root.keys[0]!.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      expect(run(r, { anchor: notarySource({ pems: [spki] }) }).repository.rootVersion).toBe(1);
      expectCode(
        () => run(r, { anchor: notarySource({ tofu: true }) }),
        'ROOT_NOT_TRUSTED',
        /CA certificate/,
      );
    });

    it('refuses an unpinned root, a root signed below its threshold and one with no valid signature', () => {
      const r = repo();
      expectCode(
        () => run(r, { anchor: notarySource({ keyIds: ['ab'.repeat(32)] }) }),
        'ROOT_NOT_TRUSTED',
      );
      const two = repo();
      const second = rootCert(6);
      two.root = {
        ...two.root,
        keys: [two.root.keys[0]!, second],
        threshold: 2,
        signers: [two.root.keys[0]!],
      };
      two.resignRoot();
      expectCode(() => run(two), 'ROOT_NOT_TRUSTED');
      two.root.signers = [two.root.keys[0]!, second];
      two.resignRoot();
      expect(run(two).repository.rootKeyIds).toHaveLength(2);
      const bad = repo();
      bad.root.signers = [];
      bad.root.badSigners = [bad.root.keys[0]!];
      bad.resignRoot();
      expectCode(() => run(bad), 'ROOT_NOT_TRUSTED', /no valid signature/);
    });

    it('counts a bare (non-certificate) root key only when pinned by its key ID', () => {
      const key = tufKey('ecdsa', 7);
      const r = new TufRepo({ gun: GUN, now: NOW, rootKey: key });
      expect(run(r, { anchor: notarySource({ keyIds: [key.keyId] }) }).repository.rootVersion).toBe(
        1,
      );
      expectCode(
        () => run(r, { anchor: notarySource({ tofu: true }) }),
        'ROOT_NOT_TRUSTED',
        /not a certificate/,
      );
    });

    it('refuses an expired root certificate and an expired root', () => {
      const r = new TufRepo({
        gun: GUN,
        now: NOW,
        rootKey: rootCert(9, { from: later(-100), to: later(-1) }),
      });
      expectCode(() => run(r), 'ROOT_NOT_TRUSTED', /not valid at/);
      const expired = repo();
      expired.root.expires = later(-1);
      expired.resignRoot();
      expectCode(() => run(expired), 'METADATA_EXPIRED', /root expired/);
    });
  });

  describe('when the root rotates', () => {
    it('walks up from a trusted root through every version (TUF 5.3.4/5.3.5)', () => {
      const r = repo();
      const first = run(r);
      r.rotateRoot([rootCert(10)]);
      r.rotateRoot([rootCert(11)]);
      r.rotateRoot([rootCert(23)]);
      const { repository, requests } = run(r, { previous: first.state });
      expect(repository.rootVersion).toBe(4);
      expect(requests.slice(0, 3)).toEqual(['root.json', '2.root.json', '3.root.json']);
    });

    it('walks down from root.json to the pinned version and back up (the chain may start at v2)', () => {
      const r = repo();
      const pin = pinOf(r);
      r.rotateRoot([rootCert(12)]);
      r.rotateRoot([rootCert(13)]);
      const { repository, requests } = run(r, { anchor: pin });
      expect(repository.rootVersion).toBe(3);
      expect(requests.slice(0, 3)).toEqual(['root.json', '2.root.json', '1.root.json']);
      const files = r.publish();
      files.delete('1.root.json');
      expectCode(
        () => run(r, { anchor: pin, files }),
        'ROOT_NOT_TRUSTED',
        /no older root version is pinned/,
      );
    });

    it('refuses a new root not signed by the old root keys, or by its own', () => {
      const r = repo();
      const first = run(r);
      r.rotateRoot([rootCert(14)], { signWithOld: false });
      expectCode(
        () => run(r, { previous: first.state }),
        'ROOT_NOT_TRUSTED',
        /trusted root version 1/,
      );
      const s = repo();
      const sFirst = run(s);
      const oldKey = s.root.keys[0]!;
      s.root = { ...s.root, keys: [rootCert(15)], version: 2, signers: [] };
      s.rootHistory.push(s.signRoot([oldKey]));
      expectCode(
        () => run(s, { previous: sFirst.state }),
        'ROOT_NOT_TRUSTED',
        /not signed by 1 of its own root keys/,
      );
    });

    it('names certificate problems of a new root', () => {
      const r = repo();
      const first = run(r);
      r.rotateRoot([rootCert(24, { cn: 'other/app' })]);
      expectCode(
        () => run(r, { previous: first.state }),
        'ROOT_NOT_TRUSTED',
        /\(root certificate CN other\/app does not match/,
      );
    });

    it('refuses a rollback of root.json and a changed root of the same version', () => {
      const r = repo();
      const v1 = r.publish();
      r.rotateRoot([rootCert(16)]);
      const second = run(r);
      expectCode(
        () => run(r, { previous: second.state, files: v1 }),
        'ROLLBACK_DETECTED',
        /older than the trusted version 2/,
      );
      r.root.expires = later(100);
      r.resignRoot([]);
      expectCode(() => run(r, { previous: second.state }), 'ROLLBACK_DETECTED', /differs/);
    });

    it('accepts an unchanged root.json and refuses a versioned file of the wrong version', () => {
      const r = repo();
      const first = run(r);
      expect(run(r, { previous: first.state }).repository.rootVersion).toBe(1);
      r.rotateRoot([rootCert(17)]);
      r.rotateRoot([rootCert(18)]);
      const files = r.publish();
      files.set('2.root.json', files.get('3.root.json')!);
      expectCode(
        () => run(r, { previous: first.state, files }),
        'METADATA_INVALID',
        /2\.root\.json holds root version 3/,
      );
      files.delete('2.root.json');
      expectCode(
        () => run(r, { previous: first.state, files }),
        'ROOT_NOT_TRUSTED',
        /missing on the server/,
      );
    });

    it('bounds the rotation walk', () => {
      const r = repo();
      const first = run(r);
      r.root.version = 1 + LIMITS.maxRootRotations + 1;
      r.rootHistory.push(r.signRoot([r.root.keys[0]!]));
      expect(() => run(r, { previous: first.state })).toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
      const fresh = repo();
      const pin = notarySource({ keyIds: ['cd'.repeat(32)] });
      for (let i = 0; i < LIMITS.maxRootRotations + 2; i++) fresh.rotateRoot(fresh.root.keys);
      expectCode(() => run(fresh, { anchor: pin }), 'ROOT_NOT_TRUSTED', /no older root version/);
    });

    it('forgets timestamp and snapshot floors when their keys rotate (TUF 5.3.11)', () => {
      const r = repo();
      r.timestamp.version = 50;
      const first = run(r);
      r.timestamp = { ...r.timestamp, keys: [tufKey('ecdsa', 9)], version: 1 };
      r.rotateRoot(r.root.keys);
      expect(run(r, { previous: first.state }).repository.timestampVersion).toBe(1);
    });
  });

  describe('when a top-level role is bad', () => {
    it.each([
      ['timestamp', 'SIGNATURE_INVALID'],
      ['snapshot', 'SIGNATURE_INVALID'],
      ['targets', 'SIGNATURE_INVALID'],
    ] as const)('refuses a %s signed by the wrong key', (role, code) => {
      const r = repo();
      r[role].signers = [tufKey('ecdsa', 9)];
      expectCode(() => run(r), code, new RegExp(`${role} has no valid signature`));
    });

    it('refuses a threshold not met, counting each key once and ignoring keys outside the role', () => {
      const r = repo();
      const [a, b] = [tufKey('ecdsa', 1), tufKey('ecdsa', 3)];
      r.targets = { ...r.targets, keys: [a, b], threshold: 2, signers: [a, a, tufKey('ecdsa', 4)] };
      r.resignRoot();
      expectCode(
        () => run(r),
        'THRESHOLD_NOT_MET',
        /targets has 1 valid signature\(s\), its threshold is 2/,
      );
      r.targets.signers = [a, b];
      expect(run(r).repository.roles.get('targets')!.validKeyIds).toHaveLength(2);
    });

    it.each(['timestamp', 'snapshot', 'targets'] as const)('refuses an expired %s', (role) => {
      const r = repo();
      r[role].expires = later(-1);
      expectCode(() => run(r), 'METADATA_EXPIRED', new RegExp(`${role} expired at`));
    });

    it('ignores a signature whose key is missing from root keys', () => {
      const r = repo();
      r.mutate['root'] = (s) => {
        delete (s['keys'] as Record<string, unknown>)[r.targets.keys[0]!.keyId];
      };
      r.resignRoot();
      expectCode(() => run(r), 'SIGNATURE_INVALID', /targets has no valid signature/);
    });

    it('refuses a timestamp key of an unknown type', () => {
      const r = repo();
      r.mutate['root'] = (s) => {
        const keys = s['keys'] as Record<string, { keytype: string }>;
        keys[r.timestamp.keys[0]!.keyId]!.keytype = 'ed448';
      };
      r.resignRoot();
      expectCode(() => run(r), 'SIGNATURE_INVALID');
    });

    it('refuses a signature flood and an oversized timestamp', () => {
      const r = repo();
      r.timestamp.signers = Array.from(
        { length: LIMITS.maxSignaturesPerRole + 1 },
        () => r.timestamp.keys[0]!,
      );
      expect(() => run(r)).toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
      const big = repo();
      big.mutate['timestamp'] = (s) => {
        s['pad'] = 'x'.repeat(LIMITS.maxTimestampBytes);
      };
      expect(() => run(big)).toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
    });
  });

  describe('when hashes or lengths do not match the served bytes', () => {
    it('refuses a snapshot or targets that differs from its meta', () => {
      for (const role of ['snapshot', 'targets'] as const) {
        const r = repo();
        const files = r.publish();
        const other = repo();
        other[role].version = 9;
        r.serveOverride[`${role}.json`] = other.publish().get(`${role}.json`)!;
        expect(files.size).toBeGreaterThan(0);
        expectCode(
          () => run(r),
          'SIGNATURE_INVALID',
          new RegExp(`${role}: (sha256 does not match|served)`),
        );
      }
    });

    it('refuses bytes longer than the signed length, and checks sha512 alone', () => {
      const r = repo();
      r.mutate['snapshot'] = (s) => {
        (s['meta'] as Record<string, { length: number }>)['targets']!.length = 10;
      };
      expectCode(
        () => run(r),
        'SIGNATURE_INVALID',
        /targets: served \d+ bytes, the snapshot allows at most 10/,
      );
      const s = repo();
      s.mutate['timestamp'] = (t) => {
        const m = (t['meta'] as Record<string, { hashes: Record<string, string> }>)['snapshot']!;
        delete m.hashes['sha256'];
        m.hashes['sha512'] = Buffer.alloc(64).toString('base64');
      };
      expectCode(() => run(s), 'SIGNATURE_INVALID', /sha512 does not match/);
    });

    it('refuses a root that does not match the snapshot, and skips the check when root is not listed', () => {
      const r = repo();
      r.mutate['snapshot'] = (s) => {
        (s['meta'] as Record<string, { hashes: Record<string, string> }>)['root']!.hashes[
          'sha256'
        ] = Buffer.alloc(32).toString('base64');
      };
      expectCode(() => run(r), 'SIGNATURE_INVALID', /root.json does not match/);
      const s = repo();
      s.snapshotWithoutRoot = true;
      expect(run(s).repository.snapshotVersion).toBe(2);
    });

    it('refuses a snapshot or targets whose version differs from a stated meta version', () => {
      const r = repo();
      r.mutate['timestamp'] = (t) => {
        (t['meta'] as Record<string, Record<string, unknown>>)['snapshot']!['version'] = 5;
      };
      expectCode(() => run(r), 'METADATA_INVALID', /timestamp names version 5/);
      const s = repo();
      s.mutate['snapshot'] = (t) => {
        (t['meta'] as Record<string, Record<string, unknown>>)['targets']!['version'] = 5;
      };
      expectCode(() => run(s), 'METADATA_INVALID', /snapshot names version 5/);
      const u = repo();
      u.mutate['snapshot'] = (t) => {
        delete (t['meta'] as Record<string, unknown>)['targets'];
      };
      const set = new TrustedSet({ gun: GUN, anchor: pinOf(u), now: NOW });
      const files = u.publish();
      set.updateRoot(files.get('root.json')!);
      set.updateTimestamp(files.get('timestamp.json')!);
      set.updateSnapshot(files.get('snapshot.json')!);
      expect(set.expectedRole('targets')).toBeNull();
      expectCode(
        () => set.updateTargets(files.get('targets.json')!),
        'METADATA_INVALID',
        /does not list targets/,
      );
    });
  });

  describe('when versions go back (rollback)', () => {
    it.each(['timestamp', 'snapshot', 'targets'] as const)(
      'refuses an older %s than already trusted',
      (role) => {
        const r = repo();
        r[role].version = 10;
        const first = run(r);
        r[role].version = 9;
        expectCode(
          () => run(r, { previous: first.state }),
          'ROLLBACK_DETECTED',
          new RegExp(`${role} version 9 is older than the version 10`),
        );
      },
    );

    it('refuses an older delegation, and older snapshot meta versions', () => {
      const r = repo();
      const d = r.delegate(
        'targets/releases',
        [tufKey('ecdsa', 3)],
        { v: { digest: digestOf('a') } },
        { version: 4 },
      );
      const first = run(r);
      d.version = 3;
      expectCode(
        () => run(r, { previous: first.state }),
        'ROLLBACK_DETECTED',
        /targets\/releases version 3/,
      );
      const s = repo();
      s.mutate['snapshot'] = (t) => {
        (t['meta'] as Record<string, Record<string, unknown>>)['targets']!['version'] = 2;
      };
      s.mutate['timestamp'] = (t) => {
        (t['meta'] as Record<string, Record<string, unknown>>)['snapshot']!['version'] = 2;
      };
      const sFirst = run(s);
      s.snapshot.version = 3;
      s.targets.version = 1;
      s.mutate['snapshot'] = (t) => {
        (t['meta'] as Record<string, Record<string, unknown>>)['targets']!['version'] = 1;
      };
      s.mutate['timestamp'] = (t) => {
        (t['meta'] as Record<string, Record<string, unknown>>)['snapshot']!['version'] = 3;
      };
      expectCode(
        () => run(s, { previous: sFirst.state }),
        'ROLLBACK_DETECTED',
        /snapshot lists targets version 1/,
      );
      s.mutate['timestamp'] = (t) => {
        (t['meta'] as Record<string, Record<string, unknown>>)['snapshot']!['version'] = 1;
      };
      expectCode(
        () => run(s, { previous: sFirst.state }),
        'ROLLBACK_DETECTED',
        /timestamp names snapshot version 1/,
      );
    });
  });

  describe('when walking delegations', () => {
    it('restricts paths to the parent’s and ignores targets outside them', () => {
      expect(restrictPaths(['qa-1', 'rc/', 'other'], ['qa-', 'rc/'])).toEqual(['qa-1', 'rc/']);
      expect(restrictPaths(['x'], null)).toEqual(['x']);
      const r = repo();
      r.delegate(
        'targets/qa',
        [tufKey('ecdsa', 3)],
        { 'qa-1': { digest: digestOf('q') }, v1: { digest: digestOf('v') } },
        { paths: ['qa-'] },
      );
      r.delegate(
        'targets/qa/sub',
        [tufKey('ecdsa', 4)],
        { 'qa-2': { digest: digestOf('q2') }, 'rc-1': { digest: digestOf('r') } },
        { paths: ['qa-2', 'rc-'] },
      );
      r.delegate(
        'targets/none',
        [tufKey('ecdsa', 5)],
        { v1: { digest: digestOf('n') } },
        { paths: undefined },
      );
      const roles = run(r).repository.roles;
      expect([...roles.get('targets/qa')!.targets.keys()]).toEqual(['qa-1']);
      expect(roles.get('targets/qa/sub')!.paths).toEqual(['qa-2']);
      expect([...roles.get('targets/qa/sub')!.targets.keys()]).toEqual(['qa-2']);
      expect(roles.get('targets/none')!.targets.size).toBe(0);
    });

    it('exposes a role’s targets as a read-only map built on demand, within its paths and with sha256 only', () => {
      const r = repo();
      const targets = {
        'rel/b': { digest: digestOf('b'), length: 2, custom: { tag: 'b' } },
        'rel/a': { digest: digestOf('a'), length: 1 },
        'rel/no-sha256': { digest: digestOf('x'), sha512: true },
        'other/c': { digest: digestOf('c') },
      };
      r.delegate('targets/releases', [tufKey('ecdsa', 3)], targets, { paths: ['rel/'] });
      r.mutate['targets/releases'] = (signed) => {
        delete (signed['targets'] as Record<string, { hashes: Record<string, string> }>)[
          'rel/no-sha256'
        ]!.hashes['sha256'];
      };
      const view = run(r).repository.roles.get('targets/releases')!.targets;
      expect(view.has('rel/a')).toBe(true);
      expect(view.has('rel/no-sha256')).toBe(false);
      expect(view.has('other/c')).toBe(false);
      expect(view.has('missing')).toBe(false);
      const a = view.get('rel/a');
      expect(a).toEqual({
        name: 'rel/a',
        length: 1,
        sha256: digestOf('a').slice(7),
        digest: digestOf('a'),
      });
      expect(view.get('rel/a')).toBe(a);
      expect(view.has('rel/a')).toBe(true);
      expect(view.get('rel/no-sha256')).toBeUndefined();
      expect(view.get('other/c')).toBeUndefined();
      expect(view.get('missing')).toBeUndefined();
      // Signed (canonical) order, the same objects as get() returned.
      expect([...view.keys()]).toEqual(['rel/a', 'rel/b']);
      expect(view.size).toBe(2);
      expect([...view.values()][0]).toBe(a);
      expect([...view.entries()].map(([k, v]) => [k, v.digest])).toEqual([
        ['rel/a', digestOf('a')],
        ['rel/b', digestOf('b')],
      ]);
      expect(new Map(view).get('rel/b')).toEqual({
        name: 'rel/b',
        length: 2,
        sha256: digestOf('b').slice(7),
        digest: digestOf('b'),
        custom: { tag: 'b' },
      });
      const seen: string[] = [];
      const self = { seen };
      view.forEach(function (this: typeof self, value, key, map) {
        this.seen.push(`${key}=${value.length}`);
        expect(map).toBe(view);
      }, self);
      expect(seen).toEqual(['rel/a=1', 'rel/b=2']);
      // Once listed, lookups answer from the listing, with the same answers and objects.
      expect(view.get('rel/a')).toBe(a);
      expect([view.has('rel/b'), view.has('rel/no-sha256'), view.has('other/c')]).toEqual([
        true,
        false,
        false,
      ]);
      expect([view.get('other/c'), view.get('missing')]).toEqual([undefined, undefined]);
    });

    it('drops a delegation with bad signatures, below threshold or expired, recording why', () => {
      const r = repo();
      r.delegate('targets/bad', [tufKey('ecdsa', 3)], {}, { signers: [tufKey('ecdsa', 4)] });
      r.delegate(
        'targets/two',
        [tufKey('ecdsa', 3), tufKey('ecdsa', 4)],
        {},
        { threshold: 2, signers: [tufKey('ecdsa', 3)] },
      );
      r.delegate('targets/old', [tufKey('ecdsa', 5)], {}, { expires: later(-1) });
      r.delegate('targets/old/child', [tufKey('ecdsa', 6)], {});
      const { repository } = run(r);
      expect(repository.problems.map((p) => [p.role, p.code])).toEqual([
        ['targets/bad', 'SIGNATURE_INVALID'],
        ['targets/two', 'THRESHOLD_NOT_MET'],
        ['targets/old', 'METADATA_EXPIRED'],
      ]);
      expect([...repository.roles.keys()]).toEqual(['targets']);
    });

    it('skips a delegation the snapshot does not list, and fails on a listed one that is missing or altered', () => {
      const r = repo();
      r.delegate('targets/unlisted', [tufKey('ecdsa', 3)], {}, { omitFromSnapshot: true });
      expect(run(r).repository.problems).toEqual([
        expect.objectContaining({ role: 'targets/unlisted', code: 'NO_TRUST_DATA' }),
      ]);
      const m = repo();
      m.delegate('targets/missing', [tufKey('ecdsa', 3)], {}, { omitFile: true });
      expectCode(() => run(m), 'NO_TRUST_DATA', /targets\/missing is listed in the snapshot/);
      const a = repo();
      a.delegate('targets/releases', [tufKey('ecdsa', 3)], {});
      a.serveOverride['targets/releases.json'] = Buffer.from('{}');
      expectCode(() => run(a), 'SIGNATURE_INVALID', /targets\/releases: sha256 does not match/);
    });

    it('follows nested delegations up to the depth limit', () => {
      const r = repo();
      let name = 'targets';
      for (let depth = 1; depth <= LIMITS.maxDelegationDepth + 1; depth++) {
        name = `${name}/d${depth}`;
        r.delegate(name, [tufKey('ecdsa', 3)], { [`t${depth}`]: { digest: digestOf(name) } });
      }
      const { repository } = run(r);
      expect(repository.roles.size).toBe(LIMITS.maxDelegationDepth + 1);
      expect(repository.problems).toEqual([
        expect.objectContaining({ code: 'LIMIT_EXCEEDED', role: name }),
      ]);
    });

    it('stops loading after the delegation count limit', () => {
      const r = repo();
      for (let i = 0; i < 6; i++) {
        r.delegate(`targets/p${i}`, [tufKey('ecdsa', 3)], {});
        for (let j = 0; j < 6; j++) r.delegate(`targets/p${i}/c${j}`, [tufKey('ecdsa', 3)], {});
      }
      const { repository } = run(r);
      expect(repository.roles.size).toBe(1 + LIMITS.maxDelegations);
      expect(repository.problems.filter((p) => p.code === 'LIMIT_EXCEEDED')).toHaveLength(
        42 - LIMITS.maxDelegations,
      );
    });
  });

  describe('when refreshing with a previous state', () => {
    it('reuses snapshot, targets and delegations when the timestamp names the same snapshot', () => {
      const r = stable();
      r.delegate('targets/releases', [tufKey('ed25519', 3)], { v: { digest: digestOf('a') } });
      const first = run(r);
      r.timestamp.version = 2;
      const { repository, requests } = run(r, { previous: first.state, fromTimestamp: true });
      expect(requests).toEqual(['timestamp.json']);
      expect(repository.timestampVersion).toBe(2);
      expect(repository.roles.get('targets/releases')!.targets.get('v')!.digest).toBe(
        digestOf('a'),
      );
    });

    it('re-verifies the kept bytes when the root changed, without refetching', () => {
      const r = stable();
      r.delegate('targets/releases', [tufKey('ed25519', 3)], {});
      r.snapshotWithoutRoot = true;
      const first = run(r);
      r.rotateRoot([rootCert(19)]);
      const { repository, requests } = run(r, { previous: first.state });
      expect(requests).toEqual(['root.json', 'timestamp.json']);
      expect(repository.rootVersion).toBe(2);
      expect(repository.roles.has('targets/releases')).toBe(true);
    });

    it('drops a reused delegation (and its children) that expired since, and refuses an expired reused targets or snapshot', () => {
      const r = stable();
      r.delegate('targets/a', [tufKey('ed25519', 3)], {}, { expires: later(5) });
      r.delegate('targets/a/b', [tufKey('ed25519', 4)], {});
      r.delegate('targets/c', [tufKey('ed25519', 5)], {}, { signers: [] });
      r.timestamp.expires = later(2000);
      r.targets.expires = later(10);
      r.snapshot.expires = later(20);
      const first = run(r);
      const at = (d: number) =>
        run(r, { previous: first.state, fromTimestamp: true, now: later(d) });
      const six = at(6);
      expect([...six.repository.roles.keys()]).toEqual(['targets']);
      expect(six.repository.problems.map((p) => p.role)).toEqual(['targets/c', 'targets/a']);
      expect(
        run(r, { previous: six.state, fromTimestamp: true, now: later(7) }).repository.problems,
      ).toHaveLength(2);
      expectCode(() => at(11), 'METADATA_EXPIRED', /targets expired/);
      r.targets.expires = later(100);
      const again = run(r);
      expectCode(
        () => run(r, { previous: again.state, fromTimestamp: true, now: later(21) }),
        'METADATA_EXPIRED',
        /snapshot expired/,
      );
    });

    it('refuses a cached root that has expired or whose certificate has expired', () => {
      const r = repo();
      r.root.expires = later(30);
      r.resignRoot();
      const first = run(r);
      r.timestamp.expires = later(400);
      expectCode(
        () => run(r, { previous: first.state, fromTimestamp: true, now: later(31) }),
        'METADATA_EXPIRED',
        /root expired/,
      );
      const c = new TufRepo({ gun: GUN, now: NOW, rootKey: rootCert(20, { to: later(10) }) });
      const cFirst = run(c);
      c.timestamp.expires = later(400);
      expectCode(
        () => run(c, { previous: cFirst.state, fromTimestamp: true, now: later(11) }),
        'ROOT_NOT_TRUSTED',
        /no longer valid/,
      );
    });

    it('keeps floors in the partial state of a failed update', () => {
      const r = repo();
      const first = run(r);
      r.timestamp.version = 7;
      r.targets.signers = [];
      const set = new TrustedSet({ gun: GUN, anchor: pinOf(r), now: NOW, previous: first.state });
      const files = r.publish();
      set.updateTimestamp(files.get('timestamp.json')!);
      expect(set.partialState()!.floors.get('timestamp')).toBe(7);
      expect(
        new TrustedSet({ gun: GUN, anchor: pinOf(r), now: NOW }).partialState(),
      ).toBeUndefined();
    });
  });

  describe('when used out of order', () => {
    it('throws programming errors', () => {
      const r = repo();
      const files = r.publish();
      const set = new TrustedSet({ gun: GUN, anchor: pinOf(r), now: NOW });
      expect(set.hasTrustedRoot).toBe(false);
      expect(() => set.updateRootVersion(1, null)).toThrow('updateRoot must come first');
      expect(() => set.updateTimestamp(files.get('timestamp.json')!)).toThrow('not trusted yet');
      set.updateRoot(files.get('root.json')!);
      expect(() => set.updateRootVersion(5, null)).toThrow('was not requested');
      expect(() => set.expectedSnapshot()).toThrow('updateTimestamp must come first');
      expect(() => set.updateSnapshot(files.get('snapshot.json')!)).toThrow(
        'updateTimestamp must come first',
      );
      expect(() => set.expectedRole('targets')).toThrow('updateSnapshot must come first');
      expect(() => set.updateDelegation('targets/x', null)).toThrow('was not requested');
      expect(() => set.finish()).toThrow('incomplete');
    });
  });
});
