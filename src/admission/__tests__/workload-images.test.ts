// SPDX-License-Identifier: Apache-2.0
// Images with field paths for every evaluated kind, from the kubectl-generated fixtures.

import { describe, expect, it } from '@jest/globals';
import { RequestError } from '../../core/errors.js';
import {
  FIXTURE_IMAGES,
  reviewBody,
  workloadObject,
  type FixtureKind,
  type JsonObject,
} from '../../__fixtures__/admission/factory.js';
import { prng } from '../../__fixtures__/prng.js';
import { fields, NOT_READ, readProjected } from '../json-projection.js';
import { parseAdmissionReview, reviewProjection } from '../review.js';
import {
  toJsonPointer,
  toWorkloadImages,
  toWorkloadKind,
  WORKLOAD_OBJECT_READ,
  type WorkloadRequest,
} from '../workload-images.js';

const GVK: Record<string, [string, string, string]> = {
  pod: ['', 'Pod', 'pods'],
  'pod-full': ['', 'Pod', 'pods'],
  deployment: ['apps', 'Deployment', 'deployments'],
  replicaset: ['apps', 'ReplicaSet', 'replicasets'],
  statefulset: ['apps', 'StatefulSet', 'statefulsets'],
  daemonset: ['apps', 'DaemonSet', 'daemonsets'],
  job: ['batch', 'Job', 'jobs'],
  cronjob: ['batch', 'CronJob', 'cronjobs'],
  replicationcontroller: ['', 'ReplicationController', 'replicationcontrollers'],
  configmap: ['', 'ConfigMap', 'configmaps'],
};

function request(
  kind: FixtureKind,
  object: Record<string, unknown> = workloadObject(kind),
  subResource = '',
): WorkloadRequest {
  const [group, k, resource] = GVK[kind] as [string, string, string];
  return {
    kind: { group, version: 'v1', kind: k },
    resource: { group, version: 'v1', resource },
    subResource,
    object,
  };
}

describe('toWorkloadImages', () => {
  for (const kind of Object.keys(FIXTURE_IMAGES) as FixtureKind[]) {
    describe(`when the object is a ${kind}`, () => {
      it('lists every image with its field path, init containers first', () => {
        const got = toWorkloadImages(request(kind)).images.map((i) => [i.path, i.image]);
        expect(got).toEqual(FIXTURE_IMAGES[kind]);
      });
    });
  }

  describe('when the pod spec has pull secrets and a service account', () => {
    it('returns them for the credential lookup', () => {
      const w = toWorkloadImages(request('pod-full'));
      expect(w.pullSecretNames).toEqual(['regcred', 'mirror-cred']);
      expect(w.serviceAccountName).toBe('api');
      expect(w.kind).toBe('Pod');
      expect(w.podSpecPath).toBe('spec');
    });
  });

  describe('when the request is pods/ephemeralcontainers', () => {
    it('reads the Pod object, including ephemeral containers', () => {
      const w = toWorkloadImages(
        request('pod-full', workloadObject('pod-full'), 'ephemeralcontainers'),
      );
      expect(w.images.map((i) => i.path)).toContain('spec.ephemeralContainers[0].image');
    });
  });

  describe('when the request is another subresource (pods/status, deployments/scale)', () => {
    it('evaluates nothing', () => {
      expect(toWorkloadImages(request('pod', undefined, 'status')).images).toEqual([]);
      expect(toWorkloadKind(request('deployment', undefined, 'scale'))).toBeUndefined();
    });
  });

  describe('when the kind is not a workload', () => {
    it('returns no images and no kind', () => {
      const w = toWorkloadImages(request('configmap'));
      expect(w.kind).toBeUndefined();
      expect(w.images).toEqual([]);
    });
  });

  describe('when a container has no image yet (mutating phase)', () => {
    it('skips it', () => {
      const obj = workloadObject('pod');
      ((obj['spec'] as Record<string, unknown[]>)['containers'] as Record<string, unknown>[]).push({
        name: 'x',
      });
      expect(toWorkloadImages(request('pod', obj)).images).toHaveLength(1);
    });
  });

  describe('when shapes are wrong', () => {
    it('throws BAD_REQUEST naming the field', () => {
      const notArray = workloadObject('deployment');
      (
        (notArray['spec'] as Record<string, Record<string, unknown>>)['template'] as Record<
          string,
          Record<string, unknown>
        >
      )['spec']!['containers'] = {};
      expect(() => toWorkloadImages(request('deployment', notArray))).toThrowWithCode(
        RequestError,
        'BAD_REQUEST',
      );
      expect(() => toWorkloadImages(request('deployment', notArray))).toThrow(
        'spec.template.spec.containers must be an array',
      );

      const numeric = workloadObject('pod');
      (
        (numeric['spec'] as Record<string, unknown[]>)['containers'] as Record<string, unknown>[]
      )[0]!['image'] = 5;
      expect(() => toWorkloadImages(request('pod', numeric))).toThrow(
        'spec.containers[0].image must be a string',
      );

      const badSpec = { kind: 'Pod', spec: 'x' };
      expect(() => toWorkloadImages(request('pod', badSpec))).toThrow('spec must be an object');
    });
  });
});

