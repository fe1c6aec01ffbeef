// SPDX-License-Identifier: Apache-2.0
// Counts hashing through node:crypto for tests that prove a digest is computed once. Call
// `countHashUpdates()` at the top of a test file, before importing the code under test
// dynamically: the module mock only applies to modules loaded after it.

import { jest } from '@jest/globals';
import type * as Crypto from 'node:crypto';

/** One `hash.update(data)`: its algorithm and the exact object hashed. */
export interface HashUpdate {
  readonly alg: string;
  readonly data: unknown;
}

/** Route `createHash` through a recorder; returns the list every later update is pushed to. */
export async function countHashUpdates(): Promise<HashUpdate[]> {
  const actual = await import('node:crypto');
  const updates: HashUpdate[] = [];
  jest.unstable_mockModule('node:crypto', () => ({
    ...actual,
    createHash: (alg: string, opts?: Crypto.HashOptions): Crypto.Hash => {
      const hash = actual.createHash(alg, opts);
      const update = hash.update.bind(hash) as (data: unknown) => Crypto.Hash;
      hash.update = (data: unknown) => {
        updates.push({ alg, data });
        return update(data);
      };
      return hash;
    },
  }));
  return updates;
}
