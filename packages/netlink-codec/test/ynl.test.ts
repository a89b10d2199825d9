import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import { readDatagrams, readVector } from "../../../test-support/vectors.js";
import {
  attrsToObject,
  loadSpec,
  NetlinkFamily,
  NLCTRL_SPEC,
  NLMSG_DONE,
  NLMSG_ERROR,
  parseDatagram,
  RT_ADDR_SPEC,
} from "../src/index.js";

const spec = (name: "nlctrl" | "rt-addr") => (name === "nlctrl" ? NLCTRL_SPEC : RT_ADDR_SPEC);

function einval(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(KernelError.is(e, "EINVAL"), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected EINVAL");
}

describe("loadSpec", () => {
  it("numbers attributes and operations as YNL does", () => {
    const f = loadSpec(spec("nlctrl"));
    expect([f.name, f.protocol, f.version]).toEqual(["nlctrl", "genetlink-legacy", 2]);
    expect(f.attributeSets.get("ctrl-attrs")!.attributes.map((a) => `${a.value}:${a.name}`)).toEqual([
      "1:family-id",
      "2:family-name",
      "3:version",
      "4:hdrsize",
      "5:maxattr",
      "6:ops",
      "7:mcast-groups",
      "8:policy",
      "9:op-policy",
      "10:op",
    ]);
    expect(f.operations[0]).toMatchObject({ name: "getfamily", value: 3, replyValue: 1 });
  });

  it("names the key and the path of what it does not understand", () => {
    expect(einval(() => loadSpec("name: x\nfrobnicate: 1\n"))).toBe(
      "EINVAL: loadSpec: spec.frobnicate: unknown key",
    );
    expect(
      einval(() =>
        loadSpec(
          "name: x\nattribute-sets:\n  - name: a\n    attributes:\n      - name: b\n        type: u128\n",
        ),
      ),
    ).toBe('EINVAL: loadSpec: spec.attribute-sets[0].attributes[0].type: unknown attribute type "u128"');
    expect(
      einval(() =>
        loadSpec(
          "name: x\nattribute-sets:\n  - name: a\n    attributes:\n      - name: b\n        type: sub-message\n",
        ),
      ),
    ).toMatch(/attributes\[0\]: a sub-message needs sub-message and selector/);
    expect(
      einval(() =>
        loadSpec(
          "name: x\nattribute-sets:\n  - name: a\n    attributes:\n      - name: b\n        type: nest\n        nested-attributes: nope\n",
        ),
      ),
    ).toMatch(/spec.attribute-sets.a.b.nested-attributes: no attribute set "nope"/);
    expect(einval(() => loadSpec("name: [unclosed\n"))).toMatch(/spec: is not YAML/);
    expect(einval(() => loadSpec("name: r\nprotocol: netlink-raw\n"))).toMatch(/netlink-raw needs protonum/);
    // Keys that only matter to C code generation are accepted.
    expect(
      loadSpec("name: x\nc-family-name: x_family\nuapi-header: linux/x.h\nattribute-sets: []\n").name,
    ).toBe("x");
  });
});

describe("nlctrl (genetlink) on real kernel replies", () => {
  const nlctrl = new NetlinkFamily(loadSpec(spec("nlctrl")));

  it("decodes GETFAMILY nlctrl: name, id, version, ops and multicast groups (spec §7.7)", () => {
    const [d] = readDatagrams("netns1000-genl-ctrl-getfamily-nlctrl.bin");
    const [m] = parseDatagram(d!);
    const f = nlctrl.decode(m!);
    expect([f.op?.name, f.cmd, f.version]).toEqual(["getfamily", 1, 2]);
    expect(attrsToObject(f.attrs)).toEqual({
      "family-name": "nlctrl",
      "family-id": 16,
      version: 2,
      hdrsize: 0,
      maxattr: 0,
      ops: [
        { id: 3, flags: 14 },
        { id: 10, flags: 12 },
      ],
      "mcast-groups": [{ id: 16, name: "notify" }],
    });
  });

  it("decodes the family dump, and re-encodes every message byte for byte", () => {
    const names: string[] = [];
    for (const d of readDatagrams("netns1000-genl-ctrl-getfamily-dump.bin")) {
      for (const m of parseDatagram(d)) {
        if (m.type === NLMSG_DONE || m.type === NLMSG_ERROR) continue;
        const f = nlctrl.decode(m);
        names.push(String(attrsToObject(f.attrs)["family-name"]));
        const again = nlctrl.encode({
          cmd: f.cmd,
          version: f.version,
          flags: m.flags,
          seq: m.seq,
          pid: m.pid,
          attrs: f.attrs,
        });
        expect(Buffer.from(again).equals(Buffer.from(d.subarray(m.offset, m.offset + m.len)))).toBe(true);
      }
    }
    expect(names).toHaveLength(8);
    expect(names).toContain("nlctrl");
  });

  it("encodes a GETFAMILY request from values, as the captured request", () => {
    const req = new Uint8Array(readVector("netlink", "netns1000-genl-ctrl-getfamily-nlctrl.req.bin"));
    const [m] = parseDatagram(req);
    const built = nlctrl.encode({
      cmd: 3,
      version: req[17],
      flags: m!.flags,
      seq: m!.seq,
      attrs: [{ name: "family-name", type: 2, rawType: 2, value: "nlctrl" }],
    });
    expect(Buffer.from(built).toString("hex")).toBe(Buffer.from(req).toString("hex"));
  });
});

describe("rt-addr (netlink-raw) on a real RTM_GETADDR dump", () => {
  const rtAddr = new NetlinkFamily(loadSpec(spec("rt-addr")));

  it("decodes the fixed header and attributes, structs included, and re-encodes every message", () => {
    const seen: unknown[] = [];
    for (const d of readDatagrams("host-getaddr-dump.bin")) {
      for (const m of parseDatagram(d)) {
        if (m.type === NLMSG_DONE) continue;
        const f = rtAddr.decode(m);
        const o = attrsToObject(f.attrs);
        seen.push([f.op?.name, f.fixed?.["ifa-family"], f.fixed?.["ifa-prefixlen"], o["ifa-label"]]);
        expect(o["ifa-cacheinfo"]).toMatchObject({
          "ifa-prefered": expect.any(Number),
          "ifa-valid": expect.any(Number),
        });
        const again = rtAddr.encode({
          cmd: m.type,
          flags: m.flags,
          seq: m.seq,
          pid: m.pid,
          fixed: f.fixed,
          attrs: f.attrs,
        });
        expect(Buffer.from(again).equals(Buffer.from(d.subarray(m.offset, m.offset + m.len)))).toBe(true);
      }
    }
    expect(seen.slice(0, 2)).toEqual([
      ["newaddr", 2, 8, "lo"],
      ["newaddr", 2, 24, "eth0"],
    ]);
  });

  it("re-encodes a changed value from the value, and keeps unknown attributes", () => {
    const [d] = readDatagrams("host-getaddr-dump.bin");
    const [m] = parseDatagram(d!);
    const f = rtAddr.decode(m!);
    const attrs = f.attrs.map((a) => (a.name === "ifa-label" ? { ...a, value: "loopback0" } : a));
    const again = rtAddr.decode(parseDatagram(rtAddr.encode({ cmd: 20, fixed: f.fixed, attrs }))[0]!);
    expect(attrsToObject(again.attrs)["ifa-label"]).toBe("loopback0");
    expect(again.attrs.length).toBe(f.attrs.length);
  });

  it("refuses what the family cannot express", () => {
    expect(einval(() => rtAddr.encode({ cmd: 99, attrs: [] }))).toMatch(
      /command 99 is no operation of rt-addr/,
    );
    expect(
      einval(() =>
        new NetlinkFamily(loadSpec(spec("nlctrl").replace("name: nlctrl", "name: other"))).encode({
          cmd: 3,
          attrs: [],
        }),
      ),
    ).toMatch(/family other has no id; pass familyId/);
  });
});

describe("struct values", () => {
  const yaml = `name: structs
protocol: netlink-raw
protonum: 0
definitions:
  - name: every
    type: struct
    members:
      - { name: a, type: u8 }
      - { name: b, type: s8 }
      - { name: c, type: u16 }
      - { name: d, type: s16 }
      - { name: e, type: u32 }
      - { name: f, type: s32 }
      - { name: pad, type: pad, len: 4 }
      - { name: g, type: u64 }
      - { name: h, type: s64 }
      - { name: port, type: u16, byte-order: big-endian }
      - { name: mac, type: binary, len: 6 }
      - { name: __proto__, type: u32 }
attribute-sets:
  - name: attrs
    attributes:
      - { name: every, type: binary, struct: every, value: 1 }
operations:
  list:
    - { name: msg, value: 16, attribute-set: attrs }
`;
  const fam = new NetlinkFamily(loadSpec(yaml));
  const value = {
    a: 0xff,
    b: -2,
    c: 0xfffe,
    d: -3,
    e: 0xfffffffd,
    f: -4,
    g: 0x123456789n,
    h: -5n,
    port: 4789,
    mac: Uint8Array.of(2, 0, 0, 0, 0, 1),
  };

  it("decode every member type, big-endian members and 64-bit values on both sides of 2^32", () => {
    const bytes = fam.encode({ cmd: 16, attrs: [{ name: "every", type: 1, rawType: 1, value }] });
    const back = fam.decode(parseDatagram(bytes)[0]!);
    const got = back.attrs[0]!.value as Record<string, unknown>;
    expect(got).toMatchObject({ ...value, g: 0x123456789n });
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
    expect(Object.hasOwn(got, "__proto__")).toBe(true);
    // port is written big-endian: 4789 = 0x12b5.
    const p = back.attrs[0]!.raw!;
    expect([p[34], p[35]]).toEqual([0x12, 0xb5]);
  });

  it("a payload shorter than the struct stays bytes", () => {
    const short = fam.decodeAttrs("attrs", Uint8Array.of(8, 0, 1, 0, 7, 0xff, 1, 0));
    expect(short[0]!.value).toEqual(Uint8Array.of(7, 0xff, 1, 0));
  });
});
