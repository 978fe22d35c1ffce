/**
 * The few statistics the benchmark modules report: the median and a percentile of repeated
 * timings, and a figure rounded for BENCHMARKS.md. One definition for every module, so a
 * "median" or a "p95" means the same in each row of the table.
 */

/** The middle value; with an even count the mean of the two middle ones. NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The nearest-rank `p`th percentile (0 < p ≤ 100): the smallest value that at least p % of
 * the values do not exceed, so always one of the values measured. NaN when empty.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[
    Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

/** `value` rounded to `digits` decimals (1 when not given), as figures are shown. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
