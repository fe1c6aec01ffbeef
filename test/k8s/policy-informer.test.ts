// SPDX-License-Identifier: Apache-2.0
// PolicyInformer + PolicyStore + status writer + key material against the fake apiserver:
// sync/readiness, add/modify/delete, invalid CRs and their status, no status loop, reconnects, 410 re-list.

import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError, type FieldError } from '../../src/core/errors.js';
import type { CompiledPolicy, TrustPolicyResource } from '../../src/core/policy/types.js';
import { createKubeClients, kubeConfigForServer, type K8sLogger } from '../../src/k8s/client.js';
import {
  createApiKeyRefReader,
  type KeyMaterial,
  type KeyRefReader,
} from '../../src/k8s/key-material.js';
import {
  CLUSTER_TRUST_POLICIES_PATH,
  TRUST_POLICIES_PATH,
  createPolicyInformer,
  type PolicyInformer,
  type ValidatePolicyFn,
} from '../../src/k8s/policy-informer.js';
import { PolicyStore, type PolicyChange } from '../../src/k8s/policy-store.js';
import { createStatusWriter, type StatusCondition } from '../../src/k8s/status.js';
import {
  startFakeApiServer,
  waitFor,
  type FakeApiServer,
  type FakeObject,
} from '../support/fake-apiserver.js';

const T0 = new Date('2026-12-02T10:00:00Z');

// --- fakes for the injected core functions (the real ones are core/policy/validate.ts + compile.ts) ---

const fakeValidate: ValidatePolicyFn = (obj) => {
  const o = obj as { kind?: string; spec?: { images?: unknown } };
  const errors: FieldError[] = [];
  const images = o.spec?.images;
  if (!Array.isArray(images) || images.length === 0) {
    errors.push({ path: 'spec.images', message: 'must list at least one repository glob' });
  } else {
    images.forEach((img, i) => {
      if (typeof img !== 'string' || img.includes(' '))
        errors.push({ path: `spec.images[${i}]`, message: 'not a repository glob' });
    });
  }
  return errors.length > 0
    ? { ok: false, errors }
    : { ok: true, resource: obj as TrustPolicyResource };
};

/** Compiles to a minimal CompiledPolicy and remembers the material it was given. */
type CompileInput = { material: KeyMaterial; defaultNamespace: string };

function makeCompile(seen: Map<string, CompileInput>, calls: string[]) {
  return (resource: TrustPolicyResource, input: CompileInput): CompiledPolicy => {
    const { kind, metadata, spec } = resource;
    const id =
      kind === 'TrustPolicy'
        ? `TrustPolicy/${metadata.namespace}/${metadata.name}`
        : `ClusterTrustPolicy/${metadata.name}`;
    seen.set(id, input);
    calls.push(id);
    if (spec.images.includes('reject/at-compile')) {
      throw new ConfigError('INVALID_POLICY', 'bad key', {
        fieldErrors: [
          {
            path: 'spec.trustSources[0].notaryV1.rootKeys[1]',
            message: 'not PEM and not a 64-hex key ID',
          },
        ],
      });
    }
    return {
      id,
      kind,
      name: metadata.name,
      ...(metadata.namespace !== undefined ? { namespace: metadata.namespace } : {}),
      generation: `${metadata.uid}/${metadata.resourceVersion}`,
      mode: spec.mode ?? 'enforce',
      images: spec.images,
      imageMatchers: [],
      requireSignatures: spec.requireSignatures ?? true,
      sources: [],
      signers: [],
      thresholds: new Map(),
    };
  };
}

function ctp(name: string, images: string[], extra: Record<string, unknown> = {}): FakeObject {
  return {
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterTrustPolicy',
    metadata: { name },
    spec: { images, ...extra },
  };
}

function tp(namespace: string, name: string, images: string[]): FakeObject {
  return {
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'TrustPolicy',
    metadata: { name, namespace },
    spec: { images },
  };
}

// --- harness ---

