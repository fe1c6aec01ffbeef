// SPDX-License-Identifier: Apache-2.0
// TUF public keys as Notary v1 writes them (tuf/data/keys.go): key IDs, parsing into node
// KeyObjects (cached: a parse costs about twice a verify), and pinned-key PEM parsing.

import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { canonicalize } from './canonical-json.js';

export type TufKeyType = 'ecdsa' | 'ecdsa-x509' | 'rsa' | 'rsa-x509' | 'ed25519';

const KEY_TYPES: ReadonlySet<string> = new Set([
  'ecdsa',
  'ecdsa-x509',
  'rsa',
  'rsa-x509',
  'ed25519',
]);

/** A usable public key from TUF metadata. */
export interface TufPublicKey {
  readonly keyId: string;
  readonly keyType: TufKeyType;
  readonly key: KeyObject;
  /** The leaf certificate (x509 key types only). */
  readonly cert?: X509Certificate;
  /** Further certificates in the same PEM bundle (notary allows leaf + intermediates). */
  readonly intermediates?: readonly X509Certificate[];
}

/** Outcome of parsing a key: usable, or unusable with a reason (never thrown: attacker data). */
export type ParsedTufKey =
  | { readonly ok: true; readonly key: TufPublicKey }
  | { readonly ok: false; readonly reason: string };

/**
 * TUF key ID as notary computes it (`TUFKey.ID()`): hex sha256 of the canonical JSON of
 * `{"keytype":T,"keyval":{"private":null,"public":P}}`, `P` exactly as served.
 */
export function computeKeyId(keyType: string, publicValue: string): string {
  const bytes = canonicalize({ keytype: keyType, keyval: { private: null, public: publicValue } });
  return createHash('sha256').update(bytes).digest('hex');
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)\r?\n?-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(s: string): Buffer | null {
  if (s.length % 4 !== 0 || !BASE64.test(s)) return null;
  return Buffer.from(s, 'base64');
}

/** Every `CERTIFICATE` block of a PEM bundle, in order. */
export function splitPemCertificates(pem: string): X509Certificate[] {
  const certs: X509Certificate[] = [];
  for (const m of pem.matchAll(PEM_BLOCK)) {
    if (m[1] === 'CERTIFICATE') certs.push(new X509Certificate(m[0]));
    if (certs.length > 8) break;
  }
  return certs;
}

function parseUncached(
  keyType: string,
  publicValue: string,
): { key?: TufPublicKey; reason?: string; keyId: string } {
  const keyId = computeKeyId(keyType, publicValue);
  if (!KEY_TYPES.has(keyType))
    return { keyId, reason: `unsupported key type ${JSON.stringify(keyType)}` };
  const raw = decodeBase64(publicValue);
  if (raw === null) return { keyId, reason: 'public key is not base64' };
  const type = keyType as TufKeyType;
  try {
    let key: KeyObject;
    let cert: X509Certificate | undefined;
    let intermediates: X509Certificate[] | undefined;
    if (type === 'ed25519') {
      if (raw.length !== 32) return { keyId, reason: 'ed25519 public key is not 32 bytes' };
      key = createPublicKey({
        key: Buffer.concat([ED25519_SPKI_PREFIX, raw]),
        format: 'der',
        type: 'spki',
      });
    } else if (type === 'ecdsa' || type === 'rsa') {
      key = createPublicKey({ key: raw, format: 'der', type: 'spki' });
    } else {
      const certs = splitPemCertificates(raw.toString('latin1'));
      cert = certs[0];
      if (cert === undefined) return { keyId, reason: 'x509 key holds no PEM certificate' };
      intermediates = certs.slice(1);
      key = cert.publicKey;
    }
    const want = type.startsWith('ecdsa') ? 'ec' : type.startsWith('rsa') ? 'rsa' : 'ed25519';
    if (key.asymmetricKeyType !== want) {
      return { keyId, reason: `key type ${type} holds a ${String(key.asymmetricKeyType)} key` };
    }
    return {
      keyId,
      key: { keyId, keyType: type, key, ...(cert && intermediates ? { cert, intermediates } : {}) },
    };
  } catch (err) {
    return { keyId, reason: `unparseable ${type} key: ${(err as Error).message}` };
  }
}

interface CacheEntry {
  readonly keyId: string;
  readonly key?: TufPublicKey;
  readonly reason?: string;
}

/** Parsed keys by keytype + public value. Bounded: cleared when full (a refill is cheap). */
const CACHE = new Map<string, CacheEntry>();
const CACHE_MAX = 4096;

/**
 * Parse a TUF public key (cached). The declared key ID must equal the computed one; a
 * mismatch, an unknown key type or an unparseable key makes the key unusable (it can then
 * never count toward a threshold). Never throws on attacker data.
 */
export function parseTufKey(
  declaredKeyId: string,
  keyType: string,
  publicValue: string,
): ParsedTufKey {
  const cacheKey = `${keyType}\u0000${publicValue}`;
  let entry = CACHE.get(cacheKey);
  if (entry === undefined) {
    entry = parseUncached(keyType, publicValue);
    if (CACHE.size >= CACHE_MAX) CACHE.clear();
    CACHE.set(cacheKey, entry);
  }
  if (entry.keyId !== declaredKeyId) {
    return {
      ok: false,
      reason: `key ID ${declaredKeyId} does not match its key (computed ${entry.keyId})`,
    };
  }
  return entry.key ? { ok: true, key: entry.key } : { ok: false, reason: entry.reason! };
}

/** A root key pinned in a policy. */
export type PinnedKey =
  | {
      readonly kind: 'certificate';
      readonly cert: X509Certificate;
      readonly fingerprint: string;
      readonly publicKey: KeyObject;
    }
  | { readonly kind: 'publicKey'; readonly publicKey: KeyObject };

const PINNED_PEM =
  /^-----BEGIN (CERTIFICATE|PUBLIC KEY)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n-----END \1-----$/;

/**
 * Parse a pinned root key given as PEM: one `CERTIFICATE` or one SPKI `PUBLIC KEY` block,
 * optionally surrounded by whitespace. PKCS#1 `RSA PUBLIC KEY`, text around the block and
 * bare base64/DER are refused, as connaisseur does (vectors README §2e).
 * @throws ConfigError INVALID_POLICY with a message saying what is wrong.
 */
export function parsePinnedKey(pem: string): PinnedKey {
  const text = pem.trim();
  const m = PINNED_PEM.exec(text);
  if (!m) {
    if (/-----BEGIN RSA PUBLIC KEY-----/.test(text)) {
      throw new ConfigError(
        'INVALID_POLICY',
        'PKCS#1 "RSA PUBLIC KEY" is not supported: provide an SPKI "PUBLIC KEY" or a certificate',
      );
    }
    if (/^-----BEGIN /.test(text)) {
      throw new ConfigError(
        'INVALID_POLICY',
        'PEM must hold exactly one CERTIFICATE or PUBLIC KEY block and nothing else',
      );
    }
    throw new ConfigError(
      'INVALID_POLICY',
      'not PEM: provide a PEM-encoded "PUBLIC KEY" or "CERTIFICATE"',
    );
  }
  try {
    if (m[1] === 'CERTIFICATE') {
      const cert = new X509Certificate(text);
      const fingerprint = createHash('sha256').update(cert.raw).digest('hex');
      return { kind: 'certificate', cert, fingerprint, publicKey: cert.publicKey };
    }
    return { kind: 'publicKey', publicKey: createPublicKey({ key: text, format: 'pem' }) };
  } catch (err) {
    throw new ConfigError('INVALID_POLICY', `unparseable ${m[1]}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
