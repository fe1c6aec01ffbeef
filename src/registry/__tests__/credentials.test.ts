// SPDX-License-Identifier: Apache-2.0
// docker-config parsing (pull secrets, ~/.docker/config.json), key matching and provider merging.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import {
  loadDockerConfigFile,
  mergeCredentialProviders,
  NO_CREDENTIALS,
  parseCredentialKey,
  parseDockerConfig,
} from '../credentials.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('parseCredentialKey', () => {
  it.each([
    ['registry.example.com', { host: 'registry.example.com', path: '' }],
    ['https://index.docker.io/v1/', { host: 'docker.io', path: '' }],
    ['registry-1.docker.io', { host: 'docker.io', path: '' }],
    ['http://Host:5000', { host: 'host:5000', path: '' }],
    [
      'registry.example.com:5000/team/sub/',
      { host: 'registry.example.com:5000', path: 'team/sub' },
    ],
    ['*.example.com', { host: '*.example.com', path: '', wildcardSuffix: '.example.com' }],
  ])('splits %s', (key, want) => {
    expect(parseCredentialKey(key)).toEqual(want);
  });
});

describe('parseDockerConfig', () => {
  describe('when entries use the different credential forms', () => {
    const provider = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
          'registry.example.com': { username: 'u', password: 'p' },
          'http://127.0.0.1:5000': { identitytoken: 'refresh' },
          'tokens.example.com': { registrytoken: 'rt' },
          'helper.example.com': {},
        },
        credsStore: 'desktop',
      }),
    );

    it.each([
      ['docker.io', { username: 'hubuser', password: 'hub:pass' }],
      ['index.docker.io', { username: 'hubuser', password: 'hub:pass' }],
      ['registry-1.docker.io', { username: 'hubuser', password: 'hub:pass' }],
      ['registry.example.com', { username: 'u', password: 'p' }],
      ['REGISTRY.example.com', { username: 'u', password: 'p' }],
      ['127.0.0.1:5000', { identityToken: 'refresh' }],
      ['tokens.example.com', { registryToken: 'rt' }],
    ])('finds credentials for %s', (registry, want) => {
      expect(provider.lookup(registry)).toEqual(want);
    });

    it.each([
      ['helper.example.com'],
      ['127.0.0.1'],
      ['registry.example.com:443'],
      ['other.example.com'],
    ])('has none for %s', (registry) => {
      expect(provider.lookup(registry)).toBeUndefined();
    });
  });

  describe('when keys carry repository paths or wildcards', () => {
    const provider = parseDockerConfig({
      auths: {
        'reg.example.com': { username: 'host' },
        'reg.example.com/team': { username: 'team' },
        'reg.example.com/team/special': { username: 'special' },
        '*.cloud.example.com': { username: 'wild' },
      },
    });
    it.each<[string, string | undefined, string | undefined]>([
      ['reg.example.com', 'team/special/app', 'special'],
      ['reg.example.com', 'team/app', 'team'],
      ['reg.example.com', 'teamwork/app', 'host'],
      ['reg.example.com', undefined, 'host'],
      ['eu.cloud.example.com', 'x', 'wild'],
      ['a.b.cloud.example.com', 'x', undefined],
      ['eu.cloud.example.com:5000', 'x', undefined],
    ])('uses the most specific key for %s / %s', (registry, repository, user) => {
      expect(provider.lookup(registry, repository)?.username).toBe(user);
    });
  });

  describe('when the content is the legacy .dockercfg map', () => {
    it('reads the top-level registry keys', () => {
      const provider = parseDockerConfig(
        JSON.stringify({ 'quay.io': { auth: b64('q:w'), email: 'x@y' } }),
      );
      expect(provider.lookup('quay.io')).toEqual({ username: 'q', password: 'w' });
    });
  });

  describe('when the config has no auths at all', () => {
    it('gives an empty provider', () => {
      expect(parseDockerConfig('{}').lookup('docker.io')).toBeUndefined();
    });
  });

  describe('when the config is malformed', () => {
    it.each<[string, unknown, RegExp]>([
      ['not JSON', '{"auths": ', /not valid JSON/],
      ['a JSON array', '[]', /must be a JSON object/],
      ['auths not an object', { auths: [] }, /"auths" must be an object/],
      [
        'an entry that is a string',
        { auths: { 'r.io': 'x' } },
        /auths\["r.io"\]: must be an object/,
      ],
      [
        'auth not base64',
        { auths: { 'r.io': { auth: '%%%' } } },
        /auths\["r.io"\].auth: must be base64/,
      ],
      [
        'auth without a colon',
        { auths: { 'r.io': { auth: b64('nocolon') } } },
        /must be base64 of "username:password"/,
      ],
      [
        'a non-string password',
        { auths: { 'r.io': { username: 'u', password: 42 } } },
        /password: must be a string/,
      ],
      ['an empty key', { auths: { '': { username: 'u' } } }, /must not be empty/],
    ])('throws INVALID_CONFIG for %s', (_name, input, message) => {
      let err: unknown;
      try {
        parseDockerConfig(input, 'secret ns/regcred');
      } catch (e) {
        err = e;
      }
      expect(err).toThrowWithCode(ConfigError, 'INVALID_CONFIG');
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain('secret ns/regcred');
      expect((err as ConfigError).fieldErrors.length).toBeGreaterThan(0);
    });

    it('never echoes a secret in the message', () => {
      // base64 of "secret-password": valid base64 but no colon.
      let message = '';
      try {
        parseDockerConfig({ auths: { 'r.io': { auth: 'c2VjcmV0LXBhc3N3b3Jk' } } });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/must be base64 of "username:password"/);
      expect(message).not.toContain('c2VjcmV0');
      expect(message).not.toContain('secret-password');
    });
  });
});

describe('mergeCredentialProviders', () => {
  it('takes the first provider that has credentials (pod, then service account, then configured)', () => {
    const pod = parseDockerConfig({ auths: { 'a.io': { username: 'pod' } } });
    const sa = parseDockerConfig({
      auths: { 'a.io': { username: 'sa' }, 'b.io': { username: 'sa' } },
    });
    const configured = parseDockerConfig({ auths: { 'c.io': { username: 'cfg' } } });
    const merged = mergeCredentialProviders(pod, undefined, sa, configured);
    expect([
      merged.lookup('a.io')?.username,
      merged.lookup('b.io')?.username,
      merged.lookup('c.io')?.username,
      merged.lookup('d.io'),
    ]).toEqual(['pod', 'sa', 'cfg', undefined]);
  });
});

describe('loadDockerConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustgate-dockercfg-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a config file', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify({ auths: { 'r.io': { auth: b64('u:p') } } }));
    expect((await loadDockerConfigFile(path)).lookup('r.io')).toEqual({
      username: 'u',
      password: 'p',
    });
  });

  it('treats a missing file as anonymous', async () => {
    expect(await loadDockerConfigFile(join(dir, 'missing.json'))).toBe(NO_CREDENTIALS);
  });

  it('reports a malformed file with its path', async () => {
    const path = join(dir, 'bad.json');
    await writeFile(path, '{oops');
    await expect(loadDockerConfigFile(path)).rejects.toThrowWithCode(ConfigError, 'INVALID_CONFIG');
    await expect(loadDockerConfigFile(path)).rejects.toThrow(path);
  });

  it('reports a directory as unreadable', async () => {
    await expect(loadDockerConfigFile(dir)).rejects.toThrowWithCode(ConfigError, 'INVALID_CONFIG');
  });
});
