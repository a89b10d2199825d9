// Review of af-netlink.ts and syscalls.ts against Linux 6.12 (net/netlink/af_netlink.c, net/socket.c,
// net/core/scm.c, net/core/datagram.c): each test failed before its fix.
import { type File, type Module, O_RDWR, type PollTable, poll_wait, WaitQueueHead } from "@kbridge/chrdev";
import { NLM_F, nlmsgPut, type SkBuff } from "@kbridge/netlink-codec";
import { MKDEV } from "@kbridge/uapi";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  AF_NETLINK,
  AfNetlink,
  Cred,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  MSG_OOB,
  NETLINK,
  NETLINK_SOCKOPT,
  type NetlinkCaller,
  type NetlinkSock,
  type RecvResult,
  SIGINT,
  SO_RCVBUF,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../src/index.js";
import { message } from "./nl-message.js";

const root: NetlinkCaller = { tgid: 7366, pid: 7366, cred: new Cred({ uid: 0, gid: 0 }) };

function net(randoms: number[] = []): AfNetlink {
  let ino = 1000;
  return new AfNetlink({ random: () => randoms.shift() ?? 0x12345678, nextIno: () => ++ino });
}

function sock(af: AfNetlink, proto: number): NetlinkSock {
  const s = af.socket(SOCK_RAW, proto, root);
  if (typeof s === "number") throw new Error(`socket: ${s}`);
  return s;
}

function send(af: AfNetlink, s: NetlinkSock, bytes: Uint8Array, to = { portid: 0, groups: 0 }) {
  return af.sendmsg(
    s,
    { name: { family: AF_NETLINK, ...to }, len: bytes.length, flags: MSG_DONTWAIT },
    (dst) => {
      dst.set(bytes);
      return 0;
    },
    root,
  );
}

function recv(af: AfNetlink, s: NetlinkSock, len = 65536) {
  let got = new Uint8Array(0);
  const r = af.recvmsg(s, len, MSG_DONTWAIT, (src) => {
    got = src.slice();
    return 0;
  });
  if (r instanceof Promise) throw new Error("would block");
  return { ...r, got };
}

const sockOf = (libc: Libc, fd: number) => {
  const f = libc.task.fds[fd]!;
  if (f.object.kind !== "netlink") throw new Error("not a socket");
  return f.object.sock;
};

// A promise that has not settled after a few turns of the event loop is taken as hung.
const HUNG = Symbol("hung");
const settled = <T>(p: Promise<T>) =>
  Promise.race([p, new Promise<typeof HUNG>((r) => setTimeout(() => r(HUNG), 50))]);

describe("nlmsg_notify (af_netlink.c)", () => {
  function setup() {
    const af = net();
    const ksk = af.netlink_kernel_create(25, { input: () => {} })!;
    const s = sock(af, 25);
    expect(af.bind(s, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root)).toBe(0);
    const note = () => {
      const skb = af.nlmsg_new(4);
      nlmsgPut(skb, s.portid, 7, 0x10, 4, 0);
      return skb;
    };
    return { af, ksk, s, note };
  }

  it("without report, a requester that joined the group gets the multicast (only port 0 is excluded)", () => {
    const { af, ksk, s, note } = setup();
    expect(af.nlmsg_notify(ksk, note(), s.portid, 1, false)).toBe(0);
    expect(recv(af, s).result).toBe(20);
    expect(recv(af, s).result).toBe(-11);
    af.release(s);
    expect(af.skbsInUse()).toBe(0);
  });

  it("with report (NLM_F_ECHO), the requester is left out of the multicast and gets exactly one copy", () => {
    const { af, ksk, s, note } = setup();
    const other = sock(af, 25);
    af.bind(other, { family: AF_NETLINK, portid: 99, groups: 1 }, 12, root);
    expect(af.nlmsg_notify(ksk, note(), s.portid, 1, true)).toBe(0);
    expect(recv(af, s).result).toBe(20);
    expect(recv(af, s).result).toBe(-11);
    expect(recv(af, other).result).toBe(20);
    af.release(s);
    af.release(other);
    expect(af.skbsInUse()).toBe(0);
  });
});

