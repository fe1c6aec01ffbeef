// SPDX-License-Identifier: Apache-2.0
// Load + policy check of one image through the production Notary v1 path
// (NotaryClient → NotaryEvidence → checkNotaryPolicy), with errors folded into a SourceOutcome
// exactly as the image verifier does, so tests assert on stable codes.

import { InconclusiveError, toTrustgateError } from '../../src/core/errors.js';
import { checkNotaryPolicy } from '../../src/core/notary/rules.js';
import type { VerifiedRepository } from '../../src/core/notary/types.js';
import type { CompiledPolicy } from '../../src/core/policy/types.js';
import { parseImageReference } from '../../src/core/reference.js';
import type { SourceOutcome } from '../../src/core/result.js';
import { createDeadline } from '../../src/verify/deadline.js';
import type { NotaryEvidence } from '../../src/verify/notary-evidence.js';

export interface VerifyTagOptions {
  readonly now: Date;
  /** Request deadline in ms (default 10 s). */
  readonly deadlineMs?: number;
}

export interface VerifyTagResult {
  readonly outcome: SourceOutcome;
  /** The verified repository, when loading succeeded. */
  readonly repo?: VerifiedRepository;
}

/** Verify `image` (e.g. `localhost:5000/a/b:v1`) under the policy's first Notary v1 source. */
export async function verifyImage(
  evidence: NotaryEvidence,
  policy: CompiledPolicy,
  image: string,
  opts: VerifyTagOptions,
): Promise<VerifyTagResult> {
  const source = policy.sources.find((s) => s.kind === 'notaryV1');
  if (source?.kind !== 'notaryV1') throw new Error('policy has no Notary v1 source');
  const ref = parseImageReference(image);
  let repo: VerifiedRepository;
  try {
    repo = await evidence.load(source, ref.name, {
      deadline: createDeadline(opts.deadlineMs ?? 10_000),
      now: opts.now,
    });
  } catch (err) {
    const e = toTrustgateError(err);
    return {
      outcome: {
        ok: false,
        source: source.name,
        definite: !(e instanceof InconclusiveError),
        reason: {
          code: e.code as never,
          message: e.message,
          policy: policy.id,
          source: source.name,
        },
      },
    };
  }
  return {
    outcome: checkNotaryPolicy({ repo, ref, policy, source: source.name, now: opts.now }),
    repo,
  };
}

/** The failure code of an outcome, or `'OK'`; makes `expect(code(x)).toBe('TAG_NOT_SIGNED')` read well. */
export function codeOf(result: VerifyTagResult): string {
  return result.outcome.ok ? 'OK' : result.outcome.reason.code;
}
