// rtnetlink inside the simulated kernel, against the captures of vectors/netlink (Linux 6.18) and the
// measurements of spec/netlink.md §2.10–2.12, §7.3, §7.5.
import { describe, expect, it } from "vitest";
import { readDatagrams, readJsonLines, readVector } from "../../../test-support/vectors.js";
import {
  AF_NETLINK,
  AfNetlink,
  Cred,
  MSG_DONTWAIT,
  NETLINK,
  NETLINK_SOCKOPT,
  type NetlinkCaller,
  type NetlinkSock,
  SO_RCVBUF,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
} from "../src/index.js";
import {
  IFA,
  IFF,
  IFLA,
  inet_nlmsg_size,
  PF_INET,
  RTM,
  RTNLGRP,
  RTNLGRP_MAX,
  type Rtnetlink,
  type RtnetlinkOptions,
  rtnetlink_net_init,
} from "../src/net/core/rtnetlink.js";

const root: NetlinkCaller = { tgid: 7366, pid: 7366, cred: new Cred({ uid: 0, gid: 0 }) };
const nobody: NetlinkCaller = { tgid: 7400, pid: 7400, cred: new Cred({ uid: 65534, gid: 65534 }) };

function setup(options: RtnetlinkOptions = {}): { af: AfNetlink; rtnl: Rtnetlink } {
  let ino = 1000;
  const af = new AfNetlink({ random: () => 0x12345678, nextIno: () => ++ino });
  const rtnl = rtnetlink_net_init(af, options);
  if (typeof rtnl === "number") throw new Error(`rtnetlink_net_init: ${rtnl}`);
  return { af, rtnl };
}

function sock(af: AfNetlink, portid = 0, groups = 0, who = root): NetlinkSock {
  const s = af.socket(SOCK_RAW, NETLINK.ROUTE, who);
  if (typeof s === "number") throw new Error(`socket: ${s}`);
  const r = af.bind(s, { family: AF_NETLINK, portid, groups }, 12, who);
  if (r !== 0) throw new Error(`bind: ${r}`);
  return s;
}

function send(af: AfNetlink, s: NetlinkSock, bytes: Uint8Array, who = root): number {
  const r = af.sendmsg(
    s,
    { len: bytes.length, flags: MSG_DONTWAIT },
    (dst) => {
      dst.set(bytes);
      return 0;
    },
    who,
  );
  if (r instanceof Promise) throw new Error("send would block");
  return r;
}

function recv(af: AfNetlink, s: NetlinkSock, len = 1 << 20) {
  let got = new Uint8Array(0);
  const r = af.recvmsg(s, len, MSG_DONTWAIT, (src) => {
    got = src.slice();
    return 0;
  });
  if (r instanceof Promise) throw new Error("recv would block");
  return { ...r, got };
}

// Every datagram until EAGAIN.
function drain(af: AfNetlink, s: NetlinkSock, len = 1 << 20): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (;;) {
    const r = recv(af, s, len);
    if (r.result === -11) return out;
    if (r.result < 0) throw new Error(`recv: ${r.result}`);
    out.push(r.got);
  }
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

