// SPDX-License-Identifier: Apache-2.0
// `trustgate verify` end to end against the REAL notary-server and docker-registry: exit codes
// 0/1/2/3, the SPEC §5 JSON shape, `--at`, `--no-registry`, and the built binary as a child process.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, startCliWorld, type CliWorld } from './support.js';

let w: CliWorld;

beforeAll(async () => {
  w = await startCliWorld();
});

afterAll(async () => {
  await w?.stop();
});

interface JsonResult {
  image: string;
  digest: string | null;
  allowed: boolean;
  reasons: { code: string; message: string; policy: string | null }[];
}

function results(stdout: string): JsonResult[] {
  return (JSON.parse(stdout) as { results: JsonResult[] }).results;
}

describe('trustgate verify', () => {
  describe('when the tag is signed and served with the signed digest', () => {
    it('exits 0 and prints exactly the SPEC JSON shape', async () => {
      const image = `${w.gun}:v1`;
      const r = await runCli(
        ['verify', image, '--policy', w.policyFile, '--output', 'json'],
        w.dir,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        results: [{ image, digest: w.v1.digest, allowed: true, reasons: [] }],
      });
    });

    it('prints a text verdict by default', async () => {
      const r = await runCli(['verify', `${w.gun}:v1`, '--policy', w.policyFile], w.dir);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`ALLOWED ${w.gun}:v1 ${w.v1.digest} (ClusterTrustPolicy/cli-test)\n`);
    });

    it('accepts the image by digest too', async () => {
      const image = `${w.gun}@${w.v1.digest}`;
      const r = await runCli(
        ['verify', image, '--policy', w.policyFile, '--output', 'json'],
        w.dir,
      );
      expect(r.code).toBe(0);
      expect(results(r.stdout)[0]).toMatchObject({ image, allowed: true, digest: w.v1.digest });
    });
  });

  describe('when the tag is not signed', () => {
    it('exits 1 with TAG_NOT_SIGNED naming the policy', async () => {
      const image = `${w.gun}:unsigned`;
      const r = await runCli(
        ['verify', image, '--policy', w.policyFile, '--output', 'json'],
        w.dir,
      );
      expect(r.code).toBe(1);
      expect(results(r.stdout)).toEqual([
        {
          image,
          digest: null,
          allowed: false,
          reasons: [
            {
              code: 'TAG_NOT_SIGNED',
              message: expect.stringContaining('unsigned'),
              policy: 'ClusterTrustPolicy/cli-test',
            },
          ],
        },
      ]);
    });

    it('exits 1 when one of several images is denied, with one result per image', async () => {
      const r = await runCli(
        [
          'verify',
          `${w.gun}:v1`,
          `${w.gun}:unsigned`,
          '--policy',
          w.policyFile,
          '--output',
          'json',
        ],
        w.dir,
      );
      expect(r.code).toBe(1);
      expect(results(r.stdout).map((x) => x.allowed)).toEqual([true, false]);
    });
  });

  describe('when the registry serves another digest than the signed one', () => {
    it('exits 1 with DIGEST_MISMATCH naming both digests', async () => {
      const r = await runCli(
        ['verify', `${w.gun}:moved`, '--policy', w.policyFile, '--output', 'json'],
        w.dir,
      );
      expect(r.code).toBe(1);
      const [res] = results(r.stdout);
      expect(res!.reasons.map((x) => x.code)).toEqual(['DIGEST_MISMATCH']);
      expect(res!.reasons[0]!.message).toContain(w.v1.digest);
      expect(res!.reasons[0]!.message).toContain(w.moved.digest);
    });

    it('exits 0 with --no-registry, which skips the registry cross-check', async () => {
      const r = await runCli(
        ['verify', `${w.gun}:moved`, '--policy', w.policyFile, '--output', 'json', '--no-registry'],
        w.dir,
      );
      expect(r.code).toBe(0);
      expect(results(r.stdout)[0]).toMatchObject({ allowed: true, digest: w.v1.digest });
    });
  });

  describe('when the notary server cannot be reached', () => {
    it('exits 3 with TRUST_SOURCE_UNAVAILABLE', async () => {
      const r = await runCli(
        ['verify', `${w.gun}:v1`, '--policy', w.unreachablePolicyFile, '--output', 'json'],
        w.dir,
      );
      expect(r.code).toBe(3);
      expect(results(r.stdout)[0]!.reasons.map((x) => x.code)).toEqual([
        'TRUST_SOURCE_UNAVAILABLE',
      ]);
    });
  });

  describe('when --at is past the metadata expiry', () => {
    // The real server signed its timestamp just now, valid for 14 days (notary's default);
    // the root certificate stays valid for 10 years, so a month ahead only the metadata has expired.
    const at = (): string =>
      new Date(Date.now() + 30 * 24 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

    it('exits 1 with METADATA_EXPIRED', async () => {
      const r = await runCli(
        ['verify', `${w.gun}:v1`, '--policy', w.policyFile, '--output', 'json', '--at', at()],
        w.dir,
      );
      expect(r.code).toBe(1);
      const [res] = results(r.stdout);
      expect(res!.reasons.map((x) => x.code)).toEqual(['METADATA_EXPIRED']);
      expect(res!.reasons[0]!.message).toMatch(/expired/);
    });

    it('exits 1 with ROOT_NOT_TRUSTED once even the root certificate has expired', async () => {
      const r = await runCli(
        [
          'verify',
          `${w.gun}:v1`,
          '--policy',
          w.policyFile,
          '--output',
          'json',
          '--at',
          '2100-01-01T00:00:00Z',
        ],
        w.dir,
      );
      expect(r.code).toBe(1);
      expect(results(r.stdout)[0]!.reasons.map((x) => x.code)).toEqual(['ROOT_NOT_TRUSTED']);
    });

    it('exits 2 for an --at that is not a real instant', async () => {
      const r = await runCli(
        ['verify', `${w.gun}:v1`, '--policy', w.policyFile, '--at', '2027-02-29T00:00:00Z'],
        w.dir,
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--at must be an RFC 3339 instant');
    });
  });

  describe('when the policy file is invalid', () => {
    it('exits 2 and prints file:line: path: message', async () => {
      const bad = join(w.dir, 'bad-policy.yaml');
      await writeFile(
        bad,
        [
          'apiVersion: trustgate.dev/v1alpha1',
          'kind: ClusterTrustPolicy',
          'metadata: { name: bad }',
          'spec:',
          `  images: ['${w.registry.host}/cli/*']`,
          '  trustSources:',
          '    - name: dct',
          '      notaryV1:',
          `        server: ${w.notary.url}`,
          "        rootKeys: ['not-a-key']",
          '',
        ].join('\n'),
      );
      const r = await runCli(['verify', `${w.gun}:v1`, '--policy', bad], w.dir);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`  ${bad}:10: spec.trustSources[0].notaryV1.rootKeys[0]: `);
    });
  });

  describe('when run as the installed binary', () => {
    it('exits 0 and prints the same JSON', async () => {
      const image = `${w.gun}:v1`;
      const bin = join(process.cwd(), 'bin', 'trustgate.js');
      const child = spawn(
        process.execPath,
        [bin, 'verify', image, '--policy', w.policyFile, '--output', 'json'],
        {
          env: { PATH: process.env['PATH'] ?? '', HOME: w.dir },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(stdout)).toEqual({
        results: [{ image, digest: w.v1.digest, allowed: true, reasons: [] }],
      });
    });

    it('exits with the usage code for an unknown command', async () => {
      const bin = join(process.cwd(), 'bin', 'trustgate.js');
      const child = spawn(process.execPath, [bin, 'frobnicate'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(code).toBe(2);
      expect(stderr).toContain('unknown command "frobnicate"');
    });
  });
});
