// Interop: the kernel's own YNL specs (Documentation/netlink/specs/ of a kernel tree) load, and decode the real
// captures with every message re-encoded byte for byte. Set KBRIDGE_YNL_SPECS to that folder (.ci/run extracts
// it from Debian's linux-source package); skipped without it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readDatagrams } from "../../../test-support/vectors.js";
import { attrsToObject, loadSpec, NetlinkFamily, parseDatagram } from "../src/index.js";
import { reencodesExactly } from "./reencode.js";

const dir = process.env.KBRIDGE_YNL_SPECS;

function* messages(file: string) {
  for (const d of readDatagrams(file)) for (const m of parseDatagram(d)) if (m.type >= 16) yield { d, m };
}

describe.runIf(dir !== undefined && existsSync(join(dir, "rt_link.yaml")))("the kernel's YNL specs", () => {
  it.each([
    ["rt_link.yaml", "netns1000-getlink-dump.bin", 1001],
    ["rt_addr.yaml", "netns1000-getaddr-dump.bin", 2502],
    ["rt_route.yaml", "host-getroute-dump.bin", 14],
    ["nlctrl.yaml", "netns1000-genl-ctrl-getfamily-dump.bin", 8],
  ] as const)("%s decodes %s and re-encodes it byte for byte", (spec, capture, count) => {
    const family = new NetlinkFamily(loadSpec(readFileSync(join(dir!, spec), "utf8")));
    let n = 0;
    let mismatches = 0;
    let named = 0;
    for (const { d, m } of messages(capture)) {
      const f = family.decode(m);
      n++;
      named += f.attrs.filter((a) => a.name !== undefined).length;
      if (!reencodesExactly(family, d, m, f)) mismatches++;
    }
    expect([n, mismatches]).toEqual([count, 0]);
    expect(named).toBeGreaterThan(count * 2);
  });

  it("names a veth link's attributes, sub-messages and address-family nests", () => {
    const family = new NetlinkFamily(loadSpec(readFileSync(join(dir!, "rt_link.yaml"), "utf8")));
    const veth = [...messages("netns1000-getlink-dump.bin")]
      .map(({ m }) => attrsToObject(family.decode(m).attrs))
      .find((o) => o.ifname === "va0")!;
    expect(veth).toMatchObject({ ifname: "va0", mtu: 1500, linkinfo: { kind: "veth" } });
    expect(Object.keys(veth["af-spec"] as object)).toEqual(["inet", "inet6"]);
  });
});
