// SPDX-License-Identifier: Apache-2.0
// Fetches a repository's Notary v1 trust data through the NotaryMetadataSource port in the
// notary client's order and feeds it to the pure TrustedSet; keeps per-repository trusted state.

import { InconclusiveError, VerificationError } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import {
  sha256OfServed,
  TrustedSet,
  type MetaExpectation,
  type TrustedState,
} from '../core/notary/trusted-set.js';
import type { VerifiedRepository } from '../core/notary/types.js';
import type { CompiledNotaryV1Source } from '../core/policy/types.js';
import type { Deadline, NotaryMetadataSource, NotaryRoleRequest } from './ports.js';

export interface NotaryLoadContext {
  readonly deadline: Deadline;
  readonly now: Date;
}

/** One repository being loaded: its state key, trust source, GUN and the caller's context. */
interface RepoJob {
  readonly key: string;
  readonly source: CompiledNotaryV1Source;
  readonly gun: string;
  readonly ctx: NotaryLoadContext;
}

/** One request for a role's bytes (null: the server has no such file). */
type RoleFetch = (
  role: string,
  maxBytes: number,
  extra?: { sha256?: string; version?: number },
) => Promise<Uint8Array | null>;

/**
 * Roles a full load asks for before their hashes are known: every Notary repository has a
 * snapshot and targets, and `docker trust signer add` creates targets/releases.
 */
const FETCHED_AHEAD: readonly (readonly [role: string, maxBytes: number])[] = [
  ['snapshot', LIMITS.maxSnapshotBytes],
  ['targets', LIMITS.maxTargetsBytes],
  ['targets/releases', LIMITS.maxTargetsBytes],
];

/** The bytes of the file a verified role names (`by` says which role, for messages). */
type ExpectedFetch = (exp: MetaExpectation, by: string) => Promise<Uint8Array | null>;

/** `p`, marked handled: a request made ahead may be abandoned when an earlier step fails. */
function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * Whether bytes fetched ahead are the file `exp` names (its sha256). TrustedSet still checks
 * them against the parent's meta (length, sha256, sha512), reusing this sha256 of the same array.
 */
function isServedAs(bytes: Uint8Array, exp: MetaExpectation): boolean {
  return (
    exp.sha256Hex !== undefined &&
    bytes.length <= exp.maxBytes &&
    sha256OfServed(bytes) === exp.sha256Hex
  );
}

function noTrustData(job: RepoJob): VerificationError {
  return new VerificationError(
    'NO_TRUST_DATA',
    `no trust data for ${job.gun} on ${job.source.server}`,
  );
}

function roleMissing(job: RepoJob, role: string): VerificationError {
  return new VerificationError(
    'NO_TRUST_DATA',
    `${role} of ${job.gun} is missing on ${job.source.server}`,
  );
}

/** Repositories whose trusted state is remembered (oldest forgotten first). */
const DEFAULT_MAX_REPOSITORIES = 10_000;

/**
 * Verified Notary v1 trust data per (server, GUN, trust material). Keeps what this process
 * has trusted so that (a) rollbacks are detected, (b) a refresh whose timestamp names the same
 * snapshot fetches only `timestamp.json`, and (c) concurrent loads share one refresh.
 */
export class NotaryEvidence {
  private readonly metadata: NotaryMetadataSource;
  private readonly maxRepositories: number;
  private readonly states = new Map<string, TrustedState>();
  private readonly inflight = new Map<string, Promise<VerifiedRepository>>();

  constructor(opts: { metadata: NotaryMetadataSource; maxRepositories?: number }) {
    this.metadata = opts.metadata;
    this.maxRepositories = opts.maxRepositories ?? DEFAULT_MAX_REPOSITORIES;
  }

