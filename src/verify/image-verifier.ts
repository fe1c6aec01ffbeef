// SPDX-License-Identifier: Apache-2.0
// The application service: for each image, select policies, gather evidence from every
// trust source (through ports, under the request deadline, cached), and let the pure core decide.

import { InconclusiveError, VerificationError, toTrustgateError, type TrustgateError } from '../core/errors.js';
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
import { parseImageReference, toCanonicalReference, type ImageReference } from '../core/reference.js';
import type { ImageVerdict, SourceOutcome } from '../core/result.js';
import type {
  Clock,
  Deadline,
  ImageVerifier,
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

/** One image under one matched policy: what every per-source step needs. */
interface PolicyJob {
  readonly policy: CompiledPolicy;
  readonly ref: ImageReference;
  readonly ctx: VerifyContext;
  /** `ctx.at`, or the clock when the image's verification started. */
  readonly now: Date;
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
function ttlFor(outcome: SourceOutcome, now: Date, maxTtlMs: number, negativeTtlMs: number): number {
  if (outcome.ok) return Math.max(0, Math.min(maxTtlMs, outcome.validUntil.getTime() - now.getTime()));
  return outcome.definite ? negativeTtlMs : 0;
}

export class DefaultImageVerifier implements ImageVerifier {
  constructor(private readonly opts: ImageVerifierOptions) {}

  async verifyImages(images: readonly WorkloadImage[], ctx: VerifyContext): Promise<readonly ImageVerdict[]> {
    // Images are independent: verify them concurrently under the one deadline.
    return Promise.all(images.map((img) => this.verifyImage(img, ctx)));
  }

  private async verifyImage(img: WorkloadImage, ctx: VerifyContext): Promise<ImageVerdict> {
    const now = ctx.at ?? this.opts.clock.now();
    const base = { noMatchAction: this.opts.settings.noMatchAction, failureAction: this.opts.settings.failureAction, now };
    let ref: ImageReference;
    try {
      ref = parseImageReference(img.image);
    } catch (err) {
      const e = toTrustgateError(err);
      return {
        image: img.image,
        path: img.path,
        allowed: false,
        reasons: [{ code: e.code as never, message: e.message }],
        warnings: [],
        audits: [],
        inconclusive: false,
        policies: [],
      };
    }
    const ns = ctx.namespace ? this.opts.namespaces?.get(ctx.namespace) ?? { name: ctx.namespace, labels: {} } : undefined;
    const policies = selectPolicies(this.opts.policies.current(), ref, ns);
    const matched = await Promise.all(
      policies.map(async (policy) => ({
        policy,
        outcomes: policy.requireSignatures
          ? await Promise.all(policy.sources.map((s) => this.sourceOutcome(s, { policy, ref, ctx, now })))
          : [],
      })),
    );
    return evaluateImage({ image: img.image, path: img.path, matched, ...base });
  }

  private async sourceOutcome(source: CompiledTrustSource, job: PolicyJob): Promise<SourceOutcome> {
    const { policy, ref, ctx } = job;
    const outcome = await this.signedOutcome(source, job);
    if (!outcome.ok || !this.opts.settings.verifyRegistryDigest || ref.digest !== undefined || ref.tag === undefined) {
      // A digest reference is pulled by digest: what was verified is what runs.
      return outcome;
    }
    // Outside the outcome cache on purpose: a tag can be re-pushed at any time, so the served
    // digest is only trusted for the (short) tag TTL, never for a signed outcome's longer TTL.
    try {
      return await this.crossCheckTag(outcome, policy, ref, ctx);
    } catch (err) {
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
    const key = [source.kind, source.name, source.materialHash, policy.id, policy.generation, toCanonicalReference(ref), ctx.at?.toISOString() ?? ''].join(SEP);
    const { maxTtlMs, negativeTtlMs } = this.opts.settings;
    return this.opts.outcomeCache.getOrLoad(key, async () => {
      const value = await this.computeOutcome(source, job);
      this.opts.events?.verification?.(source.kind, value.ok ? 'pass' : value.definite ? 'fail' : 'inconclusive');
      return { value, ttlMs: ttlFor(value, now, maxTtlMs, negativeTtlMs) };
    });
  }

  private async computeOutcome(source: CompiledTrustSource, job: PolicyJob): Promise<SourceOutcome> {
    const { policy } = job;
    try {
      return source.kind === 'notaryV1'
        ? await this.notaryOutcome(source, job)
        : await this.notationOutcome(source, job);
    } catch (err) {
      return failed(source.name, toTrustgateError(err), policy);
    }
  }

  private async notaryOutcome(source: CompiledNotaryV1Source, job: PolicyJob): Promise<SourceOutcome> {
    const { policy, ref, ctx, now } = job;
    const started = performance.now();
    const repo = await this.opts.notary.load(source, ref.name, { deadline: ctx.deadline, now });
    this.opts.events?.upstream?.('notary', (performance.now() - started) / 1000);
    return checkNotaryPolicy(repo, ref, policy, source.name, now);
  }

  private async notationOutcome(source: CompiledNotationSource, job: PolicyJob): Promise<SourceOutcome> {
    const { policy, ref, ctx, now } = job;
    const { notation, oci } = this.opts;
    if (!notation || !oci) {
      throw new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', `Notation source ${source.name} needs registry access, which is disabled`);
    }
    const rctx = this.registryContext(ctx);
    const name = { registry: ref.registry, repository: ref.repository };
    // Notation signs a manifest digest: resolve the tag first when there is no digest.
    const subject = ref.digest !== undefined
      ? (await oci.fetchManifest(name, ref.digest, rctx)).descriptor
      : await this.servedDescriptor(ref, ctx);
    if (subject === null) {
      throw new VerificationError('NO_TRUST_DATA', `registry ${ref.registry} serves no manifest for ${ref.original}`);
    }
    const outcomes = await notation.load(source, name, subject, { ...rctx, now });
    return checkNotationPolicy(outcomes, { digest: subject.digest }, policy, source.name, now);
  }

  /** SPEC §3.3: the digest the registry serves for the tag must be the signed one. */
  private async crossCheckTag(
    outcome: Extract<SourceOutcome, { ok: true }>,
    policy: CompiledPolicy,
    ref: ImageReference,
    ctx: VerifyContext,
  ): Promise<SourceOutcome> {
    if (!this.opts.oci) return outcome;
    const served = await this.servedDescriptor(ref, ctx);
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
  private servedDescriptor(ref: ImageReference, ctx: VerifyContext): Promise<OciDescriptor | null> {
    const oci = this.opts.oci!;
    const key = [ref.registry, ref.repository, ref.tag ?? ''].join(SEP);
    return this.opts.tagCache.getOrLoad(key, async () => {
      const started = performance.now();
      const value = await oci.resolveTag({ registry: ref.registry, repository: ref.repository }, ref.tag ?? 'latest', this.registryContext(ctx));
      this.opts.events?.upstream?.('registry', (performance.now() - started) / 1000);
      return { value, ttlMs: this.opts.settings.tagTtlMs };
    });
  }

  private registryContext(ctx: VerifyContext): RegistryRequestContext {
    return { deadline: ctx.deadline, ...(ctx.credentials ? { credentials: ctx.credentials } : {}) };
  }
}
