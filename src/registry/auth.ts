// SPDX-License-Identifier: Apache-2.0
// Registry authentication: `WWW-Authenticate` parsing, the Docker token flow (Basic to the realm,
// OAuth2 refresh with an identity token), a clock-driven token cache, and Basic headers.

import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { InconclusiveError } from '../core/errors.js';
import { isLoopbackRegistry } from '../core/reference.js';
import { LIMITS } from '../core/limits.js';
import {
  systemClock,
  type Clock,
  type Deadline,
  type RegistryCredentials,
} from '../verify/ports.js';
import { errorSnippet, httpRequest } from './http.js';

/** One challenge of a `WWW-Authenticate` header (RFC 7235 §4.1). */
export interface AuthChallenge {
  /** Lower-cased scheme: `basic`, `bearer`, … */
  readonly scheme: string;
  /** Parameters with lower-cased names; a token68 value is stored under `''`. */
  readonly params: Readonly<Record<string, string>>;
}

const MAX_HEADER_CHARS = 8 * 1024;
const MAX_CHALLENGES = 16;
const MAX_PARAMS = 32;
const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * Parse `WWW-Authenticate` (one or several header values) into challenges: several challenges per
 * value, quoted strings containing commas and `\` escapes, case-insensitive schemes and names.
 * Malformed parts are skipped; never throws. // attacker-controlled
 */
export function parseWwwAuthenticate(
  header: string | readonly string[] | undefined,
): AuthChallenge[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  const out: AuthChallenge[] = [];
  for (const value of values) {
    parseOne(value.slice(0, MAX_HEADER_CHARS), out);
    if (out.length >= MAX_CHALLENGES) break;
  }
  return out.slice(0, MAX_CHALLENGES);
}

function parseOne(s: string, out: AuthChallenge[]): void {
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < s.length && chars.test(s[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const quoted = (): string => {
    let v = '';
    i++; // opening quote
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      v += s[i];
      i++;
    }
    i++; // closing quote (or end)
    return v;
  };
  // Every iteration consumes at least one character, so the loop is bounded by the length.
  while (i < s.length && out.length < MAX_CHALLENGES) {
    skip(/[\s,]/);
    const scheme = token();
    if (scheme === '') {
      i++;
      continue;
    }
    const params: Record<string, string> = {};
    let count = 0;
    for (;;) {
      const save = i;
      skip(/[\s,]/);
      const name = token();
      skip(/[ \t]/);
      if (name === '' || s[i] !== '=') {
        i = save;
        break;
      }
      i++; // '='
      if (s[i] === '=' || i >= s.length || s[i] === ',') {
        // token68 (`Negotiate abc==`): keep it whole, it is not a name=value pair.
        while (s[i] === '=') i++;
        params[''] = s.slice(save, i).trim();
        break;
      }
      skip(/[ \t]/);
      const value = s[i] === '"' ? quoted() : token();
      if (count++ < MAX_PARAMS) params[name.toLowerCase()] = value;
      skip(/[ \t]/);
      if (s[i] !== ',') break;
    }
    out.push({ scheme: scheme.toLowerCase(), params });
  }
}

/** `Basic base64(user:pass)`, or undefined when there is no username/password. */
export function toBasicAuthorization(
  credentials: RegistryCredentials | undefined,
): string | undefined {
  if (!credentials || (credentials.username === undefined && credentials.password === undefined))
    return undefined;
  const pair = `${credentials.username ?? ''}:${credentials.password ?? ''}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/**
 * Identity of a credential set for cache keys: a hash, so the cache never holds a usable secret
 * as a key and two pull secrets with different passwords never share a token.
 */
export function credentialIdentity(credentials: RegistryCredentials | undefined): string {
  if (!credentials) return 'anonymous';
  const material = JSON.stringify([
    credentials.username ?? null,
    credentials.password ?? null,
    credentials.identityToken ?? null,
    credentials.registryToken ?? null,
  ]);
  return createHash('sha256').update(material).digest('hex').slice(0, 32);
}

export interface TokenKey {
  readonly realm: string;
  readonly service: string;
  readonly scope: string;
  readonly credentials: RegistryCredentials | undefined;
}

export function toTokenCacheKey(k: TokenKey): string {
  return JSON.stringify([k.realm, k.service, k.scope, credentialIdentity(k.credentials)]);
}

/** Tokens are dropped this long before they expire, so a request never leaves with a dying token. */
export const TOKEN_EXPIRY_SKEW_MS = 5_000;
/** docker/distribution registry/client/auth/session.go `minimumTokenLifetimeSeconds`. */
export const MIN_TOKEN_LIFETIME_S = 60;
/** Upper bound on caching a token, whatever the issuer says: pull secrets may be revoked. */
export const MAX_TOKEN_LIFETIME_S = 3600;

