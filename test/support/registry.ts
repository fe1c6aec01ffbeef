// SPDX-License-Identifier: Apache-2.0
// Test/demo harness around the REAL docker-registry (distribution 2.8.2): anonymous, htpasswd or
// token auth (with our own ES256 token issuer), plain-HTTP pushes of tiny images, indexes and
// Notation signature stubs, and a tiny fake registry for misbehaviour the real one never shows.

import {
  createHash,
  createPrivateKey,
  randomBytes,
  sign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, probe, startDaemon } from './daemon.js';
import { run } from './notary.js';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const NOTATION_SIGNATURE = 'application/vnd.cncf.notary.signature';
const ALL_MANIFESTS = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

export type RegistryAuthMode = 'anonymous' | 'htpasswd' | 'token';

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

export interface TokenIssuerOptions {
  /** Token lifetime announced in `expires_in` (default 300 s; `null` leaves the field out). */
  readonly expiresIn?: number | null;
  /** Which field carries the token (default both `token` and `access_token`). */
  readonly field?: 'token' | 'access_token' | 'both';
  /** Refresh tokens (docker `identitytoken`) accepted by the OAuth2 POST, mapped to a user name. */
  readonly identityTokens?: Readonly<Record<string, string>>;
}

export interface StartRegistryOptions {
  readonly mode?: RegistryAuthMode;
  /** Users for htpasswd / token modes (default `{ alice: 'wonderland' }`). */
  readonly users?: Readonly<Record<string, string>>;
  readonly issuer?: TokenIssuerOptions;
  readonly binary?: string;
  readonly readyTimeoutMs?: number;
}

/** One request the token issuer answered. */
export interface IssuerRequest {
  readonly method: string;
  readonly service: string | null;
  readonly scopes: readonly string[];
  /** Authenticated user, or null for anonymous. */
  readonly user: string | null;
  readonly grantType: string | null;
}

export interface TokenIssuerHandle {
  /** The realm: `http://127.0.0.1:<port>/token`. */
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certPath: string;
  /** Token requests answered so far (successful or refused). */
  hits(): number;
  requests(): readonly IssuerRequest[];
  stop(): Promise<void>;
}

export interface RegistryHandle {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `127.0.0.1:<port>`: the registry part of an image reference. */
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly mode: RegistryAuthMode;
  readonly users: Readonly<Record<string, string>>;
  readonly issuer?: TokenIssuerHandle;
  /** Credentials of the first user (for pushes), when the mode has users. */
  readonly admin?: BasicCredentials;
  log(): string;
  stop(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function basicUser(
  req: IncomingMessage,
  users: Readonly<Record<string, string>>,
): string | null | false {
  const h = req.headers.authorization;
  if (h === undefined) return null;
  const m = /^Basic\s+(.+)$/i.exec(h);
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return colon > 0 && users[user] === decoded.slice(colon + 1) ? user : false;
}

/**
 * A token issuer for `auth.token` (notes/registry.md "Authentication"): ES256 JWTs whose `x5c`
 * self-signed certificate is the registry's `rootcertbundle`; `iss` = issuer, `aud` = service,
 * `access` grants what the scope asks for to known users and nothing to anonymous callers.
 */
export async function startTokenIssuer(
  dir: string,
  users: Readonly<Record<string, string>>,
  opts: TokenIssuerOptions = {},
): Promise<TokenIssuerHandle> {
  const keyPath = join(dir, 'issuer.key');
  const certPath = join(dir, 'issuer.crt');
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath]);
  await run('openssl', [
    'req',
    '-x509',
    '-new',
    '-key',
    keyPath,
    '-subj',
    '/CN=trustgate-test-token-issuer',
    '-days',
    '30',
    '-out',
    certPath,
  ]);
  const key: KeyObject = createPrivateKey(await readFile(keyPath));
  const x5c = new X509Certificate(await readFile(certPath)).raw.toString('base64');
  const service = 'trustgate-test-registry';
  const issuer = 'trustgate-test-issuer';
  const seen: IssuerRequest[] = [];

