// kbridge-bench: the command line of @kbridge/ipc-bench (Node only; the library entry never imports node:*).
//   kbridge-bench list
//   kbridge-bench run [mechanism…] [--backend model|host] [--pattern p] [--sizes 64,4K,1M] [--count n] [--samples n]
//                     [--receivers n] [--pin none,same,split] [--quick] [--json out.json] [--md out.md] [--svg out.svg]
//                     [--metric latency|throughput]
//   kbridge-bench compare before.json after.json [--threshold 0.25]
//   kbridge-bench article [--transfers n]

import { readFileSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { KernelError } from "@kbridge/uapi";
import { SingleBar } from "cli-progress";
import { Command, CommanderError, Option } from "commander";
import { ARTICLE_53, article53Lines, article53Model } from "./article.js";
import { HOST_SCENARIOS, hostCopy, hostSupported, type Pin, runHost } from "./host.js";
import {
  MECHANISMS,
  type Mechanism,
  type ModelResult,
  PATTERNS,
  type Pattern,
  runModel,
  type Scenario,
  supported,
} from "./model.js";
import {
  compareReports,
  type HostFigure,
  type MachineInfo,
  makeReport,
  type Report,
  type SvgMetric,
  toMarkdown,
  toSvg,
  validateReport,
} from "./report.js";

const usage = (code: string, message: string) => new CommanderError(2, `kbridge-bench.${code}`, message);

/** Sizes as the command line writes them: `64`, `4K`, `1M`. */
function parseSize(text: string): number {
  const m = /^(\d+)([KM]?)$/i.exec(text.trim());
  if (m === null) throw usage("size", `size ${JSON.stringify(text)} is not a byte count (64, 4K, 1M)`);
  const unit = m[2]!.toUpperCase();
  return Number(m[1]) * (unit === "M" ? 1 << 20 : unit === "K" ? 1024 : 1);
}

const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw usage(what, `${what} ${v} is not a positive integer`);
  return n;
};

// Presets: messages per sample and samples. Host round trips cost µs to tens of µs, model messages less, so the host
// takes more messages per sample (bench-results/ipc-baselines.md §3: time batches, not single round trips).
const PRESETS = {
  quick: { sizes: [64, 4096, 65536], model: { count: 20, samples: 5 }, host: { count: 200, samples: 5 } },
  full: {
    sizes: [64, 1024, 4096, 65536, 1 << 20, 4 << 20],
    model: { count: 50, samples: 7 },
    host: { count: 2000, samples: 7 },
  },
};

// The machine: CPU, cores, kernel, runtime, and whether it is a VM and how its idle vCPUs wake.
function machineInfo(): MachineInfo {
  const read = (p: string) => {
    try {
      return readFileSync(p, "utf8").trim();
    } catch {
      return undefined;
    }
  };
  const vm = /^flags\s*:.*\bhypervisor\b/m.test(read("/proc/cpuinfo") ?? "");
  const idle = read("/sys/devices/system/cpu/cpuidle/current_driver");
  const poll = read("/sys/module/haltpoll/parameters/guest_halt_poll_ns");
  const vmText = [
    vm ? "virtual machine" : undefined,
    idle === undefined ? undefined : `cpuidle ${idle}`,
    poll === undefined ? undefined : `guest_halt_poll_ns=${poll}`,
  ].filter((x) => x !== undefined);
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: Math.max(1, cpus().length),
    kernel: release(),
    runtime: `node ${process.version}`,
    ...(vmText.length > 0 && { vm: vmText.join(", ") }),
  };
}

function readReport(path: string): Report {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw usage("report", `${path}: ${(e as Error).message}`);
  }
  const errors = validateReport(json);
  if (errors.length > 0) throw usage("report", `${path} is not a kbridge-bench report: ${errors[0]}`);
  return json as Report;
}

/**
 * Runs the command line on `argv` (without the program name) and returns the exit code: 0; 1 for a run whose data
 * arrived damaged or a comparison with a regression; 2 for a usage error. `out` and `err` receive lines; `progress`
 * is true to draw a progress bar (on a terminal).
 */
