// SPDX-License-Identifier: Apache-2.0
// The two CustomResourceDefinitions (trustgate.dev/v1alpha1), generated from schema.ts so the
// apiserver's validation and trustgate's own cannot drift (scripts/gen-crds.js writes them out).

import { TRUST_POLICY_SPEC_SCHEMA, type JsonSchema } from './schema.js';

export const CRD_GROUP = 'trustgate.dev';
export const CRD_VERSION = 'v1alpha1';

/**
 * Structural-schema form: Kubernetes forbids `additionalProperties` next to `properties`
 * (unknown fields are pruned instead), so `additionalProperties: false` is dropped.
 */
export function toStructuralSchema(schema: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [
          k,
          toStructuralSchema(v),
        ]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      out[key] = toStructuralSchema(value as JsonSchema);
    } else {
      out[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
    }
  }
  return out;
}

const STATUS_SCHEMA = {
  type: 'object',
  description: 'Written by trustgate: whether the policy is valid and in use.',
  properties: {
    observedGeneration: {
      type: 'integer',
      description: 'metadata.generation this status describes.',
    },
    conditions: {
      type: 'array',
      description:
        'Ready=True when the policy compiled and is enforced; Ready=False with reason InvalidSpec and the field errors otherwise.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: {
        type: 'object',
        required: ['type', 'status'],
        properties: {
          type: { type: 'string', description: 'Condition type, e.g. Ready.', maxLength: 316 },
          status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
          reason: {
            type: 'string',
            description: 'CamelCase reason, e.g. InvalidSpec.',
            maxLength: 1024,
          },
          message: {
            type: 'string',
            description: 'What is wrong and how to fix it.',
            maxLength: 32768,
          },
          lastTransitionTime: { type: 'string', format: 'date-time' },
          observedGeneration: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
} as const;

function buildCrd(kind: 'ClusterTrustPolicy' | 'TrustPolicy'): Record<string, unknown> {
  const cluster = kind === 'ClusterTrustPolicy';
  const plural = cluster ? 'clustertrustpolicies' : 'trustpolicies';
  const spec = toStructuralSchema(TRUST_POLICY_SPEC_SCHEMA);
  if (!cluster) {
    // Dropping namespaceSelector from the schema would make the apiserver prune it silently;
    // rejecting it tells the author why it has no effect.
    spec['x-kubernetes-validations'] = [
      {
        rule: '!has(self.namespaceSelector)',
        message:
          'namespaceSelector is only valid on ClusterTrustPolicy; a TrustPolicy applies to its own namespace',
      },
    ];
  }
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${CRD_GROUP}`,
      labels: { 'app.kubernetes.io/name': 'trustgate', 'app.kubernetes.io/part-of': 'trustgate' },
    },
    spec: {
      group: CRD_GROUP,
      scope: cluster ? 'Cluster' : 'Namespaced',
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames: [cluster ? 'ctp' : 'tp'],
        categories: ['trustgate'],
      },
      versions: [
        {
          name: CRD_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            {
              name: 'Mode',
              type: 'string',
              jsonPath: '.spec.mode',
              description: 'enforce, warn or audit',
            },
            {
              name: 'Images',
              type: 'string',
              jsonPath: '.spec.images',
              description: 'Repository globs',
            },
            {
              name: 'Ready',
              type: 'string',
              jsonPath: '.status.conditions[?(@.type=="Ready")].status',
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: cluster
                ? 'Cluster-wide image signature policy: which images (and, optionally, namespaces) it covers and which signatures they need.'
                : 'Image signature policy for workloads in its own namespace.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
                status: STATUS_SCHEMA,
              },
            },
          },
        },
      ],
    },
  };
}

/** The CRDs: `clustertrustpolicies.trustgate.dev` (cluster-scoped) and `trustpolicies.trustgate.dev` (namespaced). */
export function buildCrds(): Record<string, unknown>[] {
  return [buildCrd('ClusterTrustPolicy'), buildCrd('TrustPolicy')];
}
