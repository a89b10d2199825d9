// The system-call layer: netlink sockets driven by simulated programs through user pointers, with the copies
// accounted, the strace-like trace, signals, fork/exit releasing everything, and a module's kernel socket.
import { describe, expect, it } from "vitest";
import {
  AF_NETLINK,
  CAP_NET_ADMIN,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  MSG_TRUNC,
  NETLINK,
  NETLINK_CB,
  NETLINK_SOCKOPT,
  SIGINT,
  SO_RCVBUF,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../src/index.js";
import { message } from "./nl-message.js";

const enc = new TextEncoder();
const status = () => message(0x10, 0, 1, enc.encode("Device status changed: online\0")).subarray(0, 46);

describe("netlink through system calls", () => {
  it("a listener and a sender on USERSOCK: every byte crosses copy_from_user / copy_to_user once per side", () => {
    const k = new Kernel();
    const rx = new Libc(k, k.spawn({ comm: "listener" }));
    const tx = new Libc(k, k.spawn({ comm: "sender" }));
    const rfd = rx.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    expect(rfd).toBe(0);
    expect(rx.bind(rfd, { nl_groups: 1 })).toBe(0);
    expect(rx.setsockopt(rfd, SOL_NETLINK, NETLINK_SOCKOPT.PKTINFO, 1)).toBe(0);
    expect(rx.getsockname(rfd)).toEqual({ nl_family: AF_NETLINK, nl_pid: rx.task.pid, nl_groups: 1 });
    const tfd = tx.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK.USERSOCK);
    const before = k.vmm.uaccessStats().bytesCopied;
    expect(tx.sendto(tfd, status(), 0, { nl_groups: 1 })).toBe(-1);
    expect(tx.errno).toBe(111); // ECONNREFUSED, yet delivered (§7.4)
    const r = rx.recvmsg(rfd, 1024, MSG_DONTWAIT);
    if (r instanceof Promise) throw new Error("blocked");
    expect(r.ret).toBe(46);
    expect(r.data).toEqual(status());
    expect(r.name).toEqual({ nl_family: AF_NETLINK, nl_pid: tx.task.pid, nl_groups: 1 });
    expect(r.cmsgs).toEqual([
      { level: SOL_NETLINK, type: NETLINK_SOCKOPT.PKTINFO, data: Uint8Array.of(1, 0, 0, 0) },
    ]);
    // sendto: 12-byte address + 46 bytes in; recvmsg: msghdr 56 + iovec 16 in, 46 data out, msg_namelen read (4),
    // 12 name + 4 namelen out (move_addr_to_user), 20 cmsg + 4 flags + 8 controllen out.
    expect(k.vmm.uaccessStats().bytesCopied - before).toBe(12 + 46 + 56 + 16 + 46 + 4 + 12 + 4 + 20 + 4 + 8);
    expect(k.traceText(3)).toContain(
      `[pid ${tx.task.pid}] sendto(0, [{nlmsg_len=46, nlmsg_type=0x10, nlmsg_flags=0, nlmsg_seq=1, nlmsg_pid=0}, ...], 46, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000001}, 12) = -1 ECONNREFUSED (Connection refused)`,
    );
    expect(k.trace[0]!.text).toBe("socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK) = 0");
  });

  it("bad pointers are EFAULT, bad descriptors EBADF, and the trace says so", () => {
    const k = new Kernel();
    const t = k.spawn();
    const libc = new Libc(k, t);
    const fd = libc.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    expect(k.sys.bind(t, fd, 0x10, 12)).toBe(-14);
    expect(k.trace.at(-1)!.text).toBe("bind(0, 0x10, 12) = -1 EFAULT (Bad address)");
    expect(k.sys.bind(t, 7, 0x10, 12)).toBe(-9);
    expect(k.sys.bind(t, fd, 0x10, 129)).toBe(-22);
    expect(k.sys.sendmsg(t, fd, 0x20, 0)).toBe(-14);
    // recvfrom checks only access_ok before receiving: an empty queue is EAGAIN even for an unmapped buffer …
    expect(k.sys.recvfrom(t, fd, 0x1000, 100, MSG_DONTWAIT)).toBe(-11);
    // … and a queued datagram is EFAULT at the copy, and consumed.
    libc.bind(fd, {});
    const other = new Libc(k, k.spawn());
    const ofd = other.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    expect(other.sendto(ofd, status(), 0, { nl_pid: t.pid })).toBe(46);
    expect(k.sys.recvfrom(t, fd, 0x1000, 100, MSG_DONTWAIT)).toBe(-14);
    expect(k.sys.recvfrom(t, fd, 0x1000, 100, MSG_DONTWAIT)).toBe(-11);
    // a negative length is a huge size_t, capped at MAX_RW_COUNT (import_ubuf): the queue is empty, EAGAIN.
    expect(k.sys.recvfrom(t, fd, 0x1000, -1, MSG_DONTWAIT)).toBe(-11);
    expect(libc.socket(2, SOCK_RAW, 0)).toBe(-1);
    expect(libc.errno).toBe(97);
    expect(libc.socket(AF_NETLINK, SOCK_RAW, 32)).toBe(-1);
    expect(libc.errno).toBe(93);
    expect(libc.setsockopt(fd, 6, 1, 1)).toBe(-1);
    expect(libc.errno).toBe(92);
  });

  it("a short recv buffer truncates; MSG_TRUNC returns the whole length", () => {
    const k = new Kernel();
    const a = new Libc(k, k.spawn());
    const b = new Libc(k, k.spawn());
    const afd = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    a.bind(afd, {});
    const bfd = b.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    expect(b.sendto(bfd, status(), 0, { nl_pid: a.task.pid })).toBe(46);
    expect(b.sendto(bfd, status(), 0, { nl_pid: a.task.pid })).toBe(46);
    const r = a.recvmsg(afd, 16, MSG_DONTWAIT) as { ret: number; flags: number; data: Uint8Array };
    expect([r.ret, r.flags, r.data.length]).toEqual([16, MSG_TRUNC, 16]);
    const r2 = a.recvmsg(afd, 8, MSG_DONTWAIT | MSG_TRUNC) as { ret: number; data: Uint8Array };
    expect([r2.ret, r2.data.length]).toEqual([46, 8]);
    expect(a.recv(afd, 100, MSG_DONTWAIT)).toBe(-1);
    expect(a.errno).toBe(11);
  });

  it("a blocking recvmsg sleeps until a message comes, and a signal ends a sleep with EINTR", async () => {
    const k = new Kernel();
    const a = new Libc(k, k.spawn());
    const b = new Libc(k, k.spawn());
    const afd = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    a.bind(afd, {});
    const pending = a.recvmsg(afd, 100);
    expect(pending).toBeInstanceOf(Promise);
    const bfd = b.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    expect(b.sendto(bfd, status(), 0, { nl_pid: a.task.pid })).toBe(46);
    const r = await pending;
    expect(r.ret).toBe(46);
    expect(r.data).toEqual(status());
    const again = a.recvmsg(afd, 100);
    expect(k.kill(a.task, SIGINT)).toBe(0);
    expect((await again).ret).toBe(-1);
    expect(a.errno).toBe(4);
  });

  it("rcvbuf through SO_RCVBUF and getsockopt: 1 → 2304", () => {
    const k = new Kernel();
    const a = new Libc(k, k.spawn());
    const fd = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    expect(a.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 1)).toBe(0);
    expect(a.getsockopt(fd, SOL_SOCKET, SO_RCVBUF)).toEqual({ value: Uint8Array.of(0, 9, 0, 0), optlen: 4 });
    expect(a.setsockopt(fd, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1)).toBe(0);
    expect(a.getsockopt(fd, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK)).toEqual({
      value: Uint8Array.of(1, 0, 0, 0),
      optlen: 4,
    });
    expect(a.getsockopt(fd, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 3)).toBe(-1);
    expect(a.errno).toBe(22);
  });
});

