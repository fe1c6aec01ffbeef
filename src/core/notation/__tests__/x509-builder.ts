// SPDX-License-Identifier: Apache-2.0
// Test-time X.509 certificates for the DER reader and the certificate requirements: shapes the committed
// test PKI (src/__fixtures__/notation/generated) lacks and openssl will not write — no keyUsage, a CA
// without keyCertSign, a key node:crypto cannot decode, an impossible date, hand-broken DER.
// Written with the dev-certificate DER encoder and signed (ECDSA P-256, SHA-256) with node:crypto.

import { generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import {
  derBoolean,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  derTlv,
  derUtf8String,
} from '../../../tls/der.js';
import { KEY_USAGE_BITS, type KeyUsageBit } from '../der.js';

export const OID = {
  commonName: '2.5.4.3',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
} as const;

/** A P-256 key pair (fresh per call). */
export function ecKeys(namedCurve = 'P-256'): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve });
}

/** `CN=<cn>` as a DER Name; `value` replaces the UTF8String (any tag) when given. */
export function dn(cn: string, value: Buffer = derUtf8String(cn)): Buffer {
  return derSequence(derSet(derSequence(derOid(OID.commonName), value)));
}

export function extension(oid: string, value: Buffer, critical = false): Buffer {
  return derSequence(derOid(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value));
}

/** keyUsage extension with the named bits set (RFC 5280 bit order). */
export function keyUsage(bits: readonly KeyUsageBit[], critical = true): Buffer {
  const b = [0, 0];
  for (const name of bits) {
    const i = KEY_USAGE_BITS.indexOf(name);
    b[i >> 3]! |= 0x80 >> (i & 7);
  }
  return extension(OID.keyUsage, derTlv(0x03, Buffer.from([0, ...b])), critical);
}

export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  return extension(
    OID.basicConstraints,
    derSequence(
      ...(ca ? [derBoolean(true)] : []),
      ...(pathLen === undefined ? [] : [derInteger(pathLen)]),
    ),
    true,
  );
}

export const CODE_SIGNING_EKU = extension(OID.extKeyUsage, derSequence(derOid(OID.codeSigning)));

/** Extensions of a well-formed code-signing leaf and of a well-formed CA. */
export const LEAF_EXTENSIONS = [keyUsage(['digitalSignature']), CODE_SIGNING_EKU];
export const CA_EXTENSIONS = [basicConstraints(true), keyUsage(['keyCertSign', 'cRLSign'])];

export interface CertSpec {
  /** Subject CN (ignored when `subject` is given). */
  readonly cn?: string;
  readonly subject?: Buffer;
  /** Issuer Name; defaults to the subject (self-issued). */
  readonly issuer?: Buffer;
  /** SubjectPublicKeyInfo DER; defaults to `publicKey`'s. */
  readonly spki?: Buffer;
  readonly publicKey?: KeyObject;
  /** Signs the TBSCertificate (ECDSA P-256). */
  readonly signingKey: KeyObject;
  /** The Validity SEQUENCE; defaults to 2020-01-01 .. 2120-01-01. */
  readonly validity?: Buffer;
  readonly extensions?: readonly Buffer[];
}

export const DEFAULT_VALIDITY = derSequence(
  derTime(new Date('2020-01-01T00:00:00Z')),
  derTime(new Date('2120-01-01T00:00:00Z')),
);

/** The DER certificate (v3, serial 1, ecdsa-with-SHA256). */
export function certificateDer(spec: CertSpec): Buffer {
  const subject = spec.subject ?? dn(spec.cn ?? 'test');
  const alg = derSequence(derOid(OID.ecdsaWithSha256));
  const spki = spec.spki ?? spec.publicKey!.export({ type: 'spki', format: 'der' });
  const tbs = derSequence(
    derTlv(0xa0, derInteger(2)),
    derInteger(1),
    alg,
    spec.issuer ?? subject,
    spec.validity ?? DEFAULT_VALIDITY,
    subject,
    spki,
    ...(spec.extensions ? [derTlv(0xa3, derSequence(...spec.extensions))] : []),
  );
  return derSequence(
    tbs,
    alg,
    derTlv(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, spec.signingKey)])),
  );
}

export function certificate(spec: CertSpec): X509Certificate {
  return new X509Certificate(certificateDer(spec));
}

/** A self-signed certificate for a fresh key (its own issuer). */
export function selfSigned(extensions: readonly Buffer[], cn = 'self'): X509Certificate {
  const k = ecKeys();
  return certificate({ cn, publicKey: k.publicKey, signingKey: k.privateKey, extensions });
}

/** A self-signed CA (`extensions`, default a well-formed CA) plus its key, to issue leaves with. */
export function testCa(
  extensions: readonly Buffer[] = CA_EXTENSIONS,
  cn = 'Test CA',
): { cert: X509Certificate; key: KeyObject; name: Buffer } {
  const k = ecKeys();
  const name = dn(cn);
  return {
    cert: certificate({
      subject: name,
      publicKey: k.publicKey,
      signingKey: k.privateKey,
      extensions,
    }),
    key: k.privateKey,
    name,
  };
}

/** An EC P-256 SubjectPublicKeyInfo whose point node:crypto cannot decode. */
export const UNDECODABLE_SPKI = derSequence(
  derSequence(derOid('1.2.840.10045.2.1'), derOid('1.2.840.10045.3.1.7')),
  derTlv(0x03, Buffer.from([0, 4, 1, 2, 3])),
);

/** A certificate issued by `ca` for a fresh key (or for `spki`). */
export function issue(
  ca: { key: KeyObject; name: Buffer },
  extensions: readonly Buffer[] = LEAF_EXTENSIONS,
  opts: { cn?: string; spki?: Buffer } = {},
): X509Certificate {
  return certificate({
    cn: opts.cn ?? 'leaf',
    issuer: ca.name,
    ...(opts.spki ? { spki: opts.spki } : { publicKey: ecKeys().publicKey }),
    signingKey: ca.key,
    extensions,
  });
}
