// SPDX-License-Identifier: Apache-2.0
// Keeps the PolicyStore in sync with ClusterTrustPolicy and TrustPolicy resources: every add/update
// goes CR → validate → key material → compile → new immutable snapshot → status condition; deletes
// remove. Events for one policy are processed strictly in order; different policies in parallel.

import { createHash } from 'node:crypto';
import type {
  CustomObjectsApi,
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
} from '@kubernetes/client-node';
import { ConfigError, InconclusiveError, type FieldError } from '../core/errors.js';
import type { CompiledPolicy, TrustPolicyResource } from '../core/policy/types.js';
import {
  TRUSTGATE_GROUP,
  TRUSTGATE_VERSION,
  errorText,
  silentLogger,
  type K8sLogger,
} from './client.js';
import { loadKeyMaterial, type KeyMaterial, type KeyRefReader } from './key-material.js';
import { policyId, type PolicyStore } from './policy-store.js';
import { ResilientInformer, backoffDelay, type BackoffOptions } from './resilient-informer.js';
import type { PolicyOutcome, StatusWriter } from './status.js';

/** Schema + semantic validation of one policy object (core/policy/validate.ts: validatePolicyResource). */
export type ValidatePolicyFn = (
  obj: unknown,
) => { ok: true; resource: TrustPolicyResource } | { ok: false; errors: readonly FieldError[] };

/**
 * Compile a validated resource with its resolved key material (core/policy/compile.ts: compilePolicy).
 * May throw ConfigError INVALID_POLICY with fieldErrors.
 */
export type CompilePolicyFn = (
  resource: TrustPolicyResource,
  opts: { material: KeyMaterial; defaultNamespace: string },
) => CompiledPolicy;

export const CLUSTER_TRUST_POLICIES_PATH = `/apis/${TRUSTGATE_GROUP}/${TRUSTGATE_VERSION}/clustertrustpolicies`;
export const TRUST_POLICIES_PATH = `/apis/${TRUSTGATE_GROUP}/${TRUSTGATE_VERSION}/trustpolicies`;

type PolicyKind = 'ClusterTrustPolicy' | 'TrustPolicy';
type RawPolicy = KubernetesObject & { spec?: unknown; status?: unknown };

export interface PolicyInformerOptions {
  readonly kc: KubeConfig;
  readonly custom: CustomObjectsApi;
  readonly store: PolicyStore;
  readonly validate: ValidatePolicyFn;
  readonly compile: CompilePolicyFn;
  readonly keyRefReader: KeyRefReader;
  readonly statusWriter: StatusWriter;
  /** Namespace for ClusterTrustPolicy key refs without one (trustgate's own namespace). */
  readonly defaultNamespace: string;
  readonly logger?: K8sLogger;
  /** Watch restarts after errors. */
  readonly backoff?: BackoffOptions;
  /** Per-policy retries after an apiserver failure while reading key material or writing status. */
  readonly retryBackoff?: BackoffOptions;
  /** Re-read key material of every policy this often (ConfigMap/Secret edits); 0 = never. Default 5 min. */
  readonly resyncIntervalMs?: number;
  /** stop() waits at most this long for in-flight processing (default 5 s). */
  readonly stopTimeoutMs?: number;
}

interface Processed {
  /** uid + metadata.generation (resourceVersion when there is no generation). */
  readonly key: string;
  readonly materialHash: string;
  readonly outcome: PolicyOutcome;
  readonly statusOk: boolean;
}

/** Watches both policy kinds into a PolicyStore. */
export class PolicyInformer {
  private readonly informers: Record<PolicyKind, ResilientInformer<RawPolicy>>;
  private readonly listed: Record<PolicyKind, boolean> = {
    ClusterTrustPolicy: false,
    TrustPolicy: false,
  };
  private readonly latest = new Map<string, { kind: PolicyKind; obj: RawPolicy }>();
  private readonly processed = new Map<string, Processed>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly retries = new Map<string, { timer?: NodeJS.Timeout; attempt: number }>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly logger: K8sLogger;

  constructor(private readonly opts: PolicyInformerOptions) {
    this.logger = opts.logger ?? silentLogger;
    const group = TRUSTGATE_GROUP;
    const version = TRUSTGATE_VERSION;
    const make = (kind: PolicyKind, path: string, list: () => Promise<unknown>) =>
      new ResilientInformer<RawPolicy>({
        kc: opts.kc,
        path,
        name: kind,
        logger: this.logger,
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
        list: list as () => Promise<KubernetesListObject<RawPolicy>>,
        onAdd: (o) => this.onUpsert(kind, o),
        onUpdate: (o) => this.onUpsert(kind, o),
        onDelete: (o) => this.onDelete(kind, o),
        onListed: () => this.onListed(kind),
      });
    this.informers = {
      ClusterTrustPolicy: make('ClusterTrustPolicy', CLUSTER_TRUST_POLICIES_PATH, () =>
        opts.custom.listClusterCustomObject({ group, version, plural: 'clustertrustpolicies' }),
      ),
      TrustPolicy: make('TrustPolicy', TRUST_POLICIES_PATH, () =>
        opts.custom.listCustomObjectForAllNamespaces({ group, version, plural: 'trustpolicies' }),
      ),
    };
  }

