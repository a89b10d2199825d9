/**
 * The benchmark kit for kernel↔user communication: scenarios (mechanism × pattern × size) run on the simulated kernel,
 * where every system call, copy and fault is counted, with statistics done right (warm-up, samples, quantiles,
 * confidence intervals), reports (JSON with a schema, Markdown, SVG) and the comparison of two runs. The host back end
 * (real pipes, FIFOs, sockets, shared memory on this machine) is Node-only and reached through the `kbridge-bench`
 * command line.
 *
 * @packageDocumentation
 */

export { ARTICLE_53, article53Lines, article53Model } from "./article.js";
export {
  MECHANISMS,
  type Mechanism,
  type ModelResult,
  type ModelRig,
  openModel,
  PATTERNS,
  type Pattern,
  runModel,
  type Scenario,
  supported,
} from "./model.js";
export {
  type Change,
  compareReports,
  type HostFigure,
  type MachineInfo,
  makeReport,
  REPORT_SCHEMA,
  type Report,
  type SvgMetric,
  toMarkdown,
  toSvg,
  validateReport,
} from "./report.js";
export { type Comparison, compare, quantile, type Summary, summarize, tCritical95 } from "./stats.js";
