// SPDX-License-Identifier: Apache-2.0
// The application service: for each image, select policies, gather evidence from every
// trust source (through ports, under the request deadline, cached), and let the pure core decide.

import {
  InconclusiveError,
  VerificationError,
  toTrustgateError,
  type TrustgateError,
} from '../core/errors.js';
import { checkNotaryPolicy } from '../core/notary/rules.js';
import type { VerifiedRepository } from '../core/notary/types.js';
import { checkNotationPolicy } from '../core/notation/rules.js';
import type { NotationSignatureOutcome } from '../core/notation/verify.js';
import { evaluateImage } from '../core/policy/evaluate.js';
import { selectPolicies } from '../core/policy/match.js';
import type {
  CompiledNotaryV1Source,
  CompiledNotationSource,
  CompiledPolicy,
  CompiledTrustSource,
} from '../core/policy/types.js';
import {
  parseImageReference,
  toCanonicalReference,
  type ImageReference,
} from '../core/reference.js';
import type { ImageVerdict, SourceOutcome } from '../core/result.js';
import type {
  Clock,
  Deadline,
  ImageVerifier,
  NamespaceInfo,
  NamespaceSource,
  OciDescriptor,
  OciSource,
  PolicySource,
  RegistryRequestContext,
  VerifyContext,
  WorkloadImage,
} from './ports.js';

/** Verified Notary v1 trust data for a repository (implemented by NotaryEvidence). */
export interface NotaryTrustData {
  load(
    source: CompiledNotaryV1Source,
    gun: string,
    ctx: { deadline: Deadline; now: Date },
  ): Promise<VerifiedRepository>;
}

/** Verified Notation signatures of a manifest (implemented by NotationEvidence). */
export interface NotationSignatures {
  load(
    source: CompiledNotationSource,
    name: { registry: string; repository: string },
    subject: { digest: string; size: number; mediaType: string },
    ctx: RegistryRequestContext & { now: Date },
  ): Promise<NotationSignatureOutcome[]>;
}

/** The cache the verifier needs: single-flight loads with a per-entry TTL. */
export interface OutcomeCache<V> {
  getOrLoad(key: string, loader: () => Promise<{ value: V; ttlMs: number }>): Promise<V>;
  /** Drop every entry whose key satisfies `pred`; returns how many. */
  deleteWhere(pred: (key: string) => boolean): number;
  /**
   * Epoch ms at which the live entry for `key` expires, provided it still holds exactly `value`;
   * otherwise `undefined`. Optional: without it the verdict memo is not used.
   */
  expiryOf?(key: string, value: V): number | undefined;
}

/** A memoised warm verdict and what it was computed against (see {@link VerdictMemo}). */
export interface MemoisedVerdict {
  readonly verdict: ImageVerdict;
  /** The `policies.current()` snapshot (compared by reference). */
  readonly policies: readonly CompiledPolicy[];
  /** The namespace labels object from `namespaces.get()` (compared by reference). */
  readonly namespace: NamespaceInfo | undefined;
  /**
   * The verdict as seen at other field paths (a Deployment's template, then its Pods), made once
   * per path so that a hit is the same object every time (the admission decision memo compares
   * verdicts by identity). Bounded by the paths one image is written at.
   */
  atPaths?: Map<string, ImageVerdict>;
}

/** Field paths remembered per memoised verdict; more are answered with a fresh copy. */
const MAX_PATHS_PER_VERDICT = 16;

/**
 * Bounded store of whole image verdicts built only from cached evidence (e.g. a `TtlCache`):
 * a warm request skips policy selection, cache look-ups and evaluation entirely.
 */
export interface VerdictMemo {
  get(key: string): MemoisedVerdict | undefined;
  /** Keep `value` for `ttlMs` ms; a non-positive TTL stores nothing. */
  set(key: string, value: MemoisedVerdict, ttlMs: number): void;
  /** Drop every entry for which `pred` is true; returns how many. */
  deleteWhere(pred: (key: string, value: MemoisedVerdict) => boolean): number;
}

