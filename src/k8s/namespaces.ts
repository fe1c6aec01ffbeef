// SPDX-License-Identifier: Apache-2.0
// Namespace labels for ClusterTrustPolicy namespaceSelector matching, kept current by an informer
// so the admission path never calls the apiserver.

import type { CoreV1Api, KubeConfig, V1Namespace } from '@kubernetes/client-node';
import type { NamespaceInfo, NamespaceSource } from '../verify/ports.js';
import { silentLogger, type K8sLogger } from './client.js';
import { ResilientInformer, type BackoffOptions } from './resilient-informer.js';

export const NAMESPACES_PATH = '/api/v1/namespaces';

export interface NamespaceInformerOptions {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly logger?: K8sLogger;
  readonly backoff?: BackoffOptions;
}

/** A NamespaceSource fed by a namespace informer. */
export class NamespaceInformer implements NamespaceSource {
  private readonly byName = new Map<string, NamespaceInfo>();
  private readonly informer: ResilientInformer<V1Namespace>;
  private listedOnce = false;

  constructor(opts: NamespaceInformerOptions) {
    const put = (ns: V1Namespace): void => {
      const name = ns.metadata?.name;
      if (!name) return;
      this.byName.set(
        name,
        Object.freeze({ name, labels: Object.freeze({ ...(ns.metadata?.labels ?? {}) }) }),
      );
    };
    this.informer = new ResilientInformer<V1Namespace>({
      kc: opts.kc,
      path: NAMESPACES_PATH,
      name: 'Namespace',
      logger: opts.logger ?? silentLogger,
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
      list: () => opts.core.listNamespace(),
      onAdd: put,
      onUpdate: put,
      onDelete: (ns) => {
        if (ns.metadata?.name) this.byName.delete(ns.metadata.name);
      },
      onListed: () => {
        this.listedOnce = true;
      },
    });
  }

  /** Labels of `name`; undefined when the namespace is unknown (selectors then do not match). */
  get(name: string): NamespaceInfo | undefined {
    return this.byName.get(name);
  }

  /** The namespace list was received once (for `/readyz`). */
  synced(): boolean {
    return this.listedOnce;
  }

  start(): Promise<void> {
    return this.informer.start();
  }

  /** Stop watching; no timers or sockets remain. */
  stop(): Promise<void> {
    return this.informer.stop();
  }
}

/** Build a namespace informer; call `start()` to begin and `stop()` on shutdown. */
export function createNamespaceInformer(opts: NamespaceInformerOptions): NamespaceInformer {
  return new NamespaceInformer(opts);
}
