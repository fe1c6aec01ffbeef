// SPDX-License-Identifier: Apache-2.0
// The CRD manifests as committed under charts/trustgate/crds/: written by scripts/gen-crds.js and
// compared by test/crd/crd-drift.test.ts, so both render the same text from buildCrds().

import { stringify } from 'yaml';
import { buildCrds } from '../core/policy/crd.js';

export const CRD_DIR = 'charts/trustgate/crds';

/** File name (in CRD_DIR) and content of each CRD manifest. */
export function renderCrdFiles(): { name: string; text: string }[] {
  return buildCrds().map((crd) => {
    const name = (crd.metadata as { name: string }).name;
    const body = stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false, singleQuote: true });
    return {
      name: `${name}.yaml`,
      text: `# Generated from src/core/policy/schema.ts by \`node scripts/gen-crds.js\`; do not edit.\n${body}`,
    };
  });
}
