// SPDX-License-Identifier: Apache-2.0
// Cache-key derivation (STYLE rule 9): a key holds everything that can change the answer.
// Parts are length-prefixed (`<len>:<part>`), so no content of any part can forge a separator
// and two different part lists never produce the same key.

import { createHash } from 'node:crypto';

/** Key brands keep verdict, tag and trust-data keys from being mixed up at compile time. */
export type VerdictKey = string & { readonly __brand: 'VerdictKey' };
export type TagDigestKey = string & { readonly __brand: 'TagDigestKey' };
export type TrustDataKey = string & { readonly __brand: 'TrustDataKey' };

function join(kind: string, parts: readonly string[]): string {
  let out = kind;
  for (const part of parts) out += '|' + part.length + ':' + part;
  return out;
}

export interface VerdictKeyParts {
  /** Trust source kind: `notaryV1` | `notation`. */
  readonly sourceKind: string;
  /** Trust source name inside the policy. */
  readonly sourceName: string;
  /** Hash of the trust material (root keys, CA bundles, signers) — see {@link hashMaterial}. */
  readonly materialHash: string;
  /** Policy uid + resourceVersion (or file generation): a policy edit is a new key. */
  readonly policyGeneration: string;
  /** `registry/repository` (the GUN). */
  readonly repository: string;
  /** `sha256:…`, or `tag@sha256:…` when the verdict depends on the tag too. */
  readonly digestOrTag: string;
}

/** Key of a cached source verdict for one image under one policy's trust source. */
export function verdictKey(p: VerdictKeyParts): VerdictKey {
  return join('verdict', [
    p.sourceKind,
    p.sourceName,
    p.materialHash,
    p.policyGeneration,
    p.repository,
    p.digestOrTag,
  ]) as VerdictKey;
}

export interface TagDigestKeyParts {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
  /**
   * Who asked: tag → digest answers can differ per credential (private mirrors), so a
   * credential-scoped lookup must not be served to another scope. '' for anonymous.
   */
  readonly credentialScope: string;
}

/** Key of a tag → digest resolution (cached separately, short TTL). */
export function tagDigestKey(p: TagDigestKeyParts): TagDigestKey {
  return join('tag', [p.registry, p.repository, p.tag, p.credentialScope]) as TagDigestKey;
}

export interface TrustDataKeyParts {
  /** Notary server base URL. */
  readonly server: string;
  readonly gun: string;
  /** Hash of the pinned root keys / CAs the trust data was verified against. */
  readonly materialHash: string;
}

/** Key of verified Notary v1 trust data (the resolved repository) for one GUN. */
export function trustDataKey(p: TrustDataKeyParts): TrustDataKey {
  return join('trust', [p.server, p.gun, p.materialHash]) as TrustDataKey;
}

/** sha256 hex over a list of strings (length-prefixed), for trust-material hashes in keys. */
export function hashMaterial(parts: readonly string[]): string {
  return createHash('sha256').update(join('material', parts)).digest('hex');
}