  function issue(user: string | null, scopes: readonly string[]): string {
    const now = Math.floor(Date.now() / 1000);
    const access =
      user === null
        ? []
        : scopes.flatMap((s) => {
            const m = /^repository:([^:]+):(.+)$/.exec(s);
            return m ? [{ type: 'repository', name: m[1]!, actions: m[2]!.split(',') }] : [];
          });
    const header = { typ: 'JWT', alg: 'ES256', x5c: [x5c] };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + 600,
      nbf: now - 30,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64url(sig)}`;
  }

  function answer(res: ServerResponse, token: string): void {
    const field = opts.field ?? 'both';
    const body: Record<string, unknown> = {};
    if (field !== 'access_token') body.token = token;
    if (field !== 'token') body.access_token = token;
    if (opts.expiresIn !== null) body.expires_in = opts.expiresIn ?? 300;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/token') return void res.writeHead(404).end();
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const user =
          form.get('grant_type') === 'refresh_token'
            ? opts.identityTokens?.[form.get('refresh_token') ?? '']
            : undefined;
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        seen.push({
          method: 'POST',
          service: form.get('service'),
          scopes,
          user: user ?? null,
          grantType: form.get('grant_type'),
        });
        if (user === undefined)
          return void res
            .writeHead(401, { 'content-type': 'application/json' })
            .end('{"error":"invalid_grant"}');
        return answer(res, issue(user, scopes));
      }
      const user = basicUser(req, users);
      const scopes = url.searchParams
        .getAll('scope')
        .flatMap((s) => s.split(' '))
        .filter(Boolean);
      seen.push({
        method: req.method ?? 'GET',
        service: url.searchParams.get('service'),
        scopes,
        user: user || null,
        grantType: null,
      });
      // docker's token server: wrong credentials are refused, no credentials get an empty grant.
      if (user === false)
        return void res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"details":"bad credentials"}');
      answer(res, issue(user, scopes));
    });
  });
  const port = await listen(server);
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    hits: () => seen.length,
    requests: () => [...seen],
    stop: () => closeServer(server),
  };
}

/** `/v2/` answers 200 (anonymous) or 401 (auth modes) once the registry serves. */
async function ready(url: string): Promise<boolean> {
  return (await probe(`${url}/v2/`, 200)) || probe(`${url}/v2/`, 401);
}

/**
 * Start docker-registry with its own temp config and storage on 127.0.0.1:<free port>
 * (notes/notary-v1.md §1.4, notes/registry.md). Resolves when `/v2/` answers.
 * @throws Error with the registry's log when it exits early or never becomes ready.
 */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<RegistryHandle> {
  const mode = opts.mode ?? 'anonymous';
  const users = mode === 'anonymous' ? {} : (opts.users ?? { alice: 'wonderland' });
  const dir = await mkdtemp(join(tmpdir(), 'trustgate-registry-'));
  let issuer: TokenIssuerHandle | undefined;
  try {
    let auth: Record<string, unknown> | undefined;
    if (mode === 'htpasswd') {
      const lines: string[] = [];
      for (const [u, p] of Object.entries(users))
        lines.push((await run('htpasswd', ['-Bbn', u, p])).stdout.trim());
      await writeFile(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
      auth = { htpasswd: { realm: 'trustgate-test', path: join(dir, 'htpasswd') } };
    } else if (mode === 'token') {
      issuer = await startTokenIssuer(dir, users, opts.issuer);
      auth = {
        token: {
          realm: issuer.realm,
          service: issuer.service,
          issuer: issuer.issuer,
          rootcertbundle: issuer.certPath,
        },
      };
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const config = join(dir, `config-${port}.yml`);
      // YAML is a superset of JSON, and JSON needs no YAML writer.
      await writeFile(
        config,
        JSON.stringify({
          version: 0.1,
          log: { level: 'warn', accesslog: { disabled: true } },
          storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
          http: { addr: `127.0.0.1:${port}` },
          ...(auth ? { auth } : {}),
        }),
      );
      const url = `http://127.0.0.1:${port}`;
      const started = await startDaemon({
        command: opts.binary ?? 'docker-registry',
        args: ['serve', config],
        ready: () => ready(url),
        ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
      });
      if (started.daemon) {
        const { daemon } = started;
        const first = Object.entries(users)[0];
        const iss = issuer;
        return {
          url,
          host: `127.0.0.1:${port}`,
          port,
          pid: daemon.pid,
          mode,
          users,
          ...(iss ? { issuer: iss } : {}),
          ...(first ? { admin: { username: first[0], password: first[1] } } : {}),
          log: () => daemon.log(),
          async stop(): Promise<void> {
            await daemon.stop();
            await iss?.stop();
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      if (attempt === 2)
        throw new Error(`docker-registry on port ${port} did not become ready:\n${started.log}`);
    }
    throw new Error('docker-registry did not start');
  } catch (err) {
    await issuer?.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Pushing content with plain HTTP (no docker, no skopeo): blobs via POST + PUT ?digest=, then manifests.

export interface PushOptions {
  /** Credentials for htpasswd (Basic) or token (Bearer via the realm) registries. */
  readonly auth?: BasicCredentials;
}

export interface PushedManifest {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly manifestBytes: Uint8Array;
}

export interface PushedImage extends PushedManifest {
  readonly platform: { readonly os: string; readonly architecture: string };
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function challengeParams(h: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of h.matchAll(/(\w+)="([^"]*)"/g)) out[m[1]!.toLowerCase()] = m[2]!;
  return out;
}

/** fetch with one 401 round: Basic, or a Bearer token for `repository:<repo>:pull,push` from the realm. */
async function authFetch(
  url: string,
  init: RequestInit,
  repo: string,
  opts: PushOptions,
): Promise<Response> {
  const first = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  if (first.status !== 401) return first;
  await first.arrayBuffer();
  const challenge = first.headers.get('www-authenticate') ?? '';
  const basic = opts.auth
    ? `Basic ${Buffer.from(`${opts.auth.username}:${opts.auth.password}`).toString('base64')}`
    : undefined;
  let authorization: string | undefined;
  if (/^bearer/i.test(challenge)) {
    const p = challengeParams(challenge);
    const realm = new URL(p.realm!);
    if (p.service) realm.searchParams.set('service', p.service);
    realm.searchParams.set('scope', `repository:${repo}:pull,push`);
    const tokenRes = await fetch(realm, {
      headers: basic ? { authorization: basic } : {},
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await tokenRes.json()) as { token?: string; access_token?: string };
    authorization = `Bearer ${body.token ?? body.access_token}`;
  } else {
    authorization = basic;
  }
  if (authorization === undefined) return first;
  const headers = new Headers(init.headers);
  headers.set('authorization', authorization);
  return fetch(url, { ...init, headers, signal: AbortSignal.timeout(10_000) });
}

async function expectStatus(res: Response, want: number, what: string): Promise<void> {
  if (res.status !== want) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
}

/** Upload one blob (monolithic: POST to open the upload, PUT with ?digest= to finish). */
export async function pushBlob(
  registryUrl: string,
  repo: string,
  bytes: Uint8Array,
  opts: PushOptions = {},
): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const start = await authFetch(
    `${registryUrl}/v2/${repo}/blobs/uploads/`,
    { method: 'POST' },
    repo,
    opts,
  );
  await expectStatus(start, 202, `start upload to ${repo}`);
  await start.arrayBuffer();
  const location = new URL(start.headers.get('location')!, registryUrl);
  location.searchParams.set('digest', digest);
  const put = await authFetch(
    location.href,
    { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } },
    repo,
    opts,
  );
  await expectStatus(put, 201, `finish upload of ${digest}`);
  await put.arrayBuffer();
  return { digest, size: bytes.byteLength };
}

/** PUT manifest bytes under a tag or digest; returns what the registry stored. */
export async function pushManifest(
  registryUrl: string,
  repo: string,
  manifest: { readonly reference: string; readonly bytes: Uint8Array; readonly mediaType: string },
  opts: PushOptions = {},
): Promise<PushedManifest> {
  const { reference, bytes, mediaType } = manifest;
  const res = await authFetch(
    `${registryUrl}/v2/${repo}/manifests/${reference}`,
    { method: 'PUT', body: bytes, headers: { 'content-type': mediaType } },
    repo,
    opts,
  );
  await expectStatus(res, 201, `put manifest ${repo}:${reference}`);
  await res.arrayBuffer();
  const digest = sha256(bytes);
  const served = res.headers.get('docker-content-digest');
  if (served !== digest) throw new Error(`registry stored ${served}, expected ${digest}`);
  return { digest, size: bytes.byteLength, mediaType, manifestBytes: bytes };
}

export interface PushImageOptions extends PushOptions {
  /** `oci` (default) or Docker schema 2. */
  readonly format?: 'oci' | 'docker';
  /** Varies the content so each push has its own digest (default: random). */
  readonly seed?: string;
  readonly platform?: { readonly os: string; readonly architecture: string };
  /** Extra manifest annotations (OCI only), e.g. to make a manifest huge. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Push a tiny image (config blob + one layer blob + manifest) under `tag`. */
export async function pushImage(
  registryUrl: string,
  repo: string,
  tag: string,
  opts: PushImageOptions = {},
): Promise<PushedImage> {
  const seed = opts.seed ?? randomBytes(8).toString('hex');
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const layer = Buffer.from(`trustgate test layer ${seed}\n`);
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      config: { Labels: { seed } },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  const c = await pushBlob(registryUrl, repo, config, opts);
  const l = await pushBlob(registryUrl, repo, layer, opts);
  const docker = opts.format === 'docker';
  const mediaType = docker ? DOCKER_MANIFEST : OCI_MANIFEST;
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: {
      mediaType: docker
        ? 'application/vnd.docker.container.image.v1+json'
        : 'application/vnd.oci.image.config.v1+json',
      ...c,
    },
    layers: [
      {
        mediaType: docker
          ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
          : 'application/vnd.oci.image.layer.v1.tar',
        ...l,
      },
    ],
    ...(opts.annotations && !docker ? { annotations: opts.annotations } : {}),
  };
  const pushed = await pushManifest(
    registryUrl,
    repo,
    { reference: tag, bytes: Buffer.from(JSON.stringify(manifest)), mediaType },
    opts,
  );
  return { ...pushed, platform };
}

/** Push a multi-arch index (OCI index or Docker manifest list) over already pushed images. */
export async function pushIndex(
  registryUrl: string,
  repo: string,
  index: {
    readonly tag: string;
    readonly children: readonly PushedImage[];
    readonly format?: 'oci' | 'docker';
  },
  opts: PushOptions = {},
): Promise<PushedManifest> {
  const { tag, children } = index;
  const mediaType = index.format === 'docker' ? DOCKER_MANIFEST_LIST : OCI_INDEX;
  const body = {
    schemaVersion: 2,
    mediaType,
    manifests: children.map((c) => ({
      mediaType: c.mediaType,
      digest: c.digest,
      size: c.size,
      platform: c.platform,
    })),
  };
  return pushManifest(
    registryUrl,
    repo,
    { reference: tag, bytes: Buffer.from(JSON.stringify(body)), mediaType },
    opts,
  );
}

export interface PushedSignature extends PushedManifest {
  /** Digest of the `sha256-<hex>` tag index after this push. */
  readonly tagIndexDigest: string;
  readonly envelopeDigest: string;
}

/**
 * Push a legacy-form Notation signature manifest (config `application/vnd.cncf.notary.signature`,
 * one `application/jose+json` layer, `subject` = the image) and append it to the `sha256-<hex>`
 * referrers tag index, in the order the registry demands (notes/registry.md "Notation artifacts").
 * The envelope is a stub unless one is given: this exercises discovery, not cryptography.
 */
export async function pushNotationSignatureStub(
  registryUrl: string,
  repo: string,
  subject: { readonly digest: string; readonly size: number; readonly mediaType: string },
  opts: PushOptions & { readonly envelope?: Uint8Array; readonly envelopeMediaType?: string } = {},
): Promise<PushedSignature> {
  const config = await pushBlob(registryUrl, repo, Buffer.from('{}'), opts);
  const envelope =
    opts.envelope ??
    Buffer.from(
      JSON.stringify({
        payload: b64url('stub'),
        protected: b64url('{}'),
        signature: randomBytes(8).toString('hex'),
      }),
    );
  const env = await pushBlob(registryUrl, repo, envelope, opts);
  const annotations = {
    'io.cncf.notary.x509chain.thumbprint#S256': JSON.stringify([
      createHash('sha256').update(envelope).digest('hex'),
    ]),
    'org.opencontainers.image.created': '2026-12-02T00:00:00Z',
  };
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: NOTATION_SIGNATURE, ...config },
    layers: [{ mediaType: opts.envelopeMediaType ?? 'application/jose+json', ...env }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const sig = await pushManifest(
    registryUrl,
    repo,
    { reference: sha256(bytes), bytes, mediaType: OCI_MANIFEST },
    opts,
  );

  // Append to the existing referrers tag index, if any (each signature rewrites the tag).
  const tag = `sha256-${subject.digest.slice('sha256:'.length)}`;
  const existing = await authFetch(
    `${registryUrl}/v2/${repo}/manifests/${tag}`,
    { headers: { accept: ALL_MANIFESTS } },
    repo,
    opts,
  );
  let manifests: unknown[] = [];
  if (existing.status === 200)
    manifests = ((await existing.json()) as { manifests?: unknown[] }).manifests ?? [];
  else await existing.arrayBuffer();
  manifests.push({
    mediaType: OCI_MANIFEST,
    digest: sig.digest,
    size: sig.size,
    artifactType: NOTATION_SIGNATURE,
    annotations,
  });
  const index = await pushManifest(
    registryUrl,
    repo,
    {
      reference: tag,
      bytes: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })),
      mediaType: OCI_INDEX,
    },
    opts,
  );
  return { ...sig, tagIndexDigest: index.digest, envelopeDigest: env.digest };
}

// ---------------------------------------------------------------------------------------------
// A fake registry for behaviour the real one never shows (lying bodies, 429/503 bursts, hangs).

export interface FakeRegistry {
  readonly url: string;
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  /** Requests received, as `METHOD path?query`. */
  requests(): readonly string[];
  stop(): Promise<void>;
}

/** An HTTP server on 127.0.0.1:<free port> answering with `handler`; hung requests are cut on stop. */
export async function startFakeRegistry(
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<FakeRegistry> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    handler(req, res, seen.length);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests: () => [...seen],
    stop: () => closeServer(server),
  };
}