export interface VerifierEvents {
  /** One source evaluated (not from cache). */
  verification?(source: 'notaryV1' | 'notation', result: 'pass' | 'fail' | 'inconclusive'): void;
  /** Upstream call latency. */
  upstream?(kind: 'notary' | 'registry', seconds: number): void;
}

export interface ImageVerifierOptions {
  readonly policies: PolicySource;
  readonly namespaces?: NamespaceSource;
  readonly notary: NotaryTrustData;
  readonly notation?: NotationSignatures;
  /** Registry access: digest cross-check and Notation discovery. Absent = no registry calls. */
  readonly oci?: OciSource;
  readonly clock: Clock;
  readonly outcomeCache: OutcomeCache<SourceOutcome>;
  readonly tagCache: OutcomeCache<OciDescriptor | null>;
  /**
   * Per-image warm-verdict memo. Entries never outlive the outcome/tag cache entries (nor a
   * Notary v1 cut-over instant) they were built from, and are ignored once the policy snapshot
   * or the namespace's labels object changes. Absent = no memo.
   */
  readonly verdictMemo?: VerdictMemo;
  readonly settings: {
    readonly noMatchAction: 'deny' | 'allow';
    readonly failureAction: 'deny' | 'allow';
    readonly verifyRegistryDigest: boolean;
    readonly maxTtlMs: number;
    readonly negativeTtlMs: number;
    readonly tagTtlMs: number;
  };
  readonly events?: VerifierEvents;
}

// The key parts are joined with a separator that cannot occur in any of them.
const SEP = '\u0000';

/** Everything that can change a trust source's outcome for a reference: the outcome cache key. */
export interface OutcomeKeyParts {
  readonly policy: Pick<CompiledPolicy, 'id' | 'generation'>;
  readonly source: Pick<CompiledTrustSource, 'kind' | 'name' | 'materialHash'>;
  /** `toCanonicalReference(ref)`. */
  readonly reference: string;
  /** The evaluation instant (`--at`); `undefined` = now. */
  readonly at: Date | undefined;
}

/**
 * The outcome cache key (built on every look-up, no hashing). The policy id comes first and
 * contains no NUL (`Kind/[namespace/]name`, DNS-1123 names), so whatever the other parts hold, a
 * key belongs to exactly one policy and {@link isOutcomeKeyOf} is a prefix test. The generation
 * and the material hash make an edited policy or rotated trust material a different key even
 * before the old entries are dropped. `join`, not `+`: `+` builds a rope of cons strings that a
 * stored key keeps beside its flattened copy (10,000 cached verdicts: +25.8 MB RSS, not +18.2).
 */
export function outcomeKey(p: OutcomeKeyParts): string {
  return [
    p.policy.id,
    p.policy.generation,
    p.source.kind,
    p.source.name,
    p.source.materialHash,
    p.reference,
    p.at?.toISOString() ?? '',
  ].join(SEP);
}

/** Whether `key` (an {@link outcomeKey}) is an outcome of policy `policyId`. */
export function isOutcomeKeyOf(key: string, policyId: string): boolean {
  return key.charCodeAt(policyId.length) === 0 && key.startsWith(policyId);
}

/** One image under one matched policy: what every per-source step needs. */
interface PolicyJob {
  readonly policy: CompiledPolicy;
  readonly ref: ImageReference;
  readonly ctx: VerifyContext;
  /** `ctx.at`, or the clock when the image's verification started. */
  readonly now: Date;
  /** Collects the cache entries the verdict is built from (only when it may be memoised). */
  readonly used: UsedEntries | undefined;
}

/** The cache entries one image verdict was built from; `tainted` = something was not cached. */
interface UsedEntries {
  tainted: boolean;
  readonly entries: { cache: OutcomeCache<unknown>; key: string; value: unknown }[];
}

