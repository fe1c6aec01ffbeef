// SPDX-License-Identifier: Apache-2.0
// Evaluate one Notation envelope against a compiled trust source: run the checks in notation-go order,
// apply the verification level (as data) and bind the signed payload to the image being admitted.
//
// Error-code mapping (stable, used in denials and metrics):
//   malformed envelope, unsupported media type, bad crit/attributes, broken certificate chain,
//   algorithm mismatch, bad signature                       → SIGNATURE_INVALID   (integrity, always enforced)
//   payload targetArtifact digest ≠ the image digest          → DIGEST_MISMATCH     (not level-dependent)
//   payload targetArtifact size/mediaType ≠ the image          → SIGNATURE_INVALID   (not level-dependent)
//   no chain certificate in the ca / signingAuthority store    → ROOT_NOT_TRUSTED    (authenticity)
//   leaf subject matches no trusted identity                   → UNTRUSTED_IDENTITY  (authenticity)
//   signed `io.cncf.notary.expiry` passed                      → METADATA_EXPIRED    (expiry)
//   a chain certificate not valid now / at the authentic
//   signing time                                               → METADATA_EXPIRED    (authentic timestamp)
// Not implemented (documented gaps): revocation (OCSP/CRL), RFC 3161 timestamp countersignatures,
// verification plugins (signatures requiring one fail integrity), `override` of individual checks.

import { VerificationError, type InconclusiveError } from '../errors.js';
import type { CompiledNotationSource, NotationLevel } from '../policy/types.js';
import { toSubjectMap } from './dn.js';
import {
  certificateInfo,
  checkAuthenticity,
  checkAuthenticTimestamp,
  checkExpiry,
  checkIntegrity,
  checkTrustedIdentity,
  signerKeyId,
  subjectOf,
  toVerificationError,
  type CheckName,
  type CheckResult,
} from './checks.js';
import { parseEnvelope, type SignedEnvelope, type SigningScheme } from './envelope.js';

export type CheckAction = 'enforce' | 'log' | 'skip';

/** Check order used by notation-go `verifier.processSignature`. */
export const CHECK_ORDER: readonly CheckName[] = [
  'integrity',
  'authenticity',
  'trustedIdentity',
  'expiry',
  'authenticTimestamp',
];

/**
 * notation-go `trustpolicy.LevelStrict/LevelPermissive/LevelAudit/LevelSkip` (trustedIdentity shares
 * authenticity's action, as in notation where it is part of the authenticity step). Integrity is
 * enforced at every level except skip, where nothing is verified.
 */
export const NOTATION_LEVELS: Readonly<
  Record<NotationLevel, Readonly<Record<CheckName, CheckAction>>>
> = {
  strict: {
    integrity: 'enforce',
    authenticity: 'enforce',
    trustedIdentity: 'enforce',
    expiry: 'enforce',
    authenticTimestamp: 'enforce',
  },
  permissive: {
    integrity: 'enforce',
    authenticity: 'enforce',
    trustedIdentity: 'enforce',
    expiry: 'log',
    authenticTimestamp: 'log',
  },
  audit: {
    integrity: 'enforce',
    authenticity: 'log',
    trustedIdentity: 'log',
    expiry: 'log',
    authenticTimestamp: 'log',
  },
  skip: {
    integrity: 'skip',
    authenticity: 'skip',
    trustedIdentity: 'skip',
    expiry: 'skip',
    authenticTimestamp: 'skip',
  },
};

export interface NotationCheckOutcome extends CheckResult {
  readonly action: CheckAction;
}

/** What one signature concluded. `ok` ⇔ no enforced check failed and the payload matches the subject. */
export interface NotationSignatureOutcome {
  readonly ok: boolean;
  readonly level: NotationLevel;
  /** Checks that ran (or were skipped), in order; stops after the first enforced failure. */
  readonly checks: readonly NotationCheckOutcome[];
  /** Why the signature was rejected (first enforced failure, payload mismatch, or a fetch problem). */
  readonly error?: VerificationError | InconclusiveError;
  /** Failures of checks whose action is `log`: the signature still counts. */
  readonly logged: readonly VerificationError[];
  /** Leaf certificate subject, notation display order (`CN=…,O=…,C=…`); set once integrity passed. */
  readonly identity?: string;
  /** Leaf subject attributes for signer-role matching; absent when the subject is not matchable. */
  readonly identityAttributes?: ReadonlyMap<string, string>;
  /** sha256 (hex) of the leaf public key: distinguishes signers for thresholds. */
  readonly signerKeyId?: string;
  readonly signingScheme?: SigningScheme;
  /** `signingTime` (notary.x509, unauthenticated) or `authenticSigningTime` (signingAuthority). */
  readonly signingTime?: Date;
  readonly expiry?: Date;
  /** When this signature stops verifying by itself: the signed expiry and, for notary.x509, the chain's notAfter. */
  readonly validUntil?: Date;
  /** Digest of the signature manifest that carried the envelope (set by the evidence loader). */
  readonly signatureDigest?: string;
}

export interface NotationSubject {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
}

