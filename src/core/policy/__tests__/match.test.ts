// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { parseImageReference } from '../../reference.js';
import { compilePolicy } from '../compile.js';
import { matchesLabelSelector, selectPolicies } from '../match.js';
import type { CompiledPolicy, LabelSelector, TrustPolicyResource } from '../types.js';
import { minimalPolicy } from './builders.js';

function policy(
  name: string,
  opts: { images?: string[]; namespace?: string; selector?: LabelSelector } = {},
): CompiledPolicy {
  const d = minimalPolicy();
  d.metadata.name = name;
  d.spec.images = opts.images ?? ['**'];
  if (opts.namespace !== undefined) {
    d.kind = 'TrustPolicy';
    d.metadata.namespace = opts.namespace;
  }
  if (opts.selector) d.spec.namespaceSelector = opts.selector;
  return compilePolicy(d as TrustPolicyResource);
}

const ns = (name: string, labels: Record<string, string> = {}) => ({ name, labels });
const ref = (image: string) => parseImageReference(image);

describe('selectPolicies', () => {
  describe('when matching images', () => {
    it('returns the policies whose globs match the normalized name, in order', () => {
      const policies = [
        policy('hub', { images: ['nginx'] }),
        policy('local', { images: ['localhost:5000/**'] }),
        policy('all'),
      ];
      expect(selectPolicies(policies, ref('nginx:1.25'), ns('default')).map((p) => p.name)).toEqual(
        ['hub', 'all'],
      );
      expect(
        selectPolicies(policies, ref('localhost:5000/a/b'), ns('default')).map((p) => p.name),
      ).toEqual(['local', 'all']);
    });
  });

  describe('when a TrustPolicy is namespaced', () => {
    const tp = policy('team', { namespace: 'team-a' });
    it.each([
      ['its own namespace', ns('team-a'), true],
      ['another namespace', ns('team-b'), false],
      ['an unknown namespace', undefined, false],
    ])('in %s → %s', (_what, namespace, expected) => {
      expect(selectPolicies([tp], ref('nginx'), namespace)).toHaveLength(expected ? 1 : 0);
    });
  });

  describe('when a ClusterTrustPolicy has a namespaceSelector', () => {
    it('applies to all namespaces without one, even an unknown namespace', () => {
      expect(selectPolicies([policy('all')], ref('nginx'), undefined)).toHaveLength(1);
    });

    it('does not apply when the namespace is unknown', () => {
      expect(
        selectPolicies(
          [policy('prod', { selector: { matchLabels: { env: 'prod' } } })],
          ref('nginx'),
          undefined,
        ),
      ).toHaveLength(0);
    });

    it('applies when the labels match', () => {
      const p = policy('prod', { selector: { matchLabels: { env: 'prod' } } });
      expect(selectPolicies([p], ref('nginx'), ns('a', { env: 'prod' }))).toHaveLength(1);
      expect(selectPolicies([p], ref('nginx'), ns('a', { env: 'dev' }))).toHaveLength(0);
    });
  });
});

describe('matchesLabelSelector', () => {
  const labels = { env: 'prod', tier: 'web', 'example.com/owner': 'team-a' };
  it.each<[string, LabelSelector, boolean]>([
    ['empty selector', {}, true],
    ['matchLabels hit', { matchLabels: { env: 'prod', tier: 'web' } }, true],
    ['matchLabels wrong value', { matchLabels: { env: 'dev' } }, false],
    ['matchLabels missing key', { matchLabels: { zone: 'a' } }, false],
    [
      'In hit',
      { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api', 'web'] }] },
      true,
    ],
    ['In miss', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] }, false],
    [
      'In on a missing key',
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      false,
    ],
    ['In without values', { matchExpressions: [{ key: 'tier', operator: 'In' }] }, false],
    [
      'NotIn hit',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['api'] }] },
      true,
    ],
    [
      'NotIn miss',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] },
      false,
    ],
    [
      'NotIn on a missing key',
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['NotIn without values', { matchExpressions: [{ key: 'tier', operator: 'NotIn' }] }, true],
    ['Exists hit', { matchExpressions: [{ key: 'example.com/owner', operator: 'Exists' }] }, true],
    ['Exists miss', { matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, false],
    ['DoesNotExist hit', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist miss', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, false],
    [
      'labels and expressions together',
      { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
      true,
    ],
    [
      'an unknown operator (fails closed)',
      { matchExpressions: [{ key: 'env', operator: 'Like' as never }] },
      false,
    ],
    [
      'a key inherited from Object.prototype',
      { matchExpressions: [{ key: 'toString', operator: 'Exists' }] },
      false,
    ],
  ])('%s → %s', (_what, selector, expected) => {
    expect(matchesLabelSelector(selector, labels)).toBe(expected);
  });
});
