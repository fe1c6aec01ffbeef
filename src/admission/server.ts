// SPDX-License-Identifier: Apache-2.0
// The HTTPS admission edge on bare node:https (no framework: SPEC §7 asks for ≥ 0.8× a bare
// server; perf-baseline §1). Routing, content type, body cap and graceful close live here;
// everything about AdmissionReviews lives in handler.ts.

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { RequestError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import type { CertificatePair } from '../tls/cert-source.js';
import { noopLogger, serializeError, type Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import {
  toErrorReply,
  toJsonReply,
  type AdmissionHandler,
  type HttpReply,
  type PolicyAdmissionHandler,
} from './handler.js';

export type { CertificatePair };

export interface AdmissionServerOptions {
  readonly handler: AdmissionHandler;
  /** Serves `POST /validate-policy`; 404 when absent. */
  readonly policyHandler?: PolicyAdmissionHandler;
  readonly tls: CertificatePair;
  /** `/readyz` answers 200 only while this returns true (policies synced). */
  readonly ready: () => boolean;
  readonly logger?: Logger;
  /** Default `LIMITS.maxAdmissionBodyBytes`. */
  readonly maxBodyBytes?: number;
  /** Idle keep-alive socket lifetime; above the apiserver's reuse window. Default 65 s. */
  readonly keepAliveTimeoutMs?: number;
  /** Whole-request cap (headers + body + answer). Default 40 s (> the 30 s webhook maximum). */
  readonly requestTimeoutMs?: number;
}

export interface AdmissionServer {
  readonly server: https.Server;
  /** Start listening; resolves with the bound address (port 0 = a free port). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  /** Swap the certificate for new handshakes; established connections keep theirs. */
  setCertificate(pair: CertificatePair): void;
  /**
   * Keep serving but report not-ready: `/readyz` answers 503 and every answer carries
   * `connection: close`, so the apiserver's keep-alive connections end after their next call and
   * its new ones go to replicas still in the endpoints. The listener stays open (new connections
   * are accepted and answered); idle connections are left alone, since cutting one the client
   * is just reusing would fail that call. Idempotent; `close()` implies it.
   */
  beginDrain(): void;
  /**
   * Stop accepting, let in-flight requests finish (their connections then close), and resolve
   * when every connection is gone. After `graceMs` (default 25 s) remaining sockets are cut.
   */
  close(graceMs?: number): Promise<void>;
}

type Route = 'validate' | 'mutate' | 'validate-policy' | 'healthz' | 'readyz';
const ROUTES: ReadonlyMap<string, { route: Route; method: 'GET' | 'POST' }> = new Map([
  ['/validate', { route: 'validate', method: 'POST' }],
  ['/mutate', { route: 'mutate', method: 'POST' }],
  ['/validate-policy', { route: 'validate-policy', method: 'POST' }],
  ['/healthz', { route: 'healthz', method: 'GET' }],
  ['/readyz', { route: 'readyz', method: 'GET' }],
]);

/** TLS ≥ 1.2 (SPEC §4). */
export const MIN_TLS_VERSION = 'TLSv1.2' as const;

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() === 'application/json';
}

function send(
  res: http.ServerResponse,
  reply: HttpReply,
  extra?: Readonly<Record<string, string>>,
): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(reply.body, 'utf8');
  // Object.assign, not `{ ...reply.headers, ...extra, 'content-length': … }`: on Node 20 a literal
  // that starts with a spread and then adds a property is ~10× slower, and this runs per request.
  const headers: Record<string, string> = Object.assign({}, reply.headers, extra);
  headers['content-length'] = String(body.length);
  res.writeHead(reply.status, headers);
  res.end(body);
}

/**
 * Read the whole body, at most `maxBytes`; rejects with PAYLOAD_TOO_LARGE as soon as the
 * declared or received size passes the cap (the rest is never buffered).
 */
function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooLarge(maxBytes: number): RequestError {
  return new RequestError(
    'PAYLOAD_TOO_LARGE',
    `request body is larger than the ${maxBytes}-byte limit for an AdmissionReview`,
  );
}

/**
 * Create the HTTPS admission server (not listening yet). Routes: `POST /validate`,
 * `POST /mutate`, `POST /validate-policy`, `GET /healthz`, `GET /readyz`. Errors never carry a
 * stack: 400/413/415 `{code, message}`, 404/405 for unknown routes/methods, 500 for a bug.
 */
