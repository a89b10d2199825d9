// Regenerates bench-results/: the figures of the README's "IPC on this machine" section, made by kbridge-bench on
// the machine it runs on. `npm run bench:ipc` (after `npm run build`). About a minute on 2 vCPUs.
//   host-ping-pong.*  pipe, FIFO, unix socket and shm+futex round trips, both sides pinned to one CPU and to two
//   host-one-way.*    pipe, FIFO and unix socket throughput against a pread of tmpfs (a real copy_to_user)
//   model.*           the counted costs of every mechanism on the simulated kernel
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(fileURLToPath(import.meta.url), "..", "..");
const out = join(root, "bench-results");
const bin = join(root, "packages", "ipc-bench", "dist", "bin.js");
mkdirSync(out, { recursive: true });

const runs = [
  [
    "host-ping-pong",
    ["pipe", "fifo", "unix-stream", "shm-futex", "--backend", "host", "--pattern", "ping-pong"],
    ["--sizes", "64,1K,4K,16K,64K", "--pin", "same,split", "--metric", "latency"],
  ],
  [
    "host-one-way",
    ["pipe", "fifo", "unix-stream", "read", "--backend", "host", "--pattern", "one-way"],
    ["--sizes", "64,1K,4K,64K,1M", "--count", "500", "--samples", "15", "--metric", "throughput"],
  ],
  ["model", [], ["--sizes", "64,4K,64K,1M", "--metric", "bytesCopied"]],
];
for (const [name, what, how] of runs) {
  const files = ["--json", `${name}.json`, "--md", `${name}.md`, "--svg", `${name}.svg`].map((a) =>
    a.startsWith("--") ? a : join(out, a),
  );
  process.stderr.write(`kbridge-bench run ${[...what, ...how].join(" ")}\n`);
  execFileSync(process.execPath, [bin, "run", ...what, ...how, ...files], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}
