import { KernelError } from "@kbridge/uapi";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readVector } from "../../../test-support/vectors.js";
import {
  decodeRawAttrs,
  encodeRawAttrs,
  NetlinkParseError,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_MAX_PAYLOAD,
  NlWriter,
  nlaGetBe16,
  nlaGetBitfield32,
  nlaGetFlag,
  nlaGetIn6Addr,
  nlaGetInAddr,
  nlaGetLladdr,
  nlaGetS8,
  nlaGetS32,
  nlaGetS64,
  nlaGetSint,
  nlaGetString,
  nlaGetU8,
  nlaGetU16,
  nlaGetU32,
  nlaGetU64,
  nlaGetUint,
  parseAttrs,
  parseDatagram,
  type RawAttr,
} from "../src/index.js";

function attrsOf(build: (w: NlWriter) => void, byteOrder: "little" | "big" = "little") {
  const w = new NlWriter({ byteOrder });
  w.beginMessage({ type: 0x10 });
  build(w);
  w.endMessage();
  const [m] = parseDatagram(w.finish(), { byteOrder });
  return parseAttrs(m!.payload, 0, m!.payload.length, { byteOrder });
}

describe("putters and getters", () => {
  it("write the kernel's bytes and read them back", () => {
    const w = new NlWriter();
    w.beginMessage({ type: 0x10, flags: 1, seq: 2, pid: 3 });
    w.putU8(1, 0xfe);
    w.putString(3, "lo");
    w.putU32(4, 65536);
    w.endMessage();
    // nlmsghdr (len 40) | u8 attr, 3 pad bytes | "lo\0" attr, 1 pad byte | u32 attr
    expect([...w.finish()]).toEqual([
      40, 0, 0, 0, 0x10, 0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 5, 0, 1, 0, 0xfe, 0, 0, 0, 7, 0, 3, 0, 0x6c, 0x6f,
      0, 0, 8, 0, 4, 0, 0, 0, 1, 0,
    ]);
  });

  it("cover every scalar, in both byte orders", () => {
    for (const order of ["little", "big"] as const) {
      const a = attrsOf((w) => {
        w.putU8(1, 200);
        w.putU16(2, 0xbeef);
        w.putU32(3, 0xdeadbeef);
        w.putU64(4, 2n ** 64n - 1n);
        w.putS8(5, -2);
        w.putS32(6, -3);
        w.putS64(7, -(2n ** 63n));
        w.putBe16(8, 80);
        w.putUint(9, 5);
        w.putUint(10, 2n ** 40n);
        w.putSint(11, -1);
        w.putFlag(12);
        w.putBitfield32(13, 1, 3);
      }, order);
      expect(nlaGetU8(a[0]!)).toBe(200);
      expect(nlaGetU16(a[1]!, order)).toBe(0xbeef);
      expect(nlaGetU32(a[2]!, order)).toBe(0xdeadbeef);
      expect(nlaGetU64(a[3]!, order)).toBe(2n ** 64n - 1n);
      expect(nlaGetS8(a[4]!)).toBe(-2);
      expect(nlaGetS32(a[5]!, order)).toBe(-3);
      expect(nlaGetS64(a[6]!, order)).toBe(-(2n ** 63n));
      expect(nlaGetBe16(a[7]!)).toBe(80);
      expect([a[8]!.payload.length, nlaGetUint(a[8]!, order)]).toEqual([4, 5n]);
      expect([a[9]!.payload.length, nlaGetUint(a[9]!, order)]).toEqual([8, 2n ** 40n]);
      expect([a[10]!.payload.length, nlaGetSint(a[10]!, order)]).toEqual([4, -1n]);
      expect(nlaGetFlag(a[11]!)).toBe(true);
      expect(nlaGetBitfield32(a[12]!, order)).toEqual({ value: 1, selector: 3 });
    }
  });

  it("check the payload size, naming the attribute and its offset", () => {
    const [a] = attrsOf((w) => w.putU16(4, 1500)); // a 2-byte IFLA_MTU, as the ext-ack capture sends
    try {
      nlaGetU32(a!);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(NetlinkParseError);
      expect((err as NetlinkParseError).code).toBe("ERANGE");
      expect((err as Error).message).toBe(
        "ERANGE: nla_get_u32: at offset 0: nla_len 6: attribute type 4 has a 2-byte payload, u32 needs 4",
      );
    }
  });

  it("read addresses of a real RTM_NEWADDR dump", () => {
    const bin = new Uint8Array(readVector("netlink", "host-getaddr-dump.bin"));
    const [lo] = parseDatagram(bin);
    const attrs = parseAttrs(lo!.payload, 8);
    expect(nlaGetInAddr(attrs.find((a) => a.type === 1)!)).toBe("127.0.0.1"); // IFA_ADDRESS
    expect(nlaGetString(attrs.find((a) => a.type === 3)!)).toBe("lo"); // IFA_LABEL
  });

  it("format IPv6 as RFC 5952 and link-layer addresses with colons", () => {
    const v6 = (hex: string) =>
      nlaGetIn6Addr({
        type: 1,
        rawType: 1,
        nested: false,
        netByteOrder: false,
        offset: 0,
        payload: Uint8Array.from(Buffer.from(hex, "hex")),
      });
    expect(v6("fd000000000000000000000000000001")).toBe("fd00::1");
    expect(v6("00000000000000000000000000000001")).toBe("::1");
    expect(v6("00000000000000000000000000000000")).toBe("::");
    expect(v6("20010db8000000010000000000000001")).toBe("2001:db8:0:1::1");
    expect(v6("20010db8000000000001000000000001")).toBe("2001:db8::1:0:0:1");
    expect(v6("00000000000000000000ffffc0000201")).toBe("::ffff:192.0.2.1");
    expect(v6("20010db8000100020003000400050006")).toBe("2001:db8:1:2:3:4:5:6");
    expect(
      nlaGetLladdr({
        type: 1,
        rawType: 1,
        nested: false,
        netByteOrder: false,
        offset: 0,
        payload: Uint8Array.from([0, 0x16, 0x3e, 0xa, 0xb, 0xc]),
      }),
    ).toBe("00:16:3e:0a:0b:0c");
  });
});

