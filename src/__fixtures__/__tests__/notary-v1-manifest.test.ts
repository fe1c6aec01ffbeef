// SPDX-License-Identifier: Apache-2.0
// The copied Notary v1 vectors are byte-exact: every file matches MANIFEST.tsv (sha256 and size).

import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { VECTORS_DIR } from '../builders/notary-vectors.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

describe('notary-v1 vectors', () => {
  const lines = readFileSync(join(VECTORS_DIR, 'MANIFEST.tsv'), 'utf8').trim().split('\n').slice(1);
  const manifest = new Map(
    lines.map((l) => {
      const [path, sha, size] = l.split('\t') as [string, string, string];
      return [path, { sha, size: Number(size) }];
    }),
  );

  describe('when hashing every copied file', () => {
    it('matches the manifest sha256 and size', () => {
      const files = listFiles(VECTORS_DIR)
        .map((p) => relative(VECTORS_DIR, p))
        .filter((p) => p !== 'MANIFEST.tsv');
      expect(files.length).toBeGreaterThan(100);
      for (const rel of files) {
        const entry = manifest.get(rel);
        expect(entry).toBeDefined();
        const bytes = readFileSync(join(VECTORS_DIR, rel));
        expect({
          rel,
          sha: createHash('sha256').update(bytes).digest('hex'),
          size: bytes.length,
        }).toEqual({ rel, ...entry });
      }
    });
  });
});
