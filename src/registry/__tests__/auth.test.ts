// SPDX-License-Identifier: Apache-2.0
// WWW-Authenticate parsing, the bearer token flow against a MockAgent realm, and token expiry on a fake clock.

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MockAgent } from 'undici';
import { InconclusiveError } from '../../core/errors.js';
import { createDeadline } from '../../verify/deadline.js';
import type { Clock, RegistryCredentials } from '../../verify/ports.js';
import {
  credentialIdentity,
  fetchBearerToken,
  parseWwwAuthenticate,
  RegistryAuthenticator,
  toBasicAuthorization,
  TokenCache,
  toTokenCacheKey,
  type AuthTarget,
} from '../auth.js';

const T0 = new Date('2026-12-02T10:00:00Z');

function fakeClock(start = T0): Clock & { advance(ms: number): void } {
  let now = start.getTime();
  return { now: () => new Date(now), advance: (ms) => void (now += ms) };
}

describe('parseWwwAuthenticate', () => {
  it.each<[string, string | string[] | undefined, unknown]>([
    ['no header', undefined, []],
    [
      'Basic with realm',
      'Basic realm="Registry Realm"',
      [{ scheme: 'basic', params: { realm: 'Registry Realm' } }],
    ],
    [
      'Bearer with realm, service, scope',
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/nginx:pull',
          },
        },
      ],
    ],
    [
      'a quoted scope containing commas and an escaped quote',
      'Bearer realm="https://a/token", scope="repository:x/y:pull,push", error="say \\"hi\\""',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://a/token',
            scope: 'repository:x/y:pull,push',
            error: 'say "hi"',
          },
        },
      ],
    ],
    [
      'two challenges in one header',
      'Basic realm="b", Bearer realm="https://t/token",service="s"',
      [
        { scheme: 'basic', params: { realm: 'b' } },
        { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
      ],
    ],
    [
      'two header values and case-insensitive names',
      ['BASIC Realm=x', 'bEaReR REALM="https://t"'],
      [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'https://t' } },
      ],
    ],
    [
      'a token68 challenge',
      'Negotiate abc123==',
      [{ scheme: 'negotiate', params: { '': 'abc123==' } }],
    ],
    ['a bare scheme', 'Bearer', [{ scheme: 'bearer', params: {} }]],
    [
      'an unterminated quote',
      'Bearer realm="https://t',
      [{ scheme: 'bearer', params: { realm: 'https://t' } }],
    ],
    ['garbage', '=,,"', []],
  ])('parses %s', (_name, header, want) => {
    expect(parseWwwAuthenticate(header)).toEqual(want);
  });

  it('stays bounded on a huge header', () => {
    const header = Array.from({ length: 5000 }, (_, i) => `S${i} a=b`).join(', ');
    expect(parseWwwAuthenticate(header).length).toBeLessThanOrEqual(16);
  });
});

describe('toBasicAuthorization', () => {
  it('encodes user:pass and gives nothing without a username or password', () => {
    expect(toBasicAuthorization({ username: 'alice', password: 'p:w' })).toBe(
      `Basic ${Buffer.from('alice:p:w').toString('base64')}`,
    );
    expect(toBasicAuthorization({ identityToken: 'x' })).toBeUndefined();
    expect(toBasicAuthorization(undefined)).toBeUndefined();
  });
});

describe('toTokenCacheKey', () => {
  it('separates credentials and never contains the secret', () => {
    const a = toTokenCacheKey({
      realm: 'r',
      service: 's',
      scope: 'x',
      credentials: { username: 'u', password: 'secret-1' },
    });
    const b = toTokenCacheKey({
      realm: 'r',
      service: 's',
      scope: 'x',
      credentials: { username: 'u', password: 'secret-2' },
    });
    expect(a).not.toBe(b);
    expect(a).not.toContain('secret-1');
    expect(credentialIdentity(undefined)).toBe('anonymous');
  });
});

describe('TokenCache', () => {
  describe('when the clock passes the expiry (minus the skew)', () => {
    it('forgets the token', () => {
      const clock = fakeClock();
      const cache = new TokenCache({ clock });
      cache.set('k', 'tok', T0.getTime() + 60_000);
      clock.advance(54_000);
      expect(cache.get('k')).toBe('tok');
      clock.advance(2_000);
      expect(cache.get('k')).toBeUndefined();
    });
  });

  describe('when more than maxEntries tokens are stored', () => {
    it('evicts the oldest', () => {
      const cache = new TokenCache({ clock: fakeClock(), maxEntries: 2 });
      for (const k of ['a', 'b', 'c']) cache.set(k, k, T0.getTime() + 600_000);
      expect([cache.get('a'), cache.get('b'), cache.get('c'), cache.size]).toEqual([
        undefined,
        'b',
        'c',
        2,
      ]);
    });
  });
});

