// SPDX-License-Identifier: Apache-2.0
// The text of a target hash as Notary writes it: standard padded base64 of a 32-byte (sha256) or
// 64-byte (sha512) digest. One definition for both readers of a targets role: the general path
// checks parsed strings, the in-place reader (targets-scan.ts) checks the served bytes; both
// must accept exactly the same texts.

/** Digest sizes a target hash may have. */
export type HashSize = 32 | 64;

/**
 * The base64 alphabet by character code or byte (a table: per-target checks run 20,000 times a
 * role); 256 entries so a byte needs no range check.
 */
const BASE64_CHAR = new Uint8Array(256);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_CHAR[ch.charCodeAt(0)] = 1;

/** Characters before the padding (no allocation: this runs twice per target). */
function dataChars(size: HashSize): number {
  return size === 32 ? 43 : 86;
}

/** `=` characters after them. */
function padChars(size: HashSize): number {
  return size === 32 ? 1 : 2;
}

/** Length of the base64 text of a digest of `size` bytes (44 or 88). */
export function hashTextLength(size: HashSize): number {
  return dataChars(size) + padChars(size);
}

function isAlphabet(c: number): boolean {
  return c < 256 && BASE64_CHAR[c] === 1;
}

/**
 * Whether `s` is the padded base64 text of a digest of `size` bytes: 4·⌈size/3⌉ characters, the
 * alphabet, then 1 (32 bytes) or 2 (64 bytes) `=`.
 */
export function isBase64Hash(s: string, size: HashSize): boolean {
  const data = dataChars(size);
  const pad = padChars(size);
  if (s.length !== data + pad) return false;
  for (let i = 0; i < data; i++) if (!isAlphabet(s.charCodeAt(i))) return false;
  return s.charCodeAt(data) === 0x3d && (pad === 1 || s.charCodeAt(data + 1) === 0x3d);
}

/**
 * Whether the bytes from `b[i]` are that text followed by a closing quote (`b[i - 1]` is the
 * opening one): the served form of the same string, which never needs an escape.
 */
export function isBase64HashAt(b: Uint8Array, i: number, size: HashSize): boolean {
  const data = dataChars(size);
  const pad = padChars(size);
  const end = i + data;
  // Bounds first, so the loop reads only bytes that exist (no undefined in the hot loop).
  if (end + pad >= b.length) return false;
  for (let k = i; k < end; k++) if (BASE64_CHAR[b[k]!] !== 1) return false;
  return b[end] === 0x3d && (pad === 1 || b[end + 1] === 0x3d) && b[end + pad] === 0x22;
}
