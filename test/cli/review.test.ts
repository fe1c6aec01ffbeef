// SPDX-License-Identifier: Apache-2.0
// `trustgate review` against the REAL notary-server and docker-registry: AdmissionReview fixtures
// from a file and from stdin; allowed → 0, denied → 1, malformed → 2, source unreachable → 3.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { reviewFor, type JsonObject } from '../../src/__fixtures__/admission/factory.js';
import { runCli, startCliWorld, type CliWorld } from './support.js';

let w: CliWorld;

beforeAll(async () => {
  w = await startCliWorld();
});

afterAll(async () => {
  await w?.stop();
});

interface ReviewOut {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; message: string } };
}

/** A Deployment review whose containers run `images`. */
function deploymentReview(uid: string, images: readonly string[]): JsonObject {
  const review = reviewFor('deployment', undefined, { uid });
  const object = (
    review['request'] as {
      object: { spec: { template: { spec: { containers: { name: string; image: string }[] } } } };
    }
  ).object;
  object.spec.template.spec.containers = images.map((image, i) => ({ name: `c${i}`, image }));
  return review;
}

describe('trustgate review', () => {
  describe('when every image is signed (file input)', () => {
    it('exits 0 with an allowed AdmissionReview echoing the uid', async () => {
      const file = join(w.dir, 'allowed.json');
      await writeFile(
        file,
        JSON.stringify(deploymentReview('uid-allowed', [`${w.gun}:v1`, `${w.gun}@${w.v1.digest}`])),
      );
      const r = await runCli(['review', file, '--policy', w.policyFile], w.dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as ReviewOut;
      expect(out).toMatchObject({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid: 'uid-allowed', allowed: true },
      });
    });
  });

  describe('when an image is unsigned (stdin input)', () => {
    it('exits 1 with a 403 naming the image, field path, policy and reason', async () => {
      const body = JSON.stringify(
        deploymentReview('uid-denied', [`${w.gun}:v1`, `${w.gun}:unsigned`]),
      );
      const r = await runCli(['review', '-', '--policy', w.policyFile], w.dir, body);
      expect(r.code).toBe(1);
      const out = JSON.parse(r.stdout) as ReviewOut;
      expect(out.response).toMatchObject({
        uid: 'uid-denied',
        allowed: false,
        status: { code: 403 },
      });
      const message = out.response.status!.message;
      expect(message).toContain(`${w.gun}:unsigned`);
      expect(message).toContain('spec.template.spec.containers[1].image');
      expect(message).toContain('ClusterTrustPolicy/cli-test');
      expect(message).toContain('TAG_NOT_SIGNED');
    });
  });

  describe('when the trust source cannot be reached', () => {
    it('exits 3 (inconclusive) with a denial naming TRUST_SOURCE_UNAVAILABLE', async () => {
      const body = JSON.stringify(deploymentReview('uid-unreachable', [`${w.gun}:v1`]));
      const r = await runCli(['review', '-', '--policy', w.unreachablePolicyFile], w.dir, body);
      expect(r.code).toBe(3);
      const out = JSON.parse(r.stdout) as ReviewOut;
      expect(out.response).toMatchObject({ uid: 'uid-unreachable', allowed: false });
      expect(out.response.status!.message).toContain('TRUST_SOURCE_UNAVAILABLE');
    });
  });

  describe('when the input is malformed', () => {
    it.each([
      ['not JSON', '{"apiVersion": '],
      ['not an AdmissionReview', JSON.stringify({ apiVersion: 'v1', kind: 'Pod' })],
      [
        'a review without request',
        JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }),
      ],
    ])('exits 2 for %s', async (_what, body) => {
      const r = await runCli(['review', '-', '--policy', w.policyFile], w.dir, body);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 'BAD_REQUEST' });
    });

    it('exits 2 for a file that does not exist', async () => {
      const r = await runCli(
        ['review', join(w.dir, 'missing.json'), '--policy', w.policyFile],
        w.dir,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('cannot read');
    });
  });

  describe('when used wrongly', () => {
    it.each([[['review', '--policy', 'x']], [['review', 'a.json', 'b.json', '--policy', 'x']]])(
      'exits 2 for %j',
      async (argv) => {
        const r = await runCli(argv, w.dir);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain('review needs exactly one FILE');
      },
    );
  });
});
