// SPDX-License-Identifier: Apache-2.0
// Runtime configuration: typed, defaulted, validated once at start (from a YAML/JSON file
// given by `--config`); everything else receives the parsed Config.

import { ConfigError, type FieldError } from '../core/errors.js';

export type FailureAction = 'deny' | 'allow';

export interface Config {
  /** What to do when a trust source cannot be reached or the deadline passes. */
  readonly failureAction: FailureAction;
  /** What to do when no policy matches an image. */
  readonly noMatchAction: FailureAction;
  /** Deadline when the apiserver sends no `?timeout=`. */
  readonly defaultTimeoutMs: number;
  /** Answer this long before the apiserver's timeout (an answer at the timeout is too late). */
  readonly timeoutMarginMs: number;
  /**
   * After SIGTERM, keep serving this long with `/readyz` at 503 before closing the listener, so
   * calls the apiserver still routes here (until the endpoints update) are answered, not refused.
   */
  readonly shutdownDelayMs: number;
  readonly cache: {
    /** Verified outcomes kept (LRU). */
    readonly maxEntries: number;
    /** Upper bound on a positive verdict's TTL (it is also bounded by metadata expiry). */
    readonly maxTtlMs: number;
    /** Definite verification failures are cached briefly; network errors never. */
    readonly negativeTtlMs: number;
    /** Tag → digest answers from registries. */
    readonly tagTtlMs: number;
  };
  readonly registry: {
    /** Compare the digest a registry serves for a tag with the signed digest (SPEC §3.3). */
    readonly verifyDigest: boolean;
    readonly insecureRegistries: readonly string[];
    readonly caBundles: Readonly<Record<string, string>>;
    readonly mirrors: Readonly<Record<string, readonly string[]>>;
    /** docker-config Secrets (`namespace/name`) whose credentials apply to every image. */
    readonly pullSecrets: readonly string[];
  };
  /** Serve `/mutate` (pin `image: name:tag@sha256:…`). */
  readonly mutate: boolean;
  /** Namespace trustgate runs in (default for Secret/ConfigMap refs of ClusterTrustPolicies). */
  readonly namespace: string;
}

export const DEFAULT_CONFIG: Config = {
  failureAction: 'deny',
  noMatchAction: 'deny',
  defaultTimeoutMs: 10_000,
  timeoutMarginMs: 1_000,
  // 5 s: long enough for a terminating Pod's removal from the Service's EndpointSlice to reach
  // the apiserver's endpoint resolver and kube-proxy (usually 1–2 s, more on a busy control
  // plane), short enough to leave most of the chart's 30 s terminationGracePeriodSeconds to drain.
  shutdownDelayMs: 5_000,
  cache: { maxEntries: 10_000, maxTtlMs: 5 * 60_000, negativeTtlMs: 30_000, tagTtlMs: 30_000 },
  registry: {
    verifyDigest: true,
    insecureRegistries: [],
    caBundles: {},
    mirrors: {},
    pullSecrets: [],
  },
  mutate: false,
  namespace: 'trustgate',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  readonly errors: FieldError[] = [];
  constructor(private readonly file: string | undefined) {}

  fail(path: string, message: string): void {
    this.errors.push({ path, message, ...(this.file ? { file: this.file } : {}) });
  }

  action(o: Obj, key: string, def: FailureAction): FailureAction {
    const v = o[key];
    if (v === undefined) return def;
    if (v === 'deny' || v === 'allow') return v;
    this.fail(key, `must be "deny" or "allow", got ${JSON.stringify(v)}`);
    return def;
  }

  seconds(o: Obj, key: string, path: string, defMs: number): number {
    const v = o[key];
    if (v === undefined) return defMs;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return Math.round(v * 1000);
    this.fail(path, `must be a non-negative number of seconds, got ${JSON.stringify(v)}`);
    return defMs;
  }

  /** `ms` if it is at most `max.seconds`; otherwise an error saying why the bound exists, and `defMs`. */
  capped(
    path: string,
    ms: number,
    defMs: number,
    max: { readonly seconds: number; readonly why: string },
  ): number {
    if (ms <= max.seconds * 1000) return ms;
    this.fail(path, `must be at most ${max.seconds} seconds (${max.why}), got ${ms / 1000}`);
    return defMs;
  }

  /** A top-level duration that must be above zero (a zero request timeout would fail every request). */
  positiveSeconds(o: Obj, key: string, defMs: number): number {
    const v = o[key];
    if (v === undefined) return defMs;
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.round(v * 1000);
    this.fail(key, `must be a positive number of seconds, got ${JSON.stringify(v)}`);
    return defMs;
  }

  string(o: Obj, key: string, path: string, def: string): string {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v === 'string' && v !== '') return v;
    this.fail(path, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return def;
  }

  /** Unknown keys are errors, at every level, so a typo never silently falls back to a default. */
  known(o: Obj, prefix: string, keys: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k))
        this.fail(`${prefix}${k}`, `unknown setting; known: ${keys.join(', ')}`);
    }
  }

  int(o: Obj, key: string, path: string, def: number): number {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
    this.fail(path, `must be a positive integer, got ${JSON.stringify(v)}`);
    return def;
  }

  bool(o: Obj, key: string, path: string, def: boolean): boolean {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v === 'boolean') return v;
    this.fail(path, `must be true or false, got ${JSON.stringify(v)}`);
    return def;
  }

  strings(o: Obj, key: string, path: string): string[] {
    const v = o[key];
    if (v === undefined) return [];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
    this.fail(path, 'must be a list of strings');
    return [];
  }

  obj(o: Obj, key: string, path: string): Obj {
    const v = o[key];
    if (v === undefined) return {};
    if (isObj(v)) return v;
    this.fail(path, 'must be a mapping');
    return {};
  }
}

