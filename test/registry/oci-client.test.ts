// SPDX-License-Identifier: Apache-2.0
// OciClient against the REAL docker-registry 2.8.2 (anonymous, htpasswd and token auth with our
// own issuer) and against tiny fake registries for lies, retries and hangs.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InconclusiveError, VerificationError } from '../../src/core/errors.js';
import { LIMITS } from '../../src/core/limits.js';
import { parseDockerConfig } from '../../src/registry/credentials.js';
import { DispatcherPool } from '../../src/registry/http.js';
import { OciClient } from '../../src/registry/oci-client.js';
import { createDeadline } from '../../src/verify/deadline.js';
import type { CredentialProvider, RegistryRequestContext } from '../../src/verify/ports.js';
import {
  NOTATION_SIGNATURE,
  pushImage,
  pushIndex,
  pushNotationSignatureStub,
  sha256,
  startFakeRegistry,
  startRegistry,
  type FakeRegistry,
  type RegistryHandle,
} from '../support/registry.js';

function ctx(credentials?: CredentialProvider, ms = 10_000): RegistryRequestContext {
  return { deadline: createDeadline(ms), ...(credentials ? { credentials } : {}) };
}

/** A `kubernetes.io/dockerconfigjson` pull secret's `.dockerconfigjson`, as the k8s helper hands it over. */
function pullSecret(host: string, username: string, password: string): CredentialProvider {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  return parseDockerConfig(
    JSON.stringify({ auths: { [host]: { username, password, auth } } }),
    'secret default/regcred',
  );
}

