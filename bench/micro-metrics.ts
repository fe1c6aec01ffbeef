// SPDX-License-Identifier: Apache-2.0
// In-process micro-benchmark of the warm-path metric recorders (issue #4): ns per
// `recordAdmission('allow', 'NONE', 0.0004)` and per cache-recorder call, plus one `/metrics`
// render. Run: `tsc -p tsconfig.tools.json && node .cache/tools/bench/micro-metrics.js`.
// Rounds rotate the case order; each case is timed over a fixed loop and reported as the
// median (min–max) of ns per call, because the shared 2-core machine is noisy.

import { fmtRange } from './lib/stats.js';
import { createMetrics } from '../src/observability/metrics.js';

const ROUNDS = Number(process.env['MICRO_ROUNDS'] ?? 9);
const CALLS = Number(process.env['MICRO_CALLS'] ?? 2_000_000);
/** Render once per this many calls, so accumulated state is folded as in a scraped server. */
const CALLS_PER_SCRAPE = 500_000;

const metrics = createMetrics();
const verdictLookup = metrics.cacheRecorder('verdict');

interface Case {
  readonly name: string;
  readonly call: () => void;
}

const cases: readonly Case[] = [
  {
    name: "recordAdmission('allow','NONE',0.0004)",
    call: () => metrics.recordAdmission('allow', 'NONE', 0.0004),
  },
  { name: "cacheRecorder('verdict')('hit')", call: () => verdictLookup('hit') },
];

async function timeCase(c: Case): Promise<number> {
  let elapsed = 0n;
  for (let done = 0; done < CALLS; done += CALLS_PER_SCRAPE) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CALLS_PER_SCRAPE; i++) c.call();
    elapsed += process.hrtime.bigint() - start;
    await metrics.render();
  }
  return Number(elapsed) / CALLS;
}

async function timeRender(): Promise<number> {
  const n = 200;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await metrics.render();
  return Number(process.hrtime.bigint() - start) / n / 1000;
}

async function main(): Promise<void> {
  for (const c of cases) await timeCase(c); // warm-up: JIT and first-use series
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const renders: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = cases.map((_, i) => cases[(i + round) % cases.length]!);
    for (const c of order) samples.get(c.name)!.push(await timeCase(c));
    renders.push(await timeRender());
  }
  for (const [name, ns] of samples) console.log(`${name}: ${fmtRange(ns, 1)} ns/call`);
  console.log(`render(): ${fmtRange(renders, 1)} µs/scrape`);
}

await main();
