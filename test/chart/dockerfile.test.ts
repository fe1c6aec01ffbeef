// SPDX-License-Identifier: Apache-2.0
// Static checks of the Dockerfile (no Docker engine here): multi-stage, Node 24 bases, a numeric
// non-root USER in the final stage, node itself as the entrypoint, no HEALTHCHECK.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ROOT } from './support/chart.js';

interface Stage {
  from: string;
  name?: string;
  instructions: { op: string; args: string }[];
}

/** Parses the Dockerfile into stages (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const joined = text.replace(/\\\n/g, ' ');
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = (m[1] ?? '').toUpperCase();
    const rest = m[2] ?? '';
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest);
      const from = (f?.[1] ?? '').replace(
        /^\$\{(\w+)\}$/,
        (_s, name: string) => args[name] ?? `\${${name}}`,
      );
      stages.push({ from, ...(f?.[2] ? { name: f[2] } : {}), instructions: [] });
    } else if (op === 'ARG' && stages.length === 0) {
      const a = /^(\w+)=(\S+)$/.exec(rest);
      if (a?.[1] && a[2]) args[a[1]] = a[2];
    } else {
      stages.at(-1)?.instructions.push({ op, args: rest });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const final = dockerfile.stages.at(-1) as Stage;
const ops = (s: Stage, op: string): string[] =>
  s.instructions.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile', () => {
  describe('when parsed', () => {
    it('has a build stage and a separate runtime stage', () => {
      expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
      expect(ops(final, 'COPY').every((c) => c.startsWith('--from=') || !/\bsrc\b/.test(c))).toBe(
        true,
      );
      expect(ops(final, 'COPY').some((c) => c.startsWith('--from=build'))).toBe(true);
    });
    it('uses Node 24 for every stage', () => {
      for (const s of dockerfile.stages) expect(s.from).toMatch(/(^node:24[.-]|nodejs24)/);
    });
    it('runs the final stage on a minimal base as a numeric non-root user', () => {
      expect(final.from).toMatch(
        /^(gcr\.io\/distroless\/nodejs24-debian12|node:24-slim|node:24-bookworm-slim)/,
      );
      const users = ops(final, 'USER');
      expect(users).toHaveLength(1);
      expect(users[0]).toMatch(/^[1-9]\d*(:\d+)?$/);
    });
    it('installs only production dependencies into the runtime image', () => {
      const prodStage = dockerfile.stages.find((s) =>
        ops(s, 'RUN').some((r) => r.includes('npm ci --omit=dev')),
      );
      expect(prodStage?.name).toBeDefined();
      expect(ops(final, 'COPY')).toContain(
        `--from=${prodStage?.name ?? ''} /src/node_modules ./node_modules`,
      );
      expect(ops(final, 'RUN')).toEqual([]);
    });
    it('starts node directly (never npm or npx, which do not forward SIGTERM)', () => {
      const entry = ops(final, 'ENTRYPOINT');
      expect(entry).toHaveLength(1);
      const argv = JSON.parse(entry[0] ?? '[]') as string[];
      expect(argv[0]).toMatch(/\/node$/);
      expect(argv).toContain('/app/bin/trustgate.js');
      expect(JSON.parse(ops(final, 'CMD')[0] ?? '[]')).toEqual(['serve']);
      for (const i of [...entry, ...ops(final, 'CMD')]) expect(i).not.toMatch(/\bnpx?\b/);
    });
    it('declares no HEALTHCHECK (Kubernetes probes /healthz and /readyz)', () => {
      for (const s of dockerfile.stages) expect(ops(s, 'HEALTHCHECK')).toEqual([]);
    });
  });
});

describe('.dockerignore', () => {
  describe('when read', () => {
    it('admits only what the build needs and excludes tests', () => {
      const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '' && !l.startsWith('#'));
      expect(lines[0]).toBe('**');
      expect(lines).toEqual(
        expect.arrayContaining([
          '!package.json',
          '!package-lock.json',
          '!src/**',
          '!bin/**',
          '**/__tests__',
        ]),
      );
      expect(lines).not.toContain('!node_modules/**');
    });
  });
});
