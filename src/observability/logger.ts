// SPDX-License-Identifier: Apache-2.0
// Structured JSON-lines logging with secret redaction. A Logger is passed in (never a module
// singleton, STYLE §4.3); errors are serialized as {name, code, message} because
// JSON.stringify(new Error('x')) is "{}" (STYLE rule 15).

import { toIsoString } from './iso-time.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /**
   * Like `info`, for a record whose field names and values are known to hold no secrets and
   * only JSON strings, numbers, booleans, arrays and plain objects (the per-request audit
   * line). Same JSON as `info`, serialized without the redacting replacer. Optional: callers
   * fall back to `info`.
   * @param json `JSON.stringify(fields)`, when the caller has it already (the same bytes).
   */
  audit?(msg: string, fields: LogFields, json?: string): void;
}

/** Anything with a `write(string)` (process.stdout, a file stream, a test sink). */
export interface LogSink {
  write(chunk: string): unknown;
}

export interface JsonLoggerOptions {
  readonly stream: LogSink;
  /** Lines below this level are dropped. Default `info`. */
  readonly level?: LogLevel;
  /** Source of the `time` field; defaults to the system clock. */
  readonly clock?: { now(): Date };
  /** Fields added to every line (e.g. `{ component: 'webhook' }`). */
  readonly base?: LogFields;
}

const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Exact key names that hold credentials (docker config `auth`, HTTP `cookie`). */
const SECRET_KEYS = new Set(['auth', 'cookie', 'set-cookie', 'key', 'keypem']);
/** Substrings of key names that hold credentials. */
const SECRET_KEY_PARTS =
  /password|passwd|token|authorization|secret|privatekey|private_key|dockerconfigjson|apikey|api_key|credential/i;
const MAX_DEPTH = 8;
const MAX_ARRAY = 100;
export const REDACTED = '[REDACTED]';

/** Whether a field name is treated as holding a secret. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase()) || SECRET_KEY_PARTS.test(key);
}

export interface SerializedError {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
  readonly cause?: SerializedError;
}

/** `{name, code, message, cause}` of anything thrown; never a stack trace. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const out: { name: string; code?: string; message: string; cause?: SerializedError } = {
      name: err.name,
      message: err.message,
    };
    if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
    if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
    return out;
  }
  return { name: typeof err, message: String(err) };
}

/** A copy of `value` with secret-named fields replaced by "[REDACTED]" and errors serialized. */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    return value;
  }
  if (value instanceof Error) return serializeError(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  seen.add(value);
  if (Array.isArray(value)) {
    const out = value.slice(0, MAX_ARRAY).map((v) => redact(v, depth + 1, seen));
    if (value.length > MAX_ARRAY) out.push(`[+${value.length - MAX_ARRAY} more]`);
    return out;
  }
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      isSecretKey(k) && v !== undefined && v !== null ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}

/** Keys every line starts with; a field of the same name would replace the value in place. */
const HEADER_KEYS = ['time', 'level', 'msg'] as const;

class JsonLogger implements Logger {
  /**
   * `,"k":v,…` for the base fields when they can be pasted verbatim after the header (no
   * secret-named keys, no header keys, plain JSON values); `undefined` = always take `write`.
   */
  private readonly baseJson: string | undefined;

  constructor(
    private readonly stream: LogSink,
    private readonly threshold: number,
    private readonly clock: { now(): Date },
    private readonly base: LogFields,
  ) {
    this.baseJson = plainBaseJson(base);
  }

  audit(msg: string, fields: LogFields, json?: string): void {
    if (LEVELS.info < this.threshold) return;
    const baseJson = this.baseJson;
    if (baseJson === undefined || collides(fields, this.base)) {
      this.write('info', msg, fields);
      return;
    }
    const time = toIsoString(this.clock.now());
    const body = json ?? JSON.stringify(fields);
    // Same bytes as JSON.stringify({ time, level, msg, ...base, ...fields }, redactingReplacer)
    // for such a record: keys in that order, no duplicates, nothing to redact.
    this.stream.write(
      `{"time":${JSON.stringify(time)},"level":"info","msg":${JSON.stringify(msg)}${baseJson}` +
        (body === '{}' ? '}\n' : `,${body.slice(1)}\n`),
    );
  }

  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new JsonLogger(this.stream, this.threshold, this.clock, { ...this.base, ...fields });
  }

  private write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (LEVELS[level] < this.threshold) return;
    const time = toIsoString(this.clock.now());
    let line: string;
    try {
      // Fast path (one audit line per admission request): redact while serializing.
      line = JSON.stringify({ time, level, msg, ...this.base, ...fields }, redactingReplacer);
    } catch {
      // Circular or BigInt values: take the copying path, which handles both.
      try {
        line = JSON.stringify({
          time,
          level,
          msg,
          ...(redact({ ...this.base, ...fields }) as object),
        });
      } catch (err) {
        // Only reachable through exotic toJSON methods; keep the line rather than throw from a log call.
        line = JSON.stringify({ time, level, msg, logError: serializeError(err) });
      }
    }
    this.stream.write(line + '\n');
  }
}

/** The base fields as `,"k":v,…` if they need no redaction and are plain JSON; else undefined. */
function plainBaseJson(base: LogFields): string | undefined {
  const keys = Object.keys(base);
  if (keys.length === 0) return '';
  for (const k of keys) {
    if (isSecretKey(k) || (HEADER_KEYS as readonly string[]).includes(k) || indexLike(k)) {
      return undefined;
    }
  }
  let json: string;
  try {
    json = JSON.stringify(base);
  } catch {
    return undefined;
  }
  // Only when the replacer would not have changed anything (nested secrets, errors, bytes).
  if (JSON.stringify(base, redactingReplacer) !== json) return undefined;
  return json === '{}' ? '' : `,${json.slice(1, -1)}`;
}

/**
 * Integer-like keys ("0", "12") are ordered before all others in a JSON object, so pasting
 * one after the header would change the key order: such records take the generic path.
 */
function indexLike(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/** Whether a record repeats a header or base key or has an integer-like key (generic path then). */
function collides(fields: LogFields, base: LogFields): boolean {
  for (const k of HEADER_KEYS) if (Object.hasOwn(fields, k)) return true;
  for (const k in base) if (Object.hasOwn(fields, k)) return true;
  for (const k in fields) if (indexLike(k)) return true;
  return false;
}

function redactingReplacer(key: string, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (key !== '' && isSecretKey(key)) return REDACTED;
  if (value instanceof Error) return serializeError(value);
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  return value;
}

/**
 * A JSON-lines logger: one object per line with `time`, `level`, `msg` and the fields,
 * secrets redacted (see {@link isSecretKey}).
 */
export function createJsonLogger(opts: JsonLoggerOptions): Logger {
  return new JsonLogger(
    opts.stream,
    LEVELS[opts.level ?? 'info'],
    opts.clock ?? { now: () => new Date() },
    opts.base ?? {},
  );
}

/** A logger that drops everything (tests, benchmarks). */
export const noopLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => noopLogger,
  audit: () => undefined,
};
