// SPDX-License-Identifier: Apache-2.0
// Notary v1 key rotation end to end with the REAL notary CLI and server: a targets rotation and
// root rotations, where the ORIGINAL pinned root certificate must still anchor the chain.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DispatcherPool } from '../../src/registry/http.js';
import { NotaryClient } from '../../src/registry/notary-client.js';
import { NotaryEvidence } from '../../src/verify/notary-evidence.js';
import { notaryPolicy, notarySource } from '../support/compiled-policy.js';
import {
  NotaryCli,
  startNotaryServer,
  type NotaryServerHandle,
  type RootCert,
} from '../support/notary.js';
import { verifyImage } from '../support/notary-verify.js';

const TARGETS_GUN = 'localhost:5000/rotate/targets';
const ROOT_GUN = 'localhost:5000/rotate/root';
const SEEN_GUN = 'localhost:5000/rotate/seen';
const V1 = 'a1'.repeat(32);
const V2 = 'b2'.repeat(32);

let server: NotaryServerHandle;
let cli: NotaryCli;
let now: Date;
const pool = new DispatcherPool();
const client = new NotaryClient({ dispatchers: pool });
const original: Record<string, RootCert> = {};

function policyPinning(pin: RootCert): ReturnType<typeof notaryPolicy> {
  return notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
}

beforeAll(async () => {
  server = await startNotaryServer();
  cli = await NotaryCli.create({ server: server.url });
  for (const gun of [TARGETS_GUN, ROOT_GUN, SEEN_GUN]) {
    await cli.init(gun);
    await cli.addHash(gun, 'v1', 100, V1);
    original[gun] = await cli.rootCert(gun);
  }
  await cli.rotate(TARGETS_GUN, 'targets');
  await cli.addHash(TARGETS_GUN, 'v2', 200, V2);
  // Two root rotations: root v3 is signed by the v2 key and the v3 key only, never by the pinned v1 key.
  await cli.rotate(ROOT_GUN, 'root');
  await cli.rotate(ROOT_GUN, 'root');
  await cli.addHash(ROOT_GUN, 'v2', 200, V2);
  now = new Date();
});

afterAll(async () => {
  await pool.close();
  await server?.stop();
  await cli?.cleanup();
});

describe('Notary v1 key rotation against a real notary-server', () => {
  describe('when the targets key was rotated', () => {
    it('verifies tags signed before and after with the original root pin', async () => {
      const ev = new NotaryEvidence({ metadata: client });
      const pin = original[TARGETS_GUN]!;
      const before = await verifyImage(ev, policyPinning(pin), `${TARGETS_GUN}:v1`, { now });
      const after = await verifyImage(ev, policyPinning(pin), `${TARGETS_GUN}:v2`, { now });
      expect(before.outcome).toMatchObject({ ok: true, digest: `sha256:${V1}` });
      expect(after.outcome).toMatchObject({ ok: true, digest: `sha256:${V2}` });
      expect(after.repo?.rootVersion).toBe(2);
    });
  });

  describe('when the root key was rotated twice', () => {
    it('follows the chain from the pinned ORIGINAL root certificate', async () => {
      const pin = original[ROOT_GUN]!;
      const current = await cli.servedRootCert(ROOT_GUN);
      expect(current.keyId).not.toBe(pin.keyId);
      const { outcome, repo } = await verifyImage(
        new NotaryEvidence({ metadata: client }),
        policyPinning(pin),
        `${ROOT_GUN}:v2`,
        { now },
      );
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${V2}` });
      expect(repo?.rootVersion).toBe(3);
      expect(repo?.rootKeyIds).toEqual([current.keyId]);
    });

    it('does not trust a pin on a certificate of another repository', async () => {
      const { outcome } = await verifyImage(
        new NotaryEvidence({ metadata: client }),
        policyPinning(original[TARGETS_GUN]!),
        `${ROOT_GUN}:v2`,
        { now },
      );
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'ROOT_NOT_TRUSTED' },
      });
    });
  });

  describe('when the root is rotated after this process verified the repository', () => {
    it('moves to the new root and keeps verifying', async () => {
      const ev = new NotaryEvidence({ metadata: client });
      const pin = original[SEEN_GUN]!;
      const first = await verifyImage(ev, policyPinning(pin), `${SEEN_GUN}:v1`, { now });
      expect(first.outcome).toMatchObject({ ok: true, digest: `sha256:${V1}` });
      expect(first.repo?.rootVersion).toBe(1);
      await cli.rotate(SEEN_GUN, 'root');
      await cli.addHash(SEEN_GUN, 'v2', 200, V2);
      const later = new Date();
      const second = await verifyImage(ev, policyPinning(pin), `${SEEN_GUN}:v2`, { now: later });
      expect(second.outcome).toMatchObject({ ok: true, digest: `sha256:${V2}` });
      expect(second.repo?.rootVersion).toBe(2);
    });
  });
});
