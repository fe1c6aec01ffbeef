// SPDX-License-Identifier: Apache-2.0
// §7 warm path: trustgate's real admission server (every verdict cached) vs a bare node:https
// server, both in child processes with the same certificate, loaded alternately in the same
// run; throughput at 50 connections (autocannon, wrk) and µs latency at 1 connection.

import { join } from 'node:path';
import { cpus as cpuList, tmpdir } from 'node:os';
import { REVIEW_UID } from '../lib/admission-review.js';
import { closedLoop, rawPost } from '../lib/latency-client.js';
import {
  hasProgram,
  postOnce,
  runAutocannon,
  runWrk,
  writeWrkScript,
  type LoadResult,
} from '../lib/load.js';
import { pinSelf, startChild, type ChildHandle } from '../lib/proc.js';
import { median, summarize, type Summary } from '../lib/stats.js';

export interface WarmOptions {
  readonly toolsDir: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly policyYaml: string;
  readonly images: readonly string[];
  readonly body: string;
  /** Pin servers to CPU 0 and the load generators to CPU 1. */
  readonly pin: boolean;
  readonly rounds: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly connections: number;
  readonly latencyRounds: number;
  readonly latencySeconds: number;
  readonly wrkRounds: number;
  readonly log: (line: string) => void;
}

export interface ServerRun extends LoadResult {
  readonly round: number;
  /** Server CPU (user+system) per request, µs. */
  readonly cpuUsPerReq: number;
}

export interface WarmSide {
  readonly autocannon: ServerRun[];
  readonly wrk: ServerRun[];
  readonly latency: Summary & { bad: number; reqPerSec: number };
}

export interface WarmResult {
  readonly pinned: boolean;
  readonly bodyBytes: number;
  readonly trustgate: WarmSide;
  readonly bare: WarmSide;
  /** Ratio of medians, trustgate / bare. */
  readonly ratio: { autocannon: number; wrk: number | null; cpuPerReq: number };
  /** Per-round ratios (same round, adjacent runs). */
  readonly roundRatios: number[];
  /**
   * Cache activity under load: verdict misses and verifications must be 0; tag misses are the
   * registry digest re-checks (one per image per tag TTL, by design).
   */
  readonly underLoad: {
    verdictMisses: number;
    verifications: number;
    verdictHits: number;
    tagMisses: number;
  };
  readonly primed: unknown;
}

interface Stats {
  verdictHits: number;
  verdictMisses: number;
  tagMisses: number;
  verifications: number;
}

async function stats(tg: ChildHandle): Promise<Stats> {
  tg.send({ type: 'stats' });
  return tg.next<Stats>('stats', 10_000);
}

async function measured(
  server: ChildHandle,
  round: number,
  run: () => Promise<LoadResult>,
): Promise<ServerRun> {
  const cpu0 = server.cpuSeconds();
  const r = await run();
  const cpu = server.cpuSeconds() - cpu0;
  return { ...r, round, cpuUsPerReq: r.requests > 0 ? (cpu * 1e6) / r.requests : Number.NaN };
}

type Name = 'trustgate' | 'bare';
interface Server {
  readonly name: Name;
  readonly child: ChildHandle;
  readonly port: number;
}

const PATH = '/validate?timeout=10s';
const url = (port: number): string => `https://127.0.0.1:${port}${PATH}`;

/** Servers in alternating order: A,B then B,A, so neither always runs first in a round. */
function ordered(servers: readonly Server[], round: number): readonly Server[] {
  return round % 2 === 0 ? servers : [...servers].reverse();
}

/** Both servers must answer the review correctly before any number means anything. */
async function checkAnswers(servers: readonly Server[], body: string): Promise<void> {
  for (const s of servers) {
    const r = await postOnce(s.port, PATH, body);
    const doc = JSON.parse(r.body) as { response?: { uid?: string; allowed?: boolean } };
    if (r.status !== 200 || doc.response?.allowed !== true || doc.response.uid !== REVIEW_UID) {
      throw new Error(`${s.name} did not allow the benchmark review: ${r.status} ${r.body}`);
    }
  }
}

/** Alternating load rounds with one generator; each run records the server's CPU per request. */
async function loadRounds(
  servers: readonly Server[],
  plan: { rounds: number; label: string; log: (line: string) => void },
  run: (s: Server) => Promise<LoadResult>,
): Promise<Record<Name, ServerRun[]>> {
  const { rounds, label, log } = plan;
  const out: Record<Name, ServerRun[]> = { trustgate: [], bare: [] };
  for (let round = 0; round < rounds; round++) {
    for (const s of ordered(servers, round)) {
      const r = await measured(s.child, round, () => run(s));
      out[s.name].push(r);
      log(
        `  ${label} round ${round + 1}/${rounds} ${s.name.padEnd(9)} ${r.reqPerSec.toFixed(0)} req/s, ${r.cpuUsPerReq.toFixed(0)} µs CPU/req, failures ${r.failures}`,
      );
    }
  }
  return out;
}

