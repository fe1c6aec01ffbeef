// SPDX-License-Identifier: Apache-2.0
// Notation verification checks over a parsed envelope (notation-go verifier/verifier.go semantics):
// integrity, authenticity (trust store), trusted identity, expiry, authentic timestamp → one CheckResult each.

// Spec: notaryproject/specifications@d4b62b9 trust-store-trust-policy.md § Signature Verification details,
// signature-specification.md § Certificate Requirements / Algorithm Selection;
// notation-core-go@ef87896 x509/codesigning_cert_validations.go, internal/algorithm/algorithm.go.
//
// Where checks live differs from the brief in one deliberate way: the certificate-chain STRUCTURE
// (each certificate issued by the next, self-signed last, basicConstraints/keyUsage/EKU, no SHA-1)
// is part of integrity, as in notation-core-go (envelope Verify → ValidateCodeSigningCertChain), so it
// is enforced at every level. Authenticity only decides whether that proven chain reaches the trust
// store; validity in time belongs to the authentic-timestamp check.

import { constants, createHash, verify as cryptoVerify, type X509Certificate } from 'node:crypto';
import { VerificationError, type VerificationCode } from '../errors.js';
import type { CompiledNotationSource } from '../policy/types.js';
import { parseCertificateInfo, type CertificateInfo, type DerError } from './der.js';
import { matchesIdentity, toDnString, toSubjectMap } from './dn.js';
import {
  ATTR,
  PAYLOAD_CONTENT_TYPE,
  type NotationAlgorithm,
  type SignedEnvelope,
} from './envelope.js';

export type CheckName =
  'integrity' | 'authenticity' | 'trustedIdentity' | 'expiry' | 'authenticTimestamp';

/** notation-go style per-check result. `error` is set exactly when `ok` is false. */
export interface CheckResult {
  readonly check: CheckName;
  readonly ok: boolean;
  readonly error?: VerificationError;
}

/**
 * `err` itself when it is a VerificationError, else SIGNATURE_INVALID `<context>: <err>`: node:crypto
 * throws plain Errors (e.g. for a certificate key it cannot decode).
 */
export function toVerificationError(err: unknown, context: string): VerificationError {
  if (err instanceof VerificationError) return err;
  return new VerificationError('SIGNATURE_INVALID', `${context}: ${String(err)}`, { cause: err });
}

function fail(check: CheckName, code: VerificationCode, message: string): CheckResult {
  return { check, ok: false, error: new VerificationError(code, message) };
}

const infoCache = new WeakMap<X509Certificate, CertificateInfo>();

/**
 * Parsed DER fields of a certificate (cached per object).
 * @throws VerificationError SIGNATURE_INVALID
 */
export function certificateInfo(cert: X509Certificate): CertificateInfo {
  let info = infoCache.get(cert);
  if (!info) {
    try {
      info = parseCertificateInfo(cert.raw);
    } catch (err) {
      // parseCertificateInfo throws only DerError.
      throw new VerificationError(
        'SIGNATURE_INVALID',
        `certificate ${JSON.stringify(cert.subject)}: ${(err as DerError).message}`,
        {
          cause: err,
        },
      );
    }
    infoCache.set(cert, info);
  }
  return info;
}

/** Subject of a certificate in notation's display order, for messages and outcomes. */
export function subjectOf(cert: X509Certificate): string {
  try {
    return toDnString(certificateInfo(cert).subject);
  } catch {
    return cert.subject.replace(/\n/g, ',');
  }
}

