// SPDX-License-Identifier: Apache-2.0
// `npm run demo`: trustgate end to end with REAL components — notary-server, docker-registry and the
// notary CLI sign an image, then the webhook (a child `trustgate serve`) allows and denies Pods.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import {
  freePort,
  NotaryCli,
  startNotaryServer,
  type NotaryServerHandle,
} from '../test/support/notary.js';
import { pushImage, startRegistry, type RegistryHandle } from '../test/support/registry.js';

/** What the demo observed; the test asserts on it so the README's first command cannot rot. */
export interface DemoOutcome {
  /** `response.allowed` of the three AdmissionReviews: signed Pod, unsigned Pod, Deployment. */
  readonly allowed: boolean[];
  /** The reason code of each answer (`OK` when allowed). */
  readonly codes: string[];
  /** `response.status.message` of each answer (`''` when allowed). */
  readonly messages: string[];
  /** Exit codes of `trustgate verify` for the signed and the unsigned tag. */
  readonly verifyExitCodes: number[];
  /** Exit code and stdout of `trustgate inspect`. */
  readonly inspect: { readonly exitCode: number; readonly stdout: string };
  /** The x509 root key ID the policy pinned. */
  readonly rootKeyId: string;
  /** `trustgate_admission_requests_total` lines from `/metrics`. */
  readonly metrics: string[];
  /** PIDs of notary-server, docker-registry and `trustgate serve`: all stopped when runDemo returns. */
  readonly pids: number[];
}

export interface DemoOptions {
  /** Where the narration goes (default stdout). */
  readonly out?: NodeJS.WritableStream;
  /** Abort (Ctrl-C) stops at the next step; everything started so far is still stopped. */
  readonly signal?: AbortSignal;
  /** ANSI colours for headings (default: when `out` is a TTY and NO_COLOR is unset). */
  readonly color?: boolean;
}

/** The repository root: the nearest parent with `bin/trustgate.js` (works from scripts/ and from .cache/tools/scripts/). */
export function findRepoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'bin', 'trustgate.js')) && existsSync(join(dir, 'package.json')))
      return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find the trustgate repository root above ${from}`);
}

// ---------------------------------------------------------------------------------------------
// Small helpers: narration, cancellable steps, child processes.

class Narrator {
  #step = 0;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly color: boolean,
  ) {}
  #paint(code: string, s: string): string {
    return this.color ? `\u001b[${code}m${s}\u001b[0m` : s;
  }
  heading(title: string): void {
    this.#step += 1;
    this.out.write(`\n${this.#paint('1;36', `== ${this.#step}. ${title} ==`)}\n`);
  }
  say(text: string): void {
    this.out.write(`${text}\n`);
  }
  /** A command the user could type themselves. */
  cmd(text: string): void {
    this.out.write(`${this.#paint('2', '  $')} ${text}\n`);
  }
  block(text: string): void {
    this.out.write(`${text.replace(/\n$/, '').replace(/^/gm, '    ')}\n`);
  }
  good(text: string): void {
    this.out.write(`  ${this.#paint('1;32', 'ALLOWED')} ${text}\n`);
  }
  bad(text: string): void {
    this.out.write(`  ${this.#paint('1;31', 'DENIED ')} ${text}\n`);
  }
}

/** Ctrl-C (the options' signal) interrupted the demo. */
export class DemoAborted extends Error {
  constructor() {
    super('demo interrupted');
  }
}

/** Resolve `p`, or reject as soon as `signal` aborts, so Ctrl-C goes straight to the cleanup. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(new DemoAborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new DemoAborted());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/**
 * Register the cleanup of something being started BEFORE awaiting it: when Ctrl-C interrupts the
 * wait, the cleanup still waits for the start to settle and then stops what it started.
 */
function started<T extends { stop(): Promise<void> }>(
  p: Promise<T>,
  cleanups: (() => Promise<void>)[],
): Promise<T>;
function started<T>(
  p: Promise<T>,
  cleanups: (() => Promise<void>)[],
  stop: (v: T) => Promise<void>,
): Promise<T>;
function started<T>(
  p: Promise<T>,
  cleanups: (() => Promise<void>)[],
  stop: (v: T) => Promise<void> = (v) => (v as { stop(): Promise<void> }).stop(),
): Promise<T> {
  cleanups.push(async () => {
    const v = await p.then(
      (x) => ({ x }),
      () => undefined,
    );
    if (v !== undefined) await stop(v.x);
  });
  return p;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `node bin/trustgate.js …args` to completion (bounded: killed after 30 s). */
function runTrustgate(
  root: string,
  args: readonly string[],
  signal?: AbortSignal,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'trustgate.js'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      // On abort node kills exactly this child (by its PID) with SIGTERM.
      ...(signal ? { signal } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err.name === 'AbortError' ? new DemoAborted() : err);
    });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ exitCode: code ?? (sig ? 128 : 1), stdout, stderr });
    });
  });
}

