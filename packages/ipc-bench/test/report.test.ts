// Reports: valid against their schema (and invalid ones rejected with the reason), Markdown rows, well-formed SVG,
// and the comparison of two runs.
import { describe, expect, it } from "vitest";
import {
  compareReports,
  type ModelResult,
  makeReport,
  REPORT_SCHEMA,
  runModel,
  toMarkdown,
  toSvg,
  validateReport,
} from "../src/index.js";

const machine = { cpu: "AMD EPYC", cores: 2, kernel: "6.18.44", runtime: "node v20.20.2" };
const results: ModelResult[] = [64, 4096, 65536].flatMap((size) =>
  (["pipe", "read", "mmap"] as const).map((mechanism) =>
    runModel({ mechanism, pattern: "one-way", size, count: 2 }),
  ),
);

describe("reports", () => {
  it("a run makes a report that validates against REPORT_SCHEMA", () => {
    const r = makeReport(results, machine, "model", new Date(0));
    expect(r.date).toBe("1970-01-01T00:00:00.000Z");
    expect(validateReport(JSON.parse(JSON.stringify(r)))).toEqual([]);
    expect(REPORT_SCHEMA.required).toContain("machine");
  });

  it("invalid reports are rejected with what is wrong", () => {
    const r = JSON.parse(JSON.stringify(makeReport(results, machine)));
    r.machine.cores = 0;
    r.results[0].scenario.pattern = "carrier-pigeon";
    delete r.results[1].intact;
    expect(validateReport(r)).toEqual([
      "$.machine.cores: 0 is below 1",
      '$.results[0].scenario.pattern: "carrier-pigeon" is not one of ["one-way","ping-pong","fan-out"]',
      "$.results[1]: intact is missing",
    ]);
    expect(() => makeReport(results, { ...machine, cores: 1.5 })).toThrow(/cores: 1.5 is not an integer/);
  });

  it("Markdown has the machine and one row per scenario", () => {
    const md = toMarkdown(makeReport(results, machine));
    expect(md).toContain("AMD EPYC, 2 cores, 6.18.44, node v20.20.2");
    expect(md).toMatch(/\| pipe one-way \| 4096 \| 2 \| 2 \| 8192 \| [\d.]+ \| \d+ \| yes \|/);
    expect(md.trim().split("\n")).toHaveLength(4 + results.length);
  });

  it("the SVG is well-formed: one line per mechanism, every point, balanced tags", () => {
    const svg = toSvg(makeReport(results, machine), "bytesCopied");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    // mmap copies nothing, so only pipe and read are plotted for bytes copied.
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(6);
    const open = (svg.match(/<(svg|text)\b/g) ?? []).length;
    const close = (svg.match(/<\/(svg|text)>/g) ?? []).length;
    expect(open).toBe(close);
    expect(svg).toContain("pipe one-way");
    expect(() => toSvg(makeReport([results[2]!], machine), "bytesCopied")).toThrow(/no positive bytesCopied/);
  });

  it("comparing runs flags a slowdown and a change of behaviour", () => {
    const before = makeReport(results, machine);
    const slower = results.map((r) => (r.scenario.mechanism === "read" ? { ...r, wallNs: r.wallNs * 2 } : r));
    const changed = slower.map((r) =>
      r.scenario.mechanism === "pipe" ? { ...r, syscalls: r.syscalls + 1 } : r,
    );
    const diff = compareReports(before, makeReport(changed, machine));
    expect(diff.filter((d) => d.regression).map((d) => d.scenario)).toEqual([
      "read one-way 64",
      "read one-way 4096",
      "read one-way 65536",
    ]);
    expect(diff.filter((d) => d.behaviour).map((d) => d.scenario)).toEqual([
      "pipe one-way 64",
      "pipe one-way 4096",
      "pipe one-way 65536",
    ]);
  });
});
