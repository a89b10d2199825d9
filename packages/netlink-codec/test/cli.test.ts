import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/cli.js";
import { NLCTRL_SPEC, readPcap } from "../src/index.js";

const vectors = new URL("../../../vectors/netlink/", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "nlcodec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(
    argv,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, out, err };
}

describe("nlcodec", () => {
  it("decode prints every datagram's messages, ext-ack explained", () => {
    const r = run("decode", `${vectors}netns1000-extack-policy-mtu-u16.bin`);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      "datagram 0: 144 bytes",
      expect.stringMatching(
        /^ {2}@0 type 2 len 144 flags ACK_TLVS seq 21 pid \d+: error -34 ERANGE "Attribute failed policy validation" at offset 32 of the request: mtu \(type 4\)$/,
      ),
    ]);
  });

  it("decode names the ext-ack's offending attribute from --request, and prints the offset alone without one", () => {
    const ack = `${vectors}netns1000-extack-policy-mtu-u16-capack.bin`;
    const named = run("decode", ack, "--request", `${vectors}netns1000-extack-policy-mtu-u16.req.bin`);
    expect(named.out[1]).toMatch(/at offset 32 of the request: mtu \(type 4\)$/);
    const garbage = join(dir, "garbage.req.bin");
    writeFileSync(garbage, Uint8Array.of(1, 2, 3));
    const plain = run("decode", ack, "--request", garbage);
    expect(plain.code).toBe(0);
    expect(plain.out[1]).toMatch(/at offset 32 of the request$/);
  });

  it("decode names and types attributes with the bundled families (rtnetlink by message type, nlctrl)", () => {
    // The dump's first datagram (2 links) alone: decoding all 1001 links as text and JSON takes seconds on CI.
    const first = join(dir, "getlink-first.bin");
    writeFileSync(first, readFileSync(`${vectors}netns1000-getlink-dump.bin`).subarray(0, 2960));
    const r = run("decode", first);
    expect(r.code).toBe(0);
    expect(r.out.slice(0, 4)).toEqual([
      "datagram 0: 2960 bytes",
      expect.stringMatching(/^ {2}@0 type 16 len 1468 flags MULTI seq 1 pid \d+: 38 attributes$/),
      "    newlink {ifi-family=0, ifi-type=772, ifi-index=1, ifi-flags=65609, ifi-change=0}",
      '      ifname="lo"  txqlen=1000  operstate=0  linkmode=0',
    ]);
    expect(r.out.some((l) => l.includes("af-spec={inet, inet6}"))).toBe(true);
    const g = run("decode", `${vectors}netns1000-genl-ctrl-getfamily-nlctrl.bin`, "--proto", "generic");
    expect(g.out[3]).toBe('      family-name="nlctrl"  family-id=16  version=2  hdrsize=0');
    const j = run("decode", first, "--json");
    const json = JSON.parse(j.out.join("\n")) as { op?: string; named?: Record<string, unknown> }[][];
    expect(json[0]![1]).toMatchObject({ op: "newlink", named: { ifname: "vb0", mtu: 1500 } });
    // 64-bit counters print as decimal strings, bytes as hex.
    expect((json[0]![1]!.named!.stats64 as Record<string, string>)["rx-packets"]).toMatch(/^\d+$/);
  });

  it("a message its bundled family cannot decode is still printed raw, with why", () => {
    // An RTM_NEWLINK whose 4-byte payload is shorter than struct ifinfomsg.
    const bad = Uint8Array.of(20, 0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    const f = join(dir, "short-link.bin");
    writeFileSync(f, bad);
    const r = run("decode", f);
    expect(r.code).toBe(0);
    expect(r.out[2]).toMatch(/^ {4}not a well-formed rt-link message: EINVAL/);
  });

  it("decode --json gives every message, with the .lens beside the .bin", () => {
    const r = run("decode", `${vectors}host-getaddr-dump.bin`, "--json");
    const json = JSON.parse(r.out.join("\n")) as { type: number; attrs?: unknown[] }[][];
    expect(json.map((d) => d.length)).toEqual([5, 1]);
    expect(json[0]![0]).toMatchObject({ type: 20, header: "020880fe01000000" });
    expect(json[1]![0]).toMatchObject({ type: 3, error: 0 });
  });

  it("reencode reproduces a 1.5 MB dump and writes it with -o", () => {
    const out = join(dir, "again.bin");
    const r = run("reencode", `${vectors}netns1000-getlink-dump.bin`, "-o", out);
    expect(r.out).toEqual(["50 datagram(s), 1497408 bytes: re-encoded byte for byte"]);
    expect(readFileSync(out).equals(readFileSync(`${vectors}netns1000-getlink-dump.bin`))).toBe(true);
  });

  it("hexdump and pcap", () => {
    const h = run("hexdump", `${vectors}netns1000-ack-ok-setlink-lo.bin`);
    expect(h.out[0]).toBe("datagram 0 (36 bytes, 7 fields)");
    expect(h.out[1]).toContain("nlmsg_len = 36");
    const pcap = join(dir, "genl.pcap");
    expect(
      run("pcap", `${vectors}netns1000-genl-ctrl-getfamily-dump.bin`, "--proto", "generic", "-o", pcap).code,
    ).toBe(0);
    expect(readPcap(new Uint8Array(readFileSync(pcap))).records.map((x) => x.protocol)).toEqual([16]);
  });

  it("fails with one line naming offset and field, exit 1, never a stack trace", () => {
    const bin = readFileSync(`${vectors}host-getaddr-dump.bin`).subarray(0, 30);
    const f = join(dir, "cut.bin");
    writeFileSync(f, bin);
    const r = run("decode", f);
    expect([r.code, r.out, r.err]).toEqual([
      1,
      [],
      [
        "nlcodec: EBADMSG: parseDatagram: at offset 0: nlmsg_len 76: runs past the end of the datagram (30 bytes left)",
      ],
    ]);
    expect(run("decode", join(dir, "missing.bin")).err[0]).toMatch(
      /^nlcodec: ENOENT: no such file or directory/,
    );
  });

  it("refuses bad usage with exit 2", () => {
    expect(run("frob", "x")).toMatchObject({
      code: 2,
      err: ['nlcodec: unknown command "frob" (decode, reencode, hexdump or pcap; --help for more)'],
    });
    expect(run("decode", "x", "--proto", "banana").err[0]).toMatch(/--proto banana/);
    expect(run("pcap", `${vectors}host-getaddr-dump.bin`).err[0]).toBe("nlcodec: pcap needs -o <out.pcap>");
    expect(
      run("decode", `${vectors}host-getaddr-dump.bin`, "--lens", `${vectors}host-getlink-dump.lens`).err[0],
    ).toMatch(/the lengths add up to 5968/);
    expect(run("decode", `${vectors}host-getaddr-dump.bin`, "--bogus").code).toBe(2);
    expect(run("--help").out[0]).toMatch(/^usage: nlcodec/);
  });

  it("decode --spec names attributes with a YNL spec, learning a genetlink family's id from the capture", () => {
    const spec = join(dir, "nlctrl.yaml");
    writeFileSync(spec, NLCTRL_SPEC);
    const r = run(
      "decode",
      `${vectors}netns1000-genl-ctrl-getfamily-nlctrl.bin`,
      "--proto",
      "generic",
      "--spec",
      spec,
    );
    const json = JSON.parse(r.out.join("\n")) as { op?: string; attrs?: Record<string, unknown> }[][];
    expect(json[0]![0]).toMatchObject({
      op: "getfamily",
      attrs: { "family-name": "nlctrl", "family-id": 16 },
    });
    const netdev = join(dir, "netdev.yaml");
    writeFileSync(
      netdev,
      "name: netdev\nprotocol: genetlink\nattribute-sets:\n  - name: dev\n    attributes:\n      - { name: ifindex, type: u32 }\noperations:\n  list:\n    - { name: dev-get, attribute-set: dev }\n",
    );
    const learned = run(
      "decode",
      `${vectors}netns1000-genl-ctrl-getfamily-dump.bin`,
      "--proto",
      "generic",
      "--spec",
      netdev,
    );
    expect(learned.code).toBe(0);
    expect(JSON.parse(learned.out.join("\n"))[0][0]).toEqual({ type: 16, note: "another family" });
    const missing = run(
      "decode",
      `${vectors}netns1000-genl-ctrl-getfamily-nlctrl.bin`,
      "--proto",
      "generic",
      "--spec",
      netdev,
    );
    expect([missing.code, missing.err[0]]).toEqual([
      2,
      "nlcodec: no id for genetlink family netdev: pass --family-id (or capture a CTRL_CMD_GETFAMILY reply)",
    ]);
  });
});
