// @kbridge/ipc-bench: the closing comparison — a quick run of the benchmark kit's model back end.
import { type ModelResult, runModel } from "@kbridge/ipc-bench";
import type { Stop } from "../tour.js";

function lines(): string[] {
  const rows: ModelResult[] = [];
  for (const mechanism of ["pipe", "unix-stream", "netlink", "read", "mmap", "shm-futex"] as const) {
    for (const size of [64, 4096, 65536])
      rows.push(runModel({ mechanism, pattern: "one-way", size, count: 10, samples: 1 }));
  }
  const cell = (r: ModelResult) => `${r.syscalls}/${r.copies}`.padStart(7);
  const by = (m: string) => rows.filter((r) => r.scenario.mechanism === m);
  return [
    "kbridge-bench run --quick on the model: system calls / copies of the data per message",
    "",
    `${"mechanism".padEnd(12)} ${"64 B".padStart(7)} ${"4 KiB".padStart(7)} ${"64 KiB".padStart(7)}`,
    ...["pipe", "unix-stream", "netlink", "read", "mmap", "shm-futex"].map(
      (m) => `${m.padEnd(12)} ${by(m).map(cell).join(" ")}`,
    ),
    "",
    "the counts do not depend on the machine; `npx kbridge-bench run --backend host --quick` measures the real",
    "mechanisms of this one (pipe, FIFOs, unix socket, shared memory, tmpfs and sysfs reads) with the CPU each",
    "side ran on, and `--pin same,split` shows what a wakeup across CPUs costs.",
  ];
}

/** The ipc-bench stop: the tour's closing comparison. */
export const ipcBenchStop: Stop = {
  title: "@kbridge/ipc-bench — the closing comparison",
  lines,
};
