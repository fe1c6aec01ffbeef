// SPDX-License-Identifier: Apache-2.0
// Result shapes shared by every layer: per-source outcomes, per-image verdicts,
// and the whole-review verdict. Expected failures are values here, not exceptions.

import type { ReasonCode } from './errors.js';

/** Why an image was (or would have been) denied, or why a warning was raised. */
export interface Reason {
  readonly code: ReasonCode;
  readonly message: string;
  /** Policy id (`ClusterTrustPolicy/name`, `TrustPolicy/ns/name`), when one applies. */
  readonly policy?: string;
  /** Trust source name inside the policy, when one applies. */
  readonly source?: string;
}

/** What one trust source concluded for one image under one policy. */
export type SourceOutcome =
  | {
      readonly ok: true;
      readonly source: string;
      /** The signed manifest digest (`sha256:…`). */
      readonly digest: string;
      /** Roles or identities whose signatures were accepted. */
      readonly signers: readonly string[];
      /** Earliest expiry of the evidence used: a cached verdict must not outlive it. */
      readonly validUntil: Date;
    }
  | {
      readonly ok: false;
      readonly source: string;
      readonly reason: Reason;
      /** true: the evidence is bad (deny); false: could not decide (failureAction). */
      readonly definite: boolean;
    };

export type PolicyOutcomeStatus = 'pass' | 'fail' | 'inconclusive' | 'exempt';

/** What one policy concluded for one image. */
export interface PolicyOutcome {
  readonly policy: string;
  readonly mode: 'enforce' | 'warn' | 'audit';
  readonly status: PolicyOutcomeStatus;
  readonly digest?: string;
  readonly reasons: readonly Reason[];
  readonly validUntil?: Date;
}

/** The decision for one image of a workload. */
export interface ImageVerdict {
  /** Image string as written. */
  readonly image: string;
  /** Field path in the object, e.g. `spec.template.spec.containers[0].image`. */
  readonly path?: string;
  readonly allowed: boolean;
  /** The verified digest, when one was established. */
  readonly digest?: string;
  /** Reasons for denial (when !allowed) or inconclusive details. */
  readonly reasons: readonly Reason[];
  /** Admission warnings (warn-mode policies that failed). */
  readonly warnings: readonly string[];
  /** Audit-mode failures: allowed, but recorded. */
  readonly audits: readonly Reason[];
  /** true when the denial is only because something could not be decided. */
  readonly inconclusive: boolean;
  /** Policies that applied. */
  readonly policies: readonly string[];
  /** Per-policy outcomes behind this verdict (for logs and `--output json`). */
  readonly outcomes?: readonly PolicyOutcome[];
  /** Earliest expiry of the evidence the verdict rests on: a cached verdict must not outlive it. */
  readonly validUntil?: Date;
}
