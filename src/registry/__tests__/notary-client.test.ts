// SPDX-License-Identifier: Apache-2.0
// NotaryClient against an undici MockAgent: URL forms, status mapping, caps, deadline, GUN safety.

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MockAgent, type Dispatcher } from 'undici';
import { InconclusiveError, VerificationError } from '../../core/errors.js';
import { createDeadline } from '../../verify/deadline.js';
import type { NotaryRoleRequest } from '../../verify/ports.js';
import type { DispatcherOptions } from '../http.js';
import { NotaryClient, toNotaryRoleUrl } from '../notary-client.js';

const SERVER = 'http://127.0.0.1:4443';
const GUN = 'localhost:5000/demo/app';
const SHA = 'ab'.repeat(32);

let agent: MockAgent;
let gets: DispatcherOptions[];
let client: NotaryClient;

function req(over: Partial<NotaryRoleRequest> = {}): NotaryRoleRequest {
  return {
    server: SERVER,
    gun: GUN,
    role: 'root',
    maxBytes: 1024,
    deadline: createDeadline(5000),
    ...over,
  };
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  gets = [];
  const provider = {
    get(opts: DispatcherOptions = {}): Dispatcher {
      gets.push(opts);
      return agent;
    },
  };
  client = new NotaryClient({ dispatchers: provider, retries: 0 });
});

afterEach(async () => {
  await agent.close();
});

