// SPDX-License-Identifier: Apache-2.0
// Repository globs (`spec.images`) and tag patterns (`spec.allow.paths`), compiled once into
// anchored RegExps whose running time is linear in the input (no nested or overlapping quantifiers).

import { ConfigError } from '../errors.js';

/** A repository glob normalized the way Docker normalizes image names, and its matcher. */
export interface RepositoryGlob {
  /** As written in the policy. */
  readonly pattern: string;
  /** Fully qualified: `nginx` → `docker.io/library/nginx`, `myorg/*` → `docker.io/myorg/*`. */
  readonly normalized: string;
  /** Anchored; tested against `ImageReference.name` (`registry/repository`). */
  readonly regex: RegExp;
}

const MAX_GLOB_LENGTH = 255;
const MAX_TAG_PATTERN_LENGTH = 128;
const LEGACY_DOCKER_HUB = new Set(['index.docker.io', 'registry-1.docker.io']);
const REGISTRY_SEGMENT =
  /^(?:[A-Za-z0-9*](?:[A-Za-z0-9*.-]*[A-Za-z0-9*])?(?::[0-9*]+)?|\[[0-9a-fA-F:.]+\](?::[0-9]+)?)$/;
const REPOSITORY_SEGMENT = /^[a-z0-9._*-]+$/;
const TAG_PATTERN = /^[A-Za-z0-9_.*?-]+$/;
const TAG_CHAR = '[\\w.-]';

