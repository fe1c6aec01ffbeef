// SPDX-License-Identifier: Apache-2.0
// `trustgate policy validate` and `policy convert` on the shipped examples and on broken files:
// exit codes, file:line locations, and a conversion that validate accepts.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runCli } from './support.js';

const POLICIES = join(process.cwd(), 'policies');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trustgate-policy-cli-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, lines: readonly string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

describe('trustgate policy validate', () => {
  describe('when given the shipped examples', () => {
    it('exits 0 and reports each file valid', async () => {
      const r = await runCli(['policy', 'validate', POLICIES], dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        new RegExp(`^${POLICIES}: \\d+ polic(y|ies) valid \\(ClusterTrustPolicy/`),
      );
    });

    it('validates every file named on the command line', async () => {
      const names = (await readdir(POLICIES)).filter((n) => n.endsWith('.yaml'));
      const r = await runCli(['policy', 'validate', ...names.map((n) => join(POLICIES, n))], dir);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toHaveLength(names.length);
    });
  });

  describe('when a file is broken', () => {
    it('exits 1 and prints file:line: path: message for every problem', async () => {
      const bad = await file('bad.yaml', [
        'apiVersion: trustgate.dev/v1alpha1',
        'kind: ClusterTrustPolicy',
        'metadata: { name: bad }',
        'spec:',
        "  images: ['registry.example.com/**']",
        '  mode: enforcing',
        '  trustSources:',
        '    - name: dct',
        '      notaryV1: { server: "ftp://notary.example.com", trustOnFirstUse: true }',
      ]);
      const r = await runCli(['policy', 'validate', bad], dir);
      expect(r.code).toBe(1);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${bad}:6: spec\\.mode: .+`)));
      expect(lines).toContainEqual(
        expect.stringMatching(
          new RegExp(`^${bad}:9: spec\\.trustSources\\[0\\]\\.notaryV1\\.server: .+`),
        ),
      );
    });

    it('exits 1 for YAML that does not parse, with its line', async () => {
      const bad = await file('syntax.yaml', [
        'apiVersion: trustgate.dev/v1alpha1',
        'kind: [ClusterTrustPolicy',
        'metadata: {}',
      ]);
      const r = await runCli(['policy', 'validate', bad], dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^${bad}:\\d+: `));
    });

    it('exits 1 when only one of several files is broken, and still reports the good one', async () => {
      const bad = await file('bad-seed.yaml', [
        'version: "2.0"',
        'trust:',
        '  repositories:',
        '    "a/*": { requireSignatures: maybe }',
      ]);
      const good = join(POLICIES, 'local-dev.yaml');
      const r = await runCli(['policy', 'validate', good, bad], dir);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`${good}: 1 policy valid (ClusterTrustPolicy/local-dev)`);
      expect(r.stdout).toMatch(new RegExp(`${bad}:4: trust\\.repositories`));
    });
  });

  describe('when the path does not exist', () => {
    it('exits 2', async () => {
      const r = await runCli(['policy', 'validate', join(dir, 'nope.yaml')], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('cannot read policy path');
    });
  });
});

describe('trustgate policy convert', () => {
  describe('when given the seed-format example', () => {
    it('prints ClusterTrustPolicy YAML that policy validate accepts', async () => {
      const r = await runCli(['policy', 'convert', join(POLICIES, 'seed-format.yaml')], dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const docs = parseAllDocuments(r.stdout).map(
        (d) => d.toJS() as { apiVersion: string; kind: string; spec: { images: string[] } },
      );
      expect(docs.map((d) => [d.apiVersion, d.kind, d.spec.images])).toEqual([
        ['trustgate.dev/v1alpha1', 'ClusterTrustPolicy', ['myregistry.example.com/legacy/*']],
        ['trustgate.dev/v1alpha1', 'ClusterTrustPolicy', ['myregistry.example.com/legacy-tools/*']],
      ]);
      const converted = join(dir, 'converted.yaml');
      await writeFile(converted, r.stdout);
      const v = await runCli(['policy', 'validate', converted], dir);
      expect(v.code).toBe(0);
      expect(v.stdout).toContain(`${converted}: 2 policies valid`);
    });
  });

  describe('when the file is not a seed-format file', () => {
    it('exits 2 and says where, once', async () => {
      const r = await runCli(['policy', 'convert', join(POLICIES, 'local-dev.yaml')], dir);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const located = r.stderr.split('\n').filter((l) => /local-dev\.yaml:\d+:/.test(l));
      expect(located).toHaveLength(1);
      expect(located[0]).toMatch(/local-dev\.yaml:\d+: is not a version: "2.0" policy file/);
    });
  });

  describe('when the file does not exist', () => {
    it('exits 2', async () => {
      const r = await runCli(['policy', 'convert', join(dir, 'nope.yaml')], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('cannot read');
    });
  });
});
