// SPDX-License-Identifier: Apache-2.0
// `trustgate serve` in cluster mode end to end: policies, namespaces, service accounts and pull
// secrets from the fake apiserver (list/watch), a REAL notary-server and a REAL htpasswd-protected
// docker-registry: readiness, policy edits, invalid CR status, and registry credentials (issue #5).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  reviewFor,
  workloadObject,
  type JsonObject,
} from '../../src/__fixtures__/admission/factory.js';
import {
  startFakeApiServer,
  waitFor,
  type FakeApiServer,
  type FakeObject,
} from '../support/fake-apiserver.js';
import { NotaryCli, startNotaryServer, type NotaryServerHandle } from '../support/notary.js';
import { startRegistry, type RegistryHandle } from '../support/registry.js';
import {
  notaryPolicyResource,
  podSpecOf,
  pushAndSign,
  startWebhook,
  withImages,
  writeKubeconfig,
  type SignedImage,
  type WebhookHandle,
} from '../support/webhook.js';

const CTP_PATH = '/apis/trustgate.dev/v1alpha1/clustertrustpolicies';
const NAMESPACE = 'team';
/** Repositories: pull secret on the Pod, pull secret on the ServiceAccount, policy edits. */
const REPOS = ['app', 'sa-app', 'web'] as const;
type Repo = (typeof REPOS)[number];

let fake: FakeApiServer;
let notary: NotaryServerHandle;
let registry: RegistryHandle;
let cli: NotaryCli;
let dir: string;
let hook: WebhookHandle;
const signed = {} as Record<Repo, SignedImage>;
const keyIds = {} as Record<Repo, string>;

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function pullSecret(name: string): FakeObject {
  const { username, password } = registry.admin!;
  const config = { auths: { [registry.host]: { auth: b64(`${username}:${password}`) } } };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: NAMESPACE },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(JSON.stringify(config)) },
  };
}

function policy(name: string, repos: readonly Repo[], spec: JsonObject = {}): FakeObject {
  return notaryPolicyResource({
    name,
    images: repos.map((r) => `${registry.host}/private/${r}`),
    server: notary.url,
    rootKeys: repos.map((r) => keyIds[r]),
    spec,
  }) as FakeObject;
}

function podReview(image: string, spec: JsonObject = {}): JsonObject {
  const pod = withImages('pod', workloadObject('pod'), () => image);
  Object.assign(podSpecOf('pod', pod), spec);
  return reviewFor('pod', pod, { namespace: NAMESPACE });
}

/** Let the policy informer list (the first test holds it back) and wait for `/readyz`. */
async function synced(): Promise<void> {
  fake.clearFailures();
  await waitFor(async () => (await hook.get('/readyz')).status === 200, '/readyz 200', {
    timeoutMs: 15_000,
    intervalMs: 50,
  });
}

beforeAll(async () => {
  [fake, notary, registry] = await Promise.all([
    startFakeApiServer(),
    startNotaryServer(),
    startRegistry({ mode: 'htpasswd' }),
  ]);
  cli = await NotaryCli.create({ server: notary.url });
  dir = await mkdtemp(join(tmpdir(), 'trustgate-webhook-cluster-'));
  for (const repo of REPOS) {
    const gun = `${registry.host}/private/${repo}`;
    await cli.init(gun);
    keyIds[repo] = (await cli.rootCert(gun)).keyId;
    signed[repo] = await pushAndSign(
      cli,
      { registryUrl: registry.url, refHost: registry.host, repo: `private/${repo}`, tag: 'v1' },
      { auth: registry.admin! },
    );
  }
  fake.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  fake.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'trustgate' } });
  fake.add(pullSecret('regcred'));
  fake.add(pullSecret('builder-pull'));
  fake.add({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'builder', namespace: NAMESPACE },
    imagePullSecrets: [{ name: 'builder-pull' }],
  });
  fake.add(policy('private-releases', ['app', 'sa-app']));
  fake.add(policy('web-rollout', ['web']));
  // Hold the policy list back so the first test sees the webhook before its informers synced.
  fake.injectFailure('GET', CTP_PATH, 500);
  const kubeconfig = await writeKubeconfig(dir, fake.url);
  hook = await startWebhook({ kubeconfig });
});

