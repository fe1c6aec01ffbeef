// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { compilePolicy } from '../compile.js';
import { isSeedDocument, seedToResources, toSeedPolicyName } from '../seed.js';
import { KEY_ID } from './pki.js';

const SOURCES = [
  { name: 'dct', notaryV1: { server: 'https://notary.example.com', rootKeys: [KEY_ID] } },
];

function seed(): Record<string, any> {
  return {
    version: '2.0',
    trust: {
      repositories: {
        'myregistry.example.com/myorg/*': {
          requireSignatures: true,
          signers: [
            { role: 'security-team', required: true },
            { role: 'developer', required: true },
          ],
          thresholds: { 'release-managers': 2 },
          allow: { paths: ['v*.*.*'], expires: '15d' },
        },
        'docker.io/library/*': null,
      },
    },
    trustSources: SOURCES,
  };
}

describe('seedToResources', () => {
  describe('when the file is valid', () => {
    it('makes one ClusterTrustPolicy per repository pattern with the top-level trust sources', () => {
      const { resources, errors } = seedToResources(seed());
      expect(errors).toEqual([]);
      expect(resources).toHaveLength(2);
      expect(resources[0]).toMatchObject({
        apiVersion: 'trustgate.dev/v1alpha1',
        kind: 'ClusterTrustPolicy',
        metadata: { name: expect.stringMatching(/^myregistry-example-com-myorg-any-[0-9a-f]{8}$/) },
        spec: {
          images: ['myregistry.example.com/myorg/*'],
          thresholds: { 'release-managers': 2 },
          trustSources: SOURCES,
        },
      });
      expect(resources[1]?.spec).toEqual({
        images: ['docker.io/library/*'],
        trustSources: SOURCES,
      });
      for (const r of resources) expect(() => compilePolicy(r)).not.toThrow();
    });

    it('names resources deterministically, with the prefix', () => {
      const a = seedToResources(seed(), { namePrefix: 'seed-' }).resources.map(
        (r) => r.metadata.name,
      );
      const b = seedToResources(seed(), { namePrefix: 'seed-' }).resources.map(
        (r) => r.metadata.name,
      );
      expect(a).toEqual(b);
      expect(a[0]).toMatch(/^seed-/);
    });

    it('prefers per-repository trust sources, then the file, then flags', () => {
      const doc = seed();
      delete doc.trustSources;
      const flags = [
        { name: 'flag', notaryV1: { server: 'https://n.example.com', trustOnFirstUse: true } },
      ];
      doc.trust.repositories['docker.io/library/*'] = { trustSources: SOURCES };
      const { resources, errors } = seedToResources(doc, { trustSources: flags });
      expect(errors).toEqual([]);
      expect(resources[0]?.spec.trustSources).toEqual(flags);
      expect(resources[1]?.spec.trustSources).toEqual(SOURCES);
    });
  });

  describe('when the file is invalid', () => {
    it.each<[string, (d: Record<string, any>) => void, string, RegExp]>([
      [
        'version as a number',
        (d) => {
          d.version = 2.0;
        },
        'version',
        /quote it/,
      ],
      [
        'a wrong version',
        (d) => {
          d.version = '1.0';
        },
        'version',
        /must be the string "2.0"$/,
      ],
      [
        'an unknown top-level field',
        (d) => {
          d.extra = 1;
        },
        'extra',
        /unknown field/,
      ],
      [
        'trustSources not a list',
        (d) => {
          d.trustSources = {};
        },
        'trustSources',
        /must be a list/,
      ],
      [
        'a missing trust block',
        (d) => {
          delete d.trust;
        },
        'trust',
        /is required/,
      ],
      [
        'trust not a mapping',
        (d) => {
          d.trust = [];
        },
        'trust',
        /must be a mapping/,
      ],
      [
        'an unknown field in trust',
        (d) => {
          d.trust.repos = {};
        },
        'trust.repos',
        /unknown field/,
      ],
      [
        'no repositories',
        (d) => {
          d.trust.repositories = {};
        },
        'trust.repositories',
        /at least one repository/,
      ],
      [
        'a repository entry that is not a mapping',
        (d) => {
          d.trust.repositories['docker.io/library/*'] = 'yes';
        },
        'trust.repositories["docker.io/library/*"]',
        /must be a mapping/,
      ],
      [
        'images inside an entry',
        (d) => {
          d.trust.repositories['docker.io/library/*'] = { images: ['x'] };
        },
        'trust.repositories["docker.io/library/*"].images',
        /repository key is the image glob/,
      ],
      [
        'a zero threshold',
        (d) => {
          d.trust.repositories['myregistry.example.com/myorg/*'].thresholds['release-managers'] = 0;
        },
        'trust.repositories["myregistry.example.com/myorg/*"].thresholds.release-managers',
        /at least 1/,
      ],
      [
        'a pattern with a tag',
        (d) => {
          d.trust.repositories['nginx:1'] = {};
        },
        'trust.repositories["nginx:1"]',
        /tag/,
      ],
      [
        'a bad top-level source',
        (d) => {
          d.trustSources[0] = { name: 'dct', notaryV1: { server: 'https://n', rootKeys: ['x'] } };
        },
        'trustSources[0].notaryV1.rootKeys[0]',
        /not PEM/,
      ],
      [
        'a bad per-repository source',
        (d) => {
          d.trust.repositories['docker.io/library/*'] = { trustSources: [{ name: 'x' }] };
        },
        'trust.repositories["docker.io/library/*"].trustSources[0]',
        /exactly one of/,
      ],
      [
        'no trust source anywhere',
        (d) => {
          delete d.trustSources;
        },
        'trust.repositories["docker.io/library/*"]',
        /needs a trust source/,
      ],
      [
        'an unknown rule',
        (d) => {
          d.trust.repositories['docker.io/library/*'] = { require: true };
        },
        'trust.repositories["docker.io/library/*"].require',
        /unknown field/,
      ],
    ])('reports %s', (_what, mutate, path, message) => {
      const doc = seed();
      mutate(doc);
      const { errors } = seedToResources(doc);
      expect(errors).toContainEqual({ path, message: expect.stringMatching(message) });
    });

    it('reports a shared source error once', () => {
      const doc = seed();
      doc.trustSources[0].notaryV1.rootKeys = ['x'];
      expect(seedToResources(doc).errors).toHaveLength(1);
    });

    it('rejects a document that is not a mapping', () => {
      expect(seedToResources('x').errors[0]?.path).toBe('');
    });

    it('reports a bad name prefix on the repository', () => {
      expect(seedToResources(seed(), { namePrefix: 'Bad_' }).errors[0]?.path).toBe(
        'trust.repositories["myregistry.example.com/myorg/*"]',
      );
    });
  });
});

describe('toSeedPolicyName', () => {
  it.each([
    ['localhost:5000/**', /^localhost-5000-all-[0-9a-f]{8}$/],
    ['***', /^allany-[0-9a-f]{8}$/],
    ['---', /^repo-[0-9a-f]{8}$/],
    [`r.io/${'a'.repeat(100)}`, /^r-io-a+-[0-9a-f]{8}$/],
  ])('names %s', (pattern, expected) => {
    const name = toSeedPolicyName(pattern);
    expect(name).toMatch(expected);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it('gives patterns that slug alike distinct names', () => {
    expect(toSeedPolicyName('a/b')).not.toBe(toSeedPolicyName('a.b'));
  });
});

describe('isSeedDocument', () => {
  it.each([
    [{ version: '2.0' }, true],
    [{ version: '2.0', apiVersion: 'x' }, false],
    [{ apiVersion: 'x' }, false],
    ['x', false],
  ])('%j → %s', (doc, expected) => {
    expect(isSeedDocument(doc)).toBe(expected);
  });
});
