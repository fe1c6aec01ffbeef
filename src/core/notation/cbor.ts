// SPDX-License-Identifier: Apache-2.0
// Minimal, strict, bounded CBOR (RFC 8949) decoder for COSE_Sign1 envelopes: definite lengths only,
// no floats, no duplicate map keys, depth/item caps. Plus the one encoding COSE needs (Sig_structure).

// attacker-controlled: the whole input comes from a registry blob.

/** A CBOR tagged item (major type 6). */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

export type CborValue =
  | number
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | readonly CborValue[]
  | ReadonlyMap<number | string, CborValue>
  | CborTag;

/** Thrown by the decoder; callers wrap it into their own typed error. */
export class CborError extends Error {}

export const CBOR_LIMITS = {
  /** COSE_Sign1 nests at most ~4 levels (tag → array → map → array). */
  maxDepth: 16,
  /** Items of any kind in one document. */
  maxItems: 10_000,
} as const;

class Reader {
  pos = 0;
  items = 0;
  constructor(readonly buf: Uint8Array) {}

  byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw new CborError(`truncated input at byte ${this.pos}`);
    this.pos++;
    return b;
  }

  bytes(n: number): Uint8Array {
    if (n > this.buf.length - this.pos)
      throw new CborError(`length ${n} exceeds input at byte ${this.pos}`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A UTF-8 text string of `n` bytes; invalid UTF-8 is a CborError like every other bad input. */
  text(n: number): string {
    const at = this.pos;
    const bytes = this.bytes(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (err) {
      throw new CborError(`text string at byte ${at} is not valid UTF-8`, { cause: err });
    }
  }

  /** The argument of a head byte; only values up to 2^53 - 1. */
  argument(info: number): number {
    if (info < 24) return info;
    const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
    if (width === 0) {
      throw new CborError(
        info === 31
          ? `indefinite length is not supported (byte ${this.pos - 1})`
          : `reserved additional info ${info}`,
      );
    }
    let v = 0;
    for (let i = 0; i < width; i++) v = v * 256 + this.byte();
    if (v > Number.MAX_SAFE_INTEGER) throw new CborError('integer too large');
    return v;
  }

  item(depth: number): CborValue {
    if (depth > CBOR_LIMITS.maxDepth) throw new CborError('nesting too deep');
    if (++this.items > CBOR_LIMITS.maxItems) throw new CborError('too many items');
    const head = this.byte();
    const major = head >> 5;
    const info = head & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1:
        return -1 - this.argument(info);
      case 2:
        return this.bytes(this.argument(info));
      case 3:
        return this.text(this.argument(info));
      case 4: {
        const n = this.argument(info);
        // Each element takes at least one byte: a cheap bound before allocating.
        if (n > this.buf.length - this.pos) throw new CborError('array length exceeds input');
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const n = this.argument(info);
        if (n * 2 > this.buf.length - this.pos) throw new CborError('map length exceeds input');
        const out = new Map<number | string, CborValue>();
        for (let i = 0; i < n; i++) {
          const key = this.item(depth + 1);
          if (typeof key !== 'number' && typeof key !== 'string') {
            throw new CborError('map keys must be integers or text strings');
          }
          if (out.has(key)) throw new CborError(`duplicate map key ${JSON.stringify(key)}`);
          out.set(key, this.item(depth + 1));
        }
        return out;
      }
      case 6:
        return new CborTag(this.argument(info), this.item(depth + 1));
      default:
        // major 7: only the simple values COSE headers may carry.
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 23) return undefined;
        throw new CborError(`unsupported simple/float value (0x${head.toString(16)})`);
    }
  }
}

/**
 * Decode exactly one CBOR data item that spans the whole input.
 * @throws CborError on malformed, unsupported or oversized input.
 */
export function decodeCbor(buf: Uint8Array): CborValue {
  const r = new Reader(buf);
  const v = r.item(0);
  if (r.pos !== buf.length)
    throw new CborError(`${buf.length - r.pos} trailing bytes after the data item`);
  return v;
}

function head(major: number, n: number): Buffer {
  if (n < 24) return Buffer.from([(major << 5) | n]);
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
  if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(n, 1);
  return b;
}

/**
 * RFC 9052 §4.4 Sig_structure for COSE_Sign1:
 * `["Signature1", body_protected, external_aad = h'', payload]`, reusing the protected bytes as received.
 */
export function encodeSigStructure(protectedBytes: Uint8Array, payload: Uint8Array): Buffer {
  const context = Buffer.from('Signature1', 'ascii');
  return Buffer.concat([
    head(4, 4),
    head(3, context.length),
    context,
    head(2, protectedBytes.length),
    protectedBytes,
    head(2, 0),
    head(2, payload.length),
    payload,
  ]);
}
