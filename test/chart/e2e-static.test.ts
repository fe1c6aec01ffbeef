// SPDX-License-Identifier: Apache-2.0
// The kind e2e suite cannot run here (no Docker): check its scripts statically with shellcheck,
// and run `e2e/run.sh --dry-run`, which prints every command without executing any.

import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { ROOT } from './support/chart.js';

const E2E = join(ROOT, 'e2e');
const SCENARIOS = readdirSync(join(E2E, 'scenarios'))
  .filter((f) => f.endsWith('.sh'))
  .sort();
const SCRIPTS = [
  ...readdirSync(E2E)
    .filter((f) => f.endsWith('.sh'))
    .map((f) => join(E2E, f)),
  ...SCENARIOS.map((f) => join(E2E, 'scenarios', f)),
];

const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** shellcheck comes from Debian; install it when we can, otherwise say exactly what is missing. */
function ensureShellcheck(): void {
  if (has('shellcheck')) return;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new Error(
      'shellcheck is missing: install the Debian package `shellcheck` (apt-get install -y shellcheck)',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'shellcheck'], {
    stdio: 'ignore',
    env,
  });
  if (!has('shellcheck')) throw new Error('apt-get install shellcheck did not provide the binary');
}

let dryRun = { status: -1, stdout: '', stderr: '' };

beforeAll(() => {
  ensureShellcheck();
  const r = spawnSync('bash', [join(E2E, 'run.sh'), '--dry-run'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, PATH: '/usr/bin:/bin' },
  });
  dryRun = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
});

describe('e2e scripts', () => {
  describe('when checked with shellcheck', () => {
    it('report nothing', () => {
      const r = spawnSync('shellcheck', ['-x', ...SCRIPTS], { encoding: 'utf8', cwd: E2E });
      expect(r.stdout).toBe('');
      expect(r.status).toBe(0);
    });
    it('include run.sh, lib.sh and at least the five required scenarios', () => {
      expect(SCRIPTS.map((s) => s.slice(E2E.length + 1))).toEqual(
        expect.arrayContaining(['run.sh', 'lib.sh']),
      );
      expect(SCENARIOS.length).toBeGreaterThanOrEqual(5);
    });
    it('all start with set -euo pipefail', () => {
      for (const s of SCRIPTS)
        expect([s, readFileSync(s, 'utf8')]).toEqual([
          s,
          expect.stringContaining('set -euo pipefail'),
        ]);
    });
  });
});

describe('e2e/run.sh --dry-run', () => {
  describe('when run without docker, kind, helm or notary on PATH', () => {
    it('exits 0', () => {
      expect(dryRun.stderr).not.toContain('FAIL');
      expect(dryRun.status).toBe(0);
    });
    it('prints the cluster, image, signing and install commands in order', () => {
      const lines = dryRun.stdout.split('\n').filter((l) => l.startsWith('+ '));
      const order = [
        /^\+ docker run .*--name kind-registry/,
        /^\+ docker run .*--name kind-notary .*notary-server/,
        /^\+ kind create cluster --name trustgate-e2e --config \S+\/e2e\/kind-config\.yaml/,
        /^\+ docker build -t trustgate:e2e /,
        /^\+ kind load docker-image trustgate:e2e/,
        /^\+ docker push 127\.0\.0\.1:5001\/e2e\/app:signed/,
        /^\+ notary .* init kind-registry:5000\/e2e\/app$/,
        /^\+ notary .* addhash kind-registry:5000\/e2e\/app signed /,
        /^\+ notary .* publish kind-registry:5000\/e2e\/app$/,
        /^\+ helm upgrade --install trustgate \S+\/charts\/trustgate .*--wait/,
        /^\+ kubectl apply -f -$/,
        /^\+ kubectl -n e2e debug pod\/signed --image=kind-registry:5000\/e2e\/app:unsigned/,
        /^\+ kind delete cluster --name trustgate-e2e$/,
      ];
      let from = 0;
      for (const re of order) {
        const at = lines.findIndex((l, i) => i >= from && re.test(l));
        expect([re.source, at >= 0]).toEqual([re.source, true]);
        from = at + 1;
      }
    });
    it('runs every scenario, expecting denials for unsigned images on Pod, Deployment, CronJob and ephemeral containers', () => {
      for (const s of SCENARIOS)
        expect(dryRun.stderr).toContain(`scenario ${s.replace(/\.sh$/, '')}`);
      const denials = dryRun.stdout.split('\n').filter((l) => l.includes('# expect: denied'));
      expect(
        denials.filter(
          (l) => l.includes('kind-registry:5000/e2e/app:unsigned') && l.includes('TAG_NOT_SIGNED'),
        ),
      ).toHaveLength(4);
      for (const kind of ['kind: Pod', 'kind: Deployment', 'kind: CronJob'])
        expect(dryRun.stdout).toContain(kind);
    });
    it('installs a policy that pins the notary root key and treats the test registry as plain HTTP', () => {
      const start = dryRun.stdout.indexOf('values-e2e.yaml\n');
      const end = dryRun.stdout.indexOf('+ helm upgrade');
      const values = parse(
        dryRun.stdout
          .slice(start + 'values-e2e.yaml\n'.length, end)
          .split('\n')
          .map((l) => l.replace(/^ {4}/, ''))
          .join('\n'),
      ) as {
        policies: { spec: { trustSources: { notaryV1: { rootKeys: string[] } }[] } }[];
        config: unknown;
      };
      expect(values.policies[0]?.spec.trustSources[0]?.notaryV1.rootKeys).toEqual([
        '<ROOT_KEY_ID>',
      ]);
      expect(values.config).toEqual({ registry: { insecureRegistries: ['kind-registry:5000'] } });
    });
  });
  describe('when given an unknown flag', () => {
    it('fails with a usage hint', () => {
      const r = spawnSync('bash', [join(E2E, 'run.sh'), '--dry-run', '--bogus'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('unknown argument: --bogus');
    });
  });
});

describe('.github/workflows', () => {
  describe('when parsed', () => {
    it('e2e.yaml runs e2e/run.sh on push and ci.yaml runs .ci/run', () => {
      const e2e = readFileSync(join(ROOT, '.github', 'workflows', 'e2e.yaml'), 'utf8');
      const ci = readFileSync(join(ROOT, '.github', 'workflows', 'ci.yaml'), 'utf8');
      const e2eDoc = parse(e2e) as { on: Record<string, unknown> };
      const ciDoc = parse(ci) as { on: Record<string, unknown> };
      expect(Object.keys(e2eDoc.on)).toContain('push');
      expect(Object.keys(ciDoc.on)).toContain('push');
      expect(e2e).toMatch(/run: bash e2e\/run\.sh$/m);
      expect(ci).toMatch(/run: bash \.ci\/run$/m);
    });
  });
});
