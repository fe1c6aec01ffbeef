// SPDX-License-Identifier: Apache-2.0
// Endpoint selection per registry host (Docker Hub, loopback, insecure, CA bundles, mirrors) and settings parsing.

import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../core/errors.js';
import {
  endpointFor,
  endpointsFor,
  parseRegistryConfig,
  toRegistryHost,
  type RegistryConfig,
} from '../registry-config.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const config: RegistryConfig = {
  insecureRegistries: [
    'insecure.example.com:5000',
    'http://plain.example.com',
    'https://selfsigned.example.com',
  ],
  caBundles: { 'private.example.com': PEM, 'ported.example.com:8443': PEM },
  mirrors: { 'docker.io': ['https://mirror.example.com/', 'http://10.0.0.1:5000/prefix'] },
};

describe('toRegistryHost', () => {
  it('folds Docker Hub aliases and lower-cases', () => {
    expect(
      ['index.docker.io', 'registry-1.docker.io', 'Docker.IO', 'Quay.io'].map(toRegistryHost),
    ).toEqual(['docker.io', 'docker.io', 'docker.io', 'quay.io']);
  });
});

describe('endpointFor', () => {
  it.each<[string, string, object]>([
    ['docker.io', 'https://registry-1.docker.io', {}],
    ['index.docker.io', 'https://registry-1.docker.io', {}],
    ['localhost:5000', 'http://localhost:5000', {}],
    ['127.0.0.1:5000', 'http://127.0.0.1:5000', {}],
    ['127.1.2.3', 'http://127.1.2.3', {}],
    ['[::1]:5000', 'http://[::1]:5000', {}],
    ['insecure.example.com:5000', 'http://insecure.example.com:5000', {}],
    ['insecure.example.com', 'https://insecure.example.com', {}],
    ['plain.example.com', 'http://plain.example.com', {}],
    ['selfsigned.example.com', 'https://selfsigned.example.com', { insecureSkipVerify: true }],
    ['private.example.com', 'https://private.example.com', { caBundle: PEM }],
    ['private.example.com:5000', 'https://private.example.com:5000', { caBundle: PEM }],
    ['ported.example.com:8443', 'https://ported.example.com:8443', { caBundle: PEM }],
    ['ported.example.com', 'https://ported.example.com', {}],
    ['ghcr.io', 'https://ghcr.io', {}],
    ['128.0.0.1', 'https://128.0.0.1', {}],
  ])('sends %s to %s', (registry, baseUrl, tls) => {
    const ep = endpointFor(registry, config);
    expect(ep.baseUrl).toBe(baseUrl);
    expect(ep.tls).toEqual(tls);
    expect(ep.mirror).toBe(false);
  });
});

describe('endpointsFor', () => {
  describe('when the registry has mirrors', () => {
    it('lists the mirrors first and the origin last', () => {
      expect(endpointsFor('docker.io', config).map((e) => [e.baseUrl, e.mirror])).toEqual([
        ['https://mirror.example.com', true],
        ['http://10.0.0.1:5000/prefix', true],
        ['https://registry-1.docker.io', false],
      ]);
    });
  });
  describe('when it has none', () => {
    it('lists only the origin', () => {
      expect(endpointsFor('ghcr.io', config).map((e) => e.baseUrl)).toEqual(['https://ghcr.io']);
    });
  });
});

describe('parseRegistryConfig', () => {
  it('accepts a full valid document and defaults a missing one', () => {
    const parsed = parseRegistryConfig({
      insecureRegistries: ['a.example.com:5000', 'https://b.example.com'],
      caBundles: { 'Private.example.com': PEM },
      mirrors: { 'index.docker.io': ['https://m.example.com'] },
    });
    expect(parsed).toEqual({
      insecureRegistries: ['a.example.com:5000', 'https://b.example.com'],
      caBundles: { 'private.example.com': PEM },
      mirrors: { 'docker.io': ['https://m.example.com'] },
    });
    expect(parseRegistryConfig(undefined)).toEqual({
      insecureRegistries: [],
      caBundles: {},
      mirrors: {},
    });
  });

  it('reports every problem with its path', () => {
    let err: unknown;
    try {
      parseRegistryConfig({
        insecureRegistries: ['ok.example.com', 'bad host', 7],
        caBundles: { 'x.io': 'not pem' },
        mirrors: { 'docker.io': ['ftp://m', 'https://user:pw@m.example.com'], 'q.io': 'https://m' },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toThrowWithCode(ConfigError, 'INVALID_CONFIG');
    expect((err as ConfigError).fieldErrors.map((f) => f.path)).toEqual([
      'registries.insecureRegistries[1]',
      'registries.insecureRegistries[2]',
      'registries.caBundles["x.io"]',
      'registries.mirrors["docker.io"][0]',
      'registries.mirrors["docker.io"][1]',
      'registries.mirrors["q.io"]',
    ]);
  });

  it('rejects a non-object', () => {
    expect(() => parseRegistryConfig([])).toThrowWithCode(ConfigError, 'INVALID_CONFIG');
  });
});