/** A running `trustgate serve` child; `stop()` sends SIGTERM to its PID (SIGKILL after 5 s). */
interface ServeHandle {
  readonly pid: number;
  readonly port: number;
  readonly metricsPort: number;
  log(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

/** `process.kill(pid, sig)`; false when the process no longer exists. */
function signalPid(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  isDone: () => boolean,
): Promise<void> {
  return (async () => {
    if (isDone() || child.pid === undefined) return;
    // After Ctrl-C in a terminal the child got SIGINT too and may already be gone.
    if (!signalPid(child.pid, 'SIGTERM')) return;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
    ]);
    clearTimeout(timer);
    if (!inTime && !isDone()) {
      if (signalPid(child.pid, 'SIGKILL')) await exited;
    }
  })();
}

/** Spawn `trustgate serve --policies DIR --dev-cert` on the given loopback ports. */
function spawnServe(
  root: string,
  policiesDir: string,
  port: number,
  metricsPort: number,
): ServeHandle {
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin', 'trustgate.js'),
      'serve',
      '--policies',
      policiesDir,
      '--dev-cert',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--metrics-port',
      String(metricsPort),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  let done = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      done = true;
      resolve();
    });
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`;
      done = true;
      resolve();
    });
  });
  return {
    pid: child.pid ?? -1,
    port,
    metricsPort,
    log: () => output,
    exited: () => done,
    stop: () => stopChild(child, exited, () => done),
  };
}

/** Poll `/readyz` until it answers 200 (true), the child exits, `stop()` says so, or 20 s pass. */
async function waitReady(
  serve: ServeHandle,
  insecure: Agent,
  stop: () => boolean,
): Promise<boolean> {
  const until = Date.now() + 20_000;
  while (!serve.exited() && !stop() && Date.now() < until) {
    try {
      const res = await request(`https://127.0.0.1:${serve.port}/readyz`, {
        dispatcher: insecure,
        signal: AbortSignal.timeout(1000),
      });
      await res.body.dump();
      if (res.statusCode === 200) return true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}

/**
 * Start `trustgate serve` on free loopback ports and wait until `/readyz` answers 200 (policies
 * loaded). Retries once on another port pair if a port was taken between choosing and binding.
 * @throws Error with the webhook's log when it never becomes ready.
 */
async function startServe(
  root: string,
  policiesDir: string,
  insecure: Agent,
  signal?: AbortSignal,
): Promise<ServeHandle> {
  let lastLog = '';
  const aborted = (): boolean => signal?.aborted === true;
  for (let attempt = 0; attempt < 2 && !aborted(); attempt++) {
    const serve = spawnServe(root, policiesDir, await freePort(), await freePort());
    if (await waitReady(serve, insecure, aborted)) return serve;
    await serve.stop();
    lastLog = serve.log();
  }
  throw new Error(`trustgate serve did not become ready:\n${lastLog}`);
}

// ---------------------------------------------------------------------------------------------
// AdmissionReviews as the kube-apiserver sends them.

/** A CREATE AdmissionReview for `object` in namespace `demo`, as the kube-apiserver sends it. */
function createReview(
  uid: string,
  type: { group: string; kind: string; resource: string },
  object: { metadata: { name: string; namespace: string } } & Record<string, unknown>,
): unknown {
  const gvk = { group: type.group, version: 'v1', kind: type.kind };
  const gvr = { group: type.group, version: 'v1', resource: type.resource };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: gvk,
      resource: gvr,
      requestKind: gvk,
      requestResource: gvr,
      name: object.metadata.name,
      namespace: 'demo',
      operation: 'CREATE',
      userInfo: { username: 'developer@example.com' },
      object,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

function podReview(uid: string, image: string): unknown {
  return createReview(
    uid,
    { group: '', kind: 'Pod', resource: 'pods' },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'demo' },
      spec: { containers: [{ name: 'web', image }] },
    },
  );
}

