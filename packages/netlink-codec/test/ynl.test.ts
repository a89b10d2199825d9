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
