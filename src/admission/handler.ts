// SPDX-License-Identifier: Apache-2.0
// AdmissionReview → workload images → ImageVerifier (within the apiserver's deadline) → one
// well-formed AdmissionReview answer, one audit line and one metric update per request.
// Transport-free: the HTTPS server (server.ts) only moves bytes in and out.

import { performance } from 'node:perf_hooks';
import { RequestError, type FieldError } from '../core/errors.js';
import type { ImageVerdict } from '../core/result.js';
import { createLazyDeadline, remainingMs } from '../verify/deadline.js';
import type {
  Clock,
  CredentialProvider,
  Deadline,
  ImageVerifier,
  WorkloadImage,
} from '../verify/ports.js';
import { LIMITS } from '../core/limits.js';
import type { Logger } from '../observability/logger.js';
import { toIsoString } from '../observability/iso-time.js';
import {
  serializeAuditRecord,
  toAuditRecord,
  type AuditRequestFields,
  type DecisionSummary,
} from './audit-record.js';
import { DecisionMemo } from './decision-memo.js';
import { serializeError } from '../observability/logger.js';
import type { AdmissionDecision, Metrics } from '../observability/metrics.js';
import { fields, WHOLE } from './json-projection.js';
import {
  parseAdmissionReview,
  reviewProjection,
  serializeAdmissionResponse,
  toAdmissionResponse,
  type AdmissionRequestView,
  type AdmissionResult,
  type JsonPatchOperation,
} from './review.js';
import {
  toJsonPointer,
  toWorkloadImages,
  WORKLOAD_OBJECT_READ,
  type WorkloadImages,
} from './workload-images.js';

/** A transport-neutral HTTP answer. */
export interface HttpReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What `credentialsFor` is given to look up registry credentials for a workload. */
export interface CredentialsRequest {
  readonly namespace: string;
  /** '' means the namespace's `default` service account. */
  readonly serviceAccountName: string;
  readonly pullSecretNames: readonly string[];
  readonly deadline: Deadline;
}

export interface AdmissionHandlerDeps {
  readonly verifier: ImageVerifier;
  /** Timestamps the audit line (`decidedAt`). */
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Registry credentials from pull secrets / service account; a throw means "anonymous". */
  readonly credentialsFor?: (req: CredentialsRequest) => Promise<CredentialProvider | undefined>;
  /** Used when the request has no valid `?timeout=`; the apiserver's default is 10 s. */
  readonly defaultTimeoutMs?: number;
  /** Safety margin before the apiserver's timeout: max(marginMs, 10 %), at most half the timeout. */
  readonly marginMs?: number;
  /** Serve `/mutate` (digest pinning). When false, `mutate()` answers 404. */
  readonly mutate?: boolean;
}

export interface AdmissionHandler {
  // `query` is read-only: the server shares one parsed object between requests with the same query.
  /** `POST /validate`. Never rejects. */
  validate(body: Buffer, query: URLSearchParams): Promise<HttpReply>;
  /** `POST /mutate`: like validate, and pins verified images to `name:tag@sha256:…`. Never rejects. */
  mutate(body: Buffer, query: URLSearchParams): Promise<HttpReply>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MARGIN_MS = 1_000;
/** The apiserver caps timeoutSeconds at 30; accept a little more, never unbounded. */
const MAX_TIMEOUT_MS = 60_000;
/** How long after the deadline the handler stops waiting for the verifier. */
const BACKSTOP_GRACE_MS = 250;
const JSON_HEADERS: Readonly<Record<string, string>> = { 'content-type': 'application/json' };
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const GO_DURATION_PART = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
const UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 1e-3,
  µs: 1e-3,
  ns: 1e-6,
};

/** A JSON reply with `status`. */
export function toJsonReply(status: number, value: unknown): HttpReply {
  return { status, headers: JSON_HEADERS, body: JSON.stringify(value) };
}

/** The 4xx reply for a request the edge refuses to evaluate: `{code, message}`. */
export function toErrorReply(err: RequestError): HttpReply {
  const status =
    err.code === 'PAYLOAD_TOO_LARGE' ? 413 : err.code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400;
  return toJsonReply(status, { code: err.code, message: err.message });
}

