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

/** One stop of the tour: a title and the lines it prints. */
export interface Stop {
  readonly title: string;
  readonly lines: () => string[];
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

/** Runs every stop and hands each printed line to `print`. */
export function runTour(print: (line: string) => void): void {
  print("kbridge — how Linux moves data between kernel and user space, modelled exactly");
  print("");
  stops.forEach((stop, i) => {
    print(`${i + 1}. ${stop.title}`);
    print("─".repeat(Math.min(78, stop.title.length + 3)));
    for (const line of stop.lines()) print(line === "" ? "" : `   ${line}`);
    print("");
  });
}
