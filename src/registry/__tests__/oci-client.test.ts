// SPDX-License-Identifier: Apache-2.0
// OciClient against an undici MockAgent: Accept list, digest checks, auth round, referrers paging
// and fallback, blob checks, redirects, mirrors, status mapping.

import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { MockAgent, type Dispatcher } from 'undici';
import { InconclusiveError, VerificationError } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import { createDeadline } from '../../verify/deadline.js';
import type { CredentialProvider, RegistryRequestContext } from '../../verify/ports.js';
import { parseDockerConfig } from '../credentials.js';
import type { DispatcherOptions } from '../http.js';
import {
  MANIFEST_ACCEPT,
  OciClient,
  OCI_INDEX,
  OCI_MANIFEST,
  parseLinkNext,
} from '../oci-client.js';

const REG = 'https://registry.example.com';
const NAME = { registry: 'registry.example.com', repository: 'team/app' };
const SIG = 'application/vnd.cncf.notary.signature';

const sha = (b: string | Uint8Array): string =>
  `sha256:${createHash('sha256').update(b).digest('hex')}`;
const MANIFEST = JSON.stringify({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: {},
  layers: [],
});
const DIGEST = sha(MANIFEST);

let agent: MockAgent;
let gets: DispatcherOptions[];
let client: OciClient;

function ctx(credentials?: CredentialProvider): RegistryRequestContext {
  return { deadline: createDeadline(5000), ...(credentials ? { credentials } : {}) };
}
function headersOf(opts: { headers?: unknown }): Record<string, string> {
  return (opts.headers ?? {}) as Record<string, string>;
}

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  gets = [];
  const dispatchers = {
    get(opts: DispatcherOptions = {}): Dispatcher {
      gets.push(opts);
      return agent;
    },
  };
  client = new OciClient({ dispatchers, retries: 0 });
});
afterEach(async () => {
  await agent.close();
});

describe('OciClient.resolveTag', () => {
  describe('when HEAD returns Docker-Content-Digest', () => {
    it('sends the full Accept list and returns the header digest without a GET', async () => {
      let accept = '';
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply((opts) => {
          accept = headersOf(opts).accept ?? '';
          return {
            statusCode: 200,
            data: '',
            responseOptions: {
              headers: {
                'docker-content-digest': DIGEST,
                'content-length': '123',
                'content-type': `${OCI_INDEX}; charset=utf-8`,
              },
            },
          };
        });
      expect(await client.resolveTag(NAME, 'v1', ctx())).toEqual({
        mediaType: OCI_INDEX,
        digest: DIGEST,
        size: 123,
      });
      expect(accept.split(', ').sort()).toEqual([
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.oci.image.manifest.v1+json',
      ]);
      expect(accept).toBe(MANIFEST_ACCEPT);
    });
  });

  describe('when HEAD is refused with 405', () => {
    it('GETs and hashes the body', async () => {
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply(405, '');
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'GET' })
        .reply(200, MANIFEST, { headers: { 'content-type': 'application/json' } });
      expect(await client.resolveTag(NAME, 'v1', ctx())).toEqual({
        mediaType: OCI_MANIFEST,
        digest: DIGEST,
        size: MANIFEST.length,
      });
    });
  });

  describe('when the registry answers 404', () => {
    it('returns null', async () => {
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply(404, '');
      expect(await client.resolveTag(NAME, 'v1', ctx())).toBeNull();
    });
  });

  describe('when the registry answers 500', () => {
    it('throws TRUST_SOURCE_UNAVAILABLE', async () => {
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply(500, '');
      await expect(client.resolveTag(NAME, 'v1', ctx())).rejects.toThrowWithCode(
        InconclusiveError,
        'TRUST_SOURCE_UNAVAILABLE',
      );
    });
  });

  describe('when the name or tag could escape the URL path', () => {
    it.each([
      [{ ...NAME, repository: '../admin' }, 'v1'],
      [{ ...NAME, repository: 'Team/App' }, 'v1'],
      [NAME, 'v1/../../x'],
      [NAME, 'v1?x=1'],
    ])('throws INVALID_IMAGE_REFERENCE for %j %s', async (name, tag) => {
      await expect(client.resolveTag(name, tag, ctx())).rejects.toThrowWithCode(
        VerificationError,
        'INVALID_IMAGE_REFERENCE',
      );
    });
  });
});

