// SPDX-License-Identifier: Apache-2.0
// Typed AdmissionReview factory over the kubectl-generated workload objects (see README.md).
// Every call returns a fresh deep clone, so tests can mutate what they get (pepr fixtures/loader.ts).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export type FixtureKind =
  | 'pod'
  | 'pod-full'
  | 'deployment'
  | 'replicaset'
  | 'statefulset'
  | 'daemonset'
  | 'job'
  | 'cronjob'
  | 'replicationcontroller'
  | 'configmap';

export type JsonObject = Record<string, unknown>;

/** apiserver group/version/kind/resource of each fixture. */
const GVKR: Readonly<
  Record<FixtureKind, { group: string; version: string; kind: string; resource: string }>
> = {
  pod: { group: '', version: 'v1', kind: 'Pod', resource: 'pods' },
  'pod-full': { group: '', version: 'v1', kind: 'Pod', resource: 'pods' },
  deployment: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments' },
  replicaset: { group: 'apps', version: 'v1', kind: 'ReplicaSet', resource: 'replicasets' },
  statefulset: { group: 'apps', version: 'v1', kind: 'StatefulSet', resource: 'statefulsets' },
  daemonset: { group: 'apps', version: 'v1', kind: 'DaemonSet', resource: 'daemonsets' },
  job: { group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs' },
  cronjob: { group: 'batch', version: 'v1', kind: 'CronJob', resource: 'cronjobs' },
  replicationcontroller: {
    group: '',
    version: 'v1',
    kind: 'ReplicationController',
    resource: 'replicationcontrollers',
  },
  configmap: { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps' },
};

const cache = new Map<FixtureKind, string>();

/** A fresh copy of the workload object of `kind`. */
export function workloadObject(kind: FixtureKind): JsonObject {
  let text = cache.get(kind);
  if (text === undefined) {
    text = readFileSync(join(here, `${kind}.json`), 'utf8');
    cache.set(kind, text);
  }
  return JSON.parse(text) as JsonObject;
}

export interface ReviewOptions {
  readonly operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly dryRun?: boolean;
  readonly namespace?: string;
  readonly uid?: string;
  /** e.g. `ephemeralcontainers` for `pods/ephemeralcontainers`. */
  readonly subResource?: string;
  readonly username?: string;
}

let counter = 0;

/** A v1 AdmissionReview request for `object` (defaults: CREATE, namespace `default`). */
export function reviewFor(
  kind: FixtureKind,
  object?: JsonObject,
  opts: ReviewOptions = {},
): JsonObject {
  const gvkr = GVKR[kind];
  const obj = object ?? workloadObject(kind);
  const operation = opts.operation ?? 'CREATE';
  const namespace = opts.namespace ?? 'default';
  const meta = (obj['metadata'] ?? {}) as JsonObject;
  const request: JsonObject = {
    uid: opts.uid ?? `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
    kind: { group: gvkr.group, version: gvkr.version, kind: gvkr.kind },
    resource: { group: gvkr.group, version: gvkr.version, resource: gvkr.resource },
    requestKind: { group: gvkr.group, version: gvkr.version, kind: gvkr.kind },
    requestResource: { group: gvkr.group, version: gvkr.version, resource: gvkr.resource },
    name: meta['name'],
    namespace,
    operation,
    userInfo: { username: opts.username ?? 'jane@example.com', groups: ['system:authenticated'] },
    object:
      operation === 'DELETE' || operation === 'CONNECT'
        ? null
        : { ...obj, metadata: { ...meta, namespace } },
    oldObject: operation === 'UPDATE' || operation === 'DELETE' ? obj : null,
    dryRun: opts.dryRun ?? false,
    options: {
      apiVersion: 'meta.k8s.io/v1',
      kind: `${operation === 'CREATE' ? 'Create' : 'Update'}Options`,
    },
  };
  if (opts.subResource !== undefined) request['subResource'] = opts.subResource;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}

/** `reviewFor(...)` as the request body bytes. */
export function reviewBody(kind: FixtureKind, object?: JsonObject, opts?: ReviewOptions): Buffer {
  return Buffer.from(JSON.stringify(reviewFor(kind, object, opts)), 'utf8');
}

/** Images of the fixture objects, by field path, as written (for expectations). */
export const FIXTURE_IMAGES: Readonly<
  Record<FixtureKind, ReadonlyArray<readonly [string, string]>>
> = {
  pod: [['spec.containers[0].image', 'registry.example.com/team/web:1.2.3']],
  'pod-full': [
    ['spec.initContainers[0].image', 'registry.example.com/team/migrate:2.0'],
    ['spec.containers[0].image', 'registry.example.com/team/api:4.0'],
    ['spec.containers[1].image', `docker.io/library/envoy@sha256:${'b'.repeat(64)}`],
    ['spec.ephemeralContainers[0].image', 'busybox:1.36'],
  ],
  deployment: [
    ['spec.template.spec.containers[0].image', 'registry.example.com/team/web:1.2.3'],
    ['spec.template.spec.containers[1].image', 'docker.io/library/nginx:1.27'],
  ],
  replicaset: [['spec.template.spec.containers[0].image', 'registry.example.com/team/web:1.2.3']],
  statefulset: [
    ['spec.template.spec.initContainers[0].image', 'busybox:1.36'],
    ['spec.template.spec.containers[0].image', 'registry.example.com/data/postgres:16.4'],
  ],
  daemonset: [['spec.template.spec.containers[0].image', 'registry.example.com/ops/agent:0.9']],
  job: [['spec.template.spec.containers[0].image', 'registry.example.com/team/migrate:2.0']],
  cronjob: [
    [
      'spec.jobTemplate.spec.template.spec.containers[0].image',
      'registry.example.com/team/report:3.1',
    ],
  ],
  replicationcontroller: [
    ['spec.template.spec.containers[0].image', 'registry.example.com/old/legacy:7'],
  ],
  configmap: [],
};
