// SPDX-License-Identifier: Apache-2.0
// Minimal, bounded DER reader for the X.509 fields node:crypto does not expose on Node 20:
// extension critical flags, keyUsage bits, basicConstraints, the signature algorithm, exact validity and subject RDNs.

// attacker-controlled: every certificate comes from an unsigned envelope header.

/** One DER TLV. `content` is a view into the original buffer. */
export interface DerNode {
  readonly tag: number;
  readonly constructed: boolean;
  readonly content: Uint8Array;
  /** The whole TLV (header + content). */
  readonly raw: Uint8Array;
  /** Offset just past this TLV in the parent buffer. */
  readonly end: number;
}

/** Thrown by the DER reader; callers wrap it into their own typed error. */
export class DerError extends Error {}

/** Read one TLV at `offset`. Only single-byte tags (low tag numbers) and definite lengths (DER). */
export function readTlv(buf: Uint8Array, offset: number): DerNode {
  if (offset + 2 > buf.length) throw new DerError('truncated TLV');
  const first = buf[offset]!;
  if ((first & 0x1f) === 0x1f) throw new DerError('high-tag-number form is not supported');
  let pos = offset + 1;
  const lenByte = buf[pos++]!;
  let length: number;
  if (lenByte < 0x80) {
    length = lenByte;
  } else {
    const n = lenByte & 0x7f;
    // 0x80 is BER indefinite length: never valid in DER. 4 length bytes already exceed any cap.
    if (n === 0 || n > 4) throw new DerError('unsupported length encoding');
    if (pos + n > buf.length) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + buf[pos++]!;
  }
  if (pos + length > buf.length) throw new DerError('length exceeds input');
  return {
    tag: first,
    constructed: (first & 0x20) !== 0,
    content: buf.subarray(pos, pos + length),
    raw: buf.subarray(offset, pos + length),
    end: pos + length,
  };
}

/** The children of a constructed node, in order. */
export function children(node: DerNode): DerNode[] {
  if (!node.constructed) throw new DerError(`tag 0x${node.tag.toString(16)} is not constructed`);
  const out: DerNode[] = [];
  let pos = 0;
  // Bounded: every iteration consumes at least 2 bytes.
  while (pos < node.content.length) {
    const child = readTlv(node.content, pos);
    out.push(child);
    pos = child.end;
  }
  return out;
}

function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag) throw new DerError(`expected ${what}`);
  return node;
}

/** Dotted OID from an OBJECT IDENTIFIER node. */
export function toOid(node: DerNode): string {
  expectTag(node, 0x06, 'OBJECT IDENTIFIER');
  const b = node.content;
  if (b.length === 0 || b.length > 64) throw new DerError('bad OID length');
  const parts: number[] = [];
  let value = 0;
  for (let i = 0; i < b.length; i++) {
    value = value * 128 + (b[i]! & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    } else if (i === b.length - 1) {
      throw new DerError('truncated OID');
    }
  }
  return parts.join('.');
}

function toTime(node: DerNode): Date {
  const s = Buffer.from(node.content).toString('latin1');
  // RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY >= 50 → 19YY), GeneralizedTime YYYYMMDDHHMMSSZ.
  let m: RegExpExecArray | null;
  let year: number;
  if (node.tag === 0x17 && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (node.tag === 0x18 && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    year = Number(m[1]);
  } else {
    throw new DerError('bad certificate validity time');
  }
  // setUTCFullYear, unlike Date.UTC, keeps years 0–99 as they are.
  const d = new Date(0);
  d.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]));
  // Date rolls out-of-range fields over (month 13, 30 February, hour 24) where RFC 5280 and Go's
  // x509 refuse the time: the date must print back to exactly the digits it was read from.
  const digits = d.toISOString().slice(0, 19).replace(/\D/g, '');
  if (!`${digits}Z`.endsWith(s)) throw new DerError('bad certificate validity time');
  return d;
}

/** One attribute of a distinguished name, in DER order. */
export interface DnAttribute {
  readonly oid: string;
  readonly value: string;
  /** Index of the RDN (SET) that holds it: equal indexes = a multi-valued RDN. */
  readonly rdn: number;
}

const STRING_TAGS = new Set([
  0x0c /* UTF8 */, 0x13 /* Printable */, 0x16 /* IA5 */, 0x12 /* Numeric */,
]);

function toDirectoryString(node: DerNode): string {
  if (STRING_TAGS.has(node.tag)) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(node.content);
    } catch (err) {
      throw new DerError(`string type 0x${node.tag.toString(16)} in name is not valid UTF-8`, {
        cause: err,
      });
    }
  }
  if (node.tag === 0x14) {
    // TeletexString: in practice Latin-1 (what Go and OpenSSL assume).
    return Buffer.from(node.content).toString('latin1');
  }
  if (node.tag === 0x1e) {
    // BMPString: UTF-16BE
    if (node.content.length % 2 !== 0) throw new DerError('bad BMPString');
    const swapped = Buffer.from(node.content);
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  throw new DerError(`unsupported string type 0x${node.tag.toString(16)} in name`);
}

function toName(node: DerNode): DnAttribute[] {
  expectTag(node, 0x30, 'Name SEQUENCE');
  const out: DnAttribute[] = [];
  children(node).forEach((set, rdn) => {
    expectTag(set, 0x31, 'RelativeDistinguishedName SET');
    for (const atv of children(set)) {
      const [type, value] = children(expectTag(atv, 0x30, 'AttributeTypeAndValue'));
      if (!type || !value) throw new DerError('bad AttributeTypeAndValue');
      out.push({ oid: toOid(type), value: toDirectoryString(value), rdn });
    }
  });
  return out;
}

