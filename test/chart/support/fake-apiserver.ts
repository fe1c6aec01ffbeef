// SPDX-License-Identifier: Apache-2.0
// A loopback stand-in for kube-apiserver, just enough for `helm template --dry-run=server`:
// discovery for the kinds the chart renders, GET of stored objects (404 otherwise). It lets the
// chart's `lookup` of an existing Secret run for real without a cluster.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Resource = readonly [plural: string, kind: string, namespaced: boolean];

const GROUPS: Record<string, readonly Resource[]> = {
  '': [
    ['secrets', 'Secret', true],
    ['configmaps', 'ConfigMap', true],
    ['services', 'Service', true],
    ['serviceaccounts', 'ServiceAccount', true],
    ['namespaces', 'Namespace', false],
  ],
  apps: [['deployments', 'Deployment', true]],
  policy: [['poddisruptionbudgets', 'PodDisruptionBudget', true]],
  'rbac.authorization.k8s.io': [
    ['clusterroles', 'ClusterRole', false],
    ['clusterrolebindings', 'ClusterRoleBinding', false],
  ],
  'admissionregistration.k8s.io': [
    ['validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false],
    ['mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false],
  ],
};

export interface FakeApiServer {
  readonly kubeconfig: string;
  /** Request lines (`GET /api/v1/...`) seen so far. */
  readonly requests: string[];
  /** Stores an object; GET `/api/v1/namespaces/<ns>/secrets/<name>` then returns it. */
  put(path: string, body: unknown): void;
  close(): Promise<void>;
}

function resourceList(group: string): unknown {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? 'v1' : `${group}/v1`,
    resources: (GROUPS[group] ?? []).map(([name, kind, namespaced]) => ({
      name,
      singularName: kind.toLowerCase(),
      namespaced,
      kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    })),
  };
}

/** Starts the fake on a free 127.0.0.1 port and writes a kubeconfig pointing at it. */
export async function startFakeApiServer(): Promise<FakeApiServer> {
  const store = new Map<string, unknown>();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    requests.push(`${req.method ?? '?'} ${path}`);
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const groupMatch = /^\/apis\/([^/]+)\/v1$/.exec(path);
    if (path === '/version') {
      send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64' });
    } else if (path === '/api') {
      send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    } else if (path === '/apis') {
      const groups = Object.keys(GROUPS)
        .filter((g) => g !== '')
        .map((g) => ({
          name: g,
          versions: [{ groupVersion: `${g}/v1`, version: 'v1' }],
          preferredVersion: { groupVersion: `${g}/v1`, version: 'v1' },
        }));
      send(200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    } else if (path === '/api/v1') {
      send(200, resourceList(''));
    } else if (groupMatch?.[1] !== undefined && GROUPS[groupMatch[1]]) {
      send(200, resourceList(groupMatch[1]));
    } else if (req.method === 'GET' && store.has(path)) {
      send(200, store.get(path));
    } else {
      send(404, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-fake-apiserver-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: fake, cluster: {server: "http://127.0.0.1:${port}"}}]`,
      'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
      'users: [{name: fake, user: {}}]',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  return {
    kubeconfig,
    requests,
    put: (path, body) => store.set(path, body),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
