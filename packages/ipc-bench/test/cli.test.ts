// The kbridge-bench command line, run in-process: list, a quick run writing JSON/MD/SVG, and usage errors.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { validateReport } from "../src/index.js";

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    (l) => out.push(l),
    (l) => err.push(l),
  );
  return { code, out, err };
}

describe("kbridge-bench", () => {
  it("list: every mechanism with the patterns the model runs", async () => {
    const { code, out } = await run("list");
    expect(code).toBe(0);
    expect(out).toContain("netlink-multicast  fan-out");
    expect(out.find((l) => l.startsWith("pipe"))).toBe("pipe               one-way, ping-pong");
  });

  it("run --quick writes a valid JSON report, the Markdown table and a well-formed SVG", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kbridge-bench-"));
    const json = join(dir, "out.json");
    const md = join(dir, "out.md");
    const svg = join(dir, "out.svg");
    const { code, out } = await run(
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

  it("fan-out and skipped combinations; usage errors exit 2", async () => {
    const f = await run(
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
    const skip = await run("run", "sysfs", "--sizes", "64,8K", "--count", "2");
    expect(skip.out).toContain("(skipped sysfs 8192: sysfs moves at most 4095 bytes at once)");
    expect((await run("run", "pigeon")).code).toBe(2);
    expect((await run("run", "--sizes", "lots")).code).toBe(2);
    expect((await run("run", "--pattern", "sideways")).code).toBe(2);
    expect((await run("nonsense")).code).toBe(2);
  });

  it("--backend host: the real mechanisms, a valid report with placement", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kbridge-bench-"));
    const json = join(dir, "host.json");
    const r = await run(
      "run",
      "pipe",
      "shm-futex",
      "mmap",
      "--backend",
      "host",
      "--sizes",
      "64",
      "--count",
      "10",
      "--json",
      json,
    );
    expect(r.code).toBe(0);
    expect(r.out.some((l) => l.startsWith("| pipe ping-pong | 64 |"))).toBe(true);
    expect(r.out.some((l) => l.startsWith("(skipped mmap 64: the host back end runs"))).toBe(true);
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(validateReport(report)).toEqual([]);
    expect(report.backend).toBe("host");
    expect(report.host).toHaveLength(2);
  });

  it("article: the §5.3 claim on the model and this host", async () => {
    const r = await run("article", "--transfers", "3");
    expect(r.code).toBe(0);
    const text = r.out.join("\n");
    expect(text).toContain('copy_to_user 12.3 ms each, mmap+DMA 0.8 ms, "15× faster"');
    expect(text).toContain("read() makes 1 system call and copies 4 MiB (copy_to_user);");
    expect(text).toContain("mmap makes 0 system calls and copies 0 bytes");
    expect(text).toContain(
      "the article's copy is 0.34 GB/s; a real copy_to_user of 4 MiB took 0.325 ms (12.91 GB/s)",
    );
    expect(text).toMatch(/measured now from Node: [\d.]+ ms \([\d.]+ GB\/s\) per 4 MiB pread/);
    expect((await run("article", "--transfers", "0")).code).toBe(2);
  });
});
