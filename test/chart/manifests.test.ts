// SPDX-License-Identifier: Apache-2.0
// manifests/trustgate.yaml must equal a fresh `helm template` (scripts/render-manifests.js), apart
// from generated certificate material; and it must be a valid, apply-able set of objects.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ROOT, ensureHelm, parseObjects } from './support/chart.js';
import { validateObjects } from './support/validate.js';

const SCRIPT = join(ROOT, 'scripts', 'render-manifests.js');
const MANIFEST = join(ROOT, 'manifests', 'trustgate.yaml');
let work = '';

beforeAll(() => {
  ensureHelm();
  work = mkdtempSync(join(tmpdir(), 'trustgate-manifests-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function check(file: string): { status: number; stderr: string } {
  const r = spawnSync(process.execPath, [SCRIPT, '--check', '--out', file], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status ?? -1, stderr: r.stderr };
}

describe('manifests/trustgate.yaml', () => {
  describe('when compared with a fresh render of the chart', () => {
    it('has not drifted (run node scripts/render-manifests.js after chart changes)', () => {
      const r = check(MANIFEST);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  });

  describe('when a rendered line is edited', () => {
    it('is reported as drift with the line number', () => {
      const copy = join(work, 'edited.yaml');
      writeFileSync(
        copy,
        readFileSync(MANIFEST, 'utf8').replace('failurePolicy: Fail', 'failurePolicy: Ignore'),
      );
      const r = check(copy);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/has drifted from helm template at line \d+/);
    });
  });

  describe('when only generated certificate material differs', () => {
    it('is not reported as drift', () => {
      const copy = join(work, 'regenerated.yaml');
      copyFileSync(MANIFEST, copy);
      const text = readFileSync(copy, 'utf8');
      // Simulate a Helm-generated-cert render: a caBundle line the normaliser must ignore.
      writeFileSync(copy, text.replace(/^(\s*)caBundle: .+$/gm, '$1caBundle: Zm9v'));
      expect(check(copy).status).toBe(0);
    });
  });

  describe('when parsed', () => {
    const objs = parseObjects(readFileSync(MANIFEST, 'utf8'));

    it('contains only valid objects, starting with the Namespace and the CRDs', () => {
      expect(validateObjects(objs)).toEqual([]);
      expect(objs[0]?.kind).toBe('Namespace');
      const firstOther = objs.findIndex(
        (o) => o.kind !== 'Namespace' && o.kind !== 'CustomResourceDefinition',
      );
      expect(objs.slice(firstOther).some((o) => o.kind === 'CustomResourceDefinition')).toBe(false);
    });
    it('commits no private key (certificates come from cert-manager)', () => {
      expect(objs.some((o) => o.kind === 'Secret')).toBe(false);
      expect(readFileSync(MANIFEST, 'utf8')).not.toContain('PRIVATE KEY');
      const vwc = objs.find((o) => o.kind === 'ValidatingWebhookConfiguration');
      expect(vwc?.metadata.annotations?.['cert-manager.io/inject-ca-from']).toBe(
        'trustgate/trustgate-serving',
      );
    });
  });
});

describe('scripts/render-manifests.js', () => {
  describe('when asked to write to a new file', () => {
    it('writes what --check then accepts', () => {
      const out = join(work, 'fresh.yaml');
      execFileSync(process.execPath, [SCRIPT, '--out', out], { stdio: 'ignore', timeout: 60_000 });
      expect(check(out).status).toBe(0);
    });
  });
});