describe('NotaryClient', () => {
  describe('when the server has the role', () => {
    it('returns the exact served bytes of a text/plain body with GET', async () => {
      const body = '{"signed":{"_type":"Root"},"signatures":[]} \n';
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/root.json`, method: 'GET' })
        .reply(200, body, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
      const bytes = await client.fetchRole(req());
      expect(Buffer.from(bytes!).toString('utf8')).toBe(body);
    });

    it('asks for the checksum form <role>.<sha256>.json of a delegation', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/targets/releases.${SHA}.json`, method: 'GET' })
        .reply(200, 'x');
      const bytes = await client.fetchRole(
        req({ role: 'targets/releases', sha256: SHA.toUpperCase() }),
      );
      expect(Buffer.from(bytes!).toString()).toBe('x');
    });

    it('asks for the versioned form <N>.<role>.json', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/3.root.json`, method: 'GET' })
        .reply(200, 'v3');
      const bytes = await client.fetchRole(req({ version: 3 }));
      expect(Buffer.from(bytes!).toString()).toBe('v3');
    });

    it('uses https and the per-server CA bundle when the URL says https', async () => {
      agent
        .get('https://notary.example.com')
        .intercept({ path: `/v2/${GUN}/_trust/tuf/timestamp.json` })
        .reply(200, 't');
      const bytes = await client.fetchRole(
        req({
          server: 'https://notary.example.com',
          role: 'timestamp',
          caBundle: '-----BEGIN CERTIFICATE-----',
        }),
      );
      expect(Buffer.from(bytes!).toString()).toBe('t');
      expect(gets).toEqual([{ caBundle: '-----BEGIN CERTIFICATE-----' }]);
    });

    it('selects the default dispatcher when no CA bundle is configured', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/root.json` })
        .reply(200, 'r');
      await client.fetchRole(req());
      expect(gets).toEqual([{}]);
    });
  });

  describe('when the server answers 404', () => {
    it('returns null', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/root.json` })
        .reply(404, '{"errors":[{"code":"METADATA_NOT_FOUND"}]}', {
          headers: { 'content-type': 'application/json' },
        });
      await expect(client.fetchRole(req())).resolves.toBeNull();
    });
  });

  describe('when the server refuses access', () => {
    it.each([401, 403])(
      'throws TRUST_SOURCE_UNAVAILABLE for %i naming the server',
      async (status) => {
        agent
          .get(SERVER)
          .intercept({ path: `/v2/${GUN}/_trust/tuf/root.json` })
          .reply(status, 'no');
        const p = client.fetchRole(req());
        await expect(p).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
        await expect(p).rejects.toThrow(
          new RegExp(`127\\.0\\.0\\.1:4443 refused access .*HTTP ${status}`),
        );
      },
    );
  });

  describe('when the server answers another error status', () => {
    it('throws TRUST_SOURCE_UNAVAILABLE naming the status, server and body', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/snapshot.json` })
        .reply(500, 'database\n down');
      const p = client.fetchRole(req({ role: 'snapshot' }));
      await expect(p).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
      await expect(p).rejects.toThrow(
        'Notary server 127.0.0.1:4443 answered HTTP 500 for snapshot of localhost:5000/demo/app: database down',
      );
    });

    it('does not follow redirects', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/root.json` })
        .reply(302, '', { headers: { location: 'http://evil.example/' } });
      await expect(client.fetchRole(req())).rejects.toThrowWithCode(
        InconclusiveError,
        'TRUST_SOURCE_UNAVAILABLE',
      );
    });
  });

  describe('when the connection fails', () => {
    it('throws TRUST_SOURCE_UNAVAILABLE', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/root.json` })
        .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
      await expect(client.fetchRole(req())).rejects.toThrowWithCode(
        InconclusiveError,
        'TRUST_SOURCE_UNAVAILABLE',
      );
    });
  });

  describe('when the body is larger than maxBytes', () => {
    it('throws LIMIT_EXCEEDED', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/root.json` })
        .reply(200, 'x'.repeat(2048));
      await expect(client.fetchRole(req({ maxBytes: 1024 }))).rejects.toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
    });
  });

  describe('when the deadline has passed', () => {
    it('throws TIMEOUT without a request', async () => {
      const deadline = createDeadline(0);
      await new Promise((r) => setTimeout(r, 5));
      await expect(client.fetchRole(req({ deadline }))).rejects.toThrowWithCode(
        InconclusiveError,
        'TIMEOUT',
      );
    });

    it('throws TIMEOUT when the server does not answer in time', async () => {
      agent
        .get(SERVER)
        .intercept({ path: `/v2/${GUN}/_trust/tuf/root.json` })
        .reply(200, 'late')
        .delay(2000);
      await expect(
        client.fetchRole(req({ deadline: createDeadline(100) })),
      ).rejects.toThrowWithCode(InconclusiveError, 'TIMEOUT');
    });
  });

  describe('when the GUN is unsafe', () => {
    it.each([
      'localhost:5000/../other',
      'a/./b',
      'a//b',
      '',
      'a/b?x=1',
      'a/b#frag',
      'a/b c',
      'a\\..\\b',
    ])('refuses %j with INVALID_IMAGE_REFERENCE and sends nothing', async (gun) => {
      await expect(client.fetchRole(req({ gun }))).rejects.toThrowWithCode(
        VerificationError,
        'INVALID_IMAGE_REFERENCE',
      );
      expect(gets).toEqual([]);
    });

    it('percent-encodes characters that could change the path', () => {
      expect(toNotaryRoleUrl({ server: SERVER, gun: '[::1]:5000/a%2e%2e/b', role: 'root' })).toBe(
        'http://127.0.0.1:4443/v2/%5B::1%5D:5000/a%252e%252e/b/_trust/tuf/root.json',
      );
    });
  });

  describe('when the role request is malformed', () => {
    it.each([
      [{ role: 'targets/../root' }],
      [{ role: 'targets/' }],
      [{ role: 'releases' }],
      [{ role: 'targets/a b' }],
      [{ role: 'targets/x?y' }],
      [{ sha256: 'abc' }],
      [{ sha256: `${SHA}/../x` }],
      [{ version: 0 }],
      [{ version: 1.5 }],
      [{ sha256: SHA, version: 2 }],
    ])('refuses %j with METADATA_INVALID', async (over) => {
      await expect(client.fetchRole(req(over))).rejects.toThrowWithCode(
        VerificationError,
        'METADATA_INVALID',
      );
      expect(gets).toEqual([]);
    });
  });

  describe('when the server URL is unusable', () => {
    it.each([
      'ftp://notary.example.com',
      'not a url',
      'https://user:pw@notary.example.com',
      'https://n.example.com/?a=b',
    ])('refuses %j with TRUST_SOURCE_UNAVAILABLE', async (server) => {
      await expect(client.fetchRole(req({ server }))).rejects.toThrowWithCode(
        InconclusiveError,
        'TRUST_SOURCE_UNAVAILABLE',
      );
    });

    it('keeps a path prefix and drops a trailing slash', () => {
      expect(
        toNotaryRoleUrl({
          server: 'https://h.example/notary/',
          gun: 'r/x',
          role: 'targets/releases',
          version: 2,
        }),
      ).toBe('https://h.example/notary/v2/r/x/_trust/tuf/2.targets/releases.json');
    });
  });
});
