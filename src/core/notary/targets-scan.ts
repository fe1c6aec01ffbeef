// SPDX-License-Identifier: Apache-2.0
// A served targets role read in place. Notary serves `signed` as canonical JSON, so one pass
// over the bytes can prove them canonical (what the signatures cover) AND check every target
// entry's shape, recording where each entry lies instead of JSON-parsing 10,000 objects
// (SPEC §7: 10,000 targets < 50 ms of CPU for parse + verify + resolve). Entries are decoded
// only when looked up, by binary search over the canonical (byte-sorted) names.
//
// The reader accepts only documents the general path (JSON.parse + Targets.fromJSON +
// canonicalize) accepts, with the same result; for anything else it answers null and the
// general path decides and names the problem. __tests__/targets-scan.test.ts checks this
// differentially, over generated and mutated documents.

import { isUtf8 } from 'node:buffer';
import {
  canonicalInteger,
  canonicalMember,
  canonicalString,
  canonicalValue,
  keyBefore,
} from '../crypto/canonical-json.js';
import { LIMITS } from '../limits.js';
import { hashTextLength, isBase64HashAt } from './hash-text.js';
import type { TargetFile } from './metadata.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;

// One row of the entry table per target: where its parts lie in the served bytes.
/** First byte of the name (after its opening quote). */
const NAME = 0;
/** Index of the name's closing quote. */
const NAME_END = 1;
/** First byte of the sha256 text (after its quote), or -1. */
const SHA256 = 2;
/** First byte of the sha512 text, or -1. */
const SHA512 = 3;
/** Span of the `custom` value, or -1. */
const CUSTOM = 4;
const CUSTOM_END = 5;
/** 1 once the entry's `hashes` object was read. */
const HASHES = 6;
const STRIDE = 7;

/** Rows allocated before the first growth (a role typically holds tens to thousands of tags). */
const INITIAL_ROWS = 256;

/** The objects the reader knows, each read by the same object walk with its own members. */
const enum Kind {
  Signed,
  Targets,
  Entry,
  Hashes,
}

/** Nesting levels, as canonicalValue counts them from the `signed` object (level 0). */
const SIGNED_MEMBER_DEPTH = 1;
const ENTRY_MEMBER_DEPTH = 3;
const HASH_MEMBER_DEPTH = 4;