export async function main(
  argv: readonly string[],
  out: (line: string) => void,
  err: (line: string) => void,
  progress = false,
): Promise<number> {
  let code = 0;
  const program = new Command("kbridge-bench")
    .description("benchmarks of kernel↔user communication, on the simulated kernel and on this host")
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) });
  program
    .command("list")
    .description("the mechanisms, and the patterns each back end runs")
    .action(() => {
      out(`${"mechanism".padEnd(18)} ${"model".padEnd(28)} host`);
      for (const m of MECHANISMS) {
        const model = PATTERNS.filter(
          (p) => supported({ mechanism: m, pattern: p, size: 64, count: 1 }) === undefined,
        );
        const host = HOST_SCENARIOS.find((h) => h.mechanism === m)?.patterns;
        out(
          `${m.padEnd(18)} ${model.join(", ").padEnd(28)} ${host?.join(", ") ?? `— ${hostSupported({ mechanism: m, pattern: "one-way", size: 64, count: 1 })}`}`,
        );
      }
    });
  program
    .command("run")
    .description("run scenarios, print a table, and write reports")
    .argument("[mechanism...]", `mechanisms (${MECHANISMS.join(", ")}); all by default`)
    .addOption(new Option("--backend <backend>", "where to run").choices(["model", "host"]).default("model"))
    .addOption(
      new Option("--pattern <pattern>", "traffic pattern (default: every pattern the back end runs)").choices(
        [...PATTERNS],
      ),
    )
    .option("--sizes <sizes>", "message sizes, comma-separated (64,4K,1M)")
    .option("--count <n>", "messages per sample", positive("count"))
    .option("--samples <n>", "timed samples (after one warm-up sample)", positive("samples"))
    .option("--receivers <n>", "receivers of a fan-out", positive("receivers"), 4)
    .option(
      "--pin <placements>",
      "host: none, same (one CPU for both sides), split (two CPUs); comma-separated",
    )
    .option("--quick", "3 sizes, few messages: finishes in well under a minute")
    .option("--json <file>", "write the JSON report")
    .option("--md <file>", "write the Markdown table")
    .option("--svg <file>", "write an SVG plot against message size")
    .addOption(
      new Option("--metric <metric>", "what the SVG plots")
        .choices(["latency", "throughput", "bytesCopied", "syscalls"])
        .default("latency"),
    )
    .action(async (mechs: string[], o: Record<string, unknown>) => {
      for (const m of mechs)
        if (!(MECHANISMS as readonly string[]).includes(m))
          throw usage("mechanism", `unknown mechanism ${JSON.stringify(m)} (see kbridge-bench list)`);
      const host = o.backend === "host";
      const preset = o.quick === true ? PRESETS.quick : PRESETS.full;
      const sizes = typeof o.sizes === "string" ? o.sizes.split(",").map(parseSize) : preset.sizes;
      const count = (o.count as number | undefined) ?? (host ? preset.host : preset.model).count;
      const samples = (o.samples as number | undefined) ?? (host ? preset.host : preset.model).samples;
      // Ranges are checked before anything runs, so a bad option is a usage error, not a failure halfway.
      const maxReceivers = host ? 32 : 256;
      for (const size of sizes)
        if (size < 1 || size > 4 << 20) throw usage("size", `size ${size} is not 1 byte..4M`);
      if (count > 1_000_000) throw usage("count", `count ${count} is more than 1000000`);
      if (samples > 1000) throw usage("samples", `samples ${samples} is more than 1000`);
      if ((o.receivers as number) > maxReceivers)
        throw usage(
          "receivers",
          `receivers ${String(o.receivers)} is more than ${maxReceivers}${host ? " (on the host each is a process or thread)" : ""}`,
        );
      if (count * (samples + 1) > 10_000_000)
        throw usage("count", `count ${count} × (samples ${samples} + 1) is more than 10000000 messages`);
      const pins = (typeof o.pin === "string" ? o.pin.split(",") : ["none"]).map((p) => {
        if (p !== "none" && p !== "same" && p !== "split")
          throw usage("pin", `placement ${JSON.stringify(p)} is not none, same or split`);
        return p === "none" ? undefined : (p as Pin);
      });
      if (!host && pins.some((p) => p !== undefined))
        throw usage("pin", "--pin places the two sides of a host run; the model has no CPUs");
      if (host && (o.metric === "bytesCopied" || o.metric === "syscalls"))
        throw usage("metric", `the host back end does not count ${String(o.metric)}`);
      const list: { s: Scenario; pin: Pin | undefined }[] = [];
      const skipped: string[] = [];
      for (const mechanism of (mechs.length > 0 ? mechs : MECHANISMS) as Mechanism[]) {
        const patterns: readonly Pattern[] =
          o.pattern !== undefined
            ? [o.pattern as Pattern]
            : host
              ? (HOST_SCENARIOS.find((h) => h.mechanism === mechanism)?.patterns ?? ["one-way"])
              : PATTERNS.filter((p) => supported({ mechanism, pattern: p, size: 1, count: 1 }) === undefined);
        for (const pattern of patterns)
          for (const size of sizes)
            for (const pin of host ? pins : [undefined]) {
              const s: Scenario = {
                mechanism,
                pattern,
                size,
                count,
                samples,
                ...(pattern === "fan-out" && { receivers: o.receivers as number }),
              };
              const why = host ? hostSupported(s, pin) : supported(s);
              if (why === undefined) list.push({ s, pin });
              else
                skipped.push(`${mechanism} ${pattern} ${size}${pin === undefined ? "" : ` ${pin}`}: ${why}`);
            }
      }
      const bar = progress
        ? new SingleBar({ format: "{bar} {value}/{total} {scenario}", hideCursor: true })
        : undefined;
      bar?.start(list.length, 0, { scenario: "" });
      const results: ModelResult[] = [];
      const figures: HostFigure[] = [];
      try {
        for (const [i, { s, pin }] of list.entries()) {
          bar?.update(i, { scenario: `${s.mechanism} ${s.pattern} ${s.size}` });
          if (!host) results.push(runModel(s));
          else {
            const h = await runHost(s, pin === undefined ? {} : { pin });
            figures.push({
              scenario: {
                mechanism: s.mechanism,
                pattern: s.pattern,
                size: s.size,
                count: s.count,
                samples: h.ns.n,
                ...(s.receivers !== undefined && { receivers: s.receivers }),
              },
              ns: h.ns,
              placement: {
                self: h.placement.self ?? null,
                peer: h.placement.peer ?? null,
                pinned: h.placement.pinned ?? null,
              },
              note: h.note,
            });
          }
        }
        bar?.update(list.length, { scenario: "" });
      } finally {
        bar?.stop();
      }
      const report = makeReport(
        results,
        machineInfo(),
        host ? "host" : "model",
        new Date(),
        host ? figures : undefined,
      );
      for (const line of toMarkdown(report).trimEnd().split("\n")) out(line);
      for (const s of skipped) out(`(skipped ${s})`);
      const write = (file: string, text: string) => {
        try {
          writeFileSync(file, text);
        } catch (e) {
          throw new KernelError("EIO", `${file} could not be written: ${(e as Error).message}`, {
            op: "run",
          });
        }
      };
      if (typeof o.json === "string") write(o.json, `${JSON.stringify(report, null, 2)}\n`);
      if (typeof o.md === "string") write(o.md, toMarkdown(report));
      if (typeof o.svg === "string" && (results.length > 0 || figures.length > 0))
        write(o.svg, toSvg(report, o.metric as SvgMetric));
      if (results.some((r) => !r.intact)) {
        err("kbridge-bench: a message arrived damaged (the intact column says which)");
        code = 1;
      }
    });
  program
    .command("compare")
    .description(
      "compare two JSON reports of the same back end; exit 1 on a regression or changed counted costs",
    )
    .argument("<before>", "the earlier report")
    .argument("<after>", "the later report")
    .option(
      "--threshold <fraction>",
      "a slowdown beyond this (and outside the confidence intervals) is a regression",
      (v) => {
        const n = Number(v);
        if (!(n >= 0)) throw usage("threshold", `threshold ${v} is not a fraction ≥ 0`);
        return n;
      },
      0.25,
    )
    .action((beforePath: string, afterPath: string, o: { threshold: number }) => {
      const before = readReport(beforePath);
      const after = readReport(afterPath);
      if (before.backend !== after.backend)
        throw usage(
          "compare",
          `${beforePath} is a ${before.backend} run and ${afterPath} a ${after.backend} run`,
        );
      const changes = compareReports(before, after, o.threshold);
      out(`| scenario | after / before | significant | verdict |`);
      out("|---|---:|:---:|---|");
      for (const c of changes) {
        const verdict = [
          c.regression ? "**regression**" : c.improvement ? "improvement" : "same",
          ...(c.behaviour ? ["**counted costs changed**"] : []),
        ].join(", ");
        out(`| ${c.scenario} | ${c.ratio.toFixed(2)}× | ${c.significant ? "yes" : "no"} | ${verdict} |`);
      }
      if (changes.length === 0) out("(no scenario is in both reports)");
      const bad = changes.filter((c) => c.regression || c.behaviour).length;
      out(
        `${changes.length} scenarios compared; ${bad === 0 ? "no regression" : `${bad} regressed or changed behaviour`}`,
      );
      if (bad > 0) code = 1;
    });
  program
    .command("article")
    .description(
      "the source article's §5.3: 4 MB transfers by copy_to_user against mmap, on the model and this host",
    )
    .option(
      "--transfers <n>",
      "transfers on the model and reads per sample on the host",
      positive("transfers"),
      20,
    )
    .action(async (o: { transfers: number }) => {
      const copy = await hostCopy(ARTICLE_53.size, o.transfers);
      for (const l of article53Lines(article53Model(o.transfers), copy.median / 1e6)) out(l);
    });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its own errors; the command's own usage errors (kbridge-bench.*) are said here.
      if (e.code.startsWith("kbridge-bench.")) err(`kbridge-bench: ${e.message}`);
      // Help and version exit 0; every usage error (unknown command, bad option or choice) exits 2.
      return ["commander.helpDisplayed", "commander.help", "commander.version"].includes(e.code) ? 0 : 2;
    }
    // A failure of the run itself (no taskset to pin with, a host file that cannot be read): said, exit 1.
    if (e instanceof KernelError) {
      err(`kbridge-bench: ${e.message}`);
      return 1;
    }
    throw e;
  }
  return code;
}
