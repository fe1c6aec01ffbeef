// SPDX-License-Identifier: Apache-2.0
// A minimal DER (X.690) encoder: just the types an X.509 v3 certificate needs. Keeps the dev
// certificate free of openssl and of x509 libraries that need polyfills (the runtime image has neither).

/** Encode a DER length: short form below 128, long form (0x80 | n, then n bytes) above. */
export function derLength(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`invalid DER length ${n}`);
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with an explicit tag byte. */
export function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

export function derSequence(...items: Uint8Array[]): Buffer {
  return derTlv(0x30, Buffer.concat(items));
}

/** SET OF, with elements sorted by their encodings (X.690 11.6). */
export function derSet(...items: Uint8Array[]): Buffer {
  const sorted = [...items].sort((a, b) => Buffer.compare(a, b));
  return derTlv(0x31, Buffer.concat(sorted));
}

/** INTEGER from a non-negative big-endian byte string or a non-negative safe integer. */
export function derInteger(value: Uint8Array | number): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`invalid DER integer ${value}`);
    const arr: number[] = [];
    for (let v = value; v > 0; v = Math.floor(v / 256)) arr.unshift(v & 0xff);
    bytes = Buffer.from(arr.length === 0 ? [0] : arr);
  } else {
    bytes = Buffer.from(value);
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    bytes = bytes.subarray(start);
    if (bytes.length === 0) bytes = Buffer.from([0]);
  }
  // A leading 1 bit would make it negative in two's complement: prefix a zero byte.
  if ((bytes[0] as number) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return derTlv(0x02, bytes);
}

export function derBoolean(value: boolean): Buffer {
  return derTlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

export function derNull(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

/** OBJECT IDENTIFIER from dotted form (`1.2.840.10045.4.3.2`). */
export function derOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((s) => {
    if (!/^\d+$/.test(s)) throw new RangeError(`invalid OID ${dotted}`);
    return Number(s);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2 || (first < 2 && second > 39)) {
    throw new RangeError(`invalid OID ${dotted}`);
  }
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    if (!Number.isSafeInteger(arc)) throw new RangeError(`invalid OID ${dotted}`);
    // base-128, high bit set on every byte but the last
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
      groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return derTlv(0x06, Buffer.from(out));
}

export function derUtf8String(s: string): Buffer {
  return derTlv(0x0c, Buffer.from(s, 'utf8'));
}

export function derOctetString(bytes: Uint8Array): Buffer {
  return derTlv(0x04, bytes);
}

/** BIT STRING with zero unused bits. */
export function derBitString(bytes: Uint8Array): Buffer {
  return derTlv(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

/** Validity time per RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function derTime(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const year = date.getUTCFullYear();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  if (year >= 1950 && year < 2050) return derTlv(0x17, Buffer.from(digits.slice(2) + 'Z', 'ascii'));
  return derTlv(0x18, Buffer.from(digits + 'Z', 'ascii'));
}

/** Context-specific tag `[n]`: constructed (EXPLICIT wrapper) or primitive (IMPLICIT value). */
export function derContext(n: number, content: Uint8Array, constructed: boolean): Buffer {
  if (n < 0 || n > 30) throw new RangeError(`context tag ${n} out of range`);
  return derTlv(0x80 | (constructed ? 0x20 : 0) | n, content);
}
