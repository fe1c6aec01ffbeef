// SPDX-License-Identifier: Apache-2.0
// `trustgate inspect` against the REAL notary-server: signed tags, digests, roles, root key IDs,
// the trust-on-first-use warning, root pinning with --root-key, and exit codes for bad trust data.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../support/notary.js';
import { runCli, startCliWorld, type CliWorld } from './support.js';

let w: CliWorld;

beforeAll(async () => {
  w = await startCliWorld();
});

afterAll(async () => {
  await w?.stop();
});

interface InspectJson {
  gun: string;
  rootPinned: boolean;
  root: { version: number; keyIds: string[] };
  expires: string;
  signedTags: { tag: string; digest: string; length: number; roles: string[] }[];
  roles: {
    name: string;
    version: number;
    threshold: number;
    validKeyIds: string[];
    targets: number;
  }[];
  problems: unknown[];
}

describe('trustgate inspect', () => {
  describe('when no root key is given', () => {
    it('prints tags, digests, signer roles and root keys, and warns about trust on first use', async () => {
      const r = await runCli(['inspect', `${w.gun}:v1`, '--server', w.notary.url], w.dir);
      expect(r.code).toBe(0);
      const lines = r.stdout.split('\n');
      expect(lines[0]).toBe(`Signatures for ${w.gun}`);
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^v1 +${w.v1.digest} +targets$`)),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^moved +${w.v1.digest} +targets$`)),
      );
      expect(r.stdout).not.toContain('unsigned');
      expect(r.stdout).toMatch(
        /^ {2}targets {2}v\d+ {2}expires \S+ {2}threshold 1 {2}paths \(all\)$/m,
      );
      expect(r.stdout).toContain(`Root (v1) keys: ${w.pin.keyId}`);
      expect(r.stdout).toContain('WARNING: the root was trusted on first use');
    });

    it('prints the same facts as JSON', async () => {
      const r = await runCli(
        ['inspect', w.gun, '--server', w.notary.url, '--output', 'json'],
        w.dir,
      );
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as InspectJson;
      expect(out).toMatchObject({
        gun: w.gun,
        rootPinned: false,
        root: { version: 1, keyIds: [w.pin.keyId] },
        problems: [],
      });
      expect(out.signedTags).toEqual([
        { tag: 'moved', digest: w.v1.digest, length: w.v1.size, roles: ['targets'] },
        { tag: 'v1', digest: w.v1.digest, length: w.v1.size, roles: ['targets'] },
      ]);
      expect(out.roles).toEqual([
        expect.objectContaining({ name: 'targets', threshold: 1, targets: 2 }),
      ]);
      expect(Number.isNaN(Date.parse(out.expires))).toBe(false);
    });
  });

  describe('when the root key is pinned', () => {
    it('accepts a key ID and prints no warning', async () => {
      const r = await runCli(
        ['inspect', w.gun, '--server', w.notary.url, '--root-key', w.pin.keyId],
        w.dir,
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Root (v1) keys: ${w.pin.keyId}`);
      expect(r.stdout).not.toContain('WARNING');
    });

    it('accepts a PEM certificate file', async () => {
      const pem = join(w.dir, 'root.crt');
      await writeFile(pem, w.pin.pem);
      const r = await runCli(
        ['inspect', w.gun, '--server', w.notary.url, '--root-key', pem, '--output', 'json'],
        w.dir,
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ rootPinned: true });
    });

    it('exits 1 with ROOT_NOT_TRUSTED when the pin is another key', async () => {
      const r = await runCli(
        ['inspect', w.gun, '--server', w.notary.url, '--root-key', 'ab'.repeat(32)],
        w.dir,
      );
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^trustgate: ROOT_NOT_TRUSTED: /);
    });
  });

  describe('when the repository has no trust data', () => {
    it('exits 1 with NO_TRUST_DATA', async () => {
      const r = await runCli(
        ['inspect', `${w.registry.host}/cli/nothing`, '--server', w.notary.url],
        w.dir,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^trustgate: NO_TRUST_DATA: /);
    });
  });

  describe('when the notary server cannot be reached', () => {
    it('exits 3', async () => {
      const closed = await freePort();
      const r = await runCli(['inspect', w.gun, '--server', `http://127.0.0.1:${closed}`], w.dir);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^trustgate: TRUST_SOURCE_UNAVAILABLE: /);
    });
  });

  describe('when --at is past the metadata expiry', () => {
    it('exits 1 with METADATA_EXPIRED', async () => {
      const at = new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      const r = await runCli(['inspect', w.gun, '--server', w.notary.url, '--at', at], w.dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^trustgate: METADATA_EXPIRED: /);
    });
  });
});
