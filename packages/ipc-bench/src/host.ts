// The host back end (Node only): the real mechanisms of the machine the benchmark runs on, as far as Node reaches
// them — a pipe to a child process, a unix stream socket, shared memory between threads with Atomics.wait/notify,
// and reads of a sysfs file — timed with tinybench (warm-up, many samples), with the CPUs each side ran on recorded,
// because on a VM a round trip between two vCPUs costs many times one on the same vCPU.

import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, unlinkSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { KernelError } from "@kbridge/uapi";
import { Bench } from "tinybench";
import type { Scenario } from "./model.js";
import { type Summary, summarize } from "./stats.js";

/** What one scenario measured on the host. */
export interface HostResult {
  /** The scenario. */
  readonly scenario: Scenario;
  /** Nanoseconds per message (a round trip for ping-pong), over the samples tinybench took. */
  readonly ns: Summary;
  /** The CPUs the two sides last ran on (/proc/<pid>/stat field 39), when the host shows them. */
  readonly placement: { readonly self: number | undefined; readonly peer: number | undefined };
}

/** The host mechanisms and their pattern: what Node can drive without a native addon. */
export const HOST_SCENARIOS: readonly Pick<Scenario, "mechanism" | "pattern">[] = [
  { mechanism: "pipe", pattern: "ping-pong" },
  { mechanism: "unix-stream", pattern: "ping-pong" },
  { mechanism: "shm-futex", pattern: "ping-pong" },
  { mechanism: "sysfs", pattern: "one-way" },
];

/** Why the host back end cannot run `s`, or undefined. */
export function hostSupported(s: Scenario): string | undefined {
  if (!HOST_SCENARIOS.some((h) => h.mechanism === s.mechanism && h.pattern === s.pattern))
    return `the host back end runs ${HOST_SCENARIOS.map((h) => `${h.mechanism} ${h.pattern}`).join(", ")}`;
  if (s.size > 65536) return "host messages are at most 64 KiB";
  return undefined;
}

