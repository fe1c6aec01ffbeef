// SPDX-License-Identifier: Apache-2.0
// Resolves a policy's ResourceKeyRef values (caBundleRef, trustStore.caRef / tsaRef) from ConfigMaps
// and Secrets, size-bounded, into the material compile() consumes. A missing object or key is a
// field error on the policy, never a crash; an apiserver failure is inconclusive (retry later).

import type { CoreV1Api } from '@kubernetes/client-node';
import { InconclusiveError, type FieldError } from '../core/errors.js';
import { listMaterialRefs } from '../core/policy/compile.js';
import type { ResolvedMaterial, TrustPolicyResource } from '../core/policy/types.js';
import { errorText, statusCodeOf } from './client.js';

/**
 * Resolved reference contents (UTF-8 text, e.g. PEM), keyed as compilePolicy() looks them up:
 * `materialRefKey(ref, namespace)` = `configmap|secret/<namespace>/<name>/<key>`.
 */
export type KeyMaterial = ResolvedMaterial;

/** CA bundles and trust stores are a few certificates; ConfigMaps themselves stop at 1 MiB. */
export const MAX_KEY_MATERIAL_BYTES = 256 * 1024;

/** Raw ConfigMap / Secret payloads; `null` = the object does not exist. */
export interface KeyRefReader {
  /** @throws on any apiserver failure other than 404 */
  readConfigMap(
    namespace: string,
    name: string,
  ): Promise<{ data?: Record<string, string>; binaryData?: Record<string, string> } | null>;
  /** `data` values are base64, as the API returns them. @throws on any failure other than 404 */
  readSecret(namespace: string, name: string): Promise<{ data?: Record<string, string> } | null>;
}

/** KeyRefReader over the CoreV1 API (GET configmaps / secrets; 404 → null). */
export function createApiKeyRefReader(core: CoreV1Api): KeyRefReader {
  const orNull = async <T>(p: Promise<T>): Promise<T | null> => {
    try {
      return await p;
    } catch (err) {
      if (statusCodeOf(err) === 404) return null;
      throw err;
    }
  };
  return {
    readConfigMap: (namespace, name) => orNull(core.readNamespacedConfigMap({ namespace, name })),
    readSecret: (namespace, name) => orNull(core.readNamespacedSecret({ namespace, name })),
  };
}

export interface LoadKeyMaterialOptions {
  readonly reader: KeyRefReader;
  /** Namespace for a ClusterTrustPolicy ref without one: trustgate's own namespace. */
  readonly defaultNamespace: string;
  readonly maxBytes?: number;
}

export interface KeyMaterialResult {
  readonly material: KeyMaterial;
  /** One per unusable reference (missing object/key, too large, not allowed), with its field path. */
  readonly errors: readonly FieldError[];
}

/**
 * Resolve every key reference of a policy (the refs compilePolicy() will look up). A TrustPolicy
 * may only reference objects in its own namespace (otherwise any namespace owner could make
 * trustgate read another namespace's Secrets).
 * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE when the apiserver fails (not on 404)
 */
export async function loadKeyMaterial(
  resource: TrustPolicyResource,
  opts: LoadKeyMaterialOptions,
): Promise<KeyMaterialResult> {
  const maxBytes = opts.maxBytes ?? MAX_KEY_MATERIAL_BYTES;
  const material: Record<string, string> = {};
  const errors: FieldError[] = [];
  const ownNs = resource.kind === 'TrustPolicy' ? (resource.metadata.namespace ?? '') : undefined;
  // One GET per object even when several refs point into it.
  const reads = new Map<string, Promise<Record<string, string> | null>>();

  for (const { path, ref, namespace, key } of listMaterialRefs(resource, opts.defaultNamespace)) {
    const isSecret = ref.secret !== undefined;
    const objName = ref.secret ?? ref.configMap;
    if ((ref.secret === undefined) === (ref.configMap === undefined) || !objName || !ref.key) {
      errors.push({ path, message: 'set exactly one of configMap or secret, and key' });
      continue;
    }
    if (namespace === undefined || key === undefined) {
      errors.push({
        path: `${path}.namespace`,
        message: 'is required: no default namespace is known',
      });
      continue;
    }
    if (ownNs !== undefined && namespace !== ownNs) {
      errors.push({
        path: `${path}.namespace`,
        message: `a TrustPolicy may only reference objects in its own namespace "${ownNs}"`,
      });
      continue;
    }
    const what = `${isSecret ? 'Secret' : 'ConfigMap'} ${namespace}/${objName}`;
    const objKey = `${isSecret ? 's' : 'c'}/${namespace}/${objName}`;
    let read = reads.get(objKey);
    if (!read) {
      read = readEntries(opts.reader, isSecret, namespace, objName);
      reads.set(objKey, read);
    }
    let entries: Record<string, string> | null;
    try {
      entries = await read;
    } catch (err) {
      throw new InconclusiveError(
        'TRUST_SOURCE_UNAVAILABLE',
        `cannot read ${what} for ${path}: ${errorText(err)}`,
        { cause: err },
      );
    }
    if (entries === null) {
      errors.push({ path, message: `${what} not found (or not readable by trustgate)` });
      continue;
    }
    const value = entries[ref.key];
    if (value === undefined) {
      errors.push({ path: `${path}.key`, message: `key "${ref.key}" not found in ${what}` });
      continue;
    }
    if (Buffer.byteLength(value, 'utf8') > maxBytes) {
      errors.push({ path, message: `${what} key "${ref.key}" is larger than ${maxBytes} bytes` });
      continue;
    }
    material[key] = value;
  }
  return { material: Object.freeze(material), errors };
}

/** Decoded text entries of a ConfigMap (data + binaryData) or Secret (base64 data). */
async function readEntries(
  reader: KeyRefReader,
  isSecret: boolean,
  ns: string,
  name: string,
): Promise<Record<string, string> | null> {
  const out: Record<string, string> = {};
  if (isSecret) {
    const s = await reader.readSecret(ns, name);
    if (s === null) return null;
    for (const [k, v] of Object.entries(s.data ?? {}))
      out[k] = Buffer.from(v, 'base64').toString('utf8');
    return out;
  }
  const cm = await reader.readConfigMap(ns, name);
  if (cm === null) return null;
  for (const [k, v] of Object.entries(cm.binaryData ?? {}))
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = v;
  return out;
}
