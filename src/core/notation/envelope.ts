// SPDX-License-Identifier: Apache-2.0
// Parse Notation signature envelopes (JWS flattened JSON, COSE_Sign1_Tagged) into one SignedEnvelope.
// Structure only: the signature, crit rules and certificate requirements are checked in checks.ts.

// attacker-controlled: envelope bytes come from a registry blob. Every parse problem becomes
// VerificationError('SIGNATURE_INVALID', '<path>: <what>'); nothing here trusts the input.
// Spec: notaryproject/specifications@d4b62b9 signature-envelope-jws.md, signature-envelope-cose.md,
// signature-specification.md; notation-core-go@ef87896 signature/jws, signature/cose.

import { X509Certificate } from 'node:crypto';
import { VerificationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { CborTag, decodeCbor, encodeSigStructure, type CborError, type CborValue } from './cbor.js';

export const MEDIA_TYPE_JWS = 'application/jose+json';
export const MEDIA_TYPE_COSE = 'application/cose';
export const PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';

/** Certificates accepted in one envelope chain (real chains have 1–4). */
export const MAX_CHAIN_CERTIFICATES = 10;

export type NotationAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';
export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

/** Notation's signed attribute names (protected header keys / COSE text labels). */
export const ATTR = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
} as const;

const TIMESTAMP_SIGNATURE = 'io.cncf.notary.timestampSignature';

