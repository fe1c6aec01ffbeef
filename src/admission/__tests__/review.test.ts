// SPDX-License-Identifier: Apache-2.0
// AdmissionReview parsing (attacker-controlled input) and response building.

import { describe, expect, it } from '@jest/globals';
import { RequestError } from '../../core/errors.js';
import { reviewFor } from '../../__fixtures__/admission/factory.js';
import { fields, MAX_SCAN_DEPTH, NOT_READ, readProjected, WHOLE } from '../json-projection.js';
import {
  parseAdmissionReview,
  reviewProjection,
  serializeAdmissionResponse,
  toAdmissionResponse,
  type AdmissionResult,
} from '../review.js';

const buf = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function mutated(edit: (r: Record<string, unknown>) => void): Buffer {
  const review = reviewFor('pod');
  edit(review['request'] as Record<string, unknown>);
  return buf(review);
}

describe('parseAdmissionReview', () => {
  describe('when given a kubectl-shaped Pod review', () => {
    it('returns the typed view', () => {
      const view = parseAdmissionReview(
        buf(reviewFor('pod', undefined, { uid: 'u-1', namespace: 'shop', dryRun: true })),
      );
      expect(view).toMatchObject({
        uid: 'u-1',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        subResource: '',
        name: 'web',
        namespace: 'shop',
        operation: 'CREATE',
        username: 'jane@example.com',
        dryRun: true,
      });
      expect(view.object?.['kind']).toBe('Pod');
    });
  });

  describe('when the operation is DELETE', () => {
    it('accepts a null object', () => {
      const view = parseAdmissionReview(
        buf(reviewFor('deployment', undefined, { operation: 'DELETE' })),
      );
      expect(view.operation).toBe('DELETE');
      expect(view.object).toBeUndefined();
    });
  });

  const cases: [string, Buffer, RegExp][] = [
    ['an empty body', Buffer.alloc(0), /empty/],
    ['not JSON', buf('{"apiVersion": '), /not valid JSON/],
    ['a JSON array', buf([1, 2]), /must be a JSON object.*an array/],
    [
      'the v1beta1 apiVersion',
      buf({ ...reviewFor('pod'), apiVersion: 'admission.k8s.io/v1beta1' }),
      /apiVersion must be "admission.k8s.io\/v1", got "admission.k8s.io\/v1beta1"/,
    ],
    [
      'a wrong kind',
      buf({ ...reviewFor('pod'), kind: 'ConversionReview' }),
      /kind must be "AdmissionReview"/,
    ],
    [
      'no request',
      buf({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      /request must be an object, got nothing/,
    ],
    ['no uid', mutated((r) => delete r['uid']), /request\.uid must be a non-empty string/],
    [
      'a numeric uid',
      mutated((r) => (r['uid'] = 7)),
      /request\.uid must be a non-empty string, got a number/,
    ],
    ['an over-long uid', mutated((r) => (r['uid'] = 'u'.repeat(129))), /longer than 128/],
    [
      'an unknown operation',
      mutated((r) => (r['operation'] = 'PATCH')),
      /request\.operation must be one of/,
    ],
    ['a string kind', mutated((r) => (r['kind'] = 'Pod')), /request\.kind must be an object/],
    [
      'a resource without version',
      mutated((r) => (r['resource'] = { group: '', resource: 'pods' })),
      /request\.resource\.version/,
    ],
    [
      'a non-boolean dryRun',
      mutated((r) => (r['dryRun'] = 'yes')),
      /request\.dryRun must be a boolean/,
    ],
    [
      'userInfo as a string',
      mutated((r) => (r['userInfo'] = 'root')),
      /request\.userInfo must be an object/,
    ],
    [
      'CREATE without an object',
      mutated((r) => (r['object'] = null)),
      /request\.object must be an object for CREATE, got null/,
    ],
    [
      'a numeric namespace',
      mutated((r) => (r['namespace'] = 1)),
      /request\.namespace must be a string/,
    ],
  ];
  const projection = reviewProjection(fields({ spec: fields({ containers: WHOLE }) }));
  for (const [name, body, message] of cases) {
    describe(`when the body has ${name}`, () => {
      it('throws BAD_REQUEST with a message naming the problem, read in full or projected', () => {
        for (const p of [undefined, projection]) {
          expect(() => parseAdmissionReview(body, p)).toThrowWithCode(RequestError, 'BAD_REQUEST');
          expect(() => parseAdmissionReview(body, p)).toThrow(message);
        }
      });
    });
  }

  describe('when read through a projection', () => {
    it('builds the review fields in full and of the object only what the projection keeps', () => {
      const body = buf(reviewFor('pod-full', undefined, { operation: 'UPDATE', uid: 'u-2' }));
      const { object: full, ...fullView } = parseAdmissionReview(body);
      const { object, ...view } = parseAdmissionReview(body, projection);
      expect(view).toEqual(fullView);
      expect(object).toEqual({
        spec: { containers: (full?.['spec'] as Record<string, unknown>)['containers'] },
      });
    });

    it('gives a body the reader does not take to JSON.parse (same view)', () => {
      const deep = reviewFor('pod');
      (deep['request'] as Record<string, unknown>)['options'] = JSON.parse(
        '['.repeat(MAX_SCAN_DEPTH + 1) + ']'.repeat(MAX_SCAN_DEPTH + 1),
      );
      const body = buf(deep);
      expect(readProjected(body, projection)).toBe(NOT_READ);
      expect(parseAdmissionReview(body, projection)).toEqual(parseAdmissionReview(body));
    });
  });
});

describe('toAdmissionResponse', () => {
  describe('when allowing', () => {
    it('echoes the uid and omits status', () => {
      expect(toAdmissionResponse('u-1', { allowed: true })).toEqual({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: 'u-1', allowed: true },
      });
    });
  });

  describe('when denying with warnings', () => {
    it('sets status 403 and carries the warnings', () => {
      const r = toAdmissionResponse('u-2', {
        allowed: false,
        message: 'no',
        reason: 'Forbidden',
        warnings: ['w'],
      });
      expect(r.response).toEqual({
        uid: 'u-2',
        allowed: false,
        status: { code: 403, reason: 'Forbidden', message: 'no' },
        warnings: ['w'],
      });
    });
  });

  describe('when allowing with a patch', () => {
    it('encodes the JSON Patch in base64 with patchType JSONPatch', () => {
      const patch = [
        {
          op: 'replace' as const,
          path: '/spec/containers/0/image',
          value: 'a:1@sha256:' + 'd'.repeat(64),
        },
      ];
      const r = toAdmissionResponse('u-3', { allowed: true, patch });
      expect(r.response.patchType).toBe('JSONPatch');
      expect(JSON.parse(Buffer.from(r.response.patch ?? '', 'base64').toString('utf8'))).toEqual(
        patch,
      );
    });
  });
});

describe('serializeAdmissionResponse', () => {
  const uids = [
    '705ab4f5-6393-11e8-b7cc-42010a800002',
    '',
    'quote " backslash \\ slash /',
    'controls \u0000 \u0001 \b \f \n \r \t \u001f',
    'unicode é ✓ \u2028 \u2029 😀',
    'lone surrogates \ud800 \udfff',
  ];
  const results: AdmissionResult[] = [
    { allowed: true },
    { allowed: true, warnings: [] },
    { allowed: true, patch: [] },
    { allowed: true, warnings: ['image "a" (spec.containers[0].image): "quoted"\n'] },
    { allowed: true, message: 'ok' },
    { allowed: true, patch: [{ op: 'replace', path: '/spec/containers/0/image', value: 'a@x' }] },
    { allowed: false, code: 403, reason: 'Forbidden', message: 'denied:\n"x"' },
    { allowed: false },
  ];

  it.each(uids)('is byte-identical to JSON.stringify(toAdmissionResponse(…)) for uid %j', (uid) => {
    for (const result of results) {
      expect(serializeAdmissionResponse(uid, result)).toBe(
        JSON.stringify(toAdmissionResponse(uid, result)),
      );
    }
  });
});
