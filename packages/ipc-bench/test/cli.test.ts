// The kbridge-bench command line, run in-process: list, a quick run writing JSON/MD/SVG, and usage errors.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { validateReport } from "../src/index.js";

function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out, err };
}

describe("kbridge-bench", () => {
  it("list: every mechanism with the patterns the model runs", () => {
    const { code, out } = run("list");
    expect(code).toBe(0);
    expect(out).toContain("netlink-multicast  fan-out");
    expect(out.find((l) => l.startsWith("pipe"))).toBe("pipe               one-way, ping-pong");
  });

  it("run --quick writes a valid JSON report, the Markdown table and a well-formed SVG", () => {
    const dir = mkdtempSync(join(tmpdir(), "kbridge-bench-"));
    const json = join(dir, "out.json");
    const md = join(dir, "out.md");
    const svg = join(dir, "out.svg");
    const { code, out } = run(
      "run",
      "pipe",
      "mmap",
      "--quick",
      "--count",
      "3",
      "--json",
      json,
      "--md",
      md,
      "--svg",
      svg,
    );
    expect(code).toBe(0);
    expect(out.filter((l) => l.startsWith("| pipe one-way"))).toHaveLength(3);
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(validateReport(report)).toEqual([]);
    expect(report.results).toHaveLength(6);
    expect(readFileSync(md, "utf8")).toContain("| mmap one-way | 65536 | 0 | 0 | 0 |");
    const s = readFileSync(svg, "utf8");
    expect(s.startsWith("<svg")).toBe(true);
    expect(s.trim().endsWith("</svg>")).toBe(true);
  });

  it("fan-out and skipped combinations; usage errors exit 2", () => {
    const f = run(
      "run",
      "netlink-multicast",
      "--pattern",
      "fan-out",
      "--sizes",
      "64,1K",
      "--count",
      "2",
      "--receivers",
      "3",
    );
    expect(f.code).toBe(0);
    expect(f.out.some((l) => l.startsWith("| netlink-multicast fan-out ×3 | 1024 | 3 | 3 |"))).toBe(true);
    const skip = run("run", "sysfs", "--sizes", "64,8K", "--count", "2");
    expect(skip.out).toContain("(skipped sysfs 8192: sysfs moves at most 4095 bytes at once)");
    expect(run("run", "pigeon").code).toBe(2);
    expect(run("run", "--sizes", "lots").code).toBe(2);
    expect(run("run", "--pattern", "sideways").code).toBe(2);
    expect(run("nonsense").code).toBe(2);
  });
});
