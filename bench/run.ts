// SPDX-License-Identifier: Apache-2.0
// `npm run bench`: SPEC §7 measured in one run against a bare node:https baseline and real local
// upstreams (notary-server, docker-registry); prints a markdown table with one verdict per
// target and writes .cache/bench-results.json. BENCH_QUICK=1 shortens every loop (smoke run).

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDevCertificate } from '../src/tls/dev-cert.js';
import { podAdmissionReview } from './lib/admission-review.js';
import { startUpstreams, type Upstreams } from './lib/fixtures.js';
import { startChild } from './lib/proc.js';
import { fmt, fmtRange, median } from './lib/stats.js';
import { benchPolicyYaml, compilePolicies } from './lib/verifier.js';
import {
  runCold,
  runDigestCheck,
  type ColdResult,
  type DigestCheckResult,
} from './sections/cold.js';
import { runConcurrent, type ConcurrentResult } from './sections/concurrent.js';
import { runStartup, type StartupResult } from './sections/startup.js';
import { runWarm, type WarmResult } from './sections/warm.js';
import type { LinearRow } from './tasks/linear.js';
import type { MemoryResult } from './tasks/memory.js';

const toolsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(toolsDir, '../..');
const quick = process.env['BENCH_QUICK'] === '1';
const pin = process.env['BENCH_PIN'] !== '0' && os.cpus().length >= 2;

const PLAN = quick
  ? {
      rounds: 2,
      seconds: 2,
      warmup: 1,
      latencyRounds: 1,
      latencySeconds: 1,
      wrkRounds: 1,
      coldN: 10,
      startupRuns: 2,
      linearRuns: 3,
    }
  : {
      rounds: 5,
      seconds: 5,
      warmup: 3,
      latencyRounds: 2,
      latencySeconds: 3,
      wrkRounds: 3,
      coldN: 50,
      startupRuns: 5,
      linearRuns: 11,
    };

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

interface Verdict {
  readonly target: string;
  readonly met: boolean;
  readonly detail: string;
}

async function childTask<T>(script: string, msg: object, nodeArgs: string[] = []): Promise<T> {
  const child = startChild(join(toolsDir, script), { nodeArgs });
  try {
    child.send({ type: 'start', ...msg });
    return await child.next<T>('result', 120_000);
  } finally {
    await child.stop();
  }
}

function machine(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    mhz: cpus[0]?.speed ?? 0,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    loadavg: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
  };
}