function deploymentReview(uid: string, image: string, initImage: string): unknown {
  return createReview(
    uid,
    { group: 'apps', kind: 'Deployment', resource: 'deployments' },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'demo' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: {
            initContainers: [{ name: 'migrate', image: initImage }],
            containers: [{ name: 'api', image }],
          },
        },
      },
    },
  );
}

interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  warnings?: string[];
}

async function sendReview(
  port: number,
  review: unknown,
  insecure: Agent,
): Promise<AdmissionResponse> {
  // `?timeout=10s` is how the kube-apiserver passes the webhook's timeoutSeconds (SPEC §4).
  const res = await request(`https://127.0.0.1:${port}/validate?timeout=10s`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(review),
    dispatcher: insecure,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`POST /validate: HTTP ${res.statusCode} ${text}`);
  const parsed = JSON.parse(text) as { response?: AdmissionResponse };
  if (parsed.response === undefined) throw new Error(`POST /validate: no response in ${text}`);
  return parsed.response;
}

/** The reason code in a denial message (`image "…" (path) denied by Kind/name: CODE: …`). */
function codeOf(r: AdmissionResponse): string {
  if (r.allowed) return 'OK';
  return /: ([A-Z][A-Z_]+): /.exec(r.status?.message ?? '')?.[1] ?? 'UNKNOWN';
}

// ---------------------------------------------------------------------------------------------
// The demo, one function per section.

/** What every section needs: narration, cancellable steps and the cleanup list. */
interface Ctx {
  readonly n: Narrator;
  readonly root: string;
  readonly signal: AbortSignal | undefined;
  readonly insecure: Agent;
  readonly cleanups: (() => Promise<void>)[];
  /** Await `p` unless Ctrl-C comes first; the cleanup lets `p` settle before removing what it uses. */
  step<T>(p: Promise<T>): Promise<T>;
}

interface Infra {
  readonly notary: NotaryServerHandle;
  readonly registry: RegistryHandle;
}

async function startInfra(c: Ctx): Promise<Infra> {
  c.n.heading('Start a Notary v1 server and an OCI registry on free loopback ports');
  const notary = await c.step(started(startNotaryServer(), c.cleanups));
  c.n.say(`  notary-server    ${notary.url}  (pid ${notary.pid}; in-memory store, plain HTTP)`);
  const registry = await c.step(started(startRegistry(), c.cleanups));
  c.n.say(`  docker-registry  ${registry.url}  (pid ${registry.pid}; anonymous, plain HTTP)`);
  return { notary, registry };
}

interface Signed {
  readonly gun: string;
  readonly signedRef: string;
  readonly unsignedRef: string;
  readonly rootKeyId: string;
}

async function pushAndSign(c: Ctx, { notary, registry }: Infra): Promise<Signed> {
  const { n } = c;
  const repo = 'demo/app';
  const gun = `${registry.host}/${repo}`;
  const signedRef = `${gun}:v1.0.0`;
  const unsignedRef = `${gun}:v1.0.1-unsigned`;
  n.heading('Push a small image under two tags');
  // Fixed seeds: the same bytes, hence the same digests, on every run.
  const signed = await c.step(
    pushImage(registry.url, repo, 'v1.0.0', { seed: 'trustgate-demo-v1.0.0' }),
  );
  const unsigned = await c.step(
    pushImage(registry.url, repo, 'v1.0.1-unsigned', { seed: 'trustgate-demo-v1.0.1' }),
  );
  n.say(`  ${signedRef.padEnd(unsignedRef.length)}  ${signed.digest}  (${signed.size} bytes)`);
  n.say(`  ${unsignedRef}  ${unsigned.digest}  (${unsigned.size} bytes)`);

  // What `docker trust sign` does: a target named after the tag with the manifest's sha256 and
  // length, in the repository's `targets` role (notes/notary-v1.md §3.4).
  n.heading(`Sign only v1.0.0 with the notary CLI (the GUN is "${gun}")`);
  n.say('  This is what `docker trust sign` does under the hood. Passphrases come from');
  n.say('  NOTARY_{ROOT,TARGETS,SNAPSHOT}_PASSPHRASE, so the CLI does not prompt.');
  const cli = await c.step(
    started(
      NotaryCli.create({ server: notary.url, passphrase: 'trustgate-demo' }),
      c.cleanups,
      (x) => x.cleanup(),
    ),
  );
  const hex = signed.digest.slice('sha256:'.length);
  n.cmd(`notary -s ${notary.url} -d <trust dir> init ${gun} -p`);
  await c.step(cli.init(gun));
  n.cmd(`notary … addhash ${gun} v1.0.0 ${signed.size} --sha256 ${hex}`);
  n.cmd(`notary … publish ${gun}`);
  await c.step(cli.addHash(gun, 'v1.0.0', signed.size, hex));
  n.say('  Signed tags on the server now (`notary list`):');
  n.block((await c.step(cli.list(gun))).trim());
  const rootCert = await c.step(cli.rootCert(gun));
  return { gun, signedRef, unsignedRef, rootKeyId: rootCert.keyId };
}

