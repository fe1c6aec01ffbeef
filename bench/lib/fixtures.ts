// SPDX-License-Identifier: Apache-2.0
// The benchmark's real upstreams: notary-server and docker-registry on free loopback ports,
// three tiny images pushed and signed with the real notary CLI into targets, targets/releases
// and targets/alice (the three targets roles `docker trust signer add` + `sign` produce).

import {
  NotaryCli,
  startNotaryServer,
  type NotaryServerHandle,
} from '../../test/support/notary.js';
import { pushImage, startRegistry, type RegistryHandle } from '../../test/support/registry.js';

export interface SignedImage {
  /** `127.0.0.1:<port>/bench/<name>:v1`. */
  readonly image: string;
  /** The GUN: `127.0.0.1:<port>/bench/<name>`. */
  readonly gun: string;
  readonly tag: string;
  readonly digest: string;
  /** x509 root key ID of the GUN (what a policy pins). */
  readonly rootKeyId: string;
}

export interface Upstreams {
  readonly notary: NotaryServerHandle;
  readonly registry: RegistryHandle;
  readonly images: readonly SignedImage[];
  /** Roles each image's tag is signed into. */
  readonly roles: readonly string[];
  /** Seconds spent creating the fixtures. */
  readonly setupSeconds: number;
  stop(): Promise<void>;
}

export const SIGNED_ROLES = ['targets', 'targets/releases', 'targets/alice'] as const;

/**
 * Start notary-server and docker-registry, push `names` as tiny images tagged `v1`, and sign
 * each tag into {@link SIGNED_ROLES} with the real notary CLI. Everything stops on failure.
 */
export async function startUpstreams(names: readonly string[]): Promise<Upstreams> {
  const started = performance.now();
  const [notary, registry] = await Promise.all([startNotaryServer(), startRegistry()]);
  let cli: NotaryCli | undefined;
  try {
    cli = await NotaryCli.create({ server: notary.url });
    const releases = await cli.makeKeyPair('releases');
    const alice = await cli.makeKeyPair('alice');
    await cli.keyImport(releases.keyPath, 'targets/releases');
    await cli.keyImport(alice.keyPath, 'targets/alice');
    const images: SignedImage[] = [];
    // Sequential: the CLI's trust dir (root key creation, changelists) is not safe to share concurrently.
    for (const name of names) {
      const repo = `bench/${name}`;
      const gun = `${registry.host}/${repo}`;
      const pushed = await pushImage(registry.url, repo, 'v1', { seed: name });
      await cli.init(gun);
      await cli.delegationAdd(gun, 'targets/releases', releases.certPath, 'all', {
        publish: false,
      });
      await cli.delegationAdd(gun, 'targets/alice', alice.certPath, 'all', { publish: false });
      await cli.addHash(gun, 'v1', pushed.size, pushed.digest.slice('sha256:'.length), [
        ...SIGNED_ROLES,
      ]);
      const pin = await cli.rootCert(gun);
      images.push({
        image: `${gun}:v1`,
        gun,
        tag: 'v1',
        digest: pushed.digest,
        rootKeyId: pin.keyId,
      });
    }
    const cleanup = cli;
    return {
      notary,
      registry,
      images,
      roles: SIGNED_ROLES,
      setupSeconds: (performance.now() - started) / 1000,
      async stop() {
        await Promise.allSettled([notary.stop(), registry.stop(), cleanup.cleanup()]);
      },
    };
  } catch (err) {
    await Promise.allSettled([notary.stop(), registry.stop(), cli?.cleanup()]);
    throw err;
  }
}
