// SPDX-License-Identifier: Apache-2.0
// Pull-secret resolution, namespace labels, key-material reads and kubeconfig loading against the
// fake apiserver.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CoreV1Api } from '@kubernetes/client-node';
import { ConfigError } from '../../src/core/errors.js';
import {
  createKubeClients,
  currentNamespace,
  kubeConfigForServer,
  loadKubeConfig,
  type K8sLogger,
} from '../../src/k8s/client.js';
import { createApiKeyRefReader } from '../../src/k8s/key-material.js';
import { createNamespaceInformer, type NamespaceInformer } from '../../src/k8s/namespaces.js';
import { createPullSecretResolver } from '../../src/k8s/pull-secrets.js';
import { startFakeApiServer, waitFor, type FakeApiServer } from '../support/fake-apiserver.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const POD_CONFIG = JSON.stringify({
  auths: { 'pod.example.com': { auth: b64('pod:secret-pod-password') } },
});
const SA_AUTHS = { 'sa.example.com': { auth: b64('sa:secret-sa-password') } };

let fake: FakeApiServer;
let ns: NamespaceInformer | undefined;

beforeAll(async () => {
  fake = await startFakeApiServer();
  fake.add({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'pod-pull', namespace: 'app' },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': b64(POD_CONFIG) },
  });
  fake.add({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'sa-pull', namespace: 'app' },
    type: 'kubernetes.io/dockercfg',
    data: { '.dockercfg': b64(JSON.stringify(SA_AUTHS)) },
  });
  fake.add({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'builder', namespace: 'app' },
    imagePullSecrets: [{ name: 'sa-pull' }, { name: 'pod-pull' }],
  });
  fake.add({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'default', namespace: 'app' },
    imagePullSecrets: [{ name: 'sa-pull' }],
  });
});

afterAll(async () => {
  await ns?.stop();
  await fake.close();
});

function clockAt(iso: string) {
  return {
    t: new Date(iso),
    now() {
      return this.t;
    },
  };
}

