// A random test across the mechanisms of the simulated kernel: processes spawn, fork, kill and exit while they use
// pipes, unix socket pairs (passing descriptors with SCM_RIGHTS), netlink sockets, shared memory with futexes and
// /proc files, in random order. At the end, after every process exits, nothing is left: no pipe page, no skb, no
// file in flight, no socket, no shared-memory page, no futex waiter, no module reference, and every frame is free.
import { type File, type Module, O_RDONLY, O_RDWR } from "@kbridge/chrdev";
import { MKDEV } from "@kbridge/uapi";
import { GFP_KERNEL, MAP_SHARED, PROT_READ, type Vma } from "@kbridge/vmm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AF_NETLINK,
  AF_UNIX,
  FUTEX_WAIT,
  FUTEX_WAKE,
  futexWaiters,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  NETLINK,
  O_CREAT,
  pipefs,
  SCM_RIGHTS,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
  SOL_SOCKET,
  shm_open,
} from "../src/index.js";

type Op =
  | { op: "spawn" }
  | { op: "fork" | "exit" | "kill"; who: number }
  | { op: "pipe" | "socketpair" | "netlink" | "shm" | "proc"; who: number; kind: number }
  | { op: "write" | "read" | "close" | "pass" | "wait" | "wake"; who: number; fd: number; n: number };

const who = fc.nat(5);
const fd = fc.nat(7);
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("spawn" as const) }), weight: 1 },
  {
    arbitrary: fc.record({ op: fc.constantFrom("fork" as const, "exit" as const, "kill" as const), who }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom(
        "pipe" as const,
        "socketpair" as const,
        "netlink" as const,
        "shm" as const,
        "proc" as const,
      ),
      who,
      kind: fc.nat(3),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom(
        "write" as const,
        "read" as const,
        "close" as const,
        "pass" as const,
        "wait" as const,
        "wake" as const,
      ),
      who,
      fd,
      n: fc.integer({ min: 1, max: 9000 }),
    }),
    weight: 10,
  },
  // Passing descriptors over the first sockets a process made (socketpair right after a pipe: fds 2 and 3).
  {
    arbitrary: fc.record({
      op: fc.constant("pass" as const),
      who,
      fd: fc.constantFrom(0, 2, 3),
      n: fc.nat(7),
    }),
    weight: 3,
  },
);

const stats = { moved: 0, passed: 0, sleeps: 0 };

