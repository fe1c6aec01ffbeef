// SPDX-License-Identifier: Apache-2.0
// Renders the chart with the defaults and each non-default values set, and validates every object
// against the Kubernetes schemas (CRD-defined kinds: structural checks).

import { beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { validatePolicyResource } from '../../src/core/policy/validate.js';
import {
  ensureHelm,
  findOne,
  kindsOf,
  renderChart,
  runHelm,
  CHART_DIR,
  type K8sObject,
} from './support/chart.js';
import { validateObjects } from './support/validate.js';
import { VALUE_SETS } from './support/value-sets.js';

let helm = '';
const rendered = new Map<string, K8sObject[]>();

beforeAll(() => {
  helm = ensureHelm();
  for (const [name, values] of Object.entries(VALUE_SETS))
    rendered.set(name, renderChart(helm, values));
});

function objectsOf(set: string): K8sObject[] {
  const objs = rendered.get(set);
  if (!objs) throw new Error(`values set ${set} was not rendered`);
  return objs;
}

describe('helm lint', () => {
  describe('when linting the chart with its defaults', () => {
    it('passes', () => {
      const r = runHelm(helm, ['lint', CHART_DIR]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('0 chart(s) failed');
      expect(r.status).toBe(0);
    });
    it('passes --strict', () => {
      const r = runHelm(helm, ['lint', '--strict', CHART_DIR]);
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
      expect(r.status).toBe(0);
    });
  });
  describe('when linting with cert-manager, the mutating webhook and monitoring on', () => {
    it('passes --strict', () => {
      const r = runHelm(helm, [
        'lint',
        '--strict',
        CHART_DIR,
        '--set',
        'certificates.mode=certManager,webhook.mutating.enabled=true,metrics.serviceMonitor.enabled=true,networkPolicy.enabled=true',
      ]);
      expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
      expect(r.status).toBe(0);
    });
  });
});

describe('helm template', () => {
  describe.each(Object.keys(VALUE_SETS))('with values set %s', (set) => {
    it('renders only objects that pass Kubernetes schema validation', () => {
      const objs = objectsOf(set);
      expect(objs.length).toBeGreaterThan(5);
      expect(validateObjects(objs)).toEqual([]);
    });
    it('namespaces every namespaced object in the release namespace', () => {
      const clusterScoped = new Set([
        'ClusterRole',
        'ClusterRoleBinding',
        'ValidatingWebhookConfiguration',
        'MutatingWebhookConfiguration',
        'ClusterTrustPolicy',
        'CustomResourceDefinition',
      ]);
      for (const o of objectsOf(set)) {
        if (clusterScoped.has(o.kind)) expect(o.metadata.namespace).toBeUndefined();
        else expect([o.kind, o.metadata.namespace]).toEqual([o.kind, 'trustgate-system']);
      }
    });
  });

  describe('when rendering the defaults', () => {
    it('renders the core objects and no optional ones', () => {
      expect(kindsOf(objectsOf('defaults'))).toEqual(
        [
          'ClusterRole',
          'ClusterRoleBinding',
          'ConfigMap',
          'Deployment',
          'PodDisruptionBudget',
          'Secret',
          'Service',
          'Service',
          'ServiceAccount',
          'ValidatingWebhookConfiguration',
        ].sort(),
      );
    });
  });

  describe('when optional features are enabled', () => {
    it('renders the cert-manager chain instead of a Secret', () => {
      const kinds = kindsOf(objectsOf('certManager'));
      expect(kinds.filter((k) => k === 'Issuer')).toHaveLength(2);
      expect(kinds.filter((k) => k === 'Certificate')).toHaveLength(2);
      expect(kinds).not.toContain('Secret');
    });
    it('renders only the serving Certificate when an issuerRef is given', () => {
      const objs = objectsOf('certManagerWithIssuer');
      expect(kindsOf(objs)).not.toContain('Issuer');
      const cert = findOne(objs, 'Certificate');
      expect(cert['spec']).toMatchObject({ issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } });
    });
    it('renders a ServiceMonitor selecting the metrics Service and a NetworkPolicy', () => {
      const objs = objectsOf('monitoringAndNetworkPolicy');
      const sm = findOne(objs, 'ServiceMonitor');
      const metricsSvc = findOne(objs, 'Service', 'tg-trustgate-metrics');
      const selector = (sm['spec'] as { selector: { matchLabels: Record<string, string> } })
        .selector;
      for (const [k, v] of Object.entries(selector.matchLabels)) {
        expect(metricsSvc.metadata.labels?.[k]).toBe(v);
      }
      expect(sm.metadata.labels?.['release']).toBe('prometheus');
      const np = findOne(objs, 'NetworkPolicy');
      expect(np['spec']).toMatchObject({ policyTypes: ['Ingress', 'Egress'] });
    });
    it('renders one ClusterTrustPolicy per values entry', () => {
      const policies = objectsOf('policiesFromValues').filter(
        (o) => o.kind === 'ClusterTrustPolicy',
      );
      expect(policies.map((p) => p.metadata.name)).toEqual([
        'myorg-releases',
        'warn-everything-else',
      ]);
      expect(policies[0]?.apiVersion).toBe('trustgate.dev/v1alpha1');
      expect(policies[0]?.metadata.labels?.['team']).toBe('platform');
    });
  });
});

describe('NOTES.txt', () => {
  describe('when the chart is installed (helm install --dry-run=client)', () => {
    const notes = (): string => {
      const r = runHelm(helm, [
        'install',
        'tg',
        CHART_DIR,
        '--namespace',
        'trustgate-system',
        '--dry-run=client',
      ]);
      expect(r.status).toBe(0);
      const at = r.stdout.indexOf('NOTES:\n');
      expect(at).toBeGreaterThan(0);
      return r.stdout.slice(at);
    };

    it('tells how to write, validate and test a first policy', () => {
      const text = notes();
      expect(text).toContain('trustgate policy validate policy.yaml');
      expect(text).toMatch(/kubectl run \S+ --image=\S*unsigned/);
      expect(text).toContain('rollout status deployment/tg-trustgate');
    });
    it('shows an example policy that trustgate accepts', () => {
      const text = notes();
      const start = text.indexOf('   apiVersion: trustgate.dev/v1alpha1');
      const end = text.indexOf('   Check it before applying it:');
      const example = parse(
        text
          .slice(start, end)
          .split('\n')
          .map((l) => l.slice(3))
          .join('\n'),
      ) as unknown;
      const result = validatePolicyResource(example);
      expect(result.ok ? [] : result.errors).toEqual([]);
    });
  });
});
