// The benchmark runner of kbridge. `npm run bench` at the root (`turbo run bench`) runs it in every package
// whose package.json has `"bench": "tsx ../../scripts/bench.ts"`; the working directory is the package.
//
// It imports every `bench/*.bench.ts` of the package (in name order), measures each task with tinybench,
// prints one table per group on stdout and writes `bench/results.json`:
//
//   { "machine": { "cpu", "cores", "node", "kernel" },
//     "figures": [{ "name": "<group>: <task>", "value": <ops/s>, "unit": "ops/s",
//                   "baseline"?: { "name", "value" }, "ratio"?: value / baseline.value }] }
//
// A group that declares `work: { bytes, messages }` (what one operation processes) gets two more figures per
// task, with the same name and the units "MB/s" and "msg/s".
//
// `value` is operations per second at the median: 1e9 / (median ns per operation). `ratio` > 1 means the task
// is faster than its baseline, < 1 slower; both were measured in the same run, and the ratio is the number
// to quote (absolute figures move with the machine, ratios much less).
//
// Bench file format. A bench file imports nothing from outside its own package (so it type-checks with the
// package's test/tsconfig.json) and default-exports one group or an array of groups:
//
//   export default {
//     group: "ioctl",
//     tasks: {
//       decodeIoctl: (i: number) => decodeIoctl(CMDS[i & 7]!),
//       "inline shifts (baseline)": (i: number) => { const c = CMDS[i & 7]!; return { dir: c >>> 30, … }; },
//     },
//     compare: [{ name: "decodeIoctl", baseline: "inline shifts (baseline)" }],
//   };
//
// A task performs ONE operation and returns its result. The runner calls it in a timed loop of many calls
// (single calls are far below the timer's resolution) and stores every result where the JIT cannot prove it
// dead, so a task needs no checksum of its own. `i` is the call's index in the loop: pick inputs with it
// (`inputs[i & 7]`) so that the JIT cannot constant-fold a fixed input away. Prepare inputs at module level,
// outside the tasks, unless preparing them is part of what you measure.

import { readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Bench, type Task } from "tinybench";

/** One operation; `i` is the index of the call in its timed loop. */
type TaskFn = (i: number) => unknown;

/** What a bench file exports (by default): one group or an array of them. */
interface BenchGroup {
  /** The group's name, the first part of each figure's name. */
  readonly group: string;
  /** The tasks by name; names of baselines conventionally end in "(baseline)". */
  readonly tasks: Readonly<Record<string, TaskFn>>;
  /** Which task is quoted against which baseline of the same group. */
  readonly compare?: readonly { readonly name: string; readonly baseline: string }[];
  /**
   * What one operation of every task of the group processes, when that is fixed (a whole capture, say):
   * the runner then also reports MB/s (`bytes`, 1 MB = 1e6 bytes) and msg/s (`messages`).
   */
  readonly work?: { readonly bytes?: number; readonly messages?: number };
  /**
   * Figures measured outside Node (a C program, say), each a function returning operations per second, or
   * undefined when it cannot run here (its tool is missing). They can be baselines in `compare`.
   */
  readonly external?: Readonly<Record<string, () => number | undefined>>;
}

interface Figure {
  name: string;
  value: number;
  unit: "ops/s" | "MB/s" | "msg/s";
  baseline?: { name: string; value: number };
  ratio?: number;
}

/** Time budget per task, after warm-up (ms). */
const TIME_MS = 1000;
/** tinybench warm-up budget per task (ms), on top of the calibration below. */
const WARMUP_MS = 250;
/** Wall time of one sample: a loop of this many ms worth of calls (ms). */
const BATCH_MS = 1;
/** Slots of each task's result sink; results are stored at `i & SINK_MASK`. */
const SINK_MASK = 1023;

const now: () => number = performance.now.bind(performance);

let loops = 0;

/**
 * A timed loop of `n` calls of `fn`, returning the elapsed ms. Each task gets its own function compiled from
 * its own source, not a closure of one shared function: V8 keeps type feedback per function, and a shared
 * loop would see every task at its call site, go megamorphic and stop inlining tasks, taxing later tasks
 * more than earlier ones. The source must differ per task (the `loop_<k>` name): V8 caches `new Function`
 * by source, feedback included, so identical sources would share one loop again. Results go to distinct
 * slots of an array that is read after the run, so neither the store nor the computation behind it can be
 * proven dead.
 */
function timedLoop(fn: TaskFn, sink: unknown[]): (n: number) => number {
  const k = loops++;
  const factory = new Function(
    "fn",
    "now",
    "sink",
    `return function loop_${k}(n) {
      const t0 = now();
      for (let i = 0; i < n; i++) sink[i & ${SINK_MASK}] = fn(i);
      return now() - t0;
    };`,
  ) as (fn: TaskFn, now: () => number, sink: unknown[]) => (n: number) => number;
  return factory(fn, now, sink);
}