function run(ops: Op[]): void {
  const k = new Kernel();
  const framesAtBoot = k.vmm.phys.stats().usedFrames;
  // A module with a character device the processes open (and map): its references must all come back.
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  const page = k.vmm.phys.alloc_pages(GFP_KERNEL, 0);
  let major = 0;
  expect(
    insmod.init_module({
      name: "rnd",
      init: () => {
        const owner = k.modules.find_module("rnd") as Module;
        major = k.chrdevs.register_chrdev(
          0,
          "rnd",
          { owner, mmap: (_f: File, vma: Vma) => vma.vm_mm.remap_pfn_range(vma, vma.vm_start, page, 4096) },
          owner,
        );
        k.mknod("rnd", MKDEV(major, 0));
        return 0;
      },
      exit: () => {
        k.chrdevs.unregister_chrdev(major, "rnd");
        k.unlinkDev("rnd");
        k.vmm.phys.__free_pages(page, 0);
      },
    }),
  ).toBe(0);
  const procs: Libc[] = [new Libc(k, k.spawn()), new Libc(k, k.spawn({ uid: 1000 }))];
  const maps = new Map<Libc, number>(); // a process's shared mapping (futex word at +4096)
  const pick = (i: number) => procs[i % procs.length];
  const pending: Promise<unknown>[] = [];
  for (const o of ops) {
    if (o.op === "spawn") {
      procs.push(new Libc(k, k.spawn()));
      continue;
    }
    const p = pick(o.who);
    if (p === undefined) continue;
    switch (o.op) {
      case "fork":
        procs.push(new Libc(k, k.fork(p.task)));
        break;
      case "exit":
        k.exit(p.task, 0);
        procs.splice(procs.indexOf(p), 1);
        break;
      case "kill":
        k.kill(p.task, 2);
        break;
      case "pipe":
        p.pipe(o.kind === 1 ? 0o4000 : 0);
        break;
      case "socketpair":
        p.socketpair(AF_UNIX, o.kind % 2 ? SOCK_DGRAM : SOCK_STREAM);
        break;
      case "netlink": {
        const s = p.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
        if (s >= 0) p.bind(s, { nl_groups: o.kind });
        break;
      }
      case "shm": {
        const f = shm_open(p, `/m${o.kind}`, O_CREAT | O_RDWR, 0o666);
        if (f < 0) break;
        p.ftruncate(f, 8192);
        const a = p.mmap(0, 8192, 3, 1, f);
        if (a > 0) maps.set(p, a);
        break;
      }
      case "proc":
        if (o.kind === 3) {
          const d = p.open("/dev/rnd", O_RDWR) as number;
          if (d >= 0) p.mmap(0, 4096, PROT_READ, MAP_SHARED, d);
        } else p.open(o.kind % 2 ? "/proc/self/maps" : "/proc/devices", O_RDONLY);
        break;
      case "write": {
        const r = p.write(o.fd, new Uint8Array(o.n).fill(o.n & 0xff));
        if (r instanceof Promise) {
          stats.sleeps++;
          pending.push(r);
        } else if (r > 0) stats.moved += r;
        break;
      }
      case "read": {
        const r = k.sys.read(p.task, o.fd, p.malloc(o.n), o.n);
        if (r instanceof Promise) {
          stats.sleeps++;
          pending.push(r);
        }
        break;
      }
      case "close":
        p.close(o.fd);
        break;
      case "pass": {
        // SCM_RIGHTS: the descriptor o.n % 8 over the unix socket o.fd.
        const c = new Uint8Array(24);
        const dv = new DataView(c.buffer);
        dv.setBigUint64(0, 20n, true);
        dv.setInt32(8, SOL_SOCKET, true);
        dv.setInt32(12, SCM_RIGHTS, true);
        dv.setInt32(16, o.n % 8, true);
        const r = p.sendmsg(o.fd, { iov: [Uint8Array.of(1)], control: c }, MSG_DONTWAIT);
        if (r === 1) stats.passed++;
        break;
      }
      case "wait": {
        const a = maps.get(p);
        if (a === undefined || p.task.exited) break;
        const r = p.futex(a + 4096, FUTEX_WAIT, 0);
        if (r instanceof Promise) pending.push(r);
        break;
      }
      case "wake": {
        const a = maps.get(p);
        if (a !== undefined && !p.task.exited) p.futex(a + 4096, FUTEX_WAKE, o.n);
        break;
      }
    }
  }
  for (const p of [...procs]) k.exit(p.task, 0);
  k.exit(insmod.task, 0);
  expect(k.tasks.size).toBe(0);
  // A socket sent over itself (or a ring of them) is collected by the next unix_gc() — which the kernel runs at the
  // next release of any unix socket — not when its last descriptor closes.
  k.unix.unix_gc();
  expect(pipefs(k).pagesInUse).toBe(0);
  expect(k.unix.sockets).toBe(0);
  expect(k.unix.skbsInFlight).toBe(0);
  expect(k.unix.filesInFlight).toBe(0);
  expect(k.netlink.skbsInUse()).toBe(0);
  expect(k.netlink.sockets().filter((s) => !s.kernel)).toEqual([]);
  expect(futexWaiters(k)).toBe(0);
  // The shared-memory objects keep their names (and pages) until unlinked, as on tmpfs.
  // Every open and mapping of the device is gone with its process: the module unloads.
  expect(k.modules.delete_module("rnd")).toBe(0);
  const root = k.spawn();
  for (const name of k.shm.names()) expect(k.shm.unlink(`/dev/shm/${name}`, root.cred)).toBe(0);
  k.exit(root, 0);
  expect(k.shm.pagesInUse).toBe(0);
  expect(k.vmm.phys.stats().usedFrames).toBe(framesAtBoot);
}

describe("every mechanism, processes coming and going in random order", () => {
  it("leaves nothing behind", { timeout: 120_000 }, () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 60 }), (ops) => run(ops)),
      { numRuns: 60 },
    );
    // The sequences moved data, passed descriptors and slept (so the final checks had something to find).
    expect(stats.moved).toBeGreaterThan(10000);
    expect(stats.passed).toBeGreaterThan(5);
  });
});