/** Write the policy into a fresh temp dir (removed by the cleanup); returns the dir. */
async function writePolicy(c: Ctx, { notary, registry }: Infra, s: Signed): Promise<string> {
  const { n } = c;
  n.heading("Write a ClusterTrustPolicy that pins the repository's root certificate");
  n.say(`  Root certificate key ID (from root.json): ${s.rootKeyId}`);
  n.say('  Pin THIS x509 key ID (pitfall: `notary key list` prints a different, "canonical" ID of');
  n.say(
    '  the bare public key; TUF metadata, and so trustgate, name the root by its certificate).',
  );
  const dir = await mkdtemp(join(tmpdir(), 'trustgate-demo-policies-'));
  c.cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const yaml = [
    'apiVersion: trustgate.dev/v1alpha1',
    'kind: ClusterTrustPolicy',
    'metadata:',
    '  name: demo',
    'spec:',
    `  images: ['${registry.host}/demo/*']`,
    '  trustSources:',
    '    - name: demo-notary',
    '      notaryV1:',
    `        server: ${notary.url}`,
    `        rootKeys: ['${s.rootKeyId}']`,
    '',
  ].join('\n');
  const file = join(dir, 'demo.yaml');
  await writeFile(file, yaml);
  n.say(`  ${file}:`);
  n.block(yaml);
  return dir;
}

async function admissionReviews(
  c: Ctx,
  serve: ServeHandle,
  s: Signed,
): Promise<AdmissionResponse[]> {
  const { n } = c;
  const cases = [
    {
      title: `Pod with the signed image ${s.signedRef}`,
      why: 'expect ALLOWED: the tag is signed under the pinned root, and the registry serves the signed digest.',
      review: podReview('demo-0001-signed-pod', s.signedRef),
    },
    {
      title: `Pod with the unsigned tag ${s.unsignedRef}`,
      why: 'expect DENIED: the image is in the registry, but no signer vouched for the tag.',
      review: podReview('demo-0002-unsigned-pod', s.unsignedRef),
    },
    {
      title: 'Deployment whose init container is unsigned',
      why: 'expect DENIED: every container counts, including init containers in a pod template.',
      review: deploymentReview('demo-0003-deployment', s.signedRef, s.unsignedRef),
    },
  ];
  const responses: AdmissionResponse[] = [];
  for (const k of cases) {
    n.heading(`AdmissionReview: ${k.title}`);
    n.say(`  ${k.why}`);
    const r = await c.step(sendReview(serve.port, k.review, c.insecure));
    responses.push(r);
    if (r.allowed) n.good(`uid ${r.uid}`);
    else n.bad(`uid ${r.uid}: ${codeOf(r)}`);
    if (r.status?.message) n.block(r.status.message);
    n.say("  The webhook's `response`, exactly as the kube-apiserver receives it:");
    n.block(JSON.stringify(r, null, 2));
  }
  return responses;
}