describe("the writer refuses what the kernel could not express", () => {
  it("payloads past 65531 bytes, nests past 65535, unbalanced nests and messages", () => {
    const w = new NlWriter();
    w.beginMessage({ type: 0x10 });
    expect(() => w.putAttr(1, new Uint8Array(NLA_MAX_PAYLOAD + 1))).toThrow(
      /ERANGE: nla_put: attribute type 1: 65532 bytes/,
    );
    const n = w.nestStart(1);
    w.putAttr(2, new Uint8Array(40000));
    w.putAttr(3, new Uint8Array(40000));
    expect(() => w.nestEnd(n)).toThrow(/EMSGSIZE: nla_nest_end: nest of 80012 bytes/);
    expect(() => w.endMessage()).toThrow(/1 nest\(s\) still open/);
    expect(() => w.beginMessage({ type: 1 })).toThrow(/a message is already open/);
    expect(() => w.putU8(1, 256)).toThrow(/ERANGE: nla_put_u8: attribute type 1: 256 does not fit in 8 bits/);
    expect(() => w.putInAddr(1, "1.2.3.256")).toThrow(/"1.2.3.256" is not an IPv4 address/);
    expect(() => w.finish()).toThrow(/a message is still open/);
    expect(() => new NlWriter().putU8(1, 1)).toThrow(/no message is open/);
  });

  it("sets NLA_F_NESTED on nests unless asked not to (nla_nest_start_noflag)", () => {
    const a = attrsOf((w) => {
      const x = w.nestStart(18);
      w.putU8(1, 1);
      w.nestEnd(x);
      const y = w.nestStart(26, false);
      w.nestEnd(y);
    });
    expect(a.map((x) => [x.type, x.nested])).toEqual([
      [18, true],
      [26, false],
    ]);
  });
});

