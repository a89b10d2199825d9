// The tour: each package of kbridge contributes one stop, a few printed lines computed live by the package.
import { chrdevStop } from "./stops/chrdev.js";
import { dmaDeviceStop } from "./stops/dma-device.js";
import { dmaMmapDeviceStop } from "./stops/dma-mmap-device.js";
import { genlFamilyStop } from "./stops/genl-family.js";
import { ipcBenchStop } from "./stops/ipc-bench.js";
import { ipcCompareStop } from "./stops/ipc-compare.js";
import { kernelStop } from "./stops/kernel.js";
import { netlinkCodecStop } from "./stops/netlink-codec.js";
import { netlinkMulticastStop } from "./stops/netlink-multicast.js";
import { uapiStop } from "./stops/uapi.js";
import { vmmStop } from "./stops/vmm.js";

/** One stop of the tour: a title and the lines it prints, in full and (when it has one) in brief. */
export interface Stop {
  readonly title: string;
  readonly lines: () => string[];
  /** The stop in a few lines, for the default tour; `lines` is printed with `--full`. */
  readonly brief?: () => string[];
}

/** The stops in order; every new package appends its own. */
export const stops: readonly Stop[] = [
  uapiStop,
  netlinkCodecStop,
  vmmStop,
  dmaDeviceStop,
  chrdevStop,
  kernelStop,
  netlinkMulticastStop,
  genlFamilyStop,
  dmaMmapDeviceStop,
  ipcCompareStop,
  ipcBenchStop,
];

/**
 * Runs every stop and hands each printed line to `print`: each stop in brief (a few screens in all), or every line
 * with `full`.
 */
export function runTour(print: (line: string) => void, options: { readonly full?: boolean } = {}): void {
  print("kbridge — how Linux moves data between kernel and user space, modelled exactly");
  print("");
  stops.forEach((stop, i) => {
    print(`${i + 1}. ${stop.title}`);
    print("─".repeat(Math.min(78, stop.title.length + 3)));
    const lines = options.full === true || stop.brief === undefined ? stop.lines() : stop.brief();
    for (const line of lines) print(line === "" ? "" : `   ${line}`);
    print("");
  });
  if (options.full !== true)
    print(
      "(that was the short tour: `npm run -w examples/tour start -- --full` prints every line of every stop)",
    );
}

/**
 * An example's "as written" part in brief: for each of the article's mistakes, the line that names it (`N1 …`,
 * `M6 …`) and the first line of its block that shows what Linux answered (an errno, a failure, a BUG or WARNING) —
 * picked from the same run's full text, so the brief shows what was computed, only less of it.
 */
export function mistakesInBrief(full: readonly string[], example: string): string[] {
  // What Linux answered: an errno first (a return, a name, a KernelError), else a failure message.
  const strong = /= -\d|-E[A-Z]{3,}|\bE[A-Z]{3,}\b|BUG|WARNING|SIGSEGV|never ends/;
  const outcome = (l: string) => strong.test(l) || /failed/.test(l);
  const cut = (l: string, n: number) => (l.length > n ? `${l.slice(0, n - 3)}...` : l);
  const out: string[] = [];
  let cases = 0;
  for (let i = 0; i < full.length; i++) {
    const head = full[i]!;
    if (!/^[NM]\d+\s/.test(head)) continue;
    cases++;
    out.push(cut(head, 110));
    if (outcome(head)) continue;
    let end = i + 1;
    while (end < full.length && !/^[NM]\d+\s/.test(full[end]!)) end++;
    const block = full.slice(i + 1, end);
    const answer = block.find((l) => strong.test(l)) ?? block.find((l) => /failed/.test(l));
    if (answer !== undefined) out.push(`      → ${cut(answer.trim(), 100)}`);
  }
  return [
    `As written (${cases} of the article's mistakes; \`npm start -w examples/${example}\` prints each in full):`,
    ...out,
  ];
}
