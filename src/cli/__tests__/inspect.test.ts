// SPDX-License-Identifier: Apache-2.0
// How `trustgate inspect` lists signed tags: one row per tag with every role that signed it, in
// Docker's precedence order (targets/releases, targets, then other delegations by name).

import { describe, expect, it } from '@jest/globals';
import type { TargetInfo, VerifiedRepository, VerifiedRole } from '../../core/notary/types.js';
import { toSignedTags } from '../inspect.js';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;

function role(name: string, tags: Record<string, string>): VerifiedRole {
  const targets = new Map<string, TargetInfo>(
    Object.entries(tags).map(([tag, c]) => [
      tag,
      { name: tag, length: 10, sha256: c.repeat(64), digest: digest(c) },
    ]),
  );
  return {
    name,
    version: 1,
    expires: new Date('2027-01-01T00:00:00Z'),
    validKeyIds: ['k'],
    threshold: 1,
    paths: null,
    targets,
  };
}

function repo(roles: VerifiedRole[]): VerifiedRepository {
  return {
    gun: 'registry.example.com/app',
    rootVersion: 1,
    rootKeyIds: ['r'],
    timestampVersion: 1,
    snapshotVersion: 1,
    expires: new Date('2027-01-01T00:00:00Z'),
    roles: new Map(roles.map((r) => [r.name, r])),
    problems: [],
  };
}

describe('toSignedTags', () => {
  describe('when several roles sign tags', () => {
    it('lists each tag once, its roles in Docker precedence order, tags sorted', () => {
      const tags = toSignedTags(
        repo([
          role('targets/zed', { v1: 'c' }),
          role('targets', { v1: 'a', v2: 'b' }),
          role('targets/alice', { v1: 'c' }),
          role('targets/releases', { v1: 'a' }),
        ]),
      );
      expect(tags).toEqual([
        {
          tag: 'v1',
          // The first role in precedence order supplies the digest shown.
          digest: digest('a'),
          length: 10,
          roles: ['targets/releases', 'targets', 'targets/alice', 'targets/zed'],
        },
        { tag: 'v2', digest: digest('b'), length: 10, roles: ['targets'] },
      ]);
    });
  });
});
