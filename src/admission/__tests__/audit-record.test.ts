// SPDX-License-Identifier: Apache-2.0
// The hand-written audit line must be JSON.stringify of the record, byte for byte.
import { describe, expect, it } from '@jest/globals';
import {
  serializeAuditRecord,
  toAuditRecord,
  type AuditRequestFields,
  type DecisionSummary,
} from '../audit-record.js';

const request: AuditRequestFields = {
  endpoint: 'validate',
  decidedAt: '2026-12-02T12:00:05.042Z',
  uid: '5c1f6a2e-8d3b-4f7a-9e21-0b6c3d4e5f60',
  operation: 'CREATE',
  namespace: 'shop',
  kind: 'Pod',
  name: 'web-7d4b9c8f6d-',
  user: 'system:serviceaccount:kube-system:replicaset-controller',
  durationMs: 0.412,
  dryRun: false,
};

const allowed: DecisionSummary = {
  images: [
    {
      image: 'r.example/a:v1',
      path: 'spec.containers[0].image',
      digest: `sha256:${'a'.repeat(64)}`,
      allowed: true,
    },
    { image: 'r.example/b:v1', path: 'spec.initContainers[0].image', allowed: true },
  ],
  decision: 'allow',
  result: { allowed: true },
  reasons: [],
  policies: ['ClusterTrustPolicy/prod'],
};

const denied: DecisionSummary = {
  images: [{ image: 'r.example/"odd"\\name:v1', path: 'spec.containers[0].image', allowed: false }],
  decision: 'deny',
  result: { allowed: false },
  reasons: ['TAG_NOT_SIGNED', 'NO_TRUST_DATA'],
  policies: ['TrustPolicy/shop/p', 'ClusterTrustPolicy/prod'],
};

describe('serializeAuditRecord', () => {
  describe('when the fields are ordinary', () => {
    it.each([
      ['an allowed decision', allowed],
      ['a denial', denied],
    ])('writes JSON.stringify of the record for %s', (_name, summary) => {
      expect(serializeAuditRecord(request, summary)).toBe(
        JSON.stringify(toAuditRecord(request, summary)),
      );
    });

    it('keeps the key order of the line', () => {
      expect(Object.keys(JSON.parse(serializeAuditRecord(request, allowed)) as object)).toEqual([
        'audit',
        'endpoint',
        'decidedAt',
        'uid',
        'operation',
        'namespace',
        'kind',
        'name',
        'user',
        'images',
        'decision',
        'allowed',
        'reasons',
        'policies',
        'durationMs',
        'dryRun',
      ]);
    });
  });

  describe('when strings need escaping or numbers are not finite', () => {
    it.each([
      ['quotes and backslashes', { uid: 'a"b\\c', name: '"' }],
      [
        'control characters and line separators',
        { user: 'x\n\t\u0001y\u2028z', namespace: '\u007f' },
      ],
      ['lone surrogates', { name: '\ud800x\udfff', user: '\u{1F600}' }],
      ['empty strings', { name: '', namespace: '', user: '' }],
      ['a mutate dry run', { endpoint: 'mutate' as const, dryRun: true }],
      ['NaN duration', { durationMs: Number.NaN }],
      ['infinite duration', { durationMs: Number.POSITIVE_INFINITY }],
      ['integral and tiny durations', { durationMs: 3 }],
      ['tiny durations', { durationMs: 1e-7 }],
    ])('still writes JSON.stringify of the record (%s)', (_name, patch) => {
      const r = { ...request, ...patch };
      expect(serializeAuditRecord(r, denied)).toBe(JSON.stringify(toAuditRecord(r, denied)));
    });
  });

  describe('when the same decision answers again', () => {
    it('reuses its summary but writes each request’s own fields', () => {
      const first = serializeAuditRecord(request, allowed);
      const again = serializeAuditRecord({ ...request, uid: 'other', durationMs: 1 }, allowed);
      expect(JSON.parse(again)).toMatchObject({
        uid: 'other',
        durationMs: 1,
        images: allowed.images,
      });
      expect(first).not.toBe(again);
    });
  });
});
