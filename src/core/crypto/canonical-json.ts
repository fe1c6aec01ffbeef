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
/** Strings JSON.stringify writes differently from canonical JSON: control characters and surrogates. */
// eslint-disable-next-line no-control-regex -- finding control characters is this regex's purpose
const NOT_STRINGIFY_SAFE = /[\u0000-\u001F\uD800-\uDFFF]/;
/** Keys whose UTF-16 order may differ from UTF-8 byte order, or that JSON.stringify escapes differently. */
// eslint-disable-next-line no-control-regex -- finding control characters is this regex's purpose
const NOT_ORDER_SAFE_KEY = /[\u0000-\u001F\uD800-\uFFFF]/;

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

// ---------------------------------------------------------------------------------------------
// Fast path: a parsed document whose keys are already in canonical order (notary serves the
// `signed` section canonically, and JSON.parse keeps key order) is written by JSON.stringify.

/**
 * Whether JSON.stringify(value) is byte-for-byte the canonical encoding: plain objects whose
 * Object.keys order (the order JSON.stringify uses, integer-like keys first) is strictly
 * ascending and below U+D800, arrays without holes, safe integers, and strings without control
 * characters or surrogates (the only characters JSON.stringify escapes besides `"` and `\`).
 */
function stringifyIsCanonical(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !NOT_STRINGIFY_SAFE.test(value);
    case 'number':
      return Number.isSafeInteger(value);
    case 'boolean':
      return true;
    case 'object':
      return value === null || containerIsCanonical(value, depth);
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      // Not JSON values: the general path refuses them and names where they are.
      return false;
  }
}

function containerIsCanonical(value: object, depth: number): boolean {
  if (depth >= MAX_DEPTH) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value)) return proto === Array.prototype && arrayIsCanonical(value, depth);
  return (
    (proto === Object.prototype || proto === null) &&
    plainObjectIsCanonical(value as Record<string, unknown>, depth)
  );
}

function arrayIsCanonical(value: readonly unknown[], depth: number): boolean {
  for (let i = 0; i < value.length; i++)
    if (!stringifyIsCanonical(value[i], depth + 1)) return false;
  return true;
}