/** Closed-loop latency at one connection, alternating servers. */
async function latencyRounds(
  servers: readonly Server[],
  o: WarmOptions,
): Promise<Record<Name, WarmSide['latency']>> {
  const acc: Record<Name, { us: number[]; bad: number; reqs: number; secs: number }> = {
    trustgate: { us: [], bad: 0, reqs: 0, secs: 0 },
    bare: { us: [], bad: 0, reqs: 0, secs: 0 },
  };
  for (const s of servers) await closedLoop(s.port, rawPost(s.port, PATH, o.body), 500, 100_000);
  for (let round = 0; round < o.latencyRounds; round++) {
    for (const s of ordered(servers, round)) {
      const r = await closedLoop(
        s.port,
        rawPost(s.port, PATH, o.body),
        o.latencySeconds * 1000,
        200_000,
      );
      const a = acc[s.name];
      a.us.push(...r.latenciesUs);
      a.bad += r.bad;
      a.reqs += r.latenciesUs.length;
      a.secs += r.seconds;
      const sm = summarize(r.latenciesUs);
      o.log(
        `  1-conn round ${round + 1}/${o.latencyRounds} ${s.name.padEnd(9)} p50 ${sm.p50.toFixed(0)} µs, p99 ${sm.p99.toFixed(0)} µs (n=${sm.n})`,
      );
    }
  }
  const side = (n: Name): WarmSide['latency'] => ({
    ...summarize(acc[n].us),
    bad: acc[n].bad,
    reqPerSec: acc[n].reqs / acc[n].secs,
  });
  return { trustgate: side('trustgate'), bare: side('bare') };
}

async function startServers(
  o: WarmOptions,
): Promise<{ servers: Server[]; tg: ChildHandle; primed: unknown }> {
  const opts = o.pin ? { cpus: '0' } : {};
  // trustgate writes one audit line per request: into a pipe that a separate process reads (as
  // a container runtime reads a container's stdout), not /dev/null, so the server pays for real
  // pipe writes; reading them must not share an event loop with the latency client below.
  const tg = startChild(join(o.toolsDir, 'bench/servers/trustgate.js'), {
    ...opts,
    stdout: 'drain',
    ...(o.pin ? { drainCpus: '1' } : {}),
  });
  const bare = startChild(join(o.toolsDir, 'bench/servers/bare.js'), opts);
  try {
    tg.send({
      type: 'start',
      certPem: o.certPem,
      keyPem: o.keyPem,
      policyYaml: o.policyYaml,
      images: o.images,
    });
    bare.send({ type: 'start', certPem: o.certPem, keyPem: o.keyPem });
    const [tgReady, bareReady] = await Promise.all([
      tg.next<{ port: number; primed: unknown }>('ready', 60_000),
      bare.next<{ port: number }>('ready', 30_000),
    ]);
    const servers: Server[] = [
      { name: 'trustgate', child: tg, port: tgReady.port },
      { name: 'bare', child: bare, port: bareReady.port },
    ];
    return { servers, tg, primed: tgReady.primed };
  } catch (err) {
    await Promise.allSettled([tg.stop(), bare.stop()]);
    throw err;
  }
}

/** Run the warm-path comparison; both server processes are stopped before it returns. */
export async function runWarm(o: WarmOptions): Promise<WarmResult> {
  const { servers, tg, primed } = await startServers(o);
  let pinned = false;
  try {
    await checkAnswers(servers, o.body);
    if (o.pin) pinned = await pinSelf('1');
    const loadCpus = pinned ? '1' : undefined;

    o.log(`  warm-up ${o.warmupSeconds}s each`);
    for (const s of servers)
      await runAutocannon(url(s.port), o.body, o.connections, o.warmupSeconds);
    const before = await stats(tg);
    const ac = await loadRounds(
      servers,
      { rounds: o.rounds, label: 'autocannon', log: o.log },
      (s) => runAutocannon(url(s.port), o.body, o.connections, o.seconds),
    );
    const lat = await latencyRounds(servers, o);
    let wrk: Record<Name, ServerRun[]> = { trustgate: [], bare: [] };
    if (o.wrkRounds > 0 && (await hasProgram('wrk'))) {
      const script = writeWrkScript(join(tmpdir(), `trustgate-bench-${process.pid}.lua`), o.body);
      wrk = await loadRounds(servers, { rounds: o.wrkRounds, label: 'wrk', log: o.log }, (s) =>
        runWrk({
          url: url(s.port),
          script,
          connections: o.connections,
          seconds: o.seconds,
          cpus: loadCpus,
        }),
      );
    }
    const after = await stats(tg);

    const med = (runs: ServerRun[], f: (r: ServerRun) => number): number => median(runs.map(f));
    const side = (name: Name): WarmSide => ({
      autocannon: ac[name],
      wrk: wrk[name],
      latency: lat[name],
    });
    return {
      pinned,
      bodyBytes: Buffer.byteLength(o.body),
      trustgate: side('trustgate'),
      bare: side('bare'),
      ratio: {
        autocannon: med(ac.trustgate, (r) => r.reqPerSec) / med(ac.bare, (r) => r.reqPerSec),
        wrk:
          wrk.trustgate.length > 0
            ? med(wrk.trustgate, (r) => r.reqPerSec) / med(wrk.bare, (r) => r.reqPerSec)
            : null,
        cpuPerReq: med(ac.trustgate, (r) => r.cpuUsPerReq) / med(ac.bare, (r) => r.cpuUsPerReq),
      },
      roundRatios: ac.trustgate.map((r, i) => r.reqPerSec / ac.bare[i]!.reqPerSec),
      underLoad: {
        verdictMisses: after.verdictMisses - before.verdictMisses,
        verifications: after.verifications - before.verifications,
        verdictHits: after.verdictHits - before.verdictHits,
        tagMisses: after.tagMisses - before.tagMisses,
      },
      primed,
    };
  } finally {
    if (pinned) await pinSelf(`0-${cpuList().length - 1}`);
    await Promise.allSettled(servers.map((s) => s.child.stop()));
  }
}
