// SPDX-License-Identifier: Apache-2.0
// Typed errors: a class that tells the admission decision what kind of failure
// this is, and a stable SCREAMING_SNAKE code used in denial text, logs and metrics.

/** Evidence is bad: always deny. */
export type VerificationCode =
  | 'INVALID_IMAGE_REFERENCE'
  | 'NO_TRUST_DATA'
  | 'TAG_NOT_SIGNED'
  | 'DIGEST_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'ROOT_NOT_TRUSTED'
  | 'THRESHOLD_NOT_MET'
  | 'REQUIRED_SIGNER_MISSING'
  | 'PATH_NOT_ALLOWED'
  | 'METADATA_EXPIRED'
  | 'METADATA_INVALID'
  | 'SIGNATURE_TOO_OLD'
  | 'ROLLBACK_DETECTED'
  | 'UNTRUSTED_IDENTITY';

/** No policy says the image may run: deny, or per `noMatchAction`. */
export type PolicyCode = 'NO_MATCHING_POLICY';

/** Could not decide (network, deadline, caps): follows `failureAction`. */
export type InconclusiveCode = 'TRUST_SOURCE_UNAVAILABLE' | 'TIMEOUT' | 'LIMIT_EXCEEDED';

/** Invalid configuration or policy: reported to the user or CR status, never to admission. */
export type ConfigCode = 'INVALID_POLICY' | 'INVALID_CONFIG' | 'USAGE';

/** Malformed admission request (HTTP 4xx at the edge). */
export type RequestCode = 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' | 'UNSUPPORTED_MEDIA_TYPE';

/** Not a failure: an allowed decision that must still be logged (a `requireSignatures: false` exception). */
export type NoticeCode = 'SIGNATURES_NOT_REQUIRED';

/** Every code that can appear in an admission reason. */
export type ReasonCode = VerificationCode | PolicyCode | InconclusiveCode | NoticeCode;
export type ErrorCode = ReasonCode | ConfigCode | RequestCode;

export class TrustgateError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class VerificationError extends TrustgateError<VerificationCode> {}
export class PolicyError extends TrustgateError<PolicyCode> {}
export class InconclusiveError extends TrustgateError<InconclusiveCode> {}
export class RequestError extends TrustgateError<RequestCode> {}

/** One problem in a policy or config document, with the field path that holds it. */
export interface FieldError {
  /** e.g. `spec.trustSources[0].notaryV1.rootKeys[1]` */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the source file, when known. */
  readonly line?: number;
  readonly file?: string;
}

export class ConfigError extends TrustgateError<ConfigCode> {
  readonly fieldErrors: readonly FieldError[];
  constructor(
    code: ConfigCode,
    message: string,
    options?: { cause?: unknown; fieldErrors?: readonly FieldError[] },
  ) {
    super(code, message, options);
    this.fieldErrors = options?.fieldErrors ?? [];
  }
}

/** Whether an error is a definite verdict on the evidence (as opposed to "could not decide"). */
export function isDefinite(err: TrustgateError): boolean {
  return err instanceof VerificationError || err instanceof PolicyError;
}

/**
 * Turn anything thrown into a TrustgateError without losing the original.
 * Unknown errors become inconclusive: we never deny as "bad evidence" on a bug.
 */
export function toTrustgateError(err: unknown): TrustgateError {
  // `instanceof` on a generic class narrows to TrustgateError<any>; every subclass's code is an ErrorCode.
  if (err instanceof TrustgateError) return err as TrustgateError;
  const message = err instanceof Error ? err.message : String(err);
  return new InconclusiveError('TRUST_SOURCE_UNAVAILABLE', `internal error: ${message}`, {
    cause: err,
  });
}
