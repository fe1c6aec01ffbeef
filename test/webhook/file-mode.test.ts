// SPDX-License-Identifier: Apache-2.0
// `trustgate serve --policies DIR` end to end: the real serve composition over HTTPS, a REAL
// notary-server (behind the counting/tampering TUF proxy) and a REAL docker-registry (behind a
// counting proxy): every workload kind, tag moves, /mutate, single-flight, warm path, failures.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'undici';
import {
  reviewFor,
  workloadObject,
  type FixtureKind,
  type JsonObject,
} from '../../src/__fixtures__/admission/factory.js';
import { NotaryCli, startNotaryServer, type NotaryServerHandle } from '../support/notary.js';
import { pushImage, startRegistry, type RegistryHandle } from '../support/registry.js';
import { startTufProxy, tufPath, type TufProxy } from '../support/tuf-proxy.js';
import {
  notaryPolicyResource,
  podSpecOf,
  podSpecPath,
  pushAndSign,
  startCountingProxy,
  startWebhook,
  withImages,
  type CountingProxy,
  type SignedImage,
  type WebhookHandle,
} from '../support/webhook.js';

const POLICY = 'demo-releases';
/** One repository (GUN) per scenario, so no test sees another's cached state. */
const REPOS = ['app', 'moved', 'cold', 'drop', 'hang', 'slow'] as const;
type Repo = (typeof REPOS)[number];

const WORKLOAD_KINDS: readonly FixtureKind[] = [
  'pod',
  'deployment',
  'replicaset',
  'statefulset',
  'daemonset',
  'job',
  'cronjob',
  'replicationcontroller',
];

let notary: NotaryServerHandle;
let registry: RegistryHandle;
let tuf: TufProxy;
let regProxy: CountingProxy;
let cli: NotaryCli;
let dir: string;
const signed = {} as Record<Repo, SignedImage>;
/** Pushed to demo/app under a tag nobody signed. */
let unsignedRef: string;
/** Default config plus the mutating endpoint. */
let hook: WebhookHandle;
/** No tag→digest caching: every request asks the registry what the tag points at now. */
let uncachedTags: WebhookHandle;
/** failureAction: allow. */
let lenient: WebhookHandle;

const gun = (repo: Repo): string => `${regProxy.host}/demo/${repo}`;

function workload(kind: FixtureKind, image: string): JsonObject {
  return withImages(kind, workloadObject(kind), () => image);
}

/** Manifest requests for `demo/<repo>:<tag>` that reached the registry proxy. */
function manifestRequests(repo: Repo, tag: string): number {
  return regProxy.count((_m, p) => p === `/v2/demo/${repo}/manifests/${tag}`);
}