/** `Tue, 27 Jun 2023 06:10:00 +0000`, the format notation uses in messages. */
export function formatTime(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

// ---------------------------------------------------------------------------------------------
// Integrity

// Key size / curve → the one algorithm it may sign with (a table, not a switch: the key
// details are plain number/string values, so there is no union to check exhaustively).
const RSA_ALGORITHMS: ReadonlyMap<number | undefined, NotationAlgorithm> = new Map([
  [2048, 'PS256'],
  [3072, 'PS384'],
  [4096, 'PS512'],
]);
const EC_ALGORITHMS: ReadonlyMap<string | undefined, NotationAlgorithm> = new Map([
  ['prime256v1', 'ES256'],
  ['secp384r1', 'ES384'],
  ['secp521r1', 'ES512'],
]);

/**
 * The only algorithm a leaf key may sign with (signature-specification.md § Algorithm Selection):
 * RSA 2048/3072/4096 → PS256/384/512, EC P-256/384/521 → ES256/384/512. Anything else is refused.
 * @throws VerificationError SIGNATURE_INVALID
 */
export function algorithmForKey(cert: X509Certificate): NotationAlgorithm {
  const key = cert.publicKey;
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const alg = RSA_ALGORITHMS.get(d?.modulusLength);
    if (alg) return alg;
    throw new VerificationError(
      'SIGNATURE_INVALID',
      `unsupported RSA key size ${String(d?.modulusLength)} in the signing certificate (2048, 3072 or 4096 required)`,
    );
  }
  if (key.asymmetricKeyType === 'ec') {
    const alg = EC_ALGORITHMS.get(d?.namedCurve);
    if (alg) return alg;
    throw new VerificationError(
      'SIGNATURE_INVALID',
      `unsupported EC curve ${String(d?.namedCurve)} in the signing certificate (P-256, P-384 or P-521 required)`,
    );
  }
  throw new VerificationError(
    'SIGNATURE_INVALID',
    `unsupported key type ${String(key.asymmetricKeyType)} in the signing certificate (RSA or EC required)`,
  );
}

const HASH: Readonly<Record<NotationAlgorithm, string>> = {
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};
const EC_SIGNATURE_BYTES: Readonly<Partial<Record<NotationAlgorithm, number>>> = {
  ES256: 64,
  ES384: 96,
  ES512: 132,
};

/**
 * Verify the signature over the signing input with the leaf key, using the algorithm derived from
 * that key (never the header's choice alone: prevents algorithm substitution).
 * @throws VerificationError SIGNATURE_INVALID
 */
