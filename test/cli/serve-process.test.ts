// SPDX-License-Identifier: Apache-2.0
// `trustgate serve` as the real process `npm start` runs (bin/trustgate.js → dist/, so build
// first): `serve --policies policies --dev-cert`, plus --host/--port/--metrics-port to stay on free
// loopback ports. Unlike test/webhook (runServe in-process, stopped through an AbortSignal), this
// sends a real SIGTERM to the child's PID: the signal handlers, the drain of an in-flight request,
// exit code 0 and the final flush of stdout (a pipe, written every 10 ms and on the way out); and
// the shutdown delay (config `shutdownDelaySeconds`): readiness off while still serving, cut short
// by a second SIGTERM, skipped on SIGINT. Each process gets a `--config` file from a temp dir.

import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { reviewBody, workloadObject } from '../../src/__fixtures__/admission/factory.js';
import { sleep } from '../support/daemon.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'trustgate.js');
// package.json "start", then loopback and kernel-chosen ports (read back from the serving line).
const ARGS = ['serve', '--policies', 'policies', '--dev-cert'];
const LOOPBACK = ['--host', '127.0.0.1', '--port', '0', '--metrics-port', '0'];

type LogLine = Record<string, unknown> & { msg?: string; level?: string };

interface Served {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  lines(): LogLine[];
  /** Set once the process exited and its pipes closed. */
  readonly result: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnServe(extraArgs: readonly string[]): Served {
  const child = spawn(process.execPath, [BIN, ...ARGS, ...LOOPBACK, ...extraArgs], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn trustgate serve');
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const served: {
    -readonly [K in keyof Served]: Served[K];
  } = {
    child,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          try {
            return JSON.parse(l) as LogLine;
          } catch {
            return { msg: l };
          }
        }),
    result: undefined,
    // 'close', not 'exit': it comes after the pipes are drained, so stdout() is complete.
    closed: new Promise((resolve) => {
      child.once('close', (code, signal) => {
        served.result = { code, signal };
        resolve({ code, signal });
      });
    }),
  };
  return served;
}

/** The first line whose msg matches; fails early (with the output) when the process exits. */
async function waitForLine(s: Served, msg: string | RegExp, timeoutMs = 15_000): Promise<LogLine> {
  const matches = (l: LogLine): boolean =>
    typeof msg === 'string' ? l.msg === msg : msg.test(l.msg ?? '');
  for (let waited = 0; waited <= timeoutMs; waited += 10) {
    const line = s.lines().find(matches);
    if (line !== undefined) return line;
    if (s.result !== undefined) break;
    await sleep(10);
  }
  throw new Error(
    `no log line ${String(msg)} (exit ${JSON.stringify(s.result)}):\n${s.stdout()}${s.stderr()}`,
  );
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** GET over HTTPS; the dev certificate is self-signed and generated inside the child. */
function httpsGet(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false, timeout: 5000 },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/** Resolves with the error code of a plain TCP connect (undefined if it connected). */
function tcpConnectError(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
  });
}

function portOf(url: unknown): number {
  const port = Number(new URL(String(url)).port);
  if (!(port > 0)) throw new Error(`no port in ${String(url)}`);
  return port;
}

// Every child spawned here, so afterAll can SIGKILL (by PID) whichever is still running.
const children: Served[] = [];
let configDir = '';

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first (bin/trustgate.js runs dist/)');
  configDir = mkdtempSync(join(tmpdir(), 'trustgate-serve-process-'));
});

afterAll(async () => {
  // Whatever happened in the tests, leave no child running (by PID, never by name).
  for (const c of children) {
    if (c.result === undefined) {
      process.kill(c.pid, 'SIGKILL');
      await c.closed;
    }
  }
  if (configDir !== '') rmSync(configDir, { recursive: true, force: true });
});

interface Started {
  readonly served: Served;
  readonly port: number;
  readonly metricsUrl: string;
}

/** Spawn with `--config` holding `shutdownDelaySeconds`; resolves once /readyz answers 200. */
async function startServe(shutdownDelaySeconds: number): Promise<Started> {
  const config = join(configDir, `shutdown-delay-${shutdownDelaySeconds}.yaml`);
  writeFileSync(config, `shutdownDelaySeconds: ${shutdownDelaySeconds}\n`);
  const served = spawnServe(['--config', config]);
  children.push(served);
  const serving = await waitForLine(served, 'trustgate is serving');
  const port = portOf(serving['webhook']);
  for (let i = 0; i < 500; i++) {
    const ready = await httpsGet(port, '/readyz').catch(() => undefined);
    if (ready?.status === 200) return { served, port, metricsUrl: String(serving['metrics']) };
    await sleep(20);
  }
  throw new Error(`/readyz never answered 200:\n${served.stdout()}${served.stderr()}`);
}

