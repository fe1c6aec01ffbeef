// SPDX-License-Identifier: Apache-2.0
// The warm path answers the same workloads over and over (every replica's Pod, every re-apply)
// with the same memoised image verdicts. Combining those verdicts into a decision is a pure
// function of (images, verdicts, pin), so its result is kept and handed out again while the
// verdict objects are the same ones: the decision's audit summary is then serialised once
// (audit-record.ts) instead of once per request.

import type { ImageVerdict } from '../core/result.js';
import type { WorkloadImage } from '../verify/ports.js';

/** Distinct workloads remembered; beyond that the oldest is forgotten (a recomputation, no more). */
export const MAX_WARM_DECISIONS = 1024;

interface Entry<D> {
  readonly verdicts: readonly ImageVerdict[];
  readonly decision: D;
}

/** Same length and the same verdict objects at every position. */
function sameVerdicts(a: readonly ImageVerdict[], b: readonly ImageVerdict[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Identifies a workload's images: each path and image as written, and whether to pin. */
function keyOf(images: readonly WorkloadImage[], pin: boolean): string {
  let key = pin ? 'pin' : 'validate';
  for (const img of images) key += `\u0000${img.path}\u0000${img.image}`;
  return key;
}

/** A bounded memo of `combine(images, verdicts, pin)` keyed by the images and verdict identity. */
export class DecisionMemo<D> {
  private readonly entries = new Map<string, Entry<D>>();

  constructor(
    private readonly combine: (
      images: readonly WorkloadImage[],
      verdicts: readonly ImageVerdict[],
      pin: boolean,
    ) => D,
    private readonly maxEntries = MAX_WARM_DECISIONS,
  ) {}

  /** `combine(images, verdicts, pin)`, the same object as last time when nothing changed. */
  get(images: readonly WorkloadImage[], verdicts: readonly ImageVerdict[], pin: boolean): D {
    const key = keyOf(images, pin);
    const entry = this.entries.get(key);
    if (entry !== undefined && sameVerdicts(entry.verdicts, verdicts)) return entry.decision;
    const decision = this.combine(images, verdicts, pin);
    this.entries.delete(key);
    this.entries.set(key, { verdicts: [...verdicts], decision });
    if (this.entries.size > this.maxEntries) {
      // Insertion order: the first key is the one stored longest ago.
      this.entries.delete(this.entries.keys().next().value!);
    }
    return decision;
  }

  get size(): number {
    return this.entries.size;
  }
}
