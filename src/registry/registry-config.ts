// SPDX-License-Identifier: Apache-2.0
// Typed registry settings (insecure registries, CA bundles, pull mirrors) and the choice of
// endpoint URL per registry host, following Docker's rules (SPEC §1, §2.3).

import { ConfigError, type FieldError } from '../core/errors.js';
import { isLoopbackRegistry } from '../core/reference.js';
import type { DispatcherOptions } from './http.js';

export interface RegistryConfig {
  /**
   * Registries spoken to without verified TLS, as Docker's `insecure-registries`: `host[:port]` or
   * `http://host[:port]` means plain HTTP; `https://host[:port]` means TLS without certificate checks.
   */
  readonly insecureRegistries: readonly string[];
  /** PEM CA bundles trusted in addition to the system roots, by `host[:port]` (or bare host). */
  readonly caBundles: Readonly<Record<string, string>>;
  /** Pull-through mirrors by registry host (`docker.io`): base URLs tried before the origin. */
  readonly mirrors: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_REGISTRY_CONFIG: RegistryConfig = Object.freeze({
  insecureRegistries: Object.freeze([]),
  caBundles: Object.freeze({}),
  mirrors: Object.freeze({}),
});

/** One place to send OCI distribution requests for a registry. */
export interface RegistryEndpoint {
  /** Base URL without trailing slash; `/v2/…` is appended (`https://registry-1.docker.io`). */
  readonly baseUrl: string;
  /** `host[:port]` of `baseUrl`, used for credentials lookup, CA bundles and messages. */
  readonly host: string;
  /** TLS settings for the DispatcherPool. */
  readonly tls: DispatcherOptions;
  /** True for a configured mirror; false for the registry itself. */
  readonly mirror: boolean;
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
/** Docker Hub's API host: `docker.io` itself serves no /v2/ API (docker/docker registry/config.go). */
const DOCKER_HUB_ENDPOINT = 'https://registry-1.docker.io';

/** `docker.io` for any Docker Hub alias, the lower-cased `host[:port]` otherwise. */
export function toRegistryHost(registry: string): string {
  const host = registry.toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? 'docker.io' : host;
}

/** `host[:port]` of an insecureRegistries entry and whether it asked for unverified TLS. */
function parseInsecureEntry(entry: string): { host: string; tls: boolean } {
  const m = /^(https?):\/\/([^/]+)\/?$/i.exec(entry.trim());
  if (m) return { host: toRegistryHost(m[2]!), tls: m[1]!.toLowerCase() === 'https' };
  return { host: toRegistryHost(entry.trim().replace(/\/+$/, '')), tls: false };
}

function caBundleFor(host: string, config: RegistryConfig): string | undefined {
  const exact = config.caBundles[host];
  if (exact !== undefined) return exact;
  const bare = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return config.caBundles[bare];
}

/**
 * The origin endpoint for a registry host: Docker Hub → `https://registry-1.docker.io`;
 * loopback (`localhost`, 127.0.0.0/8, `[::1]`) and plain-HTTP insecure entries → `http://`;
 * `https://` insecure entries → TLS without verification; everything else → verified `https://`
 * with the host's CA bundle, when configured.
 */
export function endpointFor(
  registry: string,
  config: RegistryConfig = DEFAULT_REGISTRY_CONFIG,
): RegistryEndpoint {
  const host = toRegistryHost(registry);
  if (host === 'docker.io') {
    const caBundle =
      caBundleFor('registry-1.docker.io', config) ?? caBundleFor('docker.io', config);
    return {
      baseUrl: DOCKER_HUB_ENDPOINT,
      host: 'registry-1.docker.io',
      tls: caBundle ? { caBundle } : {},
      mirror: false,
    };
  }
  const insecure = config.insecureRegistries.map(parseInsecureEntry).find((e) => e.host === host);
  if (insecure?.tls) {
    return { baseUrl: `https://${host}`, host, tls: { insecureSkipVerify: true }, mirror: false };
  }
  if (insecure || isLoopbackRegistry(host)) {
    return { baseUrl: `http://${host}`, host, tls: {}, mirror: false };
  }
  const caBundle = caBundleFor(host, config);
  return { baseUrl: `https://${host}`, host, tls: caBundle ? { caBundle } : {}, mirror: false };
}

function mirrorEndpoint(url: string, config: RegistryConfig): RegistryEndpoint | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const host = parsed.host.toLowerCase();
  const base = `${parsed.protocol}//${host}${parsed.pathname.replace(/\/+$/, '')}`;
  if (parsed.protocol === 'http:') return { baseUrl: base, host, tls: {}, mirror: true };
  const insecure = config.insecureRegistries.map(parseInsecureEntry).some((e) => e.host === host);
  const caBundle = caBundleFor(host, config);
  return {
    baseUrl: base,
    host,
    tls: insecure ? { insecureSkipVerify: true } : caBundle ? { caBundle } : {},
    mirror: true,
  };
}

/**
 * Endpoints to try, in order, for reads from a registry: its configured mirrors, then the origin.
 * Mirrors hold the same content-addressed data; the client falls back to the next endpoint when
 * one fails, so a broken mirror costs time but never a wrong answer.
 */
export function endpointsFor(
  registry: string,
  config: RegistryConfig = DEFAULT_REGISTRY_CONFIG,
): RegistryEndpoint[] {
  const host = toRegistryHost(registry);
  const mirrors = (config.mirrors[host] ?? []).flatMap((m) => mirrorEndpoint(m, config) ?? []);
  return [...mirrors, endpointFor(registry, config)];
}

const HOST_PORT = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * Parse registry settings from configuration (all fields optional).
 * @throws ConfigError INVALID_CONFIG with one FieldError per problem (paths under `registries.`)
 */
export function parseRegistryConfig(input: unknown, path = 'registries'): RegistryConfig {
  if (input === undefined || input === null) return DEFAULT_REGISTRY_CONFIG;
  const errors: FieldError[] = [];
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError('INVALID_CONFIG', `${path} must be an object`, {
      fieldErrors: [{ path, message: 'must be an object' }],
    });
  }
  const o = input as Record<string, unknown>;
  const insecureRegistries: string[] = [];
  if (o.insecureRegistries !== undefined) {
    if (!Array.isArray(o.insecureRegistries)) {
      errors.push({
        path: `${path}.insecureRegistries`,
        message: 'must be a list of host[:port] strings',
      });
    } else {
      o.insecureRegistries.forEach((e: unknown, i) => {
        const host = typeof e === 'string' ? parseInsecureEntry(e).host : '';
        if (typeof e !== 'string' || !HOST_PORT.test(host)) {
          errors.push({
            path: `${path}.insecureRegistries[${i}]`,
            message: 'must be host[:port], optionally prefixed by http:// or https://',
          });
        } else {
          insecureRegistries.push(e.trim());
        }
      });
    }
  }
  const caBundles: Record<string, string> = {};
  if (o.caBundles !== undefined) {
    if (typeof o.caBundles !== 'object' || o.caBundles === null || Array.isArray(o.caBundles)) {
      errors.push({ path: `${path}.caBundles`, message: 'must map host[:port] to a PEM bundle' });
    } else {
      for (const [host, pem] of Object.entries(o.caBundles as Record<string, unknown>)) {
        if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
          errors.push({
            path: `${path}.caBundles[${JSON.stringify(host)}]`,
            message: 'must be PEM text with at least one CERTIFICATE block',
          });
        } else {
          caBundles[host.toLowerCase()] = pem;
        }
      }
    }
  }
  const mirrors: Record<string, string[]> = {};
  if (o.mirrors !== undefined) {
    if (typeof o.mirrors !== 'object' || o.mirrors === null || Array.isArray(o.mirrors)) {
      errors.push({
        path: `${path}.mirrors`,
        message: 'must map a registry host to a list of mirror URLs',
      });
    } else {
      for (const [host, urls] of Object.entries(o.mirrors as Record<string, unknown>)) {
        const p = `${path}.mirrors[${JSON.stringify(host)}]`;
        if (!Array.isArray(urls)) {
          errors.push({ path: p, message: 'must be a list of http(s):// URLs' });
          continue;
        }
        const ok: string[] = [];
        urls.forEach((u: unknown, i) => {
          let valid = false;
          if (typeof u === 'string') {
            try {
              const url = new URL(u);
              valid =
                (url.protocol === 'https:' || url.protocol === 'http:') &&
                !url.username &&
                !url.password &&
                !url.search &&
                !url.hash;
            } catch {
              valid = false;
            }
          }
          if (valid) ok.push(u as string);
          else
            errors.push({
              path: `${p}[${i}]`,
              message: 'must be an http(s):// URL without credentials, query or fragment',
            });
        });
        mirrors[toRegistryHost(host)] = ok;
      }
    }
  }
  if (errors.length > 0) {
    throw new ConfigError(
      'INVALID_CONFIG',
      `invalid registry settings: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
      { fieldErrors: errors },
    );
  }
  return Object.freeze({ insecureRegistries, caBundles, mirrors });
}
