// SPDX-License-Identifier: Apache-2.0
// The benchmark's trust policy (real YAML through the real policy loader) and an image verifier
// wired exactly as src/app.ts buildVerifier does, but over a shared connection pool and with
// counting wrappers around the upstream ports, so cold runs stay cold and fetches can be counted.

import { TtlCache } from '../../src/cache/ttl-cache.js';
import { DEFAULT_CONFIG } from '../../src/config/config.js';
import type { CompiledPolicy } from '../../src/core/policy/types.js';
import type { SourceOutcome } from '../../src/core/result.js';
import { loadPolicyText } from '../../src/policy-files/load.js';
import type { DispatcherPool } from '../../src/registry/http.js';
import { NotaryClient } from '../../src/registry/notary-client.js';
import { OciClient } from '../../src/registry/oci-client.js';
import { DefaultImageVerifier } from '../../src/verify/image-verifier.js';
import { NotaryEvidence } from '../../src/verify/notary-evidence.js';
import { NotationEvidence } from '../../src/verify/notation-evidence.js';
import {
  systemClock,
  type NotaryMetadataSource,
  type NotaryRoleRequest,
  type OciDescriptor,
  type OciSource,
  type PolicySource,
} from '../../src/verify/ports.js';

/** A ClusterTrustPolicy (YAML) for every image under `<registryHost>/bench/`, pinning root keys. */
export function benchPolicyYaml(opts: {
  registryHost: string;
  notaryUrl: string;
  rootKeyIds: readonly string[];
}): string {
  return [
    'apiVersion: trustgate.dev/v1alpha1',
    'kind: ClusterTrustPolicy',
    'metadata:',
    '  name: bench',
    'spec:',
    `  images: ['${opts.registryHost}/bench/**']`,
    '  trustSources:',
    '    - name: notary',
    '      notaryV1:',
    `        server: ${opts.notaryUrl}`,
    `        rootKeys: [${opts.rootKeyIds.map((k) => `'${k}'`).join(', ')}]`,
    '',
  ].join('\n');
}

/**
 * Compile policy YAML with the production loader.
 * @throws Error listing the field errors when the text does not compile.
 */
export function compilePolicies(yaml: string): CompiledPolicy[] {
  const loaded = loadPolicyText(yaml, 'bench-policy.yaml');
  if (loaded.errors.length > 0) {
    throw new Error(
      `bench policy does not compile: ${loaded.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    );
  }
  return loaded.policies;
}

/** A fixed PolicySource. */
export function staticPolicies(policies: readonly CompiledPolicy[]): PolicySource {
  const frozen = Object.freeze([...policies]);
  return { current: () => frozen, ready: () => true };
}

/** A NotaryMetadataSource that counts requests per served path. */
export class CountingMetadata implements NotaryMetadataSource {
  readonly counts = new Map<string, number>();
  constructor(private readonly inner: NotaryMetadataSource) {}

  fetchRole(req: NotaryRoleRequest): Promise<Uint8Array | null> {
    const path =
      req.version !== undefined
        ? `${req.version}.${req.role}.json`
        : req.sha256 !== undefined
          ? `${req.role}.<sha256>.json`
          : `${req.role}.json`;
    this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
    return this.inner.fetchRole(req);
  }

  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  reset(): void {
    this.counts.clear();
  }
}

/** An OciSource that counts `resolveTag` calls (the digest cross-check's HEAD). */
export class CountingOci implements OciSource {
  resolveTagCalls = 0;
  constructor(private readonly inner: OciSource) {}
  resolveTag(...args: Parameters<OciSource['resolveTag']>): Promise<OciDescriptor | null> {
    this.resolveTagCalls++;
    return this.inner.resolveTag(...args);
  }
  fetchManifest(
    ...args: Parameters<OciSource['fetchManifest']>
  ): ReturnType<OciSource['fetchManifest']> {
    return this.inner.fetchManifest(...args);
  }
  fetchBlob(...args: Parameters<OciSource['fetchBlob']>): ReturnType<OciSource['fetchBlob']> {
    return this.inner.fetchBlob(...args);
  }
  listReferrers(
    ...args: Parameters<OciSource['listReferrers']>
  ): ReturnType<OciSource['listReferrers']> {
    return this.inner.listReferrers(...args);
  }
}

export interface FreshVerifier {
  readonly verifier: DefaultImageVerifier;
  readonly metadata: CountingMetadata;
  readonly oci: CountingOci;
}

/**
 * A verifier with empty caches and no trusted state (a cold process, as far as trust data goes),
 * wired like buildVerifier with DEFAULT_CONFIG; connections come from the shared `pool`.
 */
export function freshVerifier(opts: {
  pool: DispatcherPool;
  policies: PolicySource;
  verifyRegistryDigest: boolean;
}): FreshVerifier {
  const config = DEFAULT_CONFIG;
  const metadata = new CountingMetadata(new NotaryClient({ dispatchers: opts.pool }));
  const oci = new CountingOci(
    new OciClient({
      dispatchers: opts.pool,
      clock: systemClock,
      config: { insecureRegistries: [], caBundles: {}, mirrors: {} },
    }),
  );
  const verifier = new DefaultImageVerifier({
    policies: opts.policies,
    notary: new NotaryEvidence({ metadata }),
    oci,
    notation: new NotationEvidence({ oci }),
    clock: systemClock,
    outcomeCache: new TtlCache<string, SourceOutcome>({
      maxEntries: config.cache.maxEntries,
      clock: systemClock,
    }),
    tagCache: new TtlCache<string, OciDescriptor | null>({
      maxEntries: config.cache.maxEntries,
      clock: systemClock,
    }),
    settings: {
      noMatchAction: config.noMatchAction,
      failureAction: config.failureAction,
      verifyRegistryDigest: opts.verifyRegistryDigest,
      maxTtlMs: config.cache.maxTtlMs,
      negativeTtlMs: config.cache.negativeTtlMs,
      tagTtlMs: config.cache.tagTtlMs,
    },
  });
  return { verifier, metadata, oci };
}
