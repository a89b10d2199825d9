/**
 * The benchmark kit for kernel↔user communication: statistics of samples (quantiles, confidence intervals,
 * comparison of runs), with scenarios on the simulated kernel and on the host to come.
 *
 * @packageDocumentation
 */

export { ARTICLE_53, article53Lines, article53Model } from "./article.js";
export {
  MECHANISMS,
  type Mechanism,
  type ModelResult,
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
  toMarkdown,
  toSvg,
  validateReport,
} from "./report.js";
export { type Comparison, compare, quantile, type Summary, summarize, tCritical95 } from "./stats.js";
