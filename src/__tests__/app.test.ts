// SPDX-License-Identifier: Apache-2.0
// The composition `trustgate serve` uses: a PolicyStore change reaches the verifier's caches
// (forgetChangedPolicies over buildVerifier's bundle): exactly the changed policy's outcomes go, and
// so does every memoised verdict, since each was built under the policy set that just changed.

import { afterEach, describe, expect, it } from '@jest/globals';
import { buildVerifier, forgetChangedPolicies, type VerifierBundle } from '../app.js';
import { DEFAULT_CONFIG } from '../config/config.js';
import { compilePolicy } from '../core/policy/compile.js';
import { KEY_ID } from '../core/policy/__tests__/pki.js';
import type { CompiledPolicy, TrustPolicySpec } from '../core/policy/types.js';
import type { SourceOutcome } from '../core/result.js';
import { PolicyStore } from '../k8s/policy-store.js';
import { outcomeKey, type MemoisedVerdict } from '../verify/image-verifier.js';

const NOW = new Date('2026-12-02T00:00:00Z');
const MINUTE = 60_000;
const NAMESPACE = 'shop';
const DIGEST = `sha256:${'1'.repeat(64)}`;

function policy(name: string, spec: Partial<TrustPolicySpec> = {}): CompiledPolicy {
  return compilePolicy({
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterTrustPolicy',
    metadata: { name },
    spec: {
      images: ['registry.example.com/team/*'],
      trustSources: [{ name: 'dct', notaryV1: { server: 'https://notary', rootKeys: [KEY_ID] } }],
      ...spec,
    },
  });
}

let bundle: VerifierBundle | undefined;
afterEach(async () => {
  await bundle?.close();
  bundle = undefined;
});

/** A store serving `policies` and the bundle `serve` builds over it. */
function serveWiring(policies: readonly CompiledPolicy[]): {
  store: PolicyStore;
  bundle: VerifierBundle;
} {
  const store = new PolicyStore();
  for (const p of policies) store.upsert(p.id, p);
  store.markReady();
  bundle = buildVerifier({
    config: DEFAULT_CONFIG,
    policies: store,
    clock: { now: () => NOW },
    registry: false,
  });
  return { store, bundle };
}

/**
 * Cache an outcome and a memoised verdict of an image only `p` applies to, as a verification in
 * NAMESPACE would (the memo key is the image and the namespace, as DefaultImageVerifier keys it).
 */
function cacheUnder(b: VerifierBundle, p: CompiledPolicy, snapshot: readonly CompiledPolicy[]) {
  const IMAGE = `registry.example.com/team/${p.id.split('/').pop()!}:v1`;
  const source = p.sources[0]!;
  const outcome: SourceOutcome = {
    ok: true,
    source: source.name,
    digest: DIGEST,
    signers: ['targets'],
    validUntil: new Date(NOW.getTime() + 60 * MINUTE),
  };
  const key = outcomeKey({ policy: p, source, reference: IMAGE, at: undefined });
  b.outcomeCache.set(key, outcome, 5 * MINUTE);
  const memoKey = `${IMAGE}\u0000${NAMESPACE}`;
  const memoised: MemoisedVerdict = {
    verdict: {
      image: IMAGE,
      path: 'spec.containers[0].image',
      allowed: true,
      reasons: [],
      warnings: [],
      audits: [],
      inconclusive: false,
      policies: [p.id],
    },
    policies: snapshot,
    namespace: undefined,
  };
  b.verdictMemo.set(memoKey, memoised, 5 * MINUTE);
  return {
    cached: () => ({
      outcome: b.outcomeCache.get(key) !== undefined,
      verdict: b.verdictMemo.get(memoKey) !== undefined,
    }),
  };
}

describe('forgetChangedPolicies (serve: PolicyStore → verifier caches)', () => {
  const both = { outcome: true, verdict: true };
  const none = { outcome: false, verdict: false };
  /** The outcome stays; the memoised verdict, built under the old policy set, goes. */
  const outcomeOnly = { outcome: true, verdict: false };

  /** Policies `web` and `web-b` wired as serve wires them, each with a cached outcome and verdict. */
  function twoPolicies() {
    const web = policy('web');
    const webB = policy('web-b');
    const { store, bundle: b } = serveWiring([web, webB]);
    const unsubscribe = forgetChangedPolicies(store, b);
    const a = cacheUnder(b, web, store.current());
    const other = cacheUnder(b, webB, store.current());
    return { web, webB, store, a, other, unsubscribe };
  }

  it("drops a replaced policy's outcomes and every stale memoised verdict, and keeps the other policy's outcomes", () => {
    const { web, store, a, other } = twoPolicies();
    expect(a.cached()).toEqual(both);

    store.upsert(web.id, policy('web', { mode: 'warn' }));
    expect(a.cached()).toEqual(none);
    expect(other.cached()).toEqual(outcomeOnly);
  });

  it('drops the entries of a policy that left the set (deleted or invalid)', () => {
    const { web, webB, store, a, other } = twoPolicies();

    store.markInvalid(webB.id, 'key material missing');
    expect(other.cached()).toEqual(none);
    expect(a.cached()).toEqual(outcomeOnly);
    store.remove(web.id);
    expect(a.cached()).toEqual(none);
  });

  it('stops once unsubscribed', () => {
    const { web, store, a, unsubscribe } = twoPolicies();
    unsubscribe();
    store.remove(web.id);
    expect(a.cached()).toEqual(both);
  });
});
