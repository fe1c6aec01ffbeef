// SPDX-License-Identifier: Apache-2.0
// Notary v1 delegations end to end with the REAL notary CLI and server: Docker's
// targets/releases precedence, extra signer roles, required signers, delegation path prefixes,
// and several keys on one role counted against a policy threshold.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DispatcherPool } from '../../src/registry/http.js';
import { NotaryClient } from '../../src/registry/notary-client.js';
import { NotaryEvidence } from '../../src/verify/notary-evidence.js';
import { createDeadline } from '../../src/verify/deadline.js';
import { parseEnvelope } from '../../src/core/notary/metadata.js';
import { scanTargets } from '../../src/core/notary/targets-scan.js';
import { LIMITS } from '../../src/core/limits.js';
import {
  notaryPolicy,
  notarySource,
  type NotaryPolicyOptions,
} from '../support/compiled-policy.js';
import {
  NotaryCli,
  startNotaryServer,
  type NotaryServerHandle,
  type RootCert,
} from '../support/notary.js';
import { verifyImage } from '../support/notary-verify.js';

const GUN = 'localhost:5000/deleg/app';
const TWO_KEYS_GUN = 'localhost:5000/deleg/two-keys';
const ONE_OF_TWO_GUN = 'localhost:5000/deleg/one-of-two';
const D = {
  targetsLatest: '01'.repeat(32),
  releasesLatest: '02'.repeat(32),
  targetsOnly: '03'.repeat(32),
  aliceOnly: '04'.repeat(32),
  both: '05'.repeat(32),
  releasesOnly: '06'.repeat(32),
  qa: '07'.repeat(32),
  outside: '08'.repeat(32),
  twoKeys: '09'.repeat(32),
};

let server: NotaryServerHandle;
let cli: NotaryCli;
let pins: Record<string, RootCert>;
let now: Date;
const pool = new DispatcherPool();
const ev = new NotaryEvidence({ metadata: new NotaryClient({ dispatchers: pool }) });

function policy(gun: string, opts: NotaryPolicyOptions = {}): ReturnType<typeof notaryPolicy> {
  const pin = pins[gun];
  if (!pin) throw new Error(`no pin for ${gun}`);
  return notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }), opts);
}

beforeAll(async () => {
  server = await startNotaryServer();
  cli = await NotaryCli.create({ server: server.url });
  const rel = await cli.makeKeyPair('releases');
  const alice = await cli.makeKeyPair('alice', { type: 'rsa' });
  const qa = await cli.makeKeyPair('qa');
  const ops = await cli.makeKeyPair('ops');
  await cli.keyImport(rel.keyPath, 'targets/releases');
  await cli.keyImport(alice.keyPath, 'targets/alice');
  await cli.keyImport(qa.keyPath, 'targets/qa');
  await cli.keyImport(ops.keyPath, 'targets/ops');

  // One repository with releases, alice (RSA, Docker signer style), qa (paths "qa-") and ops.
  await cli.init(GUN);
  await cli.delegationAdd(GUN, 'targets/releases', rel.certPath, 'all', { publish: false });
  await cli.delegationAdd(GUN, 'targets/alice', alice.certPath, 'all', { publish: false });
  await cli.delegationAdd(GUN, 'targets/qa', qa.certPath, ['qa-'], { publish: false });
  await cli.delegationAdd(GUN, 'targets/ops', ops.certPath, 'all');
  await cli.addHash(GUN, 'latest', 10, D.targetsLatest, ['targets'], { publish: false });
  await cli.addHash(GUN, 'latest', 20, D.releasesLatest, ['targets/releases'], { publish: false });
  await cli.addHash(GUN, 'targets-only', 30, D.targetsOnly, ['targets'], { publish: false });
  await cli.addHash(GUN, 'alice-only', 40, D.aliceOnly, ['targets/alice'], { publish: false });
  await cli.addHash(GUN, 'both', 50, D.both, ['targets/releases', 'targets/alice'], {
    publish: false,
  });
  await cli.addHash(GUN, 'releases-only', 60, D.releasesOnly, ['targets/releases'], {
    publish: false,
  });
  await cli.addHash(GUN, 'qa-1', 70, D.qa, ['targets/qa'], { publish: false });
  await cli.addHash(GUN, 'v9', 80, D.outside, ['targets/ops']);
  // ops signed "v9" while it held every path; narrowing it to "ops-" leaves v9 in its file, outside its paths.
  await cli.delegationRemove(GUN, 'targets/ops', { paths: 'all' }, { publish: false });
  await cli.delegationAdd(GUN, 'targets/ops', [], ['ops-']);

  // targets/releases with two keys: both imported (2 signatures) vs. only one imported (1 signature).
  const k2 = await cli.makeKeyPair('releases-2');
  const k3 = await cli.makeKeyPair('releases-3');
  await cli.keyImport(k2.keyPath, 'targets/releases');
  await cli.init(TWO_KEYS_GUN);
  await cli.delegationAdd(TWO_KEYS_GUN, 'targets/releases', [rel.certPath, k2.certPath], 'all');
  await cli.addHash(TWO_KEYS_GUN, 'v1', 90, D.twoKeys, ['targets/releases']);
  await cli.init(ONE_OF_TWO_GUN);
  await cli.delegationAdd(ONE_OF_TWO_GUN, 'targets/releases', [rel.certPath, k3.certPath], 'all');
  await cli.addHash(ONE_OF_TWO_GUN, 'v1', 90, D.twoKeys, ['targets/releases']);

  pins = {};
  for (const gun of [GUN, TWO_KEYS_GUN, ONE_OF_TWO_GUN]) pins[gun] = await cli.rootCert(gun);
  now = new Date();
});

