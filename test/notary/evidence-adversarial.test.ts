// SPDX-License-Identifier: Apache-2.0
// Notary v1 end to end with a hostile or broken network between trustgate and a REAL
// notary-server: tampered, swapped and replayed metadata, dead, hanging and flooding servers,
// and request collapsing under concurrency (counted at the proxy).

import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { DispatcherPool } from '../../src/registry/http.js';
import { NotaryClient } from '../../src/registry/notary-client.js';
import { createDeadline } from '../../src/verify/deadline.js';
import { NotaryEvidence } from '../../src/verify/notary-evidence.js';
import { notaryPolicy, notarySource } from '../support/compiled-policy.js';
import {
  freePort,
  NotaryCli,
  startNotaryServer,
  type NotaryServerHandle,
  type RootCert,
} from '../support/notary.js';
import { verifyImage } from '../support/notary-verify.js';
import { editJson, flipByte, startTufProxy, tufPath, type TufProxy } from '../support/tuf-proxy.js';

const GUN = 'localhost:5000/adv/app';
const ROLLBACK_GUN = 'localhost:5000/adv/rollback';
const CONCURRENT_GUN = 'localhost:5000/adv/concurrent';
const V1 = '3c'.repeat(32);
const V2 = '4d'.repeat(32);
/** targets.json under both names: asked for ahead by name, and again by the snapshot's hash. */
const TARGETS_BY_HASH = /\/_trust\/tuf\/targets(\.[0-9a-f]{64})?\.json$/;

let server: NotaryServerHandle;
let proxy: TufProxy;
let cli: NotaryCli;
let pin: RootCert;
let rollbackPin: RootCert;
let concurrentPin: RootCert;
let now: Date;
const pool = new DispatcherPool();
const client = new NotaryClient({ dispatchers: pool });

function evidence(): NotaryEvidence {
  return new NotaryEvidence({ metadata: client });
}

function policyFor(p: RootCert, server = proxy.url): ReturnType<typeof notaryPolicy> {
  return notaryPolicy(notarySource(server, { rootKeyIds: [p.keyId] }));
}

beforeAll(async () => {
  server = await startNotaryServer();
  proxy = await startTufProxy(server.url);
  cli = await NotaryCli.create({ server: server.url });
  await cli.init(GUN);
  await cli.addHash(GUN, 'v1', 100, V1);
  pin = await cli.rootCert(GUN);
  await cli.init(ROLLBACK_GUN);
  await cli.addHash(ROLLBACK_GUN, 'v1', 100, V1);
  rollbackPin = await cli.rootCert(ROLLBACK_GUN);
  await cli.init(CONCURRENT_GUN);
  await cli.addHash(CONCURRENT_GUN, 'v1', 100, V1);
  concurrentPin = await cli.rootCert(CONCURRENT_GUN);
  now = new Date();
});

beforeEach(() => {
  proxy.clearRules();
  proxy.resetCounts();
});

afterAll(async () => {
  await pool.close();
  await proxy?.close();
  await server?.stop();
  await cli?.cleanup();
});

