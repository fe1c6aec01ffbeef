// SPDX-License-Identifier: Apache-2.0
// Outside Notary v1 vectors (notary, connaisseur, kolide) through NotaryEvidence + a fake
// server, with the expected outcomes of shared/vectors/notary-v1/README.md §5a.

import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { VerificationError, ConfigError } from '../../src/core/errors.js';
import { resolveTag } from '../../src/core/notary/resolve.js';
import { parseEnvelope } from '../../src/core/notary/metadata.js';
import { TrustedSet } from '../../src/core/notary/trusted-set.js';
import type { VerifiedRepository } from '../../src/core/notary/types.js';
import type { CompiledNotaryV1Source } from '../../src/core/policy/types.js';
import { parsePinnedKey } from '../../src/core/crypto/keys.js';
import { NotaryEvidence } from '../../src/verify/notary-evidence.js';
import {
  compact,
  notarySource,
  readVector,
  CONNAISSEUR_DIR,
  connaisseurYamlKey,
  serve,
  serveSet,
  spkiPem,
} from '../../src/__fixtures__/builders/notary-vectors.js';
import { FakeNotaryServer } from '../../src/__fixtures__/builders/tuf-repo.js';

const deadline = { signal: new AbortController().signal, expiresAt: Number.MAX_SAFE_INTEGER };
const A = 'sha256:a154797b8300165956ee1f16d98f3a1426301c1168f0462c73ce9bc03361cabf';
const B = 'sha256:799c0fa8aa4c9fbff5a99aef1b4b5c3abb9c2f34134345005982fad3489893c7';
const TR5K = spkiPem(
  'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtR5kwrDK22SyCu7WMF8tCjVgeORAS2PWacRcBN/VQdVK4PVk1w4pMWlz9AHQthDGl+W2k3elHkPbR+gNkK2PCA==',
);
const CONN = CONNAISSEUR_DIR;
const TD = `${CONN}/trust_data`;
const PY = 'connaisseur-py/tests/data/trust_data';
const KOLIDE = 'kolide-updater/tuf/testdata';
const ROOT_PUB = readVector(`${TD}/keys/root.pub`).toString();

/** Load from a fresh fake server over `from`, or through an existing (stateful) NotaryEvidence. */
function load(
  from: Map<string, Uint8Array> | NotaryEvidence,
  source: CompiledNotaryV1Source,
  gun: string,
  now: string,
): Promise<VerifiedRepository> {
  const ev =
    from instanceof NotaryEvidence
      ? from
      : new NotaryEvidence({ metadata: new FakeNotaryServer(from) });
  return ev.load(source, gun, { deadline, now: new Date(now) });
}

function digestOf(repo: VerifiedRepository, tag: string): [string, number, string] | null {
  const hit = resolveTag(repo, tag);
  return hit ? [hit.target.digest, hit.target.length, hit.role] : null;
}

