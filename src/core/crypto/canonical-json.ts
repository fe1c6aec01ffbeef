// SPDX-License-Identifier: Apache-2.0
// Canonical JSON as docker/go `canonical/json` writes it: the bytes every TUF signature
// in Notary v1 covers (notary tuf/signed/verify.go re-canonicalizes before verifying).

import { VerificationError } from '../errors.js';

/** Nesting deeper than this is not metadata; it also keeps recursion off the stack limit. */
const MAX_DEPTH = 256;

/** Anything that needs more than `"${s}"`: an escape, a surrogate or a code unit ≥ U+E000 (ordering). */
const SLOW_PATH = /["\\\uD800-\uFFFF]/;
const ESCAPE_ALL = /["\\]/g;
const LONE_SURROGATE = /[\uD800-\uDFFF]/;
const SURROGATE_PAIR_OR_LONE = /[\uD800-\uDBFF][\uDC00-\uDFFF]|[\uD800-\uDFFF]/g;

/** Thrown inside the encoder; the path is filled in while unwinding (no cost on success). */
class EncodeError extends Error {
  readonly path: string[] = [];
}

/**
 * Go replaces ill-formed UTF-16 (lone surrogates) with U+FFFD when it decodes JSON;
 * Buffer.from does the same when encoding, but key ordering must see the same text.
 */
function wellFormed(s: string): string {
  if (!LONE_SURROGATE.test(s)) return s;
  return s.replace(SURROGATE_PAIR_OR_LONE, (m) => (m.length === 2 ? m : '\uFFFD'));
}

/**
 * Order strings by their UTF-8 bytes (Go's `<` on strings), which is code point order.
 * UTF-16 code unit order differs only between surrogates (U+10000 and up) and U+E000–U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function encodeString(s: string): string {
  if (!SLOW_PATH.test(s)) return `"${s}"`;
  return `"${wellFormed(s).replace(ESCAPE_ALL, '\\$&')}"`;
}

function encodeObject(obj: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(obj);
  let slow = false;
  for (const k of keys) {
    if (SLOW_PATH.test(k)) {
      slow = true;
      break;
    }
  }
  let out = '{';
  if (!slow) {
    // Plain keys below U+D800: UTF-16 order is UTF-8 byte order, and no escaping is needed.
    keys.sort();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      out += `${i > 0 ? ',' : ''}"${k}":${encodeMember(obj, k, depth)}`;
    }
    return out + '}';
  }
  const entries = keys.map((k): [string, string] => [wellFormed(k), k]);
  entries.sort((p, q) => compareUtf8(p[0], q[0]));
  for (let i = 0; i < entries.length; i++) {
    const [sortKey, k] = entries[i]!;
    out += `${i > 0 ? ',' : ''}${encodeString(sortKey)}:${encodeMember(obj, k, depth)}`;
  }
  return out + '}';
}

function encodeMember(obj: Record<string, unknown>, key: string, depth: number): string {
  try {
    return encode(obj[key], depth + 1);
  } catch (err) {
    if (err instanceof EncodeError) err.path.unshift(`.${key}`);
    throw err;
  }
}

function encode(value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      // docker/go canonical/json writes integral floats as int64 and refuses the rest.
      if (!Number.isSafeInteger(value)) throw new EncodeError(`${value} is not an integer`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) throw new EncodeError(`nested deeper than ${MAX_DEPTH}`);
      if (!Array.isArray(value)) return encodeObject(value as Record<string, unknown>, depth);
      let out = '[';
      for (let i = 0; i < value.length; i++) {
        try {
          out += (i > 0 ? ',' : '') + encode(value[i], depth + 1);
        } catch (err) {
          if (err instanceof EncodeError) err.path.unshift(`[${i}]`);
          throw err;
        }
      }
      return out + ']';
    }
    default:
      throw new EncodeError(`${typeof value} cannot be encoded`);
  }
}

/**
 * Canonical JSON bytes of a parsed JSON value: object keys sorted by UTF-8 bytes, no
 * whitespace, only `"` and `\` escaped (every other character written raw), integers only.
 * @throws VerificationError METADATA_INVALID for non-integral numbers, non-JSON values or
 *   nesting deeper than 256 levels.
 */
export function canonicalize(value: unknown): Buffer {
  try {
    return Buffer.from(encode(value, 0), 'utf8');
  } catch (err) {
    if (!(err instanceof EncodeError)) throw err;
    throw new VerificationError('METADATA_INVALID', `canonical JSON: $${err.path.join('')}: ${err.message}`);
  }
}