async function main(): Promise<number> {
  const started = performance.now();
  const m = machine();
  log(
    `trustgate bench${quick ? ' (QUICK)' : ''}: ${m['cpu']}, ${m['cores']} cores, node ${m['node']}`,
  );
  const cert = generateDevCertificate({ hosts: ['localhost', '127.0.0.1'], days: 1 });

  let up: Upstreams | undefined;
  let warm: WarmResult;
  let cold: ColdResult;
  let concurrent: ConcurrentResult;
  let digest: DigestCheckResult;
  let policyYaml: string;
  try {
    log('setup: notary-server, docker-registry, 3 images signed with the notary CLI');
    up = await startUpstreams(['web', 'proxy', 'log-shipper']);
    log(`  ready in ${up.setupSeconds.toFixed(1)} s: ${up.images.map((i) => i.image).join(', ')}`);
    const rootKeyIds = up.images.map((i) => i.rootKeyId);
    policyYaml = benchPolicyYaml({
      registryHost: up.registry.host,
      notaryUrl: up.notary.url,
      rootKeyIds,
    });
    const policies = compilePolicies(policyYaml);
    const body = podAdmissionReview(up.images.map((i) => i.image));

    log(
      `1. warm path (${Buffer.byteLength(body)}-byte Pod review, 3 containers, all verdicts cached)`,
    );
    warm = await runWarm({
      toolsDir,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      policyYaml,
      images: up.images.map((i) => i.image),
      body,
      pin,
      rounds: PLAN.rounds,
      seconds: PLAN.seconds,
      warmupSeconds: PLAN.warmup,
      connections: 50,
      latencyRounds: PLAN.latencyRounds,
      latencySeconds: PLAN.latencySeconds,
      wrkRounds: PLAN.wrkRounds,
      log,
    });

    log('2. cold Notary v1 verification (fresh NotaryEvidence per iteration) and warm refresh');
    cold = await runCold({
      policy: policies[0]!,
      image: up.images[0]!,
      iterations: PLAN.coldN,
      warmup: 5,
      maxSeconds: 30,
    });
    log(
      `  cold p50 ${cold.cold.p50.toFixed(2)} ms, warm refresh p50 ${cold.warm.p50.toFixed(2)} ms`,
    );

    log('3. 100 concurrent reviews of one uncached image through the counting TUF proxy');
    concurrent = await runConcurrent({
      notaryUrl: up.notary.url,
      registryHost: up.registry.host,
      image: up.images[1]!,
      rootKeyIds,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      n: 100,
    });
    log(
      `  fetches ${JSON.stringify(concurrent.fetches)}, ${concurrent.allowed}/${concurrent.requests} allowed`,
    );

    log('7. registry digest cross-check on vs off (cold verifications)');
    digest = await runDigestCheck({
      policies,
      image: up.images[0]!,
      iterations: Math.max(10, Math.floor(PLAN.coldN / 2)),
      warmup: 3,
      maxSeconds: 30,
    });
    log(`  on p50 ${digest.on.p50.toFixed(2)} ms, off p50 ${digest.off.p50.toFixed(2)} ms`);
  } finally {
    await up?.stop();
  }

  log('4. linear cost: 100 / 1,000 / 10,000 generated targets');
  const linear = (
    await childTask<{ rows: LinearRow[] }>('bench/tasks/linear.js', {
      sizes: [100, 1000, 10_000],
      runs: PLAN.linearRuns,
    })
  ).rows;

  log('5. memory: 10,000 cached verdicts');
  const memory = (
    await childTask<{ result: MemoryResult }>('bench/tasks/memory.js', { entries: 10_000 }, [
      '--expose-gc',
    ])
  ).result;

  log(`6. startup to /readyz (${PLAN.startupRuns} runs)`);
  const startup = await runStartup(repoDir, PLAN.startupRuns);

  const report = render({ m, warm, cold, concurrent, digest, linear, memory, startup });
  process.stdout.write(report.markdown);
  const out = join(repoDir, '.cache/bench-results.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        quick,
        machine: m,
        plan: { ...PLAN, pinned: warm.pinned, connections: 50 },
        results: { warm, cold, concurrent, linear, memory, startup, digest },
        verdicts: report.verdicts,
        seconds: (performance.now() - started) / 1000,
      },
      null,
      2,
    ),
  );
  log(`wrote ${out} (${((performance.now() - started) / 1000).toFixed(0)} s total)`);
  return 0;
}

interface Results {
  m: Record<string, string | number>;
  warm: WarmResult;
  cold: ColdResult;
  concurrent: ConcurrentResult;
  digest: DigestCheckResult;
  linear: LinearRow[];
  memory: MemoryResult;
  startup: StartupResult;
}

function linearRow(linear: readonly LinearRow[], n: number): LinearRow {
  const row = linear.find((x) => x.targets === n);
  if (!row) throw new Error(`no linear-cost row for ${n} targets`);
  return row;
}

