// Generic netlink against the measurements of spec/netlink.md §7.7 (Linux 6.18) and the captures in
// vectors/netlink: the controller's GETFAMILY reply, acks and ext-acks byte for byte, the family dump, the
// registry (ids, group ids, notifications), the receive path's checks, policies and GETPOLICY.
import { ModuleLoader } from "@kbridge/chrdev";
import {
  decodeRawAttrs,
  NLA_F_NESTED,
  nlaPutU32,
  type Policy,
  policyDump,
  type RawAttr,
} from "@kbridge/netlink-codec";
import { describe, expect, it } from "vitest";
import { readDatagrams, readVector } from "../../../test-support/vectors.js";
import { CAP_NET_ADMIN, Cred } from "../src/cred.js";
import {
  AF_NETLINK,
  AfNetlink,
  MSG_DONTWAIT,
  NETLINK,
  NETLINK_SOCKOPT,
  type NetlinkCaller,
  type NetlinkSock,
  SOCK_RAW,
  SOL_NETLINK,
} from "../src/net/netlink/af-netlink.js";
import {
  CTRL_ATTR,
  CTRL_CMD,
  GENL_ADMIN_PERM,
  GENL_CMD_CAP_DO,
  GENL_CMD_CAP_DUMP,
  GENL_DONT_VALIDATE_DUMP,
  GENL_DONT_VALIDATE_STRICT,
  GENL_MCAST_CAP_NET_ADMIN,
  Genetlink,
  type GenlFamily,
  type GenlOps,
  genl_dumpit_info,
} from "../src/net/netlink/genetlink.js";

const rootCred = new Cred({ uid: 0, gid: 0 });
const nobodyCred = new Cred({ uid: 65534, gid: 65534 });
const who = (tgid: number, cred = rootCred): NetlinkCaller => ({ tgid, pid: tgid, cred });

function setup(opts: { requestModule?: (alias: string) => void } = {}) {
  let ino = 5000;
  const af = new AfNetlink({ random: () => 0x12345678, nextIno: () => ++ino });
  const current: { cred: Cred | undefined } = { cred: rootCred };
  const genl = new Genetlink(af, { currentCred: () => current.cred, ...opts });
  return { af, genl, current };
}

function sock(
  af: AfNetlink,
  caller: NetlinkCaller,
  opts: { ext?: boolean; cap?: boolean } = {},
): NetlinkSock {
  const s = af.socket(SOCK_RAW, NETLINK.GENERIC, caller);
  if (typeof s === "number") throw new Error(`socket: ${s}`);
  if (opts.ext) af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1, 4, caller);
  if (opts.cap) af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.CAP_ACK, 1, 4, caller);
  expect(af.bind(s, { family: AF_NETLINK, portid: 0, groups: 0 }, 12, caller)).toBe(0);
  expect(s.portid).toBe(caller.tgid >>> 0);
  return s;
}

function send(af: AfNetlink, s: NetlinkSock, bytes: Uint8Array, caller: NetlinkCaller) {
  return af.sendmsg(
    s,
    { len: bytes.length, flags: MSG_DONTWAIT },
    (dst) => {
      dst.set(bytes);
      return 0;
    },
    caller,
  );
}

/** Every datagram queued on `s`, in order, until EAGAIN. */
function recvAll(af: AfNetlink, s: NetlinkSock): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (;;) {
    let got = new Uint8Array(0);
    const r = af.recvmsg(s, 65536, MSG_DONTWAIT, (src) => {
      got = src.slice();
      return 0;
    });
    if (r instanceof Promise) throw new Error("would block");
    if (r.result === -11) return out;
    if (r.result < 0) throw new Error(`recvmsg: ${r.result}`);
    out.push(got);
  }
}

/** Hex bytes as the spec prints them: `|` separators ignored, `"text"` as ASCII, `<pid>` as a LE u32. */
function h(spec: string, pid = 0): Uint8Array {
  const out: number[] = [];
  for (const tok of spec.match(/"[^"]*"|<pid>|[0-9a-fA-F]{2}/g) ?? []) {
    if (tok === "<pid>") out.push(pid & 0xff, (pid >>> 8) & 0xff, (pid >>> 16) & 0xff, pid >>> 24);
    else if (tok.startsWith('"')) for (const c of tok.slice(1, -1)) out.push(c.charCodeAt(0));
    else out.push(Number.parseInt(tok, 16));
  }
  return Uint8Array.from(out);
}

const le16 = (v: number) => [v & 0xff, v >>> 8];
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const pad4 = (b: number[]) => [...b, ...new Array((4 - (b.length % 4)) % 4).fill(0)];
/** One attribute, padded. */
function tlv(type: number, payload: number[]): number[] {
  return pad4([...le16(4 + payload.length), ...le16(type), ...payload]);
}
const str = (s: string) => [...s].map((c) => c.charCodeAt(0)).concat(0);

/** A generic netlink request: nlmsghdr (pid 0) + genlmsghdr + attributes. */
function req(
  type: number,
  flags: number,
  seq: number,
  cmd: number,
  attrs: number[] = [],
  version = 1,
  reserved = 0,
) {
  const len = 20 + attrs.length;
  return Uint8Array.from([
    ...le32(len),
    ...le16(type),
    ...le16(flags),
    ...le32(seq),
    ...le32(0),
    cmd,
    version,
    ...le16(reserved),
    ...attrs,
  ]);
}

const REQ_ACK = 0x05;
const errorOf = (d: Uint8Array) => new DataView(d.buffer, d.byteOffset).getInt32(16, true);