function plainObjectIsCanonical(obj: Record<string, unknown>, depth: number): boolean {
  const keys = Object.keys(obj);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    // Below U+D800, UTF-16 order is UTF-8 byte order; strictly ascending also rules out the
    // integer-like keys V8 hoists out of order ("9" before "10").
    if (NOT_ORDER_SAFE_KEY.test(k) || (i > 0 && !(keys[i - 1]! < k))) return false;
    if (!stringifyIsCanonical(obj[k], depth + 1)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// General path: sorts keys and writes every value itself.

function encodeString(s: string): string {
  if (!SLOW_PATH.test(s)) return `"${s}"`;
  return `"${wellFormed(s).replace(ESCAPE_ALL, '\\$&')}"`;
}

/** Sort `keys` in place and return true when every key is plain; false (unsorted) otherwise. */
function sortPlainKeys(keys: string[]): boolean {
  for (let i = 0; i < keys.length; i++) {
    if (SLOW_PATH.test(keys[i]!)) return false;
  }
  // Plain keys below U+D800: UTF-16 order is UTF-8 byte order, and no escaping is needed.
  keys.sort();
  return true;
}

function encodeObject(obj: Record<string, unknown>, depth: number): string {
  const keys = Object.keys(obj);
  let out = '{';
  if (sortPlainKeys(keys)) {
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
      return encodeInteger(value);
    case 'boolean':
      return String(value);
    case 'object':
      return value === null ? 'null' : encodeContainer(value, depth);
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      // Not JSON values (JSON.parse never produces them): they have no canonical form.
      throw new EncodeError(`${typeof value} cannot be encoded`);
  }
}

/** docker/go canonical/json writes integral floats as int64 and refuses the rest. */
function encodeInteger(value: number): string {
  if (!Number.isSafeInteger(value)) throw new EncodeError(`${value} is not an integer`);
  return String(value);
}

function encodeContainer(value: object, depth: number): string {
  if (depth >= MAX_DEPTH) throw new EncodeError(`nested deeper than ${MAX_DEPTH}`);
  return Array.isArray(value)
    ? encodeArray(value, depth)
    : encodeObject(value as Record<string, unknown>, depth);
}

function encodeArray(value: readonly unknown[], depth: number): string {
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

/**
 * Canonical JSON bytes of a parsed JSON value: object keys sorted by UTF-8 bytes, no
 * whitespace, only `"` and `\` escaped (every other character written raw), integers only.
 * @throws VerificationError METADATA_INVALID for non-integral numbers, non-JSON values or
 *   nesting deeper than 256 levels.
 */
export function canonicalize(value: unknown): Buffer {
  if (stringifyIsCanonical(value, 0)) return Buffer.from(JSON.stringify(value), 'utf8');
  try {
    return Buffer.from(encode(value, 0), 'utf8');
  } catch (err) {
    if (!(err instanceof EncodeError)) throw err;
    throw new VerificationError(
      'METADATA_INVALID',
      `canonical JSON: $${err.path.join('')}: ${err.message}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Served bytes that already are canonical: Notary serves `{"signed":<canonical bytes>,...}`,
// so the signed bytes can be checked in place instead of re-encoded. The grammar below accepts
// exactly the output of `encode` (for text JSON.parse accepts): whatever it accepts, re-encoding
// the parsed value gives back the same bytes; anything else falls back to `canonicalize`.
// The readers are exported as building blocks for in-place readers of one document shape
// (core/notary/targets-scan.ts reads a targets role in the same pass that checks it).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipWhitespace(b: Uint8Array, i: number): number {
  while (isWhitespace(b[i])) i++;
  return i;
}

/** Index after the JSON string that opens at `b[i]`, or -1. */
function skipString(b: Uint8Array, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j];
    if (c === QUOTE) return j + 1;
    if (c === BACKSLASH) j++;
  }
  return -1;
}

/** +1 for `{` and `[`, -1 for `}` and `]`, 0 for any other byte. */
function bracketDelta(c: number): number {
  if (c === 0x7b || c === 0x5b) return 1;
  return c === 0x7d || c === 0x5d ? -1 : 0;
}

/** Index after any JSON value that starts at `b[i]` (the text already parsed), or -1. */
function skipValue(b: Uint8Array, i: number): number {
  let depth = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c === QUOTE) {
      i = skipString(b, i);
      if (i < 0 || depth === 0) return i;
      continue;
    }
    const delta = bracketDelta(c);
    // At the top level a scalar ends before `,`, whitespace or the enclosing `}`.
    if (depth === 0 && (delta < 0 || c === 0x2c || isWhitespace(c))) return i;
    depth += delta;
    i++;
    if (delta < 0 && depth === 0) return i;
  }
  return depth === 0 ? i : -1;
}

/** A canonical string at `b[i]`: raw bytes except `\"` and `\\`. Returns the index after it, or -1. */
export function canonicalString(b: Uint8Array, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    const c = b[j]!;
    if (c === QUOTE) return j + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const next = b[j + 1];
      if (next !== QUOTE && next !== BACKSLASH) return -1;
      j++;
    }
  }
  return -1;
}

/**
 * Whether the canonical key whose text starts at `b[s1]` sorts strictly before the one at `b[s2]`,
 * comparing the unescaped UTF-8 bytes (byte order = code point order = Go's string order). Both
 * keys already passed {@link canonicalString}: each ends at its unescaped closing quote, and
 * inside them a backslash always escapes the next byte (`"` or `\`).
 */
export function keyBefore(b: Uint8Array, s1: number, s2: number): boolean {
  let i = s1;
  let j = s2;
  let x = b[i];
  let y = b[j];
  // A raw quote ends a key; the length check only bounds the loop by the buffer as well.
  while (x !== QUOTE && y !== QUOTE && j < b.length) {
    if (x === BACKSLASH) x = b[++i];
    if (y === BACKSLASH) y = b[++j];
    if (x !== y) return x! < y!;
    x = b[++i];
    y = b[++j];
  }
  // A key that ends first sorts first; two keys ending together are a duplicate.
  return x === QUOTE && y !== QUOTE;
}

/** A safe integer as `String(n)` writes it: no `-0`, no leading zeros, fraction or exponent. */
export function canonicalInteger(b: Uint8Array, i: number): number {
  let j = b[i] === 0x2d ? i + 1 : i;
  const start = j;
  let value = 0;
  for (; j < b.length; j++) {
    const c = b[j]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
  }
  const digits = j - start;
  // Rounding above 2^53 never lands at or below MAX_SAFE_INTEGER, so the compare is exact.
  if (digits === 0 || digits > 16 || value > Number.MAX_SAFE_INTEGER) return -1;
  if (b[start] === 0x30 && (digits > 1 || start > i)) return -1;
  const next = b[j];
  return next === 0x2e || next === 0x65 || next === 0x45 ? -1 : j;
}

function canonicalLiteral(b: Uint8Array, i: number, word: string): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

function canonicalObject(b: Uint8Array, i: number, depth: number): number {
  if (b[++i] === 0x7d) return i + 1;
  let prevStart = -1;
  while (b[i] === QUOTE) {
    const keyEnd = canonicalString(b, i);
    if (keyEnd < 0) return -1;
    if (prevStart >= 0 && !keyBefore(b, prevStart, i + 1)) return -1;
    prevStart = i + 1;
    if (b[keyEnd] !== 0x3a) return -1;
    i = canonicalValue(b, keyEnd + 1, depth + 1);
    if (i < 0) return -1;
    if (b[i] === 0x7d) return i + 1;
    if (b[i++] !== 0x2c) return -1;
  }
  return -1;
}

function canonicalArray(b: Uint8Array, i: number, depth: number): number {
  if (b[++i] === 0x5d) return i + 1;
  // Each round consumes at least one byte, so the loop ends with the buffer.
  while (i < b.length) {
    i = canonicalValue(b, i, depth + 1);
    if (i < 0) return -1;
    if (b[i] === 0x5d) return i + 1;
    if (b[i++] !== 0x2c) return -1;
  }
  return -1;
}

/**
 * Index after the canonical value at `b[i]`, or -1 when it is not canonical (or too deep).
 * `depth` is the value's nesting level (0 for a document or a checked member).
 */
export function canonicalValue(b: Uint8Array, i: number, depth: number): number {
  switch (b[i]) {
    case QUOTE:
      return canonicalString(b, i);
    case 0x7b:
      return depth >= MAX_DEPTH ? -1 : canonicalObject(b, i, depth);
    case 0x5b:
      return depth >= MAX_DEPTH ? -1 : canonicalArray(b, i, depth);
    case 0x74:
      return canonicalLiteral(b, i, 'true');
    case 0x66:
      return canonicalLiteral(b, i, 'false');
    case 0x6e:
      return canonicalLiteral(b, i, 'null');
    case undefined:
      return -1;
    default:
      return canonicalInteger(b, i);
  }
}

/** The default member check: any canonical JSON value. */
function anyCanonicalValue(b: Uint8Array, i: number): number {
  return canonicalValue(b, i, 0);
}

/**
 * The served bytes of the top-level member `name` (the last one, as JSON.parse keeps the last
 * duplicate) when they already are its canonical JSON; otherwise null and the caller must
 * {@link canonicalize} the parsed value. `bytes` must be UTF-8 that JSON.parse accepted: this
 * only finds and checks the member, it does not validate the document. The result is a view.
 * @param check reads the member's value at `b[i]` and returns the index after it, or -1 when it
 *   is not canonical; a caller may pass a stricter reader built from {@link canonicalValue}
 *   and friends that also records what it sees (one pass over a large role instead of two).
 */
export function canonicalMember(
  bytes: Uint8Array,
  name: string,
  check: (b: Uint8Array, i: number) => number = anyCanonicalValue,
): Buffer | null {
  const b = bytes;
  let i = skipWhitespace(b, 0);
  if (b[i] !== 0x7b) return null;
  i = skipWhitespace(b, i + 1);
  let span: [number, number] | null = null;
  while (b[i] === QUOTE) {
    const keyEnd = skipString(b, i);
    const isName = keyEnd < 0 ? null : plainKeyIs(b, i, keyEnd, name);
    if (isName === null) return null;
    i = skipWhitespace(b, keyEnd);
    if (b[i] !== 0x3a) return null;
    const value = memberValue(b, skipWhitespace(b, i + 1), isName ? check : null);
    if (value.end < 0) return null;
    if (isName) span = value.span;
    i = skipWhitespace(b, value.end);
    if (b[i] === 0x7d)
      return span && Buffer.from(b.buffer, b.byteOffset + span[0], span[1] - span[0]);
    if (b[i] !== 0x2c) return null;
    i = skipWhitespace(b, i + 1);
  }
  return null;
}

/**
 * Whether the member key spanning `b[i]` to `b[keyEnd - 1]` (quotes included) is `name`; null when
 * it has an escape, as such a key could still decode to `name` (leave it to canonicalize).
 */
function plainKeyIs(b: Uint8Array, i: number, keyEnd: number, name: string): boolean | null {
  const keyLength = keyEnd - i - 2;
  let isName = keyLength === name.length;
  for (let k = 0; k < keyLength; k++) {
    const c = b[i + 1 + k]!;
    if (c === BACKSLASH) return null;
    if (isName && c !== name.charCodeAt(k)) isName = false;
  }
  return isName;
}

/**
 * The end of the member value at `b[i]` (-1 when it does not end), and its span when `check` is
 * given and accepts the value in place.
 */
function memberValue(
  b: Uint8Array,
  i: number,
  check: ((b: Uint8Array, i: number) => number) | null,
): { end: number; span: [number, number] | null } {
  if (check !== null) {
    const end = check(b, i);
    if (end >= 0) return { end, span: [i, end] };
  }
  return { end: skipValue(b, i), span: null };
}