describe('createPullSecretResolver', () => {
  const { core } = createKubeClientsLazy();

  describe('when the Pod and its ServiceAccount name pull secrets', () => {
    it('returns the Pod secrets first, then the ServiceAccount ones, each once, legacy wrapped', async () => {
      const resolve = createPullSecretResolver({
        coreApi: core(),
        cacheTtlMs: 30_000,
        clock: clockAt('2026-12-02T10:00:00Z'),
      });
      const configs = await resolve({
        namespace: 'app',
        serviceAccountName: 'builder',
        imagePullSecrets: ['pod-pull'],
      });
      expect(configs.map((c) => JSON.parse(c))).toEqual([
        JSON.parse(POD_CONFIG),
        { auths: SA_AUTHS },
      ]);
    });

    it("uses the 'default' ServiceAccount when none is named", async () => {
      const resolve = createPullSecretResolver({
        coreApi: core(),
        cacheTtlMs: 30_000,
        clock: clockAt('2026-12-02T10:00:00Z'),
      });
      const configs = await resolve({ namespace: 'app', imagePullSecrets: [] });
      expect(configs.map((c) => JSON.parse(c))).toEqual([{ auths: SA_AUTHS }]);
    });

    it('reports the duration of every API read, and none for a cached object', async () => {
      const reads: number[] = [];
      const resolve = createPullSecretResolver({
        coreApi: core(),
        cacheTtlMs: 30_000,
        clock: clockAt('2026-12-02T10:00:00Z'),
        onApiRead: (seconds) => reads.push(seconds),
      });
      const before = fake.requests.length;
      const req = {
        namespace: 'app',
        serviceAccountName: 'builder',
        imagePullSecrets: ['pod-pull'],
      };
      await resolve(req);
      const apiReads = fake.requests.length - before;
      expect(apiReads).toBeGreaterThan(0);
      expect(reads).toHaveLength(apiReads);
      expect(reads.every((s) => s >= 0)).toBe(true);
      await resolve(req);
      expect(reads).toHaveLength(apiReads);
    });

    it('consults no ServiceAccount when serviceAccountName is null (trustgate-wide secrets)', async () => {
      const resolve = createPullSecretResolver({
        coreApi: core(),
        cacheTtlMs: 30_000,
        clock: clockAt('2026-12-02T10:00:00Z'),
      });
      const before = fake.requests.length;
      const configs = await resolve({
        namespace: 'app',
        imagePullSecrets: ['pod-pull'],
        serviceAccountName: null,
      });
      expect(configs.map((c) => JSON.parse(c))).toEqual([JSON.parse(POD_CONFIG)]);
      const paths = fake.requests.slice(before).map((r) => r.path);
      expect(paths.some((p) => p.includes('/serviceaccounts/'))).toBe(false);
    });
  });

  describe('when a secret or the ServiceAccount is missing', () => {
    it('ignores them without a warning', async () => {
      const warnings: string[] = [];
      const logger: K8sLogger = {
        info: () => {},
        warn: (m) => warnings.push(m),
        error: (m) => warnings.push(m),
      };
      const resolve = createPullSecretResolver({
        coreApi: core(),
        cacheTtlMs: 30_000,
        clock: clockAt('2026-12-02T10:00:00Z'),
        logger,
      });
      const configs = await resolve({
        namespace: 'app',
        serviceAccountName: 'ghost',
        imagePullSecrets: ['missing', 'pod-pull'],
      });
      expect(configs).toEqual([POD_CONFIG]);
      expect(warnings).toEqual([]);
    });
  });

  describe('when reading a secret fails', () => {
    it('returns the others and logs a warning without secret contents', async () => {
      const logged: string[] = [];
      const logger: K8sLogger = {
        info: () => {},
        warn: (m, f) => logged.push(`${m} ${JSON.stringify(f)}`),
        error: (m, f) => logged.push(`${m} ${JSON.stringify(f)}`),
      };
      fake.injectFailure('GET', '/api/v1/namespaces/app/secrets/pod-pull', 403);
      try {
        const resolve = createPullSecretResolver({
          coreApi: core(),
          cacheTtlMs: 30_000,
          clock: clockAt('2026-12-02T10:00:00Z'),
          logger,
        });
        const configs = await resolve({
          namespace: 'app',
          serviceAccountName: 'builder',
          imagePullSecrets: ['pod-pull'],
        });
        expect(configs.map((c) => JSON.parse(c))).toEqual([{ auths: SA_AUTHS }]);
      } finally {
        fake.clearFailures();
      }
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('pod-pull');
      expect(logged[0]).toContain('HTTP 403');
      expect(logged.join()).not.toMatch(/password|c2Vj/);
    });
  });

  describe('when the API server does not answer a read', () => {
    /**
     * The fake apiserver's core client, except that reads of `hung` ("sa/<name>" or
     * "secret/<name>") never answer. Records every read.
     */
    function hangingCore(hung: string) {
      const real = core();
      const reads: string[] = [];
      const read = <T>(key: string, go: () => Promise<T>): Promise<T> => {
        reads.push(key);
        return key === hung ? new Promise<T>(() => {}) : go();
      };
      const api = {
        readNamespacedServiceAccount: (p: { namespace: string; name: string }) =>
          read(`sa/${p.name}`, () => real.readNamespacedServiceAccount(p)),
        readNamespacedSecret: (p: { namespace: string; name: string }) =>
          read(`secret/${p.name}`, () => real.readNamespacedSecret(p)),
      } as unknown as CoreV1Api;
      return { api, reads };
    }

    function recordingLogger() {
      const logged: string[] = [];
      const logger: K8sLogger = {
        info: () => {},
        warn: (m, f) => logged.push(`${m} ${JSON.stringify(f)}`),
        error: (m, f) => logged.push(`${m} ${JSON.stringify(f)}`),
      };
      return { logged, logger };
    }

    const req = { namespace: 'app', serviceAccountName: 'builder', imagePullSecrets: ['pod-pull'] };

    /** A resolver over an API server that never answers the read of `hung`, timing out at 50 ms. */
    function hangingResolver(hung: string) {
      const { api, reads } = hangingCore(hung);
      const { logged, logger } = recordingLogger();
      const durations: number[] = [];
      const resolve = createPullSecretResolver({
        coreApi: api,
        cacheTtlMs: 30_000,
        clock: clockAt('2026-12-02T10:00:00Z'),
        logger,
        readTimeoutMs: 50,
        onApiRead: (s) => durations.push(s),
      });
      return { resolve, reads, logged, durations };
    }

    it('gives up on a secret after readTimeoutMs, warns, and reads it again next time', async () => {
      const { resolve, reads, logged, durations } = hangingResolver('secret/pod-pull');

      const first = await resolve(req);
      expect(first.map((c) => JSON.parse(c))).toEqual([{ auths: SA_AUTHS }]);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('cannot read pull secret');
      expect(logged[0]).toContain('pod-pull');
      expect(logged[0]).toContain('timed out');
      expect([...reads].sort()).toEqual(['sa/builder', 'secret/pod-pull', 'secret/sa-pull']);
      expect(durations).toHaveLength(3);

      // Within the TTL: the hung read was not cached and is tried again; the answered ones are.
      const second = await resolve(req);
      expect(second.map((c) => JSON.parse(c))).toEqual([{ auths: SA_AUTHS }]);
      expect(reads.filter((r) => r === 'secret/pod-pull')).toHaveLength(2);
      expect(reads).toHaveLength(4);
      expect(durations).toHaveLength(4);
      expect(logged).toHaveLength(2);
    });

    it('gives up on the ServiceAccount after readTimeoutMs and reads it again next time', async () => {
      const { resolve, reads, logged } = hangingResolver('sa/builder');

      expect(await resolve(req)).toEqual([POD_CONFIG]);
      expect(logged).toHaveLength(1);
      expect(logged[0]).toContain('cannot read service account');
      expect(logged[0]).toContain('timed out');

      expect(await resolve(req)).toEqual([POD_CONFIG]);
      expect(reads.filter((r) => r === 'sa/builder')).toHaveLength(2);
      expect(reads.filter((r) => r === 'secret/pod-pull')).toHaveLength(1);
    });
  });

  describe('when asked again', () => {
    it('serves from the cache within the TTL and reads again after it', async () => {
      const clock = clockAt('2026-12-02T10:00:00Z');
      const resolve = createPullSecretResolver({ coreApi: core(), cacheTtlMs: 30_000, clock });
      const secretGets = () =>
        fake.requestsTo('GET', '/api/v1/namespaces/app/secrets/pod-pull').length;
      const saGets = () =>
        fake.requestsTo('GET', '/api/v1/namespaces/app/serviceaccounts/builder').length;
      const req = {
        namespace: 'app',
        serviceAccountName: 'builder',
        imagePullSecrets: ['pod-pull'],
      };
      const s0 = secretGets();
      const a0 = saGets();
      await Promise.all([resolve(req), resolve(req), resolve(req)]);
      expect([secretGets() - s0, saGets() - a0]).toEqual([1, 1]);
      clock.t = new Date('2026-12-02T10:00:29Z');
      await resolve(req);
      expect([secretGets() - s0, saGets() - a0]).toEqual([1, 1]);
      clock.t = new Date('2026-12-02T10:00:31Z');
      await resolve(req);
      expect([secretGets() - s0, saGets() - a0]).toEqual([2, 2]);
    });
  });
});

