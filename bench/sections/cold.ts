// SPDX-License-Identifier: Apache-2.0
// §7 cold path over loopback against the real notary-server: NotaryEvidence.load +
// checkNotaryPolicy with a fresh NotaryEvidence per iteration (no trusted state), the warm
// refresh (same NotaryEvidence: only timestamp.json), and the registry digest cross-check's cost.

import { checkNotaryPolicy } from '../../src/core/notary/rules.js';
import type { CompiledNotaryV1Source, CompiledPolicy } from '../../src/core/policy/types.js';
import { parseImageReference } from '../../src/core/reference.js';
import { DispatcherPool } from '../../src/registry/http.js';
import { NotaryClient } from '../../src/registry/notary-client.js';
import { createDeadline } from '../../src/verify/deadline.js';
import { NotaryEvidence } from '../../src/verify/notary-evidence.js';
import type { SignedImage } from '../lib/fixtures.js';
import { summarize, type Summary } from '../lib/stats.js';
import { CountingMetadata, freshVerifier, staticPolicies } from '../lib/verifier.js';

export interface ColdResult {
  /** The very first load in this process (JIT cold, new connection). */
  readonly firstMs: number;
  readonly cold: Summary;
  /** Node CPU per cold verification (the rest is waiting for notary-server). */
  readonly coldCpuMs: number;
  /** Fetches per cold load, by path (`<role>.<sha256>.json` = consistent name). */
  readonly coldFetches: Record<string, number>;
  readonly roles: readonly string[];
  readonly warm: Summary;
  readonly warmFetches: Record<string, number>;
}

function notarySourceOf(policy: CompiledPolicy): CompiledNotaryV1Source {
  const s = policy.sources.find((x) => x.kind === 'notaryV1');
  if (s?.kind !== 'notaryV1') throw new Error(`${policy.id} has no Notary v1 source`);
  return s;
}

/** Cold and warm-refresh Notary v1 verification of `image` (n iterations each, bounded by `maxSeconds`). */
export async function runCold(o: {
  policy: CompiledPolicy;
  image: SignedImage;
  iterations: number;
  warmup: number;
  maxSeconds: number;
}): Promise<ColdResult> {
  const pool = new DispatcherPool();
  const metadata = new CountingMetadata(new NotaryClient({ dispatchers: pool }));
  const source = notarySourceOf(o.policy);
  const ref = parseImageReference(o.image.image);
  const now = new Date();
  let roles: string[] = [];
  const once = async (ev: NotaryEvidence): Promise<number> => {
    const t0 = performance.now();
    const repo = await ev.load(source, ref.name, { deadline: createDeadline(10_000), now });
    const outcome = checkNotaryPolicy({ repo, ref, policy: o.policy, source: source.name, now });
    const ms = performance.now() - t0;
    if (!outcome.ok || outcome.digest !== o.image.digest)
      throw new Error(`cold verification failed: ${JSON.stringify(outcome)}`);
    roles = [...repo.roles.keys()];
    return ms;
  };
  try {
    const firstMs = await once(new NotaryEvidence({ metadata }));
    for (let i = 0; i < o.warmup; i++) await once(new NotaryEvidence({ metadata }));

    const cold: number[] = [];
    let coldFetches: Record<string, number> = {};
    const cpu0 = process.cpuUsage();
    const until = performance.now() + o.maxSeconds * 1000;
    for (let i = 0; i < o.iterations && performance.now() < until; i++) {
      metadata.reset();
      cold.push(await once(new NotaryEvidence({ metadata })));
      coldFetches = Object.fromEntries(metadata.counts);
    }
    const cpu = process.cpuUsage(cpu0);

    const ev = new NotaryEvidence({ metadata });
    await once(ev);
    const warm: number[] = [];
    let warmFetches: Record<string, number> = {};
    const until2 = performance.now() + o.maxSeconds * 1000;
    for (let i = 0; i < o.iterations && performance.now() < until2; i++) {
      metadata.reset();
      warm.push(await once(ev));
      warmFetches = Object.fromEntries(metadata.counts);
    }
    return {
      firstMs,
      cold: summarize(cold),
      coldCpuMs: (cpu.user + cpu.system) / 1000 / Math.max(1, cold.length),
      coldFetches,
      roles,
      warm: summarize(warm),
      warmFetches,
    };
  } finally {
    await pool.close();
  }
}

export interface DigestCheckResult {
  readonly on: Summary;
  readonly off: Summary;
  /** p50(on) − p50(off), ms. */
  readonly overheadMs: number;
  /** Registry resolveTag calls per verification (on / off). */
  readonly headsOn: number;
  readonly headsOff: number;
}

/**
 * Cold verification of one signed tag through the whole DefaultImageVerifier with
 * `verifyRegistryDigest` on and off, alternating, fresh caches and trust state each time.
 */
export async function runDigestCheck(o: {
  policies: readonly CompiledPolicy[];
  image: SignedImage;
  iterations: number;
  warmup: number;
  maxSeconds: number;
}): Promise<DigestCheckResult> {
  const pool = new DispatcherPool();
  const policies = staticPolicies(o.policies);
  const times = { on: [] as number[], off: [] as number[] };
  const heads = { on: 0, off: 0 };
  const once = async (on: boolean): Promise<{ ms: number; heads: number }> => {
    const fv = freshVerifier({ pool, policies, verifyRegistryDigest: on });
    const t0 = performance.now();
    const [v] = await fv.verifier.verifyImages(
      [{ image: o.image.image, path: 'spec.containers[0].image' }],
      {
        namespace: 'default',
        deadline: createDeadline(10_000),
      },
    );
    const ms = performance.now() - t0;
    if (!v?.allowed || v.digest !== o.image.digest)
      throw new Error(`digest-check run (${on}) denied: ${JSON.stringify(v)}`);
    return { ms, heads: fv.oci.resolveTagCalls };
  };
  try {
    for (let i = 0; i < o.warmup; i++) {
      await once(true);
      await once(false);
    }
    const until = performance.now() + o.maxSeconds * 1000;
    for (let i = 0; i < o.iterations && performance.now() < until; i++) {
      for (const on of i % 2 === 0 ? [true, false] : [false, true]) {
        const r = await once(on);
        times[on ? 'on' : 'off'].push(r.ms);
        heads[on ? 'on' : 'off'] += r.heads;
      }
    }
    const on = summarize(times.on);
    const off = summarize(times.off);
    return {
      on,
      off,
      overheadMs: on.p50 - off.p50,
      headsOn: heads.on / Math.max(1, on.n),
      headsOff: heads.off / Math.max(1, off.n),
    };
  } finally {
    await pool.close();
  }
}
