// SPDX-License-Identifier: Apache-2.0
import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../../errors.js';
import {
  checkRoleName,
  parseRfc3339,
  toFieldPath,
  toNotaryRole,
  toSchemaFieldError,
  validatePolicyResource,
} from '../validate.js';
import { fullPolicy, minimalPolicy } from './builders.js';
import { CA_CERT, EC_PUBLIC_KEY, KEY_ID, ROOT_CERT, RSA_PKCS1_PUBLIC_KEY } from './pki.js';

type Doc = Record<string, any>;

function errorsOf(doc: unknown): FieldError[] {
  const r = validatePolicyResource(doc);
  return r.ok ? [] : r.errors;
}

function notary(doc: Doc): Doc {
  return doc.spec.trustSources[0].notaryV1;
}
function notation(doc: Doc): Doc {
  return doc.spec.trustSources[1].notation;
}

describe('validatePolicyResource', () => {
  describe('when the policy is valid', () => {
    it.each([
      ['the full example', fullPolicy],
      ['a minimal policy', minimalPolicy],
    ])('accepts %s', (_what, build) => {
      const r = validatePolicyResource(build());
      expect(r.ok).toBe(true);
    });

    it('returns only known metadata and a copy of the spec', () => {
      const doc = fullPolicy();
      doc.metadata.annotations = { a: 'b' };
      doc.status = { conditions: [] };
      const r = validatePolicyResource(doc);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      expect(r.resource.metadata).toEqual({
        name: 'myorg-releases',
        uid: 'u-1',
        resourceVersion: '42',
        generation: 3,
        labels: { team: 'platform' },
      });
      expect(r.resource.spec).toEqual(doc.spec);
      expect(r.resource.spec).not.toBe(doc.spec);
    });

    it.each([
      [
        'a TrustPolicy with its namespace',
        (d: Doc) => {
          d.kind = 'TrustPolicy';
          d.metadata.namespace = 'team-a';
          delete d.spec.namespaceSelector;
        },
      ],
      [
        'requireSignatures false without sources',
        (d: Doc) => {
          d.spec.requireSignatures = false;
          delete d.spec.trustSources;
          delete d.spec.migration;
        },
      ],
      [
        'a PEM public key pin',
        (d: Doc) => {
          notary(d).rootKeys = [EC_PUBLIC_KEY, RSA_PKCS1_PUBLIC_KEY];
        },
      ],
      [
        'trustOnFirstUse without pins',
        (d: Doc) => {
          notary(d).rootKeys = undefined;
          notary(d).rootCAs = undefined;
          notary(d).trustOnFirstUse = true;
        },
      ],
      [
        'a caBundleRef',
        (d: Doc) => {
          delete notary(d).caBundle;
          notary(d).caBundleRef = { configMap: 'notary-ca', key: 'ca.crt' };
        },
      ],
      [
        'level skip with no identities',
        (d: Doc) => {
          notation(d).level = 'skip';
          delete notation(d).trustedIdentities;
          notation(d).trustStore = {};
        },
      ],
      [
        'two distinct identities',
        (d: Doc) => {
          notation(d).trustedIdentities = [
            'x509.subject: C=US, ST=WA, O=a',
            'x509.subject: C=US, ST=WA, O=b',
          ];
        },
      ],
      [
        '"*" as the only identity',
        (d: Doc) => {
          notation(d).trustedIdentities = ['*'];
        },
      ],
      [
        'signingAuthority only',
        (d: Doc) => {
          notation(d).trustStore = { signingAuthority: [CA_CERT] };
        },
      ],
      [
        'caRef only',
        (d: Doc) => {
          notation(d).trustStore = { caRef: { secret: 's', key: 'k', namespace: 'trustgate' } };
        },
      ],
      [
        'Exists / NotIn selectors',
        (d: Doc) => {
          d.spec.namespaceSelector = {
            matchExpressions: [
              { key: 'a', operator: 'Exists' },
              { key: 'example.com/b', operator: 'NotIn', values: ['x'] },
            ],
          };
        },
      ],
      [
        'nested and full role names',
        (d: Doc) => {
          d.spec.signers = [{ role: 'targets' }, { role: 'team/qa' }, { role: 'targets/releases' }];
        },
      ],
      [
        'an offset RFC 3339 instant',
        (d: Doc) => {
          d.spec.migration.notaryV1Until = '2027-03-01t00:00:00.5+01:00';
        },
      ],
      [
        'notation only with migration',
        (d: Doc) => {
          d.spec.trustSources.shift();
        },
      ],
    ])('accepts %s', (_what, mutate) => {
      const doc = fullPolicy();
      mutate(doc);
      expect(errorsOf(doc)).toEqual([]);
    });
  });

  describe('when the document is not a policy', () => {
    it.each([null, 'text', 42, []])('rejects %j with a root error', (doc) => {
      expect(errorsOf(doc)).toEqual([
        { path: '', message: expect.stringMatching(/must be a mapping/) },
      ]);
    });
  });

  describe('when a field is invalid', () => {
    // [description, mutation, expected path, message pattern]
    const cases: [string, (d: Doc) => void, string, RegExp][] = [
      [
        'wrong apiVersion',
        (d) => {
          d.apiVersion = 'v1';
        },
        'apiVersion',
        /must be trustgate.dev\/v1alpha1/,
      ],
      [
        'missing apiVersion',
        (d) => {
          delete d.apiVersion;
        },
        'apiVersion',
        /got null/,
      ],
      [
        'wrong kind',
        (d) => {
          d.kind = 'Policy';
        },
        'kind',
        /ClusterTrustPolicy or TrustPolicy/,
      ],
      [
        'missing kind',
        (d) => {
          delete d.kind;
        },
        'kind',
        /got null/,
      ],
      [
        'unknown top-level field',
        (d) => {
          d.specs = {};
        },
        'specs',
        /unknown field/,
      ],
      [
        'missing metadata',
        (d) => {
          delete d.metadata;
        },
        'metadata',
        /is required/,
      ],
      [
        'metadata not a mapping',
        (d) => {
          d.metadata = 'x';
        },
        'metadata',
        /mapping/,
      ],
      [
        'missing name',
        (d) => {
          d.metadata.name = '';
        },
        'metadata.name',
        /is required/,
      ],
      [
        'invalid name',
        (d) => {
          d.metadata.name = 'My_Policy';
        },
        'metadata.name',
        /not a valid name/,
      ],
      [
        'namespace on a cluster policy',
        (d) => {
          d.metadata.namespace = 'x';
        },
        'metadata.namespace',
        /cluster-scoped/,
      ],
      [
        'TrustPolicy without namespace',
        (d) => {
          d.kind = 'TrustPolicy';
          delete d.spec.namespaceSelector;
        },
        'metadata.namespace',
        /required for a TrustPolicy/,
      ],
      [
        'TrustPolicy with invalid namespace',
        (d) => {
          d.kind = 'TrustPolicy';
          d.metadata.namespace = 'Team A';
          delete d.spec.namespaceSelector;
        },
        'metadata.namespace',
        /not a valid namespace/,
      ],
      [
        'TrustPolicy with namespaceSelector',
        (d) => {
          d.kind = 'TrustPolicy';
          d.metadata.namespace = 'a';
        },
        'spec.namespaceSelector',
        /only a ClusterTrustPolicy/,
      ],
      [
        'non-string uid',
        (d) => {
          d.metadata.uid = 1;
        },
        'metadata.uid',
        /string/,
      ],
      [
        'non-integer generation',
        (d) => {
          d.metadata.generation = 1.5;
        },
        'metadata.generation',
        /whole number/,
      ],
      [
        'bad labels',
        (d) => {
          d.metadata.labels = { a: 1 };
        },
        'metadata.labels',
        /string values/,
      ],
      [
        'missing spec',
        (d) => {
          delete d.spec;
        },
        'spec',
        /is required/,
      ],
      [
        'spec not a mapping',
        (d) => {
          d.spec = [];
        },
        'spec',
        /must be a mapping/,
      ],
      [
        'unknown spec field',
        (d) => {
          d.spec.image = ['x'];
        },
        'spec.image',
        /unknown field; expected one of: mode, namespaceSelector, images/,
      ],
      [
        'bad mode',
        (d) => {
          d.spec.mode = 'deny';
        },
        'spec.mode',
        /one of: enforce, warn, audit/,
      ],
      [
        'missing images',
        (d) => {
          delete d.spec.images;
        },
        'spec.images',
        /is required/,
      ],
      [
        'empty images',
        (d) => {
          d.spec.images = [];
        },
        'spec.images',
        /at least 1 entry/,
      ],
      [
        'images not a list',
        (d) => {
          d.spec.images = 'nginx';
        },
        'spec.images',
        /must be a list/,
      ],
      [
        'image with a tag',
        (d) => {
          d.spec.images = ['nginx:1.25'];
        },
        'spec.images[0]',
        /tag/,
      ],
      [
        'empty image glob',
        (d) => {
          d.spec.images = [''];
        },
        'spec.images[0]',
        /must not be empty/,
      ],
      [
        'duplicate images',
        (d) => {
          d.spec.images = ['nginx', 'docker.io/library/nginx'];
        },
        'spec.images[1]',
        /duplicates spec.images\[0\]/,
      ],
      [
        'requireSignatures not boolean',
        (d) => {
          d.spec.requireSignatures = 'yes';
        },
        'spec.requireSignatures',
        /true or false/,
      ],
      [
        'no trust sources',
        (d) => {
          delete d.spec.trustSources;
          delete d.spec.migration;
        },
        'spec.trustSources',
        /at least one trust source/,
      ],
      [
        'source without name',
        (d) => {
          delete d.spec.trustSources[0].name;
        },
        'spec.trustSources[0].name',
        /is required/,
      ],
      [
        'source with bad name',
        (d) => {
          d.spec.trustSources[0].name = 'DCT source';
        },
        'spec.trustSources[0].name',
        /not a valid name/,
      ],
      [
        'duplicate source names',
        (d) => {
          d.spec.trustSources[1].name = 'dct';
        },
        'spec.trustSources[1].name',
        /duplicates spec.trustSources\[0\].name/,
      ],
      [
        'source with neither kind',
        (d) => {
          delete d.spec.trustSources[0].notaryV1;
        },
        'spec.trustSources[0]',
        /exactly one of notaryV1 or notation$/,
      ],
      [
        'source with both kinds',
        (d) => {
          d.spec.trustSources[0].notation = notation(d);
        },
        'spec.trustSources[0]',
        /not both/,
      ],
      [
        'unknown source field',
        (d) => {
          d.spec.trustSources[0].cosign = {};
        },
        'spec.trustSources[0].cosign',
        /unknown field/,
      ],
      [
        'missing server',
        (d) => {
          delete notary(d).server;
        },
        'spec.trustSources[0].notaryV1.server',
        /is required/,
      ],
      [
        'server not a URL',
        (d) => {
          notary(d).server = 'https://';
        },
        'spec.trustSources[0].notaryV1.server',
        /not a URL/,
      ],
      [
        'server without scheme',
        (d) => {
          notary(d).server = 'notary.example.com';
        },
        'spec.trustSources[0].notaryV1.server',
        /not a URL/,
      ],
      [
        'server with another scheme',
        (d) => {
          notary(d).server = 'ftp://notary';
        },
        'spec.trustSources[0].notaryV1.server',
        /must be an http\(s\) URL/,
      ],
      [
        'server without "//"',
        (d) => {
          notary(d).server = 'https:notary';
        },
        'spec.trustSources[0].notaryV1.server',
        /has the wrong form: Base URL/,
      ],
      [
        'server with credentials',
        (d) => {
          notary(d).server = 'https://u:p@notary';
        },
        'spec.trustSources[0].notaryV1.server',
        /credentials/,
      ],
      [
        'server with a query',
        (d) => {
          notary(d).server = 'https://notary/?x=1';
        },
        'spec.trustSources[0].notaryV1.server',
        /query or fragment/,
      ],
      [
        'caBundle not PEM',
        (d) => {
          notary(d).caBundle = 'x';
        },
        'spec.trustSources[0].notaryV1.caBundle',
        /is not PEM/,
      ],
      [
        'caBundle and caBundleRef',
        (d) => {
          notary(d).caBundleRef = { secret: 's', key: 'k' };
        },
        'spec.trustSources[0].notaryV1.caBundleRef',
        /not both/,
      ],
      [
        'ref naming both',
        (d) => {
          delete notary(d).caBundle;
          notary(d).caBundleRef = { secret: 's', configMap: 'c', key: 'k' };
        },
        'spec.trustSources[0].notaryV1.caBundleRef',
        /exactly one of configMap or secret/,
      ],
      [
        'ref naming neither',
        (d) => {
          delete notary(d).caBundle;
          notary(d).caBundleRef = { key: 'k' };
        },
        'spec.trustSources[0].notaryV1.caBundleRef',
        /exactly one of configMap or secret/,
      ],
      [
        'ref without key',
        (d) => {
          delete notary(d).caBundle;
          notary(d).caBundleRef = { secret: 's' };
        },
        'spec.trustSources[0].notaryV1.caBundleRef.key',
        /is required/,
      ],
      [
        'ref with bad namespace',
        (d) => {
          delete notary(d).caBundle;
          notary(d).caBundleRef = { secret: 's', key: 'k', namespace: 'A B' };
        },
        'spec.trustSources[0].notaryV1.caBundleRef.namespace',
        /not a valid namespace/,
      ],
      [
        'TrustPolicy ref to another namespace',
        (d) => {
          d.kind = 'TrustPolicy';
          d.metadata.namespace = 'a';
          delete d.spec.namespaceSelector;
          delete notary(d).caBundle;
          notary(d).caBundleRef = { secret: 's', key: 'k', namespace: 'b' };
        },
        'spec.trustSources[0].notaryV1.caBundleRef.namespace',
        /only to its own namespace \(a\)/,
      ],
      [
        'rootKeys entry not PEM nor key ID',
        (d) => {
          notary(d).rootKeys = [ROOT_CERT, 'nope'];
        },
        'spec.trustSources[0].notaryV1.rootKeys[1]',
        /^not PEM and not a 64-hex key ID/,
      ],
      [
        'rootKeys entry not a string',
        (d) => {
          notary(d).rootKeys = [ROOT_CERT, 5];
        },
        'spec.trustSources[0].notaryV1.rootKeys[1]',
        /must be a string/,
      ],
      [
        'duplicate key IDs',
        (d) => {
          notary(d).rootKeys = [KEY_ID, KEY_ID.toUpperCase()];
        },
        'spec.trustSources[0].notaryV1.rootKeys[1]',
        /duplicates rootKeys\[0\]/,
      ],
      [
        'duplicate certificates',
        (d) => {
          notary(d).rootKeys = [ROOT_CERT, `\n${ROOT_CERT}`];
        },
        'spec.trustSources[0].notaryV1.rootKeys[1]',
        /duplicates rootKeys\[0\]/,
      ],
      [
        'duplicate public keys',
        (d) => {
          notary(d).rootKeys = [EC_PUBLIC_KEY, EC_PUBLIC_KEY];
        },
        'spec.trustSources[0].notaryV1.rootKeys[1]',
        /duplicates/,
      ],
      [
        'empty rootKeys',
        (d) => {
          notary(d).rootKeys = [];
        },
        'spec.trustSources[0].notaryV1.rootKeys',
        /at least 1 entry/,
      ],
      [
        'rootCAs with a leaf',
        (d) => {
          notary(d).rootCAs = [ROOT_CERT];
        },
        'spec.trustSources[0].notaryV1.rootCAs[0]',
        /not a CA certificate/,
      ],
      [
        'no root of trust',
        (d) => {
          delete notary(d).rootKeys;
          delete notary(d).rootCAs;
        },
        'spec.trustSources[0].notaryV1',
        /no root of trust/,
      ],
      [
        'trustOnFirstUse false',
        (d) => {
          delete notary(d).rootKeys;
          delete notary(d).rootCAs;
          notary(d).trustOnFirstUse = false;
        },
        'spec.trustSources[0].notaryV1',
        /trustOnFirstUse: true/,
      ],
      [
        'notation without trustStore',
        (d) => {
          delete notation(d).trustStore;
        },
        'spec.trustSources[1].notation.trustStore',
        /is required/,
      ],
      [
        'notation trustStore without CAs',
        (d) => {
          notation(d).trustStore = { tsa: [CA_CERT] };
        },
        'spec.trustSources[1].notation.trustStore',
        /needs ca, signingAuthority or caRef/,
      ],
      [
        'notation CA not a CA',
        (d) => {
          notation(d).trustStore.ca = [ROOT_CERT];
        },
        'spec.trustSources[1].notation.trustStore.ca[0]',
        /not a CA/,
      ],
      [
        'notation tsaRef naming neither',
        (d) => {
          notation(d).trustStore.tsaRef = { key: 'k' };
        },
        'spec.trustSources[1].notation.trustStore.tsaRef',
        /exactly one/,
      ],
      [
        'notation bad level',
        (d) => {
          notation(d).level = 'lax';
        },
        'spec.trustSources[1].notation.level',
        /strict, permissive, audit, skip/,
      ],
      [
        'notation without identities',
        (d) => {
          delete notation(d).trustedIdentities;
        },
        'spec.trustSources[1].notation.trustedIdentities',
        /is required \(unless level is skip\)/,
      ],
      [
        'notation empty identities',
        (d) => {
          notation(d).trustedIdentities = [];
        },
        'spec.trustSources[1].notation.trustedIdentities',
        /at least 1 entry/,
      ],
      [
        'identities with skip',
        (d) => {
          notation(d).level = 'skip';
        },
        'spec.trustSources[1].notation.trustedIdentities',
        /absent when level is skip/,
      ],
      [
        'bad identity',
        (d) => {
          notation(d).trustedIdentities = ['CN=x'];
        },
        'spec.trustSources[1].notation.trustedIdentities[0]',
        /not a trusted identity/,
      ],
      [
        'identity missing O',
        (d) => {
          notation(d).trustedIdentities = ['x509.subject: C=US, ST=WA'];
        },
        'spec.trustSources[1].notation.trustedIdentities[0]',
        /C, ST and O/,
      ],
      [
        '"*" with others',
        (d) => {
          notation(d).trustedIdentities = ['*', 'x509.subject: C=US, ST=WA, O=x'];
        },
        'spec.trustSources[1].notation.trustedIdentities',
        /"\*" must be the only/,
      ],
      [
        'an identity overlapping a later one',
        (d) => {
          notation(d).trustedIdentities = [
            'x509.subject: C=US, ST=WA, O=x, CN=y',
            'x509.subject: C=US, ST=WA, O=x',
          ];
        },
        'spec.trustSources[1].notation.trustedIdentities[1]',
        /overlaps entry \[0\]/,
      ],
      [
        'overlapping identities',
        (d) => {
          notation(d).trustedIdentities = [
            'x509.subject: C=US, ST=WA, O=x',
            'x509.subject: C=US, ST=WA, O=x, CN=y',
          ];
        },
        'spec.trustSources[1].notation.trustedIdentities[1]',
        /overlaps entry \[0\]/,
      ],
      [
        'signer without role',
        (d) => {
          d.spec.signers = [{ required: true }];
        },
        'spec.signers[0].role',
        /is required/,
      ],
      [
        'signer with a top-level role',
        (d) => {
          d.spec.signers = [{ role: 'root' }];
        },
        'spec.signers[0].role',
        /top-level TUF role/,
      ],
      [
        'signer with bad characters',
        (d) => {
          d.spec.signers = [{ role: 'Release Managers' }];
        },
        'spec.signers[0].role',
        /not a role name/,
      ],
      [
        'signer with empty segment',
        (d) => {
          d.spec.signers = [{ role: 'a//b' }];
        },
        'spec.signers[0].role',
        /not a role name/,
      ],
      [
        'signer with trailing slash',
        (d) => {
          d.spec.signers = [{ role: 'a/' }];
        },
        'spec.signers[0].role',
        /not a role name/,
      ],
      [
        'signer nested too deep',
        (d) => {
          d.spec.signers = [{ role: 'a/b/c/d/e/f/g/h/i' }];
        },
        'spec.signers[0].role',
        /deeper than 8/,
      ],
      [
        'signer role too long',
        (d) => {
          d.spec.signers = [{ role: 'a'.repeat(250) }];
        },
        'spec.signers[0].role',
        /longer than 255/,
      ],
      [
        'duplicate signers',
        (d) => {
          d.spec.signers = [{ role: 'releases' }, { role: 'targets/releases' }];
        },
        'spec.signers[1].role',
        /duplicates spec.signers\[0\]/,
      ],
      [
        'signer required not boolean',
        (d) => {
          d.spec.signers = [{ role: 'releases', required: 'yes' }];
        },
        'spec.signers[0].required',
        /true or false/,
      ],
      [
        'signer bad identity',
        (d) => {
          d.spec.signers = [{ role: 'releases', identities: ['nope'] }];
        },
        'spec.signers[0].identities[0]',
        /not a trusted identity/,
      ],
      [
        'threshold zero',
        (d) => {
          d.spec.thresholds = { releases: 0 };
        },
        'spec.thresholds.releases',
        /at least 1/,
      ],
      [
        'threshold fractional',
        (d) => {
          d.spec.thresholds = { releases: 1.5 };
        },
        'spec.thresholds.releases',
        /whole number/,
      ],
      [
        'threshold too high',
        (d) => {
          d.spec.thresholds = { releases: 65 };
        },
        'spec.thresholds.releases',
        /at most 64/,
      ],
      [
        'threshold on a bad role',
        (d) => {
          d.spec.thresholds = { 'Bad Role': 1 };
        },
        'spec.thresholds["Bad Role"]',
        /not a role name/,
      ],
      [
        'threshold on the same role twice',
        (d) => {
          d.spec.thresholds = { releases: 1, 'targets/releases': 2 };
        },
        'spec.thresholds.targets/releases'.replace('.targets/releases', '["targets/releases"]'),
        /same role as "releases"/,
      ],
      [
        'allow not a mapping',
        (d) => {
          d.spec.allow = ['v*'];
        },
        'spec.allow',
        /mapping/,
      ],
      [
        'unknown allow field',
        (d) => {
          d.spec.allow.tags = ['x'];
        },
        'spec.allow.tags',
        /unknown field; expected one of: paths, expires/,
      ],
      [
        'bad tag pattern',
        (d) => {
          d.spec.allow.paths = ['v1/2'];
        },
        'spec.allow.paths[0]',
        /not a tag pattern/,
      ],
      [
        'empty paths',
        (d) => {
          d.spec.allow.paths = [];
        },
        'spec.allow.paths',
        /at least 1 entry/,
      ],
      [
        'bad duration',
        (d) => {
          d.spec.allow.expires = '15 days';
        },
        'spec.allow.expires',
        /number and a unit/,
      ],
      [
        'zero duration',
        (d) => {
          d.spec.allow.expires = '0d';
        },
        'spec.allow.expires',
        /positive/,
      ],
      [
        'duration not a string',
        (d) => {
          d.spec.allow.expires = 15;
        },
        'spec.allow.expires',
        /must be a string/,
      ],
      [
        'bad notaryV1Until',
        (d) => {
          d.spec.migration.notaryV1Until = '2027-03-01';
        },
        'spec.migration.notaryV1Until',
        /not an RFC 3339 instant/,
      ],
      [
        'impossible notaryV1Until',
        (d) => {
          d.spec.migration.notaryV1Until = '2027-02-30T00:00:00Z';
        },
        'spec.migration.notaryV1Until',
        /not an RFC 3339/,
      ],
      [
        'migration without notation',
        (d) => {
          d.spec.trustSources.pop();
        },
        'spec.migration.notaryV1Until',
        /no notation trust source/,
      ],
      [
        'unknown migration field',
        (d) => {
          d.spec.migration.until = 'x';
        },
        'spec.migration.until',
        /unknown field/,
      ],
      [
        'bad label key',
        (d) => {
          d.spec.namespaceSelector.matchLabels = { 'bad key!': 'x' };
        },
        'spec.namespaceSelector.matchLabels["bad key!"]',
        /not a valid label key/,
      ],
      [
        'bad label prefix',
        (d) => {
          d.spec.namespaceSelector.matchLabels = { 'Bad_Prefix/x': 'x' };
        },
        'spec.namespaceSelector.matchLabels["Bad_Prefix/x"]',
        /not a valid label key/,
      ],
      [
        'bad label value',
        (d) => {
          d.spec.namespaceSelector.matchLabels = { env: 'not ok' };
        },
        'spec.namespaceSelector.matchLabels.env',
        /not a valid label value/,
      ],
      [
        'In without values',
        (d) => {
          d.spec.namespaceSelector.matchExpressions = [{ key: 'a', operator: 'In' }];
        },
        'spec.namespaceSelector.matchExpressions[0].values',
        /needs at least one value/,
      ],
      [
        'Exists with values',
        (d) => {
          d.spec.namespaceSelector.matchExpressions = [
            { key: 'a', operator: 'Exists', values: ['x'] },
          ];
        },
        'spec.namespaceSelector.matchExpressions[0].values',
        /must be empty/,
      ],
      [
        'bad operator',
        (d) => {
          d.spec.namespaceSelector.matchExpressions = [{ key: 'a', operator: 'Has' }];
        },
        'spec.namespaceSelector.matchExpressions[0].operator',
        /one of: In, NotIn, Exists, DoesNotExist/,
      ],
      [
        'bad expression key',
        (d) => {
          d.spec.namespaceSelector.matchExpressions = [{ key: '-a', operator: 'Exists' }];
        },
        'spec.namespaceSelector.matchExpressions[0].key',
        /not a valid label key/,
      ],
      [
        'too many images',
        (d) => {
          d.spec.images = Array.from({ length: 257 }, (_, i) => `r.io/a${i}`);
        },
        'spec.images',
        /at most 256 entries/,
      ],
      [
        'too long glob',
        (d) => {
          d.spec.images = [`r.io/${'a'.repeat(300)}`];
        },
        'spec.images[0]',
        /at most 255 characters/,
      ],
      [
        'too many thresholds',
        (d) => {
          d.spec.thresholds = Object.fromEntries(
            Array.from({ length: 65 }, (_, i) => [`r${i}`, 1]),
          );
        },
        'spec.thresholds',
        /at most 64 entries/,
      ],
    ];

    it.each(cases)('reports %s', (_what, mutate, path, message) => {
      const doc = fullPolicy();
      mutate(doc);
      const errors = errorsOf(doc);
      expect(errors).toContainEqual({ path, message: expect.stringMatching(message) });
    });
  });

  describe('when there are several problems', () => {
    it('reports all of them', () => {
      const doc = fullPolicy();
      doc.spec.mode = 'x';
      doc.spec.images = ['nginx:1'];
      notary(doc).rootKeys = [ROOT_CERT, 'bad'];
      doc.spec.allow.expires = 'soon';
      const paths = errorsOf(doc).map((e) => e.path);
      expect(paths).toEqual(
        expect.arrayContaining([
          'spec.mode',
          'spec.images[0]',
          'spec.trustSources[0].notaryV1.rootKeys[1]',
          'spec.allow.expires',
        ]),
      );
    });

    it('does not report a pattern failure twice', () => {
      const doc = fullPolicy();
      doc.spec.allow.expires = 'soon';
      expect(errorsOf(doc).filter((e) => e.path === 'spec.allow.expires')).toHaveLength(1);
    });

    it('does not run semantic checks below a structural error', () => {
      const doc = fullPolicy();
      doc.spec.signers = [{ role: 'Bad Role', extra: 1 }];
      const errors = errorsOf(doc);
      expect(errors).toContainEqual({
        path: 'spec.signers[0].extra',
        message: expect.stringMatching(/unknown field/),
      });
      expect(errors).toContainEqual({
        path: 'spec.signers[0].role',
        message: expect.stringMatching(/not a role name/),
      });
    });

    it('tolerates wrongly typed values everywhere', () => {
      const doc = fullPolicy();
      doc.spec.namespaceSelector = {
        matchLabels: 'x',
        matchExpressions: ['x', { key: 1, operator: 'In', values: 'x' }],
      };
      doc.spec.trustSources = [
        'x',
        { name: 1, notaryV1: 'x' },
        { name: 'n', notation: { trustStore: 'x', trustedIdentities: 'x' } },
      ];
      doc.spec.signers = ['x', { role: 1 }];
      doc.spec.thresholds = 'x';
      doc.spec.allow = { paths: 'x', expires: 1 };
      doc.spec.migration = { notaryV1Until: 1 };
      expect(errorsOf(doc).length).toBeGreaterThan(5);
    });
  });
});

