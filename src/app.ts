// SPDX-License-Identifier: Apache-2.0
// Composition helpers for main.ts's commands: build the verifier and its clients from the
// runtime Config. No environment access here; everything arrives as parameters.

import type { Config } from './config/config.js';
import { TtlCache } from './cache/ttl-cache.js';
import type { SourceOutcome } from './core/result.js';
import type { Metrics } from './observability/metrics.js';
import { DispatcherPool } from './registry/http.js';
import { NotaryClient } from './registry/notary-client.js';
import { OciClient } from './registry/oci-client.js';
import { DefaultImageVerifier, type MemoisedVerdict } from './verify/image-verifier.js';
import { NotaryEvidence } from './verify/notary-evidence.js';
import { NotationEvidence } from './verify/notation-evidence.js';
import type { Clock, NamespaceSource, OciDescriptor, PolicySource } from './verify/ports.js';

export interface VerifierBundle {
  readonly verifier: DefaultImageVerifier;
  readonly outcomeCache: TtlCache<string, SourceOutcome>;
  readonly tagCache: TtlCache<string, OciDescriptor | null>;
  /** Whole warm image verdicts; each entry expires no later than the cache entries it used. */
  readonly verdictMemo: TtlCache<string, MemoisedVerdict>;
  readonly notary: NotaryEvidence;
  /**
   * Drop policy `id`'s cached outcomes (it changed or left the set) and every memoised verdict
   * that can no longer be used; other policies keep their outcomes. Returns how many outcomes
   * were dropped.
   */
  forgetPolicy(id: string): number;
  /** Close upstream connection pools. */
  close(): Promise<void>;
}

export interface BuildVerifierOptions {
  readonly config: Config;
  readonly policies: PolicySource;
  readonly namespaces?: NamespaceSource;
  readonly clock: Clock;
  readonly metrics?: Metrics;
  /** Talk to registries (digest cross-check, Notation). The CLI's `--no-registry` turns it off. */
  readonly registry: boolean;
}

/** Wire clients, evidence gatherers, caches and the image verifier. */
export function buildVerifier(opts: BuildVerifierOptions): VerifierBundle {
  const { config, metrics, clock } = opts;
  const dispatchers = new DispatcherPool();
  const notary = new NotaryEvidence({ metadata: new NotaryClient({ dispatchers }) });
  const oci = opts.registry
    ? new OciClient({
        dispatchers,
        clock,
        config: {
          insecureRegistries: config.registry.insecureRegistries,
          caBundles: config.registry.caBundles,
          mirrors: config.registry.mirrors,
        },
      })
    : undefined;
  const outcomeCache = new TtlCache<string, SourceOutcome>({
    maxEntries: config.cache.maxEntries,
    clock,
    ...(metrics ? { onLookup: metrics.cacheRecorder('verdict') } : {}),
  });
  const tagCache = new TtlCache<string, OciDescriptor | null>({
    maxEntries: config.cache.maxEntries,
    clock,
    ...(metrics ? { onLookup: metrics.cacheRecorder('tag') } : {}),
  });
  const verdictMemo = new TtlCache<string, MemoisedVerdict>({
    maxEntries: config.cache.maxEntries,
    clock,
    ...(metrics ? { onLookup: metrics.cacheRecorder('image') } : {}),
  });
  const verifier = new DefaultImageVerifier({
    policies: opts.policies,
    ...(opts.namespaces ? { namespaces: opts.namespaces } : {}),
    notary,
    ...(oci ? { oci, notation: new NotationEvidence({ oci }) } : {}),
    clock,
    outcomeCache,
    tagCache,
    verdictMemo,
    settings: {
      noMatchAction: config.noMatchAction,
      failureAction: config.failureAction,
      verifyRegistryDigest: config.registry.verifyDigest && opts.registry,
      maxTtlMs: config.cache.maxTtlMs,
      negativeTtlMs: config.cache.negativeTtlMs,
      tagTtlMs: config.cache.tagTtlMs,
    },
    ...(metrics
      ? {
          events: {
            verification: (source, result) => metrics.recordVerification(source, result),
            upstream: (kind, seconds) => metrics.recordUpstream(kind, seconds),
          },
        }
      : {}),
  });
  return {
    verifier,
    outcomeCache,
    tagCache,
    verdictMemo,
    notary,
    forgetPolicy: (id) => verifier.forgetPolicy(id),
    close: () => dispatchers.close(),
  };
}

/** What announces that a policy changed (`PolicyStore`). */
export interface PolicyChanges {
  /** @returns unsubscribe */
  onChange(listener: (change: { readonly id: string }) => void): () => void;
}

/**
 * Keep the bundle's caches in step with the policy set: whenever a policy is added, replaced or
 * removed, forget what was cached on its behalf. (Its new generation is a new key anyway; this
 * frees the old entries now rather than at TTL or LRU eviction.)
 * @returns unsubscribe
 */
export function forgetChangedPolicies(
  changes: PolicyChanges,
  bundle: Pick<VerifierBundle, 'forgetPolicy'>,
): () => void {
  return changes.onChange((change) => {
    bundle.forgetPolicy(change.id);
  });
}
