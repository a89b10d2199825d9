// The statistics against values worked out by hand (and checked with R's quantile(type = 7) and qt(0.975, df)).
import { describe, expect, it } from "vitest";
import { compare, quantile, summarize, tCritical95 } from "../src/index.js";

const ten = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1];

describe("summarize", () => {
  it("1..10: mean 5.5, median 5.5, p99 9.91, sd 3.0277, t(9) 2.262 → margin 2.1657 (39.38%)", () => {
    const s = summarize(ten);
    expect([s.n, s.min, s.max, s.mean, s.median]).toEqual([10, 1, 10, 5.5, 5.5]);
    expect(s.p99).toBeCloseTo(9.91, 10);
    expect(s.stddev).toBeCloseTo(3.02765, 5);
    expect(s.sem).toBeCloseTo(0.957427, 6);
    expect(s.moe).toBeCloseTo(2.1657, 5);
    expect(s.rme).toBeCloseTo(39.3764, 3);
    expect(s.stable).toBe(false);
  });

  it("tight samples are stable; one sample has no interval and is not", () => {
    const s = summarize([100, 101, 99, 100, 100, 101, 99, 100]);
    expect(s.rme).toBeLessThan(1);
    expect(s.stable).toBe(true);
    expect(summarize([42])).toMatchObject({ n: 1, median: 42, p99: 42, stddev: 0, moe: 0, stable: false });
    expect(summarize(ten, { maxRme: 50 }).stable).toBe(true);
  });

  it("bad input is EINVAL", () => {
    expect(() => summarize([])).toThrow(/no samples/);
    expect(() => summarize([1, Number.NaN])).toThrow(/sample 1 is NaN/);
    expect(() => summarize([1, 2], { maxRme: 0 })).toThrow(/margin limit/);
  });
});

describe("quantile and t", () => {
  it("type 7 quantiles", () => {
    expect(quantile([3, 1, 2], 0)).toBe(1);
    expect(quantile([3, 1, 2], 1)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(() => quantile([1], 1.5)).toThrow(/not in 0..1/);
  });

  it("t critical values: the table, then the expansion (qt(0.975, 40) = 2.0211, 120 → 1.9799)", () => {
    expect(tCritical95(1)).toBe(12.706);
    expect(tCritical95(30)).toBe(2.042);
    expect(tCritical95(40)).toBeCloseTo(2.0211, 3);
    expect(tCritical95(120)).toBeCloseTo(1.9799, 3);
    expect(() => tCritical95(0)).toThrow(/positive integer/);
  });
});

describe("compare", () => {
  it("a clearly slower run is a regression; overlapping intervals are not significant", () => {
    const base = summarize([100, 101, 99, 100, 100, 101, 99, 100]);
    const slow = summarize([130, 131, 129, 130, 130, 131, 129, 130]);
    expect(compare(base, slow)).toMatchObject({ significant: true, regression: true, improvement: false });
    expect(compare(base, slow).ratio).toBeCloseTo(1.3, 10);
    expect(compare(slow, base)).toMatchObject({ regression: false, improvement: true });
    const noisy = summarize([80, 140, 100, 120, 90, 130]);
    expect(compare(base, noisy).significant).toBe(false);
    expect(() => compare(base, slow, -1)).toThrow(/threshold/);
    // A single sample has no interval: never significant, however far off.
    expect(compare(base, summarize([1000])).significant).toBe(false);
    expect(compare(summarize([10]), slow).regression).toBe(false);
    expect(() => compare(base, undefined as unknown as typeof base)).toThrow(
      /EINVAL.*current median undefined/,
    );
  });
});
