// SPDX-License-Identifier: Apache-2.0
// Pure: which container images a workload object will run, with the JSON field path of each
// (SPEC §4), plus the pod spec's pull secrets and service account for registry credentials.

import { RequestError } from '../core/errors.js';
import { each, fields, WHOLE, type Projection } from './json-projection.js';
import type { WorkloadImage } from '../verify/ports.js';
import type { GroupVersionKind, GroupVersionResource } from './review.js';

/** The workload kinds trustgate evaluates. */
export type WorkloadKind =
  | 'Pod'
  | 'Deployment'
  | 'ReplicaSet'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'Job'
  | 'CronJob'
  | 'ReplicationController';

export interface WorkloadImages {
  /** The evaluated kind, or `undefined` for a kind/subresource trustgate does not evaluate. */
  readonly kind: WorkloadKind | undefined;
  /** Dotted path of the pod spec (`spec.template.spec`), '' when there is none. */
  readonly podSpecPath: string;
  readonly images: readonly WorkloadImage[];
  /** `imagePullSecrets[].name` of the pod spec, in order, without duplicates. */
  readonly pullSecretNames: readonly string[];
  /** `serviceAccountName` of the pod spec ('' when unset: the namespace's `default`). */
  readonly serviceAccountName: string;
}

export interface WorkloadRequest {
  readonly kind: GroupVersionKind;
  readonly resource: GroupVersionResource;
  readonly subResource: string;
  readonly object: Readonly<Record<string, unknown>> | undefined;
}

