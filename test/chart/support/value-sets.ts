// SPDX-License-Identifier: Apache-2.0
// Named non-default values sets the chart tests render, each exercising one optional feature.

/** Any PEM text: the chart passes caBundle through without parsing it. */
export const SAMPLE_CA_PEM =
  '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUTrustgateSampleCaBundleOnly0wCgYIKoZIzj0EAwIw\n-----END CERTIFICATE-----\n';

export const SAMPLE_POLICIES = [
  {
    name: 'myorg-releases',
    labels: { team: 'platform' },
    spec: {
      mode: 'enforce',
      images: ['registry.example.com/myorg/**'],
      trustSources: [
        {
          name: 'dct',
          notaryV1: {
            server: 'https://notary.example.com',
            rootKeys: ['a'.repeat(64)],
          },
        },
      ],
      allow: { paths: ['v*.*.*'] },
    },
  },
  {
    name: 'warn-everything-else',
    spec: { mode: 'warn', images: ['**'], requireSignatures: false },
  },
];

export const VALUE_SETS: Record<string, Record<string, unknown>> = {
  defaults: {},
  certManager: { certificates: { mode: 'certManager' } },
  certManagerWithIssuer: {
    certificates: {
      mode: 'certManager',
      certManager: {
        issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
      },
    },
  },
  existingSecret: {
    certificates: {
      mode: 'existingSecret',
      existingSecret: { name: 'my-tls', caBundle: SAMPLE_CA_PEM },
    },
  },
  mutating: { webhook: { mutating: { enabled: true } } },
  monitoringAndNetworkPolicy: {
    metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' } } },
    networkPolicy: { enabled: true, webhookFrom: [{ ipBlock: { cidr: '10.0.0.0/8' } }] },
  },
  threeReplicasCritical: { replicaCount: 3, priorityClassName: 'system-cluster-critical' },
  policiesFromValues: { policies: SAMPLE_POLICIES },
  pullSecretsOff: { rbac: { pullSecrets: { enabled: false } } },
  pullSecretsByName: {
    rbac: { pullSecrets: { enabled: false } },
    config: { registry: { pullSecrets: ['trustgate-system/hub'] } },
  },
};
