// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark of the pure Notary v1 core against SPEC §7 "verification cost linear in the
// number of targets: 1,000 targets < 5 ms, 10,000 < 50 ms" (CPU for parse + verify + resolve).

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { canonicalize, canonicalMember } from '../src/core/crypto/canonical-json.js';
import { parseTufKey, type TufPublicKey } from '../src/core/crypto/keys.js';
import { verifyTufSignature } from '../src/core/crypto/signature.js';
import { Targets } from '../src/core/notary/metadata.js';
import { resolveTag } from '../src/core/notary/resolve.js';
import { scanTargets } from '../src/core/notary/targets-scan.js';
import type { TrustAnchor } from '../src/core/notary/trusted-set.js';
import {
  digestOf,
  driveTrustedSet,
  tufKey,
  TufRepo,
  type TargetSpec,
} from '../src/__fixtures__/builders/tuf-repo.js';
import { prng } from '../src/__fixtures__/prng.js';

/** Median and range of one measured stage, in milliseconds per operation. */
export interface StageStats {
  /** Wall time (performance.now) of the synchronous call. */
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Process CPU time (user + system, process.cpuUsage) of the call: less exposed to a busy machine. */
  readonly cpuMedianMs: number;
  readonly cpuMinMs: number;
  readonly cpuMaxMs: number;
  readonly iterations: number;
}

export interface CoreNotaryCase {
  /** Targets in the `targets/releases` delegation (the role Docker resolves tags in). */
  readonly targets: number;
  /** Served bytes of `targets/releases.json`. */
  readonly releasesBytes: number;
  readonly stages: {
    /** UTF-8 decode + JSON.parse of the served `targets/releases.json`. */
    readonly jsonParse: StageStats;
    /** canonicalize(`signed`) of that role (the general encoder, from the parsed value). */
    readonly canonicalize: StageStats;
    /** canonicalMember(bytes, 'signed'): the in-place check parseEnvelope uses for canonically served bytes. */
    readonly canonicalInPlace: StageStats;
    /** One ECDSA P-256 verify over those canonical bytes (key already parsed). */
    readonly ecdsaVerify: StageStats;
    /** Targets.fromJSON over the parsed `signed` (the general path: every target built). */
    readonly fromJSON: StageStats;
    /**
     * scanTargets over the served bytes: the in-place read parseEnvelope uses for a canonically
     * served role (canonical check + every entry's shape, no per-target objects).
     */
    readonly scanInPlace: StageStats;
    /** root → timestamp → snapshot → targets → targets/releases in a fresh TrustedSet, then resolveTag. */
    readonly pipeline: StageStats;
  };
  /** The very first pipeline run in this process for this repository (cold JIT, cold key cache). */
  readonly firstRunMs: number;
  /** SPEC §7 bound for this size, when it has one. */
  readonly targetMs?: number;
  /** The CPU median of the pipeline is below `targetMs` (SPEC §7 counts ms of CPU). */
  readonly met?: boolean;
}

export interface CoreNotaryResult {
  readonly node: string;
  readonly cases: readonly CoreNotaryCase[];
}

export interface CoreNotaryOptions {
  /** Target counts to build (default 1,000 and 10,000). */
  readonly sizes?: readonly number[];
  /** Measured iterations per stage for 1,000 targets; scaled down for larger sizes (default 200). */
  readonly iterations?: number;
}

const NOW = new Date('2026-12-02T00:00:00Z');
const GUN = 'registry.example.com/platform/api-gateway';
const SPEC_MS: Readonly<Record<number, number>> = { 1000: 5, 10000: 50 };

