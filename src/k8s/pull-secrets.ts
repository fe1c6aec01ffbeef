// SPDX-License-Identifier: Apache-2.0
// Docker-config JSON from a Pod's imagePullSecrets and its ServiceAccount's imagePullSecrets, as the
// kubelet would use them. Short TTL cache; a missing or unreadable secret is skipped (the registry
// then answers 401 and the denial says so) — admission never fails here. Secret values are never logged.

import type { CoreV1Api } from '@kubernetes/client-node';
import type { Clock } from '../verify/ports.js';
import { errorText, silentLogger, statusCodeOf, type K8sLogger } from './client.js';

export interface PullSecretRequest {
  readonly namespace: string;
  /**
   * The Pod's `spec.serviceAccountName`; absent or empty = `default` (what the apiserver assigns);
   * `null` = consult no ServiceAccount (secrets configured for trustgate itself).
   */
  readonly serviceAccountName?: string | null;
  /** Names from the Pod's `spec.imagePullSecrets`. */
  readonly imagePullSecrets: readonly string[];
}

/** Docker-config JSON documents (`{"auths":{…}}`), Pod secrets first, then the ServiceAccount's. */
export type PullSecretResolver = (req: PullSecretRequest) => Promise<string[]>;

export interface PullSecretResolverOptions {
  readonly coreApi: CoreV1Api;
  /** How long a read secret / service account is reused (e.g. 30 s). */
  readonly cacheTtlMs: number;
  readonly clock: Clock;
  readonly logger?: K8sLogger;
  /** Cached objects at most (oldest evicted first). Default 1000. */
  readonly maxCacheEntries?: number;
  /** Larger docker configs are ignored. Default 512 KiB. */
  readonly maxConfigBytes?: number;
  /** Told the duration of every Kubernetes API read (not cache hits), e.g. for a latency metric. */
  readonly onApiRead?: (seconds: number) => void;
  /**
   * A Kubernetes API read not answered within this long fails (warned, not cached; the next
   * admission reads again). Default {@link DEFAULT_READ_TIMEOUT_MS}.
   */
  readonly readTimeoutMs?: number;
}

/**
 * Default `readTimeoutMs`. The admission handler gives the whole credentials lookup half its budget:
 * with the default 10 s webhook timeout and 1 s margin that is 4.5 s, spent on two reads in series
 * (the ServiceAccount, then its secrets in parallel). 2 s each keeps both inside that share, while a
 * healthy apiserver answers a single GET in milliseconds — so 2 s only cuts off a hung one.
 */
export const DEFAULT_READ_TIMEOUT_MS = 2_000;

const DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
const DOCKER_CFG = 'kubernetes.io/dockercfg';
/** Pull secrets taken from one Pod + ServiceAccount: more is misconfiguration, not need. */
const MAX_SECRETS_PER_REQUEST = 32;

interface CacheEntry<T> {
  readonly expiresAt: number;
  readonly value: Promise<T>;
}

/**
 * Build the resolver. It never rejects: 404s are ignored silently, other failures are ignored with
 * one warning line (namespace, name, HTTP status — no contents).
 */
