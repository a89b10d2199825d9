import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import {
  NetlinkParseError,
  NLM_F,
  NLMSG_ALIGN,
  NLMSG_DONE,
  NLMSG_HDRLEN,
  NLMSG_LENGTH,
  NLMSG_OK,
  NLMSG_PAYLOAD,
  NLMSG_SPACE,
  NlWriter,
  nla_padlen,
  nla_total_size,
  nlmsg_padlen,
  nlmsg_total_size,
  nlmsgFlagNames,
  parseDatagram,
  readNlmsghdr,
  writeNlmsghdr,
} from "../src/index.js";

function parseError(fn: () => unknown): NetlinkParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(NetlinkParseError);
    expect(KernelError.is(err)).toBe(true);
    return err as NetlinkParseError;
  }
  throw new Error("expected a NetlinkParseError");
}

describe("alignment macros", () => {
  it("restate include/uapi/linux/netlink.h and include/net/netlink.h", () => {
    expect([0, 1, 2, 3, 4, 5].map(NLMSG_ALIGN)).toEqual([0, 4, 4, 4, 4, 8]);
    expect(NLMSG_HDRLEN).toBe(16);
    expect(NLMSG_LENGTH(4)).toBe(20);
    expect(NLMSG_SPACE(5)).toBe(24);
    expect(NLMSG_OK(20, 20)).toBe(true);
    expect(NLMSG_OK(15, 16)).toBe(false);
    expect(NLMSG_OK(32, 33)).toBe(false);
    expect(NLMSG_PAYLOAD(36, 16)).toBe(4);
    expect(nlmsg_total_size(5)).toBe(24);
    expect(nlmsg_padlen(5)).toBe(3);
    expect(nla_total_size(2)).toBe(8);
    expect(nla_padlen(2)).toBe(2);
    expect(NLMSG_ALIGN(2 ** 40 + 1)).toBe(2 ** 40 + 4);
    expect(() => NLMSG_ALIGN(-1)).toThrow(/EINVAL: NLMSG_ALIGN: length -1/);
  });
});

describe("flags by context", () => {
  it("names the overloaded bits as each context reads them", () => {
    expect(nlmsgFlagNames(0x301, "get")).toEqual(["REQUEST", "DUMP"]);
    expect(nlmsgFlagNames(0x105, "get")).toEqual(["REQUEST", "ACK", "ROOT"]);
    expect(nlmsgFlagNames(0x605, "new")).toEqual(["REQUEST", "ACK", "EXCL", "CREATE"]);
    expect(nlmsgFlagNames(0x300, "ack")).toEqual(["CAPPED", "ACK_TLVS"]);
    expect(nlmsgFlagNames(0x300, "del")).toEqual(["NONREC", "BULK"]);
    expect(nlmsgFlagNames(0x1002, "other")).toEqual(["MULTI", "0x1000"]);
    expect(NLM_F.DUMP).toBe(NLM_F.ROOT | NLM_F.MATCH);
    expect(() => nlmsgFlagNames(0x10000)).toThrow(/flags 65536 is not a u16/);
  });
});

describe("headers", () => {
  it("read and write in both byte orders", () => {
    const hdr = { len: 20, type: NLMSG_DONE, flags: NLM_F.MULTI, seq: 0x01020304, pid: 5562 };
    for (const byteOrder of ["little", "big"] as const) {
      const b = new Uint8Array(20);
      writeNlmsghdr(b, 0, hdr, { byteOrder });
      expect(readNlmsghdr(b, 0, { byteOrder })).toEqual(hdr);
      expect(b[byteOrder === "little" ? 0 : 3]).toBe(20);
      const [m] = parseDatagram(b, { byteOrder });
      expect(m).toMatchObject(hdr);
    }
  });

  it("refuse fields out of range without writing", () => {
    const b = new Uint8Array(16).fill(9);
    expect(() => writeNlmsghdr(b, 0, { len: 16, type: 0x10000, flags: 0, seq: 0, pid: 0 })).toThrow(
      /nlmsg_type 65536/,
    );
    expect(b.every((x) => x === 9)).toBe(true);
    expect(parseError(() => readNlmsghdr(new Uint8Array(10))).field).toBe("nlmsghdr");
  });
});

describe("datagram parser", () => {
  const two = (() => {
    const w = new NlWriter();
    w.beginMessage({ type: 0x10, seq: 1 });
    w.putU8(1, 7);
    w.endMessage();
    w.beginMessage({ type: NLMSG_DONE, flags: NLM_F.MULTI, seq: 1 });
    w.putStruct(new Uint8Array(4));
    w.endMessage();
    return w.finish();
  })();

  it("splits messages and gives payloads as views of the datagram", () => {
    const msgs = parseDatagram(two);
    expect(msgs.map((m) => [m.offset, m.len, m.type])).toEqual([
      [0, 24, 0x10],
      [24, 20, NLMSG_DONE],
    ]);
    expect(msgs[0]!.payload.buffer).toBe(two.buffer);
  });

  it("accepts a last message without its padding, as netlink_rcv_skb does, and zero bytes after it", () => {
    const unpadded = Uint8Array.from([17, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xaa]);
    expect(parseDatagram(unpadded)[0]!.payload).toEqual(Uint8Array.from([0xaa]));
    expect(parseDatagram(new Uint8Array([...two, 0, 0, 0, 0]))).toHaveLength(2);
  });

  it("names offset, field and value of every malformation", () => {
    const short = two.slice();
    short[24] = 8; // second nlmsg_len below the header size
    let e = parseError(() => parseDatagram(short));
    expect([e.code, e.offset, e.field, e.value]).toEqual(["EBADMSG", 24, "nlmsg_len", 8]);
    expect(e.message).toBe(
      "EBADMSG: parseDatagram: at offset 24: nlmsg_len 8: shorter than the 16-byte header",
    );

    e = parseError(() => parseDatagram(two.subarray(0, 40)));
    expect([e.offset, e.field, e.value]).toEqual([24, "nlmsg_len", 20]);
    expect(e.message).toMatch(/runs past the end of the datagram \(16 bytes left\)/);

    e = parseError(() => parseDatagram(Uint8Array.from([...two, 1, 0, 0])));
    expect([e.offset, e.field, e.value]).toEqual([44, "nlmsghdr", "3 bytes"]);
  });

  it("rejects what is no buffer", () => {
    expect(() => parseDatagram("x" as never)).toThrow(/EINVAL: parseDatagram: x is not a Uint8Array/);
    expect(() => parseDatagram(two, { byteOrder: "middle" as never })).toThrow(/byte order "middle"/);
  });
});
