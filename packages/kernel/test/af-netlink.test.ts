// af_netlink against the measurements of spec/netlink.md §7 (Linux 6.18): port ids, membership, permissions,
// user multicast, receive-buffer admission, overrun and ENOBUFS, truncation.
import { describe, expect, it } from "vitest";
import {
  AF_NETLINK,
  AfNetlink,
  Cred,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_TRUNC,
  NETLINK,
  NETLINK_SOCKOPT,
  type NetlinkCaller,
  type NetlinkSock,
  NL_CFG_F_NONROOT_RECV,
  SO_RCVBUF,
  SO_SNDBUF,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../src/index.js";

const root: NetlinkCaller = { tgid: 7366, pid: 7366, cred: new Cred({ uid: 0, gid: 0 }) };
const nobody: NetlinkCaller = { tgid: 7400, pid: 7400, cred: new Cred({ uid: 65534, gid: 65534 }) };

function net(randoms: number[] = []): AfNetlink {
  let ino = 1000;
  return new AfNetlink({ random: () => randoms.shift() ?? 0x12345678, nextIno: () => ++ino });
}

function sock(af: AfNetlink, proto: number, who = root): NetlinkSock {
  const s = af.socket(SOCK_RAW, proto, who);
  if (typeof s === "number") throw new Error(`socket: ${s}`);
  return s;
}

const enc = new TextEncoder();
// The article's message as the measurement sent it: len 46, type 0x10, flags 0, seq 1, pid 0.
function deviceStatus(): Uint8Array {
  const text = enc.encode("Device status changed: online\0");
  const m = new Uint8Array(16 + text.length);
  const dv = new DataView(m.buffer);
  dv.setUint32(0, m.length, true);
  dv.setUint16(4, 0x10, true);
  dv.setUint32(8, 1, true);
  m.set(text, 16);
  return m;
}

function send(
  af: AfNetlink,
  s: NetlinkSock,
  bytes: Uint8Array,
  to?: { portid: number; groups: number },
  flags = MSG_DONTWAIT,
  who = root,
) {
  return af.sendmsg(
    s,
    { ...(to && { name: { family: AF_NETLINK, ...to } }), len: bytes.length, flags },
    (dst) => {
      dst.set(bytes);
      return 0;
    },
    who,
  );
}

function recv(af: AfNetlink, s: NetlinkSock, len = 65536, flags = MSG_DONTWAIT) {
  let got = new Uint8Array(0);
  const r = af.recvmsg(s, len, flags, (src) => {
    got = src.slice();
    return 0;
  });
  if (r instanceof Promise) throw new Error("would block");
  return { ...r, got };
}

describe("socket() and port ids (§7.1, §7.2)", () => {
  it("accepts registered protocols and refuses 32, 33 and unregistered ones", () => {
    const af = net();
    af.netlink_kernel_create(NETLINK.ROUTE, { input: () => {} });
    expect(typeof af.socket(SOCK_RAW, 0, root)).toBe("object");
    expect(typeof af.socket(SOCK_RAW, NETLINK.USERSOCK, root)).toBe("object");
    expect(af.socket(SOCK_RAW, 32, root)).toBe(-93);
    expect(af.socket(SOCK_RAW, 33, root)).toBe(-93);
    expect(af.socket(SOCK_RAW, 23, root)).toBe(-93);
    expect(af.socket(1 /* SOCK_STREAM */, 0, root)).toBe(-94);
  });

  it("autobinds to the tgid first, then to a random negative port walking down", () => {
    // get_random_u32_below(2^31 - 4096) = 1910238426 gives -237245222 = 4057722074 (measured).
    const r = Math.ceil((1910238426 * 4294967296) / (2147483648 - 4096));
    const af = net([r]);
    const a = sock(af, NETLINK.USERSOCK);
    const b = sock(af, NETLINK.USERSOCK);
    expect(af.bind(a, { family: AF_NETLINK, portid: 0, groups: 0 }, 12, root)).toBe(0);
    expect(af.getname(a, false)).toEqual({ family: AF_NETLINK, portid: 7366, groups: 0 });
    expect(af.bind(b, { family: AF_NETLINK, portid: 0, groups: 0 }, 12, root)).toBe(0);
    expect(af.getname(b, false).portid).toBe(4057722074);
  });

  it("bind errors: taken port EADDRINUSE, rebind elsewhere EINVAL, short address and wrong family EINVAL", () => {
    const af = net();
    const a = sock(af, NETLINK.USERSOCK);
    const b = sock(af, NETLINK.USERSOCK);
    expect(af.bind(a, { family: AF_NETLINK, portid: 4242, groups: 0 }, 12, root)).toBe(0);
    expect(af.getname(a, false).portid).toBe(4242);
    expect(af.bind(b, { family: AF_NETLINK, portid: 4242, groups: 0 }, 12, root)).toBe(-98);
    expect(af.bind(a, { family: AF_NETLINK, portid: 4243, groups: 0 }, 12, root)).toBe(-22);
    expect(af.bind(b, { family: AF_NETLINK, portid: 1, groups: 0 }, 11, root)).toBe(-22);
    expect(af.bind(b, { family: 1, portid: 1, groups: 0 }, 12, root)).toBe(-22);
  });
});

describe("membership and permissions (§2.4, §7.4)", () => {
  it("bind mask 0x1 then ADD(5) gives groups 0x11; 0 and 33 are EINVAL, 32 is fine", () => {
    const af = net();
    const s = sock(af, NETLINK.USERSOCK);
    expect(af.bind(s, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root)).toBe(0);
    expect(af.getname(s, false)).toEqual({ family: AF_NETLINK, portid: 7366, groups: 1 });
    expect(af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 5, 4, root)).toBe(0);
    expect(af.getname(s, false).groups).toBe(0x11);
    const l = af.getsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.LIST_MEMBERSHIPS, 4);
    expect(l).toEqual({ value: Uint8Array.of(0x11, 0, 0, 0), optlen: 4 });
    expect(af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 0, 4, root)).toBe(-22);
    expect(af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 33, 4, root)).toBe(-22);
    expect(af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 32, 4, root)).toBe(0);
  });

  it("as uid 65534: USERSOCK bind(groups 1) EPERM; ROUTE bind OK (NONROOT_RECV) but sendto(group 1) EPERM", () => {
    const af = net();
    af.netlink_kernel_create(NETLINK.ROUTE, { flags: NL_CFG_F_NONROOT_RECV, input: () => {} });
    const u = sock(af, NETLINK.USERSOCK, nobody);
    expect(af.bind(u, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, nobody)).toBe(-1);
    expect(send(af, u, deviceStatus(), { portid: 0, groups: 1 }, MSG_DONTWAIT, nobody)).toBe(-111);
    const r = sock(af, NETLINK.ROUTE, nobody);
    expect(af.bind(r, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, nobody)).toBe(0);
    expect(send(af, r, deviceStatus(), { portid: 0, groups: 1 }, MSG_DONTWAIT, nobody)).toBe(-1);
  });
});

