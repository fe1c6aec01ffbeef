// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { ConfigError } from '../../core/errors.js';
import { validatePolicyResource } from '../../core/policy/validate.js';
import { convertSeedText } from '../convert.js';

const KEY = 'a191fd8c0e3b5f1d41a0bbf3ff7d2cdbc0c1e57d1a0c5fd36a6e0d8f2a8e9c11';
const SEED = `version: "2.0"
trust:
  repositories:
    "myregistry.example.com/myorg/*":
      signers: [{ role: security-team, required: true }]
      thresholds: { release-managers: 2 }
      allow: { paths: ["v*.*.*"], expires: 15d }
    "docker.io/library/*": {}
trustSources:
  - name: dct
    notaryV1: { server: "https://notary.example.com", rootKeys: ["${KEY}"] }
`;

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('convertSeedText', () => {
  describe('when the seed file is valid', () => {
    it('emits one valid ClusterTrustPolicy document per repository', () => {
      const out = convertSeedText(SEED, 'policy.yaml');
      expect(out).toMatch(/^# Converted from policy.yaml by trustgate policy convert\./);
      const docs = parseAllDocuments(out) as unknown as { toJS(): unknown }[];
      expect(docs).toHaveLength(2);
      for (const d of docs) expect(validatePolicyResource(d.toJS()).ok).toBe(true);
      expect(docs.map((d) => (d.toJS() as { spec: { images: string[] } }).spec.images)).toEqual([
        ['myregistry.example.com/myorg/*'],
        ['docker.io/library/*'],
      ]);
    });

    it('is deterministic', () => {
      expect(convertSeedText(SEED)).toBe(convertSeedText(SEED));
    });

    it('applies a name prefix', () => {
      expect(convertSeedText(SEED, undefined, { namePrefix: 'dct-' })).toMatch(
        /name: dct-myregistry/,
      );
    });
  });

  describe('when the input is not convertible', () => {
    it.each([
      ['an empty file', '', /is empty/],
      [
        'a CR',
        'apiVersion: trustgate.dev/v1alpha1\nkind: ClusterTrustPolicy\n',
        /is not a version: "2.0" policy file/,
      ],
      ['broken YAML', 'version: [\n', /YAML syntax/],
    ])('rejects %s', (_what, text, message) => {
      const err = thrown(() => convertSeedText(text, 'in.yaml'));
      expect(err.code).toBe('INVALID_POLICY');
      expect(err.message).toMatch(message);
    });

    it('lists every error as file:line: path: message', () => {
      const err = thrown(() =>
        convertSeedText(SEED.replace('release-managers: 2', 'release-managers: 0'), 'in.yaml'),
      );
      expect(err.message).toBe(
        'in.yaml:6: trust.repositories["myregistry.example.com/myorg/*"].thresholds.release-managers: must be at least 1',
      );
      expect(err.fieldErrors).toHaveLength(1);
    });

    it('works without a file name', () => {
      expect(thrown(() => convertSeedText('')).message).toBe(
        'line 1: is empty; expected a version: "2.0" policy file',
      );
    });
  });
});
