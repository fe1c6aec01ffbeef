// SPDX-License-Identifier: Apache-2.0
// How often a cold load hashes the roles it fetched ahead, counted through node:crypto: once to
// match them against their parent's hash, and not again when TrustedSet checks that meta.
import { describe, expect, it } from '@jest/globals';
import { countHashUpdates } from '../../__fixtures__/hash-counter.js';

/** Every hash update: its algorithm and the exact object hashed. */
const updates = await countHashUpdates();

// Imported after the mock, so that the orchestrator and TrustedSet hash through it.
const { NotaryEvidence } = await import('../notary-evidence.js');
const { notarySource } = await import('../../__fixtures__/builders/notary-vectors.js');
const { digestOf, FakeNotaryServer, tufKey, TufRepo } =
  await import('../../__fixtures__/builders/tuf-repo.js');

const NOW = new Date('2026-11-30T00:00:00Z');
const GUN = 'registry.example.com/team/app';
const deadline = { signal: new AbortController().signal, expiresAt: Number.MAX_SAFE_INTEGER };

const hashesOf = (bytes: Uint8Array, alg: 'sha256' | 'sha512'): number =>
  updates.filter((u) => u.data === bytes && u.alg === alg).length;

describe('NotaryEvidence hashing on a cold load', () => {
  it('hashes each role fetched ahead with sha256 once (matched ahead, then checked) and sha512 once', async () => {
    const repo = new TufRepo({ gun: GUN, now: NOW });
    repo.delegate('targets/releases', [tufKey('ecdsa', 3)], {
      'v1.0': { digest: digestOf('rel') },
    });
    const server = new FakeNotaryServer(repo.publish());
    const source = notarySource({ keyIds: [repo.root.keys[0]!.keyId] });
    updates.length = 0; // publishing hashed the files too
    const verified = await new NotaryEvidence({ metadata: server }).load(source, GUN, {
      deadline,
      now: NOW,
    });
    expect(verified.roles.get('targets/releases')!.targets.get('v1.0')!.digest).toBe(
      digestOf('rel'),
    );
    expect(server.requests).toEqual([
      'root.json',
      'timestamp.json',
      'snapshot.json',
      'targets.json',
      'targets/releases.json',
    ]);
    for (const role of ['snapshot', 'targets', 'targets/releases']) {
      const bytes = server.files.get(`${role}.json`)!;
      expect([role, hashesOf(bytes, 'sha256'), hashesOf(bytes, 'sha512')]).toEqual([role, 1, 1]);
    }
  });
});
