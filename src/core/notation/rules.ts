// SPDX-License-Identifier: Apache-2.0
// Turn per-signature Notation outcomes into one SourceOutcome under a policy's rules (SPEC §3.1):
// one valid signature suffices, unless signer roles (identities), thresholds or a signature age limit apply.

import { InconclusiveError, type ReasonCode } from '../errors.js';
import type { CompiledPolicy, CompiledSigner } from '../policy/types.js';
import type { SourceOutcome } from '../result.js';
import { matchesIdentity } from './dn.js';
import type { NotationSignatureOutcome } from './verify.js';

/** A date later than any evidence expiry: "no expiry of its own". */
const FAR_FUTURE = new Date(8.64e15);

type Identity = CompiledSigner['identities'][number];

function matches(id: Identity, o: NotationSignatureOutcome): boolean {
  if (id === '*') return true;
  return o.identityAttributes !== undefined && matchesIdentity(id, o.identityAttributes);
}

/**
 * Maximum number of (signer key, identity) pairs with every key and every identity used at most once
 * (Kuhn's augmenting paths; ≤ LIMITS.maxSignatureAttempts keys, so tiny).
 */
function distinctMatches(
  keys: readonly NotationSignatureOutcome[][],
  identities: readonly Identity[],
): number {
  const owner: (number | undefined)[] = identities.map(() => undefined);
  const canUse = (k: number, i: number): boolean =>
    keys[k]!.some((o) => matches(identities[i]!, o));
  const augment = (k: number, seen: boolean[]): boolean => {
    for (let i = 0; i < identities.length; i++) {
      if (seen[i] || !canUse(k, i)) continue;
      seen[i] = true;
      const current = owner[i];
      if (current === undefined || augment(current, seen)) {
        owner[i] = k;
        return true;
      }
    }
    return false;
  };
  let count = 0;
  for (let k = 0; k < keys.length; k++)
    if (
      augment(
        k,
        identities.map(() => false),
      )
    )
      count++;
  return count;
}

function progress(o: NotationSignatureOutcome): number {
  return o.checks.filter((c) => c.ok).length;
}

/** What {@link checkNotationPolicy} decides over. */
export interface NotationPolicyInput {
  /** One outcome per signature envelope found for the image (core/notation/verify.ts). */
  readonly outcomes: readonly NotationSignatureOutcome[];
  readonly ref: { readonly digest: string };
  readonly policy: CompiledPolicy;
  /** Name of the policy's Notation trust source (selects its verification level). */
  readonly source: string;
  /** Evaluation time for `policy.maxAgeMs`. */
  readonly now: Date;
}

/**
 * Decide one Notation trust source for one image.
 *
 * - Level `skip` (of the named source): passes without evidence (notation LevelSkip).
 * - No signature at all: `NO_TRUST_DATA`.
 * - `policy.maxAgeMs`: valid signatures signed before now − maxAge do not count (`SIGNATURE_TOO_OLD`
 *   when that removes every valid one).
 * - Only signers WITH `identities` are Notation roles; identity-less signers are Notary v1 roles and
 *   are ignored here, as are thresholds naming them. A required role needs one valid signature whose
 *   leaf matches one of its identities (`REQUIRED_SIGNER_MISSING`); a threshold N needs N valid
 *   signatures from distinct signing keys matched to distinct identities of the role (`THRESHOLD_NOT_MET`).
 * - When nothing valid remains and some signature could not be fetched, the outcome is inconclusive
 *   (`definite: false`), because the missing one might have been valid.
 * Never throws.
 */