function invalid(message: string): ConfigError {
  return new ConfigError('INVALID_POLICY', message);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Regex source for one wildcard segment. Literal chunks between `*`s are placed leftmost through
 * atomic lookaheads (`(?=(X*?c))\N`), the classic greedy glob algorithm: a later failure cannot
 * backtrack into earlier chunks, so matching stays linear however many `*`s a segment has.
 */
function wildcardSource(
  chunks: readonly string[],
  anyChar: string,
  literal: (chunk: string) => string,
  group: { next: number },
): string {
  const first = chunks[0] as string;
  if (chunks.length === 1) return literal(first);
  let out = literal(first);
  for (const chunk of chunks.slice(1, -1)) {
    group.next += 1;
    out += `(?=(${anyChar}*?${literal(chunk)}))\\${group.next}`;
  }
  return `${out}${anyChar}*${literal(chunks[chunks.length - 1] as string)}`;
}

function segmentSource(segment: string, group: { next: number }): string {
  // A lone `*` is exactly one (non-empty) path segment.
  if (segment === '*') return '[^/]+';
  return wildcardSource(segment.split('*'), '[^/]', escapeRegExp, group);
}

/** Docker's rule (distribution/reference): the first component is a registry when it looks like a host. */
function isHostLike(segment: string): boolean {
  return (
    segment.includes('.') ||
    segment.includes(':') ||
    segment === 'localhost' ||
    segment.startsWith('[')
  );
}

function normalizeSegments(glob: string): string[] {
  if (glob.length === 0)
    throw invalid(
      'is empty; write a repository glob such as docker.io/library/* or localhost:5000/**',
    );
  if (glob.length > MAX_GLOB_LENGTH) throw invalid(`is longer than ${MAX_GLOB_LENGTH} characters`);
  if (/\s/.test(glob)) throw invalid(`${JSON.stringify(glob)} contains whitespace`);
  if (glob.includes('@')) {
    throw invalid(
      `${JSON.stringify(glob)} has a digest; images are repository globs (registry/repository) without tag or digest`,
    );
  }
  const segments = glob.split('/');
  const last = segments[segments.length - 1] as string;
  if (segments.length === 1 && last.includes(':') && isHostLike(last.slice(0, last.indexOf(':')))) {
    throw invalid(
      `${JSON.stringify(glob)} names only a registry; add a repository glob, e.g. ${glob}/**`,
    );
  }
  if (last.includes(':')) {
    throw invalid(
      `${JSON.stringify(glob)} has a tag; images are repository globs without tags (restrict tags with allow.paths)`,
    );
  }
  if (segments.some((s) => s.length === 0)) {
    throw invalid(
      `${JSON.stringify(glob)} has an empty path segment (leading, trailing or double "/")`,
    );
  }
  const first = segments[0] as string;
  if (segments.length > 1 && isHostLike(first)) {
    const registry = LEGACY_DOCKER_HUB.has(first) ? 'docker.io' : first;
    if (!REGISTRY_SEGMENT.test(registry)) {
      throw invalid(
        `registry ${JSON.stringify(first)} of ${JSON.stringify(glob)} is not a valid host[:port]`,
      );
    }
    return [registry, ...segments.slice(1)];
  }
  // A leading `**` spans registries; everything else without a host is on Docker Hub.
  if (first === '**') return segments;
  return segments.length === 1 ? ['docker.io', 'library', first] : ['docker.io', ...segments];
}

/**
 * Parse and compile a repository glob: `*` = one path segment (or, inside a segment, any run of
 * characters but `/`), `**` = any depth (one whole segment, at most once per glob). Names without a
 * registry are normalized Docker-style (`nginx` = `docker.io/library/nginx`).
 * @throws ConfigError INVALID_POLICY with a message saying how to fix the glob.
 */
export function parseRepositoryGlob(glob: string): RepositoryGlob {
  const segments = normalizeSegments(glob);
  const spansRegistries = segments[0] === '**';
  segments.forEach((segment, i) => {
    if (segment === '**') return;
    if (segment.includes('**')) {
      throw invalid(
        `${JSON.stringify(glob)}: "**" must be a whole path segment (e.g. localhost:5000/**)`,
      );
    }
    if (i > 0 || spansRegistries) {
      if (!REPOSITORY_SEGMENT.test(segment)) {
        throw invalid(
          `${JSON.stringify(glob)}: repository segment ${JSON.stringify(segment)} may contain only lowercase letters, digits, ".", "_", "-" and "*"`,
        );
      }
    }
  });
  const doubleStars = segments.filter((s) => s === '**').length;
  if (doubleStars > 1) {
    // Two `**` would make matching quadratic; one is enough to express any depth.
    throw invalid(`${JSON.stringify(glob)} uses "**" more than once; use it at most once per glob`);
  }

  const group = { next: 0 };
  const at = segments.indexOf('**');
  let source: string;
  if (at < 0) {
    source = segments.map((s) => segmentSource(s, group)).join('/');
  } else {
    const before = segments
      .slice(0, at)
      .map((s) => segmentSource(s, group))
      .join('/');
    const after = segments
      .slice(at + 1)
      .map((s) => segmentSource(s, group))
      .join('/');
    if (before === '' && after === '') source = '[^/]+(?:/[^/]+)*';
    else if (before === '') source = `(?:[^/]+/)*${after}`;
    else if (after === '') source = `${before}(?:/[^/]+)+`;
    else source = `${before}(?:/[^/]+)*/${after}`;
  }
  return Object.freeze({
    pattern: glob,
    normalized: segments.join('/'),
    regex: new RegExp(`^${source}$`),
  });
}

/** The compiled matcher of a repository glob. @throws ConfigError INVALID_POLICY */
export function compileRepositoryGlob(glob: string): RegExp {
  return parseRepositoryGlob(glob).regex;
}

/**
 * Compile a tag pattern (`v*.*.*`): `*` = any run of tag characters (`[A-Za-z0-9_.-]`), `?` = one.
 * @throws ConfigError INVALID_POLICY with a message saying how to fix the pattern.
 */
export function compileTagPattern(pattern: string): RegExp {
  if (pattern.length === 0) throw invalid('is empty; write a tag pattern such as v*.*.* or latest');
  if (pattern.length > MAX_TAG_PATTERN_LENGTH)
    throw invalid(`is longer than ${MAX_TAG_PATTERN_LENGTH} characters`);
  if (!TAG_PATTERN.test(pattern)) {
    throw invalid(
      `${JSON.stringify(pattern)} is not a tag pattern; use tag characters (letters, digits, "_", ".", "-") with "*" and "?"`,
    );
  }
  const literal = (chunk: string): string =>
    [...chunk].map((c) => (c === '?' ? TAG_CHAR : escapeRegExp(c))).join('');
  const chunks = pattern.replace(/\*+/g, '*').split('*');
  return new RegExp(`^${wildcardSource(chunks, TAG_CHAR, literal, { next: 0 })}$`);
}

/** Whether any matcher matches the whole value. */
export function matchesAny(matchers: readonly RegExp[], value: string): boolean {
  return matchers.some((m) => m.test(value));
}
