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
import type { Summary } from "./stats.js";
import { batchBench, perMessage } from "./timing.js";

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
  /**
   * Page faults resolved during copies, per message: first touches of pages, spread over every message of the run
   * (so they shrink as `count` and `samples` grow).
   */
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
 * @internal Checks that `s` is a scenario at all: an object with a known mechanism and pattern.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL naming what is wrong
 */
export function checkShape(s: Scenario, op: string): void {
  if (s === null || typeof s !== "object")
    throw new KernelError("EINVAL", `scenario ${String(s)} is not an object`, { op });
  if (!MECHANISMS.includes(s.mechanism))
    throw new KernelError(
      "EINVAL",
      `mechanism ${String(s.mechanism)} is not one of ${MECHANISMS.join(", ")}`,
      {
        op,
      },
    );
  if (!PATTERNS.includes(s.pattern))
    throw new KernelError("EINVAL", `pattern ${String(s.pattern)} is not one of ${PATTERNS.join(", ")}`, {
      op,
    });
}

/**
 * Whether the model can run `s` (a mechanism that supports the pattern and the size), and why not.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for something that is not a scenario (an unknown mechanism or pattern)
 */
export function supported(s: Scenario): string | undefined {
  checkShape(s, "supported");
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
  checkShape(s, "runModel");
  if (!Number.isInteger(s.size) || s.size < 1 || s.size > MAX_SIZE)
    throw bad(`size ${String(s.size)} is not 1..${MAX_SIZE}`);
  if (!Number.isInteger(s.count) || s.count < 1 || s.count > 1_000_000)
    throw bad(`count ${String(s.count)} is not 1..1000000`);
  const r = s.receivers ?? 1;
  if (!Number.isInteger(r) || r < 1 || r > 256) throw bad(`receivers ${String(r)} is not 1..256`);
  if (r * s.size > 64 << 20)
    throw bad(`receivers ${r} × size ${s.size} is more than the model's 64 MiB for them`);
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
  // Fan-out: one message to R receivers, each with its own channel (or mapping); R = 1 otherwise.
  const R = s.pattern === "fan-out" ? (s.receivers ?? 1) : 1;
  const msg = messenger(size);
  const all = (f: (r: number) => boolean) => {
    let ok = true;
    for (let r = 0; r < R; r++) if (!f(r)) ok = false;
    return ok;
  };
  switch (s.mechanism) {
    case "pipe":
    case "fifo":
    case "unix-stream":
    case "unix-dgram": {
      const [a, b] = two(k);
      // A channel is [writer, its fd, reader, its fd]. Nonblocking: one loop drives both ends, so a full buffer
      // must give a short write, not a sleep.
      type End = readonly [Libc, number];
      type Channel = readonly [End, End];
      let made = 0;
      const channel = (from: Libc, to: Libc): Channel => {
        const n = made++;
        if (s.mechanism === "fifo") {
          // A named pipe between two processes, opened as a shell pipeline's ends are (reader first).
          const path = `/tmp/bench-${n}`;
          a.mkfifo(path, 0o600);
          const rd = to.open(path, O_RDONLY | O_NONBLOCK) as number;
          return [
            [from, from.open(path, O_WRONLY | O_NONBLOCK) as number],
            [to, rd],
          ];
        }
        // Pipes and socket pairs: one process holds both ends, as a parent does before fork; the costs are the same.
        if (s.mechanism === "pipe") {
          const [rd, wr] = a.pipe(0o4000) as [number, number];
          return [
            [a, wr],
            [a, rd],
          ];
        }
        const type = (s.mechanism === "unix-stream" ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK;
        const [x, y] = a.socketpair(AF_UNIX, type) as [number, number];
        return [
          [a, x],
          [a, y],
        ];
      };
      const out = Array.from({ length: R }, () => channel(a, b));
      const back = pingpong ? channel(b, a) : undefined;
      const src = a.malloc(size);
      const dst = out.map(([, [rl]]) => rl.malloc(size));
      const ret = back === undefined ? 0 : back[1][0].malloc(size);
      const moveAll = ([[w, fw], [r, fr]]: Channel, from: number, to: number) => {
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
      return {
        k,
        step: (i) => {
          a.poke(src, msg(i));
          const ok = all((r) => {
            const c = out[r]!;
            return moveAll(c, src, dst[r]!) && intactAt(c[1][0].peek(dst[r]!, size), i, size);
          });
          if (back === undefined) return ok;
          // The consumer answers from the buffer it read into (the way back's writer is the way out's reader).
          return moveAll(back, dst[0]!, ret) && intactAt(back[1][0].peek(ret, size), i, size) && ok;
        },
      };
    }
    case "netlink": {
      // Unicast: a socket per process; fan-out sends to each receiver's port in turn.
      const open = (l: Libc) => {
        const fd = l.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK) as number;
        l.bind(fd, {});
        l.setsockopt(fd, 1, 8, 1 << 22); // SO_RCVBUF
        return fd;
      };
      const a = new Libc(k, k.spawn({ comm: "producer" }));
      const ra = open(a);
      const rx = Array.from({ length: R }, () => {
        const l = new Libc(k, k.spawn({ comm: "consumer" }));
        const fd = open(l);
        return {
          l,
          fd,
          dst: l.malloc(size),
          to: a.dup(Uint8Array.of(16, 0, 0, 0, ...le32(l.task.pid), 0, 0, 0, 0)),
        };
      });
      const b = rx[0]!;
      const toA = b.l.dup(Uint8Array.of(16, 0, 0, 0, ...le32(a.task.pid), 0, 0, 0, 0));
      const src = a.malloc(size);
      const back = a.malloc(size);
      return {
        k,
        step: (i) => {
          a.poke(src, msg(i));
          const ok = all((r) => {
            const x = rx[r]!;
            k.sys.sendto(a.task, ra, src, size, MSG_DONTWAIT, x.to, 12);
            return (
              k.sys.recvfrom(x.l.task, x.fd, x.dst, size, MSG_DONTWAIT) === size &&
              intactAt(x.l.peek(x.dst, size), i, size)
            );
          });
          if (!pingpong) return ok;
          k.sys.sendto(b.l.task, b.fd, b.dst, size, MSG_DONTWAIT, toA, 12);
          if (k.sys.recvfrom(a.task, ra, back, size, MSG_DONTWAIT) !== size) return false;
          return ok && intactAt(a.peek(back, size), i, size);
        },
      };
    }
    case "netlink-multicast": {
      const sk = k.netlink.netlink_kernel_create(25, { flags: NL_CFG_F_NONROOT_RECV })!;
      // The message on the wire: its header, then the payload padded to 4 bytes (NLMSG_ALIGN).
      const wire = 16 + ((size + 3) & ~3);
      const rx = Array.from({ length: R }, () => {
        const l = new Libc(k, k.spawn({ comm: "listener" }));
        const fd = l.socket(AF_NETLINK, SOCK_RAW, 25);
        l.bind(fd, { nl_groups: 1 });
        return { l, fd, buf: l.malloc(wire) };
      });
      return {
        k,
        step: (i) => {
          const skb = k.netlink.nlmsg_new(size);
          const at = skb.put(wire);
          const b = skb.buffer;
          new DataView(b.buffer, b.byteOffset).setUint32(at, 16 + size, true);
          b[at + 4] = 0x10;
          b.set(msg(i), at + 16);
          k.netlink.nlmsg_multicast(sk, skb, 0, 1);
          return all((r) => {
            const x = rx[r]!;
            return (
              k.sys.recvfrom(x.l.task, x.fd, x.buf, wire, MSG_DONTWAIT) === wire &&
              intactAt(x.l.peek(x.buf + 16, size), i, size)
            );
          });
        },
      };
    }
    case "read":
    case "ioctl":
    case "mmap": {
      // The device produces each message once; every receiver (a process of its own) reads it, or sees it mapped.
      const set = device(k, size, msg);
      const span = Math.ceil(size / 4096) * 4096;
      const rx = Array.from({ length: R }, () => {
        const l = new Libc(k, k.spawn({ comm: "consumer" }));
        const fd = l.open("/dev/benchdev", O_RDONLY) as number;
        const at =
          s.mechanism === "mmap"
            ? l.mmap(0, span, PROT_READ, MAP_SHARED, fd)
            : l.mmap(0, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
        return { l, fd, at };
      });
      return {
        k,
        step: (i) => {
          set(i);
          return all((r) => {
            const { l, fd, at } = rx[r]!;
            if (s.mechanism !== "mmap") {
              const got =
                s.mechanism === "read"
                  ? k.sys.read(l.task, fd, at, size)
                  : k.sys.ioctl(l.task, fd, 0x80000000 | ((size & 0x3fff) << 16) | 0x4201, at);
              if (got !== size && got !== 0) return false;
            }
            return intactAt(l.peek(at, size), i, size);
          });
        },
      };
    }
    case "shm-futex": {
      // The producer writes the message into the shared pages and bumps a word; waiters wake on it (one FUTEX_WAKE
      // for all of a fan-out's receivers).
      const a = new Libc(k, k.spawn({ comm: "producer" }));
      const len = Math.ceil(size / 4096) * 4096 + 4096;
      const word = len - 4096;
      const fa = shm_open(a, "/bench", O_CREAT | O_RDWR, 0o666);
      a.ftruncate(fa, len);
      const pa = a.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fa);
      const rx = Array.from({ length: R }, () => {
        const l = new Libc(k, k.spawn({ comm: "consumer" }));
        const fb = shm_open(l, "/bench", O_RDWR);
        return { l, p: l.mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fb) };
      });
      const b = rx[0]!;
      return {
        k,
        step: (i) => {
          a.poke(pa, msg(i));
          a.poke(pa + word, Uint8Array.from(le32(2 * i + 1)));
          k.sys.futex(a.task, pa + word, FUTEX_WAKE, R);
          const ok = all((r) => {
            const { l, p } = rx[r]!;
            k.sys.futex(l.task, p + word, FUTEX_WAIT, 2 * i); // the word moved on: no sleep
            return intactAt(l.peek(p, size), i, size);
          });
          if (!pingpong) return ok;
          b.l.poke(b.p + word, Uint8Array.from(le32(2 * i + 2)));
          k.sys.futex(b.l.task, b.p + word, FUTEX_WAKE, 1);
          k.sys.futex(a.task, pa + word, FUTEX_WAIT, 2 * i + 1);
          return ok;
        },
      };
    }
    case "sysfs": {
      const current = new Uint8Array(size);
      k.sysfs.createFile("bench", "dev0", "message", {
        mode: 0o444,
        show: (buf) => {
          buf.set(current);
          return size;
        },
      });
      const rx = Array.from({ length: R }, () => {
        const l = new Libc(k, k.spawn({ comm: "reader" }));
        return { l, path: l.dup(utf8Encode("/sys/class/bench/dev0/message\0")), dst: l.malloc(size) };
      });
      return {
        k,
        step: (i) => {
          current.set(msg(i));
          return all((r) => {
            const { l, path, dst } = rx[r]!;
            const fd = k.sys.open(l.task, path, O_RDONLY) as number;
            const got = k.sys.read(l.task, fd, dst, size);
            k.sys.close(l.task, fd);
            return got === size && intactAt(l.peek(dst, size), i, size);
          });
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
  const bench = batchBench(
    "model",
    () => {
      for (let j = 0; j < count; j++) if (!step(moved++)) intact = false;
    },
    scenario.samples ?? DEFAULT_SAMPLES,
    false,
  );
  bench.runSync();
  const wall = perMessage(bench, count, "runModel");
  const after = k.vmm.uaccessStats();
  const bytesCopied = (after.bytesCopied - before.bytesCopied) / moved;
  return {
    scenario,
    syscalls: (k.syscallCount - calls0) / moved,
    bytesCopied,
    copies: Math.round(bytesCopied / scenario.size),
    faults: (after.faultsResolved - before.faultsResolved) / moved,
    wall,
    intact,
  };
}
