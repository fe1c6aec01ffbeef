// SPDX-License-Identifier: Apache-2.0
// TUF key IDs (incl. the x509 rule and connaisseur pins), key parsing and pinned-key PEM rules.
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import { computeKeyId, parsePinnedKey, parseTufKey, splitPemCertificates } from '../keys.js';
import {
  keyPair,
  makeCertificate,
  tufKey,
  x509Key,
} from '../../../__fixtures__/builders/tuf-repo.js';
import {
  CONNAISSEUR_DIR,
  connaisseurYamlKey,
  readVector,
} from '../../../__fixtures__/builders/notary-vectors.js';

const CONN = CONNAISSEUR_DIR;
const cert = {
  cn: 'example.com/app',
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2036-01-01T00:00:00Z'),
};

describe('computeKeyId', () => {
  describe('when given the connaisseur key files', () => {
    it.each(['root', 'targets', 'snapshot', 'timestamp', 'del1', 'del2'])(
      '%s matches its _id.txt (x509 rule for root)',
      (name) => {
        const id = readVector(`${CONN}/trust_data/keys/${name}_id.txt`).toString().trim();
        const rootJson = JSON.parse(
          readVector(`${CONN}/trust_data/never-expire-with-delegations-image/root.json`).toString(),
        );
        const targetsJson = JSON.parse(
          readVector(
            `${CONN}/trust_data/never-expire-with-delegations-image/targets.json`,
          ).toString(),
        );
        const key = rootJson.signed.keys[id] ?? targetsJson.signed.delegations.keys[id];
        expect(computeKeyId(key.keytype, key.keyval.public)).toBe(id);
      },
    );
  });

  describe('when given the pinned-key configs (README §2e)', () => {
    it.each([
      [
        '01_notaryv1.yaml',
        'default',
        'ecdsa',
        'c15164663f80d58bf3d8d5a0cd08b8086cba02065feb00421fc2a5436c563210',
      ],
      [
        '01_notaryv1.yaml',
        'sse',
        'ecdsa',
        '5fd0a12a2fba07ea9fa39564d991be97a43256d1962ee84739efeebab3353a61',
      ],
      [
        '06_rsa_key.yaml',
        'rsa',
        'rsa',
        '932fc6749a68497dea96dd772487b524195f78d7d3cff990d12da7c87c1589df',
      ],
      [
        '09_extra_chars.yaml',
        'moreWhitespace',
        'ecdsa',
        '5fd0a12a2fba07ea9fa39564d991be97a43256d1962ee84739efeebab3353a61',
      ],
      [
        '10_unknown_keys.yaml',
        'ed25519',
        'unknown',
        '6d08660bb5540266b8e1b598f2bc33a8328f06297fcd0883e964ca51bb687838',
      ],
    ])('%s %s has the %s key id', (file, name, keytype, id) => {
      const pin = parsePinnedKey(connaisseurYamlKey(file, name));
      const der = pin.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      expect(computeKeyId(keytype, der)).toBe(id);
    });
  });
});

describe('parsePinnedKey', () => {
  describe('when the PEM is acceptable', () => {
    it('parses a certificate with its DER sha256 fingerprint', () => {
      const k = x509Key('ecdsa', 0, cert);
      const pin = parsePinnedKey(`\n${k.certPem!}  \n`);
      expect(pin.kind).toBe('certificate');
      if (pin.kind !== 'certificate') throw new Error('unreachable');
      expect(pin.fingerprint).toBe(pin.cert.fingerprint256.replace(/:/g, '').toLowerCase());
      expect(pin.publicKey.equals(k.publicKey)).toBe(true);
    });
    it('parses an SPKI public key with trailing whitespace', () => {
      expect(
        parsePinnedKey(connaisseurYamlKey('09_extra_chars.yaml', 'moreWhitespace') + '   \n').kind,
      ).toBe('publicKey');
    });
  });

  describe('when the PEM is not acceptable', () => {
    it.each([
      [
        'PKCS#1 RSA PUBLIC KEY',
        connaisseurYamlKey('07_invalid_pub_key.yaml', 'invalid_pub_key'),
        /PKCS#1/,
      ],
      ['trailing text', connaisseurYamlKey('09_extra_chars.yaml', 'moreLines'), /exactly one/],
      ['DER without armour', connaisseurYamlKey('15_DER_key_format.yaml', 'default'), /not PEM/],
      [
        'an unparseable key',
        connaisseurYamlKey('10_unknown_keys.yaml', 'dilithium'),
        /unparseable PUBLIC KEY/,
      ],
      [
        'a broken certificate',
        '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
        /unparseable CERTIFICATE/,
      ],
    ])('refuses %s', (_what, pem, message) => {
      expect(() => parsePinnedKey(pem)).toThrowWithCode(ConfigError, 'INVALID_POLICY');
      expect(() => parsePinnedKey(pem)).toThrow(message);
    });
  });
});

