// The validator against the kernel: golden acks built end to end (request → nlmsgParse → buildAck) equal the
// bytes Linux 6.18 sent, and each rule of lib/nlattr.c validate_nla() gives the kernel's errno and message.
import { describe, expect, it } from "vitest";
import { readVector } from "../../../test-support/vectors.js";
import {
  attrsToObject,
  buildAck,
  encodeRawAttrs,
  NL_VALIDATE,
  NLA_F_NESTED,
  NLM_F,
  type NlaPolicy,
  NlWriter,
  nlaParse,
  nlctrlFamily,
  nlmsgParse,
  type ParseResult,
  type Policy,
  parseDatagram,
  policyAttrs,
  policyDump,
} from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[^0-9a-f]/gi, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// The parts of the kernel policies these requests meet.
const IFLA_MTU = 4;
const iflaPolicy: Policy = {
  maxType: 66,
  attrs: { 3: { type: "string", len: 15 }, [IFLA_MTU]: { type: "u32" } },
};
const ctrlPolicy: Policy = { maxType: 10, attrs: { 1: { type: "u16" }, 2: { type: "nul-string", len: 15 } } };

function ackFor(request: Uint8Array, r: ParseResult, init: { portid: number; capAck?: boolean }): Uint8Array {
  return buildAck(request, {
    error: r.error,
    portid: init.portid,
    capAck: init.capAck,
    extAck: true,
    extack: {
      msg: r.extack.msg,
      offs: r.extack.badAttr,
      policy: r.extack.policy === undefined ? undefined : policyAttrs(r.extack.policy),
    },
  });
}

describe("end to end against the kernel's bytes", () => {
  it("RTM_SETLINK with a 2-byte IFLA_MTU (rtnetlink parses liberally): the captured ack, uncapped and capped", () => {
    const req = new Uint8Array(readVector("netlink", "netns1000-extack-policy-mtu-u16.req.bin"));
    const r = nlmsgParse(req, 16, iflaPolicy, { validate: NL_VALIDATE.LIBERAL });
    expect([r.error, r.code, r.extack.msg, r.extack.badAttr]).toEqual([
      -34,
      "ERANGE",
      "Attribute failed policy validation",
      32,
    ]);
    expect(r.warnings).toEqual(["netlink: attribute type 4 has an invalid length."]);
    const captured = new Uint8Array(readVector("netlink", "netns1000-extack-policy-mtu-u16.bin"));
    const portid = new DataView(captured.buffer, captured.byteOffset).getUint32(12, true);
    expect(toHex(ackFor(req, r, { portid }))).toBe(toHex(captured));
    const capped = new Uint8Array(readVector("netlink", "netns1000-extack-policy-mtu-u16-capack.bin"));
    expect(toHex(ackFor(req, r, { portid, capAck: true }))).toBe(toHex(capped));
  });

  it("GETFAMILY with CTRL_ATTR_FAMILY_NAME lacking its NUL: EINVAL, policy {MAX_LENGTH 15, TYPE NUL_STRING}", () => {
    const req = hex(
      "20 00 00 00 10 00 01 00 04 00 00 00 00 00 00 00 03 01 00 00 0a 00 02 00 6e 6c 63 74 72 6c 00 00",
    );
    const r = nlmsgParse(req, 4, ctrlPolicy, { validate: NL_VALIDATE.LIBERAL });
    expect([r.code, r.extack.badAttr]).toEqual(["EINVAL", 20]);
    const want = hex(`78 00 00 00 02 00 00 02 04 00 00 00 5f 93 2f c6 ea ff ff ff
      20 00 00 00 10 00 01 00 04 00 00 00 00 00 00 00 03 01 00 00 0a 00 02 00 6e 6c 63 74 72 6c 00 00
      27 00 01 00 ${toHex(Buffer.from("Attribute failed policy validation"))} 00 00
      08 00 02 00 14 00 00 00
      14 00 04 80 08 00 07 00 0f 00 00 00 08 00 01 00 0c 00 00 00`);
    expect(toHex(ackFor(req, r, { portid: 0xc62f935f }))).toBe(toHex(want));
  });

  it("GETFAMILY with a 1-byte CTRL_ATTR_FAMILY_ID: ERANGE, policy {MIN_VALUE_U 0, MAX_VALUE_U 65535, TYPE U16}", () => {
    const w = new NlWriter();
    w.beginMessage({ type: 0x10, flags: 1, seq: 5 });
    w.putStruct(Uint8Array.from([3, 1, 0, 0]));
    w.putU8(1, 1);
    w.endMessage();
    const req = w.finish();
    const r = nlmsgParse(req, 4, ctrlPolicy, { validate: NL_VALIDATE.LIBERAL });
    expect([r.code, r.extack.badAttr]).toEqual(["ERANGE", 20]);
    const ack = ackFor(req, r, { portid: 1, capAck: true });
    expect(toHex(ack.subarray(36))).toBe(
      toHex(
        hex(`27 00 01 00 ${toHex(Buffer.from("Attribute failed policy validation"))} 00 00 08 00 02 00 14 00 00 00
        24 00 04 80 0c 00 04 00 00 00 00 00 00 00 00 00 0c 00 05 00 ff ff 00 00 00 00 00 00 08 00 01 00 03 00 00 00`),
      ),
    );
  });
});