describe("netlink_autobind (af_netlink.c) and get_random_u32_below (random.h)", () => {
  it("a random u32 whose product's low half is below (2^32 - ceil) % ceil is drawn again", () => {
    // The measured second port 4057722074 with a rejected 0 drawn first.
    const r = Math.ceil((1910238426 * 4294967296) / (2147483648 - 4096));
    const af = net([0, r]);
    const a = sock(af, NETLINK.USERSOCK);
    const b = sock(af, NETLINK.USERSOCK);
    af.bind(a, { family: AF_NETLINK, portid: 0, groups: 0 }, 12, root);
    af.bind(b, { family: AF_NETLINK, portid: 0, groups: 0 }, 12, root);
    expect(b.portid).toBe(4057722074);
  });

  it("the s32 rover wraps past S32_MIN and goes back to -4097", () => {
    const af = net([1]); // 1 × ceil < 2^32: the rover starts at S32_MIN
    const a = sock(af, NETLINK.USERSOCK);
    const b = sock(af, NETLINK.USERSOCK);
    const c = sock(af, NETLINK.USERSOCK);
    af.bind(a, { family: AF_NETLINK, portid: 7366, groups: 0 }, 12, root);
    af.bind(b, { family: AF_NETLINK, portid: 0x80000000, groups: 0 }, 12, root);
    expect(af.bind(c, { family: AF_NETLINK, portid: 0, groups: 0 }, 12, root)).toBe(0);
    expect(c.portid).toBe(0xffffefff); // -4097, not 0x7fffffff
  });
});

describe("netlink_trim (af_netlink.c) before unicast and broadcast", () => {
  it("a GETFAMILY reply built in NLMSG_DEFAULT_SIZE costs 832 after the trim: reply and ack fit rcvbuf 2304", () => {
    const k = new Kernel();
    const a = new Libc(k, k.spawn());
    const fd = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.GENERIC);
    expect(a.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 1)).toBe(0);
    const name = new TextEncoder().encode("nlctrl\0");
    const attr = new Uint8Array(12);
    new DataView(attr.buffer).setUint16(0, 4 + name.length, true);
    new DataView(attr.buffer).setUint16(2, 2, true); // CTRL_ATTR_FAMILY_NAME
    attr.set(name, 4);
    const req = message(0x10, NLM_F.REQUEST | NLM_F.ACK, 1, Uint8Array.from([3, 1, 0, 0, ...attr]));
    expect(a.sendto(fd, req, 0, {})).toBe(req.length);
    const s = sockOf(a, fd);
    expect(s.rmem).toBe(832 + 832);
    expect(s.drops).toBe(0);
    expect((a.recvmsg(fd, 8192, MSG_DONTWAIT) as RecvResult).ret).toBe(136);
    expect((a.recvmsg(fd, 8192, MSG_DONTWAIT) as RecvResult).ret).toBe(36);
  });

  it("a multicast of a mostly empty skb is trimmed too, and nothing leaks", () => {
    const af = net();
    const ksk = af.netlink_kernel_create(25, { input: () => {} })!;
    const s = sock(af, 25);
    af.bind(s, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root);
    const skb = af.nlmsg_new(3760);
    nlmsgPut(skb, 0, 0, 0x10, 100, 0);
    expect(skb.truesize).toBe(4352);
    expect(af.nlmsg_multicast(ksk, skb, 0, 1)).toBe(0);
    expect(s.rmem).toBe(832);
    expect(recv(af, s).result).toBe(116);
    af.release(s);
    expect(af.skbsInUse()).toBe(0);
  });
});

