// SPDX-License-Identifier: Apache-2.0
// The test harness itself against the real notary CLI and server: every helper the Notary v1
// integration tests rely on produces the metadata shape notes/notary-v1.md describes.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  NotaryCli,
  rootCertFromRootJson,
  startNotaryServer,
  type NotaryServerHandle,
} from '../support/notary.js';
import { editJson, flipByte, startTufProxy, tufPath, type TufProxy } from '../support/tuf-proxy.js';

interface Envelope {
  signed: {
    version: number;
    keys?: Record<string, unknown>;
    roles?: Record<string, { keyids: string[] }>;
    targets?: Record<string, { length: number; hashes: { sha256: string } }>;
    delegations?: { roles: { name: string; keyids: string[]; paths?: string[] }[] };
  };
  signatures: { keyid: string }[];
}

let server: NotaryServerHandle;
let proxy: TufProxy;
let cli: NotaryCli;

async function get(gun: string, file: string): Promise<Envelope> {
  return JSON.parse((await proxy.fetchUpstream(tufPath(gun, file))).toString('utf8')) as Envelope;
}

beforeAll(async () => {
  server = await startNotaryServer();
  proxy = await startTufProxy(server.url);
  cli = await NotaryCli.create({ server: server.url });
});

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
  await cli?.cleanup();
});