// A buffer of attributes built with the writer (offsets below are from the start of this buffer).
function attrs(build: (w: NlWriter) => void): Uint8Array {
  const w = new NlWriter();
  w.beginMessage({ type: 0x10 });
  build(w);
  w.endMessage();
  return w.finish();
}

function check(
  policy: Policy,
  build: (w: NlWriter) => void,
  validate: number = NL_VALIDATE.STRICT,
): ParseResult {
  const b = attrs(build);
  return nlaParse(b, 16, b.length, policy, { validate });
}

const one = (pt: NlaPolicy, maxType = 5): Policy => ({ maxType, attrs: { 1: pt } });

describe("validate_nla, rule by rule", () => {
  it("fixed-size integers: a warning when liberal, EINVAL 'invalid attribute length' with STRICT_ATTRS", () => {
    const liberalLonger = check(one({ type: "u16" }), (w) => w.putU32(1, 7), NL_VALIDATE.LIBERAL);
    expect([liberalLonger.error, liberalLonger.tb[1]?.payload.length]).toEqual([0, 4]);
    const liberalShorter = check(one({ type: "u32" }), (w) => w.putU16(1, 7), NL_VALIDATE.LIBERAL);
    expect([liberalShorter.code, liberalShorter.extack.msg]).toEqual([
      "ERANGE",
      "Attribute failed policy validation",
    ]);
    const strict = check(one({ type: "u32" }), (w) => w.putU16(1, 7));
    expect([strict.code, strict.extack.msg, strict.extack.badAttr]).toEqual([
      "EINVAL",
      "invalid attribute length",
      16,
    ]);
  });

  it("NLA_F_NESTED must match the policy under NL_VALIDATE_NESTED", () => {
    const inner: Policy = { maxType: 2, attrs: { 1: { type: "u8" } } };
    const missing = check(one({ type: "nested", nested: inner }), (w) => {
      const n = w.nestStart(1, false);
      w.nestEnd(n);
    });
    expect([missing.code, missing.extack.msg]).toEqual(["EINVAL", "NLA_F_NESTED is missing"]);
    const unexpected = check(one({ type: "u8" }), (w) => w.putAttr(1 | NLA_F_NESTED, Uint8Array.of(1)));
    expect([unexpected.code, unexpected.extack.msg]).toEqual(["EINVAL", "NLA_F_NESTED not expected"]);
    expect(
      check(one({ type: "unspec" }), (w) => w.putAttr(1 | NLA_F_NESTED, Uint8Array.of(1)), NL_VALIDATE.NESTED)
        .error,
    ).toBe(0);
  });

  it("nests: empty is fine, 1..3 bytes is ERANGE, and an inner error comes back unchanged", () => {
    const inner: Policy = { maxType: 2, attrs: { 2: { type: "u32" } } };
    const p = one({ type: "nested", nested: inner });
    expect(check(p, (w) => w.nestEnd(w.nestStart(1))).error).toBe(0);
    expect(check(p, (w) => w.putAttr(1 | NLA_F_NESTED, Uint8Array.of(1, 2))).code).toBe("ERANGE");
    const deep = check(p, (w) => {
      const n = w.nestStart(1);
      w.putU8(2, 1);
      w.nestEnd(n);
    });
    expect([deep.code, deep.extack.msg, deep.extack.badAttr, deep.extack.policy?.type]).toEqual([
      "EINVAL",
      "invalid attribute length",
      20,
      "u32",
    ]);
  });

  it("nested arrays: empty elements are skipped, 1..3-byte elements are 'Array element too short'", () => {
    const p = one({ type: "nested-array", nested: { maxType: 2, attrs: { 1: { type: "u8" } } } });
    const ok = check(p, (w) => {
      const a = w.nestStart(1);
      w.nestEnd(w.nestStart(1));
      const e = w.nestStart(2);
      w.putU8(1, 3);
      w.nestEnd(e);
      w.nestEnd(a);
    });
    expect(ok.error).toBe(0);
    const short = check(p, (w) => {
      const a = w.nestStart(1);
      w.putAttr(1, Uint8Array.of(1, 2));
      w.nestEnd(a);
    });
    expect([short.code, short.extack.msg, short.extack.badAttr]).toEqual([
      "ERANGE",
      "Array element too short",
      20,
    ]);
  });

  it("strings: NUL_STRING needs a NUL within len+1 (EINVAL), STRING may not be empty or too long (ERANGE)", () => {
    expect(
      check(one({ type: "nul-string", len: 3 }), (w) => w.putAttr(1, Uint8Array.of(0x61, 0x62, 0x63, 0x64)))
        .code,
    ).toBe("EINVAL");
    expect(check(one({ type: "nul-string", len: 3 }), (w) => w.putString(1, "abc")).error).toBe(0);
    expect(check(one({ type: "string" }), (w) => w.putAttr(1, new Uint8Array(0))).code).toBe("ERANGE");
    expect(check(one({ type: "string", len: 3 }), (w) => w.putString(1, "abc")).error).toBe(0); // the NUL is not counted
    expect(check(one({ type: "string", len: 3 }), (w) => w.putString(1, "abcd")).code).toBe("ERANGE");
    expect(check(one({ type: "binary", len: 2 }), (w) => w.putAttr(1, new Uint8Array(3))).code).toBe(
      "ERANGE",
    );
  });

  it("flags, uint/sint, bitfield32 and reject", () => {
    expect(check(one({ type: "flag" }), (w) => w.putU8(1, 1)).code).toBe("ERANGE");
    const uint = check(one({ type: "uint" }), (w) => w.putAttr(1, new Uint8Array(2)));
    expect([uint.code, uint.extack.msg]).toEqual(["EINVAL", "invalid attribute length"]);
    const bf = one({ type: "bitfield32", bitfield32Valid: 0x3 });
    expect(check(bf, (w) => w.putBitfield32(1, 1, 1)).error).toBe(0);
    expect(check(bf, (w) => w.putBitfield32(1, 1, 4)).code).toBe("EINVAL"); // selector outside the valid bits
    expect(check(bf, (w) => w.putBitfield32(1, 2, 1)).code).toBe("EINVAL"); // value bit not selected
    const rej = check(one({ type: "reject", rejectMessage: "use the new attribute" }), (w) => w.putU8(1, 1));
    expect([rej.code, rej.extack.msg, rej.extack.policy]).toEqual([
      "EINVAL",
      "use the new attribute",
      undefined,
    ]);
    expect(check(one({ type: "reject" }), (w) => w.putU8(1, 1)).extack.msg).toBe(
      "Attribute failed policy validation",
    );
  });

  it("ranges: 'integer out of range' and 'binary attribute size out of range' are ERANGE, a mask's 'reserved bit set' EINVAL", () => {
    const range = check(one({ type: "u8", validation: { kind: "range", min: 1, max: 9 } }), (w) =>
      w.putU8(1, 10),
    );
    expect([range.code, range.extack.msg, range.extack.policy?.type]).toEqual([
      "ERANGE",
      "integer out of range",
      "u8",
    ]);
    expect(
      check(one({ type: "s16", validation: { kind: "min", min: -5 } }), (w) => w.putS16(1, -6)).code,
    ).toBe("ERANGE");
    const bin = check(one({ type: "binary", validation: { kind: "range", min: 6, max: 6 } }), (w) =>
      w.putAttr(1, new Uint8Array(4)),
    );
    expect([bin.code, bin.extack.msg]).toEqual(["ERANGE", "binary attribute size out of range"]);
    const warn = one({ type: "binary", validation: { kind: "range-warn-too-long", min: 6, max: 6 } });
    expect(check(warn, (w) => w.putAttr(1, new Uint8Array(8)), NL_VALIDATE.LIBERAL).error).toBe(0);
    expect(check(warn, (w) => w.putAttr(1, new Uint8Array(8))).extack.msg).toBe("invalid attribute length");
    const mask = check(one({ type: "u32", validation: { kind: "mask", mask: 0x0f } }), (w) =>
      w.putU32(1, 0x10),
    );
    expect([mask.code, mask.extack.msg, mask.extack.policy]).toEqual([
      "EINVAL",
      "reserved bit set",
      undefined,
    ]);
    expect(
      check(one({ type: "be16", validation: { kind: "max", max: 1023 } }), (w) => w.putBe16(1, 1024)).code,
    ).toBe("ERANGE");
  });

  it("unknown types, NLA_UNSPEC, trailing bytes, strict_start_type, recursion depth, last occurrence wins", () => {
    const unknown = check(one({ type: "u8" }, 1), (w) => w.putU8(2, 1));
    expect([unknown.code, unknown.extack.msg, unknown.extack.badAttr]).toEqual([
      "EINVAL",
      "Unknown attribute type",
      16,
    ]);
    expect(check(one({ type: "u8" }, 1), (w) => w.putU8(2, 1), NL_VALIDATE.LIBERAL).error).toBe(0);
    const unspec = check({ maxType: 3, attrs: {} }, (w) => w.putU8(1, 1));
    expect([unspec.code, unspec.extack.msg]).toEqual(["EINVAL", "Unsupported attribute"]);
    const b = Uint8Array.from([...attrs((w) => w.putU8(1, 1)), 0, 0]); // two stray bytes after the attribute
    const liberal = nlaParse(b, 16, b.length, one({ type: "u8" }), { validate: NL_VALIDATE.LIBERAL });
    expect([liberal.error, liberal.extack.msg]).toEqual([0, "bytes leftover after parsing attributes"]);
    expect(nlaParse(b, 16, b.length, one({ type: "u8" })).code).toBe("EINVAL");
    const sst: Policy = { maxType: 5, strictStartType: 3, attrs: { 1: { type: "u32" }, 3: { type: "u32" } } };
    expect(check(sst, (w) => w.putU16(1, 1), NL_VALIDATE.LIBERAL).code).toBe("ERANGE");
    expect(check(sst, (w) => w.putU64(3, 1n), NL_VALIDATE.LIBERAL).extack.msg).toBe(
      "invalid attribute length",
    );
    const self: { p?: Policy } = {};
    const loop: Policy = {
      maxType: 1,
      attrs: {
        get 1() {
          return { type: "nested", nested: self.p } as NlaPolicy;
        },
      },
    };
    self.p = loop;
    const deep = check(loop, (w) => {
      const nests = Array.from({ length: 11 }, () => w.nestStart(1));
      for (const n of nests.reverse()) w.nestEnd(n);
    });
    expect([deep.code, deep.extack.msg]).toEqual(["EINVAL", "allowed policy recursion depth exceeded"]);
    const twice = check(one({ type: "u8" }), (w) => {
      w.putU8(1, 1);
      w.putU8(1, 2);
    });
    expect(twice.tb[1]?.payload[0]).toBe(2);
  });

  it("nlmsgParse refuses a message shorter than its family header", () => {
    const r = nlmsgParse(hex("14 00 00 00 10 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00"), 16, iflaPolicy);
    expect([r.code, r.extack.msg]).toEqual(["EINVAL", "Invalid header length"]);
  });
});

