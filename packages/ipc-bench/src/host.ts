// The host back end (Node only): the real mechanisms of the machine the benchmark runs on, as far as Node reaches
// them — a pipe and a pair of FIFOs to a child process, a unix stream socket to a child process, shared memory
// between threads with Atomics.wait/notify, reads of a sysfs file, and pread of a tmpfs file (a real copy_to_user) —
// timed with tinybench. Each timed sample is a batch of messages (single µs-scale operations are below what a timer
// around one call measures honestly); the CPUs each side ran on are recorded with every figure, and can be chosen
// with taskset, because on a VM a round trip between two vCPUs costs tens of times one on the same vCPU.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { Worker } from "node:worker_threads";
import { KernelError } from "@kbridge/uapi";
import { checkShape, type Mechanism, type Pattern, type Scenario } from "./model.js";
import type { Summary } from "./stats.js";
import { batchBench, perMessage } from "./timing.js";

/** A placement to pin the two sides to with taskset: one CPU for both, or two different CPUs. */
export type Pin = "same" | "split";

/** What one scenario measured on the host. */
export interface HostResult {
  /** The scenario. */
  readonly scenario: Scenario;
  /** Nanoseconds per message (a round trip for ping-pong): one figure per timed sample, summarized. */
  readonly ns: Summary;
  /**
   * The CPUs the two sides last ran on (/proc/…/stat field 39; undefined where the host does not show it, or where
   * there is one side), and the placement asked for (undefined: the scheduler chose).
   */
  readonly placement: {
    readonly self: number | undefined;
    readonly peer: number | undefined;
    readonly pinned: Pin | undefined;
  };
  /** What the figure includes besides the mechanism. */
  readonly note: string;
}

/** The host scenarios: what Node can drive without a native addon, with the patterns each runs. */
export const HOST_SCENARIOS: readonly {
  readonly mechanism: Mechanism;
  readonly patterns: readonly Pattern[];
}[] = [
  { mechanism: "pipe", patterns: ["ping-pong", "one-way", "fan-out"] },
  { mechanism: "fifo", patterns: ["ping-pong", "one-way", "fan-out"] },
  { mechanism: "unix-stream", patterns: ["ping-pong", "one-way", "fan-out"] },
  { mechanism: "shm-futex", patterns: ["ping-pong", "fan-out"] },
  { mechanism: "read", patterns: ["one-way"] },
  { mechanism: "sysfs", patterns: ["one-way"] },
];

// Why Node cannot reach the others: each needs a system call Node does not expose.
const UNREACHABLE: Partial<Record<Mechanism, string>> = {
  "unix-dgram": "Node has no AF_UNIX datagram socket (node:dgram is UDP only) without a native addon",
  netlink:
    "Node cannot open an AF_NETLINK socket without a native addon (a real NETLINK_ROUTE round trip costs 1.56 µs on the project's reference VM, bench-results/ipc-baselines.md in the repository)",
  "netlink-multicast": "Node cannot open an AF_NETLINK socket without a native addon",
  ioctl: "Node has no ioctl() on a file descriptor without a native addon",
  mmap: "Node cannot mmap a file without a native addon",
};

const MAX_HOST_SIZE = 4 << 20;
/** Fan-out receivers on the host: each is a Node process (or a worker thread), tens of MB apiece. */
const MAX_HOST_RECEIVERS = 32;

/**
 * Why the host back end cannot run `s` (as pinned by `pin`), or undefined.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for something that is not a scenario (an unknown mechanism or pattern)
 */
export function hostSupported(s: Scenario, pin?: Pin): string | undefined {
  checkShape(s, "hostSupported");
  const why = UNREACHABLE[s.mechanism];
  if (why !== undefined) return why;
  const h = HOST_SCENARIOS.find((x) => x.mechanism === s.mechanism);
  if (h === undefined) return `the host back end has no ${String(s.mechanism)}`;
  if (!h.patterns.includes(s.pattern)) return `${s.mechanism} runs ${h.patterns.join(", ")} on the host`;
  if (s.mechanism === "sysfs" && s.size > 64)
    return "the host's sysfs attribute (/sys/devices/system/cpu/online) holds a few bytes: sizes up to 64";
  if (s.size > MAX_HOST_SIZE) return `host messages are at most ${MAX_HOST_SIZE} bytes`;
  if (pin === "split" && s.pattern === "one-way" && (s.mechanism === "read" || s.mechanism === "sysfs"))
    return `${s.mechanism} has one side: it cannot be split across CPUs`;
  return undefined;
}