async function commandLine(
  c: Ctx,
  notary: NotaryServerHandle,
  s: Signed,
  policiesDir: string,
): Promise<{ verifyExitCodes: number[]; inspect: CliRun }> {
  const { n } = c;
  n.heading('The same decision from the command line: trustgate verify');
  n.say('  Exit codes: 0 allowed, 1 denied, 2 usage/configuration, 3 inconclusive.');
  const verifyExitCodes: number[] = [];
  for (const ref of [s.signedRef, s.unsignedRef]) {
    n.cmd(`trustgate verify ${ref} --policy ${policiesDir}`);
    const v = await c.step(
      runTrustgate(c.root, ['verify', ref, '--policy', policiesDir], c.signal),
    );
    verifyExitCodes.push(v.exitCode);
    n.block(`${v.stdout}${v.stderr}`.trim());
    n.say(`    (exit ${v.exitCode})`);
  }

  n.heading('What the trust data says: trustgate inspect');
  n.say('  Signed tags, signer roles, key IDs and expiry; --root-key checks the pinned root.');
  const args = ['inspect', s.gun, '--server', notary.url, '--root-key', s.rootKeyId];
  n.cmd(`trustgate ${args.join(' ')}`);
  const inspect = await c.step(runTrustgate(c.root, args, c.signal));
  n.block(`${inspect.stdout}${inspect.stderr}`.trim());
  n.say(`    (exit ${inspect.exitCode})`);
  return { verifyExitCodes, inspect };
}

/** Show the trustgate_* samples and one audit line; returns the admission request counters. */
async function observability(c: Ctx, serve: ServeHandle): Promise<string[]> {
  const { n } = c;
  n.heading('Prometheus metrics (no image or namespace labels, by design)');
  n.cmd(`curl http://127.0.0.1:${serve.metricsPort}/metrics`);
  const res = await c.step(
    request(`http://127.0.0.1:${serve.metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) }),
  );
  const lines = (await c.step(res.body.text())).split('\n');
  n.block(
    lines
      .filter((l) => /^trustgate_(admission_requests_total|verifications_total|policies)\b/.test(l))
      .join('\n') || '(no trustgate_* samples yet)',
  );
  n.say("\n  One JSON audit line per decision goes to the webhook's log (stdout), for example:");
  const audit = serve
    .log()
    .split('\n')
    .find((l) => l.includes('"audit":true') && l.includes('demo-0003-deployment'));
  n.block(audit ?? '(no audit line captured)');
  return lines.filter((l) => l.startsWith('trustgate_admission_requests_total'));
}

/** Run the cleanups in reverse order (the webhook first); report, never throw. */
async function cleanUp(c: Ctx, inflight: readonly Promise<unknown>[]): Promise<void> {
  c.n.heading('Stop everything');
  await Promise.allSettled(inflight);
  const errors: string[] = [];
  for (const fn of [...c.cleanups].reverse()) {
    try {
      await fn();
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  c.n.say(
    errors.length === 0
      ? '  Stopped every process the demo started (by PID) and removed its temp dirs.'
      : `  Cleanup problems: ${errors.join('; ')}`,
  );
}

/**
 * Run the whole demo and narrate it to `opts.out`. Everything it starts (notary-server,
 * docker-registry, `trustgate serve`) is stopped by PID and every temp dir removed before it
 * resolves or rejects, also when `opts.signal` aborts.
 * @throws Error when a component does not start or a step fails (with the component's log);
 *   `DemoAborted` when `opts.signal` aborts.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoOutcome> {
  const out = opts.out ?? process.stdout;
  const tty = Boolean((out as NodeJS.WriteStream).isTTY);
  const n = new Narrator(out, opts.color ?? (tty && process.env.NO_COLOR === undefined));
  const inflight: Promise<unknown>[] = [];
  const c: Ctx = {
    n,
    root: findRepoRoot(),
    signal: opts.signal,
    // The webhook serves a self-signed --dev-cert and this client talks only to 127.0.0.1, so it
    // skips verification; in a cluster the kube-apiserver trusts the webhook through its caBundle.
    insecure: new Agent({ connect: { rejectUnauthorized: false } }),
    cleanups: [],
    step: (p) => {
      inflight.push(p);
      return raceAbort(p, opts.signal);
    },
  };
  c.cleanups.push(() => c.insecure.close());
  try {
    n.say(
      'trustgate demo: sign a container image with Docker Content Trust (Notary v1), then watch',
    );
    n.say('the trustgate admission webhook allow the signed image and deny unsigned ones.');
    n.say(
      'Everything below is real: notary-server, docker-registry and the notary CLI from Debian,',
    );
    n.say('and `trustgate serve` as a separate process. Nothing leaves 127.0.0.1.');
    const infra = await startInfra(c);
    const signed = await pushAndSign(c, infra);
    const policiesDir = await writePolicy(c, infra, signed);

    n.heading('Start the webhook: trustgate serve');
    const serve = await c.step(
      started(startServe(c.root, policiesDir, c.insecure, c.signal), c.cleanups),
    );
    n.cmd(
      `trustgate serve --policies ${policiesDir} --dev-cert --host 127.0.0.1 --port ${serve.port} --metrics-port ${serve.metricsPort}`,
    );
    n.say(
      `  pid ${serve.pid}; https://127.0.0.1:${serve.port}/readyz answered 200 (policies loaded).`,
    );

    const responses = await admissionReviews(c, serve, signed);
    const { verifyExitCodes, inspect } = await commandLine(c, infra.notary, signed, policiesDir);
    const metrics = await observability(c, serve);
    return {
      allowed: responses.map((r) => r.allowed),
      codes: responses.map(codeOf),
      messages: responses.map((r) => r.status?.message ?? ''),
      verifyExitCodes,
      inspect: { exitCode: inspect.exitCode, stdout: inspect.stdout },
      rootKeyId: signed.rootKeyId,
      metrics,
      pids: [infra.notary.pid, infra.registry.pid, serve.pid],
    };
  } finally {
    await cleanUp(c, inflight);
  }
}