/** The OCI descriptor the signature is about (payload `targetArtifact`). */
export interface TargetArtifact {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface SignedAttributes {
  readonly alg: NotationAlgorithm;
  /** Critical attribute names as listed (COSE integer labels as decimal strings). */
  readonly crit: readonly string[];
  readonly cty: string;
  readonly signingScheme: SigningScheme;
  readonly signingTime?: Date;
  readonly authenticSigningTime?: Date;
  readonly expiry?: Date;
  readonly verificationPlugin?: string;
  readonly verificationPluginMinVersion?: string;
  /** Every protected header name present (COSE: 1/2/3 as `alg`/`crit`/`cty`, other int labels as decimals). */
  readonly names: readonly string[];
  /** Names in `crit` that this verifier does not understand (includes the plugin attributes). */
  readonly unknownCritical: readonly string[];
}

export interface SignedEnvelope {
  readonly format: 'jws' | 'cose';
  readonly payload: { readonly targetArtifact: TargetArtifact };
  readonly signedAttrs: SignedAttributes;
  /** x5c / x5chain, leaf first. Unsigned: authenticity decides whether to trust it. */
  readonly certChain: readonly X509Certificate[];
  /** RFC 3161 TimeStampToken (DER), when present. Unsigned. */
  readonly timestampToken?: Buffer;
  /** Exactly the bytes the signature covers. */
  readonly signingInput: Buffer;
  /** JWS: raw signature; ECDSA is IEEE P1363 r‖s. */
  readonly signature: Buffer;
}

function invalid(path: string, what: string, cause?: unknown): VerificationError {
  return new VerificationError(
    'SIGNATURE_INVALID',
    `malformed Notation envelope: ${path}: ${what}`,
    {
      cause,
    },
  );
}

const ALGORITHMS: ReadonlySet<string> = new Set([
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
]);
// RFC 9053 / IANA COSE Algorithms.
const COSE_ALGORITHMS: ReadonlyMap<number, NotationAlgorithm> = new Map([
  [-37, 'PS256'],
  [-38, 'PS384'],
  [-39, 'PS512'],
  [-7, 'ES256'],
  [-35, 'ES384'],
  [-36, 'ES512'],
]);
/** Critical attributes this verifier implements. Plugin attributes are deliberately absent: no plugins run here. */
const UNDERSTOOD_CRITICAL: ReadonlySet<string> = new Set([
  ATTR.signingScheme,
  ATTR.authenticSigningTime,
  ATTR.expiry,
]);

/**
 * Parse an envelope by its layer media type.
 * @throws VerificationError SIGNATURE_INVALID (unsupported media type, malformed or oversized envelope)
 */
export function parseEnvelope(bytes: Uint8Array, mediaType: string): SignedEnvelope {
  if (bytes.length > LIMITS.maxEnvelopeBytes) {
    throw invalid(
      '$',
      `envelope is ${bytes.length} bytes, more than the ${LIMITS.maxEnvelopeBytes}-byte limit`,
    );
  }
  if (mediaType === MEDIA_TYPE_JWS) return parseJwsEnvelope(bytes);
  if (mediaType === MEDIA_TYPE_COSE) return parseCoseEnvelope(bytes);
  throw invalid(
    'mediaType',
    `unsupported signature envelope media type ${JSON.stringify(mediaType)}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw invalid(path, 'not valid UTF-8', err);
  }
}

function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid(path, `not valid JSON (${(err as Error).message})`, err);
  }
}

const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** Spec signature-specification.md § Payload: `{"targetArtifact": <OCI descriptor>}`. */
function parsePayload(bytes: Uint8Array): { targetArtifact: TargetArtifact } {
  const doc = parseJson(decodeUtf8(bytes, 'payload'), 'payload');
  if (!isRecord(doc)) throw invalid('payload', 'must be a JSON object');
  const t = doc['targetArtifact'];
  if (!isRecord(t)) throw invalid('payload.targetArtifact', 'required object is missing');
  const { mediaType, digest, size, annotations, artifactType } = t;
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw invalid('payload.targetArtifact.mediaType', 'must be a non-empty string');
  }
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw invalid('payload.targetArtifact.digest', 'must be an OCI digest');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid('payload.targetArtifact.size', 'must be a non-negative integer');
  }
  const out: { -readonly [K in keyof TargetArtifact]: TargetArtifact[K] } = {
    mediaType,
    digest,
    size,
  };
  if (artifactType !== undefined) {
    if (typeof artifactType !== 'string')
      throw invalid('payload.targetArtifact.artifactType', 'must be a string');
    out.artifactType = artifactType;
  }
  if (annotations !== undefined) {
    if (!isRecord(annotations) || Object.values(annotations).some((v) => typeof v !== 'string')) {
      throw invalid('payload.targetArtifact.annotations', 'must map strings to strings');
    }
    out.annotations = annotations as Record<string, string>;
  }
  return { targetArtifact: out };
}

function parseCertificate(der: Uint8Array, path: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (err) {
    throw invalid(path, 'not a DER X.509 certificate', err);
  }
  // OpenSSL ignores trailing bytes after the certificate; a verifier should not.
  if (cert.raw.length !== der.length) throw invalid(path, 'trailing bytes after the certificate');
  return cert;
}

function checkChainLength(n: number, path: string): void {
  if (n === 0) throw invalid(path, 'certificate chain is empty');
  if (n > MAX_CHAIN_CERTIFICATES) {
    throw invalid(path, `${n} certificates, more than the limit of ${MAX_CHAIN_CERTIFICATES}`);
  }
}

interface RawAttributes {
  alg: NotationAlgorithm;
  crit: string[];
  cty: string;
  signingScheme: string;
  signingTime?: Date;
  authenticSigningTime?: Date;
  expiry?: Date;
  verificationPlugin?: unknown;
  verificationPluginMinVersion?: unknown;
  names: string[];
}

function toSignedAttributes(raw: RawAttributes, path: string): SignedAttributes {
  if (raw.signingScheme !== 'notary.x509' && raw.signingScheme !== 'notary.x509.signingAuthority') {
    throw invalid(
      `${path}.${ATTR.signingScheme}`,
      `unsupported signing scheme ${JSON.stringify(raw.signingScheme)}`,
    );
  }
  const plugin = optionalString(raw.verificationPlugin, `${path}.${ATTR.verificationPlugin}`);
  const pluginMin = optionalString(
    raw.verificationPluginMinVersion,
    `${path}.${ATTR.verificationPluginMinVersion}`,
  );
  return {
    alg: raw.alg,
    crit: raw.crit,
    cty: raw.cty,
    signingScheme: raw.signingScheme,
    ...(raw.signingTime && { signingTime: raw.signingTime }),
    ...(raw.authenticSigningTime && { authenticSigningTime: raw.authenticSigningTime }),
    ...(raw.expiry && { expiry: raw.expiry }),
    ...(plugin !== undefined && { verificationPlugin: plugin }),
    ...(pluginMin !== undefined && { verificationPluginMinVersion: pluginMin }),
    names: raw.names,
    unknownCritical: raw.crit.filter((c) => !UNDERSTOOD_CRITICAL.has(c)),
  };
}

function optionalString(v: unknown, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(path, 'must be a string');
  return v;
}

// ---------------------------------------------------------------------------------------------
// JWS (signature-envelope-jws.md): flattened JSON serialization only.

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// RFC 3339 date-time; fractional seconds tolerated (SHOULD NOT, but not forbidden).
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** RFC 7515 §4.1 / RFC 7518 registered header names: they must not appear in `crit` (RFC 7515 §4.1.11). */
const JWS_REGISTERED = new Set([
  'alg',
  'jku',
  'jwk',
  'kid',
  'x5u',
  'x5c',
  'x5t',
  'x5t#S256',
  'typ',
  'cty',
  'crit',
]);

function base64url(value: unknown, path: string): Buffer {
  // Unpadded base64url only (RFC 7515 §2): a padded or otherwise altered string is rejected,
  // which is what notation-go does (ca_invalid_sig_env.json appends '=').
  if (typeof value !== 'string' || !BASE64URL.test(value) || value.length % 4 === 1) {
    throw invalid(path, 'must be unpadded base64url');
  }
  return Buffer.from(value, 'base64url');
}

function rfc3339(value: unknown, path: string): Date {
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  const t = m ? Date.parse(value as string) : NaN;
  if (!m || Number.isNaN(t) || Number(m[2]) > 12 || Number(m[3]) > 31 || Number(m[4]) > 23) {
    throw invalid(path, 'must be an RFC 3339 date-time');
  }
  return new Date(t);
}

/**
 * Parse a JWS envelope (`application/jose+json`).
 * @throws VerificationError SIGNATURE_INVALID
 */
export function parseJwsEnvelope(bytes: Uint8Array): SignedEnvelope {
  const doc = parseJson(decodeUtf8(bytes, '$'), '$');
  if (!isRecord(doc)) throw invalid('$', 'must be a JSON object');
  const keys = Object.keys(doc).sort();
  if (keys.join(',') !== 'header,payload,protected,signature') {
    throw invalid(
      '$',
      `members must be exactly payload, protected, header, signature (got ${keys.join(', ')})`,
    );
  }
  const protectedB64 = doc['protected'];
  const payloadB64 = doc['payload'];
  const protectedBytes = base64url(protectedB64, 'protected');
  const payloadBytes = base64url(payloadB64, 'payload');
  const signature = base64url(doc['signature'], 'signature');
  if (signature.length === 0) throw invalid('signature', 'is empty');

  const hdr = parseJson(decodeUtf8(protectedBytes, 'protected'), 'protected');
  if (!isRecord(hdr)) throw invalid('protected', 'must be a JSON object');
  const unprotected = doc['header'];
  if (!isRecord(unprotected)) throw invalid('header', 'must be a JSON object');

  // RFC 7515 §7.2.1: protected and unprotected header parameter names must be disjoint.
  for (const k of Object.keys(unprotected)) {
    if (Object.hasOwn(hdr, k)) throw invalid(`header.${k}`, 'also present in the protected header');
  }

  const alg = hdr['alg'];
  // A string check first: JSON.stringify of an arbitrary (e.g. deeply nested) value could overflow the stack.
  if (typeof alg !== 'string') throw invalid('protected.alg', 'must be a string');
  if (!ALGORITHMS.has(alg)) {
    throw invalid('protected.alg', `unsupported algorithm ${JSON.stringify(alg)}`);
  }
  const crit = hdr['crit'];
  if (!Array.isArray(crit) || crit.length === 0 || crit.some((c) => typeof c !== 'string')) {
    // Notation requires crit (it is optional in plain JWS).
    throw invalid('protected.crit', 'must be a non-empty array of strings');
  }
  for (const c of crit as string[]) {
    if (JWS_REGISTERED.has(c))
      throw invalid('protected.crit', `must not list the registered header ${JSON.stringify(c)}`);
  }
  const cty = hdr['cty'];
  if (typeof cty !== 'string') throw invalid('protected.cty', 'must be a string');
  const scheme = hdr[ATTR.signingScheme];
  if (typeof scheme !== 'string')
    throw invalid(`protected.${ATTR.signingScheme}`, 'must be a string');

  const raw: RawAttributes = {
    alg: alg as NotationAlgorithm,
    crit: crit as string[],
    cty,
    signingScheme: scheme,
    verificationPlugin: hdr[ATTR.verificationPlugin],
    verificationPluginMinVersion: hdr[ATTR.verificationPluginMinVersion],
    names: Object.keys(hdr),
  };
  for (const key of ['signingTime', 'authenticSigningTime', 'expiry'] as const) {
    const v = hdr[ATTR[key]];
    if (v !== undefined) raw[key] = rfc3339(v, `protected.${ATTR[key]}`);
  }

  const x5c = unprotected['x5c'];
  if (!Array.isArray(x5c)) throw invalid('header.x5c', 'certificate chain is missing');
  checkChainLength(x5c.length, 'header.x5c');
  const certChain = x5c.map((entry, i) => {
    // x5c is standard base64 with padding (RFC 7515 §4.1.6), unlike the other members.
    if (typeof entry !== 'string' || !BASE64.test(entry))
      throw invalid(`header.x5c[${i}]`, 'must be standard base64');
    return parseCertificate(Buffer.from(entry, 'base64'), `header.x5c[${i}]`);
  });

  let timestampToken: Buffer | undefined;
  const tst = unprotected[TIMESTAMP_SIGNATURE];
  if (tst !== undefined) {
    if (typeof tst !== 'string' || !BASE64.test(tst) || tst.length === 0) {
      throw invalid(`header.${TIMESTAMP_SIGNATURE}`, 'must be standard base64');
    }
    timestampToken = Buffer.from(tst, 'base64');
  }

  return {
    format: 'jws',
    payload: parsePayload(payloadBytes),
    signedAttrs: toSignedAttributes(raw, 'protected'),
    certChain,
    ...(timestampToken && { timestampToken }),
    // RFC 7515 §5.2: ASCII(BASE64URL(protected) || '.' || BASE64URL(payload)), as encoded in the envelope.
    signingInput: Buffer.from(`${protectedB64 as string}.${payloadB64 as string}`, 'ascii'),
    signature,
  };
}

// ---------------------------------------------------------------------------------------------
// COSE (signature-envelope-cose.md): COSE_Sign1_Tagged, embedded payload.

const COSE_SIGN1_TAG = 18;
const COSE_X5CHAIN = 33;
const COSE_LABEL_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'alg'],
  [2, 'crit'],
  [3, 'cty'],
]);

function coseTime(v: CborValue, path: string): Date {
  // notation-core-go accepts only tag 1 (epoch seconds) with an integer.
  if (!(v instanceof CborTag) || v.tag !== 1 || typeof v.value !== 'number') {
    throw invalid(path, 'must be a tag-1 epoch integer');
  }
  const d = new Date(v.value * 1000);
  if (Number.isNaN(d.getTime())) throw invalid(path, 'out of range');
  return d;
}

function toCoseMap(
  v: CborValue | undefined,
  path: string,
): ReadonlyMap<number | string, CborValue> {
  if (!(v instanceof Map)) throw invalid(path, 'must be a CBOR map');
  return v as ReadonlyMap<number | string, CborValue>;
}

function toBytes(v: CborValue | undefined, path: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalid(path, 'must be a byte string');
  return v;
}

function coseChain(v: CborValue, path: string): X509Certificate[] {
  // RFC 9360 §2: a single certificate may be a bare bstr; several are an array of bstr.
  const entries = v instanceof Uint8Array ? [v] : Array.isArray(v) ? (v as CborValue[]) : undefined;
  if (!entries) throw invalid(path, 'must be a byte string or an array of byte strings');
  checkChainLength(entries.length, path);
  return entries.map((e, i) => parseCertificate(toBytes(e, `${path}[${i}]`), `${path}[${i}]`));
}

/**
 * Parse a COSE_Sign1_Tagged envelope (`application/cose`).
 * @throws VerificationError SIGNATURE_INVALID
 */
export function parseCoseEnvelope(bytes: Uint8Array): SignedEnvelope {
  let top: CborValue;
  try {
    top = decodeCbor(bytes);
  } catch (err) {
    throw invalid('$', (err as CborError).message, err); // decodeCbor throws only CborError
  }
  if (!(top instanceof CborTag) || top.tag !== COSE_SIGN1_TAG)
    throw invalid('$', 'must be COSE_Sign1_Tagged (tag 18)');
  const arr = top.value;
  if (!Array.isArray(arr) || arr.length !== 4)
    throw invalid('$', 'COSE_Sign1 must be an array of 4 items');
  const [protectedItem, unprotectedItem, payloadItem, signatureItem] = arr as CborValue[];
  const protectedBytes = toBytes(protectedItem, 'protected');
  const payloadBytes = toBytes(payloadItem, 'payload'); // detached payload (nil) is not allowed by Notation
  const signature = Buffer.from(toBytes(signatureItem, 'signature'));
  if (signature.length === 0) throw invalid('signature', 'is empty');
  const unprotected = toCoseMap(unprotectedItem, 'unprotected');

  let decodedProtected: CborValue;
  try {
    decodedProtected = decodeCbor(protectedBytes);
  } catch (err) {
    throw invalid('protected', (err as CborError).message, err);
  }
  const hdr = toCoseMap(decodedProtected, 'protected');
  // RFC 9052 §3: a label must not appear in both buckets.
  for (const k of unprotected.keys()) {
    if (hdr.has(k))
      throw invalid(`unprotected[${JSON.stringify(k)}]`, 'also present in the protected header');
  }

  const algLabel = hdr.get(1);
  // Never JSON.stringify the label: a multi-megabyte byte string would take seconds and gigabytes.
  if (typeof algLabel !== 'number') throw invalid('protected[1]', 'must be an integer algorithm');
  const alg = COSE_ALGORITHMS.get(algLabel);
  if (!alg) throw invalid('protected[1]', `unsupported algorithm ${algLabel}`);
  const critItem = hdr.get(2);
  if (!Array.isArray(critItem) || critItem.length === 0)
    throw invalid('protected[2]', 'crit must be a non-empty array');
  const crit = (critItem as CborValue[]).map((c, i) => {
    if (typeof c === 'string') return c;
    // Integer labels 0–8 are reserved by COSE and may never be critical; others are unknown to us.
    if (typeof c === 'number') return String(c);
    throw invalid(`protected[2][${i}]`, 'must be a label (integer or text)');
  });
  const cty = hdr.get(3);
  if (typeof cty !== 'string') throw invalid('protected[3]', 'content type must be a text string');
  const scheme = hdr.get(ATTR.signingScheme);
  if (typeof scheme !== 'string')
    throw invalid(`protected.${ATTR.signingScheme}`, 'must be a text string');

  const raw: RawAttributes = {
    alg,
    crit,
    cty,
    signingScheme: scheme,
    verificationPlugin: hdr.get(ATTR.verificationPlugin),
    verificationPluginMinVersion: hdr.get(ATTR.verificationPluginMinVersion),
    names: [...hdr.keys()].map((k) =>
      typeof k === 'number' ? (COSE_LABEL_NAMES.get(k) ?? String(k)) : k,
    ),
  };
  for (const key of ['signingTime', 'authenticSigningTime', 'expiry'] as const) {
    const v = hdr.get(ATTR[key]);
    if (v !== undefined) raw[key] = coseTime(v, `protected.${ATTR[key]}`);
  }

  // The spec allows x5chain in either bucket; prefer the protected one (it is signed).
  const chainItem = hdr.get(COSE_X5CHAIN) ?? unprotected.get(COSE_X5CHAIN);
  if (chainItem === undefined)
    throw invalid('unprotected[33]', 'certificate chain (x5chain) is missing');
  const certChain = coseChain(
    chainItem,
    hdr.has(COSE_X5CHAIN) ? 'protected[33]' : 'unprotected[33]',
  );

  let timestampToken: Buffer | undefined;
  const tst = unprotected.get(TIMESTAMP_SIGNATURE);
  if (tst !== undefined)
    timestampToken = Buffer.from(toBytes(tst, `unprotected.${TIMESTAMP_SIGNATURE}`));

  return {
    format: 'cose',
    payload: parsePayload(payloadBytes),
    signedAttrs: toSignedAttributes(raw, 'protected'),
    certChain,
    ...(timestampToken && { timestampToken }),
    signingInput: encodeSigStructure(protectedBytes, payloadBytes),
    signature,
  };
}
