// SPDX-License-Identifier: Apache-2.0
// Small order statistics for benchmark samples: medians, percentiles, min–max and formatting.
// Nearest-rank percentiles, so a reported p99 is always a latency that was actually observed.

/** Summary of a sample: count, nearest-rank percentiles, min and max. */
export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile `p` (0–100) of an ascending array; NaN when empty. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Summarize a sample (the input is not modified). */
export function summarize(values: readonly number[]): Summary {
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  const sum = arr.reduce((a, b) => a + b, 0);
  return {
    n: arr.length,
    min: arr[0] ?? Number.NaN,
    p50: percentileSorted(arr, 50),
    p90: percentileSorted(arr, 90),
    p99: percentileSorted(arr, 99),
    max: arr[arr.length - 1] ?? Number.NaN,
    mean: arr.length > 0 ? sum / arr.length : Number.NaN,
  };
}

/** Median (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** `n` with `digits` decimals, or `n/a` for NaN. */
export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** `median (min–max)` of a sample. */
export function fmtRange(values: readonly number[], digits = 0): string {
  if (values.length === 0) return 'n/a';
  return `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
}
