// SPDX-License-Identifier: Apache-2.0
// The interfaces the verification service depends on. Concrete implementations
// (undici clients, Kubernetes informers, caches) are injected by main.ts; tests pass fakes.

import type { CompiledPolicy, NamespaceInfo } from '../core/policy/types.js';
import type { ImageVerdict } from '../core/result.js';

/** Absolute deadline for all upstream work of one request. */
export interface Deadline {
  /** Aborted when the deadline passes (or the request is cancelled). */
  readonly signal: AbortSignal;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Which variant of a TUF role file to fetch from a Notary v1 server. */
export interface NotaryRoleRequest {
  /** Base URL of the Notary server (no trailing slash). */
  readonly server: string;
  /** Globally unique name: `registry/repository`. */
  readonly gun: string;
  /** `root`, `timestamp`, `snapshot`, `targets`, `targets/releases`, … */
  readonly role: string;
  /** Fetch `<role>.<sha256>.json` (consistent form). */
  readonly sha256?: string;
  /** Fetch `<version>.<role>.json` (root rotation chain). */
  readonly version?: number;
  /** Size cap; exceeding it is LIMIT_EXCEEDED. */
  readonly maxBytes: number;
  /** PEM CA bundle added to the system CAs for this server. */
  readonly caBundle?: string;
  readonly deadline: Deadline;
}

export interface NotaryMetadataSource {
  /**
   * Exact bytes as served, or `null` when the server answers 404 (no such metadata).
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED
   */
  fetchRole(req: NotaryRoleRequest): Promise<Uint8Array | null>;
}

/** Registry credentials for one registry host. */
export interface RegistryCredentials {
  readonly username?: string;
  readonly password?: string;
  /** A pre-issued bearer/identity token (docker config `identitytoken` / `registrytoken`). */
  readonly identityToken?: string;
  readonly registryToken?: string;
}

/** Credentials by registry host (docker config semantics: most specific match wins). */
export interface CredentialProvider {
  /**
   * @param registry `host[:port]` (Docker Hub aliases are equivalent).
   * @param repository Repository path inside the registry; lets keys with a path
   *   (`registry.example.com/team`) match as the kubelet does. Omitted: host-level keys only.
   */
  lookup(registry: string, repository?: string): RegistryCredentials | undefined;
}

export interface RegistryRequestContext {
  readonly deadline: Deadline;
  readonly credentials?: CredentialProvider;
}

export interface OciDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface FetchedManifest {
  readonly descriptor: OciDescriptor;
  /** Exact bytes; their sha256 equals descriptor.digest (checked by the client). */
  readonly bytes: Uint8Array;
}

export interface OciSource {
  /**
   * The digest the registry serves for a tag (HEAD, GET fallback), i.e. what the kubelet will pull.
   * Returns `null` when the registry answers 404 (no such tag or repository): a definite answer.
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED
   */
  resolveTag(
    name: { registry: string; repository: string },
    tag: string,
    ctx: RegistryRequestContext,
  ): Promise<OciDescriptor | null>;
  /**
   * A manifest by tag or digest, with its bytes checked against the digest.
   * @throws VerificationError DIGEST_MISMATCH (body does not hash to the requested digest)
   * @throws VerificationError NO_TRUST_DATA (the registry answers 404: the kubelet could not pull it either)
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED
   */
  fetchManifest(
    name: { registry: string; repository: string },
    reference: string,
    ctx: RegistryRequestContext,
  ): Promise<FetchedManifest>;
  /**
   * A blob, checked against the descriptor's digest and size.
   * @throws VerificationError DIGEST_MISMATCH | NO_TRUST_DATA (404)
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED
   */
  fetchBlob(
    name: { registry: string; repository: string },
    descriptor: OciDescriptor,
    maxBytes: number,
    ctx: RegistryRequestContext,
  ): Promise<Uint8Array>;
  /** Referrers of a manifest (referrers API, falling back to the `sha256-<hex>` tag schema). */
  listReferrers(
    name: { registry: string; repository: string },
    digest: string,
    artifactType: string | undefined,
    ctx: RegistryRequestContext,
  ): Promise<readonly OciDescriptor[]>;
}

/** Labels of a namespace, as the policy selector needs them (defined in core so match.ts can use it). */
export type { NamespaceInfo } from '../core/policy/types.js';

export interface PolicySource {
  /** The current immutable set of compiled policies. */
  current(): readonly CompiledPolicy[];
  /** true once the first full load (file read or informer sync) has completed. */
  ready(): boolean;
}

export interface NamespaceSource {
  /** Labels of a namespace; `undefined` when unknown (selectors then do not match). */
  get(name: string): NamespaceInfo | undefined;
}

/** One image of a workload, with where it was found. */
export interface WorkloadImage {
  readonly image: string;
  /** JSON field path: `spec.template.spec.initContainers[0].image`. */
  readonly path: string;
}

/** Everything about the admission request that verification may depend on. */
export interface VerifyContext {
  /** Namespace of the workload ('' for cluster-scoped). */
  readonly namespace: string;
  readonly deadline: Deadline;
  /** Registry credentials from the Pod's / ServiceAccount's pull secrets and configured secrets. */
  readonly credentials?: CredentialProvider;
  /** Evaluate as of this instant (CLI `--at`); defaults to the clock. */
  readonly at?: Date;
  /**
   * Per image (same order): the verdict `ImageVerifier.memoisedVerdicts` already found for this
   * request, or `undefined` where it found none. Those images are not looked up again, so each
   * image costs exactly one memo lookup (and one cache metric) per request.
   */
  readonly memoised?: readonly (ImageVerdict | undefined)[];
}

/** The application service the admission edge and the CLI call. */
export interface ImageVerifier {
  /** One verdict per image, in order. Never throws for an expected failure. */
  verifyImages(
    images: readonly WorkloadImage[],
    ctx: VerifyContext,
  ): Promise<readonly ImageVerdict[]>;
  /**
   * The synchronous warm path: per image, its memoised verdict for `namespace` (valid for the
   * current policies and namespace labels), `undefined` where there is none. One memo lookup per
   * image. When every entry is set the request needs no I/O and no deadline; otherwise pass the
   * array as `ctx.memoised` to `verifyImages`. Optional: without it, always call `verifyImages`.
   */
  memoisedVerdicts?(
    images: readonly WorkloadImage[],
    namespace: string,
  ): readonly (ImageVerdict | undefined)[];
}