/** The parts of a certificate the Notation certificate requirements need. */
export interface CertificateInfo {
  /** OID of the certificate's own signature algorithm (issuer's signature over TBS). */
  readonly signatureAlgorithm: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subject: readonly DnAttribute[];
  /** Exact DER of the issuer and subject Names (RFC 5280 chaining compares these byte-wise here). */
  readonly rawIssuer: Uint8Array;
  readonly rawSubject: Uint8Array;
  readonly keyUsage?: { readonly critical: boolean; readonly bits: ReadonlySet<KeyUsageBit> };
  readonly basicConstraints?: {
    readonly critical: boolean;
    readonly ca: boolean;
    readonly pathLen?: number;
  };
  readonly extKeyUsage?: { readonly critical: boolean; readonly oids: readonly string[] };
}

/** RFC 5280 4.2.1.3 bit names, bit 0 first. */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];

function toKeyUsage(octets: Uint8Array): Set<KeyUsageBit> {
  const bs = expectTag(readTlv(octets, 0), 0x03, 'keyUsage BIT STRING');
  const bytes = bs.content.subarray(1);
  const out = new Set<KeyUsageBit>();
  KEY_USAGE_BITS.forEach((name, i) => {
    const byte = bytes[i >> 3];
    if (byte !== undefined && (byte & (0x80 >> (i & 7))) !== 0) out.add(name);
  });
  return out;
}

function toBasicConstraints(octets: Uint8Array): { ca: boolean; pathLen?: number } {
  const seq = children(expectTag(readTlv(octets, 0), 0x30, 'basicConstraints SEQUENCE'));
  let ca = false;
  let pathLen: number | undefined;
  for (const n of seq) {
    if (n.tag === 0x01) ca = n.content.length === 1 && n.content[0] !== 0;
    else if (n.tag === 0x02) {
      // A DER INTEGER has at least one content byte; a negative or huge pathLen is malformed.
      if (n.content.length === 0 || n.content.length > 4 || n.content[0]! & 0x80)
        throw new DerError('bad pathLenConstraint');
      pathLen = n.content.reduce((acc, b) => acc * 256 + b, 0);
    } else throw new DerError('bad basicConstraints');
  }
  return pathLen === undefined ? { ca } : { ca, pathLen };
}

const OID_KEY_USAGE = '2.5.29.15';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_EXT_KEY_USAGE = '2.5.29.37';

/**
 * Parse the certificate fields Notation needs from DER.
 * @throws DerError on any malformed structure.
 */
export function parseCertificateInfo(der: Uint8Array): CertificateInfo {
  const cert = children(expectTag(readTlv(der, 0), 0x30, 'Certificate SEQUENCE'));
  const tbs = children(expectTag(cert[0], 0x30, 'TBSCertificate'));
  const sigAlg = children(expectTag(cert[1], 0x30, 'signatureAlgorithm'));
  let i = 0;
  if (tbs[0]?.tag === 0xa0) i++; // [0] version
  i++; // serialNumber
  i++; // signature (inner algorithm)
  const issuerNode = expectTag(tbs[i++], 0x30, 'issuer');
  const validity = children(expectTag(tbs[i++], 0x30, 'Validity'));
  const subjectNode = expectTag(tbs[i++], 0x30, 'subject');
  const subject = toName(subjectNode);
  const info: {
    -readonly [K in keyof CertificateInfo]: CertificateInfo[K];
  } = {
    signatureAlgorithm: toOid(expectTag(sigAlg[0], 0x06, 'algorithm OID')),
    notBefore: toTime(validity[0] ?? expectTag(undefined, 0, 'notBefore')),
    notAfter: toTime(validity[1] ?? expectTag(undefined, 0, 'notAfter')),
    subject,
    rawIssuer: issuerNode.raw,
    rawSubject: subjectNode.raw,
  };
  const extWrapper = tbs.find((n) => n.tag === 0xa3);
  if (extWrapper) {
    const seen = new Set<string>();
    for (const ext of children(expectTag(children(extWrapper)[0], 0x30, 'Extensions'))) {
      const parts = children(expectTag(ext, 0x30, 'Extension'));
      const oid = toOid(expectTag(parts[0], 0x06, 'extnID'));
      // RFC 5280 4.2: a certificate MUST NOT include more than one instance of an extension.
      if (seen.has(oid)) throw new DerError(`duplicate extension ${oid}`);
      seen.add(oid);
      const critical = parts[1]?.tag === 0x01 ? parts[1].content[0] !== 0 : false;
      const value = expectTag(parts[parts.length - 1], 0x04, 'extnValue').content;
      if (oid === OID_KEY_USAGE) info.keyUsage = { critical, bits: toKeyUsage(value) };
      else if (oid === OID_BASIC_CONSTRAINTS) {
        info.basicConstraints = { critical, ...toBasicConstraints(value) };
      } else if (oid === OID_EXT_KEY_USAGE) {
        const oids = children(expectTag(readTlv(value, 0), 0x30, 'extKeyUsage')).map(toOid);
        info.extKeyUsage = { critical, oids };
      }
    }
  }
  return info;
}
