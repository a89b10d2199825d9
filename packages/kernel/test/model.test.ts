// A random test of processes and netlink sockets: random sequences of spawn, fork, socket, bind, join, send
// (unicast and multicast), receive, close and exit, on USERSOCK and on a module's protocol. Throughout, every
// socket's rmem equals the truesize of its queue; at the end, after every task exits and the module unloads, no
// skb, socket, descriptor, frame or module reference is left.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AF_NETLINK,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  NETLINK,
  NETLINK_SOCKOPT,
  type NetlinkSock,
  SOCK_RAW,
  SOL_NETLINK,
} from "../src/index.js";

const PROTO = 25;

type Action =
  | { op: "spawn"; root: boolean }
  | { op: "fork"; who: number }
  | { op: "exit"; who: number }
  | { op: "socket"; who: number; proto: number }
  | { op: "bind"; who: number; fd: number; groups: number }
  | { op: "join"; who: number; fd: number; group: number }
  | { op: "send"; who: number; fd: number; to: number; group: number; size: number }
  | { op: "recv"; who: number; fd: number; len: number }
  | { op: "close"; who: number; fd: number }
  | { op: "kill"; who: number };

const who = fc.nat(5);
const fd = fc.nat(1);
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("spawn" as const), root: fc.boolean() }), weight: 1 },
  fc.record({ op: fc.constant("fork" as const), who }),
  fc.record({ op: fc.constant("exit" as const), who }),
  fc.record({ op: fc.constant("socket" as const), who, proto: fc.constantFrom(NETLINK.USERSOCK, PROTO) }),
  fc.record({ op: fc.constant("bind" as const), who, fd, groups: fc.nat(7) }),
  fc.record({ op: fc.constant("join" as const), who, fd, group: fc.integer({ min: 0, max: 33 }) }),
  {
    arbitrary: fc.record({
      op: fc.constant("send" as const),
      who,
      fd,
      to: fc.nat(7),
      group: fc.nat(3),
      size: fc.integer({ min: 0, max: 3000 }),
    }),
    weight: 6,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("recv" as const),
      who,
      fd,
      len: fc.integer({ min: 0, max: 4096 }),
    }),
    weight: 4,
  },
  fc.record({ op: fc.constant("close" as const), who, fd }),
  fc.record({ op: fc.constant("kill" as const), who }),
);

const stats = { queued: 0, received: 0 };

function run(actions: Action[]): void {
  const k = new Kernel();
  const framesAtBoot = k.vmm.phys.stats().usedFrames;
  const admin = new Libc(k, k.spawn({ comm: "insmod" }));
  let ksk: NetlinkSock | null = null;
  const mod = {
    name: "nl_model",
    init: () => {
      ksk = k.netlink.netlink_kernel_create(PROTO, {
        groups: 4,
        input: (skb) => k.netlink.netlink_rcv_skb(skb, () => 0),
      });
      return ksk ? 0 : -12;
    },
    exit: () => {
      if (ksk) k.netlink.netlink_kernel_release(ksk);
    },
  };
  expect(admin.init_module(mod)).toBe(0);
  // Four processes to start with: three listening on USERSOCK group 1, one on the module's protocol.
  const procs: Libc[] = [];
  for (const proto of [NETLINK.USERSOCK, NETLINK.USERSOCK, NETLINK.USERSOCK, PROTO]) {
    const p = new Libc(k, k.spawn());
    const s = p.socket(AF_NETLINK, SOCK_RAW, proto);
    expect(p.bind(s, { nl_groups: 1 })).toBe(0);
    procs.push(p);
  }
  const pick = (i: number) => (procs.length === 0 ? undefined : procs[i % procs.length]);
  const pending: Promise<unknown>[] = [];
  for (const a of actions) {
    if (a.op === "spawn") {
      procs.push(new Libc(k, k.spawn(a.root ? {} : { uid: 1000 })));
      continue;
    }
    const p = pick(a.who);
    if (p === undefined) continue;
    switch (a.op) {
      case "fork":
        procs.push(new Libc(k, k.fork(p.task)));
        break;
      case "exit":
        k.exit(p.task, 0);
        procs.splice(procs.indexOf(p), 1);
        break;
      case "kill":
        expect(k.kill(p.task, 2)).toBe(0);
        break;
      case "socket":
        p.socket(AF_NETLINK, SOCK_RAW, a.proto);
        break;
      case "bind":
        p.bind(a.fd, { nl_groups: a.groups });
        break;
      case "join":
        p.setsockopt(a.fd, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, a.group);
        break;
      case "send": {
        // Port 0 (the kernel, or nobody on USERSOCK), or the port of an open socket.
        const ports = k.netlink.sockets().filter((s) => !s.kernel && s.bound);
        const dest = a.to === 0 || ports.length === 0 ? 0 : ports[a.to % ports.length]!.portid;
        const msg = new Uint8Array(a.size);
        if (a.size >= 16) {
          const dv = new DataView(msg.buffer);
          dv.setUint32(0, a.size, true);
          dv.setUint16(4, 0x10, true);
          dv.setUint16(6, 0x5, true);
        }
        const r = p.sendto(a.fd, msg, MSG_DONTWAIT, {
          nl_pid: dest,
          nl_groups: a.group === 0 ? 0 : 1 << (a.group - 1),
        });
        if (r instanceof Promise) pending.push(r);
        if (k.netlink.skbsInUse() > 0) stats.queued++;
        break;
      }
      case "recv": {
        const r = p.recvmsg(a.fd, a.len, a.len % 8 === 0 ? 0 : MSG_DONTWAIT);
        if (r instanceof Promise) pending.push(r);
        else if (r.ret >= 0) stats.received++;
        break;
      }
      case "close":
        p.close(a.fd);
        break;
    }
    for (const s of k.netlink.sockets()) {
      let queued = 0;
      for (const skb of s.queue) queued += skb.truesize;
      expect(s.rmem).toBe(queued);
    }
  }
  for (const p of [...procs]) k.exit(p.task, 0);
  k.exit(admin.task, 0);
  expect(k.modules.delete_module("nl_model")).toBe(0);
  expect(k.netlink.sockets().filter((s) => !s.kernel)).toEqual([]);
  expect(k.netlink.skbsInUse()).toBe(0);
  expect(k.vmm.phys.stats().usedFrames).toBe(framesAtBoot);
  expect(k.tasks.size).toBe(0);
  return void Promise.all(pending);
}

describe("processes and netlink sockets in random order", () => {
  it("leave nothing behind", { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 20, maxLength: 60 }), (actions) => {
        run(actions);
      }),
      { numRuns: 100 },
    );
    // The sequences did exercise delivery and reception (so the final checks had something to find).
    expect(stats.queued).toBeGreaterThan(100);
    expect(stats.received).toBeGreaterThan(50);
  });
});