/** The expected outcome; anything else means the README's first command is broken. */
export function checkOutcome(o: DemoOutcome): string[] {
  const problems: string[] = [];
  const want = [
    [true, 'OK'],
    [false, 'TAG_NOT_SIGNED'],
    [false, 'TAG_NOT_SIGNED'],
  ] as const;
  want.forEach(([allowed, code], i) => {
    if (o.allowed[i] !== allowed || o.codes[i] !== code)
      problems.push(
        `review ${i + 1}: expected ${allowed ? 'allowed' : `denied with ${code}`}, got ${o.allowed[i] ? 'allowed' : `denied with ${o.codes[i]}`}`,
      );
  });
  if (!o.messages[2]?.includes('spec.template.spec.initContainers[0].image'))
    problems.push('the Deployment denial does not name spec.template.spec.initContainers[0].image');
  if (o.verifyExitCodes.join(',') !== '0,1')
    problems.push(`trustgate verify exit codes ${o.verifyExitCodes.join(',')}, expected 0,1`);
  if (o.inspect.exitCode !== 0 || !o.inspect.stdout.includes(o.rootKeyId))
    problems.push('trustgate inspect did not succeed or did not print the pinned root key ID');
  return problems;
}

async function cliMain(): Promise<number> {
  const root = findRepoRoot();
  const deps = (await import(pathToFileURL(join(root, 'scripts', 'system-deps.js')).href)) as {
    ensureSystemDeps(bins: string[]): boolean;
  };
  if (!deps.ensureSystemDeps(['notary', 'notary-server', 'docker-registry'])) return 2;
  // bin/trustgate.js runs dist/, which `npm ci` builds through `prepare` (skipped by --ignore-scripts).
  if (!existsSync(join(root, 'dist', 'main.js'))) {
    process.stderr.write('trustgate: dist/ is not built; run `npm run build` first\n');
    return 2;
  }

  const abort = new AbortController();
  const onSignal = (): void => {
    process.stderr.write('\ninterrupted: stopping everything the demo started…\n');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const outcome = await runDemo({ signal: abort.signal });
    const problems = checkOutcome(outcome);
    if (problems.length > 0) {
      process.stderr.write(
        `\ntrustgate demo: UNEXPECTED RESULT\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
      return 1;
    }
    process.stdout.write(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s: signed image allowed, unsigned tag and unsigned init container denied.\n` +
        'Next: the Quickstart in README.md does the same against your own notary-server.\n',
    );
    return 0;
  } catch (err) {
    // After Ctrl-C, failures of components that got SIGINT too are just the interruption.
    if (err instanceof DemoAborted || abort.signal.aborted) return 130;
    process.stderr.write(
      `\ntrustgate demo failed: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await cliMain();
}
