// SPDX-License-Identifier: Apache-2.0
// Load generators for the warm-path comparison: autocannon (programmatic, in this process)
// and, when installed, wrk (Debian) as a C cross-check; plus one checked HTTPS request.

import autocannon, { type AutocannonResult } from 'autocannon';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import https from 'node:https';

export interface LoadResult {
  readonly reqPerSec: number;
  readonly requests: number;
  readonly seconds: number;
  /** Errors, timeouts, non-2xx answers and answers without `"allowed":true`. */
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** autocannon: `connections` keep-alive connections POSTing `body` for `seconds`. */
export function runAutocannon(
  url: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, */*' },
        body,
        connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        verifyBody: (b) => b.includes('"allowed":true'),
      },
      (err: Error | null, r: AutocannonResult) => {
        if (err) return reject(err);
        const requests = r.requests.total;
        resolve({
          reqPerSec: requests / r.duration,
          requests,
          seconds: r.duration,
          failures: r.errors + r.timeouts + r.non2xx + r.mismatches,
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
        });
      },
    );
  });
}

/** Whether a program is on PATH (`<cmd> -v` runs). */
export function hasProgram(cmd: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(cmd, ['-v'], { stdio: 'ignore' });
    p.once('error', () => resolve(false));
    p.once('exit', () => resolve(true));
  });
}

/** Write the wrk Lua script that POSTs `body` as JSON; returns its path. */
export function writeWrkScript(path: string, body: string): string {
  if (body.includes(']==]')) throw new Error('body cannot be embedded in a Lua long string');
  writeFileSync(
    path,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[${body}]==]\n`,
  );
  return path;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export interface WrkOptions {
  readonly url: string;
  /** Lua script from {@link writeWrkScript}. */
  readonly script: string;
  readonly connections: number;
  readonly seconds: number;
  /** CPU list for `taskset -c`; unpinned when absent. */
  readonly cpus?: string | undefined;
}

/** wrk -t1 -c<connections> for `seconds` (pinned with taskset when `cpus` is given). */
export function runWrk(o: WrkOptions): Promise<LoadResult> {
  const { seconds } = o;
  const args = ['-t1', `-c${o.connections}`, `-d${seconds}s`, '--latency', '-s', o.script, o.url];
  const [cmd, argv] =
    o.cpus !== undefined ? ['taskset', ['-c', o.cpus, 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), (seconds + 15) * 1000);
    p.once('error', (err) => (clearTimeout(timer), reject(err)));
    p.once('exit', (code) => {
      clearTimeout(timer);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const total = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
      const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
      const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(out);
      if (code !== 0 || !rps || !total || !p50 || !p99)
        return reject(new Error(`wrk failed (exit ${code}):\n${out}`));
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const socketErrors = errs ? errs.slice(1).reduce((a, x) => a + Number(x), 0) : 0;
      resolve({
        reqPerSec: Number(rps[1]),
        requests: Number(total[1]),
        seconds: toMs(total[2]!, total[3]!) / 1000,
        failures: non2xx + socketErrors,
        p50Ms: toMs(p50[1]!, p50[2]!),
        p99Ms: toMs(p99[1]!, p99[2]!),
      });
    });
  });
}

/** One POST; resolves with status and body (self-signed certificate accepted: loopback only). */
export function postOnce(
  port: number,
  path: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        rejectUnauthorized: false,
        agent: false,
        timeout: 10_000,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
