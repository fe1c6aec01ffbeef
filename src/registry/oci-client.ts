// SPDX-License-Identifier: Apache-2.0
// OCI distribution client (implements OciSource): tag → digest, manifests and blobs checked
// against their digests, referrers with the `sha256-<hex>` tag fallback, and tag listing.

import { createHash } from 'node:crypto';
import { InconclusiveError, VerificationError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { parseDigest } from '../core/reference.js';
import type {
  Clock,
  FetchedManifest,
  OciDescriptor,
  OciSource,
  RegistryCredentials,
  RegistryRequestContext,
} from '../verify/ports.js';
import { RegistryAuthenticator, type AuthTarget, type TokenCache } from './auth.js';
import { errorSnippet, httpRequest, type DispatcherPool, type HttpResponse } from './http.js';
import {
  DEFAULT_REGISTRY_CONFIG,
  endpointFor,
  endpointsFor,
  type RegistryConfig,
  type RegistryEndpoint,
} from './registry-config.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/**
 * Every manifest type, always. docker-registry answers 404 for an OCI index not in Accept, and
 * silently serves the linux/amd64 child of a Docker manifest list when the list type is missing
 * (notes/registry.md "Content negotiation") — a short list turns signed images into failures.
 */
export const MANIFEST_MEDIA_TYPES = [
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
] as const;
export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

/** Pages followed through `Link: rel="next"` for referrers, and for tag lists. */
const MAX_REFERRER_PAGES = 16;
const MAX_TAG_PAGES = 32;
const MAX_TAGS = 10_000;
const MAX_REDIRECTS = 5;

// distribution/reference regexp.go
const REPOSITORY =
  /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

export interface RepositoryName {
  readonly registry: string;
  readonly repository: string;
}

export interface OciClientOptions {
  /** Connection pools by TLS settings: `DispatcherPool` in production, a MockAgent wrapper in tests. */
  readonly dispatchers: Pick<DispatcherPool, 'get'>;
  readonly config?: RegistryConfig;
  readonly clock?: Clock;
  /** Share one token cache between clients (defaults to a private one on `clock`). */
  readonly tokenCache?: TokenCache;
  /** Retries after the first attempt on 408/429/5xx and resets (default: http.ts default). */
  readonly retries?: number;
}

/** Marker for "this endpoint answered 404": a definite answer, but a mirror may just lack it. */
const NOT_FOUND = Symbol('not found');
type Found<T> = T | typeof NOT_FOUND;

interface SendOptions {
  readonly url: string;
  readonly method: 'GET' | 'HEAD';
  readonly accept: string;
  readonly maxBytes: number;
  /** Body over `maxBytes` means the server broke the descriptor's size: DIGEST_MISMATCH, not a limit. */
  readonly exactSize?: boolean;
  /** What is being fetched, for messages: `manifest v1`, `blob sha256:…`. */
  readonly what: string;
}

function header(res: HttpResponse, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function invalidName(what: string, value: string, why: string): VerificationError {
  return new VerificationError(
    'INVALID_IMAGE_REFERENCE',
    `${what} ${JSON.stringify(value)} ${why}`,
  );
}

function checkRepository(name: RepositoryName): void {
  if (name.repository.length > 255 || !REPOSITORY.test(name.repository)) {
    throw invalidName('repository', name.repository, 'is not a valid repository path');
  }
}

/** Tag or digest, validated so it can go into a URL path as is. */
function checkReference(reference: string): { digest?: string } {
  if (reference.includes(':')) {
    parseDigest(reference);
    return { digest: reference };
  }
  if (!TAG.test(reference)) throw invalidName('tag', reference, 'is not a valid tag');
  return {};
}

/** The manifest's media type: the header when it names a manifest type, else the body's field. */
function manifestMediaType(contentType: string | undefined, body: Uint8Array | undefined): string {
  const ct = contentType?.split(';')[0]?.trim().toLowerCase();
  if (ct && (MANIFEST_MEDIA_TYPES as readonly string[]).includes(ct)) return ct;
  if (body) {
    try {
      const doc = JSON.parse(Buffer.from(body).toString('utf8')) as { mediaType?: unknown };
      if (typeof doc?.mediaType === 'string' && doc.mediaType.length <= 255) return doc.mediaType;
    } catch {
      // not JSON: fall through to the header
    }
  }
  return ct || 'application/octet-stream';
}

// attacker-controlled: an OCI index from the referrers API or the referrers tag
function parseIndexDescriptors(body: Uint8Array): OciDescriptor[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
  const manifests = (doc as { manifests?: unknown } | null)?.manifests;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(manifests)) return undefined;
  const out: OciDescriptor[] = [];
  for (const m of manifests as unknown[]) {
    if (typeof m !== 'object' || m === null) continue;
    const e = m as Record<string, unknown>;
    if (
      typeof e.mediaType !== 'string' ||
      typeof e.digest !== 'string' ||
      !SHA256_DIGEST.test(e.digest)
    )
      continue;
    if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0) continue;
    let annotations: Record<string, string> | undefined;
    if (
      typeof e.annotations === 'object' &&
      e.annotations !== null &&
      !Array.isArray(e.annotations)
    ) {
      annotations = {};
      for (const [k, v] of Object.entries(e.annotations as Record<string, unknown>)) {
        if (typeof v === 'string') annotations[k] = v;
      }
    }
    out.push({
      mediaType: e.mediaType,
      digest: e.digest,
      size: e.size,
      ...(typeof e.artifactType === 'string' ? { artifactType: e.artifactType } : {}),
      ...(annotations ? { annotations } : {}),
    });
  }
  return out;
}

