// SPDX-License-Identifier: Apache-2.0
// The one way trustgate talks HTTP upstream: undici with a deadline, a size cap on every
// body, and retries only for idempotent requests on retryable failures.

import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { InconclusiveError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { remainingMs } from '../verify/deadline.js';
import type { Deadline } from '../verify/ports.js';

export interface HttpRequest {
  readonly url: string;
  readonly method?: 'GET' | 'HEAD' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Cap on the response body; exceeding it is LIMIT_EXCEEDED. */
  readonly maxBytes: number;
  readonly deadline: Deadline;
  readonly dispatcher: Dispatcher;
  /** Retries after the first attempt (GET/HEAD only). Default 2. */
  readonly retries?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array;
}

/** Statuses worth retrying for an idempotent request. */
const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);
/** undici's per-request timeouts, which attempt() sets to the time left before the deadline. */
const DEADLINE_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'UND_ERR_SOCKET',
  'ETIMEDOUT',
]);
const BASE_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1000;

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.cause?.code === 'string') return e.cause.code;
  return undefined;
}

async function readCapped(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
  url: string,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      throw new InconclusiveError(
        'LIMIT_EXCEEDED',
        `response from ${hostOf(url)} exceeds the ${maxBytes}-byte limit`,
      );
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function retryAfterMs(headers: HttpResponse['headers']): number | undefined {
  const v = headers['retry-after'];
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined) return undefined;
  const secs = Number(s);
  return Number.isFinite(secs) ? secs * 1000 : undefined;
}

async function attempt(req: HttpRequest): Promise<HttpResponse> {
  const left = remainingMs(req.deadline);
  if (left <= 0 || req.deadline.signal.aborted) {
    throw new InconclusiveError('TIMEOUT', `deadline reached before contacting ${hostOf(req.url)}`);
  }
  const url = new URL(req.url);
  const res = await req.dispatcher.request({
    origin: url.origin,
    path: url.pathname + url.search,
    method: req.method ?? 'GET',
    headers: req.headers ?? {},
    ...(req.body !== undefined ? { body: req.body } : {}),
    signal: req.deadline.signal,
    headersTimeout: left,
    bodyTimeout: left,
  });
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > req.maxBytes) {
    // destroy() without an error makes undici emit RequestAbortedError; unheard, it would crash the process.
    res.body.on('error', () => undefined);
    res.body.destroy();
    throw new InconclusiveError(
      'LIMIT_EXCEEDED',
      `response from ${hostOf(req.url)} declares ${declared} bytes, over the ${req.maxBytes}-byte limit`,
    );
  }
  const body =
    req.method === 'HEAD' ? new Uint8Array() : await readCapped(res.body, req.maxBytes, req.url);
  return { status: res.statusCode, headers: res.headers, body };
}

/** What a failed attempt means: the deadline, a connection failure worth retrying, or unreachable. */
function classify(err: unknown, req: HttpRequest, canRetry: boolean): InconclusiveError | 'retry' {
  if (err instanceof InconclusiveError) return err;
  const code = errorCode(err);
  // undici's headers/body timeouts are set to the time left, so they mean the deadline too
  // (their timer can fire a few ms before the signal's).
  if (req.deadline.signal.aborted || (code !== undefined && DEADLINE_CODES.has(code))) {
    return new InconclusiveError(
      'TIMEOUT',
      `deadline reached while waiting for ${hostOf(req.url)}`,
      {
        cause: err,
      },
    );
  }
  if (canRetry && code !== undefined && RETRYABLE_CODES.has(code)) return 'retry';
  return new InconclusiveError(
    'TRUST_SOURCE_UNAVAILABLE',
    `cannot reach ${hostOf(req.url)}: ${code ?? (err instanceof Error ? err.message : String(err))}`,
    { cause: err },
  );
}

/**
 * Perform one HTTP request under the deadline and size cap, retrying idempotent
 * requests on 408/429/502/503/504 and connection resets with exponential backoff.
 * Non-2xx statuses are returned, not thrown: callers decide what 401/404 mean.
 * @throws InconclusiveError TIMEOUT | LIMIT_EXCEEDED | TRUST_SOURCE_UNAVAILABLE
 */
export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const idempotent = (req.method ?? 'GET') !== 'POST';
  const retries = idempotent ? (req.retries ?? 2) : 0;
  for (let i = 0; ; i++) {
    let retryDelay: number | undefined;
    try {
      const res = await attempt(req);
      if (i < retries && RETRYABLE_STATUS.has(res.status)) {
        retryDelay = retryAfterMs(res.headers) ?? BASE_BACKOFF_MS * 2 ** i;
      } else {
        return res;
      }
    } catch (err) {
      const failure = classify(err, req, i < retries);
      if (failure !== 'retry') throw failure;
      retryDelay = BASE_BACKOFF_MS * 2 ** i;
    }
    const wait = Math.min(retryDelay, MAX_BACKOFF_MS);
    if (wait >= remainingMs(req.deadline)) {
      throw new InconclusiveError('TIMEOUT', `deadline too close to retry ${hostOf(req.url)}`);
    }
    await sleep(wait, req.deadline.signal);
  }
}

/** Read a short diagnostic snippet of an error body (never used for decisions). */
export function errorSnippet(body: Uint8Array): string {
  return Buffer.from(body.subarray(0, LIMITS.maxErrorBodyBytes)).toString('utf8').slice(0, 300);
}

export interface DispatcherOptions {
  /** Extra PEM CA certificates trusted in addition to the system roots. */
  readonly caBundle?: string;
  /** Skip TLS verification (only for registries listed in `insecureRegistries`). */
  readonly insecureSkipVerify?: boolean;
}

/**
 * Connection pools, one per distinct TLS configuration, so connections to each
 * upstream are reused across requests.
 */
export class DispatcherPool {
  readonly #agents = new Map<string, Agent>();

  get(opts: DispatcherOptions = {}): Dispatcher {
    const key = `${opts.insecureSkipVerify ? 'insecure' : 'verify'}\n${opts.caBundle ?? ''}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      agent = new Agent({
        keepAliveTimeout: 30_000,
        connections: 16,
        connect: {
          ...(opts.caBundle ? { ca: [...rootCertificates, opts.caBundle] } : {}),
          ...(opts.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
        },
      });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#agents.values()].map((a) => a.close()));
    this.#agents.clear();
  }
}
