// SPDX-License-Identifier: Apache-2.0
// Metrics: own registry, every trustgate_* instrument exposed, no image/digest/namespace labels,
// and the hot-path recorders render exactly what plain prom-client instruments would.

import { describe, expect, it } from '@jest/globals';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  register as globalRegistry,
  type Metric,
} from 'prom-client';
import { prng } from '../../__fixtures__/prng.js';
import { PlainHistogram } from '../hot-instruments.js';
import {
  ADMISSION_BUCKETS,
  createMetrics,
  type AdmissionDecision,
  type CacheResult,
} from '../metrics.js';

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

// ---- Exposition equivalence with plain prom-client instruments --------------------------------

/** The instruments as plain prom-client records them (the pre-issue-#4 code), as the oracle. */
function referenceMetrics(): { registry: Registry; apply(op: Op): void } {
  const registry = new Registry();
  const admissionRequests = new Counter({
    name: 'trustgate_admission_requests_total',
    help: 'Admission requests answered, by decision and (first) reason code.',
    labelNames: ['decision', 'code'] as const,
    registers: [registry],
  });
  const admissionDuration = new Histogram({
    name: 'trustgate_admission_duration_seconds',
    help: 'Time from receiving an AdmissionReview body to having its answer.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const verifications = new Counter({
    name: 'trustgate_verifications_total',
    help: 'Image verifications by trust source kind and result.',
    labelNames: ['source', 'result'] as const,
    registers: [registry],
  });
  const cacheRequests = new Counter({
    name: 'trustgate_cache_requests_total',
    help: 'Cache lookups by cache and result (hit|miss).',
    labelNames: ['cache', 'result'] as const,
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'trustgate_upstream_duration_seconds',
    help: 'Latency of upstream calls by kind (notary|registry|kubernetes).',
    labelNames: ['upstream'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const policies = new Gauge({
    name: 'trustgate_policies',
    help: 'Trust policies loaded, by state (ready|invalid).',
    labelNames: ['state'] as const,
    registers: [registry],
  });
  const codes = new Set(KNOWN_CODES);
  return {
    registry,
    apply(op) {
      switch (op.kind) {
        case 'admission':
          admissionRequests.labels(op.decision, codes.has(op.code) ? op.code : 'OTHER').inc();
          admissionDuration.observe(op.seconds);
          break;
        case 'cache':
          cacheRequests.labels(op.cache, op.result).inc();
          break;
        case 'verification':
          verifications.labels(op.source, op.result).inc();
          break;
        case 'upstream':
          upstreamDuration.labels(op.upstream).observe(op.seconds);
          break;
        case 'policies':
          policies.labels('ready').set(op.ready);
          policies.labels('invalid').set(op.invalid);
          break;
      }
    },
  };
}

type Op =
  | { kind: 'admission'; decision: AdmissionDecision; code: string; seconds: number }
  | { kind: 'cache'; cache: string; result: CacheResult }
  | { kind: 'verification'; source: string; result: 'pass' | 'fail' | 'inconclusive' }
  | { kind: 'upstream'; upstream: 'notary' | 'registry' | 'kubernetes'; seconds: number }
  | { kind: 'policies'; ready: number; invalid: number };

const KNOWN_CODES = ['NONE', 'TAG_NOT_SIGNED', 'INTERNAL', 'TIMEOUT', 'SIGNATURE_INVALID'];
const DECISIONS: readonly AdmissionDecision[] = ['allow', 'deny', 'warn', 'audit', 'error'];
const CACHES = ['verdict', 'tag', 'image'];

/** Every admission bucket bound exactly (inclusive), just above it, 0, above 30 s, fractions. */
const EDGE_SECONDS: readonly number[] = [
  ...ADMISSION_BUCKETS,
  ...ADMISSION_BUCKETS.map((b) => b * (1 + Number.EPSILON)),
  0,
  30.000001,
  1e9,
  0.1,
  0.2,
  0.3,
  1 / 3,
  0.0004,
  0.00041,
];

/** The system under test, applying an `Op` through the hot-path recorders. */
function subject(): { metrics: ReturnType<typeof createMetrics>; apply(op: Op): void } {
  const metrics = createMetrics();
  // Bound up front like app.ts does; recorders never used must not create series.
  const recorders = new Map(CACHES.map((c) => [c, metrics.cacheRecorder(c)]));
  return {
    metrics,
    apply(op) {
      switch (op.kind) {
        case 'admission':
          metrics.recordAdmission(op.decision, op.code, op.seconds);
          break;
        case 'cache':
          // Alternate between the shared recorder and a freshly bound one for the same cache.
          (op.result === 'hit' ? recorders.get(op.cache)! : metrics.cacheRecorder(op.cache))(
            op.result,
          );
          break;
        case 'verification':
          metrics.recordVerification(op.source, op.result);
          break;
        case 'upstream':
          metrics.recordUpstream(op.upstream, op.seconds);
          break;
        case 'policies':
          metrics.setPolicies(op);
          break;
      }
    },
  };
}

function randomOp(rnd: () => number): Op {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const seconds = rnd() < 0.5 ? pick(EDGE_SECONDS) : rnd() * rnd() * 40;
  switch (
    pick(['admission', 'admission', 'cache', 'cache', 'verification', 'upstream', 'policies'])
  ) {
    case 'admission':
      return {
        kind: 'admission',
        decision: pick(DECISIONS),
        code: rnd() < 0.1 ? `registry.example.com/x:${Math.floor(rnd() * 5)}` : pick(KNOWN_CODES),
        seconds,
      };
    case 'cache':
      return { kind: 'cache', cache: pick(CACHES), result: rnd() < 0.7 ? 'hit' : 'miss' };
    case 'verification':
      return {
        kind: 'verification',
        source: pick(['notaryV1', 'notation']),
        result: pick(['pass', 'fail', 'inconclusive'] as const),
      };
    case 'policies':
      return { kind: 'policies', ready: Math.floor(rnd() * 9), invalid: Math.floor(rnd() * 3) };
    default:
      return { kind: 'upstream', upstream: pick(['notary', 'registry', 'kubernetes']), seconds };
  }
}

describe('createMetrics exposition versus plain prom-client', () => {
  describe('after the bucket-edge values in one batch', () => {
    it('renders byte-identical text, and again unchanged on a repeated scrape', async () => {
      const s = subject();
      const ref = referenceMetrics();
      for (const [i, seconds] of EDGE_SECONDS.entries()) {
        const op: Op = { kind: 'admission', decision: 'allow', code: 'NONE', seconds };
        s.apply(op);
        ref.apply(op);
        const cacheOp: Op = { kind: 'cache', cache: 'verdict', result: i % 3 ? 'hit' : 'miss' };
        s.apply(cacheOp);
        ref.apply(cacheOp);
      }
      const expected = await ref.registry.metrics();
      expect(await s.metrics.render()).toBe(expected);
      expect(await s.metrics.render()).toBe(expected);
      expect(expected).toContain('trustgate_admission_duration_seconds_bucket{le="+Inf"}');
    });
  });

  describe('when nothing was recorded', () => {
    it('renders byte-identical text (no labelled series, an all-zero histogram)', async () => {
      expect(await subject().metrics.render()).toBe(await referenceMetrics().registry.metrics());
    });
  });

  describe.each([1, 2, 3, 4, 5, 6, 7, 8])('for random operations and scrapes (seed %i)', (seed) => {
    it('renders byte-identical text at every scrape, in either scrape order', async () => {
      const rnd = prng(seed);
      const s = subject();
      const ref = referenceMetrics();
      for (let scrape = 0; scrape < 12; scrape++) {
        const ops = Math.floor(rnd() * rnd() * 300); // sometimes 0: back-to-back scrapes
        for (let i = 0; i < ops; i++) {
          const op = randomOp(rnd);
          s.apply(op);
          ref.apply(op);
        }
        if (scrape % 2 === 0) {
          const got = await s.metrics.render();
          expect(got).toBe(await ref.registry.metrics());
        } else {
          const expected = await ref.registry.metrics();
          expect(await s.metrics.render()).toBe(expected);
        }
      }
      expect(await s.metrics.registry.getMetricsAsJSON()).toEqual(
        await ref.registry.getMetricsAsJSON(),
      );
    });
  });

  describe('when two scrapes run concurrently', () => {
    it('folds pending counts once (no double counting)', async () => {
      const s = subject();
      const ref = referenceMetrics();
      for (let i = 0; i < 50; i++) {
        const op: Op = { kind: 'admission', decision: 'deny', code: 'TIMEOUT', seconds: 0.1 };
        s.apply(op);
        ref.apply(op);
        s.apply({ kind: 'cache', cache: 'tag', result: 'miss' });
        ref.apply({ kind: 'cache', cache: 'tag', result: 'miss' });
      }
      const [a, b] = await Promise.all([s.metrics.render(), s.metrics.render()]);
      const expected = await ref.registry.metrics();
      expect(a).toBe(expected);
      expect(b).toBe(expected);
      expect(expected).toContain(
        'trustgate_admission_requests_total{decision="deny",code="TIMEOUT"} 50',
      );
    });
  });

  describe('when read through the exposed instruments', () => {
    it('includes counts recorded since the last scrape', async () => {
      const m = createMetrics();
      m.recordAdmission('allow', 'NONE', 0.0004);
      m.recordAdmission('allow', 'NONE', 0.0004);
      m.cacheRecorder('verdict')('hit');
      const admissions = await m.admissionRequests.get();
      expect(admissions.values).toEqual([
        { labels: { decision: 'allow', code: 'NONE' }, value: 2 },
      ]);
      expect((await m.cacheRequests.get()).values).toEqual([
        { labels: { cache: 'verdict', result: 'hit' }, value: 1 },
      ]);
      const duration = await m.admissionDuration.get();
      expect(duration.values.at(-1)).toMatchObject({ value: 2 });
    });
  });
});

describe('PlainHistogram', () => {
  describe('when given a non-finite value', () => {
    it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
      'throws a TypeError for %p, as prom-client does, and records nothing',
      async (value) => {
        const h = new PlainHistogram('x_seconds', 'x', [1]);
        expect(() => h.observe(value)).toThrow(TypeError);
        expect((await h.get()).values.map((v) => v.value)).toEqual([0, 0, 0, 0]);
      },
    );
  });

  describe('when given buckets out of order', () => {
    it('refuses them at construction', () => {
      expect(() => new PlainHistogram('x_seconds', 'x', [1, 0.5])).toThrow(/ascending/);
    });
  });

  describe('after reset', () => {
    it('renders as a fresh prom-client histogram', async () => {
      const mine = new Registry();
      const h = new PlainHistogram('x_seconds', 'x', [0.5, 1]);
      mine.registerMetric(h as unknown as Metric);
      h.observe(0.7);
      mine.resetMetrics();
      const ref = new Registry();
      new Histogram({ name: 'x_seconds', help: 'x', buckets: [0.5, 1], registers: [ref] });
      expect(await mine.metrics()).toBe(await ref.metrics());
    });
  });
});
