// SPDX-License-Identifier: Apache-2.0
// TUF signature verification with notary's method names (tuf/signed/verifiers.go):
// ecdsa = raw r‖s over SHA-256, rsapss = RSA-PSS SHA-256 salt 32, eddsa = Ed25519.

import { constants, verify } from 'node:crypto';
import type { TufPublicKey } from './keys.js';

/** notary.MinRSABitSize */
export const MIN_RSA_BITS = 2048;

/**
 * Verify one signature over `message` (the canonical bytes of `signed`). `method` is compared
 * lower-cased, as notary lower-cases it on unmarshal. An unknown method, a method that does
 * not fit the key type, a malformed signature or RSA below 2048 bits is simply not valid:
 * this never throws on attacker data.
 */
export function verifyTufSignature(
  key: TufPublicKey,
  method: string,
  signature: Uint8Array,
  message: Uint8Array,
): boolean {
  try {
    switch (method.toLowerCase()) {
      case 'ecdsa': {
        if (key.keyType !== 'ecdsa' && key.keyType !== 'ecdsa-x509') return false;
        // The signature must be exactly r‖s for the curve: 2·⌈bits/8⌉ (notary ecdsaVerifier).
        const curve = key.key.asymmetricKeyDetails!.namedCurve;
        const size =
          curve === 'prime256v1' ? 32 : curve === 'secp384r1' ? 48 : curve === 'secp521r1' ? 66 : 0;
        if (size === 0 || signature.length !== 2 * size) return false;
        return verify('sha256', message, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
      }
      case 'rsapss': {
        if (key.keyType !== 'rsa' && key.keyType !== 'rsa-x509') return false;
        if (key.key.asymmetricKeyDetails!.modulusLength! < MIN_RSA_BITS) return false;
        return verify(
          'sha256',
          message,
          { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
          signature,
        );
      }
      case 'eddsa':
      case 'ed25519': {
        if (key.keyType !== 'ed25519') return false;
        return verify(null, message, key.key, signature);
      }
      default:
        return false;
    }
  } catch {
    // Attacker data must never throw out of signature checking, whatever node:crypto does with it.
    return false;
  }
}
