// SPDX-License-Identifier: Apache-2.0
// Metrics: own registry, every trustgate_* instrument exposed, no image/digest/namespace labels.

import { describe, expect, it } from '@jest/globals';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from '../metrics.js';

describe('createMetrics', () => {
  describe('after recording one of each kind', () => {
    it('exposes the trustgate metric names with only closed label sets', async () => {
      const m = createMetrics();
      m.recordAdmission('deny', 'TAG_NOT_SIGNED', 0.0004);
      m.recordAdmission('deny', 'TAG_NOT_SIGNED', 0.002);
      m.recordAdmission('allow', 'registry.example.com/evil:1', 0.001); // not a code → OTHER
      m.recordVerification('notaryV1', 'pass');
      m.cacheRecorder('verdict')('hit');
      m.cacheRecorder('verdict')('miss');
      m.recordUpstream('notary', 0.02);
      m.setPolicies({ ready: 3, invalid: 1 });
      const text = await m.render();

      expect(text).toContain(
        'trustgate_admission_requests_total{decision="deny",code="TAG_NOT_SIGNED"} 2',
      );
      expect(text).toContain('trustgate_admission_requests_total{decision="allow",code="OTHER"} 1');
      expect(text).toContain('trustgate_admission_duration_seconds_bucket{le="0.0005"} 1');
      expect(text).toContain('trustgate_verifications_total{source="notaryV1",result="pass"} 1');
      expect(text).toContain('trustgate_cache_requests_total{cache="verdict",result="hit"} 1');
      expect(text).toContain('trustgate_cache_requests_total{cache="verdict",result="miss"} 1');
      expect(text).toContain('trustgate_upstream_duration_seconds_count{upstream="notary"} 1');
      expect(text).toContain('trustgate_policies{state="ready"} 3');
      expect(text).toContain('trustgate_policies{state="invalid"} 1');
      expect(text).not.toMatch(/\b(image|digest|namespace)="/);
      expect(text).not.toContain('registry.example.com');
      expect(m.contentType).toMatch(/^text\/plain/);
    });
  });

  describe('when two instances are created', () => {
    it('keeps them apart and leaves the global registry empty', async () => {
      const a = createMetrics();
      const b = createMetrics();
      a.recordAdmission('allow', 'NONE', 0.001);
      expect(await b.render()).not.toContain('code="NONE"} 1');
      expect(await globalRegistry.metrics()).not.toContain('trustgate_');
    });
  });
});
