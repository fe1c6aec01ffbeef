// SPDX-License-Identifier: Apache-2.0
// values.schema.json and the chart's own guards reject bad values at `helm template` time, and
// what the chart renders is accepted by the code that consumes it (runtime config, policies, CRDs).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/config.js';
import { validatePolicyResource } from '../../src/core/policy/validate.js';
import { CHART_DIR, ensureHelm, findOne, renderChart, templateChart } from './support/chart.js';
import { validateObjects } from './support/validate.js';
import { VALUE_SETS } from './support/value-sets.js';

let helm = '';
beforeAll(() => {
  helm = ensureHelm();
});

describe('values.schema.json', () => {
  describe.each([
    ['a string replica count', { replicaCount: 'two' }, '/replicaCount'],
    ['an unknown top-level key', { replicas: 2 }, "additional properties 'replicas' not allowed"],
    [
      'a typo inside config',
      { config: { failureActoin: 'deny' } },
      "additional properties 'failureActoin'",
    ],
    ['an unknown failurePolicy', { webhook: { failurePolicy: 'Deny' } }, '/webhook/failurePolicy'],
    [
      'timeoutSeconds above the apiserver maximum',
      { webhook: { timeoutSeconds: 31 } },
      '/webhook/timeoutSeconds',
    ],
    ['an unknown certificate mode', { certificates: { mode: 'selfSigned' } }, '/certificates/mode'],
    [
      'a non-boolean rbac switch',
      { rbac: { pullSecrets: { enabled: 'sometimes' } } },
      '/rbac/pullSecrets/enabled',
    ],
    ['a policy without spec', { policies: [{ name: 'p' }] }, '/policies/0'],
    [
      'a config action other than deny/allow',
      { config: { noMatchAction: 'warn' } },
      '/config/noMatchAction',
    ],
    [
      'a shutdown delay above 60 s',
      { config: { shutdownDelaySeconds: 61 }, terminationGracePeriodSeconds: 120 },
      '/config/shutdownDelaySeconds',
    ],
    [
      'a negative shutdown delay',
      { config: { shutdownDelaySeconds: -1 } },
      '/config/shutdownDelaySeconds',
    ],
  ])('when given %s', (_label, values, expected) => {
    it('makes helm template fail and names the offending value', () => {
      const r = templateChart(helm, values);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("values don't meet the specifications of the schema");
      expect(r.stderr).toContain(expected);
    });
  });
});

