// SPDX-License-Identifier: Apache-2.0
// A loopback HTTP server that speaks just enough of the Kubernetes API for @kubernetes/client-node 1.4:
// list (with metadata.resourceVersion), watch (newline-delimited events, history replay, 410 Gone),
// GET of single objects, and merge-patch of the status subresource. Tests drive it through add/modify/remove.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Any Kubernetes object the fake stores (apiVersion, kind and metadata.name are required). */
export interface FakeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** One request the server received (bodies parsed as JSON when possible). */
export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

interface ResourceType {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  readonly base: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Objects of this type carry metadata.generation (bumped on spec changes). */
  readonly generation: boolean;
}

const TYPES: readonly ResourceType[] = [
  {
    base: '/apis/trustgate.dev/v1alpha1',
    plural: 'clustertrustpolicies',
    kind: 'ClusterTrustPolicy',
    namespaced: false,
    generation: true,
  },
  {
    base: '/apis/trustgate.dev/v1alpha1',
    plural: 'trustpolicies',
    kind: 'TrustPolicy',
    namespaced: true,
    generation: true,
  },
  {
    base: '/api/v1',
    plural: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    generation: false,
  },
  { base: '/api/v1', plural: 'secrets', kind: 'Secret', namespaced: true, generation: false },
  { base: '/api/v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, generation: false },
  {
    base: '/api/v1',
    plural: 'serviceaccounts',
    kind: 'ServiceAccount',
    namespaced: true,
    generation: false,
  },
];

interface WatchEvent {
  readonly rv: number;
  readonly plural: string;
  readonly namespace: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: FakeObject;
}

interface OpenWatch {
  readonly plural: string;
  /** undefined = all namespaces. */
  readonly namespace: string | undefined;
  readonly res: ServerResponse;
}

export interface ExpireOptions {
  /** How a watch from an expired resourceVersion is refused: an in-stream ERROR event (what the
   *  apiserver does) or an HTTP 410 response. */
  readonly via?: 'event' | 'http';
}

const clone = <T>(v: T): T => structuredClone(v);

function typeOfKind(kind: string): ResourceType {
  const t = TYPES.find((x) => x.kind === kind);
  if (!t) throw new Error(`fake-apiserver: unsupported kind ${kind}`);
  return t;
}

function keyOf(plural: string, namespace: string, name: string): string {
  return `${plural}/${namespace}/${name}`;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function status(code: number, reason: string, message: string): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

/** The fake Kubernetes API server. Create with {@link startFakeApiServer}. */
export class FakeApiServer {
  readonly requests: LoggedRequest[] = [];
  private readonly objects = new Map<string, FakeObject>();
  private readonly history: WatchEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private rv = 100;
  private compactedRv = 0;
  private expireVia: 'event' | 'http' = 'event';
  private failingWatches = 0;
  private readonly failures: { method: string; path: string; code: number }[] = [];

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:<port>` */
    readonly url: string,
  ) {}

  /** @internal */
  static async listen(): Promise<FakeApiServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('fake-apiserver: no address');
    const fake = new FakeApiServer(server, `http://127.0.0.1:${addr.port}`);
    server.on('connection', (s) => {
      fake.sockets.add(s);
      s.on('close', () => fake.sockets.delete(s));
    });
    server.on('request', (req, res) => fake.handle(req, res));
    return fake;
  }

  /** Stored copy of an object, or undefined. */
  get(kind: string, name: string, namespace?: string): FakeObject | undefined {
    const t = typeOfKind(kind);
    const o = this.objects.get(keyOf(t.plural, t.namespaced ? (namespace ?? '') : '', name));
    return o ? clone(o) : undefined;
  }

  /** Create an object (uid, resourceVersion, generation assigned); emits ADDED. */
  add(obj: FakeObject): FakeObject {
    const t = typeOfKind(obj.kind);
    const o = clone(obj);
    o.metadata.uid ??= randomUUID();
    if (t.generation) o.metadata.generation = 1;
    return this.commit(t, 'ADDED', o, true);
  }

  /**
   * Replace an object's spec/data/labels (status is kept, as the main resource endpoint does);
   * generation is bumped when the spec changed. `notify: false` loses the event (nothing sent to
   * watchers, nothing in history) so only a re-list can see the change.
   */
  modify(obj: FakeObject, opts: { notify?: boolean } = {}): FakeObject {
    const t = typeOfKind(obj.kind);
    const key = keyOf(
      t.plural,
      t.namespaced ? (obj.metadata.namespace ?? '') : '',
      obj.metadata.name,
    );
    const old = this.objects.get(key);
    if (!old) throw new Error(`fake-apiserver: modify of missing ${key}`);
    const o = clone(obj);
    o.metadata.uid = old.metadata.uid;
    if (old['status'] !== undefined) o['status'] = clone(old['status']);
    else delete o['status'];
    if (t.generation) {
      const changed = JSON.stringify(old['spec']) !== JSON.stringify(o['spec']);
      o.metadata.generation = (old.metadata.generation ?? 1) + (changed ? 1 : 0);
    }
    return this.commit(t, 'MODIFIED', o, opts.notify ?? true);
  }

  /** Delete an object; emits DELETED. */
  remove(obj: Pick<FakeObject, 'kind' | 'metadata'>): void {
    const t = typeOfKind(obj.kind);
    const key = keyOf(
      t.plural,
      t.namespaced ? (obj.metadata.namespace ?? '') : '',
      obj.metadata.name,
    );
    const old = this.objects.get(key);
    if (!old) return;
    this.objects.delete(key);
    const o = clone(old);
    this.rv += 1;
    o.metadata.resourceVersion = String(this.rv);
    this.publish({
      rv: this.rv,
      plural: t.plural,
      namespace: o.metadata.namespace ?? '',
      type: 'DELETED',
      object: o,
    });
  }

  /** Destroy every open watch socket (the client sees a broken stream). */
  dropWatches(): void {
    for (const w of this.watches) w.res.socket?.destroy();
    this.watches.clear();
  }

  /** Number of watch streams currently open. */
  openWatchCount(): number {
    return this.watches.size;
  }

  /**
   * Compact history: every resourceVersion issued so far becomes too old, and open watches are ended
   * with a 410 Gone ERROR event (or, with `via: 'http'`, dropped and the next watch answered 410).
   */
  expireResourceVersion(opts: ExpireOptions = {}): void {
    this.expireVia = opts.via ?? 'event';
    this.compactedRv = this.rv;
    // A fresh list must return a resourceVersion that is still valid.
    this.rv += 1;
    this.history.length = 0;
    if (this.expireVia === 'http') {
      this.dropWatches();
      return;
    }
    for (const w of this.watches) this.endWithGone(w.res);
    this.watches.clear();
  }

  /** The next `n` watch requests are answered with HTTP 500. */
  failNextWatches(n: number): void {
    this.failingWatches = n;
  }

  /**
   * Answer every `method` request to exactly `path` (list and watch included) with HTTP `code`
   * until {@link clearFailures}.
   */
  injectFailure(method: string, path: string, code: number): void {
    this.failures.push({ method, path, code });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  /** Requests matching a method and a path (exact, or a predicate). */
  requestsTo(method: string, path: string | ((p: string) => boolean)): LoggedRequest[] {
    const match = typeof path === 'string' ? (p: string) => p === path : path;
    return this.requests.filter((r) => r.method === method && match(r.path));
  }

  /** Stop the server and destroy every socket (watches included). */
  async close(): Promise<void> {
    for (const w of this.watches) w.res.destroy();
    this.watches.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private commit(
    t: ResourceType,
    type: 'ADDED' | 'MODIFIED',
    o: FakeObject,
    notify: boolean,
  ): FakeObject {
    this.rv += 1;
    o.metadata.resourceVersion = String(this.rv);
    const ns = t.namespaced ? (o.metadata.namespace ?? '') : '';
    if (!t.namespaced) delete o.metadata.namespace;
    this.objects.set(keyOf(t.plural, ns, o.metadata.name), o);
    if (notify)
      this.publish({ rv: this.rv, plural: t.plural, namespace: ns, type, object: clone(o) });
    return clone(o);
  }

  private publish(ev: WatchEvent): void {
    this.history.push(ev);
    for (const w of this.watches) {
      if (w.plural === ev.plural && (w.namespace === undefined || w.namespace === ev.namespace)) {
        w.res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
      }
    }
  }

  private endWithGone(res: ServerResponse): void {
    const gone = status(410, 'Expired', 'too old resource version');
    res.end(`${JSON.stringify({ type: 'ERROR', object: gone })}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', this.url);
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = raw === '' ? undefined : raw;
      try {
        if (raw !== '') body = JSON.parse(raw);
      } catch {
        // keep the raw text in the log
      }
      const method = req.method ?? 'GET';
      const contentType = req.headers['content-type'];
      this.requests.push({
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType,
        body,
      });
      this.route({ method, url, contentType, body }, res);
    });
  }

  private route(
    req: { method: string; url: URL; contentType: string | undefined; body: unknown },
    res: ServerResponse,
  ): void {
    const { method, url, contentType, body } = req;
    const failure = this.failures.find((f) => f.method === method && f.path === url.pathname);
    if (failure)
      return this.send(
        res,
        failure.code,
        status(failure.code, 'InternalError', 'injected failure'),
      );
    const parsed = this.parsePath(url.pathname);
    if (!parsed) return this.send(res, 404, status(404, 'NotFound', `no route ${url.pathname}`));
    const { type, namespace, name, sub } = parsed;
    if (name === undefined) {
      if (method !== 'GET') return this.send(res, 405, status(405, 'MethodNotAllowed', method));
      if (url.searchParams.get('watch') === 'true') return this.watch(type, namespace, url, res);
      return this.list(type, namespace, res);
    }
    const key = keyOf(type.plural, type.namespaced ? (namespace ?? '') : '', name);
    const obj = this.objects.get(key);
    if (!obj)
      return this.send(res, 404, status(404, 'NotFound', `${type.plural} "${name}" not found`));
    if (method === 'GET' && sub === undefined) return this.send(res, 200, obj);
    if (method === 'PATCH' && sub === 'status') {
      if (contentType !== 'application/merge-patch+json') {
        return this.send(
          res,
          415,
          status(415, 'UnsupportedMediaType', `unsupported ${contentType}`),
        );
      }
      const patch = (body ?? {}) as Record<string, unknown>;
      const next = clone(obj);
      next['status'] = mergePatch(obj['status'], patch['status']);
      const saved = this.commit(type, 'MODIFIED', next, true);
      return this.send(res, 200, saved);
    }
    return this.send(res, 405, status(405, 'MethodNotAllowed', `${method} ${url.pathname}`));
  }

  private parsePath(
    pathname: string,
  ): { type: ResourceType; namespace?: string; name?: string; sub?: string } | undefined {
    for (const base of ['/api/v1', '/apis/trustgate.dev/v1alpha1']) {
      if (!pathname.startsWith(`${base}/`)) continue;
      const segs = pathname
        .slice(base.length + 1)
        .split('/')
        .filter((s) => s !== '')
        .map(decodeURIComponent);
      const nsForm = segs[0] === 'namespaces' && segs.length >= 3;
      const [plural, name, sub] = nsForm ? segs.slice(2) : segs;
      const type = TYPES.find((t) => t.base === base && t.plural === plural);
      if (!type || (nsForm && !type.namespaced)) return undefined;
      return { type, namespace: nsForm ? segs[1] : undefined, name, sub };
    }
    return undefined;
  }

  private list(type: ResourceType, namespace: string | undefined, res: ServerResponse): void {
    const items = [...this.objects.entries()]
      .filter(([k]) =>
        k.startsWith(`${type.plural}/${namespace === undefined ? '' : `${namespace}/`}`),
      )
      .map(([, o]) => o);
    this.send(res, 200, {
      apiVersion: type.base === '/api/v1' ? 'v1' : type.base.slice('/apis/'.length),
      kind: `${type.kind}List`,
      metadata: { resourceVersion: String(this.rv) },
      items,
    });
  }

  private watch(
    type: ResourceType,
    namespace: string | undefined,
    url: URL,
    res: ServerResponse,
  ): void {
    if (this.failingWatches > 0) {
      this.failingWatches -= 1;
      return this.send(res, 500, status(500, 'InternalError', 'injected watch failure'));
    }
    const rvParam = url.searchParams.get('resourceVersion');
    const from = rvParam === null || rvParam === '' || rvParam === '0' ? this.rv : Number(rvParam);
    const expired = !Number.isInteger(from) || from <= this.compactedRv;
    if (expired && this.expireVia === 'http') {
      return this.send(res, 410, status(410, 'Expired', 'too old resource version'));
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    if (expired) return this.endWithGone(res);
    res.flushHeaders();
    for (const ev of this.history) {
      if (
        ev.rv > from &&
        ev.plural === type.plural &&
        (namespace === undefined || ev.namespace === namespace)
      ) {
        res.write(`${JSON.stringify({ type: ev.type, object: ev.object })}\n`);
      }
    }
    const w: OpenWatch = { plural: type.plural, namespace, res };
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  }
}

/** Start a fake apiserver on a free 127.0.0.1 port. Call `close()` in afterAll. */
export function startFakeApiServer(): Promise<FakeApiServer> {
  return FakeApiServer.listen();
}

/**
 * Poll `cond` every few milliseconds until it returns a truthy value, or fail after `timeoutMs`
 * with `what` in the message. Bounded: at most timeoutMs / intervalMs polls.
 */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  what: string,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 10;
  const polls = Math.ceil(timeoutMs / intervalMs);
  for (let i = 0; i <= polls; i++) {
    const v = await cond();
    if (v) return v;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
