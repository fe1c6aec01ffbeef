// SPDX-License-Identifier: Apache-2.0
// The CLI dispatcher with injected streams: help, usage errors, configuration errors and exit codes.
// Only cases that need no network live here; the real notary/registry runs are in test/cli/.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { reviewFor } from '../__fixtures__/admission/factory.js';
import { main, USAGE } from '../main.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

async function run(
  argv: string[],
  stdin: Readable = Readable.from([]),
  isTTY = false,
): Promise<Run> {
  const out = sink();
  const err = sink();
  const code = await main(
    argv,
    { HOME: dir },
    { stdout: out.stream, stderr: err.stream, stdin, isTTY },
  );
  return { code, stdout: out.text(), stderr: err.text() };
}

const here = new URL('.', import.meta.url).pathname;
const POLICIES = join(here, '..', '..', 'policies');
let dir: string;
let broken: string;
let exempt: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trustgate-main-'));
  broken = join(dir, 'broken.yaml');
  await writeFile(
    broken,
    [
      'apiVersion: trustgate.dev/v1alpha1',
      'kind: ClusterTrustPolicy',
      'metadata: { name: broken }',
      'spec:',
      "  images: ['registry.example.com/**']",
      '  mode: enforcing',
      '',
    ].join('\n'),
  );
  exempt = join(dir, 'exempt.yaml');
  await writeFile(
    exempt,
    [
      'apiVersion: trustgate.dev/v1alpha1',
      'kind: ClusterTrustPolicy',
      'metadata: { name: exempt }',
      'spec:',
      "  images: ['registry.example.com/tools/*']",
      '  requireSignatures: false',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('main', () => {
  describe('when asked for help', () => {
    it.each(['help', '--help', '-h'])(
      'prints the usage on stdout and exits 0 (%s)',
      async (arg) => {
        const r = await run([arg]);
        expect(r).toEqual({ code: 0, stdout: USAGE, stderr: '' });
      },
    );
  });

  describe('when no command is given', () => {
    it('prints the usage on stderr and exits 2', async () => {
      const r = await run([]);
      expect(r).toEqual({ code: 2, stdout: '', stderr: USAGE });
    });
  });

  describe('when the command is unknown', () => {
    it('exits 2 naming the command', async () => {
      const r = await run(['verfy', 'nginx']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('unknown command "verfy"');
      expect(r.stdout).toBe('');
    });
  });

  describe('when sign is asked for', () => {
    it('exits 2 and says which tool signs instead', async () => {
      const r = await run(['sign', 'img', '--key', 'k.pem']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^trustgate: trustgate sign is not available.*notation CLI/);
    });
  });

  describe('when serve is used wrongly', () => {
    it('exits 2 before starting anything', async () => {
      const r = await run(['serve', '--bogus']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^trustgate: unknown option --bogus/);
      expect(r.stdout).toBe('');
    });
  });

  describe('when verify is used wrongly', () => {
    it.each<[string, string[], RegExp]>([
      ['no image', ['verify', '--policy', 'x'], /verify needs at least one IMAGE/],
      ['no --policy', ['verify', 'nginx'], /--policy PATH is required/],
      ['an unknown flag', ['verify', 'nginx', '--polcy', 'x'], /unknown option --polcy/],
      ['a bad --output', ['verify', 'nginx', '--output', 'yaml'], /--output must be text or json/],
      [
        'a bad --at',
        ['verify', 'nginx', '--policy', 'x', '--at', 'yesterday'],
        /--at must be an RFC 3339 instant/,
      ],
      [
        'a missing policy path',
        ['verify', 'nginx', '--policy', '/nonexistent/p.yaml'],
        /cannot read policy path/,
      ],
    ])('exits 2 for %s', async (_what, argv, message) => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });
  });

  describe('when the policy path holds no policies', () => {
    it('exits 2 naming the path', async () => {
      const empty = await mkdtemp(join(dir, 'empty-'));
      const r = await run(['verify', 'nginx', '--policy', empty]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`no policies found in ${empty}`);
    });
  });

  describe('when the policy file is invalid', () => {
    it('exits 2 and prints file:line: path: message', async () => {
      const r = await run(['verify', 'registry.example.com/a/b:1', '--policy', broken]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`invalid policy in ${broken}`);
      expect(r.stderr).toMatch(
        new RegExp(`  ${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6: spec\\.mode: .+`),
      );
    });
  });

  describe('when the config file is invalid', () => {
    it('exits 2 and prints each field path', async () => {
      const cfg = join(dir, 'bad-config.yaml');
      await writeFile(cfg, 'failureAction: maybe\ncache:\n  maxTTL: 3\n');
      const r = await run(['verify', 'nginx', '--policy', POLICIES, '--config', cfg]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${cfg}: failureAction: must be "deny" or "allow"`);
      expect(r.stderr).toContain(`${cfg}: cache.maxTTL: unknown setting`);
    });

    it('exits 2 when the config file is not YAML', async () => {
      const cfg = join(dir, 'not-yaml.yaml');
      await writeFile(cfg, 'cache: [unclosed\n');
      const r = await run(['verify', 'nginx', '--policy', POLICIES, '--config', cfg]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`config ${cfg} is not valid YAML`);
    });

    it('exits 2 when the config file does not exist', async () => {
      const r = await run([
        'verify',
        'nginx',
        '--policy',
        POLICIES,
        '--config',
        join(dir, 'nope.yaml'),
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('cannot read config');
    });
  });

  describe('when verify needs no trust source', () => {
    it('exits 1 with NO_MATCHING_POLICY for an image no policy covers', async () => {
      const r = await run([
        'verify',
        'quay.io/nobody/app:1',
        '--policy',
        exempt,
        '--no-registry',
        '--output',
        'json',
      ]);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toEqual({
        results: [
          {
            image: 'quay.io/nobody/app:1',
            digest: null,
            allowed: false,
            reasons: [
              {
                code: 'NO_MATCHING_POLICY',
                message: expect.stringContaining('quay.io/nobody/app:1'),
                policy: null,
              },
            ],
          },
        ],
      });
    });

    it('exits 0 for an image a requireSignatures: false policy exempts', async () => {
      const r = await run([
        'verify',
        'registry.example.com/tools/jq:1',
        '--policy',
        exempt,
        '--no-registry',
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('ALLOWED registry.example.com/tools/jq:1');
      expect(r.stdout).toContain('audit: SIGNATURES_NOT_REQUIRED');
    });

    it('reports progress on stderr when it is a terminal, keeping stdout the same', async () => {
      const argv = [
        'verify',
        'registry.example.com/tools/jq:1',
        '--policy',
        exempt,
        '--no-registry',
      ];
      const quiet = await run(argv);
      const tty = await run(argv, Readable.from([]), true);
      expect(quiet.stderr).toBe('');
      expect(tty.stderr).toBe('verifying 1 image(s)…\n');
      expect(tty.stdout).toBe(quiet.stdout);
      expect(tty.code).toBe(0);
    });

    it('exits 1 for an invalid image reference', async () => {
      const r = await run([
        'verify',
        'UPPER/Case:tag',
        '--policy',
        exempt,
        '--no-registry',
        '--output',
        'json',
      ]);
      expect(r.code).toBe(1);
      const out = JSON.parse(r.stdout) as { results: { reasons: { code: string }[] }[] };
      expect(out.results[0]!.reasons[0]!.code).toBe('INVALID_IMAGE_REFERENCE');
    });
  });

  describe('when review reads stdin', () => {
    it('exits 2 for a body that is not an AdmissionReview', async () => {
      const r = await run(
        ['review', '-', '--policy', exempt, '--no-registry'],
        Readable.from([Buffer.from('{"kind":"Pod"}')]),
      );
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ code: 'BAD_REQUEST' });
    });

    it('exits 0 for an allowed review and echoes the uid', async () => {
      const obj = reviewFor('pod', undefined, { uid: 'uid-main-1' });
      const pod = (obj['request'] as { object: { spec: { containers: { image: string }[] } } })
        .object;
      pod.spec.containers[0]!.image = 'registry.example.com/tools/jq:1';
      const r = await run(
        ['review', '-', '--policy', exempt, '--no-registry'],
        Readable.from([Buffer.from(JSON.stringify(obj))]),
      );
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        response: { uid: 'uid-main-1', allowed: true },
      });
    });

    it('never throws when stdin fails', async () => {
      const failing = new Readable({
        read() {
          this.destroy(new Error('stdin broke'));
        },
      });
      const r = await run(['review', '-', '--policy', exempt, '--no-registry'], failing);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('stdin broke');
    });
  });

  describe('when policy is used wrongly', () => {
    it.each<[string[], RegExp]>([
      [['policy'], /policy needs a subcommand/],
      [['policy', 'lint', 'x'], /policy needs a subcommand/],
      [['policy', 'constructor'], /policy needs a subcommand/],
      [['policy', 'validate'], /policy validate needs at least one FILE/],
      [['policy', 'convert'], /policy convert needs exactly one FILE/],
      [['policy', 'convert', 'a', 'b'], /policy convert needs exactly one FILE/],
      [['policy', 'validate', '--strict', 'x'], /unknown option --strict/],
    ])('exits 2 for %j', async (argv, message) => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  });

  describe('when inspect is used wrongly', () => {
    it.each<[string[], RegExp]>([
      [['inspect'], /exactly one IMAGE/],
      [['inspect', 'a', 'b', '--server', 'http://127.0.0.1:1'], /exactly one IMAGE/],
      [['inspect', 'a'], /inspect needs --server URL/],
      [
        ['inspect', 'a', '--server', 'http://127.0.0.1:1', '--root-key', '/nonexistent.pem'],
        /not a 64-hex key ID and not a readable PEM file/,
      ],
      [
        ['inspect', 'a', '--server', 'https://127.0.0.1:1', '--ca-bundle', '/nonexistent/ca.pem'],
        /cannot read --ca-bundle \/nonexistent\/ca\.pem/,
      ],
    ])('exits 2 for %j', async (argv, message) => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  });
});