// --- files a run leaves behind ---------------------------------------------------------------------------------------

// The temporary directories (FIFOs, sockets) and tmpfs files of the runs in progress, and their peer processes. They
// go when their run ends, and — should the process end first (an exception, Ctrl-C through the CLI's handler) — when
// it exits.
const scratchPaths = new Set<string>();
const peers = new Set<ChildProcess>();
let exitHook = false;
function onExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once("exit", () => {
    for (const c of peers) c.kill();
    for (const p of scratchPaths) rmSync(p, { recursive: true, force: true });
  });
}
function scratch(path: string): string {
  onExit();
  scratchPaths.add(path);
  return path;
}
function unscratch(path: string): void {
  rmSync(path, { recursive: true, force: true });
  scratchPaths.delete(path);
}

// --- placement ---------------------------------------------------------------------------------------------------

// The CPU a task last ran on: field 39 of /proc/<pid>/task/<tid>/stat.
function cpuOf(pid: number, tid = pid): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const v = Number(fields[36]); // field 39 overall; fields[0] is field 3
    return Number.isInteger(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

// The CPUs this process may run on (Cpus_allowed_list of /proc/self/status, "0-1,4").
function allowedCpus(): number[] {
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync("/proc/self/status", "utf8"));
  if (m === null) return [];
  return m[1]!.split(",").flatMap((r) => {
    const [a, b = a] = r.split("-").map(Number) as [number, number?];
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

const hasTaskset = (() => {
  let known: boolean | undefined;
  return () => {
    if (known === undefined)
      try {
        execFileSync("taskset", ["-V"], { stdio: "ignore" });
        known = true;
      } catch {
        known = false;
      }
    return known;
  };
})();

// Pins thread `tid` (or every thread of process `pid` with all = true) to `cpus`.
function taskset(cpus: string, id: number, all = false): void {
  execFileSync("taskset", [...(all ? ["-a"] : []), "-p", "-c", cpus, String(id)], { stdio: "ignore" });
}

interface Placement {
  /** CPUs for this process and for the peer (undefined: not pinned). */
  readonly self: number | undefined;
  readonly peer: number | undefined;
  /** Gives this process its CPUs back. */
  readonly restore: () => void;
}

function place(pin: Pin | undefined): Placement {
  if (pin === undefined) return { self: undefined, peer: undefined, restore: () => {} };
  if (!hasTaskset())
    throw new KernelError("EOPNOTSUPP", "pinning needs taskset (Debian: apt-get install util-linux)", {
      op: "runHost",
    });
  const cpus = allowedCpus();
  if (cpus.length < (pin === "split" ? 2 : 1))
    throw new KernelError("EINVAL", `pin ${pin} needs 2 CPUs; this process may use ${cpus.join(",")}`, {
      op: "runHost",
    });
  const original = cpus.join(",");
  const self = cpus[0]!;
  const peer = pin === "split" ? cpus[1]! : self;
  // Every thread of this process (libuv's, V8's) goes to `self`; a worker's thread is moved after it starts.
  taskset(String(self), process.pid, true);
  return { self, peer, restore: () => taskset(original, process.pid, true) };
}

// --- timing ------------------------------------------------------------------------------------------------------

/**
 * Times `batch` (which moves `count` messages) with tinybench: one warm-up sample, then `samples` timed ones;
 * nanoseconds per message.
 */
async function timeIt(
  name: string,
  batch: (() => Promise<void>) | (() => void),
  count: number,
  samples: number,
  async: boolean,
): Promise<Summary> {
  const bench = batchBench(name, batch, samples, async);
  await bench.run();
  return perMessage(bench, count, "runHost");
}

// --- the peer process ------------------------------------------------------------------------------------------------

// The child's program: with "echo" it answers every byte it gets; with "sink N" it answers one byte per N bytes.
// Its input and output are a pipe (stdin/stdout), two FIFOs, or a unix socket it listens on.
const PEER = `
const fs = require("node:fs"), net = require("node:net");
const [how, where, mode, unit] = process.argv.slice(1);
const serve = (input, output) => {
  if (mode === "echo") { input.pipe(output); return; }
  const n = Number(unit); let got = 0;
  input.on("data", (c) => { got += c.length; while (got >= n) { got -= n; output.write(Buffer.of(1)); } });
};
if (how === "pipe") serve(process.stdin, process.stdout);
else if (how === "fifo") {
  // Nonblocking FIFO ends wrapped as sockets, so that libuv polls them (a file stream would read in the thread pool).
  // The parent holds the read end of "ba": open "ab" to read, "ba" to write, and say so with one byte.
  const [ab, ba] = where.split("\\n");
  const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fs.constants;
  const input = new net.Socket({ fd: fs.openSync(ab, O_RDONLY | O_NONBLOCK), readable: true, writable: false });
  const output = new net.Socket({ fd: fs.openSync(ba, O_WRONLY | O_NONBLOCK), readable: false, writable: true });
  output.write(Buffer.of(0x72));
  serve(input, output);
} else {
  const server = net.createServer((c) => { c.setNoDelay(true); c.on("error", () => {}); serve(c, c); server.close(); });
  server.listen(where, () => process.stdout.write("ready"));
}
process.stdout.on("error", () => {});
`;

// Waits for the child's first output (it is ready); if it exits first, undoes what was set up and fails, with EIO.
function peerReady(child: ChildProcess, from: Readable, undo: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      child.off("exit", exited);
      clearTimeout(timer);
      child.kill();
      undo();
      reject(new KernelError("EIO", `the peer process ${why}`, { op: "runHost" }));
    };
    const exited = (code: number | null) => fail(`exited (${String(code)}) before it was ready`);
    // A Node child is up in well under a second; 30 s of silence is a failure, not a wait.
    const timer = setTimeout(() => fail("was not ready after 30 s"), 30_000);
    child.once("exit", exited);
    from.once("data", () => {
      child.off("exit", exited);
      clearTimeout(timer);
      resolve();
    });
  });
}

