// More of af_netlink through the system calls: connect, BROADCAST_ERROR, the §7.6 limits, a blocking send that waits
// for room, sendmsg with several iovecs and SCM_CREDENTIALS, MSG_PEEK, getpeername and poll.
import { describe, expect, it } from "vitest";
import {
  AF_NETLINK,
  AfNetlink,
  Cred,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  MSG_PEEK,
  NETLINK,
  NETLINK_SOCKOPT,
  type NetlinkSock,
  type RecvResult,
  SO_RCVBUF,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../src/index.js";

function pair() {
  const k = new Kernel();
  const a = new Libc(k, k.spawn({ comm: "a" }));
  const b = new Libc(k, k.spawn({ comm: "b" }));
  const afd = a.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
  const bfd = b.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
  expect(a.bind(afd, {})).toBe(0);
  expect(b.bind(bfd, {})).toBe(0);
  return { k, a, b, afd, bfd };
}

const bytes = (n: number, v = 0x41) => new Uint8Array(n).fill(v);

describe("connect and getpeername (§2.3)", () => {
  it("a connected socket sends to its peer by default and accepts unicasts only from it", () => {
    const { k, a, b, afd, bfd } = pair();
    const c = new Libc(k, k.spawn({ comm: "c" }));
    const cfd = c.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    expect(a.connect(afd, { nl_pid: b.task.pid })).toBe(0);
    expect(k.sys.getpeername(a.task, afd, a.malloc(12), a.dup(Uint8Array.of(12, 0, 0, 0)))).toBe(0);
    expect(k.trace.at(-1)!.text).toContain(`nl_pid=${b.task.pid}, nl_groups=00000000`);
    expect(a.write(afd, bytes(20))).toBe(20); // write() goes to the connected peer
    expect((b.recvmsg(bfd, 100, MSG_DONTWAIT) as RecvResult).name?.nl_pid).toBe(a.task.pid);
    expect(b.sendto(bfd, bytes(20), 0, { nl_pid: a.task.pid })).toBe(20);
    expect(c.sendto(cfd, bytes(20), MSG_DONTWAIT, { nl_pid: a.task.pid })).toBe(-1);
    expect(c.errno).toBe(111); // ECONNREFUSED: a is connected to b
    expect(a.connect(afd, { nl_family: 0 })).toBe(0); // AF_UNSPEC disconnects
    expect(c.sendto(cfd, bytes(20), MSG_DONTWAIT, { nl_pid: a.task.pid })).toBe(20);
    expect(a.connect(afd, { nl_family: 1 })).toBe(-1);
    expect(a.errno).toBe(22);
  });

  it("an unprivileged connect to a port on a protocol without NONROOT_SEND is EPERM", () => {
    const k = new Kernel();
    const u = new Libc(k, k.spawn({ uid: 1000 }));
    const fd = u.socket(AF_NETLINK, SOCK_RAW, NETLINK.ROUTE);
    expect(u.connect(fd, { nl_pid: 4242 })).toBe(-1);
    expect(u.errno).toBe(1);
    expect(u.connect(fd, {})).toBe(0); // to the kernel: allowed
  });
});

describe("limits (§7.6)", () => {
  it("default sndbuf 212992: a 212960-byte datagram goes through whole, 212961 is EMSGSIZE", () => {
    const { a, b, afd, bfd } = pair();
    expect(b.sendto(bfd, bytes(212960), MSG_DONTWAIT, { nl_pid: a.task.pid })).toBe(212960);
    expect(b.sendto(bfd, bytes(212961), MSG_DONTWAIT, { nl_pid: a.task.pid })).toBe(-1);
    expect(b.errno).toBe(90);
    const r = a.recvmsg(afd, 262144, MSG_DONTWAIT) as RecvResult;
    expect([r.ret, r.flags]).toEqual([212960, 0]);
  });
});

describe("BROADCAST_ERROR (§2.7, §2.8)", () => {
  it("changes only what a kernel sender's netlink_broadcast returns: ENOBUFS instead of 0 or ESRCH", () => {
    let ino = 0;
    const af = new AfNetlink({ random: () => 1, nextIno: () => ++ino });
    const root = { tgid: 10, pid: 10, cred: new Cred({ uid: 0, gid: 0 }) };
    const ksk = af.netlink_kernel_create(NETLINK.ROUTE, { input: () => {} })!;
    const rx = af.socket(SOCK_RAW, NETLINK.ROUTE, root) as NetlinkSock;
    af.setsockopt(rx, SOL_SOCKET, SO_RCVBUF, 1, 4, root);
    af.bind(rx, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root);
    const send = () => {
      const skb = af.nlmsg_new(200);
      skb.put(216);
      return af.nlmsg_multicast(ksk, skb, 0, 1);
    };
    expect([send(), send(), send()]).toEqual([0, 0, -3]); // the third is dropped: nobody got it → ESRCH
    af.setsockopt(rx, SOL_NETLINK, NETLINK_SOCKOPT.BROADCAST_ERROR, 1, 4, root);
    expect(send()).toBe(-105);
    expect(rx.drops).toBe(2);
    expect(af.skbsInUse()).toBe(2);
    af.release(rx);
    expect(af.skbsInUse()).toBe(0);
  });
});

describe("blocking sends, sendmsg and MSG_PEEK", () => {
  it("a blocking unicast into a full receiver sleeps until the receiver reads, then completes", async () => {
    const { a, b, afd, bfd } = pair();
    expect(a.setsockopt(afd, SOL_SOCKET, SO_RCVBUF, 1)).toBe(0);
    expect(b.sendto(bfd, bytes(100), 0, { nl_pid: a.task.pid })).toBe(100);
    expect(b.sendto(bfd, bytes(100), 0, { nl_pid: a.task.pid })).toBe(100);
    const third = b.sendto(bfd, bytes(100, 0x43), 0, { nl_pid: a.task.pid });
    expect(third).toBeInstanceOf(Promise);
    expect((a.recvmsg(afd, 200, MSG_DONTWAIT) as RecvResult).ret).toBe(100);
    expect((a.recvmsg(afd, 200, MSG_DONTWAIT) as RecvResult).ret).toBe(100);
    expect(await third).toBe(100);
    expect((a.recvmsg(afd, 200, MSG_DONTWAIT) as RecvResult).data[0]).toBe(0x43);
  });

  it("sendmsg gathers several iovecs into one datagram; MSG_PEEK leaves it queued", () => {
    const { a, b, afd, bfd } = pair();
    const r = b.sendmsg(bfd, {
      name: { nl_pid: a.task.pid },
      iov: [bytes(16, 1), bytes(8, 2), bytes(0), bytes(4, 3)],
    });
    expect(r).toBe(28);
    const peek = a.recvmsg(afd, 100, MSG_DONTWAIT | MSG_PEEK) as RecvResult;
    const got = a.recvmsg(afd, 100, MSG_DONTWAIT) as RecvResult;
    expect(peek.data).toEqual(got.data);
    expect(Array.from(got.data.subarray(14, 26))).toEqual([1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3]);
    expect((a.recvmsg(afd, 100, MSG_DONTWAIT) as RecvResult).ret).toBe(-1);
  });

  it("SCM_CREDENTIALS: the sender's own ids, or others with CAP_SYS_ADMIN/SETUID/SETGID; SCM_RIGHTS is EINVAL", () => {
    const { k, a, b, bfd } = pair();
    const u = new Libc(k, k.spawn({ uid: 1000 }));
    const ufd = u.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    const cmsg = (type: number, pid: number) => {
      const c = new Uint8Array(32);
      const dv = new DataView(c.buffer);
      dv.setBigUint64(0, 28n, true);
      dv.setInt32(8, 1, true); // SOL_SOCKET
      dv.setInt32(12, type, true);
      dv.setUint32(16, pid, true);
      return c;
    };
    const to = { nl_pid: a.task.pid };
    expect(b.sendmsg(bfd, { name: to, iov: [bytes(20)], control: cmsg(2, b.task.pid) })).toBe(20);
    // root (CAP_SYS_ADMIN) may name another process, if it exists (ESRCH otherwise) …
    expect(b.sendmsg(bfd, { name: to, iov: [bytes(20)], control: cmsg(2, a.task.pid) })).toBe(20);
    expect(b.sendmsg(bfd, { name: to, iov: [bytes(20)], control: cmsg(2, 1) })).toBe(-1);
    expect(b.errno).toBe(3);
    // … an ordinary user may not (EPERM); its own pid, with uid 0 it does not have, is EPERM too.
    expect(u.sendmsg(ufd, { name: to, iov: [bytes(20)], control: cmsg(2, a.task.pid) })).toBe(-1);
    expect(u.errno).toBe(1);
    expect(u.sendmsg(ufd, { name: to, iov: [bytes(20)], control: cmsg(2, u.task.pid) })).toBe(-1);
    expect(u.errno).toBe(1);
    expect(b.sendmsg(bfd, { name: to, iov: [bytes(20)], control: cmsg(1, 0) })).toBe(-1);
    expect(b.errno).toBe(22);
  });
});

describe("poll", () => {
  it("reports POLLIN when a datagram waits, POLLNVAL for a closed fd, and sleeps until data for timeout -1", async () => {
    const { k, a, b, afd, bfd } = pair();
    const fds = a.malloc(16);
    const pollfds = (fd1: number) => {
      const buf = new Uint8Array(16);
      const dv = new DataView(buf.buffer);
      dv.setInt32(0, afd, true);
      dv.setInt16(4, 0x1, true);
      dv.setInt32(8, fd1, true);
      dv.setInt16(12, 0x1, true);
      a.poke(fds, buf);
    };
    pollfds(7);
    expect(k.sys.poll(a.task, fds, 2, 0)).toBe(1); // only the closed fd: POLLNVAL
    expect(new DataView(a.peek(fds, 16).buffer).getInt16(14, true)).toBe(0x20);
    pollfds(-1);
    const waiting = k.sys.poll(a.task, fds, 2, -1);
    expect(waiting).toBeInstanceOf(Promise);
    b.sendto(bfd, bytes(20), 0, { nl_pid: a.task.pid });
    expect(await waiting).toBe(1);
    expect(new DataView(a.peek(fds, 16).buffer).getInt16(6, true)).toBe(0x1);
    const interrupted = k.sys.poll(a.task, fds + 8, 1, -1);
    k.kill(a.task, 2);
    expect(await interrupted).toBe(-4);
  });
});
