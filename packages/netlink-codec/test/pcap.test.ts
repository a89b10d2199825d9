import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import { readDatagrams, readVector } from "../../../test-support/vectors.js";
import { PACKET_HOST, PACKET_OUTGOING, parseDatagram, readPcap, writePcap } from "../src/index.js";

const pcaps = [
  ["host-getlink.pcap", "host-getlink-dump", 0],
  ["extack-policy.pcap", "netns1000-extack-policy-mtu-u16", 0],
  ["genl-ctrl.pcap", "netns1000-genl-ctrl-getfamily-dump", 16],
] as const;

describe.each(pcaps)("%s", (pcapFile, capture, protocol) => {
  const file = new Uint8Array(readVector("netlink", `pcap/${pcapFile}`));

  it("reads as the request and the reply datagrams of its capture", () => {
    const p = readPcap(file);
    const req = new Uint8Array(readVector("netlink", `${capture}.req.bin`));
    expect(p.snaplen).toBe(262144);
    expect(p.records.map((r) => [r.pkttype, r.protocol])).toEqual([
      [PACKET_OUTGOING, protocol],
      ...readDatagrams(`${capture}.bin`).map(() => [PACKET_HOST, protocol]),
    ]);
    expect(p.records[0]!.data).toEqual(req);
    readDatagrams(`${capture}.bin`).forEach((d, i) => {
      expect(p.records[i + 1]!.data).toEqual(d);
    });
    for (const r of p.records) expect(parseDatagram(r.data).length).toBeGreaterThan(0);
  });

  it("is written byte for byte by writePcap", () => {
    const p = readPcap(file);
    const again = writePcap(
      p.records.map(({ seconds, micros, pkttype, protocol: proto, data }) => ({
        seconds,
        micros,
        pkttype,
        protocol: proto,
        data,
      })),
    );
    expect(Buffer.from(again).equals(Buffer.from(file))).toBe(true);
  });
});

describe("bad pcap input", () => {
  it("names what is wrong", () => {
    const good = writePcap([{ protocol: 0, data: new Uint8Array(20) }]);
    const err = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(KernelError.is(e)).toBe(true);
        return (e as Error).message;
      }
      return "no error";
    };
    expect(err(() => readPcap(good.subarray(0, 10)))).toMatch(/too short for a pcap header/);
    expect(err(() => readPcap(good.subarray(0, good.length - 1)))).toMatch(
      /EBADMSG: readPcap: record at offset 24: incl_len 36 runs past the end/,
    );
    const pcapng = good.slice();
    pcapng.set([0x0a, 0x0d, 0x0d, 0x0a], 0);
    expect(err(() => readPcap(pcapng))).toMatch(/is not pcap's/);
    const ether = good.slice();
    ether[20] = 1;
    expect(err(() => readPcap(ether))).toMatch(/link type 1 is not LINKTYPE_NETLINK/);
    expect(err(() => writePcap([{ protocol: 0, data: new Uint8Array(100) }], { snaplen: 64 }))).toMatch(
      /exceed the snap length/,
    );
    expect(err(() => writePcap([{ protocol: 70000, data: new Uint8Array(1) }]))).toMatch(/protocol 70000/);
  });

  it("reads a big-endian file too", () => {
    const le = writePcap([{ protocol: 16, seconds: 5, micros: 6, data: Uint8Array.of(1, 2, 3, 4) }]);
    const be = le.slice();
    const swap = (o: number, n: number) => be.set(le.subarray(o, o + n).reverse(), o);
    for (const [o, n] of [
      [0, 4],
      [4, 2],
      [6, 2],
      [8, 4],
      [12, 4],
      [16, 4],
      [20, 4],
      [24, 4],
      [28, 4],
      [32, 4],
      [36, 4],
    ] as const)
      swap(o, n);
    expect(readPcap(be).records[0]).toMatchObject({
      seconds: 5,
      micros: 6,
      protocol: 16,
      data: Uint8Array.of(1, 2, 3, 4),
    });
  });
});