/** The messages of a datagram as [len, type, flags, seq, pid, bytes]. */
function messages(d: Uint8Array) {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const out: { len: number; type: number; flags: number; seq: number; pid: number; bytes: Uint8Array }[] = [];
  for (let off = 0; off < d.length; ) {
    const len = dv.getUint32(off, true);
    out.push({
      len,
      type: dv.getUint16(off + 4, true),
      flags: dv.getUint16(off + 6, true),
      seq: dv.getUint32(off + 8, true),
      pid: dv.getUint32(off + 12, true),
      bytes: d.subarray(off, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

describe("CTRL_CMD_GETFAMILY against §7.7 and the captured vector", () => {
  it('GETFAMILY "nlctrl" REQ|ACK: the 136-byte NEWFAMILY reply, then the 36-byte ack', () => {
    const { af } = setup();
    const me = who(0x1c8d);
    const s = sock(af, me);
    send(af, s, req(0x10, REQ_ACK, 1, CTRL_CMD.GETFAMILY, tlv(CTRL_ATTR.FAMILY_NAME, str("nlctrl"))), me);
    const [reply, ack, more] = recvAll(af, s);
    expect(more).toBeUndefined();
    expect(reply).toEqual(
      h(`88 00 00 00 10 00 00 00 01 00 00 00 8d 1c 00 00 | 01 02 00 00 | 0b 00 02 00 6e 6c 63 74 72 6c 00 00 |
         06 00 01 00 10 00 00 00 | 08 00 03 00 02 00 00 00 | 08 00 04 00 00 00 00 00 | 08 00 05 00 00 00 00 00 |
         2c 00 06 00 14 00 01 00 08 00 01 00 03 00 00 00 08 00 02 00 0e 00 00 00 14 00 02 00 08 00 01 00 0a 00 00 00
         08 00 02 00 0c 00 00 00 | 1c 00 07 00 18 00 01 00 08 00 02 00 10 00 00 00 0b 00 01 00 6e 6f 74 69 66 79 00 00`),
    );
    expect(ack).toEqual(
      h(
        `24 00 00 00 02 00 00 01 01 00 00 00 8d 1c 00 00 00 00 00 00 20 00 00 00 10 00 05 00 01 00 00 00 00 00 00 00`,
      ),
    );
    af.release(s);
    expect(af.skbsInUse()).toBe(0);
  });

  it("replays vectors/netlink/netns1000-genl-ctrl-getfamily-nlctrl: byte-identical datagrams", () => {
    const want = readDatagrams("netns1000-genl-ctrl-getfamily-nlctrl.bin");
    const request = new Uint8Array(readVector("netlink", "netns1000-genl-ctrl-getfamily-nlctrl.req.bin"));
    const pid = new DataView(want[0]!.buffer, want[0]!.byteOffset).getUint32(12, true);
    const { af } = setup();
    const me = who(pid);
    const s = sock(af, me, { ext: true });
    expect(send(af, s, request, me)).toBe(request.length);
    expect(recvAll(af, s)).toEqual(want);
  });

  it('unknown name "nosuchfam": 56 bytes, flags 0, full echo; with EXT_ACK+CAP_ACK 36 bytes, no TLVs', () => {
    const { af } = setup();
    const r = req(0x10, 0x01, 2, CTRL_CMD.GETFAMILY, tlv(CTRL_ATTR.FAMILY_NAME, str("nosuchfam")));
    const me = who(7000);
    const s = sock(af, me);
    send(af, s, r, me);
    expect(recvAll(af, s)).toEqual([
      h(
        `38 00 00 00 02 00 00 00 02 00 00 00 <pid> fe ff ff ff 24 00 00 00 10 00 01 00 02 00 00 00 00 00 00 00
         03 01 00 00 0e 00 02 00 6e 6f 73 75 63 68 66 61 6d 00 00 00`,
        7000,
      ),
    ]);
    const me2 = who(7001);
    const s2 = sock(af, me2, { ext: true, cap: true });
    send(af, s2, r, me2);
    expect(recvAll(af, s2)).toEqual([
      h(
        `24 00 00 00 02 00 00 01 02 00 00 00 <pid> fe ff ff ff 24 00 00 00 10 00 01 00 02 00 00 00 00 00 00 00`,
        7001,
      ),
    ]);
  });

  it("FAMILY_NAME without NUL: -22, MSG, OFFS 0x14, POLICY {MAX_LENGTH 15, TYPE 12}; capped: 104 bytes", () => {
    const { af } = setup();
    const pid = 0xc62f935f;
    const r = h(
      `20 00 00 00 10 00 01 00 04 00 00 00 00 00 00 00 03 01 00 00 0a 00 02 00 6e 6c 63 74 72 6c 00 00`,
    );
    const tlvs = `27 00 01 00 "Attribute failed policy validation" 00 00 | 08 00 02 00 14 00 00 00 |
                  14 00 04 80 08 00 07 00 0f 00 00 00 08 00 01 00 0c 00 00 00`;
    const me = who(pid);
    const s = sock(af, me, { ext: true });
    send(af, s, r, me);
    expect(recvAll(af, s)).toEqual([
      h(
        `78 00 00 00 02 00 00 02 04 00 00 00 5f 93 2f c6 | ea ff ff ff |
         20 00 00 00 10 00 01 00 04 00 00 00 00 00 00 00 03 01 00 00 0a 00 02 00 6e 6c 63 74 72 6c 00 00 | ${tlvs}`,
      ),
    ]);
    const me2 = who(pid + 1);
    const s2 = sock(af, me2, { ext: true, cap: true });
    send(af, s2, r, me2);
    expect(recvAll(af, s2)).toEqual([
      h(
        `68 00 00 00 02 00 00 03 04 00 00 00 <pid> ea ff ff ff 20 00 00 00 10 00 01 00 04 00 00 00 00 00 00 00 ${tlvs}`,
        pid + 1,
      ),
    ]);
  });

  it("FAMILY_ID of 1 byte with EXT+CAP: 120 bytes, -34, POLICY {MIN_VALUE_U 0, MAX_VALUE_U 65535, TYPE 3}", () => {
    const { af } = setup();
    const me = who(7100);
    const s = sock(af, me, { ext: true, cap: true });
    send(af, s, req(0x10, 0x01, 5, CTRL_CMD.GETFAMILY, tlv(CTRL_ATTR.FAMILY_ID, [0x10])), me);
    expect(recvAll(af, s)).toEqual([
      h(
        `78 00 00 00 02 00 00 03 05 00 00 00 <pid> de ff ff ff 1c 00 00 00 10 00 01 00 05 00 00 00 00 00 00 00
         27 00 01 00 "Attribute failed policy validation" 00 00 | 08 00 02 00 14 00 00 00 |
         24 00 04 80 0c 00 04 00 00 00 00 00 00 00 00 00 0c 00 05 00 ff ff 00 00 00 00 00 00 08 00 01 00 03 00 00 00`,
        7100,
      ),
    ]);
  });

  it("FAMILY_ID and FAMILY_NAME: the name wins; an unknown id alone is ENOENT; neither is EINVAL", () => {
    const { af } = setup();
    const me = who(7150);
    const s = sock(af, me);
    send(
      af,
      s,
      req(0x10, 1, 1, 3, [...tlv(CTRL_ATTR.FAMILY_ID, [...le16(999)]), ...tlv(2, str("nlctrl"))]),
      me,
    );
    const [reply] = recvAll(af, s);
    expect(messages(reply!)[0]!.type).toBe(0x10);
    expect(reply!.length).toBe(136);
    send(af, s, req(0x10, 1, 2, 3, tlv(CTRL_ATTR.FAMILY_ID, [...le16(999)])), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-2);
    send(af, s, req(0x10, 1, 3, 3), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-22);
  });

  it("the receive path's errors (§7.7): reserved, flags, unknown cmd, unknown family, no genl header", () => {
    const { af } = setup();
    const pid = 7200;
    const me = who(pid);
    const s = sock(af, me, { ext: true, cap: true });
    send(af, s, req(0x10, REQ_ACK, 6, 11, [], 1, 1), me);
    expect(recvAll(af, s)).toEqual([
      h(
        `4c 00 00 00 02 00 00 03 06 00 00 00 <pid> ea ff ff ff 14 00 00 00 10 00 05 00 06 00 00 00 00 00 00 00
         27 00 01 00 "genlmsghdr.reserved field is not 0" 00 00`,
        pid,
      ),
    ]);
    send(af, s, req(0x10, REQ_ACK, 7, 11), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-95);
    send(af, s, req(0x10, REQ_ACK | 0x400, 8, 11), me);
    const [amb] = recvAll(af, s);
    expect(errorOf(amb!)).toBe(-22);
    expect(amb!.subarray(36)).toEqual(
      h(`32 00 01 00 "ambiguous or reserved bits set in nlmsg_flags" 00 00 00`),
    );
    // Below resv_start_op neither the reserved field nor the flags are looked at.
    send(af, s, req(0x10, REQ_ACK | 0x400, 9, 9, [], 1, 1), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-95);
    send(af, s, req(1023, REQ_ACK, 10, 3), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-2);
    send(af, s, h(`10 00 00 00 10 00 05 00 0b 00 00 00 00 00 00 00`), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-22);
  });

  it('request_module("net-pf-16-proto-16-family-<name>") runs for an unknown name and the lookup is retried', () => {
    const asked: string[] = [];
    const fam: GenlFamily = { name: "late", version: 3, ops: [{ cmd: 1, doit: () => 0 }] };
    const { af, genl } = setup({
      requestModule: (alias) => {
        asked.push(alias);
        if (alias.endsWith("-late")) genl.genl_register_family(fam);
      },
    });
    const me = who(7250);
    const s = sock(af, me);
    send(af, s, req(0x10, 1, 1, 3, tlv(CTRL_ATTR.FAMILY_NAME, str("late"))), me);
    const [reply] = recvAll(af, s);
    expect(asked).toEqual(["net-pf-16-proto-16-family-late"]);
    expect(messages(reply!)[0]!.type).toBe(0x10);
    expect(fam.id).toBe(0x13);
  });
});

// Families of the netns the dump vector was captured in, rebuilt from their op flags: cmd → CTRL_ATTR_OP_FLAGS.
type FamilySpec = [name: string, maxattr: number, ops: [number, number][], groups: string[]];
function familyFrom([name, maxattr, ops, groups]: FamilySpec): GenlFamily {
  const opPolicy: Policy = { maxType: 1, attrs: { 1: { type: "u32" } } };
  const familyPolicy: Policy | undefined = maxattr
    ? { maxType: maxattr, attrs: { 1: { type: "u32" } } }
    : undefined;
  return {
    name,
    version: 1,
    ...(familyPolicy && { policy: familyPolicy }),
    resvStartOp: 255,
    mcgrps: groups.map((g) => ({ name: g })),
    ops: ops.map(([cmd, f]): GenlOps => {
      const op: GenlOps = {
        cmd,
        flags: f & 0x11,
        ...(f & GENL_CMD_CAP_DO && { doit: () => 0 }),
        ...(f & GENL_CMD_CAP_DUMP && { dumpit: () => 0 }),
      };
      if (familyPolicy) return f & 8 ? op : { ...op, validate: GENL_DONT_VALIDATE_DUMP };
      return f & 8 ? { ...op, policy: opPolicy } : op;
    }),
  };
}
const numbered = (flags: number[]): [number, number][] => flags.map((f, i) => [i + 1, f]);
const ETHTOOL_FLAGS = [
  0x0e, 0x0e, 0x1a, 0x0e, 0x1a, 0x0e, 0x0e, 0x1a, 0x1e, 0x1a, 0x0e, 0x1a, 0x0e, 0x1a, 0x0e, 0x1a, 0x0e, 0x1a,
  0x0e, 0x1a, 0x0e, 0x1a, 0x0e, 0x1a, 0x0e, 0x1a, 0x1a, 0x0e, 0x0e, 0x1a, 0x1e, 0x0e, 0x0e, 0x0e, 0x1a, 0x0e,
  0x1a, 0x0e, 0x0e, 0x1a, 0x0e, 0x0e, 0x1a, 0x1a, 0x0e, 0x0e, 0x1a, 0x1a, 0x1a, 0x1a,
];
const VECTOR_NETNS: (FamilySpec | "filler")[] = [
  "filler", // 0x13, groups 2 and 3 (families the netns does not show)
  [
    "netdev",
    0,
    [
      [1, 0x0e],
      [5, 0x0e],
      [10, 0x0e],
      [11, 0x0e],
      [12, 0x0c],
      [13, 0x0b],
      [14, 0x0b],
      [15, 0x0a],
    ],
    ["mgmt", "page-pool"],
  ],
  ["ethtool", 0, numbered(ETHTOOL_FLAGS), ["monitor"]],
  "filler", // 0x16, group 7
  "filler",
  "filler",
  "filler",
  "filler", // 0x17..0x1a
  [
    "tcp_metrics",
    13,
    [
      [1, 0x0e],
      [2, 0x0b],
    ],
    [],
  ],
  [
    "mptcp_pm",
    0,
    numbered([0x1a, 0x1a, 0x0e, 0x1a, 0x1a, 0x0a, 0x1a, 0x1a, 0x1a, 0x1a, 0x1a]),
    ["mptcp_pm_cmds", "mptcp_pm_events"],
  ],
  ["SEG6", 7, numbered([0x0b, 0x05, 0x0b, 0x0b]), []],
  ["IOAM6", 0, numbered([0x0b, 0x0b, 0x05, 0x0b, 0x0b, 0x05, 0x0b]), ["ioam6_events"]],
  [
    "TASKSTATS",
    0,
    [
      [1, 0x0b],
      [4, 0x0a],
    ],
    [],
  ],
];

describe("CTRL_CMD_GETFAMILY dump", () => {
  it("rebuilds the captured netns and replays vectors/netlink/netns1000-genl-ctrl-getfamily-dump byte for byte", () => {
    const want = readDatagrams("netns1000-genl-ctrl-getfamily-dump.bin");
    const request = new Uint8Array(readVector("netlink", "netns1000-genl-ctrl-getfamily-dump.req.bin"));
    const { af, genl } = setup();
    const fillers: GenlFamily[] = [];
    VECTOR_NETNS.forEach((spec, i) => {
      const fam =
        spec === "filler"
          ? {
              name: `filler${i}`,
              ops: [{ cmd: 1, doit: () => 0 }],
              mcgrps: [[{ name: "a" }, { name: "b" }], [{ name: "c" }]][fillers.length] ?? [],
            }
          : familyFrom(spec);
      if (spec === "filler") fillers.push(fam);
      expect(genl.genl_register_family(fam)).toBe(0);
      expect(fam.id).toBe(0x13 + i);
    });
    for (const f of fillers) expect(genl.genl_unregister_family(f)).toBe(0);
    expect(genl.families().map((f) => [f.name, f.id, f.mcgrpOffset])).toEqual([
      ["nlctrl", 0x10, 16],
      ["netdev", 0x14, 4],
      ["ethtool", 0x15, 6],
      ["tcp_metrics", 0x1b, undefined],
      ["mptcp_pm", 0x1c, 8],
      ["SEG6", 0x1d, undefined],
      ["IOAM6", 0x1e, 10],
      ["TASKSTATS", 0x1f, undefined],
    ]);
    const pid = new DataView(want[0]!.buffer, want[0]!.byteOffset).getUint32(12, true);
    const me = who(pid);
    const s = sock(af, me, { ext: true });
    send(af, s, request, me);
    const got = recvAll(af, s);
    expect(got.map((d) => d.length)).toEqual([2512]);
    expect(got).toEqual(want);
    // nlctrl's entry is the 136-byte reply with flags NLM_F_MULTI.
    expect(messages(got[0]!)[0]!.bytes).toEqual(want[0]!.subarray(0, 136));
    af.release(s);
    expect(af.skbsInUse()).toBe(0);
  });

  it("15 messages filling 3772 bytes of the first chunk: NLMSG_DONE comes alone in a 20-byte datagram, no ack", () => {
    const { af, genl } = setup();
    for (let i = 0; i < 14; i++) {
      const n = i < 8 ? 10 : 9;
      const fam: GenlFamily = {
        name: i === 13 ? "family13" : `fam${String(i).padStart(2, "0")}`,
        resvStartOp: 255,
        ops: Array.from({ length: n }, (_, c) => ({ cmd: c + 1, doit: () => 0 })),
      };
      expect(genl.genl_register_family(fam)).toBe(0);
    }
    const me = who(0xa7997343);
    const s = sock(af, me, { ext: true });
    send(af, s, req(0x10, 0x305, 20, CTRL_CMD.GETFAMILY), me);
    const [first, done, more] = recvAll(af, s);
    expect(first!.length).toBe(3772);
    const msgs = messages(first!);
    expect(msgs.length).toBe(15);
    expect(msgs.every((m) => m.type === 0x10 && m.flags === 0x2 && m.seq === 20 && m.pid === me.tgid)).toBe(
      true,
    );
    expect(done).toEqual(h(`14 00 00 00 03 00 02 00 14 00 00 00 43 73 99 a7 00 00 00 00`));
    expect(more).toBeUndefined();
  });

  it("a dump larger than one chunk continues where cb->args[0] left it, each family once", () => {
    const { af, genl } = setup();
    for (let i = 0; i < 40; i++) {
      genl.genl_register_family({
        name: `big${i}`,
        resvStartOp: 255,
        ops: Array.from({ length: 12 }, (_, c) => ({ cmd: c + 1, doit: () => 0 })),
      });
    }
    const me = who(7300);
    const s = sock(af, me);
    send(af, s, req(0x10, 0x301, 1, CTRL_CMD.GETFAMILY), me);
    const got = recvAll(af, s);
    expect(got.length).toBeGreaterThan(1);
    expect(got[0]!.length).toBeLessThanOrEqual(3776);
    const all = got.flatMap(messages);
    expect(all.at(-1)!.type).toBe(3);
    const ids = all
      .slice(0, -1)
      .map((m) => new DataView(m.bytes.buffer, m.bytes.byteOffset).getUint16(20 + 12 + 4, true));
    expect(ids).toEqual(genl.families().map((f) => f.id));
  });
});

describe("family registry", () => {
  it("ids: nlctrl 16, reserved 0x11/0x12 by name, dynamic from 0x13 cyclically; duplicate names EEXIST", () => {
    const { genl } = setup();
    const a: GenlFamily = { name: "a", ops: [{ cmd: 1, doit: () => 0 }] };
    const b: GenlFamily = { name: "b", ops: [{ cmd: 1, doit: () => 0 }] };
    expect(genl.genl_register_family(a)).toBe(0);
    expect(genl.genl_register_family(b)).toBe(0);
    expect([a.id, b.id]).toEqual([0x13, 0x14]);
    expect(genl.genl_register_family({ name: "a", ops: [] })).toBe(-17);
    expect(genl.genl_unregister_family(a)).toBe(0);
    expect(genl.genl_unregister_family(a)).toBe(-2);
    expect(genl.genl_register_family(a)).toBe(0);
    expect(a.id).toBe(0x15);
    const dq: GenlFamily = { name: "VFS_DQUOT", ops: [], mcgrps: [{ name: "events" }] };
    const pm: GenlFamily = { name: "pmcraid", ops: [], mcgrps: [{ name: "events" }] };
    expect(genl.genl_register_family(dq)).toBe(0);
    expect(genl.genl_register_family(pm)).toBe(0);
    expect([dq.id, dq.mcgrpOffset, pm.id, pm.mcgrpOffset]).toEqual([0x11, 0x11, 0x12, 0x12]);
    // pmcraid moved the cursor back to 0x13: the next family takes the first free id from there.
    const c: GenlFamily = { name: "c", ops: [] };
    expect(genl.genl_register_family(c)).toBe(0);
    expect(c.id).toBe(0x13);
    expect(genl.genl_register_family({ name: "pmcraid2", ops: [] })).toBe(0);
    expect(genl.genl_family_find_byname("pmcraid2")!.id).toBe(0x16);
  });

  it("op tables: no doit/dumpit, duplicate cmds, validate flags at or above resv_start_op, unsorted split ops → EINVAL", () => {
    const { genl } = setup();
    expect(genl.genl_register_family({ name: "x", ops: [{ cmd: 1 }] })).toBe(-22);
    const dup = [
      { cmd: 1, doit: () => 0 },
      { cmd: 1, dumpit: () => 0 },
    ];
    expect(genl.genl_register_family({ name: "x", resvStartOp: 5, ops: dup })).toBe(-22);
    const v = [{ cmd: 3, doit: () => 0, validate: GENL_DONT_VALIDATE_STRICT }];
    expect(genl.genl_register_family({ name: "x", resvStartOp: 3, ops: v })).toBe(-22);
    expect(genl.genl_register_family({ name: "x", resvStartOp: 4, ops: v })).toBe(0);
    const unsorted = [
      { cmd: 2, flags: GENL_CMD_CAP_DO, doit: () => 0 },
      { cmd: 1, flags: GENL_CMD_CAP_DO, doit: () => 0 },
    ];
    expect(genl.genl_register_family({ name: "y", splitOps: unsorted })).toBe(-22);
    const dumpFirst = [
      { cmd: 1, flags: GENL_CMD_CAP_DUMP, dumpit: () => 0 },
      { cmd: 1, flags: GENL_CMD_CAP_DO, doit: () => 0 },
    ];
    expect(genl.genl_register_family({ name: "y", splitOps: dumpFirst })).toBe(-22);
    expect(genl.warnings.length).toBe(2);
    expect(() => genl.genl_register_family({ name: "sixteen-bytes-xx", ops: [] })).toThrow(/char\[16\]/);
  });

  it("group ids: the first run of free ids, past the reserved 16–18, the bitmap growing by 64", () => {
    const { af, genl } = setup();
    expect(genl.mcGroupsInUse()).toEqual([0, 1, 16, 17, 18]);
    expect(af.protocolGroups(NETLINK.GENERIC)).toBe(32);
    const g = (n: number, name: string): GenlFamily => ({
      name,
      ops: [],
      mcgrps: Array.from({ length: n }, (_, i) => ({ name: `g${i}` })),
    });
    const two = g(2, "two");
    const one = g(1, "one");
    const many = g(60, "many");
    expect(genl.genl_register_family(two)).toBe(0);
    expect(genl.genl_register_family(one)).toBe(0);
    expect([two.mcgrpOffset, one.mcgrpOffset]).toEqual([2, 4]);
    expect(af.protocolGroups(NETLINK.GENERIC)).toBe(64);
    expect(genl.genl_register_family(many)).toBe(0);
    expect(many.mcgrpOffset).toBe(19);
    expect(af.protocolGroups(NETLINK.GENERIC)).toBe(128);
    const small = g(11, "small");
    expect(genl.genl_register_family(small)).toBe(0);
    expect(small.mcgrpOffset).toBe(5);
    expect(genl.genl_unregister_family(two)).toBe(0);
    expect(genl.mcGroupsInUse().slice(0, 6)).toEqual([0, 1, 4, 5, 6, 7]);
  });

  it("a group without a name fails after the id was taken: the cyclic cursor has moved on", () => {
    const { genl } = setup();
    const bad: GenlFamily = { name: "bad", ops: [], mcgrps: [{ name: "" }] };
    expect(genl.genl_register_family(bad)).toBe(-22);
    expect(genl.genl_family_find_byname("bad")).toBeUndefined();
    const next: GenlFamily = { name: "next", ops: [] };
    expect(genl.genl_register_family(next)).toBe(0);
    expect(next.id).toBe(0x14);
    expect(genl.genl_register_family({ name: "long", ops: [], mcgrps: [{ name: "0123456789abcdef" }] })).toBe(
      -22,
    );
  });
});

describe("notifications on nlctrl's notify group (16) and group membership", () => {
  it("register: NEWFAMILY then NEWMCAST_GRP per group; unregister: DELMCAST_GRP per group, members dropped, then DELFAMILY", () => {
    const { af, genl } = setup();
    const listener = who(7400, nobodyCred);
    const l = sock(af, listener);
    expect(af.bind(l, { family: AF_NETLINK, portid: 7400, groups: 1 << 15 }, 12, listener)).toBe(0);
    const unbinds: number[] = [];
    const fam: GenlFamily = {
      name: "kb_test",
      version: 1,
      resvStartOp: 2,
      ops: [{ cmd: 1, doit: () => 0 }],
      mcgrps: [{ name: "events" }, { name: "stats" }],
      unbind: (i) => unbinds.push(i),
    };
    expect(genl.genl_register_family(fam)).toBe(0);
    const member = who(7401, nobodyCred);
    const m = sock(af, member);
    expect(af.setsockopt(m, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 3, 4, member)).toBe(0);
    const got = recvAll(af, l);
    expect(got.length).toBe(3);
    const [newFam, grp0, grp1] = got.map((d) => messages(d));
    expect(newFam!.length).toBe(1);
    expect(newFam![0]!.bytes.subarray(0, 48)).toEqual(
      h(`8c 00 00 00 10 00 00 00 00 00 00 00 00 00 00 00 01 02 00 00 0c 00 02 00 "kb_test" 00 06 00 01 00 13 00 00 00
         08 00 03 00 01 00 00 00`),
    );
    expect(grp0![0]!.bytes).toEqual(
      h(`44 00 00 00 10 00 00 00 00 00 00 00 00 00 00 00 07 02 00 00 0c 00 02 00 "kb_test" 00 06 00 01 00 13 00 00 00
         1c 00 07 00 18 00 01 00 08 00 02 00 02 00 00 00 0b 00 01 00 "events" 00 00`),
    );
    expect(grp1![0]!.bytes.subarray(16, 20)).toEqual(h(`07 02 00 00`));
    expect(grp1![0]!.bytes.subarray(48, 56)).toEqual(h(`08 00 02 00 03 00 00 00`));
    expect(m.inGroup(3)).toBe(true);
    expect(af.netlink_has_listeners(genl.sock, 3)).toBe(true);

    expect(genl.genl_unregister_family(fam)).toBe(0);
    const del = recvAll(af, l).map((d) => messages(d)[0]!);
    expect(del.map((x) => [x.bytes[16], x.flags, x.seq, x.pid])).toEqual([
      [CTRL_CMD.DELMCAST_GRP, 0, 0, 0],
      [CTRL_CMD.DELMCAST_GRP, 0, 0, 0],
      [CTRL_CMD.DELFAMILY, 0, 0, 0],
    ]);
    expect(m.inGroup(3)).toBe(false);
    expect(m.subscriptions).toBe(0);
    expect(af.netlink_has_listeners(genl.sock, 3)).toBe(false);
    expect(unbinds).toEqual([]);
    expect(genl.mcGroupsInUse()).toEqual([0, 1, 16, 17, 18]);
    af.release(l);
    af.release(m);
    expect(af.skbsInUse()).toBe(0);
  });

  it("GENL_MCAST_CAP_NET_ADMIN groups: an unprivileged join is EPERM, root's works and calls family.bind", () => {
    const { af, genl, current } = setup();
    const binds: number[] = [];
    const fam: GenlFamily = {
      name: "priv",
      ops: [],
      mcgrps: [{ name: "open" }, { name: "admin", flags: GENL_MCAST_CAP_NET_ADMIN }],
      bind: (i) => binds.push(i),
    };
    genl.genl_register_family(fam);
    const u = who(7500, nobodyCred);
    const s = sock(af, u);
    current.cred = nobodyCred;
    expect(af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 3, 4, u)).toBe(-1);
    expect(af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 2, 4, u)).toBe(0);
    current.cred = rootCred.drop(CAP_NET_ADMIN);
    expect(af.bind(s, { family: AF_NETLINK, portid: 7500, groups: 1 << 2 }, 12, who(7500))).toBe(-1);
    current.cred = rootCred;
    expect(af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 3, 4, who(7500))).toBe(0);
    expect(binds).toEqual([0, 1]);
  });

  it("genlmsg_multicast: index → mcgrp_offset + index; a bad index warns, returns -EINVAL and frees the skb", () => {
    const { af, genl } = setup();
    const fam: GenlFamily = { name: "mc", version: 4, ops: [], mcgrps: [{ name: "a" }, { name: "b" }] };
    genl.genl_register_family(fam);
    const r = who(7600);
    const s = sock(af, r);
    af.setsockopt(s, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, 3, 4, r);
    const skb = genl.genlmsg_new(8);
    const hdr = genl.genlmsg_put(skb, 0, 0, fam, 0, 9)!;
    nlaPutU32(skb, 1, 0xdeadbeef);
    genl.genlmsg_end(skb, hdr);
    expect(genl.genlmsg_multicast(fam, skb, 0, 1)).toBe(0);
    expect(recvAll(af, s)).toEqual([
      h(`1c 00 00 00 13 00 00 00 00 00 00 00 00 00 00 00 09 04 00 00 08 00 01 00 ef be ad de`),
    ]);
    const bad = genl.genlmsg_new(8);
    expect(genl.genlmsg_multicast(fam, bad, 0, 2)).toBe(-22);
    expect(bad.freed).toBe(true);
    expect(genl.warnings.at(-1)).toMatch(/group 2 >= n_mcgrps 2/);
    const none = genl.genlmsg_new(8);
    expect(genl.genlmsg_multicast(fam, none, 0, 0)).toBe(-3);
    expect(none.freed).toBe(true);
  });
});

describe("a module's family: permissions, policies and extacks, dumps pinning the module", () => {
  const policy: Policy = {
    maxType: 3,
    attrs: {
      1: { type: "u32", validation: { kind: "range", min: 1, max: 100 } },
      2: { type: "string", len: 8 },
      3: { type: "nested", nested: { maxType: 1, attrs: { 1: { type: "u8" } } } },
    },
  };

  function moduleFamily() {
    const loader = new ModuleLoader();
    const mod = loader.init_module({ name: "kb_test_mod" });
    if (typeof mod === "number") throw new Error("init_module");
    const seen: { cmd: number; attrs: number[] }[] = [];
    const record = (info: Parameters<NonNullable<GenlOps["doit"]>>[1]) => {
      seen.push({ cmd: info.genlhdr.cmd, attrs: (info.attrs ?? []).flatMap((a, t) => (a ? [t] : [])) });
      return 0;
    };
    let dumped = 0;
    const fam: GenlFamily = {
      name: "kb_test",
      version: 1,
      resvStartOp: 2,
      module: mod,
      ops: [
        {
          cmd: 1,
          validate: GENL_DONT_VALIDATE_STRICT | GENL_DONT_VALIDATE_DUMP,
          policy,
          doit: (_skb, info) => record(info),
          // 100 messages of 268 bytes: several chunks.
          dumpit: (skb, cb) => {
            expect(genl_dumpit_info(cb).op.cmd).toBe(1);
            for (; (cb.args[0] ?? 0) < 100; cb.args[0] = (cb.args[0] ?? 0) + 1) {
              const hdr = genl.genlmsg_put(skb, cb.portid, cb.nlh.seq, fam, 0x2, 1);
              if (hdr === null) return skb.len;
              if (skb.tailroom < 248) {
                genl.genlmsg_cancel(skb, hdr);
                return skb.len;
              }
              const at = skb.put(248);
              skb.buffer.fill(0xab, at, at + 248);
              genl.genlmsg_end(skb, hdr);
              dumped++;
            }
            return 0;
          },
        },
        { cmd: 2, flags: GENL_ADMIN_PERM, policy, doit: (_skb, info) => record(info) },
        { cmd: 3, doit: (_skb, info) => record(info) },
      ],
    };
    const { af, genl } = setup();
    expect(genl.genl_register_family(fam)).toBe(0);
    return { af, genl, fam, mod, loader, seen, dumped: () => dumped };
  }

  it("CTRL_ATTR_OPS shows DO/DUMP/HASPOL/ADMIN_PERM as ctrl_fill_info computes them", () => {
    const { af } = moduleFamily();
    const me = who(7700);
    const s = sock(af, me);
    send(af, s, req(0x10, 1, 1, 3, tlv(CTRL_ATTR.FAMILY_NAME, str("kb_test"))), me);
    const [reply] = recvAll(af, s);
    const attrs = decodeRawAttrs(reply!, 20, reply!.length);
    const ops = attrs.find((a) => a.rawType === CTRL_ATTR.OPS)!;
    const flat = (a: RawAttr) => ("payload" in a ? a.payload : new Uint8Array());
    const entries = decodeRawAttrs(flat(ops), 0, flat(ops).length).map((e) =>
      decodeRawAttrs(flat(e), 0, flat(e).length).map((x) =>
        new DataView(flat(x).buffer, flat(x).byteOffset).getUint32(0, true),
      ),
    );
    // cmd 1: do + dump, the dump without a policy (DONT_VALIDATE_DUMP) but the do with one; cmd 2 admin; cmd 3 ≥
    // resv_start_op without a policy gets the reject-all policy.
    expect(entries).toEqual([
      [1, 0x0e],
      [2, 0x0b],
      [3, 0x0a],
    ]);
  });

  it("bad attributes get the kernel's errno and extack byte for byte (strict op)", () => {
    const { af, fam, seen } = moduleFamily();
    const pid = 7710;
    const me = who(pid);
    const s = sock(af, me, { ext: true, cap: true });
    const id = fam.id!;
    send(af, s, req(id, REQ_ACK, 7, 2, tlv(1, le32(0))), me);
    expect(recvAll(af, s)).toEqual([
      h(
        `6c 00 00 00 02 00 00 03 07 00 00 00 <pid> de ff ff ff 1c 00 00 00 ${id.toString(16)} 00 05 00 07 00 00 00
         00 00 00 00 | 19 00 01 00 "integer out of range" 00 00 00 00 | 08 00 02 00 14 00 00 00 |
         24 00 04 80 0c 00 04 00 01 00 00 00 00 00 00 00 0c 00 05 00 64 00 00 00 00 00 00 00 08 00 01 00 04 00 00 00`,
        pid,
      ),
    ]);
    // An unknown type is an error for a strict op: EINVAL "Unknown attribute type" at the second attribute.
    send(af, s, req(id, REQ_ACK, 8, 2, [...tlv(1, le32(5)), ...tlv(9, [1])]), me);
    const [unknown] = recvAll(af, s);
    expect(errorOf(unknown!)).toBe(-22);
    expect(unknown!.subarray(36)).toEqual(
      h(`1b 00 01 00 "Unknown attribute type" 00 00 | 08 00 02 00 1c 00 00 00`),
    );
    // A nest without NLA_F_NESTED: EINVAL, policy {TYPE 13 (nested)}.
    send(af, s, req(id, REQ_ACK, 9, 2, tlv(3, tlv(1, [7]))), me);
    const [nest] = recvAll(af, s);
    expect(errorOf(nest!)).toBe(-22);
    expect(nest!.subarray(36)).toEqual(
      h(
        `1c 00 01 00 "NLA_F_NESTED is missing" 00 | 08 00 02 00 14 00 00 00 | 0c 00 04 80 08 00 01 00 0d 00 00 00`,
      ),
    );
    // Inside the nest: the inner offset and the inner policy.
    send(af, s, req(id, REQ_ACK, 10, 2, tlv(3 | NLA_F_NESTED, tlv(1, [7, 7]))), me);
    const [inner] = recvAll(af, s);
    expect(errorOf(inner!)).toBe(-22);
    expect(inner!.subarray(36)).toEqual(
      h(`1d 00 01 00 "invalid attribute length" 00 00 00 00 | 08 00 02 00 18 00 00 00 |
         24 00 04 80 0c 00 04 00 00 00 00 00 00 00 00 00 0c 00 05 00 ff 00 00 00 00 00 00 00 08 00 01 00 02 00 00 00`),
    );
    send(af, s, req(id, REQ_ACK, 11, 2, [...tlv(1, le32(100)), ...tlv(2, str("abcdefgh"))]), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(0);
    expect(seen).toEqual([{ cmd: 2, attrs: [1, 2] }]);
  });

  it("a liberal op skips unknown types; cmd ≥ resv_start_op without a policy rejects any attribute", () => {
    const { af, fam, seen } = moduleFamily();
    const me = who(7720);
    const s = sock(af, me, { ext: true, cap: true });
    send(af, s, req(fam.id!, REQ_ACK, 1, 1, [...tlv(9, [1]), ...tlv(1, le32(50))]), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(0);
    expect(seen).toEqual([{ cmd: 1, attrs: [1] }]);
    send(af, s, req(fam.id!, REQ_ACK, 2, 3, tlv(1, [])), me);
    const [rej] = recvAll(af, s);
    expect(errorOf(rej!)).toBe(-22);
    expect(rej!.subarray(36)).toEqual(
      h(`27 00 01 00 "Attribute failed policy validation" 00 00 | 08 00 02 00 14 00 00 00`),
    );
    send(af, s, req(fam.id!, REQ_ACK, 3, 3, tlv(2, [])), me);
    expect(recvAll(af, s)[0]!.subarray(36, 63)).toEqual(h(`1b 00 01 00 "Unknown attribute type" 00`));
    send(af, s, req(fam.id!, REQ_ACK, 4, 3), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(0);
  });

  it("GENL_ADMIN_PERM: EPERM for a sender without CAP_NET_ADMIN, checked before the attributes", () => {
    const { af, fam, seen } = moduleFamily();
    const u = who(7730, nobodyCred);
    const s = sock(af, u);
    send(af, s, req(fam.id!, REQ_ACK, 1, 2, tlv(1, le32(0))), u);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-1);
    // Root's message on a socket an unprivileged task opened: the file's opener lacks the capability too.
    send(af, s, req(fam.id!, REQ_ACK, 2, 2, tlv(1, le32(5))), who(7730));
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-1);
    expect(seen).toEqual([]);
  });

  it("a dump holds a module reference until NLMSG_DONE; a going module refuses it with EPROTONOSUPPORT", () => {
    const { af, fam, mod, dumped } = moduleFamily();
    const me = who(7740);
    const s = sock(af, me);
    send(af, s, req(fam.id!, 0x305, 1, 1), me);
    expect(mod.refcount).toBe(1); // the dump's (a NETLINK_GENERIC socket pins no module)
    const got = recvAll(af, s);
    expect(dumped()).toBe(100);
    // The first chunk is NLMSG_GOODSIZE (14 × 268 bytes); reading with a 64 KiB buffer sizes the next at 32448.
    expect(got.map((d) => messages(d).length)).toEqual([14, 87]);
    expect(got[0]!.length).toBe(14 * 268);
    expect(got.flatMap(messages).filter((m) => m.type === fam.id).length).toBe(100);
    expect(messages(got.at(-1)!).at(-1)!.type).toBe(3);
    expect(mod.refcount).toBe(0);
    mod.state = "GOING";
    send(af, s, req(fam.id!, 0x305, 2, 1), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-93);
  });
});

describe("CTRL_CMD_GETPOLICY", () => {
  // One attribute whose payload is nested attributes: nla_nest_start() sets NLA_F_NESTED.
  const nest = (type: number, inner: number[]) => tlv(type | NLA_F_NESTED, inner);
  const u64 = (v: bigint) => [...le32(Number(v & 0xffffffffn)), ...le32(Number(v >> 32n))];
  const entry = (policyIdx: number, attrIdx: number, attrs: number[]) =>
    nest(CTRL_ATTR.POLICY, nest(policyIdx, nest(attrIdx, attrs)));
  const u16Desc = [...tlv(4, u64(0n)), ...tlv(5, u64(0xffffn)), ...tlv(1, le32(3))];
  const nameDesc = [...tlv(7, le32(15)), ...tlv(1, le32(12))];
  const u32Desc = [...tlv(4, u64(0n)), ...tlv(5, u64(0xffffffffn)), ...tlv(1, le32(4))];
  const msg = (pid: number, seq: number, body: number[]) => {
    const len = 20 + 8 + body.length;
    return [
      ...le32(len),
      0x10,
      0,
      0x02,
      0,
      ...le32(seq),
      ...le32(pid),
      10,
      2,
      0,
      0,
      ...tlv(1, le16(16)),
      ...body,
    ];
  };

  it("nlctrl's policies: the per-op index map, then every entry, one per message; DONE in its own datagram", () => {
    const { af } = setup();
    const pid = 7800;
    const me = who(pid);
    const s = sock(af, me);
    send(af, s, req(0x10, 0x305, 3, CTRL_CMD.GETPOLICY, tlv(CTRL_ATTR.FAMILY_NAME, str("nlctrl"))), me);
    const got = recvAll(af, s);
    expect(got.length).toBe(2);
    expect(got[0]).toEqual(
      Uint8Array.from([
        ...msg(pid, 3, nest(CTRL_ATTR.OP_POLICY, nest(3, [...tlv(1, le32(0)), ...tlv(2, le32(0))]))),
        ...msg(pid, 3, nest(CTRL_ATTR.OP_POLICY, nest(10, tlv(2, le32(1))))),
        ...msg(pid, 3, entry(0, 1, u16Desc)),
        ...msg(pid, 3, entry(0, 2, nameDesc)),
        ...msg(pid, 3, entry(1, 1, u16Desc)),
        ...msg(pid, 3, entry(1, 2, nameDesc)),
        ...msg(pid, 3, entry(1, 10, u32Desc)),
      ]),
    );
    expect(got[1]).toEqual(h(`14 00 00 00 03 00 02 00 03 00 00 00 <pid> 00 00 00 00`, pid));
  });

  it("start errors: no family → EINVAL, unknown family → ENOENT, unknown OP → ENOENT with OFFS at it", () => {
    const { af } = setup();
    const me = who(7810);
    const s = sock(af, me, { ext: true, cap: true });
    send(af, s, req(0x10, 0x305, 1, 10), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-22);
    send(af, s, req(0x10, 0x305, 2, 10, tlv(2, str("nosuchfam"))), me);
    expect(errorOf(recvAll(af, s)[0]!)).toBe(-2);
    send(af, s, req(0x10, 0x305, 3, 10, [...tlv(1, le16(16)), ...tlv(10, le32(99))]), me);
    const [bad] = recvAll(af, s);
    expect(errorOf(bad!)).toBe(-2);
    expect(bad!.subarray(36)).toEqual(h(`08 00 02 00 1c 00 00 00`));
  });

  it("a single op (CTRL_ATTR_OP) of a family with nested policies: indexes agree with the codec's policy dump", () => {
    const { af, genl } = setup();
    const leaf: Policy = { maxType: 2, attrs: { 1: { type: "u8" }, 2: { type: "flag" } } };
    const top: Policy = {
      maxType: 4,
      attrs: {
        1: { type: "nested", nested: leaf },
        2: { type: "string", len: 20 },
        3: { type: "nested-array", nested: leaf },
        4: { type: "s32", validation: { kind: "range", min: -5, max: 5 } },
      },
    };
    const fam: GenlFamily = {
      name: "nested",
      resvStartOp: 0,
      splitOps: [{ cmd: 1, flags: GENL_CMD_CAP_DO, policy: top, doit: () => 0 }],
    };
    genl.genl_register_family(fam);
    const me = who(7820);
    const s = sock(af, me);
    send(af, s, req(0x10, 0x305, 1, 10, [...tlv(1, le16(fam.id!)), ...tlv(10, le32(1))]), me);
    const msgs = recvAll(af, s).flatMap(messages);
    expect(msgs.at(-1)!.type).toBe(3);
    const body = (m: (typeof msgs)[number]) => decodeRawAttrs(m.bytes, 20, m.len);
    expect(body(msgs[0]!)[1]).toMatchObject({ rawType: CTRL_ATTR.OP_POLICY | NLA_F_NESTED });
    const entries = msgs.slice(1, -1).map((m) => {
      const pol = body(m).find((a) => (a.rawType & 0x3fff) === CTRL_ATTR.POLICY)!;
      if (!("children" in pol)) throw new Error("flat");
      const p = pol.children[0]!;
      if (!("children" in p)) throw new Error("flat");
      const a = p.children[0]!;
      if (!("children" in a)) throw new Error("flat");
      return { policyIdx: p.rawType & 0x3fff, attrIdx: a.rawType & 0x3fff, attrs: a.children };
    });
    const want = policyDump(top).map((x) => ({ policyIdx: x.policyIdx, attrIdx: x.attrIdx, attrs: x.attrs }));
    expect(entries.map((x) => [x.policyIdx, x.attrIdx])).toEqual(want.map((x) => [x.policyIdx, x.attrIdx]));
    expect(
      entries.map((x) => x.attrs.map((a) => ("payload" in a ? [a.rawType, [...a.payload]] : a.rawType))),
    ).toEqual(
      want.map((x) => x.attrs.map((a) => ("payload" in a ? [a.rawType, [...a.payload]] : a.rawType))),
    );
  });
});
