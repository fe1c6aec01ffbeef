// SPDX-License-Identifier: Apache-2.0
// Fetch the Notation signatures of one manifest through the OciSource port (referrers → signature
// manifest → envelope blob) and verify each with the pure core. notation.md §1–§2 (discovery, shapes).

import { createHash } from 'node:crypto';
import { InconclusiveError, VerificationError, toTrustgateError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import type { CompiledNotationSource } from '../core/policy/types.js';
import {
  toFailedNotationOutcome,
  verifyNotationEnvelope,
  type NotationSignatureOutcome,
  type NotationSubject,
} from '../core/notation/verify.js';
import type { OciDescriptor, OciSource, RegistryRequestContext } from './ports.js';

export const NOTATION_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
const OCI_EMPTY_CONFIG = 'application/vnd.oci.empty.v1+json';
const OCI_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Signatures fetched in parallel per image: bounded so one image cannot monopolise the registry. */
const FETCH_CONCURRENCY = 4;

type RepoName = { readonly registry: string; readonly repository: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function descriptorOf(v: unknown): OciDescriptor | undefined {
  if (!isRecord(v)) return undefined;
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || typeof digest !== 'string') return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
  return { mediaType, digest, size };
}

type ManifestVerdict =
  | { kind: 'ignore'; why: string }
  | { kind: 'reject'; error: VerificationError }
  | { kind: 'envelope'; layer: OciDescriptor };

/**
 * Classify a candidate signature manifest (attacker-controlled bytes).
 * notation-go `signatureReferrers` validity filter: subject = target, and either
 * (artifactType = notary signature AND config = OCI empty) or (no artifactType AND config = notary signature).
 * Anything else is not a Notation signature and is ignored. A Notation-shaped manifest without exactly
 * one layer is a broken signature (notation-go getSignatureBlobDesc) and is rejected.
 */
export function classifySignatureManifest(
  bytes: Uint8Array,
  subjectDigest: string,
): ManifestVerdict {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return { kind: 'ignore', why: 'not JSON' };
  }
  if (!isRecord(doc)) return { kind: 'ignore', why: 'not a JSON object' };
  if (doc['mediaType'] !== undefined && doc['mediaType'] !== OCI_IMAGE_MANIFEST) {
    return {
      kind: 'ignore',
      why: `media type ${JSON.stringify(doc['mediaType'])} is not an OCI image manifest`,
    };
  }
  const subject = descriptorOf(doc['subject']);
  if (!subject || subject.digest !== subjectDigest)
    return { kind: 'ignore', why: 'subject is not the image' };
  const config = descriptorOf(doc['config']);
  const artifactType = doc['artifactType'];
  const newForm =
    artifactType === NOTATION_SIGNATURE_ARTIFACT_TYPE && config?.mediaType === OCI_EMPTY_CONFIG;
  const legacyForm =
    artifactType === undefined && config?.mediaType === NOTATION_SIGNATURE_ARTIFACT_TYPE;
  if (!newForm && !legacyForm) return { kind: 'ignore', why: 'not a Notation signature manifest' };
  const layers = doc['layers'];
  if (!Array.isArray(layers) || layers.length !== 1) {
    return {
      kind: 'reject',
      error: new VerificationError(
        'SIGNATURE_INVALID',
        `Notation signature manifest must have exactly one layer, found ${Array.isArray(layers) ? layers.length : 'none'}`,
      ),
    };
  }
  const layer = descriptorOf(layers[0]);
  if (!layer) {
    return {
      kind: 'reject',
      error: new VerificationError(
        'SIGNATURE_INVALID',
        'Notation signature layer is not a valid descriptor',
      ),
    };
  }
  return { kind: 'envelope', layer };
}

/** Loads and verifies the Notation signatures of one image manifest. */
export class NotationEvidence {
  private readonly oci: OciSource;

  constructor(deps: { oci: OciSource }) {
    this.oci = deps.oci;
  }