describe('Notary v1 verification through a hostile network', () => {
  describe('when the proxy is transparent', () => {
    it('verifies the tag (control case for every tampering below)', async () => {
      const { outcome } = await verifyImage(evidence(), policyFor(pin), `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${V1}` });
    });
  });

  describe('when the signed part of timestamp.json is altered', () => {
    it('denies with SIGNATURE_INVALID', async () => {
      proxy.on(tufPath(GUN, 'timestamp.json'), {
        kind: 'transform',
        transform: editJson((doc) => void (doc.signed.version = Number(doc.signed.version) + 1)),
      });
      const { outcome } = await verifyImage(evidence(), policyFor(pin), `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'SIGNATURE_INVALID' },
      });
    });
  });

  describe('when the signed part of root.json is altered', () => {
    it('denies with ROOT_NOT_TRUSTED', async () => {
      proxy.on(/\/_trust\/tuf\/(1\.)?root\.json$/, {
        kind: 'transform',
        transform: editJson((doc) => void (doc.signed.expires = '2099-01-01T00:00:00Z')),
      });
      const { outcome } = await verifyImage(evidence(), policyFor(pin), `${GUN}:v1`, { now });
      // The pinned root no longer verifies under its own key, so nothing anchors the repository.
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'ROOT_NOT_TRUSTED' },
      });
    });
  });

  describe('when targets.json bytes differ from what the snapshot hashes', () => {
    it('denies a flipped byte with SIGNATURE_INVALID (hash mismatch)', async () => {
      proxy.on(TARGETS_BY_HASH, {
        kind: 'transform',
        transform: (b) => flipByte(b, b.indexOf('"length":100') + 10),
      });
      const { outcome } = await verifyImage(evidence(), policyFor(pin), `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'SIGNATURE_INVALID' },
      });
      expect(outcome.ok ? '' : outcome.reason.message).toMatch(/snapshot/);
    });

    it("denies another GUN's validly signed targets.json swapped in with SIGNATURE_INVALID", async () => {
      const other = await proxy.fetchUpstream(tufPath(ROLLBACK_GUN, 'targets.json'));
      proxy.on(TARGETS_BY_HASH, { kind: 'serve', body: other });
      const { outcome } = await verifyImage(evidence(), policyFor(pin), `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'SIGNATURE_INVALID' },
      });
      expect(outcome.ok ? '' : outcome.reason.message).toMatch(/snapshot/);
    });
  });

  describe('when an older timestamp is replayed after a newer one was seen', () => {
    it('denies with ROLLBACK_DETECTED', async () => {
      const oldTimestamp = await proxy.fetchUpstream(tufPath(ROLLBACK_GUN, 'timestamp.json'));
      await cli.addHash(ROLLBACK_GUN, 'v2', 200, V2);
      const ev = evidence();
      const fresh = await verifyImage(ev, policyFor(rollbackPin), `${ROLLBACK_GUN}:v2`, { now });
      expect(fresh.outcome).toMatchObject({ ok: true, digest: `sha256:${V2}` });
      proxy.on(tufPath(ROLLBACK_GUN, 'timestamp.json'), { kind: 'serve', body: oldTimestamp });
      const replayed = await verifyImage(ev, policyFor(rollbackPin), `${ROLLBACK_GUN}:v1`, {
        now: new Date(now.getTime() + 1),
      });
      expect(replayed.outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'ROLLBACK_DETECTED' },
      });
    });
  });

  describe('when the repository is loaded again and nothing changed', () => {
    it('fetches only timestamp.json', async () => {
      const ev = evidence();
      expect((await verifyImage(ev, policyFor(pin), `${GUN}:v1`, { now })).outcome.ok).toBe(true);
      proxy.resetCounts();
      const again = await verifyImage(ev, policyFor(pin), `${GUN}:v1`, { now });
      expect(again.outcome).toMatchObject({ ok: true, digest: `sha256:${V1}` });
      expect([...proxy.counts().keys()]).toEqual([tufPath(GUN, 'timestamp.json')]);
    });
  });

  describe('when nothing listens at the server URL', () => {
    it('is inconclusive with TRUST_SOURCE_UNAVAILABLE', async () => {
      const dead = `http://127.0.0.1:${await freePort()}`;
      const { outcome } = await verifyImage(evidence(), policyFor(pin, dead), `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: false,
        reason: { code: 'TRUST_SOURCE_UNAVAILABLE' },
      });
    });
  });

  describe('when the server accepts the request and never answers', () => {
    it('is inconclusive with TIMEOUT once the deadline passes', async () => {
      proxy.on(tufPath(GUN, 'timestamp.json'), { kind: 'hang' });
      const { outcome } = await verifyImage(evidence(), policyFor(pin), `${GUN}:v1`, {
        now,
        deadlineMs: 400,
      });
      expect(outcome).toMatchObject({ ok: false, definite: false, reason: { code: 'TIMEOUT' } });
    });
  });

  describe('when the connection drops in the middle of a body', () => {
    it('is inconclusive with TRUST_SOURCE_UNAVAILABLE', async () => {
      proxy.on(tufPath(GUN, 'root.json'), { kind: 'drop' });
      const { outcome } = await verifyImage(evidence(), policyFor(pin), `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: false,
        reason: { code: 'TRUST_SOURCE_UNAVAILABLE' },
      });
    });
  });

  describe('when a metadata document is far over its size cap', () => {
    it.each([false, true])('is inconclusive with LIMIT_EXCEEDED (chunked: %s)', async (chunked) => {
      proxy.on(tufPath(GUN, 'timestamp.json'), {
        kind: 'oversize',
        bytes: 8 * 1024 * 1024,
        chunked,
      });
      const { outcome } = await verifyImage(evidence(), policyFor(pin), `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: false,
        reason: { code: 'LIMIT_EXCEEDED' },
      });
    });
  });

  describe('when 100 loads of the same repository run at once', () => {
    it('fetches each metadata file once', async () => {
      const ev = evidence();
      const source = notarySource(proxy.url, { rootKeyIds: [concurrentPin.keyId] });
      const repos = await Promise.all(
        Array.from({ length: 100 }, () =>
          ev.load(source, CONCURRENT_GUN, { deadline: createDeadline(10_000), now }),
        ),
      );
      expect(repos.every((r) => r.roles.get('targets')?.targets.get('v1')?.sha256 === V1)).toBe(
        true,
      );
      const counts = [...proxy.counts()];
      expect(counts.length).toBeGreaterThanOrEqual(4);
      expect(counts.filter(([, n]) => n !== 1)).toEqual([]);
      expect(counts.every(([path]) => path.startsWith(`/v2/${CONCURRENT_GUN}/_trust/tuf/`))).toBe(
        true,
      );
    });
  });
});
