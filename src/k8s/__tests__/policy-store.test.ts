// SPDX-License-Identifier: Apache-2.0
// PolicyStore: immutable snapshots, change events with generations, counts by state.

import { describe, expect, it } from '@jest/globals';
import type { CompiledPolicy } from '../../core/policy/types.js';
import { PolicyStore, policyId, type PolicyChange } from '../policy-store.js';

function compiled(id: string, generation: string): CompiledPolicy {
  const [kind, ...rest] = id.split('/');
  return {
    id,
    kind: kind as CompiledPolicy['kind'],
    name: rest[rest.length - 1] ?? '',
    generation,
    mode: 'enforce',
    images: ['r.example.com/*'],
    imageMatchers: [],
    requireSignatures: true,
    sources: [],
    signers: [],
    thresholds: new Map(),
  };
}

describe('policyId', () => {
  it('names cluster policies by name and namespaced ones by namespace and name', () => {
    expect(policyId('ClusterTrustPolicy', 'org')).toBe('ClusterTrustPolicy/org');
    expect(policyId('TrustPolicy', 'apps', 'team-a')).toBe('TrustPolicy/team-a/apps');
  });
});

describe('PolicyStore', () => {
  describe('when new', () => {
    it('is empty and not ready', () => {
      const s = new PolicyStore();
      expect(s.current()).toEqual([]);
      expect(s.ready()).toBe(false);
      expect(s.counts()).toEqual({ valid: 0, invalid: 0 });
    });

    it('becomes ready when marked', () => {
      const s = new PolicyStore();
      s.markReady();
      expect(s.ready()).toBe(true);
    });
  });

  describe('when policies are upserted', () => {
    it('serves a frozen snapshot sorted by id that later changes do not alter', () => {
      const s = new PolicyStore();
      s.upsert('TrustPolicy/ns/b', compiled('TrustPolicy/ns/b', 'g1'));
      s.upsert('ClusterTrustPolicy/a', compiled('ClusterTrustPolicy/a', 'g1'));
      const snap = s.current();
      expect(snap.map((p) => p.id)).toEqual(['ClusterTrustPolicy/a', 'TrustPolicy/ns/b']);
      expect(Object.isFrozen(snap)).toBe(true);
      expect(s.current()).toBe(snap);
      s.remove('ClusterTrustPolicy/a');
      expect(snap.map((p) => p.id)).toEqual(['ClusterTrustPolicy/a', 'TrustPolicy/ns/b']);
      expect(s.current().map((p) => p.id)).toEqual(['TrustPolicy/ns/b']);
    });

    it('emits the id with the new and previous generation', () => {
      const s = new PolicyStore();
      const seen: PolicyChange[] = [];
      s.onChange((c) => seen.push(c));
      s.upsert('ClusterTrustPolicy/a', compiled('ClusterTrustPolicy/a', 'g1'));
      s.upsert('ClusterTrustPolicy/a', compiled('ClusterTrustPolicy/a', 'g2'));
      s.remove('ClusterTrustPolicy/a');
      expect(seen).toEqual([
        { id: 'ClusterTrustPolicy/a', generation: 'g1', previousGeneration: undefined },
        { id: 'ClusterTrustPolicy/a', generation: 'g2', previousGeneration: 'g1' },
        { id: 'ClusterTrustPolicy/a', generation: undefined, previousGeneration: 'g2' },
      ]);
    });

    it('does not emit when the very same compiled policy is stored again', () => {
      const s = new PolicyStore();
      const p = compiled('ClusterTrustPolicy/a', 'g1');
      const seen: PolicyChange[] = [];
      s.upsert('ClusterTrustPolicy/a', p);
      s.onChange((c) => seen.push(c));
      s.upsert('ClusterTrustPolicy/a', p);
      expect(seen).toEqual([]);
    });
  });

  describe('when a policy becomes invalid', () => {
    it('leaves the served set, counts as invalid, and emits its removal once', () => {
      const s = new PolicyStore();
      s.upsert('ClusterTrustPolicy/a', compiled('ClusterTrustPolicy/a', 'g1'));
      const seen: PolicyChange[] = [];
      s.onChange((c) => seen.push(c));
      s.markInvalid('ClusterTrustPolicy/a', 'spec.images');
      s.markInvalid('ClusterTrustPolicy/a', 'spec.images');
      expect(s.current()).toEqual([]);
      expect(s.get('ClusterTrustPolicy/a')).toBeUndefined();
      expect(s.counts()).toEqual({ valid: 0, invalid: 1 });
      expect(seen).toEqual([
        { id: 'ClusterTrustPolicy/a', generation: undefined, previousGeneration: 'g1' },
      ]);
    });

    it('forgets it on removal without an event (it was never served)', () => {
      const s = new PolicyStore();
      s.markInvalid('ClusterTrustPolicy/x', 'spec');
      const seen: PolicyChange[] = [];
      s.onChange((c) => seen.push(c));
      s.remove('ClusterTrustPolicy/x');
      expect(s.counts()).toEqual({ valid: 0, invalid: 0 });
      expect(s.ids()).toEqual([]);
      expect(seen).toEqual([]);
    });
  });

  describe('when a listener throws or unsubscribes', () => {
    it('still swaps the snapshot and notifies the other listeners', () => {
      const s = new PolicyStore();
      const seen: string[] = [];
      s.onChange(() => {
        throw new Error('listener bug');
      });
      const off = s.onChange((c) => seen.push(c.id));
      s.upsert('ClusterTrustPolicy/a', compiled('ClusterTrustPolicy/a', 'g1'));
      off();
      s.upsert('ClusterTrustPolicy/b', compiled('ClusterTrustPolicy/b', 'g1'));
      expect(seen).toEqual(['ClusterTrustPolicy/a']);
      expect(s.current()).toHaveLength(2);
    });
  });
});