export function createAdmissionServer(opts: AdmissionServerOptions): AdmissionServer {
  const logger = opts.logger ?? noopLogger;
  const maxBodyBytes = opts.maxBodyBytes ?? LIMITS.maxAdmissionBodyBytes;
  /** beginDrain() or close() was called: not ready, and no connection is kept alive. */
  let draining = false;

  const server = https.createServer({
    cert: opts.tls.certPem,
    key: opts.tls.keyPem,
    minVersion: MIN_TLS_VERSION,
    keepAliveTimeout: opts.keepAliveTimeoutMs ?? 65_000,
    requestTimeout: opts.requestTimeoutMs ?? 40_000,
    headersTimeout: 15_000,
  });

  // The apiserver sends the same `?timeout=…` on every call of a webhook: parse it once. The
  // handlers only read the parameters (AdmissionHandler), so one parsed object can be shared.
  let lastSearch: string | undefined;
  let lastQuery = new URLSearchParams();
  function queryOf(search: string): URLSearchParams {
    if (search !== lastSearch) {
      lastQuery = new URLSearchParams(search);
      lastSearch = search;
    }
    return lastQuery;
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const target = ROUTES.get(path);
    if (target === undefined) {
      req.resume();
      send(res, toJsonReply(404, { code: 'NOT_FOUND', message: `no route for ${path}` }));
      return;
    }
    if (req.method !== target.method && !(target.method === 'GET' && req.method === 'HEAD')) {
      req.resume();
      send(
        res,
        toJsonReply(405, {
          code: 'METHOD_NOT_ALLOWED',
          message: `${path} accepts ${target.method} only`,
        }),
        {
          allow: target.method,
        },
      );
      return;
    }
    switch (target.route) {
      case 'healthz':
        send(res, toJsonReply(200, { status: 'ok' }));
        return;
      case 'readyz': {
        const ok = !draining && opts.ready();
        send(res, toJsonReply(ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' }));
        return;
      }
      case 'validate':
      case 'mutate':
      case 'validate-policy':
        break;
      default: {
        const never: never = target.route;
        throw new Error(`unhandled route ${String(never)}`);
      }
    }

    if (!isJsonContentType(req.headers['content-type'])) {
      req.resume();
      send(
        res,
        toErrorReply(
          new RequestError(
            'UNSUPPORTED_MEDIA_TYPE',
            `content-type must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}`,
          ),
        ),
      );
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(req, maxBodyBytes);
    } catch (err) {
      if (err instanceof RequestError) {
        // Do not read the rest: answer and close this connection (its stream is unusable).
        send(res, toErrorReply(err), { connection: 'close' });
        res.once('finish', () => req.socket.destroySoon());
        return;
      }
      throw err;
    }
    const query = queryOf(q < 0 ? '' : url.slice(q + 1));
    let reply: HttpReply;
    if (target.route === 'validate') reply = await opts.handler.validate(body, query);
    else if (target.route === 'mutate') reply = await opts.handler.mutate(body, query);
    else if (opts.policyHandler !== undefined)
      reply = await opts.policyHandler.validatePolicy(body);
    else
      reply = toJsonReply(404, { code: 'NOT_FOUND', message: 'policy validation is not enabled' });
    // Drain may have begun while this request was being answered.
    send(res, reply, draining ? { connection: 'close' } : undefined);
  }

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Every route; writeHead merges it into the answer's headers. Requests in flight when the
    // drain begins get it on their answer (end of route()).
    if (draining) res.setHeader('connection', 'close');
    route(req, res).catch((err: unknown) => {
      logger.error('unhandled error in admission server', {
        path: req.url,
        error: serializeError(err),
      });
      send(res, toJsonReply(500, { code: 'INTERNAL', message: 'internal server error' }));
    });
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    // Malformed HTTP or a TLS failure mid-request: answer 400 if still possible, no details.
    if (err.code !== 'ECONNRESET' && socket.writable) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    } else {
      socket.destroy();
    }
  });
  server.on('tlsClientError', (err: Error) => {
    logger.debug('TLS handshake failed', { error: serializeError(err) });
  });

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    setCertificate(pair) {
      server.setSecureContext({
        cert: pair.certPem,
        key: pair.keyPem,
        minVersion: MIN_TLS_VERSION,
      });
    },
    beginDrain() {
      draining = true;
    },
    close(graceMs = 25_000) {
      draining = true;
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        // Idle keep-alive sockets would otherwise hold close() open until their timeout;
        // busy ones get `connection: close` on their answer and end after it.
        server.closeIdleConnections();
      });
    },
  };
}

export interface MetricsServerOptions {
  readonly metrics: Metrics;
  readonly logger?: Logger;
}

export interface MetricsServer {
  readonly server: http.Server;
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

/** Plain-HTTP server for Prometheus scraping: `GET /metrics` and `GET /healthz`. */
export function createMetricsServer(opts: MetricsServerOptions): MetricsServer {
  const logger = opts.logger ?? noopLogger;
  const server = http.createServer((req, res) => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/healthz') {
      send(res, toJsonReply(404, { code: 'NOT_FOUND', message: `no route for ${path}` }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(
        res,
        toJsonReply(405, { code: 'METHOD_NOT_ALLOWED', message: `${path} accepts GET only` }),
        { allow: 'GET' },
      );
      return;
    }
    if (path === '/healthz') {
      send(res, toJsonReply(200, { status: 'ok' }));
      return;
    }
    opts.metrics.render().then(
      (text) =>
        send(res, {
          status: 200,
          headers: { 'content-type': opts.metrics.contentType },
          body: text,
        }),
      (err: unknown) => {
        logger.error('metrics rendering failed', { error: serializeError(err) });
        send(res, toJsonReply(500, { code: 'INTERNAL', message: 'metrics unavailable' }));
      },
    );
  });
  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