describe('toSchemaFieldError', () => {
  it('falls back to the ajv message for other keywords', () => {
    const base = { instancePath: '/mode', schemaPath: '#', params: {} };
    expect(
      toSchemaFieldError({ ...base, keyword: 'const', message: 'must be equal to constant' }, {}),
    ).toMatchObject({
      path: 'spec.mode',
      message: 'must be equal to constant',
    });
    expect(toSchemaFieldError({ ...base, keyword: 'const' }, {}).message).toBe('is invalid');
  });

  it('walks paths through values that are not there', () => {
    const e = {
      instancePath: '/a/b',
      schemaPath: '#',
      params: { type: 'number' },
      keyword: 'type',
    };
    expect(toSchemaFieldError(e, {})).toMatchObject({
      path: 'spec.a.b',
      message: 'must be number',
    });
  });

  it('lists no alternatives when the parent schema is unknown', () => {
    const e = {
      instancePath: '',
      schemaPath: '#',
      params: { additionalProperty: 'x' },
      keyword: 'additionalProperties',
    };
    expect(toSchemaFieldError(e, {}).message).toBe('unknown field; expected one of: ');
  });

  it('decodes JSON-pointer escapes in keys', () => {
    const e = {
      instancePath: '/thresholds/a~1b~0c',
      schemaPath: '#',
      params: { limit: 1 },
      keyword: 'minimum',
    };
    expect(toSchemaFieldError(e, { thresholds: { 'a/b~c': 0 } }).path).toBe(
      'spec.thresholds["a/b~c"]',
    );
  });

  it('describes a pattern failure without a description by its pattern', () => {
    const e = {
      instancePath: '/x',
      schemaPath: '#',
      params: { pattern: '^a$' },
      keyword: 'pattern',
      data: 'b',
      parentSchema: {},
    };
    expect(toSchemaFieldError(e, {}).message).toBe('"b" has the wrong form: expected ^a$');
  });
});