describe('parseTufKey', () => {
  describe('when many keys are parsed', () => {
    it('keeps answering correctly after the cache fills and is cleared', () => {
      const k = tufKey('ecdsa', 0);
      for (let i = 0; i < 4100; i++) parseTufKey('x', 'unknown', String(i));
      const r = parseTufKey(k.keyId, k.keyType, k.publicValue);
      expect(r.ok).toBe(true);
    });
  });

  describe('when the key is well-formed', () => {
    it.each(['ecdsa', 'ed25519', 'rsa'] as const)('parses %s and caches the KeyObject', (kind) => {
      const k = tufKey(kind, 0);
      const a = parseTufKey(k.keyId, k.keyType, k.publicValue);
      const b = parseTufKey(k.keyId, k.keyType, k.publicValue);
      expect(a.ok && b.ok && a.key === b.key).toBe(true);
    });
    it('parses an x509 key with its certificate and intermediates', () => {
      const k = x509Key('ecdsa', 0, cert);
      const extra = makeCertificate(keyPair('ecdsa', 1).publicKey, keyPair('ecdsa', 1).privateKey, {
        ...cert,
        cn: 'mid',
        ca: true,
      });
      const bundle = Buffer.from(k.certPem! + extra).toString('base64');
      const r = parseTufKey(computeKeyId('ecdsa-x509', bundle), 'ecdsa-x509', bundle);
      expect(r.ok && r.key.cert?.subject).toBe('CN=example.com/app');
      expect(r.ok && r.key.intermediates).toHaveLength(1);
      expect(
        splitPemCertificates(
          k.certPem! + '-----BEGIN PUBLIC KEY-----\nAA==\n-----END PUBLIC KEY-----\n',
        ),
      ).toHaveLength(1);
      expect(splitPemCertificates(k.certPem!.repeat(12))).toHaveLength(9);
    });
  });

  describe('when the key is unusable', () => {
    const ec = tufKey('ecdsa', 0);
    const ed = tufKey('ed25519', 0);
    const rsaDer = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    const cases: {
      what: string;
      declared?: string;
      type: string;
      pub: string;
      message: RegExp | null;
    }[] = [
      {
        what: 'a declared id that differs',
        declared: 'ab'.repeat(32),
        type: 'ecdsa',
        pub: ec.publicValue,
        message: /does not match/,
      },
      {
        what: 'an unknown key type',
        type: 'dilithium',
        pub: ec.publicValue,
        message: /unsupported key type/,
      },
      { what: 'non-base64 public', type: 'ecdsa', pub: 'i@mwrong', message: /not base64/ },
      {
        what: 'ed25519 of the wrong size',
        type: 'ed25519',
        pub: Buffer.alloc(31).toString('base64'),
        message: /32 bytes/,
      },
      {
        what: 'garbage DER',
        type: 'ecdsa',
        pub: Buffer.from('garbage!').toString('base64'),
        message: /unparseable/,
      },
      {
        what: 'an ecdsa key type holding ed25519',
        type: 'ecdsa',
        pub: Buffer.concat([
          Buffer.from('302a300506032b6570032100', 'hex'),
          Buffer.from(ed.publicValue, 'base64'),
        ]).toString('base64'),
        message: /holds a ed25519 key/,
      },
      {
        what: 'an rsa type holding an EC key',
        type: 'rsa',
        pub: ec.publicValue,
        message: /holds a ec key/,
      },
      {
        what: 'x509 without a certificate',
        type: 'ecdsa-x509',
        pub: Buffer.from('no pem').toString('base64'),
        message: /no PEM certificate/,
      },
      {
        what: 'x509 with an RSA cert as ecdsa-x509',
        type: 'ecdsa-x509',
        pub: x509Key('rsa', 0, cert).publicValue,
        message: /holds a rsa key/,
      },
      {
        what: 'rsa 1024 is parsed (refused at verification)',
        type: 'rsa',
        pub: rsaDer,
        message: null,
      },
    ];
    it.each(cases)('reports $what', ({ declared, type, pub, message }) => {
      const r = parseTufKey(declared ?? computeKeyId(type, pub), type, pub);
      if (message === null) expect(r.ok).toBe(true);
      else expect(r.ok ? 'ok' : r.reason).toMatch(message);
    });
  });
});
