// Statistics of benchmark samples done the way a careful reader expects: order statistics by linear interpolation
// (quantile type 7, R's and NumPy's default), the sample standard deviation (n − 1), and a 95% confidence interval
// of the mean from Student's t distribution, whose relative width decides whether a figure is stable enough to quote.

import { KernelError } from "@kbridge/uapi";

/** A summary of samples (durations in nanoseconds, or any positive measure). */
export interface Summary {
  /** How many samples. */
  readonly n: number;
  /** The smallest sample. */
  readonly min: number;
  /** The largest sample. */
  readonly max: number;
  /** The arithmetic mean. */
  readonly mean: number;
  /** The median (the 0.5 quantile). */
  readonly median: number;
  /** The 0.99 quantile. */
  readonly p99: number;
  /** The sample standard deviation (divided by n − 1; 0 for one sample). */
  readonly stddev: number;
  /** The standard error of the mean (stddev / √n). */
  readonly sem: number;
  /** Half the width of the 95% confidence interval of the mean (t × sem); 0 for one sample, which has none. */
  readonly moe: number;
  /** The margin of error relative to the mean, in percent (0 when the mean is 0). */
  readonly rme: number;
  /** Whether `rme` is within the limit asked for (5% by default): the figure is worth quoting. */
  readonly stable: boolean;
}

// Two-sided 95% critical values of Student's t for 1..30 degrees of freedom.
const T95 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/**
 * The two-sided 95% critical value of Student's t with `df` degrees of freedom: the table for 1..30, then the
 * Cornish–Fisher expansion around the normal quantile 1.96 (within 0.001 of the exact value from 31 on).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for `df` that is not a positive integer
 */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1)
    throw new KernelError("EINVAL", `degrees of freedom ${String(df)} is not a positive integer`, {
      op: "tCritical95",
    });
  if (df <= 30) return T95[df - 1]!;
  const z = 1.959964;
  const g1 = (z ** 3 + z) / 4;
  const g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96;
  return z + g1 / df + g2 / df ** 2;
}

function check(op: string, samples: readonly number[]): void {
  if (!Array.isArray(samples) || samples.length === 0)
    throw new KernelError("EINVAL", "there are no samples", { op });
  for (const [i, v] of samples.entries()) {
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new KernelError("EINVAL", `sample ${i} is ${String(v)}, not a finite number`, { op });
  }
}

/**
 * The `q` quantile of `samples` by linear interpolation between order statistics (type 7): `h = (n − 1)·q`, the value
 * between the ⌊h⌋-th and ⌈h⌉-th smallest.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for no samples, a non-finite sample or `q` outside 0..1
 */
export function quantile(samples: readonly number[], q: number): number {
  check("quantile", samples);
  if (typeof q !== "number" || !(q >= 0 && q <= 1))
    throw new KernelError("EINVAL", `quantile ${String(q)} is not in 0..1`, { op: "quantile" });
  const s = [...samples].sort((a, b) => a - b);
  return sortedQuantile(s, q);
}

function sortedQuantile(s: readonly number[], q: number): number {
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

/**
 * Summarizes `samples`: min, max, mean, median, p99, standard deviation, the 95% confidence interval of the mean
 * and whether its relative half-width is within `maxRme` percent (5 by default).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for no samples, a non-finite sample or a bad limit
 */
export function summarize(samples: readonly number[], options: { readonly maxRme?: number } = {}): Summary {
  check("summarize", samples);
  const maxRme = options.maxRme ?? 5;
  if (typeof maxRme !== "number" || !(maxRme > 0))
    throw new KernelError("EINVAL", `the margin limit ${String(maxRme)}% is not a positive number`, {
      op: "summarize",
    });
  const s = [...samples].sort((a, b) => a - b);
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? s.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  const stddev = Math.sqrt(variance);
  const sem = stddev / Math.sqrt(n);
  const moe = n > 1 ? tCritical95(n - 1) * sem : 0;
  const rme = mean === 0 ? 0 : (moe / Math.abs(mean)) * 100;
  return {
    n,
    min: s[0]!,
    max: s[n - 1]!,
    mean,
    median: sortedQuantile(s, 0.5),
    p99: sortedQuantile(s, 0.99),
    stddev,
    sem,
    moe,
    rme,
    stable: n > 1 && rme <= maxRme,
  };
}

/** How a figure compares with the same figure of an earlier run. */
export interface Comparison {
  /** `current.median / baseline.median` (above 1: slower, for durations). */
  readonly ratio: number;
  /** The 95% intervals of the two means do not overlap (never, when either side has a single sample). */
  readonly significant: boolean;
  /** Slower by more than the threshold, and significantly so. */
  readonly regression: boolean;
  /** Faster by more than the threshold, and significantly so. */
  readonly improvement: boolean;
}

/**
 * Compares a duration with its baseline: the median ratio, whether the confidence intervals of the means are
 * apart, and whether that amounts to a regression or an improvement beyond `threshold` (0.1 = 10% by default).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a bad threshold or a baseline median of 0
 */
export function compare(baseline: Summary, current: Summary, threshold = 0.1): Comparison {
  if (typeof threshold !== "number" || !(threshold >= 0))
    throw new KernelError("EINVAL", `threshold ${String(threshold)} is not a fraction ≥ 0`, {
      op: "compare",
    });
  if (!(baseline?.median > 0))
    throw new KernelError("EINVAL", `baseline median ${String(baseline?.median)} is not positive`, {
      op: "compare",
    });
  if (!(current?.median >= 0))
    throw new KernelError("EINVAL", `current median ${String(current?.median)} is not a duration`, {
      op: "compare",
    });
  const ratio = current.median / baseline.median;
  // One sample has no interval: nothing measured once is significantly different from anything.
  const significant =
    baseline.n >= 2 &&
    current.n >= 2 &&
    (current.mean - current.moe > baseline.mean + baseline.moe ||
      current.mean + current.moe < baseline.mean - baseline.moe);
  return {
    ratio,
    significant,
    regression: significant && ratio > 1 + threshold,
    improvement: significant && ratio < 1 / (1 + threshold),
  };
}
