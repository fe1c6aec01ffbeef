// SPDX-License-Identifier: Apache-2.0
// loadKeyMaterial over an in-memory KeyRefReader: ConfigMap/Secret decoding, missing objects and keys,
// size bound, namespace rules, apiserver failures.

import { describe, expect, it } from '@jest/globals';
import { InconclusiveError } from '../../core/errors.js';
import type { ResourceKeyRef, TrustPolicyResource } from '../../core/policy/types.js';
import { loadKeyMaterial, type KeyRefReader } from '../key-material.js';

type Obj = { data?: Record<string, string>; binaryData?: Record<string, string> };

function reader(
  configMaps: Record<string, Obj>,
  secrets: Record<string, Obj>,
  calls: string[] = [],
): KeyRefReader {
  return {
    readConfigMap: async (ns, name) => {
      calls.push(`cm ${ns}/${name}`);
      return configMaps[`${ns}/${name}`] ?? null;
    },
    readSecret: async (ns, name) => {
      calls.push(`secret ${ns}/${name}`);
      return secrets[`${ns}/${name}`] ?? null;
    },
  };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

function policy(
  kind: 'ClusterTrustPolicy' | 'TrustPolicy',
  refs: { notary?: ResourceKeyRef; ca?: ResourceKeyRef; tsa?: ResourceKeyRef },
): TrustPolicyResource {
  return {
    apiVersion: 'trustgate.dev/v1alpha1',
    kind,
    metadata: { name: 'p', ...(kind === 'TrustPolicy' ? { namespace: 'team-a' } : {}) },
    spec: {
      images: ['r.example.com/*'],
      trustSources: [
        {
          name: 'dct',
          notaryV1: {
            server: 'https://n.example.com',
            ...(refs.notary ? { caBundleRef: refs.notary } : {}),
          },
        },
        {
          name: 'notation',
          notation: {
            trustStore: {
              ...(refs.ca ? { caRef: refs.ca } : {}),
              ...(refs.tsa ? { tsaRef: refs.tsa } : {}),
            },
          },
        },
      ],
    },
  };
}

const P0 = 'spec.trustSources[0].notaryV1.caBundleRef';
const P1 = 'spec.trustSources[1].notation.trustStore.caRef';
const P2 = 'spec.trustSources[1].notation.trustStore.tsaRef';

describe('loadKeyMaterial', () => {
  describe('when the refs exist', () => {
    it('reads ConfigMap data, ConfigMap binaryData and base64 Secret data, one GET per object', async () => {
      const calls: string[] = [];
      const r = reader(
        {
          'tg/cas': {
            data: { 'notary.pem': 'NOTARY-PEM' },
            binaryData: { 'tsa.pem': b64('TSA-PEM') },
          },
        },
        { 'tg/notation': { data: { 'ca.pem': b64('NOTATION-PEM') } } },
        calls,
      );
      const p = policy('ClusterTrustPolicy', {
        notary: { configMap: 'cas', key: 'notary.pem' },
        ca: { secret: 'notation', key: 'ca.pem' },
        tsa: { configMap: 'cas', key: 'tsa.pem' },
      });
      const res = await loadKeyMaterial(p, { reader: r, defaultNamespace: 'tg' });
      expect(res.errors).toEqual([]);
      // Keyed as compilePolicy() looks them up (materialRefKey).
      expect(res.material).toEqual({
        'configmap/tg/cas/notary.pem': 'NOTARY-PEM',
        'secret/tg/notation/ca.pem': 'NOTATION-PEM',
        'configmap/tg/cas/tsa.pem': 'TSA-PEM',
      });
      expect(calls.sort()).toEqual(['cm tg/cas', 'secret tg/notation']);
    });

    it('uses an explicit namespace on a ClusterTrustPolicy ref', async () => {
      const r = reader({ 'other/cas': { data: { k: 'X' } } }, {});
      const res = await loadKeyMaterial(
        policy('ClusterTrustPolicy', {
          notary: { configMap: 'cas', namespace: 'other', key: 'k' },
        }),
        {
          reader: r,
          defaultNamespace: 'tg',
        },
      );
      expect(res.material).toEqual({ 'configmap/other/cas/k': 'X' });
    });

    it("defaults a TrustPolicy ref to the policy's own namespace", async () => {
      const r = reader({ 'team-a/cas': { data: { k: 'X' } } }, {});
      const res = await loadKeyMaterial(
        policy('TrustPolicy', { notary: { configMap: 'cas', key: 'k' } }),
        { reader: r, defaultNamespace: 'tg' },
      );
      expect(res.material).toEqual({ 'configmap/team-a/cas/k': 'X' });
    });
  });

  describe('when a ref cannot be used', () => {
    it('reports a missing object, a missing key and an oversize value as field errors', async () => {
      const r = reader({ 'tg/cas': { data: { small: 'ok', big: 'x'.repeat(101) } } }, {});
      const p = policy('ClusterTrustPolicy', {
        notary: { configMap: 'cas', key: 'nokey' },
        ca: { secret: 'absent', key: 'ca.pem' },
        tsa: { configMap: 'cas', key: 'big' },
      });
      const res = await loadKeyMaterial(p, { reader: r, defaultNamespace: 'tg', maxBytes: 100 });
      expect(res.material).toEqual({});
      expect(res.errors).toEqual([
        { path: `${P0}.key`, message: 'key "nokey" not found in ConfigMap tg/cas' },
        { path: P1, message: 'Secret tg/absent not found (or not readable by trustgate)' },
        { path: P2, message: 'ConfigMap tg/cas key "big" is larger than 100 bytes' },
      ]);
    });

    it('refuses a TrustPolicy ref into another namespace without reading it', async () => {
      const calls: string[] = [];
      const r = reader({ 'kube-system/cas': { data: { k: 'X' } } }, {}, calls);
      const res = await loadKeyMaterial(
        policy('TrustPolicy', { notary: { configMap: 'cas', namespace: 'kube-system', key: 'k' } }),
        {
          reader: r,
          defaultNamespace: 'tg',
        },
      );
      expect(res.errors.map((e) => e.path)).toEqual([`${P0}.namespace`]);
      expect(calls).toEqual([]);
    });

    it('reports a ref naming both or neither of configMap and secret', async () => {
      const res = await loadKeyMaterial(
        policy('ClusterTrustPolicy', {
          notary: { configMap: 'a', secret: 'b', key: 'k' },
          ca: { key: 'k' },
        }),
        { reader: reader({}, {}), defaultNamespace: 'tg' },
      );
      expect(res.errors.map((e) => e.path)).toEqual([P0, P1]);
    });
  });

  describe('when the apiserver fails', () => {
    it('throws InconclusiveError TRUST_SOURCE_UNAVAILABLE', async () => {
      const r: KeyRefReader = {
        readConfigMap: async () => {
          throw Object.assign(new Error('HTTP-Code: 500'), { code: 500 });
        },
        readSecret: async () => null,
      };
      const p = policy('ClusterTrustPolicy', { notary: { configMap: 'cas', key: 'k' } });
      await expect(
        loadKeyMaterial(p, { reader: r, defaultNamespace: 'tg' }),
      ).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
    });
  });
});