export function createPullSecretResolver(opts: PullSecretResolverOptions): PullSecretResolver {
  const logger = opts.logger ?? silentLogger;
  const maxEntries = opts.maxCacheEntries ?? 1000;
  const maxBytes = opts.maxConfigBytes ?? 512 * 1024;
  const readTimeoutMs = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  const cache = new Map<string, CacheEntry<unknown>>();

  // Single-flight + TTL: concurrent admissions of one Deployment's Pods read each secret once.
  function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = opts.clock.now().getTime();
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now) return hit.value as Promise<T>;
    cache.delete(key);
    const value = load();
    cache.set(key, { expiresAt: now + opts.cacheTtlMs, value });
    // Failures are not cached: the next admission tries again.
    value.catch(() => {
      if (cache.get(key)?.value === value) cache.delete(key);
    });
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    return value;
  }

  /**
   * One API read, bounded by `readTimeoutMs`: a hung apiserver must not keep a single-flight cache
   * entry pending with every admission in the namespace waiting on it. On timeout the read rejects
   * (so `cached` drops it and the next admission reads again); the abandoned HTTP request is left to
   * the socket. No abort signal is passed: client-node 1.4 uses per-call options *instead of* its
   * configuration (server, auth), so a signal would mean rebuilding both. 404 → null.
   */
  async function apiRead<T>(read: () => Promise<T>): Promise<T | null> {
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Kubernetes API read timed out after ${readTimeoutMs} ms`)),
        readTimeoutMs,
      );
      timer.unref();
    });
    try {
      return await Promise.race([read(), timedOut]);
    } catch (err) {
      if (statusCodeOf(err) === 404) return null;
      throw err;
    } finally {
      clearTimeout(timer);
      opts.onApiRead?.((performance.now() - started) / 1000);
    }
  }

  function serviceAccountSecrets(namespace: string, name: string): Promise<string[]> {
    return cached(`sa/${namespace}/${name}`, async () => {
      const sa = await apiRead(() =>
        opts.coreApi.readNamespacedServiceAccount({ namespace, name }),
      );
      return (sa?.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n !== '');
    });
  }

  function dockerConfig(namespace: string, name: string): Promise<string | null> {
    return cached(`secret/${namespace}/${name}`, async () => {
      const secret = await apiRead(() => opts.coreApi.readNamespacedSecret({ namespace, name }));
      if (secret === null) return null;
      return toDockerConfigJson(secret, maxBytes, (reason) =>
        logger.warn('pull secret ignored', { namespace, secret: name, reason }),
      );
    });
  }

  return async (req) => {
    const saName = req.serviceAccountName === null ? null : req.serviceAccountName || 'default';
    let saSecrets: string[] = [];
    try {
      if (saName !== null) saSecrets = await serviceAccountSecrets(req.namespace, saName);
    } catch (err) {
      logger.warn('cannot read service account; its pull secrets are not used', {
        namespace: req.namespace,
        serviceAccount: saName,
        err: errorText(err),
      });
    }
    const names = [...new Set([...req.imagePullSecrets, ...saSecrets])].slice(
      0,
      MAX_SECRETS_PER_REQUEST,
    );
    const configs = await Promise.all(
      names.map(async (name) => {
        try {
          return await dockerConfig(req.namespace, name);
        } catch (err) {
          logger.warn('cannot read pull secret; ignored', {
            namespace: req.namespace,
            secret: name,
            err: errorText(err),
          });
          return null;
        }
      }),
    );
    return configs.filter((c): c is string => c !== null);
  };
}

/**
 * The docker-config JSON of a pull secret, following the kubelet: `kubernetes.io/dockerconfigjson`
 * → `.dockerconfigjson`; legacy `kubernetes.io/dockercfg` → `.dockercfg` (a bare auths map, wrapped as
 * `{"auths": …}`). Other types, missing keys, oversize or unparsable data → null (reason reported).
 */
export function toDockerConfigJson(
  secret: { type?: string; data?: Record<string, string> },
  maxBytes: number,
  ignored: (reason: string) => void = () => {},
): string | null {
  const key =
    secret.type === DOCKER_CONFIG_JSON
      ? '.dockerconfigjson'
      : secret.type === DOCKER_CFG
        ? '.dockercfg'
        : undefined;
  if (key === undefined) {
    ignored(`type ${secret.type ?? '(none)'} is not ${DOCKER_CONFIG_JSON} or ${DOCKER_CFG}`);
    return null;
  }
  const b64 = secret.data?.[key];
  if (b64 === undefined) {
    ignored(`no ${key} key`);
    return null;
  }
  if ((b64.length * 3) / 4 > maxBytes) {
    ignored(`larger than ${maxBytes} bytes`);
    return null;
  }
  const text = Buffer.from(b64, 'base64').toString('utf8');
  if (key === '.dockerconfigjson') return text;
  try {
    // attacker-controlled (any namespace user can create this secret): parse only to re-wrap it.
    const auths: unknown = JSON.parse(text);
    if (auths === null || typeof auths !== 'object' || Array.isArray(auths)) {
      ignored('.dockercfg is not a JSON object');
      return null;
    }
    return JSON.stringify({ auths });
  } catch {
    ignored('.dockercfg is not valid JSON');
    return null;
  }
}