describe('OciClient.fetchManifest', () => {
  describe('when the body hashes to the requested digest', () => {
    it('returns the exact bytes and a descriptor', async () => {
      agent
        .get(REG)
        .intercept({ path: `/v2/team/app/manifests/${DIGEST}` })
        .reply(200, MANIFEST, {
          headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': DIGEST },
        });
      const got = await client.fetchManifest(NAME, DIGEST, ctx());
      expect(Buffer.from(got.bytes).toString()).toBe(MANIFEST);
      expect(got.descriptor).toEqual({
        mediaType: OCI_MANIFEST,
        digest: DIGEST,
        size: MANIFEST.length,
      });
    });
  });

  describe('when the body does not hash to the requested digest', () => {
    it('throws DIGEST_MISMATCH naming both digests', async () => {
      const other = sha('x');
      agent
        .get(REG)
        .intercept({ path: `/v2/team/app/manifests/${other}` })
        .reply(200, MANIFEST);
      const err = await client.fetchManifest(NAME, other, ctx()).catch((e: unknown) => e);
      expect(err).toThrowWithCode(VerificationError, 'DIGEST_MISMATCH');
      expect((err as Error).message).toContain(other);
      expect((err as Error).message).toContain(DIGEST);
    });
  });

  describe('when Docker-Content-Digest disagrees with the body of a tag', () => {
    it('throws DIGEST_MISMATCH', async () => {
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1' })
        .reply(200, MANIFEST, { headers: { 'docker-content-digest': sha('y') } });
      await expect(client.fetchManifest(NAME, 'v1', ctx())).rejects.toThrowWithCode(
        VerificationError,
        'DIGEST_MISMATCH',
      );
    });
  });

  describe('when the manifest is missing', () => {
    it('throws NO_TRUST_DATA', async () => {
      agent
        .get(REG)
        .intercept({ path: `/v2/team/app/manifests/${DIGEST}` })
        .reply(404, '{"errors":[]}');
      await expect(client.fetchManifest(NAME, DIGEST, ctx())).rejects.toThrowWithCode(
        VerificationError,
        'NO_TRUST_DATA',
      );
    });
  });

  describe('when the manifest is larger than the cap', () => {
    it('throws LIMIT_EXCEEDED', async () => {
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1' })
        .reply(200, Buffer.alloc(LIMITS.maxManifestBytes + 1));
      await expect(client.fetchManifest(NAME, 'v1', ctx())).rejects.toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
    });
  });

  describe('when the digest is not sha256', () => {
    it('throws INVALID_IMAGE_REFERENCE', async () => {
      await expect(client.fetchManifest(NAME, 'sha512:abc', ctx())).rejects.toThrowWithCode(
        VerificationError,
        'INVALID_IMAGE_REFERENCE',
      );
    });
  });
});

