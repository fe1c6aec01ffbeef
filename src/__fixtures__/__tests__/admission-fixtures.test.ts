// SPDX-License-Identifier: Apache-2.0
// The admission workload fixtures are objects a real apiserver would accept: every JSON file in
// ../admission validates against the Kubernetes OpenAPI schema of its kind (kubernetes-models).
// Five of them are hand-written (see ../admission/README.md), so a typo there would otherwise only
// show up as a webhook test that passes for the wrong reason.

import { describe, expect, it } from '@jest/globals';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-models/apps/v1';
import { CronJob, Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, Pod, ReplicationController } from 'kubernetes-models/v1';

const ADMISSION_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'admission');

interface Validatable {
  validate(): void;
}
type ModelCtor = new (data: never) => Validatable;

/** `apiVersion/kind` → model; a fixture of any other kind fails the test. */
const MODELS: Readonly<Record<string, ModelCtor>> = {
  'v1/Pod': Pod,
  'v1/ReplicationController': ReplicationController,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'apps/v1/ReplicaSet': ReplicaSet,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/DaemonSet': DaemonSet,
  'batch/v1/Job': Job,
  'batch/v1/CronJob': CronJob,
};

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems with one fixture object; empty when the apiserver's schema would accept it. */
function problemsOf(obj: Record<string, unknown>): string[] {
  const key = `${String(obj['apiVersion'])}/${String(obj['kind'])}`;
  const Model = MODELS[key];
  if (Model === undefined) return [`no kubernetes-models validator for ${key}`];
  const problems: string[] = [];
  const name = (obj['metadata'] as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || name.length > 253 || !DNS1123_SUBDOMAIN.test(name))
    problems.push(`metadata.name ${JSON.stringify(name)} is not a DNS-1123 subdomain`);
  try {
    new Model(obj as never).validate();
  } catch (err) {
    problems.push(err instanceof Error ? err.message : String(err));
  }
  return problems;
}

const FILES = readdirSync(ADMISSION_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('admission workload fixtures', () => {
  it('cover every kind the webhook is tested with', () => {
    const kinds = FILES.map((f) => {
      const obj = JSON.parse(readFileSync(join(ADMISSION_DIR, f), 'utf8')) as { kind?: string };
      return obj.kind;
    });
    expect(new Set(kinds)).toEqual(
      new Set(Object.keys(MODELS).map((k) => k.slice(k.lastIndexOf('/') + 1))),
    );
  });

  describe.each(FILES)('%s', (file) => {
    it('validates against the Kubernetes schema of its kind', () => {
      const obj = JSON.parse(readFileSync(join(ADMISSION_DIR, file), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(problemsOf(obj)).toEqual([]);
    });
  });

  describe('when a fixture is broken', () => {
    // The validator itself must be able to say no, or the checks above prove nothing.
    const pod = (): Record<string, unknown> =>
      JSON.parse(readFileSync(join(ADMISSION_DIR, 'pod.json'), 'utf8')) as Record<string, unknown>;

    it('reports a container without a name', () => {
      const obj = pod();
      const containers = (obj['spec'] as { containers: Record<string, unknown>[] }).containers;
      delete containers[0]!['name'];
      expect(problemsOf(obj).join('\n')).toMatch(/name/);
    });

    it('reports a field of the wrong type, a bad name and an unknown kind', () => {
      const obj = pod();
      (obj['spec'] as Record<string, unknown>)['containers'] = 'web';
      (obj['metadata'] as Record<string, unknown>)['name'] = 'Web_1';
      expect(problemsOf(obj)).toHaveLength(2);
      expect(problemsOf({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } })).toEqual([
        'no kubernetes-models validator for v1/Secret',
      ]);
    });
  });
});