describe('notary test harness', () => {
  describe('when a repository is initialised and a tag added', () => {
    it('serves the tag Docker-style and exposes the pinned root certificate', async () => {
      const gun = 'localhost:5000/harness/basic';
      await cli.init(gun);
      await cli.addHash(gun, 'v1', 123, 'ab'.repeat(32));
      const targets = await get(gun, 'targets.json');
      expect(targets.signed.targets?.v1).toEqual({
        hashes: { sha256: Buffer.from('ab'.repeat(32), 'hex').toString('base64') },
        length: 123,
      });
      const pinned = await cli.rootCert(gun);
      const served = rootCertFromRootJson(
        (await proxy.fetchUpstream(tufPath(gun, 'root.json'))).toString('utf8'),
      );
      expect(served).toEqual(pinned);
      const root = await get(gun, 'root.json');
      const key = root.signed.keys?.[pinned.keyId] as {
        keytype: string;
        keyval: { public: string };
      };
      const canonical = `{"keytype":"${key.keytype}","keyval":{"private":null,"public":"${key.keyval.public}"}}`;
      expect(createHash('sha256').update(canonical).digest('hex')).toBe(pinned.keyId);
    });
  });

  describe('when a command fails', () => {
    it('rejects with the CLI stderr', async () => {
      await expect(cli.list('localhost:5000/harness/never-initialised')).rejects.toThrow(
        /`notary .* list localhost:5000\/harness\/never-initialised` exited with 1\nstderr:[\s\S]*does not have trust data/,
      );
    });
  });

  describe('when delegations are added', () => {
    it('writes path-restricted roles with several keys, signed by every imported key', async () => {
      const gun = 'localhost:5000/harness/deleg';
      await cli.init(gun);
      const a = await cli.makeKeyPair('harness-a');
      const b = await cli.makeKeyPair('harness-b', { type: 'rsa' });
      const qa = await cli.makeKeyPair('harness-qa');
      await cli.delegationAdd(gun, 'targets/releases', [a.certPath, b.certPath], 'all', {
        publish: false,
      });
      await cli.delegationAdd(gun, 'targets/qa', qa.certPath, ['qa-'], { publish: false });
      await cli.publish(gun);
      await cli.keyImport(a.keyPath, 'targets/releases');
      await cli.keyImport(b.keyPath, 'targets/releases');
      await cli.keyImport(qa.keyPath, 'targets/qa');
      await cli.addHash(gun, 'v1', 10, 'cd'.repeat(32), ['targets/releases']);
      await cli.addHash(gun, 'qa-1', 11, 'ef'.repeat(32), ['targets/qa']);
      await expect(cli.addHash(gun, 'v2', 12, 'ef'.repeat(32), ['targets/qa'])).rejects.toThrow(
        /Could not add all targets/,
      );
      await cli.reset(gun);
      const targets = await get(gun, 'targets.json');
      const roles = targets.signed.delegations?.roles ?? [];
      const shape = roles
        .map((r) => [r.name, r.keyids.length, r.paths])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
      expect(shape).toEqual([
        ['targets/qa', 1, ['qa-']],
        ['targets/releases', 2, ['']],
      ]);
      const releases = await get(gun, 'targets/releases.json');
      expect(releases.signatures).toHaveLength(2);
      expect(Object.keys(releases.signed.targets ?? {})).toEqual(['v1']);
      expect(Object.keys((await get(gun, 'targets/qa.json')).signed.targets ?? {})).toEqual([
        'qa-1',
      ]);
    });
  });

  describe('when keys are rotated', () => {
    it('publishes a new root for a targets rotation and a doubly signed root for a root rotation', async () => {
      const gun = 'localhost:5000/harness/rotate';
      await cli.init(gun);
      const original = await cli.rootCert(gun);
      await cli.rotate(gun, 'targets');
      await cli.rotate(gun, 'root');
      expect(await cli.rootCert(gun)).toEqual(original);
      const rotated = await cli.servedRootCert(gun);
      expect(rotated.keyId).not.toBe(original.keyId);
      const v3 = await get(gun, '3.root.json');
      expect(v3.signed.roles?.root?.keyids).toEqual([rotated.keyId]);
      expect(v3.signatures.map((s) => s.keyid).sort()).toEqual(
        [original.keyId, rotated.keyId].sort(),
      );
      await cli.witness(gun, 'targets');
      expect((await get(gun, 'targets.json')).signed.version).toBeGreaterThan(2);
    });
  });

  describe('tuf proxy', () => {
    const gun = 'localhost:5000/harness/proxy';
    const path = tufPath(gun, 'root.json');

    async function viaProxy(p: string): Promise<{ status: number; body: string }> {
      const res = await fetch(`${proxy.url}${p}`);
      return { status: res.status, body: await res.text() };
    }

    beforeAll(async () => {
      await cli.init(gun);
    });

    it('forwards untouched bytes and counts requests per path', async () => {
      proxy.resetCounts();
      const upstream = (await proxy.fetchUpstream(path)).toString('utf8');
      expect(await viaProxy(path)).toEqual({ status: 200, body: upstream });
      await viaProxy(path);
      expect(proxy.count(path)).toBe(2);
      expect(proxy.count()).toBe(2);
    });

    it('applies a rule only as often as asked, then forwards again', async () => {
      const upstream = (await proxy.fetchUpstream(path)).toString('utf8');
      proxy.on(path, { kind: 'transform', transform: (b) => flipByte(b, 0) }, { times: 1 });
      const tampered = await viaProxy(path);
      expect(tampered.body).not.toBe(upstream);
      expect(tampered.body.slice(1)).toBe(upstream.slice(1));
      expect((await viaProxy(path)).body).toBe(upstream);
    });

    it('rewrites JSON, serves fixed bytes, swaps files and fakes statuses', async () => {
      const off1 = proxy.on(path, {
        kind: 'transform',
        transform: editJson((d) => void (d.signed.version = 42)),
      });
      expect(JSON.parse((await viaProxy(path)).body).signed.version).toBe(42);
      off1();
      const off2 = proxy.on(path, { kind: 'serve', body: 'old bytes' });
      expect(await viaProxy(path)).toEqual({ status: 200, body: 'old bytes' });
      off2();
      const off3 = proxy.on(path, { kind: 'serveFrom', path: tufPath(gun, 'timestamp.json') });
      expect(JSON.parse((await viaProxy(path)).body).signed._type).toBe('Timestamp');
      off3();
      proxy.on(path, { kind: 'status', status: 503 });
      expect((await viaProxy(path)).status).toBe(503);
      proxy.clearRules();
      expect((await viaProxy(path)).status).toBe(200);
    });
  });
});
