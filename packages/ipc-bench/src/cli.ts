// kbridge-bench: the command line of @kbridge/ipc-bench (Node only; the library entry never imports node:*).
//   kbridge-bench list
//   kbridge-bench article [--transfers n]
//   kbridge-bench run [mechanism…] [--backend model|host] [--pattern p] [--sizes 64,4K,1M] [--count n] [--receivers n] [--quick]
//                     [--json out.json] [--md out.md] [--svg out.svg]

import { writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { SingleBar } from "cli-progress";
import { Command, CommanderError, Option } from "commander";
import { ARTICLE_53, article53Lines, article53Model } from "./article.js";
import { HOST_SCENARIOS, hostCopy, hostSupported, runHost } from "./host.js";
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
import { type HostFigure, makeReport, toMarkdown, toSvg } from "./report.js";

/** Sizes as the command line writes them: `64`, `4K`, `1M`. */
function parseSize(text: string): number {
  const m = /^(\d+)([KM]?)$/i.exec(text.trim());
  if (m === null)
    throw new CommanderError(
      2,
      "kbridge-bench.size",
      `size ${JSON.stringify(text)} is not a byte count (64, 4K, 1M)`,
    );
  const unit = m[2]!.toUpperCase();
  return Number(m[1]) * (unit === "M" ? 1 << 20 : unit === "K" ? 1024 : 1);
}

const QUICK = { sizes: [64, 4096, 65536], count: 20 };
const FULL = { sizes: [64, 1024, 4096, 65536, 1 << 20, 4 << 20], count: 200 };

/**
 * Runs the command line on `argv` (without the program name) and returns the exit code: 0, 1 for a failed run, 2 for
 * a usage error. `out` and `err` receive lines; `progress` is true to draw a progress bar (on a terminal).
 */
export async function main(
  argv: readonly string[],
  out: (line: string) => void,
  err: (line: string) => void,
  progress = false,
): Promise<number> {
  let code = 0;
  const program = new Command("kbridge-bench")
    .description("benchmarks of kernel↔user communication on the simulated kernel")
    .exitOverride()
    .configureOutput({ writeOut: (s) => out(s.trimEnd()), writeErr: (s) => err(s.trimEnd()) });
  program
    .command("list")
    .description("the mechanisms and patterns, and which combinations the model runs")
    .action(() => {
      for (const m of MECHANISMS) {
        const ok = PATTERNS.filter(
          (p) => supported({ mechanism: m, pattern: p, size: 64, count: 1 }) === undefined,
        );
        out(`${m.padEnd(18)} ${ok.join(", ")}`);
      }
    });
  program
    .command("run")
    .description("run scenarios and print a table (and write reports)")
    .argument("[mechanism...]", `mechanisms (${MECHANISMS.join(", ")}); all by default`)
    .addOption(new Option("--backend <backend>", "where to run").choices(["model", "host"]).default("model"))
    .addOption(new Option("--pattern <pattern>", "traffic pattern").choices([...PATTERNS]))
    .option("--sizes <sizes>", "message sizes, comma-separated (64,4K,1M)")
    .option("--count <n>", "messages per scenario", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new CommanderError(2, "kbridge-bench.count", `count ${v} is not a positive integer`);
      return n;
    })
    .option("--receivers <n>", "receivers of a fan-out", (v) => Number(v), 4)
    .option("--quick", `sizes ${QUICK.sizes.join(",")} and ${QUICK.count} messages (under a minute)`)
    .option("--json <file>", "write the JSON report")
    .option("--md <file>", "write the Markdown table")
    .option("--svg <file>", "write an SVG plot of model time against size")
    .action(async (mechs: string[], o: Record<string, unknown>) => {
      const preset = o.quick === true ? QUICK : FULL;
      for (const m of mechs)
        if (!(MECHANISMS as readonly string[]).includes(m)) {
          err(`kbridge-bench: unknown mechanism ${JSON.stringify(m)} (see kbridge-bench list)`);
          code = 2;
          return;
        }
      const sizes = typeof o.sizes === "string" ? o.sizes.split(",").map(parseSize) : preset.sizes;
      const count = typeof o.count === "number" ? o.count : preset.count;
      const host = o.backend === "host";
      const list: Scenario[] = [];
      const skipped: string[] = [];
      for (const mechanism of (mechs.length > 0 ? mechs : MECHANISMS) as Mechanism[]) {
        // On the host each mechanism has its one pattern unless one was asked for.
        const pattern =
          (o.pattern as Pattern | undefined) ??
          (host ? (HOST_SCENARIOS.find((h) => h.mechanism === mechanism)?.pattern ?? "one-way") : "one-way");
        for (const size of sizes) {
          const s: Scenario = {
            mechanism,
            pattern,
            size,
            count,
            ...(pattern === "fan-out" && { receivers: o.receivers as number }),
          };
          const why = host ? hostSupported(s) : supported(s);
          if (why === undefined) list.push(s);
          else skipped.push(`${mechanism} ${size}: ${why}`);
        }
      }
      const bar = progress
        ? new SingleBar({ format: "{bar} {value}/{total} {scenario}", hideCursor: true })
        : undefined;
      bar?.start(list.length, 0, { scenario: "" });
      const results: ModelResult[] = [];
      const figures: HostFigure[] = [];
      for (const [i, s] of list.entries()) {
        bar?.update(i, { scenario: `${s.mechanism} ${s.size}` });
        if (!host) results.push(runModel(s));
        else {
          const h = await runHost(s);
          figures.push({
            scenario: { mechanism: s.mechanism, pattern: s.pattern, size: s.size, count: s.count },
            ns: { median: h.ns.median, p99: h.ns.p99, mean: h.ns.mean, rme: h.ns.rme, n: h.ns.n },
            placement: { self: h.placement.self ?? null, peer: h.placement.peer ?? null },
          });
        }
      }
      bar?.update(list.length, { scenario: "" });
      bar?.stop();
      const machine = {
        cpu: cpus()[0]?.model.trim() ?? "unknown",
        cores: Math.max(1, cpus().length),
        kernel: release(),
        runtime: `node ${process.version}`,
      };
      const report = makeReport(
        results,
        machine,
        host ? "host" : "model",
        new Date(),
        host ? figures : undefined,
      );
      for (const line of toMarkdown(report).trimEnd().split("\n")) out(line);
      for (const s of skipped) out(`(skipped ${s})`);
      if (typeof o.json === "string") writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
      if (typeof o.md === "string") writeFileSync(o.md, toMarkdown(report));
      if (typeof o.svg === "string" && results.length > 0) writeFileSync(o.svg, toSvg(report));
      if (results.some((r) => !r.intact)) code = 1;
    });
  program
    .command("article")
    .description(
      "the source article's §5.3: 4 MB transfers by copy_to_user against mmap, on the model and this host",
    )
    .option("--transfers <n>", "transfers on the model and reads on the host", (v) => Number(v), 20)
    .action(async (o: { transfers: number }) => {
      if (!Number.isInteger(o.transfers) || o.transfers < 1) {
        err(`kbridge-bench: transfers ${String(o.transfers)} is not a positive integer`);
        code = 2;
        return;
      }
      const copy = await hostCopy(ARTICLE_53.size, o.transfers);
      for (const l of article53Lines(article53Model(o.transfers), copy.median / 1e6)) out(l);
    });
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode !== 0 && !e.message.startsWith("(")) err(e.message);
      // Help and version exit 0; every usage error (unknown command, bad option or choice) exits 2.
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : 2;
    }
    throw e;
  }
  return code;
}
