// SPDX-License-Identifier: Apache-2.0
// Admission handler without a transport: decisions, messages, deadline, patches, audit lines.

import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../../core/errors.js';
import type { ImageVerdict } from '../../core/result.js';
import type { CredentialProvider, VerifyContext, WorkloadImage } from '../../verify/ports.js';
import { reviewBody, workloadObject } from '../../__fixtures__/admission/factory.js';
import {
  FakeVerifier,
  MemorySink,
  fakeDigest,
  type FakeBehaviour,
} from '../../__fixtures__/admission/fake-verifier.js';
import { createJsonLogger } from '../../observability/logger.js';
import { createMetrics } from '../../observability/metrics.js';
import {
  createAdmissionHandler,
  createPolicyAdmissionHandler,
  parseTimeoutParam,
  toBudgetMs,
  type AdmissionHandlerDeps,
  type CredentialsRequest,
} from '../handler.js';

const clock = { now: () => new Date('2026-12-02T12:00:00Z') };
const q = (s = ''): URLSearchParams => new URLSearchParams(s);

function setup(
  behaviours: Record<string, FakeBehaviour> = {},
  extra: Partial<AdmissionHandlerDeps> = {},
) {
  const verifier = new FakeVerifier(new Map(Object.entries(behaviours)));
  const sink = new MemorySink();
  const metrics = createMetrics();
  const handler = createAdmissionHandler({
    verifier,
    clock,
    logger: createJsonLogger({ stream: sink, clock }),
    metrics,
    mutate: true,
    ...extra,
  });
  return { verifier, sink, metrics, handler };
}

function response(body: string): Record<string, unknown> {
  const review = JSON.parse(body) as {
    apiVersion: string;
    kind: string;
    response: Record<string, unknown>;
  };
  expect(review.apiVersion).toBe('admission.k8s.io/v1');
  expect(review.kind).toBe('AdmissionReview');
  return review.response;
}

