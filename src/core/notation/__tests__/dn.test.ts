// SPDX-License-Identifier: Apache-2.0
// Leaf subject handling from DER: display order and RFC 4514 escaping, multi-valued RDNs,
// and the subjects notation cannot match (repeated types, unknown attribute types, `=#`).

import { describe, expect, it } from '@jest/globals';
import { generated, identity } from '../../../__fixtures__/notation/builders.js';
import { parseCertificateInfo } from '../der.js';
import { matchesIdentity, toDnString, toSubjectMap } from '../dn.js';

const subjectOf = (name: string) => parseCertificateInfo(generated(name).cert.raw).subject;

describe('toDnString', () => {
  describe('when the subject has special characters or multi-valued RDNs', () => {
    it('prints the last RDN first and escapes per RFC 4514', () => {
      expect(toDnString(subjectOf('dn-escapes'))).toBe(
        'CN=\\#1 \\"quoted\\"\\ ,O=Acme\\, Inc.,ST=WA,C=US',
      );
    });
    it('joins a multi-valued RDN with +', () => {
      expect(toDnString(subjectOf('dn-multivalued'))).toBe(
        'OU=Release+CN=release-bot,O=Trustgate Test,ST=WA,C=US',
      );
    });
    it('prints unknown attribute types by OID', () => {
      expect(toDnString(subjectOf('dn-email'))).toBe(
        '1.2.840.113549.1.9.1=x@example.com,CN=x,O=Trustgate Test,ST=WA,C=US',
      );
    });
  });
});

describe('toSubjectMap', () => {
  describe('when the subject is representable', () => {
    it('flattens a multi-valued RDN (as Go pkix.Name does) and keeps exact values', () => {
      const r = toSubjectMap(subjectOf('dn-multivalued'));
      expect(r.ok && Object.fromEntries(r.map)).toEqual({
        C: 'US',
        ST: 'WA',
        O: 'Trustgate Test',
        OU: 'Release',
        CN: 'release-bot',
      });
      const e = toSubjectMap(subjectOf('dn-escapes'));
      expect(e.ok && e.map.get('O')).toBe('Acme, Inc.');
    });
  });

  describe('when notation could not match it', () => {
    it.each([
      ['dn-repeated-ou', /OU appears more than once/],
      ['dn-email', /1\.2\.840\.113549\.1\.9\.1 is not supported/],
    ])('%s is refused', (name, reason) => {
      const r = toSubjectMap(subjectOf(name));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(reason);
    });
  });
});

describe('matchesIdentity', () => {
  const subject = new Map([
    ['C', 'US'],
    ['ST', 'WA'],
    ['O', 'Acme, Inc.'],
  ]);
  it.each<[string, ReadonlyMap<string, string> | '*', boolean]>([
    ['wildcard', '*', true],
    ['subset', identity({ C: 'US', O: 'Acme, Inc.' }), true],
    ['lower-case key and S alias', identity({ c: 'US', S: 'WA' }), true],
    ['value differs', identity({ C: 'US', O: 'Acme' }), false],
    ['attribute absent from the subject', identity({ C: 'US', CN: 'x' }), false],
    ['empty identity', new Map(), false],
  ])('%s → %s', (_n, id, ok) => {
    expect(matchesIdentity(id, subject)).toBe(ok);
  });
});
