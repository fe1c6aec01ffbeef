// SPDX-License-Identifier: Apache-2.0
// `trustgate policy convert`: a Docker-style `version: "2.0"` policy file → ClusterTrustPolicy YAML.

import { stringify } from 'yaml';
import { ConfigError, type FieldError } from '../core/errors.js';
import { isSeedDocument, seedToResources, type SeedOptions } from '../core/policy/seed.js';
import { formatFieldError, parsePolicyText } from './load.js';

/**
 * Convert seed-format text into multi-document ClusterTrustPolicy YAML (one per repository pattern).
 * @throws ConfigError INVALID_POLICY with `fieldErrors` (file, line, path) when the input is not a
 *   valid seed file; the message lists every error as `file:line: path: message`.
 */
export function convertSeedText(text: string, file?: string, opts: SeedOptions = {}): string {
  const parsed = parsePolicyText(text, file);
  const errors: FieldError[] = [...parsed.errors];
  const docs: string[] = [];
  const where = file !== undefined ? { file } : {};
  if (parsed.documents.length === 0 && errors.length === 0) {
    errors.push({
      ...where,
      line: 1,
      path: '',
      message: 'is empty; expected a version: "2.0" policy file',
    });
  }
  for (const doc of parsed.documents) {
    if (!isSeedDocument(doc.value)) {
      errors.push({
        ...where,
        line: doc.locate(''),
        path: '',
        message: 'is not a version: "2.0" policy file (nothing to convert)',
      });
      continue;
    }
    const seed = seedToResources(doc.value, opts);
    errors.push(
      ...seed.errors.map((e) => ({
        ...where,
        line: doc.locate(e.path),
        path: e.path,
        message: e.message,
      })),
    );
    for (const r of seed.resources) {
      const images = r.spec.images.join(', ');
      docs.push(
        `# from trust.repositories[${JSON.stringify(images)}]\n${stringify(r, { lineWidth: 0, aliasDuplicateObjects: false, singleQuote: true })}`,
      );
    }
  }
  if (errors.length > 0) {
    throw new ConfigError('INVALID_POLICY', errors.map(formatFieldError).join('\n'), {
      fieldErrors: errors,
    });
  }
  const header = `# Converted${file !== undefined ? ` from ${file}` : ''} by trustgate policy convert.\n`;
  return header + docs.join('---\n');
}
