// Timing batches of messages with tinybench, the same way on both back ends: one untimed warm-up sample, then the
// timed samples, each one call of a batch that moves `count` messages; the result is nanoseconds per message.

import { KernelError } from "@kbridge/uapi";
import { Bench } from "tinybench";
import { type Summary, summarize } from "./stats.js";

/**
 * @internal A bench of the one task `batch`: one warm-up sample, then `samples` timed ones. Whether `batch` is async is
 * said, not guessed: tinybench otherwise calls it once, outside the run, to find out — one batch more than asked for,
 * whose answers would end the wrong sample.
 */
export function batchBench(
  name: string,
  batch: (() => Promise<void>) | (() => void),
  samples: number,
  async: boolean,
): Bench {
  const bench = new Bench({
    iterations: samples,
    time: 0,
    warmupIterations: 1,
    warmupTime: 0,
    retainSamples: true,
    throws: true,
  });
  bench.add(name, batch, { async });
  return bench;
}

/**
 * @internal The bench's timed samples as nanoseconds per message (each sample over its `count` messages), summarized.
 * @throws {@link @kbridge/uapi!KernelError} EIO when the run produced no samples
 */
export function perMessage(bench: Bench, count: number, op: string): Summary {
  const task = bench.tasks[0];
  const result = task?.result;
  const samples = result !== undefined && "latency" in result ? result.latency.samples : undefined;
  if (samples === undefined || samples.length === 0)
    throw new KernelError("EIO", `${task?.name ?? "the benchmark"}: the run produced no samples`, { op });
  return summarize(Array.from(samples, (ms) => (ms * 1e6) / count));
}
