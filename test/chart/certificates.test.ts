// SPDX-License-Identifier: Apache-2.0
// The three certificate modes: Helm-generated (with `lookup` keeping it across upgrades, run for real
// against a loopback fake apiserver), cert-manager (CA injection annotations), existing Secret.

import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ensureHelm,
  findOne,
  parseObjects,
  renderChart,
  templateChart,
  templateChartAsync,
  type K8sObject,
} from './support/chart.js';
import { startFakeApiServer, type FakeApiServer } from './support/fake-apiserver.js';
import { SAMPLE_CA_PEM, VALUE_SETS } from './support/value-sets.js';

let helm = '';
let api: FakeApiServer | undefined;

beforeAll(async () => {
  helm = ensureHelm();
  api = await startFakeApiServer();
});
afterAll(async () => {
  await api?.close();
});

/** What Helm itself stamps on every object it installs (it refuses to adopt objects without it). */
const HELM_OWNERSHIP = {
  labels: { 'app.kubernetes.io/managed-by': 'Helm' },
  annotations: {
    'meta.helm.sh/release-name': 'tg',
    'meta.helm.sh/release-namespace': 'trustgate-system',
  },
};

const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
const caBundles = (objs: K8sObject[]): (string | undefined)[] =>
  objs
    .filter((o) => o.kind.endsWith('WebhookConfiguration'))
    .flatMap((o) =>
      (o['webhooks'] as { clientConfig: { caBundle?: string } }[]).map(
        (w) => w.clientConfig.caBundle,
      ),
    );
const secretData = (objs: K8sObject[]): Record<string, string> =>
  findOne(objs, 'Secret')['data'] as Record<string, string>;

/**
 * `helm template --dry-run=server` against the fake apiserver, so `lookup` really queries it.
 * Asynchronous: the fake apiserver runs in this process and must keep answering.
 */
async function renderWithCluster(values: Record<string, unknown>): Promise<K8sObject[]> {
  if (!api) throw new Error('fake apiserver not started');
  const r = await templateChartAsync(helm, values, {
    extraArgs: ['--dry-run=server', '--disable-openapi-validation', '--kubeconfig', api.kubeconfig],
  });
  if (r.status !== 0) throw new Error(`helm template --dry-run=server failed: ${r.stderr}`);
  return parseObjects(r.stdout);
}

describe('certificates.mode=helm (default)', () => {
  describe('when nothing is installed yet', () => {
    it('generates a CA, a serving certificate for the Service names, and sets caBundle on every webhook', () => {
      const objs = renderChart(helm, VALUE_SETS['mutating']);
      const data = secretData(objs);
      const ca = new X509Certificate(b64(data['ca.crt'] ?? ''));
      const serving = new X509Certificate(b64(data['tls.crt'] ?? ''));
      expect(ca.ca).toBe(true);
      expect(serving.verify(ca.publicKey)).toBe(true);
      expect(serving.checkHost('tg-trustgate.trustgate-system.svc')).toBe(
        'tg-trustgate.trustgate-system.svc',
      );
      expect(b64(data['tls.key'] ?? '')).toContain('PRIVATE KEY');
      const bundles = caBundles(objs);
      expect(bundles).toHaveLength(3);
      for (const bundle of bundles) expect(bundle).toBe(data['ca.crt']);
    });
    it('generates different material on every plain render (nothing to look up)', () => {
      const first = secretData(renderChart(helm));
      const second = secretData(renderChart(helm));
      expect(second['ca.crt']).not.toBe(first['ca.crt']);
    });
  });

  describe('when the Secret exists in the cluster (lookup, via the fake apiserver)', () => {
    it('reuses it, so caBundle is stable across upgrades', async () => {
      if (!api) throw new Error('fake apiserver not started');
      const installed = await renderWithCluster({});
      expect(api.requests).toContain(
        'GET /api/v1/namespaces/trustgate-system/secrets/tg-trustgate-tls',
      );
      const secret = findOne(installed, 'Secret');
      api.put('/api/v1/namespaces/trustgate-system/secrets/tg-trustgate-tls', {
        ...secret,
        metadata: { ...secret.metadata, ...HELM_OWNERSHIP },
      });

      const upgrade1 = await renderWithCluster({});
      const upgrade2 = await renderWithCluster({ webhook: { mutating: { enabled: true } } });
      expect(secretData(upgrade1)).toEqual(secretData(installed));
      expect(secretData(upgrade2)).toEqual(secretData(installed));
      for (const bundle of [...caBundles(upgrade1), ...caBundles(upgrade2)]) {
        expect(bundle).toBe(secretData(installed)['ca.crt']);
      }
    });
    it('generates fresh material when the stored Secret is incomplete', async () => {
      if (!api) throw new Error('fake apiserver not started');
      api.put('/api/v1/namespaces/trustgate-system/secrets/tg-trustgate-tls', {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'tg-trustgate-tls', namespace: 'trustgate-system', ...HELM_OWNERSHIP },
        data: { 'tls.crt': Buffer.from('x').toString('base64') },
      });
      const data = secretData(await renderWithCluster({}));
      expect(new X509Certificate(b64(data['ca.crt'] ?? '')).ca).toBe(true);
    });
  });
});