/** One verdict per SPEC §7 target, in table order. */
function verdictsOf(r: Results): Verdict[] {
  const { warm, cold, concurrent, memory, startup } = r;
  const row1k = linearRow(r.linear, 1000);
  const row10k = linearRow(r.linear, 10_000);
  const fetchValues = Object.values(concurrent.fetches);
  const ratioRange = `${fmt(Math.min(...warm.roundRatios), 2)}–${fmt(Math.max(...warm.roundRatios), 2)}`;
  return [
    {
      target: 'warm path ≥ 0.8× bare req/s (autocannon c50)',
      met: warm.ratio.autocannon >= 0.8,
      detail: `${fmt(warm.ratio.autocannon, 2)}× (per-round ${ratioRange})`,
    },
    {
      target: 'warm path p99 < 1 ms at 1 connection',
      met: warm.trustgate.latency.p99 < 1000,
      detail: `p99 ${fmt(warm.trustgate.latency.p99)} µs (bare ${fmt(warm.bare.latency.p99)} µs)`,
    },
    {
      target: 'cold Notary v1 (3 targets roles) p50 < 10 ms',
      met: cold.cold.p50 < 10,
      detail: `p50 ${fmt(cold.cold.p50, 2)} ms`,
    },
    {
      target: '100 concurrent uncached → each metadata file fetched once',
      met:
        fetchValues.length > 0 &&
        fetchValues.every((v) => v === 1) &&
        concurrent.allowed === concurrent.requests,
      detail: `${fetchValues.length} paths, max ${Math.max(...fetchValues)} fetch(es); ${concurrent.allowed}/${concurrent.requests} allowed`,
    },
    {
      target: '1,000 targets < 5 ms',
      met: row1k.cpuMs < 5,
      detail: `${fmt(row1k.cpuMs, 2)} ms CPU`,
    },
    {
      target: '10,000 targets < 50 ms',
      met: row10k.cpuMs < 50,
      detail: `${fmt(row10k.cpuMs, 2)} ms CPU`,
    },
    {
      target: '10,000 cached verdicts < 50 MB RSS',
      met: memory.rssMB < 50,
      detail: `+${fmt(memory.rssMB, 1)} MB RSS`,
    },
    {
      target: 'ready < 1 s after start',
      met: startup.readyMs.p50 < 1000,
      detail: `median ${fmt(startup.readyMs.p50)} ms`,
    },
  ];
}

function headerLines(m: Record<string, string | number>, warm: WarmResult): string[] {
  const mhz = m['mhz'] ? ` (${m['mhz']} MHz)` : '';
  const pinning = warm.pinned
    ? ', servers pinned to CPU 0 and load generators to CPU 1.'
    : ', unpinned.';
  return [
    '',
    `## trustgate benchmark (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${m['cpu']}${mhz}, ${m['cores']} cores, ${m['memoryGiB']} GiB, ${m['kernel']}; Node ${m['node']} (V8 ${m['v8']}, OpenSSL ${m['openssl']}). ` +
      `Load average at start ${m['loadavg']}, at end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} (other work on the machine inflates every absolute number; compare ratios).`,
    `Warm path: ${warm.bodyBytes}-byte Pod AdmissionReview (3 containers), TLS with keep-alive, same certificate for both servers, each server in its own process${pinning}` +
      ' Figures are median (min–max) over alternating rounds.',
    '',
    '| # | measurement | result | target | verdict |',
    '|---|---|---|---|---|',
  ];
}

function warmRows(warm: WarmResult, mark: (i: number) => string): string[] {
  const rps = (runs: { reqPerSec: number }[]): string => fmtRange(runs.map((x) => x.reqPerSec));
  const cpu = (runs: { cpuUsPerReq: number }[]): string => fmtRange(runs.map((x) => x.cpuUsPerReq));
  const ratioRange = `${fmt(Math.min(...warm.roundRatios), 2)}–${fmt(Math.max(...warm.roundRatios), 2)}`;
  const lat = (l: WarmResult['bare']['latency']): string =>
    `p50 ${fmt(l.p50)} / p90 ${fmt(l.p90)} / p99 ${fmt(l.p99)} / max ${fmt(l.max)}`;
  const u = warm.underLoad;
  const wrkRow =
    warm.trustgate.wrk.length > 0
      ? `| 1 | warm req/s, wrk -t1 c50, ${warm.trustgate.wrk.length}×${PLAN.seconds} s | trustgate ${rps(warm.trustgate.wrk)} vs bare ${rps(warm.bare.wrk)} → **${fmt(warm.ratio.wrk ?? Number.NaN, 2)}×** | (cross-check) | — |`
      : '| 1 | warm req/s, wrk | wrk not installed | (cross-check) | — |';
  return [
    `| 1 | warm req/s, autocannon c50, ${warm.trustgate.autocannon.length}×${PLAN.seconds} s | trustgate ${rps(warm.trustgate.autocannon)} vs bare ${rps(warm.bare.autocannon)} → **${fmt(warm.ratio.autocannon, 2)}×** (rounds ${ratioRange}) | ≥ 0.8× | ${mark(0)} |`,
    wrkRow,
    `| 1 | server CPU per request (autocannon) | trustgate ${cpu(warm.trustgate.autocannon)} µs vs bare ${cpu(warm.bare.autocannon)} µs → ${fmt(warm.ratio.cpuPerReq, 2)}× | (info) | — |`,
    `| 1 | latency at 1 connection (µs, n=${warm.trustgate.latency.n}/${warm.bare.latency.n}) | trustgate ${lat(warm.trustgate.latency)}; bare ${lat(warm.bare.latency)} | p99 < 1 ms | ${mark(1)} |`,
    `| 1 | cache under load | ${u.verdictHits} verdict hits, ${u.verdictMisses} misses, ${u.verifications} verifications; ${u.tagMisses} tag-cache misses (requests that joined a registry digest re-check: one HEAD per image per tag TTL) | 0 verdict misses | — |`,
  ];
}