afterAll(async () => {
  await hook?.stop();
  await fake?.close();
  await Promise.all([notary?.stop(), registry?.stop()]);
  await cli?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('trustgate serve (cluster mode)', () => {
  describe('/readyz', () => {
    it('is 503 until the policy informers synced and 200 after', async () => {
      expect((await hook.get('/readyz')).status).toBe(503);
      expect((await hook.get('/healthz')).status).toBe(200);
      await synced();
      expect((await hook.get('/readyz')).status).toBe(200);
    });
  });

  describe('when the registry needs credentials (issue #5)', () => {
    it('denies a Pod without a pull secret, naming the refusing registry and the fix', async () => {
      await synced();
      const answer = await hook.review('/validate', podReview(signed.app.ref));
      expect(answer).toMatchObject({ allowed: false, status: { code: 403 } });
      const message = answer.status?.message ?? '';
      expect(message).toContain('TRUST_SOURCE_UNAVAILABLE');
      expect(message).toContain(`registry ${registry.host} refused access`);
      expect(message).toContain('imagePullSecret');
    });

    it('allows the same Pod with imagePullSecrets: [regcred]', async () => {
      await synced();
      const answer = await hook.review(
        '/validate',
        podReview(signed.app.ref, { imagePullSecrets: [{ name: 'regcred' }] }),
      );
      expect(answer).toMatchObject({ allowed: true });
    });

    it("uses the pull secrets of the Pod's ServiceAccount", async () => {
      await synced();
      const without = await hook.review('/validate', podReview(signed['sa-app'].ref));
      expect(without.allowed).toBe(false);
      expect(without.status?.message).toContain('TRUST_SOURCE_UNAVAILABLE');
      const withSa = await hook.review(
        '/validate',
        podReview(signed['sa-app'].ref, { serviceAccountName: 'builder' }),
      );
      expect(withSa).toMatchObject({ allowed: true });
    });
  });

  describe('when a ClusterTrustPolicy is modified', () => {
    it('applies the new mode to the next request (enforce → warn)', async () => {
      await synced();
      const unsigned = `${registry.host}/private/web:unsigned`;
      const denied = await hook.review('/validate', podReview(unsigned));
      expect(denied.allowed).toBe(false);
      expect(denied.status?.message).toContain('TAG_NOT_SIGNED');
      expect(denied.status?.message).toContain('ClusterTrustPolicy/web-rollout');

      fake.modify(policy('web-rollout', ['web'], { mode: 'warn' }));
      await waitFor(() => {
        const status = fake.get('ClusterTrustPolicy', 'web-rollout')?.['status'] as
          | { conditions?: { type: string; status: string; observedGeneration?: number }[] }
          | undefined;
        return status?.conditions?.some(
          (c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === 2,
        );
      }, 'web-rollout generation 2 in use');

      const warned = await hook.review('/validate', podReview(unsigned));
      expect(warned.allowed).toBe(true);
      expect(warned.warnings?.join('\n')).toContain('TAG_NOT_SIGNED');
    });
  });

  describe('when a ClusterTrustPolicy is invalid', () => {
    it('patches its status to Ready=False with the field path', async () => {
      await synced();
      const broken = notaryPolicyResource({
        name: 'broken',
        images: ['registry.example.com/x/*'],
        server: notary.url,
        rootKeys: ['not-a-key'],
      }) as FakeObject;
      fake.add(broken);
      const path = `${CTP_PATH}/broken/status`;
      const patch = await waitFor(
        () => fake.requestsTo('PATCH', path)[0],
        'status patch of the invalid policy',
      );
      expect(patch.contentType).toBe('application/merge-patch+json');
      const conditions = (patch.body as { status?: { conditions?: unknown[] } }).status?.conditions;
      expect(conditions).toEqual([
        expect.objectContaining({
          type: 'Ready',
          status: 'False',
          message: expect.stringContaining('spec.trustSources[0].notaryV1.rootKeys[0]'),
        }),
      ]);
    });
  });
});
