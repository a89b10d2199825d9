// The model back end: a scenario runs on a fresh simulated kernel (@kbridge/kernel), where every system call, every
// byte that crosses copy_to_user/copy_from_user and every page fault is counted, next to the model's own wall time.

import { type File, type Module, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from "@kbridge/chrdev";
import {
  AF_NETLINK,
  AF_UNIX,
  FUTEX_WAIT,
  FUTEX_WAKE,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  NETLINK,
  NL_CFG_F_NONROOT_RECV,
  O_CREAT,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCK_STREAM,
  shm_open,
} from "@kbridge/kernel";
import { KernelError, MKDEV, utf8Encode } from "@kbridge/uapi";
import {
  GFP_KERNEL,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
  type Vma,
} from "@kbridge/vmm";
import { Bench } from "tinybench";
import { type Summary, summarize } from "./stats.js";

/** The mechanisms a scenario can use. */
export const MECHANISMS = [
  "pipe",
  "fifo",
  "unix-stream",
  "unix-dgram",
  "netlink",
  "netlink-multicast",
  "ioctl",
  "read",
  "mmap",
  "shm-futex",
  "sysfs",
] as const;
/** A mechanism. */
export type Mechanism = (typeof MECHANISMS)[number];

/** The traffic patterns: one way, a request and its answer, one message to N receivers. */
export const PATTERNS = ["one-way", "ping-pong", "fan-out"] as const;
/** A pattern. */
export type Pattern = (typeof PATTERNS)[number];

/** One benchmark scenario: what moves, how, how much, how often. */
export interface Scenario {
  /** The mechanism. */
  readonly mechanism: Mechanism;
  /** The pattern. */
  readonly pattern: Pattern;
  /** Bytes per message. */
  readonly size: number;
  /** Messages (or round trips) per run. */
  readonly count: number;
  /** Receivers, for fan-out (1 otherwise). */
  readonly receivers?: number;
  /**
   * Timed samples (5 by default), each of `count` messages, after one untimed warm-up sample of `count` messages:
   * a run moves `count × (samples + 1)` messages.
   */
  readonly samples?: number;
}

/** What one run of a scenario cost on the model, per message. */
export interface ModelResult {
  /** The scenario. */
  readonly scenario: Scenario;
  /** System calls per message (each a user→kernel→user crossing). */
  readonly syscalls: number;
  /** Bytes moved by copy_to_user/copy_from_user per message. */
  readonly bytesCopied: number;
  /** Copies of the data per message (bytes copied / size, rounded). */
  readonly copies: number;
  /** Page faults taken during copies per message. */
  readonly faults: number;
  /**
   * The model's wall time per message in nanoseconds: one figure per timed sample (a sample's time over its
   * `count` messages), summarized — min, median, p99, max and the 95% confidence interval of the mean.
   */
  readonly wall: Summary;
  /** Every message arrived intact. */
  readonly intact: boolean;
}

const MAX_SIZE = 4 << 20;
const DEFAULT_SAMPLES = 5;
// A sysfs attribute holds at most PAGE_SIZE − 1 bytes; ioctl sizes are 14 bits; netlink and datagrams one skb.
const LIMIT: Partial<Record<Mechanism, number>> = {
  sysfs: 4095,
  ioctl: 16383,
  "unix-dgram": 212992 - 1024,
  netlink: 212992 - 32 - 16,
  "netlink-multicast": 212992 - 32 - 16,
};

/**
 * Whether the model can run `s` (a mechanism that supports the pattern and the size), and why not.
 */
export function supported(s: Scenario): string | undefined {
  if (s.pattern === "fan-out" && s.mechanism !== "netlink-multicast")
    return "fan-out is a netlink multicast pattern";
  if (s.mechanism === "netlink-multicast" && s.pattern !== "fan-out") return "multicast is fan-out";
  if (
    s.pattern === "ping-pong" &&
    !["pipe", "fifo", "unix-stream", "unix-dgram", "netlink", "shm-futex"].includes(s.mechanism)
  )
    return `${s.mechanism} has no way back`;
  const limit = LIMIT[s.mechanism];
  if (limit !== undefined && s.size > limit) return `${s.mechanism} moves at most ${limit} bytes at once`;
  return undefined;
}

function checkScenario(s: Scenario): void {
  const bad = (what: string) => new KernelError("EINVAL", what, { op: "runModel" });
  if (!MECHANISMS.includes(s?.mechanism))
    throw bad(`mechanism ${String(s?.mechanism)} is not one of ${MECHANISMS.join(", ")}`);
  if (!PATTERNS.includes(s.pattern))
    throw bad(`pattern ${String(s.pattern)} is not one of ${PATTERNS.join(", ")}`);
  if (!Number.isInteger(s.size) || s.size < 1 || s.size > MAX_SIZE)
    throw bad(`size ${String(s.size)} is not 1..${MAX_SIZE}`);
  if (!Number.isInteger(s.count) || s.count < 1 || s.count > 1_000_000)
    throw bad(`count ${String(s.count)} is not 1..1000000`);
  const r = s.receivers ?? 1;
  if (!Number.isInteger(r) || r < 1 || r > 1024) throw bad(`receivers ${String(r)} is not 1..1024`);
  const n = s.samples ?? DEFAULT_SAMPLES;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw bad(`samples ${String(n)} is not 1..1000`);
  if (s.count * (n + 1) > 10_000_000)
    throw bad(`count ${s.count} × (samples ${n} + 1) is more than 10000000 messages`);
  const why = supported(s);
  if (why !== undefined) throw new KernelError("EOPNOTSUPP", why, { op: "runModel" });
}

// The producer's messages: message `i` of `size` bytes is filled with a letter that changes with `i`, so a stale or
// mixed-up message shows. One buffer, refilled: the mechanism has copied (or the consumer read) it before the next.
function messenger(size: number): (i: number) => Uint8Array {
  const b = new Uint8Array(size);
  return (i) => b.fill(0x41 + (i % 26));
}
const intactAt = (b: Uint8Array, i: number, size: number) =>
  b.length === size && b[0] === 0x41 + (i % 26) && b[size - 1] === 0x41 + (i % 26);

interface Rig {
  readonly k: Kernel;
  /** Moves message `i` and returns what the consumer got (all receivers' copies must match). */
  readonly step: (i: number) => boolean;
}

function two(k: Kernel): [Libc, Libc] {
  return [new Libc(k, k.spawn({ comm: "producer" })), new Libc(k, k.spawn({ comm: "consumer" }))];
}

// A device whose driver serves the current message by read(), an ioctl, or a mapped buffer.
function device(k: Kernel, size: number, msg: (i: number) => Uint8Array): (i: number) => void {
  const pages = Math.ceil(size / 4096);
  let order = 0;
  while (1 << order < pages) order++;
  const pfn = k.vmm.phys.alloc_pages(GFP_KERNEL, order);
  const data = k.vmm.kmem.view(k.vmm.kmem.page_address(pfn), size);
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  insmod.init_module({
    name: "benchdev",
    init: () => {
      const owner = k.modules.find_module("benchdev") as Module;
      const major = k.chrdevs.register_chrdev(
        0,
        "benchdev",
        {
          owner,
          read: (_f: File, buf: number, count: number) => {
            const n = Math.min(count, size);
            return k.vmm.copy_to_user(buf, data.subarray(0, n), n) === 0 ? n : -14;
          },
          unlocked_ioctl: (_f: File, _cmd: number, arg: number) =>
            k.vmm.copy_to_user(arg, data, size) === 0 ? 0 : -14,
          mmap: (_f: File, vma: Vma) =>
            vma.vm_mm.remap_pfn_range(vma, vma.vm_start, pfn, vma.vm_end - vma.vm_start),
        },
        owner,
      );
      k.mknod("benchdev", MKDEV(major, 0));
      return 0;
    },
  });
  return (i) => data.set(msg(i));
}

function rig(s: Scenario): Rig {
  const k = new Kernel({ traceLimit: 0, ram: 256 << 20 });
  const { size } = s;
  const pingpong = s.pattern === "ping-pong";
  const msg = messenger(size);
  switch (s.mechanism) {
    case "pipe":
    case "fifo":
    case "unix-stream":
    case "unix-dgram": {
      const [a, b] = two(k);
      // Two channels, each [writer, its fd, reader, its fd]. Nonblocking: one loop drives both ends, so a full
      // buffer must give a short write, not a sleep.
      type End = readonly [Libc, number];
      let chans: [End, End, End, End];
      if (s.mechanism === "fifo") {
        // Two named pipes between two processes, opened as a shell pipeline's ends would be (reader first).
        const open = (l: Libc, path: string, flags: number) => l.open(path, flags | O_NONBLOCK) as number;
        a.mkfifo("/tmp/bench-ab", 0o600);
        a.mkfifo("/tmp/bench-ba", 0o600);
        const br = open(b, "/tmp/bench-ab", O_RDONLY);
        const aw = open(a, "/tmp/bench-ab", O_WRONLY);
        const ar = open(a, "/tmp/bench-ba", O_RDONLY);
        const bw = open(b, "/tmp/bench-ba", O_WRONLY);
        chans = [
          [a, aw],
          [b, br],
          [b, bw],
          [a, ar],
        ];
      } else if (s.mechanism === "pipe") {
        // One process holds both pipes, as a parent does before fork: the costs are the same.
        const ab = a.pipe(0o4000) as [number, number];
        const ba = a.pipe(0o4000) as [number, number];
        chans = [
          [a, ab[1]],
          [a, ab[0]],
          [a, ba[1]],
          [a, ba[0]],
        ];
      } else {
        const type = (s.mechanism === "unix-stream" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK;
        const [x, y] = a.socketpair(AF_UNIX, type) as [number, number];
        chans = [
          [a, x],
          [a, y],
          [a, y],
          [a, x],
        ];
      }
      const [[wl, fdw], [rl, fdr], [wl2, fdw2], [rl2, fdr2]] = chans;
      const src = wl.malloc(size);
      const dst = rl.malloc(size);
      const back = rl2.malloc(size);
      const moveAll = (w: Libc, fw: number, from: number, r: Libc, fr: number, to: number) => {
        for (let done = 0; done < size; ) {
          const n = k.sys.write(w.task, fw, from + done, size - done) as number;
          if (n <= 0) return false;
          let got = 0;
          while (got < n) {
            const m = k.sys.read(r.task, fr, to + done + got, n - got) as number;
            if (m <= 0) return false;
            got += m;
          }
          done += n;
        }
        return true;
      };
      // The answer goes back from the consumer's buffer: in the same process for pipe and sockets.
      const answer = rl === wl2 ? dst : wl2.malloc(size);
      return {
        k,
        step: (i) => {
          wl.poke(src, msg(i));
          if (!moveAll(wl, fdw, src, rl, fdr, dst)) return false;
          if (!pingpong) return intactAt(rl.peek(dst, size), i, size);
          if (answer !== dst) wl2.poke(answer, rl.peek(dst, size));
          if (!moveAll(wl2, fdw2, answer, rl2, fdr2, back)) return false;
          return intactAt(rl2.peek(back, size), i, size);
        },
      };
    }
    case "netlink": {
      const [a, b] = two(k);
      const ra = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
      const rb = b.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
      a.bind(ra, {});
      b.bind(rb, {});
      for (const [l, fd] of [
        [a, ra],
        [b, rb],
      ] as const)
        l.setsockopt(fd, 1, 8, 1 << 22); // SO_RCVBUF
      const toB = a.dup(Uint8Array.of(16, 0, 0, 0, ...le32(b.task.pid), 0, 0, 0, 0));
      const toA = b.dup(Uint8Array.of(16, 0, 0, 0, ...le32(a.task.pid), 0, 0, 0, 0));
      const src = a.malloc(size);
      const dst = b.malloc(size);
      const back = a.malloc(size);
      return {
        k,
        step: (i) => {
          a.poke(src, msg(i));
          k.sys.sendto(a.task, ra, src, size, MSG_DONTWAIT, toB, 12);
          if (k.sys.recvfrom(b.task, rb, dst, size, MSG_DONTWAIT) !== size) return false;
          if (!pingpong) return intactAt(b.peek(dst, size), i, size);
          k.sys.sendto(b.task, rb, dst, size, MSG_DONTWAIT, toA, 12);
          if (k.sys.recvfrom(a.task, ra, back, size, MSG_DONTWAIT) !== size) return false;
          return intactAt(a.peek(back, size), i, size);
        },
      };
    }
    case "netlink-multicast": {
      const sk = k.netlink.netlink_kernel_create(25, { flags: NL_CFG_F_NONROOT_RECV })!;
      const rx = Array.from({ length: s.receivers ?? 1 }, () => {
        const l = new Libc(k, k.spawn({ comm: "listener" }));
        const fd = l.socket(AF_NETLINK, SOCK_RAW, 25);
        l.bind(fd, { nl_groups: 1 });
        return { l, fd, buf: l.malloc(size + 16) };
      });
      return {
        k,
        step: (i) => {
          const skb = k.netlink.nlmsg_new(size);
          const at = skb.put(16 + ((size + 3) & ~3));
          const b = skb.buffer;
          new DataView(b.buffer, b.byteOffset).setUint32(at, 16 + size, true);
          b[at + 4] = 0x10;
          b.set(msg(i), at + 16);
          k.netlink.nlmsg_multicast(sk, skb, 0, 1);
          return rx.every(
            (r) =>
              k.sys.recvfrom(r.l.task, r.fd, r.buf, size + 16, MSG_DONTWAIT) === 16 + ((size + 3) & ~3) &&
              intactAt(r.l.peek(r.buf + 16, size), i, size),
          );
        },
      };
    }
    case "read":
    case "ioctl":
    case "mmap": {
      const set = device(k, size, msg);
      const [, b] = two(k);
      const fd = b.open("/dev/benchdev", O_RDONLY) as number;
      if (s.mechanism === "mmap") {
        const view = b.mmap(0, Math.ceil(size / 4096) * 4096, PROT_READ, MAP_SHARED, fd);
        return {
          k,
          step: (i) => {
            set(i);
            return intactAt(b.peek(view, size), i, size);
          },
        };
      }
      const dst = b.mmap(
        0,
        Math.ceil(size / 4096) * 4096,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS,
        -1,
      );
      return {
        k,
        step: (i) => {
          set(i);
          const r =
            s.mechanism === "read"
              ? k.sys.read(b.task, fd, dst, size)
              : k.sys.ioctl(b.task, fd, 0x80000000 | ((size & 0x3fff) << 16) | 0x4201, dst);
          return (r === size || r === 0) && intactAt(b.peek(dst, size), i, size);
        },
      };
    }
    case "shm-futex": {
      const [a, b] = two(k);
      const len = Math.ceil(size / 4096) * 4096 + 4096;
      const fa = shm_open(a, "/bench", O_CREAT | O_RDWR, 0o666);
      a.ftruncate(fa, len);
      const fb = shm_open(b, "/bench", O_RDWR);
      const pa = a.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fa);
      const pb = b.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fb);
      const word = len - 4096;
      return {
        k,
        step: (i) => {
          a.poke(pa, msg(i));
          a.poke(pa + word, Uint8Array.from(le32(2 * i + 1)));
          k.sys.futex(a.task, pa + word, FUTEX_WAKE, 1);
          k.sys.futex(b.task, pb + word, FUTEX_WAIT, 2 * i); // the word moved on: no sleep
          const ok = intactAt(b.peek(pb, size), i, size);
          if (!pingpong) return ok;
          b.poke(pb + word, Uint8Array.from(le32(2 * i + 2)));
          k.sys.futex(b.task, pb + word, FUTEX_WAKE, 1);
          k.sys.futex(a.task, pa + word, FUTEX_WAIT, 2 * i + 1);
          return ok;
        },
      };
    }
    case "sysfs": {
      const [, b] = two(k);
      const current = new Uint8Array(size);
      k.sysfs.createFile("bench", "dev0", "message", {
        mode: 0o444,
        show: (buf) => {
          buf.set(current);
          return size;
        },
      });
      const path = b.dup(utf8Encode("/sys/class/bench/dev0/message\0"));
      const dst = b.malloc(size);
      return {
        k,
        step: (i) => {
          current.set(msg(i));
          const fd = k.sys.open(b.task, path, O_RDONLY) as number;
          const r = k.sys.read(b.task, fd, dst, size);
          k.sys.close(b.task, fd);
          return r === size && intactAt(b.peek(dst, size), i, size);
        },
      };
    }
  }
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

/** A scenario set up on a fresh simulated kernel, to be driven one message at a time (by your own harness). */
export interface ModelRig {
  /** The simulated kernel it runs on: `syscallCount` and `vmm.uaccessStats()` count what each message costs. */
  readonly kernel: Kernel;
  /**
   * Moves message `i` — a round trip for ping-pong, every receiver's copy for fan-out — and returns whether it
   * arrived intact (each `i` fills the message differently, so a stale or mixed-up message shows).
   */
  readonly step: (i: number) => boolean;
}

/**
 * Sets `scenario` up on a fresh simulated kernel — the processes, descriptors, buffers and, for the device paths, a
 * loaded module — and returns it ready to move messages; {@link runModel} is this plus the timing and the counts.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a malformed scenario, EOPNOTSUPP for one the mechanism cannot do
 */
export function openModel(scenario: Scenario): ModelRig {
  checkScenario(scenario);
  const { k, step } = rig(scenario);
  return { kernel: k, step };
}

/**
 * Runs `scenario` on a fresh simulated kernel and returns its costs per message: system calls, bytes copied between
 * user and kernel, copies of the data, faults, and the model's wall time. The run is one untimed warm-up sample and
 * `samples` timed ones (tinybench), each of `count` messages; the counted costs are averaged over every message.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a malformed scenario, EOPNOTSUPP for one the mechanism cannot do
 */
export function runModel(scenario: Scenario): ModelResult {
  const { kernel: k, step } = openModel(scenario);
  const { count } = scenario;
  const calls0 = k.syscallCount;
  const before = k.vmm.uaccessStats();
  let intact = true;
  let moved = 0;
  const bench = new Bench({
    iterations: scenario.samples ?? DEFAULT_SAMPLES,
    time: 0,
    warmupIterations: 1,
    warmupTime: 0,
    retainSamples: true,
    throws: true,
  });
  bench.add("model", () => {
    for (let j = 0; j < count; j++) if (!step(moved++)) intact = false;
  });
  bench.runSync();
  const result = bench.tasks[0]?.result;
  const samples = result !== undefined && "latency" in result ? result.latency.samples : undefined;
  if (samples === undefined || samples.length === 0)
    throw new KernelError("EIO", "the model run produced no samples", { op: "runModel" });
  const after = k.vmm.uaccessStats();
  const bytesCopied = (after.bytesCopied - before.bytesCopied) / moved;
  return {
    scenario,
    syscalls: (k.syscallCount - calls0) / moved,
    bytesCopied,
    copies: Math.round(bytesCopied / scenario.size),
    faults: (after.faultsResolved - before.faultsResolved) / moved,
    wall: summarize(Array.from(samples, (ms) => (ms * 1e6) / count)),
    intact,
  };
}
