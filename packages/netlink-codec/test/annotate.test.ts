import { describe, expect, it } from "vitest";
import { readDatagrams, readJsonLines, readVector } from "../../../test-support/vectors.js";
import { annotate, familyHeaderLength, hexdump } from "../src/index.js";

interface Capture {
  file: string;
  protocol: number;
  datagram_lengths: number[];
}

const captures = readJsonLines<Capture>("netlink", "manifest.jsonl");

describe("annotate", () => {
  it.each(captures.map((c) => [c.file, c] as const))("labels every byte of %s exactly once", (_f, c) => {
    for (const d of readDatagrams(c.file)) {
      const a = annotate(d, { protocol: c.protocol });
      // One expect per datagram, not per range: the big dump has 300,000 ranges.
      let covered = 0;
      let problem = "";
      for (const x of a) {
        if (x.offset !== covered || x.length <= 0)
          problem ||= `range "${x.label}" at ${x.offset}, expected ${covered}`;
        if (x.label.startsWith("malformed") || x.label === "trailing bytes")
          problem ||= `${x.label} at ${x.offset}`;
        covered += x.length;
      }
      expect(problem).toBe("");
      expect(covered).toBe(d.length);
    }
  });

  it("knows the family headers of rtnetlink and genetlink", () => {
    expect([16, 20, 24, 28, 32, 0x10].map((t) => familyHeaderLength(0, t))).toEqual([16, 8, 12, 12, 12, 16]);
    expect(familyHeaderLength(16, 0x10)).toBe(4);
    expect(familyHeaderLength(0, 2)).toBe(0);
  });
});

describe("hexdump", () => {
  it("reads like the annotated byte arrays of a test", () => {
    const d = readDatagrams("host-getaddr-dump.bin")[0]!;
    const lines = hexdump(d, { protocol: 0 }).split("\n");
    const pid = new DataView(d.buffer, d.byteOffset).getUint32(12, true);
    const pidHex = Array.from(d.subarray(12, 16), (x) => x.toString(16).padStart(2, "0")).join(" ");
    expect(lines.slice(0, 12)).toEqual([
      "000000  4c 00 00 00                                       nlmsg_len = 76",
      "000004  14 00                                             nlmsg_type = 20",
      "000006  02 00                                             nlmsg_flags = 0x2 (MULTI)",
      "000008  02 00 00 00                                       nlmsg_seq = 2",
      `00000c  ${pidHex}                                       nlmsg_pid = ${pid}`,
      "000010  02 08 80 fe 01 00 00 00                             family header (8 bytes)",
      "000018  08 00 01 00                                         nla_len = 8, nla_type = 1",
      "00001c  7f 00 00 01                                         payload 16777343",
      "000020  08 00 02 00                                         nla_len = 8, nla_type = 2",
      "000024  7f 00 00 01                                         payload 16777343",
      "000028  07 00 03 00                                         nla_len = 7, nla_type = 3",
      '00002c  6c 6f 00                                            payload "lo"',
    ]);
    expect(lines[12]).toBe("00002f  00                                                  padding");
  });

  it("explains an ext-ack", () => {
    const d = new Uint8Array(readVector("netlink", "netns1000-extack-policy-mtu-u16.bin"));
    const text = hexdump(d, { protocol: 0 });
    expect(text).toContain("error = -34 (ERANGE)");
    expect(text).toContain("the request's payload");
    expect(text).toContain('payload "Attribute failed policy validation"');
    expect(text).toContain(
      "00006c  24 00 04 80                                         nla_len = 36, nla_type = 4 (NESTED)",
    );
    expect(text).toContain(
      "000070  0c 00 04 00                                           nla_len = 12, nla_type = 4",
    );
  });
});