function failed(source: string, err: TrustgateError, policy: CompiledPolicy): SourceOutcome {
  return {
    ok: false,
    source,
    definite: !(err instanceof InconclusiveError),
    reason: { code: err.code as never, message: err.message, policy: policy.id, source },
  };
}

/** How long an outcome may be reused: until the evidence expires, bounded; failures briefly; never for inconclusive. */
function ttlFor(
  outcome: SourceOutcome,
  now: Date,
  maxTtlMs: number,
  negativeTtlMs: number,
): number {
  if (outcome.ok)
    return Math.max(0, Math.min(maxTtlMs, outcome.validUntil.getTime() - now.getTime()));
  return outcome.definite ? negativeTtlMs : 0;
}

/** Record which cache entry a verdict depends on; a rejected load taints the verdict. */
function track<V>(
  used: UsedEntries,
  cache: OutcomeCache<V>,
  key: string,
  loaded: Promise<V>,
): Promise<V> {
  return loaded.then(
    (value) => {
      used.entries.push({ cache, key, value });
      return value;
    },
    (err: unknown) => {
      used.tainted = true;
      throw err;
    },
  );
}

/** A tag cache lookup in flight: its key (for memo expiry bookkeeping) and its result. */
interface TagLookup {
  readonly key: string;
  readonly loaded: Promise<OciDescriptor | null>;
}

/** What a memoised verdict must have been built against to be reused. */
interface MemoScope {
  readonly namespace: string;
  readonly snapshot: readonly CompiledPolicy[];
  readonly nsInfo: NamespaceInfo | undefined;
}

/** The memoised verdict of `img` when it was built against this scope's snapshot and labels. */
function memoHit(
  memo: VerdictMemo,
  img: WorkloadImage,
  scope: MemoScope,
): ImageVerdict | undefined {
  const hit = memo.get(img.image + SEP + scope.namespace);
  if (hit === undefined || hit.policies !== scope.snapshot || hit.namespace !== scope.nsInfo) {
    return undefined;
  }
  // The same image may sit at another field path in this request.
  if (hit.verdict.path === img.path) return hit.verdict;
  const paths = (hit.atPaths ??= new Map<string, ImageVerdict>());
  let atPath = paths.get(img.path);
  if (atPath === undefined) {
    atPath = { ...hit.verdict, path: img.path };
    if (paths.size < MAX_PATHS_PER_VERDICT) paths.set(img.path, atPath);
  }
  return atPath;
}

export class DefaultImageVerifier implements ImageVerifier {
  constructor(private readonly opts: ImageVerifierOptions) {}

  async verifyImages(
    images: readonly WorkloadImage[],
    ctx: VerifyContext,
  ): Promise<readonly ImageVerdict[]> {
    // Images are independent: verify them concurrently under the one deadline.
    return Promise.all(images.map((img, i) => this.verifyImage(img, ctx, ctx.memoised?.[i])));
  }

  memoisedVerdicts(
    images: readonly WorkloadImage[],
    namespace: string,
  ): readonly (ImageVerdict | undefined)[] {
    const memo = this.opts.verdictMemo;
    if (memo === undefined) return images.map(() => undefined);
    const scope: MemoScope = {
      namespace,
      snapshot: this.opts.policies.current(),
      nsInfo: namespace ? this.opts.namespaces?.get(namespace) : undefined,
    };
    const out: (ImageVerdict | undefined)[] = [];
    for (const img of images) out.push(memoHit(memo, img, scope));
    return out;
  }

  /**
   * Forget what is cached on behalf of policy `id` (it changed or left the set): its source
   * outcomes, the memoised verdicts it applied to, and every memoised verdict built under an
   * older policy set (a memo hit requires the current set, so those can never be used again).
   * Other policies' outcomes stay: their next verdicts are rebuilt without upstream calls.
   * @returns how many outcome entries were dropped
   */
  forgetPolicy(id: string): number {
    const current = this.opts.policies.current();
    this.opts.verdictMemo?.deleteWhere(
      (_key, memoised) => memoised.policies !== current || memoised.verdict.policies.includes(id),
    );
    return this.opts.outcomeCache.deleteWhere((key) => isOutcomeKeyOf(key, id));
  }