interface Harness {
  fake: FakeApiServer;
  store: PolicyStore;
  informer: PolicyInformer;
  material: Map<string, CompileInput>;
  compiles: string[];
  clock: { t: Date; now(): Date };
  warnings: string[];
  stop(): Promise<void>;
}

const running: Harness[] = [];

async function startHarness(
  seed: (fake: FakeApiServer) => void = () => {},
  opts: { resyncIntervalMs?: number; wrapReader?: (r: KeyRefReader) => KeyRefReader } = {},
): Promise<Harness> {
  const fake = await startFakeApiServer();
  seed(fake);
  const { kc, custom, core } = createKubeClients(kubeConfigForServer(fake.url));
  const store = new PolicyStore();
  const material = new Map<string, CompileInput>();
  const compiles: string[] = [];
  const clock = {
    t: T0,
    now() {
      return this.t;
    },
  };
  const warnings: string[] = [];
  const logger: K8sLogger = {
    info: () => {},
    warn: (m) => warnings.push(m),
    error: (m) => warnings.push(m),
  };
  const informer = createPolicyInformer({
    kc,
    custom,
    store,
    validate: fakeValidate,
    compile: makeCompile(material, compiles),
    keyRefReader: (opts.wrapReader ?? ((r) => r))(createApiKeyRefReader(core)),
    statusWriter: createStatusWriter({ custom, clock, logger }),
    defaultNamespace: 'trustgate-system',
    logger,
    backoff: { initialMs: 5, maxMs: 50 },
    retryBackoff: { initialMs: 5, maxMs: 50 },
    resyncIntervalMs: opts.resyncIntervalMs ?? 0,
  });
  const h: Harness = {
    fake,
    store,
    informer,
    material,
    compiles,
    clock,
    warnings,
    async stop() {
      await informer.stop();
      await fake.close();
    },
  };
  running.push(h);
  await informer.start();
  return h;
}

/**
 * A KeyRefReader whose next ConfigMap read, once `hold()` is called, waits until released: the test
 * can then change the cluster while the informer is between reading key material and compiling.
 */
function gatedReader() {
  let gate: { reached: () => void; opened: Promise<void> } | undefined;
  const wrap = (inner: KeyRefReader): KeyRefReader => ({
    readSecret: (namespace, name) => inner.readSecret(namespace, name),
    async readConfigMap(namespace, name) {
      const g = gate;
      if (g) {
        gate = undefined;
        g.reached();
        await g.opened;
      }
      return inner.readConfigMap(namespace, name);
    },
  });
  /** Hold the next ConfigMap read; `reached` resolves once a read is waiting. */
  const hold = () => {
    let reached!: () => void;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (reached = resolve));
    gate = { reached, opened: new Promise<void>((resolve) => (release = resolve)) };
    return { reached: held, release };
  };
  return { wrap, hold };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((h) => h.stop()));
});
afterAll(async () => {
  await Promise.all(running.splice(0).map((h) => h.stop()));
});

const ids = (store: PolicyStore) => store.current().map((p) => p.id);
const statusPath = (name: string) => `${CLUSTER_TRUST_POLICIES_PATH}/${name}/status`;
const patchesTo = (fake: FakeApiServer, path: string) => fake.requestsTo('PATCH', path);
const readyOf = (fake: FakeApiServer, name: string): StatusCondition | undefined =>
  (
    (
      fake.get('ClusterTrustPolicy', name)?.['status'] as
        { conditions?: StatusCondition[] } | undefined
    )?.conditions ?? []
  ).find((c) => c.type === 'Ready');
const isWatch = (fake: FakeApiServer, path: string) =>
  fake.requests.filter((r) => r.method === 'GET' && r.path === path && r.query['watch'] === 'true');

