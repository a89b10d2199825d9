// Reports of a benchmark run: a JSON document (with the machine it ran on) that a JSON Schema describes, the same as
// Markdown tables, an SVG plot of cost against message size with one line per mechanism, and the comparison of two
// runs that flags regressions.

import { KernelError } from "@kbridge/uapi";
import { MECHANISMS, type ModelResult, PATTERNS } from "./model.js";
import { compare, type Summary } from "./stats.js";

/** The machine a run was measured on. */
export interface MachineInfo {
  /** The CPU model. */
  readonly cpu: string;
  /** Logical CPUs. */
  readonly cores: number;
  /** The kernel release (`uname -r`), or the runtime's platform where there is none. */
  readonly kernel: string;
  /** The JavaScript runtime and version (`node v20.20.2`). */
  readonly runtime: string;
  /**
   * Whether the machine is a virtual machine and how its idle vCPUs wake (the cpuidle driver, guest halt polling):
   * on a VM a wakeup across vCPUs costs tens of microseconds, which decides every blocking round trip.
   */
  readonly vm?: string;
}

/** A run as JSON: what was measured, where, and the results. */
export interface Report {
  /** The format version (1). */
  readonly version: 1;
  /** The back end: `model` (the simulated kernel) or `host`. */
  readonly backend: "model" | "host";
  /** When the run ended (ISO 8601). */
  readonly date: string;
  /** The machine. */
  readonly machine: MachineInfo;
  /** One entry per scenario run on the model. */
  readonly results: readonly ModelResult[];
  /** One entry per scenario run on the host: nanoseconds per message and where the two sides ran. */
  readonly host?: readonly HostFigure[];
}

/** A host measurement as a report keeps it. */
export interface HostFigure {
  /** The scenario. */
  readonly scenario: {
    readonly mechanism: string;
    readonly pattern: string;
    readonly size: number;
    /** Messages (round trips for ping-pong) per timed sample. */
    readonly count: number;
    /** Timed samples. */
    readonly samples: number;
    /** Receivers, for fan-out. */
    readonly receivers?: number;
  };
  /** Nanoseconds per message, one figure per sample, summarized. */
  readonly ns: Summary;
  /**
   * Where the two sides ran: the CPU each last ran on (null when the host does not show it), and the placement asked
   * for — `same` (both pinned to one CPU), `split` (pinned to two), or null when the scheduler chose.
   */
  readonly placement: {
    readonly self: number | null;
    readonly peer: number | null;
    readonly pinned: "same" | "split" | null;
  };
  /** What the figure includes beyond the mechanism itself (Node's event loop, a child's stream handling). */
  readonly note?: string;
}

// A summary of samples (stats.ts's Summary), as the schema describes it twice: model wall time and host figures.
const SUMMARY = {
  type: "object",
  required: ["n", "min", "max", "mean", "median", "p99", "stddev", "sem", "moe", "rme", "stable"],
  properties: {
    n: { type: "integer", minimum: 1 },
    min: { type: "number", minimum: 0 },
    max: { type: "number", minimum: 0 },
    mean: { type: "number", minimum: 0 },
    median: { type: "number", minimum: 0 },
    p99: { type: "number", minimum: 0 },
    stddev: { type: "number", minimum: 0 },
    sem: { type: "number", minimum: 0 },
    moe: { type: "number", minimum: 0 },
    rme: { type: "number", minimum: 0 },
    stable: { type: "boolean" },
  },
} as const;

// A scenario as a report keeps it (model results may leave `samples` out; host figures always have it).
const scenarioSchema = (required: readonly string[]) => ({
  type: "object",
  required,
  properties: {
    mechanism: { enum: MECHANISMS },
    pattern: { enum: PATTERNS },
    size: { type: "integer", minimum: 1 },
    count: { type: "integer", minimum: 1 },
    samples: { type: "integer", minimum: 1 },
    receivers: { type: "integer", minimum: 1 },
  },
});

