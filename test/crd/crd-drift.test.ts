// SPDX-License-Identifier: Apache-2.0
// The committed CRDs under charts/trustgate/crds/ must equal what buildCrds() renders today.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { parse } from 'yaml';
import { CRD_DIR, renderCrdFiles } from '../../src/policy-files/crd-yaml.js';

const FIX = 'regenerate with: npx tsc -p tsconfig.build.json && node scripts/gen-crds.js';

describe('charts/trustgate/crds', () => {
  describe.each(renderCrdFiles())('$name', ({ name, text }) => {
    const file = join(process.cwd(), CRD_DIR, name);

    it('is committed', () => {
      if (!existsSync(file)) throw new Error(`${join(CRD_DIR, name)} is missing; ${FIX}`);
    });

    it('matches src/core/policy/schema.ts', () => {
      const committed = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (committed !== text)
        throw new Error(`${join(CRD_DIR, name)} is out of date with src/core/policy; ${FIX}`);
    });

    it('parses back to one CustomResourceDefinition', () => {
      expect(parse(text)).toMatchObject({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: name.replace(/\.yaml$/, '') },
      });
    });

    it('is a valid apiextensions.k8s.io/v1 CustomResourceDefinition', () => {
      expect(() => new CustomResourceDefinition(parse(text)).validate()).not.toThrow();
    });
  });
});
