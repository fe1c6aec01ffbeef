// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { buildCrds, toStructuralSchema } from '../crd.js';
import { TRUST_POLICY_SPEC_SCHEMA } from '../schema.js';

type Schema = Record<string, any>;

/** Kubernetes structural-schema rules this generator must respect (apiextensions validation). */
function structuralProblems(s: Schema, path: string, out: string[]): string[] {
  if (
    s.type === undefined &&
    !s['x-kubernetes-preserve-unknown-fields'] &&
    !s['x-kubernetes-int-or-string']
  )
    out.push(`${path}: no type`);
  if (s.properties && s.additionalProperties !== undefined)
    out.push(`${path}: properties and additionalProperties`);
  for (const banned of [
    '$ref',
    'oneOf',
    'anyOf',
    'allOf',
    'not',
    'uniqueItems',
    'definitions',
    '$schema',
    'id',
  ]) {
    if (s[banned] !== undefined) out.push(`${path}: ${banned}`);
  }
  for (const [k, v] of Object.entries<Schema>(s.properties ?? {}))
    structuralProblems(v, `${path}.${k}`, out);
  if (s.items) structuralProblems(s.items, `${path}[]`, out);
  if (typeof s.additionalProperties === 'object')
    structuralProblems(s.additionalProperties, `${path}{}`, out);
  return out;
}

describe('buildCrds', () => {
  const [ctp, tp] = buildCrds() as Schema[];

  it('defines a cluster-scoped and a namespaced CRD', () => {
    expect(ctp?.metadata.name).toBe('clustertrustpolicies.trustgate.dev');
    expect(ctp?.spec).toMatchObject({
      group: 'trustgate.dev',
      scope: 'Cluster',
      names: { kind: 'ClusterTrustPolicy', shortNames: ['ctp'], categories: ['trustgate'] },
    });
    expect(tp?.metadata.name).toBe('trustpolicies.trustgate.dev');
    expect(tp?.spec).toMatchObject({
      scope: 'Namespaced',
      names: { kind: 'TrustPolicy', plural: 'trustpolicies', shortNames: ['tp'] },
    });
  });

  it('serves and stores v1alpha1 with a status subresource and printer columns', () => {
    const v = ctp?.spec.versions[0];
    expect(v).toMatchObject({
      name: 'v1alpha1',
      served: true,
      storage: true,
      subresources: { status: {} },
    });
    expect(v.additionalPrinterColumns.map((c: Schema) => c.name)).toEqual([
      'Mode',
      'Images',
      'Ready',
      'Age',
    ]);
  });

  it('uses structural schemas only', () => {
    for (const crd of [ctp, tp]) {
      expect(structuralProblems(crd?.spec.versions[0].schema.openAPIV3Schema, 'root', [])).toEqual(
        [],
      );
    }
  });

  it('carries the spec schema with its descriptions and a status with conditions', () => {
    const root = ctp?.spec.versions[0].schema.openAPIV3Schema;
    expect(root.properties.spec.properties.images.description).toMatch(/Repository globs/);
    expect(Object.keys(root.properties.status.properties.conditions.items.properties)).toEqual([
      'type',
      'status',
      'reason',
      'message',
      'lastTransitionTime',
      'observedGeneration',
    ]);
  });

  it('rejects namespaceSelector on TrustPolicy with a CEL rule', () => {
    const spec = tp?.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(spec['x-kubernetes-validations']).toEqual([
      expect.objectContaining({ rule: '!has(self.namespaceSelector)' }),
    ]);
    expect(
      ctp?.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'],
    ).toBeUndefined();
  });
});

describe('toStructuralSchema', () => {
  it('drops additionalProperties: false but keeps typed maps, without mutating the input', () => {
    const out = toStructuralSchema(TRUST_POLICY_SPEC_SCHEMA) as Schema;
    expect(out.additionalProperties).toBeUndefined();
    expect(out.properties.thresholds.additionalProperties).toEqual({
      type: 'integer',
      minimum: 1,
      maximum: 64,
    });
    expect(TRUST_POLICY_SPEC_SCHEMA.additionalProperties).toBe(false);
  });
});