describe("user multicast on USERSOCK (§7.4)", () => {
  it("delivers to the group and still returns ECONNREFUSED; the receiver sees the sender's port and group 1", () => {
    const af = net();
    const rx = sock(af, NETLINK.USERSOCK);
    af.bind(rx, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root);
    const tx = sock(af, NETLINK.USERSOCK);
    expect(send(af, tx, deviceStatus(), { portid: 0, groups: 1 })).toBe(-111);
    const r = recv(af, rx);
    expect(r.result).toBe(46);
    expect(r.got).toEqual(deviceStatus());
    expect([r.portid, r.groups]).toEqual([tx.portid, 1]);
  });

  it("a send to (rx port, group 1) reaches the receiver once", () => {
    const af = net();
    const rx = sock(af, NETLINK.USERSOCK);
    af.bind(rx, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root);
    const tx = sock(af, NETLINK.USERSOCK);
    expect(send(af, tx, deviceStatus(), { portid: rx.portid, groups: 1 })).toBe(46);
    expect(recv(af, rx).result).toBe(46);
    expect(recv(af, rx).result).toBe(-11);
  });

  it("rcvbuf 2304 queues 2 of 2000 (Rmem 1664, Drops 1998); the first recv is ENOBUFS, then the 2", () => {
    const af = net();
    const rx = sock(af, NETLINK.USERSOCK);
    expect(af.setsockopt(rx, SOL_SOCKET, SO_RCVBUF, 1, 4, root)).toBe(0);
    expect(rx.rcvbuf).toBe(2304);
    af.bind(rx, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root);
    af.setsockopt(rx, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 5, 4, root);
    const tx = sock(af, NETLINK.USERSOCK);
    for (let i = 0; i < 2000; i++) expect(send(af, tx, deviceStatus(), { portid: 0, groups: 1 })).toBe(-111);
    expect(rx.rmem).toBe(1664);
    expect(rx.drops).toBe(1998);
    expect(af.procNetNetlink()).toMatch(/ 2 {3}7366 {7}00000011 1664 {5}0 {8}0 {5}2 {8}1998 /);
    expect(recv(af, rx).result).toBe(-105);
    expect(recv(af, rx).result).toBe(46);
    expect(recv(af, rx).result).toBe(46);
    expect(recv(af, rx).result).toBe(-11);
  });

  it("with NO_ENOBUFS: the 2 messages, no error, drops still counted", () => {
    const af = net();
    const rx = sock(af, NETLINK.USERSOCK);
    af.setsockopt(rx, SOL_SOCKET, SO_RCVBUF, 1, 4, root);
    af.setsockopt(rx, SOL_NETLINK, NETLINK_SOCKOPT.NO_ENOBUFS, 1, 4, root);
    af.bind(rx, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root);
    const tx = sock(af, NETLINK.USERSOCK);
    for (let i = 0; i < 2000; i++) send(af, tx, deviceStatus(), { portid: 0, groups: 1 });
    expect(rx.drops).toBe(1998);
    expect(recv(af, rx).result).toBe(46);
    expect(recv(af, rx).result).toBe(46);
    expect(recv(af, rx).result).toBe(-11);
  });

  it("nonblocking user→user unicast into rcvbuf 2304: ok, ok, EAGAIN…, no drops, no ENOBUFS", () => {
    const af = net();
    const rx = sock(af, NETLINK.USERSOCK);
    af.setsockopt(rx, SOL_SOCKET, SO_RCVBUF, 1, 4, root);
    af.bind(rx, { family: AF_NETLINK, portid: 0, groups: 0 }, 12, root);
    const tx = sock(af, NETLINK.USERSOCK);
    const results = Array.from({ length: 5 }, () =>
      send(af, tx, deviceStatus(), { portid: rx.portid, groups: 0 }),
    );
    expect(results).toEqual([46, 46, -11, -11, -11]);
    expect(rx.drops).toBe(0);
    expect(recv(af, rx).result).toBe(46);
  });
});

