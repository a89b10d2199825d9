// The kbridge-bench command line, run in-process: list, a quick run writing JSON/MD/SVG, and usage errors.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
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

// Every report of this file goes under one temporary directory, removed at the end.
const top = mkdtempSync(join(tmpdir(), "kbridge-bench-test-"));
let dirs = 0;
const scratch = () => {
  const d = join(top, String(dirs++));
  mkdirSync(d);
  return d;
};
afterAll(() => rmSync(top, { recursive: true, force: true }));

describe("kbridge-bench", () => {
  it("list: every mechanism with the patterns each back end runs, and why the host cannot", async () => {
    const { code, out } = await run("list");
    expect(code).toBe(0);
    expect(out).toHaveLength(1 + 11);
    expect(out.find((l) => l.startsWith("pipe"))).toBe(
      "pipe               one-way, ping-pong, fan-out  ping-pong, one-way, fan-out",
    );
    expect(out.find((l) => l.startsWith("netlink-multicast"))).toMatch(
      /^netlink-multicast {2}fan-out +— Node cannot/,
    );
    expect(out.find((l) => l.startsWith("mmap"))).toMatch(/— Node cannot mmap/);
  });

  it("run --quick writes a valid JSON report, the Markdown table and a well-formed SVG", async () => {
    const dir = scratch();
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
    // Every pattern the model runs for the mechanism, at the 3 quick sizes.
    expect(out.filter((l) => l.startsWith("| pipe one-way"))).toHaveLength(3);
    expect(out.filter((l) => l.startsWith("| pipe ping-pong"))).toHaveLength(3);
    const report = JSON.parse(readFileSync(json, "utf8"));
    expect(validateReport(report)).toEqual([]);
    expect(report.results).toHaveLength(3 * (3 + 2));
    expect(report.results[0].wall.n).toBe(5);
    expect(readFileSync(md, "utf8")).toContain("| mmap one-way | 65536 | 0 | 0 | 0 |");
    const s = readFileSync(svg, "utf8");
    expect(XMLValidator.validate(s)).toBe(true);
    expect(s.match(/<polyline/g)).toHaveLength(5);
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
    expect(skip.out).toContain("(skipped sysfs one-way 8192: sysfs moves at most 4095 bytes at once)");
    expect((await run("run", "pigeon")).code).toBe(2);
    expect((await run("run", "--sizes", "lots")).code).toBe(2);
    expect((await run("run", "--pattern", "sideways")).code).toBe(2);
    expect((await run("nonsense")).code).toBe(2);
    expect((await run("run", "--count", "0")).code).toBe(2);
    expect((await run("run", "--samples", "1.5")).code).toBe(2);
    const pin = await run("run", "pipe", "--pin", "same");
    expect(pin.code).toBe(2);
    expect(pin.err[0]).toMatch(/the model has no CPUs/);
    expect((await run("run", "--backend", "host", "--pin", "diagonal")).code).toBe(2);
    expect((await run("run", "--backend", "host", "--metric", "syscalls")).code).toBe(2);
    // Out-of-range options are usage errors before anything runs, said once.
    for (const bad of [
      ["--receivers", "300"],
      ["--count", "2000000"],
      ["--samples", "5000"],
      ["--sizes", "0"],
      ["--sizes", "8M"],
      ["--backend", "host", "--receivers", "40"],
    ]) {
      const r = await run("run", "pipe", ...bad);
      expect(r.code, bad.join(" ")).toBe(2);
      expect(r.err, bad.join(" ")).toHaveLength(1);
      expect(r.out, bad.join(" ")).toEqual([]);
    }
    const unknown = await run("run", "--bogus");
    expect(unknown.err).toEqual(["error: unknown option '--bogus'"]);
    expect((await run("help", "run")).code).toBe(0);
    // A report that cannot be written is a failure of the run (1), said in a line, not a stack trace.
    const unwritable = await run(
      "run",
      "mmap",
      "--sizes",
      "64",
      "--count",
      "1",
      "--json",
      "/nonexistent/dir/x.json",
    );
    expect(unwritable.code).toBe(1);
    expect(unwritable.err[0]).toMatch(
      /kbridge-bench: EIO: run: \/nonexistent\/dir\/x.json could not be written/,
    );
  });

  it("compare: two runs of the same back end, exit 1 on a regression or changed counted costs", async () => {
    const dir = scratch();
    const a = join(dir, "a.json");
    const b = join(dir, "b.json");
    expect(
      (
        await run(
          "run",
          "read",
          "mmap",
          "--pattern",
          "one-way",
          "--sizes",
          "64,4K",
          "--count",
          "5",
          "--json",
          a,
        )
      ).code,
    ).toBe(0);
    const same = await run("compare", a, a);
    expect(same.code).toBe(0);
    expect(same.out).toContain("| read one-way 64 | 1.00× | no | same |");
    expect(same.out.at(-1)).toBe("4 scenarios compared; no regression");
    // The same run where read() made one more system call per message: a change of behaviour.
    const report = JSON.parse(readFileSync(a, "utf8"));
    report.results[0].syscalls += 1;
    writeFileSync(b, JSON.stringify(report));
    const changed = await run("compare", a, b);
    expect(changed.code).toBe(1);
    expect(changed.out).toContain("| read one-way 64 | 1.00× | no | same, **counted costs changed** |");
    expect(changed.out.at(-1)).toBe("4 scenarios compared; 1 regressed or changed behaviour");
    // Not a report, a missing file, a bad threshold: usage errors.
    writeFileSync(b, JSON.stringify({ version: 1 }));
    const bad = await run("compare", a, b);
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/is not a kbridge-bench report: \$: backend is missing/);
    expect((await run("compare", a, join(dir, "nope.json"))).code).toBe(2);
    expect((await run("compare", a, a, "--threshold", "-1")).code).toBe(2);
  });

  it("run --quick: every scenario on both back ends (tiny counts), valid reports and plots", {
    timeout: 120_000,
  }, async () => {
    const dir = scratch();
    const model = await run(
      "run",
      "--quick",
      "--count",
      "2",
      "--samples",
      "1",
      "--json",
      join(dir, "m.json"),
    );
    expect(model.code).toBe(0);
    const m = JSON.parse(readFileSync(join(dir, "m.json"), "utf8"));
    expect(validateReport(m)).toEqual([]);
    // 27 mechanism × pattern pairs at 3 sizes, less ioctl at 64 KiB and sysfs above 4095 bytes (each one-way and
    // fan-out).
    expect(m.results).toHaveLength(27 * 3 - 6);
    expect(m.results.every((r: { intact: boolean }) => r.intact)).toBe(true);

    const host = await run(
      "run",
      "--backend",
      "host",
      "--quick",
      "--count",
      "3",
      "--samples",
      "2",
      "--json",
      join(dir, "h.json"),
      "--svg",
      join(dir, "h.svg"),
      "--metric",
      "throughput",
    );
    expect(host.code).toBe(0);
    expect(host.out.some((l) => l.startsWith("| pipe ping-pong | 64 |"))).toBe(true);
    expect(host.out.some((l) => l.startsWith("(skipped mmap one-way 64: Node cannot mmap"))).toBe(true);
    const h = JSON.parse(readFileSync(join(dir, "h.json"), "utf8"));
    expect(validateReport(h)).toEqual([]);
    expect(h.backend).toBe("host");
    // pipe, fifo, unix-stream: 3 patterns × 3 sizes; shm-futex: 2 patterns × 3 sizes; read: 3 sizes; sysfs: 64 B.
    expect(h.host).toHaveLength(3 * 9 + 6 + 3 + 1);
    expect(host.out.some((l) => l.startsWith("| fifo fan-out ×4 | 4096 |"))).toBe(true);
    for (const f of h.host) expect(f.placement.pinned).toBeNull();
    expect(XMLValidator.validate(readFileSync(join(dir, "h.svg"), "utf8"))).toBe(true);
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