describe('certificates.mode=certManager', () => {
  describe('when rendered', () => {
    it('annotates both webhook configurations for CA injection and sets no caBundle', () => {
      const objs = renderChart(helm, {
        certificates: { mode: 'certManager' },
        webhook: { mutating: { enabled: true } },
      });
      const configs = objs.filter((o) => o.kind.endsWith('WebhookConfiguration'));
      expect(configs).toHaveLength(2);
      for (const c of configs) {
        expect(c.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(
          'trustgate-system/tg-trustgate-serving',
        );
      }
      expect(caBundles(objs).every((b) => b === undefined)).toBe(true);
      expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
    });
    it('chains self-signed Issuer → CA Certificate → CA Issuer → serving Certificate into the mounted Secret', () => {
      const objs = renderChart(helm, VALUE_SETS['certManager']);
      const caCert = findOne(objs, 'Certificate', 'tg-trustgate-ca');
      const caIssuer = findOne(objs, 'Issuer', 'tg-trustgate-ca');
      const serving = findOne(objs, 'Certificate', 'tg-trustgate-serving');
      expect(caCert['spec']).toMatchObject({
        isCA: true,
        issuerRef: { name: 'tg-trustgate-selfsigned', kind: 'Issuer' },
      });
      expect(findOne(objs, 'Issuer', 'tg-trustgate-selfsigned')['spec']).toEqual({
        selfSigned: {},
      });
      expect(caIssuer['spec']).toEqual({
        ca: { secretName: (caCert['spec'] as { secretName: string }).secretName },
      });
      expect(serving['spec']).toMatchObject({
        secretName: 'tg-trustgate-tls',
        issuerRef: { name: 'tg-trustgate-ca', kind: 'Issuer' },
        dnsNames: expect.arrayContaining(['tg-trustgate.trustgate-system.svc']),
      });
      const volumes = (
        findOne(objs, 'Deployment')['spec'] as {
          template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } };
        }
      ).template.spec.volumes;
      expect(volumes.find((v) => v.name === 'tls')?.secret?.secretName).toBe('tg-trustgate-tls');
    });
  });
});

describe('certificates.mode=existingSecret', () => {
  describe('when name and a PEM caBundle are given', () => {
    it('mounts that Secret and base64-encodes the PEM into every caBundle', () => {
      const objs = renderChart(helm, VALUE_SETS['existingSecret']);
      expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
      for (const bundle of caBundles(objs)) expect(b64(bundle ?? '')).toBe(SAMPLE_CA_PEM.trim());
      const volumes = (
        findOne(objs, 'Deployment')['spec'] as {
          template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } };
        }
      ).template.spec.volumes;
      expect(volumes.find((v) => v.name === 'tls')?.secret?.secretName).toBe('my-tls');
    });
  });
  describe('when the caBundle is already base64', () => {
    it('uses it unchanged', () => {
      const encoded = Buffer.from(SAMPLE_CA_PEM).toString('base64');
      const objs = renderChart(helm, {
        certificates: {
          mode: 'existingSecret',
          existingSecret: { name: 'my-tls', caBundle: encoded },
        },
      });
      for (const bundle of caBundles(objs)) expect(bundle).toBe(encoded);
    });
  });
  describe('when the caBundle is missing', () => {
    it('fails with a message naming the value', () => {
      const r = templateChart(helm, {
        certificates: { mode: 'existingSecret', existingSecret: { name: 'my-tls' } },
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('certificates.existingSecret.caBundle is required');
    });
  });
});
