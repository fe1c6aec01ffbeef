// SPDX-License-Identifier: Apache-2.0
// The security-relevant fields of the rendered chart: pod hardening, webhook registration (what is
// checked, how failures behave, which namespaces are exempt), RBAC verbs, availability guarantees.

import { beforeAll, describe, expect, it } from '@jest/globals';
import { ensureHelm, field, findOne, renderChart, type K8sObject } from './support/chart.js';
import { VALUE_SETS } from './support/value-sets.js';

let helm = '';
let defaults: K8sObject[] = [];

beforeAll(() => {
  helm = ensureHelm();
  defaults = renderChart(helm);
});

interface Container {
  name: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  securityContext: Record<string, unknown>;
  livenessProbe: { httpGet: { path: string; port: string; scheme: string } };
  readinessProbe: { httpGet: { path: string; port: string; scheme: string } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Webhook {
  name: string;
  clientConfig: {
    service: { name: string; namespace: string; path: string; port: number };
    caBundle?: string;
  };
  failurePolicy: string;
  sideEffects: string;
  timeoutSeconds: number;
  admissionReviewVersions: string[];
  matchPolicy: string;
  reinvocationPolicy?: string;
  namespaceSelector?: { matchExpressions: { key: string; operator: string; values?: string[] }[] };
  rules: {
    apiGroups: string[];
    apiVersions: string[];
    operations: string[];
    resources: string[];
  }[];
}
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const podSpec = (objs: K8sObject[]): Record<string, unknown> =>
  field(findOne(objs, 'Deployment'), 'spec', 'template', 'spec') as Record<string, unknown>;
const container = (objs: K8sObject[]): Container =>
  (podSpec(objs)['containers'] as Container[])[0] as Container;
const webhooks = (objs: K8sObject[], kind: string): Webhook[] =>
  findOne(objs, kind)['webhooks'] as Webhook[];
const webhook = (objs: K8sObject[], kind: string, name: string): Webhook => {
  const w = webhooks(objs, kind).find((x) => x.name === name);
  if (!w) throw new Error(`no webhook ${name} in ${kind}`);
  return w;
};
const clusterRoleRules = (objs: K8sObject[]): PolicyRule[] =>
  findOne(objs, 'ClusterRole')['rules'] as PolicyRule[];

/** Every (group, resource) a webhook's rules cover, as `group/resource` ('' = core). */
function coveredResources(w: Webhook): string[] {
  return w.rules
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`)))
    .sort();
}

describe('Deployment', () => {
  describe('when rendered with defaults', () => {
    it('runs at least 2 replicas', () => {
      expect(field(findOne(defaults, 'Deployment'), 'spec', 'replicas')).toBeGreaterThanOrEqual(2);
    });
    it('runs as a numeric non-root user with a RuntimeDefault seccomp profile (pod level)', () => {
      const sc = podSpec(defaults)['securityContext'] as Record<string, unknown>;
      expect(sc['runAsNonRoot']).toBe(true);
      expect(Number.isInteger(sc['runAsUser'])).toBe(true);
      expect(sc['runAsUser']).toBeGreaterThan(0);
      expect(sc['seccompProfile']).toEqual({ type: 'RuntimeDefault' });
    });
    it('hardens the container: read-only root, no privilege escalation, no capabilities', () => {
      const sc = container(defaults).securityContext;
      expect(sc).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(Number.isInteger(sc['runAsUser'])).toBe(true);
      expect(field(sc, 'capabilities', 'add')).toBeUndefined();
    });
    it('gives the process exactly one writable path: a size-capped /tmp emptyDir', () => {
      const c = container(defaults);
      const writable = c.volumeMounts.filter((m) => m.readOnly !== true);
      expect(writable.map((m) => m.mountPath)).toEqual(['/tmp']);
      const volumes = podSpec(defaults)['volumes'] as {
        name: string;
        emptyDir?: { sizeLimit?: string };
      }[];
      const tmp = volumes.find((v) => v.name === writable[0]?.name);
      expect(tmp?.emptyDir?.sizeLimit).toBeDefined();
    });
    it('starts `serve` with the documented arguments', () => {
      expect(container(defaults).args).toEqual([
        'serve',
        '--port',
        '8443',
        '--metrics-port',
        '9090',
        '--tls-cert',
        '/tls/tls.crt',
        '--tls-key',
        '/tls/tls.key',
        '--config',
        '/config/config.yaml',
      ]);
    });
    it('probes /healthz and /readyz over HTTPS on the webhook port', () => {
      const c = container(defaults);
      expect(c.livenessProbe.httpGet).toEqual({
        path: '/healthz',
        port: 'webhook',
        scheme: 'HTTPS',
      });
      expect(c.readinessProbe.httpGet).toEqual({
        path: '/readyz',
        port: 'webhook',
        scheme: 'HTTPS',
      });
      expect(c.ports.find((p) => p.name === 'webhook')?.containerPort).toBe(8443);
    });
    it('prefers one replica per node and spreads across zones', () => {
      const spec = podSpec(defaults);
      const anti = field(
        spec,
        'affinity',
        'podAntiAffinity',
        'preferredDuringSchedulingIgnoredDuringExecution',
      );
      expect(anti).toEqual([
        expect.objectContaining({
          podAffinityTerm: expect.objectContaining({ topologyKey: 'kubernetes.io/hostname' }),
        }),
      ]);
      expect(
        field(
          spec,
          'affinity',
          'podAntiAffinity',
          'requiredDuringSchedulingIgnoredDuringExecution',
        ),
      ).toBeUndefined();
      expect(spec['topologySpreadConstraints']).toEqual([
        expect.objectContaining({
          topologyKey: 'topology.kubernetes.io/zone',
          whenUnsatisfiable: 'ScheduleAnyway',
        }),
      ]);
    });
    it('mounts the TLS Secret the certificate machinery writes', () => {
      const volumes = podSpec(defaults)['volumes'] as {
        name: string;
        secret?: { secretName: string };
      }[];
      const tlsSecret = findOne(defaults, 'Secret');
      expect(volumes.find((v) => v.name === 'tls')?.secret?.secretName).toBe(
        tlsSecret.metadata.name,
      );
    });
    it('sets no priorityClassName unless asked', () => {
      expect(podSpec(defaults)['priorityClassName']).toBeUndefined();
    });
  });
  describe('when replicaCount=3 and a priorityClassName are set', () => {
    it('renders both', () => {
      const objs = renderChart(helm, VALUE_SETS['threeReplicasCritical']);
      expect(field(findOne(objs, 'Deployment'), 'spec', 'replicas')).toBe(3);
      expect(podSpec(objs)['priorityClassName']).toBe('system-cluster-critical');
    });
  });
});

describe('PodDisruptionBudget', () => {
  describe('when rendered with defaults', () => {
    it('allows one voluntary disruption, so a node drain never blocks with 2 replicas', () => {
      const spec = findOne(defaults, 'PodDisruptionBudget')['spec'] as Record<string, unknown>;
      expect(spec['maxUnavailable']).toBe(1);
      expect(spec['minAvailable']).toBeUndefined();
      const podLabels = field(
        findOne(defaults, 'Deployment'),
        'spec',
        'template',
        'metadata',
        'labels',
      );
      expect(podLabels).toMatchObject(
        field(spec, 'selector', 'matchLabels') as Record<string, string>,
      );
    });
  });
});

describe('Service', () => {
  describe('when rendered with defaults', () => {
    it('exposes 443 and forwards to the named webhook port', () => {
      const svc = findOne(defaults, 'Service', 'tg-trustgate');
      expect(field(svc, 'spec', 'ports')).toEqual([
        { name: 'https', port: 443, targetPort: 'webhook', protocol: 'TCP' },
      ]);
    });
  });
});

describe('ValidatingWebhookConfiguration', () => {
  describe('when rendered with defaults', () => {
    const w = (): Webhook =>
      webhook(defaults, 'ValidatingWebhookConfiguration', 'validate.trustgate.dev');

    it('fails closed, declares no side effects and speaks AdmissionReview v1 only', () => {
      expect(w()).toMatchObject({
        failurePolicy: 'Fail',
        sideEffects: 'None',
        timeoutSeconds: 10,
        admissionReviewVersions: ['v1'],
        matchPolicy: 'Equivalent',
      });
    });
    it('calls /validate on the chart Service', () => {
      expect(w().clientConfig.service).toEqual({
        name: 'tg-trustgate',
        namespace: 'trustgate-system',
        path: '/validate',
        port: 443,
      });
    });
    it('covers every workload kind, ephemeral containers included, on CREATE and UPDATE', () => {
      expect(coveredResources(w())).toEqual(
        [
          '/pods',
          '/pods/ephemeralcontainers',
          '/replicationcontrollers',
          'apps/daemonsets',
          'apps/deployments',
          'apps/replicasets',
          'apps/statefulsets',
          'batch/cronjobs',
          'batch/jobs',
        ].sort(),
      );
      for (const r of w().rules) expect(r.operations).toEqual(['CREATE', 'UPDATE']);
    });
    it('exempts kube-system, its own namespace and namespaces labelled trustgate.dev/ignore', () => {
      expect(w().namespaceSelector?.matchExpressions).toEqual(
        expect.arrayContaining([
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'NotIn',
            values: ['kube-system', 'trustgate-system'],
          },
          { key: 'trustgate.dev/ignore', operator: 'DoesNotExist' },
        ]),
      );
    });
    it('validates TrustPolicy and ClusterTrustPolicy objects at /validate-policy', () => {
      const p = webhook(defaults, 'ValidatingWebhookConfiguration', 'policies.trustgate.dev');
      expect(p.clientConfig.service.path).toBe('/validate-policy');
      expect(coveredResources(p)).toEqual([
        'trustgate.dev/clustertrustpolicies',
        'trustgate.dev/trustpolicies',
      ]);
      expect(p).toMatchObject({ sideEffects: 'None', admissionReviewVersions: ['v1'] });
    });
    it('renders no MutatingWebhookConfiguration', () => {
      expect(defaults.some((o) => o.kind === 'MutatingWebhookConfiguration')).toBe(false);
    });
  });
  describe('when failurePolicy, timeoutSeconds and extra exclusions are set', () => {
    it('renders them', () => {
      const objs = renderChart(helm, {
        webhook: {
          failurePolicy: 'Ignore',
          timeoutSeconds: 5,
          namespaceSelector: { excludeNamespaces: ['monitoring'] },
        },
        replicaCount: 1,
      });
      const w = webhook(objs, 'ValidatingWebhookConfiguration', 'validate.trustgate.dev');
      expect(w.failurePolicy).toBe('Ignore');
      expect(w.timeoutSeconds).toBe(5);
      expect(w.namespaceSelector?.matchExpressions[0]?.values).toEqual([
        'kube-system',
        'trustgate-system',
        'monitoring',
      ]);
    });
  });
});

describe('MutatingWebhookConfiguration', () => {
  describe('when webhook.mutating.enabled=true', () => {
    it('pins digests at /mutate with reinvocation, the same rules and exemptions', () => {
      const objs = renderChart(helm, VALUE_SETS['mutating']);
      const m = webhook(objs, 'MutatingWebhookConfiguration', 'mutate.trustgate.dev');
      const v = webhook(objs, 'ValidatingWebhookConfiguration', 'validate.trustgate.dev');
      expect(m).toMatchObject({
        reinvocationPolicy: 'IfNeeded',
        failurePolicy: 'Fail',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
      });
      expect(m.clientConfig.service.path).toBe('/mutate');
      expect(m.clientConfig.caBundle).toBe(v.clientConfig.caBundle);
      expect(m.rules).toEqual(v.rules);
      expect(m.namespaceSelector).toEqual(v.namespaceSelector);
    });
  });
});

describe('ClusterRole', () => {
  describe('when rendered with defaults', () => {
    it('grants exactly the intended verbs', () => {
      expect(clusterRoleRules(defaults)).toEqual([
        {
          apiGroups: ['trustgate.dev'],
          resources: ['trustpolicies', 'clustertrustpolicies'],
          verbs: ['get', 'list', 'watch'],
        },
        {
          apiGroups: ['trustgate.dev'],
          resources: ['trustpolicies/status', 'clustertrustpolicies/status'],
          verbs: ['update', 'patch'],
        },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets', 'serviceaccounts'], verbs: ['get'] },
        { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create'] },
      ]);
    });
    it('contains no wildcard and no write verb on anything but policy status and events', () => {
      for (const r of clusterRoleRules(defaults)) {
        expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
        const writes = r.verbs.filter((v) => !['get', 'list', 'watch'].includes(v));
        if (writes.length > 0) {
          expect(r.resources.every((res) => res.endsWith('/status') || res === 'events')).toBe(
            true,
          );
        }
      }
    });
    it('binds the role to the chart ServiceAccount', () => {
      const binding = findOne(defaults, 'ClusterRoleBinding');
      const sa = findOne(defaults, 'ServiceAccount');
      expect(binding['subjects']).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'trustgate-system' },
      ]);
      expect(field(podSpec(defaults), 'serviceAccountName')).toBe(sa.metadata.name);
    });
  });
  describe('when rbac.pullSecrets.enabled=false', () => {
    it('drops the cluster-wide read of Secrets and ServiceAccounts', () => {
      const rules = clusterRoleRules(renderChart(helm, VALUE_SETS['pullSecretsOff']));
      expect(rules.flatMap((r) => r.resources)).not.toContain('secrets');
      expect(rules.flatMap((r) => r.resources)).not.toContain('serviceaccounts');
      expect(rules).toHaveLength(clusterRoleRules(defaults).length - 1);
    });
  });
  describe('when rbac.pullSecrets.enabled=false and config.registry.pullSecrets names Secrets', () => {
    it('grants get on exactly those Secrets, per namespace, with resourceNames', () => {
      const objs = renderChart(helm, {
        rbac: { pullSecrets: { enabled: false } },
        config: {
          registry: { pullSecrets: ['trustgate-system/hub', 'trustgate-system/quay', 'ci/robot'] },
        },
      });
      const roles = objs.filter((o) => o.kind === 'Role');
      expect(roles.map((r) => [r.metadata.namespace, r['rules']]).sort()).toEqual([
        [
          'ci',
          [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['robot'], verbs: ['get'] }],
        ],
        [
          'trustgate-system',
          [
            {
              apiGroups: [''],
              resources: ['secrets'],
              resourceNames: ['hub', 'quay'],
              verbs: ['get'],
            },
          ],
        ],
      ]);
      const bindings = objs.filter((o) => o.kind === 'RoleBinding');
      expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(['ci', 'trustgate-system']);
      for (const b of bindings) {
        expect(b['subjects']).toEqual([
          { kind: 'ServiceAccount', name: 'tg-trustgate', namespace: 'trustgate-system' },
        ]);
      }
    });
  });
  describe('when rbac.pullSecrets.enabled=true', () => {
    it('renders no per-namespace Roles (the ClusterRole already covers them)', () => {
      const objs = renderChart(helm, { config: { registry: { pullSecrets: ['ci/robot'] } } });
      expect(objs.some((o) => o.kind === 'Role' || o.kind === 'RoleBinding')).toBe(false);
    });
  });
});
