// SPDX-License-Identifier: Apache-2.0
// SPEC §3.1/§3.3 policy rules for Notary v1 evidence: signers, thresholds, allowed paths,
// metadata age and digest pinning, evaluated over a verified repository. Failures are values.

import type { ReasonCode } from '../errors.js';
import type { CompiledPolicy } from '../policy/types.js';
import type { ImageReference } from '../reference.js';
import type { SourceOutcome } from '../result.js';
import {
  RELEASES_ROLE,
  TARGETS_ROLE,
  releasesDescendantSigned,
  resolveTag,
  targetInRole,
} from './resolve.js';
import type { VerifiedRepository } from './types.js';

type TagResult =
  | { readonly ok: true; readonly digest: string; readonly roles: readonly string[] }
  | { readonly ok: false; readonly code: ReasonCode; readonly message: string };

const DOCKER_ROLES = [RELEASES_ROLE, TARGETS_ROLE] as const;

function problemNote(repo: VerifiedRepository, role: string): string {
  const p = repo.problems.find((x) => x.role === role);
  return p ? ` (${p.message})` : '';
}

function rolesText(roles: readonly string[]): string {
  return roles.length === 1
    ? roles[0]!
    : `${roles.slice(0, -1).join(', ')} or ${roles[roles.length - 1]!}`;
}

/** Roles that may sign under this policy, in precedence order. */
function acceptableRoles(policy: CompiledPolicy): string[] {
  const roles = policy.signers.length === 0 ? [...DOCKER_ROLES] : policy.signers.map((s) => s.role);
  for (const role of policy.thresholds.keys()) if (!roles.includes(role)) roles.push(role);
  return roles;
}

/** Signers, thresholds and digest agreement for one tag (SPEC §3.1 `signers`, `thresholds`). */
function evaluateTag(repo: VerifiedRepository, tag: string, policy: CompiledPolicy): TagResult {
  const gun = repo.gun;
  const used = new Map<string, string>();
  if (policy.signers.length === 0) {
    const hit = resolveTag(repo, tag);
    if (!hit) {
      const deeper = releasesDescendantSigned(repo, tag);
      const why = deeper ? `; only ${deeper} signed it, which Docker does not accept` : '';
      return {
        ok: false,
        code: 'TAG_NOT_SIGNED',
        message: `tag ${tag} of ${gun} is not signed by ${rolesText(DOCKER_ROLES)}${why}${problemNote(repo, RELEASES_ROLE)}`,
      };
    }
    used.set(hit.role, hit.target.digest);
  } else {
    const required = policy.signers.filter((s) => s.required);
    for (const s of required) {
      const t = targetInRole(repo, s.role, tag);
      if (!t) {
        return {
          ok: false,
          code: 'REQUIRED_SIGNER_MISSING',
          message: `tag ${tag} of ${gun} is not signed by required signer ${s.role}${problemNote(repo, s.role)}`,
        };
      }
      used.set(s.role, t.digest);
    }
    for (const s of policy.signers) {
      const t = targetInRole(repo, s.role, tag);
      if (t) used.set(s.role, t.digest);
    }
    if (used.size === 0) {
      const roles = policy.signers.map((s) => s.role);
      return {
        ok: false,
        code: 'TAG_NOT_SIGNED',
        message: `tag ${tag} of ${gun} is not signed by ${rolesText(roles)}`,
      };
    }
  }
  for (const [role, n] of policy.thresholds) {
    const verified = repo.roles.get(role);
    const t = verified?.targets.get(tag);
    if (!verified || !t) {
      return {
        ok: false,
        code: 'THRESHOLD_NOT_MET',
        message: `role ${role} has not signed tag ${tag} of ${gun}, policy requires ${n} signature(s)${problemNote(repo, role)}`,
      };
    }
    if (verified.validKeyIds.length < n) {
      return {
        ok: false,
        code: 'THRESHOLD_NOT_MET',
        message: `role ${role} has ${verified.validKeyIds.length} valid signature(s), policy requires ${n}`,
      };
    }
    used.set(role, t.digest);
  }
  const entries = [...used];
  const [firstRole, digest] = entries[0]!;
  for (const [role, d] of entries) {
    if (d !== digest) {
      return {
        ok: false,
        code: 'DIGEST_MISMATCH',
        message: `signers disagree on tag ${tag} of ${gun}: ${firstRole} signed ${digest}, ${role} signed ${d}`,
      };
    }
  }
  return { ok: true, digest, roles: entries.map(([r]) => r) };
}