/** The JSON Schema (draft 2020-12) of a {@link Report}. */
export const REPORT_SCHEMA = Object.freeze({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  title: "kbridge ipc-bench report",
  type: "object",
  required: ["version", "backend", "date", "machine", "results"],
  properties: {
    version: { enum: [1] },
    backend: { enum: ["model", "host"] },
    date: { type: "string" },
    machine: {
      type: "object",
      required: ["cpu", "cores", "kernel", "runtime"],
      properties: {
        cpu: { type: "string" },
        cores: { type: "integer", minimum: 1 },
        kernel: { type: "string" },
        runtime: { type: "string" },
        vm: { type: "string" },
      },
    },
    host: {
      type: "array",
      items: {
        type: "object",
        required: ["scenario", "ns", "placement"],
        properties: {
          scenario: scenarioSchema(["mechanism", "pattern", "size", "count", "samples"]),
          ns: SUMMARY,
          placement: {
            type: "object",
            required: ["self", "peer", "pinned"],
            properties: {
              self: { type: ["integer", "null"], minimum: 0 },
              peer: { type: ["integer", "null"], minimum: 0 },
              pinned: { enum: ["same", "split", null] },
            },
          },
          note: { type: "string" },
        },
      },
    },
    results: {
      type: "array",
      items: {
        type: "object",
        required: ["scenario", "syscalls", "bytesCopied", "copies", "faults", "wall", "intact"],
        properties: {
          scenario: scenarioSchema(["mechanism", "pattern", "size", "count"]),
          syscalls: { type: "number", minimum: 0 },
          bytesCopied: { type: "number", minimum: 0 },
          copies: { type: "integer", minimum: 0 },
          faults: { type: "number", minimum: 0 },
          wall: SUMMARY,
          intact: { type: "boolean" },
        },
      },
    },
  },
});

type Schema = {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly items?: Schema;
  readonly minimum?: number;
};

// The keywords REPORT_SCHEMA uses (type, enum, required, properties, items, minimum), checked as JSON Schema does.
function check(v: unknown, s: Schema, at: string, out: string[]): void {
  if (s.enum !== undefined && !s.enum.includes(v))
    out.push(`${at}: ${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}`);
  const types = s.type === undefined ? [] : typeof s.type === "string" ? [s.type] : s.type;
  const is = (t: string) =>
    t === "object"
      ? typeof v === "object" && v !== null && !Array.isArray(v)
      : t === "array"
        ? Array.isArray(v)
        : t === "integer"
          ? Number.isInteger(v)
          : t === "null"
            ? v === null
            : typeof v === t;
  if (types.length > 0 && !types.some(is)) {
    const t = types.join(" or ");
    out.push(`${at}: ${JSON.stringify(v)} is not ${/^[aeiou]/.test(t) ? "an" : "a"} ${t}`);
    return;
  }
  if (s.minimum !== undefined && typeof v === "number" && v < s.minimum)
    out.push(`${at}: ${v} is below ${s.minimum}`);
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) out.push(`${at}: ${r} is missing`);
    for (const [k, sub] of Object.entries(s.properties ?? {}))
      if (k in o) check(o[k], sub, `${at}.${k}`, out);
  }
  if (Array.isArray(v) && s.items !== undefined)
    for (const [i, x] of v.entries()) check(x, s.items, `${at}[${i}]`, out);
}

/** Checks `json` against {@link REPORT_SCHEMA}: the list of what is wrong, empty when it is a valid report. */
export function validateReport(json: unknown): string[] {
  const out: string[] = [];
  check(json, REPORT_SCHEMA as Schema, "$", out);
  return out;
}

/**
 * A report of `results` measured on `machine`.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when the result is not a valid report (a bad machine description)
 */
export function makeReport(
  results: readonly ModelResult[],
  machine: MachineInfo,
  backend: "model" | "host" = "model",
  date: Date = new Date(),
  host?: readonly HostFigure[],
): Report {
  const r: Report = {
    version: 1,
    backend,
    date: date.toISOString(),
    machine,
    results,
    ...(host && { host }),
  };
  const errors = validateReport(JSON.parse(JSON.stringify(r)));
  if (errors.length > 0)
    throw new KernelError("EINVAL", `not a valid report: ${errors[0]}`, { op: "makeReport" });
  return r;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 0));
const label = (r: ModelResult) =>
  `${r.scenario.mechanism} ${r.scenario.pattern}${r.scenario.pattern === "fan-out" ? ` ×${r.scenario.receivers ?? 1}` : ""}`;