describe('toFieldPath', () => {
  it.each([
    ['', 'spec', 'spec'],
    ['spec', 'images', 'spec.images'],
    ['spec.images', 0, 'spec.images[0]'],
    ['spec.thresholds', 'release-managers', 'spec.thresholds.release-managers'],
    ['trust.repositories', 'r.io/a/*', 'trust.repositories["r.io/a/*"]'],
  ])('%j + %j = %j', (base, key, path) => {
    expect(toFieldPath(base, key)).toBe(path);
  });
});

describe('toNotaryRole / checkRoleName', () => {
  it.each([
    ['releases', 'targets/releases'],
    ['targets', 'targets'],
    ['targets/releases', 'targets/releases'],
    ['team/qa', 'targets/team/qa'],
  ])('maps %s to %s', (role, full) => {
    expect(toNotaryRole(role)).toBe(full);
    expect(checkRoleName(role)).toBeUndefined();
  });
});

describe('parseRfc3339', () => {
  it.each([
    ['2027-03-01T00:00:00Z', '2027-03-01T00:00:00.000Z'],
    ['2027-03-01T01:00:00+01:00', '2027-03-01T00:00:00.000Z'],
    ['2024-02-29T23:59:59.123Z', '2024-02-29T23:59:59.123Z'],
  ])('parses %s', (text, iso) => {
    expect(parseRfc3339(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '2027-03-01',
    '2027-13-01T00:00:00Z',
    '2027-02-29T00:00:00Z',
    '2027-03-01T24:00:00Z',
    '2027-03-01T00:60:00Z',
    '2027-03-01T00:00:60Z',
    '2027-03-01T00:00:00+24:00',
    '2027-03-01T00:00:00+01:60',
  ])('rejects %s', (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });
});
