// SPDX-License-Identifier: Apache-2.0
// Tag → signed target over a verified repository, with Docker's role precedence
// (docker/cli TrustedReference: GetTargetByName(tag, "targets/releases", "targets")).

import type { TargetInfo, VerifiedRepository } from './types.js';

export const RELEASES_ROLE = 'targets/releases';
export const TARGETS_ROLE = 'targets';

/** A target and the role whose signed metadata holds it. */
export interface ResolvedTarget {
  readonly role: string;
  readonly target: TargetInfo;
}

/** The target `tag` in exactly the role `role`, if that role verified and holds it. */
export function targetInRole(
  repo: VerifiedRepository,
  role: string,
  tag: string,
): TargetInfo | undefined {
  return repo.roles.get(role)?.targets.get(tag);
}

/**
 * Resolve a tag. Without `roles`, Docker's precedence: `targets/releases` shadows `targets`;
 * a hit only in a `targets/releases/*` sub-delegation ends the search unresolved, as notary's
 * walk returns that role and Docker then refuses it. With `roles`, the first of those roles
 * (exact names) that holds the tag.
 */
export function resolveTag(
  repo: VerifiedRepository,
  tag: string,
  roles?: readonly string[],
): ResolvedTarget | null {
  if (roles !== undefined) {
    for (const role of roles) {
      const target = targetInRole(repo, role, tag);
      if (target) return { role, target };
    }
    return null;
  }
  const release = targetInRole(repo, RELEASES_ROLE, tag);
  if (release) return { role: RELEASES_ROLE, target: release };
  if (releasesDescendantSigned(repo, tag) !== undefined) return null;
  const target = targetInRole(repo, TARGETS_ROLE, tag);
  return target ? { role: TARGETS_ROLE, target } : null;
}

/** The first `targets/releases/*` role that holds `tag` (Docker would refuse that hit). */
export function releasesDescendantSigned(
  repo: VerifiedRepository,
  tag: string,
): string | undefined {
  for (const [name, role] of repo.roles) {
    if (name.startsWith(`${RELEASES_ROLE}/`) && role.targets.has(tag)) return name;
  }
  return undefined;
}
