// SPDX-License-Identifier: Apache-2.0
// The fetch orchestrator with a fake metadata port: order, fallbacks, reuse, single-flight, errors.
import { describe, expect, it } from '@jest/globals';
import { InconclusiveError, VerificationError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import type { NotaryRoleRequest } from '../ports.js';
import { NotaryEvidence } from '../notary-evidence.js';
import { notarySource } from '../../__fixtures__/builders/notary-vectors.js';
import {
  digestOf,
  FakeNotaryServer,
  tufKey,
  TufRepo,
  x509Key,
} from '../../__fixtures__/builders/tuf-repo.js';

const NOW = new Date('2026-11-30T00:00:00Z');
const DAY = 86_400_000;
const GUN = 'registry.example.com/team/app';
const deadline = { signal: new AbortController().signal, expiresAt: Number.MAX_SAFE_INTEGER };
const ctx = { deadline, now: NOW };

function setup(mod?: (r: TufRepo) => void) {
  const repo = new TufRepo({
    gun: GUN,
    now: NOW,
    kinds: { targets: 'ed25519', snapshot: 'ed25519' },
  });
  mod?.(repo);
  const server = new FakeNotaryServer(repo.publish());
  const source = notarySource(
    { keyIds: [repo.root.keys[0]!.keyId] },
    'dct',
    'https://notary.example.com',
  );
  return { repo, server, source, evidence: new NotaryEvidence({ metadata: server }) };
}

const plain = (reqs: readonly string[]): string[] =>
  reqs.map((r) => r.replace(/\.[0-9a-f]{64}\.json$/, '.<sha256>.json'));

describe('NotaryEvidence', () => {
  describe('when loading a repository for the first time', () => {
    it('fetches root, timestamp, snapshot, targets and targets/releases together, then the rest by consistent name', async () => {
      const seen: NotaryRoleRequest[] = [];
      const { server, source, repo } = setup((r) => {
        r.delegate('targets/releases', [tufKey('ed25519', 3)], {
          'v1.0': { digest: digestOf('rel') },
        });
        r.delegate('targets/qa', [tufKey('ed25519', 4)], {});
      });
      const spy = {
        fetchRole: (req: NotaryRoleRequest) => {
          seen.push(req);
          return server.fetchRole(req);
        },
      };
      const withCa = { ...source, caBundle: 'PEM' };
      const verified = await new NotaryEvidence({ metadata: spy }).load(withCa, GUN, ctx);
      expect(verified.roles.get('targets/releases')!.targets.get('v1.0')!.digest).toBe(
        digestOf('rel'),
      );
      expect(plain(server.requests)).toEqual([
        'root.json',
        'timestamp.json',
        'snapshot.json',
        'targets.json',
        'targets/releases.json',
        'targets/qa.<sha256>.json',
      ]);
      expect(seen[0]).toMatchObject({
        server: 'https://notary.example.com',
        gun: GUN,
        role: 'root',
        maxBytes: 512 * 1024,
        caBundle: 'PEM',
        deadline,
      });
      // Roles asked for ahead have only the general caps; the others use the signed length.
      expect(seen.slice(2, 5).map((r) => r.maxBytes)).toEqual([
        LIMITS.maxSnapshotBytes,
        LIMITS.maxTargetsBytes,
        LIMITS.maxTargetsBytes,
      ]);
      expect(seen[5]!.maxBytes).toBe(repo.publish().get('targets/qa.json')!.length);
    });

    it('fetches the snapshot again by the timestamp’s hash when the one asked ahead differs', async () => {
      const { server, source, evidence, repo } = setup();
      // A publish between the two requests: snapshot.json is already the next version.
      const served = new Map(server.files);
      repo.targetFiles = { next: { digest: digestOf('next') } };
      served.set('snapshot.json', repo.publish().get('snapshot.json')!);
      server.files = served;
      const verified = await evidence.load(source, GUN, ctx);
      expect(verified.roles.get('targets')!.targets.has('next')).toBe(false);
      expect(plain(server.requests).filter((r) => r.startsWith('snapshot'))).toEqual([
        'snapshot.json',
        'snapshot.<sha256>.json',
      ]);
    });

    it('falls back to <role>.json when the consistent name is missing', async () => {
      const { server, source, evidence } = setup((r) =>
        r.delegate('targets/qa', [tufKey('ed25519', 4)], {}),
      );
      for (const k of [...server.files.keys()])
        if (/^targets\/qa\.[0-9a-f]{64}\.json$/.test(k)) server.files.delete(k);
      await evidence.load(source, GUN, ctx);
      expect(plain(server.requests).filter((r) => r.startsWith('targets/qa'))).toEqual([
        'targets/qa.<sha256>.json',
        'targets/qa.json',
      ]);
    });

    it('fetches targets again by the snapshot’s hash when the one asked ahead differs', async () => {
      const { server, source, evidence } = setup();
      server.files.set('targets.json', Buffer.from('{"not":"the signed targets"}'));
      const verified = await evidence.load(source, GUN, ctx);
      expect(verified.roles.has('targets')).toBe(true);
      expect(plain(server.requests).filter((r) => /^targets[.]/.test(r))).toEqual([
        'targets.json',
        'targets.<sha256>.json',
      ]);
    });

    it('refuses a tampered snapshot or targets under both names with the reason of the hash check', async () => {
      for (const [role, by] of [
        ['snapshot', 'timestamp'],
        ['targets', 'snapshot'],
      ] as const) {
        const { server, source, evidence } = setup();
        // Same length, one byte changed, one array served for both names: the array hashed to
        // match it ahead is the one TrustedSet checks.
        const tampered = Buffer.from(server.files.get(`${role}.json`)!);
        tampered[0] = tampered[0]! ^ 1;
        for (const k of [...server.files.keys()])
          if (k === `${role}.json` || new RegExp(`^${role}\\.[0-9a-f]{64}\\.json$`).test(k))
            server.files.set(k, tampered);
        const load = evidence.load(source, GUN, ctx);
        await expect(load).rejects.toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
        await expect(load).rejects.toThrow(`${role}: sha256 does not match the ${by}`);
        expect(plain(server.requests).filter((r) => r.startsWith(`${role}.`))).toEqual([
          `${role}.json`,
          `${role}.<sha256>.json`,
        ]);
      }
    });

    it('walks root versions down to the pinned one', async () => {
      const { repo, source } = setup();
      repo.rotateRoot([
        x509Key('ecdsa', 21, {
          cn: GUN,
          notBefore: NOW,
          notAfter: new Date(NOW.getTime() + 100 * DAY),
        }),
      ]);
      repo.rotateRoot([
        x509Key('ecdsa', 22, {
          cn: GUN,
          notBefore: NOW,
          notAfter: new Date(NOW.getTime() + 100 * DAY),
        }),
      ]);
      const server = new FakeNotaryServer(repo.publish());
      const verified = await new NotaryEvidence({ metadata: server }).load(source, GUN, ctx);
      expect(verified.rootVersion).toBe(3);
      expect(server.requests.filter((r) => r.endsWith('root.json'))).toEqual([
        'root.json',
        '2.root.json',
        '1.root.json',
      ]);
    });

    it.each(['root.json', 'timestamp.json'])(
      'reports NO_TRUST_DATA when %s is missing',
      async (file) => {
        const { server, source, evidence } = setup();
        server.files.delete(file);
        const p = evidence.load(source, GUN, ctx);
        await expect(p).rejects.toThrowWithCode(VerificationError, 'NO_TRUST_DATA');
        await expect(evidence.load(source, GUN, ctx)).rejects.toThrow(
          `no trust data for ${GUN} on https://notary.example.com`,
        );
      },
    );

    it.each(['snapshot', 'targets'])('reports NO_TRUST_DATA when %s is missing', async (role) => {
      const { server, source, evidence } = setup();
      for (const k of [...server.files.keys()])
        if (k.startsWith(`${role}.`)) server.files.delete(k);
      await expect(evidence.load(source, GUN, ctx)).rejects.toThrow(`${role} of ${GUN} is missing`);
    });

    it('refuses a snapshot that does not list targets', async () => {
      const { source, evidence } = setup((r) => {
        r.mutate['snapshot'] = (s) => {
          delete (s['meta'] as Record<string, unknown>)['targets'];
        };
      });
      await expect(evidence.load(source, GUN, ctx)).rejects.toThrowWithCode(
        VerificationError,
        'METADATA_INVALID',
      );
    });

    it('passes port errors through unchanged', async () => {
      const { source } = setup();
      const err = new InconclusiveError('TIMEOUT', 'deadline passed');
      const evidence = new NotaryEvidence({ metadata: { fetchRole: () => Promise.reject(err) } });
      await expect(evidence.load(source, GUN, ctx)).rejects.toBe(err);
    });

    it('turns a body longer than the signed length into a definite failure, but not our own caps', async () => {
      const { repo, source } = setup();
      const files = repo.publish();
      const big = Buffer.concat([files.get('targets.json')!, Buffer.from(' ')]);
      files.set('targets.json', big);
      for (const k of [...files.keys()])
        if (/^targets\.[0-9a-f]{64}\.json$/.test(k)) files.delete(k);
      await expect(
        new NotaryEvidence({ metadata: new FakeNotaryServer(files) }).load(source, GUN, ctx),
      ).rejects.toThrow(/targets: served more than the \d+ bytes the snapshot allows/);
      const capped = new NotaryEvidence({
        metadata: {
          fetchRole: async (req) => {
            if (req.role === 'root') throw new InconclusiveError('LIMIT_EXCEEDED', 'too big');
            return null;
          },
        },
      });
      await expect(capped.load(source, GUN, ctx)).rejects.toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
    });
  });

  describe('when the port fails on a meta-addressed file', () => {
    it('passes through other errors, and caps not bound by a signed length', async () => {
      const { server, source } = setup((r) => {
        r.mutate['timestamp'] = (t) => {
          delete (t['meta'] as Record<string, Record<string, unknown>>)['snapshot']!['length'];
        };
      });
      const failing = (err: Error) =>
        new NotaryEvidence({
          metadata: {
            fetchRole: (req) =>
              req.role === 'snapshot' ? Promise.reject(err) : server.fetchRole(req),
          },
        });
      await expect(
        failing(new InconclusiveError('LIMIT_EXCEEDED', 'cap')).load(source, GUN, ctx),
      ).rejects.toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
      await expect(
        failing(new InconclusiveError('TIMEOUT', 'slow')).load(source, GUN, ctx),
      ).rejects.toThrowWithCode(InconclusiveError, 'TIMEOUT');
    });
  });

  describe('when the timestamp gives only a sha512', () => {
    it('fetches snapshot.json by its plain name', async () => {
      const { server, source, evidence } = setup((r) => {
        r.mutate['timestamp'] = (t) => {
          const m = (t['meta'] as Record<string, { hashes: Record<string, string> }>)['snapshot']!;
          delete m.hashes['sha256'];
        };
      });
      await evidence.load(source, GUN, ctx);
      // Asked for ahead, then by name again: without a sha256 the early one cannot be matched.
      expect(plain(server.requests).filter((r) => r.startsWith('snapshot'))).toEqual([
        'snapshot.json',
        'snapshot.json',
      ]);
    });
  });

  describe('when loading again', () => {
    it('passes port errors of a refresh through without retrying', async () => {
      const { server, source } = setup();
      let fail = false;
      const err = new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', 'down');
      const evidence = new NotaryEvidence({
        metadata: { fetchRole: (req) => (fail ? Promise.reject(err) : server.fetchRole(req)) },
      });
      await evidence.load(source, GUN, ctx);
      fail = true;
      await expect(evidence.load(source, GUN, ctx)).rejects.toBe(err);
    });

    it('refetches only the timestamp while it names the same snapshot', async () => {
      const { repo, server, source, evidence } = setup((r) =>
        r.delegate('targets/releases', [tufKey('ed25519', 3)], {}),
      );
      await evidence.load(source, GUN, ctx);
      server.requests.length = 0;
      repo.timestamp.version = 2;
      server.files = repo.publish();
      const again = await evidence.load(source, GUN, ctx);
      expect(server.requests).toEqual(['timestamp.json']);
      expect(again.timestampVersion).toBe(2);
      expect(again.roles.has('targets/releases')).toBe(true);
    });

    it('fetches the new snapshot and targets when the timestamp changed them', async () => {
      const { repo, server, source, evidence } = setup();
      await evidence.load(source, GUN, ctx);
      server.requests.length = 0;
      repo.targetFiles = { 'v2.0': { digest: digestOf('v2') } };
      repo.targets.version = 3;
      repo.snapshot.version = 3;
      server.files = repo.publish();
      const again = await evidence.load(source, GUN, ctx);
      expect(plain(server.requests)).toEqual([
        'timestamp.json',
        'snapshot.<sha256>.json',
        'targets.<sha256>.json',
      ]);
      expect(again.roles.get('targets')!.targets.has('v2.0')).toBe(true);
    });

    it('retries from root.json once when the cached root no longer verifies the timestamp', async () => {
      const { repo, server, source, evidence } = setup();
      await evidence.load(source, GUN, ctx);
      repo.timestamp = { ...repo.timestamp, keys: [tufKey('ed25519', 6)] };
      repo.rotateRoot(repo.root.keys);
      server.files = repo.publish();
      server.requests.length = 0;
      const again = await evidence.load(source, GUN, ctx);
      expect(again.rootVersion).toBe(2);
      expect(plain(server.requests).slice(0, 3)).toEqual([
        'timestamp.json',
        'root.json',
        'timestamp.json',
      ]);
    });

    it('detects a rollback against what this process has seen, even after a failed load', async () => {
      const { repo, server, source, evidence } = setup();
      repo.timestamp.version = 5;
      server.files = repo.publish();
      await evidence.load(source, GUN, ctx);
      repo.timestamp.version = 6;
      repo.targets.signers = [];
      repo.targets.version = 9;
      server.files = repo.publish();
      await expect(evidence.load(source, GUN, ctx)).rejects.toThrowWithCode(
        VerificationError,
        'SIGNATURE_INVALID',
      );
      repo.timestamp.version = 5;
      repo.targets.signers = undefined;
      server.files = repo.publish();
      await expect(evidence.load(source, GUN, ctx)).rejects.toThrowWithCode(
        VerificationError,
        'ROLLBACK_DETECTED',
      );
      await expect(
        new NotaryEvidence({ metadata: server }).load(source, GUN, ctx),
      ).resolves.toMatchObject({ timestampVersion: 5 });
    });

    it('forgets the oldest repository beyond its capacity', async () => {
      const { server, source } = setup();
      const evidence = new NotaryEvidence({ metadata: server, maxRepositories: 1 });
      await evidence.load(source, GUN, ctx);
      await evidence.load({ ...source, materialHash: 'other' }, GUN, ctx);
      server.requests.length = 0;
      await evidence.load(source, GUN, ctx);
      expect(server.requests[0]).toBe('root.json');
    });
  });

  describe('when loads run concurrently', () => {
    it('shares one in-flight refresh and fetches each file once', async () => {
      const { server, source, evidence } = setup();
      let open!: () => void;
      server.gate = new Promise((resolve) => {
        open = resolve;
      });
      const loads = [
        evidence.load(source, GUN, ctx),
        evidence.load(source, GUN, ctx),
        evidence.load(source, GUN, ctx),
      ];
      open();
      const [a, b, c] = await Promise.all(loads);
      expect(a).toBe(b);
      expect(b).toBe(c);
      // root, timestamp, snapshot, targets and (absent here) targets/releases, once each.
      expect(plain(server.requests)).toEqual([
        'root.json',
        'timestamp.json',
        'snapshot.json',
        'targets.json',
        'targets/releases.json',
      ]);
      await evidence.load(source, GUN, ctx);
      expect(server.requests).toHaveLength(6);
    });

    it('requests the delegations of one level together', async () => {
      const { server, source } = setup((r) => {
        r.delegate('targets/a', [tufKey('ed25519', 3)], {});
        r.delegate('targets/b', [tufKey('ed25519', 4)], {});
      });
      const inFlight: number[] = [];
      let pending = 0;
      const metadata = {
        fetchRole: async (req: NotaryRoleRequest) => {
          const delegation = req.role === 'targets/a' || req.role === 'targets/b';
          if (delegation) inFlight.push(++pending);
          await new Promise((r) => setImmediate(r));
          if (delegation) pending--;
          return server.fetchRole(req);
        },
      };
      await new NotaryEvidence({ metadata }).load(source, GUN, ctx);
      expect(inFlight).toEqual([1, 2]);
    });
  });
});
