// SPDX-License-Identifier: Apache-2.0
// How often TrustedSet hashes served bytes, counted through node:crypto: a role the orchestrator
// already hashed (sha256OfServed) is not hashed with sha256 again, and nothing else is spared.
import { describe, expect, it } from '@jest/globals';
import { countHashUpdates } from '../../../__fixtures__/hash-counter.js';

/** Every hash update: its algorithm and the exact object hashed. */
const updates = await countHashUpdates();

// Imported after the mock, so that trusted-set.ts (and the fixtures) hash through it.
const { VerificationError } = await import('../../errors.js');
const { sha256OfServed, TrustedSet } = await import('../trusted-set.js');
const { notarySource } = await import('../../../__fixtures__/builders/notary-vectors.js');
const { sha256hex, TufRepo } = await import('../../../__fixtures__/builders/tuf-repo.js');

const NOW = new Date('2026-11-30T00:00:00Z');
const GUN = 'registry.example.com/team/app';

/** Hashes with `alg` over exactly `bytes` (the object, not equal content). */
const hashesOf = (bytes: Uint8Array, alg: 'sha256' | 'sha512'): number =>
  updates.filter((u) => u.data === bytes && u.alg === alg).length;

/** A TrustedSet over a published repository that has verified root and timestamp. */
function setUp(files = new TufRepo({ gun: GUN, now: NOW }).publish()) {
  const root = files.get('root.json')!;
  const set = new TrustedSet({ gun: GUN, anchor: notarySource({ tofu: true }), now: NOW });
  set.updateRoot(root);
  set.updateTimestamp(files.get('timestamp.json')!);
  updates.length = 0; // publishing hashed the files too
  return { files, set, snapshot: files.get('snapshot.json')!, targets: files.get('targets.json')! };
}

describe('TrustedSet hashing of served bytes', () => {
  it('hashes a role with sha256 once when the orchestrator hashed it to match it ahead, and still checks sha512', () => {
    const { set, snapshot, targets } = setUp();
    expect(sha256OfServed(snapshot)).toBe(set.expectedSnapshot().sha256Hex);
    set.updateSnapshot(snapshot);
    expect(sha256OfServed(targets)).toBe(set.expectedRole('targets')!.sha256Hex);
    set.updateTargets(targets);
    for (const bytes of [snapshot, targets]) {
      expect(hashesOf(bytes, 'sha256')).toBe(1);
      expect(hashesOf(bytes, 'sha512')).toBe(1);
    }
    expect(sha256OfServed(targets)).toBe(sha256hex(targets));
  });

  it('hashes bytes nobody hashed, and equal bytes in another array, itself', () => {
    const { set, snapshot, targets } = setUp();
    set.updateSnapshot(snapshot);
    sha256OfServed(targets);
    const copy = Buffer.from(targets);
    set.updateTargets(copy);
    expect(hashesOf(snapshot, 'sha256')).toBe(1);
    expect(hashesOf(copy, 'sha256')).toBe(1);
    expect(hashesOf(targets, 'sha256')).toBe(1);
  });

  it('refuses other bytes than the ones hashed ahead with the usual reason', () => {
    const { set, snapshot, targets } = setUp();
    sha256OfServed(snapshot);
    set.updateSnapshot(snapshot);
    sha256OfServed(targets);
    // Same length, one byte changed: only the hash tells them apart.
    const tampered = Buffer.from(targets);
    tampered[0] = tampered[0]! ^ 1;
    const update = () => set.updateTargets(tampered);
    expect(update).toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
    expect(update).toThrow(/^targets: sha256 does not match the snapshot$/);
  });

  it('uses a remembered digest once: a second check of the same array hashes it again', () => {
    const first = setUp();
    first.set.updateSnapshot(first.snapshot);
    sha256OfServed(first.targets);
    first.set.updateTargets(first.targets);
    const second = setUp(first.files);
    second.set.updateSnapshot(first.snapshot);
    second.set.updateTargets(first.targets);
    expect(hashesOf(first.targets, 'sha256')).toBe(1);
    expect(hashesOf(first.snapshot, 'sha256')).toBe(1);
  });
});