describe("a module's netlink protocol", () => {
  it("a kernel socket on a free protocol number answers requests with acks and ext-acks", () => {
    const k = new Kernel();
    const admin = new Libc(k, k.spawn({ comm: "insmod" }));
    const PROTO = 25;
    let sk: ReturnType<typeof k.netlink.netlink_kernel_create> = null;
    expect(
      admin.init_module({
        name: "echo_nl",
        init: () => {
          sk = k.netlink.netlink_kernel_create(PROTO, {
            input: (skb) =>
              k.netlink.netlink_rcv_skb(skb, (_skb, nlh, extack) => {
                if (nlh.type !== 0x10) {
                  extack.msg = "only type 0x10";
                  return -95;
                }
                expect(NETLINK_CB(skb).cred?.capable(CAP_NET_ADMIN)).toBe(false);
                return 0;
              }),
          });
          return sk === null ? -12 : 0;
        },
        exit: () => {
          if (sk) k.netlink.netlink_kernel_release(sk);
        },
      }),
    ).toBe(0);
    const user = new Libc(k, k.spawn({ uid: 1000 }));
    const fd = user.socket(AF_NETLINK, SOCK_RAW, PROTO);
    expect(fd).toBe(0);
    user.setsockopt(fd, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1);
    expect(user.sendto(fd, message(0x10, 0x5, 7))).toBe(16);
    const ack = user.recvmsg(fd, 100, MSG_DONTWAIT) as { data: Uint8Array };
    // 36-byte ack: ERROR, CAPPED, seq 7, pid = our port, error 0, the request header.
    expect(Array.from(ack.data.subarray(0, 20))).toEqual([
      36,
      0,
      0,
      0,
      2,
      0,
      0,
      1,
      7,
      0,
      0,
      0,
      ...u32le(user.task.pid),
      0,
      0,
      0,
      0,
    ]);
    expect(user.sendto(fd, message(0x11, 0x1, 8))).toBe(16);
    const err = user.recvmsg(fd, 200, MSG_DONTWAIT) as { data: Uint8Array };
    const dv = new DataView(err.data.buffer, err.data.byteOffset);
    expect([dv.getUint16(6, true), dv.getInt32(16, true)]).toEqual([0x200, -95]);
    expect(new TextDecoder().decode(err.data.subarray(40, 40 + 14))).toBe("only type 0x10");
    expect(user.close(fd)).toBe(0);
    expect(admin.delete_module("echo_nl")).toBe(0);
    expect(user.socket(AF_NETLINK, SOCK_RAW, PROTO)).toBe(-1);
    expect(user.errno).toBe(93);
  });
});