interface Channel {
  readonly write: (b: Uint8Array) => void;
  readonly input: Readable;
  readonly child: ChildProcess;
  readonly close: () => void;
}

async function openChannel(s: Scenario, peerCpu: number | undefined): Promise<Channel> {
  const mode = s.pattern === "ping-pong" ? ["echo", "0"] : ["sink", String(s.size * s.count)];
  const dir = scratch(mkdtempSync(join(tmpdir(), "kbridge-bench-")));
  const launch = (where: string, stdio: "pipe" | "ignore") => {
    const args = ["-e", PEER, s.mechanism, where, ...mode];
    const [cmd, argv] =
      peerCpu === undefined
        ? [process.execPath, args]
        : ["taskset", ["-c", String(peerCpu), process.execPath, ...args]];
    const child = spawn(cmd, argv, { stdio: [stdio, "pipe", "inherit"] });
    child.on("error", () => {});
    onExit();
    peers.add(child);
    child.once("exit", () => peers.delete(child));
    return child;
  };
  const cleanup = () => unscratch(dir);
  if (s.mechanism === "pipe") {
    const child = launch("", "pipe");
    const stdin = child.stdin as Writable;
    // Tearing the child down while a write is in flight ends in EPIPE on its stdin: expected, not an error.
    stdin.on("error", () => {});
    return {
      write: (b) => void stdin.write(b),
      input: child.stdout as Readable,
      child,
      close: () => {
        stdin.end();
        child.kill();
        cleanup();
      },
    };
  }
  if (s.mechanism === "fifo") {
    // The way a shell pipeline opens FIFOs, without blocking anyone: each side opens its read end first (O_NONBLOCK
    // succeeds with no writer), then its write end once the other's read end exists (else ENXIO).
    const ab = join(dir, "ab");
    const ba = join(dir, "ba");
    execFileSync("mkfifo", ["-m", "600", ab, ba]);
    const input = new Socket({
      fd: openSync(ba, constants.O_RDONLY | constants.O_NONBLOCK),
      readable: true,
      writable: false,
    });
    input.on("error", () => {});
    const child = launch(`${ab}\n${ba}`, "ignore");
    // The child's one byte says its ends are open.
    await peerReady(child, input, () => {
      input.destroy();
      cleanup();
    });
    let wfd: number;
    try {
      wfd = openSync(ab, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      input.destroy();
      child.kill();
      cleanup();
      throw new KernelError("EIO", `the FIFO ${ab} could not be opened: ${(e as Error).message}`, {
        op: "runHost",
      });
    }
    const out = new Socket({ fd: wfd, readable: false, writable: true });
    out.on("error", () => {});
    return {
      write: (b) => void out.write(b),
      input,
      child,
      close: () => {
        out.destroy();
        input.destroy();
        child.kill();
        cleanup();
      },
    };
  }
  const path = join(dir, "sock");
  const child = launch(path, "ignore");
  await peerReady(child, child.stdout as Readable, cleanup); // "ready": it listens
  const sock: Socket = createConnection(path);
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", () => resolve());
      sock.once("error", reject);
    });
  } catch (e) {
    sock.destroy();
    child.kill();
    cleanup();
    throw new KernelError(
      "EIO",
      `the peer's socket ${path} refused the connection: ${(e as Error).message}`,
      {
        op: "runHost",
      },
    );
  }
  sock.setNoDelay(true);
  sock.on("error", () => {});
  return {
    write: (b) => void sock.write(b),
    input: sock,
    child,
    close: () => {
      sock.destroy();
      child.kill();
      cleanup();
    },
  };
}