// A kernel socket on protocol 25 whose input starts a dump of `n` 100-byte messages (or runs `dump`).
function dumper(af: AfNetlink, n: number, dump?: (skb: SkBuff, cb: { extack?: { msg?: string } }) => number) {
  let ksk: NetlinkSock | undefined;
  ksk = af.netlink_kernel_create(25, {
    input: (skb) =>
      af.netlink_rcv_skb(skb, (s, nlh) =>
        af.netlink_dump_start(ksk!, s, nlh, {
          dump:
            dump ??
            ((out, cb) => {
              while (cb.args[0]! < n) {
                if (nlmsgPut(out, cb.portid, cb.nlh.seq, 0x10, 84, NLM_F.MULTI) === null) return out.len;
                cb.args[0]!++;
              }
              return 0;
            }),
        }),
      ),
  })!;
  return ksk;
}

describe("netlink_recvmsg and netlink_dump (af_netlink.c)", () => {
  it("max_recvmsg_len is recorded only by a recvmsg that got a datagram: an EAGAIN does not size dump chunks", () => {
    const af = net();
    dumper(af, 1000);
    const s = sock(af, 25);
    expect(recv(af, s, 65536).result).toBe(-11);
    expect(s.maxRecvmsgLen).toBe(0);
    send(af, s, message(0x10, NLM_F.REQUEST | NLM_F.DUMP, 1));
    const first = recv(af, s, 65536);
    expect(first.result).toBeLessThanOrEqual(3776);
    expect(s.maxRecvmsgLen).toBe(32448);
    expect(recv(af, s, 65536).result).toBeGreaterThan(3776);
    af.release(s);
    expect(af.skbsInUse()).toBe(0);
  });

  it("a NLMSG_DONE that did not fit goes out next call without the extack of the call that ended the dump", () => {
    const af = net();
    dumper(af, 0, (out, cb) => {
      nlmsgPut(out, 0, 1, 0x10, out.tailroom - 16 - 8, NLM_F.MULTI); // leaves 8 bytes: no room for DONE
      cb.extack!.msg = "dump ended early";
      return 0;
    });
    const s = sock(af, 25);
    af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1, 4, root);
    send(af, s, message(0x10, NLM_F.REQUEST | NLM_F.DUMP, 1));
    expect(recv(af, s).result).toBe(3768);
    const done = recv(af, s);
    expect(done.result).toBe(20);
    expect(new DataView(done.got.buffer).getUint16(6, true)).toBe(NLM_F.MULTI); // no NLM_F_ACK_TLVS
    af.release(s);
    expect(af.skbsInUse()).toBe(0);
  });

  it("datagram_poll: a netlink socket is always writable, EPOLLWRBAND included", () => {
    const af = net();
    const s = sock(af, NETLINK.USERSOCK);
    expect(af.poll(s) & 0x304).toBe(0x304);
  });
});