describe('OciClient authentication', () => {
  const bearer = `Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull"`;
  const creds = parseDockerConfig({
    auths: { 'registry.example.com': { username: 'u', password: 'p' } },
  });

  describe('when the registry challenges with Bearer', () => {
    it('gets a token, retries once, and sends the cached token up front next time', async () => {
      const seen: (string | undefined)[] = [];
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply((opts) => {
          const auth = headersOf(opts).authorization;
          seen.push(auth);
          return auth === 'Bearer tok'
            ? {
                statusCode: 200,
                data: '',
                responseOptions: {
                  headers: {
                    'docker-content-digest': DIGEST,
                    'content-length': '10',
                    'content-type': OCI_MANIFEST,
                  },
                },
              }
            : {
                statusCode: 401,
                data: '',
                responseOptions: { headers: { 'www-authenticate': bearer } },
              };
        })
        .times(3);
      agent
        .get('https://auth.example.com')
        .intercept({ path: /^\/token\?/ })
        .reply(200, { token: 'tok', expires_in: 300 });
      expect((await client.resolveTag(NAME, 'v1', ctx(creds)))?.digest).toBe(DIGEST);
      expect((await client.resolveTag(NAME, 'v1', ctx(creds)))?.digest).toBe(DIGEST);
      expect(seen).toEqual([undefined, 'Bearer tok', 'Bearer tok']);
    });
  });

  describe('when the registry refuses a token that is still cached', () => {
    it('fetches a fresh token instead of repeating the refused one', async () => {
      const seen: (string | undefined)[] = [];
      let issued = 0;
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply((opts) => {
          const auth = headersOf(opts).authorization;
          seen.push(auth);
          // The registry only honours the newest token: tok-1 was revoked after the first call.
          return auth === `Bearer tok-${issued}` && !(issued === 1 && seen.length > 2)
            ? {
                statusCode: 200,
                data: '',
                responseOptions: {
                  headers: { 'docker-content-digest': DIGEST, 'content-length': '10' },
                },
              }
            : {
                statusCode: 401,
                data: '',
                responseOptions: { headers: { 'www-authenticate': bearer } },
              };
        })
        .times(5);
      agent
        .get('https://auth.example.com')
        .intercept({ path: /^\/token\?/ })
        .reply(() => ({ statusCode: 200, data: { token: `tok-${++issued}`, expires_in: 300 } }))
        .times(2);
      expect((await client.resolveTag(NAME, 'v1', ctx(creds)))?.digest).toBe(DIGEST);
      expect((await client.resolveTag(NAME, 'v1', ctx(creds)))?.digest).toBe(DIGEST);
      expect(seen).toEqual([undefined, 'Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
    });
  });

  describe('when the registry still refuses after the auth round', () => {
    it('throws TRUST_SOURCE_UNAVAILABLE telling how to add a pull secret', async () => {
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply(401, '', { headers: { 'www-authenticate': 'Basic realm="r"' } });
      await expect(client.resolveTag(NAME, 'v1', ctx())).rejects.toThrow(
        'registry registry.example.com refused access to team/app (401): add an imagePullSecret for registry.example.com',
      );
    });

    it('reports a 403 with credentials as rejected credentials', async () => {
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply(401, '', { headers: { 'www-authenticate': 'Basic realm="r"' } });
      agent
        .get(REG)
        .intercept({ path: '/v2/team/app/manifests/v1', method: 'HEAD' })
        .reply(403, '');
      const err = await client.resolveTag(NAME, 'v1', ctx(creds)).catch((e: unknown) => e);
      expect(err).toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
      expect((err as Error).message).toMatch(
        /\(403\): the credentials found for registry.example.com were rejected/,
      );
    });
  });
});

describe('OciClient.listReferrers', () => {
  const d = (n: number, artifactType = SIG): object => ({
    mediaType: OCI_MANIFEST,
    digest: sha(`s${n}`),
    size: n,
    artifactType,
  });

  describe('when the registry has the referrers API with pages', () => {
    it('follows Link rel=next and filters on the client too', async () => {
      const base = `/v2/team/app/referrers/${DIGEST}`;
      agent
        .get(REG)
        .intercept({ path: `${base}?artifactType=${encodeURIComponent(SIG)}` })
        .reply(
          200,
          { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [d(1), d(2, 'application/sbom')] },
          {
            headers: { link: `<${base}?artifactType=x&last=2>; rel="next"` },
          },
        );
      agent
        .get(REG)
        .intercept({ path: `${base}?artifactType=x&last=2` })
        .reply(200, { manifests: [d(3), { digest: 'junk' }] });
      const got = await client.listReferrers(NAME, DIGEST, SIG, ctx());
      expect(got.map((x) => x.size)).toEqual([1, 3]);
    });

    it('stops at LIMITS.maxReferrers', async () => {
      const many = Array.from({ length: LIMITS.maxReferrers + 10 }, (_, i) => d(i));
      agent
        .get(REG)
        .intercept({ path: /referrers/ })
        .reply(200, { manifests: many });
      expect(await client.listReferrers(NAME, DIGEST, undefined, ctx())).toHaveLength(
        LIMITS.maxReferrers,
      );
    });

    it('does not follow a Link to another host', async () => {
      agent
        .get(REG)
        .intercept({ path: /referrers/ })
        .reply(
          200,
          { manifests: [d(1)] },
          { headers: { link: '<https://evil.example.net/v2/x>; rel="next"' } },
        );
      expect(await client.listReferrers(NAME, DIGEST, SIG, ctx())).toHaveLength(1);
    });
  });

  describe('when the referrers API answers 404', () => {
    it('reads the sha256-<hex> tag index', async () => {
      agent
        .get(REG)
        .intercept({ path: /referrers/ })
        .reply(404, '404 page not found');
      agent
        .get(REG)
        .intercept({ path: `/v2/team/app/manifests/sha256-${DIGEST.slice(7)}` })
        .reply(
          200,
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_INDEX,
            manifests: [d(7), d(8, 'other')],
          }),
        );
      expect((await client.listReferrers(NAME, DIGEST, SIG, ctx())).map((x) => x.size)).toEqual([
        7,
      ]);
    });

    it.each([
      ['404', 404, '{}'],
      ['not an index', 200, '{"schemaVersion":2}'],
      ['not JSON', 200, 'garbage'],
    ])('gives no referrers when the tag answers %s', async (_name, status, body) => {
      agent
        .get(REG)
        .intercept({ path: /referrers/ })
        .reply(404, '');
      agent
        .get(REG)
        .intercept({ path: /sha256-/ })
        .reply(status, body);
      expect(await client.listReferrers(NAME, DIGEST, SIG, ctx())).toEqual([]);
    });
  });

  describe('when the referrers API answers junk with 200', () => {
    it('throws TRUST_SOURCE_UNAVAILABLE', async () => {
      agent
        .get(REG)
        .intercept({ path: /referrers/ })
        .reply(200, 'nope');
      await expect(client.listReferrers(NAME, DIGEST, SIG, ctx())).rejects.toThrowWithCode(
        InconclusiveError,
        'TRUST_SOURCE_UNAVAILABLE',
      );
    });
  });
});