describe("fork and exit", () => {
  it("a child shares the socket; exit of both releases it, its skbs and every frame", async () => {
    const k = new Kernel();
    const framesAtBoot = k.vmm.phys.stats().usedFrames;
    const parent = new Libc(k, k.spawn());
    const fd = parent.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    parent.bind(fd, { nl_groups: 1 });
    const child = new Libc(k, k.fork(parent.task));
    expect(child.task.fds[fd]).toBe(parent.task.fds[fd]);
    const other = new Libc(k, k.spawn());
    const ofd = other.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    other.sendto(ofd, status(), 0, { nl_groups: 1 });
    const waiting = child.recvmsg(fd, 100);
    expect(waiting).not.toBeInstanceOf(Promise);
    other.sendto(ofd, status(), 0, { nl_groups: 1 });
    k.exit(parent.task, 0);
    expect(k.netlink.sockets().filter((s) => !s.kernel)).toHaveLength(2);
    k.exit(child.task, 0);
    k.exit(other.task, 0);
    expect(k.netlink.sockets().filter((s) => !s.kernel)).toHaveLength(0);
    expect(k.netlink.skbsInUse()).toBe(0);
    expect(k.vmm.phys.stats().usedFrames).toBe(framesAtBoot);
    expect(k.tasks.size).toBe(0);
  });
});

function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}