  /** `known`: the verdict `memoisedVerdicts` found for this image in this request, if any. */
  private async verifyImage(
    img: WorkloadImage,
    ctx: VerifyContext,
    known: ImageVerdict | undefined,
  ): Promise<ImageVerdict> {
    if (known !== undefined) return known;
    const memo = ctx.at === undefined ? this.opts.verdictMemo : undefined;
    // Read before the memo check so a hit is validated against exactly what a miss would use.
    const snapshot = this.opts.policies.current();
    const nsInfo = ctx.namespace ? this.opts.namespaces?.get(ctx.namespace) : undefined;
    if (memo === undefined) {
      return (await this.computeVerdict(img, ctx, { snapshot, nsInfo }, undefined)).verdict;
    }
    const key = img.image + SEP + ctx.namespace;
    // Already looked up (and missed) by memoisedVerdicts for this request: do not count it twice.
    if (ctx.memoised === undefined) {
      const hit = memoHit(memo, img, { namespace: ctx.namespace, snapshot, nsInfo });
      if (hit !== undefined) return hit;
    }
    const used: UsedEntries = { tainted: false, entries: [] };
    const { verdict, policies, now } = await this.computeVerdict(
      img,
      ctx,
      { snapshot, nsInfo },
      used,
    );
    const expiresAt = this.memoExpiry(verdict, policies, used, now);
    if (expiresAt !== undefined) {
      memo.set(
        key,
        { verdict, policies: snapshot, namespace: nsInfo },
        expiresAt - this.opts.clock.now().getTime(),
      );
    }
    return verdict;
  }

  /** Select policies, gather (cached) evidence and evaluate; `policies` are the matched ones. */
  private async computeVerdict(
    img: WorkloadImage,
    ctx: VerifyContext,
    scope: { snapshot: readonly CompiledPolicy[]; nsInfo: NamespaceInfo | undefined },
    used: UsedEntries | undefined,
  ): Promise<{ verdict: ImageVerdict; policies: readonly CompiledPolicy[]; now: Date }> {
    const now = ctx.at ?? this.opts.clock.now();
    const base = {
      noMatchAction: this.opts.settings.noMatchAction,
      failureAction: this.opts.settings.failureAction,
      now,
    };
    let ref: ImageReference;
    try {
      ref = parseImageReference(img.image);
    } catch (err) {
      const e = toTrustgateError(err);
      const verdict: ImageVerdict = {
        image: img.image,
        path: img.path,
        allowed: false,
        reasons: [{ code: e.code as never, message: e.message }],
        warnings: [],
        audits: [],
        inconclusive: false,
        policies: [],
      };
      return { verdict, policies: [], now };
    }
    const ns = ctx.namespace ? (scope.nsInfo ?? { name: ctx.namespace, labels: {} }) : undefined;
    const policies = selectPolicies(scope.snapshot, ref, ns);
    const matched = await Promise.all(
      policies.map(async (policy) => ({
        policy,
        outcomes: policy.requireSignatures
          ? await Promise.all(
              policy.sources.map((s) => this.sourceOutcome(s, { policy, ref, ctx, now, used })),
            )
          : [],
      })),
    );
    const verdict = evaluateImage({ image: img.image, path: img.path, matched, ...base });
    return { verdict, policies, now };
  }

