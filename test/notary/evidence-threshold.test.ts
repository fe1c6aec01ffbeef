// SPDX-License-Identifier: Apache-2.0
// A targets role with threshold 2, which the notary CLI cannot create (notary.MinThreshold = 1):
// root and targets are written and signed here, uploaded to the REAL notary-server (which
// validates them and signs snapshot and timestamp), then verified end to end (notes §1.3).

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { canonicalize } from '../../src/core/crypto/canonical-json.js';
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

const GUN = 'localhost:5000/threshold/app';
const V1 = 'e5'.repeat(32);

interface Envelope {
  signed: Record<string, unknown> & { version: number };
  signatures: { keyid: string; method: string; sig: string }[];
}

let server: NotaryServerHandle;
let cli: NotaryCli;
let pin: RootCert;
let now: Date;
let uploadRejection: string;
const pool = new DispatcherPool();

/** notary's ecdsa signature: raw r‖s over SHA-256 of the canonical `signed` bytes (notes §3.2). */
function signed(
  doc: Envelope['signed'],
  signers: readonly { id: string; key: KeyObject }[],
): string {
  const msg = canonicalize(doc);
  const signatures = signers.map((s) => ({
    keyid: s.id,
    method: 'ecdsa',
    sig: sign('sha256', msg, { key: s.key, dsaEncoding: 'ieee-p1363' }).toString('base64'),
  }));
  // Go json.Marshal order (signed, then signatures; keyid, method, sig): the server hashes its own re-marshal (pitfall 4).
  return `{"signed":${msg.toString('utf8')},"signatures":${JSON.stringify(signatures)}}`;
}

async function current(role: string): Promise<Envelope> {
  const res = await fetch(`${server.url}/v2/${GUN}/_trust/tuf/${role}.json`);
  return (await res.json()) as Envelope;
}

async function upload(files: Record<string, string>): Promise<{ status: number; body: string }> {
  const form = new FormData();
  for (const [role, body] of Object.entries(files)) form.append('files', new Blob([body]), role);
  const res = await fetch(`${server.url}/v2/${GUN}/_trust/tuf/`, { method: 'POST', body: form });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  server = await startNotaryServer();
  cli = await NotaryCli.create({ server: server.url });
  await cli.init(GUN);
  // A server-managed snapshot lets the server re-sign snapshot and timestamp after our upload.
  await cli.rotate(GUN, 'snapshot', { serverManaged: true });
  pin = await cli.servedRootCert(GUN);
  const rootKey = await cli.privateKey('root');
  const targetsKey1 = await cli.privateKey('targets', GUN);

  const root = await current('root');
  const roles = root.signed.roles as Record<string, { keyids: string[]; threshold: number }>;
  const keys = root.signed.keys as Record<string, unknown>;
  const [targetsKeyId1] = roles.targets!.keyids;
  const second = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicB64 = second.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const targetsKeyId2 = createHash('sha256')
    .update(canonicalize({ keytype: 'ecdsa', keyval: { private: null, public: publicB64 } }))
    .digest('hex');
  keys[targetsKeyId2] = { keytype: 'ecdsa', keyval: { private: null, public: publicB64 } };
  roles.targets = { keyids: [targetsKeyId1!, targetsKeyId2], threshold: 2 };
  root.signed.version += 1;
  const newRoot = signed(root.signed, [{ id: pin.keyId, key: rootKey.key }]);

  const targets = await current('targets');
  targets.signed.targets = {
    v1: { hashes: { sha256: Buffer.from(V1, 'hex').toString('base64') }, length: 321 },
  };
  targets.signed.version += 1;
  const signers = [
    { id: targetsKeyId1!, key: targetsKey1.key },
    { id: targetsKeyId2, key: second.privateKey },
  ];
  // The real server must refuse targets signed by only one of the two keys (notes §1.3) ...
  const rejected = await upload({
    root: newRoot,
    targets: signed(targets.signed, signers.slice(0, 1)),
  });
  uploadRejection = `${rejected.status} ${rejected.body}`;
  // ... and accept both signatures.
  const accepted = await upload({ root: newRoot, targets: signed(targets.signed, signers) });
  if (accepted.status !== 200)
    throw new Error(`upload rejected: ${accepted.status} ${accepted.body}`);
  now = new Date();
});

afterAll(async () => {
  await pool.close();
  await server?.stop();
  await cli?.cleanup();
});

describe('Notary v1 targets threshold 2 against a real notary-server', () => {
  describe('when the root sets a targets threshold of 2', () => {
    it('is enforced by the real server as well (control)', () => {
      expect(uploadRejection).toMatch(/^400 .*threshold/);
    });

    it('verifies the tag with both signatures counted', async () => {
      const ev = new NotaryEvidence({ metadata: new NotaryClient({ dispatchers: pool }) });
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }));
      const { outcome, repo } = await verifyImage(ev, policy, `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({ ok: true, digest: `sha256:${V1}` });
      expect(repo?.roles.get('targets')).toMatchObject({ threshold: 2 });
      expect(repo?.roles.get('targets')?.validKeyIds).toHaveLength(2);
      expect(repo?.rootVersion).toBe(3);
    });

    it('denies with THRESHOLD_NOT_MET when a policy asks for 3 signatures on targets', async () => {
      const ev = new NotaryEvidence({ metadata: new NotaryClient({ dispatchers: pool }) });
      const policy = notaryPolicy(notarySource(server.url, { rootKeyIds: [pin.keyId] }), {
        thresholds: { targets: 3 },
      });
      const { outcome } = await verifyImage(ev, policy, `${GUN}:v1`, { now });
      expect(outcome).toMatchObject({
        ok: false,
        definite: true,
        reason: { code: 'THRESHOLD_NOT_MET' },
      });
    });
  });
});
