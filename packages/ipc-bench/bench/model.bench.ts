// What the model costs per message, against the copies a real kernel would make of the same bytes, in the same run.
// A 4 KiB message one way: pipe and unix-stream write + read (two copies through the kernel), netlink sendto +
// recvfrom (two copies and an skb), read() from a device (one copy_to_user), mmap (no copy: the process reads the
// device's page). The baselines are the copies alone, as Uint8Array.set: the ratio is the model's overhead over the
// data movement itself — system-call dispatch, user-pointer checks, page-table walks, queues and accounting.
// (The real mechanisms of this machine are measured by `kbridge-bench run --backend host`, not here.)
import { openModel, summarize } from "../src/index.js";

const SIZE = 4096;
const rig = (mechanism: "pipe" | "unix-stream" | "netlink" | "read" | "mmap") =>
  openModel({ mechanism, pattern: "one-way", size: SIZE, count: 1 });
const pipe = rig("pipe");
const unix = rig("unix-stream");
const netlink = rig("netlink");
const read = rig("read");
const mmap = rig("mmap");
const src = new Uint8Array(SIZE).fill(0x41);
const kbuf = new Uint8Array(SIZE);
const dst = new Uint8Array(SIZE);

// 1000 durations, to summarize: what every figure of a report goes through.
const samples = Array.from({ length: 1000 }, (_, i) => 1000 + ((i * 7919) % 997));

export default [
  {
    group: "model: one 4 KiB message, one way",
    tasks: {
      "pipe (write + read)": (i: number) => pipe.step(i),
      "unix-stream (write + read)": (i: number) => unix.step(i),
      "netlink (sendto + recvfrom)": (i: number) => netlink.step(i),
      "read() from a device": (i: number) => read.step(i),
      "mmap of the device's page": (i: number) => mmap.step(i),
      "two copies of 4 KiB (baseline)": (i: number) => {
        src[0] = i;
        kbuf.set(src);
        dst.set(kbuf);
        return dst[0];
      },
      "one copy of 4 KiB (baseline)": (i: number) => {
        src[0] = i;
        dst.set(src);
        return dst[0];
      },
    },
    compare: [
      { name: "pipe (write + read)", baseline: "two copies of 4 KiB (baseline)" },
      { name: "unix-stream (write + read)", baseline: "two copies of 4 KiB (baseline)" },
      { name: "netlink (sendto + recvfrom)", baseline: "two copies of 4 KiB (baseline)" },
      { name: "read() from a device", baseline: "one copy of 4 KiB (baseline)" },
      { name: "mmap of the device's page", baseline: "one copy of 4 KiB (baseline)" },
    ],
    work: { bytes: SIZE, messages: 1 },
  },
  {
    group: "statistics",
    tasks: {
      "summarize 1000 samples": () => summarize(samples),
      "sort 1000 samples (baseline)": () => [...samples].sort((a, b) => a - b),
    },
    compare: [{ name: "summarize 1000 samples", baseline: "sort 1000 samples (baseline)" }],
  },
];