const REALM = 'https://auth.example.com';
let agent: MockAgent;
beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
});
afterEach(async () => {
  await agent.close();
});

function tokenReq(
  over: Partial<Parameters<typeof fetchBearerToken>[0]> = {},
): Parameters<typeof fetchBearerToken>[0] {
  return {
    realm: `${REALM}/token`,
    service: 'registry.example.com',
    scope: 'repository:team/app:pull',
    registryHost: 'registry.example.com',
    deadline: createDeadline(5000),
    dispatcher: agent,
    retries: 0,
    ...over,
  };
}

describe('fetchBearerToken', () => {
  describe('when the realm answers with `token` and `expires_in`', () => {
    it('sends service, scope and Basic credentials and honours expires_in', async () => {
      let auth: unknown;
      agent
        .get(REALM)
        .intercept({
          path: '/token?service=registry.example.com&scope=repository%3Ateam%2Fapp%3Apull',
          method: 'GET',
        })
        .reply((opts) => {
          auth = (opts.headers as Record<string, string>).authorization;
          return { statusCode: 200, data: { token: 't1', expires_in: 300 } };
        });
      const got = await fetchBearerToken(
        tokenReq({ credentials: { username: 'u', password: 'p' } }),
        fakeClock(),
      );
      expect(got).toEqual({ token: 't1', expiresAt: T0.getTime() + 300_000 });
      expect(auth).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    });
  });

  describe('when the realm answers with only `access_token` and no expiry', () => {
    it('uses access_token and the 60 s default', async () => {
      agent
        .get(REALM)
        .intercept({ path: /^\/token/ })
        .reply(200, { access_token: 't2' });
      expect(await fetchBearerToken(tokenReq(), fakeClock())).toEqual({
        token: 't2',
        expiresAt: T0.getTime() + 60_000,
      });
    });
  });

  describe('when the credentials hold an identity token', () => {
    it('POSTs an OAuth2 refresh_token grant', async () => {
      let body = '';
      agent
        .get(REALM)
        .intercept({ path: '/token', method: 'POST' })
        .reply((opts) => {
          body = typeof opts.body === 'string' ? opts.body : '';
          return { statusCode: 200, data: { access_token: 't3', expires_in: 120 } };
        });
      const got = await fetchBearerToken(
        tokenReq({ credentials: { identityToken: 'refresh-xyz' } }),
        fakeClock(),
      );
      expect(got.token).toBe('t3');
      const form = new URLSearchParams(body);
      expect(Object.fromEntries(form)).toMatchObject({
        grant_type: 'refresh_token',
        refresh_token: 'refresh-xyz',
        service: 'registry.example.com',
        scope: 'repository:team/app:pull',
      });
    });
  });

  describe('when the realm refuses or misbehaves', () => {
    it.each<[string, number, unknown, RegExp]>([
      ['401', 401, '{}', /refused the credentials configured/],
      ['500', 500, 'boom', /answered HTTP 500/],
      ['no token', 200, { expires_in: 60 }, /without a token/],
      ['not JSON', 200, 'nope', /invalid JSON/],
    ])('throws TRUST_SOURCE_UNAVAILABLE on %s', async (_name, status, data, message) => {
      agent
        .get(REALM)
        .intercept({ path: /^\/token/ })
        .reply(status, data as string);
      const p = fetchBearerToken(
        tokenReq({ credentials: { username: 'u', password: 'hunter2' } }),
        fakeClock(),
      );
      const err = await p.catch((e: unknown) => e);
      expect(err).toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('hunter2');
    });

    it('refuses a realm that is not http(s)', async () => {
      await expect(
        fetchBearerToken(tokenReq({ realm: 'file:///etc/passwd' })),
      ).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
    });
  });

  describe('when the realm is plain HTTP on a foreign host', () => {
    it('asks anonymously instead of sending the credentials', async () => {
      let auth: unknown = 'unset';
      agent
        .get('http://evil.example.net')
        .intercept({ path: /^\/token/ })
        .reply((opts) => {
          auth = (opts.headers as Record<string, string>).authorization;
          return { statusCode: 200, data: { token: 't' } };
        });
      await fetchBearerToken(
        tokenReq({
          realm: 'http://evil.example.net/token',
          credentials: { username: 'u', password: 'p' },
        }),
      );
      expect(auth).toBeUndefined();
    });
  });
});