describe('createAdmissionHandler', () => {
  describe('when every image of a Pod verifies', () => {
    it('allows, echoes the uid and writes one audit line with digests', async () => {
      const { handler, sink, verifier } = setup();
      const reply = await handler.validate(
        reviewBody('pod-full', undefined, { uid: 'uid-ok', namespace: 'shop' }),
        q(),
      );
      expect(reply.status).toBe(200);
      expect(response(reply.body)).toEqual({ uid: 'uid-ok', allowed: true });
      expect(verifier.calls[0]?.ctx.namespace).toBe('shop');
      const audits = sink.lines.filter((l) => l['audit'] === true);
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({
        uid: 'uid-ok',
        namespace: 'shop',
        kind: 'Pod',
        name: 'api-7d4b9c',
        user: 'jane@example.com',
        decision: 'allow',
        dryRun: false,
        policies: ['ClusterTrustPolicy/default'],
      });
      expect(audits[0]?.['images']).toContainEqual({
        image: 'busybox:1.36',
        path: 'spec.ephemeralContainers[0].image',
        digest: fakeDigest('busybox:1.36'),
        allowed: true,
      });
      expect(typeof audits[0]?.['durationMs']).toBe('number');
    });
  });

  describe('when two images of a Deployment fail', () => {
    it('denies with 403 and one message naming every failing image, path, policy and code', async () => {
      const { handler, metrics, sink } = setup({
        'registry.example.com/team/web:1.2.3': {
          deny: 'TAG_NOT_SIGNED',
          policy: 'ClusterTrustPolicy/foo',
          message: 'tag 1.2.3 has no signed target',
        },
        'docker.io/library/nginx:1.27': {
          deny: 'NO_MATCHING_POLICY',
          message: 'no policy matches docker.io/library/nginx',
        },
      });
      const reply = await handler.validate(
        reviewBody('deployment', undefined, { uid: 'uid-deny' }),
        q(),
      );
      const r = response(reply.body);
      expect(r['uid']).toBe('uid-deny');
      expect(r['allowed']).toBe(false);
      expect(r['status']).toEqual({
        code: 403,
        reason: 'Forbidden',
        message:
          'image "registry.example.com/team/web:1.2.3" (spec.template.spec.containers[0].image) denied by ClusterTrustPolicy/foo: TAG_NOT_SIGNED: tag 1.2.3 has no signed target\n' +
          'image "docker.io/library/nginx:1.27" (spec.template.spec.containers[1].image) denied: NO_MATCHING_POLICY: no policy matches docker.io/library/nginx',
      });
      expect(await metrics.render()).toContain(
        'trustgate_admission_requests_total{decision="deny",code="TAG_NOT_SIGNED"} 1',
      );
      expect(sink.lines.find((l) => l['audit'])?.['reasons']).toEqual([
        'TAG_NOT_SIGNED',
        'NO_MATCHING_POLICY',
      ]);
    });
  });

  describe('when a warn-mode policy fails', () => {
    it('allows with warnings naming the image', async () => {
      const { handler } = setup({
        'registry.example.com/team/migrate:2.0': {
          warn: 'TAG_NOT_SIGNED under ClusterTrustPolicy/soft',
          policy: 'ClusterTrustPolicy/soft',
        },
      });
      const r = response((await handler.validate(reviewBody('job'), q())).body);
      expect(r['allowed']).toBe(true);
      expect(r['warnings']).toEqual([
        'image "registry.example.com/team/migrate:2.0" (spec.template.spec.containers[0].image): TAG_NOT_SIGNED under ClusterTrustPolicy/soft',
      ]);
    });
  });

  describe('when an audit-mode policy fails', () => {
    it('allows, counts it and records the code in the audit line', async () => {
      const { handler, metrics, sink } = setup({
        'registry.example.com/ops/agent:0.9': {
          audit: 'SIGNATURE_INVALID',
          policy: 'ClusterTrustPolicy/watch',
          message: 'bad sig',
        },
      });
      const r = response((await handler.validate(reviewBody('daemonset'), q())).body);
      expect(r).toEqual({ uid: expect.any(String), allowed: true });
      expect(await metrics.render()).toContain(
        'trustgate_admission_requests_total{decision="audit",code="SIGNATURE_INVALID"} 1',
      );
      expect(sink.lines.find((l) => l['audit'])).toMatchObject({
        decision: 'audit',
        reasons: ['SIGNATURE_INVALID'],
      });
    });
  });

  describe('when the apiserver sends ?timeout=5s', () => {
    it('gives the verifier a deadline before the apiserver gives up', async () => {
      const { handler, verifier } = setup();
      const before = Date.now();
      await handler.validate(reviewBody('pod'), q('timeout=5s'));
      const expiresAt = verifier.calls[0]?.ctx.deadline.expiresAt ?? Infinity;
      expect(expiresAt).toBeLessThan(before + 5000);
      expect(expiresAt).toBeGreaterThan(before);
    });
  });

  describe('when the verifier ignores the deadline', () => {
    it('answers a TIMEOUT denial once the deadline passes', async () => {
      const { handler } = setup(
        { 'registry.example.com/team/web:1.2.3': { waitForDeadline: true } },
        { defaultTimeoutMs: 100, marginMs: 50 },
      );
      const r = response((await handler.validate(reviewBody('pod'), q())).body);
      expect(r['allowed']).toBe(false);
      expect((r['status'] as { message: string }).message).toContain(
        'denied: TIMEOUT: deadline passed',
      );
    });

    it('denies with TIMEOUT from the backstop when the verifier never answers', async () => {
      const never = new Promise<void>(() => undefined);
      const { handler } = setup(
        { 'registry.example.com/team/web:1.2.3': { gate: never } },
        { defaultTimeoutMs: 100, marginMs: 50 },
      );
      const r = response((await handler.validate(reviewBody('pod'), q())).body);
      expect(r['allowed']).toBe(false);
      expect((r['status'] as { message: string }).message).toBe(
        'image "registry.example.com/team/web:1.2.3" (spec.containers[0].image) denied: ' +
          'TIMEOUT: verification did not finish before the webhook deadline',
      );
    });
  });

  describe('when the verifier throws', () => {
    it('still answers a well-formed denial without internals', async () => {
      const { handler, sink } = setup({
        'registry.example.com/team/web:1.2.3': { throws: 'Cannot read properties of undefined' },
      });
      const reply = await handler.validate(reviewBody('pod', undefined, { uid: 'uid-bug' }), q());
      expect(reply.status).toBe(200);
      const r = response(reply.body);
      expect(r['uid']).toBe('uid-bug');
      expect(r['allowed']).toBe(false);
      const message = (r['status'] as { message: string }).message;
      expect(message).toContain('internal error');
      expect(message).not.toContain('Cannot read properties');
      expect(sink.lines.find((l) => l['level'] === 'error')?.['error']).toMatchObject({
        name: 'TypeError',
      });
    });
  });

  describe('when the body is not an AdmissionReview', () => {
    it('answers 400 with the reason and counts an error', async () => {
      const { handler, metrics } = setup();
      const reply = await handler.validate(Buffer.from('{"apiVersion":"v1"}'), q());
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body)).toEqual({
        code: 'BAD_REQUEST',
        message: expect.stringContaining('apiVersion must be'),
      });
      expect(await metrics.render()).toContain('decision="error",code="BAD_REQUEST"} 1');
    });
  });

  describe('when the operation is DELETE or the kind is not a workload', () => {
    it('allows without calling the verifier', async () => {
      const { handler, verifier } = setup();
      expect(
        response(
          (await handler.validate(reviewBody('pod', undefined, { operation: 'DELETE' }), q())).body,
        )['allowed'],
      ).toBe(true);
      expect(response((await handler.validate(reviewBody('configmap'), q())).body)['allowed']).toBe(
        true,
      );
      expect(verifier.calls).toHaveLength(0);
    });
  });

  describe('when the request is a dry run', () => {
    it('evaluates and marks the audit line', async () => {
      const { handler, sink } = setup();
      await handler.validate(reviewBody('statefulset', undefined, { dryRun: true }), q());
      expect(sink.lines.find((l) => l['audit'])?.['dryRun']).toBe(true);
    });
  });

  describe('when credentials are configured', () => {
    it('asks with the pod spec pull secrets and passes them on; a failure means anonymous', async () => {
      const seen: CredentialsRequest[] = [];
      const provider: CredentialProvider = { lookup: () => ({ username: 'u', password: 'p' }) };
      const { handler, verifier } = setup(
        {},
        { credentialsFor: async (r) => (seen.push(r), provider) },
      );
      await handler.validate(reviewBody('pod-full', undefined, { namespace: 'shop' }), q());
      expect(seen[0]).toMatchObject({
        namespace: 'shop',
        serviceAccountName: 'api',
        pullSecretNames: ['regcred', 'mirror-cred'],
      });
      expect(verifier.calls[0]?.ctx.credentials).toBe(provider);

      const failing = setup({}, { credentialsFor: () => Promise.reject(new Error('k8s down')) });
      expect(
        response((await failing.handler.validate(reviewBody('pod'), q())).body)['allowed'],
      ).toBe(true);
      expect(failing.verifier.calls[0]?.ctx.credentials).toBeUndefined();
    });
  });

  describe('when the credentials lookup hangs (Kubernetes API unreachable)', () => {
    it('goes on anonymously after its share of the budget and still answers in time', async () => {
      const { handler, verifier, sink } = setup(
        {},
        {
          credentialsFor: () => new Promise<undefined>(() => undefined),
          defaultTimeoutMs: 400,
          marginMs: 100,
        },
      );
      const r = response((await handler.validate(reviewBody('pod'), q())).body);
      expect(r['allowed']).toBe(true);
      expect(verifier.calls).toHaveLength(1);
      expect(verifier.calls[0]?.ctx.credentials).toBeUndefined();
      expect(sink.lines.find((l) => l['level'] === 'warn')?.['msg']).toBe(
        'registry credentials lookup is too slow, continuing anonymously',
      );
    });
  });

  describe('when a Pod was created by a workload trustgate already admitted', () => {
    it('still verifies every image: no shortcut by ownerReference', async () => {
      const pod = workloadObject('pod');
      (pod['metadata'] as Record<string, unknown>)['ownerReferences'] = [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-7d4b9c',
          uid: '3f1c2b9e-0a1d-4c7e-9b2a-5d6e7f8a9b0c',
          controller: true,
          blockOwnerDeletion: true,
        },
      ];
      const { handler, verifier } = setup({
        'registry.example.com/team/web:1.2.3': { deny: 'TAG_NOT_SIGNED', message: 'not signed' },
      });
      const r = response((await handler.validate(reviewBody('pod', pod), q())).body);
      expect(verifier.calls).toHaveLength(1);
      expect(r['allowed']).toBe(false);
    });
  });

  describe('when the request has no name (generateName on CREATE)', () => {
    it('names the object by metadata.name, else by metadata.generateName, in the audit line', async () => {
      const { handler, sink } = setup();
      const named = JSON.parse(reviewBody('pod').toString()) as {
        request: { name?: string; object: { metadata: Record<string, unknown> } };
      };
      delete named.request.name;
      await handler.validate(Buffer.from(JSON.stringify(named)), q());
      const meta = named.request.object.metadata;
      delete meta['name'];
      meta['generateName'] = 'web-abc-';
      await handler.validate(Buffer.from(JSON.stringify(named)), q());
      const names = sink.lines.filter((l) => l['audit'] === true).map((l) => l['name']);
      expect(names).toEqual(['web', 'web-abc-']);
    });
  });

  describe('mutate', () => {
    it('pins verified tag images to tag@digest and skips pinned ones', async () => {
      const { handler } = setup();
      const r = response((await handler.mutate(reviewBody('pod-full'), q())).body);
      expect(r['patchType']).toBe('JSONPatch');
      const patch = JSON.parse(
        Buffer.from(r['patch'] as string, 'base64').toString('utf8'),
      ) as unknown[];
      expect(patch).toEqual([
        {
          op: 'replace',
          path: '/spec/initContainers/0/image',
          value: `registry.example.com/team/migrate:2.0@${fakeDigest('registry.example.com/team/migrate:2.0')}`,
        },
        {
          op: 'replace',
          path: '/spec/containers/0/image',
          value: `registry.example.com/team/api:4.0@${fakeDigest('registry.example.com/team/api:4.0')}`,
        },
        {
          op: 'replace',
          path: '/spec/ephemeralContainers/0/image',
          value: `busybox:1.36@${fakeDigest('busybox:1.36')}`,
        },
      ]);
    });

    it('gives no patch on validate and 404 when disabled', async () => {
      const { handler } = setup();
      expect(
        response((await handler.validate(reviewBody('pod'), q())).body)['patch'],
      ).toBeUndefined();
      const off = setup({}, { mutate: false });
      expect((await off.handler.mutate(reviewBody('pod'), q())).status).toBe(404);
    });
  });

  describe('when the verifier has memoised verdicts for every image (warm path)', () => {
    /** Remembers every verdict like DefaultImageVerifier's memo, and answers from it synchronously. */
    class MemoVerifier extends FakeVerifier {
      readonly memo = new Map<string, ImageVerdict>();
      memoCalls = 0;
      override async verifyImages(
        images: readonly WorkloadImage[],
        ctx: VerifyContext,
      ): Promise<readonly ImageVerdict[]> {
        const out = await super.verifyImages(images, ctx);
        for (const v of out) this.memo.set(v.image, v);
        return out.map((v, i) => ctx.memoised?.[i] ?? v);
      }
      memoisedVerdicts(images: readonly WorkloadImage[]): readonly (ImageVerdict | undefined)[] {
        this.memoCalls++;
        return images.map((img) => this.memo.get(img.image));
      }
    }

    function warmSetup() {
      const verifier = new MemoVerifier();
      const sink = new MemorySink();
      const metrics = createMetrics();
      let credentialLookups = 0;
      const handler = createAdmissionHandler({
        verifier,
        clock,
        logger: createJsonLogger({ stream: sink, clock }),
        metrics,
        credentialsFor: () => (credentialLookups++, Promise.resolve(undefined)),
      });
      return { verifier, sink, metrics, handler, credentialLookups: () => credentialLookups };
    }

    it('answers without verifyImages or a credentials lookup, with the same reply and audit line', async () => {
      const { handler, verifier, sink, metrics, credentialLookups } = warmSetup();
      const body = reviewBody('pod-full', undefined, { uid: 'uid-warm', namespace: 'shop' });
      const cold = await handler.validate(body, q('timeout=10s'));
      expect(verifier.calls).toHaveLength(1);
      expect(credentialLookups()).toBe(1);
      const warm = await handler.validate(body, q('timeout=10s'));
      expect(verifier.calls).toHaveLength(1);
      expect(credentialLookups()).toBe(1);
      expect(verifier.memoCalls).toBe(2);
      expect(warm).toEqual(cold);
      const audits = sink.lines.filter((l) => l['audit'] === true);
      expect(audits).toHaveLength(2);
      const { durationMs: d0, ...first } = audits[0]!;
      const { durationMs: d1, ...second } = audits[1]!;
      expect(second).toEqual(first);
      expect([typeof d0, typeof d1]).toEqual(['number', 'number']);
      expect(await metrics.render()).toContain(
        'trustgate_admission_requests_total{decision="allow",code="NONE"} 2',
      );
      expect(await metrics.render()).toContain('trustgate_admission_duration_seconds_count 2');
    });

    it('passes what it found as ctx.memoised when only some images are memoised', async () => {
      const { handler, verifier } = warmSetup();
      const pod = reviewBody('pod-full', undefined, { uid: 'uid-1' });
      await handler.validate(pod, q());
      const [kept] = [...verifier.memo.keys()];
      for (const k of [...verifier.memo.keys()]) if (k !== kept) verifier.memo.delete(k);
      const reply = await handler.validate(pod, q());
      expect(response(reply.body)).toEqual({ uid: 'uid-1', allowed: true });
      expect(verifier.calls).toHaveLength(2);
      const memoised = verifier.calls[1]!.ctx.memoised;
      expect(memoised?.filter((v) => v !== undefined).map((v) => v.image)).toEqual([kept]);
      expect(memoised).toHaveLength(verifier.calls[1]!.images.length);
    });

    it('denies with INTERNAL when the memo lookup throws', async () => {
      const { handler, verifier } = warmSetup();
      verifier.memoisedVerdicts = () => {
        throw new Error('memo broke');
      };
      const r = response(
        (await handler.validate(reviewBody('pod', undefined, { uid: 'u' }), q())).body,
      );
      expect(r['allowed']).toBe(false);
      expect(JSON.stringify(r['status'])).toContain('INTERNAL');
    });
  });
});

