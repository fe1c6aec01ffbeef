// SPDX-License-Identifier: Apache-2.0
// The audit record of one admission decision (one JSON line per decision, SPEC §4), serialised
// by hand: JSON.stringify of this ~1 KB record was the largest cost of the warm path after
// parsing the review itself (≈ 10 µs of the ≈ 60 µs trustgate spent over a bare server). The
// part that describes the decision (images, digests, reasons, policies) is written once per
// decision object and reused, because the warm path hands out the same decision object again
// (see decision-memo.ts); the per-request fields around it are a handful of short strings.

import type { AdmissionDecision } from '../observability/metrics.js';

/** What the record says about the decision itself (the same for every request it answers). */
export interface DecisionSummary {
  readonly images: readonly { image: string; path: string; digest?: string; allowed: boolean }[];
  readonly decision: AdmissionDecision;
  readonly result: { readonly allowed: boolean };
  readonly reasons: readonly string[];
  readonly policies: readonly string[];
}

/** What the record says about the request the decision answered (a type: see AuditRecord). */
export type AuditRequestFields = {
  readonly endpoint: 'validate' | 'mutate';
  readonly decidedAt: string;
  readonly uid: string;
  readonly operation: string;
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly user: string;
  readonly durationMs: number;
  readonly dryRun: boolean;
};

/**
 * One audit record: the request's fields and the decision's (a type, so loggers take it as
 * fields). The key order of the line is the order {@link toAuditRecord} writes.
 */
export type AuditRecord = AuditRequestFields & {
  readonly audit: true;
  readonly images: DecisionSummary['images'];
  readonly decision: AdmissionDecision;
  readonly allowed: boolean;
  readonly reasons: readonly string[];
  readonly policies: readonly string[];
};

/** The record of `request` answered by `summary`. */
export function toAuditRecord(request: AuditRequestFields, summary: DecisionSummary): AuditRecord {
  return {
    audit: true,
    endpoint: request.endpoint,
    decidedAt: request.decidedAt,
    uid: request.uid,
    operation: request.operation,
    namespace: request.namespace,
    kind: request.kind,
    name: request.name,
    user: request.user,
    images: summary.images,
    decision: summary.decision,
    allowed: summary.result.allowed,
    reasons: summary.reasons,
    policies: summary.policies,
    durationMs: request.durationMs,
    dryRun: request.dryRun,
  };
}

/** `"images":…,"decision":…,"allowed":…,"reasons":…,"policies":…`, once per summary object. */
const summaryJson = new WeakMap<DecisionSummary, string>();

function summaryOf(s: DecisionSummary): string {
  let json = summaryJson.get(s);
  if (json === undefined) {
    const { images, decision, reasons, policies } = s;
    json = JSON.stringify({ images, decision, allowed: s.result.allowed, reasons, policies });
    json = json.slice(1, -1);
    summaryJson.set(s, json);
  }
  return json;
}

/** JSON.stringify of a number: `null` for NaN and ±Infinity. */
function numberJson(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** `JSON.stringify(toAuditRecord(request, summary))`, byte for byte. */
export function serializeAuditRecord(
  request: AuditRequestFields,
  summary: DecisionSummary,
): string {
  return (
    `{"audit":true,"endpoint":${JSON.stringify(request.endpoint)}` +
    `,"decidedAt":${JSON.stringify(request.decidedAt)}` +
    `,"uid":${JSON.stringify(request.uid)}` +
    `,"operation":${JSON.stringify(request.operation)}` +
    `,"namespace":${JSON.stringify(request.namespace)}` +
    `,"kind":${JSON.stringify(request.kind)}` +
    `,"name":${JSON.stringify(request.name)}` +
    `,"user":${JSON.stringify(request.user)}` +
    `,${summaryOf(summary)}` +
    `,"durationMs":${numberJson(request.durationMs)}` +
    `,"dryRun":${request.dryRun ? 'true' : 'false'}}`
  );
}