const KNOWN_TOP = [
  'failureAction',
  'noMatchAction',
  'timeoutSeconds',
  'timeoutMarginSeconds',
  'shutdownDelaySeconds',
  'cache',
  'registry',
  'mutate',
  'namespace',
] as const;
/**
 * Upper bound of shutdownDelaySeconds: endpoint updates take seconds, and a longer delay only
 * eats the Pod's termination grace period (kubelet kills the process when it runs out).
 */
export const MAX_SHUTDOWN_DELAY_SECONDS = 60;
const KNOWN_CACHE = ['maxEntries', 'maxTtlSeconds', 'negativeTtlSeconds', 'tagTtlSeconds'] as const;
const KNOWN_REGISTRY = [
  'verifyDigest',
  'insecureRegistries',
  'caBundles',
  'mirrors',
  'pullSecrets',
] as const;

/**
 * Parse a config document (already decoded from YAML/JSON). Unknown keys are errors, so
 * a typo never silently falls back to a default.
 * @throws ConfigError INVALID_CONFIG with every problem as a FieldError
 */
export function parseConfig(doc: unknown, file?: string): Config {
  if (doc === undefined || doc === null) return DEFAULT_CONFIG;
  const r = new Reader(file);
  if (!isObj(doc)) {
    throw new ConfigError(
      'INVALID_CONFIG',
      `config${file ? ` ${file}` : ''} must be a mapping of settings`,
      {
        fieldErrors: [{ path: '', message: 'must be a mapping', ...(file ? { file } : {}) }],
      },
    );
  }
  r.known(doc, '', KNOWN_TOP);
  const cache = r.obj(doc, 'cache', 'cache');
  r.known(cache, 'cache.', KNOWN_CACHE);
  const reg = r.obj(doc, 'registry', 'registry');
  r.known(reg, 'registry.', KNOWN_REGISTRY);
  const caBundles = r.obj(reg, 'caBundles', 'registry.caBundles');
  const mirrors = r.obj(reg, 'mirrors', 'registry.mirrors');
  const d = DEFAULT_CONFIG;
  const config: Config = {
    failureAction: r.action(doc, 'failureAction', d.failureAction),
    noMatchAction: r.action(doc, 'noMatchAction', d.noMatchAction),
    defaultTimeoutMs: r.positiveSeconds(doc, 'timeoutSeconds', d.defaultTimeoutMs),
    timeoutMarginMs: r.seconds(
      doc,
      'timeoutMarginSeconds',
      'timeoutMarginSeconds',
      d.timeoutMarginMs,
    ),
    shutdownDelayMs: r.capped(
      'shutdownDelaySeconds',
      r.seconds(doc, 'shutdownDelaySeconds', 'shutdownDelaySeconds', d.shutdownDelayMs),
      d.shutdownDelayMs,
      {
        seconds: MAX_SHUTDOWN_DELAY_SECONDS,
        why: 'endpoint updates take seconds; a longer delay only uses up the termination grace period',
      },
    ),
    cache: {
      maxEntries: r.int(cache, 'maxEntries', 'cache.maxEntries', d.cache.maxEntries),
      maxTtlMs: r.seconds(cache, 'maxTtlSeconds', 'cache.maxTtlSeconds', d.cache.maxTtlMs),
      negativeTtlMs: r.seconds(
        cache,
        'negativeTtlSeconds',
        'cache.negativeTtlSeconds',
        d.cache.negativeTtlMs,
      ),
      tagTtlMs: r.seconds(cache, 'tagTtlSeconds', 'cache.tagTtlSeconds', d.cache.tagTtlMs),
    },
    registry: {
      verifyDigest: r.bool(reg, 'verifyDigest', 'registry.verifyDigest', d.registry.verifyDigest),
      insecureRegistries: r.strings(reg, 'insecureRegistries', 'registry.insecureRegistries'),
      caBundles: Object.fromEntries(
        Object.entries(caBundles).filter(([k, v]) => {
          if (typeof v === 'string' && v.includes('-----BEGIN CERTIFICATE-----')) return true;
          r.fail(`registry.caBundles.${k}`, 'must be a PEM certificate bundle');
          return false;
        }),
      ) as Record<string, string>,
      mirrors: Object.fromEntries(
        Object.keys(mirrors).map((k) => [k, r.strings(mirrors, k, `registry.mirrors.${k}`)]),
      ),
      pullSecrets: r.strings(reg, 'pullSecrets', 'registry.pullSecrets'),
    },
    mutate: r.bool(doc, 'mutate', 'mutate', d.mutate),
    namespace: r.string(doc, 'namespace', 'namespace', d.namespace),
  };
  if (r.errors.length > 0) {
    // Like compilePolicy: the first problem in the message, every problem in fieldErrors.
    const first = r.errors[0]!;
    const more = r.errors.length > 1 ? ` (and ${r.errors.length - 1} more)` : '';
    throw new ConfigError(
      'INVALID_CONFIG',
      `invalid config${file ? ` ${file}` : ''}: ${first.path}: ${first.message}${more}`,
      {
        fieldErrors: r.errors,
      },
    );
  }
  return config;
}