/** Bearer tokens by (realm, service, scope, credential identity), expiring on the injected clock. */
export class TokenCache {
  readonly #clock: Clock;
  readonly #max: number;
  readonly #entries = new Map<string, { token: string; expiresAt: number }>();

  constructor(opts: { clock?: Clock; maxEntries?: number } = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#max = opts.maxEntries ?? 1024;
  }

  get(key: string): string | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (this.#clock.now().getTime() >= e.expiresAt - TOKEN_EXPIRY_SKEW_MS) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.token;
  }

  set(key: string, token: string, expiresAt: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { token, expiresAt });
    // Map iteration order is insertion order: evict the oldest entries first.
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(k);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

export interface FetchTokenRequest {
  readonly realm: string;
  readonly service?: string;
  readonly scope: string;
  readonly credentials?: RegistryCredentials;
  /** `host[:port]` of the registry that sent the challenge (for messages and the plain-HTTP rule). */
  readonly registryHost: string;
  readonly deadline: Deadline;
  readonly dispatcher: Dispatcher;
  readonly retries?: number;
}

export interface IssuedToken {
  readonly token: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

function validRealm(realm: string, registryHost: string): URL {
  let url: URL;
  try {
    url = new URL(realm);
  } catch (err) {
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `registry ${registryHost} sent an invalid token realm`,
      { cause: err },
    );
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `registry ${registryHost} sent an unusable token realm (${url.protocol})`,
    );
  }
  return url;
}

/**
 * Credentials go to a plain-HTTP realm only on loopback or on the registry's own host (which the
 * operator already chose to reach without TLS); otherwise a hostile challenge could harvest them.
 */
function mayUseCredentials(realm: URL, registryHost: string): boolean {
  return (
    realm.protocol === 'https:' ||
    isLoopbackRegistry(realm.host) ||
    realm.host.toLowerCase() === registryHost.toLowerCase()
  );
}

// attacker-controlled
function parseTokenResponse(body: Uint8Array, now: number, realmHost: string): IssuedToken {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (err) {
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `token service ${realmHost} answered with invalid JSON`,
      { cause: err },
    );
  }
  const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  // docker/distribution accepts either field; `token` wins when both are set.
  const token = typeof o.token === 'string' && o.token !== '' ? o.token : o.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `token service ${realmHost} answered without a token`,
    );
  }
  const declared =
    typeof o.expires_in === 'number' && Number.isFinite(o.expires_in)
      ? o.expires_in
      : MIN_TOKEN_LIFETIME_S;
  const lifetime = Math.min(Math.max(declared, MIN_TOKEN_LIFETIME_S), MAX_TOKEN_LIFETIME_S);
  return { token, expiresAt: now + lifetime * 1000 };
}

/**
 * Get a bearer token from a token service (Docker token auth spec): OAuth2 refresh-token POST
 * when an identity token is present, otherwise GET `realm?service=…&scope=…` with Basic
 * credentials (or anonymously). Accepts `token` or `access_token`; `expires_in` defaults to 60 s.
 * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE (refused, malformed answer) | TIMEOUT | LIMIT_EXCEEDED
 */
export async function fetchBearerToken(
  req: FetchTokenRequest,
  clock: Clock = systemClock,
): Promise<IssuedToken> {
  const realm = validRealm(req.realm, req.registryHost);
  const creds = mayUseCredentials(realm, req.registryHost) ? req.credentials : undefined;
  const url = new URL(realm.href);
  let res;
  if (creds?.identityToken !== undefined) {
    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: creds.identityToken,
      client_id: 'trustgate',
      scope: req.scope,
      ...(req.service !== undefined ? { service: req.service } : {}),
    });
    res = await httpRequest({
      url: url.href,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': 'trustgate',
      },
      body: form.toString(),
      maxBytes: LIMITS.maxTokenBytes,
      deadline: req.deadline,
      dispatcher: req.dispatcher,
    });
  } else {
    if (req.service !== undefined) url.searchParams.set('service', req.service);
    url.searchParams.append('scope', req.scope);
    const basic = toBasicAuthorization(creds);
    res = await httpRequest({
      url: url.href,
      method: 'GET',
      headers: {
        accept: 'application/json',
        'user-agent': 'trustgate',
        ...(basic ? { authorization: basic } : {}),
      },
      maxBytes: LIMITS.maxTokenBytes,
      deadline: req.deadline,
      dispatcher: req.dispatcher,
      ...(req.retries !== undefined ? { retries: req.retries } : {}),
    });
  }
  if (res.status === 401 || res.status === 403) {
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `token service ${realm.host} refused ${creds ? 'the credentials configured' : 'anonymous access'} for registry ${req.registryHost} (HTTP ${res.status})`,
    );
  }
  if (res.status < 200 || res.status >= 300) {
    const snippet = errorSnippet(res.body).replace(/\s+/g, ' ').trim();
    throw new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `token service ${realm.host} answered HTTP ${res.status} for registry ${req.registryHost}${snippet ? `: ${snippet}` : ''}`,
    );
  }
  return parseTokenResponse(res.body, clock.now().getTime(), realm.host);
}

