// The generated family types are up to date, and the typed decode gives what they promise.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readDatagrams } from "../../../test-support/vectors.js";
import { generate } from "../scripts/gen-family-types.js";
import { decodeRtLink, decodeRtRoute, parseDatagram, rtLinkFamily, rtRouteFamily } from "../src/index.js";

describe("generated family types", () => {
  it("src/families/types.ts is what scripts/gen-family-types.ts generates (run it after changing a spec)", () => {
    expect(readFileSync(new URL("../src/families/types.ts", import.meta.url), "utf8")).toBe(generate());
  });

  it("decodeRtLink and decodeRtRoute type what they decode", () => {
    const [first] = readDatagrams("host-getlink-dump.bin");
    const link = decodeRtLink(rtLinkFamily(), parseDatagram(first!)[0]!);
    const name: string | undefined = link.attrs.ifname;
    const mtu: number | undefined = link.attrs.mtu;
    expect([link.op, name, mtu, link.fixed["ifi-index"]]).toEqual(["newlink", "lo", 65536, 1]);
    const [routes] = readDatagrams("host-getroute-dump.bin");
    const route = decodeRtRoute(rtRouteFamily(), parseDatagram(routes!)[0]!);
    const table: number | undefined = route.attrs.table;
    expect(typeof table).toBe("number");
  });
});
