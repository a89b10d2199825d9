// Reports: valid against their schema (and invalid ones rejected with the reason), Markdown rows, well-formed SVG,
// and the comparison of two runs.
import { Ajv2020 } from "ajv/dist/2020.js";
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import {
  compareReports,
  type HostFigure,
  type ModelResult,
  makeReport,
  REPORT_SCHEMA,
  type Report,
  runModel,
  summarize,
  toMarkdown,
  toSvg,
  validateReport,
} from "../src/index.js";

const machine = { cpu: "AMD EPYC", cores: 2, kernel: "6.18.44", runtime: "node v20.20.2" };
const results: ModelResult[] = [64, 4096, 65536].flatMap((size) =>
  (["pipe", "read", "mmap"] as const).map((mechanism) =>
    runModel({ mechanism, pattern: "one-way", size, count: 2, samples: 3 }),
  ),
);

// A host figure as the CLI records it (the numbers are made up: the tests assert shape, never timing).
const figure = (
  mechanism: string,
  size: number,
  median: number,
  pinned: HostFigure["placement"]["pinned"] = null,
) =>
  ({
    scenario: { mechanism, pattern: "ping-pong", size, count: 100, samples: 5 },
    ns: {
      n: 5,
      min: median * 0.9,
      max: median * 1.1,
      mean: median,
      median,
      p99: median * 1.1,
      stddev: median * 0.05,
      sem: median * 0.02,
      moe: median * 0.06,
      rme: 6,
      stable: false,
    },
    placement: { self: 0, peer: pinned === "split" ? 1 : 0, pinned },
    note: "made up",
  }) satisfies HostFigure;
const hostFigures = [64, 4096, 65536].flatMap((size) => [
  figure("pipe", size, 20_000 + size),
  figure("pipe", size, 60_000 + size, "split"),
  figure("shm-futex", size, 10_000),
]);

// A real JSON Schema validator (Ajv, draft 2020-12) on REPORT_SCHEMA: the schema is a schema, not only our checker's.
const ajv = new Ajv2020({ strict: true, allErrors: true });
const validate = ajv.compile(REPORT_SCHEMA as object);

