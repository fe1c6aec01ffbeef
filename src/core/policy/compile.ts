// SPDX-License-Identifier: Apache-2.0
// TrustPolicyResource → CompiledPolicy, once per policy generation (SPEC §3.1, STYLE rule 8):
// keys and certificates parsed, globs compiled, roles and defaults resolved. Pure: referenced
// ConfigMap/Secret contents arrive in `material`, already fetched by the Kubernetes layer.

import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { ConfigError, type FieldError } from '../errors.js';
import { parseDuration } from './duration.js';
import { compileTagPattern, parseRepositoryGlob } from './glob.js';
import {
  parseCertificates,
  parseRootKey,
  parseTrustedIdentity,
  toCertificateFingerprint,
} from './material.js';
import type {
  CompiledNotaryV1Source,
  CompiledNotationSource,
  CompiledPolicy,
  CompiledSigner,
  CompiledTrustSource,
  NotationSourceSpec,
  NotaryV1SourceSpec,
  ResolvedMaterial,
  ResourceKeyRef,
  TrustPolicyResource,
} from './types.js';
import { parseRfc3339, toFieldPath, toNotaryRole, validatePolicyResource } from './validate.js';

export interface CompileOptions {
  /** Contents of referenced ConfigMap/Secret keys, keyed by `materialRefKey`. */
  readonly material?: ResolvedMaterial;
  /** Namespace for a ClusterTrustPolicy's references that name none (trustgate's own namespace). */
  readonly defaultNamespace?: string;
}

/** A ConfigMap/Secret reference found in a policy, with the field path that holds it. */
export interface MaterialRef {
  readonly path: string;
  readonly ref: ResourceKeyRef;
  /** Resolved namespace, or undefined when neither the ref nor a default names one. */
  readonly namespace: string | undefined;
  /** `materialRefKey(ref, namespace)`; undefined when the namespace is unknown. */
  readonly key: string | undefined;
}

/** The key under which the Kubernetes layer stores a reference's content in `ResolvedMaterial`. */
export function materialRefKey(ref: ResourceKeyRef, defaultNamespace: string): string {
  const kind = ref.configMap !== undefined ? 'configmap' : 'secret';
  const name = ref.configMap ?? ref.secret ?? '';
  return `${kind}/${ref.namespace ?? defaultNamespace}/${name}/${ref.key}`;
}

function refNamespace(
  resource: TrustPolicyResource,
  opts: CompileOptions | undefined,
): string | undefined {
  return resource.kind === 'TrustPolicy' ? resource.metadata.namespace : opts?.defaultNamespace;
}

/**
 * Every ConfigMap/Secret reference of a policy (`caBundleRef`, `caRef`, `tsaRef`), so the
 * Kubernetes layer knows what to fetch before calling `compilePolicy`.
 */
export function listMaterialRefs(
  resource: TrustPolicyResource,
  defaultNamespace?: string,
): MaterialRef[] {
  const fallback = resource.kind === 'TrustPolicy' ? resource.metadata.namespace : defaultNamespace;
  const out: MaterialRef[] = [];
  const add = (path: string, ref: ResourceKeyRef | undefined): void => {
    if (!ref) return;
    const namespace = ref.namespace ?? fallback;
    out.push({
      path,
      ref,
      namespace,
      key: namespace === undefined ? undefined : materialRefKey(ref, namespace),
    });
  };
  (resource.spec.trustSources ?? []).forEach((src, i) => {
    const at = toFieldPath('spec.trustSources', i);
    add(`${at}.notaryV1.caBundleRef`, src.notaryV1?.caBundleRef);
    add(`${at}.notation.trustStore.caRef`, src.notation?.trustStore.caRef);
    add(`${at}.notation.trustStore.tsaRef`, src.notation?.trustStore.tsaRef);
  });
  return out;
}

function fail(resource: TrustPolicyResource, errors: readonly FieldError[]): ConfigError {
  const first = errors[0] as FieldError;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return new ConfigError(
    'INVALID_POLICY',
    `${resource.kind} ${resource.metadata.name} is invalid: ${first.path}: ${first.message}${more}`,
    { fieldErrors: errors },
  );
}

