// SPDX-License-Identifier: Apache-2.0
// Registry credentials from docker-config JSON (`~/.docker/config.json`, `kubernetes.io/dockerconfigjson`
// and legacy `kubernetes.io/dockercfg` Secrets), with Docker/kubelet key matching. Secrets never reach messages.

import { readFile } from 'node:fs/promises';
import { ConfigError, type FieldError } from '../core/errors.js';
import type { CredentialProvider, RegistryCredentials } from '../verify/ports.js';
import { toRegistryHost } from './registry-config.js';

/** A docker config is a few KiB; anything far larger is not one. */
const MAX_DOCKER_CONFIG_BYTES = 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

interface Entry {
  /** Lower-case `host[:port]`, Docker Hub aliases folded into `docker.io`. */
  readonly host: string;
  /** `*.example.com` keys (kubelet): the host part after `*.` */
  readonly wildcardSuffix?: string;
  /** Repository prefix without slashes, `''` for host-level keys. */
  readonly path: string;
  readonly credentials: RegistryCredentials;
}

/** A provider that never has credentials (anonymous pulls). */
export const NO_CREDENTIALS: CredentialProvider = Object.freeze({ lookup: () => undefined });

/**
 * Split an `auths` key into host and repository path. Keys may be `registry.example.com`,
 * `registry.example.com:5000/team`, `http://host:5000` or `https://index.docker.io/v1/`; a `/v1/`
 * or `/v2/` after a scheme is the legacy API path, not a repository (docker/cli ConvertToHostname).
 */
export function parseCredentialKey(key: string): {
  host: string;
  path: string;
  wildcardSuffix?: string;
} {
  let rest = key.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  const rawHost = slash >= 0 ? rest.slice(0, slash) : rest;
  let path = slash >= 0 ? rest.slice(slash + 1).replace(/^\/+|\/+$/g, '') : '';
  if (scheme && /^v[12]$/.test(path)) path = '';
  const host = toRegistryHost(rawHost);
  if (host.startsWith('*.')) return { host, path, wildcardSuffix: host.slice(1) };
  return { host, path };
}

function hostMatches(entry: Entry, host: string): boolean {
  if (entry.wildcardSuffix === undefined) return entry.host === host;
  // kubelet: `*` stands for exactly one DNS label, and ports must agree.
  if (!host.endsWith(entry.wildcardSuffix)) return false;
  const label = host.slice(0, host.length - entry.wildcardSuffix.length);
  return label.length > 0 && !label.includes('.') && !label.includes(':');
}

function pathMatches(entry: Entry, repository: string | undefined): boolean {
  if (entry.path === '') return true;
  if (repository === undefined) return false;
  return repository === entry.path || repository.startsWith(`${entry.path}/`);
}

/** Most specific first: exact host before wildcard, then longer path; file order breaks ties. */
function specificity(e: Entry): number {
  return (e.wildcardSuffix === undefined ? 1_000_000 : 0) + e.path.length;
}