describe('NamespaceInformer', () => {
  describe('when namespaces exist and change', () => {
    it('serves their labels, follows updates and deletes', async () => {
      fake.add({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'prod', labels: { env: 'prod' } },
      });
      const { kc, core } = createKubeClients(kubeConfigForServer(fake.url));
      ns = createNamespaceInformer({ kc, core, backoff: { initialMs: 5, maxMs: 50 } });
      expect(ns.get('prod')).toBeUndefined();
      await ns.start();
      await waitFor(() => ns?.synced(), 'namespaces listed');
      expect(ns.get('prod')).toEqual({ name: 'prod', labels: { env: 'prod' } });
      expect(ns.get('unknown')).toBeUndefined();

      fake.modify({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'prod', labels: { env: 'prod', tier: 'gold' } },
      });
      await waitFor(() => ns?.get('prod')?.labels['tier'] === 'gold', 'label update');
      fake.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'dev' } });
      await waitFor(() => ns?.get('dev'), 'new namespace');
      expect(ns.get('dev')?.labels).toEqual({});
      fake.remove({ kind: 'Namespace', metadata: { name: 'prod' } });
      await waitFor(() => ns?.get('prod') === undefined, 'namespace deleted');
    });
  });
});

describe('createApiKeyRefReader', () => {
  it('reads ConfigMaps and Secrets and maps 404 to null', async () => {
    fake.add({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cas', namespace: 'tg' },
      data: { k: 'v' },
    });
    const reader = createApiKeyRefReader(createKubeClients(kubeConfigForServer(fake.url)).core);
    expect((await reader.readConfigMap('tg', 'cas'))?.data).toEqual({ k: 'v' });
    expect(await reader.readConfigMap('tg', 'none')).toBeNull();
    expect(await reader.readSecret('app', 'nope')).toBeNull();
    expect((await reader.readSecret('app', 'pod-pull'))?.data?.['.dockerconfigjson']).toBe(
      b64(POD_CONFIG),
    );
  });
});

describe('loadKubeConfig', () => {
  let dir: string;
  let path: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tg-kubeconfig-'));
    path = join(dir, 'config');
    await writeFile(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: c, cluster: { server: "${fake.url}", insecure-skip-tls-verify: true } }]`,
        'users: [{ name: u, user: { token: abc } }]',
        'contexts: [{ name: x, context: { cluster: c, user: u, namespace: trustgate-system } }]',
        'current-context: x',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('when given a kubeconfig file', () => {
    it('talks to the server it names, in the namespace it names', async () => {
      const kc = loadKubeConfig({ kubeconfigPath: path });
      expect(currentNamespace(kc)).toBe('trustgate-system');
      const { core } = createKubeClients(kc);
      const sa = await core.readNamespacedServiceAccount({ namespace: 'app', name: 'builder' });
      expect(sa.metadata?.name).toBe('builder');
    });
  });

  describe('when a context is named that does not exist', () => {
    it('throws ConfigError INVALID_CONFIG', () => {
      expect(() => loadKubeConfig({ kubeconfigPath: path, context: 'nope' })).toThrowWithCode(
        ConfigError,
        'INVALID_CONFIG',
      );
    });
  });

  describe('when the file does not exist', () => {
    it('throws ConfigError INVALID_CONFIG', () => {
      expect(() => loadKubeConfig({ kubeconfigPath: join(dir, 'absent') })).toThrowWithCode(
        ConfigError,
        'INVALID_CONFIG',
      );
    });
  });
});

/** Clients are built after beforeAll started the fake (its URL is known only then). */
function createKubeClientsLazy() {
  let core: ReturnType<typeof createKubeClients>['core'] | undefined;
  return {
    core: () => (core ??= createKubeClients(kubeConfigForServer(fake.url)).core),
  };
}