/** The root certificate's SPKI as a PEM pin (connaisseur pins the SPKI, vectors README §2). */
function rootSpkiPin(rel: string): string {
  const env = parseEnvelope(compact(readVector(rel)), 'Root', 'root');
  const id = env.signed.roles.root.keyIds[0]!;
  const pem = Buffer.from(env.signed.keys.get(id)!.publicValue, 'base64').toString();
  return new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

describe('Notary v1 outside vectors (README §5a)', () => {
  describe('when reading notaryproject/notary compatibility repos', () => {
    const n01 =
      'notary/fixtures/compatibility/notary0.1/tuf/docker.com/notary0.1/samplerepo/metadata';
    const n03 = 'notary/fixtures/compatibility/notary0.3/tuf/docker.com/notary0.3/tst/metadata';

    it('N1: notary0.1 verifies with the cert-id pin and resolves LICENSE', async () => {
      const pin = notarySource({
        keyIds: ['4ff57dc987163053a12c066f2dd36b1ae6037a92f5416d381fe311a3db1868d8'],
      });
      const repo = await load(
        serveSet(n01),
        pin,
        'docker.com/notary0.1/samplerepo',
        '2026-11-30T00:00:00Z',
      );
      expect(digestOf(repo, 'LICENSE')).toEqual([
        'sha256:9395bac6fccb26bcb55efb083d1b4b0fe72a1c25f959f056c016120b3bb56a62',
        11309,
        'targets',
      ]);
      expect(digestOf(repo, '.gitignore')).toBeNull();
    });

    it('N1: the trusted certificate file pins it by fingerprint too', async () => {
      const crt = readVector(
        'notary/fixtures/compatibility/notary0.1/trusted_certificates/docker.com/notary0.1/samplerepo/4ff57dc987163053a12c066f2dd36b1ae6037a92f5416d381fe311a3db1868d8.crt',
      ).toString();
      const repo = await load(
        serveSet(n01),
        notarySource({ pems: [crt] }),
        'docker.com/notary0.1/samplerepo',
        '2026-11-30T00:00:00Z',
      );
      expect(repo.rootVersion).toBe(1);
    });

    it('N2: notary0.3 verifies at 2020-01-01 with an RSA-PSS releases delegation', async () => {
      const repo = await load(
        serveSet(n03),
        notarySource({ tofu: true }),
        'docker.com/notary0.3/tst',
        '2020-01-01T00:00:00Z',
      );
      const empty = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
      expect(digestOf(repo, 'hello')).toEqual([empty, 0, 'targets/releases']);
      expect(digestOf(repo, 'LICENSE')).toEqual([
        'sha256:9395bac6fccb26bcb55efb083d1b4b0fe72a1c25f959f056c016120b3bb56a62',
        11309,
        'targets',
      ]);
      expect(digestOf(repo, 'change')).toEqual([empty, 0, 'targets']);
      expect(digestOf(repo, 'MAINTAINERS')).toBeNull();
    });

    it('N3: notary0.3 fails today because its root certificate expired', async () => {
      await expect(
        load(
          serveSet(n03),
          notarySource({ tofu: true }),
          'docker.com/notary0.3/tst',
          '2026-11-30T00:00:00Z',
        ),
      ).rejects.toThrowWithCode(VerificationError, 'ROOT_NOT_TRUSTED');
    });

    it('N4: notary0.3 under the GUN its README names fails the CN check', async () => {
      await expect(
        load(
          serveSet(n03),
          notarySource({ tofu: true }),
          'docker.com/notary0.3/samplerepo',
          '2020-01-01T00:00:00Z',
        ),
      ).rejects.toThrow(/does not match/);
    });
  });

  describe('when reading connaisseur Docker Hub-style sets', () => {
    it('C1: sample-image verifies with the tR5k pin', async () => {
      const repo = await load(
        serveSet(`${TD}/sample-image`),
        notarySource({ pems: [TR5K] }),
        'docker.io/phbelitz/sample-image',
        '2019-10-15T00:00:00Z',
      );
      expect(digestOf(repo, 'sign')).toEqual([A, 1994, 'targets']);
      expect(digestOf(repo, 'v1')).toEqual([B, 1994, 'targets']);
      expect(digestOf(repo, 'no_tag')).toBeNull();
    });

    it('C0: the served compact forms hash to the values connaisseur asserts', () => {
      const files = serveSet(`${TD}/sample-image`);
      const hashes = [...files.keys()]
        .filter((k) => /\.[0-9a-f]{64}\.json$/.test(k))
        .map((k) => k.split('.')[1]!.slice(0, 8));
      expect(hashes.sort()).toEqual(['76d25d66', 'aa5ae7b7', 'c9d08b57', 'e122a90e'].sort());
    });

    it('C2: sample-image today fails on the expired timestamp', async () => {
      await expect(
        load(
          serveSet(`${TD}/sample-image`),
          notarySource({ pems: [TR5K] }),
          'docker.io/phbelitz/sample-image',
          '2026-11-30T00:00:00Z',
        ),
      ).rejects.toThrowWithCode(VerificationError, 'METADATA_EXPIRED');
    });

    it('C3: a wrong pinned key does not trust the root', async () => {
      const wrong = connaisseurYamlKey('01_notaryv1.yaml', 'sse');
      await expect(
        load(
          serveSet(`${TD}/sample-image`),
          notarySource({ pems: [wrong] }),
          'docker.io/phbelitz/sample-image',
          '2019-10-15T00:00:00Z',
        ),
      ).rejects.toThrowWithCode(VerificationError, 'ROOT_NOT_TRUSTED');
    });

    it('C4: alice-image resolves test through targets/releases', async () => {
      const repo = await load(
        serveSet(`${TD}/alice-image`),
        notarySource({ pems: [TR5K] }),
        'docker.io/phbelitz/alice-image',
        '2019-10-15T00:00:00Z',
      );
      expect(digestOf(repo, 'test')).toEqual([
        'sha256:ac904c9b191d14faf54b7952f2650a4bb21c201bf34131388b851e8ce992a652',
        1993,
        'targets/releases',
      ]);
      expect(repo.roles.get('targets/releases')!.validKeyIds).toHaveLength(2);
      expect(digestOf(repo, 'missingtag')).toBeNull();
    });
  });

  describe('when reading connaisseur synthetic sets', () => {
    const never = `${TD}/never-expire-image`;
    const now = '2026-11-30T00:00:00Z';
    const gun = 'docker.io/library/never-expire-image';

    it('C5: never-expire-image verifies with the root.pub pin despite the stale root length', async () => {
      const repo = await load(serveSet(never), notarySource({ pems: [ROOT_PUB] }), gun, now);
      expect(digestOf(repo, 'sign')).toEqual([A, 1994, 'targets']);
      expect(digestOf(repo, 'v1')).toEqual([B, 1994, 'targets']);
    });

    it.each([gun, 'securesystems.de'])(
      'C6: TOFU refuses the CA root certificate for %s',
      async (g) => {
        await expect(load(serveSet(never), notarySource({ tofu: true }), g, now)).rejects.toThrow(
          /CA certificate/,
        );
      },
    );

    it('C7: an Ed25519 pin does not trust the root', async () => {
      await expect(
        load(
          serveSet(never),
          notarySource({ pems: [connaisseurYamlKey('10_unknown_keys.yaml', 'ed25519')] }),
          gun,
          now,
        ),
      ).rejects.toThrowWithCode(VerificationError, 'ROOT_NOT_TRUSTED');
    });

    it('C8: a bare base64 pin is a configuration error', () => {
      expect(() =>
        parsePinnedKey(connaisseurYamlKey('15_DER_key_format.yaml', 'default')),
      ).toThrowWithCode(ConfigError, 'INVALID_POLICY');
    });

    it.each([
      'never-expire-with-delegations-image',
      'never-expire-with-conflicting-delegations-image',
      'edge-case-image',
      'edge-case-err-image',
    ])('C9–C12: %s fails because targets is longer than the snapshot allows', async (set) => {
      await expect(
        load(serveSet(`${TD}/${set}`), notarySource({ pems: [ROOT_PUB] }), gun, now),
      ).rejects.toThrow(/targets: served more than the 523 bytes the snapshot allows/);
    });

    it('C13: err-image fails because root.json is a snapshot', async () => {
      await expect(
        load(serveSet(`${TD}/err-image`), notarySource({ pems: [ROOT_PUB] }), gun, now),
      ).rejects.toThrow(/expected Root, got "Snapshot"/);
    });

    it('C14: a root that is not JSON fails', async () => {
      await expect(
        load(
          serveSet(never, { root: `${TD}/err-image/invalid.json` }),
          notarySource({ pems: [ROOT_PUB] }),
          gun,
          now,
        ),
      ).rejects.toThrowWithCode(VerificationError, 'METADATA_INVALID');
    });

    it('C15: the 01 expired root fails as expired', async () => {
      await expect(
        load(
          serveSet(never, { root: `${TD}/01_expired_root.json` }),
          notarySource({ pems: [ROOT_PUB] }),
          gun,
          now,
        ),
      ).rejects.toThrowWithCode(VerificationError, 'METADATA_EXPIRED');
    });

    it('C16: the 02 targets fails its snapshot hash', async () => {
      await expect(
        load(
          serveSet(never, { targets: `${TD}/02_invalid_signature_targets.json` }),
          notarySource({ pems: [ROOT_PUB] }),
          gun,
          now,
        ),
      ).rejects.toThrow(/targets: (sha256 does not match|served more)/);
    });

    it('C17: the 03 snapshot fails its timestamp hash', async () => {
      await expect(
        load(
          serveSet(never, { snapshot: `${TD}/03_expired_snapshot.json` }),
          notarySource({ pems: [ROOT_PUB] }),
          gun,
          now,
        ),
      ).rejects.toThrow(/snapshot: (sha256 does not match|served)/);
    });

    it('C20: a root without signatures fails', async () => {
      await expect(
        load(
          serveSet(never, { root: `${TD}/06_no_signature_root.json` }),
          notarySource({ pems: [ROOT_PUB] }),
          gun,
          now,
        ),
      ).rejects.toThrow(/no valid signature/);
    });

    it('C21: a root also signed by a non-root key is trusted (the extra signature is ignored)', () => {
      const set = new TrustedSet({
        gun,
        anchor: notarySource({ pems: [ROOT_PUB, readVector(`${TD}/keys/targets.pub`).toString()] }),
        now: new Date(now),
      });
      expect(
        set.updateRoot(compact(readVector(`${TD}/07_root_multiple_signatures.json`))),
      ).toBeNull();
      expect(set.hasTrustedRoot).toBe(true);
    });
  });

  describe('when reading the connaisseur Python-tree history (docker.io/phbelitz/delegation)', () => {
    const gun = 'docker.io/phbelitz/delegation';
    const now = '2020-11-20T00:00:00Z';
    const pin = (): CompiledNotaryV1Source =>
      notarySource({ pems: [rootSpkiPin(`${PY}/bob-image/root.json`)] });

    it('the pin is the tkQuBJ key the README names', () => {
      expect(rootSpkiPin(`${PY}/bob-image/root.json`).replace(/\n/g, '')).toContain(
        'tkQuBJ/wL1MEDy',
      );
    });

    it('P1: bob resolves test from targets', async () => {
      const repo = await load(serveSet(`${PY}/bob-image`), pin(), gun, now);
      expect(digestOf(repo, 'test')).toEqual([
        'sha256:4e061bcd4bb5a4cb24a196df59d723d911741d5520f89e34df8a792d56bdee3e',
        528,
        'targets',
      ]);
    });

    it('P2: charlie resolves test from releases, shadowing targets', async () => {
      const repo = await load(serveSet(`${PY}/charlie-image`), pin(), gun, now);
      expect(digestOf(repo, 'test')).toEqual([
        'sha256:a647a0f9c82dc5f3e7c4bd6483b496a49d570b4fdb1feacbfd57e965d2a1d662',
        528,
        'targets/releases',
      ]);
      expect(digestOf(repo, 'test2')).toBeNull();
    });

    it('P3: dave resolves test from releases and keeps del1/del2', async () => {
      const repo = await load(serveSet(`${PY}/dave-image`), pin(), gun, now);
      expect(digestOf(repo, 'test')).toEqual([
        'sha256:2b7b506572e4f3b9de7524ff84287db88ed24b0cf9448a7b04ad0664ecdef71b',
        528,
        'targets/releases',
      ]);
      expect(resolveTag(repo, 'test', ['targets/del2'])!.target.digest).toBe(
        'sha256:a825e8e950dceb81c7d86f6d34e4e47307e98f35505d180d404e194742a28079',
      );
    });

    it('P4: eve fails because a delegation in the snapshot is missing', async () => {
      await expect(load(serveSet(`${PY}/eve-image`), pin(), gun, now)).rejects.toThrowWithCode(
        VerificationError,
        'NO_TRUST_DATA',
      );
    });

    it('P14: after dave, bob is a rollback; charlie then dave is not', async () => {
      const server = new FakeNotaryServer(serveSet(`${PY}/charlie-image`));
      const ev = new NotaryEvidence({ metadata: server });
      await load(ev, pin(), gun, now);
      server.files = serveSet(`${PY}/dave-image`);
      const dave = await load(ev, pin(), gun, now);
      expect(dave.timestampVersion).toBe(6);
      server.files = serveSet(`${PY}/bob-image`);
      await expect(load(ev, pin(), gun, now)).rejects.toThrowWithCode(
        VerificationError,
        'ROLLBACK_DETECTED',
      );
    });

    it('P5: sample2 resolves hai', async () => {
      const files = new Map<string, Uint8Array>();
      for (const r of ['root', 'timestamp', 'snapshot', 'targets'])
        serve(files, r, compact(readVector(`${PY}/sample2_${r}.json`)));
      const repo = await load(
        files,
        notarySource({ pems: [TR5K] }),
        'docker.io/phbelitz/sample-san-sama',
        '2020-04-15T00:00:00Z',
      );
      expect(digestOf(repo, 'hai')).toEqual([
        'sha256:9191919ca86a88f0d42ce2eada3c7c545b92be5ee7fb1f23a561e814dc78b8c2',
        1994,
        'targets',
      ]);
    });

    const sample = (over: Record<string, string> = {}): Map<string, Uint8Array> => {
      const files = new Map<string, Uint8Array>();
      for (const r of ['root', 'timestamp', 'snapshot', 'targets'])
        serve(files, r, compact(readVector(over[r] ?? `${PY}/sample_${r}.json`)));
      serve(files, 'targets/releases', compact(readVector(`${PY}/sample_releases.json`)));
      return files;
    };
    const sampleGun = 'docker.io/phbelitz/sample';

    it('P6: the partial sample set fails on targets/phbelitz missing', async () => {
      await expect(
        load(sample(), notarySource({ pems: [TR5K] }), sampleGun, '2020-01-20T00:00:00Z'),
      ).rejects.toThrow(/targets\/(phbelitz|chamsen) is listed in the snapshot/);
    });

    it('P7: the sample set today fails on the expired timestamp', async () => {
      await expect(
        load(sample(), notarySource({ pems: [TR5K] }), sampleGun, '2026-11-30T00:00:00Z'),
      ).rejects.toThrowWithCode(VerificationError, 'METADATA_EXPIRED');
    });

    it.each([
      ['P8', { root: `${PY}/wrong_signature.json` }, /no valid signature|not signed/],
      ['P9', { root: `${PY}/missing_keys_root.json` }, /signed\.keys: expected an object/],
      ['P10', { timestamp: `${PY}/wrong_time_timestamp.json` }, /not a valid time/],
      [
        'P11',
        { targets: `${PY}/redos_targets.json` },
        /(not a valid delegation|sha256 does not match|served more)/,
      ],
      [
        'P12',
        { targets: `${PY}/wrong_key_format.json` },
        /targets: (sha256 does not match|served more)/,
      ],
    ])('%s fails', async (_id, over, message) => {
      await expect(
        load(sample(over), notarySource({ pems: [TR5K] }), sampleGun, '2020-01-20T00:00:00Z'),
      ).rejects.toThrow(message);
    });
  });

  describe('when reading kolide/updater notary-server output', () => {
    const agent = `${KOLIDE}/kolide/agent/linux`;
    const clock = '2017-07-01T18:00:00Z';
    const versioned = (n: number, ts = n, snap = n): Map<string, Uint8Array> => {
      const files = new Map<string, Uint8Array>();
      serve(files, 'root', compact(readVector(`${agent}/root.${n}.json`)));
      serve(files, 'timestamp', compact(readVector(`${agent}/timestamp.${ts}.json`)));
      serve(files, 'snapshot', compact(readVector(`${agent}/snapshot.${snap}.json`)));
      serve(files, 'targets', compact(readVector(`${agent}/targets.${snap}.json`)));
      return files;
    };

    it('K1: data/ fails because targets is longer than the snapshot allows', async () => {
      await expect(
        load(
          serveSet(`${KOLIDE}/data`),
          notarySource({ tofu: true }),
          'kolide/agent',
          '2017-06-20T00:00:00Z',
        ),
      ).rejects.toThrow(/targets: served more than the 727 bytes/);
    });

    it('K2: data/ at the kolide clock fails on the expired timestamp', async () => {
      await expect(
        load(serveSet(`${KOLIDE}/data`), notarySource({ tofu: true }), 'kolide/agent', clock),
      ).rejects.toThrowWithCode(VerificationError, 'METADATA_EXPIRED');
    });

    it('K3: verify/ resolves bin/notary', async () => {
      const repo = await load(
        serveSet(`${agent}/verify`),
        notarySource({ tofu: true }),
        'kolide/agent/linux',
        '2017-06-20T00:00:00Z',
      );
      expect(digestOf(repo, 'bin/notary')).toEqual([
        'sha256:57df4ed4229869d89567074e6e23aa3b27551ab96be6cfe39a7d9cb8a156167e',
        9562228,
        'targets',
      ]);
    });

    it.each([0, 1, 2])('K4.%i: agent/linux verifies and its target bodies match', async (n) => {
      const repo = await load(
        versioned(n),
        notarySource({ tofu: true }),
        'kolide/agent/linux',
        clock,
      );
      for (const i of [0, 1]) {
        const body = readVector(`${agent}/target.${i}.${n}`);
        const t = repo.roles.get('targets')!.targets.get(`somedir/target.${i}`)!;
        expect(t.length).toBe(body.length);
        expect(t.sha256).toBe(
          (await import('node:crypto')).createHash('sha256').update(body).digest('hex'),
        );
      }
    });

    it.each([3, 4])('K4.%i: greeter/darwin verifies', async (n) => {
      const repo = await load(
        versioned(n),
        notarySource({ tofu: true }),
        'kolide/greeter/darwin',
        clock,
      );
      expect(digestOf(repo, 'latest/target')).toEqual([
        'sha256:add5c907f238dee80b1ad7d0305291944ab76ff86b4b476e3c3b7dfccdadcec7',
        1357,
        'targets',
      ]);
    });

    it('K5: greeter data under the agent GUN fails the CN check', async () => {
      await expect(
        load(versioned(3), notarySource({ tofu: true }), 'kolide/agent/linux', clock),
      ).rejects.toThrow(/CN kolide\/greeter\/darwin does not match/);
    });

    it('K6: root.1 → root.2 and root.3 → root.4 rotations are followed', async () => {
      for (const [from, to, gun] of [
        [1, 2, 'kolide/agent/linux'],
        [3, 4, 'kolide/greeter/darwin'],
      ] as const) {
        const server = new FakeNotaryServer(versioned(from));
        const ev = new NotaryEvidence({ metadata: server });
        await load(ev, notarySource({ tofu: true }), gun, clock);
        server.files = versioned(to);
        server.files.set('2.root.json', compact(readVector(`${agent}/root.${to}.json`)));
        const repo = await load(ev, notarySource({ tofu: true }), gun, clock);
        expect(repo.rootVersion).toBe(2);
      }
    });

    it('K6: root.2 → root.3 is a rollback', async () => {
      const server = new FakeNotaryServer(versioned(2));
      const ev = new NotaryEvidence({ metadata: server });
      await load(ev, notarySource({ tofu: true }), 'kolide/agent/linux', clock);
      server.files = versioned(3);
      await expect(
        load(ev, notarySource({ tofu: true }), 'kolide/agent/linux', clock),
      ).rejects.toThrowWithCode(VerificationError, 'ROLLBACK_DETECTED');
    });

    it('K6b: timestamp.2 then timestamp.1 is a rollback', async () => {
      const server = new FakeNotaryServer(versioned(2));
      const ev = new NotaryEvidence({ metadata: server });
      await load(ev, notarySource({ tofu: true }), 'kolide/agent/linux', clock);
      server.files = versioned(2, 1, 1);
      await expect(
        load(ev, notarySource({ tofu: true }), 'kolide/agent/linux', clock),
      ).rejects.toThrowWithCode(VerificationError, 'ROLLBACK_DETECTED');
    });

    it('K7: snapshot.0 is longer than timestamp.1 allows', async () => {
      await expect(
        load(versioned(0, 1, 0), notarySource({ tofu: true }), 'kolide/agent/linux', clock),
      ).rejects.toThrow(/snapshot: served more than the 687 bytes/);
    });

    it('K7b: snapshot.1 does not match timestamp.2', async () => {
      await expect(
        load(versioned(1, 2, 1), notarySource({ tofu: true }), 'kolide/agent/linux', clock),
      ).rejects.toThrow(/snapshot: (sha256 does not match|served more)/);
    });

    it('K8: timestamp.3 is not signed by root v2’s new timestamp key', async () => {
      const files = versioned(4, 3, 3);
      await expect(
        load(files, notarySource({ tofu: true }), 'kolide/greeter/darwin', clock),
      ).rejects.toThrowWithCode(VerificationError, 'SIGNATURE_INVALID');
    });

    const delegation = (n: number): Map<string, Uint8Array> =>
      serveSet(`${KOLIDE}/delegation/${n}`);
    const edge0 = ['sha256:add5c907f238dee80b1ad7d0305291944ab76ff86b4b476e3c3b7dfccdadcec7', 1357];
    const edge2 = ['sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef', 1024];

    it.each([
      [0, edge0],
      [1, edge0],
      [2, edge2],
      [3, edge2],
    ] as const)(
      'K9.%i: nested delegations resolve edge/target from targets/role/foo',
      async (n, edge) => {
        const files = delegation(n);
        const server = new FakeNotaryServer(files);
        const repo = await new NotaryEvidence({ metadata: server }).load(
          notarySource({ tofu: true }),
          'kolide/greeter/darwin',
          { deadline, now: new Date(clock) },
        );
        expect(digestOf(repo, 'latest/target')).toEqual([
          'sha256:add5c907f238dee80b1ad7d0305291944ab76ff86b4b476e3c3b7dfccdadcec7',
          1357,
          'targets',
        ]);
        const hit = resolveTag(repo, 'edge/target', ['targets/role/foo'])!;
        expect([hit.target.digest, hit.target.length]).toEqual(edge);
        expect(
          server.requests.some(
            (r) => r.startsWith('targets/project') || r.startsWith('targets/publisher'),
          ),
        ).toBe(false);
      },
    );

    it('K6b: delegation/3 then delegation/0 is a rollback', async () => {
      const server = new FakeNotaryServer(delegation(3));
      const ev = new NotaryEvidence({ metadata: server });
      await load(ev, notarySource({ tofu: true }), 'kolide/greeter/darwin', clock);
      server.files = delegation(0);
      await expect(
        load(ev, notarySource({ tofu: true }), 'kolide/greeter/darwin', clock),
      ).rejects.toThrowWithCode(VerificationError, 'ROLLBACK_DETECTED');
    });
  });
});