describe("sleeps end on a signal to the sleeping task only (netlink_attachskb, __skb_wait_for_more_packets)", () => {
  function full() {
    const k = new Kernel();
    const rx = new Libc(k, k.spawn({ comm: "rx" }));
    const rfd = rx.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    rx.bind(rfd, {});
    rx.setsockopt(rfd, SOL_SOCKET, SO_RCVBUF, 1);
    const tx = (comm: string) => {
      const l = new Libc(k, k.spawn({ comm }));
      return { l, fd: l.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK) };
    };
    const big = new Uint8Array(100); // truesize 832: two fill rcvbuf 2304
    const to = { nl_pid: rx.task.pid };
    const a = tx("a");
    expect(a.l.sendto(a.fd, big, 0, to)).toBe(100);
    expect(a.l.sendto(a.fd, big, 0, to)).toBe(100);
    return { k, rx, rfd, a, tx, big, to };
  }

  it("a blocking sendmsg into a full receiver ends with EINTR on a signal; another blocked sender keeps waiting", async () => {
    const { k, rx, rfd, a, tx, big, to } = full();
    const b = tx("b");
    const pa = a.l.sendto(a.fd, big, 0, to) as Promise<number>;
    const pb = b.l.sendto(b.fd, big, 0, to) as Promise<number>;
    expect(pa).toBeInstanceOf(Promise);
    k.kill(a.l.task, SIGINT);
    expect(await settled(pa)).toBe(-1);
    expect(a.l.errno).toBe(4);
    expect(await settled(pb)).toBe(HUNG);
    expect((rx.recvmsg(rfd, 1000, MSG_DONTWAIT) as RecvResult).ret).toBe(100);
    expect((rx.recvmsg(rfd, 1000, MSG_DONTWAIT) as RecvResult).ret).toBe(100);
    expect(await settled(pb)).toBe(100);
  });

  it("the exit of a task blocked in sendmsg ends the sleep and frees its skb", async () => {
    const { k, a, big, to } = full();
    const pa = a.l.sendto(a.fd, big, 0, to) as Promise<number>;
    k.exit(a.l.task, 0);
    expect(await settled(pa)).toBe(-1);
    for (const t of [...k.tasks.values()]) k.exit(t, 0);
    expect(k.netlink.skbsInUse()).toBe(0);
  });

  it("two tasks blocked in recvmsg on one socket (after fork): a signal to one leaves the other asleep", async () => {
    const k = new Kernel();
    const parent = new Libc(k, k.spawn({ comm: "parent" }));
    const fd = parent.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    parent.bind(fd, {});
    const child = new Libc(k, k.fork(parent.task));
    const pp = parent.recvmsg(fd, 100) as Promise<RecvResult>;
    const pc = child.recvmsg(fd, 100) as Promise<RecvResult>;
    k.kill(child.task, SIGINT);
    expect(((await settled(pc)) as RecvResult).ret).toBe(-1);
    expect(child.errno).toBe(4);
    expect(await settled(pp)).toBe(HUNG);
    const s = new Libc(k, k.spawn());
    const sfd = s.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    expect(s.sendto(sfd, new Uint8Array(20), 0, { nl_pid: parent.task.pid })).toBe(20);
    expect(((await settled(pp)) as RecvResult).ret).toBe(20);
  });
});

// A module with a character device /dev/ready whose ->poll waits on `wq` and reports POLLIN once `ready` is set.
function device(k: Kernel) {
  const wq = new WaitQueueHead();
  const state = { ready: false, wq };
  const admin = new Libc(k, k.spawn({ comm: "insmod" }));
  let major = 0;
  expect(
    admin.init_module({
      name: "ready",
      init: () => {
        const owner = k.modules.find_module("ready") as Module;
        major = k.chrdevs.register_chrdev(
          0,
          "ready",
          {
            owner,
            poll: (_f: File, pt: PollTable | undefined) => {
              poll_wait(wq, pt);
              return state.ready ? 0x41 : 0;
            },
          },
          owner,
        );
        k.mknod("ready", MKDEV(major, 0));
        return 0;
      },
      exit: () => {},
    }),
  ).toBe(0);
  return state;
}

describe("poll (fs/select.c do_poll)", () => {
  it("a device that becomes ready wakes a poll sleeping with timeout -1", async () => {
    const k = new Kernel();
    const dev = device(k);
    const p = new Libc(k, k.spawn());
    const fd = p.open("/dev/ready", O_RDWR) as number;
    const fds = p.malloc(8);
    const pfd = new Uint8Array(8);
    new DataView(pfd.buffer).setInt32(0, fd, true);
    new DataView(pfd.buffer).setInt16(4, 0x1, true);
    p.poke(fds, pfd);
    const waiting = k.sys.poll(p.task, fds, 1, -1) as Promise<number>;
    expect(waiting).toBeInstanceOf(Promise);
    dev.ready = true;
    dev.wq.wake_up_interruptible();
    expect(await settled(waiting)).toBe(1);
    expect(new DataView(p.peek(fds, 8).buffer).getInt16(6, true)).toBe(0x1);
  });

  it("the revents of a poll woken by another task's send land in the poller's memory", async () => {
    const k = new Kernel();
    const a = new Libc(k, k.spawn({ comm: "a" }));
    const b = new Libc(k, k.spawn({ comm: "b" }));
    const afd = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    a.bind(afd, {});
    const bfd = b.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    const fds = a.malloc(8);
    const pfd = new Uint8Array(8);
    new DataView(pfd.buffer).setInt32(0, afd, true);
    new DataView(pfd.buffer).setInt16(4, 0x1, true);
    a.poke(fds, pfd);
    const waiting = k.sys.poll(a.task, fds, 1, -1) as Promise<number>;
    const heapB = b.malloc(64); // b's heap starts where a's does: the same address is mapped in b
    expect(heapB).toBeLessThanOrEqual(fds);
    const mark = fds;
    b.poke(mark, new Uint8Array(8).fill(0xee));
    expect(b.sendto(bfd, new Uint8Array(20), 0, { nl_pid: a.task.pid })).toBe(20);
    expect(await settled(waiting)).toBe(1);
    expect(new DataView(a.peek(fds, 8).buffer).getInt16(6, true)).toBe(0x1);
    expect(b.peek(mark, 8)).toEqual(new Uint8Array(8).fill(0xee));
  });
});