// The answers that come back on one channel: `expect(n)` resolves once n more bytes have arrived, and fails (EIO) if
// the peer dies first, so that nothing waits forever.
function answers(ch: Channel): (n: number) => Promise<void> {
  let pending = 0;
  let want = 0;
  let resolve: (() => void) | undefined;
  let fail: ((e: Error) => void) | undefined;
  let died: Error | undefined;
  ch.input.on("data", (c: Uint8Array) => {
    pending += c.length;
    if (pending >= want && resolve !== undefined) {
      pending -= want;
      const r = resolve;
      resolve = fail = undefined;
      r();
    }
  });
  ch.child.once("exit", (code) => {
    died = new KernelError("EIO", `the peer process exited (${String(code)}) during the run`, {
      op: "runHost",
    });
    fail?.(died);
  });
  if (ch.child.exitCode !== null || ch.child.signalCode !== null)
    died = new KernelError("EIO", "the peer process exited before the run", { op: "runHost" });
  return (n) =>
    new Promise<void>((r, j) => {
      if (died !== undefined) return j(died);
      if (pending >= n) {
        pending -= n;
        return r();
      }
      want = n;
      resolve = r;
      fail = j;
    });
}

// Ping-pong: a message out, the same bytes back. One-way: `count` messages out, one byte back when all arrived.
// Fan-out: each message to every receiver (a child process each), one byte back from each when all arrived.
async function streamScenario(
  s: Scenario,
  samples: number,
  pl: Placement,
): Promise<Omit<HostResult, "note">> {
  const receivers = s.pattern === "fan-out" ? (s.receivers ?? 1) : 1;
  const chans: Channel[] = [];
  try {
    for (let r = 0; r < receivers; r++) chans.push(await openChannel(s, pl.peer));
    const expect = chans.map(answers);
    const msg = new Uint8Array(s.size).fill(0x5a);
    const roundTrip = () => {
      const back = expect[0]!(s.size);
      chans[0]!.write(msg);
      return back;
    };
    const batch =
      s.pattern === "ping-pong"
        ? async () => {
            for (let i = 0; i < s.count; i++) await roundTrip();
          }
        : async () => {
            const acks = expect.map((e) => e(1));
            for (let i = 0; i < s.count; i++) for (const c of chans) c.write(msg);
            await Promise.all(acks);
          };
    if (s.pattern === "ping-pong") await roundTrip(); // the peer is up and connected
    const ns = await timeIt(s.mechanism, batch, s.count, samples, true);
    const pid = chans[0]!.child.pid;
    return {
      scenario: s,
      ns,
      placement: {
        self: cpuOf(process.pid),
        peer: pid === undefined ? undefined : cpuOf(pid),
        pinned: undefined,
      },
    };
  } finally {
    for (const c of chans) c.close();
  }
}