beforeAll(async () => {
  [notary, registry] = await Promise.all([startNotaryServer(), startRegistry()]);
  [tuf, regProxy] = await Promise.all([
    startTufProxy(notary.url),
    startCountingProxy(registry.url),
  ]);
  cli = await NotaryCli.create({ server: notary.url });
  dir = await mkdtemp(join(tmpdir(), 'trustgate-webhook-files-'));
  const keyIds: string[] = [];
  for (const repo of REPOS) {
    await cli.init(gun(repo));
    keyIds.push((await cli.rootCert(gun(repo))).keyId);
    signed[repo] = await pushAndSign(cli, {
      registryUrl: registry.url,
      refHost: regProxy.host,
      repo: `demo/${repo}`,
      tag: 'v1',
    });
  }
  await pushImage(registry.url, 'demo/app', 'unsigned');
  unsignedRef = `${regProxy.host}/demo/app:unsigned`;
  await writeFile(
    join(dir, 'policy.json'),
    JSON.stringify(
      notaryPolicyResource({
        name: POLICY,
        images: [`${regProxy.host}/demo/*`],
        server: tuf.url,
        rootKeys: keyIds,
      }),
    ),
  );
  [hook, uncachedTags, lenient] = await Promise.all([
    startWebhook({ policiesDir: dir, config: { mutate: true } }),
    startWebhook({ policiesDir: dir, config: { cache: { tagTtlSeconds: 0 } } }),
    startWebhook({ policiesDir: dir, config: { failureAction: 'allow' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([hook?.stop(), uncachedTags?.stop(), lenient?.stop()]);
  await Promise.all([tuf?.close(), regProxy?.close()]);
  await Promise.all([notary?.stop(), registry?.stop()]);
  await cli?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('trustgate serve --policies DIR', () => {
  describe('when a workload of any kind runs the signed tag', () => {
    it.each(WORKLOAD_KINDS)('allows the %s', async (kind) => {
      const answer = await hook.review(
        '/validate',
        reviewFor(kind, workload(kind, signed.app.ref)),
      );
      expect(answer).toMatchObject({ allowed: true });
      expect(answer.warnings ?? []).toEqual([]);
    });

    it('allows a signed ephemeral container added through pods/ephemeralcontainers', async () => {
      const pod = withImages('pod-full', workloadObject('pod-full'), () => signed.app.ref);
      const review = reviewFor('pod-full', pod, {
        operation: 'UPDATE',
        subResource: 'ephemeralcontainers',
      });
      expect(await hook.review('/validate', review)).toMatchObject({ allowed: true });
    });
  });

  describe('when a workload of any kind runs an unsigned tag', () => {
    it.each(WORKLOAD_KINDS)(
      'denies the %s with 403 naming image, field path, policy and TAG_NOT_SIGNED',
      async (kind) => {
        const answer = await hook.review('/validate', reviewFor(kind, workload(kind, unsignedRef)));
        expect(answer.allowed).toBe(false);
        expect(answer.status?.code).toBe(403);
        const message = answer.status?.message ?? '';
        expect(message).toContain(unsignedRef);
        expect(message).toContain(`${podSpecPath(kind)}.containers[0].image`);
        expect(message).toContain(`ClusterTrustPolicy/${POLICY}`);
        expect(message).toContain('TAG_NOT_SIGNED');
      },
    );

    it('denies an unsigned ephemeral container naming spec.ephemeralContainers[0].image', async () => {
      const pod = withImages('pod-full', workloadObject('pod-full'), (list) =>
        list === 'ephemeralContainers' ? unsignedRef : signed.app.ref,
      );
      const review = reviewFor('pod-full', pod, {
        operation: 'UPDATE',
        subResource: 'ephemeralcontainers',
      });
      const answer = await hook.review('/validate', review);
      expect(answer.allowed).toBe(false);
      const lines = (answer.status?.message ?? '').split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('spec.ephemeralContainers[0].image');
      expect(lines[0]).toContain('TAG_NOT_SIGNED');
    });
  });

  describe('when only the init container of a Deployment is unsigned', () => {
    it('denies naming spec.template.spec.initContainers[0].image and nothing else', async () => {
      const deployment = workload('deployment', signed.app.ref);
      podSpecOf('deployment', deployment)['initContainers'] = [
        { name: 'migrate', image: unsignedRef },
      ];
      const answer = await hook.review('/validate', reviewFor('deployment', deployment));
      expect(answer.allowed).toBe(false);
      const lines = (answer.status?.message ?? '').split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('spec.template.spec.initContainers[0].image');
      expect(lines[0]).toContain(unsignedRef);
      expect(lines[0]).toContain('TAG_NOT_SIGNED');
    });
  });

  describe('when the request is a dry run', () => {
    it('evaluates it like any other request', async () => {
      const denied = await hook.review(
        '/validate',
        reviewFor('pod', workload('pod', unsignedRef), { dryRun: true }),
      );
      expect(denied).toMatchObject({ allowed: false, status: { code: 403 } });
      expect(denied.status?.message).toContain('TAG_NOT_SIGNED');
      const allowed = await hook.review(
        '/validate',
        reviewFor('pod', workload('pod', signed.app.ref), { dryRun: true }),
      );
      expect(allowed.allowed).toBe(true);
    });
  });

  describe('when the signed tag is moved to another image in the registry', () => {
    it('denies with DIGEST_MISMATCH naming the served and the signed digest', async () => {
      const review = (): JsonObject => reviewFor('pod', workload('pod', signed.moved.ref));
      expect(await uncachedTags.review('/validate', review())).toMatchObject({ allowed: true });

      const other = await pushImage(registry.url, 'demo/moved', 'v1');
      expect(other.digest).not.toBe(signed.moved.digest);
      const answer = await uncachedTags.review('/validate', review());
      expect(answer.allowed).toBe(false);
      const message = answer.status?.message ?? '';
      expect(message).toContain('DIGEST_MISMATCH');
      expect(message).toContain(other.digest);
      expect(message).toContain(signed.moved.digest);
    });
  });

  describe('when /mutate is enabled', () => {
    it('pins the signed tag to name:tag@sha256:<signed digest>', async () => {
      const answer = await hook.review(
        '/mutate',
        reviewFor('deployment', workload('deployment', signed.app.ref)),
      );
      expect(answer).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
      const patch = JSON.parse(
        Buffer.from(answer.patch ?? '', 'base64').toString('utf8'),
      ) as unknown;
      const pinned = `${signed.app.ref}@${signed.app.digest}`;
      expect(patch).toEqual([
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: pinned },
        { op: 'replace', path: '/spec/template/spec/containers/1/image', value: pinned },
      ]);
    });

    it('denies an unsigned tag without a patch', async () => {
      const answer = await hook.review('/mutate', reviewFor('pod', workload('pod', unsignedRef)));
      expect(answer.allowed).toBe(false);
      expect(answer.patch).toBeUndefined();
    });
  });

  describe('when 100 requests for a never-seen image arrive at once', () => {
    // targets/releases.json is asked for ahead on every cold load (this repository has none: 404).
    const files = [
      'root.json',
      'snapshot.json',
      'targets.json',
      'targets/releases.json',
      'timestamp.json',
    ];

    it('fetches each metadata file once and asks the registry for the tag once', async () => {
      tuf.resetCounts();
      regProxy.resetCounts();
      const answers = await Promise.all(
        Array.from({ length: 100 }, () =>
          hook.review('/validate', reviewFor('pod', workload('pod', signed.cold.ref))),
        ),
      );
      expect(answers.filter((a) => a.allowed)).toHaveLength(100);
      // snapshot and targets are fetched by hash (consistent snapshots): name them by role.
      const prefix = tufPath(gun('cold'), '');
      const fetched = [...tuf.counts()].map(([path, n]) => [
        path.slice(prefix.length).replace(/\.[0-9a-f]{64}\.json$/, '.json'),
        n,
      ]);
      expect(fetched.sort()).toEqual(files.map((f) => [f, 1]).sort());
      expect(manifestRequests('cold', 'v1')).toBe(1);
    });

    it('answers a repeated request from the cache without any upstream call', async () => {
      const review = (): JsonObject => reviewFor('pod', workload('pod', signed.cold.ref));
      expect(await hook.review('/validate', review())).toMatchObject({ allowed: true });
      tuf.resetCounts();
      regProxy.resetCounts();
      expect(await hook.review('/validate', review())).toMatchObject({ allowed: true });
      expect(tuf.requests()).toEqual([]);
      expect(regProxy.requests()).toEqual([]);
    });
  });

  describe('when the notary server drops the connection mid-response', () => {
    it('denies with TRUST_SOURCE_UNAVAILABLE under the default failureAction deny', async () => {
      const remove = tuf.on(tufPath(gun('drop'), 'timestamp.json'), { kind: 'drop' });
      try {
        const answer = await hook.review(
          '/validate',
          reviewFor('pod', workload('pod', signed.drop.ref)),
        );
        expect(answer).toMatchObject({ allowed: false, status: { code: 403 } });
        expect(answer.status?.message).toContain('TRUST_SOURCE_UNAVAILABLE');
        expect(answer.status?.message).toContain(signed.drop.ref);
      } finally {
        remove();
      }
    });

    it('allows with a warning under failureAction allow', async () => {
      const remove = tuf.on(tufPath(gun('drop'), 'timestamp.json'), { kind: 'drop' });
      try {
        const answer = await lenient.review(
          '/validate',
          reviewFor('pod', workload('pod', signed.drop.ref)),
        );
        expect(answer.allowed).toBe(true);
        expect(answer.warnings?.join('\n')).toContain('TRUST_SOURCE_UNAVAILABLE');
      } finally {
        remove();
      }
    });
  });

  describe('when the notary server hangs and the apiserver allows 2s', () => {
    it('answers in time with a denial for TIMEOUT or TRUST_SOURCE_UNAVAILABLE', async () => {
      const remove = tuf.on(tufPath(gun('hang'), 'timestamp.json'), { kind: 'hang' });
      try {
        const answer = await hook.review(
          '/validate',
          reviewFor('pod', workload('pod', signed.hang.ref)),
          '?timeout=2s',
        );
        expect(answer).toMatchObject({ allowed: false, status: { code: 403 } });
        expect(answer.status?.message).toMatch(/\b(TIMEOUT|TRUST_SOURCE_UNAVAILABLE)\b/);
      } finally {
        remove();
      }
    });
  });

  describe('/validate-policy', () => {
    function policyReview(object: JsonObject): JsonObject {
      const gvk = { group: 'trustgate.dev', version: 'v1alpha1', kind: 'ClusterTrustPolicy' };
      const gvr = { group: 'trustgate.dev', version: 'v1alpha1', resource: 'clustertrustpolicies' };
      return {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: {
          uid: '11111111-2222-4333-8444-555555555555',
          kind: gvk,
          resource: gvr,
          requestKind: gvk,
          requestResource: gvr,
          name: 'broken',
          operation: 'CREATE',
          userInfo: { username: 'admin' },
          object,
          oldObject: null,
          dryRun: false,
        },
      };
    }

    it('denies an invalid ClusterTrustPolicy listing every field path', async () => {
      const broken = notaryPolicyResource({
        name: 'broken',
        images: ['*/x'],
        server: tuf.url,
        rootKeys: ['not-a-key'],
      });
      delete (broken['spec'] as JsonObject)['images'];
      const answer = await hook.review('/validate-policy', policyReview(broken));
      expect(answer.allowed).toBe(false);
      const message = answer.status?.message ?? '';
      expect(message).toContain('spec.images');
      expect(message).toContain('spec.trustSources[0].notaryV1.rootKeys[0]');
    });

    it('allows a valid one', async () => {
      const fine = notaryPolicyResource({
        name: 'fine',
        images: ['registry.example.com/x/*'],
        server: tuf.url,
        rootKeys: ['ab'.repeat(32)],
      });
      expect(await hook.review('/validate-policy', policyReview(fine))).toMatchObject({
        allowed: true,
      });
    });
  });

  describe('/metrics', () => {
    const denied =
      /^trustgate_admission_requests_total\{decision="deny",code="TAG_NOT_SIGNED"\} (\d+)$/m;

    it('counts denials by decision and code without image or namespace labels', async () => {
      const count = async (): Promise<number> =>
        Number(denied.exec(await hook.metrics())?.[1] ?? 0);
      const before = await count();
      await hook.review('/validate', reviewFor('pod', workload('pod', unsignedRef)));
      expect(await count()).toBe(before + 1);
      const text = await hook.metrics();
      expect(text).not.toMatch(/\bimage="/);
      expect(text).not.toMatch(/\bnamespace="/);
      expect(text).not.toContain(regProxy.host);
    });
  });

  describe('when stopped (SIGTERM) while a request is in flight', () => {
    it('stops accepting, answers the in-flight request, then returns 0', async () => {
      const server = await startWebhook({ policiesDir: dir });
      const hold = regProxy.hold((_m, p) => p === '/v2/demo/slow/manifests/v1');
      try {
        const pending = server.review(
          '/validate',
          reviewFor('pod', workload('pod', signed.slow.ref)),
        );
        await hold.reached;
        server.abort();
        await server.waitForLog('shutting down: draining in-flight requests');
        const fresh = new Agent({ connect: { ca: server.certPem } });
        try {
          await expect(request(`${server.url}/healthz`, { dispatcher: fresh })).rejects.toThrow();
        } finally {
          await fresh.close();
        }
        hold.release();
        expect(await pending).toMatchObject({ allowed: true });
        expect(await server.exited).toBe(0);
        expect(server.logs().some((l) => l.msg === 'stopped')).toBe(true);
        // Audit lines are buffered and written every 10 ms (line-buffer.ts FLUSH_INTERVAL_MS)
        // and once more on the way out: the in-flight answer's line still made it.
        expect(server.logs().filter((l) => l['audit'] === true)).toHaveLength(1);
      } finally {
        hold.release();
        await server.stop();
      }
    });
  });
});