  /**
   * Every Notation signature of `subject` (up to LIMITS.maxSignatureAttempts), each verified under `source`.
   * Problems with one signature (malformed manifest, blob fetch failure, bad envelope) become a failed
   * outcome for that signature; manifests that are not Notation signatures for this subject are ignored.
   * Level `skip` returns [] without touching the registry.
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED (listing referrers failed)
   */
  async load(
    source: CompiledNotationSource,
    name: RepoName,
    subject: NotationSubject,
    ctx: RegistryRequestContext & { readonly now: Date },
  ): Promise<NotationSignatureOutcome[]> {
    if (source.level === 'skip') return [];
    const listed = await this.oci.listReferrers(
      name,
      subject.digest,
      NOTATION_SIGNATURE_ARTIFACT_TYPE,
      ctx,
    );
    // Registries may ignore the filter (OCI-Filters-Applied absent): filter client-side too.
    const candidates = listed
      .filter(
        (d) => d.artifactType === undefined || d.artifactType === NOTATION_SIGNATURE_ARTIFACT_TYPE,
      )
      .filter((d, i, all) => all.findIndex((x) => x.digest === d.digest) === i)
      .slice(0, LIMITS.maxSignatureAttempts);

    const results = new Array<NotationSignatureOutcome | undefined>(candidates.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      // Bounded: each iteration consumes one candidate.
      while (next < candidates.length) {
        const i = next++;
        results[i] = await this.loadOne({ source, name, subject }, candidates[i]!, ctx);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(FETCH_CONCURRENCY, candidates.length) }, worker),
    );
    return results.filter((r): r is NotationSignatureOutcome => r !== undefined);
  }

  private async loadOne(
    job: {
      readonly source: CompiledNotationSource;
      readonly name: RepoName;
      readonly subject: NotationSubject;
    },
    candidate: OciDescriptor,
    ctx: RegistryRequestContext & { readonly now: Date },
  ): Promise<NotationSignatureOutcome | undefined> {
    const { source, name, subject } = job;
    const failed = (err: unknown): NotationSignatureOutcome => {
      const e = toTrustgateError(err);
      const error =
        e instanceof VerificationError || e instanceof InconclusiveError
          ? e
          : new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', e.message, { cause: e });
      return toFailedNotationOutcome(error, source.level, candidate.digest);
    };
    try {
      if (candidate.size > LIMITS.maxManifestBytes) {
        return failed(
          new VerificationError(
            'SIGNATURE_INVALID',
            `signature manifest ${candidate.digest} is ${candidate.size} bytes, more than the ${LIMITS.maxManifestBytes}-byte limit`,
          ),
        );
      }
      const manifest = await this.oci.fetchManifest(name, candidate.digest, ctx);
      const verdict = classifySignatureManifest(manifest.bytes, subject.digest);
      if (verdict.kind === 'ignore') return undefined;
      if (verdict.kind === 'reject') return failed(verdict.error);
      const layer = verdict.layer;
      if (layer.size > LIMITS.maxEnvelopeBytes) {
        return failed(
          new VerificationError(
            'SIGNATURE_INVALID',
            `signature envelope ${layer.digest} is ${layer.size} bytes, more than the ${LIMITS.maxEnvelopeBytes}-byte limit`,
          ),
        );
      }
      const blob = await this.oci.fetchBlob(name, layer, LIMITS.maxEnvelopeBytes, ctx);
      // The port does not promise a digest check on blobs: the envelope must be the bytes the manifest names.
      const actual = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
      if (
        !layer.digest.startsWith('sha256:') ||
        actual !== layer.digest ||
        blob.length !== layer.size
      ) {
        return failed(
          new VerificationError(
            'DIGEST_MISMATCH',
            `signature envelope blob does not match its descriptor ${layer.digest} (${layer.size} bytes)`,
          ),
        );
      }
      const outcome = verifyNotationEnvelope(blob, layer.mediaType, {
        subject,
        source,
        now: ctx.now,
      });
      return { ...outcome, signatureDigest: candidate.digest };
    } catch (err) {
      return failed(err);
    }
  }
}