  /**
   * Until when `verdict` may be reused: the earliest expiry of the cache entries it was built
   * from, of a pending Notary v1 cut-over, and `maxTtlMs`. `undefined` = do not memoise
   * (inconclusive, or some evidence was not cached or has since been replaced).
   */
  private memoExpiry(
    verdict: ImageVerdict,
    policies: readonly CompiledPolicy[],
    used: UsedEntries,
    now: Date,
  ): number | undefined {
    if (verdict.inconclusive || used.tainted) return undefined;
    let expiresAt = now.getTime() + this.opts.settings.maxTtlMs;
    for (const p of policies) {
      // After the cut-over the same evidence evaluates differently (core/policy/evaluate.ts).
      const until = p.notaryV1Until?.getTime();
      if (until !== undefined && until > now.getTime()) expiresAt = Math.min(expiresAt, until);
    }
    for (const { cache, key, value } of used.entries) {
      const entryExpiry = cache.expiryOf?.(key, value);
      if (entryExpiry === undefined) return undefined;
      expiresAt = Math.min(expiresAt, entryExpiry);
    }
    return expiresAt;
  }

  private async sourceOutcome(source: CompiledTrustSource, job: PolicyJob): Promise<SourceOutcome> {
    const { policy, ref } = job;
    // A digest reference is pulled by digest: what was verified is what runs. For a tag, the
    // registry's answer does not depend on the signatures, so it is asked for while the trust
    // source is consulted (the two round trips overlap on the cold path); it is used only when
    // the signatures pass, and a failure of this lookup alone never decides anything.
    const tag =
      this.opts.settings.verifyRegistryDigest &&
      this.opts.oci !== undefined &&
      ref.digest === undefined &&
      ref.tag !== undefined
        ? this.lookupTag(ref, job.ctx)
        : undefined;
    tag?.loaded.catch(() => undefined);
    const outcome = await this.signedOutcome(source, job);
    if (!outcome.ok || tag === undefined) return outcome;
    // Outside the outcome cache on purpose: a tag can be re-pushed at any time, so the served
    // digest is only trusted for the (short) tag TTL, never for a signed outcome's longer TTL.
    try {
      return await this.crossCheckTag(outcome, job, tag);
    } catch (err) {
      if (job.used) job.used.tainted = true;
      return failed(source.name, toTrustgateError(err), policy);
    }
  }

  /** What the trust source says about the reference (signatures and policy rules), cached. */
  private signedOutcome(source: CompiledTrustSource, job: PolicyJob): Promise<SourceOutcome> {
    const { policy, ref, ctx, now } = job;
    // Migration mode: after the cut-over, Notary v1 evidence is not even fetched.
    if (source.kind === 'notaryV1' && policy.notaryV1Until && now >= policy.notaryV1Until) {
      return Promise.resolve(
        failed(
          source.name,
          new VerificationError(
            'NO_TRUST_DATA',
            `Notary v1 signatures are no longer accepted by ${policy.id} since ${policy.notaryV1Until.toISOString()}; sign ${ref.name} with Notation`,
          ),
          policy,
        ),
      );
    }
    const key = outcomeKey({ policy, source, reference: toCanonicalReference(ref), at: ctx.at });
    const { maxTtlMs, negativeTtlMs } = this.opts.settings;
    const cache = this.opts.outcomeCache;
    const loaded = cache.getOrLoad(key, async () => {
      const value = await this.computeOutcome(source, job);
      this.opts.events?.verification?.(
        source.kind,
        value.ok ? 'pass' : value.definite ? 'fail' : 'inconclusive',
      );
      return { value, ttlMs: ttlFor(value, now, maxTtlMs, negativeTtlMs) };
    });
    return job.used ? track(job.used, cache, key, loaded) : loaded;
  }

  private async computeOutcome(
    source: CompiledTrustSource,
    job: PolicyJob,
  ): Promise<SourceOutcome> {
    const { policy } = job;
    try {
      return source.kind === 'notaryV1'
        ? await this.notaryOutcome(source, job)
        : await this.notationOutcome(source, job);
    } catch (err) {
      return failed(source.name, toTrustgateError(err), policy);
    }
  }

  private async notaryOutcome(
    source: CompiledNotaryV1Source,
    job: PolicyJob,
  ): Promise<SourceOutcome> {
    const { policy, ref, ctx, now } = job;
    const started = performance.now();
    const repo = await this.opts.notary.load(source, ref.name, { deadline: ctx.deadline, now });
    this.opts.events?.upstream?.('notary', (performance.now() - started) / 1000);
    return checkNotaryPolicy({ repo, ref, policy, source: source.name, now });
  }

