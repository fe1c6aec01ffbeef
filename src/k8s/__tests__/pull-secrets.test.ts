// SPDX-License-Identifier: Apache-2.0
// toDockerConfigJson: the kubelet's rules for which pull secrets count, and the legacy .dockercfg wrap.

import { describe, expect, it } from '@jest/globals';
import { toDockerConfigJson } from '../pull-secrets.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const AUTHS = { 'r.example.com': { auth: b64('user:pass') } };

describe('toDockerConfigJson', () => {
  describe('when the secret is kubernetes.io/dockerconfigjson', () => {
    it('returns .dockerconfigjson decoded, unchanged', () => {
      const json = JSON.stringify({ auths: AUTHS });
      expect(
        toDockerConfigJson(
          { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(json) } },
          1024,
        ),
      ).toBe(json);
    });
  });

  describe('when the secret is legacy kubernetes.io/dockercfg', () => {
    it('wraps the bare auths map as {"auths": …}', () => {
      const out = toDockerConfigJson(
        { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify(AUTHS)) } },
        1024,
      );
      expect(JSON.parse(out ?? 'null')).toEqual({ auths: AUTHS });
    });

    it('ignores it when .dockercfg is not a JSON object, without echoing the content', () => {
      const reasons: string[] = [];
      const out = toDockerConfigJson(
        { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64('hunter2-not-json') } },
        1024,
        (r) => reasons.push(r),
      );
      expect(out).toBeNull();
      expect(reasons).toEqual(['.dockercfg is not valid JSON']);
      expect(reasons.join()).not.toContain('hunter2');
    });
  });

  describe('when the secret is not usable', () => {
    it.each([
      ['another type', { type: 'Opaque', data: { '.dockerconfigjson': b64('{}') } }],
      ['the key missing', { type: 'kubernetes.io/dockerconfigjson', data: {} }],
      ['no type', { data: { '.dockerconfigjson': b64('{}') } }],
    ])('returns null for %s', (_what, secret) => {
      expect(toDockerConfigJson(secret, 1024)).toBeNull();
    });

    it('returns null when larger than the cap', () => {
      const big = b64(JSON.stringify({ auths: { x: { auth: 'a'.repeat(2000) } } }));
      expect(
        toDockerConfigJson(
          { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': big } },
          1024,
        ),
      ).toBeNull();
    });
  });
});