// The CPU a task last ran on: field 39 of /proc/<pid>/task/<tid>/stat (or /proc/<pid>/stat).
function cpuOf(pid: number | "self"): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const v = Number(fields[36]); // field 39 overall; fields[0] is field 3
    return Number.isInteger(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

// An echo at the other end of a byte stream: every `size` bytes that arrive are answered with `size` bytes.
function roundTrips(
  write: (b: Uint8Array) => void,
  size: number,
): { wait: () => Promise<void>; feed: (c: Uint8Array) => void } {
  let pending = 0;
  let resolve: (() => void) | undefined;
  const msg = new Uint8Array(size).fill(0x5a);
  return {
    wait: () =>
      new Promise<void>((r) => {
        pending = 0;
        resolve = r;
        write(msg);
      }),
    feed: (c) => {
      pending += c.length;
      if (pending >= size && resolve !== undefined) {
        const r = resolve;
        resolve = undefined;
        r();
      }
    },
  };
}

async function timeIt(name: string, fn: () => Promise<void> | void, count: number): Promise<Summary> {
  const bench = new Bench({
    iterations: count,
    time: 0,
    warmupIterations: Math.min(10, count),
    warmupTime: 0,
    retainSamples: true,
  });
  bench.add(name, fn);
  await bench.run();
  const samples =
    bench.tasks[0]?.result && "latency" in bench.tasks[0].result
      ? bench.tasks[0].result.latency.samples
      : undefined;
  if (samples === undefined || samples.length === 0)
    throw new KernelError("EIO", `${name}: the benchmark produced no samples`, { op: "runHost" });
  return summarize(Array.from(samples, (ms) => ms * 1e6));
}

async function pipePingPong(s: Scenario): Promise<HostResult> {
  // A child Node process that echoes its stdin: each message goes down one pipe and comes back up another.
  const child = spawn(process.execPath, ["-e", "process.stdin.pipe(process.stdout)"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  // Tearing the child down while a write is in flight ends in EPIPE on its stdin: expected, not an error.
  child.stdin.on("error", () => {});
  const rt = roundTrips((b) => child.stdin.write(b), s.size);
  child.stdout.on("data", (c: Uint8Array) => rt.feed(c));
  try {
    await rt.wait(); // the child is up
    const ns = await timeIt("pipe", rt.wait, s.count);
    return {
      scenario: s,
      ns,
      placement: { self: cpuOf("self"), peer: child.pid === undefined ? undefined : cpuOf(child.pid) },
    };
  } finally {
    child.stdin.end();
    child.kill();
  }
}

async function unixPingPong(s: Scenario): Promise<HostResult> {
  const path = join(tmpdir(), `kbridge-bench-${process.pid}-${Date.now()}.sock`);
  const server: Server = createServer((c) => {
    c.on("error", () => {}); // the client going away mid-echo is the end of the run
    c.pipe(c);
  });
  await new Promise<void>((r) => server.listen(path, r));
  const sock: Socket = createConnection(path);
  await new Promise<void>((r) => sock.once("connect", () => r()));
  sock.setNoDelay?.(true);
  const rt = roundTrips((b) => sock.write(b), s.size);
  sock.on("data", (c: Uint8Array) => rt.feed(c));
  sock.on("error", () => {});
  try {
    const ns = await timeIt("unix-stream", rt.wait, s.count);
    // Both ends live in this process: the echo runs on its event loop.
    return { scenario: s, ns, placement: { self: cpuOf("self"), peer: cpuOf("self") } };
  } finally {
    sock.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

async function shmPingPong(s: Scenario): Promise<HostResult> {
  // Two threads share an Int32Array: each waits (futex wait) for the other's turn and wakes it (futex wake).
  const sab = new SharedArrayBuffer(8 + s.size);
  const flag = new Int32Array(sab, 0, 2);
  const worker = new Worker(
    `const { workerData } = require("node:worker_threads");
     const f = new Int32Array(workerData, 0, 2);
     for (;;) { Atomics.wait(f, 0, 0); if (Atomics.load(f, 1) === 1) break; Atomics.store(f, 0, 0); Atomics.notify(f, 0); }`,
    { eval: true, workerData: sab },
  );
  const once = () => {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    while (Atomics.load(flag, 0) === 1) Atomics.wait(flag, 0, 1, 1000);
  };
  try {
    const ns = await timeIt("shm-futex", once, s.count);
    return { scenario: s, ns, placement: { self: cpuOf("self"), peer: undefined } };
  } finally {
    Atomics.store(flag, 1, 1);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    await worker.terminate();
  }
}

async function sysfsRead(s: Scenario): Promise<HostResult> {
  const path = "/sys/devices/system/cpu/online";
  try {
    readFileSync(path);
  } catch {
    throw new KernelError("ENOENT", `${path} cannot be read on this host`, { op: "runHost" });
  }
  const ns = await timeIt("sysfs", () => void readFileSync(path), s.count);
  return { scenario: s, ns, placement: { self: cpuOf("self"), peer: undefined } };
}

/**
 * A real copy_to_user of `size` bytes on this host, as the project's C baseline measures it: pread of a file on
 * tmpfs (/dev/shm, else the temporary directory) into a buffer, timed with tinybench; nanoseconds per read.
 */
export async function hostCopy(size: number, count: number): Promise<Summary> {
  if (!Number.isInteger(size) || size < 1 || size > 64 << 20)
    throw new KernelError("EINVAL", `size ${String(size)} is not 1..64 MiB`, { op: "hostCopy" });
  const dir = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const path = join(dir, `kbridge-bench-${process.pid}-${Date.now()}.bin`);
  writeFileSync(path, new Uint8Array(size).fill(0x5a));
  const fd = openSync(path, "r");
  const buf = new Uint8Array(size);
  try {
    return await timeIt("pread", () => void readSync(fd, buf, 0, size, 0), count);
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
}

/**
 * Runs `scenario` on the host's real mechanisms and returns nanoseconds per message (tinybench samples, summarized)
 * and where the two sides ran.
 * @throws {@link @kbridge/uapi!KernelError} EOPNOTSUPP for a scenario the host back end does not run
 */
export async function runHost(scenario: Scenario): Promise<HostResult> {
  const why = hostSupported(scenario);
  if (why !== undefined) throw new KernelError("EOPNOTSUPP", why, { op: "runHost" });
  if (!Number.isInteger(scenario.count) || scenario.count < 1)
    throw new KernelError("EINVAL", `count ${String(scenario.count)} is not a positive integer`, {
      op: "runHost",
    });
  switch (scenario.mechanism) {
    case "pipe":
      return pipePingPong(scenario);
    case "unix-stream":
      return unixPingPong(scenario);
    case "shm-futex":
      return shmPingPong(scenario);
    default:
      return sysfsRead(scenario);
  }
}
