// SPDX-License-Identifier: Apache-2.0
// The Docker Content Trust `version: "2.0"` policy file (SPEC §3.2) → one ClusterTrustPolicy per
// repository pattern, with the file's top-level trustSources applied to each.

import { createHash } from 'node:crypto';
import type { FieldError } from '../errors.js';
import type { TrustPolicyResource, TrustSourceSpec } from './types.js';
import { API_VERSION, toFieldPath, validatePolicyResource } from './validate.js';

export interface SeedOptions {
  /** Prefix of generated resource names (`seed-` → `seed-myregistry-example-com-myorg-1a2b3c4d`). */
  readonly namePrefix?: string;
  /** Trust sources given by flags; used when the file has no top-level `trustSources`. */
  readonly trustSources?: readonly TrustSourceSpec[];
}

export interface SeedResult {
  readonly resources: TrustPolicyResource[];
  /** Paths are in the seed file: `trust.repositories["registry/org/*"].thresholds.release-managers`. */
  readonly errors: FieldError[];
}

const TOP_LEVEL_FIELDS = new Set(['version', 'trust', 'trustSources']);
const MAX_NAME = 63;

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a parsed document is a seed-format file (has `version` and no `apiVersion`). */
export function isSeedDocument(doc: unknown): boolean {
  return isRecord(doc) && doc.version !== undefined && doc.apiVersion === undefined;
}

/**
 * A deterministic DNS-1123 name for a repository pattern: a readable slug plus 8 hex of the
 * pattern's sha256, so patterns that slug alike (`a/*` and `a/**`) still get distinct names.
 */
export function toSeedPolicyName(pattern: string, prefix = ''): string {
  const hash = createHash('sha256').update(pattern).digest('hex').slice(0, 8);
  const room = MAX_NAME - prefix.length - hash.length - 1;
  const slug = pattern
    .toLowerCase()
    .replace(/\*\*/g, 'all')
    .replace(/\*/g, 'any')
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, Math.max(room, 0))
    .replace(/^-+|-+$/g, '');
  return `${prefix}${slug === '' ? 'repo' : slug}-${hash}`;
}

type SourceOrigin = 'repository' | 'file' | 'flags' | 'none';

function toSeedPath(path: string, repoPath: string, origin: SourceOrigin): string {
  if (path === 'spec' || path === 'spec.images' || path.startsWith('spec.images[')) return repoPath;
  if (path.startsWith('spec.trustSources')) {
    const rest = path.slice('spec.trustSources'.length);
    if (origin === 'repository') return `${repoPath}.trustSources${rest}`;
    if (origin === 'file' || origin === 'flags') return `trustSources${rest}`;
    return repoPath;
  }
  return path.startsWith('spec.') ? `${repoPath}.${path.slice('spec.'.length)}` : repoPath;
}

/**
 * Convert a parsed seed-format document into ClusterTrustPolicy resources (each validated).
 * Returns every problem found; a repository with errors yields no resource. Never throws.
 */
export function seedToResources(doc: unknown, opts: SeedOptions = {}): SeedResult {
  const errors: FieldError[] = [];
  const resources: TrustPolicyResource[] = [];
  if (!isRecord(doc)) {
    return {
      resources,
      errors: [
        {
          path: '',
          message: 'a policy file must be a mapping with version: "2.0" and trust.repositories',
        },
      ],
    };
  }
  if (doc.version !== '2.0') {
    const hint = typeof doc.version === 'number' ? ' (quote it: version: "2.0")' : '';
    errors.push({ path: 'version', message: `must be the string "2.0"${hint}` });
  }
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL_FIELDS.has(key))
      errors.push({
        path: toFieldPath('', key),
        message: 'unknown field; expected version, trust, trustSources',
      });
  }
  let fileSources: TrustSourceSpec[] | undefined;
  if (doc.trustSources !== undefined) {
    if (Array.isArray(doc.trustSources)) fileSources = doc.trustSources as TrustSourceSpec[];
    else
      errors.push({
        path: 'trustSources',
        message: 'must be a list of trust sources (the shape of a policy spec.trustSources)',
      });
  }
  const trust = doc.trust;
  if (!isRecord(trust)) {
    errors.push({
      path: 'trust',
      message:
        trust === undefined
          ? 'is required (with repositories)'
          : 'must be a mapping with repositories',
    });
    return { resources, errors };
  }
  for (const key of Object.keys(trust)) {
    if (key !== 'repositories')
      errors.push({
        path: toFieldPath('trust', key),
        message: 'unknown field; expected repositories',
      });
  }
  const repositories = trust.repositories;
  if (!isRecord(repositories) || Object.keys(repositories).length === 0) {
    errors.push({
      path: 'trust.repositories',
      message:
        'must map at least one repository pattern to its rules, e.g. "myregistry.example.com/myorg/*": { requireSignatures: true }',
    });
    return { resources, errors };
  }

  const seen = new Set<string>();
  for (const [pattern, entry] of Object.entries(repositories)) {
    const repoPath = toFieldPath('trust.repositories', pattern);
    const rules: Json = entry === null ? {} : isRecord(entry) ? entry : {};
    if (entry !== null && !isRecord(entry)) {
      errors.push({
        path: repoPath,
        message: 'must be a mapping of rules (requireSignatures, signers, thresholds, allow, …)',
      });
      continue;
    }
    if (rules.images !== undefined) {
      errors.push({
        path: toFieldPath(repoPath, 'images'),
        message: 'is not allowed here: the repository key is the image glob',
      });
      continue;
    }
    const origin: SourceOrigin =
      rules.trustSources !== undefined
        ? 'repository'
        : fileSources
          ? 'file'
          : opts.trustSources
            ? 'flags'
            : 'none';
    const trustSources = rules.trustSources ?? fileSources ?? opts.trustSources;
    const resource = {
      apiVersion: API_VERSION,
      kind: 'ClusterTrustPolicy',
      metadata: { name: toSeedPolicyName(pattern, opts.namePrefix) },
      spec: {
        ...rules,
        images: [pattern],
        ...(trustSources !== undefined ? { trustSources } : {}),
      },
    };
    const result = validatePolicyResource(resource);
    if (result.ok) {
      resources.push(result.resource);
      continue;
    }
    for (const e of result.errors) {
      const noSources = origin === 'none' && e.path === 'spec.trustSources';
      const mapped: FieldError = {
        path: toSeedPath(e.path, repoPath, origin),
        message: noSources
          ? 'needs a trust source: add a top-level trustSources list (or trust-source flags), or set requireSignatures: false'
          : e.message,
      };
      const key = `${mapped.path}\0${mapped.message}`;
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(mapped);
      }
    }
  }
  return { resources, errors };
}