describe("policyAttrs (NLMSGERR_ATTR_POLICY)", () => {
  const show = (pt: NlaPolicy) =>
    policyAttrs(pt).map((a) => ("payload" in a ? `${a.rawType}:${toHex(a.payload)}` : ""));
  it("writes bounds first and the type last, as __netlink_policy_dump_write_attr", () => {
    expect(show({ type: "u32" })).toEqual(["4:0000000000000000", "5:ffffffff00000000", "1:04000000"]);
    expect(show({ type: "s8", validation: { kind: "range", min: -3, max: 3 } })).toEqual([
      "2:fdffffffffffffff",
      "3:0300000000000000",
      "1:06000000",
    ]);
    expect(show({ type: "u16", validation: { kind: "mask", mask: 0xff } })).toEqual([
      "12:ff00000000000000",
      "1:03000000",
    ]);
    expect(show({ type: "binary", validation: { kind: "range", min: 6, max: 6 } })).toEqual([
      "6:06000000",
      "7:06000000",
      "1:0a000000",
    ]);
    expect(show({ type: "msecs" })).toEqual(["4:0000000000000000", "5:ffffffffffffffff", "1:11000000"]);
    expect(show({ type: "bitfield32", bitfield32Valid: 3 })).toEqual(["10:03000000", "1:0f000000"]);
    expect(show({ type: "flag" })).toEqual(["1:01000000"]);
    for (const t of ["unspec", "reject", "be16", "be32"] as const)
      expect(policyAttrs({ type: t })).toEqual([]);
  });
});