describe('chart guards', () => {
  describe('when a single replica would fail closed', () => {
    it('refuses to render', () => {
      const r = templateChart(helm, { replicaCount: 1 });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('replicaCount must be at least 2');
    });
  });
  describe('when the server margin is not below the webhook timeout', () => {
    it('refuses to render', () => {
      const r = templateChart(helm, {
        webhook: { timeoutSeconds: 2 },
        config: { timeoutMarginSeconds: 2 },
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(
        'config.timeoutMarginSeconds (2) must be below webhook.timeoutSeconds (2)',
      );
    });
  });
});

describe('shutdown delay guard', () => {
  describe('when the grace period leaves no more than 5 s to drain after the default 5 s delay', () => {
    it('refuses to render, naming both values', () => {
      const r = templateChart(helm, { terminationGracePeriodSeconds: 10 });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(
        'terminationGracePeriodSeconds (10) must be more than config.shutdownDelaySeconds (5) + 5',
      );
    });
  });
  describe('when a longer delay eats the default 30 s grace period', () => {
    it('refuses to render', () => {
      const r = templateChart(helm, { config: { shutdownDelaySeconds: 25 } });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(
        'terminationGracePeriodSeconds (30) must be more than config.shutdownDelaySeconds (25) + 5',
      );
    });
  });
  describe('when the grace period exceeds delay + 5 s', () => {
    it.each([
      [{ terminationGracePeriodSeconds: 11 }],
      [{ terminationGracePeriodSeconds: 6, config: { shutdownDelaySeconds: 0 } }],
      [{ terminationGracePeriodSeconds: 66, config: { shutdownDelaySeconds: 60 } }],
    ])('renders %j', (values) => {
      const r = templateChart(helm, values);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  });
});

describe('rendered runtime config', () => {
  describe('when rendered with defaults', () => {
    it('is accepted by parseConfig and carries the release namespace', () => {
      const cm = findOne(renderChart(helm), 'ConfigMap');
      const config = parseConfig(
        parse((cm['data'] as Record<string, string>)['config.yaml'] ?? ''),
        'config.yaml',
      );
      expect(config).toMatchObject({
        failureAction: 'deny',
        noMatchAction: 'deny',
        mutate: false,
        namespace: 'trustgate-system',
        timeoutMarginMs: 1000,
        defaultTimeoutMs: 10_000,
        shutdownDelayMs: 5000,
      });
    });
  });
  describe('when every config value is set', () => {
    it('passes them through to parseConfig unchanged', () => {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      const cm = findOne(
        renderChart(helm, {
          webhook: { mutating: { enabled: true } },
          config: {
            failureAction: 'allow',
            noMatchAction: 'allow',
            timeoutSeconds: 8,
            timeoutMarginSeconds: 2,
            shutdownDelaySeconds: 2.5,
            cache: { maxEntries: 5, maxTtlSeconds: 60, negativeTtlSeconds: 5, tagTtlSeconds: 10 },
            registry: {
              verifyDigest: false,
              insecureRegistries: ['registry.lan:5000'],
              caBundles: { 'registry.corp': pem },
              mirrors: { 'docker.io': ['https://mirror.corp'] },
              pullSecrets: ['trustgate/dockerhub'],
            },
          },
        }),
        'ConfigMap',
      );
      const config = parseConfig(
        parse((cm['data'] as Record<string, string>)['config.yaml'] ?? ''),
      );
      expect(config).toEqual({
        failureAction: 'allow',
        noMatchAction: 'allow',
        defaultTimeoutMs: 8000,
        timeoutMarginMs: 2000,
        shutdownDelayMs: 2500,
        cache: { maxEntries: 5, maxTtlMs: 60_000, negativeTtlMs: 5000, tagTtlMs: 10_000 },
        registry: {
          verifyDigest: false,
          insecureRegistries: ['registry.lan:5000'],
          caBundles: { 'registry.corp': pem },
          mirrors: { 'docker.io': ['https://mirror.corp'] },
          pullSecrets: ['trustgate/dockerhub'],
        },
        mutate: true,
        namespace: 'trustgate-system',
      });
    });
  });
});

describe('policies from values', () => {
  describe('when the sample policies are rendered', () => {
    it('produces ClusterTrustPolicies that trustgate validates as correct', () => {
      const policies = renderChart(helm, VALUE_SETS['policiesFromValues']).filter(
        (o) => o.kind === 'ClusterTrustPolicy',
      );
      expect(policies).toHaveLength(2);
      for (const p of policies) {
        const result = validatePolicyResource(p);
        expect(result.ok ? [] : result.errors).toEqual([]);
      }
    });
  });
});

describe('crds/', () => {
  const crdFiles = readdirSync(join(CHART_DIR, 'crds'), { withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => e.name);

  describe('when rendered with --include-crds', () => {
    it('yields one valid CustomResourceDefinition per YAML file there', () => {
      const objs = renderChart(helm, {}, { extraArgs: ['--include-crds'] });
      const crds = objs.filter((o) => o.kind === 'CustomResourceDefinition');
      expect(crds).toHaveLength(crdFiles.length);
      expect(validateObjects(crds)).toEqual([]);
    });
  });
});

describe('chart README', () => {
  describe('when compared with values.yaml', () => {
    it('documents every values key in its table', () => {
      const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<
        string,
        unknown
      >;
      const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
      const leaves: string[] = [];
      const walk = (obj: Record<string, unknown>, prefix: string): void => {
        for (const [k, v] of Object.entries(obj)) {
          const key = prefix ? `${prefix}.${k}` : k;
          const isMap =
            typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;
          if (
            isMap &&
            !['resources', 'podSecurityContext', 'containerSecurityContext'].includes(key)
          ) {
            walk(v as Record<string, unknown>, key);
          } else {
            leaves.push(key);
          }
        }
      };
      walk(values, '');
      expect(leaves.length).toBeGreaterThan(40);
      const documented = new Set([...readme.matchAll(/^\| `([^`]+)` +\|/gm)].map((m) => m[1]));
      expect(leaves.filter((k) => !documented.has(k))).toEqual([]);
    });
  });
});
