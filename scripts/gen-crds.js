// SPDX-License-Identifier: Apache-2.0
// Write charts/trustgate/crds/*.yaml from the built CRD definitions (dist/); run
// `npx tsc -p tsconfig.build.json` first. test/crd/crd-drift.test.ts fails when they are stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_DIR, renderCrdFiles } from '../dist/policy-files/crd-yaml.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, CRD_DIR);
mkdirSync(dir, { recursive: true });
for (const { name, text } of renderCrdFiles()) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote ${join(CRD_DIR, name)}`);
}