export function verifyEnvelopeSignature(env: SignedEnvelope): void {
  const leaf = env.certChain[0]!;
  const expected = algorithmForKey(leaf);
  if (env.signedAttrs.alg !== expected) {
    throw new VerificationError(
      'SIGNATURE_INVALID',
      `signature algorithm ${env.signedAttrs.alg} does not match the signing certificate's key (requires ${expected})`,
    );
  }
  const hash = HASH[expected];
  const ecLength = EC_SIGNATURE_BYTES[expected];
  let ok: boolean;
  if (ecLength !== undefined) {
    // JWA/COSE ECDSA signatures are raw r‖s (IEEE P1363), never DER.
    ok =
      env.signature.length === ecLength &&
      cryptoVerify(
        hash,
        env.signingInput,
        { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' },
        env.signature,
      );
  } else {
    ok = cryptoVerify(
      hash,
      env.signingInput,
      {
        key: leaf.publicKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      },
      env.signature,
    );
  }
  if (!ok)
    throw new VerificationError(
      'SIGNATURE_INVALID',
      'the signature does not verify with the signing certificate',
    );
}

/**
 * Signed-attribute rules (signature-specification.md § Signed Attributes; notation-core-go JWS/COSE parsers).
 * @throws VerificationError SIGNATURE_INVALID
 */
export function verifySignedAttributes(env: SignedEnvelope): void {
  const a = env.signedAttrs;
  const bad = (m: string): never => {
    throw new VerificationError('SIGNATURE_INVALID', m);
  };
  if (a.cty !== PAYLOAD_CONTENT_TYPE)
    bad(`content type ${JSON.stringify(a.cty)} is not ${PAYLOAD_CONTENT_TYPE}`);
  // Plugins are named first: "requires a plugin" is the actionable message for these signatures.
  if (a.verificationPlugin !== undefined || a.crit.includes(ATTR.verificationPlugin)) {
    bad(
      `the signature requires the verification plugin ${JSON.stringify(a.verificationPlugin ?? '')}; trustgate does not run verification plugins`,
    );
  }
  if (a.verificationPluginMinVersion !== undefined) {
    bad(
      'the signature requires a verification plugin version; trustgate does not run verification plugins',
    );
  }
  const names = new Set(a.names);
  for (const c of a.crit) {
    if (!names.has(c))
      bad(`critical attribute ${JSON.stringify(c)} is listed in crit but not present`);
  }
  if (a.unknownCritical.length > 0)
    bad(
      `unknown critical attribute(s) ${a.unknownCritical.map((c) => JSON.stringify(c)).join(', ')}`,
    );
  if (!a.crit.includes(ATTR.signingScheme)) bad(`${ATTR.signingScheme} must be marked critical`);
  if (a.expiry && !a.crit.includes(ATTR.expiry)) bad(`${ATTR.expiry} must be marked critical`);
  if (a.signingScheme === 'notary.x509') {
    if (!a.signingTime) bad(`${ATTR.signingTime} is required by the notary.x509 signing scheme`);
    if (names.has(ATTR.authenticSigningTime))
      bad(`${ATTR.authenticSigningTime} is not allowed in the notary.x509 signing scheme`);
  } else {
    if (!a.authenticSigningTime)
      bad(
        `${ATTR.authenticSigningTime} is required by the notary.x509.signingAuthority signing scheme`,
      );
    if (!a.crit.includes(ATTR.authenticSigningTime))
      bad(`${ATTR.authenticSigningTime} must be marked critical`);
    if (names.has(ATTR.signingTime))
      bad(`${ATTR.signingTime} is not allowed in the notary.x509.signingAuthority signing scheme`);
  }
  const signedAt = a.signingTime ?? a.authenticSigningTime;
  if (a.expiry && signedAt && a.expiry.getTime() <= signedAt.getTime())
    bad('expiry is not after the signing time');
}

// Certificate signature algorithms accepted in the chain: SHA-1 and MD5 are refused (Go x509 does too).
const CERT_SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  '1.2.840.113549.1.1.11', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13', // sha512WithRSAEncryption
  '1.2.840.113549.1.1.10', // RSASSA-PSS
  '1.2.840.10045.4.3.2', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4', // ecdsa-with-SHA512
  '1.3.101.112', // Ed25519
]);
// EKUs a code-signing leaf must not carry (spec: anyExtendedKeyUsage; notation-core-go: the others).
const FORBIDDEN_LEAF_EKU: ReadonlyMap<string, string> = new Map([
  ['1.3.6.1.5.5.7.3.1', 'serverAuth'],
  ['1.3.6.1.5.5.7.3.2', 'clientAuth'],
  ['1.3.6.1.5.5.7.3.4', 'emailProtection'],
  ['1.3.6.1.5.5.7.3.8', 'timeStamping'],
  ['1.3.6.1.5.5.7.3.9', 'OCSPSigning'],
  ['2.5.29.37.0', 'anyExtendedKeyUsage'],
]);
const FORBIDDEN_LEAF_KU = [
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;

// Issuance is decided like notation-core-go (RawIssuer == parent RawSubject + signature check), not with
// X509Certificate.checkIssued: OpenSSL's check also demands keyCertSign, which a self-signed leaf lacks.
function isIssuedBy(c: X509Certificate, issuer: X509Certificate): boolean {
  if (!Buffer.from(certificateInfo(c).rawIssuer).equals(certificateInfo(issuer).rawSubject))
    return false;
  try {
    return c.verify(issuer.publicKey);
  } catch {
    return false; // e.g. an unsupported issuer key type
  }
}

function isSelfSigned(c: X509Certificate): boolean {
  return isIssuedBy(c, c);
}

/**
 * Code-signing chain structure and certificate requirements (signature-specification.md
 * § Certificate Requirements; notation-core-go ValidateCodeSigningCertChain). Time is not checked here.
 * @throws VerificationError SIGNATURE_INVALID
 */
export function verifyCertificateChain(chain: readonly X509Certificate[]): void {
  const bad = (i: number, m: string): never => {
    throw new VerificationError(
      'SIGNATURE_INVALID',
      `certificate chain[${i}] ${JSON.stringify(subjectOf(chain[i]!))}: ${m}`,
    );
  };
  const last = chain.length - 1;
  chain.forEach((cert, i) => {
    const info = certificateInfo(cert);
    if (!CERT_SIGNATURE_ALGORITHMS.has(info.signatureAlgorithm))
      bad(i, `signature algorithm ${info.signatureAlgorithm} is not allowed`);
    if (i < last) {
      const issuer = chain[i + 1]!;
      if (!isIssuedBy(cert, issuer)) bad(i, 'is not issued by the next certificate in the chain');
      if (isSelfSigned(cert)) bad(i, 'is self-signed but is not the last certificate of the chain');
    } else if (!isSelfSigned(cert)) {
      bad(i, 'the last certificate of the chain must be a self-signed root');
    }
    if (i === 0) {
      // Leaf rules (also for a single self-signed certificate).
      if (info.basicConstraints?.ca)
        bad(i, 'the signing certificate must not be a CA (basicConstraints cA=true)');
      if (!info.keyUsage) bad(i, 'keyUsage extension is missing');
      if (!info.keyUsage!.critical) bad(i, 'keyUsage extension must be marked critical');
      if (!info.keyUsage!.bits.has('digitalSignature'))
        bad(i, 'keyUsage must include digitalSignature');
      for (const k of FORBIDDEN_LEAF_KU)
        if (info.keyUsage!.bits.has(k)) bad(i, `keyUsage must not include ${k}`);
      for (const oid of info.extKeyUsage?.oids ?? []) {
        const name = FORBIDDEN_LEAF_EKU.get(oid);
        if (name) bad(i, `extendedKeyUsage must not include ${name}`);
      }
    } else {
      if (!info.basicConstraints?.ca)
        bad(i, 'is not a CA certificate (basicConstraints cA=true required)');
      const below = i - 1; // CA certificates below this one in the chain
      const pathLen = info.basicConstraints!.pathLen;
      if (pathLen !== undefined && pathLen < below)
        bad(i, `pathLenConstraint ${pathLen} is exceeded`);
      if (!info.keyUsage) bad(i, 'keyUsage extension is missing');
      if (!info.keyUsage!.critical) bad(i, 'keyUsage extension must be marked critical');
      if (!info.keyUsage!.bits.has('keyCertSign')) bad(i, 'keyUsage must include keyCertSign');
    }
  });
}

/**
 * Integrity (always enforced): signed attributes, chain structure, algorithm from the leaf key, signature.
 * Never throws; a failure is `SIGNATURE_INVALID`.
 */
export function checkIntegrity(env: SignedEnvelope): CheckResult {
  try {
    verifySignedAttributes(env);
    verifyCertificateChain(env.certChain);
    verifyEnvelopeSignature(env);
    return { check: 'integrity', ok: true };
  } catch (err) {
    return {
      check: 'integrity',
      ok: false,
      error: toVerificationError(err, 'integrity check failed'),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Authenticity

/**
 * Trust store (notation-core-go VerifyAuthenticity): some certificate of the (integrity-proven) chain
 * must be byte-identical to a certificate in the store of the scheme's type — `ca` for notary.x509,
 * `signingAuthority` for notary.x509.signingAuthority. Trust is per certificate, not per key.
 * Failure: `ROOT_NOT_TRUSTED`.
 */
export function checkAuthenticity(
  env: SignedEnvelope,
  trustStore: CompiledNotationSource['trustStore'],
): CheckResult {
  const sa = env.signedAttrs.signingScheme === 'notary.x509.signingAuthority';
  const store = sa ? trustStore.signingAuthority : trustStore.ca;
  const type = sa ? 'signingAuthority' : 'ca';
  if (store.length === 0) {
    return fail(
      'authenticity',
      'ROOT_NOT_TRUSTED',
      `the signature uses the ${env.signedAttrs.signingScheme} scheme but the trust source has no ${type} trust store certificates`,
    );
  }
  const trusted = env.certChain.some((c) => store.some((s) => s.raw.equals(c.raw)));
  if (!trusted) {
    return fail(
      'authenticity',
      'ROOT_NOT_TRUSTED',
      `the signature's certificate chain (root ${JSON.stringify(subjectOf(env.certChain[env.certChain.length - 1]!))}) does not contain any certificate of the ${type} trust store`,
    );
  }
  return { check: 'authenticity', ok: true };
}

/**
 * Trusted identity: one `x509.subject` identity must be a subset of the leaf subject, or `*`.
 * Failure: `UNTRUSTED_IDENTITY`.
 */
export function checkTrustedIdentity(
  env: SignedEnvelope,
  identities: CompiledNotationSource['trustedIdentities'],
): CheckResult {
  if (identities.length === 0) {
    return fail(
      'trustedIdentity',
      'UNTRUSTED_IDENTITY',
      'the trust source has no trusted identities configured (use "*" to accept any identity of the trust store)',
    );
  }
  if (identities.includes('*')) return { check: 'trustedIdentity', ok: true };
  const leaf = env.certChain[0]!;
  const subject = subjectOf(leaf);
  const parsed = toSubjectMap(certificateInfo(leaf).subject);
  if (!parsed.ok) {
    return fail(
      'trustedIdentity',
      'UNTRUSTED_IDENTITY',
      `signing certificate subject ${JSON.stringify(subject)} cannot be matched: ${parsed.reason}`,
    );
  }
  if (identities.some((id) => matchesIdentity(id, parsed.map)))
    return { check: 'trustedIdentity', ok: true };
  return fail(
    'trustedIdentity',
    'UNTRUSTED_IDENTITY',
    `signing certificate subject ${JSON.stringify(subject)} does not match any trusted identity`,
  );
}

// ---------------------------------------------------------------------------------------------
// Expiry and authentic timestamp

/** Signature expiry (`io.cncf.notary.expiry`): fails when now ≥ expiry. Failure: `METADATA_EXPIRED`. */
export function checkExpiry(env: SignedEnvelope, now: Date): CheckResult {
  const exp = env.signedAttrs.expiry;
  if (exp && now.getTime() >= exp.getTime()) {
    return fail(
      'expiry',
      'METADATA_EXPIRED',
      `digital signature has expired on "${formatTime(exp)}"`,
    );
  }
  return { check: 'expiry', ok: true };
}

function validityProblem(cert: X509Certificate, at: Date, what: string): string | undefined {
  const { notBefore, notAfter } = certificateInfo(cert);
  const subject = JSON.stringify(subjectOf(cert));
  if (at.getTime() < notBefore.getTime()) {
    return `certificate ${subject} is not valid at ${what}, it will be valid from "${formatTime(notBefore)}"`;
  }
  if (at.getTime() > notAfter.getTime()) {
    return `certificate ${subject} is not valid at ${what}, it was expired at "${formatTime(notAfter)}"`;
  }
  return undefined;
}

/**
 * Authentic timestamp (trust-store-trust-policy.md § Signature Verification details, step "authentic timestamp"):
 * - notary.x509: every chain certificate must be valid at `now`. RFC 3161 countersignatures are NOT
 *   verified yet, so an expired chain cannot be rescued by a timestamp (behaves like notation with
 *   `verifyTimestamp: afterCertExpiry` whose timestamp could not be verified). A chain that is valid now
 *   passes even when a `tsa` store is configured.
 * - notary.x509.signingAuthority: the authentic signing time must lie within every certificate's validity.
 * Failure: `METADATA_EXPIRED`.
 */
export function checkAuthenticTimestamp(
  env: SignedEnvelope,
  now: Date,
  trustStore: CompiledNotationSource['trustStore'],
): CheckResult {
  const a = env.signedAttrs;
  if (a.signingScheme === 'notary.x509.signingAuthority') {
    const at = a.authenticSigningTime!;
    for (const cert of env.certChain) {
      const p = validityProblem(cert, at, `the authentic signing time "${formatTime(at)}"`);
      if (p) return fail('authenticTimestamp', 'METADATA_EXPIRED', p);
    }
    return { check: 'authenticTimestamp', ok: true };
  }
  for (const cert of env.certChain) {
    const p = validityProblem(cert, now, 'the current time');
    if (p) {
      const note =
        env.timestampToken || trustStore.tsa.length > 0
          ? '; timestamp countersignatures are not supported yet, so a timestamp cannot extend the certificate validity'
          : '';
      return fail('authenticTimestamp', 'METADATA_EXPIRED', p + note);
    }
  }
  return { check: 'authenticTimestamp', ok: true };
}

/** sha256 of the leaf's SubjectPublicKeyInfo (hex): identifies a signing key across certificates. */
export function signerKeyId(cert: X509Certificate): string {
  return createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}
