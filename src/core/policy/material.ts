// SPDX-License-Identifier: Apache-2.0
// Trust material written in policies: PEM certificates and public keys, TUF key IDs, and
// Notation trusted identities (`x509.subject: C=US, ST=WA, O=…`). Parsed once, at compile time.

import { X509Certificate, createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** One `-----BEGIN <label>-----` block. */
export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

/** A `rootKeys` entry, classified. */
export type RootKey =
  | { readonly kind: 'keyId'; readonly id: string }
  | {
      readonly kind: 'certificate';
      readonly certificate: X509Certificate;
      readonly fingerprint: string;
    }
  | { readonly kind: 'publicKey'; readonly key: KeyObject };

const KEY_ID = /^[0-9a-fA-F]{64}$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;
const BEGIN = /^-----BEGIN ([A-Z0-9 ]{1,64})-----$/;

function invalid(message: string, cause?: unknown): ConfigError {
  return new ConfigError('INVALID_POLICY', message, cause === undefined ? undefined : { cause });
}

/**
 * Split PEM text into blocks, line by line (no backtracking regex over attacker-sized input).
 * Returns undefined when the text is not entirely PEM blocks (blank lines between them are fine).
 */
export function splitPem(text: string): PemBlock[] | undefined {
  const blocks: PemBlock[] = [];
  let label: string | undefined;
  let body: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (label === undefined) {
      if (line === '') continue;
      const m = BEGIN.exec(line);
      if (!m) return undefined;
      label = m[1];
      body = [];
    } else if (line === `-----END ${label}-----`) {
      if (body.length === 0) return undefined;
      blocks.push({ label, der: Buffer.from(body.join(''), 'base64') });
      label = undefined;
    } else {
      if (!BASE64_LINE.test(line)) return undefined;
      body.push(line);
    }
  }
  return label === undefined && blocks.length > 0 ? blocks : undefined;
}

/** sha256 of a certificate's DER, lowercase hex: how `rootCertFingerprints` pins a certificate. */
export function toCertificateFingerprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('hex');
}

function toCertificate(block: PemBlock): X509Certificate {
  try {
    return new X509Certificate(block.der);
  } catch (err) {
    throw invalid(
      'is a CERTIFICATE block that does not parse as X.509; paste the certificate again',
      err,
    );
  }
}

function toPublicKey(block: PemBlock): KeyObject {
  try {
    return block.label === 'RSA PUBLIC KEY'
      ? createPublicKey({ key: block.der, format: 'der', type: 'pkcs1' })
      : createPublicKey({ key: block.der, format: 'der', type: 'spki' });
  } catch (err) {
    throw invalid(`is a ${block.label} block that does not parse; paste the public key again`, err);
  }
}

function rejectPrivate(block: PemBlock): void {
  if (block.label.includes('PRIVATE')) {
    throw invalid(
      'is a PRIVATE KEY; a policy holds only public keys or certificates — remove it and rotate that key',
    );
  }
}

/**
 * Classify one `rootKeys` entry: a 64-hex TUF key ID, one PEM certificate, or one PEM public key.
 * @throws ConfigError INVALID_POLICY with a message saying what to paste instead.
 */
export function parseRootKey(text: string): RootKey {
  const trimmed = text.trim();
  if (KEY_ID.test(trimmed)) return { kind: 'keyId', id: trimmed.toLowerCase() };
  const blocks = splitPem(trimmed);
  if (!blocks) {
    throw invalid(
      'not PEM and not a 64-hex key ID; paste the root certificate (-----BEGIN CERTIFICATE-----) or its key ID as `trustgate inspect` prints it (the certificate key ID in root.json, not the ID `notary key list` shows)',
    );
  }
  if (blocks.length !== 1)
    throw invalid(`holds ${blocks.length} PEM blocks; list one key per entry`);
  const block = blocks[0] as PemBlock;
  rejectPrivate(block);
  if (block.label === 'CERTIFICATE') {
    const certificate = toCertificate(block);
    return { kind: 'certificate', certificate, fingerprint: toCertificateFingerprint(certificate) };
  }
  if (block.label === 'PUBLIC KEY' || block.label === 'RSA PUBLIC KEY') {
    return { kind: 'publicKey', key: toPublicKey(block) };
  }
  throw invalid(`is a ${block.label} block; expected CERTIFICATE or PUBLIC KEY`);
}

/**
 * Parse PEM text holding one or more certificates (a CA bundle).
 * @param requireCa also require basicConstraints CA:TRUE (trust anchors for chains).
 * @throws ConfigError INVALID_POLICY
 */
export function parseCertificates(text: string, requireCa = false): X509Certificate[] {
  const blocks = splitPem(text.trim());
  if (!blocks) throw invalid('is not PEM; paste one or more -----BEGIN CERTIFICATE----- blocks');
  return blocks.map((block, i) => {
    const where = blocks.length > 1 ? ` (block ${i + 1})` : '';
    rejectPrivate(block);
    if (block.label !== 'CERTIFICATE')
      throw invalid(
        `${where ? `${where.trim()} ` : ''}is a ${block.label} block; expected CERTIFICATE`,
      );
    const certificate = toCertificate(block);
    if (requireCa && !certificate.ca) {
      throw invalid(
        `${where ? `${where.trim()} ` : ''}is not a CA certificate (basicConstraints CA:TRUE is missing)`,
      );
    }
    return certificate;
  });
}

