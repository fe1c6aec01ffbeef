// SPDX-License-Identifier: Apache-2.0
// Cache keys: every part changes the key, and separators inside parts cannot collide.

import { describe, expect, it } from '@jest/globals';
import {
  hashMaterial,
  tagDigestKey,
  trustDataKey,
  verdictKey,
  type VerdictKeyParts,
} from '../keys.js';

const base: VerdictKeyParts = {
  sourceKind: 'notaryV1',
  sourceName: 'corp-notary',
  materialHash: 'ab'.repeat(32),
  policyGeneration: 'uid-1/42',
  repository: 'registry.example.com/team/web',
  digestOrTag: 'sha256:' + 'c'.repeat(64),
};

describe('verdictKey', () => {
  describe('when any single part changes', () => {
    it('produces a different key', () => {
      const k = verdictKey(base);
      for (const field of Object.keys(base) as (keyof VerdictKeyParts)[]) {
        expect(verdictKey({ ...base, [field]: base[field] + 'x' })).not.toBe(k);
      }
    });
  });

  describe('when parts contain separator characters', () => {
    it('does not collide with a different split of the same text', () => {
      const a = verdictKey({ ...base, sourceName: 'a|1:b', materialHash: 'c' });
      const b = verdictKey({ ...base, sourceName: 'a', materialHash: '1:b|1:c' });
      expect(a).not.toBe(b);
    });
  });
});

describe('tagDigestKey / trustDataKey / hashMaterial', () => {
  it('separate namespaces and credential scopes', () => {
    const t = tagDigestKey({ registry: 'r', repository: 'p', tag: 't', credentialScope: '' });
    expect(
      tagDigestKey({ registry: 'r', repository: 'p', tag: 't', credentialScope: 'ns/regcred' }),
    ).not.toBe(t);
    expect(trustDataKey({ server: 'r', gun: 'p', materialHash: 't' })).not.toBe(t);
    expect(hashMaterial(['a', 'bc'])).not.toBe(hashMaterial(['ab', 'c']));
    expect(hashMaterial(['a'])).toMatch(/^[0-9a-f]{64}$/);
  });
});
