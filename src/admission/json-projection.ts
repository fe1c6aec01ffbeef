// SPDX-License-Identifier: Apache-2.0
// Read only the parts of a JSON document that the caller will look at. An AdmissionReview
// carries the whole object (managedFields, annotations, every container's env, probes and
// resources) and, on UPDATE, the old object as well. trustgate reads a dozen fields of it.
// JSON.parse builds every object and string, the largest single cost of a warm admission
// request. This reader checks the syntax of the whole document in one pass over the bytes and
// builds values only along a projection: for the 8.8 KB benchmark Pod, 12 µs instead of 40 µs
// in-process on the machine of README's Performance table (`npm run bench` measures the server).
//
// The contract: when `readProjected` returns a value, it is exactly
// `project(JSON.parse(bytes.toString('utf8')), projection)`, as defined for `Projection` below.
// When the reader is unsure, because the syntax is bad or the nesting is deeper than
// MAX_SCAN_DEPTH, it returns NOT_READ. The caller then parses the document in full, so JSON.parse
// stays the judge of what is JSON and words the error message. The reader may refuse a
// document, but it must never accept one that JSON.parse would reject. The differential tests
// hold it to that.

/**
 * Which parts of a JSON value to build:
 * - `WHOLE`: the value as JSON.parse gives it;
 * - `fields({...})`: for an object, only the named members (each projected in turn), and every
 *   other member is skipped. A value that is not an object is kept whole, so type checks made
 *   after the read still see the wrong type;
 * - `each(p)`: for an array, every element projected by `p`. A value that is not an array is
 *   kept whole.
 */
export type Projection = Whole | Fields | Each;

interface Whole {
  readonly kind: 'whole';
}

interface Fields {
  readonly kind: 'fields';
  readonly names: readonly string[];
  /** UTF-8 of each name, matched against raw key bytes without decoding the key. */
  readonly nameBytes: readonly Buffer[];
  readonly members: readonly Projection[];
}

interface Each {
  readonly kind: 'each';
  readonly item: Projection;
}

export const WHOLE: Projection = Object.freeze({ kind: 'whole' });

/**
 * Member names a projection may use: printable ASCII without `"` or `\`. Keys are matched by
 * their raw bytes; for such names that is the same as comparing decoded text, whereas invalid
 * UTF-8 in a key decodes to U+FFFD and would not match a name's own bytes.
 */
const PLAIN_NAME = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * Keep only `members` of an object.
 * @throws Error for a name that is not plain ASCII ({@link PLAIN_NAME}), and for `__proto__`:
 *   assigning it would set the prototype instead of a member.
 */
export function fields(members: Readonly<Record<string, Projection>>): Projection {
  const names = Object.keys(members);
  const bad = names.find((n) => !PLAIN_NAME.test(n) || n === '__proto__');
  if (bad !== undefined) {
    throw new Error(`a projection cannot name ${JSON.stringify(bad)}: plain ASCII names only`);
  }
  return {
    kind: 'fields',
    names,
    nameBytes: names.map((n) => Buffer.from(n, 'utf8')),
    members: names.map((n) => members[n] as Projection),
  };
}

/** Project every element of an array by `item`. */
export function each(item: Projection): Projection {
  return { kind: 'each', item };
}

/** Returned when the reader does not take the document; parse it in full instead. */
export const NOT_READ: unique symbol = Symbol('not read');

/**
 * Nesting deeper than this is left to JSON.parse. Kubernetes objects nest about 20 levels
 * (managedFields' fieldsV1 is the deepest), and the reader recurses once per level.
 */