/** Attribute types a leaf subject can be matched on (notation-go: the names Go's pkix.Name prints). */
const IDENTITY_ATTRIBUTES = new Set([
  'CN',
  'SERIALNUMBER',
  'C',
  'L',
  'ST',
  'STREET',
  'O',
  'OU',
  'POSTALCODE',
]);
const REQUIRED_ATTRIBUTES = ['C', 'ST', 'O'] as const;
const IDENTITY_PREFIX = 'x509.subject';
const MAX_IDENTITY_LENGTH = 1024;

/** Trim whitespace at both ends, except a trailing space escaped as `\ ` (RFC 4514). */
function trimUnescaped(text: string): string {
  let end = text.length;
  while (end > 0 && /\s/.test(text[end - 1] as string) && text[end - 2] !== '\\') end -= 1;
  return text.slice(0, end).trimStart();
}

interface RawRdn {
  readonly type: string;
  readonly value: string;
}

/** RFC 4514 DN text → RDNs; escapes `\,` `\+` `\\` `\ ` … and `\XX` hex pairs. */
function splitDn(dn: string): RawRdn[] {
  const rdns: RawRdn[] = [];
  let type = '';
  let bytes: number[] = [];
  let inValue = false;
  let valueStart = true;
  let lastSignificant = 0;
  const push = (): void => {
    const value = Buffer.from(bytes.slice(0, lastSignificant)).toString('utf8');
    rdns.push({ type: type.trim(), value });
  };
  for (let i = 0; i < dn.length; i += 1) {
    const c = dn[i] as string;
    if (!inValue) {
      if (c === '=') {
        inValue = true;
        valueStart = true;
        bytes = [];
        lastSignificant = 0;
      } else if (c === ',' || c === ';' || c === '+') {
        throw invalid(`attribute ${JSON.stringify(type.trim())} has no "=value"`);
      } else {
        type += c;
      }
      continue;
    }
    if (c === '\\') {
      const pair = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(pair)) {
        bytes.push(parseInt(pair, 16));
        i += 2;
      } else if (i + 1 < dn.length) {
        bytes.push(...Buffer.from(dn[i + 1] as string, 'utf8'));
        i += 1;
      } else {
        throw invalid('ends with a lone "\\"');
      }
      valueStart = false;
      lastSignificant = bytes.length;
      continue;
    }
    if (c === '+') throw invalid('has a multi-valued RDN ("+"); notation does not support them');
    if (c === ',' || c === ';') {
      push();
      type = '';
      inValue = false;
      continue;
    }
    if (c === ' ' && valueStart) continue;
    if (c === '#' && valueStart) {
      throw invalid(
        `value of ${type.trim()} starts with "#" (hex form); notation does not support it`,
      );
    }
    valueStart = false;
    bytes.push(...Buffer.from(c, 'utf8'));
    if (c !== ' ') lastSignificant = bytes.length;
  }
  if (!inValue)
    throw invalid(
      type.trim() === ''
        ? 'has an empty RDN'
        : `attribute ${JSON.stringify(type.trim())} has no "=value"`,
    );
  push();
  return rdns;
}

/**
 * Parse a Notation trusted identity: `*`, or `x509.subject: <DN>` whose DN has C, ST (or S) and O,
 * no repeated attribute types, no multi-valued RDNs and no `#hex` values (notation-go trustpolicy rules).
 * Keys come back upper-case with `S` as `ST`.
 * @throws ConfigError INVALID_POLICY
 */
export function parseTrustedIdentity(text: string): ReadonlyMap<string, string> | '*' {
  if (text.length > MAX_IDENTITY_LENGTH)
    throw invalid(`is longer than ${MAX_IDENTITY_LENGTH} characters`);
  const trimmed = trimUnescaped(text);
  if (trimmed === '*') return '*';
  const colon = trimmed.indexOf(':');
  if (colon < 0 || trimmed.slice(0, colon).trim() !== IDENTITY_PREFIX) {
    throw invalid(
      `${JSON.stringify(text)} is not a trusted identity; write "*" or "x509.subject: C=US, ST=WA, O=Example"`,
    );
  }
  const dn = trimUnescaped(trimmed.slice(colon + 1));
  if (dn === '')
    throw invalid('x509.subject is empty; write e.g. "x509.subject: C=US, ST=WA, O=Example"');
  const map = new Map<string, string>();
  for (const rdn of splitDn(dn)) {
    const upper = rdn.type.toUpperCase();
    const key = upper === 'S' ? 'ST' : upper;
    if (!IDENTITY_ATTRIBUTES.has(key)) {
      throw invalid(
        `attribute ${JSON.stringify(rdn.type)} cannot be matched; use ${[...IDENTITY_ATTRIBUTES].join(', ')}`,
      );
    }
    if (rdn.value === '') throw invalid(`attribute ${key} has an empty value`);
    if (map.has(key)) throw invalid(`attribute ${key} appears more than once`);
    map.set(key, rdn.value);
  }
  const missing = REQUIRED_ATTRIBUTES.filter((k) => !map.has(k));
  if (missing.length > 0) {
    throw invalid(
      `x509.subject must contain C, ST and O (missing ${missing.join(', ')}), as notation requires`,
    );
  }
  return map;
}

/** Whether identity `a` names a subset of the attributes (same values) of identity `b`. */
export function isIdentitySubset(
  a: ReadonlyMap<string, string>,
  b: ReadonlyMap<string, string>,
): boolean {
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
