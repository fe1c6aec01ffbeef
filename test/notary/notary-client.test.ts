// SPDX-License-Identifier: Apache-2.0
// NotaryClient against the REAL notary-server (through the loopback TUF proxy): served URL
// forms, 404s, and how hangs, drops, floods, refusals and dead servers map to error codes.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { InconclusiveError } from '../../src/core/errors.js';
import { DispatcherPool } from '../../src/registry/http.js';
import { NotaryClient } from '../../src/registry/notary-client.js';
import { createDeadline } from '../../src/verify/deadline.js';
import type { NotaryRoleRequest } from '../../src/verify/ports.js';
import {
  freePort,
  NotaryCli,
  startNotaryServer,
  type NotaryServerHandle,
} from '../support/notary.js';
import { startTufProxy, tufPath, type TufProxy } from '../support/tuf-proxy.js';

const GUN = 'localhost:5000/client/app';
const DIGEST = 'c'.repeat(64);

let server: NotaryServerHandle;
let proxy: TufProxy;
let cli: NotaryCli;
const pool = new DispatcherPool();
const client = new NotaryClient({ dispatchers: pool });

function req(over: Partial<NotaryRoleRequest> = {}): NotaryRoleRequest {
  return {
    server: proxy.url,
    gun: GUN,
    role: 'root',
    maxBytes: 512 * 1024,
    deadline: createDeadline(5000),
    ...over,
  };
}

function text(b: Uint8Array | null): string {
  if (b === null) throw new Error('expected bytes, got 404');
  return Buffer.from(b).toString('utf8');
}

beforeAll(async () => {
  server = await startNotaryServer();
  proxy = await startTufProxy(server.url);
  cli = await NotaryCli.create({ server: server.url });
  await cli.init(GUN);
  await cli.addHash(GUN, 'v1', 100, DIGEST);
});

afterAll(async () => {
  await pool.close();
  await proxy?.close();
  await server?.stop();
  await cli?.cleanup();
});

describe('NotaryClient with a real notary-server', () => {
  describe('when the repository is published', () => {
    it('fetches root.json and the same bytes as 1.root.json', async () => {
      const root = text(await client.fetchRole(req()));
      expect(JSON.parse(root).signed._type).toBe('Root');
      expect(text(await client.fetchRole(req({ version: 1 })))).toBe(root);
    });

    it('fetches snapshot and targets by the checksums the timestamp and snapshot name', async () => {
      const ts = JSON.parse(text(await client.fetchRole(req({ role: 'timestamp' })))) as {
        signed: { meta: { snapshot: { hashes: { sha256: string } } } };
      };
      const snapSha = Buffer.from(ts.signed.meta.snapshot.hashes.sha256, 'base64').toString('hex');
      const snapBytes = await client.fetchRole(req({ role: 'snapshot', sha256: snapSha }));
      expect(createHash('sha256').update(snapBytes!).digest('hex')).toBe(snapSha);
      const snap = JSON.parse(text(snapBytes)) as {
        signed: { meta: { targets: { hashes: { sha256: string } } } };
      };
      const targetsSha = Buffer.from(snap.signed.meta.targets.hashes.sha256, 'base64').toString(
        'hex',
      );
      const targets = JSON.parse(
        text(await client.fetchRole(req({ role: 'targets', sha256: targetsSha }))),
      ) as {
        signed: { targets: Record<string, { length: number }> };
      };
      expect(targets.signed.targets.v1?.length).toBe(100);
    });

    it('only ever sends GET (notary answers HEAD with 404)', async () => {
      proxy.resetCounts();
      await client.fetchRole(req({ role: 'timestamp' }));
      await client.fetchRole(req({ version: 1 }));
      expect(proxy.requests()).toEqual([
        { method: 'GET', path: tufPath(GUN, 'timestamp.json') },
        { method: 'GET', path: tufPath(GUN, '1.root.json') },
      ]);
    });
  });

  describe('when the metadata does not exist', () => {
    it('returns null for an unknown GUN', async () => {
      await expect(
        client.fetchRole(req({ gun: 'localhost:5000/client/none' })),
      ).resolves.toBeNull();
    });

    it('returns null for a root version that was never published', async () => {
      await expect(client.fetchRole(req({ version: 9 }))).resolves.toBeNull();
    });

    it('returns null for a checksum that matches nothing', async () => {
      await expect(
        client.fetchRole(req({ role: 'targets', sha256: '0'.repeat(64) })),
      ).resolves.toBeNull();
    });
  });

  describe('when the server misbehaves', () => {
    it('throws TIMEOUT within the deadline when the server hangs', async () => {
      const off = proxy.on(tufPath(GUN, 'root.json'), { kind: 'hang' });
      try {
        await expect(
          client.fetchRole(req({ deadline: createDeadline(300) })),
        ).rejects.toThrowWithCode(InconclusiveError, 'TIMEOUT');
      } finally {
        off();
      }
    });

    it('throws LIMIT_EXCEEDED for a declared oversized body', async () => {
      const off = proxy.on(tufPath(GUN, 'timestamp.json'), {
        kind: 'oversize',
        bytes: 1024 * 1024,
      });
      try {
        await expect(
          client.fetchRole(req({ role: 'timestamp', maxBytes: 16 * 1024 })),
        ).rejects.toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
      } finally {
        off();
      }
    });

    it('throws LIMIT_EXCEEDED for a chunked oversized body', async () => {
      const off = proxy.on(tufPath(GUN, 'timestamp.json'), {
        kind: 'oversize',
        bytes: 1024 * 1024,
        chunked: true,
      });
      try {
        await expect(
          client.fetchRole(req({ role: 'timestamp', maxBytes: 16 * 1024 })),
        ).rejects.toThrowWithCode(InconclusiveError, 'LIMIT_EXCEEDED');
      } finally {
        off();
      }
    });

    it('throws TRUST_SOURCE_UNAVAILABLE when the connection drops mid-body', async () => {
      const off = proxy.on(tufPath(GUN, 'root.json'), { kind: 'drop' });
      try {
        await expect(client.fetchRole(req())).rejects.toThrowWithCode(
          InconclusiveError,
          'TRUST_SOURCE_UNAVAILABLE',
        );
      } finally {
        off();
      }
    });

    it('throws TRUST_SOURCE_UNAVAILABLE naming the status for 401', async () => {
      const off = proxy.on(tufPath(GUN, 'root.json'), { kind: 'status', status: 401 });
      try {
        const p = client.fetchRole(req());
        await expect(p).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
        await expect(p).rejects.toThrow(/HTTP 401/);
      } finally {
        off();
      }
    });

    it('throws TRUST_SOURCE_UNAVAILABLE when nothing listens', async () => {
      const port = await freePort();
      await expect(
        client.fetchRole(req({ server: `http://127.0.0.1:${port}` })),
      ).rejects.toThrowWithCode(InconclusiveError, 'TRUST_SOURCE_UNAVAILABLE');
    });
  });
});
