// SPDX-License-Identifier: Apache-2.0
// Images with field paths for every evaluated kind, from the kubectl-generated fixtures.

import { describe, expect, it } from '@jest/globals';
import { RequestError } from '../../core/errors.js';
import {
  FIXTURE_IMAGES,
  workloadObject,
  type FixtureKind,
} from '../../__fixtures__/admission/factory.js';
import {
  toJsonPointer,
  toWorkloadImages,
  toWorkloadKind,
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

describe('toJsonPointer', () => {
  it('turns dotted paths with indexes into RFC 6901 pointers', () => {
    expect(toJsonPointer('spec.jobTemplate.spec.template.spec.initContainers[10].image')).toBe(
      '/spec/jobTemplate/spec/template/spec/initContainers/10/image',
    );
    expect(toJsonPointer('a/b.c~d')).toBe('/a~1b/c~0d');
  });
});