function coldRows(r: Results, mark: (i: number) => string): string[] {
  const { cold, concurrent } = r;
  const list = (m: Record<string, number>): string =>
    Object.entries(m)
      .map(([k, v]) => `${k}×${v}`)
      .join(', ');
  const fetches = Object.values(cold.coldFetches).reduce((a, b) => a + b, 0);
  return [
    `| 2 | cold Notary v1, fresh NotaryEvidence (${cold.roles.join(', ')}), n=${cold.cold.n} | p50 **${fmt(cold.cold.p50, 2)} ms**, p90 ${fmt(cold.cold.p90, 2)} ms (${fmt(cold.cold.min, 2)}–${fmt(cold.cold.max, 2)}); node CPU ${fmt(cold.coldCpuMs, 2)} ms/verification; first in process ${fmt(cold.firstMs, 1)} ms; ${fetches} fetches | p50 < 10 ms | ${mark(2)} |`,
    `| 2 | warm refresh (same NotaryEvidence), n=${cold.warm.n} | p50 ${fmt(cold.warm.p50, 2)} ms, p90 ${fmt(cold.warm.p90, 2)} ms; fetches ${list(cold.warmFetches)} | (info) | — |`,
    `| 3 | ${concurrent.requests} concurrent reviews, one uncached image (max ${concurrent.maxInFlight} in flight) | ${list(concurrent.fetches)}; registry HEAD×${concurrent.registryLookups}; ${concurrent.allowed}/${concurrent.requests} allowed in ${fmt(concurrent.wallMs)} ms | each once | ${mark(3)} |`,
  ];
}

function linearRows(linear: readonly LinearRow[], mark: (i: number) => string): string[] {
  const row1k = linearRow(linear, 1000);
  const row10k = linearRow(linear, 10_000);
  const marginalPer1k = (row10k.cpuMs - row1k.cpuMs) / 9;
  const range = (x: LinearRow): string => `${fmt(x.cpuMinMs, 2)}–${fmt(x.cpuMaxMs, 2)}`;
  return [
    ...linear
      .filter((x) => x.targets < 1000)
      .map(
        (x) =>
          `| 4 | verify + resolve, ${fmt(x.targets)} targets (fixed cost) | ${fmt(x.cpuMs, 2)} ms CPU (${range(x)}) | (info) | — |`,
      ),
    `| 4 | verify + resolve, 1,000 targets (${fmt(row1k.targetsBytes / 1024)} KB) | **${fmt(row1k.cpuMs, 2)} ms** CPU (${range(row1k)}), first ${fmt(row1k.firstMs, 1)} ms | < 5 ms | ${mark(4)} |`,
    `| 4 | verify + resolve, 10,000 targets (${fmt(row10k.targetsBytes / 1024)} KB) | **${fmt(row10k.cpuMs, 2)} ms** CPU (${range(row10k)}), first ${fmt(row10k.firstMs, 1)} ms | < 50 ms | ${mark(5)} |`,
    `| 4 | linearity (ms per 1k targets) | 1k: ${fmt(row1k.cpuMs, 2)}; 10k: ${fmt(row10k.cpuMs / 10, 2)}; marginal 1k→10k: ${fmt(marginalPer1k, 2)}; 10k verify = ${fmt(row10k.cpuMs / row10k.parseMs, 1)}× a bare JSON.parse of its targets.json (machine-speed independent). 10k targets.json: JSON.parse ${fmt(row10k.parseMs, 2)} ms, canonical JSON re-encode ${fmt(row10k.canonicalMs, 2)} ms, parseEnvelope ${fmt(row10k.envelopeMs, 2)} ms | linear | — |`,
    `| 4 | list every target with its digest after verifying (inspect, digest-only references) | 1,000: ${fmt(row1k.listMs, 2)} ms CPU; 10,000: ${fmt(row10k.listMs, 2)} ms CPU | (info) | — |`,
  ];
}

