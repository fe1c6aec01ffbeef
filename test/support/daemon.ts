// SPDX-License-Identifier: Apache-2.0
// One lifecycle for the real daemons tests start (notary-server, docker-registry): spawn on a
// free loopback port, wait until a readiness probe answers, stop by PID (SIGTERM, then SIGKILL).

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** GET `url` with a short timeout; true on the expected status. Never throws. */
export async function probe(url: string, status = 200): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return res.status === status;
  } catch {
    return false;
  }
}

export interface Daemon {
  readonly pid: number;
  /** Everything the process wrote to stdout/stderr so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartDaemonOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** Resolves true once the daemon serves requests. */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs?: number;
}

/**
 * Spawn a daemon and wait for `ready()`. Resolves with the daemon, or with `undefined` and the
 * log when it exited early or never became ready (it is killed first): callers retry on another port.
 */
export async function startDaemon(
  opts: StartDaemonOptions,
): Promise<{ daemon: Daemon } | { daemon: undefined; log: string }> {
  const child = spawn(opts.command, opts.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`;
      exited = true;
      resolve();
    });
  });
  const until = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  let ok = false;
  while (!exited && Date.now() < until) {
    if (await opts.ready()) {
      ok = true;
      break;
    }
    await sleep(25);
  }
  const pid = child.pid;
  if (!ok || pid === undefined) {
    if (!exited && pid !== undefined) {
      process.kill(pid, 'SIGKILL');
      await exit;
    }
    return { daemon: undefined, log: output };
  }
  let stopping: Promise<void> | undefined;
  const stop = async (graceMs: number): Promise<void> => {
    if (exited) return;
    process.kill(pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs)));
    const done = await Promise.race([exit.then(() => true), grace]);
    clearTimeout(timer);
    if (!done) {
      process.kill(pid, 'SIGKILL');
      await exit;
    }
  };
  return {
    daemon: {
      pid,
      log: () => output,
      stop: (graceMs = 3000) => (stopping ??= stop(graceMs)),
    },
  };
}