/** Whether the key text from `b[start]` to the quote at `b[end]` is the ASCII `word`. */
function keyIs(b: Uint8Array, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (b[start + k] !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * The member key at `b[i]`, which must sort after the previous key (text at `b[prev]`, or -1 for
 * the first): the index of the colon after it, or -1.
 */
function memberKey(b: Uint8Array, i: number, prev: number): number {
  const keyEnd = canonicalString(b, i);
  if (keyEnd < 0 || b[keyEnd] !== COLON) return -1;
  return prev < 0 || keyBefore(b, prev, i + 1) ? keyEnd : -1;
}

/**
 * The in-place reader of one `signed` object. Every method returns the index after what it
 * read, or -1 when the text is not canonical or not a shape the reader takes.
 */
class Reader {
  private readonly b: Uint8Array;
  rows = new Int32Array(INITIAL_ROWS * STRIDE);
  lengths = new Float64Array(INITIAL_ROWS);
  count = 0;
  /** Span of the `targets` object inside `signed`. */
  targetsStart = -1;
  targetsEnd = -1;

  constructor(b: Uint8Array) {
    this.b = b;
  }

  /** The `signed` object at `b[i]`: canonical, with its `targets` member read entry by entry. */
  signed(i: number): number {
    // canonicalMember calls this once per `signed` member; JSON.parse keeps the last one.
    this.count = 0;
    this.targetsStart = -1;
    return this.object(i, Kind.Signed, -1);
  }

  /** A canonical object of `kind` at `b[i]`; `row` is the entry being read (Entry, Hashes). */
  private object(i: number, kind: Kind, row: number): number {
    const b = this.b;
    if (b[i] !== OPEN) return -1;
    i++;
    if (b[i] === CLOSE) return this.closed(kind, row, i + 1);
    let prev = -1;
    for (;;) {
      if (b[i] !== QUOTE) return -1;
      const colon = memberKey(b, i, prev);
      if (colon < 0) return -1;
      prev = i + 1;
      i = this.member(kind, row, prev, colon);
      if (i < 0) return -1;
      if (b[i] === CLOSE) return this.closed(kind, row, i + 1);
      if (b[i++] !== COMMA) return -1;
    }
  }

  /** The member whose key text starts at `b[key]` and whose colon is at `b[colon]`. */
  private member(kind: Kind, row: number, key: number, colon: number): number {
    const keyQuote = colon - 1;
    const value = colon + 1;
    switch (kind) {
      case Kind.Signed:
        return keyIs(this.b, key, keyQuote, 'targets')
          ? this.targets(value)
          : canonicalValue(this.b, value, SIGNED_MEMBER_DEPTH);
      case Kind.Targets:
        // Over the cap: the general path raises LIMIT_EXCEEDED.
        if (this.count === LIMITS.maxTargetsPerRole) return -1;
        return this.object(value, Kind.Entry, this.addRow(key, keyQuote));
      case Kind.Entry:
        return this.entryMember(row, key, keyQuote, value);
      case Kind.Hashes:
        return this.hashMember(row, key, keyQuote, value);
    }
  }

  /** What an object of `kind` needs once it closed at `end` (the index after its brace). */
  private closed(kind: Kind, row: number, end: number): number {
    switch (kind) {
      case Kind.Signed:
        // Without a `targets` object the general path reports the problem.
        return this.targetsStart < 0 ? -1 : end;
      case Kind.Targets:
        return (this.targetsEnd = end);
      case Kind.Entry:
        // Without both, the general path names what is missing.
        return this.rows[row + HASHES] === 1 && this.lengths[row / STRIDE]! >= 0 ? end : -1;
      case Kind.Hashes:
        return end;
    }
  }

  private targets(i: number): number {
    this.targetsStart = i;
    return this.object(i, Kind.Targets, -1);
  }

  /** A member of one target `{"custom":…,"hashes":{…},"length":N}`; others are ignored. */
  private entryMember(row: number, key: number, keyQuote: number, value: number): number {
    const b = this.b;
    if (keyIs(b, key, keyQuote, 'hashes')) {
      this.rows[row + HASHES] = 1;
      return this.object(value, Kind.Hashes, row);
    }
    if (keyIs(b, key, keyQuote, 'length')) {
      // A negative length is invalid: the general path names it.
      const end = b[value] === MINUS ? -1 : canonicalInteger(b, value);
      if (end >= 0) this.lengths[row / STRIDE] = digitsValue(b, value, end);
      return end;
    }
    const end = canonicalValue(b, value, ENTRY_MEMBER_DEPTH);
    if (keyIs(b, key, keyQuote, 'custom')) {
      this.rows[row + CUSTOM] = value;
      this.rows[row + CUSTOM_END] = end;
    }
    return end;
  }

  /** A member of an entry's `hashes`: sha256 / sha512 texts checked, other algorithms skipped. */
  private hashMember(row: number, key: number, keyQuote: number, value: number): number {
    const b = this.b;
    const size = keyIs(b, key, keyQuote, 'sha256')
      ? 32
      : keyIs(b, key, keyQuote, 'sha512')
        ? 64
        : 0;
    if (size === 0) return canonicalValue(b, value, HASH_MEMBER_DEPTH);
    // A hash that is not a string of the right base64: the general path names it.
    if (b[value] !== QUOTE || !isBase64HashAt(b, value + 1, size)) return -1;
    this.rows[row + (size === 32 ? SHA256 : SHA512)] = value + 1;
    return value + hashTextLength(size) + 2;
  }

  /** Append a row for a new entry and return its offset in `rows`. */
  private addRow(name: number, nameEnd: number): number {
    if ((this.count + 1) * STRIDE > this.rows.length) {
      const rows = new Int32Array(this.rows.length * 2);
      rows.set(this.rows);
      this.rows = rows;
      const lengths = new Float64Array(this.lengths.length * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    const row = this.count * STRIDE;
    this.lengths[this.count] = -1;
    this.count++;
    const rows = this.rows;
    rows[row + NAME] = name;
    rows[row + NAME_END] = nameEnd;
    rows[row + SHA256] = -1;
    rows[row + SHA512] = -1;
    rows[row + CUSTOM] = -1;
    rows[row + CUSTOM_END] = -1;
    rows[row + HASHES] = 0;
    return row;
  }
}

/** The value of the decimal digits `b[start..end)` (already checked: at most 16, a safe integer). */
function digitsValue(b: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let k = start; k < end; k++) value = value * 10 + (b[k]! - 0x30);
  return value;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A canonical key's text: raw UTF-8, where only `\"` and `\\` are escaped. `b` spans bytes
 * already proven UTF-8 (scanTargets), so the non-validating slice decoder is exact, and far
 * cheaper per call than a TextDecoder: listing a role decodes every name.
 */
function keyText(b: Buffer, start: number, end: number): string {
  const raw = b.toString('utf8', start, end);
  return raw.includes('\\') ? raw.replace(/\\(["\\])/g, '$1') : raw;
}

/**
 * Compare the UTF-8 bytes `q` with the canonical key text from `b[start]` to its closing quote,
 * unescaping `\"` and `\\` on the way: byte order, which is the order the reader checked.
 */
function compareKey(q: Uint8Array, b: Uint8Array, start: number): number {
  let j = start;
  for (let k = 0; k < q.length; k++) {
    let c = b[j]!;
    if (c === QUOTE) return 1; // the key ended first: it sorts before q
    if (c === BACKSLASH) c = b[++j]!;
    if (c !== q[k]) return q[k]! - c;
    j++;
  }
  return b[j] === QUOTE ? 0 : -1;
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The targets of one role, read in place: a read-only map from name to {@link TargetFile}
 * that decodes an entry when it is asked for. Iteration is in the signed (byte) order.
 */
export class ScannedTargets implements ReadonlyMap<string, TargetFile> {
  /** The served bytes (a view, not a copy). */
  private readonly b: Buffer;
  private readonly rows: Int32Array;
  private readonly lengths: Float64Array;
  readonly size: number;

  constructor(bytes: Uint8Array, rows: Int32Array, lengths: Float64Array, size: number) {
    this.b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.rows = rows;
    this.lengths = lengths;
    this.size = size;
  }

  /** Index of `name`, or -1 (binary search: the reader checked the names are sorted). */
  private find(name: string): number {
    // No canonical key decodes to a lone surrogate; Buffer.from would turn one into U+FFFD.
    if (LONE_SURROGATE.test(name)) return -1;
    const q = Buffer.from(name, 'utf8');
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareKey(q, this.b, this.rows[mid * STRIDE + NAME]!);
      if (c === 0) return mid;
      if (c < 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }

  private file(index: number): TargetFile {
    const r = index * STRIDE;
    const rows = this.rows;
    const text = (start: number, size: 32 | 64): string | undefined =>
      start < 0 ? undefined : this.b.toString('latin1', start, start + hashTextLength(size));
    const custom = rows[r + CUSTOM]!;
    return {
      length: this.lengths[index]!,
      sha256: text(rows[r + SHA256]!, 32),
      sha512: text(rows[r + SHA512]!, 64),
      custom:
        custom < 0 ? undefined : JSON.parse(this.b.toString('utf8', custom, rows[r + CUSTOM_END])),
    };
  }

  private name(index: number): string {
    const r = index * STRIDE;
    return keyText(this.b, this.rows[r + NAME]!, this.rows[r + NAME_END]!);
  }

  get(name: string): TargetFile | undefined {
    const index = this.find(name);
    return index < 0 ? undefined : this.file(index);
  }

  has(name: string): boolean {
    return this.find(name) >= 0;
  }

  *entries(): MapIterator<[string, TargetFile]> {
    for (let i = 0; i < this.size; i++) yield [this.name(i), this.file(i)];
  }

  *keys(): MapIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.name(i);
  }

  *values(): MapIterator<TargetFile> {
    for (let i = 0; i < this.size; i++) yield this.file(i);
  }

  [Symbol.iterator](): MapIterator<[string, TargetFile]> {
    return this.entries();
  }

  forEach(
    callback: (value: TargetFile, key: string, map: ReadonlyMap<string, TargetFile>) => void,
    thisArg?: unknown,
  ): void {
    for (let i = 0; i < this.size; i++) callback.call(thisArg, this.file(i), this.name(i), this);
  }
}

/** A targets envelope read in place: the parts the general path still parses, and the targets. */
export interface ScannedTargetsEnvelope {
  /** The envelope text with `signed.targets` replaced by `{}`: small, for JSON.parse. */
  readonly rest: string;
  /** The served `signed` bytes, proven canonical: what the signatures cover. */
  readonly canonical: Buffer;
  readonly targets: ScannedTargets;
}

/**
 * Read a served targets role in place, or null when the general path must parse it: `signed`
 * not canonical as served, a target entry of another shape (missing or malformed hashes or
 * length), more targets than LIMITS.maxTargetsPerRole, bytes that are not UTF-8. `bytes` is
 * kept (not copied) by the returned map.
 */
export function scanTargets(bytes: Uint8Array): ScannedTargetsEnvelope | null {
  const reader = new Reader(bytes);
  const canonical = canonicalMember(bytes, 'signed', (_b, i) => reader.signed(i));
  if (canonical === null || reader.targetsStart < 0) return null;
  const { targetsStart, targetsEnd } = reader;
  const inner = bytes.subarray(targetsStart, targetsEnd);
  if (!isUtf8(inner)) return null;
  let rest: string;
  try {
    rest =
      UTF8.decode(bytes.subarray(0, targetsStart)) + '{}' + UTF8.decode(bytes.subarray(targetsEnd));
  } catch {
    return null; // not UTF-8 outside the targets: the general path reports it
  }
  return {
    rest,
    canonical,
    targets: new ScannedTargets(bytes, reader.rows, reader.lengths, reader.count),
  };
}
