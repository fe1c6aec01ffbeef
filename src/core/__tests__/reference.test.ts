import { describe, expect, it } from '@jest/globals';
import { VerificationError } from '../errors.js';
import {
  isLoopbackRegistry,
  parseDigest,
  parseImageReference,
  toCanonicalReference,
} from '../reference.js';

const D = 'sha256:' + 'a'.repeat(64);

describe('parseImageReference', () => {
  describe('when the reference is short', () => {
    it.each([
      ['nginx', 'docker.io', 'library/nginx', 'latest'],
      ['nginx:1.25', 'docker.io', 'library/nginx', '1.25'],
      ['myorg/app:v1', 'docker.io', 'myorg/app', 'v1'],
      ['index.docker.io/library/nginx', 'docker.io', 'library/nginx', 'latest'],
      ['localhost/app', 'localhost', 'app', 'latest'],
      ['localhost:5000/demo/app:v1.0', 'localhost:5000', 'demo/app', 'v1.0'],
      ['[::1]:5000/app', '[::1]:5000', 'app', 'latest'],
      ['Registry.Example.com/a/b', 'Registry.Example.com', 'a/b', 'latest'],
      ['ghcr.io/a/b/c:x', 'ghcr.io', 'a/b/c', 'x'],
    ])('normalizes %s like Docker', (input, registry, repository, tag) => {
      const ref = parseImageReference(input);
      expect(ref).toMatchObject({ registry, repository, tag, name: `${registry}/${repository}` });
      expect(ref.digest).toBeUndefined();
    });
  });

  describe('when a digest is present', () => {
    it('keeps digest-only references without a default tag', () => {
      const ref = parseImageReference(`nginx@${D}`);
      expect(ref.tag).toBeUndefined();
      expect(ref.digest).toBe(D);
      expect(toCanonicalReference(ref)).toBe(`docker.io/library/nginx@${D}`);
    });
    it('keeps both tag and digest', () => {
      const ref = parseImageReference(`localhost:5000/app:v1@${D}`);
      expect(ref).toMatchObject({ tag: 'v1', digest: D });
      expect(toCanonicalReference(ref)).toBe(`localhost:5000/app:v1@${D}`);
    });
  });

  describe('when the reference is invalid', () => {
    it.each([
      '',
      ' nginx',
      'NGINX',
      'nginx:',
      'nginx:bad tag',
      'nginx@sha256:abc',
      'nginx@md5:' + 'a'.repeat(32),
      'a//b',
      'registry.example.com/',
      'bad_host_.com:99999999x/app',
      'x'.repeat(5000),
      'registry.example.com/' + 'a'.repeat(300),
    ])('rejects invalid case #%# with INVALID_IMAGE_REFERENCE', (input) => {
      expect(() => parseImageReference(input)).toThrowWithCode(
        VerificationError,
        'INVALID_IMAGE_REFERENCE',
      );
    });
  });
});

describe('isLoopbackRegistry', () => {
  it.each([
    ['localhost:5000', true],
    ['127.0.0.1:5000', true],
    ['[::1]:5000', true],
    ['docker.io', false],
    ['localhost.example.com', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackRegistry(host)).toBe(expected);
  });
});

describe('parseDigest', () => {
  it('splits a sha256 digest', () => {
    expect(parseDigest(D)).toEqual({ algorithm: 'sha256', hex: 'a'.repeat(64) });
  });
  it('rejects anything else', () => {
    expect(() => parseDigest('sha512:00')).toThrowWithCode(
      VerificationError,
      'INVALID_IMAGE_REFERENCE',
    );
  });
});
