// SPDX-License-Identifier: Apache-2.0
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../core/errors.js';
import {
  formatFieldError,
  loadPolicies,
  loadPolicyText,
  parseFieldPath,
  parsePolicyText,
} from '../load.js';

const KEY = 'a191fd8c0e3b5f1d41a0bbf3ff7d2cdbc0c1e57d1a0c5fd36a6e0d8f2a8e9c11';

const GOOD = `apiVersion: trustgate.dev/v1alpha1
kind: ClusterTrustPolicy
metadata:
  name: good
spec:
  images: ["localhost:5000/**"]
  trustSources:
    - name: dct
      notaryV1:
        server: http://127.0.0.1:4443
        rootKeys: ["${KEY}"]
`;

// Line numbers below refer to this text.
const BAD = `apiVersion: trustgate.dev/v1alpha1
kind: ClusterTrustPolicy
metadata:
  name: bad
spec:
  mode: deny
  images: ["nginx:1.25"]
  trustSources:
    - name: dct
      notaryV1:
        server: https://notary.example.com
        rootKeys:
          - ${KEY}
          - not-a-key
  thresholds:
    release-managers: 0
  allow:
    expires: 15 days
  bogus: 1
`;

const SEED = `version: "2.0"
trust:
  repositories:
    "myregistry.example.com/myorg/*":
      thresholds:
        release-managers: 0
trustSources:
  - name: dct
    notaryV1: { server: "https://notary.example.com", rootKeys: ["${KEY}"] }
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'trustgate-load-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadPolicyText', () => {
  describe('when the text is a valid CR', () => {
    it('returns the compiled policy and the resource', () => {
      const r = loadPolicyText(GOOD, 'good.yaml');
      expect(r.errors).toEqual([]);
      expect(r.policies.map((p) => p.id)).toEqual(['ClusterTrustPolicy/good']);
      expect(r.resources[0]?.metadata.name).toBe('good');
    });
  });

  describe('when a CR has errors', () => {
    it('reports each with file, line and path', () => {
      const r = loadPolicyText(BAD, 'bad.yaml');
      const at = Object.fromEntries(r.errors.map((e) => [e.path, e.line]));
      expect(r.errors.every((e) => e.file === 'bad.yaml')).toBe(true);
      expect(at).toEqual({
        'spec.mode': 6,
        'spec.images[0]': 7,
        'spec.trustSources[0].notaryV1.rootKeys[1]': 14,
        'spec.thresholds.release-managers': 16,
        'spec.allow.expires': 18,
        'spec.bogus': 19,
      });
      expect(r.policies).toEqual([]);
    });
  });

  describe('when the text is a seed file', () => {
    it('maps seed paths to lines', () => {
      const r = loadPolicyText(SEED, 'seed.yaml');
      expect(r.errors).toEqual([
        {
          file: 'seed.yaml',
          line: 6,
          path: 'trust.repositories["myregistry.example.com/myorg/*"].thresholds.release-managers',
          message: 'must be at least 1',
        },
      ]);
    });

    it('compiles a valid one', () => {
      const r = loadPolicyText(SEED.replace('release-managers: 0', 'release-managers: 2'));
      expect(r.errors).toEqual([]);
      expect(r.policies).toHaveLength(1);
    });
  });

  describe('when the text has several documents', () => {
    it('loads each and reports duplicates at the second definition', () => {
      const r = loadPolicyText(`${GOOD}---\n${GOOD}---\n`, 'two.yaml');
      expect(r.policies).toHaveLength(1);
      expect(r.errors).toEqual([
        {
          file: 'two.yaml',
          line: 16,
          path: 'metadata.name',
          message: expect.stringMatching(/defined twice \(first at two.yaml:4\)/),
        },
      ]);
    });
  });

  describe('when a document refers to a ConfigMap', () => {
    it('explains that files cannot use references', () => {
      const text = GOOD.replace(
        'rootKeys:',
        'caBundleRef: { configMap: ca, key: ca.crt, namespace: trustgate }\n        rootKeys:',
      );
      const r = loadPolicyText(text, 'ref.yaml');
      expect(r.errors).toEqual([
        expect.objectContaining({
          line: 11,
          path: 'spec.trustSources[0].notaryV1.caBundleRef',
          message: expect.stringMatching(/inline the PEM/),
        }),
      ]);
    });
  });

  describe('when the YAML is broken', () => {
    it('reports a syntax error with its line', () => {
      const r = loadPolicyText('apiVersion: x\nkind: [unclosed\n', 'broken.yaml');
      expect(r.errors[0]).toMatchObject({
        file: 'broken.yaml',
        path: '',
        message: expect.stringMatching(/^YAML syntax/),
      });
      expect(r.errors[0]?.line).toBeGreaterThanOrEqual(2);
    });

    it('reports duplicate keys', () => {
      const r = loadPolicyText('a: 1\na: 2\n');
      expect(r.errors[0]?.message).toMatch(/YAML syntax/);
    });

    it('refuses alias bombs', () => {
      const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
      for (let i = 1; i < 8; i += 1)
        bomb.push(
          `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10)
            .fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`)
            .join(',')}]`,
        );
      const r = loadPolicyText(bomb.join('\n'), 'bomb.yaml');
      expect(r.errors[0]?.message).toMatch(/^YAML: .*alias/i);
    });
  });

  describe('when the document is not a policy', () => {
    it('reports what is missing', () => {
      const r = loadPolicyText('just: text\n', 'x.yaml');
      expect(r.errors.map((e) => e.path)).toEqual(
        expect.arrayContaining(['apiVersion', 'kind', 'metadata']),
      );
    });

    it('skips empty documents', () => {
      expect(loadPolicyText('---\n---\n')).toEqual({ policies: [], resources: [], errors: [] });
    });
  });

  describe('when the text is JSON', () => {
    it('loads it and finds lines', () => {
      const json = JSON.stringify(
        {
          apiVersion: 'trustgate.dev/v1alpha1',
          kind: 'ClusterTrustPolicy',
          metadata: { name: 'j' },
          spec: { images: ['x'], mode: 'no' },
        },
        null,
        2,
      );
      const r = loadPolicyText(json, 'p.json');
      expect(r.errors.find((e) => e.path === 'spec.mode')?.line).toBe(11);
    });
  });
});