describe('parseTimeoutParam / toBudgetMs', () => {
  it('reads Go durations and rejects junk', () => {
    expect(parseTimeoutParam('10s')).toBe(10_000);
    expect(parseTimeoutParam('1m0s')).toBe(60_000);
    expect(parseTimeoutParam('1500ms')).toBe(1500);
    for (const bad of [null, '', '10', 's', '-5s', '0s', '2m', '10s;drop', '1e3s'])
      expect(parseTimeoutParam(bad)).toBeUndefined();
  });

  it('keeps max(margin, 10%) but never more than half', () => {
    expect(toBudgetMs(10_000, 1000)).toBe(9000);
    expect(toBudgetMs(30_000, 1000)).toBe(27_000);
    expect(toBudgetMs(1000, 1000)).toBe(500);
  });
});

describe('createPolicyAdmissionHandler', () => {
  describe('when the policy object has field errors', () => {
    it('denies with one "path: message" line per error', async () => {
      const errors: FieldError[] = [
        { path: 'spec.images', message: 'must list at least one glob' },
        { path: 'spec.trustSources[0].notaryV1.server', message: 'must be an https:// URL' },
      ];
      const seen: unknown[] = [];
      const h = createPolicyAdmissionHandler({
        validatePolicyObject: (o) => (seen.push(o), errors),
        logger: createJsonLogger({ stream: new MemorySink() }),
      });
      const policy = {
        apiVersion: 'trustgate.dev/v1alpha1',
        kind: 'ClusterTrustPolicy',
        metadata: { name: 'p' },
        spec: {},
      };
      const reply = await h.validatePolicy(reviewBody('configmap', policy, { uid: 'pol-1' }));
      const r = response(reply.body);
      expect(r['uid']).toBe('pol-1');
      expect(r['allowed']).toBe(false);
      expect((r['status'] as { message: string }).message).toBe(
        'spec.images: must list at least one glob\nspec.trustSources[0].notaryV1.server: must be an https:// URL',
      );
      expect(seen[0]).toMatchObject({ kind: 'ClusterTrustPolicy' });
    });
  });

  describe('when the policy is valid, or validation throws', () => {
    it('allows, or denies as an internal error', async () => {
      const ok = createPolicyAdmissionHandler({
        validatePolicyObject: () => [],
        logger: createJsonLogger({ stream: new MemorySink() }),
      });
      expect(
        response(
          (await ok.validatePolicy(reviewBody('configmap', workloadObject('configmap')))).body,
        )['allowed'],
      ).toBe(true);
      const boom = createPolicyAdmissionHandler({
        validatePolicyObject: () => {
          throw new Error('x');
        },
        logger: createJsonLogger({ stream: new MemorySink() }),
      });
      const r = response((await boom.validatePolicy(reviewBody('configmap'))).body);
      expect(r['allowed']).toBe(false);
      expect((await boom.validatePolicy(Buffer.from('nope'))).status).toBe(400);
    });
  });
});