  /**
   * Load (or refresh) and verify a repository's trust data. Concurrent calls for the same
   * repository share one refresh, and with it the first caller's deadline and clock.
   * @throws VerificationError NO_TRUST_DATA | ROOT_NOT_TRUSTED | SIGNATURE_INVALID | THRESHOLD_NOT_MET |
   *   METADATA_EXPIRED | METADATA_INVALID | ROLLBACK_DETECTED
   * @throws InconclusiveError TRUST_SOURCE_UNAVAILABLE | TIMEOUT | LIMIT_EXCEEDED (from the port, or caps)
   */
  load(
    source: CompiledNotaryV1Source,
    gun: string,
    ctx: NotaryLoadContext,
  ): Promise<VerifiedRepository> {
    const key = `${source.server}\u0000${gun}\u0000${source.materialHash}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.refresh({ key, source, gun, ctx }).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async refresh(job: RepoJob): Promise<VerifiedRepository> {
    const previous = this.states.get(job.key);
    if (previous === undefined) return this.update(job, undefined);
    try {
      return await this.update(job, previous, true);
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      // notary client/tufclient.go: on a verification error, fetch the newest root, follow
      // any rotation, and retry once (keys may have rotated since the cached root).
    }
    return this.update(job, this.states.get(job.key) ?? previous);
  }

  private remember(key: string, state: TrustedState): void {
    this.states.delete(key);
    this.states.set(key, state);
    if (this.states.size > this.maxRepositories) {
      this.states.delete(this.states.keys().next().value!);
    }
  }

  private async update(
    job: RepoJob,
    previous: TrustedState | undefined,
    fromTimestamp = false,
  ): Promise<VerifiedRepository> {
    const { key, source, gun, ctx } = job;
    const set = new TrustedSet({
      gun,
      anchor: source,
      now: ctx.now,
      ...(previous ? { previous } : {}),
    });
    const fetch: RoleFetch = (role, maxBytes, extra) => {
      const req: NotaryRoleRequest = {
        server: source.server,
        gun,
        role,
        maxBytes,
        deadline: ctx.deadline,
        ...(source.caBundle !== undefined ? { caBundle: source.caBundle } : {}),
        ...extra,
      };
      return this.metadata.fetchRole(req);
    };
    try {
      // A full load asks for root, timestamp and the roles every (Docker) repository has at once:
      // on the cold path that is one round trip for what was four (SPEC §7). The bytes are still
      // verified strictly in TUF order, and a role fetched ahead is used only if it is the file
      // its verified parent names (its sha256); otherwise (a publish in between, no such role)
      // it is fetched again as usual.
      const root = fromTimestamp ? null : fetch('root', LIMITS.maxRootBytes);
      const timestampAhead =
        root === null ? null : handled(fetch('timestamp', LIMITS.maxTimestampBytes));
      const ahead = new Map(
        root === null
          ? []
          : FETCHED_AHEAD.map(([role, max]) => [role, fetch(role, max).catch(() => null)]),
      );
      const expected: ExpectedFetch = async (exp, by) => {
        const early = ahead.get(exp.role);
        ahead.delete(exp.role);
        const bytes = early === undefined ? null : await early;
        return bytes !== null && isServedAs(bytes, exp) ? bytes : this.fetchMeta(fetch, exp, by);
      };
      if (root !== null) await this.updateRoot(set, fetch, job, await root);
      const timestamp = await (timestampAhead ?? fetch('timestamp', LIMITS.maxTimestampBytes));
      if (timestamp === null) throw noTrustData(job);
      set.updateTimestamp(timestamp);
      if (!set.snapshotReused) {
        const snapshot = await expected(set.expectedSnapshot(), 'the timestamp');
        if (snapshot === null) throw roleMissing(job, 'snapshot');
        set.updateSnapshot(snapshot);
        await this.updateTargets(set, expected, job);
      }
      const { repository, state } = set.finish();
      this.remember(key, state);
      return repository;
    } catch (err) {
      const partial = set.partialState();
      if (partial) this.remember(key, partial);
      throw err;
    }
  }

  /** The served root.json, then the rotation walk the TrustedSet asks for (`<N>.root.json`). */
  private async updateRoot(
    set: TrustedSet,
    fetch: RoleFetch,
    job: RepoJob,
    rootBytes: Uint8Array | null,
  ): Promise<void> {
    if (rootBytes === null) throw noTrustData(job);
    let next = set.updateRoot(rootBytes);
    // The TrustedSet bounds the walk by LIMITS.maxRootRotations; this guards the loop itself.
    for (let steps = 0; next !== null && steps <= LIMITS.maxRootRotations + 1; steps++) {
      next = set.updateRootVersion(
        next,
        await fetch('root', LIMITS.maxRootBytes, { version: next }),
      );
    }
    if (next !== null)
      throw new InconclusiveError(
        'LIMIT_EXCEEDED',
        `root rotation walk for ${job.gun} did not end`,
      );
  }

  /** targets.json, then each level of delegations, fetched concurrently. */
  private async updateTargets(
    set: TrustedSet,
    expected: ExpectedFetch,
    job: RepoJob,
  ): Promise<void> {
    const meta = set.expectedRole('targets');
    if (meta === null)
      throw new VerificationError(
        'METADATA_INVALID',
        `the snapshot of ${job.gun} does not list targets`,
      );
    const targets = await expected(meta, 'the snapshot');
    if (targets === null) throw roleMissing(job, 'targets');
    set.updateTargets(targets);
    // Levels are bounded by the depth cap.
    let pending = set.pendingDelegations();
    for (let level = 0; pending.length > 0 && level <= LIMITS.maxDelegationDepth; level++) {
      const bodies = await Promise.all(pending.map((p) => expected(p, 'the snapshot')));
      pending.forEach((p, i) => set.updateDelegation(p.role, bodies[i] ?? null));
      pending = set.pendingDelegations();
    }
  }

  /** `<role>.<sha256>.json`, falling back to `<role>.json` on 404 (the hash is checked either way). */
  private async fetchMeta(
    fetch: RoleFetch,
    exp: MetaExpectation,
    by: string,
  ): Promise<Uint8Array | null> {
    try {
      const consistent =
        exp.sha256Hex !== undefined
          ? await fetch(exp.role, exp.maxBytes, { sha256: exp.sha256Hex })
          : null;
      return consistent ?? (await fetch(exp.role, exp.maxBytes));
    } catch (err) {
      // A body longer than the length the signed metadata states is the server contradicting
      // signed data (notary ErrMaliciousServer), not an inconclusive cap.
      if (
        err instanceof InconclusiveError &&
        err.code === 'LIMIT_EXCEEDED' &&
        exp.length !== undefined &&
        exp.maxBytes === exp.length
      ) {
        throw new VerificationError(
          'SIGNATURE_INVALID',
          `${exp.role}: served more than the ${exp.length} bytes ${by} allows`,
          { cause: err },
        );
      }
      throw err;
    }
  }
}
