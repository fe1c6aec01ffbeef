// SPDX-License-Identifier: Apache-2.0
// Notary v1 end to end against the REAL notary-server and notary CLI: signed, unsigned and
// removed tags, repositories without trust data, root pinning, and expiry at an injected "now".

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

const GUN = 'localhost:5000/basic/app';
const OTHER_GUN = 'localhost:5000/basic/other';
const V1 = '1a'.repeat(32);
const OLD = '2b'.repeat(32);
const DAY = 24 * 3600 * 1000;

let server: NotaryServerHandle;
let cli: NotaryCli;
let pin: RootCert;
let otherPin: RootCert;
let now: Date;
const pool = new DispatcherPool();

function evidence(): NotaryEvidence {
  return new NotaryEvidence({ metadata: new NotaryClient({ dispatchers: pool }) });
}

beforeAll(async () => {
  server = await startNotaryServer();
  cli = await NotaryCli.create({ server: server.url });
  await cli.init(GUN);
  await cli.addHash(GUN, 'v1', 1234, V1, [], { publish: false });
  await cli.addHash(GUN, 'old', 999, OLD);
  await cli.remove(GUN, 'old');
  pin = await cli.rootCert(GUN);
  await cli.init(OTHER_GUN);
  otherPin = await cli.rootCert(OTHER_GUN);
  // Metadata is made now by the real server, so "now" is the wall clock at setup; later
  // instants are derived from it (targets expire after 3 years, the timestamp after 14 days).
  now = new Date();
});

afterAll(async () => {
  await pool.close();
  await server?.stop();
  await cli?.cleanup();
});

describe('Notary v1 verification against a real notary-server', () => {
  describe('when the tag is signed into targets', () => {
    it('returns the signed digest and records the manifest length', async () => {
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
      const { outcome, repo } = await verifyImage(evidence(), policy, `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${V1}`, source: 'dct' });
      expect(outcome.ok && outcome.signers).toContain('targets');
      expect(repo?.roles.get('targets')?.targets.get('v1')).toMatchObject({
        length: 1234,
        sha256: V1,
        digest: `sha256:${V1}`,
      });
      expect(repo?.gun).toBe(GUN);
    });

    it('accepts a pin given as the certificate fingerprint', async () => {
      const policy = notaryPolicy(
        notarySource(server.url, { rootCertFingerprints: [pin.fingerprint] }),
      );
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${V1}` });
    });
  });

  describe('when the image is referenced by digest', () => {
    const policy = (): ReturnType<typeof notaryPolicy> =>
      notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));

    it('accepts a digest that a signed tag carries', async () => {
      const { outcome } = await verifyImage(evidence(), policy(), `${GUN}@sha256:${V1}`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${V1}` });
    });

    it('denies a digest no signed tag carries with TAG_NOT_SIGNED', async () => {
      const { outcome } = await verifyImage(
        evidence(),
        policy(),
        `${GUN}@sha256:${'ff'.repeat(32)}`,
        { now },
      );
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'TAG_NOT_SIGNED' },
      });
    });

    it('denies tag@digest when the digest is not the one signed for the tag with DIGEST_MISMATCH', async () => {
      const { outcome } = await verifyImage(evidence(), policy(), `${GUN}:v1@sha256:${OLD}`, {
        now,
      });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'DIGEST_MISMATCH' },
      });
    });
  });

  describe('when the policy limits metadata lifetime to 15 days', () => {
    it('denies the 3-year targets metadata with SIGNATURE_TOO_OLD', async () => {
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }), {
        maxAgeMs: 15 * DAY,
      });
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'SIGNATURE_TOO_OLD' },
      });
    });
  });

  describe('when the tag was never signed', () => {
    it('denies with TAG_NOT_SIGNED', async () => {
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:v2`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'TAG_NOT_SIGNED' },
      });
    });
  });

  describe('when the tag was signed and then removed', () => {
    it('denies with TAG_NOT_SIGNED', async () => {
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:old`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'TAG_NOT_SIGNED' },
      });
    });
  });

  describe('when the repository has no trust data', () => {
    it('denies with NO_TRUST_DATA', async () => {
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
      const { outcome } = await verifyImage(
        evidence(),
        policy,
        'localhost:5000/basic/unsigned:v1',
        { now },
      );
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'NO_TRUST_DATA' },
      });
    });
  });

  describe('when the pinned root key belongs to another repository', () => {
    // One root private key, a different certificate per GUN (pitfall 18): the other GUN's pin must not fit.
    it('denies with ROOT_NOT_TRUSTED', async () => {
      expect(otherPin.keyId).not.toBe(pin.keyId);
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [otherPin.keyId] }));
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'ROOT_NOT_TRUSTED' },
      });
    });
  });

  describe('when nothing is pinned and trust on first use is off', () => {
    it('denies with ROOT_NOT_TRUSTED', async () => {
      const policy = notaryPolicy(notarySource(server.url));
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'ROOT_NOT_TRUSTED' },
      });
    });
  });

  describe('when trust on first use is allowed explicitly', () => {
    it('accepts the repository without a pin', async () => {
      const policy = notaryPolicy(notarySource(server.url, { trustOnFirstUse: true }));
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${V1}` });
    });
  });

  describe('when "now" is past the 14-day timestamp expiry', () => {
    it('denies with METADATA_EXPIRED', async () => {
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:v1`, {
        now: new Date(now.getTime() + 15 * DAY),
      });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'METADATA_EXPIRED' },
      });
    });
  });

  describe('when "now" is past the 3-year targets expiry', () => {
    it('denies with METADATA_EXPIRED', async () => {
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
      const { outcome } = await verifyImage(evidence(), policy, `${GUN}:v1`, {
        now: new Date(now.getTime() + 4 * 365 * DAY),
      });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'METADATA_EXPIRED' },
      });
    });
  });

  describe('when the evidence is valid', () => {
    it('is valid no longer than the timestamp', async () => {
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
      const { outcome, repo } = await verifyImage(evidence(), policy, `${GUN}:v1`, { now });
      expect(outcome.ok).toBe(true);
      const until = outcome.ok ? outcome.validUntil.getTime() : 0;
      expect(until).toBeGreaterThan(now.getTime());
      expect(until).toBeLessThanOrEqual(now.getTime() + 15 * DAY);
      expect(repo?.expires.getTime()).toBeLessThanOrEqual(now.getTime() + 15 * DAY);
    });
  });
});