class DockerConfigCredentials implements CredentialProvider {
  readonly #entries: readonly Entry[];
  constructor(entries: readonly Entry[]) {
    this.#entries = [...entries].sort((a, b) => specificity(b) - specificity(a));
  }
  lookup(registry: string, repository?: string): RegistryCredentials | undefined {
    const host = toRegistryHost(registry);
    return this.#entries.find((e) => hostMatches(e, host) && pathMatches(e, repository))
      ?.credentials;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// attacker-controlled (a pull secret's content is written by any namespace user)
function parseEntry(
  key: string,
  value: unknown,
  path: string,
  errors: FieldError[],
): Entry | undefined {
  if (!isPlainObject(value)) {
    errors.push({ path, message: 'must be an object with "auth" or "username"/"password"' });
    return undefined;
  }
  if (key.trim() === '') {
    errors.push({ path, message: 'registry key must not be empty' });
    return undefined;
  }
  let username: string | undefined;
  let password: string | undefined;
  for (const field of ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const) {
    if (value[field] !== undefined && typeof value[field] !== 'string') {
      errors.push({ path: `${path}.${field}`, message: 'must be a string' });
      return undefined;
    }
  }
  const auth = (value.auth as string | undefined)?.trim();
  if (auth !== undefined && auth !== '') {
    const decoded = BASE64.test(auth) ? Buffer.from(auth, 'base64').toString('utf8') : undefined;
    const colon = decoded?.indexOf(':') ?? -1;
    if (decoded === undefined || colon < 0) {
      // Never echo the value: it is a password.
      errors.push({ path: `${path}.auth`, message: 'must be base64 of "username:password"' });
      return undefined;
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  } else {
    username = (value.username as string | undefined) || undefined;
    password = (value.password as string | undefined) || undefined;
  }
  const identityToken = (value.identitytoken as string | undefined) || undefined;
  const registryToken = (value.registrytoken as string | undefined) || undefined;
  if (
    username === undefined &&
    password === undefined &&
    identityToken === undefined &&
    registryToken === undefined
  ) {
    // `{}` entries are what docker writes when a credential helper holds the secret: nothing to use.
    return undefined;
  }
  const credentials: RegistryCredentials = Object.freeze({
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(identityToken !== undefined ? { identityToken } : {}),
    ...(registryToken !== undefined ? { registryToken } : {}),
  });
  return { ...parseCredentialKey(key), credentials };
}

/**
 * Parse docker-config JSON into a credential provider: `{"auths": {key: {auth | username/password,
 * identitytoken, registrytoken}}}`, or the legacy `.dockercfg` map without `auths`. Entries with
 * no credentials (credential-helper placeholders) are skipped.
 * @param input JSON text, bytes-as-string, or an already parsed object.
 * @param source Where the config came from (`secret ns/name`, a file path) for error messages.
 * @throws ConfigError INVALID_CONFIG (not JSON, wrong shapes, undecodable `auth`), with field paths;
 *   messages never contain secret values.
 */
export function parseDockerConfig(input: unknown, source = 'docker config'): CredentialProvider {
  let doc: unknown = input;
  if (typeof input === 'string') {
    if (input.length > MAX_DOCKER_CONFIG_BYTES) {
      throw new ConfigError(
        'INVALID_CONFIG',
        `${source} is larger than ${MAX_DOCKER_CONFIG_BYTES} bytes`,
        {
          fieldErrors: [{ path: '', message: 'too large', file: source }],
        },
      );
    }
    try {
      doc = JSON.parse(input);
    } catch (err) {
      const why = err instanceof SyntaxError ? err.message : 'unparseable';
      throw new ConfigError('INVALID_CONFIG', `${source} is not valid JSON (${why})`, {
        cause: err,
        fieldErrors: [{ path: '', message: 'not valid JSON', file: source }],
      });
    }
  }
  if (!isPlainObject(doc)) {
    throw new ConfigError('INVALID_CONFIG', `${source} must be a JSON object with an "auths" map`, {
      fieldErrors: [{ path: '', message: 'must be an object', file: source }],
    });
  }
  let auths: Record<string, unknown>;
  let prefix: string;
  if (doc.auths !== undefined) {
    if (!isPlainObject(doc.auths)) {
      throw new ConfigError(
        'INVALID_CONFIG',
        `${source}: "auths" must be an object keyed by registry`,
        {
          fieldErrors: [{ path: 'auths', message: 'must be an object', file: source }],
        },
      );
    }
    auths = doc.auths;
    prefix = 'auths';
  } else {
    // Legacy ~/.dockercfg / kubernetes.io/dockercfg: the registry map is the top level.
    const legacy =
      Object.values(doc).length > 0 &&
      Object.values(doc).every((v) => isPlainObject(v) && ('auth' in v || 'username' in v));
    auths = legacy ? doc : {};
    prefix = '';
  }
  const errors: FieldError[] = [];
  const entries: Entry[] = [];
  for (const [key, value] of Object.entries(auths)) {
    const path = `${prefix}[${JSON.stringify(key)}]`;
    const entry = parseEntry(key, value, path, errors);
    if (entry) entries.push(entry);
  }
  if (errors.length > 0) {
    throw new ConfigError(
      'INVALID_CONFIG',
      `${source}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      { fieldErrors: errors.map((e) => ({ ...e, file: source })) },
    );
  }
  return new DockerConfigCredentials(entries);
}

/**
 * Combine providers; the first one with credentials for a registry wins. Order used by the
 * webhook: the Pod's imagePullSecrets, then its ServiceAccount's, then configured secrets.
 */
export function mergeCredentialProviders(
  ...providers: readonly (CredentialProvider | undefined)[]
): CredentialProvider {
  const list = providers.filter((p): p is CredentialProvider => p !== undefined);
  return {
    lookup(registry: string, repository?: string): RegistryCredentials | undefined {
      for (const p of list) {
        const found = p.lookup(registry, repository);
        if (found) return found;
      }
      return undefined;
    },
  };
}

/**
 * Read a docker config file (the CLI passes `$DOCKER_CONFIG/config.json` or
 * `~/.docker/config.json`). A missing file means anonymous access.
 * @throws ConfigError INVALID_CONFIG (unreadable, too large or malformed file)
 */
export async function loadDockerConfigFile(path: string): Promise<CredentialProvider> {
  let text: string;
  try {
    const buf = await readFile(path);
    if (buf.byteLength > MAX_DOCKER_CONFIG_BYTES) {
      throw new ConfigError(
        'INVALID_CONFIG',
        `${path} is larger than ${MAX_DOCKER_CONFIG_BYTES} bytes`,
        {
          fieldErrors: [{ path: '', message: 'too large', file: path }],
        },
      );
    }
    text = buf.toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if ((err as { code?: unknown }).code === 'ENOENT') return NO_CREDENTIALS;
    const code = (err as { code?: unknown }).code;
    throw new ConfigError(
      'INVALID_CONFIG',
      `cannot read docker config ${path}: ${typeof code === 'string' ? code : String(err)}`,
      {
        cause: err,
        fieldErrors: [{ path: '', message: 'unreadable', file: path }],
      },
    );
  }
  return parseDockerConfig(text, path);
}
