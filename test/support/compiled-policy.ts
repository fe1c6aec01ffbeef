// SPDX-License-Identifier: Apache-2.0
// Hand-built CompiledNotaryV1Source / CompiledPolicy values for integration tests, so they do
// not depend on the policy compiler; only the fields the Notary v1 rules read are meaningful.

import { createHash } from 'node:crypto';
import type {
  CompiledNotaryV1Source,
  CompiledPolicy,
  CompiledSigner,
} from '../../src/core/policy/types.js';

export interface NotarySourceOptions {
  readonly name?: string;
  /** Pinned x509 key IDs as they appear in root.json. */
  readonly rootKeyIds?: readonly string[];
  /** Pinned certificates by sha256 of the DER (lowercase hex). */
  readonly rootCertFingerprints?: readonly string[];
  readonly trustOnFirstUse?: boolean;
  readonly caBundle?: string;
}

/** A compiled Notary v1 trust source for `server` with the given pins. */
export function notarySource(
  server: string,
  opts: NotarySourceOptions = {},
): CompiledNotaryV1Source {
  const rootKeyIds = new Set((opts.rootKeyIds ?? []).map((k) => k.toLowerCase()));
  const rootCertFingerprints = new Set(opts.rootCertFingerprints ?? []);
  const materialHash = createHash('sha256')
    .update(
      JSON.stringify([
        server,
        [...rootKeyIds],
        [...rootCertFingerprints],
        opts.trustOnFirstUse ?? false,
      ]),
    )
    .digest('hex');
  return {
    kind: 'notaryV1',
    name: opts.name ?? 'dct',
    server: server.replace(/\/+$/, ''),
    ...(opts.caBundle !== undefined ? { caBundle: opts.caBundle } : {}),
    rootKeyIds,
    rootCertFingerprints,
    rootPublicKeys: [],
    rootCAs: [],
    trustOnFirstUse: opts.trustOnFirstUse ?? false,
    materialHash,
  };
}

export interface SignerOptions {
  /** As written in a policy: `releases`, `qa`, or `targets` for the repository key. */
  readonly name: string;
  readonly required?: boolean;
}

function toSigner(s: SignerOptions): CompiledSigner {
  return {
    name: s.name,
    role: s.name === 'targets' || s.name.startsWith('targets/') ? s.name : `targets/${s.name}`,
    required: s.required ?? false,
    identities: [],
  };
}

export interface NotaryPolicyOptions {
  readonly name?: string;
  readonly images?: readonly string[];
  readonly signers?: readonly SignerOptions[];
  /** Full role name (`targets/releases`) → distinct valid signatures required. */
  readonly thresholds?: Readonly<Record<string, number>>;
  readonly maxAgeMs?: number;
}

/** An enforce-mode ClusterTrustPolicy with one Notary v1 source. */
export function notaryPolicy(
  source: CompiledNotaryV1Source,
  opts: NotaryPolicyOptions = {},
): CompiledPolicy {
  const name = opts.name ?? 'notary-test';
  return {
    id: `ClusterTrustPolicy/${name}`,
    kind: 'ClusterTrustPolicy',
    name,
    generation: '1',
    mode: 'enforce',
    images: opts.images ?? ['**'],
    imageMatchers: [/^.*$/],
    requireSignatures: true,
    sources: [source],
    signers: (opts.signers ?? []).map(toSigner),
    thresholds: new Map(Object.entries(opts.thresholds ?? {})),
    ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
  };
}