export function checkNotationPolicy(input: NotationPolicyInput): SourceOutcome {
  const { outcomes, ref, policy, source: sourceName, now } = input;
  const digest = ref.digest;
  const deny = (code: ReasonCode, message: string, definite = true): SourceOutcome => ({
    ok: false,
    source: sourceName,
    reason: { code, message, policy: policy.id, source: sourceName },
    definite,
  });
  const source = policy.sources.find((s) => s.kind === 'notation' && s.name === sourceName);
  if (source?.kind === 'notation' && source.level === 'skip') {
    return { ok: true, source: sourceName, digest, signers: [], validUntil: FAR_FUTURE };
  }
  const inconclusive = outcomes.find((o) => o.error instanceof InconclusiveError);
  const orInconclusive = (code: ReasonCode, message: string): SourceOutcome =>
    inconclusive
      ? deny(
          inconclusive.error!.code,
          `${message}; and a Notation signature could not be checked: ${inconclusive.error!.message}`,
          false,
        )
      : deny(code, message);

  if (outcomes.length === 0)
    return deny('NO_TRUST_DATA', `no Notation signature found for ${digest}`);

  const valid = outcomes.filter((o) => o.ok);
  const maxAge = policy.maxAgeMs;
  const limitOf = (o: NotationSignatureOutcome): number =>
    Math.min(
      o.validUntil?.getTime() ?? FAR_FUTURE.getTime(),
      maxAge !== undefined && o.signingTime
        ? o.signingTime.getTime() + maxAge
        : FAR_FUTURE.getTime(),
    );
  const fresh =
    maxAge === undefined
      ? valid
      : valid.filter(
          (o) => o.signingTime !== undefined && now.getTime() - o.signingTime.getTime() <= maxAge,
        );

  if (fresh.length === 0) {
    if (valid.length > 0) {
      const newest = Math.max(...valid.map((o) => o.signingTime?.getTime() ?? 0));
      return orInconclusive(
        'SIGNATURE_TOO_OLD',
        `every valid Notation signature for ${digest} is older than the policy allows (newest signed ${new Date(newest).toISOString()})`,
      );
    }
    const best = outcomes.reduce((a, b) => (progress(b) > progress(a) ? b : a));
    const err = best.error!;
    const prefix =
      outcomes.length === 1
        ? `Notation signature for ${digest} rejected`
        : `none of the ${outcomes.length} Notation signatures for ${digest} is valid; closest`;
    if (err instanceof InconclusiveError) return deny(err.code, `${prefix}: ${err.message}`, false);
    return orInconclusive(err.code, `${prefix}: ${err.message}`);
  }

  const roles = policy.signers.filter((s) => s.identities.length > 0);
  if (roles.length === 0) {
    const identities = [...new Set(fresh.map((o) => o.identity ?? 'unknown'))];
    return {
      ok: true,
      source: sourceName,
      digest,
      signers: identities,
      validUntil: new Date(Math.max(...fresh.map(limitOf))),
    };
  }

  for (const role of roles) {
    if (role.required && !fresh.some((o) => role.identities.some((id) => matches(id, o)))) {
      return orInconclusive(
        'REQUIRED_SIGNER_MISSING',
        `required signer ${JSON.stringify(role.name)} has no valid Notation signature for ${digest}`,
      );
    }
  }

  const byKey = new Map<string, NotationSignatureOutcome[]>();
  for (const o of fresh) {
    const k = o.signerKeyId ?? `#${byKey.size}`;
    byKey.set(k, [...(byKey.get(k) ?? []), o]);
  }
  for (const [roleKey, n] of policy.thresholds) {
    const role = roles.find((r) => r.role === roleKey || r.name === roleKey);
    if (!role) continue;
    const got = distinctMatches([...byKey.values()], role.identities);
    if (got < n) {
      return orInconclusive(
        'THRESHOLD_NOT_MET',
        `signer ${JSON.stringify(role.name)} needs ${n} valid Notation signatures from distinct identities for ${digest}, found ${got}`,
      );
    }
  }

  return {
    ok: true,
    source: sourceName,
    digest,
    signers: roles
      .filter((r) => fresh.some((o) => r.identities.some((id) => matches(id, o))))
      .map((r) => r.name),
    // Conservative: the verdict may depend on any of these signatures.
    validUntil: new Date(Math.min(...fresh.map(limitOf))),
  };
}