describe('parsePolicyText / locate', () => {
  const doc = parsePolicyText('a:\n  b:\n    - x\n    - c: 1\n  d: {}\n').documents[0]!;
  it.each([
    ['', 1],
    ['a', 1],
    ['a.b', 2],
    ['a.b[0]', 3],
    ['a.b[1].c', 4],
    ['a.b[1].missing', 4],
    ['a.b[5]', 2],
    ['a.d', 5],
    ['a.d.x', 5],
    ['a.b[0].x', 3],
  ])('%j is on line %d', (path, line) => {
    expect(doc.locate(path)).toBe(line);
  });
});

describe('parseFieldPath', () => {
  it.each([
    ['spec.images[0]', ['spec', 'images', 0]],
    [
      'trust.repositories["a/*"].thresholds.release-managers',
      ['trust', 'repositories', 'a/*', 'thresholds', 'release-managers'],
    ],
    ['x["q\\"uote"]', ['x', 'q"uote']],
    ['', []],
    ['a[3', ['a', 3]],
  ])('%j → %j', (path, segments) => {
    expect(parseFieldPath(path)).toEqual(segments);
  });
});

describe('loadPolicies', () => {
  describe('when given a directory', () => {
    it('reads *.yaml, *.yml and *.json in name order, not recursively', async () => {
      const d = join(dir, 'policies');
      mkdirSync(join(d, 'nested'), { recursive: true });
      writeFileSync(join(d, 'b.yml'), GOOD.replace('name: good', 'name: b'));
      writeFileSync(join(d, 'a.yaml'), GOOD.replace('name: good', 'name: a'));
      writeFileSync(
        join(d, 'c.json'),
        JSON.stringify({
          version: '2.0',
          trust: { repositories: { 'r.io/x': { requireSignatures: false } } },
        }),
      );
      writeFileSync(join(d, 'notes.txt'), 'ignored');
      writeFileSync(join(d, 'nested', 'z.yaml'), GOOD.replace('name: good', 'name: z'));
      const r = await loadPolicies(d);
      expect(r.errors).toEqual([]);
      expect(r.policies.map((p) => p.name)).toEqual(['a', 'b', expect.stringMatching(/^r-io-x-/)]);
      expect(r.resources).toHaveLength(3);
    });

    it('reports the same policy in two files', async () => {
      const d = join(dir, 'dupes');
      mkdirSync(d);
      writeFileSync(join(d, '1.yaml'), GOOD);
      writeFileSync(join(d, '2.yaml'), GOOD);
      const r = await loadPolicies(d);
      expect(r.policies).toHaveLength(1);
      expect(r.errors.map(formatFieldError)).toEqual([
        expect.stringMatching(
          /2\.yaml:4: metadata\.name: ClusterTrustPolicy\/good is defined twice \(first at .*1\.yaml:4\)/,
        ),
      ]);
    });
  });

  describe('when given a file', () => {
    it('loads it', async () => {
      const f = join(dir, 'one.yaml');
      writeFileSync(f, GOOD);
      expect((await loadPolicies(f)).policies).toHaveLength(1);
    });

    it('refuses a huge file', async () => {
      const f = join(dir, 'huge.yaml');
      writeFileSync(f, `# ${'x'.repeat(4 * 1024 * 1024 + 1)}\n`);
      expect((await loadPolicies(f)).errors).toEqual([
        { file: f, line: 1, path: '', message: expect.stringMatching(/larger than/) },
      ]);
    });

    it('skips directories whose names look like policy files', async () => {
      const d = join(dir, 'dir-named-yaml');
      mkdirSync(join(d, 'x.yaml'), { recursive: true });
      expect(await loadPolicies(d)).toEqual({ policies: [], resources: [], errors: [] });
    });
  });

  describe('when the path does not exist', () => {
    it('throws a USAGE error', async () => {
      await expect(loadPolicies(join(dir, 'missing'))).rejects.toThrowWithCode(
        ConfigError,
        'USAGE',
      );
    });
  });
});

describe('formatFieldError', () => {
  it.each([
    [{ file: 'p.yaml', line: 3, path: 'spec.mode', message: 'bad' }, 'p.yaml:3: spec.mode: bad'],
    [{ file: 'p.yaml', path: 'spec.mode', message: 'bad' }, 'p.yaml: spec.mode: bad'],
    [{ line: 3, path: '', message: 'bad' }, 'line 3: bad'],
    [{ path: 'spec', message: 'bad' }, 'spec: bad'],
  ])('%j → %s', (e, text) => {
    expect(formatFieldError(e)).toBe(text);
  });
});
