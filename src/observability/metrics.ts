// SPDX-License-Identifier: Apache-2.0
// Prometheus instruments on trustgate's OWN prom-client Registry (never the global default,
// STYLE §4.3). Labels are small closed sets: no image, digest or namespace labels (SPEC §4).
// The warm admission path records without calling prom-client (issue #4, SPEC §7): prom-client 15
// hashes and validates the label object on every `inc`/`observe`, ~0.5–1 µs each. Counters take
// plain per-label-set numbers folded in at scrape time; the admission histogram is our own
// label-less one with prom-client's exposition. The text exposition is unchanged (tested byte
// for byte against plain prom-client instruments).

import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type Metric,
} from 'prom-client';
import { PendingCounts, PlainHistogram, type CountSlot } from './hot-instruments.js';

export type AdmissionDecision = 'allow' | 'deny' | 'warn' | 'audit' | 'error';
export type UpstreamKind = 'notary' | 'registry' | 'kubernetes';
export type CacheResult = 'hit' | 'miss';
export type PolicyState = 'ready' | 'invalid';
export type VerificationResult = 'pass' | 'fail' | 'inconclusive';

/**
 * Values the `code` label may take. Anything else is reported as `OTHER`, so a bug can never
 * turn the label into an unbounded set.
 */
const ADMISSION_CODES = new Set([
  'NONE',
  'INTERNAL',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'INVALID_POLICY',
  'INVALID_IMAGE_REFERENCE',
  'NO_MATCHING_POLICY',
  'NO_TRUST_DATA',
  'TAG_NOT_SIGNED',
  'DIGEST_MISMATCH',
  'SIGNATURE_INVALID',
  'ROOT_NOT_TRUSTED',
  'THRESHOLD_NOT_MET',
  'REQUIRED_SIGNER_MISSING',
  'PATH_NOT_ALLOWED',
  'METADATA_EXPIRED',
  'METADATA_INVALID',
  'SIGNATURE_TOO_OLD',
  'ROLLBACK_DETECTED',
  'UNTRUSTED_IDENTITY',
  'TRUST_SOURCE_UNAVAILABLE',
  'TIMEOUT',
  'LIMIT_EXCEEDED',
  'SIGNATURES_NOT_REQUIRED',
]);

/** Admission latency buckets in seconds: the warm path is sub-millisecond (SPEC §7). */
export const ADMISSION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;
const UPSTREAM_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface Metrics {
  readonly registry: Registry;
  /** Read through `get()` (pending counts are folded in first). Record via `recordAdmission`. */
  readonly admissionRequests: Counter<'decision' | 'code'>;
  readonly admissionDuration: PlainHistogram;
  readonly verifications: Counter<'source' | 'result'>;
  /** Read through `get()` (pending counts are folded in first). Record via `cacheRecorder`. */
  readonly cacheRequests: Counter<'cache' | 'result'>;
  readonly upstreamDuration: Histogram<'upstream'>;
  readonly policies: Gauge<'state'>;
  /** One admission request answered (hot path: no prom-client call). */
  recordAdmission(decision: AdmissionDecision, code: string, seconds: number): void;
  /** One verification by trust source kind (`notaryV1`, `notation`). */
  recordVerification(source: string, result: VerificationResult): void;
  /** A pre-bound hit/miss recorder for one cache (pass to `TtlCache`'s `onLookup`). */
  cacheRecorder(cache: string): (result: CacheResult) => void;
  recordUpstream(upstream: UpstreamKind, seconds: number): void;
  setPolicies(counts: Readonly<Record<PolicyState, number>>): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsOptions {
  /** Also register prom-client's process/nodejs default metrics on the own registry. Default false. */
  readonly defaultMetrics?: boolean;
}

/** Create the registry and every trustgate instrument. Call once in main.ts and pass it around. */
export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });

  const admissionCounts = new PendingCounts<'decision' | 'code'>(['decision', 'code']);
  const cacheCounts = new PendingCounts<'cache' | 'result'>(['cache', 'result']);

  const admissionRequests = new Counter({
    name: 'trustgate_admission_requests_total',
    help: 'Admission requests answered, by decision and (first) reason code.',
    labelNames: ['decision', 'code'] as const,
    registers: [registry],
    collect() {
      admissionCounts.foldInto(this);
    },
  });
  const admissionDuration = new PlainHistogram(
    'trustgate_admission_duration_seconds',
    'Time from receiving an AdmissionReview body to having its answer.',
    ADMISSION_BUCKETS,
  );
  // The Registry's parameter type is prom-client's own class union, but it only reads `name`,
  // `type`, `get()` and `reset()`, which PlainHistogram provides with prom-client's shapes.
  registry.registerMetric(admissionDuration as unknown as Metric);
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
    collect() {
      cacheCounts.foldInto(this);
    },
  });
  const upstreamDuration = new Histogram({
    name: 'trustgate_upstream_duration_seconds',
    help: 'Latency of upstream calls by kind (notary|registry|kubernetes).',
    labelNames: ['upstream'] as const,
    buckets: [...UPSTREAM_BUCKETS],
    registers: [registry],
  });
  const policies = new Gauge({
    name: 'trustgate_policies',
    help: 'Trust policies loaded, by state (ready|invalid).',
    labelNames: ['state'] as const,
    registers: [registry],
  });

  // decision → code → slot. Only known codes are cached (any other string maps to the one
  // `OTHER` slot), so a stream of bogus codes cannot grow these maps.
  const admissionSlots = new Map<string, Map<string, CountSlot<'decision' | 'code'>>>();
  // `.labels()` hashes the label set on every call; bind each combination once (cold path).
  const upstreamChildren = new Map<string, Histogram.Internal<'upstream'>>();

  return {
    registry,
    admissionRequests,
    admissionDuration,
    verifications,
    cacheRequests,
    upstreamDuration,
    policies,
    recordAdmission(decision, code, seconds) {
      let byCode = admissionSlots.get(decision);
      if (byCode === undefined) {
        byCode = new Map();
        admissionSlots.set(decision, byCode);
      }
      let slot = byCode.get(code);
      if (slot === undefined) {
        const known = ADMISSION_CODES.has(code);
        slot = admissionCounts.slot(decision, known ? code : 'OTHER');
        if (known) byCode.set(code, slot);
      }
      admissionCounts.inc(slot);
      admissionDuration.observe(seconds);
    },
    recordVerification(source, result) {
      verifications.labels(source, result).inc();
    },
    cacheRecorder(cache) {
      const hit = cacheCounts.slot(cache, 'hit');
      const miss = cacheCounts.slot(cache, 'miss');
      return (result) => cacheCounts.inc(result === 'hit' ? hit : miss);
    },
    recordUpstream(upstream, seconds) {
      let child = upstreamChildren.get(upstream);
      if (child === undefined) {
        child = upstreamDuration.labels(upstream);
        upstreamChildren.set(upstream, child);
      }
      child.observe(seconds);
    },
    setPolicies(counts) {
      policies.labels('ready').set(counts.ready);
      policies.labels('invalid').set(counts.invalid);
    },
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