describe('OciClient.fetchBlob', () => {
  const blob = Buffer.from('envelope bytes');
  const desc = { mediaType: 'application/jose+json', digest: sha(blob), size: blob.length };

  it('returns bytes matching digest and size', async () => {
    agent
      .get(REG)
      .intercept({ path: `/v2/team/app/blobs/${desc.digest}` })
      .reply(200, blob);
    expect(Buffer.from(await client.fetchBlob(NAME, desc, 1024, ctx())).equals(blob)).toBe(true);
  });

  it('throws DIGEST_MISMATCH for other bytes of the same size', async () => {
    agent
      .get(REG)
      .intercept({ path: `/v2/team/app/blobs/${desc.digest}` })
      .reply(200, Buffer.alloc(blob.length, 0x41));
    await expect(client.fetchBlob(NAME, desc, 1024, ctx())).rejects.toThrowWithCode(
      VerificationError,
      'DIGEST_MISMATCH',
    );
  });

  it('throws DIGEST_MISMATCH when the server sends more than the descriptor size', async () => {
    agent
      .get(REG)
      .intercept({ path: `/v2/team/app/blobs/${desc.digest}` })
      .reply(200, Buffer.concat([blob, blob]));
    await expect(client.fetchBlob(NAME, desc, 1024, ctx())).rejects.toThrowWithCode(
      VerificationError,
      'DIGEST_MISMATCH',
    );
  });

  it('throws LIMIT_EXCEEDED before fetching when the descriptor is over the cap', async () => {
    await expect(client.fetchBlob(NAME, desc, 4, ctx())).rejects.toThrowWithCode(
      InconclusiveError,
      'LIMIT_EXCEEDED',
    );
  });

  it('throws METADATA_INVALID for a bad descriptor', async () => {
    await expect(
      client.fetchBlob(NAME, { ...desc, size: -1 }, 1024, ctx()),
    ).rejects.toThrowWithCode(VerificationError, 'METADATA_INVALID');
    await expect(
      client.fetchBlob(NAME, { ...desc, digest: 'md5:x' }, 1024, ctx()),
    ).rejects.toThrowWithCode(VerificationError, 'METADATA_INVALID');
  });

  describe('when the registry redirects to blob storage', () => {
    it('follows the redirect without the registry credentials', async () => {
      let cdnAuth: string | undefined = 'unset';
      agent
        .get(REG)
        .intercept({ path: `/v2/team/app/blobs/${desc.digest}` })
        .reply(401, '', { headers: { 'www-authenticate': 'Basic realm="r"' } });
      agent
        .get(REG)
        .intercept({ path: `/v2/team/app/blobs/${desc.digest}` })
        .reply(307, '', { headers: { location: 'https://cdn.example.net/blob?sig=1' } });
      agent
        .get('https://cdn.example.net')
        .intercept({ path: '/blob?sig=1' })
        .reply((opts) => {
          cdnAuth = headersOf(opts).authorization;
          return { statusCode: 200, data: blob };
        });
      const creds = parseDockerConfig({
        auths: { 'registry.example.com': { username: 'u', password: 'p' } },
      });
      expect(Buffer.from(await client.fetchBlob(NAME, desc, 1024, ctx(creds))).equals(blob)).toBe(
        true,
      );
      expect(cdnAuth).toBeUndefined();
    });
  });
});