/** Pod spec location per `group/Kind` (CronJob nests a Job template: SPEC §4). */
const POD_SPEC_PATHS: ReadonlyMap<string, { kind: WorkloadKind; path: readonly string[] }> =
  new Map([
    ['/Pod', { kind: 'Pod', path: ['spec'] }],
    [
      '/ReplicationController',
      { kind: 'ReplicationController', path: ['spec', 'template', 'spec'] },
    ],
    ['apps/Deployment', { kind: 'Deployment', path: ['spec', 'template', 'spec'] }],
    ['apps/ReplicaSet', { kind: 'ReplicaSet', path: ['spec', 'template', 'spec'] }],
    ['apps/StatefulSet', { kind: 'StatefulSet', path: ['spec', 'template', 'spec'] }],
    ['apps/DaemonSet', { kind: 'DaemonSet', path: ['spec', 'template', 'spec'] }],
    ['batch/Job', { kind: 'Job', path: ['spec', 'template', 'spec'] }],
    [
      'batch/CronJob',
      { kind: 'CronJob', path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'] },
    ],
  ]);

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

/** The members of a pod spec that {@link toWorkloadImages} reads. */
const POD_SPEC_READ: Readonly<Record<string, Projection>> = {
  ...Object.fromEntries(CONTAINER_LISTS.map((list) => [list, each(fields({ image: WHOLE }))])),
  imagePullSecrets: each(fields({ name: WHOLE })),
  serviceAccountName: WHOLE,
  serviceAccount: WHOLE,
};

/** Object members to read: a projection at a leaf, or more members below a name. */
interface ReadTree {
  readonly below: Map<string, ReadTree>;
  readonly read: Record<string, Projection>;
}

function toMembers(tree: ReadTree): Record<string, Projection> {
  const members: Record<string, Projection> = { ...tree.read };
  for (const [name, sub] of tree.below) {
    // A path through a member that is also read whole would need both: not a shape we have.
    if (Object.hasOwn(members, name))
      throw new Error(`pod spec path segment ${name} is also a read member`);
    members[name] = fields(toMembers(sub));
  }
  return members;
}

/**
 * What {@link toWorkloadImages} reads of a workload object, as members of the object: the pod
 * spec members above at the pod spec path of every kind in POD_SPEC_PATHS (derived from it, so
 * the two cannot drift). The admission handler reads AdmissionReviews through this and builds
 * nothing else of the object (json-projection.ts): a field read here but left out of it would
 * go unseen, which the equivalence test over every fixture kind guards against.
 */
export const WORKLOAD_OBJECT_READ: Readonly<Record<string, Projection>> = (() => {
  const root: ReadTree = { below: new Map(), read: {} };
  for (const { path } of POD_SPEC_PATHS.values()) {
    let node = root;
    for (const seg of path) {
      let next = node.below.get(seg);
      if (next === undefined) node.below.set(seg, (next = { below: new Map(), read: {} }));
      node = next;
    }
    Object.assign(node.read, POD_SPEC_READ);
  }
  return toMembers(root);
})();

const NONE: WorkloadImages = {
  kind: undefined,
  podSpecPath: '',
  images: [],
  pullSecretNames: [],
  serviceAccountName: '',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string): RequestError {
  return new RequestError('BAD_REQUEST', message);
}

/** Which workload kind a request is about, or `undefined` when trustgate does not evaluate it. */
export function toWorkloadKind(req: Omit<WorkloadRequest, 'object'>): WorkloadKind | undefined {
  if (req.subResource !== '') {
    // Only this subresource changes images; its object is the whole Pod (k8s >= 1.23).
    // Others (status, scale, binding, exec, …) cannot change what runs.
    const ephemeral =
      req.resource.group === '' &&
      req.resource.resource === 'pods' &&
      req.subResource === 'ephemeralcontainers';
    return ephemeral ? 'Pod' : undefined;
  }
  return POD_SPEC_PATHS.get(req.kind.group + '/' + req.kind.kind)?.kind;
}

/**
 * Images, pull secrets and service account of a workload object.
 * Containers without an `image` are skipped: the apiserver's own validation rejects them, and a
 * mutating webhook may see them before that validation runs.
 * @throws RequestError BAD_REQUEST when a container list, container or image has the wrong type.
 */
export function toWorkloadImages(req: WorkloadRequest): WorkloadImages {
  const kind = toWorkloadKind(req);
  if (kind === undefined || req.object === undefined) return NONE;
  const segments =
    kind === 'Pod'
      ? ['spec']
      : (POD_SPEC_PATHS.get(req.kind.group + '/' + req.kind.kind)?.path ?? []);
  const podSpecPath = segments.join('.');

  let node: unknown = req.object;
  for (const seg of segments) {
    if (!isRecord(node)) break;
    node = node[seg];
  }
  if (node === undefined || node === null) return { ...NONE, kind, podSpecPath };
  if (!isRecord(node)) throw bad(`${podSpecPath} must be an object`);
  const podSpec = node;

  const images: WorkloadImage[] = [];
  for (const list of CONTAINER_LISTS) {
    const containers = podSpec[list];
    if (containers === undefined || containers === null) continue;
    if (!Array.isArray(containers)) throw bad(`${podSpecPath}.${list} must be an array`);
    for (let i = 0; i < containers.length; i++) {
      const c: unknown = containers[i];
      const at = `${podSpecPath}.${list}[${i}]`;
      if (!isRecord(c)) throw bad(`${at} must be an object`);
      const image = c['image'];
      if (image === undefined || image === null) continue;
      if (typeof image !== 'string') throw bad(`${at}.image must be a string`);
      images.push({ image, path: `${at}.image` });
    }
  }

  return {
    kind,
    podSpecPath,
    images,
    pullSecretNames: toPullSecretNames(podSpec['imagePullSecrets'], podSpecPath),
    serviceAccountName: toServiceAccountName(podSpec, podSpecPath),
  };
}

function toPullSecretNames(v: unknown, podSpecPath: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`${podSpecPath}.imagePullSecrets must be an array`);
  const names: string[] = [];
  for (const ref of v) {
    const name: unknown = isRecord(ref) ? ref['name'] : undefined;
    if (typeof name === 'string' && name !== '' && !names.includes(name)) names.push(name);
  }
  return names;
}

function toServiceAccountName(podSpec: Record<string, unknown>, podSpecPath: string): string {
  // `serviceAccount` is the deprecated alias the apiserver still honours.
  const v = podSpec['serviceAccountName'] ?? podSpec['serviceAccount'];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw bad(`${podSpecPath}.serviceAccountName must be a string`);
  return v;
}

/**
 * RFC 6901 JSON Pointer of a dotted field path: `spec.containers[0].image` →
 * `/spec/containers/0/image` (for the mutating endpoint's JSON Patch).
 */
export function toJsonPointer(path: string): string {
  let out = '';
  for (const part of path.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    const name = m?.[1] ?? part;
    out += '/' + name.replace(/~/g, '~0').replace(/\//g, '~1');
    for (const idx of (m?.[2] ?? '').matchAll(/\[(\d+)\]/g)) out += '/' + idx[1];
  }
  return out;
}
