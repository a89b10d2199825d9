// The families kbridge ships decode the real captures and encode every message back byte for byte.
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { readDatagrams } from "../../../test-support/vectors.js";
import {
  attrsToObject,
  type FamilyAttr,
  type NetlinkFamily,
  NLM_F,
  type NlaPolicy,
  nlctrlFamily,
  parseDatagram,
  policyAttrs,
  rtAddrFamily,
  rtLinkFamily,
  rtNeighFamily,
  rtRouteFamily,
} from "../src/index.js";
import { reencodesExactly } from "./reencode.js";

function roundTrip(family: NetlinkFamily, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let mismatches = 0;
  for (const d of readDatagrams(file)) {
    for (const m of parseDatagram(d)) {
      if (m.type < 16) continue;
      const f = family.decode(m);
      out.push({ op: f.op?.name, ...f.fixed, ...attrsToObject(f.attrs) });
      if (!reencodesExactly(family, d, m, f)) mismatches++;
    }
  }
  expect(mismatches).toBe(0);
  return out;
}

describe("bundled families on real kernel replies", () => {
  it("rt-link: 1001 links, every IFLA_* named, IFLA_LINKINFO nested", () => {
    const links = roundTrip(rtLinkFamily(), "netns1000-getlink-dump.bin");
    expect(links).toHaveLength(1001);
    expect(links[0]).toMatchObject({ op: "newlink", ifname: "lo", mtu: 65536 });
    expect(links.find((l) => l.ifname === "va0")).toMatchObject({
      mtu: 1500,
      linkinfo: { kind: "veth" },
      "ifi-type": 1,
    });
  });

  it("rt-link: IFLA_STATS64 / IFLA_STATS / IFLA_MAP as structs, IFLA_AF_SPEC and IFLA_XDP nested", () => {
    const links = roundTrip(rtLinkFamily(), "netns1000-getlink-dump.bin");
    for (const l of links) {
      const s64 = l.stats64 as Record<string, bigint>;
      const s32 = l.stats as Record<string, number>;
      // The 32-bit counters are the 64-bit ones truncated (rtnl_fill_stats copies one into the other).
      expect(Number(s64["rx-packets"]! & 0xffffffffn)).toBe(s32["rx-packets"]);
      expect(Number(s64["tx-bytes"]! & 0xffffffffn)).toBe(s32["tx-bytes"]);
    }
    const va0 = links.find((l) => l.ifname === "va0")!;
    expect(va0.map).toEqual({ "mem-start": 0n, "mem-end": 0n, "base-addr": 0n, irq: 0, dma: 0, port: 0 });
    expect(va0.xdp).toEqual({ attached: 0 });
    const af = va0["af-spec"] as {
      inet: { conf: Record<string, number> };
      inet6: Record<string, Record<string, unknown> | number>;
    };
    expect(af.inet.conf["igmpv2-unsolicited-report-interval"]).toBe(10000);
    const inet6 = af.inet6;
    expect((inet6.conf as Record<string, number>).mtu6).toBe(1500);
    expect(inet6.cacheinfo).toMatchObject({ "retrans-time": 1000 });
    // stats[0] of IFLA_INET6_STATS / IFLA_INET6_ICMP6STATS is the number of counters (addrconf.c), not a counter.
    expect((inet6.stats as Record<string, bigint>).num).toBe(38n);
    expect((inet6["icmp6-stats"] as Record<string, bigint>).num).toBe(7n);
  });

  it("rt-link: a veth newlink, VETH_INFO_PEER's ifinfomsg typed and the peer's IFLA_* kept behind it", () => {
    const link = rtLinkFamily();
    // The peer's payload as `ip link add va type veth peer name vb` sends it: ifinfomsg, then IFLA_IFNAME "vb".
    const peer = Uint8Array.of(...new Array(16).fill(0), 7, 0, 3, 0, 0x76, 0x62, 0, 0);
    // RTM_NEWLINK "va" with IFLA_LINKINFO { kind veth, data { VETH_INFO_PEER } }.
    const vethRequest = (peerAttr: FamilyAttr) => ({
      cmd: 16,
      flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL,
      seq: 1,
      fixed: { "ifi-family": 0 },
      attrs: [
        { name: "ifname", type: 3, rawType: 3, value: "va" },
        {
          name: "linkinfo",
          type: 18,
          rawType: 18,
          value: [
            { name: "kind", type: 1, rawType: 1, value: "veth" },
            { name: "data", type: 2, rawType: 2, value: { format: "veth", attrs: [peerAttr] } },
          ],
        },
      ],
    });
    const request = vethRequest({ name: "peer", type: 1, rawType: 1, value: peer });
    const bytes = link.encode(request);
    expect(bytes.length).toBe(16 + 16 + 8 + 4 + 4 + 8 + 4 + 4 + 24);
    const back = link.decode(parseDatagram(bytes)[0]!);
    const info = attrsToObject(back.attrs).linkinfo as {
      kind: string;
      data: { format: string; peer: Record<string, number> };
    };
    expect(info.kind).toBe("veth");
    expect(info.data.format).toBe("veth");
    expect(info.data.peer).toEqual({
      "ifi-family": 0,
      "ifi-type": 0,
      "ifi-index": 0,
      "ifi-flags": 0,
      "ifi-change": 0,
    });
    // Editing the peer's ifinfomsg keeps the peer's IFLA_IFNAME after it.
    const linkinfo = back.attrs.find((a) => a.name === "linkinfo")!;
    const data = (linkinfo.value as { name: string; value: { attrs: FamilyAttr[] } }[]).find(
      (a) => a.name === "data",
    )!.value;
    const peerAttr = data.attrs[0]! as FamilyAttr;
    // JSON and console.log show the attribute, not the message buffer behind it.
    expect(JSON.parse(JSON.stringify(back.attrs[0]))).toEqual({
      name: "ifname",
      type: 3,
      rawType: 3,
      value: "va",
    });
    expect(inspect(back.attrs[0], { breakLength: Infinity })).toBe(
      "{ name: 'ifname', type: 3, rawType: 3, value: 'va', raw: Uint8Array(3) [ 118, 97, 0 ] }",
    );
    // A spread copy keeps name, type and value (own properties); raw is a getter and is named to be kept.
    expect({ ...peerAttr }).toMatchObject({ name: "peer", type: 1, value: info.data.peer });
    const edited = link.encode(vethRequest({ ...peerAttr, raw: peerAttr.raw, value: { "ifi-index": 42 } }));
    const expected = Uint8Array.from(bytes);
    expected.set([42, 0, 0, 0], bytes.length - 24 + 4);
    expect(Buffer.from(edited).toString("hex")).toBe(Buffer.from(expected).toString("hex"));
  });

  it("rt-addr: 2502 addresses with labels and cacheinfo", () => {
    const addrs = roundTrip(rtAddrFamily(), "netns1000-getaddr-dump.bin");
    expect(addrs).toHaveLength(2502);
    expect(addrs.filter((a) => a["ifa-family"] === 2).length).toBeGreaterThan(1000);
  });

  it("rt-route: the host's 14 routes, with table and metrics", () => {
    const routes = roundTrip(rtRouteFamily(), "host-getroute-dump.bin");
    expect(routes).toHaveLength(14);
    expect(routes.every((r) => typeof r.table === "number")).toBe(true);
    expect(routes.some((r) => r.oif !== undefined)).toBe(true);
  });

  it("nlctrl: the 8 families of the controller dump", () => {
    const fams = roundTrip(nlctrlFamily(), "netns1000-genl-ctrl-getfamily-dump.bin");
    expect(fams.map((f) => f["family-name"])).toContain("ethtool");
  });

  it("rt-neigh: a neighbour built from values decodes to the same values", () => {
    const neigh = rtNeighFamily();
    const bytes = neigh.encode({
      cmd: 28,
      flags: NLM_F.REQUEST | NLM_F.CREATE,
      fixed: { "ndm-family": 2, "ndm-ifindex": 4, "ndm-state": 0x80 },
      attrs: [
        { name: "dst", type: 1, rawType: 1, value: Uint8Array.of(192, 0, 2, 1) },
        { name: "lladdr", type: 2, rawType: 2, value: Uint8Array.of(0, 0x16, 0x3e, 1, 2, 3) },
        { name: "port", type: 6, rawType: 6, value: 4789 },
      ],
    });
    const back = neigh.decode(parseDatagram(bytes)[0]!);
    expect(back.fixed).toMatchObject({ "ndm-family": 2, "ndm-ifindex": 4, "ndm-state": 0x80 });
    expect(attrsToObject(back.attrs)).toEqual({
      dst: Uint8Array.of(192, 0, 2, 1),
      lladdr: Uint8Array.of(0, 0x16, 0x3e, 1, 2, 3),
      port: 4789,
    });
    expect([bytes[bytes.length - 4], bytes[bytes.length - 3]]).toEqual([0x12, 0xb5]); // NDA_PORT in network order
  });

  it("nlctrl: a CTRL_CMD_GETPOLICY reply (policies as the kernel's policy writer describes them) round-trips", () => {
    const ctrl = nlctrlFamily();
    const entry = (type: number, pt: NlaPolicy) => ({
      key: type,
      attrs: policyAttrs(pt).map((a) => ({
        name: undefined,
        type: a.rawType,
        rawType: a.rawType,
        value: "payload" in a ? a.payload : undefined,
      })),
    });
    // Attributes given as bytes (name undefined) are written as they are; decoding names them.
    const bytes = ctrl.encode({
      cmd: 10,
      flags: NLM_F.MULTI,
      attrs: [
        { name: "family-id", type: 1, rawType: 1, value: 16 },
        {
          name: "policy",
          type: 8,
          rawType: 8 | 0x8000,
          value: [{ key: 0, items: [entry(1, { type: "u16" }), entry(2, { type: "nul-string", len: 15 })] }],
        },
      ],
    });
    const back = attrsToObject(ctrl.decode(parseDatagram(bytes)[0]!).attrs);
    expect(back).toEqual({
      "family-id": 16,
      policy: {
        0: {
          1: { "min-value-u": 0n, "max-value-u": 65535n, type: 3 },
          2: { "max-length": 15, type: 12 },
        },
      },
    });
  });
});
