// SPDX-License-Identifier: Apache-2.0
// Runs the REAL `trustgate serve` composition (runServe) in-process on loopback with free ports,
// a throwaway TLS pair and an AbortSignal for shutdown, plus what webhook tests need around it:
// a header-preserving counting/holding HTTP proxy, kubeconfig and policy files, workload rewriting.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Agent, request } from 'undici';
import { runServe } from '../../src/cli/serve.js';
import { generateDevCertificate } from '../../src/tls/dev-cert.js';
import type { FixtureKind, JsonObject } from '../../src/__fixtures__/admission/factory.js';
import type { NotaryCli } from './notary.js';
import { pushImage, type PushedImage, type PushImageOptions } from './registry.js';

/** One JSON log line the server wrote. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** The `response` of an AdmissionReview answer. */
export interface AdmissionAnswer {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { code?: number; message?: string; reason?: string };
  readonly warnings?: readonly string[];
  readonly patchType?: string;
  readonly patch?: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

export interface StartWebhookOptions {
  /** `--policies DIR` (file mode); absent = cluster mode (needs `kubeconfig`). */
  readonly policiesDir?: string;
  /** Written to a temp file and passed as `--config`. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** `--kubeconfig FILE` (cluster mode). */
  readonly kubeconfig?: string;
  /** How long to wait for the "trustgate is serving" line (default 15 s). */
  readonly startTimeoutMs?: number;
}

/** A running in-process `trustgate serve`. */
export interface WebhookHandle {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly metricsUrl: string;
  /** The PEM certificate the webhook serves (its own CA). */
  readonly certPem: string;
  /** An undici Agent that trusts the webhook's certificate. */
  readonly agent: Agent;
  /** Resolves with runServe's exit code once it returned. */
  readonly exited: Promise<number>;
  /** POST an AdmissionReview (object or raw bytes) and return the HTTP status and body. */
  post(path: string, body: JsonObject | Buffer, query?: string): Promise<HttpAnswer>;
  /**
   * POST an AdmissionReview and return its `response`, after checking that the answer is a
   * well-formed `admission.k8s.io/v1` AdmissionReview (HTTP 200) echoing the request's uid.
   */
  review(path: string, review: JsonObject, query?: string): Promise<AdmissionAnswer>;
  /** GET on the webhook port. */
  get(path: string): Promise<HttpAnswer>;
  /** The Prometheus text of the metrics port. */
  metrics(): Promise<string>;
  /** Every JSON line written so far. */
  logs(): readonly LogLine[];
  /** Resolves with the first log line whose `msg` equals `msg` (bounded by `timeoutMs`). */
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
  /** Abort the serve signal (the SIGTERM path) without waiting. */
  abort(): void;
  /** Abort, wait for runServe to return, close the client agent and remove temp files. */
  stop(): Promise<number>;
}

const SERVING = 'trustgate is serving';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Collects everything runServe writes, split into JSON lines. */
class LineSink extends Writable {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  #partial = '';

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.#partial += chunk.toString();
    let nl = this.#partial.indexOf('\n');
    // Bounded by the chunk: each pass consumes one line.
    while (nl >= 0) {
      const line = this.#partial.slice(0, nl);
      this.#partial = this.#partial.slice(nl + 1);
      this.raw.push(line);
      try {
        this.lines.push(JSON.parse(line) as LogLine);
      } catch {
        this.lines.push({ msg: line });
      }
      nl = this.#partial.indexOf('\n');
    }
    done();
  }
}

/**
 * Start `trustgate serve --host 127.0.0.1 --port 0 --metrics-port 0 --tls-cert … --tls-key …`
 * in this process through `runServe(argv, io, signal)`, and read the bound ports from its
 * "trustgate is serving" log line.
 * @throws Error with the captured output when serve fails or does not come up in time.
 */