/** Tag names as real registries carry them: semver, variants, CI builds, dated nightlies. */
function tagNames(n: number): string[] {
  const rnd = prng(n);
  const variants = [
    '',
    '-alpine3.19',
    '-alpine3.20',
    '-bookworm',
    '-slim',
    '-distroless',
    '-debug',
  ];
  const tags = new Set<string>(['latest', 'stable']);
  for (let i = 0; tags.size < n && i < n * 4; i++) {
    const major = Math.floor(rnd() * 4);
    const minor = Math.floor(rnd() * 30);
    const patch = Math.floor(rnd() * 60);
    const kind = rnd();
    if (kind < 0.55)
      tags.add(`v${major}.${minor}.${patch}${variants[Math.floor(rnd() * variants.length)]!}`);
    else if (kind < 0.75) tags.add(`${major}.${minor}.${patch}-rc.${Math.floor(rnd() * 9) + 1}`);
    else if (kind < 0.9)
      tags.add(
        `sha-${Math.floor(rnd() * 0xfffffff)
          .toString(16)
          .padStart(7, '0')}`,
      );
    else
      tags.add(
        `nightly-2026${String(Math.floor(rnd() * 12) + 1).padStart(2, '0')}${String(Math.floor(rnd() * 28) + 1).padStart(2, '0')}-${i}`,
      );
  }
  return [...tags];
}

interface Fixture {
  readonly n: number;
  readonly files: Map<string, Buffer>;
  readonly releases: Buffer;
  readonly releasesKey: TufPublicKey;
  readonly anchor: TrustAnchor;
  readonly probeTag: string;
  readonly probeDigest: string;
}

function buildFixture(n: number): Fixture {
  const repo = new TufRepo({ gun: GUN, now: NOW });
  const rnd = prng(n * 7 + 1);
  const releases: Record<string, TargetSpec> = {};
  const tags = tagNames(n);
  for (const tag of tags)
    releases[tag] = {
      digest: digestOf(`${GUN}:${tag}`),
      length: 500 + Math.floor(rnd() * 9000),
      sha512: true,
    };
  // Top-level targets keeps a handful of tags, as `docker trust sign` leaves it after delegating.
  repo.targetFiles = { latest: { digest: digestOf(`${GUN}:latest`), length: 1234, sha512: true } };
  const key = tufKey('ecdsa', 3);
  repo.delegate('targets/releases', [key], releases);
  const files = repo.publish();
  const parsed = parseTufKey(key.keyId, key.keyType, key.publicValue);
  if (!parsed.ok) throw new Error(parsed.reason);
  const probeTag = tags[Math.floor(tags.length / 2)]!;
  return {
    n,
    files,
    releases: files.get('targets/releases.json')!,
    releasesKey: parsed.key,
    anchor: {
      rootKeyIds: new Set([repo.root.keys[0]!.keyId]),
      rootCertFingerprints: new Set(),
      rootPublicKeys: [],
      rootCAs: [],
      trustOnFirstUse: false,
    },
    probeTag,
    probeDigest: releases[probeTag]!.digest,
  };
}

/** A value the optimiser cannot prove unused. */
let sink = 0;

/** Time `fn` `iterations` times after `warmup` untimed runs; every loop is bounded. */
function measure(fn: () => unknown, iterations: number, warmup: number): StageStats {
  for (let i = 0; i < warmup; i++) fn();
  const wall = new Float64Array(iterations);
  const cpu = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = fn();
    wall[i] = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu[i] = (c.user + c.system) / 1000;
    if (r !== undefined) sink ^= 1;
  }
  const w = summary(wall);
  const u = summary(cpu);
  return {
    medianMs: w.median,
    minMs: w.min,
    maxMs: w.max,
    cpuMedianMs: u.median,
    cpuMinMs: u.min,
    cpuMaxMs: u.max,
    iterations,
  };
}