describe("system calls (net/socket.c, net/core/scm.c)", () => {
  function pair() {
    const k = new Kernel();
    const a = new Libc(k, k.spawn({ comm: "a" }));
    const b = new Libc(k, k.spawn({ comm: "b" }));
    const afd = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    const bfd = b.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    a.bind(afd, {});
    b.bind(bfd, {});
    return { k, a, b, afd, bfd };
  }

  // A msghdr written by hand: name pointer and length, one iovec, control pointer and length.
  function msghdr(l: Libc, f: { name: number; namelen: number; iov: number; ctl: number; ctllen: bigint }) {
    const m = new Uint8Array(56);
    const dv = new DataView(m.buffer);
    dv.setBigUint64(0, BigInt(f.name), true);
    dv.setInt32(8, f.namelen, true);
    dv.setBigUint64(16, BigInt(f.iov), true);
    dv.setBigUint64(24, f.iov === 0 ? 0n : 1n, true);
    dv.setBigUint64(32, BigInt(f.ctl), true);
    dv.setBigUint64(40, f.ctllen, true);
    return l.dup(m);
  }
  function iov(l: Libc, base: number, len: number) {
    const v = new Uint8Array(16);
    new DataView(v.buffer).setBigUint64(0, BigInt(base), true);
    new DataView(v.buffer).setBigUint64(8, BigInt(len), true);
    return l.dup(v);
  }

  it("socket(AF_NETLINK, 0, 0) reaches netlink_create: ESOCKTNOSUPPORT; type 11 is EINVAL", () => {
    const k = new Kernel();
    const t = k.spawn();
    expect(k.sys.socket(t, AF_NETLINK, 0, 0)).toBe(-94);
    expect(k.sys.socket(t, AF_NETLINK, 11, 0)).toBe(-22);
  });

  it("a NULL msg_name makes msg_namelen 0: a negative length is no EINVAL for sendmsg or recvmsg", () => {
    const { k, a, b, afd, bfd } = pair();
    expect(b.connect(bfd, { nl_pid: a.task.pid })).toBe(0);
    const data = b.dup(new Uint8Array(20));
    const mh = msghdr(b, { name: 0, namelen: -1, iov: iov(b, data, 20), ctl: 0, ctllen: 0n });
    expect(k.sys.sendmsg(b.task, bfd, mh, 0)).toBe(20);
    const buf = a.malloc(64);
    const rh = msghdr(a, { name: 0, namelen: -1, iov: iov(a, buf, 64), ctl: 0, ctllen: 0n });
    expect(k.sys.recvmsg(a.task, afd, rh, MSG_DONTWAIT)).toBe(20);
  });

  it("control data is checked by scm_send after MSG_OOB and ENODATA; a bad name faults before a huge msg_controllen", () => {
    const { k, a, b, bfd } = pair();
    const bad = b.dup(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)); // cmsg_len 0x0807060504030201: EINVAL in scm_send
    const sa = new Uint8Array(12);
    new DataView(sa.buffer).setUint16(0, AF_NETLINK, true);
    new DataView(sa.buffer).setUint32(4, a.task.pid, true);
    const name = b.dup(sa);
    const data = b.dup(new Uint8Array(20));
    const withCtl = (len: number, ctl: number, ctllen: bigint, nm = name) =>
      msghdr(b, { name: nm, namelen: 12, iov: iov(b, data, len), ctl, ctllen });
    expect(k.sys.sendmsg(b.task, bfd, withCtl(20, bad, 16n), MSG_OOB)).toBe(-95);
    expect(k.sys.sendmsg(b.task, bfd, withCtl(0, bad, 16n), 0)).toBe(-61);
    expect(k.sys.sendmsg(b.task, bfd, withCtl(20, bad, 16n), 0)).toBe(-22);
    expect(k.sys.sendmsg(b.task, bfd, withCtl(20, bad, 0x80000000n, 0x10), 0)).toBe(-14);
    const room = b.malloc(128 * 1024);
    expect(k.sys.sendmsg(b.task, bfd, withCtl(20, room, BigInt(128 * 1024)), 0)).toBe(-105);
  });

  it("MSG_CMSG_COMPAT is EINVAL for sendmsg and recvmsg; MSG_CMSG_CLOEXEC comes back in msg_flags", () => {
    const { k, a, b, afd, bfd } = pair();
    expect(k.sys.sendmsg(b.task, bfd, 0x10, 0x80000000)).toBe(-22);
    expect(k.sys.recvmsg(a.task, afd, 0x10, 0x80000000)).toBe(-22);
    expect(b.sendto(bfd, new Uint8Array(20), 0, { nl_pid: a.task.pid })).toBe(20);
    const r = a.recvmsg(afd, 64, MSG_DONTWAIT | 0x40000000) as RecvResult;
    expect(r.ret).toBe(20);
    expect(r.flags).toBe(0x40000000);
  });

  it("connect copies the address before it finds the fd is no socket (EFAULT); bind looks first (ENOTSOCK)", () => {
    const k = new Kernel();
    device(k);
    const p = new Libc(k, k.spawn());
    const fd = p.open("/dev/ready", O_RDWR) as number;
    expect(k.sys.connect(p.task, fd, 0x10, 12)).toBe(-14);
    expect(k.sys.connect(p.task, fd, p.dup(new Uint8Array(12)), 12)).toBe(-88);
    expect(k.sys.bind(p.task, fd, 0x10, 12)).toBe(-88);
    expect(k.sys.connect(p.task, 9, 0x10, 12)).toBe(-9);
  });

  it("getsockopt at SOL_NETLINK writes optlen before the value, so a bad optval still updates optlen", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn());
    const fd = p.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    p.bind(fd, { nl_groups: 1 });
    const lenp = p.dup(Uint8Array.of(100, 0, 0, 0));
    expect(k.sys.getsockopt(p.task, fd, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 0x10, lenp)).toBe(-14);
    expect(p.peek(lenp, 4)).toEqual(Uint8Array.of(4, 0, 0, 0));
    p.poke(lenp, Uint8Array.of(100, 0, 0, 0));
    expect(k.sys.getsockopt(p.task, fd, SOL_NETLINK, NETLINK_SOCKOPT.LIST_MEMBERSHIPS, 0x10, lenp)).toBe(-14);
    expect(p.peek(lenp, 4)).toEqual(Uint8Array.of(4, 0, 0, 0));
  });

  it("recvmsg writes the control messages before msg_name: a name that faults leaves the PKTINFO written", () => {
    const { k, a, b, afd, bfd } = pair();
    a.setsockopt(afd, SOL_NETLINK, NETLINK_SOCKOPT.PKTINFO, 1);
    expect(b.sendto(bfd, new Uint8Array(20), 0, { nl_pid: a.task.pid })).toBe(20);
    const ro = a.mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    const buf = a.malloc(64);
    const ctl = a.malloc(64);
    const rh = msghdr(a, { name: ro, namelen: 12, iov: iov(a, buf, 64), ctl, ctllen: 64n });
    expect(k.sys.recvmsg(a.task, afd, rh, MSG_DONTWAIT)).toBe(-14);
    const c = new DataView(a.peek(ctl, 20).buffer);
    expect([Number(c.getBigUint64(0, true)), c.getInt32(8, true), c.getInt32(12, true)]).toEqual([
      20, 270, 3,
    ]);
  });
});