  /** Start both informers. Returns at once; poll `synced()` (or the store's `ready()`). */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    await Promise.all([
      this.informers.ClusterTrustPolicy.start(),
      this.informers.TrustPolicy.start(),
    ]);
    const every = this.opts.resyncIntervalMs ?? 5 * 60_000;
    if (every > 0) {
      this.resyncTimer = setInterval(() => this.resync(), every);
      this.resyncTimer.unref();
    }
  }

  /** Stop watching, cancel retries and wait for in-flight processing. No timers or sockets remain. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    for (const r of this.retries.values()) if (r.timer) clearTimeout(r.timer);
    this.retries.clear();
    await Promise.all([
      this.informers.ClusterTrustPolicy.stop(),
      this.informers.TrustPolicy.stop(),
    ]);
    // In-flight work may wait on an apiserver call (client-node sets no timeout): bound the wait.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.opts.stopTimeoutMs ?? 5000);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Both kinds listed once and that list fully processed (for `/readyz`). */
  synced(): boolean {
    return this.listed.ClusterTrustPolicy && this.listed.TrustPolicy;
  }

  /** Resolves when no policy event is being processed (bounded: gives up after 100 rounds). */
  async idle(): Promise<void> {
    for (let i = 0; i < 100 && this.queues.size > 0; i++) {
      await Promise.allSettled([...this.queues.values()]);
    }
  }

  /** Completed lists per kind (re-lists after 410 Gone count too). */
  listCount(kind: PolicyKind): number {
    return this.informers[kind].lists();
  }

  private onListed(kind: PolicyKind): void {
    void this.idle().then(() => {
      if (this.listed[kind]) return;
      this.listed[kind] = true;
      this.logger.info('policies synced', { kind, policies: this.opts.store.counts() });
      if (this.synced()) this.opts.store.markReady();
    });
  }

  private idOf(kind: PolicyKind, obj: RawPolicy): string | undefined {
    const name = obj.metadata?.name;
    if (!name) return undefined;
    return policyId(
      kind,
      name,
      kind === 'TrustPolicy' ? (obj.metadata?.namespace ?? '') : undefined,
    );
  }

  private onUpsert(kind: PolicyKind, raw: RawPolicy): void {
    const id = this.idOf(kind, raw);
    if (id === undefined) return;
    // List items of custom resources carry apiVersion/kind, but validation must not depend on it.
    const obj: RawPolicy = {
      ...raw,
      apiVersion: raw.apiVersion ?? `${TRUSTGATE_GROUP}/${TRUSTGATE_VERSION}`,
      kind: raw.kind ?? kind,
    };
    this.latest.set(id, { kind, obj });
    this.enqueue(id, () => this.process(id, false));
  }

  private onDelete(kind: PolicyKind, raw: RawPolicy): void {
    const id = this.idOf(kind, raw);
    if (id === undefined) return;
    this.latest.delete(id);
    this.processed.delete(id);
    this.cancelRetry(id);
    this.enqueue(id, () => {
      // A re-create may have been queued after the delete event.
      if (!this.latest.has(id)) this.opts.store.remove(id);
    });
  }

  private resync(): void {
    for (const id of this.latest.keys()) this.enqueue(id, () => this.process(id, true));
  }

  private enqueue(id: string, task: () => Promise<void> | void): void {
    const prev = this.queues.get(id) ?? Promise.resolve();
    const next = prev.then(task).catch((err: unknown) => {
      this.logger.error('policy processing failed', { policy: id, err: errorText(err) });
    });
    this.queues.set(id, next);
    void next.then(() => {
      if (this.queues.get(id) === next) this.queues.delete(id);
    });
  }

  /** validate → key material → compile → publish → status. `force`: re-check key material. */
  private async process(id: string, force: boolean): Promise<void> {
    const entry = this.latest.get(id);
    if (!entry || this.stopped) return;
    const key = specKey(entry.obj);
    const prev = this.processed.get(id);
    // A status-only change (our own status write) keeps metadata.generation: nothing to do.
    if (!force && prev?.key === key && prev.statusOk) return;

    const validated = this.opts.validate(entry.obj);
    if (!validated.ok)
      return this.finish(id, {
        key,
        materialHash: '',
        outcome: { ok: false, errors: validated.errors },
      });

    let material: KeyMaterial;
    let materialErrors: readonly FieldError[];
    try {
      ({ material, errors: materialErrors } = await loadKeyMaterial(validated.resource, {
        reader: this.opts.keyRefReader,
        defaultNamespace: this.opts.defaultNamespace,
      }));
    } catch (err) {
      if (!(err instanceof InconclusiveError)) throw err;
      // Keep serving what we had; try again shortly.
      this.logger.warn('key material unavailable; will retry', { policy: id, err: err.message });
      this.scheduleRetry(id);
      return;
    }
    const materialHash = hashMaterial(material);
    if (prev && prev.key === key && prev.materialHash === materialHash) {
      // Nothing that compile() sees changed; only a failed status write may need repeating.
      if (!prev.statusOk) await this.writeStatus(id, entry, prev);
      return;
    }
    if (materialErrors.length > 0) {
      return this.finish(id, {
        key,
        materialHash,
        outcome: { ok: false, errors: materialErrors },
      });
    }
    let compiled: CompiledPolicy;
    try {
      compiled = this.opts.compile(validated.resource, {
        material,
        defaultNamespace: this.opts.defaultNamespace,
      });
    } catch (err) {
      const errors: readonly FieldError[] =
        err instanceof ConfigError && err.fieldErrors.length > 0
          ? err.fieldErrors
          : [{ path: 'spec', message: err instanceof Error ? err.message : String(err) }];
      return this.finish(id, { key, materialHash, outcome: { ok: false, errors } });
    }
    return this.finish(id, { key, materialHash, outcome: { ok: true } }, compiled);
  }

  private async finish(
    id: string,
    rec: Omit<Processed, 'statusOk'>,
    compiled?: CompiledPolicy,
  ): Promise<void> {
    const { outcome } = rec;
    // Events keep arriving while key material loads. One for the same uid + generation (our own
    // status write coming back, a label edit) changes nothing compile() saw: publish, or the next
    // resync would compile the same thing again. A newer generation, a re-create (new uid) or a
    // delete wins: drop this result; the task queued behind this one processes the newer object.
    const current = this.latest.get(id);
    if (this.stopped || current === undefined || specKey(current.obj) !== rec.key) return;
    if (compiled) {
      this.opts.store.upsert(id, compiled);
    } else if (!outcome.ok) {
      this.opts.store.markInvalid(id, outcome.errors.map((e) => e.path).join(', '));
      this.logger.warn('policy invalid; not in use', { policy: id, errors: outcome.errors.length });
    }
    // The newest object carries the newest status (planStatusPatch compares against it).
    await this.writeStatus(id, current, { ...rec, statusOk: false });
  }

  private async writeStatus(
    id: string,
    entry: { kind: PolicyKind; obj: RawPolicy },
    rec: Processed,
  ): Promise<void> {
    const { obj, kind } = entry;
    const result = await this.opts.statusWriter.write(
      {
        kind,
        metadata: {
          name: obj.metadata?.name ?? '',
          ...(obj.metadata?.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
          ...(obj.metadata?.generation !== undefined
            ? { generation: obj.metadata.generation }
            : {}),
        },
        status: obj.status,
      },
      rec.outcome,
    );
    // Deleted meanwhile: nothing to remember (a re-create starts from scratch).
    if (!this.latest.has(id)) return;
    const statusOk = result !== 'failed';
    this.processed.set(id, { ...rec, statusOk });
    if (statusOk) this.cancelRetry(id);
    else this.scheduleRetry(id);
  }

  private scheduleRetry(id: string): void {
    if (this.stopped) return;
    const r = this.retries.get(id) ?? { attempt: 0 };
    if (r.timer) return;
    const delay = backoffDelay(
      r.attempt,
      this.opts.retryBackoff ?? { initialMs: 1000, maxMs: 60_000 },
    );
    r.attempt += 1;
    r.timer = setTimeout(() => {
      r.timer = undefined;
      this.enqueue(id, () => this.process(id, true));
    }, delay);
    r.timer.unref();
    this.retries.set(id, r);
  }

  private cancelRetry(id: string): void {
    const r = this.retries.get(id);
    if (r?.timer) clearTimeout(r.timer);
    this.retries.delete(id);
  }
}

/**
 * What a compile depends on besides key material: uid + metadata.generation (resourceVersion when
 * the kind has no generation). Status and metadata-only edits keep it.
 */
function specKey(obj: RawPolicy): string {
  const meta = obj.metadata ?? {};
  return `${meta.uid ?? ''}/${meta.generation ?? `rv${meta.resourceVersion ?? ''}`}`;
}

function hashMaterial(material: KeyMaterial): string {
  const h = createHash('sha256');
  for (const [k, v] of Object.entries(material).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    h.update(k).update('\0').update(v).update('\0');
  }
  return h.digest('hex');
}

/** Build the informer pair; call `start()` to begin and `stop()` on shutdown. */
export function createPolicyInformer(opts: PolicyInformerOptions): PolicyInformer {
  return new PolicyInformer(opts);
}
