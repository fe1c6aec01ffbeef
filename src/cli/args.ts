// SPDX-License-Identifier: Apache-2.0
// A small, strict argv parser: known flags only, so a typo is a usage error (exit 2),
// never a silently ignored option.

import { ConfigError } from '../core/errors.js';

export interface FlagSpec {
  /** Takes a value (`--port 8443` or `--port=8443`); otherwise boolean. */
  readonly value?: boolean;
  /** May be given several times (values collected in order). */
  readonly multiple?: boolean;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly flags: ReadonlyMap<string, readonly string[]>;
}

function usage(message: string): ConfigError {
  return new ConfigError('USAGE', message);
}

/**
 * Parse `argv` against `spec` (flag name without dashes → spec).
 * @throws ConfigError USAGE for unknown flags, missing values, repeated single flags
 */
export function parseArgs(
  argv: readonly string[],
  spec: Readonly<Record<string, FlagSpec>>,
): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const option = readOption(argv, i, spec);
    i = option.last;
    const list = flags.get(option.name) ?? [];
    if (list.length > 0 && !option.spec.multiple)
      throw usage(`option --${option.name} given more than once`);
    list.push(option.value);
    flags.set(option.name, list);
  }
  return { positionals, flags };
}

/** The option at `argv[i]` (which starts with `--`) and its value; `last` is the index of the last argv entry it used. */
function readOption(
  argv: readonly string[],
  i: number,
  spec: Readonly<Record<string, FlagSpec>>,
): { name: string; spec: FlagSpec; value: string; last: number } {
  const arg = argv[i]!;
  const eq = arg.indexOf('=');
  const name = arg.slice(2, eq >= 0 ? eq : undefined);
  // Own properties only: `--constructor` is not an option.
  const s = Object.hasOwn(spec, name) ? spec[name] : undefined;
  if (!s) {
    throw usage(
      `unknown option --${name}; known: ${
        Object.keys(spec)
          .map((k) => `--${k}`)
          .join(', ') || 'none'
      }`,
    );
  }
  if (!s.value) {
    if (eq >= 0) throw usage(`option --${name} takes no value`);
    return { name, spec: s, value: 'true', last: i };
  }
  if (eq >= 0) return { name, spec: s, value: arg.slice(eq + 1), last: i };
  const next = argv[i + 1];
  if (next === undefined || next.startsWith('--')) throw usage(`option --${name} needs a value`);
  return { name, spec: s, value: next, last: i + 1 };
}

/** The single value of a flag, if given. */
export function flag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0];
}

/** Every value of a repeatable flag. */
export function flags(args: ParsedArgs, name: string): readonly string[] {
  return args.flags.get(name) ?? [];
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Range-check the fields of an RFC3339 match: `Date` silently rolls `2026-02-30` over to March 2nd. */
function inRange(m: RegExpExecArray): boolean {
  const [y, mo, day, h, mi, s, , oh = '0', om = '0'] = m.slice(1).map((x) => x ?? '');
  const month = Number(mo);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  const limits: [string | undefined, number, number][] = [
    [mo, 1, 12],
    [day, 1, daysInMonth],
    [h, 0, 23],
    [mi, 0, 59],
    [s, 0, 59],
    [oh, 0, 23],
    [om, 0, 59],
  ];
  return limits.every(([v, lo, hi]) => Number(v) >= lo && Number(v) <= hi);
}

/**
 * Parse `--at RFC3339`, every field range-checked (an instant the user did not write is never used).
 * @throws ConfigError USAGE
 */
export function parseAt(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const m = RFC3339.exec(value);
  const d = new Date(value);
  if (m === null || !inRange(m) || Number.isNaN(d.getTime())) {
    throw usage(
      `--at must be an RFC 3339 instant like 2026-12-01T00:00:00Z, got ${JSON.stringify(value)}`,
    );
  }
  return d;
}

/** Parse a port number. @throws ConfigError USAGE */
export function parsePort(value: string | undefined, name: string, def: number): number {
  if (value === undefined) return def;
  // Digits only: Number() would accept '', ' 80', '0x50' and '1e3'.
  const n = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw usage(`--${name} must be a port number (0-65535), got ${JSON.stringify(value)}`);
  return n;
}