// Shared memory between threads, as a futex-based IPC does it: one slot holds the message; the producer writes it,
// bumps a sequence word and wakes every waiter with one notify (futex wake); each receiver wakes (futex wait), reads
// the message and counts itself in an acknowledgement word the producer waits on. One slot means each message is
// read by every receiver before the next is written: ping-pong is one receiver, fan-out several.
async function shmScenario(s: Scenario, samples: number, pl: Placement): Promise<Omit<HostResult, "note">> {
  const receivers = s.pattern === "fan-out" ? (s.receivers ?? 1) : 1;
  const sab = new SharedArrayBuffer(64 + s.size);
  const ctl = new Int32Array(sab, 0, 16); // [0] sequence, [1] stop, [2] acknowledgements
  const data = new Uint8Array(sab, 64);
  const workers: Worker[] = [];
  const stop = async () => {
    Atomics.store(ctl, 1, 1);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    await Promise.all(workers.map((w) => w.terminate()));
  };
  try {
    const tids: (number | undefined)[] = [];
    for (let r = 0; r < receivers; r++) {
      const worker = new Worker(
        `const { workerData, parentPort } = require("node:worker_threads");
         const f = new Int32Array(workerData, 0, 16), d = new Uint8Array(workerData, 64);
         let tid = null; try { tid = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop()); } catch {}
         parentPort.postMessage(tid);
         let seen = 0, x = 0;
         for (;;) {
           Atomics.wait(f, 0, seen);
           if (Atomics.load(f, 1) === 1) break;
           seen = Atomics.load(f, 0);
           x ^= d[0] ^ d[d.length - 1];
           Atomics.add(f, 2, 1);
           Atomics.notify(f, 2);
         }`,
        { eval: true, workerData: sab },
      );
      workers.push(worker);
      // The worker tells its thread id (/proc/thread-self), so that it alone can move to the peer's CPU.
      tids.push(
        await new Promise<number | undefined>((resolve, reject) => {
          worker.once("message", (t: unknown) => resolve(Number.isInteger(t) ? (t as number) : undefined));
          worker.once("error", reject);
          worker.once("exit", (code) =>
            reject(
              new KernelError("EIO", `a shared-memory worker exited (${code}) before it started`, {
                op: "runHost",
              }),
            ),
          );
        }),
      );
    }
    if (pl.peer !== undefined) {
      taskset(String(pl.self), process.pid);
      for (const tid of tids) if (tid !== undefined) taskset(String(pl.peer), tid);
    }
    const msg = new Uint8Array(s.size).fill(0x5a);
    const once = () => {
      data.set(msg); // the producer writes the message into the shared pages: the one copy of the data
      const target = Atomics.load(ctl, 2) + receivers;
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      // Wait for every receiver; a receiver silent for 10 s is a failure (EIO), not a hang.
      let silent = 0;
      for (let a = Atomics.load(ctl, 2); a < target; a = Atomics.load(ctl, 2))
        if (Atomics.wait(ctl, 2, a, 1000) === "timed-out" && ++silent >= 10)
          throw new KernelError("EIO", `a shared-memory receiver did not answer for 10 s`, { op: "runHost" });
    };
    once(); // every receiver is up and waiting
    const ns = await timeIt(
      "shm-futex",
      () => {
        for (let i = 0; i < s.count; i++) once();
      },
      s.count,
      samples,
      false,
    );
    const peer = tids[0] === undefined ? undefined : cpuOf(process.pid, tids[0]);
    return { scenario: s, ns, placement: { self: cpuOf(process.pid), peer, pinned: undefined } };
  } finally {
    await stop();
  }
}

async function sysfsRead(s: Scenario, samples: number): Promise<Omit<HostResult, "note">> {
  const path = "/sys/devices/system/cpu/online";
  try {
    readFileSync(path);
  } catch {
    throw new KernelError("ENOENT", `${path} cannot be read on this host`, { op: "runHost" });
  }
  const buf = new Uint8Array(Math.max(s.size, 4096));
  // open + read + close each time, as a reader of an attribute does (sysfs generates the text at open).
  const ns = await timeIt(
    "sysfs",
    () => {
      for (let i = 0; i < s.count; i++) {
        const fd = openSync(path, "r");
        readSync(fd, buf, 0, s.size, 0);
        closeSync(fd);
      }
    },
    s.count,
    samples,
    false,
  );
  return { scenario: s, ns, placement: { self: cpuOf(process.pid), peer: undefined, pinned: undefined } };
}

async function preadScenario(s: Scenario, samples: number): Promise<Omit<HostResult, "note">> {
  const ns = await preadTimes(s.size, s.count, samples);
  return { scenario: s, ns, placement: { self: cpuOf(process.pid), peer: undefined, pinned: undefined } };
}

async function preadTimes(size: number, count: number, samples: number): Promise<Summary> {
  const dir = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const path = scratch(join(dir, `kbridge-bench-${process.pid}-${Date.now()}.bin`));
  writeFileSync(path, new Uint8Array(size).fill(0x5a));
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    unscratch(path);
    throw new KernelError("EIO", `${path} could not be opened: ${(e as Error).message}`, { op: "runHost" });
  }
  const buf = new Uint8Array(size);
  try {
    return await timeIt(
      "pread",
      () => {
        for (let i = 0; i < count; i++) readSync(fd, buf, 0, size, 0);
      },
      count,
      samples,
      false,
    );
  } finally {
    closeSync(fd);
    unscratch(path);
  }
}