afterAll(async () => {
  await pool.close();
  await server?.stop();
  await cli?.cleanup();
});

describe('Notary v1 delegations against a real notary-server', () => {
  describe('when reading the targets roles the server serves', () => {
    it('reads them in place (canonical as served) with the result of the general path', async () => {
      const client = new NotaryClient({ dispatchers: pool });
      for (const role of ['targets', 'targets/releases', 'targets/alice']) {
        const bytes = await client.fetchRole({
          server: server.url,
          gun: GUN,
          role,
          maxBytes: LIMITS.maxTargetsBytes,
          deadline: createDeadline(5000),
        });
        expect(bytes).not.toBeNull();
        expect(scanTargets(bytes!)).not.toBeNull();
        const inPlace = parseEnvelope(bytes!, 'Targets', role);
        const general = parseEnvelope(bytes!, 'Targets', role, { inPlace: false });
        expect([...inPlace.signed.targets].sort()).toEqual([...general.signed.targets].sort());
        expect(inPlace.signed.targets.size).toBeGreaterThan(0);
        expect(inPlace.canonical.equals(general.canonical)).toBe(true);
        expect(inPlace.signed.delegations).toEqual(general.signed.delegations);
      }
    });
  });

  describe('when a tag is signed into both targets and targets/releases', () => {
    it('takes the targets/releases digest (Docker precedence)', async () => {
      const { outcome, repo } = await verifyImage(ev, policy(GUN), `${GUN}:latest`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${D.releasesLatest}` });
      expect(outcome.ok && outcome.signers).toContain('targets/releases');
      expect(repo?.roles.get('targets')?.targets.get('latest')?.sha256).toBe(D.targetsLatest);
    });
  });

  describe('when a tag is signed into targets only', () => {
    it('falls back to targets', async () => {
      const { outcome } = await verifyImage(ev, policy(GUN), `${GUN}:targets-only`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${D.targetsOnly}` });
    });
  });

  describe('when a tag is signed only by a delegation the policy does not name', () => {
    it('denies with TAG_NOT_SIGNED (Docker ignores other delegations)', async () => {
      const { outcome } = await verifyImage(ev, policy(GUN), `${GUN}:alice-only`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'TAG_NOT_SIGNED' },
      });
    });
  });

  describe('when the policy names that delegation as a signer', () => {
    it('accepts the RSA-signed alice tag', async () => {
      const { outcome } = await verifyImage(
        ev,
        policy(GUN, { signers: [{ name: 'alice' }] }),
        `${GUN}:alice-only`,
        { now },
      );
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${D.aliceOnly}` });
      expect(outcome.ok && outcome.signers).toContain('targets/alice');
    });
  });

  describe('when signers are required', () => {
    const required = {
      signers: [
        { name: 'releases', required: true },
        { name: 'alice', required: true },
      ],
    };

    it('accepts a tag signed by every required signer', async () => {
      const { outcome } = await verifyImage(ev, policy(GUN, required), `${GUN}:both`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${D.both}` });
      expect(outcome.ok && [...outcome.signers].sort()).toEqual(
        expect.arrayContaining(['targets/alice', 'targets/releases']),
      );
    });

    it('denies with REQUIRED_SIGNER_MISSING when one required signer did not sign', async () => {
      const { outcome } = await verifyImage(ev, policy(GUN, required), `${GUN}:releases-only`, {
        now,
      });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'REQUIRED_SIGNER_MISSING' },
      });
      expect(outcome.ok ? '' : outcome.reason.message).toContain('alice');
    });
  });

  describe('when a delegation is restricted to the path prefix "qa-"', () => {
    it('accepts a tag inside its paths from a policy naming it', async () => {
      const { outcome, repo } = await verifyImage(
        ev,
        policy(GUN, { signers: [{ name: 'qa' }] }),
        `${GUN}:qa-1`,
        { now },
      );
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${D.qa}` });
      expect(repo?.roles.get('targets/qa')?.paths).toEqual(['qa-']);
    });

    it('ignores a target its file holds outside its paths', async () => {
      const { outcome, repo } = await verifyImage(
        ev,
        policy(GUN, { signers: [{ name: 'ops' }] }),
        `${GUN}:v9`,
        { now },
      );
      expect(repo?.roles.get('targets/ops')?.paths).toEqual(['ops-']);
      expect(repo?.roles.get('targets/ops')?.targets.has('v9')).toBe(false);
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'TAG_NOT_SIGNED' },
      });
    });
  });

  describe('when a policy requires 2 signatures on targets/releases', () => {
    const threshold = { thresholds: { 'targets/releases': 2 } };

    it('accepts a role signed by both of its keys', async () => {
      const { outcome, repo } = await verifyImage(
        ev,
        policy(TWO_KEYS_GUN, threshold),
        `${TWO_KEYS_GUN}:v1`,
        { now },
      );
      expect(repo?.roles.get('targets/releases')?.validKeyIds).toHaveLength(2);
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${D.twoKeys}` });
    });

    it('denies with THRESHOLD_NOT_MET when only one of the two keys signed', async () => {
      const { outcome, repo } = await verifyImage(
        ev,
        policy(ONE_OF_TWO_GUN, threshold),
        `${ONE_OF_TWO_GUN}:v1`,
        { now },
      );
      expect(repo?.roles.get('targets/releases')?.validKeyIds).toHaveLength(1);
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'THRESHOLD_NOT_MET' },
      });
    });

    it('accepts the one-signature role when the policy asks for no threshold', async () => {
      const { outcome } = await verifyImage(ev, policy(ONE_OF_TWO_GUN), `${ONE_OF_TWO_GUN}:v1`, {
        now,
      });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${D.twoKeys}` });
    });
  });
});