/**
 * The apiserver's `?timeout=` value (a Go duration such as `10s` or `1m0s`) in milliseconds,
 * or `undefined` when absent, malformed, zero or above 60 s.
 */
export function parseTimeoutParam(value: string | null): number | undefined {
  if (value === null || value.length === 0 || value.length > 32) return undefined;
  GO_DURATION_PART.lastIndex = 0;
  let ms = 0;
  let end = 0;
  for (let m = GO_DURATION_PART.exec(value); m !== null; m = GO_DURATION_PART.exec(value)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    end = GO_DURATION_PART.lastIndex;
  }
  if (end !== value.length || !(ms > 0) || ms > MAX_TIMEOUT_MS) return undefined;
  return ms;
}

/** The time budget for upstream work: the timeout minus max(margin, 10 %), keeping at least half. */
export function toBudgetMs(timeoutMs: number, marginMs: number): number {
  const margin = Math.min(Math.max(marginMs, timeoutMs * 0.1), timeoutMs * 0.5);
  return Math.max(0, Math.floor(timeoutMs - margin));
}

interface Decision extends DecisionSummary {
  readonly result: AdmissionResult;
  readonly decision: AdmissionDecision;
  /** Most significant reason code (metric label), `NONE` when there is none. */
  readonly code: string;
  readonly reasons: readonly string[];
  readonly policies: readonly string[];
  readonly images: readonly { image: string; path: string; digest?: string; allowed: boolean }[];
}

const ALLOW_NO_IMAGES: Decision = {
  result: { allowed: true },
  decision: 'allow',
  code: 'NONE',
  reasons: [],
  policies: [],
  images: [],
};

const TIMED_OUT = Symbol('timed out');
/**
 * The share of the budget the registry credentials lookup (Kubernetes API reads of pull secrets
 * and the service account) may take. When it takes longer, verification goes on anonymously with
 * the rest of the budget: public images still verify instead of the whole request timing out.
 */
const CREDENTIALS_BUDGET_SHARE = 0.5;
const AUDIT_MSG = 'admission decision';

/** Resolve with the promise, or with TIMED_OUT after `ms`; its rejection is forwarded untouched. */
function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
    const timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
    void p.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

function denialLines(v: ImageVerdict, path: string): string[] {
  const where = `image ${JSON.stringify(v.image)} (${path})`;
  if (v.reasons.length === 0) return [`${where} denied: no reason given`];
  return v.reasons.map(
    (r) =>
      `${where} denied${r.policy !== undefined ? ` by ${r.policy}` : ''}: ${r.code}: ${r.message}`,
  );
}

function toPinned(image: string, digest: string): string {
  return `${image}@${digest}`;
}

/** Combine per-image verdicts into one admission decision (every failing image is named). */
function toDecision(
  images: readonly WorkloadImage[],
  verdicts: readonly ImageVerdict[],
  pin: boolean,
): Decision {
  const lines: string[] = [];
  const warnings: string[] = [];
  const reasons: string[] = [];
  const policies = new Set<string>();
  const patch: JsonPatchOperation[] = [];
  let firstDenyCode: string | undefined;
  let firstOtherCode: string | undefined;
  let audited = false;
  const out: { image: string; path: string; digest?: string; allowed: boolean }[] = [];

  for (let i = 0; i < verdicts.length; i++) {
    const v = verdicts[i] as ImageVerdict;
    const path = v.path ?? (images[i] as WorkloadImage).path;
    out.push(
      v.digest !== undefined
        ? { image: v.image, path, digest: v.digest, allowed: v.allowed }
        : { image: v.image, path, allowed: v.allowed },
    );
    for (const p of v.policies) policies.add(p);
    for (const r of v.reasons) {
      reasons.push(r.code);
      if (!v.allowed) firstDenyCode ??= r.code;
      else firstOtherCode ??= r.code;
    }
    for (const r of v.audits) {
      reasons.push(r.code);
      firstOtherCode ??= r.code;
      audited = true;
    }
    if (!v.allowed) {
      lines.push(...denialLines(v, path));
      continue;
    }
    for (const w of v.warnings) warnings.push(`image ${JSON.stringify(v.image)} (${path}): ${w}`);
    if (pin && v.digest !== undefined && DIGEST.test(v.digest) && !v.image.includes('@')) {
      patch.push({ op: 'replace', path: toJsonPointer(path), value: toPinned(v.image, v.digest) });
    }
  }

  // Plain members, no leading `...base`: on Node 20 a literal that starts with a spread and then
  // adds properties takes a slow runtime path (~1.5 µs per property), once per request here.
  const policyIds = [...policies];
  if (lines.length > 0) {
    return {
      reasons,
      policies: policyIds,
      images: out,
      result: {
        allowed: false,
        code: 403,
        reason: 'Forbidden',
        message: lines.join('\n'),
        ...(warnings.length > 0 ? { warnings } : {}),
      },
      decision: 'deny',
      code: firstDenyCode ?? 'NONE',
    };
  }
  const result: AdmissionResult = {
    allowed: true,
    ...(warnings.length > 0 ? { warnings } : {}),
    ...(patch.length > 0 ? { patch } : {}),
  };
  const decision: AdmissionDecision = warnings.length > 0 ? 'warn' : audited ? 'audit' : 'allow';
  return {
    reasons,
    policies: policyIds,
    images: out,
    result,
    decision,
    code: firstOtherCode ?? 'NONE',
  };
}