describe("policyDump (CTRL_CMD_GETPOLICY)", () => {
  const leaf: Policy = { maxType: 2, attrs: { 1: { type: "u8" }, 2: { type: "string", len: 8 } } };
  const mid: Policy = {
    maxType: 3,
    attrs: {
      1: { type: "nested", nested: leaf },
      2: { type: "nested-array", nested: leaf },
      3: { type: "u32" },
    },
  };
  const root: Policy = {
    maxType: 4,
    attrs: {
      1: { type: "nested", nested: mid },
      2: { type: "nested", nested: leaf },
      3: { type: "nested", nested: { maxType: 0, attrs: {} } },
      4: { type: "flag" },
    },
  };
  const show = (attrs: ReturnType<typeof policyAttrs>) =>
    attrs.map((a) => ("payload" in a ? `${a.rawType}:${toHex(a.payload)}` : ""));

  it("numbers policies breadth first, each once, and writes POLICY_IDX, POLICY_MAXTYPE, TYPE for nests", () => {
    const dump = policyDump(root);
    expect(dump.map((e) => [e.policyIdx, e.attrIdx])).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [0, 4],
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
      [2, 2],
    ]);
    expect(show(dump[0]!.attrs)).toEqual(["8:01000000", "9:03000000", "1:0d000000"]);
    expect(show(dump[1]!.attrs)).toEqual(["8:02000000", "9:02000000", "1:0d000000"]);
    // A nested policy with maxtype 0 is never added, and its nest says only its type.
    expect(show(dump[2]!.attrs)).toEqual(["1:0d000000"]);
    expect(show(dump[5]!.attrs)).toEqual(["8:02000000", "9:02000000", "1:0e000000"]);
    expect(show(dump[8]!.attrs)).toEqual(["7:08000000", "1:0b000000"]);
    // Without a dump state (an ext-ack's NLMSGERR_ATTR_POLICY) a nest says only its type.
    expect(show(policyAttrs(root.attrs[1]!))).toEqual(["1:0d000000"]);
  });

  it("terminates on a policy that nests itself, and refuses what is not a policy", () => {
    const self: { maxType: number; attrs: Record<number, unknown> } = { maxType: 1, attrs: {} };
    self.attrs[1] = { type: "nested", nested: self };
    const dump = policyDump(self as Policy);
    expect(dump).toHaveLength(1);
    expect(show(dump[0]!.attrs)).toEqual(["8:00000000", "9:01000000", "1:0d000000"]);
    expect(() => policyDump({ maxType: -1, attrs: {} })).toThrow(/not a policy/);
    expect(() => policyDump(null as unknown as Policy)).toThrow(/not a policy/);
    expect(policyDump({ maxType: 0, attrs: {} })).toEqual([]);
  });

  it("an entry in a CTRL_CMD_GETPOLICY reply decodes with the nlctrl family", () => {
    const e = policyDump(root)[0]!;
    const w = new NlWriter();
    w.beginMessage({ type: 0x10, flags: NLM_F.MULTI, seq: 1, pid: 0 });
    w.putStruct(Uint8Array.of(10, 2, 0, 0));
    w.putAttr(1, Uint8Array.of(0x1c, 0));
    const p = w.nestStart(8, true);
    const i = w.nestStart(e.policyIdx, true);
    const a = w.nestStart(e.attrIdx, true);
    encodeRawAttrs(w, e.attrs);
    w.nestEnd(a);
    w.nestEnd(i);
    w.nestEnd(p);
    w.endMessage();
    const msg = nlctrlFamily().decode(parseDatagram(w.finish())[0]!);
    expect(attrsToObject(msg.attrs)).toEqual({
      "family-id": 0x1c,
      policy: { 0: { 1: { "policy-idx": 1, "policy-maxtype": 3, type: 13 } } },
    });
  });
});

describe("property", () => {
  it("mutated requests are validated without throwing, and a failure always names an errno and a message", async () => {
    const fc = (await import("fast-check")).default;
    const req = new Uint8Array(readVector("netlink", "netns1000-extack-policy-mtu-u16.req.bin"));
    const nested: Policy = {
      maxType: 4,
      attrs: { 1: { type: "nested", nested: iflaPolicy }, 2: { type: "nul-string", len: 4 } },
    };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ at: fc.nat({ max: req.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
          { maxLength: 6 },
        ),
        fc.constantFrom(iflaPolicy, nested, ctrlPolicy),
        fc.constantFrom(NL_VALIDATE.LIBERAL, NL_VALIDATE.STRICT, NL_VALIDATE.DEPRECATED_STRICT),
        (edits, policy, validate) => {
          const d = req.slice();
          for (const { at, value } of edits) d[at] = value;
          const r = nlmsgParse(d, 16, policy, { validate });
          if (r.error !== 0) {
            expect(r.code).toBeDefined();
            expect(r.extack.msg).toBeDefined();
          }
          if (r.extack.badAttr !== undefined) expect(r.extack.badAttr).toBeLessThan(d.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
