// SPDX-License-Identifier: Apache-2.0
// TrustPolicySpec mirrors the CRD (`trustgate.dev/v1alpha1`); CompiledPolicy is what
// the admission path uses: keys parsed, globs compiled, defaults resolved.

import type { KeyObject, X509Certificate } from 'node:crypto';

export type PolicyMode = 'enforce' | 'warn' | 'audit';
export type NotationLevel = 'strict' | 'permissive' | 'audit' | 'skip';

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** Labels of a namespace, as the policy selector needs them (re-exported by verify/ports.ts). */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * Contents of the ConfigMap/Secret keys a policy refers to (`caBundleRef`, `caRef`, `tsaRef`),
 * filled by the Kubernetes layer, keyed by `materialRefKey(ref, defaultNamespace)` (compile.ts).
 */
export type ResolvedMaterial = Readonly<Record<string, string>>;

/** Reference to a key in a ConfigMap or Secret (namespace defaults to the policy's / trustgate's). */
export interface ResourceKeyRef {
  configMap?: string;
  secret?: string;
  namespace?: string;
  key: string;
}

export interface NotaryV1SourceSpec {
  /** Notary server base URL: `https://notary.example.com`, or `http://` only when explicit. */
  server: string;
  caBundle?: string;
  caBundleRef?: ResourceKeyRef;
  /** PEM certificates / public keys, or 64-hex TUF key IDs; any one pins the root. */
  rootKeys?: string[];
  /** PEM CA certificates that x509 root certificates (CN = GUN) must chain to. */
  rootCAs?: string[];
  trustOnFirstUse?: boolean;
}

export interface NotationSourceSpec {
  trustStore: {
    ca?: string[];
    signingAuthority?: string[];
    tsa?: string[];
    caRef?: ResourceKeyRef;
    tsaRef?: ResourceKeyRef;
  };
  trustedIdentities?: string[];
  level?: NotationLevel;
}

export interface TrustSourceSpec {
  name: string;
  notaryV1?: NotaryV1SourceSpec;
  notation?: NotationSourceSpec;
}

export interface SignerSpec {
  /** Notary v1: delegation role name (`releases` = `targets/releases`; `targets` = the repository key). */
  role: string;
  required?: boolean;
  /** Notation: trusted identities (`x509.subject: …`) that make up this role. */
  identities?: string[];
}

export interface TrustPolicySpec {
  mode?: PolicyMode;
  namespaceSelector?: LabelSelector;
  /** Repository globs: `*` = one path segment, `**` = any depth. */
  images: string[];
  requireSignatures?: boolean;
  trustSources?: TrustSourceSpec[];
  signers?: SignerSpec[];
  thresholds?: Record<string, number>;
  allow?: { paths?: string[]; expires?: string };
  migration?: { notaryV1Until?: string };
}

export interface TrustPolicyResource {
  apiVersion: 'trustgate.dev/v1alpha1';
  kind: 'ClusterTrustPolicy' | 'TrustPolicy';
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
  };
  spec: TrustPolicySpec;
}

// ---------------------------------------------------------------------------
// Compiled form (immutable; built once per policy generation, never on the request path)

export interface CompiledNotaryV1Source {
  readonly kind: 'notaryV1';
  readonly name: string;
  /** Base URL without trailing slash. */
  readonly server: string;
  readonly caBundle?: string;
  /** Pinned TUF key IDs (hex), from `rootKeys` given as IDs or derived from PEM. */
  readonly rootKeyIds: ReadonlySet<string>;
  /** Pinned certificates (from PEM certificates), by sha256 fingerprint of the DER, lowercase hex:
   *  a root whose x509 key is exactly one of these certificates is pinned. */
  readonly rootCertFingerprints: ReadonlySet<string>;
  /** Pinned bare public keys (from PEM public keys): any root key with this public key is pinned.
   *  Explicitly broader than a certificate pin (one notary root key signs many GUNs' certificates). */
  readonly rootPublicKeys: readonly KeyObject[];
  readonly rootCAs: readonly X509Certificate[];
  readonly trustOnFirstUse: boolean;
  /** Hash of all trust material: part of every cache key. */
  readonly materialHash: string;
}

export interface CompiledNotationSource {
  readonly kind: 'notation';
  readonly name: string;
  readonly trustStore: {
    readonly ca: readonly X509Certificate[];
    readonly signingAuthority: readonly X509Certificate[];
    readonly tsa: readonly X509Certificate[];
  };
  /** Parsed `x509.subject:` identities; `'*'` means any. */
  readonly trustedIdentities: readonly (ReadonlyMap<string, string> | '*')[];
  readonly level: NotationLevel;
  readonly materialHash: string;
}

export type CompiledTrustSource = CompiledNotaryV1Source | CompiledNotationSource;

export interface CompiledSigner {
  /** As written in the policy (`releases`). */
  readonly name: string;
  /** Notary v1 role name (`targets/releases`, or `targets`). */
  readonly role: string;
  readonly required: boolean;
  readonly identities: readonly (ReadonlyMap<string, string> | '*')[];
}

export interface CompiledPolicy {
  /** `ClusterTrustPolicy/name`, `TrustPolicy/ns/name`. */
  readonly id: string;
  readonly kind: 'ClusterTrustPolicy' | 'TrustPolicy';
  readonly name: string;
  /** TrustPolicy: the only namespace it applies to. */
  readonly namespace?: string;
  /** uid + resourceVersion (or content hash for files): part of every cache key. */
  readonly generation: string;
  readonly mode: PolicyMode;
  readonly images: readonly string[];
  /** Compiled repository globs. */
  readonly imageMatchers: readonly RegExp[];
  readonly namespaceSelector?: LabelSelector;
  readonly requireSignatures: boolean;
  readonly sources: readonly CompiledTrustSource[];
  readonly signers: readonly CompiledSigner[];
  /** Full role name → distinct valid key signatures required. */
  readonly thresholds: ReadonlyMap<string, number>;
  /** Tag patterns (compiled); undefined = any tag. */
  readonly allowPaths?: readonly RegExp[];
  readonly allowPathPatterns?: readonly string[];
  /** Signature age / metadata expiry window in milliseconds. */
  readonly maxAgeMs?: number;
  readonly notaryV1Until?: Date;
}
