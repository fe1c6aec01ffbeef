// SPDX-License-Identifier: Apache-2.0
// The verified view of one repository's Notary v1 trust data: what policy rules are
// evaluated over. Produced only by the trusted-set state machine after every TUF check passed.

/** One signed target (a tag) as recorded in a targets role. */
export interface TargetInfo {
  /** Target name = tag. */
  readonly name: string;
  readonly length: number;
  /** Lowercase hex sha256 of the manifest (from the base64 `hashes.sha256`). */
  readonly sha256: string;
  /** `sha256:<hex>`: the image manifest digest. */
  readonly digest: string;
  readonly custom?: unknown;
}

/** A targets role (top-level or delegated) whose signatures met its threshold. */
export interface VerifiedRole {
  /** `targets`, `targets/releases`, `targets/a/b`, … */
  readonly name: string;
  readonly version: number;
  readonly expires: Date;
  /** Distinct key IDs whose signatures verified over this role's canonical `signed` bytes. */
  readonly validKeyIds: readonly string[];
  /** The threshold the delegating role (or root, for `targets`) set. */
  readonly threshold: number;
  /** Effective path prefixes (after parent restriction); `null` = unrestricted (`targets`). */
  readonly paths: readonly string[] | null;
  /** Targets within `paths` only: a delegate signing outside its paths is ignored. */
  readonly targets: ReadonlyMap<string, TargetInfo>;
}

/** A delegated role that was declared but could not be used, and why (for messages). */
export interface RoleProblem {
  readonly role: string;
  readonly code:
    | 'SIGNATURE_INVALID'
    | 'THRESHOLD_NOT_MET'
    | 'METADATA_EXPIRED'
    | 'METADATA_INVALID'
    | 'NO_TRUST_DATA'
    | 'ROLLBACK_DETECTED'
    | 'LIMIT_EXCEEDED';
  readonly message: string;
}

export interface VerifiedRepository {
  /** Globally unique name, `registry/repository`. */
  readonly gun: string;
  readonly rootVersion: number;
  /** Key IDs of the current root role. */
  readonly rootKeyIds: readonly string[];
  readonly timestampVersion: number;
  readonly snapshotVersion: number;
  /** Earliest `expires` of root, timestamp, snapshot and every role in `roles`. */
  readonly expires: Date;
  /** Every usable targets role by name (`targets` always present). */
  readonly roles: ReadonlyMap<string, VerifiedRole>;
  /** Delegations that were declared but failed verification (ignored for decisions). */
  readonly problems: readonly RoleProblem[];
}