export interface RegistryAuthenticatorOptions {
  /** Connection pool for a token realm URL (TLS settings by host). */
  readonly dispatcherFor: (url: string) => Dispatcher;
  readonly clock?: Clock;
  readonly tokenCache?: TokenCache;
  readonly retries?: number;
  /** Max registries whose last challenge is remembered (default 256). */
  readonly maxRemembered?: number;
}

/** What one registry request needs to authenticate. */
export interface AuthTarget {
  /** Endpoint base URL; challenges are remembered per endpoint. */
  readonly baseUrl: string;
  /** `host[:port]`, for messages. */
  readonly host: string;
  readonly repository: string;
  readonly credentials: RegistryCredentials | undefined;
}

/**
 * Turns challenges into `Authorization` headers and remembers, per endpoint, which challenge it
 * sent, so later requests carry a cached token up front instead of paying a 401 round trip.
 */
export class RegistryAuthenticator {
  readonly #opts: RegistryAuthenticatorOptions;
  readonly #clock: Clock;
  readonly #cache: TokenCache;
  readonly #challenges = new Map<string, AuthChallenge>();
  readonly #inflight = new Map<string, Promise<IssuedToken>>();

  constructor(opts: RegistryAuthenticatorOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#cache = opts.tokenCache ?? new TokenCache({ clock: this.#clock });
  }

  /** The header to send before any challenge, from what this endpoint asked for last time; no I/O. */
  cachedAuthorization(t: AuthTarget): string | undefined {
    const ch = this.#challenges.get(t.baseUrl);
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return toBasicAuthorization(t.credentials);
    if (t.credentials?.registryToken !== undefined) return `Bearer ${t.credentials.registryToken}`;
    const token = this.#cache.get(toTokenCacheKey(this.#key(ch, t)));
    return token !== undefined ? `Bearer ${token}` : undefined;
  }

  /**
   * Answer a 401's challenges: Bearer (token flow, cached) preferred over Basic. Returns the
   * header to retry with, or `undefined` when the challenge cannot be met (Basic without
   * credentials, unknown scheme). `rejected` is the header the registry just refused, never reused.
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED (token service)
   */
  async authorize(
    t: AuthTarget,
    wwwAuthenticate: string | readonly string[] | undefined,
    deadline: Deadline,
    rejected?: string,
  ): Promise<string | undefined> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate);
    const bearer = challenges.find(
      (c) => c.scheme === 'bearer' && typeof c.params.realm === 'string',
    );
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      this.#remember(t.baseUrl, bearer);
      if (t.credentials?.registryToken !== undefined)
        return `Bearer ${t.credentials.registryToken}`;
      const key = this.#key(bearer, t);
      const cacheKey = toTokenCacheKey(key);
      const cached = this.#cache.get(cacheKey);
      // A cached token the registry just refused (revoked, or the issuer's `exp` is shorter than
      // its `expires_in`) is worthless: fetch a fresh one instead of repeating it.
      if (cached !== undefined && `Bearer ${cached}` !== rejected) return `Bearer ${cached}`;
      // Single flight: concurrent admissions for one repository share one token request.
      let pending = this.#inflight.get(cacheKey);
      if (!pending) {
        pending = fetchBearerToken(
          {
            realm: key.realm,
            ...(key.service !== '' ? { service: key.service } : {}),
            scope: key.scope,
            ...(t.credentials ? { credentials: t.credentials } : {}),
            registryHost: t.host,
            deadline,
            dispatcher: this.#opts.dispatcherFor(key.realm),
            ...(this.#opts.retries !== undefined ? { retries: this.#opts.retries } : {}),
          },
          this.#clock,
        ).finally(() => this.#inflight.delete(cacheKey));
        this.#inflight.set(cacheKey, pending);
      }
      const issued = await pending;
      this.#cache.set(cacheKey, issued.token, issued.expiresAt);
      return `Bearer ${issued.token}`;
    }
    if (basic) {
      this.#remember(t.baseUrl, basic);
      return toBasicAuthorization(t.credentials);
    }
    return undefined;
  }

  #key(ch: AuthChallenge, t: AuthTarget): TokenKey {
    // Ask for exactly what we need (pull), whatever scope the challenge named.
    return {
      realm: ch.params.realm ?? '',
      service: ch.params.service ?? '',
      scope: `repository:${t.repository}:pull`,
      credentials: t.credentials,
    };
  }

  #remember(baseUrl: string, ch: AuthChallenge): void {
    this.#challenges.delete(baseUrl);
    this.#challenges.set(baseUrl, ch);
    const max = this.#opts.maxRemembered ?? 256;
    for (const k of this.#challenges.keys()) {
      if (this.#challenges.size <= max) break;
      this.#challenges.delete(k);
    }
  }
}