function summary(samples: Float64Array): { median: number; min: number; max: number } {
  samples.sort();
  const n = samples.length;
  const mid = n >> 1;
  const median = n % 2 === 1 ? samples[mid]! : (samples[mid - 1]! + samples[mid]!) / 2;
  return { median, min: samples[0]!, max: samples[n - 1]! };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function runPipeline(f: Fixture): string {
  const { repository } = driveTrustedSet(f.files, { gun: GUN, anchor: f.anchor, now: NOW });
  const hit = resolveTag(repository, f.probeTag);
  if (hit === null || hit.role !== 'targets/releases' || hit.target.digest !== f.probeDigest) {
    throw new Error(`resolveTag(${f.probeTag}) did not return the signed digest`);
  }
  return hit.target.digest;
}

function measureCase(n: number, baseIterations: number): CoreNotaryCase {
  const f = buildFixture(n);
  const t0 = performance.now();
  runPipeline(f);
  const firstRunMs = performance.now() - t0;
  const iterations = Math.max(10, Math.round((baseIterations * 1000) / Math.max(n, 1000)));
  const warmup = Math.max(5, iterations >> 2);
  const env = JSON.parse(UTF8.decode(f.releases)) as { signed: Record<string, unknown> };
  const canonical = canonicalize(env.signed);
  const sig = Buffer.from(
    (JSON.parse(f.releases.toString()) as { signatures: { sig: string }[] }).signatures[0]!.sig,
    'base64',
  );
  if (!verifyTufSignature(f.releasesKey, 'ecdsa', sig, canonical))
    throw new Error('the releases signature does not verify');
  if (!canonicalMember(f.releases, 'signed')?.equals(canonical))
    throw new Error('the served signed bytes are not found canonical');
  if (scanTargets(f.releases)?.targets.size !== n)
    throw new Error('the served role is not read in place');
  const stages = {
    jsonParse: measure(() => JSON.parse(UTF8.decode(f.releases)), iterations, warmup),
    canonicalize: measure(() => canonicalize(env.signed), iterations, warmup),
    canonicalInPlace: measure(() => canonicalMember(f.releases, 'signed'), iterations, warmup),
    ecdsaVerify: measure(
      () => verifyTufSignature(f.releasesKey, 'ecdsa', sig, canonical),
      iterations,
      warmup,
    ),
    fromJSON: measure(() => Targets.fromJSON(env.signed, 'targets/releases'), iterations, warmup),
    scanInPlace: measure(() => scanTargets(f.releases), iterations, warmup),
    pipeline: measure(() => runPipeline(f), iterations, warmup),
  };
  const targetMs = SPEC_MS[n];
  return {
    targets: n,
    releasesBytes: f.releases.length,
    stages,
    firstRunMs,
    ...(targetMs !== undefined ? { targetMs, met: stages.pipeline.cpuMedianMs < targetMs } : {}),
  };
}

/**
 * Build signed repositories (a `targets/releases` delegation holding `n` targets with sha256
 * and sha512 hashes) and measure each verification stage and the whole cold pipeline.
 * Synchronous CPU work: call it with nothing else running in the process.
 */
export function measureCoreNotary(opts: CoreNotaryOptions = {}): CoreNotaryResult {
  const sizes = opts.sizes ?? [1000, 10000];
  const iterations = opts.iterations ?? 200;
  const cases = sizes.map((n) => measureCase(n, iterations));
  if (sink < 0) console.log(sink);
  return { node: process.version, cases };
}

function fmt(s: StageStats): string {
  const wall = `${s.medianMs.toFixed(3)} (${s.minMs.toFixed(3)}–${s.maxMs.toFixed(3)})`;
  return `${wall.padEnd(28)} cpu ${s.cpuMedianMs.toFixed(3)} (${s.cpuMinMs.toFixed(3)}–${s.cpuMaxMs.toFixed(3)})`;
}

function report(r: CoreNotaryResult): string {
  const lines = [
    `core-notary (node ${r.node}) — ms per operation, median (min–max), wall and process CPU`,
  ];
  for (const c of r.cases) {
    lines.push(
      ``,
      `${c.targets} targets (targets/releases.json ${c.releasesBytes} bytes, ${c.stages.pipeline.iterations} iterations)`,
    );
    lines.push(`  JSON.parse             ${fmt(c.stages.jsonParse)}`);
    lines.push(`  canonicalize(signed)   ${fmt(c.stages.canonicalize)}`);
    lines.push(`  canonical in place     ${fmt(c.stages.canonicalInPlace)}`);
    lines.push(`  ECDSA verify           ${fmt(c.stages.ecdsaVerify)}`);
    lines.push(`  Targets.fromJSON       ${fmt(c.stages.fromJSON)}`);
    lines.push(`  scanTargets (in place) ${fmt(c.stages.scanInPlace)}`);
    lines.push(
      `  pipeline + resolve     ${fmt(c.stages.pipeline)}   first run ${c.firstRunMs.toFixed(3)}`,
    );
    if (c.targetMs !== undefined)
      lines.push(`  SPEC §7 < ${c.targetMs} ms of CPU: ${c.met ? 'MET' : 'NOT MET'}`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(report(measureCoreNotary()));
}