  private async notationOutcome(
    source: CompiledNotationSource,
    job: PolicyJob,
  ): Promise<SourceOutcome> {
    const { policy, ref, ctx, now } = job;
    const { notation, oci } = this.opts;
    if (!notation || !oci) {
      throw new InconclusiveError(
        'TRUST_SOURCE_UNAVAILABLE',
        `Notation source ${source.name} needs registry access, which is disabled`,
      );
    }
    const rctx = this.registryContext(ctx);
    const name = { registry: ref.registry, repository: ref.repository };
    // Notation signs a manifest digest: resolve the tag first when there is no digest.
    const subject =
      ref.digest !== undefined
        ? (await oci.fetchManifest(name, ref.digest, rctx)).descriptor
        : await this.servedDescriptor(ref, ctx, job.used);
    if (subject === null) {
      throw new VerificationError(
        'NO_TRUST_DATA',
        `registry ${ref.registry} serves no manifest for ${ref.original}`,
      );
    }
    const outcomes = await notation.load(source, name, subject, { ...rctx, now });
    return checkNotationPolicy({
      outcomes,
      ref: { digest: subject.digest },
      policy,
      source: source.name,
      now,
    });
  }

  /** SPEC §3.3: the digest the registry serves for the tag must be the signed one. */
  private async crossCheckTag(
    outcome: Extract<SourceOutcome, { ok: true }>,
    job: PolicyJob,
    tag: TagLookup,
  ): Promise<SourceOutcome> {
    const { policy, ref } = job;
    const served = await this.tracked(tag, job.used);
    if (served === null) {
      return failed(
        outcome.source,
        new VerificationError(
          'DIGEST_MISMATCH',
          `registry ${ref.registry} serves no manifest for ${ref.name}:${ref.tag}, but ${outcome.digest} is signed for it`,
        ),
        policy,
      );
    }
    if (served.digest !== outcome.digest) {
      return failed(
        outcome.source,
        new VerificationError(
          'DIGEST_MISMATCH',
          `registry serves ${served.digest} for ${ref.name}:${ref.tag}, but the signed digest is ${outcome.digest}`,
        ),
        policy,
      );
    }
    return outcome;
  }

  /** Tag → served descriptor, cached briefly and shared by every policy and source. */
  private servedDescriptor(
    ref: ImageReference,
    ctx: VerifyContext,
    used: UsedEntries | undefined,
  ): Promise<OciDescriptor | null> {
    return this.tracked(this.lookupTag(ref, ctx), used);
  }

  /** A tag lookup's result, recorded in `used` (memo expiry bookkeeping) when given. */
  private tracked(tag: TagLookup, used: UsedEntries | undefined): Promise<OciDescriptor | null> {
    return used ? track(used, this.opts.tagCache, tag.key, tag.loaded) : tag.loaded;
  }

  /** The tag cache lookup (single-flight) of `ref`'s tag, with its cache key. */
  private lookupTag(ref: ImageReference, ctx: VerifyContext): TagLookup {
    const oci = this.opts.oci!;
    const key = [ref.registry, ref.repository, ref.tag ?? ''].join(SEP);
    const loaded = this.opts.tagCache.getOrLoad(key, async () => {
      const started = performance.now();
      const value = await oci.resolveTag(
        { registry: ref.registry, repository: ref.repository },
        ref.tag ?? 'latest',
        this.registryContext(ctx),
      );
      this.opts.events?.upstream?.('registry', (performance.now() - started) / 1000);
      return { value, ttlMs: this.opts.settings.tagTtlMs };
    });
    return { key, loaded };
  }

  private registryContext(ctx: VerifyContext): RegistryRequestContext {
    return { deadline: ctx.deadline, ...(ctx.credentials ? { credentials: ctx.credentials } : {}) };
  }
}
