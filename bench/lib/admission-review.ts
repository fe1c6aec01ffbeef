// SPDX-License-Identifier: Apache-2.0
// A realistic Pod AdmissionReview (≈ 8.6 KB compact, as in perf-baseline §Method): a Pod created
// by a ReplicaSet with 3 containers, env/valueFrom, probes, resources, securityContext, 3 volumes
// (one the projected kube-api-access volume), ownerReferences and a managedFields entry.

const UID = '5c1f6a2e-8d3b-4f7a-9e21-0b6c3d4e5f60';

function container(name: string, image: string, port: number): Record<string, unknown> {
  return {
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env: [
      {
        name: 'POD_NAME',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } },
      },
      {
        name: 'POD_NAMESPACE',
        valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
      },
      {
        name: 'LOG_LEVEL',
        valueFrom: { configMapKeyRef: { name: 'web-config', key: 'log-level' } },
      },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'web-db', key: 'password' } } },
    ],
    resources: {
      limits: { cpu: '500m', memory: '256Mi' },
      requests: { cpu: '100m', memory: '128Mi' },
    },
    livenessProbe: {
      httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
      initialDelaySeconds: 5,
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: '/readyz', port: 'http', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 5,
      successThreshold: 1,
      failureThreshold: 3,
    },
    volumeMounts: [
      { name: 'config', readOnly: true, mountPath: '/etc/web' },
      { name: 'cache', mountPath: '/var/cache/web' },
      {
        name: 'kube-api-access-x7k2p',
        readOnly: true,
        mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
      },
    ],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    securityContext: {
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

function fieldsFor(names: readonly string[]): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const n of names) {
    containers[`k:{"name":"${n}"}`] = {
      '.': {},
      'f:env': {
        '.': {},
        'k:{"name":"POD_NAME"}': {
          '.': {},
          'f:name': {},
          'f:valueFrom': { '.': {}, 'f:fieldRef': {} },
        },
      },
      'f:image': {},
      'f:imagePullPolicy': {},
      'f:livenessProbe': {
        '.': {},
        'f:httpGet': { '.': {}, 'f:path': {}, 'f:port': {}, 'f:scheme': {} },
      },
      'f:name': {},
      'f:ports': {
        '.': {},
        'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
      },
      'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:cpu': {}, 'f:memory': {} } },
      'f:securityContext': { '.': {}, 'f:allowPrivilegeEscalation': {}, 'f:capabilities': {} },
      'f:volumeMounts': { '.': {}, 'k:{"mountPath":"/etc/web"}': {} },
    };
  }
  return {
    'f:metadata': {
      'f:generateName': {},
      'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} },
      'f:ownerReferences': { '.': {}, 'k:{"uid":"0f9e8d7c-6b5a-4a3b-9c2d-1e0f2a3b4c5d"}': {} },
    },
    'f:spec': { 'f:containers': containers, 'f:dnsPolicy': {}, 'f:volumes': {} },
  };
}

/** The AdmissionReview request for a Pod running `images` (3 expected), as a compact JSON string. */
export function podAdmissionReview(images: readonly string[]): string {
  const names = images.map((_, i) => ['web', 'proxy', 'log-shipper', 'extra'][i] ?? `c${i}`);
  const pod = {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      generateName: 'web-7d4b9c8f6d-',
      namespace: 'default',
      creationTimestamp: null,
      labels: {
        app: 'web',
        'pod-template-hash': '7d4b9c8f6d',
        'app.kubernetes.io/part-of': 'shop',
      },
      annotations: {
        'kubectl.kubernetes.io/restartedAt': '2026-12-01T09:14:07Z',
        'prometheus.io/scrape': 'true',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d4b9c8f6d',
          uid: '0f9e8d7c-6b5a-4a3b-9c2d-1e0f2a3b4c5d',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-12-02T10:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: fieldsFor(names),
        },
      ],
    },
    spec: {
      volumes: [
        { name: 'config', configMap: { name: 'web-config', defaultMode: 420 } },
        { name: 'cache', emptyDir: { sizeLimit: '64Mi' } },
        {
          name: 'kube-api-access-x7k2p',
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              {
                configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] },
              },
              {
                downwardAPI: {
                  items: [
                    {
                      path: 'namespace',
                      fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' },
                    },
                  ],
                },
              },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: images.map((image, i) => container(names[i]!, image, 8080 + i)),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'web',
      serviceAccount: 'web',
      securityContext: { runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001 },
      schedulerName: 'default-scheduler',
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
        {
          key: 'node.kubernetes.io/unreachable',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: { phase: 'Pending', qosClass: 'Burstable' },
  };
  return JSON.stringify({
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: UID,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:kube-system:replicaset-controller',
        uid: '3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d',
        groups: [
          'system:serviceaccounts',
          'system:serviceaccounts:kube-system',
          'system:authenticated',
        ],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  });
}

/** The uid every generated review carries (servers must echo it). */
export const REVIEW_UID = UID;