/** JSON with sorted keys: a stable input for hashes. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

class MaterialResolver {
  readonly errors: FieldError[] = [];
  constructor(
    private readonly material: ResolvedMaterial | undefined,
    private readonly namespace: string | undefined,
  ) {}

  /** PEM text of a reference, or undefined (with a field error recorded). */
  text(path: string, ref: ResourceKeyRef): string | undefined {
    const namespace = ref.namespace ?? this.namespace;
    const what = `${ref.configMap !== undefined ? `ConfigMap ${ref.configMap}` : `Secret ${ref.secret as string}`} key ${ref.key}`;
    if (namespace === undefined) {
      this.errors.push({
        path: `${path}.namespace`,
        message: `is required: no default namespace is known for ${what}`,
      });
      return undefined;
    }
    const text = this.material?.[materialRefKey(ref, namespace)];
    if (text === undefined) {
      this.errors.push({
        path,
        message: `${what} in namespace ${namespace} was not found (or is not readable by trustgate); create it or fix the reference`,
      });
    }
    return text;
  }

  certificates(
    path: string,
    ref: ResourceKeyRef | undefined,
    requireCa: boolean,
  ): X509Certificate[] {
    if (!ref) return [];
    const text = this.text(path, ref);
    if (text === undefined) return [];
    try {
      return parseCertificates(text, requireCa);
    } catch (err) {
      this.errors.push({ path, message: `referenced content ${(err as ConfigError).message}` });
      return [];
    }
  }
}

function fingerprints(certs: readonly X509Certificate[]): string[] {
  return certs.map(toCertificateFingerprint).sort();
}

function compileNotaryV1(
  name: string,
  path: string,
  spec: NotaryV1SourceSpec,
  resolver: MaterialResolver,
): CompiledNotaryV1Source {
  const rootKeyIds = new Set<string>();
  const rootCertFingerprints = new Set<string>();
  const rootPublicKeys: KeyObject[] = [];
  for (const text of spec.rootKeys ?? []) {
    const key = parseRootKey(text);
    if (key.kind === 'keyId') rootKeyIds.add(key.id);
    else if (key.kind === 'certificate') rootCertFingerprints.add(key.fingerprint);
    else rootPublicKeys.push(key.key);
  }
  const rootCAs = (spec.rootCAs ?? []).flatMap((text) => parseCertificates(text, true));
  const caBundle = spec.caBundleRef
    ? resolver.text(`${path}.caBundleRef`, spec.caBundleRef)
    : spec.caBundle;
  if (spec.caBundleRef && caBundle !== undefined) {
    try {
      parseCertificates(caBundle);
    } catch (err) {
      resolver.errors.push({
        path: `${path}.caBundleRef`,
        message: `referenced content ${(err as ConfigError).message}`,
      });
    }
  }
  const server = spec.server.replace(/\/+$/, '');
  const trustOnFirstUse = spec.trustOnFirstUse === true;
  // Everything that changes what this source accepts: a key rotation must change every cache key.
  const materialHash = sha256Hex(
    stableJson({
      kind: 'notaryV1',
      name,
      server,
      caBundle,
      rootKeyIds: [...rootKeyIds].sort(),
      rootCertFingerprints: [...rootCertFingerprints].sort(),
      rootPublicKeys: rootPublicKeys
        .map((k) => k.export({ type: 'spki', format: 'der' }).toString('hex'))
        .sort(),
      rootCAs: fingerprints(rootCAs),
      trustOnFirstUse,
    }),
  );
  return Object.freeze({
    kind: 'notaryV1',
    name,
    server,
    ...(caBundle !== undefined ? { caBundle } : {}),
    rootKeyIds,
    rootCertFingerprints,
    rootPublicKeys: Object.freeze(rootPublicKeys),
    rootCAs: Object.freeze(rootCAs),
    trustOnFirstUse,
    materialHash,
  });
}

function compileNotation(
  name: string,
  path: string,
  spec: NotationSourceSpec,
  resolver: MaterialResolver,
): CompiledNotationSource {
  const store = spec.trustStore;
  const inline = (list: string[] | undefined): X509Certificate[] =>
    (list ?? []).flatMap((t) => parseCertificates(t, true));
  const ca = [
    ...inline(store.ca),
    ...resolver.certificates(`${path}.trustStore.caRef`, store.caRef, true),
  ];
  const signingAuthority = inline(store.signingAuthority);
  const tsa = [
    ...inline(store.tsa),
    ...resolver.certificates(`${path}.trustStore.tsaRef`, store.tsaRef, true),
  ];
  const trustedIdentities = (spec.trustedIdentities ?? []).map(parseTrustedIdentity);
  const level = spec.level ?? 'strict';
  const materialHash = sha256Hex(
    stableJson({
      kind: 'notation',
      name,
      ca: fingerprints(ca),
      signingAuthority: fingerprints(signingAuthority),
      tsa: fingerprints(tsa),
      trustedIdentities: [...(spec.trustedIdentities ?? [])].map((s) => s.trim()).sort(),
      level,
    }),
  );
  return Object.freeze({
    kind: 'notation',
    name,
    trustStore: Object.freeze({
      ca: Object.freeze(ca),
      signingAuthority: Object.freeze(signingAuthority),
      tsa: Object.freeze(tsa),
    }),
    trustedIdentities: Object.freeze(trustedIdentities),
    level,
    materialHash,
  });
}