function allKnown(verdicts: readonly (ImageVerdict | undefined)[]): verdicts is ImageVerdict[] {
  for (const v of verdicts) if (v === undefined) return false;
  return true;
}

/**
 * A denial the handler decides itself (no verdicts): one line per image, as verdict denials are
 * written, or the bare reason when there is no image to name.
 */
function denyWith(code: string, message: string, images: readonly WorkloadImage[]): Decision {
  const lines = images.map(
    (i) => `image ${JSON.stringify(i.image)} (${i.path}) denied: ${code}: ${message}`,
  );
  return {
    result: {
      allowed: false,
      code: 403,
      reason: 'Forbidden',
      message: lines.length > 0 ? lines.join('\n') : `${code}: ${message}`,
    },
    decision: 'deny',
    code,
    reasons: [code],
    policies: [],
    images: images.map((i) => ({ image: i.image, path: i.path, allowed: false })),
  };
}

/**
 * What the workload endpoints read of a review: the workload's images (workload-images.ts) and
 * the object's name for the audit line ({@link objectName}). The rest of the object, and the
 * old object of an UPDATE, is checked as JSON but never built.
 */
const WORKLOAD_REVIEW = reviewProjection(
  fields({
    ...WORKLOAD_OBJECT_READ,
    metadata: fields({ name: WHOLE, generateName: WHOLE }),
  }),
);

function objectName(req: AdmissionRequestView): string {
  if (req.name !== '') return req.name;
  const meta = req.object?.['metadata'];
  if (typeof meta === 'object' && meta !== null) {
    const m = meta as Record<string, unknown>;
    if (typeof m['name'] === 'string' && m['name'] !== '') return m['name'];
    if (typeof m['generateName'] === 'string') return m['generateName'];
  }
  return '';
}

/**
 * The admission handler: `validate` and `mutate` entry points over raw request bodies.
 * Bad input → 400 with `{code: 'BAD_REQUEST', message}`; anything thrown after a valid
 * AdmissionReview was read → a well-formed denial naming an internal error (no stack).
 */
