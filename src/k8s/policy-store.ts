// SPDX-License-Identifier: Apache-2.0
// The compiled-policy set the admission path reads: an immutable array swapped atomically on every
// change, keyed by policy id, with change notifications for the verdict cache and per-state counts.

import type { CompiledPolicy } from '../core/policy/types.js';
import type { PolicySource } from '../verify/ports.js';

/** One policy changed: added (previousGeneration undefined), replaced, or removed (generation undefined). */
export interface PolicyChange {
  /** `ClusterTrustPolicy/<name>` or `TrustPolicy/<namespace>/<name>`. */
  readonly id: string;
  /** The compiled generation now served; undefined when the policy left the set (deleted or invalid). */
  readonly generation: string | undefined;
  /** The compiled generation served before; undefined when the policy was not in the set. */
  readonly previousGeneration: string | undefined;
}

export type PolicyState = 'valid' | 'invalid';

type Entry =
  | { readonly state: 'valid'; readonly policy: CompiledPolicy }
  | { readonly state: 'invalid'; readonly reason: string };

/** The id trustgate gives a policy resource (CompiledPolicy.id uses the same form). */
export function policyId(
  kind: 'ClusterTrustPolicy' | 'TrustPolicy',
  name: string,
  namespace?: string,
): string {
  return kind === 'TrustPolicy'
    ? `TrustPolicy/${namespace ?? ''}/${name}`
    : `ClusterTrustPolicy/${name}`;
}

/**
 * Immutable snapshots of the compiled policies. Writers (the informer, or the directory loader)
 * call upsert/markInvalid/remove; readers call current() and get an array that never changes
 * under them.
 */
export class PolicyStore implements PolicySource {
  private readonly entries = new Map<string, Entry>();
  private snapshot: readonly CompiledPolicy[] | undefined = Object.freeze([]);
  private isReady = false;
  private readonly listeners = new Set<(change: PolicyChange) => void>();

  /** The current set, sorted by id (deterministic evaluation order). Frozen; never mutated. */
  current(): readonly CompiledPolicy[] {
    if (this.snapshot === undefined) {
      const valid: CompiledPolicy[] = [];
      for (const e of this.entries.values()) if (e.state === 'valid') valid.push(e.policy);
      valid.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.snapshot = Object.freeze(valid);
    }
    return this.snapshot;
  }

  ready(): boolean {
    return this.isReady;
  }

  /** Declare the first full load complete (informers synced / directory read). */
  markReady(): void {
    this.isReady = true;
  }

  /** The compiled policy served under `id`, if valid. */
  get(id: string): CompiledPolicy | undefined {
    const e = this.entries.get(id);
    return e?.state === 'valid' ? e.policy : undefined;
  }

  /** Ids of every policy known to the store, valid or not. */
  ids(): readonly string[] {
    return [...this.entries.keys()];
  }

  /** Serve `policy` under `id` (replacing any previous version). No event when nothing changed. */
  upsert(id: string, policy: CompiledPolicy): void {
    const prev = this.entries.get(id);
    const prevGen = prev?.state === 'valid' ? prev.policy.generation : undefined;
    this.entries.set(id, { state: 'valid', policy });
    this.snapshot = undefined;
    if (prev?.state === 'valid' && prev.policy === policy) return;
    this.emit({ id, generation: policy.generation, previousGeneration: prevGen });
  }

  /** Record `id` as invalid: it leaves the served set but counts as `invalid`. */
  markInvalid(id: string, reason: string): void {
    const prev = this.entries.get(id);
    this.entries.set(id, { state: 'invalid', reason });
    if (prev?.state === 'valid') {
      this.snapshot = undefined;
      this.emit({ id, generation: undefined, previousGeneration: prev.policy.generation });
    }
  }

  /** Forget `id` entirely (resource deleted). */
  remove(id: string): void {
    const prev = this.entries.get(id);
    if (!prev) return;
    this.entries.delete(id);
    if (prev.state === 'valid') {
      this.snapshot = undefined;
      this.emit({ id, generation: undefined, previousGeneration: prev.policy.generation });
    }
  }

  /** Policies by state, for the `trustgate_policies{state}` gauge. */
  counts(): Readonly<Record<PolicyState, number>> {
    let valid = 0;
    let invalid = 0;
    for (const e of this.entries.values()) {
      if (e.state === 'valid') valid += 1;
      else invalid += 1;
    }
    return { valid, invalid };
  }

  /**
   * Subscribe to changes of the served set (the verdict cache drops exactly the changed policy's
   * entries). Listeners run synchronously after the swap; a throwing listener does not affect others.
   * @returns unsubscribe
   */
  onChange(cb: (change: PolicyChange) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private emit(change: PolicyChange): void {
    for (const cb of this.listeners) {
      try {
        cb(change);
      } catch {
        // A subscriber's bug must not stop the swap or the other subscribers.
      }
    }
  }
}