describe('PolicyInformer', () => {
  describe('when both kinds are listed', () => {
    it('populates the store and becomes ready only after both lists', async () => {
      const h = await startHarness((fake) => {
        fake.add(ctp('org', ['registry.example.com/org/*']));
        fake.add(tp('team-a', 'apps', ['registry.example.com/team-a/**']));
        // TrustPolicy listing fails until released, so only one kind can be synced.
        fake.injectFailure('GET', TRUST_POLICIES_PATH, 503);
      });
      await waitFor(() => h.store.get('ClusterTrustPolicy/org'), 'the cluster policy in the store');
      await waitFor(
        () => h.fake.requestsTo('GET', TRUST_POLICIES_PATH).length >= 2,
        'a retried TrustPolicy list',
      );
      expect(h.store.ready()).toBe(false);
      expect(h.informer.synced()).toBe(false);

      h.fake.clearFailures();
      await waitFor(() => h.store.ready(), 'store ready');
      expect(h.informer.synced()).toBe(true);
      expect(ids(h.store)).toEqual(['ClusterTrustPolicy/org', 'TrustPolicy/team-a/apps']);
      expect(h.store.get('TrustPolicy/team-a/apps')?.namespace).toBe('team-a');
      expect(h.store.counts()).toEqual({ valid: 2, invalid: 0 });
    });

    it('is ready with an empty store when there are no policies', async () => {
      const h = await startHarness();
      await waitFor(() => h.store.ready(), 'store ready');
      expect(h.store.current()).toEqual([]);
    });
  });

  describe('when policies are added, modified and deleted', () => {
    it('publishes a new snapshot for each change and emits the changed id', async () => {
      const h = await startHarness();
      await waitFor(() => h.store.ready(), 'store ready');
      const changes: PolicyChange[] = [];
      h.store.onChange((c) => changes.push(c));
      const before = h.store.current();

      const added = h.fake.add(ctp('web', ['registry.example.com/web/*']));
      const first = await waitFor(() => h.store.get('ClusterTrustPolicy/web'), 'web added');
      expect(before).toEqual([]); // the old snapshot did not change under its reader
      expect(first.images).toEqual(['registry.example.com/web/*']);

      h.fake.modify({ ...added, spec: { images: ['registry.example.com/web/**'] } });
      const second = await waitFor(
        () =>
          h.store.get('ClusterTrustPolicy/web')?.images[0] === 'registry.example.com/web/**'
            ? h.store.get('ClusterTrustPolicy/web')
            : undefined,
        'web modified',
      );
      expect(second.generation).not.toBe(first.generation);

      h.fake.remove(added);
      await waitFor(() => h.store.get('ClusterTrustPolicy/web') === undefined, 'web removed');
      expect(h.store.current()).toEqual([]);

      expect(changes).toEqual([
        {
          id: 'ClusterTrustPolicy/web',
          generation: first.generation,
          previousGeneration: undefined,
        },
        {
          id: 'ClusterTrustPolicy/web',
          generation: second.generation,
          previousGeneration: first.generation,
        },
        {
          id: 'ClusterTrustPolicy/web',
          generation: undefined,
          previousGeneration: second.generation,
        },
      ]);
    });

    it('tracks TrustPolicies per namespace', async () => {
      const h = await startHarness();
      await waitFor(() => h.store.ready(), 'store ready');
      h.fake.add(tp('a', 'p', ['r.example.com/a/*']));
      h.fake.add(tp('b', 'p', ['r.example.com/b/*']));
      await waitFor(() => h.store.current().length === 2, 'two TrustPolicies');
      h.fake.remove(tp('a', 'p', []));
      await waitFor(() => h.store.current().length === 1, 'one removed');
      expect(ids(h.store)).toEqual(['TrustPolicy/b/p']);
    });
  });

  describe('when a policy is valid', () => {
    it('writes Ready=True (Compiled) with the observed generation via a merge patch', async () => {
      const h = await startHarness((fake) => fake.add(ctp('ok', ['r.example.com/ok/*'])));
      await waitFor(() => patchesTo(h.fake, statusPath('ok')).length === 1, 'status patch');
      const req = patchesTo(h.fake, statusPath('ok'))[0]!;
      expect(req.contentType).toBe('application/merge-patch+json');
      expect(readyOf(h.fake, 'ok')).toEqual({
        type: 'Ready',
        status: 'True',
        reason: 'Compiled',
        message: 'policy compiled and in use',
        observedGeneration: 1,
        lastTransitionTime: '2026-12-02T10:00:00Z',
      });
    });

    it('writes the status of a TrustPolicy to its namespaced status subresource', async () => {
      const h = await startHarness((fake) => fake.add(tp('team-a', 'apps', ['r.example.com/a/*'])));
      const path = '/apis/trustgate.dev/v1alpha1/namespaces/team-a/trustpolicies/apps/status';
      await waitFor(() => patchesTo(h.fake, path).length === 1, 'namespaced status patch');
    });
  });

  describe('when a policy is invalid', () => {
    it('keeps it out of the store and writes Ready=False (InvalidSpec) with the field path', async () => {
      const h = await startHarness((fake) => {
        fake.add(ctp('bad', ['ok/*', 'has space']));
        fake.add(ctp('good', ['r.example.com/*']));
      });
      await waitFor(() => h.store.ready(), 'store ready');
      await waitFor(() => readyOf(h.fake, 'bad'), 'status of bad');
      expect(ids(h.store)).toEqual(['ClusterTrustPolicy/good']);
      expect(h.store.counts()).toEqual({ valid: 1, invalid: 1 });
      expect(readyOf(h.fake, 'bad')).toMatchObject({
        status: 'False',
        reason: 'InvalidSpec',
        message: 'spec.images[1]: not a repository glob',
        observedGeneration: 1,
      });
    });

    it('reports the field errors compile() throws', async () => {
      const h = await startHarness((fake) => fake.add(ctp('keys', ['reject/at-compile'])));
      const cond = await waitFor(() => readyOf(h.fake, 'keys'), 'status of keys');
      expect(cond.message).toBe(
        'spec.trustSources[0].notaryV1.rootKeys[1]: not PEM and not a 64-hex key ID',
      );
      expect(h.store.current()).toEqual([]);
    });

    it('drops a valid policy that becomes invalid, and emits its removal', async () => {
      const h = await startHarness((fake) => fake.add(ctp('p', ['r.example.com/*'])));
      await waitFor(() => h.store.get('ClusterTrustPolicy/p'), 'p valid');
      const changes: PolicyChange[] = [];
      h.store.onChange((c) => changes.push(c));
      h.clock.t = new Date('2026-12-02T11:00:00Z');
      h.fake.modify(ctp('p', []));
      await waitFor(() => readyOf(h.fake, 'p')?.status === 'False', 'p invalid');
      expect(h.store.current()).toEqual([]);
      expect(changes.map((c) => [c.id, c.generation])).toEqual([
        ['ClusterTrustPolicy/p', undefined],
      ]);
      // The status changed, so its transition time moved to the clock's now.
      expect(readyOf(h.fake, 'p')).toMatchObject({
        observedGeneration: 2,
        lastTransitionTime: '2026-12-02T11:00:00Z',
      });
    });
  });

  describe('when the status write causes a watch event', () => {
    it('does not write the status again', async () => {
      const h = await startHarness((fake) => fake.add(ctp('a', ['r.example.com/a/*'])));
      await waitFor(
        () => patchesTo(h.fake, statusPath('a')).length === 1,
        'first status patch of a',
      );
      // The fake emitted MODIFIED(a) for that patch before the ADDED(b) below, on the same stream.
      h.fake.add(ctp('b', ['r.example.com/b/*']));
      await waitFor(() => patchesTo(h.fake, statusPath('b')).length === 1, 'status patch of b');
      await h.informer.idle();
      expect(patchesTo(h.fake, statusPath('a'))).toHaveLength(1);
      expect(patchesTo(h.fake, statusPath('b'))).toHaveLength(1);
    });
  });

  describe('when key material is referenced', () => {
    it('resolves ConfigMap and Secret refs and hands them to compile', async () => {
      const h = await startHarness((fake) => {
        fake.add({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'notary-ca', namespace: 'trustgate-system' },
          data: { 'ca.pem': 'PEM-FROM-CONFIGMAP' },
        });
        fake.add({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'notation-ca', namespace: 'trustgate-system' },
          type: 'Opaque',
          data: { 'ca.pem': Buffer.from('PEM-FROM-SECRET').toString('base64') },
        });
        fake.add(
          ctp('refs', ['r.example.com/*'], {
            trustSources: [
              {
                name: 'dct',
                notaryV1: {
                  server: 'https://notary.example.com',
                  caBundleRef: { configMap: 'notary-ca', key: 'ca.pem' },
                },
              },
              {
                name: 'notation',
                notation: { trustStore: { caRef: { secret: 'notation-ca', key: 'ca.pem' } } },
              },
            ],
          }),
        );
      });
      await waitFor(() => h.store.get('ClusterTrustPolicy/refs'), 'refs compiled');
      expect(h.material.get('ClusterTrustPolicy/refs')).toEqual({
        material: {
          'configmap/trustgate-system/notary-ca/ca.pem': 'PEM-FROM-CONFIGMAP',
          'secret/trustgate-system/notation-ca/ca.pem': 'PEM-FROM-SECRET',
        },
        defaultNamespace: 'trustgate-system',
      });
    });

    it('marks the policy invalid when a referenced ConfigMap is missing', async () => {
      const h = await startHarness((fake) =>
        fake.add(
          ctp('missing', ['r.example.com/*'], {
            trustSources: [
              {
                name: 'dct',
                notaryV1: {
                  server: 'https://n.example.com',
                  caBundleRef: { configMap: 'nope', key: 'ca.pem' },
                },
              },
            ],
          }),
        ),
      );
      const cond = await waitFor(() => readyOf(h.fake, 'missing'), 'status of missing');
      expect(cond).toMatchObject({
        status: 'False',
        message:
          'spec.trustSources[0].notaryV1.caBundleRef: ConfigMap trustgate-system/nope not found (or not readable by trustgate)',
      });
      expect(h.store.current()).toEqual([]);
    });
  });

  describe('when the apiserver fails while a policy is processed', () => {
    const refPolicy = (images = ['r.example.com/*']) =>
      ctp('ref', images, {
        trustSources: [
          {
            name: 'dct',
            notaryV1: {
              server: 'https://n.example.com',
              caBundleRef: { configMap: 'cas', key: 'ca.pem' },
            },
          },
        ],
      });
    const cas = (pem: string): FakeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cas', namespace: 'trustgate-system' },
      data: { 'ca.pem': pem },
    });

    it('retries reading key material instead of marking the policy invalid', async () => {
      const h = await startHarness((fake) => {
        fake.add(cas('PEM'));
        fake.add(refPolicy());
        fake.injectFailure('GET', '/api/v1/namespaces/trustgate-system/configmaps/cas', 503);
      });
      await waitFor(
        () =>
          h.fake.requestsTo('GET', '/api/v1/namespaces/trustgate-system/configmaps/cas').length >=
          2,
        'a retried read',
      );
      expect(h.store.get('ClusterTrustPolicy/ref')).toBeUndefined();
      expect(h.store.counts()).toEqual({ valid: 0, invalid: 0 });
      expect(patchesTo(h.fake, statusPath('ref'))).toEqual([]);
      expect(h.warnings).toContain('key material unavailable; will retry');
      h.fake.clearFailures();
      await waitFor(() => h.store.get('ClusterTrustPolicy/ref'), 'policy compiled after recovery');
      await waitFor(() => readyOf(h.fake, 'ref')?.status === 'True', 'Ready=True after recovery');
    });

    it('retries a failed status write', async () => {
      const h = await startHarness((fake) => {
        fake.add(ctp('s', ['r.example.com/*']));
        fake.injectFailure('PATCH', statusPath('s'), 500);
      });
      await waitFor(() => patchesTo(h.fake, statusPath('s')).length >= 2, 'a retried status write');
      expect(h.store.get('ClusterTrustPolicy/s')).toBeDefined();
      h.fake.clearFailures();
      await waitFor(() => readyOf(h.fake, 's')?.status === 'True', 'status written after recovery');
      expect(h.compiles.filter((id) => id === 'ClusterTrustPolicy/s')).toHaveLength(1);
    });

    const casReads = (h: Harness) =>
      h.fake.requestsTo('GET', '/api/v1/namespaces/trustgate-system/configmaps/cas').length;
    const compilesOf = (h: Harness, id: string) => h.compiles.filter((c) => c === id).length;

    /**
     * `ref` compiled against the ConfigMap `cas` (OLD), resyncing every 10 ms, with the next
     * resync held between reading key material and compiling; changes recorded from then on.
     */
    async function heldInResync() {
      const gated = gatedReader();
      const h = await startHarness(
        (fake) => {
          fake.add(cas('OLD'));
          fake.add(refPolicy());
        },
        { resyncIntervalMs: 10, wrapReader: gated.wrap },
      );
      await waitFor(() => readyOf(h.fake, 'ref')?.status === 'True', 'policy compiled');
      const changes: PolicyChange[] = [];
      h.store.onChange((c) => changes.push(c));
      const held = gated.hold();
      await held.reached;
      return { h, held, changes };
    }

    it('picks up an edited ConfigMap on resync, and recompiles only then', async () => {
      // A resync is between reading key material and compiling when the ConfigMap changes...
      const { h, held, changes } = await heldInResync();
      h.fake.modify(cas('NEW'));
      // ...and a newer event of the same generation (a label edit) overtakes that compile.
      h.fake.modify({ ...refPolicy(), metadata: { name: 'ref', labels: { team: 'a' } } });
      // Same watch stream, so the marker's ADDED arrives after ref's MODIFIED.
      h.fake.add(ctp('marker', ['r.example.com/marker/*']));
      await waitFor(() => h.store.get('ClusterTrustPolicy/marker'), 'the event after the edit');
      held.release();

      await waitFor(
        () =>
          h.material.get('ClusterTrustPolicy/ref')?.material[
            'configmap/trustgate-system/cas/ca.pem'
          ] === 'NEW',
        'new material',
      );
      // Each resync reads the ConfigMap only after the previous one finished: after two more
      // reads, the resync that follows the compile is complete.
      const after = casReads(h);
      await waitFor(() => casReads(h) >= after + 2, 'further resyncs');
      expect(compilesOf(h, 'ClusterTrustPolicy/ref')).toBe(2);
      expect(changes.filter((c) => c.id === 'ClusterTrustPolicy/ref')).toHaveLength(1);
      expect(h.store.get('ClusterTrustPolicy/ref')).toBeDefined();
    });

    it('drops a compile that a newer generation overtook, and publishes the newer one', async () => {
      const { h, held, changes } = await heldInResync();
      h.fake.modify(cas('NEW'));
      h.fake.modify(refPolicy(['r.example.com/v2/*']));
      h.fake.add(ctp('marker', ['r.example.com/marker/*']));
      await waitFor(() => h.store.get('ClusterTrustPolicy/marker'), 'the event after the edit');
      held.release();

      const v2 = await waitFor(
        () =>
          h.store.get('ClusterTrustPolicy/ref')?.images[0] === 'r.example.com/v2/*'
            ? h.store.get('ClusterTrustPolicy/ref')
            : undefined,
        'generation 2 published',
      );
      await waitFor(() => readyOf(h.fake, 'ref')?.observedGeneration === 2, 'status of gen 2');
      // Generation 1 with the new material was compiled but never published.
      expect(compilesOf(h, 'ClusterTrustPolicy/ref')).toBe(3);
      expect(changes.filter((c) => c.id === 'ClusterTrustPolicy/ref')).toEqual([
        expect.objectContaining({ generation: v2.generation }),
      ]);
    });

    it('drops a compile whose policy was deleted meanwhile', async () => {
      const { h, held } = await heldInResync();
      h.fake.modify(cas('NEW'));
      h.fake.remove(refPolicy());
      h.fake.add(ctp('marker', ['r.example.com/marker/*']));
      await waitFor(() => h.store.get('ClusterTrustPolicy/marker'), 'the event after the delete');
      held.release();

      await waitFor(() => h.store.get('ClusterTrustPolicy/ref') === undefined, 'ref removed');
      await h.informer.idle();
      // The held resync compiled the new material, but nothing was published or written.
      expect(compilesOf(h, 'ClusterTrustPolicy/ref')).toBe(2);
      expect(patchesTo(h.fake, statusPath('ref'))).toHaveLength(1);
    });
  });

  describe('when the watch breaks', () => {
    it('reconnects after dropped watches and sees later events', async () => {
      const h = await startHarness((fake) => fake.add(ctp('first', ['r.example.com/1/*'])));
      await waitFor(() => h.store.ready(), 'store ready');
      await waitFor(() => h.fake.openWatchCount() === 2, 'both watches open');
      const watchesBefore = isWatch(h.fake, CLUSTER_TRUST_POLICIES_PATH).length;
      h.fake.dropWatches();
      h.fake.add(ctp('second', ['r.example.com/2/*']));
      await waitFor(() => h.store.get('ClusterTrustPolicy/second'), 'event after the drop');
      expect(isWatch(h.fake, CLUSTER_TRUST_POLICIES_PATH).length).toBeGreaterThan(watchesBefore);
      h.fake.add(ctp('third', ['r.example.com/3/*']));
      await waitFor(() => h.store.get('ClusterTrustPolicy/third'), 'event on the new watch');
    });

    it('restarts with backoff after watch requests fail', async () => {
      const h = await startHarness((fake) => fake.failNextWatches(4));
      await waitFor(() => h.store.ready(), 'store ready');
      await waitFor(() => h.fake.openWatchCount() === 2, 'both watches open after failures');
      h.fake.add(ctp('late', ['r.example.com/*']));
      await waitFor(() => h.store.get('ClusterTrustPolicy/late'), 'event after recovery');
      expect(h.warnings).toContain('watch failed; restarting');
    });
  });

  describe('when the resourceVersion expires (410 Gone)', () => {
    it.each(['event', 'http'] as const)(
      're-lists (410 via %s) and picks up changes the watch missed',
      async (via) => {
        const h = await startHarness((fake) => {
          fake.add(ctp('keep', ['r.example.com/keep/*']));
          fake.add(ctp('gone', ['r.example.com/gone/*']));
        });
        await waitFor(() => h.store.current().length === 2, 'both policies');
        await waitFor(() => h.fake.openWatchCount() === 2, 'both watches open');
        expect(h.informer.listCount('ClusterTrustPolicy')).toBe(1);
        // Changes whose events never reach the watch: only a re-list can reveal them.
        h.fake.modify(ctp('keep', ['r.example.com/keep/**']), { notify: false });
        h.fake.expireResourceVersion({ via });
        await waitFor(() => h.informer.listCount('ClusterTrustPolicy') === 2, 're-list');
        await waitFor(
          () => h.store.get('ClusterTrustPolicy/keep')?.images[0] === 'r.example.com/keep/**',
          'missed change applied',
        );
        h.fake.remove(ctp('gone', []));
        await waitFor(
          () => h.store.get('ClusterTrustPolicy/gone') === undefined,
          'watch resumed after re-list',
        );
      },
    );
  });

  describe('when stopped', () => {
    it('closes its watches and does not reconnect', async () => {
      const h = await startHarness();
      await waitFor(() => h.fake.openWatchCount() === 2, 'both watches open');
      await h.informer.stop();
      await waitFor(() => h.fake.openWatchCount() === 0, 'watches closed by the client');
      const watches = h.fake.requests.filter((r) => r.query['watch'] === 'true').length;
      // A reconnect would be a new watch request; the restart path (dropped socket) is the trigger.
      h.fake.dropWatches();
      await h.informer.idle();
      expect(h.fake.requests.filter((r) => r.query['watch'] === 'true')).toHaveLength(watches);
    });
  });
});
