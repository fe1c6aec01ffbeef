// SPDX-License-Identifier: Apache-2.0
// A loopback HTTP proxy in front of a real notary-server that counts requests per path and,
// on demand, misbehaves: tampered or swapped bytes, replayed old versions, hangs, drops, floods.

import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with a request whose path matches a rule. */
export type ProxyAction =
  /** Forward, then rewrite the upstream body (e.g. {@link flipByte}, {@link editJson}). */
  | {
      readonly kind: 'transform';
      readonly transform: (body: Buffer, path: string) => Buffer | string;
    }
  /** Answer with these bytes (e.g. an old version captured with `fetchUpstream`: a rollback). */
  | { readonly kind: 'serve'; readonly body: Uint8Array | string; readonly status?: number }
  /** Forward a different upstream path instead (swap one file for another). */
  | { readonly kind: 'serveFrom'; readonly path: string }
  /** Accept the request and never answer. */
  | { readonly kind: 'hang' }
  /** Send the headers and half of the upstream body, then destroy the connection. */
  | { readonly kind: 'drop' }
  /** Answer 200 with `bytes` bytes of filler; `chunked` hides the length until it is read. */
  | { readonly kind: 'oversize'; readonly bytes: number; readonly chunked?: boolean }
  /** Answer with this status and a short body. */
  | { readonly kind: 'status'; readonly status: number };

export type PathMatcher = string | RegExp | ((path: string) => boolean);

export interface TufProxy {
  /** `http://127.0.0.1:<port>`: use as the Notary server URL. */
  readonly url: string;
  /** Requests seen for this exact path (query included), or in total when no path is given. */
  count(path?: string): number;
  /** Request counts by path. */
  counts(): ReadonlyMap<string, number>;
  /** Every request seen since the last `resetCounts()`, in arrival order. */
  requests(): readonly { readonly method: string; readonly path: string }[];
  resetCounts(): void;
  /** Add a rule (first matching rule wins; `times` limits how often it applies). Returns its remover. */
  on(match: PathMatcher, action: ProxyAction, opts?: { times?: number }): () => void;
  clearRules(): void;
  /** The upstream's current bytes for a path (not counted, no rules): capture for later replay. */
  fetchUpstream(path: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** `/v2/<gun>/_trust/tuf/<file>`: the path a Notary client asks for. */
export function tufPath(gun: string, file: string): string {
  return `/v2/${gun}/_trust/tuf/${file}`;
}

/** Flip the low bit of one byte (default: the middle byte). */
export function flipByte(body: Buffer, index = Math.floor(body.length / 2)): Buffer {
  const out = Buffer.from(body);
  out[index] = (out[index] ?? 0) ^ 0x01;
  return out;
}

/** Parse a TUF envelope, let `edit` change it, and re-serialize compactly (signatures untouched). */
export function editJson(
  edit: (doc: { signed: Record<string, unknown>; signatures: unknown[] }) => void,
): (body: Buffer) => string {
  return (body) => {
    const doc = JSON.parse(body.toString('utf8')) as {
      signed: Record<string, unknown>;
      signatures: unknown[];
    };
    edit(doc);
    return JSON.stringify(doc);
  };
}

interface Rule {
  readonly test: (path: string) => boolean;
  readonly action: ProxyAction;
  remaining: number;
}

function toTest(m: PathMatcher): (path: string) => boolean {
  if (typeof m === 'string') return (p) => p === m;
  if (m instanceof RegExp) return (p) => m.test(p);
  return m;
}

interface Upstream {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function forward(base: URL, path: string, method: string): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: base.hostname, port: base.port, path, method, timeout: 10_000 },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const h of ['content-type', 'cache-control', 'last-modified']) {
            const v = res.headers[h];
            if (typeof v === 'string') headers[h] = v;
          }
          resolve({ status: res.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('upstream timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Answer with `bytes` of filler until done or until the client hangs up (at its size cap). */
async function writeOversize(
  res: ServerResponse,
  action: { readonly bytes: number; readonly chunked?: boolean },
): Promise<void> {
  const filler = Buffer.alloc(Math.min(action.bytes, 64 * 1024), 0x20);
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    ...(action.chunked ? {} : { 'content-length': String(action.bytes) }),
  });
  let left = action.bytes;
  // Bounded: every round writes at least one byte or stops at a closed socket.
  while (left > 0 && !res.destroyed) {
    const n = Math.min(left, filler.length);
    left -= n;
    if (!res.write(filler.subarray(0, n))) {
      await new Promise<void>((r) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          r();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  res.end();
}

/**
 * Start a proxy on 127.0.0.1:<free port> forwarding to `upstream` (a notary-server URL).
 * GET and HEAD are forwarded; the proxy never follows or rewrites anything unless a rule says so.
 */
export async function startTufProxy(upstream: string): Promise<TufProxy> {
  const base = new URL(upstream);
  const counts = new Map<string, number>();
  let log: { method: string; path: string }[] = [];
  let rules: Rule[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = req.url ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    log.push({ method: req.method ?? 'GET', path });
    const rule = rules.find((r) => r.remaining > 0 && r.test(path));
    if (rule) rule.remaining--;
    const action = rule?.action;
    const method = req.method ?? 'GET';
    switch (action?.kind) {
      case 'hang':
        return;
      case 'status':
        res
          .writeHead(action.status, { 'content-type': 'text/plain' })
          .end(`proxy says ${action.status}\n`);
        return;
      case 'serve': {
        res.writeHead(action.status ?? 200, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(action.body);
        return;
      }
      case 'oversize':
        return writeOversize(res, action);
      // These go upstream first; what happens to the answer is handled below.
      case 'serveFrom':
      case 'transform':
      case 'drop':
      case undefined:
        break;
    }
    const up = await forward(base, action?.kind === 'serveFrom' ? action.path : path, method);
    let body = up.body;
    if (action?.kind === 'transform' && up.status === 200) {
      const t = action.transform(up.body, path);
      body = typeof t === 'string' ? Buffer.from(t, 'utf8') : t;
    }
    if (action?.kind === 'drop') {
      res.writeHead(up.status, { ...up.headers, 'content-length': String(body.length) });
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.writeHead(up.status, { ...up.headers, 'content-length': String(body.length) });
    res.end(method === 'HEAD' ? undefined : body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    count: (path) =>
      path === undefined
        ? [...counts.values()].reduce((a, b) => a + b, 0)
        : (counts.get(path) ?? 0),
    counts: () => new Map(counts),
    requests: () => [...log],
    resetCounts: () => {
      counts.clear();
      log = [];
    },
    on(match, action, opts = {}) {
      const rule: Rule = {
        test: toTest(match),
        action,
        remaining: opts.times ?? Number.POSITIVE_INFINITY,
      };
      rules.push(rule);
      return () => {
        rules = rules.filter((r) => r !== rule);
      };
    },
    clearRules: () => {
      rules = [];
    },
    async fetchUpstream(path) {
      const up = await forward(base, path, 'GET');
      if (up.status !== 200) throw new Error(`upstream answered ${up.status} for ${path}`);
      return up.body;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging requests would keep close() waiting forever: cut every connection.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
