// SPDX-License-Identifier: Apache-2.0
// Child processes for the benchmark: start a compiled bench script with an IPC channel
// (optionally pinned to a CPU), read its CPU time from /proc, and stop it by PID.

import type { Writable } from 'node:stream';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A child started by {@link startChild}; every message it sends is queued until read. */
export interface ChildHandle {
  readonly pid: number;
  readonly child: ChildProcess;
  /** The next IPC message with `type` (rejects after `timeoutMs` or when the child exits). */
  next<T>(type: string, timeoutMs?: number): Promise<T>;
  send(msg: unknown): void;
  /** user+system CPU seconds of the child so far (from /proc/<pid>/stat). */
  cpuSeconds(): number;
  /** Everything the child wrote to stderr. */
  stderr(): string;
  /** Bytes and lines the child wrote to stdout (counted only with `stdout: 'pipe'`). */
  stdoutCount(): { bytes: number; lines: number };
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const CLOCK_TICKS = 100;

/** user+system CPU seconds of a process (Linux /proc, clock ticks of 10 ms). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may contain spaces: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export interface StartChildOptions {
  /** CPU list for `taskset -c` (e.g. `0`); unpinned when absent. */
  readonly cpus?: string;
  readonly nodeArgs?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Where the child's stdout goes (default: discarded). `pipe`: a pipe this process drains and
   * counts. `drain`: a pipe read by a separate `cat > /dev/null` process, as a container
   * runtime's log reader is: the child pays for real pipe writes, and reading them does not
   * share an event loop with this process's load generator or latency client.
   */
  readonly stdout?: 'ignore' | 'inherit' | 'pipe' | 'drain';
  /** CPU list for the `drain` reader (e.g. the load generator's, so it never takes the server's). */
  readonly drainCpus?: string;
}

/**
 * The child's stdout: for `drain`, the write end of a pipe that a separate `cat > /dev/null`
 * reads (it exits by itself at end of input, once the child, its only other writer, is gone).
 */
function stdoutOf(opts: StartChildOptions): {
  stdio: 'ignore' | 'inherit' | 'pipe' | Writable;
  drain?: ChildProcess;
} {
  if (opts.stdout !== 'drain') return { stdio: opts.stdout ?? 'ignore' };
  const [cmd, argv] =
    opts.drainCpus !== undefined ? ['taskset', ['-c', opts.drainCpus, 'cat']] : ['cat', []];
  const drain = spawn(cmd, argv, { stdio: ['pipe', 'ignore', 'ignore'] });
  return { stdio: drain.stdin, drain };
}

/** Start `node <script>` with an IPC channel; stdout is discarded unless asked for. */
export function startChild(script: string, opts: StartChildOptions = {}): ChildHandle {
  const nodeArgv = [...(opts.nodeArgs ?? []), script, ...(opts.args ?? [])];
  const [cmd, argv] =
    opts.cpus !== undefined
      ? ['taskset', ['-c', opts.cpus, process.execPath, ...nodeArgv]]
      : [process.execPath, nodeArgv];
  const stdout = stdoutOf(opts);
  const child = spawn(cmd, argv, {
    stdio: ['ignore', stdout.stdio, 'pipe', 'ipc'],
    env: { ...process.env, ...opts.env },
  });
  // The child has its own copy of the pipe's write end: close ours, so the drain sees the end.
  stdout.drain?.stdin?.destroy();
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  const pid = child.pid;
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 64 * 1024) err += d.toString();
  });
  const out = { bytes: 0, lines: 0 };
  child.stdout?.on('data', (d: Buffer) => {
    out.bytes += d.length;
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) out.lines++;
  });
  const queue: { type: string }[] = [];
  const waiters: { type: string; resolve: (m: unknown) => void }[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  child.on('message', (m: { type: string }) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
    else queue.push(m);
  });
  return {
    pid,
    child,
    next<T>(type: string, timeoutMs = 60_000): Promise<T> {
      const i = queue.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0] as T);
      return new Promise<T>((resolve, reject) => {
        const w = { type, resolve: (m: unknown) => (clearTimeout(timer), resolve(m as T)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`${script}: no "${type}" message within ${timeoutMs} ms\n${err}`));
        }, timeoutMs);
        waiters.push(w);
        void exit.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(w), 1);
            reject(new Error(`${script} exited before sending "${type}"\n${err}`));
          }
        });
      });
    },
    send(msg) {
      if (!exited && child.connected) child.send(msg as never);
    },
    cpuSeconds: () => processCpuSeconds(pid),
    stderr: () => err,
    stdoutCount: () => ({ ...out }),
    async stop(graceMs = 3000) {
      // The drain ends at end of input anyway; stopped by its PID all the same.
      if (stdout.drain?.pid !== undefined && stdout.drain.exitCode === null) stdout.drain.kill();
      if (exited) return;
      process.kill(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        exit.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
      ]);
      clearTimeout(timer);
      if (!done) {
        process.kill(pid, 'SIGKILL');
        await exit;
      }
    },
  };
}

/** Set the CPU affinity of every thread of this process (`taskset -a -p`); false when it failed. */
export async function pinSelf(cpus: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' });
    p.once('error', () => resolve(false));
    p.once('exit', (code) => resolve(code === 0));
  });
}