/** `ClusterTrustPolicy/<name>` or `TrustPolicy/<namespace>/<name>`. */
export function toPolicyId(resource: Pick<TrustPolicyResource, 'kind' | 'metadata'>): string {
  return resource.kind === 'TrustPolicy'
    ? `TrustPolicy/${resource.metadata.namespace ?? ''}/${resource.metadata.name}`
    : `ClusterTrustPolicy/${resource.metadata.name}`;
}

/**
 * Compile a policy resource (validating it first). Pure; never on the admission path.
 * @throws ConfigError INVALID_POLICY with `fieldErrors` (paths like `spec.trustSources[0].notaryV1.rootKeys[1]`)
 *   when the resource is invalid or a referenced ConfigMap/Secret key is missing or not PEM.
 */
export function compilePolicy(
  resource: TrustPolicyResource,
  opts?: CompileOptions,
): CompiledPolicy {
  const checked = validatePolicyResource(resource);
  if (!checked.ok) throw fail(resource, checked.errors);
  const { kind, metadata, spec } = checked.resource;
  const resolver = new MaterialResolver(opts?.material, refNamespace(checked.resource, opts));

  const sources: CompiledTrustSource[] = (spec.trustSources ?? []).map((src, i) => {
    const at = toFieldPath('spec.trustSources', i);
    return src.notaryV1
      ? compileNotaryV1(src.name, `${at}.notaryV1`, src.notaryV1, resolver)
      : compileNotation(src.name, `${at}.notation`, src.notation as NotationSourceSpec, resolver);
  });
  if (resolver.errors.length > 0) throw fail(checked.resource, resolver.errors);

  const signers: CompiledSigner[] = (spec.signers ?? []).map((s) =>
    Object.freeze({
      name: s.role,
      role: toNotaryRole(s.role),
      required: s.required === true,
      identities: Object.freeze((s.identities ?? []).map(parseTrustedIdentity)),
    }),
  );
  const thresholds = new Map(
    Object.entries(spec.thresholds ?? {}).map(([role, n]) => [toNotaryRole(role), n] as const),
  );
  const generation =
    metadata.uid !== undefined && metadata.resourceVersion !== undefined
      ? `${metadata.uid}@${metadata.resourceVersion}`
      : `sha256:${sha256Hex(stableJson({ kind, name: metadata.name, namespace: metadata.namespace, spec }))}`;
  const allowPathPatterns = spec.allow?.paths;
  const until = spec.migration?.notaryV1Until;
  const compiled: CompiledPolicy = {
    id: toPolicyId(checked.resource),
    kind,
    name: metadata.name,
    ...(kind === 'TrustPolicy' ? { namespace: metadata.namespace } : {}),
    generation,
    mode: spec.mode ?? 'enforce',
    images: Object.freeze([...spec.images]),
    imageMatchers: Object.freeze(spec.images.map((g) => parseRepositoryGlob(g).regex)),
    ...(kind === 'ClusterTrustPolicy' && spec.namespaceSelector
      ? { namespaceSelector: structuredClone(spec.namespaceSelector) }
      : {}),
    requireSignatures: spec.requireSignatures !== false,
    sources: Object.freeze(sources),
    signers: Object.freeze(signers),
    thresholds,
    ...(allowPathPatterns
      ? {
          allowPaths: Object.freeze(allowPathPatterns.map(compileTagPattern)),
          allowPathPatterns: Object.freeze([...allowPathPatterns]),
        }
      : {}),
    ...(spec.allow?.expires !== undefined ? { maxAgeMs: parseDuration(spec.allow.expires) } : {}),
    ...(until !== undefined ? { notaryV1Until: parseRfc3339(until) } : {}),
  };
  return Object.freeze(compiled);
}