/**
 * An AdmissionReview for an image no policy in policies/ matches: the answer (a NO_MATCHING_POLICY
 * denial) needs no registry or notary server, so nothing leaves loopback.
 */
function unmatchedReview(uid: string): Buffer {
  const pod = workloadObject('pod');
  (pod['spec'] as { containers: { image: string }[] }).containers[0]!.image =
    'unmatched.invalid/team/web:1.0';
  return reviewBody('pod', pod, { uid });
}

/** Options of a `POST /validate` of `body` on a fresh connection (the dev certificate is self-signed). */
function validateRequest(
  port: number,
  body: Buffer,
  headers: Readonly<Record<string, string>> = {},
): https.RequestOptions {
  return {
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/validate?timeout=10s',
    rejectUnauthorized: false,
    agent: false,
    headers: {
      'content-type': 'application/json',
      'content-length': String(body.length),
      ...headers,
    },
  };
}

/** POST {@link unmatchedReview}. */
function postUnmatchedReview(port: number, uid: string): Promise<Answer> {
  const body = unmatchedReview(uid);
  return new Promise((resolve, reject) => {
    const req = https.request({ ...validateRequest(port, body), timeout: 5000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error('POST /validate timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

const READINESS_OFF = /^shutting down: readiness off, serving for /;

/** The answer to {@link postUnmatchedReview}: a well-formed denial of `uid` by NO_MATCHING_POLICY. */
function expectUnmatchedDenial(text: string, uid: string): void {
  const review = JSON.parse(text) as {
    response: { uid: string; allowed: boolean; status?: { message?: string } };
  };
  expect(review.response).toMatchObject({ uid, allowed: false });
  expect(review.response.status?.message).toContain('NO_MATCHING_POLICY');
}

describe('trustgate serve as a child process (npm start)', () => {
  let s: Served | undefined;
  let port = 0;
  let metricsUrl = '';

  beforeAll(async () => {
    // No shutdown delay: SIGTERM closes the listener at once (asserted below).
    const started = await startServe(0);
    s = started.served;
    port = started.port;
    metricsUrl = started.metricsUrl;
  });

  describe('when started with --dev-cert', () => {
    it('warns about the development certificate and serves health, readiness and metrics', async () => {
      const served = s!;
      // Logged before the serving line beforeAll waited for: no need to wait again.
      const warning = served
        .lines()
        .find((l) => /self-signed development certificate/.test(l.msg ?? ''));
      expect(warning).toMatchObject({ level: 'warn', component: 'trustgate' });
      expect(warning?.msg).toContain('--dev-cert');

      const health = await httpsGet(port, '/healthz');
      expect(health.status).toBe(200);
      expect(JSON.parse(health.text)).toEqual({ status: 'ok' });
      const ready = await httpsGet(port, '/readyz');
      expect(JSON.parse(ready.text)).toEqual({ status: 'ready' });

      expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const metrics = await fetch(metricsUrl);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('# TYPE trustgate_admission_requests_total ');
      expect(text).toMatch(/^trustgate_policies\{state="ready"\} 10$/m);
    });
  });

  describe('when sent SIGTERM with a request in flight and shutdownDelaySeconds: 0', () => {
    it('answers that request, refuses new connections, flushes stdout and exits 0', async () => {
      const served = s!;
      const metricsPort = portOf(metricsUrl);
      const uid = 'serve-process-inflight';
      const body = unmatchedReview(uid);

      // Expect: 100-continue makes the server confirm it is handling the request (Node answers
      // 100 Continue right before it emits 'request'); the body then waits for us.
      const req = https.request(validateRequest(port, body, { expect: '100-continue' }));
      try {
        const continued = new Promise<void>((resolve) => req.once('continue', resolve));
        const answered = new Promise<Answer>((resolve, reject) => {
          req.once('response', (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, text }),
            );
            res.on('error', reject);
          });
          req.once('error', reject);
        });
        req.flushHeaders();
        await continued;
        const half = Math.floor(body.length / 2);
        req.write(body.subarray(0, half));

        process.kill(served.pid, 'SIGTERM');
        await waitForLine(served, 'shutting down: draining in-flight requests');
        expect(served.lines().some((l) => READINESS_OFF.test(l.msg ?? ''))).toBe(false);
        // Draining: the listener is closed, the process waits for our request.
        expect(await tcpConnectError(port)).toBe('ECONNREFUSED');
        expect(served.result).toBeUndefined();

        req.end(body.subarray(half));
        const res = await answered;
        expect(res.status).toBe(200);
        expect(res.headers['connection']).toBe('close');
        expectUnmatchedDenial(res.text, uid);

        expect(await served.closed).toEqual({ code: 0, signal: null });
        expect(served.stderr()).toBe('');
        // Every line reached the pipe whole, the in-flight decision's audit line included, and
        // the last one is written on the way out.
        expect(served.stdout().endsWith('\n')).toBe(true);
        const lines = served.lines();
        expect(lines.filter((l) => l.msg === undefined || !('time' in l))).toEqual([]);
        const msgs = lines.map((l) => l.msg);
        const audit = lines.findIndex((l) => l['audit'] === true && l['uid'] === uid);
        expect(audit).toBeGreaterThanOrEqual(0);
        expect(msgs.indexOf('shutting down: draining in-flight requests')).toBeLessThan(audit);
        expect(msgs.indexOf('stopped')).toBe(lines.length - 1);
        expect(audit).toBeLessThan(lines.length - 1);
        expect(await tcpConnectError(port)).toBe('ECONNREFUSED');
        expect(await tcpConnectError(metricsPort)).toBe('ECONNREFUSED');
      } finally {
        req.destroy();
      }
    });
  });
});

describe('trustgate serve shutdown delay (config shutdownDelaySeconds)', () => {
  describe('when sent SIGTERM with a delay configured', () => {
    it('reports not ready but keeps answering reviews, on new connections, until a second SIGTERM; then exits 0', async () => {
      // 60 s (the maximum): the checks below never race the delay's end, and only the second
      // SIGTERM cutting it short lets the test finish within Jest's 60 s timeout.
      const { served, port } = await startServe(60);
      process.kill(served.pid, 'SIGTERM');
      const off = await waitForLine(served, READINESS_OFF);
      expect(off.msg).toBe('shutting down: readiness off, serving for 60 s while endpoints update');

      const ready = await httpsGet(port, '/readyz');
      expect(ready.status).toBe(503);
      expect(JSON.parse(ready.text)).toEqual({ status: 'not ready' });
      expect(ready.headers['connection']).toBe('close');
      const health = await httpsGet(port, '/healthz');
      expect(health.status).toBe(200);

      const uid = 'serve-process-during-delay';
      const res = await postUnmatchedReview(port, uid);
      expect(res.status).toBe(200);
      expect(res.headers['connection']).toBe('close');
      expectUnmatchedDenial(res.text, uid);
      expect(await tcpConnectError(port)).toBeUndefined();
      expect(served.result).toBeUndefined();
      expect(served.lines().map((l) => l.msg)).not.toContain(
        'shutting down: draining in-flight requests',
      );

      process.kill(served.pid, 'SIGTERM');
      expect(await served.closed).toEqual({ code: 0, signal: null });
      expect(served.stderr()).toBe('');
      const msgs = served.lines().map((l) => l.msg);
      const audit = served.lines().findIndex((l) => l['audit'] === true && l['uid'] === uid);
      expect(msgs.indexOf(off.msg)).toBeLessThan(audit);
      expect(audit).toBeLessThan(msgs.indexOf('shutting down: draining in-flight requests'));
      expect(msgs.indexOf('stopped')).toBe(msgs.length - 1);
      expect(await tcpConnectError(port)).toBe('ECONNREFUSED');
    });
  });

  describe('when sent a single SIGTERM with a 1 s delay', () => {
    it('ends the delay by itself, drains and exits 0 with the stopped line', async () => {
      const { served } = await startServe(1);
      process.kill(served.pid, 'SIGTERM');
      expect(await served.closed).toEqual({ code: 0, signal: null });
      expect(served.stderr()).toBe('');
      const msgs = served.lines().map((l) => l.msg);
      expect(msgs.slice(-3)).toEqual([
        'shutting down: readiness off, serving for 1 s while endpoints update',
        'shutting down: draining in-flight requests',
        'stopped',
      ]);
    });
  });

  describe('when sent SIGINT (Ctrl-C) with a delay configured', () => {
    it('skips the delay: closes the listener at once and exits 0', async () => {
      // 60 s: had the delay run, the test would outlast Jest's 60 s timeout.
      const { served, port } = await startServe(60);
      process.kill(served.pid, 'SIGINT');
      await waitForLine(served, 'shutting down: draining in-flight requests');
      expect(await served.closed).toEqual({ code: 0, signal: null });
      const msgs = served.lines().map((l) => l.msg);
      expect(msgs.some((m) => READINESS_OFF.test(m ?? ''))).toBe(false);
      expect(msgs.indexOf('stopped')).toBe(msgs.length - 1);
      expect(await tcpConnectError(port)).toBe('ECONNREFUSED');
    });
  });
});