const UNSTABLE =
  "⚠: the 95% margin of the mean is above 5% (or there is one sample): noisy; take more samples.";
// The 95% margin, flagged when it is too wide to quote; a single sample has none.
const margin = (x: Summary) => (x.n < 2 ? "n/a ⚠" : `${x.rme.toFixed(1)}%${x.stable ? "" : " ⚠"}`);

// What every renderer checks first: that it was given a report.
function checkReport(report: Report, op: string): void {
  if (
    report === null ||
    typeof report !== "object" ||
    (report.backend !== "model" && report.backend !== "host") ||
    !Array.isArray(report.results)
  )
    throw new KernelError("EINVAL", `${String(report)} is not a kbridge-bench report`, { op });
}

const place = (p: HostFigure["placement"]) =>
  `${p.self === null ? "?" : p.peer === null ? `cpu ${p.self}` : `cpu ${p.self} ↔ cpu ${p.peer}`}${p.pinned === null ? "" : ` (pinned, ${p.pinned})`}`;
const hostLabel = (h: HostFigure) =>
  `${h.scenario.mechanism} ${h.scenario.pattern}${h.scenario.pattern === "fan-out" ? ` ×${h.scenario.receivers ?? 1}` : ""}${h.placement.pinned === null ? "" : ` ${h.placement.pinned}`}`;
// Durations in the unit that reads best.
const ns = (v: number) =>
  v >= 1e6
    ? `${(v / 1e6).toFixed(2)} ms`
    : v >= 1e3
      ? `${(v / 1e3).toFixed(v >= 1e5 ? 0 : 1)} µs`
      : `${v.toFixed(0)} ns`;

/**
 * The report as Markdown: the machine, then one table row per scenario — on the model the counted costs and the wall
 * time (median and the 95% margin), on the host min/median/p99/max per message with the margin and where it ran.
 */
export function toMarkdown(report: Report): string {
  checkReport(report, "toMarkdown");
  const m = report.machine;
  const head = `Measured on the ${report.backend} back end, ${m.cpu}, ${m.cores} cores, ${m.kernel}${m.vm === undefined ? "" : ` (${m.vm})`}, ${m.runtime}; ${report.date}.`;
  if (report.backend === "host") {
    const figures = report.host ?? [];
    const notes = [...new Set(figures.flatMap((h) => (h.note === undefined ? [] : [h.note])))];
    return `${[
      head,
      "",
      "| scenario | size (B) | min | median | p99 | max | ± (95%) | samples × messages | placement |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---|",
      ...figures.map(
        (h) =>
          `| ${hostLabel(h)} | ${h.scenario.size} | ${ns(h.ns.min)} | **${ns(h.ns.median)}** | ${ns(h.ns.p99)} | ${ns(h.ns.max)} | ${margin(h.ns)} | ${h.ns.n} × ${h.scenario.count} | ${place(h.placement)} |`,
      ),
      "",
      "Each sample is the mean time per message over a batch of messages; min, median, p99 and max are over the samples.",
      ...(notes.length > 0 ? ["", ...notes.map((n) => `- ${n}`)] : []),
      ...(figures.some((h) => !h.ns.stable) ? ["", UNSTABLE] : []),
    ].join("\n")}\n`;
  }
  const lines = [
    head,
    "",
    "| scenario | size (B) | syscalls | copies | bytes copied | faults | model time | ± (95%) | intact |",
    "|---|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ...report.results.map(
      (r) =>
        `| ${label(r)} | ${r.scenario.size} | ${fmt(r.syscalls)} | ${r.copies} | ${fmt(r.bytesCopied)} | ${fmt(r.faults)} | ${ns(r.wall.median)} | ${margin(r.wall)} | ${r.intact ? "yes" : "**no**"} |`,
    ),
    "",
    "Bytes copied count everything copy_to_user/copy_from_user moved: the data, and the addresses, headers and words",
    "that go with it; copies is that over the message size, so at small sizes the metadata shows.",
    ...(report.results.some((r) => !r.wall.stable) ? ["", UNSTABLE] : []),
  ];
  return `${lines.join("\n")}\n`;
}

const COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
  "#000000",
];
// One dash pattern per variant of a mechanism (pattern, placement): solid, dashed, dotted, dash-dot.
const DASHES = ["", "7 4", "2 3", "9 3 2 3"];
const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** What {@link toSvg} plots against message size. */
export type SvgMetric = "latency" | "throughput" | "bytesCopied" | "syscalls";

/**
 * An SVG plot of `metric` against message size, both on log scales, one line per mechanism and pattern (and
 * placement, on the host), with axes, ticks and a legend: `latency` (median time per message: the model's own time,
 * or the host's), `throughput` (message bytes per second at that median), or, on the model, the counted
 * `bytesCopied` and `syscalls` per message.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for an unknown metric, or a report without positive values to plot
 */
export function toSvg(report: Report, metric: SvgMetric = "latency"): string {
  checkReport(report, "toSvg");
  if (!["latency", "throughput", "bytesCopied", "syscalls"].includes(metric))
    throw new KernelError(
      "EINVAL",
      `metric ${String(metric)} is not latency, throughput, bytesCopied or syscalls`,
      {
        op: "toSvg",
      },
    );
  const series = new Map<string, [number, number][]>();
  const add = (key: string, x: number, y: number) => {
    if (!(y > 0)) return;
    const pts = series.get(key) ?? [];
    pts.push([x, y]);
    series.set(key, pts);
  };
  // Throughput counts the bytes delivered: a fan-out delivers the message to every receiver.
  const fromTime = (size: number, t: number, receivers = 1) =>
    metric === "throughput" ? ((size * receivers) / t) * 1e9 : t;
  const fan = (sc: { pattern: string; receivers?: number }) =>
    sc.pattern === "fan-out" ? (sc.receivers ?? 1) : 1;
  if (report.backend === "host") {
    if (metric === "bytesCopied" || metric === "syscalls")
      throw new KernelError("EINVAL", `the host back end does not count ${metric}`, { op: "toSvg" });
    for (const h of report.host ?? [])
      add(hostLabel(h), h.scenario.size, fromTime(h.scenario.size, h.ns.median, fan(h.scenario)));
  } else
    for (const r of report.results)
      add(
        label(r),
        r.scenario.size,
        metric === "latency" || metric === "throughput"
          ? fromTime(r.scenario.size, r.wall.median, fan(r.scenario))
          : r[metric],
      );
  if (series.size === 0) throw new KernelError("EINVAL", `no positive ${metric} to plot`, { op: "toSvg" });
  const all = [...series.values()].flat();
  const lx = (v: number) => Math.log10(v);
  const [x0, x1] = [Math.min(...all.map((p) => lx(p[0]))), Math.max(...all.map((p) => lx(p[0])))];
  const [y0, y1] = [
    Math.floor(Math.min(...all.map((p) => lx(p[1])))),
    Math.ceil(Math.max(...all.map((p) => lx(p[1])))),
  ];
  const W = 780;
  const H = Math.max(420, 30 + 20 + series.size * 18 + 50);
  const L = 70;
  const R = 250;
  const T = 30;
  const B = 50;
  const sx = (v: number) => L + ((lx(v) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const sy = (v: number) => H - B - ((lx(v) - y0) / (y1 - y0 || 1)) * (H - T - B);
  const where = report.backend === "host" ? "host" : "model";
  const unit =
    metric === "latency"
      ? `ns per message (${where}, median)`
      : metric === "throughput"
        ? `bytes delivered per second (${where}, at the median)`
        : metric === "bytesCopied"
          ? "bytes copied per message"
          : "system calls per message";
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">message size (bytes, log scale)</text>`,
    `<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(unit)}</text>`,
  ];
  for (let e = y0; e <= y1; e++) {
    const y = sy(10 ** e);
    parts.push(`<line x1="${L - 4}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 8}" y="${y + 4}" text-anchor="end">1e${e}</text>`);
  }
  for (const size of [...new Set(all.map((p) => p[0]))].sort((a, b) => a - b)) {
    const x = sx(size);
    parts.push(`<line x1="${x}" y1="${H - B}" x2="${x}" y2="${H - B + 4}" stroke="black"/>`);
    parts.push(
      `<text x="${x}" y="${H - B + 18}" text-anchor="middle">${size >= 1 << 20 ? `${size >> 20}M` : size >= 1024 ? `${size >> 10}K` : size}</text>`,
    );
  }
  // A colour per mechanism (the label's first word), a dash pattern per variant of it (the rest of the label).
  const mechanisms: string[] = [];
  const variants: string[] = [];
  const slot = (list: string[], v: string) => {
    if (!list.includes(v)) list.push(v);
    return list.indexOf(v);
  };
  [...series.entries()].forEach(([name, pts], i) => {
    const space = name.indexOf(" ");
    const c = COLORS[slot(mechanisms, space < 0 ? name : name.slice(0, space)) % COLORS.length];
    const d = DASHES[slot(variants, space < 0 ? "" : name.slice(space + 1)) % DASHES.length];
    const dash = d === "" ? "" : ` stroke-dasharray="${d}"`;
    const sorted = pts.sort((a, b) => a[0] - b[0]);
    parts.push(
      `<polyline fill="none" stroke="${c}" stroke-width="2"${dash} points="${sorted.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")}"/>`,
    );
    for (const [x, y] of sorted)
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${c}"/>`);
    const ly = T + 10 + i * 18;
    parts.push(
      `<line x1="${W - R + 14}" y1="${ly}" x2="${W - R + 40}" y2="${ly}" stroke="${c}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${W - R + 46}" y="${ly + 4}">${esc(name)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** One scenario's change between two runs. */
export interface Change {
  /** The scenario (mechanism, pattern, size; placement on the host). */
  readonly scenario: string;
  /** The new median time over the old (above 1: slower). */
  readonly ratio: number;
  /** The 95% intervals of the two runs' means are apart. */
  readonly significant: boolean;
  /** Slower by more than the threshold, and significantly so. */
  readonly regression: boolean;
  /** Faster by more than the threshold, and significantly so. */
  readonly improvement: boolean;
  /** The counted costs (system calls, bytes copied) changed: a change of behaviour, not of speed (model only). */
  readonly behaviour: boolean;
}

/**
 * Compares two runs of the same back end scenario by scenario (matched by mechanism, pattern, size and receivers, or
 * placement on the host): the median ratio, whether the confidence intervals are apart, a regression or improvement
 * beyond `threshold` (0.25 = 25% by default) that is also significant, and — on the model — whether the counted costs
 * changed at all, which is a change of behaviour whatever the timing says. Scenarios in only one run are left out.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a bad threshold or reports of different back ends
 */
export function compareReports(before: Report, after: Report, threshold = 0.25): Change[] {
  if (typeof threshold !== "number" || !(threshold >= 0))
    throw new KernelError("EINVAL", `threshold ${String(threshold)} is not a fraction ≥ 0`, {
      op: "compareReports",
    });
  checkReport(before, "compareReports");
  checkReport(after, "compareReports");
  if (before.backend !== after.backend)
    throw new KernelError(
      "EINVAL",
      `a ${String(before?.backend)} run cannot be compared with a ${String(after?.backend)} run`,
      { op: "compareReports" },
    );
  const out: Change[] = [];
  const push = (scenario: string, b: Summary, a: Summary, behaviour: boolean) => {
    if (!(b.median > 0)) return;
    const c = compare(b, a, threshold);
    out.push({
      scenario,
      ratio: c.ratio,
      significant: c.significant,
      regression: c.regression,
      improvement: c.improvement,
      behaviour,
    });
  };
  if (before.backend === "host") {
    const key = (h: HostFigure) => `${hostLabel(h)} ${h.scenario.size}`;
    const old = new Map((before.host ?? []).map((h) => [key(h), h]));
    for (const h of after.host ?? []) {
      const b = old.get(key(h));
      if (b !== undefined) push(key(h), b.ns, h.ns, false);
    }
    return out;
  }
  const key = (r: ModelResult) => `${label(r)} ${r.scenario.size}`;
  const old = new Map(before.results.map((r) => [key(r), r]));
  for (const r of after.results) {
    const b = old.get(key(r));
    if (b !== undefined)
      push(
        key(r),
        b.wall,
        r.wall,
        b.syscalls !== r.syscalls || b.bytesCopied !== r.bytesCopied || b.copies !== r.copies,
      );
  }
  return out;
}