export const MAX_SCAN_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Bytes that end the plain run of a JSON string: controls (invalid there), `"` and `\`. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

/** The characters allowed after `\` other than `u`: " \ / b f n r t. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** Thrown inside the reader to give the document back to JSON.parse; never escapes it. */
const DECLINE = new Error('declined');

function isWhitespace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

class Reader {
  /** Where the value read by the last `read` call ends. */
  end = 0;
  /** Whether the last string scanned had an escape (its text then needs JSON.parse). */
  escaped = false;

  constructor(private readonly b: Buffer) {}

  ws(i: number): number {
    const b = this.b;
    while (isWhitespace(b[i])) i++;
    return i;
  }

  /** `i` is just past the opening quote; returns the index just past the closing quote. */
  string(i: number): number {
    const b = this.b;
    for (;;) {
      let c = b[i];
      // Past the end `c` is undefined and STRING_STOP[undefined] is undefined: the loop stops.
      while (STRING_STOP[c as number] === 0) c = b[++i];
      i++;
      if (c === QUOTE) return i;
      if (c !== BACKSLASH) throw DECLINE; // a control character, or the end of the input
      this.escaped = true;
      const e = b[i++] as number;
      if (e === 0x75 /* u */) {
        // HEX[undefined] is undefined: a \u cut short by the end of the input declines too.
        const hex =
          HEX[b[i] as number]! &
          HEX[b[i + 1] as number]! &
          HEX[b[i + 2] as number]! &
          HEX[b[i + 3] as number]!;
        if (hex !== 1) throw DECLINE;
        i += 4;
      } else if (SIMPLE_ESCAPE[e] !== 1) {
        throw DECLINE;
      }
    }
  }

  /** One or more digits from `i`; returns their end. */
  digits(i: number): number {
    const b = this.b;
    if (!isDigit(b[i])) throw DECLINE;
    while (isDigit(b[++i]));
    return i;
  }

  /** RFC 8259 number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?; returns its end. */
  number(i: number): number {
    const b = this.b;
    if (b[i] === MINUS) i++;
    // A leading 0 stands alone: "01" ends the number after the 0, and the caller then declines.
    i = b[i] === ZERO ? i + 1 : this.digits(i);
    if (b[i] === DOT) i = this.digits(i + 1);
    const e = b[i];
    if (e === 0x65 || e === 0x45 /* e E */) {
      const sign = b[++i];
      i = this.digits(sign === PLUS || sign === MINUS ? i + 1 : i);
    }
    return i;
  }

  /** `true`, `false` or `null` starting at `i` (already known to start with its first letter). */
  literal(i: number, word: string): number {
    const b = this.b;
    for (let k = 1; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) throw DECLINE;
    return i + word.length;
  }

  /** Check the value starting at `i` (after whitespace) and return its end, building nothing. */
  skip(i: number, depth: number): number {
    const b = this.b;
    const c = b[i];
    if (c === QUOTE) return this.string(i + 1);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth >= MAX_SCAN_DEPTH) throw DECLINE;
      return c === OPEN_OBJECT ? this.skipObject(i, depth) : this.skipArray(i, depth);
    }
    if (c === 0x74 /* t */) return this.literal(i, 'true');
    if (c === 0x66 /* f */) return this.literal(i, 'false');
    if (c === 0x6e /* n */) return this.literal(i, 'null');
    return this.number(i);
  }

  private skipObject(i: number, depth: number): number {
    const b = this.b;
    i = this.ws(i + 1);
    if (b[i] === CLOSE_OBJECT) return i + 1;
    for (;;) {
      if (b[i] !== QUOTE) throw DECLINE;
      i = this.ws(this.string(i + 1));
      if (b[i] !== COLON) throw DECLINE;
      i = this.ws(this.skip(this.ws(i + 1), depth + 1));
      const d = b[i];
      if (d === CLOSE_OBJECT) return i + 1;
      if (d !== COMMA) throw DECLINE;
      i = this.ws(i + 1);
    }
  }

  private skipArray(i: number, depth: number): number {
    const b = this.b;
    i = this.ws(i + 1);
    if (b[i] === CLOSE_ARRAY) return i + 1;
    for (;;) {
      i = this.ws(this.skip(i, depth + 1));
      const d = b[i];
      if (d === CLOSE_ARRAY) return i + 1;
      if (d !== COMMA) throw DECLINE;
      i = this.ws(i + 1);
    }
  }

  /** Build the value starting at `i` (after whitespace) as projected by `p`; sets `end`. */
  read(i: number, p: Projection, depth: number): unknown {
    const c = this.b[i];
    if (p.kind === 'fields' && c === OPEN_OBJECT && depth < MAX_SCAN_DEPTH) {
      return this.readObject(i, p, depth);
    }
    if (p.kind === 'each' && c === OPEN_ARRAY && depth < MAX_SCAN_DEPTH) {
      return this.readArray(i, p.item, depth);
    }
    return this.readWhole(i, depth);
  }

  private readWhole(i: number, depth: number): unknown {
    const b = this.b;
    if (b[i] === QUOTE) {
      this.escaped = false;
      const end = this.string(i + 1);
      this.end = end;
      // Without escapes the text between the quotes is the string: no JSON.parse needed.
      return this.escaped
        ? JSON.parse(b.toString('utf8', i, end))
        : b.toString('utf8', i + 1, end - 1);
    }
    const end = this.skip(i, depth);
    this.end = end;
    return JSON.parse(b.toString('utf8', i, end));
  }

  private readObject(i: number, p: Fields, depth: number): Record<string, unknown> {
    const b = this.b;
    const out: Record<string, unknown> = {};
    i = this.ws(i + 1);
    if (b[i] === CLOSE_OBJECT) {
      this.end = i + 1;
      return out;
    }
    for (;;) {
      if (b[i] !== QUOTE) throw DECLINE;
      this.escaped = false;
      const keyEnd = this.string(i + 1);
      const member = this.escaped
        ? p.names.indexOf(JSON.parse(b.toString('utf8', i, keyEnd)) as string)
        : matchName(b, i + 1, keyEnd - 1, p.nameBytes);
      i = this.ws(keyEnd);
      if (b[i] !== COLON) throw DECLINE;
      i = this.ws(i + 1);
      if (member < 0) {
        i = this.skip(i, depth + 1);
      } else {
        // A repeated name overwrites the earlier value, as JSON.parse does.
        out[p.names[member] as string] = this.read(i, p.members[member] as Projection, depth + 1);
        i = this.end;
      }
      i = this.ws(i);
      const d = b[i];
      if (d === CLOSE_OBJECT) {
        this.end = i + 1;
        return out;
      }
      if (d !== COMMA) throw DECLINE;
      i = this.ws(i + 1);
    }
  }

  private readArray(i: number, item: Projection, depth: number): unknown[] {
    const b = this.b;
    const out: unknown[] = [];
    i = this.ws(i + 1);
    if (b[i] === CLOSE_ARRAY) {
      this.end = i + 1;
      return out;
    }
    for (;;) {
      out.push(this.read(i, item, depth + 1));
      i = this.ws(this.end);
      const d = b[i];
      if (d === CLOSE_ARRAY) {
        this.end = i + 1;
        return out;
      }
      if (d !== COMMA) throw DECLINE;
      i = this.ws(i + 1);
    }
  }
}

/** Index of the name whose UTF-8 equals `b[start, end)`, or -1. */
function matchName(b: Buffer, start: number, end: number, names: readonly Buffer[]): number {
  const length = end - start;
  for (let n = 0; n < names.length; n++) {
    const name = names[n] as Buffer;
    if (name.length !== length) continue;
    let k = 0;
    while (k < length && b[start + k] === name[k]) k++;
    if (k === length) return n;
  }
  return -1;
}

/**
 * `project(JSON.parse(bytes.toString('utf8')), projection)`, built from the bytes without
 * parsing the parts the projection leaves out, or NOT_READ when the reader leaves this
 * document to JSON.parse (bad syntax, or nesting deeper than MAX_SCAN_DEPTH).
 */
export function readProjected(bytes: Buffer, projection: Projection): unknown {
  const reader = new Reader(bytes);
  try {
    const value = reader.read(reader.ws(0), projection, 0);
    for (let i = reader.end; i < bytes.length; i++) {
      if (!isWhitespace(bytes[i])) return NOT_READ;
    }
    return value;
  } catch {
    // DECLINE, or anything else (a stack already near its limit): JSON.parse then decides.
    return NOT_READ;
  }
}
