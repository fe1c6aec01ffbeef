// SPDX-License-Identifier: Apache-2.0
import { X509Certificate, createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../errors.js';
import { compilePolicy, listMaterialRefs, materialRefKey, toPolicyId } from '../compile.js';
import type {
  CompiledNotaryV1Source,
  CompiledNotationSource,
  TrustPolicyResource,
} from '../types.js';
import { fullPolicy, minimalPolicy } from './builders.js';
import { CA_CERT, EC_PUBLIC_KEY, KEY_ID, ROOT_CERT, TSA_CERT } from './pki.js';

const asResource = (d: Record<string, any>): TrustPolicyResource => d as TrustPolicyResource;
const fingerprint = (pem: string): string =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('compilePolicy', () => {
  describe('when the policy is the full example', () => {
    const policy = compilePolicy(asResource(fullPolicy()));
    const dct = policy.sources[0] as CompiledNotaryV1Source;
    const notation = policy.sources[1] as CompiledNotationSource;

    it('derives id, generation and defaults', () => {
      expect(policy).toMatchObject({
        id: 'ClusterTrustPolicy/myorg-releases',
        kind: 'ClusterTrustPolicy',
        name: 'myorg-releases',
        generation: 'u-1@42',
        mode: 'enforce',
        requireSignatures: true,
        images: ['myregistry.example.com/myorg/*'],
        namespaceSelector: { matchLabels: { env: 'prod' } },
        allowPathPatterns: ['v*.*.*'],
        maxAgeMs: 15 * 86_400_000,
      });
      expect(policy.notaryV1Until?.toISOString()).toBe('2027-03-01T00:00:00.000Z');
      expect(policy.namespace).toBeUndefined();
      expect(Object.isFrozen(policy)).toBe(true);
    });

    it('compiles image globs and tag patterns', () => {
      expect(policy.imageMatchers[0]?.test('myregistry.example.com/myorg/app')).toBe(true);
      expect(policy.allowPaths?.[0]?.test('v1.2.3')).toBe(true);
    });

    it('splits rootKeys into key IDs, certificate fingerprints and public keys', () => {
      expect(dct.server).toBe('https://notary.example.com');
      expect([...dct.rootKeyIds]).toEqual([KEY_ID]);
      expect([...dct.rootCertFingerprints]).toEqual([fingerprint(ROOT_CERT)]);
      expect(dct.rootPublicKeys).toEqual([]);
      expect(dct.rootCAs.map((c) => c.subject)).toEqual([new X509Certificate(CA_CERT).subject]);
      expect(dct.caBundle).toBe(CA_CERT);
      expect(dct.trustOnFirstUse).toBe(false);
      expect(dct.materialHash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('parses the notation trust store and identities', () => {
      expect(notation.trustStore.ca).toHaveLength(1);
      expect(notation.trustStore.tsa).toHaveLength(1);
      expect(notation.trustStore.signingAuthority).toHaveLength(0);
      expect(notation.level).toBe('strict');
      expect(Object.fromEntries(notation.trustedIdentities[0] as Map<string, string>)).toEqual({
        C: 'US',
        ST: 'WA',
        O: 'Example',
        CN: 'Release',
      });
    });

    it('maps signers and thresholds to full role names', () => {
      expect(policy.signers.map((s) => [s.name, s.role, s.required, s.identities.length])).toEqual([
        ['security-team', 'targets/security-team', true, 0],
        ['releases', 'targets/releases', false, 1],
      ]);
      expect([...policy.thresholds]).toEqual([['targets/release-managers', 2]]);
    });
  });

  describe('when optional fields are absent', () => {
    it('applies the defaults', () => {
      const p = compilePolicy(asResource(minimalPolicy()));
      expect(p).toMatchObject({
        mode: 'enforce',
        requireSignatures: true,
        signers: [],
        sources: [{ kind: 'notaryV1', server: 'http://127.0.0.1:4443' }],
      });
      expect(p.allowPaths).toBeUndefined();
      expect(p.maxAgeMs).toBeUndefined();
      expect(p.notaryV1Until).toBeUndefined();
      expect(p.namespaceSelector).toBeUndefined();
      expect(p.thresholds.size).toBe(0);
      expect(p.generation).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('defaults the notation level to strict and tolerates no identities at skip', () => {
      const d = fullPolicy();
      d.spec.trustSources[1].notation = { trustStore: {}, level: 'skip' };
      const n = compilePolicy(asResource(d)).sources[1] as CompiledNotationSource;
      expect(n.level).toBe('skip');
      expect(n.trustedIdentities).toEqual([]);
      const d2 = fullPolicy();
      delete d2.spec.trustSources[1].notation.level;
      expect((compilePolicy(asResource(d2)).sources[1] as CompiledNotationSource).level).toBe(
        'strict',
      );
    });

    it('compiles a trust-on-first-use source and a policy without sources', () => {
      const d = minimalPolicy();
      d.spec.trustSources[0].notaryV1 = { server: 'https://n.example.com', trustOnFirstUse: true };
      const src = compilePolicy(asResource(d)).sources[0] as CompiledNotaryV1Source;
      expect(src).toMatchObject({ trustOnFirstUse: true, rootCAs: [], rootPublicKeys: [] });
      expect(src.rootKeyIds.size).toBe(0);
      const free = minimalPolicy();
      free.spec = { images: ['**'], requireSignatures: false };
      expect(compilePolicy(asResource(free))).toMatchObject({
        requireSignatures: false,
        sources: [],
      });
      expect(listMaterialRefs(asResource(free))).toEqual([]);
    });

    it('keeps public-key pins as KeyObjects', () => {
      const d = minimalPolicy();
      d.spec.trustSources[0].notaryV1.rootKeys = [EC_PUBLIC_KEY];
      const src = compilePolicy(asResource(d)).sources[0] as CompiledNotaryV1Source;
      expect(src.rootPublicKeys[0]?.asymmetricKeyType).toBe('ec');
    });
  });

  describe('when the policy is a TrustPolicy', () => {
    it('records its namespace and id', () => {
      const d = minimalPolicy();
      d.kind = 'TrustPolicy';
      d.metadata.namespace = 'team-a';
      const p = compilePolicy(asResource(d));
      expect(p.id).toBe('TrustPolicy/team-a/minimal');
      expect(p.namespace).toBe('team-a');
    });
  });

  describe('when computing hashes', () => {
    it('gives the same generation for the same content and a different one for other content', () => {
      const a = compilePolicy(asResource(minimalPolicy())).generation;
      expect(compilePolicy(asResource(minimalPolicy())).generation).toBe(a);
      const d = minimalPolicy();
      d.spec.mode = 'warn';
      expect(compilePolicy(asResource(d)).generation).not.toBe(a);
    });

    it('changes the material hash when a key changes, not when keys are reordered', () => {
      const hash = (keys: string[]): string => {
        const d = fullPolicy();
        d.spec.trustSources[0].notaryV1.rootKeys = keys;
        return (compilePolicy(asResource(d)).sources[0] as CompiledNotaryV1Source).materialHash;
      };
      expect(hash([ROOT_CERT, KEY_ID])).toBe(hash([KEY_ID, ROOT_CERT]));
      expect(hash([ROOT_CERT])).not.toBe(hash([ROOT_CERT, KEY_ID]));
      expect(hash([EC_PUBLIC_KEY])).not.toBe(hash([ROOT_CERT]));
    });

    it('changes the notation material hash when the trust store changes', () => {
      const hash = (ca: string): string => {
        const d = fullPolicy();
        d.spec.trustSources[1].notation.trustStore.ca = [ca];
        return (compilePolicy(asResource(d)).sources[1] as CompiledNotationSource).materialHash;
      };
      expect(hash(CA_CERT)).not.toBe(hash(TSA_CERT));
    });
  });

  describe('when the policy is invalid', () => {
    it('throws INVALID_POLICY with every field error', () => {
      const d = fullPolicy();
      d.spec.mode = 'x';
      d.spec.trustSources[0].notaryV1.rootKeys = ['bad'];
      const err = thrown(() => compilePolicy(asResource(d)));
      expect(err.code).toBe('INVALID_POLICY');
      expect(err.fieldErrors.map((e) => e.path)).toEqual(
        expect.arrayContaining(['spec.mode', 'spec.trustSources[0].notaryV1.rootKeys[0]']),
      );
      expect(err.message).toMatch(
        /ClusterTrustPolicy myorg-releases is invalid: .* \(and 1 more\)/,
      );
    });

    it('says nothing about "more" when there is one error', () => {
      const d = fullPolicy();
      d.spec.mode = 'x';
      expect(thrown(() => compilePolicy(asResource(d))).message).not.toMatch(/more/);
    });
  });

  describe('when the policy refers to ConfigMaps and Secrets', () => {
    function withRefs(): Record<string, any> {
      const d = fullPolicy();
      delete d.spec.trustSources[0].notaryV1.caBundle;
      d.spec.trustSources[0].notaryV1.caBundleRef = { configMap: 'notary-ca', key: 'ca.crt' };
      d.spec.trustSources[1].notation.trustStore = {
        caRef: { secret: 'signing-ca', key: 'ca.pem', namespace: 'security' },
        tsaRef: { configMap: 'tsa', key: 'tsa.pem' },
      };
      return d;
    }

    it('lists the references with their keys', () => {
      expect(
        listMaterialRefs(asResource(withRefs()), 'trustgate').map((r) => [r.path, r.key]),
      ).toEqual([
        ['spec.trustSources[0].notaryV1.caBundleRef', 'configmap/trustgate/notary-ca/ca.crt'],
        ['spec.trustSources[1].notation.trustStore.caRef', 'secret/security/signing-ca/ca.pem'],
        ['spec.trustSources[1].notation.trustStore.tsaRef', 'configmap/trustgate/tsa/tsa.pem'],
      ]);
      expect(listMaterialRefs(asResource(withRefs()))[0]).toMatchObject({
        namespace: undefined,
        key: undefined,
      });
    });

    it('uses a TrustPolicy namespace as the default', () => {
      const d = withRefs();
      d.kind = 'TrustPolicy';
      d.metadata.namespace = 'team-a';
      delete d.spec.namespaceSelector;
      d.spec.trustSources[1].notation.trustStore.caRef.namespace = 'team-a';
      expect(listMaterialRefs(asResource(d), 'ignored').map((r) => r.key)).toEqual([
        'configmap/team-a/notary-ca/ca.crt',
        'secret/team-a/signing-ca/ca.pem',
        'configmap/team-a/tsa/tsa.pem',
      ]);
    });

    it('resolves them from the material and hashes the content', () => {
      const material = {
        'configmap/trustgate/notary-ca/ca.crt': CA_CERT,
        'secret/security/signing-ca/ca.pem': CA_CERT,
        'configmap/trustgate/tsa/tsa.pem': TSA_CERT,
      };
      const p = compilePolicy(asResource(withRefs()), { material, defaultNamespace: 'trustgate' });
      const dct = p.sources[0] as CompiledNotaryV1Source;
      const n = p.sources[1] as CompiledNotationSource;
      expect(dct.caBundle).toBe(CA_CERT);
      expect(n.trustStore.ca).toHaveLength(1);
      expect(n.trustStore.tsa).toHaveLength(1);
      const other = compilePolicy(asResource(withRefs()), {
        material: { ...material, 'configmap/trustgate/notary-ca/ca.crt': TSA_CERT },
        defaultNamespace: 'trustgate',
      });
      expect((other.sources[0] as CompiledNotaryV1Source).materialHash).not.toBe(dct.materialHash);
    });

    it('reports missing material with the field path', () => {
      const err = thrown(() =>
        compilePolicy(asResource(withRefs()), { material: {}, defaultNamespace: 'trustgate' }),
      );
      expect(err.fieldErrors).toEqual([
        {
          path: 'spec.trustSources[0].notaryV1.caBundleRef',
          message: expect.stringMatching(
            /ConfigMap notary-ca key ca.crt in namespace trustgate was not found/,
          ),
        },
        {
          path: 'spec.trustSources[1].notation.trustStore.caRef',
          message: expect.stringMatching(/Secret signing-ca key ca.pem in namespace security/),
        },
        {
          path: 'spec.trustSources[1].notation.trustStore.tsaRef',
          message: expect.stringMatching(/ConfigMap tsa/),
        },
      ]);
    });

    it('reports references whose namespace is unknown', () => {
      const err = thrown(() => compilePolicy(asResource(withRefs())));
      expect(err.fieldErrors.map((e) => e.path)).toContain(
        'spec.trustSources[0].notaryV1.caBundleRef.namespace',
      );
    });

    it('reports material that is not PEM certificates', () => {
      const err = thrown(() =>
        compilePolicy(asResource(withRefs()), {
          material: {
            'configmap/trustgate/notary-ca/ca.crt': 'garbage',
            'secret/security/signing-ca/ca.pem': ROOT_CERT,
            'configmap/trustgate/tsa/tsa.pem': TSA_CERT,
          },
          defaultNamespace: 'trustgate',
        }),
      );
      expect(err.fieldErrors).toEqual([
        {
          path: 'spec.trustSources[0].notaryV1.caBundleRef',
          message: expect.stringMatching(/referenced content is not PEM/),
        },
        {
          path: 'spec.trustSources[1].notation.trustStore.caRef',
          message: expect.stringMatching(/not a CA certificate/),
        },
      ]);
    });
  });
});

describe('materialRefKey', () => {
  it.each([
    [{ configMap: 'c', key: 'k' }, 'configmap/def/c/k'],
    [{ secret: 's', key: 'k', namespace: 'ns' }, 'secret/ns/s/k'],
    [{ key: 'k' }, 'secret/def//k'],
  ])('keys %j as %s', (ref, key) => {
    expect(materialRefKey(ref, 'def')).toBe(key);
  });
});

describe('toPolicyId', () => {
  it('tolerates a TrustPolicy without namespace', () => {
    expect(toPolicyId({ kind: 'TrustPolicy', metadata: { name: 'x' } })).toBe('TrustPolicy//x');
  });
});
