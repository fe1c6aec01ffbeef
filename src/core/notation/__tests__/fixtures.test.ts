// SPDX-License-Identifier: Apache-2.0
// The copied Notation vectors are byte-exact: every MANIFEST.tsv line's sha256 matches the file.

import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readVector } from '../../../__fixtures__/notation/builders.js';

describe('src/__fixtures__/notation', () => {
  describe('when MANIFEST.tsv is checked against the files', () => {
    const lines = readVector('MANIFEST.tsv').toString('utf8').trim().split('\n').slice(1);
    it('lists the copied vectors', () => {
      expect(lines.length).toBeGreaterThan(50);
    });
    const rows = lines.map((l) => {
      const [repo, path, , , sha] = l.split('\t');
      return { repo, path, sha };
    });
    it.each(rows)('$repo/$path has the recorded sha256', ({ repo, path, sha }) => {
      expect(
        createHash('sha256')
          .update(readVector(`${repo}/${path}`))
          .digest('hex'),
      ).toBe(sha);
    });
  });
});