describe('OciClient.listTags', () => {
  it('pages through tags/list and skips referrers tags', async () => {
    agent
      .get(REG)
      .intercept({ path: '/v2/team/app/tags/list?n=1000' })
      .reply(
        200,
        { tags: ['v1', `sha256-${'a'.repeat(64)}`] },
        { headers: { link: '</v2/team/app/tags/list?n=1000&last=v1>; rel="next"' } },
      );
    agent
      .get(REG)
      .intercept({ path: '/v2/team/app/tags/list?n=1000&last=v1' })
      .reply(200, { tags: ['v2', 7] });
    expect(await client.listTags(NAME, ctx())).toEqual(['v1', 'v2']);
  });
});

describe('OciClient with mirrors', () => {
  const MIRROR = 'https://mirror.example.com';
  function mirrored(): OciClient {
    return new OciClient({
      dispatchers: { get: (o: DispatcherOptions = {}) => (gets.push(o), agent) },
      retries: 0,
      config: { insecureRegistries: [], caBundles: {}, mirrors: { 'docker.io': [MIRROR] } },
    });
  }
  const HUB = { registry: 'docker.io', repository: 'library/nginx' };
  const hub = (path: string): string => `/v2/library/nginx/manifests/${path}`;

  it('answers from the mirror when it has the tag', async () => {
    agent
      .get(MIRROR)
      .intercept({ path: hub('1.27'), method: 'HEAD' })
      .reply(200, '', {
        headers: {
          'docker-content-digest': DIGEST,
          'content-length': '5',
          'content-type': OCI_INDEX,
        },
      });
    expect((await mirrored().resolveTag(HUB, '1.27', ctx()))?.digest).toBe(DIGEST);
  });

  it.each([
    ['404', 404],
    ['503', 503],
  ])('falls back to registry-1.docker.io when the mirror answers %s', async (_n, status) => {
    agent
      .get(MIRROR)
      .intercept({ path: hub('1.27'), method: 'HEAD' })
      .reply(status, '');
    agent
      .get('https://registry-1.docker.io')
      .intercept({ path: hub('1.27'), method: 'HEAD' })
      .reply(200, '', {
        headers: {
          'docker-content-digest': DIGEST,
          'content-length': '5',
          'content-type': OCI_INDEX,
        },
      });
    expect((await mirrored().resolveTag(HUB, '1.27', ctx()))?.digest).toBe(DIGEST);
  });

  it('falls back when the mirror serves bytes that do not match the digest', async () => {
    agent
      .get(MIRROR)
      .intercept({ path: hub(DIGEST) })
      .reply(200, 'tampered');
    agent
      .get('https://registry-1.docker.io')
      .intercept({ path: hub(DIGEST) })
      .reply(200, MANIFEST);
    expect((await mirrored().fetchManifest(HUB, DIGEST, ctx())).descriptor.digest).toBe(DIGEST);
  });

  it('returns null only when the origin also answers 404', async () => {
    agent
      .get(MIRROR)
      .intercept({ path: hub('gone'), method: 'HEAD' })
      .reply(404, '');
    agent
      .get('https://registry-1.docker.io')
      .intercept({ path: hub('gone'), method: 'HEAD' })
      .reply(404, '');
    expect(await mirrored().resolveTag(HUB, 'gone', ctx())).toBeNull();
  });
});

describe('parseLinkNext', () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ['</v2/x/tags/list?last=a>; rel="next"', 'https://r.io/v2/x/tags/list?last=a'],
    ['<https://r.io/a>; rel="prev", <https://r.io/b>; rel=next', 'https://r.io/b'],
    ['<https://r.io/a>; rel="prev"', undefined],
    ['garbage', undefined],
  ])('reads %s', (link, want) => {
    expect(parseLinkNext(link, 'https://r.io/v2/x/tags/list')).toBe(want);
  });
});
