// SPDX-License-Identifier: Apache-2.0
// `--dev-cert`: a self-signed ECDSA P-256 certificate with SAN entries, built with node:crypto
// and our DER encoder only (the distroless image has no openssl; x509 libraries need polyfills).

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../core/errors.js';
import {
  derBitString,
  derBoolean,
  derContext,
  derInteger,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derTime,
  derTlv,
  derUtf8String,
} from './der.js';

export interface DevCertificateOptions {
  /** DNS names and/or IP addresses for the subjectAltName; the first is also the CN. */
  readonly hosts: readonly string[];
  /** Validity in days (1–3650). */
  readonly days: number;
  /** Start of validity (backdated 5 minutes for clock skew). Default: now. */
  readonly now?: Date;
}

export interface DevCertificate {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
}

// RFC 5280 / RFC 5758 object identifiers.
const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const DNS_NAME =
  /^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const SKEW_MS = 5 * 60 * 1000;

function invalid(message: string): ConfigError {
  return new ConfigError('INVALID_CONFIG', message);
}

/** Network-order bytes of an IPv4 or IPv6 literal (no zone id). */
export function toIpBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip) || ip.includes('%')) throw invalid(`${JSON.stringify(ip)} is not an IP address`);
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (isIPv4(maybeV4)) {
    // IPv4-mapped/compatible tail (`::ffff:10.0.0.1`) = two 16-bit groups.
    const [a, b, c, d] = maybeV4.split('.').map(Number) as [number, number, number, number];
    text =
      text.slice(0, lastColon + 1) +
      ((a << 8) | b).toString(16) +
      ':' +
      ((c << 8) | d).toString(16);
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  if (groups.length !== 8) throw invalid(`${JSON.stringify(ip)} is not an IP address`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function toGeneralName(host: string): Buffer {
  if (isIPv4(host) || isIPv6(host)) return derContext(7, toIpBytes(host), false);
  if (!DNS_NAME.test(host) || host.length > 253) {
    throw invalid(`${JSON.stringify(host)} is neither a DNS name nor an IP address`);
  }
  // dNSName is [2] IMPLICIT IA5String
  return derContext(2, Buffer.from(host.toLowerCase(), 'ascii'), false);
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  // `critical` is DEFAULT FALSE: DER omits it when false.
  return critical
    ? derSequence(derOid(oid), derBoolean(true), derOctetString(value))
    : derSequence(derOid(oid), derOctetString(value));
}

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/**
 * Generate a self-signed ECDSA P-256 / SHA-256 certificate for `hosts` (TLS server auth;
 * also usable as its own CA bundle, e.g. the webhook's `caBundle`).
 * @throws ConfigError INVALID_CONFIG — no hosts, a host that is neither DNS name nor IP, or bad `days`.
 */
export function generateDevCertificate(opts: DevCertificateOptions): DevCertificate {
  if (opts.hosts.length === 0) throw invalid('a dev certificate needs at least one host');
  if (!Number.isInteger(opts.days) || opts.days < 1 || opts.days > 3650) {
    throw invalid(`days must be an integer from 1 to 3650, got ${opts.days}`);
  }
  const sans = opts.hosts.map(toGeneralName);
  const now = opts.now ?? new Date();
  const notBefore = new Date(now.getTime() - SKEW_MS);
  const notAfter = new Date(now.getTime() + opts.days * 86_400_000);

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // For P-256 the SPKI ends with the 65-byte uncompressed point (the subjectPublicKey bits).
  const keyId = createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();

  const serial = randomBytes(16);
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01; // positive and non-zero (RFC 5280 4.1.2.2)

  const name = derSequence(
    derSet(derSequence(derOid(OID.organization), derUtf8String('trustgate (development)'))),
    derSet(derSequence(derOid(OID.commonName), derUtf8String(opts.hosts[0] as string))),
  );
  const algorithm = derSequence(derOid(OID.ecdsaWithSha256));
  const extensions = derSequence(
    extension(OID.basicConstraints, true, derSequence(derBoolean(true))),
    // digitalSignature (bit 0) + keyCertSign (bit 5): 0b1000_0100 with 2 unused bits
    extension(OID.keyUsage, true, derTlv(0x03, Buffer.from([0x02, 0x84]))),
    extension(OID.extKeyUsage, false, derSequence(derOid(OID.serverAuth))),
    extension(OID.subjectKeyIdentifier, false, derOctetString(keyId)),
    extension(OID.subjectAltName, false, derSequence(...sans)),
  );
  const tbs = derSequence(
    derContext(0, derInteger(2), true), // version v3
    derInteger(serial),
    algorithm,
    name,
    derSequence(derTime(notBefore), derTime(notAfter)),
    name,
    spki,
    derContext(3, extensions, true),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const cert = derSequence(tbs, algorithm, derBitString(signature));

  return {
    certPem: toPem('CERTIFICATE', cert),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
