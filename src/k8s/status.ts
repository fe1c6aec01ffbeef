// SPDX-License-Identifier: Apache-2.0
// Writes the `Ready` condition of TrustPolicy / ClusterTrustPolicy through the status subresource
// (JSON merge patch), and skips the write when the condition is already what it would write, so the
// watch event our own write causes does not cause another write.

import { PatchStrategy, setHeaderOptions, type CustomObjectsApi } from '@kubernetes/client-node';
import type { FieldError } from '../core/errors.js';
import type { Clock } from '../verify/ports.js';
import { TRUSTGATE_GROUP, TRUSTGATE_VERSION, errorText, type K8sLogger } from './client.js';

/** metav1.Condition, as trustgate writes it. */
export interface StatusCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

/** What processing a policy resource came to. */
export type PolicyOutcome =
  { readonly ok: true } | { readonly ok: false; readonly errors: readonly FieldError[] };

/** The parts of a policy object the status writer needs (as received from the watch). */
export interface StatusTarget {
  readonly kind: 'ClusterTrustPolicy' | 'TrustPolicy';
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly generation?: number;
  };
  readonly status?: unknown;
}

/** Condition messages are capped: the apiserver allows 32 KiB, a person reads far less. */
export const MAX_CONDITION_MESSAGE = 4096;

/**
 * `path: message; path: message` (SPEC §3.1 example), truncated to `max` characters with a count of
 * the errors left out.
 */
export function formatFieldErrors(
  errors: readonly FieldError[],
  max = MAX_CONDITION_MESSAGE,
): string {
  const parts = errors.map((e) => (e.path === '' ? e.message : `${e.path}: ${e.message}`));
  const more = (n: number): string => (n > 0 ? ` (and ${n} more)` : '');
  let out = '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const next = out === '' ? part : `${out}; ${part}`;
    if (next.length + more(parts.length - i - 1).length <= max) {
      out = next;
      continue;
    }
    if (out !== '') return `${out}${more(parts.length - i)}`;
    // Not even the first error fits: cut it.
    const tail = `…${more(parts.length - 1)}`;
    return `${part.slice(0, Math.max(0, max - tail.length))}${tail}`;
  }
  return out;
}

function existingConditions(status: unknown): StatusCondition[] {
  if (status === null || typeof status !== 'object') return [];
  const conds = (status as { conditions?: unknown }).conditions;
  if (!Array.isArray(conds)) return [];
  return conds.filter(
    (c): c is StatusCondition =>
      c !== null && typeof c === 'object' && typeof (c as { type?: unknown }).type === 'string',
  );
}

/**
 * The merge-patch body that brings `target`'s status in line with `outcome`, or `undefined` when the
 * Ready condition (status, reason, message, observedGeneration) is already exactly that.
 * `lastTransitionTime` changes only when the condition's status changes (Kubernetes API conventions).
 * Other condition types already on the object are kept (merge patch replaces whole arrays).
 */
export function planStatusPatch(
  target: StatusTarget,
  outcome: PolicyOutcome,
  now: Date,
): { status: { observedGeneration?: number; conditions: StatusCondition[] } } | undefined {
  const generation = target.metadata.generation;
  const desired = outcome.ok
    ? { status: 'True' as const, reason: 'Compiled', message: 'policy compiled and in use' }
    : {
        status: 'False' as const,
        reason: 'InvalidSpec',
        message: formatFieldErrors(outcome.errors),
      };
  const conds = existingConditions(target.status);
  const prev = conds.find((c) => c.type === 'Ready');
  if (
    prev &&
    prev.status === desired.status &&
    prev.reason === desired.reason &&
    prev.message === desired.message &&
    prev.observedGeneration === generation
  ) {
    return undefined;
  }
  const ready: StatusCondition = {
    type: 'Ready',
    ...desired,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime:
      prev && prev.status === desired.status && typeof prev.lastTransitionTime === 'string'
        ? prev.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  return {
    status: {
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: [...conds.filter((c) => c.type !== 'Ready'), ready],
    },
  };
}

export type StatusWriteResult = 'written' | 'unchanged' | 'failed';

export interface StatusWriter {
  /** Bring the Ready condition of `target` in line with `outcome`. Never throws. */
  write(target: StatusTarget, outcome: PolicyOutcome): Promise<StatusWriteResult>;
}

export interface StatusWriterOptions {
  readonly custom: CustomObjectsApi;
  readonly clock: Clock;
  readonly logger: K8sLogger;
}

/**
 * Status writer over the `…/status` subresource with `application/merge-patch+json`.
 * Failures (the resource was deleted meanwhile, RBAC, apiserver down) are logged and reported as
 * `failed`; the next event or resync of the policy writes again.
 */
export function createStatusWriter(opts: StatusWriterOptions): StatusWriter {
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  return {
    async write(target, outcome) {
      const body = planStatusPatch(target, outcome, opts.clock.now());
      if (body === undefined) return 'unchanged';
      const { name, namespace } = target.metadata;
      try {
        if (target.kind === 'TrustPolicy') {
          await opts.custom.patchNamespacedCustomObjectStatus(
            {
              group: TRUSTGATE_GROUP,
              version: TRUSTGATE_VERSION,
              plural: 'trustpolicies',
              namespace: namespace ?? '',
              name,
              body,
            },
            mergePatch,
          );
        } else {
          await opts.custom.patchClusterCustomObjectStatus(
            {
              group: TRUSTGATE_GROUP,
              version: TRUSTGATE_VERSION,
              plural: 'clustertrustpolicies',
              name,
              body,
            },
            mergePatch,
          );
        }
        return 'written';
      } catch (err) {
        opts.logger.warn('could not write policy status', {
          kind: target.kind,
          name,
          namespace,
          err: errorText(err),
        });
        return 'failed';
      }
    },
  };
}
