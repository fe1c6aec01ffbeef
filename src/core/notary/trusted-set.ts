// SPDX-License-Identifier: Apache-2.0
// The TUF client workflow over bytes for one Notary v1 repository (modeled on tuf-js
// TrustedMetadataStore; step numbers refer to the TUF specification §5 "Detailed client workflow").

import { createHash, type KeyObject, type X509Certificate } from 'node:crypto';
import { InconclusiveError, VerificationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { parseTufKey, type TufPublicKey } from '../crypto/keys.js';
import { verifyTufSignature } from '../crypto/signature.js';
import { chainsTo, rootCertificateProblem } from '../crypto/x509.js';
import {
  parseEnvelope,
  type DelegatedRole,
  type Envelope,
  type KeyDescriptor,
  type MetaFile,
  type Root,
  type RoleKeys,
  type Snapshot,
  type TargetFile,
  type Targets,
  type Timestamp,
} from './metadata.js';
import type { RoleProblem, TargetInfo, VerifiedRepository, VerifiedRole } from './types.js';

/** The policy's trust material for a Notary v1 source (a subset of CompiledNotaryV1Source). */
export interface TrustAnchor {
  readonly rootKeyIds: ReadonlySet<string>;
  readonly rootCertFingerprints: ReadonlySet<string>;
  readonly rootPublicKeys: readonly KeyObject[];
  readonly rootCAs: readonly X509Certificate[];
  readonly trustOnFirstUse: boolean;
}

/**
 * How the root chain is anchored. `x509`: notary trust pinning (key ID, certificate, CA or
 * TOFU) with its certificate checks (leaf, CN = GUN, validity, no SHA-1). `publicKey`: a
 * bare public key pinned by the policy, which vouches for the key whatever certificate wraps it.
 */
export type AnchorMode = 'x509' | 'publicKey';

interface TrustedRoot {
  readonly envelope: Envelope<Root>;
  readonly sha256: Buffer;
  readonly sha512: Buffer;
  readonly mode: AnchorMode;
  /** Root-role key IDs whose signatures on this root verified. */
  readonly selfSigners: readonly string[];
}

/** What one load leaves behind for the next one (rollback floors and reusable verified data). */
export interface TrustedState {
  readonly gun: string;
  readonly root: TrustedRoot;
  /** Highest verified version per role (timestamp, snapshot, targets, targets/…). */
  readonly floors: ReadonlyMap<string, number>;
  readonly verified?: {
    readonly rootVersion: number;
    /** Identity of the snapshot the timestamp pointed to (`sha256:<hex>` or `sha512:<hex>`). */
    readonly snapshotId: string;
    readonly snapshot: Envelope<Snapshot>;
    /** Served bytes by role (`snapshot`, `targets`, `targets/x`), to re-verify without refetching. */
    readonly bytes: ReadonlyMap<string, Uint8Array>;
    readonly roles: ReadonlyMap<string, VerifiedRole>;
    readonly problems: readonly RoleProblem[];
  };
}

/** What to fetch for a role named in the snapshot or timestamp. */
export interface MetaExpectation {
  readonly role: string;
  /** For the consistent name `<role>.<sha256>.json`. */
  readonly sha256Hex?: string;
  /** Signed upper bound on the served size, when stated. */
  readonly length?: number;
  /** min(length, LIMITS cap). */
  readonly maxBytes: number;
}

interface DelegationTask {
  readonly role: DelegatedRole;
  readonly parent: string;
  readonly parentPaths: readonly string[] | null;
  readonly keys: ReadonlyMap<string, KeyDescriptor>;
  readonly depth: number;
}

/** How a verified targets role is trusted. */
interface AcceptedRole {
  /** Key IDs whose signatures on the role verified. */
  readonly valid: readonly string[];
  readonly threshold: number;
  /** Paths it may sign (its own narrowed by every delegating parent); null = all. */
  readonly paths: readonly string[] | null;
  /** Delegation depth: 0 for `targets`. */
  readonly depth: number;
}

const sha256 = (b: Uint8Array): Buffer => createHash('sha256').update(b).digest();
const sha512 = (b: Uint8Array): Buffer => createHash('sha512').update(b).digest();

/**
 * sha256 digests of served bytes computed by {@link sha256OfServed}, keyed by the identity of
 * the exact array: the orchestrator hashes a role fetched ahead to match it against the hash its
 * verified parent names, and the check against that parent's meta then takes the digest from
 * here instead of hashing the same bytes again (2 MB of targets: ~1.3 ms). Only this module
 * writes an entry, always the sha256 of that very object, so a caller can spare the second hash
 * but never supply a digest (other bytes, even equal ones, are another key and are hashed). An
 * entry is used once: a later check of the same array (a re-verification) hashes it again.
 * Served bytes are never written to; an array changed between the two calls would be checked
 * against the digest of its earlier content.
 */
const servedSha256 = new WeakMap<Uint8Array, Buffer>();

/**
 * The sha256 (hex) of served bytes. The next {@link TrustedSet} check of this same array
 * against a parent's meta uses this digest instead of hashing the bytes again.
 */
export function sha256OfServed(bytes: Uint8Array): string {
  const digest = sha256(bytes);
  servedSha256.set(bytes, digest);
  return digest.toString('hex');
}

/** The sha256 of bytes being checked: remembered by {@link sha256OfServed} (used once), or computed. */
function checkedSha256(bytes: Uint8Array): Buffer {
  const known = servedSha256.get(bytes);
  if (known === undefined) return sha256(bytes);
  servedSha256.delete(bytes);
  return known;
}

function fail(
  code: ConstructorParameters<typeof VerificationError>[0],
  message: string,
): VerificationError {
  return new VerificationError(code, message);
}

function problemsText(problems: readonly string[]): string {
  return problems.length > 0 ? ` (${[...new Set(problems)].join('; ')})` : '';
}

function iso(d: Date): string {
  return d.toISOString();
}

/** Distinct key IDs of `role` whose signatures over the canonical bytes verify. */
export function validSigners(
  env: Envelope<Root | Timestamp | Snapshot | Targets>,
  keys: ReadonlyMap<string, KeyDescriptor>,
  role: RoleKeys,
): string[] {
  const allowed = new Set(role.keyIds);
  const valid = new Set<string>();
  for (const sig of env.signatures) {
    // A signature by a key outside the role is ignored, never an error (notary VerifySignatures).
    if (!allowed.has(sig.keyId) || valid.has(sig.keyId)) continue;
    const desc = keys.get(sig.keyId);
    if (desc === undefined) continue;
    const parsed = parseTufKey(desc.keyId, desc.keyType, desc.publicValue);
    if (parsed.ok && verifyTufSignature(parsed.key, sig.method, sig.sig, env.canonical))
      valid.add(sig.keyId);
  }
  return [...valid];
}

function metaId(meta: MetaFile): string {
  return meta.sha256
    ? `sha256:${meta.sha256.toString('hex')}`
    : `sha512:${meta.sha512!.toString('hex')}`;
}

function expectation(role: string, meta: MetaFile, cap: number): MetaExpectation {
  return {
    role,
    ...(meta.sha256 ? { sha256Hex: meta.sha256.toString('hex') } : {}),
    ...(meta.length !== undefined ? { length: meta.length } : {}),
    maxBytes: Math.min(meta.length ?? cap, cap),
  };
}

/** Effective paths of a delegation: its prefixes that fall under a parent prefix (notary RestrictDelegationPathPrefixes). */
export function restrictPaths(
  paths: readonly string[],
  parentPaths: readonly string[] | null,
): string[] {
  if (parentPaths === null) return [...paths];
  return paths.filter((p) => parentPaths.some((pp) => p.startsWith(pp)));
}

/**
 * The targets of a verified role within its paths, as a read-only map whose TargetInfo values
 * (hex digest) are built on first use: a role may hold 10,000 targets, a decision needs one.
 * Every target was already checked when the role was parsed; this only filters and converts.
 */
class TargetView implements ReadonlyMap<string, TargetInfo> {
  private readonly files: ReadonlyMap<string, TargetFile>;
  private readonly paths: readonly string[] | null;
  private readonly built = new Map<string, TargetInfo>();
  private all: Map<string, TargetInfo> | undefined;

  constructor(files: ReadonlyMap<string, TargetFile>, paths: readonly string[] | null) {
    this.files = files;
    this.paths = paths;
  }

  private sha256Of(name: string, t: TargetFile | undefined): string | undefined {
    // A delegate signing outside its paths is ignored (TUF 5.6.7.2.1.3); Docker needs sha256.
    if (t === undefined || (this.paths !== null && !this.paths.some((p) => name.startsWith(p))))
      return undefined;
    return t.sha256;
  }

  get(name: string): TargetInfo | undefined {
    if (this.all !== undefined) return this.all.get(name);
    const done = this.built.get(name);
    if (done !== undefined) return done;
    const info = this.info(name, this.files.get(name));
    if (info !== undefined) this.built.set(name, info);
    return info;
  }

  /** The TargetInfo of `name` signed as `t`, or undefined outside paths / without sha256. */
  private info(name: string, t: TargetFile | undefined): TargetInfo | undefined {
    const sha256 = this.sha256Of(name, t);
    if (sha256 === undefined) return undefined;
    const hex = Buffer.from(sha256, 'base64').toString('hex');
    return {
      name,
      length: t!.length,
      sha256: hex,
      digest: `sha256:${hex}`,
      ...(t!.custom !== undefined ? { custom: t!.custom } : {}),
    };
  }

  has(name: string): boolean {
    if (this.all !== undefined) return this.all.has(name);
    return this.built.has(name) || this.sha256Of(name, this.files.get(name)) !== undefined;
  }

  /** Every target in signed order (iteration needs them all: build them once, in one pass). */
  private materialize(): Map<string, TargetInfo> {
    if (this.all === undefined) {
      const all = new Map<string, TargetInfo>();
      for (const [name, t] of this.files) {
        const info = this.built.get(name) ?? this.info(name, t);
        if (info !== undefined) all.set(name, info);
      }
      this.all = all;
    }
    return this.all;
  }

  get size(): number {
    return this.materialize().size;
  }
  entries(): ReturnType<Map<string, TargetInfo>['entries']> {
    return this.materialize().entries();
  }
  keys(): ReturnType<Map<string, TargetInfo>['keys']> {
    return this.materialize().keys();
  }
  values(): ReturnType<Map<string, TargetInfo>['values']> {
    return this.materialize().values();
  }
  [Symbol.iterator](): ReturnType<Map<string, TargetInfo>['entries']> {
    return this.materialize().entries();
  }
  forEach(
    callback: (value: TargetInfo, key: string, map: ReadonlyMap<string, TargetInfo>) => void,
    thisArg?: unknown,
  ): void {
    for (const [key, value] of this.materialize()) callback.call(thisArg, value, key, this);
  }
}

/**
 * One update of a repository's trust data, fed with served bytes in TUF order:
 * root (and rotations) → timestamp → snapshot → targets → delegations → {@link finish}.
 * Every `update*` method throws VerificationError (deny) or InconclusiveError (caps).
 */
export class TrustedSet {
  private readonly gun: string;
  private readonly anchor: TrustAnchor;
  private readonly now: Date;
  private readonly previous: TrustedState | undefined;
  private root: TrustedRoot | undefined;
  private rootChecked = false;
  private newestRoot: { env: Envelope<Root>; sha256: Buffer; sha512: Buffer } | undefined;
  private walkUp: { current: TrustedRoot; next: number } | undefined;
  private walkDown: { stack: Envelope<Root>[]; next: number; reason: string } | undefined;
  private readonly floors: Map<string, number>;
  private timestamp: Envelope<Timestamp> | undefined;
  private snapshot: Envelope<Snapshot> | undefined;
  private snapshotId: string | undefined;
  private targetsDone = false;
  private reused = false;
  private readonly roles = new Map<string, VerifiedRole>();
  private readonly problems: RoleProblem[] = [];
  private readonly bytes = new Map<string, Uint8Array>();
  private queue: DelegationTask[] = [];
  private readonly awaiting = new Map<string, DelegationTask>();
  private delegationsSeen = 0;

  constructor(opts: { gun: string; anchor: TrustAnchor; now: Date; previous?: TrustedState }) {
    this.gun = opts.gun;
    this.anchor = opts.anchor;
    this.now = opts.now;
    this.previous = opts.previous;
    this.root = opts.previous?.root;
    this.floors = new Map(opts.previous?.floors);
  }

  /** Whether a previously trusted root is available (a refresh may then start at the timestamp). */
  get hasTrustedRoot(): boolean {
    return this.root !== undefined;
  }

  /** true when the timestamp pointed at the snapshot of the previous load: nothing else to fetch. */
  get snapshotReused(): boolean {
    return this.reused;
  }

  // ---------------------------------------------------------------------------------------------
  // Root (TUF 5.3)

  /**
   * Offer the served `root.json` (the newest root). Returns the version of the next
   * `<N>.root.json` to fetch, or null once the root is trusted.
   * @throws VerificationError ROOT_NOT_TRUSTED | ROLLBACK_DETECTED | METADATA_EXPIRED | METADATA_INVALID
   * @throws InconclusiveError LIMIT_EXCEEDED (more than LIMITS.maxRootRotations versions to walk)
   */
  updateRoot(bytes: Uint8Array): number | null {
    const env = parseEnvelope(bytes, 'Root', 'root');
    this.newestRoot = { env, sha256: sha256(bytes), sha512: sha512(bytes) };
    const prev = this.previous?.root;
    if (prev) {
      const pv = prev.envelope.signed.version;
      const v = env.signed.version;
      // TUF 5.3.5: a root version must never go back.
      if (v < pv)
        throw fail(
          'ROLLBACK_DETECTED',
          `root.json is version ${v}, older than the trusted version ${pv}`,
        );
      if (v === pv) {
        if (!this.newestRoot.sha256.equals(prev.sha256)) {
          throw fail(
            'ROLLBACK_DETECTED',
            `root.json version ${v} differs from the version ${v} already trusted`,
          );
        }
        return this.acceptFinalRoot(prev);
      }
      if (v - pv > LIMITS.maxRootRotations) throw this.tooManyRotations(pv, v);
      if (v === pv + 1) return this.acceptFinalRoot(this.rotate(prev, env, true, this.newestRoot));
      this.walkUp = { current: prev, next: pv + 1 };
      return pv + 1;
    }
    const anchored = this.tryAnchor(env, true);
    if (anchored.ok)
      return this.acceptFinalRoot(
        this.trusted(env, anchored.mode, anchored.signers, this.newestRoot),
      );
    if (env.signed.version <= 1) throw fail('ROOT_NOT_TRUSTED', anchored.reason);
    // Pins anchor the chain (notes pitfalls 16/17): look for an older, pinned root and
    // follow the rotations from there up to root.json.
    this.walkDown = { stack: [], next: env.signed.version - 1, reason: anchored.reason };
    return env.signed.version - 1;
  }

  /**
   * Offer `<version>.root.json` (null when the server has no such version).
   * Returns the next version to fetch, or null once the root is trusted.
   * @throws as {@link updateRoot}
   */
  updateRootVersion(version: number, bytes: Uint8Array | null): number | null {
    const newest = this.newestRoot;
    if (!newest) throw new Error('updateRoot must come first');
    if (this.walkUp && this.walkUp.next === version) {
      if (bytes === null) {
        throw fail(
          'ROOT_NOT_TRUSTED',
          `root version ${version} is missing on the server: cannot follow the rotation to version ${newest.env.signed.version}`,
        );
      }
      const env = this.parseRootVersion(version, bytes);
      // TUF 5.3.4/5.3.5 for every intermediate version.
      const current = this.rotate(this.walkUp.current, env, false);
      if (version + 1 === newest.env.signed.version) {
        this.walkUp = undefined;
        return this.acceptFinalRoot(this.rotate(current, newest.env, true, newest));
      }
      this.walkUp = { current, next: version + 1 };
      return version + 1;
    }
    if (this.walkDown && this.walkDown.next === version) {
      const { stack, reason } = this.walkDown;
      if (bytes === null)
        throw fail('ROOT_NOT_TRUSTED', `${reason}; no older root version is pinned either`);
      const env = this.parseRootVersion(version, bytes);
      const anchored = this.tryAnchor(env, false);
      if (anchored.ok) {
        let current = this.trusted(env, anchored.mode, anchored.signers);
        for (let i = stack.length - 1; i >= 0; i--)
          current = this.rotate(current, stack[i]!, false);
        this.walkDown = undefined;
        return this.acceptFinalRoot(this.rotate(current, newest.env, true, newest));
      }
      stack.push(env);
      if (version <= 1 || stack.length >= LIMITS.maxRootRotations) {
        throw fail('ROOT_NOT_TRUSTED', `${reason}; no older root version is pinned either`);
      }
      this.walkDown = { stack, next: version - 1, reason };
      return version - 1;
    }
    throw new Error(`root version ${version} was not requested`);
  }

  private tooManyRotations(from: number, to: number): InconclusiveError {
    return new InconclusiveError(
      'LIMIT_EXCEEDED',
      `root rotation from version ${from} to ${to} exceeds ${LIMITS.maxRootRotations} steps`,
    );
  }

  private parseRootVersion(version: number, bytes: Uint8Array): Envelope<Root> {
    const env = parseEnvelope(bytes, 'Root', `${version}.root`);
    if (env.signed.version !== version) {
      throw fail(
        'METADATA_INVALID',
        `${version}.root.json holds root version ${env.signed.version}`,
      );
    }
    return env;
  }

  private trusted(
    env: Envelope<Root>,
    mode: AnchorMode,
    signers: readonly string[],
    served?: { sha256: Buffer; sha512: Buffer },
  ): TrustedRoot {
    return {
      envelope: env,
      mode,
      selfSigners: signers,
      sha256: served?.sha256 ?? Buffer.alloc(0),
      sha512: served?.sha512 ?? Buffer.alloc(0),
    };
  }

  /** Whether a root key may count toward the root threshold, and whether the policy pins it. */
  private rootKeyStatus(
    key: TufPublicKey,
    mode: AnchorMode,
    now: Date | null,
  ): { eligible: boolean; pinned: boolean; problem?: string } {
    if (mode === 'publicKey') {
      return { eligible: true, pinned: this.anchor.rootPublicKeys.some((k) => k.equals(key.key)) };
    }
    if (!key.cert) {
      // notary only accepts certificates as root keys; a bare key counts when pinned by its ID.
      const pinned = this.anchor.rootKeyIds.has(key.keyId);
      return {
        eligible: pinned,
        pinned,
        ...(pinned ? {} : { problem: `root key ${key.keyId} is not a certificate` }),
      };
    }
    const problem = rootCertificateProblem(key.cert, this.gun, now);
    if (problem !== undefined) return { eligible: false, pinned: false, problem };
    const fingerprint = createHash('sha256').update(key.cert.raw).digest('hex');
    const pinned =
      this.anchor.rootKeyIds.has(key.keyId) ||
      this.anchor.rootCertFingerprints.has(fingerprint) ||
      (this.anchor.rootCAs.length > 0 &&
        chainsTo(key.cert, key.intermediates!, this.anchor.rootCAs, this.now));
    return { eligible: true, pinned };
  }

  private eligibleSigners(
    root: Root,
    signers: readonly string[],
    mode: AnchorMode,
    now: Date | null,
  ): { eligible: string[]; pinned: boolean; problems: string[] } {
    const eligible: string[] = [];
    const problems: string[] = [];
    let pinned = false;
    for (const id of signers) {
      const desc = root.keys.get(id)!;
      // validSigners only returns keys that parsed (the parse is cached).
      const parsed = parseTufKey(desc.keyId, desc.keyType, desc.publicValue) as {
        ok: true;
        key: TufPublicKey;
      };
      const st = this.rootKeyStatus(parsed.key, mode, now);
      if (st.problem !== undefined) problems.push(st.problem);
      if (!st.eligible) continue;
      eligible.push(id);
      pinned ||= st.pinned;
    }
    return { eligible, pinned, problems };
  }

  /** Root is trusted when a threshold of its root keys signed it and one of them is pinned (or TOFU is allowed). */
  private tryAnchor(
    env: Envelope<Root>,
    final: boolean,
  ): { ok: true; mode: AnchorMode; signers: string[] } | { ok: false; reason: string } {
    const root = env.signed;
    const signers = validSigners(env, root.keys, root.roles.root);
    const name = `root version ${root.version}`;
    if (signers.length === 0)
      return { ok: false, reason: `${name} has no valid signature by its root keys` };
    const modes: AnchorMode[] =
      this.anchor.rootPublicKeys.length > 0 ? ['x509', 'publicKey'] : ['x509'];
    const problems: string[] = [];
    for (const mode of modes) {
      const r = this.eligibleSigners(root, signers, mode, final ? this.now : null);
      problems.push(...r.problems);
      const tofu = mode === 'x509' && this.anchor.trustOnFirstUse;
      if (r.eligible.length >= root.roles.root.threshold && (r.pinned || tofu))
        return { ok: true, mode, signers };
    }
    return {
      ok: false,
      reason: `${name} is not signed by a root key the policy pins${problemsText(problems)}`,
    };
  }

  /** TUF 5.3.4 (old root's threshold) and 5.3.5 (new root's own threshold). */
  private rotate(
    current: TrustedRoot,
    env: Envelope<Root>,
    final: boolean,
    served?: { sha256: Buffer; sha512: Buffer },
  ): TrustedRoot {
    const prev = current.envelope.signed;
    const next = env.signed;
    const byOld = validSigners(env, prev.keys, prev.roles.root);
    if (byOld.length < prev.roles.root.threshold) {
      throw fail(
        'ROOT_NOT_TRUSTED',
        `root version ${next.version} is not signed by ${prev.roles.root.threshold} key(s) of the trusted root version ${prev.version} (${byOld.length} valid)`,
      );
    }
    const self = validSigners(env, next.keys, next.roles.root);
    const r = this.eligibleSigners(next, self, current.mode, final ? this.now : null);
    if (r.eligible.length < next.roles.root.threshold) {
      throw fail(
        'ROOT_NOT_TRUSTED',
        `root version ${next.version} is not signed by ${next.roles.root.threshold} of its own root keys (${r.eligible.length} valid)${problemsText(r.problems)}`,
      );
    }
    return this.trusted(env, current.mode, self, served);
  }

  /** TUF 5.3.10 (freeze attack on root) and 5.3.11 (forget timestamp/snapshot after their keys rotate). */
  private acceptFinalRoot(root: TrustedRoot): null {
    const r = root.envelope.signed;
    if (r.isExpired(this.now)) throw fail('METADATA_EXPIRED', `root expired at ${iso(r.expires)}`);
    const prev = this.previous?.root.envelope.signed;
    if (prev && prev.version !== r.version) {
      const same = (a: RoleKeys, b: RoleKeys): boolean =>
        a.keyIds.length === b.keyIds.length && a.keyIds.every((k) => b.keyIds.includes(k));
      if (
        !same(prev.roles.timestamp, r.roles.timestamp) ||
        !same(prev.roles.snapshot, r.roles.snapshot)
      ) {
        this.floors.delete('timestamp');
        this.floors.delete('snapshot');
      }
    }
    this.root = root;
    this.rootChecked = true;
    return null;
  }

  /** A root carried over from an earlier load must still be unexpired with valid certificates now. */
  private requireRoot(): TrustedRoot {
    const root = this.root;
    if (!root) throw new Error('the root is not trusted yet');
    if (!this.rootChecked) {
      const r = root.envelope.signed;
      if (r.isExpired(this.now))
        throw fail('METADATA_EXPIRED', `root expired at ${iso(r.expires)}`);
      const e = this.eligibleSigners(r, root.selfSigners, root.mode, this.now);
      if (e.eligible.length < r.roles.root.threshold) {
        throw fail(
          'ROOT_NOT_TRUSTED',
          `root version ${r.version} is no longer valid${problemsText(e.problems)}`,
        );
      }
      this.rootChecked = true;
    }
    return root;
  }

  // ---------------------------------------------------------------------------------------------
  // Timestamp (TUF 5.4), snapshot (5.5), targets (5.6)

  private requireThreshold(
    env: Envelope<Timestamp | Snapshot | Targets>,
    keys: ReadonlyMap<string, KeyDescriptor>,
    role: RoleKeys,
    name: string,
  ): string[] {
    const valid = validSigners(env, keys, role);
    if (valid.length === 0)
      throw fail('SIGNATURE_INVALID', `${name} has no valid signature by its role keys`);
    if (valid.length < role.threshold) {
      throw fail(
        'THRESHOLD_NOT_MET',
        `${name} has ${valid.length} valid signature(s), its threshold is ${role.threshold}`,
      );
    }
    return valid;
  }

  private checkFloor(name: string, version: number): void {
    const floor = this.floors.get(name);
    if (floor !== undefined && version < floor) {
      throw fail(
        'ROLLBACK_DETECTED',
        `${name} version ${version} is older than the version ${floor} already trusted`,
      );
    }
  }

  private checkServed(name: string, bytes: Uint8Array, meta: MetaFile, by: string): void {
    // The length is an upper bound on the download (notary ErrMaliciousServer).
    if (meta.length !== undefined && bytes.length > meta.length) {
      throw fail(
        'SIGNATURE_INVALID',
        `${name}: served ${bytes.length} bytes, ${by} allows at most ${meta.length}`,
      );
    }
    if (meta.sha256 && !checkedSha256(bytes).equals(meta.sha256))
      throw fail('SIGNATURE_INVALID', `${name}: sha256 does not match ${by}`);
    if (meta.sha512 && !sha512(bytes).equals(meta.sha512))
      throw fail('SIGNATURE_INVALID', `${name}: sha512 does not match ${by}`);
  }

  /**
   * Offer the served `timestamp.json`. When it points at the snapshot of the previous load,
   * that snapshot, targets and delegations are reused (re-verified from their bytes if the
   * root changed) and {@link snapshotReused} becomes true.
   * @throws VerificationError SIGNATURE_INVALID | THRESHOLD_NOT_MET | ROLLBACK_DETECTED | METADATA_EXPIRED | METADATA_INVALID | ROOT_NOT_TRUSTED
   */
  updateTimestamp(bytes: Uint8Array): void {
    const root = this.requireRoot().envelope.signed;
    if (bytes.length > LIMITS.maxTimestampBytes) {
      throw new InconclusiveError(
        'LIMIT_EXCEEDED',
        `timestamp.json is larger than ${LIMITS.maxTimestampBytes} bytes`,
      );
    }
    const env = parseEnvelope(bytes, 'Timestamp', 'timestamp');
    const ts = env.signed;
    this.requireThreshold(env, root.keys, root.roles.timestamp, 'timestamp'); // 5.4.2
    this.checkFloor('timestamp', ts.version); // 5.4.3.1
    const prevSnap = this.previous?.verified?.snapshot.signed;
    const prevMetaVersion =
      this.floors.get('snapshot') === undefined ? undefined : prevSnap?.version;
    if (
      ts.snapshot.version !== undefined &&
      prevMetaVersion !== undefined &&
      ts.snapshot.version < prevMetaVersion
    ) {
      throw fail(
        'ROLLBACK_DETECTED',
        `timestamp names snapshot version ${ts.snapshot.version}, older than the trusted ${prevMetaVersion}`,
      ); // 5.4.3.2
    }
    if (ts.isExpired(this.now))
      throw fail('METADATA_EXPIRED', `timestamp expired at ${iso(ts.expires)}`); // 5.4.4
    this.timestamp = env;
    this.floors.set('timestamp', ts.version);
    this.snapshotId = metaId(ts.snapshot);
    const prev = this.previous?.verified;
    if (prev && prev.snapshotId === this.snapshotId) this.reuse(prev);
  }

  private reuse(prev: NonNullable<TrustedState['verified']>): void {
    if (prev.rootVersion !== this.requireRoot().envelope.signed.version) {
      // The root changed (keys may have): verify the unchanged bytes again, nothing is refetched.
      this.updateSnapshot(prev.bytes.get('snapshot')!);
      this.updateTargets(prev.bytes.get('targets')!);
      for (
        let pending = this.pendingDelegations();
        pending.length > 0;
        pending = this.pendingDelegations()
      ) {
        // Same snapshot and parent bytes give the same delegations, all fetched last time.
        for (const p of pending) this.updateDelegation(p.role, prev.bytes.get(p.role)!);
      }
      this.reused = true;
      return;
    }
    // Same root, same snapshot bytes: the verified result stands; only time and floors moved.
    const snap = prev.snapshot.signed;
    if (snap.isExpired(this.now))
      throw fail('METADATA_EXPIRED', `snapshot expired at ${iso(snap.expires)}`);
    this.checkFloor('snapshot', snap.version);
    this.snapshot = prev.snapshot;
    this.floors.set('snapshot', snap.version);
    for (const [k, v] of prev.bytes) this.bytes.set(k, v);
    this.problems.push(...prev.problems);
    const dropped: string[] = [];
    for (const role of prev.roles.values()) {
      if (dropped.some((d) => role.name.startsWith(`${d}/`))) continue;
      this.checkFloor(role.name, role.version);
      if (role.expires.getTime() < this.now.getTime()) {
        if (role.name === 'targets')
          throw fail('METADATA_EXPIRED', `targets expired at ${iso(role.expires)}`);
        dropped.push(role.name);
        this.problems.push({
          role: role.name,
          code: 'METADATA_EXPIRED',
          message: `${role.name} expired at ${iso(role.expires)}`,
        });
        continue;
      }
      this.roles.set(role.name, role);
      this.floors.set(role.name, role.version);
    }
    this.targetsDone = true;
    this.reused = true;
  }

  /** Where to fetch the snapshot the trusted timestamp names. */
  expectedSnapshot(): MetaExpectation {
    if (!this.timestamp) throw new Error('updateTimestamp must come first');
    return expectation('snapshot', this.timestamp.signed.snapshot, LIMITS.maxSnapshotBytes);
  }

  /**
   * Offer the served snapshot (`snapshot.<sha256>.json` or `snapshot.json`).
   * @throws VerificationError SIGNATURE_INVALID | THRESHOLD_NOT_MET | ROLLBACK_DETECTED | METADATA_EXPIRED | METADATA_INVALID
   */
  updateSnapshot(bytes: Uint8Array): void {
    const root = this.requireRoot();
    if (!this.timestamp) throw new Error('updateTimestamp must come first');
    const meta = this.timestamp.signed.snapshot;
    this.checkServed('snapshot', bytes, meta, 'the timestamp'); // 5.5.2
    const env = parseEnvelope(bytes, 'Snapshot', 'snapshot');
    const snap = env.signed;
    const r = root.envelope.signed;
    this.requireThreshold(env, r.keys, r.roles.snapshot, 'snapshot'); // 5.5.3
    if (meta.version !== undefined && meta.version !== snap.version) {
      throw fail(
        'METADATA_INVALID',
        `snapshot is version ${snap.version}, the timestamp names version ${meta.version}`,
      ); // 5.5.4
    }
    this.checkFloor('snapshot', snap.version); // 5.5.5
    const prev = this.previous?.verified?.snapshot.signed;
    if (prev) {
      for (const [name, m] of prev.meta) {
        const now = snap.meta.get(name);
        if (m.version !== undefined && now?.version !== undefined && now.version < m.version) {
          throw fail(
            'ROLLBACK_DETECTED',
            `snapshot lists ${name} version ${now.version}, older than the trusted ${m.version}`,
          );
        }
      }
    }
    if (snap.isExpired(this.now))
      throw fail('METADATA_EXPIRED', `snapshot expired at ${iso(snap.expires)}`); // 5.5.6
    // notary checks the trusted root against the snapshot's root entry (tuf/builder.go).
    const rootMeta = snap.meta.get('root');
    if (rootMeta && root.sha256.length > 0) {
      if (
        (rootMeta.sha256 && !rootMeta.sha256.equals(root.sha256)) ||
        (rootMeta.sha512 && !rootMeta.sha512.equals(root.sha512))
      ) {
        throw fail('SIGNATURE_INVALID', 'root.json does not match the hashes in the snapshot');
      }
    }
    this.snapshot = env;
    this.floors.set('snapshot', snap.version);
    this.bytes.set('snapshot', bytes);
  }

  /** Where to fetch a targets role the snapshot lists; null when it is not listed. */
  expectedRole(name: string): MetaExpectation | null {
    if (!this.snapshot) throw new Error('updateSnapshot must come first');
    const meta = this.snapshot.signed.meta.get(name);
    return meta ? expectation(name, meta, LIMITS.maxTargetsBytes) : null;
  }

  private verifyTargetsBytes(name: string, bytes: Uint8Array): Envelope<Targets> {
    const meta = this.snapshot?.signed.meta.get(name);
    if (!meta) throw fail('METADATA_INVALID', `the snapshot does not list ${name}`);
    this.checkServed(name, bytes, meta, 'the snapshot'); // 5.6.2
    const env = parseEnvelope(bytes, 'Targets', name);
    if (meta.version !== undefined && meta.version !== env.signed.version) {
      throw fail(
        'METADATA_INVALID',
        `${name} is version ${env.signed.version}, the snapshot names version ${meta.version}`,
      ); // 5.6.4
    }
    return env;
  }

  /**
   * Offer the served top-level targets.
   * @throws VerificationError SIGNATURE_INVALID | THRESHOLD_NOT_MET | ROLLBACK_DETECTED | METADATA_EXPIRED | METADATA_INVALID
   */
  updateTargets(bytes: Uint8Array): void {
    const r = this.requireRoot().envelope.signed;
    const env = this.verifyTargetsBytes('targets', bytes);
    this.bytes.set('targets', bytes);
    const t = env.signed;
    const valid = this.requireThreshold(env, r.keys, r.roles.targets, 'targets'); // 5.6.3
    this.checkFloor('targets', t.version); // 5.6.5
    if (t.isExpired(this.now))
      throw fail('METADATA_EXPIRED', `targets expired at ${iso(t.expires)}`); // 5.6.6
    this.acceptTargets('targets', env, {
      valid,
      threshold: r.roles.targets.threshold,
      paths: null,
      depth: 0,
    });
    this.targetsDone = true;
  }

  /** Trust a verified targets role: its targets (within `paths`) and the delegations it declares. */
  private acceptTargets(name: string, env: Envelope<Targets>, trust: AcceptedRole): void {
    const { valid, threshold, paths, depth } = trust;
    const t = env.signed;
    this.roles.set(name, {
      name,
      version: t.version,
      expires: t.expires,
      validKeyIds: valid,
      threshold,
      paths,
      targets: new TargetView(t.targets, paths),
    });
    this.floors.set(name, t.version);
    for (const role of t.delegations) {
      this.queue.push({
        role,
        parent: name,
        parentPaths: paths,
        keys: t.delegationKeys,
        depth: depth + 1,
      });
    }
  }

  /**
   * Delegated roles to fetch next (one tree level at a time, in declaration order). Roles the
   * snapshot does not list are skipped, as notary does; depth and count caps drop roles.
   * Each returned role must be offered to {@link updateDelegation}.
   */
  pendingDelegations(): MetaExpectation[] {
    const out: MetaExpectation[] = [];
    const queue = this.queue;
    this.queue = [];
    for (const task of queue) {
      const name = task.role.name;
      if (task.depth > LIMITS.maxDelegationDepth) {
        this.problems.push({
          role: name,
          code: 'LIMIT_EXCEEDED',
          message: `${name} is nested deeper than ${LIMITS.maxDelegationDepth} levels; ignored`,
        });
        continue;
      }
      const exp = this.expectedRole(name);
      if (exp === null) {
        this.problems.push({
          role: name,
          code: 'NO_TRUST_DATA',
          message: `${name} is delegated by ${task.parent} but not listed in the snapshot; ignored`,
        });
        continue;
      }
      if (++this.delegationsSeen > LIMITS.maxDelegations) {
        this.problems.push({
          role: name,
          code: 'LIMIT_EXCEEDED',
          message: `more than ${LIMITS.maxDelegations} delegated roles; ${name} ignored`,
        });
        continue;
      }
      this.awaiting.set(name, task);
      out.push(exp);
    }
    return out;
  }

  /**
   * Offer a delegated role's served bytes (null when the server has none). Missing files and
   * hash mismatches are fatal, as are malformed files and rollbacks; a role whose signatures
   * or expiry fail is dropped and recorded as a problem (notary client/tufclient.go).
   * @throws VerificationError NO_TRUST_DATA | SIGNATURE_INVALID | METADATA_INVALID | ROLLBACK_DETECTED
   */
  updateDelegation(name: string, bytes: Uint8Array | null): void {
    const task = this.awaiting.get(name);
    if (!task) throw new Error(`delegation ${name} was not requested`);
    this.awaiting.delete(name);
    if (bytes === null)
      throw fail(
        'NO_TRUST_DATA',
        `${name} is listed in the snapshot but the server has no such file`,
      );
    const env = this.verifyTargetsBytes(name, bytes);
    this.bytes.set(name, bytes);
    const t = env.signed;
    const valid = validSigners(env, task.keys, task.role);
    if (valid.length < task.role.threshold) {
      const code = valid.length === 0 ? 'SIGNATURE_INVALID' : 'THRESHOLD_NOT_MET';
      this.problems.push({
        role: name,
        code,
        message: `${name} has ${valid.length} valid signature(s), its threshold is ${task.role.threshold}; ignored`,
      });
      return;
    }
    this.checkFloor(name, t.version);
    if (t.isExpired(this.now)) {
      this.problems.push({
        role: name,
        code: 'METADATA_EXPIRED',
        message: `${name} expired at ${iso(t.expires)}; ignored`,
      });
      return;
    }
    this.acceptTargets(name, env, {
      valid,
      threshold: task.role.threshold,
      paths: restrictPaths(task.role.paths, task.parentPaths),
      depth: task.depth,
    });
  }

  /** Version floors and the trusted root so far, kept even when this update fails. */
  partialState(): TrustedState | undefined {
    const root = this.rootChecked ? this.root : this.previous?.root;
    if (!root) return undefined;
    return {
      gun: this.gun,
      root,
      floors: new Map(this.floors),
      ...(this.previous?.verified ? { verified: this.previous.verified } : {}),
    };
  }

  /**
   * The verified repository and the state for the next update.
   * @throws Error when called before the targets (and every requested delegation) were offered.
   */
  finish(): { repository: VerifiedRepository; state: TrustedState } {
    const root = this.requireRoot();
    if (
      !this.timestamp ||
      !this.snapshot ||
      !this.targetsDone ||
      this.awaiting.size > 0 ||
      this.queue.length > 0
    ) {
      throw new Error('trust data is incomplete');
    }
    const r = root.envelope.signed;
    let expires = Math.min(
      r.expires.getTime(),
      this.timestamp.signed.expires.getTime(),
      this.snapshot.signed.expires.getTime(),
    );
    for (const role of this.roles.values()) expires = Math.min(expires, role.expires.getTime());
    const repository: VerifiedRepository = {
      gun: this.gun,
      rootVersion: r.version,
      rootKeyIds: r.roles.root.keyIds,
      timestampVersion: this.timestamp.signed.version,
      snapshotVersion: this.snapshot.signed.version,
      expires: new Date(expires),
      roles: this.roles,
      problems: this.problems,
    };
    const state: TrustedState = {
      gun: this.gun,
      root,
      floors: new Map(this.floors),
      verified: {
        rootVersion: r.version,
        snapshotId: this.snapshotId!,
        snapshot: this.snapshot,
        bytes: new Map(this.bytes),
        roles: this.roles,
        problems: this.problems,
      },
    };
    return { repository, state };
  }
}
