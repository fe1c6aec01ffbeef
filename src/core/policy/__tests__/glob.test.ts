// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../errors.js';
import { parseImageReference } from '../../reference.js';
import {
  compileRepositoryGlob,
  compileTagPattern,
  matchesAny,
  parseRepositoryGlob,
} from '../glob.js';

const nameOf = (image: string): string => parseImageReference(image).name;

describe('parseRepositoryGlob', () => {
  describe('when the glob has no registry', () => {
    it.each([
      ['nginx', 'docker.io/library/nginx'],
      ['*', 'docker.io/library/*'],
      ['myorg/*', 'docker.io/myorg/*'],
      ['myorg/team/app', 'docker.io/myorg/team/app'],
      ['**', '**'],
      ['**/nginx', '**/nginx'],
    ])('normalizes %s Docker-style to %s', (glob, normalized) => {
      expect(parseRepositoryGlob(glob).normalized).toBe(normalized);
    });
  });

  describe('when the glob names a registry', () => {
    it.each([
      ['localhost:5000/**', 'localhost:5000/**'],
      ['index.docker.io/library/*', 'docker.io/library/*'],
      ['registry-1.docker.io/x/y', 'docker.io/x/y'],
      ['myregistry.example.com/myorg/*', 'myregistry.example.com/myorg/*'],
      ['[::1]:5000/app', '[::1]:5000/app'],
      ['*.example.com/app', '*.example.com/app'],
    ])('keeps %s as %s', (glob, normalized) => {
      expect(parseRepositoryGlob(glob).normalized).toBe(normalized);
    });
  });

  describe('when matching image names', () => {
    it.each([
      ['nginx', 'nginx:1.25', true],
      ['nginx', 'docker.io/library/nginx@sha256:' + 'a'.repeat(64), true],
      ['nginx', 'myorg/nginx', false],
      ['docker.io/library/*', 'redis', true],
      ['docker.io/library/*', 'myorg/redis', false],
      ['*', 'busybox', true],
      ['myorg/*', 'myorg/app', true],
      ['myorg/*', 'myorg/team/app', false],
      ['myorg/**', 'myorg/team/app', true],
      ['myorg/**', 'myorg/app', true],
      ['localhost:5000/**', 'localhost:5000/a/b/c', true],
      ['localhost:5000/**', 'localhost:5001/a', false],
      ['localhost:5000/*', 'localhost:5000/a/b', false],
      ['**', 'quay.io/x/y', true],
      ['**', 'nginx', true],
      ['**/nginx', 'quay.io/library/nginx', true],
      ['**/nginx', 'nginx', true],
      ['**/nginx', 'quay.io/library/nginx-x', false],
      ['myregistry.example.com/**/app', 'myregistry.example.com/app', true],
      ['myregistry.example.com/**/app', 'myregistry.example.com/a/b/app', true],
      ['myregistry.example.com/**/app', 'myregistry.example.com/a/b/app2', false],
      ['myregistry.example.com/team-*', 'myregistry.example.com/team-a', true],
      ['myregistry.example.com/team-*', 'myregistry.example.com/teams', false],
      ['myregistry.example.com/a*b*c', 'myregistry.example.com/axxbyyc', true],
      ['myregistry.example.com/a*b*c', 'myregistry.example.com/abc', true],
      ['myregistry.example.com/a*b*c', 'myregistry.example.com/acb', false],
      ['myregistry.example.com/*-svc', 'myregistry.example.com/pay-svc', true],
      ['*.example.com/app', 'eu.example.com/app', true],
      ['*.example.com/app', 'example.com/app', false],
      ['myregistry.example.com/my.org/*', 'myregistry.example.com/myxorg/app', false],
    ])('%s vs %s → %s', (glob, image, expected) => {
      expect(compileRepositoryGlob(glob).test(nameOf(image))).toBe(expected);
    });
  });

  describe('when the glob is invalid', () => {
    it.each([
      ['', /empty/],
      ['x'.repeat(256), /longer than 255/],
      ['my org/app', /whitespace/],
      ['nginx@sha256:abc', /digest/],
      ['nginx:1.25', /tag/],
      ['localhost:5000/app:v1', /tag/],
      ['localhost:5000', /only a registry/],
      ['registry.example.com:443', /only a registry/],
      ['/app', /empty path segment/],
      ['myorg//app', /empty path segment/],
      ['myorg/app/', /empty path segment/],
      ['myorg/ap**p', /whole path segment/],
      ['**/a/**', /more than once/],
      ['myregistry.example.com/MyOrg/*', /lowercase/],
      ['bad_host.example.com/app', /not a valid host/],
      ['[::1/app', /not a valid host/],
    ])('rejects %j', (glob, message) => {
      expect(() => parseRepositoryGlob(glob)).toThrowWithCode(ConfigError, 'INVALID_POLICY');
      expect(() => parseRepositoryGlob(glob)).toThrow(message);
    });
  });

  describe('when the input is long and adversarial', () => {
    // Linear patterns only: these would take years with backtracking-prone regexes.
    it('matches many-star segments against a long near-miss quickly', () => {
      const re = compileRepositoryGlob('r.io/a*a*a*a*a*a*a*a*b');
      expect(re.test(`r.io/${'a'.repeat(5000)}`)).toBe(false);
      expect(re.test(`r.io/${'a'.repeat(5000)}b`)).toBe(true);
    });

    it('matches ** against a deep near-miss quickly', () => {
      const re = compileRepositoryGlob('r.io/**/x/*/y');
      const deep = Array.from({ length: 2000 }, () => 'x').join('/');
      expect(re.test(`r.io/${deep}`)).toBe(false);
      expect(re.test(`r.io/${deep}/k/y`)).toBe(true);
    });
  });
});