// nlmsghdr + payload, nlmsg_len = 16 + payload.length unless given.
function msg(
  type: number,
  flags: number,
  seq: number,
  payload: Uint8Array = new Uint8Array(0),
  len?: number,
) {
  const m = new Uint8Array(16 + payload.length);
  const v = dv(m);
  v.setUint32(0, len ?? m.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  m.set(payload, 16);
  return m;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function attr(type: number, data: Uint8Array): Uint8Array {
  const a = new Uint8Array((4 + data.length + 3) & ~3);
  dv(a).setUint16(0, 4 + data.length, true);
  dv(a).setUint16(2, type, true);
  a.set(data, 4);
  return a;
}

function ifinfomsg(index = 0, flags = 0, change = 0): Uint8Array {
  const b = new Uint8Array(16);
  dv(b).setInt32(4, index, true);
  dv(b).setUint32(8, flags, true);
  dv(b).setUint32(12, change, true);
  return b;
}

const u32 = (v: number) => {
  const b = new Uint8Array(4);
  dv(b).setUint32(0, v, true);
  return b;
};

// The messages of one datagram: [offset, len, type, flags, seq, pid].
function headers(d: Uint8Array) {
  const out: { len: number; type: number; flags: number; seq: number; pid: number; at: number }[] = [];
  for (let at = 0; at + 16 <= d.length; ) {
    const v = dv(d.subarray(at));
    const len = v.getUint32(0, true);
    out.push({
      at,
      len,
      type: v.getUint16(4, true),
      flags: v.getUint16(6, true),
      seq: v.getUint32(8, true),
      pid: v.getUint32(12, true),
    });
    at += (len + 3) & ~3;
  }
  return out;
}

const REQ = 0x1;
const ACK = 0x4;
const DUMP = 0x300;

describe("the kernel socket (rtnetlink_net_init)", () => {
  it("registers NETLINK_ROUTE with RTNLGRP_MAX (36) groups raised to 32+ and NONROOT_RECV; a second init is ENOMEM", () => {
    const { af, rtnl } = setup();
    expect(rtnl.sk.kernel).toBe(true);
    expect(af.protocolGroups(NETLINK.ROUTE)).toBe(RTNLGRP_MAX);
    expect(rtnetlink_net_init(af)).toBe(-12);
    // NL_CFG_F_NONROOT_RECV: an ordinary user may listen to RTNLGRP_LINK.
    const s = af.socket(SOCK_RAW, NETLINK.ROUTE, nobody) as NetlinkSock;
    expect(af.bind(s, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, nobody)).toBe(0);
  });

  it("lo is ifindex 1, loopback, mtu 65536, address 00:00:00:00:00:00, with 127.0.0.1/8 and ::1/128", () => {
    const { rtnl } = setup();
    const lo = rtnl.dev_get_by_index(1)!;
    expect(lo.name).toBe("lo");
    expect(lo.mtu).toBe(65536);
    expect([...lo.address]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(lo.flags).toBe(IFF.LOOPBACK | IFF.UP);
    expect(rtnl.addresses().map((a) => [a.family, [...a.local].join("."), a.prefixlen])).toEqual([
      [2, "127.0.0.1", 8],
      [10, "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1", 128],
    ]);
  });
});

describe("the captured requests replayed (vectors/netlink, Linux 6.18)", () => {
  type Manifest = { file: string; sockopts: string[] };
  const manifest = readJsonLines<Manifest>("netlink", "manifest.jsonl");
  for (const name of [
    "netns1000-extack-policy-mtu-u16",
    "netns1000-extack-policy-mtu-u16-capack",
    "netns1000-ack-ok-setlink-lo",
  ]) {
    it(`${name}: the datagrams equal ${name}.bin split by .lens, byte for byte`, () => {
      const entry = manifest.find((m) => m.file === `${name}.bin`)!;
      const want = readDatagrams(`${name}.bin`);
      const req = new Uint8Array(readVector("netlink", `${name}.req.bin`));
      const portid = dv(want[0]!).getUint32(12, true);
      const { af } = setup();
      const s = sock(af, portid);
      for (const o of entry.sockopts) {
        const opt = NETLINK_SOCKOPT[o as "EXT_ACK" | "CAP_ACK"];
        expect(af.setsockopt(s, SOL_NETLINK, opt, 1, 4, root)).toBe(0);
      }
      expect(send(af, s, req)).toBe(req.length);
      expect(drain(af, s)).toEqual(want.map((d) => new Uint8Array(d)));
    });
  }

  it("the 2-byte IFLA_MTU is refused before lo is touched: its MTU stays 65536 and nobody is notified", () => {
    const { af, rtnl } = setup();
    const listener = sock(af, 0, 1);
    const s = sock(af, 4242);
    send(af, s, new Uint8Array(readVector("netlink", "netns1000-extack-policy-mtu-u16.req.bin")));
    expect(dv(drain(af, s)[0]!).getInt32(16, true)).toBe(-34);
    expect(rtnl.dev_get_by_index(1)!.mtu).toBe(65536);
    expect(drain(af, listener)).toEqual([]);
  });
});

describe("netlink_rcv_skb + rtnetlink_rcv_msg on NETLINK_ROUTE (§2.10, §7.3)", () => {
  const ack = (d: Uint8Array) => ({ ...headers(d)[0]!, error: dv(d).getInt32(16, true) });

  it("NOOP REQ|ACK → ack 0 (36 bytes, flags 0x100); NOOP REQ → nothing", () => {
    const { af } = setup();
    const s = sock(af, 0xc06b46f4);
    send(af, s, msg(1, REQ | ACK, 1));
    const [d] = drain(af, s);
    expect(d).toEqual(
      Uint8Array.from([
        0x24, 0, 0, 0, 2, 0, 0, 1, 1, 0, 0, 0, 0xf4, 0x46, 0x6b, 0xc0, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 5, 0,
        1, 0, 0, 0, 0, 0, 0, 0,
      ]),
    );
    send(af, s, msg(1, REQ, 2));
    expect(drain(af, s)).toEqual([]);
  });

  it("type 0x10 with ACK but without REQ → ack 0, unprocessed; without ACK → nothing; DONE REQ|ACK → ack 0", () => {
    const { af } = setup();
    const s = sock(af, 5000);
    send(af, s, msg(0x10, ACK, 3));
    const [d] = drain(af, s);
    expect(d!.length).toBe(36);
    expect(ack(d!)).toMatchObject({ type: 2, flags: 0x100, seq: 3, pid: 5000, error: 0 });
    expect([...d!.subarray(20, 28)]).toEqual([0x10, 0, 0, 0, 0x10, 0, 4, 0]);
    send(af, s, msg(0x10, 0, 4));
    expect(drain(af, s)).toEqual([]);
    send(af, s, msg(3, REQ | ACK, 5));
    expect(drain(af, s).map(ack)).toMatchObject([{ len: 36, error: 0, flags: 0x100, seq: 5 }]);
  });

  it("unknown type 0x7f REQ → −95 with the whole request echoed, flags 0 (the measured 36 bytes)", () => {
    const { af } = setup();
    const s = sock(af, 0x1cc6);
    send(af, s, msg(0x7f, REQ, 6));
    expect(drain(af, s)).toEqual([
      Uint8Array.from([
        0x24, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0, 0xc6, 0x1c, 0, 0, 0xa1, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 0x7f,
        0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0,
      ]),
    ]);
  });

  it("RTM_GETLINK with an empty payload: nothing without ACK (rtnetlink's 1-byte rule), ack 0 with it", () => {
    const { af } = setup();
    const s = sock(af, 5001);
    send(af, s, msg(RTM.GETLINK, REQ, 7));
    expect(drain(af, s)).toEqual([]);
    send(af, s, msg(RTM.GETLINK, REQ | ACK, 8));
    expect(drain(af, s).map(ack)).toMatchObject([{ len: 36, error: 0, seq: 8 }]);
  });

  it("nlmsg_len 8, nlmsg_len 100 > datagram, a 10-byte datagram, a second header with len 0 → nothing for the bad part", () => {
    const { af } = setup();
    const s = sock(af, 5002);
    send(af, s, msg(1, REQ | ACK, 1, new Uint8Array(0), 8));
    send(af, s, msg(1, REQ | ACK, 2, new Uint8Array(0), 100));
    send(af, s, msg(1, REQ | ACK, 3).subarray(0, 10));
    expect(drain(af, s)).toEqual([]);
    send(af, s, concat(msg(1, REQ | ACK, 4), msg(1, REQ | ACK, 5, new Uint8Array(0), 0)));
    expect(drain(af, s).map(ack)).toMatchObject([{ seq: 4, error: 0 }]);
  });

  it("two NOOPs in one datagram → two acks in two datagrams; a first message of len 17 puts the second at offset 20", () => {
    const { af } = setup();
    const s = sock(af, 5003);
    send(af, s, concat(msg(1, REQ | ACK, 1), msg(1, REQ | ACK, 2)));
    expect(drain(af, s).map(ack)).toMatchObject([
      { seq: 1, len: 36 },
      { seq: 2, len: 36 },
    ]);
    const first = msg(1, REQ | ACK, 3, new Uint8Array(4), 17);
    send(af, s, concat(first, msg(1, REQ | ACK, 4)));
    const acks = drain(af, s);
    expect(acks.map(ack)).toMatchObject([{ seq: 3 }, { seq: 4 }]);
    expect(dv(acks[0]!).getUint32(20, true)).toBe(17); // the echoed header keeps nlmsg_len 17
  });

  it("NEW/DEL/SET kinds need CAP_NET_ADMIN of the sender (−EPERM); GET does not", () => {
    const { af, rtnl } = setup();
    const s = sock(af, 0, 0, nobody);
    send(af, s, msg(RTM.SETLINK, REQ | ACK, 1, concat(ifinfomsg(1), attr(IFLA.MTU, u32(1500)))), nobody);
    expect(drain(af, s).map(ack)).toMatchObject([{ seq: 1, error: -1, flags: 0 }]);
    expect(rtnl.dev_get_by_index(1)!.mtu).toBe(65536);
    send(af, s, msg(RTM.GETLINK, REQ, 2, ifinfomsg(1)), nobody);
    expect(drain(af, s).map((d) => headers(d)[0]!.type)).toEqual([RTM.NEWLINK]);
  });
});

describe("RTM_GETLINK doit, RTM_SETLINK, RTM_NEWLINK and RTNLGRP_LINK notifications", () => {
  it("GETLINK by ifindex and by IFLA_IFNAME: one RTM_NEWLINK, flags 0, requester's seq and port; ENODEV, EINVAL", () => {
    const { af, rtnl } = setup();
    rtnl.addLink({ name: "dummy0" });
    const s = sock(af, 6000);
    send(af, s, msg(RTM.GETLINK, REQ, 9, ifinfomsg(1)));
    const [d] = drain(af, s);
    expect(headers(d!)).toMatchObject([{ type: RTM.NEWLINK, flags: 0, seq: 9, pid: 6000, len: d!.length }]);
    expect(dv(d!).getUint16(18, true)).toBe(772); // ARPHRD_LOOPBACK
    expect(dv(d!).getUint32(24, true)).toBe(0x10049); // UP|LOOPBACK|RUNNING|LOWER_UP as measured
    expect([...d!.subarray(32, 40)]).toEqual([7, 0, IFLA.IFNAME, 0, 0x6c, 0x6f, 0, 0]); // "lo"
    const name = new TextEncoder().encode("dummy0\0");
    send(af, s, msg(RTM.GETLINK, REQ, 10, concat(ifinfomsg(0), attr(IFLA.IFNAME, name))));
    const [d2] = drain(af, s);
    expect(dv(d2!).getInt32(20, true)).toBe(2);
    send(af, s, msg(RTM.GETLINK, REQ, 11, ifinfomsg(99)));
    send(af, s, msg(RTM.GETLINK, REQ, 12, ifinfomsg(0)));
    expect(drain(af, s).map((x) => dv(x).getInt32(16, true))).toEqual([-19, -22]);
  });

  it('"ip link set lo up" in a fresh namespace: RTM_NEWLINK to group 1 from (0, 1), seq 0, pid 0, flags 0, PKTINFO 1', () => {
    const { af, rtnl } = setup({ loUp: false });
    expect(rtnl.addresses()).toEqual([]);
    const listener = sock(af, 0, 1);
    expect(af.setsockopt(listener, SOL_NETLINK, NETLINK_SOCKOPT.PKTINFO, 1, 4, root)).toBe(0);
    const s = sock(af, 6001);
    send(af, s, msg(RTM.NEWLINK, REQ | ACK, 3, ifinfomsg(1, IFF.UP, IFF.UP)));
    expect(drain(af, s).map((d) => dv(d).getInt32(16, true))).toEqual([0]);
    const r = recv(af, listener);
    expect([r.portid, r.groups]).toEqual([0, 1]);
    expect(r.cmsgs).toEqual([{ level: SOL_NETLINK, type: 3, data: Uint8Array.of(1, 0, 0, 0) }]);
    expect(headers(r.got)).toMatchObject([
      { type: RTM.NEWLINK, flags: 0, seq: 0, pid: 0, len: r.got.length },
    ]);
    expect(dv(r.got).getUint32(24, true)).toBe(0x10049);
    expect(dv(r.got).getUint32(28, true)).toBe(IFF.UP); // ifi_change
    expect(drain(af, listener)).toEqual([]);
    expect(rtnl.addresses().map((a) => a.family)).toEqual([2, 10]);
  });

  it("SETLINK of a new MTU notifies (ifi_change 0); the same MTU does not; below min_mtu is EINVAL with a message", () => {
    const { af, rtnl } = setup();
    const dev = rtnl.addLink({ name: "eth9", kind: "dummy" });
    if (typeof dev === "number") throw new Error(String(dev));
    dev.minMtu = 68;
    const listener = sock(af, 0, 1);
    const s = sock(af, 6002);
    af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1, 4, root);
    send(af, s, msg(RTM.SETLINK, REQ | ACK, 1, concat(ifinfomsg(dev.ifindex), attr(IFLA.MTU, u32(9000)))));
    send(af, s, msg(RTM.SETLINK, REQ | ACK, 2, concat(ifinfomsg(dev.ifindex), attr(IFLA.MTU, u32(9000)))));
    send(af, s, msg(RTM.SETLINK, REQ | ACK, 3, concat(ifinfomsg(dev.ifindex), attr(IFLA.MTU, u32(10)))));
    const acks = drain(af, s);
    expect(acks.map((d) => dv(d).getInt32(16, true))).toEqual([0, 0, -22]);
    expect(new TextDecoder().decode(acks[2]!)).toContain("mtu less than device minimum");
    expect(dev.mtu).toBe(9000);
    const notes = drain(af, listener);
    expect(notes.length).toBe(1);
    expect(dv(notes[0]!).getUint32(28, true)).toBe(0);
  });

  it("NEWLINK: EEXIST with NLM_F_EXCL, ENODEV without CREATE, EOPNOTSUPP 'Unknown device type', a dummy with CREATE", () => {
    const { af, rtnl } = setup();
    const s = sock(af, 6003);
    af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1, 4, root);
    const name = (n: string) => attr(IFLA.IFNAME, new TextEncoder().encode(`${n}\0`));
    const kind = (k: string) => {
      const inner = attr(1, new TextEncoder().encode(`${k}\0`));
      return attr(IFLA.LINKINFO, inner);
    };
    send(af, s, msg(RTM.NEWLINK, REQ | ACK | 0x200, 1, concat(ifinfomsg(0), name("lo"))));
    send(af, s, msg(RTM.NEWLINK, REQ | ACK, 2, concat(ifinfomsg(0), name("x0"))));
    send(af, s, msg(RTM.NEWLINK, REQ | ACK | 0x400, 3, concat(ifinfomsg(0), name("x0"), kind("veth"))));
    send(af, s, msg(RTM.NEWLINK, REQ | ACK | 0x400, 4, concat(ifinfomsg(0), name("x0"), kind("dummy"))));
    const acks = drain(af, s);
    expect(acks.map((d) => dv(d).getInt32(16, true))).toEqual([-17, -19, -95, 0]);
    expect(new TextDecoder().decode(acks[2]!)).toContain("Unknown device type");
    expect(rtnl.dev_get_by_name("x0")).toMatchObject({ ifindex: 2, kind: "dummy", mtu: 1500, flags: 0x82 });
  });
});

describe("dumps (§2.12)", () => {
  it("GETLINK dump with ACK: NEWLINK messages with NLM_F_MULTI, then NLMSG_DONE alone (20 bytes, 0x2, 0), no ack", () => {
    const { af, rtnl } = setup();
    for (let i = 0; i < 3; i++) rtnl.addLink({ name: `d${i}` });
    const s = sock(af, 7000);
    send(af, s, msg(RTM.GETLINK, REQ | DUMP | ACK, 20, ifinfomsg()));
    const ds = drain(af, s);
    const msgs = ds.slice(0, -1).flatMap(headers);
    expect(msgs.map((m) => [m.type, m.flags, m.seq, m.pid])).toEqual(
      [1, 2, 3, 4].map(() => [RTM.NEWLINK, 2, 20, 7000]),
    );
    expect(ds.at(-1)).toEqual(
      Uint8Array.from([20, 0, 0, 0, 3, 0, 2, 0, 20, 0, 0, 0, 0x58, 0x1b, 0, 0, 0, 0, 0, 0]),
    );
  });

  it("300 links: the first chunk is ≤ 3776 bytes, after a 64 KiB recv the chunks are ≤ 32448; a second dump is EBUSY", () => {
    const { af, rtnl } = setup();
    for (let i = 0; i < 299; i++) rtnl.addLink({ name: `veth${i}` });
    const s = sock(af, 7001);
    send(af, s, msg(RTM.GETLINK, REQ | DUMP, 21, ifinfomsg()));
    send(af, s, msg(RTM.GETLINK, REQ | DUMP, 22, ifinfomsg()));
    const first = recv(af, s, 65536).got;
    const busy = recv(af, s, 65536).got;
    expect(headers(busy)).toMatchObject([{ type: 2, seq: 22, flags: 0 }]);
    expect(dv(busy).getInt32(16, true)).toBe(-16);
    const rest = drain(af, s, 65536);
    const sizes = [first.length, ...rest.map((d) => d.length)];
    expect(sizes[0]).toBeLessThanOrEqual(3776);
    expect(Math.max(...sizes.slice(1))).toBeLessThanOrEqual(32448);
    expect(Math.max(...sizes.slice(1))).toBeGreaterThan(3776 * 4);
    const all = [first, ...rest].flatMap(headers);
    expect(all.filter((m) => m.type === RTM.NEWLINK).length).toBe(300);
    expect(rest.at(-1)!.length).toBe(20);
    expect(all.at(-1)).toMatchObject({ type: 3, flags: 2, seq: 21 });
    // Each chunk but the last two is as full as its limit allows: the next link's message would not have fit.
    const chunks = [first, ...rest];
    for (let i = 0; i < chunks.length - 2; i++) {
      const next = headers(chunks[i + 1]!)[0]!.len;
      expect(chunks[i]!.length + next).toBeGreaterThan(i === 0 ? 3776 : 32448);
    }
  });

  it("GETADDR dump (AF_UNSPEC): lo's 127.0.0.1/8 and ::1/128 equal the host capture's messages byte for byte, DONE apart", () => {
    const host = readDatagrams("host-getaddr-dump.bin");
    const pid = dv(host[0]!).getUint32(12, true);
    const { af } = setup({ clock: () => 18 });
    const s = sock(af, pid);
    const req = new Uint8Array(readVector("netlink", "host-getaddr-dump.req.bin"));
    send(af, s, req);
    const ds = drain(af, s);
    expect(ds.length).toBe(2);
    const hm = headers(host[0]!);
    const v4 = host[0]!.subarray(hm[0]!.at, hm[0]!.at + hm[0]!.len);
    const v6 = host[0]!.subarray(hm[2]!.at, hm[2]!.at + hm[2]!.len);
    expect(ds[0]).toEqual(concat(v4, v6));
    expect(ds[1]).toEqual(new Uint8Array(host[1]!));
  });
});

describe("RTM_NEWADDR and the kernel multicast overrun (§7.5)", () => {
  function newaddr(seq: number, a: number, b: number): Uint8Array {
    const ifa = Uint8Array.of(PF_INET, 32, 0, 0, 1, 0, 0, 0); // /32 on ifindex 1
    return msg(
      RTM.NEWADDR,
      REQ | ACK | 0x400 | 0x200,
      seq,
      concat(ifa, attr(IFA.LOCAL, Uint8Array.of(127, 1, a, b))),
    );
  }

  it("an address notification costs truesize 832 (inet_nlmsg_size 96): two listeners with rcvbuf 2304 get 2 of 300", () => {
    const { af, rtnl } = setup();
    expect(inet_nlmsg_size()).toBe(96);
    const probe = af.nlmsg_new(inet_nlmsg_size());
    expect(probe.truesize).toBe(832);
    probe.free();
    const plain = sock(af, 8001);
    const quiet = sock(af, 8002);
    for (const l of [plain, quiet]) {
      expect(af.setsockopt(l, SOL_SOCKET, SO_RCVBUF, 1, 4, root)).toBe(0);
      expect(
        af.setsockopt(l, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, RTNLGRP.IPV4_IFADDR, 4, root),
      ).toBe(0);
    }
    expect(plain.rcvbuf).toBe(2304);
    af.setsockopt(quiet, SOL_NETLINK, NETLINK_SOCKOPT.NO_ENOBUFS, 1, 4, root);
    const ip = sock(af, 8000);
    for (let i = 0; i < 300; i++) {
      send(af, ip, newaddr(i + 1, i >> 8, i & 0xff));
      expect(dv(recv(af, ip).got).getInt32(16, true)).toBe(0);
    }
    expect(rtnl.addresses(PF_INET).length).toBe(301);
    expect([plain.rmem, plain.drops, quiet.rmem, quiet.drops]).toEqual([1664, 298, 1664, 298]);
    expect(af.procNetNetlink()).toMatch(/\n\S+ 0 {3}8001 {7}00000010 1664 {5}0 {8}0 {5}2 {8}298 /);
    expect(recv(af, plain).result).toBe(-105);
    const got = drain(af, plain);
    expect(got.map((d) => headers(d)[0])).toMatchObject([
      { type: RTM.NEWADDR, flags: 0, seq: 1, pid: 8000 },
      { type: RTM.NEWADDR, flags: 0, seq: 2, pid: 8000 },
    ]);
    expect(drain(af, quiet).length).toBe(2);
  });

  it("NEWADDR errors: an existing address EEXIST 'ipv4: Address already assigned', no IFA_LOCAL EINVAL, bad ifindex ENODEV", () => {
    const { af } = setup();
    const s = sock(af, 8100);
    af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1, 4, root);
    const base = (index: number, attrs: Uint8Array) =>
      msg(RTM.NEWADDR, REQ | ACK | 0x400, 1, concat(Uint8Array.of(PF_INET, 8, 0, 0, index, 0, 0, 0), attrs));
    send(af, s, base(1, attr(IFA.LOCAL, Uint8Array.of(127, 0, 0, 1))));
    send(af, s, base(1, new Uint8Array(0)));
    send(af, s, base(9, attr(IFA.LOCAL, Uint8Array.of(10, 0, 0, 1))));
    const acks = drain(af, s);
    expect(acks.map((d) => dv(d).getInt32(16, true))).toEqual([-17, -22, -19]);
    const text = acks.map((d) => new TextDecoder().decode(d));
    expect(text[0]).toContain("ipv4: Address already assigned");
    expect(text[1]).toContain("ipv4: Local address is not supplied");
    expect(text[2]).toContain("ipv4: Device not found");
  });
});

describe("no skb leaks", () => {
  it("after requests, dumps, notifications and closing every user socket, only nothing is left", () => {
    const { af, rtnl } = setup();
    for (let i = 0; i < 40; i++) rtnl.addLink({ name: `l${i}` });
    const listener = sock(af, 0, 1 | (1 << 4));
    const s = sock(af, 9000);
    send(af, s, msg(RTM.GETLINK, REQ | DUMP, 1, ifinfomsg()));
    send(af, s, msg(RTM.SETLINK, REQ | ACK, 2, concat(ifinfomsg(2), attr(IFLA.MTU, u32(1400)))));
    send(af, s, msg(0x7f, REQ, 3));
    af.release(s);
    af.release(listener);
    expect(af.skbsInUse()).toBe(0);
  });
});