export function createAdmissionHandler(deps: AdmissionHandlerDeps): AdmissionHandler {
  const defaultTimeoutMs = deps.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const marginMs = deps.marginMs ?? DEFAULT_MARGIN_MS;
  const { verifier, logger, metrics } = deps;
  const warmDecisions = new DecisionMemo(toDecision);

  /**
   * The decision, synchronously when every image has a memoised verdict (the warm path: no
   * deadline, timer, credentials lookup or promise chain is needed for an answer that involves
   * no I/O); otherwise a promise from {@link verifyUpstream}.
   */
  function decide(
    req: AdmissionRequestView,
    workload: WorkloadImages,
    query: URLSearchParams,
    pin: boolean,
  ): Decision | Promise<Decision> {
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return ALLOW_NO_IMAGES;
    const images = workload.images;
    if (images.length === 0) return ALLOW_NO_IMAGES;
    if (images.length > LIMITS.maxImagesPerReview) {
      return denyWith(
        'LIMIT_EXCEEDED',
        `workload has ${images.length} images; trustgate evaluates at most ${LIMITS.maxImagesPerReview}`,
        [],
      );
    }
    const memoised = verifier.memoisedVerdicts?.(images, req.namespace);
    if (memoised !== undefined && allKnown(memoised))
      return warmDecisions.get(images, memoised, pin);
    return verifyUpstream(req, workload, query, { pin, memoised });
  }

  /**
   * Registry credentials for the workload, or `undefined` (anonymous) when none are configured,
   * the lookup fails, or it takes more than its share of the budget.
   */
  async function credentialsOf(
    req: AdmissionRequestView,
    workload: WorkloadImages,
    deadline: Deadline,
    budgetMs: number,
  ): Promise<CredentialProvider | undefined> {
    if (deps.credentialsFor === undefined) return undefined;
    const shareMs = budgetMs * CREDENTIALS_BUDGET_SHARE;
    try {
      const found = await raceTimeout(
        deps.credentialsFor({
          namespace: req.namespace,
          serviceAccountName: workload.serviceAccountName,
          pullSecretNames: workload.pullSecretNames,
          deadline,
        }),
        shareMs,
      );
      if (found !== TIMED_OUT) return found;
      logger.warn('registry credentials lookup is too slow, continuing anonymously', {
        uid: req.uid,
        waitedMs: Math.round(shareMs),
      });
    } catch (err) {
      // Public images still verify without credentials; private ones end up inconclusive.
      logger.warn('registry credentials unavailable, continuing anonymously', {
        uid: req.uid,
        error: serializeError(err),
      });
    }
    return undefined;
  }

  async function verifyUpstream(
    req: AdmissionRequestView,
    workload: WorkloadImages,
    query: URLSearchParams,
    opts: { pin: boolean; memoised: readonly (ImageVerdict | undefined)[] | undefined },
  ): Promise<Decision> {
    const { pin, memoised } = opts;
    const images = workload.images;
    const timeoutMs = parseTimeoutParam(query.get('timeout')) ?? defaultTimeoutMs;
    const budgetMs = toBudgetMs(timeoutMs, marginMs);
    // Lazy: the signal (a timer) is only built if some upstream call needs it; cache hits do not.
    const deadline = createLazyDeadline(budgetMs);

    const credentials = await credentialsOf(req, workload, deadline, budgetMs);
    // The verifier gets the first chance to answer (inconclusive) on its own; this backstop, a
    // little after the deadline, still beats the apiserver.
    const verdicts = await raceTimeout(
      verifier.verifyImages(images, {
        namespace: req.namespace,
        deadline,
        ...(credentials !== undefined ? { credentials } : {}),
        ...(memoised !== undefined ? { memoised } : {}),
      }),
      remainingMs(deadline) + Math.min(BACKSTOP_GRACE_MS, (timeoutMs - budgetMs) / 2),
    );
    if (verdicts === TIMED_OUT) {
      // The verifier should have answered inconclusive itself; this backstop fails closed.
      return denyWith('TIMEOUT', 'verification did not finish before the webhook deadline', images);
    }
    if (verdicts.length !== images.length) {
      throw new Error(`verifier returned ${verdicts.length} verdicts for ${images.length} images`);
    }
    return toDecision(images, verdicts, pin);
  }

  async function handle(
    endpoint: 'validate' | 'mutate',
    body: Buffer,
    query: URLSearchParams,
  ): Promise<HttpReply> {
    const started = performance.now();
    let req: AdmissionRequestView;
    let workload: WorkloadImages;
    try {
      req = parseAdmissionReview(body, WORKLOAD_REVIEW);
      workload = toWorkloadImages(req);
    } catch (err) {
      const reqErr =
        err instanceof RequestError
          ? err
          : new RequestError('BAD_REQUEST', 'request could not be read');
      logger.warn('bad admission request', { endpoint, error: serializeError(reqErr) });
      metrics.recordAdmission('error', reqErr.code, (performance.now() - started) / 1000);
      return toErrorReply(reqErr);
    }

    let decision: Decision;
    try {
      const decided = decide(req, workload, query, endpoint === 'mutate');
      // Awaited only when there is something to wait for: a warm answer stays synchronous.
      decision = decided instanceof Promise ? await decided : decided;
    } catch (err) {
      logger.error('internal error while evaluating admission request', {
        uid: req.uid,
        error: serializeError(err),
      });
      decision = denyWith(
        'INTERNAL',
        `trustgate internal error while verifying images (request uid ${req.uid}); see the trustgate logs`,
        workload.images,
      );
    }

    const seconds = (performance.now() - started) / 1000;
    metrics.recordAdmission(decision.decision, decision.code, seconds);
    const request: AuditRequestFields = {
      endpoint,
      decidedAt: toIsoString(deps.clock.now()),
      uid: req.uid,
      operation: req.operation,
      namespace: req.namespace,
      kind: req.kind.kind,
      name: objectName(req),
      user: req.username,
      durationMs: Math.round(seconds * 1e6) / 1000,
      dryRun: req.dryRun,
    };
    const record = toAuditRecord(request, decision);
    // Every field is known and secret-free, so the audit line skips the redacting serializer.
    if (logger.audit) logger.audit(AUDIT_MSG, record, serializeAuditRecord(request, decision));
    else logger.info(AUDIT_MSG, record);
    return {
      status: 200,
      headers: JSON_HEADERS,
      body: serializeAdmissionResponse(req.uid, decision.result),
    };
  }

  return {
    validate: (body, query) => handle('validate', body, query),
    mutate: (body, query) =>
      deps.mutate === true
        ? handle('mutate', body, query)
        : Promise.resolve(
            toJsonReply(404, {
              code: 'NOT_FOUND',
              message: 'the mutating endpoint is not enabled',
            }),
          ),
  };
}

