// SPDX-License-Identifier: Apache-2.0
// How verdicts are printed (text for people, JSON for scripts) and which exit code they map to.

import type { ImageVerdict } from '../core/result.js';

/** SPEC §5 exit codes. */
export const EXIT = { ok: 0, denied: 1, usage: 2, inconclusive: 3 } as const;

/** 0 all allowed; 1 any definite denial; 3 denied only because something could not be decided. */
export function exitCodeFor(verdicts: readonly ImageVerdict[]): number {
  if (verdicts.some((v) => !v.allowed && !v.inconclusive)) return EXIT.denied;
  if (verdicts.some((v) => !v.allowed)) return EXIT.inconclusive;
  return EXIT.ok;
}

/** `{"results":[{"image","digest","allowed","reasons":[{"code","message","policy"}]}]}` */
export function toJsonOutput(verdicts: readonly ImageVerdict[]): string {
  return JSON.stringify(
    {
      results: verdicts.map((v) => ({
        image: v.image,
        digest: v.digest ?? null,
        allowed: v.allowed,
        reasons: v.reasons.map((r) => ({
          code: r.code,
          message: r.message,
          policy: r.policy ?? null,
        })),
        ...(v.warnings.length ? { warnings: v.warnings } : {}),
      })),
    },
    null,
    2,
  );
}

/** One block per image: `ALLOWED|DENIED|INCONCLUSIVE image [digest] (policies)`, then its reasons, warnings and audits. */
export function toTextOutput(verdicts: readonly ImageVerdict[]): string {
  const lines: string[] = [];
  for (const v of verdicts) {
    lines.push(headline(v));
    for (const r of v.reasons) lines.push(`  ${r.code}${policyTag(r.policy)}: ${r.message}`);
    for (const w of v.warnings) lines.push(`  warning: ${w}`);
    for (const a of v.audits) lines.push(`  audit: ${a.code}${policyTag(a.policy)}: ${a.message}`);
  }
  return lines.join('\n');
}

function headline(v: ImageVerdict): string {
  const status = v.allowed ? 'ALLOWED' : v.inconclusive ? 'INCONCLUSIVE' : 'DENIED';
  const digest = v.digest ? ` ${v.digest}` : '';
  const by = v.policies.length ? ` (${v.policies.join(', ')})` : '';
  return `${status} ${v.image}${digest}${by}`;
}

function policyTag(policy: string | undefined): string {
  return policy ? ` [${policy}]` : '';
}
