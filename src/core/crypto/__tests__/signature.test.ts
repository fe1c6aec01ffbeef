// SPDX-License-Identifier: Apache-2.0
// Signature schemes notary uses (ecdsa raw r‖s, rsapss, eddsa) and every way to be invalid.
import { describe, expect, it } from '@jest/globals';
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { parseTufKey, computeKeyId, type TufPublicKey } from '../keys.js';
import { verifyTufSignature } from '../signature.js';
import { tufKey, tufSign, x509Key, type TestKey } from '../../../__fixtures__/builders/tuf-repo.js';

const msg = Buffer.from('{"_type":"Targets"}');
const pub = (k: TestKey): TufPublicKey => {
  const r = parseTufKey(k.keyId, k.keyType, k.publicValue);
  if (!r.ok) throw new Error(r.reason);
  return r.key;
};

describe('verifyTufSignature', () => {
  describe('when the signature is valid', () => {
    it.each(['ecdsa', 'ed25519', 'rsa'] as const)('accepts %s', (kind) => {
      const k = tufKey(kind, 0);
      expect(verifyTufSignature(pub(k), k.method.toUpperCase(), tufSign(k, msg), msg)).toBe(true);
    });
    it('accepts ecdsa-x509 and rsa-x509 keys', () => {
      const c = { cn: 'x', notBefore: new Date(0), notAfter: new Date('2100-01-01') };
      for (const k of [x509Key('ecdsa', 0, c), x509Key('rsa', 0, c)])
        expect(verifyTufSignature(pub(k), k.method, tufSign(k, msg), msg)).toBe(true);
    });
    it('accepts the "ed25519" method name as eddsa', () => {
      const k = tufKey('ed25519', 0);
      expect(verifyTufSignature(pub(k), 'ed25519', tufSign(k, msg), msg)).toBe(true);
    });
    it.each(['P-384', 'P-521'])('accepts %s ecdsa with a raw r‖s signature', (namedCurve) => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
      const v = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      const r = parseTufKey(computeKeyId('ecdsa', v), 'ecdsa', v);
      const sig = sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(r.ok && verifyTufSignature(r.key, 'ecdsa', sig, msg)).toBe(true);
    });
  });

  describe('when the signature is not valid', () => {
    const ec = tufKey('ecdsa', 0);
    const ed = tufKey('ed25519', 0);
    const rsa = tufKey('rsa', 0);
    it.each([
      [
        'a flipped byte',
        ec,
        'ecdsa',
        (s: Buffer) =>
          Buffer.concat([s.subarray(0, 10), Buffer.from([s[10]! ^ 1]), s.subarray(11)]),
      ],
      ['a DER ecdsa signature', ec, 'ecdsa', () => sign('sha256', msg, ec.privateKey)],
      ['an unknown method', ec, 'rsapkcs1v15', (s: Buffer) => s],
      ['ecdsa method on an rsa key', rsa, 'ecdsa', (s: Buffer) => s],
      ['rsapss on an ecdsa key', ec, 'rsapss', (s: Buffer) => s],
      ['eddsa on an ecdsa key', ec, 'eddsa', (s: Buffer) => s],
      [
        'an rsa signature longer than the modulus',
        rsa,
        'rsapss',
        (s: Buffer) => Buffer.concat([s, s]),
      ],
      ['an empty ed25519 signature', ed, 'eddsa', () => Buffer.alloc(0)],
    ])('refuses %s', (_what, key, method, change) => {
      expect(verifyTufSignature(pub(key), method, change(tufSign(key, msg)), msg)).toBe(false);
    });
    it('refuses RSA keys below 2048 bits', () => {
      const small = tufKey('rsa', 0, 1024);
      const sig = sign('sha256', msg, {
        key: small.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
      expect(verifyTufSignature(pub(small), 'rsapss', sig, msg)).toBe(false);
    });
    it('returns false instead of throwing when node:crypto rejects the input', () => {
      const broken = {
        keyId: 'x',
        keyType: 'ecdsa',
        key: { asymmetricKeyDetails: { namedCurve: 'prime256v1' } },
      } as unknown as TufPublicKey;
      expect(verifyTufSignature(broken, 'ecdsa', Buffer.alloc(64), msg)).toBe(false);
    });
    it('refuses ecdsa on curves notary does not use', () => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
      const v = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      const r = parseTufKey(computeKeyId('ecdsa', v), 'ecdsa', v);
      const sig = sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      expect(r.ok && verifyTufSignature(r.key, 'ecdsa', sig, msg)).toBe(false);
    });
  });
});