function pathAllowed(policy: CompiledPolicy, tag: string): boolean {
  return policy.allowPaths === undefined || policy.allowPaths.some((re) => re.test(tag));
}

function pathsText(policy: CompiledPolicy): string {
  return policy.allowPathPatterns?.join(', ') ?? policy.allowPaths!.map((r) => r.source).join(', ');
}

/** A digest-only reference: some signed tag (under the same rules) must carry the digest. */
function evaluateDigest(
  repo: VerifiedRepository,
  digest: string,
  policy: CompiledPolicy,
): TagResult & { tag?: string } {
  const roles = acceptableRoles(policy);
  const tags = new Set<string>();
  for (const role of roles) {
    for (const [tag, t] of repo.roles.get(role)?.targets ?? [])
      if (t.digest === digest) tags.add(tag);
  }
  let firstFailure: TagResult | undefined;
  for (const tag of [...tags].sort()) {
    if (!pathAllowed(policy, tag)) {
      firstFailure ??= {
        ok: false,
        code: 'PATH_NOT_ALLOWED',
        message: `digest ${digest} of ${repo.gun} is signed only under tags the policy does not allow (${tag}; allowed: ${pathsText(policy)})`,
      };
      continue;
    }
    const r = evaluateTag(repo, tag, policy);
    if (r.ok && r.digest === digest) return { ...r, tag };
    if (!r.ok) firstFailure ??= r;
  }
  return (
    firstFailure ?? {
      ok: false,
      code: 'TAG_NOT_SIGNED',
      message: `digest ${digest} of ${repo.gun} is not signed by ${rolesText(roles)}`,
    }
  );
}

/** What {@link checkNotaryPolicy} decides over. */
export interface NotaryPolicyInput {
  /** Trust data the trusted set verified for the image's GUN. */
  readonly repo: VerifiedRepository;
  readonly ref: ImageReference;
  readonly policy: CompiledPolicy;
  /** Name of the policy's trust source (outcomes and reasons carry it). */
  readonly source: string;
  /** Evaluation time for `policy.maxAgeMs`. */
  readonly now: Date;
}

/**
 * Evaluate a policy's Notary v1 rules for one image reference over verified trust data.
 * Never throws for an expected failure: returns `{ok:false, definite:true}` with one of
 * TAG_NOT_SIGNED, REQUIRED_SIGNER_MISSING, THRESHOLD_NOT_MET, DIGEST_MISMATCH, PATH_NOT_ALLOWED,
 * SIGNATURE_TOO_OLD.
 */
export function checkNotaryPolicy(input: NotaryPolicyInput): SourceOutcome {
  const { repo, ref, policy, source: sourceName, now } = input;
  const failure = (code: ReasonCode, message: string): SourceOutcome => ({
    ok: false,
    source: sourceName,
    definite: true,
    reason: { code, message, policy: policy.id, source: sourceName },
  });
  let result: TagResult;
  if (ref.tag !== undefined) {
    if (!pathAllowed(policy, ref.tag)) {
      return failure(
        'PATH_NOT_ALLOWED',
        `tag ${ref.tag} of ${ref.name} is not allowed by ${policy.id} (allowed: ${pathsText(policy)})`,
      );
    }
    result = evaluateTag(repo, ref.tag, policy);
    if (result.ok && ref.digest !== undefined && result.digest !== ref.digest) {
      return failure(
        'DIGEST_MISMATCH',
        `tag ${ref.tag} of ${ref.name} is signed with ${result.digest}, but the reference pins ${ref.digest}`,
      );
    }
  } else if (ref.digest !== undefined) {
    result = evaluateDigest(repo, ref.digest, policy);
  } else {
    return failure('TAG_NOT_SIGNED', `reference ${ref.original} has neither tag nor digest`);
  }
  if (!result.ok) return failure(result.code, result.message);
  if (policy.maxAgeMs !== undefined) {
    const limit = now.getTime() + policy.maxAgeMs;
    for (const role of result.roles) {
      const expires = repo.roles.get(role)!.expires;
      if (expires.getTime() > limit) {
        return failure(
          'SIGNATURE_TOO_OLD',
          `role ${role} of ${ref.name} expires at ${expires.toISOString()}, later than the ${Math.round(policy.maxAgeMs / 1000)}s window ${policy.id} allows`,
        );
      }
    }
  }
  return {
    ok: true,
    source: sourceName,
    digest: result.digest,
    signers: result.roles,
    validUntil: repo.expires,
  };
}
