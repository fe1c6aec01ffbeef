// SPDX-License-Identifier: Apache-2.0
// Every example under policies/ must load, validate and compile, so examples cannot rot.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { formatFieldError, loadPolicies } from '../../src/policy-files/load.js';

const DIR = join(process.cwd(), 'policies');
const FILES = readdirSync(DIR)
  .filter((f) => /\.(ya?ml|json)$/.test(f))
  .sort();

describe('policies/', () => {
  it('has the example set the docs promise', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(9);
  });

  describe.each(FILES)('%s', (file) => {
    it('starts with a comment explaining it', () => {
      expect(readFileSync(join(DIR, file), 'utf8')).toMatch(/^# \S/);
    });

    it('loads, validates and compiles without errors', async () => {
      const loaded = await loadPolicies(join(DIR, file));
      expect(loaded.errors.map(formatFieldError)).toEqual([]);
      expect(loaded.policies.length).toBeGreaterThan(0);
    });
  });

  describe('when loaded as one directory', () => {
    it('has no duplicate policy names', async () => {
      const loaded = await loadPolicies(DIR);
      expect(loaded.errors.map(formatFieldError)).toEqual([]);
      expect(new Set(loaded.policies.map((p) => p.id)).size).toBe(loaded.policies.length);
    });

    it('mentions the notary.docker.io retirement date', () => {
      expect(readFileSync(join(DIR, 'docker-hub-official.yaml'), 'utf8')).toMatch(/2026-12-08/);
    });
  });
});
