// SPDX-License-Identifier: Apache-2.0
// Builds the KubeConfig (in-cluster, from a kubeconfig file, or pointed at a test server) and the
// API objects every k8s/ module uses. main.ts is the only caller outside tests.

import { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '../core/errors.js';

/** The API group and version of trustgate's custom resources. */
export const TRUSTGATE_GROUP = 'trustgate.dev';
export const TRUSTGATE_VERSION = 'v1alpha1';

/**
 * The logging k8s/ needs: a message and structured fields, as observability's Logger takes them
 * (which satisfies this port; k8s/ may not import it, STYLE §2). Secret values are never passed.
 */
export interface K8sLogger {
  info(msg: string, fields: Record<string, unknown>): void;
  warn(msg: string, fields: Record<string, unknown>): void;
  error(msg: string, fields: Record<string, unknown>): void;
}

/** A logger that drops everything (default for tests and library use). */
export const silentLogger: K8sLogger = { info: () => {}, warn: () => {}, error: () => {} };

export interface KubeClients {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
}

export interface LoadKubeConfigOptions {
  /** Path of a kubeconfig file; absent = in-cluster service-account config. */
  readonly kubeconfigPath?: string;
  /** Context to use from the kubeconfig (default: its current-context). */
  readonly context?: string;
}

/**
 * Load the KubeConfig: from `kubeconfigPath` when given, otherwise the in-cluster service account
 * (`KUBERNETES_SERVICE_HOST` + the mounted token and CA; client-node reads them).
 * @throws ConfigError INVALID_CONFIG when the file cannot be read/parsed, the context does not
 *   exist, or no cluster is configured.
 */
export function loadKubeConfig(opts: LoadKubeConfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  const where = opts.kubeconfigPath ?? 'in-cluster service account';
  try {
    if (opts.kubeconfigPath !== undefined) kc.loadFromFile(opts.kubeconfigPath);
    else kc.loadFromCluster();
    if (opts.context !== undefined) kc.setCurrentContext(opts.context);
  } catch (err) {
    throw new ConfigError(
      'INVALID_CONFIG',
      `cannot load Kubernetes config from ${where}: ${errorText(err)}`,
      {
        cause: err,
      },
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new ConfigError(
      'INVALID_CONFIG',
      `Kubernetes config from ${where} has no current cluster`,
    );
  }
  // client-node builds `https://undefined:undefined` when KUBERNETES_SERVICE_HOST/PORT are unset.
  if (cluster.server.includes('://undefined')) {
    throw new ConfigError(
      'INVALID_CONFIG',
      'not running in a Kubernetes cluster (KUBERNETES_SERVICE_HOST is unset): pass a kubeconfig file, or use --policies DIR',
    );
  }
  return kc;
}

/** Namespace of the current context (in-cluster: the pod's own namespace), if set. */
export function currentNamespace(kc: KubeConfig): string | undefined {
  const ns = kc.getContextObject(kc.getCurrentContext())?.namespace?.trim();
  return ns ? ns : undefined;
}

/**
 * A KubeConfig for one explicit server (tests: the fake apiserver on `http://127.0.0.1:<port>`).
 * No client certificates; a static bearer token.
 */
export function kubeConfigForServer(server: string, token = 'test-token'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'trustgate', server, skipTLSVerify: true }],
    users: [{ name: 'trustgate', token }],
    contexts: [{ name: 'trustgate', cluster: 'trustgate', user: 'trustgate' }],
    currentContext: 'trustgate',
  });
  return kc;
}

/** The typed API clients built from one KubeConfig. */
export function createKubeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
  };
}

/** HTTP status of a client-node error (`ApiException.code`, watch errors' `statusCode`), if any. */
export function statusCodeOf(err: unknown): number | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/**
 * A short, log-safe description of a client-node error: the HTTP status or the first line of the
 * message. `ApiException` messages embed the response body and headers; never log those whole.
 */
export function errorText(err: unknown): string {
  const code = statusCodeOf(err);
  if (code !== undefined) return `HTTP ${code}`;
  if (err instanceof Error) return (err.message.split('\n')[0] ?? '').slice(0, 200);
  return String(err).slice(0, 200);
}