export interface PolicyAdmissionHandlerDeps {
  /** Schema + semantic validation of a TrustPolicy / ClusterTrustPolicy object (policy module). */
  readonly validatePolicyObject: (obj: unknown) => readonly FieldError[];
  readonly logger: Logger;
}

export interface PolicyAdmissionHandler {
  /** `POST /validate-policy`. Never rejects. */
  validatePolicy(body: Buffer): Promise<HttpReply>;
}

/**
 * Admission for the TrustPolicy CRs themselves: deny with one `path: message` line per
 * problem, so `kubectl apply` shows everything to fix at once (STYLE rule 8).
 */
export function createPolicyAdmissionHandler(
  deps: PolicyAdmissionHandlerDeps,
): PolicyAdmissionHandler {
  return {
    validatePolicy(body) {
      let req: AdmissionRequestView;
      try {
        req = parseAdmissionReview(body);
      } catch (err) {
        const reqErr =
          err instanceof RequestError
            ? err
            : new RequestError('BAD_REQUEST', 'request could not be read');
        return Promise.resolve(toErrorReply(reqErr));
      }
      let result: AdmissionResult = { allowed: true };
      if (req.operation === 'CREATE' || req.operation === 'UPDATE') {
        try {
          const errors = deps.validatePolicyObject(req.object);
          if (errors.length > 0) {
            result = {
              allowed: false,
              code: 403,
              reason: 'Invalid',
              message: errors.map((e) => `${e.path}: ${e.message}`).join('\n'),
            };
          }
        } catch (err) {
          deps.logger.error('internal error while validating a trust policy', {
            uid: req.uid,
            error: serializeError(err),
          });
          result = {
            allowed: false,
            code: 403,
            reason: 'Forbidden',
            message: `trustgate internal error while validating the policy (request uid ${req.uid}); see the trustgate logs`,
          };
        }
      }
      deps.logger.info('policy admission decision', {
        audit: true,
        uid: req.uid,
        operation: req.operation,
        kind: req.kind.kind,
        namespace: req.namespace,
        name: objectName(req),
        user: req.username,
        allowed: result.allowed,
        dryRun: req.dryRun,
      });
      return Promise.resolve(toJsonReply(200, toAdmissionResponse(req.uid, result)));
    },
  };
}