export async function startWebhook(opts: StartWebhookOptions): Promise<WebhookHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'trustgate-webhook-'));
  const cert = generateDevCertificate({ hosts: ['127.0.0.1', 'localhost'], days: 2 });
  await writeFile(join(dir, 'tls.crt'), cert.certPem);
  await writeFile(join(dir, 'tls.key'), cert.keyPem);
  const argv = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--metrics-port',
    '0',
    '--tls-cert',
    join(dir, 'tls.crt'),
    '--tls-key',
    join(dir, 'tls.key'),
  ];
  if (opts.config !== undefined) {
    await writeFile(join(dir, 'config.json'), JSON.stringify(opts.config));
    argv.push('--config', join(dir, 'config.json'));
  }
  if (opts.policiesDir !== undefined) argv.push('--policies', opts.policiesDir);
  if (opts.kubeconfig !== undefined) argv.push('--kubeconfig', opts.kubeconfig);

  const stdout = new LineSink();
  const stderr = new LineSink();
  const controller = new AbortController();
  let settled = false;
  const exited = runServe(
    argv,
    { stdout, stderr, stdin: Readable.from([]), env: {}, isTTY: false },
    controller.signal,
  ).finally(() => {
    settled = true;
  });
  // A failed start must not become an unhandled rejection while we poll.
  exited.catch(() => undefined);

  const until = Date.now() + (opts.startTimeoutMs ?? 15_000);
  let serving: LogLine | undefined;
  while (serving === undefined && !settled && Date.now() < until) {
    serving = stdout.lines.find((l) => l.msg === SERVING);
    if (serving === undefined) await sleep(10);
  }
  const output = (): string => [...stdout.raw, ...stderr.raw].join('\n');
  if (serving === undefined) {
    controller.abort();
    const why = await exited.then(
      (code) => `exited with ${code}`,
      (err: unknown) => `threw ${err instanceof Error ? err.message : String(err)}`,
    );
    await rm(dir, { recursive: true, force: true });
    throw new Error(`trustgate serve did not start (${why}):\n${output()}`);
  }
  const url = String(serving['webhook']);
  const metricsUrl = String(serving['metrics']);
  const agent = new Agent({ connect: { ca: cert.certPem } });

  async function post(path: string, body: JsonObject | Buffer, query = ''): Promise<HttpAnswer> {
    const res = await request(`${url}${path}${query}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  let stopped: Promise<number> | undefined;
  return {
    url,
    metricsUrl,
    certPem: cert.certPem,
    agent,
    exited,
    post,
    async review(path, review, query) {
      const res = await post(path, review, query);
      if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${res.text}`);
      const doc = JSON.parse(res.text) as {
        apiVersion?: string;
        kind?: string;
        response?: AdmissionAnswer;
      };
      const uid = (review['request'] as { uid?: string } | undefined)?.uid;
      if (
        doc.apiVersion !== 'admission.k8s.io/v1' ||
        doc.kind !== 'AdmissionReview' ||
        doc.response === undefined ||
        doc.response.uid !== uid
      ) {
        throw new Error(
          `${path}: not a well-formed AdmissionReview answer for ${uid}: ${res.text}`,
        );
      }
      return doc.response;
    },
    async get(path) {
      const res = await request(`${url}${path}`, { dispatcher: agent });
      return { status: res.statusCode, text: await res.body.text() };
    },
    async metrics() {
      const res = await request(metricsUrl);
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`metrics: HTTP ${res.statusCode} ${text}`);
      return text;
    },
    logs: () => [...stdout.lines],
    async waitForLog(msg, timeoutMs = 10_000) {
      for (let i = 0; i <= timeoutMs / 10; i++) {
        const line = stdout.lines.find((l) => l.msg === msg);
        if (line !== undefined) return line;
        await sleep(10);
      }
      throw new Error(`no log line ${JSON.stringify(msg)} within ${timeoutMs} ms:\n${output()}`);
    },
    abort: () => controller.abort(),
    stop() {
      stopped ??= (async () => {
        controller.abort();
        try {
          return await exited;
        } finally {
          await agent.close();
          await rm(dir, { recursive: true, force: true });
        }
      })();
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A counting, holding HTTP proxy (headers and bodies passed through unchanged, unlike tuf-proxy,
// so registries keep their Docker-Content-Digest and WWW-Authenticate headers).

/** A request the proxy holds until `release()`. */
export interface Hold {
  /** Resolves when the first matching request arrived. */
  readonly reached: Promise<void>;
  /** Forward every held request (and stop holding new ones). */
  release(): void;
}

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `127.0.0.1:<port>`: the registry part of image references that go through the proxy. */
  readonly host: string;
  /** Requests seen (`METHOD path`) since the last reset, in arrival order. */
  requests(): readonly string[];
  /** How many requests (since the last reset) the predicate accepts. */
  count(match: (method: string, path: string) => boolean): number;
  resetCounts(): void;
  /** Hold requests matching the predicate until `release()`. */
  hold(match: (method: string, path: string) => boolean): Hold;
  close(): Promise<void>;
}

/** Start a proxy on 127.0.0.1:<free port> in front of `upstream` (`http://host:port`). */
export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const base = new URL(upstream);
  let seen: string[] = [];
  const holds: {
    match: (m: string, p: string) => boolean;
    released: boolean;
    waiting: (() => void)[];
    arrived: () => void;
  }[] = [];

  function forward(req: IncomingMessage, res: ServerResponse): void {
    const headers = { ...req.headers, host: base.host };
    const up = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        path: req.url,
        method: req.method,
        headers,
        timeout: 15_000,
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('timeout', () => up.destroy(new Error('upstream timeout')));
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy error: ${err.message}\n`);
    });
    req.pipe(up);
  }

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    seen.push(`${method} ${path}`);
    const hold = holds.find((h) => !h.released && h.match(method, path));
    if (hold === undefined) return forward(req, res);
    hold.arrived();
    hold.waiting.push(() => forward(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const split = (r: string): [string, string] => {
    const i = r.indexOf(' ');
    return [r.slice(0, i), r.slice(i + 1)];
  };
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: () => [...seen],
    count: (match) => seen.filter((r) => match(...split(r))).length,
    resetCounts: () => {
      seen = [];
    },
    hold(match) {
      let arrived!: () => void;
      const reached = new Promise<void>((r) => (arrived = r));
      const h = { match, released: false, waiting: [] as (() => void)[], arrived };
      holds.push(h);
      return {
        reached,
        release() {
          h.released = true;
          for (const go of h.waiting.splice(0)) go();
        },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const h of holds) h.released = true;
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Files and fixtures.

/**
 * A kubeconfig (JSON is valid YAML) pointing at `server` with a static token. client-node refuses
 * a plain-HTTP server unless `insecure-skip-tls-verify` is set, so it is (loopback test servers).
 */
export async function writeKubeconfig(dir: string, server: string): Promise<string> {
  const file = join(dir, 'kubeconfig.yaml');
  await writeFile(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'trustgate', user: { token: 'test-token' } }],
      contexts: [
        { name: 'fake', context: { cluster: 'fake', user: 'trustgate', namespace: 'trustgate' } },
      ],
      'current-context': 'fake',
    }),
  );
  return file;
}

/** What {@link notaryPolicyResource} builds a ClusterTrustPolicy from. */
export interface NotaryPolicyOptions {
  readonly name: string;
  readonly images: readonly string[];
  /** Notary server URL (`http://127.0.0.1:<port>`). */
  readonly server: string;
  /** Pinned root key IDs (64 hex) or anything else to put under `rootKeys`. */
  readonly rootKeys: readonly string[];
  /** More `spec` fields (`mode`, `allow`, …). */
  readonly spec?: Readonly<Record<string, unknown>>;
}

/** A ClusterTrustPolicy for one Notary v1 server with pinned root keys. */
export function notaryPolicyResource(opts: NotaryPolicyOptions): JsonObject {
  return {
    apiVersion: 'trustgate.dev/v1alpha1',
    kind: 'ClusterTrustPolicy',
    metadata: { name: opts.name },
    spec: {
      images: [...opts.images],
      trustSources: [
        { name: 'dct', notaryV1: { server: opts.server, rootKeys: [...opts.rootKeys] } },
      ],
      ...opts.spec,
    },
  };
}

/** Where the pod spec of each fixture kind lives. */
const POD_SPEC: Readonly<Record<FixtureKind, readonly string[]>> = {
  pod: ['spec'],
  'pod-full': ['spec'],
  deployment: ['spec', 'template', 'spec'],
  replicaset: ['spec', 'template', 'spec'],
  statefulset: ['spec', 'template', 'spec'],
  daemonset: ['spec', 'template', 'spec'],
  job: ['spec', 'template', 'spec'],
  cronjob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  replicationcontroller: ['spec', 'template', 'spec'],
  configmap: [],
};

/** The dotted path of a fixture kind's pod spec (`spec.template.spec`). */
export function podSpecPath(kind: FixtureKind): string {
  return POD_SPEC[kind].join('.');
}

/** The pod spec object inside a workload object (mutable: it is the object's own). */
export function podSpecOf(kind: FixtureKind, obj: JsonObject): JsonObject {
  let node: unknown = obj;
  for (const seg of POD_SPEC[kind]) node = (node as JsonObject)[seg];
  if (node === null || typeof node !== 'object') throw new Error(`${kind} has no pod spec`);
  return node as JsonObject;
}

type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';

/** Rewrite every container image of `obj` with `image(list, index)`. Returns `obj`. */
export function withImages(
  kind: FixtureKind,
  obj: JsonObject,
  image: (list: ContainerList, index: number) => string,
): JsonObject {
  const spec = podSpecOf(kind, obj);
  for (const list of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    cs.forEach((c: JsonObject, i) => {
      c['image'] = image(list, i);
    });
  }
  return obj;
}

/** A signed image: what was pushed, and the reference to use in a workload. */
export interface SignedImage extends PushedImage {
  /** `<registry>/<repo>:<tag>`. */
  readonly ref: string;
  /** The digest without `sha256:`. */
  readonly hex: string;
}

/**
 * Push a tiny image to the real registry and sign its manifest under `tag` with `notary addhash`
 * (size + sha256 of the manifest bytes, as `docker push` with content trust does).
 * `refHost` is the registry part of the returned reference (a proxy in front of the registry).
 */
export async function pushAndSign(
  cli: NotaryCli,
  target: { registryUrl: string; refHost: string; repo: string; tag: string },
  opts: PushImageOptions & { sign?: boolean } = {},
): Promise<SignedImage> {
  const pushed = await pushImage(target.registryUrl, target.repo, target.tag, opts);
  const hex = pushed.digest.slice('sha256:'.length);
  if (opts.sign !== false) {
    await cli.addHash(`${target.refHost}/${target.repo}`, target.tag, pushed.size, hex);
  }
  return { ...pushed, hex, ref: `${target.refHost}/${target.repo}:${target.tag}` };
}
