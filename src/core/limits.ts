// SPDX-License-Identifier: Apache-2.0
// Named caps on everything an attacker or a broken upstream controls.
// Byte caps follow tuf-js defaultConfig; signature/referrer caps follow notation-go and kyverno.

export const LIMITS = {
  /** root.json, including rotated versions (tuf-js rootMaxLength 512 KB). */
  maxRootBytes: 512 * 1024,
  /** timestamp.json (tuf-js timestampMaxLength 16 KB). */
  maxTimestampBytes: 16 * 1024,
  /** snapshot.json when the timestamp does not state a length (tuf-js 2 MB). */
  maxSnapshotBytes: 2 * 1024 * 1024,
  /** targets.json and delegated roles when the snapshot does not state a length (tuf-js 5 MB). */
  maxTargetsBytes: 5 * 1024 * 1024,
  /** Root versions walked in one update (tuf-js maxRootRotations 256; notary rarely has > 10). */
  maxRootRotations: 32,
  /** Delegation nesting below `targets` (targets/a/b/c = depth 3). */
  maxDelegationDepth: 8,
  /** Delegated roles visited per repository (tuf-js maxDelegations 32). */
  maxDelegations: 32,
  /** Signatures examined on one TUF document: more is a flood, not a repository. */
  maxSignaturesPerRole: 64,
  /** Keys declared in one root or delegations block. */
  maxKeysPerRole: 64,
  /** Targets in one role (SPEC §7 measures 10,000). */
  maxTargetsPerRole: 100_000,
  /** OCI manifest / index body (notation-go 4 MiB). */
  maxManifestBytes: 4 * 1024 * 1024,
  /** Notation envelope blob (notation-go 32 MiB). */
  maxEnvelopeBytes: 32 * 1024 * 1024,
  /** Signatures tried per image (notation-go MaxSignatureAttempts default 100). */
  maxSignatureAttempts: 100,
  /** Referrers listed per image (kyverno 50). */
  maxReferrers: 50,
  /** Bearer-token response body. */
  maxTokenBytes: 64 * 1024,
  /** Error bodies read only for diagnostics. */
  maxErrorBodyBytes: 8 * 1024,
  /** AdmissionReview request body (pepr 2 MB; apiserver allows up to 3 MB objects). */
  maxAdmissionBodyBytes: 3 * 1024 * 1024,
  /** Images in one workload. */
  maxImagesPerReview: 256,
} as const;

export type Limits = typeof LIMITS;
