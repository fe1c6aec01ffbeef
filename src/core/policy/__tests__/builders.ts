// SPDX-License-Identifier: Apache-2.0
// Fresh, valid policy documents for tests (plain JSON, as parsed from YAML).

import { CA_CERT, KEY_ID, ROOT_CERT, TSA_CERT } from './pki.js';

/** A valid ClusterTrustPolicy using every spec field; tests mutate their own copy. */
export function fullPolicy(): Record<string, any> {
  return {
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterTrustPolicy',
    metadata: {
      name: 'myorg-releases',
      uid: 'u-1',
      resourceVersion: '42',
      generation: 3,
      labels: { team: 'platform' },
    },
    spec: {
      mode: 'enforce',
      namespaceSelector: {
        matchLabels: { env: 'prod' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }],
      },
      images: ['myregistry.example.com/myorg/*'],
      requireSignatures: true,
      trustSources: [
        {
          name: 'dct',
          notaryV1: {
            server: 'https://notary.example.com/',
            caBundle: CA_CERT,
            rootKeys: [ROOT_CERT, KEY_ID],
            rootCAs: [CA_CERT],
          },
        },
        {
          name: 'notation',
          notation: {
            trustStore: { ca: [CA_CERT], tsa: [TSA_CERT] },
            trustedIdentities: ['x509.subject: C=US, ST=WA, O=Example, CN=Release'],
            level: 'strict',
          },
        },
      ],
      signers: [
        { role: 'security-team', required: true },
        {
          role: 'releases',
          required: false,
          identities: ['x509.subject: C=US, ST=WA, O=Example, CN=Sec'],
        },
      ],
      thresholds: { 'release-managers': 2 },
      allow: { paths: ['v*.*.*'], expires: '15d' },
      migration: { notaryV1Until: '2027-03-01T00:00:00Z' },
    },
  };
}

/** The smallest valid ClusterTrustPolicy. */
export function minimalPolicy(): Record<string, any> {
  return {
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterTrustPolicy',
    metadata: { name: 'minimal' },
    spec: {
      images: ['localhost:5000/**'],
      trustSources: [
        { name: 'dct', notaryV1: { server: 'http://127.0.0.1:4443', rootKeys: [KEY_ID] } },
      ],
    },
  };
}
