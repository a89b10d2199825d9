// examples/ipc-compare: the article's comparison table, computed on the model.
import { compareLines } from "@kbridge/example-ipc-compare";
import type { Stop } from "../tour.js";

/** The ipc-compare example stop. */
export const ipcCompareStop: Stop = {
  title: "examples/ipc-compare — the article's comparison table, computed",
  lines: compareLines,
};
