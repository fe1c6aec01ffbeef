// SPDX-License-Identifier: Apache-2.0
// Instruments for the warm admission path that record without calling prom-client: prom-client
// 15 hashes and validates the label object on every `inc`/`observe` (~0.5–2 µs), which the warm
// path pays several times per request (issue #4, SPEC §7). Both expose exactly what the
// prom-client instruments they stand for would (tested byte for byte in metrics.test.ts).

import type { Counter } from 'prom-client';

/**
 * Increments of one label set since the last scrape: a plain number on the hot path, folded into
 * its prom-client Counter by `PendingCounts#foldInto`.
 */
export interface CountSlot<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  pending: number;
  /** Set on first use; `PendingCounts` keeps used slots in first-use order. */
  listed: boolean;
}

/**
 * Cheap counting for one labelled prom-client Counter. A call is one addition; the counter gets
 * the sum in its `collect` hook, which prom-client runs on every `get()` (so before each scrape).
 * The fold is exact and loses nothing: counts are integers (exact in a double up to 2^53), each
 * slot's pending count is moved and zeroed synchronously, and never-used slots create no series
 * (like a bound but unused prom-client child). Slots are folded in first-use order, the order in
 * which prom-client would have created the series, so the exposition lists them identically.
 */
export class PendingCounts<L extends string> {
  private readonly slots = new Map<string, CountSlot<L>>();
  private readonly used: CountSlot<L>[] = [];

  constructor(private readonly labelNames: readonly L[]) {}

  /** The one slot of these label values (given in `labelNames` order). Bind once, not per call. */
  slot(...values: readonly string[]): CountSlot<L> {
    const key = values.join('\u0000');
    let slot = this.slots.get(key);
    if (slot === undefined) {
      // Keys in `labelNames` order, as prom-client's `.labels(...)` builds them: the exposition
      // prints labels in the object's key order.
      const labels = {} as Record<L, string>;
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? '';
      });
      slot = { labels: Object.freeze(labels), pending: 0, listed: false };
      this.slots.set(key, slot);
    }
    return slot;
  }

  inc(slot: CountSlot<L>): void {
    slot.pending += 1;
    if (!slot.listed) {
      slot.listed = true;
      this.used.push(slot);
    }
  }

  /** Move every pending count into `counter`; call from the counter's `collect`. */
  foldInto(counter: Counter<L>): void {
    for (const slot of this.used) {
      if (slot.pending > 0) {
        counter.inc(slot.labels, slot.pending);
        slot.pending = 0;
      }
    }
  }
}

/** One exposition sample, shaped as prom-client's `Histogram#get()` returns it. */
interface HistogramSample {
  readonly value: number;
  readonly metricName: string;
  readonly exemplar: null | undefined;
  readonly labels: { readonly le?: number | '+Inf' };
}

/**
 * A label-less histogram whose `observe` is a bucket search and three additions, exposed through
 * the prom-client Registry like a prom-client Histogram. The Registry reads only `name`, `type`,
 * `get()` (and calls `reset()`), and `get()` returns what prom-client's `Histogram#get()` returns
 * for the same observations: per-bucket counts with inclusive upper bounds (`value <= le`) made
 * cumulative, `+Inf` = count, `_sum` added in observation order (hence the very same double),
 * `_count`. State is never moved, so scrapes cannot lose or double count observations.
 */
export class PlainHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly upperBounds: readonly number[];
  /** Observations per bucket (not cumulative); the extra last slot is above every bound. */
  private counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    if (!buckets.every((b, i) => Number.isFinite(b) && (i === 0 || b > buckets[i - 1]!))) {
      throw new Error(`${name}: buckets must be finite and strictly ascending`);
    }
    this.upperBounds = Object.freeze([...buckets]);
    this.counts = new Float64Array(buckets.length + 1);
  }

  observe(value: number): void {
    // prom-client rejects these too; a NaN would poison the sum forever.
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }

  reset(): void {
    this.counts = new Float64Array(this.upperBounds.length + 1);
    this.sum = 0;
    this.count = 0;
  }

  get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    values: HistogramSample[];
    aggregator: 'sum';
  }> {
    const bucket = `${this.name}_bucket`;
    const values: HistogramSample[] = [];
    let cumulative = 0;
    this.upperBounds.forEach((le, i) => {
      cumulative += this.counts[i]!;
      values.push({ value: cumulative, metricName: bucket, exemplar: null, labels: { le } });
    });
    values.push(
      { value: this.count, metricName: bucket, exemplar: null, labels: { le: '+Inf' } },
      { value: this.sum, metricName: `${this.name}_sum`, exemplar: undefined, labels: {} },
      { value: this.count, metricName: `${this.name}_count`, exemplar: undefined, labels: {} },
    );
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }
}
