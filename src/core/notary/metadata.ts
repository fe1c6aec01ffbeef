// SPDX-License-Identifier: Apache-2.0
// Notary v1 TUF metadata models with fromJSON guards (modeled on @tufjs/models).
// attacker-controlled: every field is type-checked; failures name the JSON path.

import { InconclusiveError, VerificationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { canonicalize, canonicalMember } from '../crypto/canonical-json.js';
import { isBase64Hash } from './hash-text.js';
import { scanTargets, type ScannedTargetsEnvelope } from './targets-scan.js';

export type MetadataType = 'Root' | 'Timestamp' | 'Snapshot' | 'Targets';

/** A public key as declared in `keys` (root) or `delegations.keys` (targets). */
export interface KeyDescriptor {
  readonly keyId: string;
  readonly keyType: string;
  /** `keyval.public` exactly as served: the key ID is computed over it. */
  readonly publicValue: string;
}

export interface RoleKeys {
  readonly keyIds: readonly string[];
  readonly threshold: number;
}

export interface TufSignature {
  readonly keyId: string;
  /** Lower-cased, as notary does on unmarshal. */
  readonly method: string;
  readonly sig: Buffer;
}

/** A snapshot/timestamp `meta` entry (notary has no `version`; TUF 1.0 may). */
export interface MetaFile {
  readonly length?: number;
  readonly sha256?: Buffer;
  readonly sha512?: Buffer;
  readonly version?: number;
}

/**
 * A target as signed. Hashes stay base64 as served (checked to decode to 32 / 64 bytes): a
 * role can hold 10,000 targets and only the resolved one needs its digest in hex.
 */
export interface TargetFile {
  readonly length: number;
  readonly sha256?: string | undefined;
  readonly sha512?: string | undefined;
  readonly custom?: unknown;
}

export interface DelegatedRole extends RoleKeys {
  readonly name: string;
  /** Path prefixes; empty when the role has no `paths` (it can then sign nothing). */
  readonly paths: readonly string[];
}

const ROLE_NAME = /^[-a-z0-9_/]+$/;
const MAX_ROLE_NAME = 255;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// RFC 3339 as Go's time.RFC3339Nano parses it: 'T' and 'Z' upper-case, 1–9 fractional digits.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

function invalid(path: string, message: string): VerificationError {
  return new VerificationError('METADATA_INVALID', `${path}: ${message}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function record(v: unknown, path: string): Record<string, unknown> {
  if (!isRecord(v)) throw invalid(path, 'expected an object');
  return v;
}

function string(v: unknown, path: string): string {
  if (typeof v !== 'string') throw invalid(path, 'expected a string');
  return v;
}

function integer(v: unknown, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw invalid(path, `expected an integer ≥ ${min}`);
  }
  return v;
}

function stringArray(v: unknown, path: string, max: number): string[] {
  if (!Array.isArray(v)) throw invalid(path, 'expected an array');
  if (v.length > max) throw capExceeded(path, v.length, max);
  return v.map((x, i) => string(x, `${path}[${i}]`));
}

function capExceeded(path: string, n: number, max: number): InconclusiveError {
  return new InconclusiveError(
    'LIMIT_EXCEEDED',
    `${path}: ${n} entries, more than the ${max} allowed`,
  );
}

function entries(obj: Record<string, unknown>, path: string, max: number): [string, unknown][] {
  const list = Object.entries(obj);
  if (list.length > max) throw capExceeded(path, list.length, max);
  return list;
}

function base64(v: unknown, path: string, size?: number): Buffer {
  const s = string(v, path);
  if (s.length % 4 !== 0 || !BASE64.test(s)) throw invalid(path, 'not base64');
  const buf = Buffer.from(s, 'base64');
  if (size !== undefined && buf.length !== size)
    throw invalid(path, `expected ${size} bytes, got ${buf.length}`);
  return buf;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(2000, month, 0)).getUTCDate() + (month === 2 && !isLeap(year) ? -1 : 0);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * Parse an RFC 3339 timestamp (1–9 fractional digits, `Z` or `±hh:mm`), truncated to
 * milliseconds. Out-of-range fields (month 15, Feb 30, hour 24) are refused.
 * @throws VerificationError METADATA_INVALID
 */
export function parseRfc3339(v: unknown, path: string): Date {
  const s = string(v, path);
  const m = RFC3339.exec(s);
  if (!m) throw invalid(path, `${JSON.stringify(s)} is not an RFC 3339 time`);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(
    Number,
  ) as [number, number, number, number, number, number];
  const offH = m[10] === undefined ? 0 : Number(m[10]);
  const offM = m[11] === undefined ? 0 : Number(m[11]);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offH > 23 ||
    offM > 59
  ) {
    throw invalid(path, `${JSON.stringify(s)} is not a valid time`);
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  const sign = m[9] === '-' ? -1 : 1;
  return new Date(d.getTime() - sign * (offH * 60 + offM) * 60_000);
}

/** notary data.IsDelegation plus the direct-child rule of isValidTargetsStructure. */
export function isValidDelegationName(name: string, parent: string): boolean {
  if (name.length > MAX_ROLE_NAME || !ROLE_NAME.test(name)) return false;
  if (!name.startsWith(`${parent}/`)) return false;
  const leaf = name.slice(parent.length + 1);
  return leaf.length > 0 && !leaf.includes('/');
}

function parseRoleKeys(v: unknown, path: string): RoleKeys {
  const o = record(v, path);
  const keyIds = stringArray(o['keyids'], `${path}.keyids`, LIMITS.maxKeysPerRole);
  return { keyIds, threshold: integer(o['threshold'], `${path}.threshold`, 1) };
}

function parseKeys(v: unknown, path: string): Map<string, KeyDescriptor> {
  const keys = new Map<string, KeyDescriptor>();
  for (const [keyId, raw] of entries(record(v, path), path, LIMITS.maxKeysPerRole)) {
    const p = `${path}.${keyId}`;
    const o = record(raw, p);
    const keyval = record(o['keyval'], `${p}.keyval`);
    keys.set(keyId, {
      keyId,
      keyType: string(o['keytype'], `${p}.keytype`),
      publicValue: string(keyval['public'], `${p}.keyval.public`),
    });
  }
  return keys;
}

function parseMetaFile(v: unknown, path: string): MetaFile {
  const o = record(v, path);
  const hashes = record(o['hashes'], `${path}.hashes`);
  const file: { -readonly [K in keyof MetaFile]: MetaFile[K] } = {};
  if (o['length'] !== undefined) file.length = integer(o['length'], `${path}.length`, 0);
  if (o['version'] !== undefined) file.version = integer(o['version'], `${path}.version`, 0);
  if (hashes['sha256'] !== undefined)
    file.sha256 = base64(hashes['sha256'], `${path}.hashes.sha256`, 32);
  if (hashes['sha512'] !== undefined)
    file.sha512 = base64(hashes['sha512'], `${path}.hashes.sha512`, 64);
  if (!file.sha256 && !file.sha512) throw invalid(`${path}.hashes`, 'no sha256 or sha512 hash');
  return file;
}

/** Why `v` is not base64 of `size` bytes (the same wording as {@link base64}). */
function base64Problem(v: unknown, size: number): string {
  if (typeof v !== 'string') return 'expected a string';
  if (v.length % 4 !== 0 || !BASE64.test(v)) return 'not base64';
  return `expected ${size} bytes, got ${Buffer.from(v, 'base64').length}`;
}

/** A target hash, checked character by character; decoded only when the target is resolved. */
function targetHash(
  hashes: Record<string, unknown>,
  alg: 'sha256' | 'sha512',
  path: string,
  name: string,
): string | undefined {
  const v = hashes[alg];
  if (v === undefined) return undefined;
  const size = alg === 'sha256' ? 32 : 64;
  if (typeof v !== 'string' || !isBase64Hash(v, size))
    throw invalid(`${path}.${name}.hashes.${alg}`, base64Problem(v, size));
  return v;
}

/**
 * One entry of a role's `targets`, fully checked. Paths are built only for an error message:
 * this runs once per target, up to LIMITS.maxTargetsPerRole times per role.
 */
function parseTargetFile(v: unknown, path: string, name: string): TargetFile {
  if (!isRecord(v)) throw invalid(`${path}.${name}`, 'expected an object');
  const hashes = v['hashes'];
  if (!isRecord(hashes)) throw invalid(`${path}.${name}.hashes`, 'expected an object');
  const sha256 = targetHash(hashes, 'sha256', path, name);
  const sha512 = targetHash(hashes, 'sha512', path, name);
  const length = v['length'];
  return {
    length:
      typeof length === 'number' && Number.isSafeInteger(length) && length >= 0
        ? length
        : integer(length, `${path}.${name}.length`, 0),
    sha256,
    sha512,
    custom: v['custom'],
  };
}

/** A role's `targets` object, every entry checked. */
function parseTargets(v: unknown, path: string): Map<string, TargetFile> {
  const raw = record(v, path);
  const names = Object.keys(raw);
  if (names.length > LIMITS.maxTargetsPerRole)
    throw capExceeded(path, names.length, LIMITS.maxTargetsPerRole);
  const targets = new Map<string, TargetFile>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    targets.set(name, parseTargetFile(raw[name], path, name));
  }
  return targets;
}

/** Fields every role has. */
abstract class BaseSigned {
  readonly version: number;
  readonly expires: Date;
  protected constructor(o: Record<string, unknown>, path: string) {
    this.version = integer(o['version'], `${path}.version`, 0);
    this.expires = parseRfc3339(o['expires'], `${path}.expires`);
  }
  /** Expired when `expires` is before `now` (notary signed.VerifyExpiry). */
  isExpired(now: Date): boolean {
    return this.expires.getTime() < now.getTime();
  }
}

export class Root extends BaseSigned {
  readonly type = 'Root' as const;
  readonly keys: ReadonlyMap<string, KeyDescriptor>;
  readonly roles: {
    readonly root: RoleKeys;
    readonly targets: RoleKeys;
    readonly snapshot: RoleKeys;
    readonly timestamp: RoleKeys;
  };
  readonly consistentSnapshot: boolean;
  private constructor(o: Record<string, unknown>, path: string) {
    super(o, path);
    this.keys = parseKeys(o['keys'], `${path}.keys`);
    const roles = record(o['roles'], `${path}.roles`);
    this.roles = {
      root: parseRoleKeys(roles['root'], `${path}.roles.root`),
      targets: parseRoleKeys(roles['targets'], `${path}.roles.targets`),
      snapshot: parseRoleKeys(roles['snapshot'], `${path}.roles.snapshot`),
      timestamp: parseRoleKeys(roles['timestamp'], `${path}.roles.timestamp`),
    };
    this.consistentSnapshot = o['consistent_snapshot'] === true;
  }
  static fromJSON(v: unknown, path = 'signed'): Root {
    return new Root(record(v, path), path);
  }
}

export class Timestamp extends BaseSigned {
  readonly type = 'Timestamp' as const;
  readonly snapshot: MetaFile;
  private constructor(o: Record<string, unknown>, path: string) {
    super(o, path);
    const meta = record(o['meta'], `${path}.meta`);
    this.snapshot = parseMetaFile(meta['snapshot'], `${path}.meta.snapshot`);
  }
  static fromJSON(v: unknown, path = 'signed'): Timestamp {
    return new Timestamp(record(v, path), path);
  }
}

export class Snapshot extends BaseSigned {
  readonly type = 'Snapshot' as const;
  /** Role name → expected hashes/length of its served bytes. */
  readonly meta: ReadonlyMap<string, MetaFile>;
  private constructor(o: Record<string, unknown>, path: string) {
    super(o, path);
    const meta = new Map<string, MetaFile>();
    for (const [name, v] of entries(
      record(o['meta'], `${path}.meta`),
      `${path}.meta`,
      LIMITS.maxTargetsPerRole,
    )) {
      meta.set(name, parseMetaFile(v, `${path}.meta.${name}`));
    }
    this.meta = meta;
  }
  static fromJSON(v: unknown, path = 'signed'): Snapshot {
    return new Snapshot(record(v, path), path);
  }
}

export class Targets extends BaseSigned {
  readonly type = 'Targets' as const;
  readonly targets: ReadonlyMap<string, TargetFile>;
  readonly delegationKeys: ReadonlyMap<string, KeyDescriptor>;
  readonly delegations: readonly DelegatedRole[];
  private constructor(
    o: Record<string, unknown>,
    path: string,
    roleName: string,
    targets: ReadonlyMap<string, TargetFile> | undefined,
  ) {
    super(o, path);
    this.targets = targets ?? parseTargets(o['targets'], `${path}.targets`);
    const dp = `${path}.delegations`;
    if (o['delegations'] === undefined) {
      this.delegationKeys = new Map();
      this.delegations = [];
      return;
    }
    const d = record(o['delegations'], dp);
    this.delegationKeys = d['keys'] === undefined ? new Map() : parseKeys(d['keys'], `${dp}.keys`);
    const rolesRaw = d['roles'] ?? [];
    if (!Array.isArray(rolesRaw)) throw invalid(`${dp}.roles`, 'expected an array');
    if (rolesRaw.length > LIMITS.maxDelegations)
      throw capExceeded(`${dp}.roles`, rolesRaw.length, LIMITS.maxDelegations);
    const seen = new Set<string>();
    this.delegations = rolesRaw.map((raw, i) => {
      const p = `${dp}.roles[${i}]`;
      const r = record(raw, p);
      const name = string(r['name'], `${p}.name`);
      // notary isValidTargetsStructure: a bad delegation name invalidates the whole file
      // (the ReDoS vector in connaisseur's redos_targets.json).
      if (!isValidDelegationName(name, roleName)) {
        throw invalid(
          `${p}.name`,
          `${JSON.stringify(name.slice(0, 80))} is not a valid delegation of ${roleName}`,
        );
      }
      if (seen.has(name)) throw invalid(`${p}.name`, `${name} is delegated twice`);
      seen.add(name);
      const keys = parseRoleKeys(r, p);
      const paths =
        r['paths'] === undefined
          ? []
          : stringArray(r['paths'], `${p}.paths`, LIMITS.maxTargetsPerRole);
      return { name, keyIds: keys.keyIds, threshold: keys.threshold, paths };
    });
  }
  /**
   * @param targets the role's targets when they were already read and checked in place
   *   (targets-scan.ts); `v.targets` is then not read.
   */
  static fromJSON(
    v: unknown,
    roleName: string,
    path = 'signed',
    targets?: ReadonlyMap<string, TargetFile>,
  ): Targets {
    return new Targets(record(v, path), path, roleName, targets);
  }
}

export type SignedRole = Root | Timestamp | Snapshot | Targets;

/** A parsed envelope: the model, its signatures and the canonical bytes they cover. */
export interface Envelope<T extends SignedRole> {
  readonly signed: T;
  readonly signatures: readonly TufSignature[];
  /** canonical_json(parse(served).signed): what the signatures cover (notes pitfall 1). */
  readonly canonical: Buffer;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type ModelOf = { Root: Root; Timestamp: Timestamp; Snapshot: Snapshot; Targets: Targets };

export interface ParseOptions {
  /**
   * Read a canonically served targets role in place (targets-scan.ts) instead of JSON-parsing
   * every target (default true). Both ways give the same result; false is the general path.
   */
  readonly inPlace?: boolean;
}

function parseJSON(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(UTF8.decode(bytes));
  } catch (err) {
    throw new VerificationError(
      'METADATA_INVALID',
      `${path}: not valid JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** A targets role read in place, with the rest of its envelope parsed; null → general path. */
function readInPlace(bytes: Uint8Array): { json: unknown; scanned: ScannedTargetsEnvelope } | null {
  const scanned = scanTargets(bytes);
  if (scanned === null) return null;
  try {
    return { json: JSON.parse(scanned.rest), scanned };
  } catch {
    return null; // invalid outside `signed`: the general path reports where
  }
}

/**
 * Parse served bytes into an envelope of the expected `_type`.
 * Duplicate JSON keys: JSON.parse keeps the last occurrence, as Go's encoding/json does, and
 * the signature is checked over the canonical form of exactly that parsed object, so what
 * is verified is what is interpreted.
 * @throws VerificationError METADATA_INVALID (not UTF-8/JSON, wrong `_type`, bad field)
 * @throws InconclusiveError LIMIT_EXCEEDED (more signatures/keys/targets than LIMITS allow)
 */
export function parseEnvelope<T extends MetadataType>(
  bytes: Uint8Array,
  type: T,
  role: string,
  opts: ParseOptions = {},
): Envelope<ModelOf[T]> {
  const path = `${role}.json`;
  const inPlace = type === 'Targets' && opts.inPlace !== false ? readInPlace(bytes) : null;
  const env = record(inPlace ? inPlace.json : parseJSON(bytes, path), path);
  const signedRaw = record(env['signed'], `${path}: signed`);
  const sigsRaw = env['signatures'];
  if (!Array.isArray(sigsRaw)) throw invalid(`${path}: signatures`, 'expected an array');
  if (sigsRaw.length > LIMITS.maxSignaturesPerRole) {
    throw capExceeded(`${path}: signatures`, sigsRaw.length, LIMITS.maxSignaturesPerRole);
  }
  const signatures = sigsRaw.map((raw, i): TufSignature => {
    const p = `${path}: signatures[${i}]`;
    const s = record(raw, p);
    return {
      keyId: string(s['keyid'], `${p}.keyid`),
      method: string(s['method'], `${p}.method`).toLowerCase(),
      sig: base64(s['sig'], `${p}.sig`),
    };
  });
  const actual = signedRaw['_type'];
  if (actual !== type) {
    throw invalid(`${path}: signed._type`, `expected ${type}, got ${JSON.stringify(actual)}`);
  }
  const sp = `${path}: signed`;
  const signed: SignedRole =
    type === 'Root'
      ? Root.fromJSON(signedRaw, sp)
      : type === 'Timestamp'
        ? Timestamp.fromJSON(signedRaw, sp)
        : type === 'Snapshot'
          ? Snapshot.fromJSON(signedRaw, sp)
          : Targets.fromJSON(signedRaw, role, sp, inPlace?.scanned.targets);
  // Notary serves `signed` canonically: checking those bytes in place is cheaper than writing
  // them again; any other form (HTML-escaped, reordered, spaced) is re-encoded.
  return {
    signed: signed as ModelOf[T],
    signatures,
    canonical:
      inPlace?.scanned.canonical ?? canonicalMember(bytes, 'signed') ?? canonicalize(signedRaw),
  };
}