/** The `rel="next"` target of a `Link` header, resolved against the request URL. */
export function parseLinkNext(link: string | undefined, base: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2]!)) {
      try {
        return new URL(m[1]!, base).href;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * OCI distribution client over undici. Every call runs under `ctx.deadline`; retries and size
 * caps come from `httpRequest`; a 401 runs the challenge flow once; configured mirrors are tried
 * before the registry itself.
 *
 * 404 semantics: a registry's 404 is definite (the kubelet could not pull either), so
 * `resolveTag` returns `null` and `fetchManifest`/`fetchBlob` throw VerificationError NO_TRUST_DATA
 * (the image or its signature artifact does not exist, so nothing can vouch for it).
 */
export class OciClient implements OciSource {
  readonly #dispatchers: Pick<DispatcherPool, 'get'>;
  readonly #config: RegistryConfig;
  readonly #retries: number | undefined;
  readonly #auth: RegistryAuthenticator;

  constructor(opts: OciClientOptions) {
    this.#dispatchers = opts.dispatchers;
    this.#config = opts.config ?? DEFAULT_REGISTRY_CONFIG;
    this.#retries = opts.retries;
    this.#auth = new RegistryAuthenticator({
      dispatcherFor: (url) =>
        this.#dispatchers.get(endpointFor(new URL(url).host, this.#config).tls),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.tokenCache ? { tokenCache: opts.tokenCache } : {}),
      ...(opts.retries !== undefined ? { retries: opts.retries } : {}),
    });
  }

  /**
   * The descriptor the registry serves for a tag: HEAD with the full Accept list, using
   * `Docker-Content-Digest`; GET and hash the body when the header is missing or HEAD is refused.
   * @returns `null` when the registry answers 404 (no such tag or repository).
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED
   * @throws VerificationError INVALID_IMAGE_REFERENCE | DIGEST_MISMATCH (GET fallback only)
   */
  async resolveTag(
    name: RepositoryName,
    tag: string,
    ctx: RegistryRequestContext,
  ): Promise<OciDescriptor | null> {
    checkRepository(name);
    if (!TAG.test(tag)) throw invalidName('tag', tag, 'is not a valid tag');
    const found = await this.#tryEndpoints(name, ctx, async (ep): Promise<Found<OciDescriptor>> => {
      const url = `${ep.baseUrl}/v2/${name.repository}/manifests/${tag}`;
      const what = `manifest ${name.repository}:${tag}`;
      const res = await this.#send(ep, name, ctx, {
        url,
        method: 'HEAD',
        accept: MANIFEST_ACCEPT,
        maxBytes: LIMITS.maxManifestBytes,
        what,
      });
      if (res.status === 404) return NOT_FOUND;
      if (res.status >= 200 && res.status < 300) {
        const digest = header(res, 'docker-content-digest');
        const size = Number(header(res, 'content-length'));
        if (
          digest !== undefined &&
          SHA256_DIGEST.test(digest) &&
          Number.isSafeInteger(size) &&
          size > 0
        ) {
          return {
            mediaType: manifestMediaType(header(res, 'content-type'), undefined),
            digest,
            size,
          };
        }
      } else if (res.status === 429 || res.status >= 500) {
        throw this.#unexpected(ep, res, what);
      }
      // No usable digest header, or HEAD refused (405 and friends): GET and hash it ourselves.
      const got = await this.#getManifest(ep, name, tag, ctx);
      return got === NOT_FOUND ? NOT_FOUND : got.descriptor;
    });
    return found === NOT_FOUND ? null : found;
  }

  /**
   * A manifest by tag or digest; the body's sha256 must equal the requested digest and any
   * `Docker-Content-Digest` the registry sent.
   * @throws VerificationError DIGEST_MISMATCH | NO_TRUST_DATA (404) | INVALID_IMAGE_REFERENCE
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED (over LIMITS.maxManifestBytes)
   */
  async fetchManifest(
    name: RepositoryName,
    reference: string,
    ctx: RegistryRequestContext,
  ): Promise<FetchedManifest> {
    checkRepository(name);
    checkReference(reference);
    const got = await this.#tryEndpoints(name, ctx, (ep) =>
      this.#getManifest(ep, name, reference, ctx),
    );
    if (got === NOT_FOUND) {
      throw new VerificationError(
        'NO_TRUST_DATA',
        `manifest ${reference} not found in ${name.registry}/${name.repository} (HTTP 404): the kubelet could not pull it either`,
      );
    }
    return got;
  }

  /**
   * A blob, checked against the descriptor's digest and size.
   * @throws VerificationError DIGEST_MISMATCH | NO_TRUST_DATA (404) | METADATA_INVALID (bad descriptor)
   * @throws InconclusiveError LIMIT_EXCEEDED (descriptor size over `maxBytes`) | TRUST_SOURCE_UNAVAILABLE | TIMEOUT
   */
  async fetchBlob(
    name: RepositoryName,
    descriptor: OciDescriptor,
    maxBytes: number,
    ctx: RegistryRequestContext,
  ): Promise<Uint8Array> {
    checkRepository(name);
    if (!SHA256_DIGEST.test(descriptor.digest)) {
      throw new VerificationError(
        'METADATA_INVALID',
        `blob descriptor digest ${JSON.stringify(descriptor.digest)} is not sha256:<64 hex>`,
      );
    }
    if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
      throw new VerificationError(
        'METADATA_INVALID',
        `blob descriptor ${descriptor.digest} has an invalid size`,
      );
    }
    if (descriptor.size > maxBytes) {
      throw new InconclusiveError(
        'LIMIT_EXCEEDED',
        `blob ${descriptor.digest} is ${descriptor.size} bytes, over the ${maxBytes}-byte limit`,
      );
    }
    const got = await this.#tryEndpoints(name, ctx, async (ep): Promise<Found<Uint8Array>> => {
      const url = `${ep.baseUrl}/v2/${name.repository}/blobs/${descriptor.digest}`;
      const what = `blob ${descriptor.digest}`;
      const res = await this.#send(ep, name, ctx, {
        url,
        method: 'GET',
        accept: '*/*',
        maxBytes: descriptor.size,
        exactSize: true,
        what,
      });
      if (res.status === 404) return NOT_FOUND;
      if (res.status < 200 || res.status >= 300) throw this.#unexpected(ep, res, what);
      const actual = sha256Digest(res.body);
      if (res.body.byteLength !== descriptor.size || actual !== descriptor.digest) {
        throw new VerificationError(
          'DIGEST_MISMATCH',
          `registry ${ep.host} served ${res.body.byteLength} bytes hashing to ${actual} for blob ${descriptor.digest} (${descriptor.size} bytes)`,
        );
      }
      return res.body;
    });
    if (got === NOT_FOUND) {
      throw new VerificationError(
        'NO_TRUST_DATA',
        `blob ${descriptor.digest} not found in ${name.registry}/${name.repository} (HTTP 404)`,
      );
    }
    return got;
  }

  /**
   * Referrers of a manifest: `GET /v2/<name>/referrers/<digest>?artifactType=…` following
   * `Link: rel="next"` up to LIMITS.maxReferrers entries and filtered client-side too (filtering
   * is optional for registries); on 404 the `sha256-<hex>` tag schema (distribution-spec 1.1
   * "Unavailable Referrers API"), where 404 or a non-index means no referrers.
   * @throws VerificationError INVALID_IMAGE_REFERENCE | DIGEST_MISMATCH (tag index)
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED
   */
  async listReferrers(
    name: RepositoryName,
    digest: string,
    artifactType: string | undefined,
    ctx: RegistryRequestContext,
  ): Promise<readonly OciDescriptor[]> {
    checkRepository(name);
    const { hex } = parseDigest(digest);
    const wanted = (d: OciDescriptor): boolean =>
      artifactType === undefined || d.artifactType === artifactType;
    const found = await this.#tryEndpoints(
      name,
      ctx,
      async (ep): Promise<Found<readonly OciDescriptor[]>> => {
        const query =
          artifactType !== undefined ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
        let url: string | undefined =
          `${ep.baseUrl}/v2/${name.repository}/referrers/${digest}${query}`;
        const out: OciDescriptor[] = [];
        for (
          let page = 0;
          url !== undefined && page < MAX_REFERRER_PAGES && out.length < LIMITS.maxReferrers;
          page++
        ) {
          const what = `referrers of ${digest}`;
          const res: HttpResponse = await this.#send(ep, name, ctx, {
            url,
            method: 'GET',
            accept: OCI_INDEX,
            maxBytes: LIMITS.maxManifestBytes,
            what,
          });
          if (res.status === 404 && page === 0) {
            const tagged = await this.#referrersFromTag(ep, name, `sha256-${hex}`, ctx);
            return tagged === NOT_FOUND
              ? NOT_FOUND
              : tagged.filter(wanted).slice(0, LIMITS.maxReferrers);
          }
          if (res.status < 200 || res.status >= 300) throw this.#unexpected(ep, res, what);
          const descriptors = parseIndexDescriptors(res.body);
          if (descriptors === undefined) {
            throw new InconclusiveError(
              'TRUST_SOURCE_UNAVAILABLE',
              `registry ${ep.host} answered the referrers API for ${digest} with something that is not an OCI index`,
            );
          }
          out.push(...descriptors.filter(wanted));
          url = this.#sameEndpoint(ep, parseLinkNext(header(res, 'link'), url));
        }
        return out.slice(0, LIMITS.maxReferrers);
      },
    );
    return found === NOT_FOUND ? [] : found;
  }

  /**
   * Tags of a repository (`tags/list`, paginated), without `sha256-*` referrers tags.
   * A missing repository (404) has no tags.
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED
   */
  async listTags(name: RepositoryName, ctx: RegistryRequestContext): Promise<readonly string[]> {
    checkRepository(name);
    const found = await this.#tryEndpoints(
      name,
      ctx,
      async (ep): Promise<Found<readonly string[]>> => {
        let url: string | undefined = `${ep.baseUrl}/v2/${name.repository}/tags/list?n=1000`;
        const out: string[] = [];
        for (
          let page = 0;
          url !== undefined && page < MAX_TAG_PAGES && out.length < MAX_TAGS;
          page++
        ) {
          const what = `tags of ${name.repository}`;
          const res: HttpResponse = await this.#send(ep, name, ctx, {
            url,
            method: 'GET',
            accept: 'application/json',
            maxBytes: LIMITS.maxManifestBytes,
            what,
          });
          if (res.status === 404 && page === 0) return NOT_FOUND;
          if (res.status < 200 || res.status >= 300) throw this.#unexpected(ep, res, what);
          let tags: unknown;
          try {
            tags = (JSON.parse(Buffer.from(res.body).toString('utf8')) as { tags?: unknown })?.tags;
          } catch (err) {
            throw new InconclusiveError(
              'TRUST_SOURCE_UNAVAILABLE',
              `registry ${ep.host} answered ${what} with invalid JSON`,
              { cause: err },
            );
          }
          if (Array.isArray(tags)) {
            out.push(
              ...tags.filter(
                (t): t is string =>
                  typeof t === 'string' && TAG.test(t) && !t.startsWith('sha256-'),
              ),
            );
          }
          url = this.#sameEndpoint(ep, parseLinkNext(header(res, 'link'), url));
        }
        return out.slice(0, MAX_TAGS);
      },
    );
    return found === NOT_FOUND ? [] : found;
  }

  async #getManifest(
    ep: RegistryEndpoint,
    name: RepositoryName,
    reference: string,
    ctx: RegistryRequestContext,
  ): Promise<Found<FetchedManifest>> {
    const requested = checkReference(reference).digest;
    const url = `${ep.baseUrl}/v2/${name.repository}/manifests/${reference}`;
    const what = `manifest ${name.repository}${requested ? '@' : ':'}${reference}`;
    const res = await this.#send(ep, name, ctx, {
      url,
      method: 'GET',
      accept: MANIFEST_ACCEPT,
      maxBytes: LIMITS.maxManifestBytes,
      what,
    });
    if (res.status === 404) return NOT_FOUND;
    if (res.status < 200 || res.status >= 300) throw this.#unexpected(ep, res, what);
    const actual = sha256Digest(res.body);
    if (requested !== undefined && actual !== requested) {
      throw new VerificationError(
        'DIGEST_MISMATCH',
        `registry ${ep.host} served ${what} whose bytes hash to ${actual}, not the requested ${requested}`,
      );
    }
    const claimed = header(res, 'docker-content-digest');
    if (claimed !== undefined && claimed.startsWith('sha256:') && claimed !== actual) {
      throw new VerificationError(
        'DIGEST_MISMATCH',
        `registry ${ep.host} served ${what} whose bytes hash to ${actual}, but its Docker-Content-Digest says ${claimed}`,
      );
    }
    return {
      descriptor: {
        mediaType: manifestMediaType(header(res, 'content-type'), res.body),
        digest: actual,
        size: res.body.byteLength,
      },
      bytes: res.body,
    };
  }

  async #referrersFromTag(
    ep: RegistryEndpoint,
    name: RepositoryName,
    tag: string,
    ctx: RegistryRequestContext,
  ): Promise<Found<readonly OciDescriptor[]>> {
    const got = await this.#getManifest(ep, name, tag, ctx);
    if (got === NOT_FOUND) return NOT_FOUND;
    // The tag index is written by clients and may be stale or junk: not an index means none.
    return parseIndexDescriptors(got.bytes) ?? [];
  }

  /** Mirrors first, then the origin; a 404 or failure at a mirror moves on, the origin's answer stands. */
  async #tryEndpoints<T>(
    name: RepositoryName,
    ctx: RegistryRequestContext,
    op: (ep: RegistryEndpoint) => Promise<Found<T>>,
  ): Promise<Found<T>> {
    const endpoints = endpointsFor(name.registry, this.#config);
    for (let i = 0; ; i++) {
      const ep = endpoints[i]!;
      const last = i === endpoints.length - 1;
      try {
        const r = await op(ep);
        if (r !== NOT_FOUND || last) return r;
      } catch (err) {
        // The deadline is shared: after a TIMEOUT there is no time left for the origin.
        if (
          last ||
          (err instanceof InconclusiveError && err.code === 'TIMEOUT') ||
          ctx.deadline.signal.aborted
        )
          throw err;
      }
    }
  }

  /** Follow pagination only within the endpoint: a `Link` must not steer us (and our token) elsewhere. */
  #sameEndpoint(ep: RegistryEndpoint, next: string | undefined): string | undefined {
    if (next === undefined) return undefined;
    return next.startsWith(`${ep.baseUrl}/v2/`) ? next : undefined;
  }

  #credentials(
    ep: RegistryEndpoint,
    name: RepositoryName,
    ctx: RegistryRequestContext,
  ): RegistryCredentials | undefined {
    // A mirror has its own credentials; the origin's are looked up under the image's registry name.
    return ctx.credentials?.lookup(ep.mirror ? ep.host : name.registry, name.repository);
  }

  /** One request with authentication: cached credentials up front, one challenge round on 401. */
  async #send(
    ep: RegistryEndpoint,
    name: RepositoryName,
    ctx: RegistryRequestContext,
    opts: SendOptions,
  ): Promise<HttpResponse> {
    const credentials = this.#credentials(ep, name, ctx);
    const target: AuthTarget = {
      baseUrl: ep.baseUrl,
      host: ep.host,
      repository: name.repository,
      credentials,
    };
    const sent = this.#auth.cachedAuthorization(target);
    let res = await this.#followRedirects(ep, ctx, { ...opts, authorization: sent });
    if (res.status === 401) {
      const authorization = await this.#auth.authorize(
        target,
        res.headers['www-authenticate'],
        ctx.deadline,
        sent,
      );
      if (authorization !== undefined && authorization !== sent) {
        res = await this.#followRedirects(ep, ctx, { ...opts, authorization });
      }
    }
    if (res.status === 401 || res.status === 403) {
      const advice = credentials
        ? `the credentials found for ${ep.mirror ? ep.host : name.registry} were rejected; check the pull secret's username and password`
        : `add an imagePullSecret for ${name.registry} to the Pod or its ServiceAccount, or configure registry credentials for trustgate`;
      throw new InconclusiveError(
        'TRUST_SOURCE_UNAVAILABLE',
        `registry ${ep.host} refused access to ${name.repository} (${res.status}): ${advice}`,
      );
    }
    return res;
  }

  /**
   * GETs may be redirected (blob storage behind a CDN). Follow a bounded number of hops and drop
   * the Authorization header when leaving the registry's origin.
   */
  async #followRedirects(
    ep: RegistryEndpoint,
    ctx: RegistryRequestContext,
    opts: SendOptions & { readonly authorization: string | undefined },
  ): Promise<HttpResponse> {
    const { authorization } = opts;
    const origin = new URL(ep.baseUrl).origin;
    let current = opts.url;
    for (let hop = 0; ; hop++) {
      const sameOrigin = new URL(current).origin === origin;
      const headers: Record<string, string> = { accept: opts.accept, 'user-agent': 'trustgate' };
      if (authorization !== undefined && sameOrigin) headers.authorization = authorization;
      let res: HttpResponse;
      try {
        res = await httpRequest({
          url: current,
          method: opts.method,
          headers,
          maxBytes: opts.maxBytes,
          deadline: ctx.deadline,
          dispatcher: this.#dispatchers.get(sameOrigin ? ep.tls : {}),
          ...(this.#retries !== undefined ? { retries: this.#retries } : {}),
        });
      } catch (err) {
        if (opts.exactSize && err instanceof InconclusiveError && err.code === 'LIMIT_EXCEEDED') {
          throw new VerificationError(
            'DIGEST_MISMATCH',
            `registry ${ep.host} served more than the ${opts.maxBytes} bytes its descriptor declares for ${opts.what}`,
            { cause: err },
          );
        }
        throw err;
      }
      const location = header(res, 'location');
      if (
        ![301, 302, 303, 307, 308].includes(res.status) ||
        location === undefined ||
        opts.method !== 'GET'
      )
        return res;
      if (hop >= MAX_REDIRECTS) {
        throw new InconclusiveError(
          'TRUST_SOURCE_UNAVAILABLE',
          `registry ${ep.host} redirected ${opts.what} more than ${MAX_REDIRECTS} times`,
        );
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch (err) {
        throw new InconclusiveError(
          'TRUST_SOURCE_UNAVAILABLE',
          `registry ${ep.host} redirected ${opts.what} to an invalid URL`,
          { cause: err },
        );
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new InconclusiveError(
          'TRUST_SOURCE_UNAVAILABLE',
          `registry ${ep.host} redirected ${opts.what} to a ${next.protocol} URL`,
        );
      }
      current = next.href;
    }
  }

  #unexpected(ep: RegistryEndpoint, res: HttpResponse, what: string): InconclusiveError {
    const snippet = errorSnippet(res.body).replace(/\s+/g, ' ').trim();
    return new InconclusiveError(
      'TRUST_SOURCE_UNAVAILABLE',
      `registry ${ep.host} answered HTTP ${res.status} for ${what}${snippet ? `: ${snippet}` : ''}`,
    );
  }
}