/**
 * A real copy_to_user of `size` bytes on this host, as the project's C baseline measures it: pread of a file on
 * tmpfs (/dev/shm, else the temporary directory) into a buffer; nanoseconds per read, over `samples` samples of
 * `count` reads each.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a size outside 1..64 MiB or bad counts
 */
export async function hostCopy(size: number, count: number, samples = 5): Promise<Summary> {
  if (!Number.isInteger(size) || size < 1 || size > 64 << 20)
    throw new KernelError("EINVAL", `size ${String(size)} is not 1..64 MiB`, { op: "hostCopy" });
  checkCounts(count, samples, "hostCopy");
  return preadTimes(size, count, samples);
}

function checkCounts(count: number, samples: number, op: string): void {
  if (!Number.isInteger(count) || count < 1 || count > 10_000_000)
    throw new KernelError("EINVAL", `count ${String(count)} is not 1..10000000`, { op });
  if (!Number.isInteger(samples) || samples < 1 || samples > 1000)
    throw new KernelError("EINVAL", `samples ${String(samples)} is not 1..1000`, { op });
}

const NOTES: Record<string, string> = {
  pipe: "pipe, fifo, unix-stream: Node's streams and event loop on both sides, with a child process at the other end (it echoes for ping-pong, counts and acknowledges each sample for one-way); the C figures of bench-results/ipc-baselines.md in the repository are the mechanism alone",
  "shm-futex":
    "shm-futex: Atomics.wait/notify between the main thread and a worker (futex wait/wake underneath)",
  read: "read: pread of a tmpfs file into a buffer, the real copy_to_user from the page cache",
  sysfs:
    "sysfs: open + read + close of /sys/devices/system/cpu/online (a few bytes, whatever the size), through fs.*Sync",
};

/**
 * Runs `scenario` on the host's real mechanisms: one warm-up sample, then `scenario.samples` (5 by default) timed
 * samples of `scenario.count` messages each, with tinybench; returns nanoseconds per message and where the sides ran.
 * `options.pin` pins the two sides with taskset to one CPU (`same`) or two (`split`), and gives this process its CPUs
 * back afterwards.
 * @throws {@link @kbridge/uapi!KernelError} EOPNOTSUPP for a scenario the host back end does not run (or pinning
 * without taskset), EINVAL for bad counts
 */
export async function runHost(scenario: Scenario, options: { readonly pin?: Pin } = {}): Promise<HostResult> {
  const pin = options?.pin;
  if (pin !== undefined && pin !== "same" && pin !== "split")
    throw new KernelError("EINVAL", `pin ${String(pin)} is not same or split`, { op: "runHost" });
  const why = hostSupported(scenario, pin);
  if (why !== undefined) throw new KernelError("EOPNOTSUPP", why, { op: "runHost" });
  if (!Number.isInteger(scenario.size) || scenario.size < 1)
    throw new KernelError("EINVAL", `size ${String(scenario.size)} is not a positive integer`, {
      op: "runHost",
    });
  const samples = scenario.samples ?? 5;
  checkCounts(scenario.count, samples, "runHost");
  const receivers = scenario.receivers ?? 1;
  if (!Number.isInteger(receivers) || receivers < 1 || receivers > MAX_HOST_RECEIVERS)
    throw new KernelError(
      "EINVAL",
      `receivers ${String(receivers)} is not 1..${MAX_HOST_RECEIVERS} (each a process or thread of its own)`,
      { op: "runHost" },
    );
  const pl = place(pin);
  try {
    let r: Omit<HostResult, "note">;
    switch (scenario.mechanism) {
      case "shm-futex":
        r = await shmScenario(scenario, samples, pl);
        break;
      case "sysfs":
        r = await sysfsRead(scenario, samples);
        break;
      case "read":
        r = await preadScenario(scenario, samples);
        break;
      default:
        r = await streamScenario(scenario, samples, pl);
    }
    const note =
      NOTES[
        scenario.mechanism === "fifo" || scenario.mechanism === "unix-stream" ? "pipe" : scenario.mechanism
      ]!;
    return { ...r, placement: { ...r.placement, pinned: pin }, note };
  } finally {
    pl.restore();
  }
}
