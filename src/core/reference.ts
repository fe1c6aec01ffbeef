// SPDX-License-Identifier: Apache-2.0
// Image references, normalized the way Docker does (distribution/reference):
// default registry docker.io, default namespace library/, default tag latest.

import { VerificationError } from './errors.js';

export interface ImageReference {
  /** The string as written in the workload. */
  readonly original: string;
  /** Registry host, with port if any: `docker.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** Repository path inside the registry: `library/nginx`. */
  readonly repository: string;
  /** `registry/repository`; also the Notary v1 GUN. */
  readonly name: string;
  /** Tag, when the reference has one (defaults to `latest` when there is neither tag nor digest). */
  readonly tag?: string;
  /** `sha256:<64 hex>`, when the reference pins one. */
  readonly digest?: string;
}

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRIES = new Set(['index.docker.io', 'registry-1.docker.io']);
const MAX_NAME_LENGTH = 255;

// distribution/reference regexp.go
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function invalid(ref: string, why: string): VerificationError {
  return new VerificationError(
    'INVALID_IMAGE_REFERENCE',
    `invalid image reference ${JSON.stringify(ref)}: ${why}`,
  );
}

/**
 * Parse and normalize an image reference.
 * @throws VerificationError INVALID_IMAGE_REFERENCE
 */
export function parseImageReference(input: string): ImageReference {
  if (typeof input !== 'string' || input.length === 0) throw invalid(String(input), 'empty');
  if (input.length > 4096) throw invalid(input.slice(0, 64) + '…', 'longer than 4096 characters');
  if (input !== input.trim()) throw invalid(input, 'leading or trailing whitespace');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      throw invalid(
        input,
        `digest must be sha256:<64 lowercase hex>, got ${JSON.stringify(digest)}`,
      );
    }
  }

  // A tag is after the last ':' that follows the last '/' (a ':' before it is a port).
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(input, `tag ${JSON.stringify(tag)} is not a valid tag`);
  }

  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    // Docker's rule: the first component is a registry if it looks like a host.
    if (
      /[.:]/.test(first) ||
      first === 'localhost' ||
      first.startsWith('[') ||
      first !== first.toLowerCase()
    ) {
      if (!DOMAIN.test(first))
        throw invalid(input, `registry ${JSON.stringify(first)} is not a valid host[:port]`);
      registry = LEGACY_DEFAULT_REGISTRIES.has(first) ? DEFAULT_REGISTRY : first;
      path = rest.slice(firstSlash + 1);
    }
  }
  if (path.length === 0) throw invalid(input, 'missing repository name');
  const components = path.split('/');
  for (const c of components) {
    if (!PATH_COMPONENT.test(c)) {
      throw invalid(
        input,
        `repository component ${JSON.stringify(c)} must be lowercase letters, digits and separators (. _ __ -)`,
      );
    }
  }
  if (registry === DEFAULT_REGISTRY && components.length === 1) path = `library/${path}`;
  const name = `${registry}/${path}`;
  if (name.length > MAX_NAME_LENGTH)
    throw invalid(input, `name longer than ${MAX_NAME_LENGTH} characters`);
  if (tag === undefined && digest === undefined) tag = 'latest';

  return Object.freeze({
    original: input,
    registry,
    repository: path,
    name,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  });
}

/** `name[:tag][@digest]`, fully qualified. */
export function toCanonicalReference(ref: ImageReference): string {
  return `${ref.name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** Whether a registry host is spoken to over plain HTTP by default (as Docker does). */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[')
    ? registry.slice(0, registry.indexOf(']') + 1)
    : registry.split(':')[0];
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host ?? '');
}

/** Parse `sha256:<hex>`. @throws VerificationError INVALID_IMAGE_REFERENCE */
export function parseDigest(digest: string): { algorithm: 'sha256'; hex: string } {
  if (!DIGEST.test(digest)) throw invalid(digest, 'not a sha256 digest');
  return { algorithm: 'sha256', hex: digest.slice('sha256:'.length) };
}