/** Calls per sample so that one sample takes about BATCH_MS; the doubling also takes the task through V8's tiers. */
function calibrate(loop: (n: number) => number): number {
  let n = 1;
  while (loop(n) < 2 * BATCH_MS && n < 2 ** 30) n *= 2;
  // Give the optimizing tier time to finish before measuring the per-call time.
  for (const until = now() + 50; now() < until; ) loop(n);
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 5; k++) best = Math.min(best, loop(n) / n);
  return Math.max(1, Math.ceil(BATCH_MS / Math.max(best, 1e-9)));
}

function fail(message: string): never {
  throw new Error(`bench: ${message}`);
}

function checkGroups(file: string, exported: unknown): BenchGroup[] {
  if (exported === undefined) fail(`${file} has no default export (a group or an array of groups)`);
  const groups = Array.isArray(exported) ? exported : [exported];
  for (const g of groups as BenchGroup[]) {
    if (g === null || typeof g !== "object" || typeof g.group !== "string" || g.group === "") {
      fail(`${file}: every group needs a non-empty string "group", got ${JSON.stringify(g)}`);
    }
    if (g.tasks === null || typeof g.tasks !== "object" || Object.keys(g.tasks).length === 0) {
      fail(`${file}: group "${g.group}" needs "tasks", an object of task functions`);
    }
    for (const [name, fn] of Object.entries(g.tasks)) {
      if (typeof fn !== "function") fail(`${file}: task "${g.group}: ${name}" is not a function`);
    }
    for (const c of g.compare ?? []) {
      for (const t of [c.name, c.baseline]) {
        if (!Object.hasOwn(g.tasks, t) && !Object.hasOwn(g.external ?? {}, t)) {
          fail(`${file}: group "${g.group}" compares unknown task "${t}"`);
        }
      }
      if (c.name === c.baseline) fail(`${file}: group "${g.group}" compares "${c.name}" with itself`);
    }
    for (const [k, v] of Object.entries(g.work ?? {})) {
      if ((k !== "bytes" && k !== "messages") || typeof v !== "number" || !(v > 0)) {
        fail(`${file}: group "${g.group}": work.${k} must be a positive number, got ${JSON.stringify(v)}`);
      }
    }
  }
  return groups as BenchGroup[];
}

interface Measured {
  readonly group: string;
  readonly task: string;
  readonly perSample: number;
  /** Per-operation latency of the samples, ns. */
  readonly medianNs: number;
  readonly meanNs: number;
  readonly rme: number;
  readonly samples: number;
}

function measured(group: string, task: Task, perSample: number): Measured {
  const r = task.result;
  if (r.state !== "completed") {
    fail(
      `task "${group}: ${task.name}" ended ${r.state}${r.state === "errored" ? `: ${r.error.message}` : ""}`,
    );
  }
  return {
    group,
    task: task.name,
    perSample,
    medianNs: r.latency.p50 * 1e6,
    meanNs: r.latency.mean * 1e6,
    rme: r.latency.rme,
    samples: r.latency.samplesCount,
  };
}

async function runGroup(g: BenchGroup): Promise<Measured[]> {
  const bench = new Bench({ name: g.group, time: TIME_MS, warmupTime: WARMUP_MS, throws: true });
  const sinks: unknown[][] = [];
  const perSample = new Map<string, number>();
  for (const [name, fn] of Object.entries(g.tasks)) {
    const sink = Array.from({ length: SINK_MASK + 1 }, (): unknown => undefined);
    sinks.push(sink);
    const loop = timedLoop(fn, sink);
    process.stderr.write(`bench: ${g.group}: ${name} …\n`);
    const n = calibrate(loop);
    perSample.set(name, n);
    // Each sample is the mean of n calls; the time budget is charged the whole loop.
    bench.add(
      name,
      () => {
        const ms = loop(n);
        return { overriddenDuration: ms / n, overriddenIterationCost: ms };
      },
      { async: false },
    );
  }
  await bench.run();
  // Read the sinks: what the tasks returned is observable, and a task that returns nothing is a mistake.
  for (const [k, name] of Object.keys(g.tasks).entries()) {
    if (sinks[k]!.every((v) => v === undefined))
      fail(`task "${g.group}: ${name}" returned undefined; return its result`);
  }
  return bench.tasks.map((t) => measured(g.group, t, perSample.get(t.name)!));
}

const opsPerSecond = (m: Measured): number => 1e9 / m.medianNs;

function sig(x: number, digits: number): number {
  return x === 0 || !Number.isFinite(x) ? x : Number(x.toPrecision(digits));
}

function si(x: number): string {
  if (x >= 1e9) return `${(x / 1e9).toPrecision(3)} G`;
  if (x >= 1e6) return `${(x / 1e6).toPrecision(3)} M`;
  if (x >= 1e3) return `${(x / 1e3).toPrecision(3)} k`;
  return x.toPrecision(3);
}

