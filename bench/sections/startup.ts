// SPDX-License-Identifier: Apache-2.0
// §7 startup: time from spawning `node bin/trustgate.js serve --policies policies --dev-cert`
// (loopback, free ports) to the first `/readyz` 200. The port is taken from the "serving" log line.

import { spawn } from 'node:child_process';
import https from 'node:https';
import { join } from 'node:path';
import { summarize, type Summary } from '../lib/stats.js';

export interface StartupResult {
  readonly readyMs: Summary;
  /** Spawn → the "trustgate is serving" log line. */
  readonly logLineMs: Summary;
  readonly command: string;
}

function readyz(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: '127.0.0.1',
        port,
        path: '/readyz',
        rejectUnauthorized: false,
        agent: false,
        timeout: 2000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function once(
  repoDir: string,
  args: readonly string[],
): Promise<{ readyMs: number; logLineMs: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(repoDir, 'bin/trustgate.js'), ...args], {
    cwd: repoDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn trustgate');
  const pid = child.pid;
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`trustgate did not log "serving" within 10 s:\n${out}`)),
        10_000,
      );
      const onData = (d: Buffer): void => {
        out += d.toString();
        const m = /"msg":"trustgate is serving".*?"webhook":"https:\/\/[^"]*:(\d+)"/.exec(out);
        if (m) {
          clearTimeout(timer);
          child.stdout.off('data', onData);
          resolve(Number(m[1]));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      void exited.then(
        () => (clearTimeout(timer), reject(new Error(`trustgate exited early:\n${out}`))),
      );
    });
    const logLineMs = performance.now() - t0;
    child.stdout.resume();
    for (let i = 0; i < 200; i++) {
      if ((await readyz(port)) === 200) return { readyMs: performance.now() - t0, logLineMs };
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('/readyz never answered 200');
  } finally {
    process.kill(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
    ]);
    clearTimeout(timer);
    if (!gone) {
      process.kill(pid, 'SIGKILL');
      await exited;
    }
  }
}

/** Median of `runs` cold starts of the CLI. */
export async function runStartup(repoDir: string, runs: number): Promise<StartupResult> {
  // --host keeps the benchmark on loopback (the default would bind 0.0.0.0).
  const args = [
    'serve',
    '--policies',
    'policies',
    '--dev-cert',
    '--port',
    '0',
    '--metrics-port',
    '0',
    '--host',
    '127.0.0.1',
  ];
  const ready: number[] = [];
  const log: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await once(repoDir, args);
    ready.push(r.readyMs);
    log.push(r.logLineMs);
  }
  return {
    readyMs: summarize(ready),
    logLineMs: summarize(log),
    command: `node bin/trustgate.js ${args.join(' ')}`,
  };
}
