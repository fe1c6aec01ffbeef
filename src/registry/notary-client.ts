// SPDX-License-Identifier: Apache-2.0
// Fetches raw TUF role files from a Notary v1 server (`/v2/<gun>/_trust/tuf/…`) and returns
// the exact served bytes; every judgement about their content is left to core/notary.

import type { Dispatcher } from 'undici';
import { InconclusiveError, VerificationError } from '../core/errors.js';
import type { NotaryMetadataSource, NotaryRoleRequest } from '../verify/ports.js';
import { errorSnippet, httpRequest, type DispatcherOptions } from './http.js';

/** Where the client gets its connection pools; `DispatcherPool` in production, a MockAgent in tests. */
export interface DispatcherProvider {
  get(opts?: DispatcherOptions): Dispatcher;
}

export interface NotaryClientOptions {
  readonly dispatchers: DispatcherProvider;
  /** Retries after the first attempt on 408/429/5xx and connection resets (default: http.ts default). */
  readonly retries?: number;
}

/** notary-server's route for role names: `root|targets(?:/[^/\s]+)*|snapshot|timestamp` (server/server.go). */
const ROLE_PATTERN = /^(?:root|timestamp|snapshot|targets(?:\/[^/\s]+)*)$/;
const SHA256_HEX = /^[0-9a-f]{64}$/i;
/** Characters that never belong in a GUN or role segment: controls, whitespace, `?`, `#`, `\`. */
// eslint-disable-next-line no-control-regex -- rejecting control characters is this regex's job
const FORBIDDEN_IN_SEGMENT = /[\u0000-\u0020\u007f?#\\]/;

/**
 * Encode a `/`-separated name for a URL path. Each segment is percent-encoded (keeping `:` for
 * `host:port` GUNs), and `.`, `..` and empty segments are refused so the WHATWG URL parser can
 * never collapse the path onto another repository or route.
 */
function encodeSegments(name: string): string | undefined {
  const segments = name.split('/');
  const out: string[] = [];
  for (const seg of segments) {
    if (seg === '' || seg === '.' || seg === '..' || FORBIDDEN_IN_SEGMENT.test(seg))
      return undefined;
    out.push(encodeURIComponent(seg).replace(/%3A/gi, ':'));
  }
  return out.join('/');
}

function parseServer(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch (err) {
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `Notary server URL "${server}" is not a valid URL`,
      {
        cause: err,
      },
    );
  }
  // Plain http only when the URL says so; anything else (ftp:, file:, …) is refused outright.
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `Notary server URL "${server}" must use https:// (or http:// explicitly)`,
    );
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `Notary server URL "${url.origin}" must not carry credentials, a query or a fragment`,
    );
  }
  return url;
}

/**
 * Build the metadata URL for one role request: `<role>.json`, `<role>.<sha256>.json` or
 * `<version>.<role>.json` under `${server}/v2/${gun}/_trust/tuf/`.
 * @throws VerificationError INVALID_IMAGE_REFERENCE (unsafe GUN) | METADATA_INVALID (unsafe role,
 *   malformed checksum or version — these come from attacker-controlled metadata)
 * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE (unusable server URL)
 */
export function toNotaryRoleUrl(
  req: Pick<NotaryRoleRequest, 'server' | 'gun' | 'role' | 'sha256' | 'version'>,
): string {
  const base = parseServer(req.server);
  const gun = encodeSegments(req.gun);
  if (gun === undefined) {
    throw new VerificationError(
      'INVALID_IMAGE_REFERENCE',
      `repository name "${req.gun}" cannot be used as a Notary GUN (empty, "." or ".." segments, whitespace, "?", "#" or "\\")`,
    );
  }
  const role = ROLE_PATTERN.test(req.role) ? encodeSegments(req.role) : undefined;
  if (role === undefined) {
    throw new VerificationError(
      'METADATA_INVALID',
      `"${req.role}" is not a valid Notary role name`,
    );
  }
  let file: string;
  if (req.sha256 !== undefined && req.version !== undefined) {
    throw new VerificationError(
      'METADATA_INVALID',
      `role ${req.role}: ask for a checksum or a version, not both`,
    );
  } else if (req.sha256 !== undefined) {
    if (!SHA256_HEX.test(req.sha256)) {
      throw new VerificationError(
        'METADATA_INVALID',
        `role ${req.role}: "${req.sha256}" is not a sha256 hex digest`,
      );
    }
    file = `${role}.${req.sha256.toLowerCase()}.json`;
  } else if (req.version !== undefined) {
    if (!Number.isSafeInteger(req.version) || req.version < 1) {
      throw new VerificationError(
        'METADATA_INVALID',
        `role ${req.role}: version ${req.version} is not a positive integer`,
      );
    }
    file = `${req.version}.${role}.json`;
  } else {
    file = `${role}.json`;
  }
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}/v2/${gun}/_trust/tuf/${file}`;
}

function describeRequest(req: NotaryRoleRequest): string {
  const variant =
    req.sha256 !== undefined
      ? ` (sha256 ${req.sha256.slice(0, 12)}…)`
      : req.version !== undefined
        ? ` (version ${req.version})`
        : '';
  return `${req.role}${variant} of ${req.gun}`;
}

/**
 * Notary v1 metadata over HTTP(S). Always GET: notary-server answers every HEAD on
 * metadata with 404 (notes/notary-v1.md pitfall 15), and the body is `text/plain`
 * (pitfall 13), so the content type is not checked here.
 */
export class NotaryClient implements NotaryMetadataSource {
  readonly #dispatchers: DispatcherProvider;
  readonly #retries: number | undefined;

  constructor(opts: NotaryClientOptions) {
    this.#dispatchers = opts.dispatchers;
    this.#retries = opts.retries;
  }

  /**
   * The exact bytes of one role file as served, or `null` when the server answers 404.
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE (unreachable, 401/403, other non-2xx) |
   *   TIMEOUT (deadline) | LIMIT_EXCEEDED (body over `maxBytes`)
   * @throws VerificationError INVALID_IMAGE_REFERENCE | METADATA_INVALID (see {@link toNotaryRoleUrl})
   */
  async fetchRole(req: NotaryRoleRequest): Promise<Uint8Array | null> {
    const url = toNotaryRoleUrl(req);
    const host = new URL(url).host;
    const mutable = req.sha256 === undefined && req.version === undefined;
    const res = await httpRequest({
      url,
      method: 'GET',
      headers: {
        accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
        'user-agent': 'trustgate',
        // root/timestamp/snapshot.json change in place; never accept a cached copy from a middlebox.
        ...(mutable ? { 'cache-control': 'no-cache' } : {}),
      },
      maxBytes: req.maxBytes,
      deadline: req.deadline,
      dispatcher: this.#dispatchers.get(
        req.caBundle !== undefined ? { caBundle: req.caBundle } : {},
      ),
      ...(this.#retries !== undefined ? { retries: this.#retries } : {}),
    });
    if (res.status >= 200 && res.status < 300) return res.body;
    if (res.status === 404) return null;
    if (res.status === 401 || res.status === 403) {
      throw new InconclusiveError(
        'TRUST_SOURCE_UNAVAILABLE',
        `Notary server ${host} refused access to ${describeRequest(req)} (HTTP ${res.status}); trustgate reads trust data anonymously, so the server must allow anonymous reads`,
      );
    }
    const snippet = errorSnippet(res.body).replace(/\s+/g, ' ').trim();
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `Notary server ${host} answered HTTP ${res.status} for ${describeRequest(req)}${snippet ? `: ${snippet}` : ''}`,
    );
  }
}