function ns(x: number): string {
  return x >= 1e6
    ? `${(x / 1e6).toPrecision(3)} ms`
    : x >= 1e3
      ? `${(x / 1e3).toPrecision(3)} µs`
      : `${x.toPrecision(3)} ns`;
}

// The ratio as the JSON has it (ops/s ÷ baseline ops/s), then in words.
function speed(ratio: number): string {
  return ratio >= 1
    ? `${ratio.toPrecision(3)} (${ratio.toPrecision(3)}× faster)`
    : `${ratio.toPrecision(3)} (${(1 / ratio).toPrecision(3)}× slower)`;
}

function table(rows: readonly (readonly string[])[], rightAligned: readonly boolean[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (rightAligned[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function main(): Promise<void> {
  const dir = path.resolve("bench");
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith(".bench.ts"))
      .sort();
  } catch {
    files = [];
  }
  if (files.length === 0) {
    console.log(`bench: no bench/*.bench.ts in ${process.cwd()}, nothing to run`);
    return;
  }

  const groups: BenchGroup[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { default?: unknown };
    groups.push(...checkGroups(`bench/${f}`, mod.default));
  }
  const seen = new Set<string>();
  for (const g of groups) {
    if (seen.has(g.group)) fail(`group "${g.group}" is declared twice`);
    seen.add(g.group);
  }

  const machine = {
    cpu: os.cpus()[0]?.model.trim() ?? "unknown",
    cores: os.availableParallelism(),
    node: process.version,
    kernel: os.release(),
  };
  const started = now();
  const figures: Figure[] = [];
  const out: string[] = [
    `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, Linux ${machine.kernel}`,
    `ops/s = 1e9 / median ns per op; each sample is the mean of a loop of "calls" ops; ratio = ops/s ÷ baseline ops/s`,
  ];

  for (const g of groups) {
    const results = await runGroup(g);
    // External figures join as measurements of their own (no samples: the program measured itself).
    for (const [name, run] of Object.entries(g.external ?? {})) {
      process.stderr.write(`bench: ${g.group}: ${name} (external) …\n`);
      const opsPerSec = run();
      if (opsPerSec === undefined) {
        process.stderr.write(`bench: ${g.group}: ${name}: not available here, skipped\n`);
        continue;
      }
      results.push({
        group: g.group,
        task: name,
        perSample: 0,
        medianNs: 1e9 / opsPerSec,
        meanNs: 1e9 / opsPerSec,
        rme: 0,
        samples: 0,
      });
    }
    const byName = new Map(results.map((m) => [m.task, m]));
    const baselineOf = new Map(
      (g.compare ?? []).filter((c) => byName.has(c.baseline)).map((c) => [c.name, byName.get(c.baseline)!]),
    );
    const bytes = g.work?.bytes;
    const messages = g.work?.messages;
    const rows: string[][] = [
      [
        "task",
        "ops/s",
        ...(bytes === undefined ? [] : ["MB/s"]),
        ...(messages === undefined ? [] : ["msg/s"]),
        "median/op",
        "mean/op",
        "± rme",
        "samples",
        "calls",
        "vs baseline",
      ],
    ];
    for (const m of results) {
      const value = opsPerSecond(m);
      const figure: Figure = { name: `${g.group}: ${m.task}`, value: sig(value, 4), unit: "ops/s" };
      const base = baselineOf.get(m.task);
      let vs = "";
      if (base !== undefined) {
        const ratio = value / opsPerSecond(base);
        figure.baseline = { name: `${g.group}: ${base.task}`, value: sig(opsPerSecond(base), 4) };
        figure.ratio = sig(ratio, 3);
        vs = speed(ratio);
      }
      figures.push(figure);
      if (bytes !== undefined)
        figures.push({ name: figure.name, value: sig((value * bytes) / 1e6, 4), unit: "MB/s" });
      if (messages !== undefined)
        figures.push({ name: figure.name, value: sig(value * messages, 4), unit: "msg/s" });
      rows.push([
        m.task,
        si(value),
        ...(bytes === undefined ? [] : [si((value * bytes) / 1e6)]),
        ...(messages === undefined ? [] : [si(value * messages)]),
        ns(m.medianNs),
        ns(m.meanNs),
        `${m.rme.toFixed(2)}%`,
        String(m.samples),
        String(m.perSample),
        vs,
      ]);
    }
    const right = rows[0]!.map((_, c) => c > 0 && c < rows[0]!.length - 1);
    out.push("", g.group, table(rows, right));
  }

  const file = path.join(dir, "results.json");
  writeFileSync(file, `${JSON.stringify({ machine, figures }, null, 2)}\n`);
  out.push("", `wrote ${path.relative(process.cwd(), file)} (${((now() - started) / 1000).toFixed(1)} s)`);
  console.log(out.join("\n"));
}

await main();