describe('compileTagPattern', () => {
  describe('when matching tags', () => {
    it.each([
      ['v*.*.*', 'v1.2.3', true],
      ['v*.*.*', 'v10.20.30-rc.1', true],
      ['v*.*.*', 'v1.2', false],
      ['v*.*.*', '1.2.3', false],
      ['latest', 'latest', true],
      ['latest', 'latest2', false],
      ['v?.?', 'v1.2', true],
      ['v?.?', 'v10.2', false],
      ['*', 'anything_goes-1.0', true],
      ['**', 'x', true],
      ['*-alpine', '1.25-alpine', true],
      ['*-alpine', '1.25-alpine3', false],
      ['a*b?c*d', 'aXbYcZd', true],
      ['a*b?c*d', 'abcd', false],
      ['1.*', '1x2', false],
    ])('%s vs %s → %s', (pattern, tag, expected) => {
      expect(compileTagPattern(pattern).test(tag)).toBe(expected);
    });
  });

  describe('when the pattern is invalid', () => {
    it.each([
      ['', /empty/],
      ['x'.repeat(129), /longer than 128/],
      ['v1/2', /not a tag pattern/],
      ['v[0-9]', /not a tag pattern/],
      ['v1 .2', /not a tag pattern/],
    ])('rejects %j', (pattern, message) => {
      expect(() => compileTagPattern(pattern)).toThrowWithCode(ConfigError, 'INVALID_POLICY');
      expect(() => compileTagPattern(pattern)).toThrow(message);
    });
  });

  describe('when the input is long and adversarial', () => {
    it('stays linear with many stars over a long near-miss', () => {
      const re = compileTagPattern('v*.*.*.*.*.*.*.*.*.x');
      expect(re.test(`v${'.'.repeat(20000)}`)).toBe(false);
      expect(re.test(`v${'.'.repeat(20000)}x`)).toBe(true);
    });
  });
});

describe('matchesAny', () => {
  it('is true when any matcher matches, false for none', () => {
    expect(matchesAny([/^a$/, /^b$/], 'b')).toBe(true);
    expect(matchesAny([/^a$/], 'b')).toBe(false);
    expect(matchesAny([], 'b')).toBe(false);
  });
});