describe("reports", () => {
  it("a run makes a report that validates against REPORT_SCHEMA", () => {
    const r = makeReport(results, machine, "model", new Date(0));
    expect(r.date).toBe("1970-01-01T00:00:00.000Z");
    const json = JSON.parse(JSON.stringify(r));
    expect(validateReport(json)).toEqual([]);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    const host = JSON.parse(JSON.stringify(makeReport([], machine, "host", new Date(0), hostFigures)));
    expect(validateReport(host)).toEqual([]);
    expect(validate(host), JSON.stringify(validate.errors)).toBe(true);
    expect(REPORT_SCHEMA.required).toContain("machine");
  });

  it("Ajv and the built-in checker reject the same broken reports", () => {
    const good = JSON.parse(JSON.stringify(makeReport(results, machine)));
    const host = JSON.parse(JSON.stringify(makeReport([], machine, "host", new Date(0), hostFigures)));
    const broken = [
      (r: typeof good) => delete r.results[0].wall.median,
      (r: typeof good) => (r.results[0].wall.n = 0),
      (r: typeof good) => (r.results[1].copies = 1.5),
      (r: typeof good) => (r.backend = "cloud"),
      (r: typeof good) => (r.machine = "a laptop"),
      (r: typeof good) => (r.results[2].scenario.mechanism = "carrier-pigeon"),
    ];
    for (const [i, f] of broken.entries()) {
      const r = structuredClone(good);
      f(r);
      expect(validateReport(r).length, `model case ${i}`).toBeGreaterThan(0);
      expect(validate(r), `model case ${i}`).toBe(false);
    }
    const brokenHost = [
      (r: typeof host) => (r.host[0].placement.pinned = "sideways"),
      (r: typeof host) => (r.host[0].placement.self = "cpu0"),
      (r: typeof host) => delete r.host[1].scenario.samples,
    ];
    for (const [i, f] of brokenHost.entries()) {
      const r = structuredClone(host);
      f(r);
      expect(validateReport(r).length, `host case ${i}`).toBeGreaterThan(0);
      expect(validate(r), `host case ${i}`).toBe(false);
    }
  });

  it("invalid reports are rejected with what is wrong", () => {
    const r = JSON.parse(JSON.stringify(makeReport(results, machine)));
    r.machine.cores = 0;
    r.results[0].scenario.pattern = "carrier-pigeon";
    delete r.results[1].intact;
    r.results[2].wall.stable = "yes";
    expect(validateReport(r)).toEqual([
      "$.machine.cores: 0 is below 1",
      '$.results[0].scenario.pattern: "carrier-pigeon" is not one of ["one-way","ping-pong","fan-out"]',
      "$.results[1]: intact is missing",
      '$.results[2].wall.stable: "yes" is not a boolean',
    ]);
    expect(() => makeReport(results, { ...machine, cores: 1.5 })).toThrow(/cores: 1.5 is not an integer/);
  });

  it("Markdown has the machine and one row per scenario", () => {
    const md = toMarkdown(makeReport(results, machine));
    expect(md).toContain("AMD EPYC, 2 cores, 6.18.44, node v20.20.2");
    expect(md).toMatch(
      /\| pipe one-way \| 4096 \| 2 \| 2 \| 8192 \| [\d.]+ \| [\d.]+ (ns|µs|ms) \| [\d.]+%( ⚠)? \| yes \|/,
    );
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| scenario"));
    expect(rows).toHaveLength(results.length);
    expect(md).toContain("copies is that over the message size, so at small sizes the metadata shows");
    // One sample has no interval: flagged, never "±0%".
    const one = makeReport([{ ...results[0]!, wall: summarize([1000]) }], machine);
    expect(toMarkdown(one)).toContain("| n/a ⚠ |");
    expect(() => toMarkdown(null as unknown as Report)).toThrow(/EINVAL.*is not a kbridge-bench report/);
    expect(() => toSvg({ backend: "cloud" } as unknown as Report)).toThrow(/is not a kbridge-bench report/);
  });

  it("the SVG is well-formed XML: one line per mechanism, every point", () => {
    const svg = toSvg(makeReport(results, machine), "bytesCopied");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // mmap copies nothing, so only pipe and read are plotted for bytes copied.
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(6);
    expect(svg).toContain("pipe one-way");
    expect(svg).toContain("bytes copied per message");
    expect(() => toSvg(makeReport([results[2]!], machine), "bytesCopied")).toThrow(/no positive bytesCopied/);
    // Latency (the default) and throughput plot every mechanism, mmap included.
    for (const metric of ["latency", "throughput"] as const) {
      const plot = toSvg(makeReport(results, machine), metric);
      expect(XMLValidator.validate(plot), metric).toBe(true);
      expect(plot.match(/<polyline/g), metric).toHaveLength(3);
    }
    expect(() => toSvg(makeReport(results, machine), "joy" as "latency")).toThrow(/metric joy/);
  });

  it("host reports plot latency and throughput, one line per mechanism and placement", () => {
    const report = makeReport([], machine, "host", new Date(0), hostFigures);
    const svg = toSvg(report);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).toContain("pipe ping-pong split");
    expect(svg).toContain("ns per message (host, median)");
    const tp = toSvg(report, "throughput");
    expect(XMLValidator.validate(tp)).toBe(true);
    expect(tp).toContain("bytes delivered per second (host, at the median)");
    expect(() => toSvg(report, "syscalls")).toThrow(/does not count syscalls/);
    const md = toMarkdown(report);
    expect(md).toContain(
      "| pipe ping-pong split | 4096 | 57.7 µs | **64.1 µs** | 70.5 µs | 70.5 µs | 6.0% ⚠ | 5 × 100 | cpu 0 ↔ cpu 1 (pinned, split) |",
    );
    expect(md).toContain("- made up");
  });

  it("comparing runs flags a significant slowdown and a change of behaviour", () => {
    const before = makeReport(results, machine);
    // Twice as slow, with tight intervals: significant. The counted costs of pipe change: behaviour.
    const tight = (r: ModelResult, f: number) => ({
      ...r,
      wall: { ...r.wall, median: r.wall.median * f, mean: r.wall.median * f, moe: r.wall.median * 0.01 },
    });
    const base = makeReport(
      results.map((r) => tight(r, 1)),
      machine,
    );
    const changed = results.map((r) =>
      r.scenario.mechanism === "read"
        ? tight(r, 2)
        : r.scenario.mechanism === "pipe"
          ? { ...tight(r, 1), syscalls: r.syscalls + 1 }
          : tight(r, 1),
    );
    const diff = compareReports(base, makeReport(changed, machine));
    expect(diff).toHaveLength(9);
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
    // Twice as slow but inside wide intervals: not significant, not a regression.
    const wide = results.map((r) => ({
      ...r,
      wall: { ...r.wall, median: r.wall.median * 2, mean: r.wall.median * 2, moe: r.wall.median * 5 },
    }));
    expect(compareReports(before, makeReport(wide, machine)).some((d) => d.regression)).toBe(false);
    // Host runs compare by placement too; a model run is not comparable with a host run.
    const host = makeReport([], machine, "host", new Date(0), hostFigures);
    const slowerSplit = hostFigures.map((h) =>
      h.placement.pinned === "split"
        ? { ...h, ns: { ...h.ns, median: h.ns.median * 3, mean: h.ns.mean * 3 } }
        : h,
    );
    const hd = compareReports(host, makeReport([], machine, "host", new Date(0), slowerSplit));
    expect(hd.filter((d) => d.regression).map((d) => d.scenario)).toEqual([
      "pipe ping-pong split 64",
      "pipe ping-pong split 4096",
      "pipe ping-pong split 65536",
    ]);
    expect(() => compareReports(before, host)).toThrow(/model run cannot be compared with a host run/);
    expect(() => compareReports(before, before, -1)).toThrow(/threshold -1/);
  });
});
