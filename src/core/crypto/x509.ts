// SPDX-License-Identifier: Apache-2.0
// The certificate checks notary's trust pinning applies to root keys (trustpinning/certs.go,
// utils.ValidateCertificate): leaf with CN = GUN, validity at `now`, no SHA-1, RSA ≥ 2048, CA chains.

import type { X509Certificate } from 'node:crypto';
import { MIN_RSA_BITS } from './signature.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Intermediates followed at most when chaining a root certificate to a pinned CA. */
const MAX_CHAIN_DEPTH = 4;

const SHA1_SIGNATURE_OIDS: ReadonlySet<string> = new Set([
  '1.2.840.113549.1.1.5', // sha1WithRSAEncryption
  '1.2.840.10045.4.1', // ecdsa-with-SHA1
  '1.2.840.10040.4.3', // dsa-with-sha1
  '1.3.14.3.2.29', // sha1WithRSASignature (OIW)
  '1.2.840.113549.1.1.4', // md5WithRSAEncryption: weaker still
  '1.2.840.113549.1.1.2', // md2WithRSAEncryption
]);

/** Read one DER TLV header at `pos`: [tag, content start, content end]. */
function readTlv(der: Buffer, pos: number): [number, number, number] {
  const tag = der[pos]!;
  let len = der[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error('DER overrun');
  return [tag, start, start + len];
}

function oidToString(bytes: Buffer): string {
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

/**
 * The OID of the certificate's outer signatureAlgorithm (node 20 has no accessor for it).
 * Returns undefined if the DER cannot be walked.
 */
export function signatureAlgorithmOid(cert: X509Certificate): string | undefined {
  try {
    const der = cert.raw;
    const [, certStart] = readTlv(der, 0);
    const [, , tbsEnd] = readTlv(der, certStart);
    const [algTag, algStart] = readTlv(der, tbsEnd);
    const [oidTag, oidStart, oidEnd] = readTlv(der, algStart);
    if (algTag !== 0x30 || oidTag !== 0x06) return undefined;
    return oidToString(der.subarray(oidStart, oidEnd));
  } catch {
    return undefined;
  }
}

/**
 * The subject common name, or undefined when there is none or more than one (ambiguous).
 * node prints the subject one `KEY=value` per line and quotes values holding special characters.
 */
export function commonName(cert: X509Certificate): string | undefined {
  const found: string[] = [];
  for (const line of cert.subject.split('\n')) {
    if (!line.startsWith('CN=')) continue;
    let value = line.slice(3);
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        return undefined;
      }
    } else {
      value = unescapeRfc2253(value);
    }
    found.push(value);
  }
  return found.length === 1 ? found[0] : undefined;
}

/** Undo RFC 2253 escapes (`\,` and `\hh`) in a value as node prints it. */
function unescapeRfc2253(value: string): string {
  if (!value.includes('\\')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch === '\\' && i + 1 < value.length) {
      bytes.push(...Buffer.from(value[++i]!, 'utf8'));
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** notary MatchCNToGun: exact, or a CN ending in `*` is a prefix of the GUN. */
export function cnMatchesGun(cn: string, gun: string): boolean {
  if (cn.endsWith('*')) return gun.startsWith(cn.replace(/\*+$/, ''));
  return cn === gun;
}

/** Whether `now` is inside the validity window, with notary's 1 day of leeway on notBefore. */
export function isValidAt(cert: X509Certificate, now: Date): boolean {
  const notBefore = new Date(cert.validFrom).getTime();
  const notAfter = new Date(cert.validTo).getTime();
  const t = now.getTime();
  return notBefore <= t + DAY_MS && t <= notAfter;
}

/**
 * Why a certificate cannot be a Notary v1 root key for `gun`, or undefined if it can.
 * `now` null skips the validity window (intermediate roots in a rotation chain).
 */
export function rootCertificateProblem(
  cert: X509Certificate,
  gun: string,
  now: Date | null,
): string | undefined {
  const cn = commonName(cert);
  if (cert.ca) return `root certificate ${cn ?? '(no CN)'} is a CA certificate, not a leaf`;
  if (cn === undefined) return 'root certificate has no single common name';
  if (!cnMatchesGun(cn, gun)) return `root certificate CN ${cn} does not match ${gun}`;
  const problem = weakCertificateProblem(cert);
  if (problem !== undefined) return problem;
  if (new Date(cert.validFrom).getTime() > new Date(cert.validTo).getTime()) {
    return `root certificate ${cn} has an invalid validity window`;
  }
  if (now !== null && !isValidAt(cert, now)) {
    return `root certificate ${cn} is not valid at ${now.toISOString()} (valid ${new Date(cert.validFrom).toISOString()} to ${new Date(cert.validTo).toISOString()})`;
  }
  return undefined;
}

/** SHA-1 (or weaker) signatures and RSA keys below 2048 bits are refused, as notary does. */
export function weakCertificateProblem(cert: X509Certificate): string | undefined {
  const oid = signatureAlgorithmOid(cert);
  if (oid === undefined || SHA1_SIGNATURE_OIDS.has(oid)) {
    return `certificate ${cert.subject.replace(/\n/g, ', ')} uses a SHA-1 or unreadable signature algorithm`;
  }
  const key = cert.publicKey;
  if (key.asymmetricKeyType === 'rsa' && key.asymmetricKeyDetails!.modulusLength! < MIN_RSA_BITS) {
    return `certificate ${cert.subject.replace(/\n/g, ', ')} has an RSA key shorter than ${MIN_RSA_BITS} bits`;
  }
  return undefined;
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/**
 * Whether `leaf` chains to one of `cas` (trust anchors, as notary `trust_pinning.ca`),
 * optionally through `intermediates` from the same PEM bundle. Every certificate on the
 * path must be valid at `now`, intermediates must be CAs and not SHA-1 signed.
 */
export function chainsTo(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  cas: readonly X509Certificate[],
  now: Date,
): boolean {
  const walk = (cert: X509Certificate, depth: number): boolean => {
    for (const ca of cas) {
      if (issuedBy(cert, ca) && isValidAt(ca, now)) return true;
    }
    if (depth >= MAX_CHAIN_DEPTH) return false;
    for (const mid of intermediates) {
      if (
        mid === cert ||
        !mid.ca ||
        !isValidAt(mid, now) ||
        weakCertificateProblem(mid) !== undefined
      )
        continue;
      if (issuedBy(cert, mid) && walk(mid, depth + 1)) return true;
    }
    return false;
  };
  return walk(leaf, 0);
}