describe("sendmsg limits and recvmsg truncation (§7.3, §7.6, §7.7)", () => {
  it("zero length is ENODATA; SO_SNDBUF 1 → 4608: 4576 bytes pass, 4577 EMSGSIZE", () => {
    const af = net();
    af.netlink_kernel_create(NETLINK.ROUTE, { input: () => {} });
    const s = sock(af, NETLINK.ROUTE);
    expect(send(af, s, new Uint8Array(0))).toBe(-61);
    af.setsockopt(s, SOL_SOCKET, SO_SNDBUF, 1, 4, root);
    expect(s.sndbuf).toBe(4608);
    expect(send(af, s, new Uint8Array(4576))).toBe(4576);
    expect(send(af, s, new Uint8Array(4577))).toBe(-90);
    af.setsockopt(s, SOL_SOCKET, SO_SNDBUF, 100000, 4, root);
    expect(s.sndbuf).toBe(200000);
    af.setsockopt(s, SOL_SOCKET, SO_SNDBUF, 1e8, 4, root);
    expect(s.sndbuf).toBe(8388608);
  });

  it("a 16-byte buffer gets 16 bytes and MSG_TRUNC, the rest is gone; MSG_PEEK|MSG_TRUNC probes the size", () => {
    const af = net();
    const rx = sock(af, NETLINK.USERSOCK);
    af.bind(rx, { family: AF_NETLINK, portid: 0, groups: 0 }, 12, root);
    const tx = sock(af, NETLINK.USERSOCK);
    send(af, tx, deviceStatus(), { portid: rx.portid, groups: 0 });
    send(af, tx, deviceStatus(), { portid: rx.portid, groups: 0 });
    expect(recv(af, rx, 0, MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC).result).toBe(46);
    const r = recv(af, rx, 16);
    expect([r.result, r.flags & MSG_TRUNC, r.got.length]).toEqual([16, MSG_TRUNC, 16]);
    expect(recv(af, rx).result).toBe(46);
    expect(recv(af, rx).result).toBe(-11);
  });
});