describe("attribute walk errors", () => {
  it("name offset, field and value; tolerate up to 3 trailing bytes unless strict", () => {
    const bytes = Uint8Array.from([8, 0, 1, 0, 1, 2, 3, 4, 9, 0, 2, 0, 1, 2, 3, 4]);
    let e: unknown;
    try {
      parseAttrs(bytes);
    } catch (err) {
      e = err;
    }
    expect(e).toMatchObject({ code: "EINVAL", offset: 8, field: "nla_len", value: 9 });
    expect(parseAttrs(bytes.subarray(0, 11))).toHaveLength(1);
    expect(() => parseAttrs(bytes.subarray(0, 11), 0, 11, { strictTrailing: true })).toThrow(
      /3 bytes: bytes leftover after parsing attributes/,
    );
    expect(() => parseAttrs(Uint8Array.from([2, 0, 1, 0]))).toThrow(
      /nla_len 2: shorter than the 4-byte header/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Properties

const leaf = fc.record({
  rawType: fc.integer({ min: 0, max: 0x7fff }),
  payload: fc.uint8Array({ maxLength: 24 }),
});
const tree: fc.Arbitrary<RawAttr[]> = fc.letrec<{ attrs: RawAttr[] }>((tie) => ({
  attrs: fc.array(
    fc.oneof(
      { depthSize: "small" },
      leaf,
      fc.record({
        rawType: fc.integer({ min: 0, max: 0x3fff }).map((t) => t | NLA_F_NESTED),
        children: tie("attrs"),
      }),
    ),
    { maxLength: 5 },
  ),
})).attrs;

// What decodeRawAttrs gives back for a tree: leaves stay leaves unless they look like a clean nest.
function normalize(attrs: readonly RawAttr[]): RawAttr[] {
  return attrs.map((a) => ("children" in a ? { rawType: a.rawType, children: normalize(a.children) } : a));
}

describe("properties", () => {
  it("random attribute trees encode and decode to the same bytes, in both byte orders", () => {
    fc.assert(
      fc.property(tree, fc.constantFrom("little" as const, "big" as const), (attrs, byteOrder) => {
        const w = new NlWriter({ byteOrder });
        w.beginMessage({ type: 0x10 });
        encodeRawAttrs(w, attrs);
        w.endMessage();
        const bytes = w.finish();
        const [m] = parseDatagram(bytes, { byteOrder });
        const back = decodeRawAttrs(m!.payload, 0, m!.payload.length, { byteOrder });
        const w2 = new NlWriter({ byteOrder });
        w2.beginMessage({ type: 0x10 });
        encodeRawAttrs(w2, back);
        w2.endMessage();
        expect(w2.finish()).toEqual(bytes);
        // Nests written with children come back as nests with the same children.
        const nests = (xs: readonly RawAttr[]): number =>
          xs.reduce((n, a) => n + ("children" in a ? 1 + nests(a.children) : 0), 0);
        expect(nests(back)).toBeGreaterThanOrEqual(nests(normalize(attrs)));
        expect(back.length).toBe(attrs.length);
      }),
      { numRuns: 300 },
    );
  });

  it("mutated real datagrams throw nothing but KernelErrors and never read past the end", () => {
    const bin = new Uint8Array(readVector("netlink", "host-getlink-dump.bin")).subarray(0, 2952);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ at: fc.nat({ max: bin.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
          { minLength: 1, maxLength: 8 },
        ),
        fc.nat({ max: bin.length }),
        (edits, cut) => {
          const d = bin.slice(0, cut);
          for (const { at, value } of edits) if (at < d.length) d[at] = value;
          try {
            for (const m of parseDatagram(d)) {
              for (const a of decodeRawAttrs(m.payload, Math.min(16, m.payload.length))) {
                if ("payload" in a)
                  expect(a.payload.byteOffset + a.payload.length).toBeLessThanOrEqual(
                    d.byteOffset + d.length,
                  );
              }
            }
          } catch (err) {
            expect(KernelError.is(err), String(err)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("NLA_F_NET_BYTEORDER is kept on re-emit", () => {
    const a = attrsOf((w) => w.putAttr(7 | NLA_F_NET_BYTEORDER, Uint8Array.from([0, 80])));
    expect(a[0]).toMatchObject({
      type: 7,
      netByteOrder: true,
      nested: false,
      rawType: 7 | NLA_F_NET_BYTEORDER,
    });
  });
});

describe("address putters", () => {
  const roundTrip = (addr: string) => nlaGetIn6Addr(attrsOf((w) => w.putIn6Addr(1, addr))[0]!);
  it("write IPv6 text as its 16 bytes, read back in RFC 5952 form", () => {
    expect(roundTrip("fd00::1")).toBe("fd00::1");
    expect(roundTrip("::")).toBe("::");
    expect(roundTrip("::1")).toBe("::1");
    expect(roundTrip("2001:DB8:0:0:1:0:0:1")).toBe("2001:db8::1:0:0:1");
    expect(roundTrip("::ffff:192.0.2.1")).toBe("::ffff:192.0.2.1");
    expect(roundTrip("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2:3:4:5:6");
    expect(roundTrip("64:ff9b::192.0.2.33")).toBe("64:ff9b::c000:221");
    for (const bad of [
      "1::2::3",
      "12345::",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "::ffff:1.2.3.256",
      "fe80::1%eth0",
      "",
    ]) {
      expect(() => attrsOf((w) => w.putIn6Addr(1, bad))).toThrow(/is not an IPv6 address/);
    }
  });

  it("write link-layer addresses", () => {
    expect(nlaGetLladdr(attrsOf((w) => w.putLladdr(1, "00:16:3E:0a:0b:0c"))[0]!)).toBe("00:16:3e:0a:0b:0c");
    expect(() => attrsOf((w) => w.putLladdr(1, "00:16:3e:0a:0b"))).not.toThrow();
    expect(() => attrsOf((w) => w.putLladdr(1, "0:16"))).toThrow(/is not a link-layer address/);
  });

  it("property: any 16 bytes survive formatting and parsing", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = nlaGetIn6Addr({
          type: 1,
          rawType: 1,
          nested: false,
          netByteOrder: false,
          offset: 0,
          payload: bytes,
        });
        expect(attrsOf((w) => w.putIn6Addr(1, text))[0]!.payload).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });
});