export interface NotationVerifyOptions {
  /** The manifest the workload will run (already resolved to a digest). */
  readonly subject: NotationSubject;
  readonly source: CompiledNotationSource;
  readonly now: Date;
}

/** A signature that failed before any check could run (e.g. malformed signature manifest, fetch error). */
export function toFailedNotationOutcome(
  error: VerificationError | InconclusiveError,
  level: NotationLevel,
  signatureDigest?: string,
): NotationSignatureOutcome {
  return {
    ok: false,
    level,
    checks: [],
    error,
    logged: [],
    ...(signatureDigest && { signatureDigest }),
  };
}

function describe(env: SignedEnvelope): Partial<NotationSignatureOutcome> {
  const leaf = env.certChain[0]!;
  const a = env.signedAttrs;
  const subject = toSubjectMap(certificateInfo(leaf).subject);
  let until = a.expiry?.getTime() ?? Number.POSITIVE_INFINITY;
  if (a.signingScheme === 'notary.x509') {
    for (const c of env.certChain) until = Math.min(until, certificateInfo(c).notAfter.getTime());
  }
  const signingTime = a.signingTime ?? a.authenticSigningTime;
  return {
    identity: subjectOf(leaf),
    ...(subject.ok && { identityAttributes: subject.map }),
    signerKeyId: signerKeyId(leaf),
    signingScheme: a.signingScheme,
    ...(signingTime && { signingTime }),
    ...(a.expiry && { expiry: a.expiry }),
    ...(Number.isFinite(until) && { validUntil: new Date(until) }),
  };
}

// A table rather than a switch: the Record type makes it exhaustive, with no unreachable default.
const RUN_CHECK: Readonly<
  Record<CheckName, (env: SignedEnvelope, opts: NotationVerifyOptions) => CheckResult>
> = {
  integrity: (env) => checkIntegrity(env),
  authenticity: (env, { source }) => checkAuthenticity(env, source.trustStore),
  trustedIdentity: (env, { source }) => checkTrustedIdentity(env, source.trustedIdentities),
  expiry: (env, { now }) => checkExpiry(env, now),
  authenticTimestamp: (env, { source, now }) =>
    checkAuthenticTimestamp(env, now, source.trustStore),
};

/**
 * Verify one envelope for `subject` under `source` (level, trust store, trusted identities) at `now`.
 * Never throws for bad evidence: failures are in the outcome (`error` carries the code, see the file header).
 * With level `skip` nothing is parsed or verified and the outcome is ok (notation `LevelSkip`).
 */
export function verifyNotationEnvelope(
  envelopeBytes: Uint8Array,
  mediaType: string,
  opts: NotationVerifyOptions,
): NotationSignatureOutcome {
  const { source, subject } = opts;
  const level = source.level;
  const actions = NOTATION_LEVELS[level];
  if (level === 'skip') {
    return {
      ok: true,
      level,
      checks: CHECK_ORDER.map((check) => ({ check, ok: true, action: 'skip' as const })),
      logged: [],
    };
  }

  let env: SignedEnvelope;
  try {
    env = parseEnvelope(envelopeBytes, mediaType);
  } catch (err) {
    // parseEnvelope throws VerificationError; the conversion is a safety net for a parser bug.
    const error = toVerificationError(err, 'malformed Notation envelope');
    return {
      ok: false,
      level,
      checks: [{ check: 'integrity', ok: false, error, action: 'enforce' }],
      error,
      logged: [],
    };
  }

  const checks: NotationCheckOutcome[] = [];
  const logged: VerificationError[] = [];
  let info: Partial<NotationSignatureOutcome> = {};
  for (const name of CHECK_ORDER) {
    const action = actions[name];
    // No check throws here: integrity (enforced at every level but skip, and first) parses every chain
    // certificate or fails; the later checks reread those cached parses.
    const result = RUN_CHECK[name](env, opts);
    checks.push({ ...result, action });
    if (name === 'integrity' && result.ok) {
      info = describe(env);
      // Target binding (notation.go Verify: content.Equal on the payload descriptor), not level-dependent.
      const mismatch = bindingError(env, subject);
      if (mismatch) return { ok: false, level, checks, error: mismatch, logged, ...info };
    }
    if (!result.ok) {
      if (action === 'enforce')
        return { ok: false, level, checks, error: result.error!, logged, ...info };
      logged.push(result.error!);
    }
  }
  return { ok: true, level, checks, logged, ...info };
}

function bindingError(
  env: SignedEnvelope,
  subject: NotationSubject,
): VerificationError | undefined {
  const t = env.payload.targetArtifact;
  if (t.digest !== subject.digest) {
    return new VerificationError(
      'DIGEST_MISMATCH',
      `the signature is for ${t.digest}, not for ${subject.digest}`,
    );
  }
  if (t.size !== subject.size || t.mediaType !== subject.mediaType) {
    return new VerificationError(
      'SIGNATURE_INVALID',
      `the signed descriptor (${t.mediaType}, ${t.size} bytes) does not match the image manifest (${subject.mediaType}, ${subject.size} bytes)`,
    );
  }
  return undefined;
}