function otherRows(r: Results, mark: (i: number) => string): string[] {
  const { memory, startup, digest } = r;
  return [
    `| 5 | ${fmt(memory.entries)} cached verdicts in TtlCache (after gc) | RSS **+${fmt(memory.rssMB, 1)} MB**, heap +${fmt(memory.heapUsedMB, 1)} MB (${fmt(memory.bytesPerEntry)} B/entry, keys ≈ ${fmt(memory.avgKeyChars)} chars) | < 50 MB | ${mark(6)} |`,
    `| 6 | spawn → /readyz 200, n=${startup.readyMs.n} | **${fmt(startup.readyMs.p50)} ms** (${fmt(startup.readyMs.min)}–${fmt(startup.readyMs.max)}); "serving" log line at ${fmt(startup.logLineMs.p50)} ms | < 1 s | ${mark(7)} |`,
    `| 7 | cold verification with registry digest check on vs off, n=${digest.on.n} each | on p50 ${fmt(digest.on.p50, 2)} ms vs off ${fmt(digest.off.p50, 2)} ms → +${fmt(digest.overheadMs, 2)} ms (${fmt(digest.headsOn, 0)} HEAD vs ${fmt(digest.headsOff, 0)}) | (info) | — |`,
  ];
}

function roundRows(warm: WarmResult): string[] {
  const row = (
    label: string,
    t: { reqPerSec: number; cpuUsPerReq: number },
    b: { reqPerSec: number; cpuUsPerReq: number },
  ): string =>
    `| ${label} | ${fmt(t.reqPerSec)}; ${fmt(t.cpuUsPerReq)} µs | ${fmt(b.reqPerSec)}; ${fmt(b.cpuUsPerReq)} µs | ${fmt(t.reqPerSec / b.reqPerSec, 2)} |`;
  return [
    '',
    '### Warm path rounds (req/s; server CPU µs/request)',
    '',
    '| round | trustgate | bare | ratio |',
    '|---|---|---|---|',
    ...warm.trustgate.autocannon.map((t, i) =>
      row(`autocannon ${i + 1}`, t, warm.bare.autocannon[i]!),
    ),
    ...warm.trustgate.wrk.map((t, i) => row(`wrk ${i + 1}`, t, warm.bare.wrk[i]!)),
    `| median | ${fmt(median(warm.trustgate.autocannon.map((x) => x.reqPerSec)))} | ${fmt(median(warm.bare.autocannon.map((x) => x.reqPerSec)))} | ${fmt(warm.ratio.autocannon, 2)} |`,
  ];
}

function render(r: Results): { markdown: string; verdicts: Verdict[] } {
  const verdicts = verdictsOf(r);
  const mark = (i: number): string => (verdicts[i]!.met ? 'MET' : 'NOT MET');
  const lines = [
    ...headerLines(r.m, r.warm),
    ...warmRows(r.warm, mark),
    ...coldRows(r, mark),
    ...linearRows(r.linear, mark),
    ...otherRows(r, mark),
    ...roundRows(r.warm),
    '',
    '### Verdicts',
    '',
    ...verdicts.map((v) => `- ${v.met ? 'MET' : 'NOT MET'}: ${v.target} (${v.detail})`),
    '',
  ];
  return { markdown: lines.join('\n'), verdicts };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