describe('OciClient (real docker-registry)', () => {
  let pool: DispatcherPool;
  let client: OciClient;

  beforeAll(() => {
    pool = new DispatcherPool();
    client = new OciClient({ dispatchers: pool });
  });
  afterAll(async () => {
    await pool.close();
  });

  describe('when the registry is anonymous', () => {
    let reg: RegistryHandle;
    beforeAll(async () => {
      reg = await startRegistry();
    });
    afterAll(async () => {
      await reg?.stop();
    });
    const name = (repository: string): { registry: string; repository: string } => ({
      registry: reg.host,
      repository,
    });

    it('resolves a pushed tag to the digest, size and media type the registry stored', async () => {
      const img = await pushImage(reg.url, 'demo/app', 'v1');
      const desc = await client.resolveTag(name('demo/app'), 'v1', ctx());
      expect(desc).toEqual({ mediaType: img.mediaType, digest: img.digest, size: img.size });
    });

    it('sees a tag that was moved to another digest', async () => {
      const first = await pushImage(reg.url, 'demo/moving', 'stable');
      expect((await client.resolveTag(name('demo/moving'), 'stable', ctx()))?.digest).toBe(
        first.digest,
      );
      const second = await pushImage(reg.url, 'demo/moving', 'stable');
      expect(second.digest).not.toBe(first.digest);
      expect((await client.resolveTag(name('demo/moving'), 'stable', ctx()))?.digest).toBe(
        second.digest,
      );
    });

    it('fetches the exact manifest bytes by tag and by digest', async () => {
      const img = await pushImage(reg.url, 'demo/bytes', 'v1', { format: 'docker' });
      const byTag = await client.fetchManifest(name('demo/bytes'), 'v1', ctx());
      const byDigest = await client.fetchManifest(name('demo/bytes'), img.digest, ctx());
      expect(Buffer.from(byTag.bytes).equals(Buffer.from(img.manifestBytes))).toBe(true);
      expect(byDigest.descriptor).toEqual({
        mediaType: img.mediaType,
        digest: img.digest,
        size: img.size,
      });
    });

    it('resolves a multi-arch OCI index to the index digest, not a platform child', async () => {
      const amd = await pushImage(reg.url, 'demo/multi', 'amd64', {
        platform: { os: 'linux', architecture: 'amd64' },
      });
      const arm = await pushImage(reg.url, 'demo/multi', 'arm64', {
        platform: { os: 'linux', architecture: 'arm64' },
      });
      const index = await pushIndex(reg.url, 'demo/multi', { tag: 'v1', children: [amd, arm] });
      const desc = await client.resolveTag(name('demo/multi'), 'v1', ctx());
      expect(desc?.digest).toBe(index.digest);
      expect(desc?.mediaType).toBe(index.mediaType);
      const fetched = await client.fetchManifest(name('demo/multi'), 'v1', ctx());
      expect(fetched.descriptor.digest).toBe(index.digest);
    });

    it('resolves a Docker manifest list to the list digest (the registry would rewrite to amd64 on a short Accept)', async () => {
      const amd = await pushImage(reg.url, 'demo/list', 'amd64', { format: 'docker' });
      const arm = await pushImage(reg.url, 'demo/list', 'arm64', {
        format: 'docker',
        platform: { os: 'linux', architecture: 'arm64' },
      });
      const list = await pushIndex(reg.url, 'demo/list', {
        tag: 'v1',
        children: [amd, arm],
        format: 'docker',
      });
      const desc = await client.resolveTag(name('demo/list'), 'v1', ctx());
      expect(desc?.digest).toBe(list.digest);
      expect((await client.fetchManifest(name('demo/list'), 'v1', ctx())).descriptor.digest).toBe(
        list.digest,
      );
    });

    it('answers null for a missing tag and a missing repository', async () => {
      await pushImage(reg.url, 'demo/present', 'v1');
      expect(await client.resolveTag(name('demo/present'), 'nope', ctx())).toBeNull();
      expect(await client.resolveTag(name('demo/absent'), 'v1', ctx())).toBeNull();
    });

    it('reports a missing manifest digest as NO_TRUST_DATA', async () => {
      await pushImage(reg.url, 'demo/present2', 'v1');
      await expect(
        client.fetchManifest(name('demo/present2'), sha256('missing'), ctx()),
      ).rejects.toThrowWithCode(VerificationError, 'NO_TRUST_DATA');
    });

    it('fetches a blob checked against its descriptor', async () => {
      const img = await pushImage(reg.url, 'demo/blob', 'v1');
      const manifest = JSON.parse(Buffer.from(img.manifestBytes).toString()) as {
        config: { mediaType: string; digest: string; size: number };
      };
      const blob = await client.fetchBlob(name('demo/blob'), manifest.config, 1024, ctx());
      expect(sha256(blob)).toBe(manifest.config.digest);
      await expect(
        client.fetchBlob(name('demo/blob'), manifest.config, manifest.config.size - 1, ctx()),
      ).rejects.toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
    });

    it('finds a Notation signature through the sha256-<hex> tag fallback (no referrers API here)', async () => {
      const img = await pushImage(reg.url, 'demo/signed', 'v1');
      const sig1 = await pushNotationSignatureStub(reg.url, 'demo/signed', img);
      const sig2 = await pushNotationSignatureStub(reg.url, 'demo/signed', img);
      const found = await client.listReferrers(
        name('demo/signed'),
        img.digest,
        NOTATION_SIGNATURE,
        ctx(),
      );
      expect(found.map((d) => d.digest)).toEqual([sig1.digest, sig2.digest]);
      expect(found[0]).toMatchObject({ artifactType: NOTATION_SIGNATURE, size: sig1.size });
      expect(
        await client.listReferrers(
          name('demo/signed'),
          img.digest,
          'application/vnd.example.sbom',
          ctx(),
        ),
      ).toEqual([]);
      const sigManifest = await client.fetchManifest(name('demo/signed'), sig1.digest, ctx());
      expect(Buffer.from(sigManifest.bytes).equals(Buffer.from(sig1.manifestBytes))).toBe(true);
    });

    it('lists no referrers for an unsigned image', async () => {
      const img = await pushImage(reg.url, 'demo/unsigned', 'v1');
      expect(
        await client.listReferrers(name('demo/unsigned'), img.digest, NOTATION_SIGNATURE, ctx()),
      ).toEqual([]);
    });

    it('lists tags without the sha256-* referrers tags', async () => {
      const img = await pushImage(reg.url, 'demo/tags', 'v1');
      await pushImage(reg.url, 'demo/tags', 'v2');
      await pushNotationSignatureStub(reg.url, 'demo/tags', img);
      expect([...(await client.listTags(name('demo/tags'), ctx()))].sort()).toEqual(['v1', 'v2']);
      expect(await client.listTags(name('demo/none'), ctx())).toEqual([]);
    });
  });

  describe('when the registry requires htpasswd (Basic) auth', () => {
    let reg: RegistryHandle;
    beforeAll(async () => {
      reg = await startRegistry({ mode: 'htpasswd', users: { alice: 'wonderland' } });
    });
    afterAll(async () => {
      await reg?.stop();
    });

    it('resolves and fetches with credentials from a dockerconfigjson pull secret', async () => {
      const img = await pushImage(reg.url, 'private/app', 'v1', { auth: reg.admin! });
      const creds = pullSecret(reg.host, 'alice', 'wonderland');
      const name = { registry: reg.host, repository: 'private/app' };
      expect((await client.resolveTag(name, 'v1', ctx(creds)))?.digest).toBe(img.digest);
      expect((await client.fetchManifest(name, img.digest, ctx(creds))).descriptor.digest).toBe(
        img.digest,
      );
    });

    it('fails with TRUST_SOURCE_UNAVAILABLE naming the fix when there are no credentials', async () => {
      await pushImage(reg.url, 'private/anon', 'v1', { auth: reg.admin! });
      const p = client.resolveTag({ registry: reg.host, repository: 'private/anon' }, 'v1', ctx());
      await expect(p).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
      await expect(
        client.resolveTag({ registry: reg.host, repository: 'private/anon' }, 'v1', ctx()),
      ).rejects.toThrow(
        `registry ${reg.host} refused access to private/anon (401): add an imagePullSecret`,
      );
    });

    it('says the credentials were rejected when the password is wrong, without echoing it', async () => {
      await pushImage(reg.url, 'private/wrong', 'v1', { auth: reg.admin! });
      const creds = pullSecret(reg.host, 'alice', 'not-the-password');
      const err = await client
        .fetchManifest({ registry: reg.host, repository: 'private/wrong' }, 'v1', ctx(creds))
        .catch((e: unknown) => e);
      expect(err).toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
      expect((err as Error).message).toMatch(/credentials found for .* were rejected/);
      expect((err as Error).message).not.toContain('not-the-password');
    });
  });

  describe('when the registry uses token auth with our issuer', () => {
    let reg: RegistryHandle;
    beforeAll(async () => {
      reg = await startRegistry({
        mode: 'token',
        users: { bob: 'builder' },
        issuer: { identityTokens: { 'refresh-123': 'bob' } },
      });
    });
    afterAll(async () => {
      await reg?.stop();
    });

    it('gets a pull token with the pull secret and reuses it for the next calls', async () => {
      const img = await pushImage(reg.url, 'team/app', 'v1', { auth: reg.admin! });
      const tokenClient = new OciClient({ dispatchers: pool });
      const creds = pullSecret(reg.host, 'bob', 'builder');
      const name = { registry: reg.host, repository: 'team/app' };
      const before = reg.issuer!.hits();
      expect((await tokenClient.resolveTag(name, 'v1', ctx(creds)))?.digest).toBe(img.digest);
      expect(reg.issuer!.hits()).toBe(before + 1);
      const last = reg.issuer!.requests().at(-1)!;
      expect(last).toMatchObject({
        user: 'bob',
        service: reg.issuer!.service,
        scopes: ['repository:team/app:pull'],
      });
      await tokenClient.fetchManifest(name, img.digest, ctx(creds));
      await tokenClient.resolveTag(name, 'v1', ctx(creds));
      expect(reg.issuer!.hits()).toBe(before + 1);
    });

    it('uses a docker identitytoken as an OAuth2 refresh token', async () => {
      const img = await pushImage(reg.url, 'team/oauth', 'v1', { auth: reg.admin! });
      const creds = parseDockerConfig({
        auths: { [`http://${reg.host}`]: { identitytoken: 'refresh-123' } },
      });
      const desc = await new OciClient({ dispatchers: pool }).resolveTag(
        { registry: reg.host, repository: 'team/oauth' },
        'v1',
        ctx(creds),
      );
      expect(desc?.digest).toBe(img.digest);
      expect(reg.issuer!.requests().at(-1)).toMatchObject({
        method: 'POST',
        grantType: 'refresh_token',
        user: 'bob',
      });
    });

    it('fails with TRUST_SOURCE_UNAVAILABLE when the anonymous token grants nothing', async () => {
      await pushImage(reg.url, 'team/closed', 'v1', { auth: reg.admin! });
      await expect(
        client.resolveTag({ registry: reg.host, repository: 'team/closed' }, 'v1', ctx()),
      ).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
    });

    it('fails with TRUST_SOURCE_UNAVAILABLE when the token service refuses the credentials', async () => {
      const creds = pullSecret(reg.host, 'bob', 'wrong');
      await expect(
        client.resolveTag({ registry: reg.host, repository: 'team/app' }, 'v1', ctx(creds)),
      ).rejects.toThrow(/token service .* refused/);
    });
  });

  describe('when a fake registry misbehaves', () => {
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {},
        layers: [],
      }),
    );
    const digest = sha256(manifest);
    let fake: FakeRegistry | undefined;
    afterAll(async () => {
      await fake?.stop();
    });
    async function use(handler: Parameters<typeof startFakeRegistry>[0]): Promise<FakeRegistry> {
      await fake?.stop();
      fake = await startFakeRegistry(handler);
      return fake;
    }

    it('rejects a body that does not hash to the requested digest with DIGEST_MISMATCH naming both', async () => {
      const f = await use((_req, res) => {
        res
          .writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })
          .end(Buffer.concat([manifest, Buffer.from(' ')]));
      });
      const err = await client
        .fetchManifest({ registry: f.host, repository: 'lie/app' }, digest, ctx())
        .catch((e: unknown) => e);
      expect(err).toThrowWithCode(VerificationError, 'DIGEST_MISMATCH');
      expect((err as Error).message).toContain(digest);
      expect((err as Error).message).toContain(sha256(Buffer.concat([manifest, Buffer.from(' ')])));
    });

    it('rejects a Docker-Content-Digest header that lies about the body', async () => {
      const f = await use((_req, res) => {
        res
          .writeHead(200, {
            'content-type': 'application/vnd.oci.image.manifest.v1+json',
            'docker-content-digest': sha256('other'),
          })
          .end(manifest);
      });
      await expect(
        client.fetchManifest({ registry: f.host, repository: 'lie/app' }, 'v1', ctx()),
      ).rejects.toThrowWithCode(VerificationError, 'DIGEST_MISMATCH');
    });

    it.each([429, 503])('retries after a %i and returns the manifest', async (status) => {
      const f = await use((_req, res, n) => {
        if (n === 1) return void res.writeHead(status, { 'retry-after': '0' }).end('busy');
        res
          .writeHead(200, {
            'content-type': 'application/vnd.oci.image.manifest.v1+json',
            'docker-content-digest': digest,
          })
          .end(manifest);
      });
      const got = await client.fetchManifest(
        { registry: f.host, repository: 'busy/app' },
        digest,
        ctx(),
      );
      expect(got.descriptor.digest).toBe(digest);
      expect(f.requests()).toHaveLength(2);
    });

    it('gives up with TIMEOUT when the registry hangs past the deadline', async () => {
      const f = await use(() => {
        // never answer
      });
      await expect(
        client.resolveTag({ registry: f.host, repository: 'slow/app' }, 'v1', ctx(undefined, 300)),
      ).rejects.toThrowWithCode(InconclusiveError, 'TIMEOUT');
    });

    it("says TIMEOUT, not unreachable, when undici's own deadline timer fires first", async () => {
      const f = await use(() => {
        // never answer
      });
      // The request's signal has not aborted yet (its timer lost the race by a few ms): undici's
      // headers timeout, set to the time left, is then what ends the wait.
      const deadline = { signal: new AbortController().signal, expiresAt: Date.now() + 300 };
      await expect(
        client.resolveTag({ registry: f.host, repository: 'slow/app' }, 'v1', { deadline }),
      ).rejects.toThrowWithCode(InconclusiveError, 'TIMEOUT');
    });

    it('refuses a manifest over LIMITS.maxManifestBytes with LIMIT_EXCEEDED (docker-registry itself refuses to store one)', async () => {
      const huge = Buffer.alloc(LIMITS.maxManifestBytes + 1, 0x20);
      const f = await use((req, res) => {
        const declared = req.url?.includes('declared');
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          ...(declared
            ? { 'content-length': String(huge.byteLength), 'docker-content-digest': sha256(huge) }
            : {}),
        });
        res.end(req.method === 'HEAD' ? undefined : huge);
      });
      const name = { registry: f.host, repository: 'huge/app' };
      await expect(client.fetchManifest(name, 'chunked', ctx())).rejects.toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
      await expect(client.fetchManifest(name, 'declared', ctx())).rejects.toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
      await expect(client.resolveTag(name, 'declared', ctx())).rejects.toThrowWithCode(
        InconclusiveError,
        'LIMIT_EXCEEDED',
      );
    });

    it('falls back to GET and hashes the body when HEAD has no Docker-Content-Digest', async () => {
      const f = await use((req, res) => {
        res.writeHead(200, {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'content-length': String(manifest.byteLength),
        });
        res.end(req.method === 'HEAD' ? undefined : manifest);
      });
      const desc = await client.resolveTag(
        { registry: f.host, repository: 'plain/app' },
        'v1',
        ctx(),
      );
      expect(desc).toEqual({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest,
        size: manifest.byteLength,
      });
      expect(f.requests().map((r) => r.split(' ')[0])).toEqual(['HEAD', 'GET']);
    });
  });
});
