// SPDX-License-Identifier: Apache-2.0
// Shared setup for the CLI integration tests: a real notary-server and docker-registry with one
// signed tag, one unsigned tag and one tag whose served digest differs from the signed one, plus
// policy files pinned to the repository's root key; and `main()` with captured streams.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { main } from '../../src/main.js';
import {
  NotaryCli,
  freePort,
  startNotaryServer,
  type NotaryServerHandle,
  type RootCert,
} from '../support/notary.js';
import {
  pushImage,
  startRegistry,
  type PushedImage,
  type RegistryHandle,
} from '../support/registry.js';

export interface CliWorld {
  readonly notary: NotaryServerHandle;
  readonly registry: RegistryHandle;
  readonly cli: NotaryCli;
  /** `127.0.0.1:<port>/cli/app`: registry name and notary GUN. */
  readonly gun: string;
  readonly pin: RootCert;
  /** Signed into `targets` and served by the registry under `v1`. */
  readonly v1: PushedImage;
  /** Pushed under `unsigned`, never signed. */
  readonly unsigned: PushedImage;
  /** `moved` is signed with `v1`'s digest, but the registry serves this image under it. */
  readonly moved: PushedImage;
  /** Scratch directory for policy and review files (removed by `stop`). */
  readonly dir: string;
  /** Policy pinned to the root key, trust source = the real notary-server. */
  readonly policyFile: string;
  /** Same policy, but the notary server URL points at a closed loopback port. */
  readonly unreachablePolicyFile: string;
  stop(): Promise<void>;
}

/** A ClusterTrustPolicy document for `images` with one Notary v1 source. */
export function policyYaml(name: string, images: string, server: string, rootKey: string): string {
  return [
    'apiVersion: trustgate.dev/v1alpha1',
    'kind: ClusterTrustPolicy',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    `  images: ['${images}']`,
    '  trustSources:',
    '    - name: dct',
    '      notaryV1:',
    `        server: ${server}`,
    `        rootKeys: ['${rootKey}']`,
    '',
  ].join('\n');
}

/** Start both servers, sign `v1` and `moved`, and write the policy files. */
export async function startCliWorld(): Promise<CliWorld> {
  const [notary, registry, dir] = await Promise.all([
    startNotaryServer(),
    startRegistry(),
    mkdtemp(join(tmpdir(), 'trustgate-cli-')),
  ]);
  const cli = await NotaryCli.create({ server: notary.url });
  try {
    const repo = 'cli/app';
    const gun = `${registry.host}/${repo}`;
    const [v1, unsigned, moved] = await Promise.all([
      pushImage(registry.url, repo, 'v1'),
      pushImage(registry.url, repo, 'unsigned'),
      pushImage(registry.url, repo, 'moved'),
    ]);
    await cli.init(gun);
    await cli.addHash(gun, 'v1', v1.size, v1.digest.slice('sha256:'.length), [], {
      publish: false,
    });
    await cli.addHash(gun, 'moved', v1.size, v1.digest.slice('sha256:'.length));
    const pin = await cli.rootCert(gun);
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(
      policyFile,
      policyYaml('cli-test', `${registry.host}/cli/*`, notary.url, pin.keyId),
    );
    const unreachablePolicyFile = join(dir, 'unreachable.yaml');
    const closed = await freePort();
    await writeFile(
      unreachablePolicyFile,
      policyYaml(
        'cli-unreachable',
        `${registry.host}/cli/*`,
        `http://127.0.0.1:${closed}`,
        pin.keyId,
      ),
    );
    return {
      notary,
      registry,
      cli,
      gun,
      pin,
      v1,
      unsigned,
      moved,
      dir,
      policyFile,
      unreachablePolicyFile,
      async stop(): Promise<void> {
        await Promise.allSettled([notary.stop(), registry.stop(), cli.cleanup()]);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.allSettled([notary.stop(), registry.stop(), cli.cleanup()]);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/**
 * `main(argv)` in-process with captured streams. HOME/DOCKER_CONFIG point at `home`, so no
 * credentials of the machine's user are read.
 */
export async function runCli(
  argv: readonly string[],
  home: string,
  stdin?: string | Buffer,
): Promise<CliRun> {
  const out = sink();
  const err = sink();
  const code = await main(
    argv,
    { HOME: home, DOCKER_CONFIG: join(home, '.docker') },
    {
      stdout: out.stream,
      stderr: err.stream,
      stdin: Readable.from(stdin === undefined ? [] : [Buffer.from(stdin)]),
      isTTY: false,
    },
  );
  return { code, stdout: out.text(), stderr: err.text() };
}
