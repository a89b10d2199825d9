// @kbridge/ipc-bench: the closing comparison — a quick run of the benchmark kit's model back end.
import { type ModelResult, runModel } from "@kbridge/ipc-bench";
import type { Stop } from "../tour.js";

function lines(): string[] {
  const MECHS = ["pipe", "unix-stream", "netlink", "netlink-multicast", "read", "mmap", "shm-futex"] as const;
  const cell = (r: ModelResult | undefined) =>
    (r === undefined ? "—" : `${r.syscalls}/${r.copies}`).padStart(7);
  const rows = MECHS.map((mechanism) => {
    // One-way at three sizes (multicast is fan-out only), then one message to 4 receivers.
    const oneWay = [64, 4096, 65536].map((size) =>
      mechanism === "netlink-multicast"
        ? undefined
        : runModel({ mechanism, pattern: "one-way", size, count: 10, samples: 1 }),
    );
    const fan = runModel({ mechanism, pattern: "fan-out", size: 4096, count: 10, samples: 1, receivers: 4 });
    return `${mechanism.padEnd(18)} ${[...oneWay, fan].map(cell).join(" ")}`;
  });
  return [
    "kbridge-bench run --quick on the model: system calls / copies of the data per message",
    "",
    `${"mechanism".padEnd(18)} ${"64 B".padStart(7)} ${"4 KiB".padStart(7)} ${"64 KiB".padStart(7)} ${"×4, 4K".padStart(7)}`,
    ...rows,
    "",
    "(×4, 4K: one 4 KiB message to 4 receivers — multicast clones one skb, a mapping costs nothing, one FUTEX_WAKE wakes all)",
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
