// SPDX-License-Identifier: Apache-2.0
// Benchmark child: CPU cost of verifying generated Notary v1 repositories (node:crypto-signed)
// with 100 / 1,000 / 10,000 targets: the TrustedSet over served bytes (root → timestamp →
// snapshot → targets) plus resolving one tag (SPEC §7's unit); listing every target is measured
// on its own. Sizes alternate per run; the median is reported.

import { TufRepo, digestOf, driveTrustedSet } from '../../src/__fixtures__/builders/tuf-repo.js';
import { canonicalize } from '../../src/core/crypto/canonical-json.js';
import { parseEnvelope } from '../../src/core/notary/metadata.js';
import { resolveTag } from '../../src/core/notary/resolve.js';
import type { TrustAnchor } from '../../src/core/notary/trusted-set.js';
import type { VerifiedRepository } from '../../src/core/notary/types.js';
import { median } from '../lib/stats.js';

interface Fixture {
  readonly n: number;
  readonly files: Map<string, Buffer>;
  readonly anchor: TrustAnchor;
  readonly gun: string;
  readonly targetsBytes: number;
}

export interface LinearRow {
  readonly targets: number;
  readonly targetsBytes: number;
  readonly runs: number;
  /** Median CPU (user+system) ms of one full verification + resolve. */
  readonly cpuMs: number;
  readonly cpuMinMs: number;
  readonly cpuMaxMs: number;
  readonly wallMs: number;
  /** The first run in this process (JIT cold). */
  readonly firstMs: number;
  /**
   * Components over targets.json alone, median ms: JSON.parse, canonical JSON re-encoding (the
   * fallback when served bytes are not canonical), and the whole parseEnvelope.
   */
  readonly parseMs: number;
  readonly canonicalMs: number;
  readonly envelopeMs: number;
  /** CPU ms to list every target with its digest after a verification (inspect, digest refs). */
  readonly listMs: number;
}

const NOW = new Date('2026-12-02T12:00:00Z');

function fixture(n: number): Fixture {
  const gun = 'registry.example.com/bench/linear';
  const repo = new TufRepo({ gun, now: NOW });
  const targets: Record<string, { digest: string; length: number }> = {};
  for (let i = 0; i < n; i++)
    targets[`v${i}.${i % 10}.${i % 7}`] = {
      digest: digestOf(`linear-${n}-${i}`),
      length: 500 + (i % 4000),
    };
  repo.targetFiles = targets;
  const files = repo.publish();
  const anchor: TrustAnchor = {
    rootKeyIds: new Set([repo.root.keys[0]!.keyId]),
    rootCertFingerprints: new Set(),
    rootPublicKeys: [],
    rootCAs: [],
    trustOnFirstUse: false,
  };
  return { n, files, anchor, gun, targetsBytes: files.get('targets.json')!.length };
}

function cpuMs(f: () => void): { cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1000, wall };
}

/** SPEC §7's unit: parse + verify + resolve one tag. */
function verifyOnce(fx: Fixture): VerifiedRepository {
  const { repository } = driveTrustedSet(fx.files, { gun: fx.gun, anchor: fx.anchor, now: NOW });
  const tag = `v${fx.n - 1}.${(fx.n - 1) % 10}.${(fx.n - 1) % 7}`;
  const hit = resolveTag(repository, tag);
  if (hit === null || hit.target.digest !== digestOf(`linear-${fx.n}-${fx.n - 1}`))
    throw new Error(`tag ${tag} did not resolve`);
  return repository;
}

/** Every signed tag with its digest, as `trustgate inspect` and a digest-only reference need. */
function listAll(repository: VerifiedRepository, n: number): void {
  let count = 0;
  for (const t of repository.roles.get('targets')?.targets.values() ?? []) {
    if (t.digest.length > 0) count++;
  }
  if (count !== n) throw new Error(`expected ${n} targets, listed ${count}`);
}

function median3(f: () => void, runs: number): number {
  const xs: number[] = [];
  for (let r = 0; r < runs; r++) xs.push(cpuMs(f).wall);
  return median(xs);
}

function run(sizes: readonly number[], runs: number): LinearRow[] {
  const fixtures = sizes.map(fixture);
  const first = fixtures.map((fx) => cpuMs(() => verifyOnce(fx)).wall);
  // Each fixture holds all its targets (checked outside the timed runs: listing is its own row).
  for (const fx of fixtures) listAll(verifyOnce(fx), fx.n);
  const samples = fixtures.map(() => ({ cpu: [] as number[], wall: [] as number[] }));
  for (let r = 0; r < runs; r++) {
    // Rotate the order so no size always runs right after a GC-heavy one.
    for (let k = 0; k < fixtures.length; k++) {
      const i = (k + r) % fixtures.length;
      const m = cpuMs(() => void verifyOnce(fixtures[i]!));
      samples[i]!.cpu.push(m.cpu);
      samples[i]!.wall.push(m.wall);
    }
  }
  // Components afterwards, in their own loop: their garbage must not be collected inside the timed runs above.
  return fixtures.map((fx, i) => {
    const s = samples[i]!;
    const bytes = fx.files.get('targets.json')!;
    const doc = JSON.parse(bytes.toString('utf8')) as { signed: unknown };
    return {
      targets: fx.n,
      targetsBytes: fx.targetsBytes,
      runs,
      cpuMs: median(s.cpu),
      cpuMinMs: Math.min(...s.cpu),
      cpuMaxMs: Math.max(...s.cpu),
      wallMs: median(s.wall),
      firstMs: first[i]!,
      parseMs: median3(() => void JSON.parse(bytes.toString('utf8')), 5),
      canonicalMs: median3(() => canonicalize(doc.signed), 5),
      envelopeMs: median3(() => parseEnvelope(bytes, 'Targets', 'targets'), 5),
      listMs: median(
        Array.from({ length: 5 }, () => {
          const repository = verifyOnce(fx);
          return cpuMs(() => listAll(repository, fx.n)).cpu;
        }),
      ),
    };
  });
}

process.once('message', (msg: { type: 'start'; sizes: number[]; runs: number }) => {
  try {
    process.send?.({ type: 'result', rows: run(msg.sizes, msg.runs) }, () => process.exit(0));
  } catch (err) {
    process.stderr.write(`linear task failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  }
});