describe('RegistryAuthenticator', () => {
  const target = (credentials?: RegistryCredentials): AuthTarget => ({
    baseUrl: 'https://registry.example.com',
    host: 'registry.example.com',
    repository: 'team/app',
    credentials,
  });
  const challenge = `Bearer realm="${REALM}/token",service="registry.example.com",scope="repository:team/app:pull"`;

  describe('when a bearer token was fetched', () => {
    it('reuses it until it expires on the injected clock, then fetches a new one', async () => {
      const clock = fakeClock();
      let hits = 0;
      agent
        .get(REALM)
        .intercept({ path: /^\/token/ })
        .reply(() => ({ statusCode: 200, data: { token: `tok-${++hits}`, expires_in: 60 } }))
        .times(2);
      const auth = new RegistryAuthenticator({ dispatcherFor: () => agent, clock, retries: 0 });
      const creds = { username: 'u', password: 'p' };
      expect(auth.cachedAuthorization(target(creds))).toBeUndefined();
      expect(await auth.authorize(target(creds), challenge, createDeadline(5000))).toBe(
        'Bearer tok-1',
      );
      clock.advance(50_000);
      expect(auth.cachedAuthorization(target(creds))).toBe('Bearer tok-1');
      expect(await auth.authorize(target(creds), challenge, createDeadline(5000))).toBe(
        'Bearer tok-1',
      );
      expect(hits).toBe(1);
      clock.advance(10_000);
      expect(auth.cachedAuthorization(target(creds))).toBeUndefined();
      expect(await auth.authorize(target(creds), challenge, createDeadline(5000))).toBe(
        'Bearer tok-2',
      );
      expect(hits).toBe(2);
    });

    it('does not hand one pull secret’s token to another', async () => {
      let hits = 0;
      agent
        .get(REALM)
        .intercept({ path: /^\/token/ })
        .reply(() => ({ statusCode: 200, data: { token: `tok-${++hits}` } }))
        .times(2);
      const auth = new RegistryAuthenticator({
        dispatcherFor: () => agent,
        clock: fakeClock(),
        retries: 0,
      });
      await auth.authorize(
        target({ username: 'a', password: '1' }),
        challenge,
        createDeadline(5000),
      );
      expect(auth.cachedAuthorization(target({ username: 'b', password: '2' }))).toBeUndefined();
      expect(
        await auth.authorize(
          target({ username: 'b', password: '2' }),
          challenge,
          createDeadline(5000),
        ),
      ).toBe('Bearer tok-2');
    });
  });

  describe('when concurrent requests meet the same challenge', () => {
    it('asks the token service once', async () => {
      let hits = 0;
      agent
        .get(REALM)
        .intercept({ path: /^\/token/ })
        .reply(() => ({ statusCode: 200, data: { token: `tok-${++hits}` } }))
        .times(5);
      const auth = new RegistryAuthenticator({
        dispatcherFor: () => agent,
        clock: fakeClock(),
        retries: 0,
      });
      const all = await Promise.all(
        [1, 2, 3].map(() => auth.authorize(target(), challenge, createDeadline(5000))),
      );
      expect(all).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
      expect(hits).toBe(1);
    });
  });

  describe('when the challenge is Basic', () => {
    it('answers with the credentials, and with nothing when there are none', async () => {
      const auth = new RegistryAuthenticator({ dispatcherFor: () => agent });
      const creds = { username: 'u', password: 'p' };
      expect(await auth.authorize(target(creds), 'Basic realm="r"', createDeadline(5000))).toBe(
        toBasicAuthorization(creds),
      );
      expect(auth.cachedAuthorization(target(creds))).toBe(toBasicAuthorization(creds));
      expect(
        await auth.authorize(target(), 'Basic realm="r"', createDeadline(5000)),
      ).toBeUndefined();
    });
  });

  describe('when the credentials carry a registry token', () => {
    it('sends it as the bearer token without asking the realm', async () => {
      const auth = new RegistryAuthenticator({ dispatcherFor: () => agent });
      expect(
        await auth.authorize(target({ registryToken: 'rt' }), challenge, createDeadline(5000)),
      ).toBe('Bearer rt');
    });
  });

  describe('when the challenge is unknown', () => {
    it('gives up', async () => {
      const auth = new RegistryAuthenticator({ dispatcherFor: () => agent });
      expect(
        await auth.authorize(target(), 'Negotiate abc==', createDeadline(5000)),
      ).toBeUndefined();
    });
  });
});
