// SPDX-License-Identifier: Apache-2.0
// Runtime config parsing: defaults, every setting, and every wrong input reported with its field path.

import { describe, expect, it } from '@jest/globals';
import { ConfigError, type FieldError } from '../../core/errors.js';
import { DEFAULT_CONFIG, MAX_SHUTDOWN_DELAY_SECONDS, parseConfig } from '../config.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function errorsOf(doc: unknown, file?: string): FieldError[] {
  try {
    parseConfig(doc, file);
  } catch (err) {
    expect(err).toThrowWithCode(ConfigError, 'INVALID_CONFIG');
    return [...(err as ConfigError).fieldErrors];
  }
  throw new Error('parseConfig accepted the document');
}

function pathsOf(doc: unknown): string[] {
  return errorsOf(doc).map((e) => e.path);
}

describe('parseConfig', () => {
  describe('when the document is empty', () => {
    it.each([undefined, null, {}])('returns the defaults for %j', (doc) => {
      expect(parseConfig(doc)).toEqual(DEFAULT_CONFIG);
    });

    it('defaults are fail-closed', () => {
      expect(DEFAULT_CONFIG.failureAction).toBe('deny');
      expect(DEFAULT_CONFIG.noMatchAction).toBe('deny');
      expect(DEFAULT_CONFIG.registry.verifyDigest).toBe(true);
    });

    it('keeps serving 5 s after SIGTERM by default', () => {
      expect(DEFAULT_CONFIG.shutdownDelayMs).toBe(5000);
    });
  });

  describe('when every setting is given', () => {
    it('reads each one (seconds become milliseconds)', () => {
      const config = parseConfig({
        failureAction: 'allow',
        noMatchAction: 'allow',
        timeoutSeconds: 7,
        timeoutMarginSeconds: 0.5,
        shutdownDelaySeconds: 2.5,
        cache: { maxEntries: 5, maxTtlSeconds: 60, negativeTtlSeconds: 2, tagTtlSeconds: 0 },
        registry: {
          verifyDigest: false,
          insecureRegistries: ['reg.local:5000'],
          caBundles: { 'reg.example.com': PEM },
          mirrors: { 'docker.io': ['mirror.example.com'] },
          pullSecrets: ['trustgate/regcred', 'other'],
        },
        mutate: true,
        namespace: 'security',
      });
      expect(config).toEqual({
        failureAction: 'allow',
        noMatchAction: 'allow',
        defaultTimeoutMs: 7000,
        timeoutMarginMs: 500,
        shutdownDelayMs: 2500,
        cache: { maxEntries: 5, maxTtlMs: 60_000, negativeTtlMs: 2000, tagTtlMs: 0 },
        registry: {
          verifyDigest: false,
          insecureRegistries: ['reg.local:5000'],
          caBundles: { 'reg.example.com': PEM },
          mirrors: { 'docker.io': ['mirror.example.com'] },
          pullSecrets: ['trustgate/regcred', 'other'],
        },
        mutate: true,
        namespace: 'security',
      });
    });

    it('keeps defaults for what is left out of a nested mapping', () => {
      const config = parseConfig({ cache: { maxEntries: 3 } });
      expect(config.cache).toEqual({ ...DEFAULT_CONFIG.cache, maxEntries: 3 });
    });
  });

  describe('when the document is not a mapping', () => {
    it.each([[['a']], ['text'], [42]])('throws INVALID_CONFIG for %j', (doc) => {
      const errors = errorsOf(doc, 'cfg.yaml');
      expect(errors).toEqual([{ path: '', message: 'must be a mapping', file: 'cfg.yaml' }]);
    });
  });

  describe('when keys are unknown', () => {
    it('reports them at every level with their path', () => {
      expect(
        pathsOf({ failureActoin: 'deny', cache: { maxTTLSeconds: 5 }, registry: { insecure: [] } }),
      ).toEqual(['failureActoin', 'cache.maxTTLSeconds', 'registry.insecure']);
    });

    it('lists the known settings in the message', () => {
      expect(errorsOf({ cache: { ttl: 1 } })[0]!.message).toContain('maxTtlSeconds');
      expect(errorsOf({ shutdownDelay: 5 })[0]!.message).toContain('shutdownDelaySeconds');
    });
  });

  describe('when values have the wrong type', () => {
    it.each<[string, unknown]>([
      ['failureAction', { failureAction: 'fail' }],
      ['noMatchAction', { noMatchAction: true }],
      ['timeoutSeconds', { timeoutSeconds: '10' }],
      ['timeoutSeconds', { timeoutSeconds: 0 }],
      ['timeoutMarginSeconds', { timeoutMarginSeconds: -1 }],
      ['shutdownDelaySeconds', { shutdownDelaySeconds: -1 }],
      ['shutdownDelaySeconds', { shutdownDelaySeconds: '5s' }],
      ['shutdownDelaySeconds', { shutdownDelaySeconds: Number.NaN }],
      ['cache', { cache: [] }],
      ['cache.maxEntries', { cache: { maxEntries: 0 } }],
      ['cache.maxEntries', { cache: { maxEntries: 1.5 } }],
      ['cache.maxTtlSeconds', { cache: { maxTtlSeconds: Number.POSITIVE_INFINITY } }],
      ['cache.negativeTtlSeconds', { cache: { negativeTtlSeconds: null } }],
      ['cache.tagTtlSeconds', { cache: { tagTtlSeconds: '30s' } }],
      ['registry', { registry: 'x' }],
      ['registry.verifyDigest', { registry: { verifyDigest: 'yes' } }],
      ['registry.insecureRegistries', { registry: { insecureRegistries: 'reg:5000' } }],
      ['registry.insecureRegistries', { registry: { insecureRegistries: ['a', 1] } }],
      ['registry.caBundles', { registry: { caBundles: ['x'] } }],
      ['registry.caBundles.reg', { registry: { caBundles: { reg: 'not pem' } } }],
      ['registry.mirrors', { registry: { mirrors: 'm' } }],
      ['registry.mirrors.docker.io', { registry: { mirrors: { 'docker.io': 'mirror' } } }],
      ['registry.mirrors.docker.io', { registry: { mirrors: { 'docker.io': ['ok', 2] } } }],
      ['registry.pullSecrets', { registry: { pullSecrets: [{ name: 'x' }] } }],
      ['mutate', { mutate: 'true' }],
      ['namespace', { namespace: 7 }],
      ['namespace', { namespace: '' }],
    ])('reports %s', (path, doc) => {
      expect(pathsOf(doc)).toEqual([path]);
    });

    it('accepts a shutdown delay of 0 (close at once) and of exactly the maximum', () => {
      expect(parseConfig({ shutdownDelaySeconds: 0 }).shutdownDelayMs).toBe(0);
      expect(
        parseConfig({ shutdownDelaySeconds: MAX_SHUTDOWN_DELAY_SECONDS }).shutdownDelayMs,
      ).toBe(MAX_SHUTDOWN_DELAY_SECONDS * 1000);
    });

    it('rejects a shutdown delay above the maximum, naming the bound', () => {
      expect(errorsOf({ shutdownDelaySeconds: MAX_SHUTDOWN_DELAY_SECONDS + 1 })).toEqual([
        {
          path: 'shutdownDelaySeconds',
          message: expect.stringMatching(
            new RegExp(
              `^must be at most ${MAX_SHUTDOWN_DELAY_SECONDS} seconds \\(.*grace period\\), got ${MAX_SHUTDOWN_DELAY_SECONDS + 1}$`,
            ),
          ),
        },
      ]);
    });

    it('reports every problem at once, each with the file', () => {
      const errors = errorsOf(
        { failureAction: 'x', mutate: 1, cache: { maxEntries: -1 } },
        'trustgate.yaml',
      );
      expect(errors.map((e) => [e.path, e.file])).toEqual([
        ['failureAction', 'trustgate.yaml'],
        ['cache.maxEntries', 'trustgate.yaml'],
        ['mutate', 'trustgate.yaml'],
      ]);
    });

    it('says in the message what was wrong and how many more', () => {
      expect(() => parseConfig({ failureAction: 'x', mutate: 1 }, 'c.yaml')).toThrow(
        /invalid config c\.yaml: failureAction: must be "deny" or "allow", got "x" \(and 1 more\)/,
      );
    });
  });
});