describe('WORKLOAD_OBJECT_READ', () => {
  const projection = reviewProjection(fields(WORKLOAD_OBJECT_READ));

  /** toWorkloadImages of the review read in full, or of the review read through the projection. */
  function outcome(body: Buffer, projected: boolean): unknown {
    if (projected) expect(readProjected(body, projection)).not.toBe(NOT_READ);
    try {
      const w = toWorkloadImages(parseAdmissionReview(body, projected ? projection : undefined));
      return { ...w, images: [...w.images] };
    } catch (err) {
      return { error: (err as Error).message };
    }
  }

  const kinds = Object.keys(FIXTURE_IMAGES) as FixtureKind[];

  it.each(kinds)('keeps everything toWorkloadImages reads of a %s', (kind) => {
    for (const operation of ['CREATE', 'UPDATE'] as const) {
      const body = reviewBody(kind, undefined, { operation });
      expect(outcome(body, true)).toEqual(outcome(body, false));
    }
    const ephemeral = reviewBody(kind, undefined, { subResource: 'ephemeralcontainers' });
    expect(outcome(ephemeral, true)).toEqual(outcome(ephemeral, false));
  });

  it('keeps every shape error: 3,000 objects with one node replaced', () => {
    const REPLACEMENTS: readonly unknown[] = [
      null,
      5,
      'x',
      true,
      [],
      {},
      [{}],
      [null],
      { image: 7 },
      [{ image: 'other:1' }],
      [{ name: 'n', image: 'other:2' }, 3],
      { name: 'secret' },
      [{ name: 'a' }, { name: 'a' }, 'b'],
    ];
    const rand = prng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    let errors = 0;
    for (let n = 0; n < 3000; n++) {
      const kind = pick(kinds);
      const object = workloadObject(kind);
      // Walk down to a random node and replace it (or one of its members).
      let node: JsonObject | unknown[] = object;
      for (;;) {
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const key = pick(keys);
        const child = node[key];
        if (rand() < 0.3 || typeof child !== 'object' || child === null) {
          node[key] = pick(REPLACEMENTS);
          break;
        }
        node = child as JsonObject;
      }
      const body = reviewBody(kind, object, { operation: rand() < 0.5 ? 'CREATE' : 'UPDATE' });
      const projected = outcome(body, true);
      expect(projected).toEqual(outcome(body, false));
      if ((projected as { error?: string }).error !== undefined) errors++;
    }
    // Both the image lists and the shape errors must be compared, not only one of them.
    expect(errors).toBeGreaterThan(200);
    expect(errors).toBeLessThan(2800);
  });
});

describe('toJsonPointer', () => {
  it('turns dotted paths with indexes into RFC 6901 pointers', () => {
    expect(toJsonPointer('spec.jobTemplate.spec.template.spec.initContainers[10].image')).toBe(
      '/spec/jobTemplate/spec/template/spec/initContainers/10/image',
    );
    expect(toJsonPointer('a/b.c~d')).toBe('/a~1b/c~0d');
  });
});
