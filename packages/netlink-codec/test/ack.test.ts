// Acks and ext-acks, decoded from and rebuilt into the exact bytes a real Linux 6.18 kernel sent:
// the captures of vectors/netlink/ and the byte strings measured in the spec (§7.2, §7.3, §7.7).
import { describe, expect, it } from "vitest";
import { readVector } from "../../../test-support/vectors.js";
import {
  attrPathAt,
  buildAck,
  decodeAck,
  decodeDone,
  NLM_F,
  NLMSG_DONE,
  parseDatagram,
} from "../src/index.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/[^0-9a-f]/gi, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const capture = (name: string) => new Uint8Array(readVector("netlink", `${name}.bin`));
const request = (name: string) => new Uint8Array(readVector("netlink", `${name}.req.bin`));

describe("the policy ext-ack of RTM_SETLINK with a 2-byte IFLA_MTU (netns1000-extack-policy-mtu-u16)", () => {
  const bytes = capture("netns1000-extack-policy-mtu-u16");
  const [m] = parseDatagram(bytes);
  const ack = decodeAck(m!);

  it("decodes: ERANGE, the echoed request, the message, OFFS 32 and the violated policy", () => {
    expect(ack.error).toBe(-34);
    expect(ack.code).toBe("ERANGE");
    expect(ack.capped).toBe(false);
    expect(ack.request).toMatchObject({ type: 19, len: request("netns1000-extack-policy-mtu-u16").length });
    expect(ack.requestPayload).toEqual(request("netns1000-extack-policy-mtu-u16").subarray(16));
    expect(ack.extack?.msg).toBe("Attribute failed policy validation");
    expect(ack.extack?.offs).toBe(32);
    // MIN_VALUE_U 0, MAX_VALUE_U 0xffffffff, then NL_POLICY_TYPE_ATTR_TYPE = NL_ATTR_TYPE_U32 (4): the kernel's
    // policy writer puts the type last.
    expect(
      ack.extack?.policy?.map((a) => ("payload" in a ? [a.rawType, toHex(a.payload)] : a.rawType)),
    ).toEqual([
      [4, "0000000000000000"],
      [5, "ffffffff00000000"],
      [1, "04000000"],
    ]);
  });

  it("maps OFFS back to IFLA_MTU (type 4) in the request", () => {
    expect(attrPathAt(request("netns1000-extack-policy-mtu-u16"), ack.extack!.offs!, 16)).toEqual([
      { type: 4, offset: 32 },
    ]);
  });

  it("is rebuilt byte for byte by buildAck, uncapped and capped", () => {
    const init = { error: -34, portid: m!.pid, extAck: true, extack: ack.extack! };
    expect(toHex(buildAck(request("netns1000-extack-policy-mtu-u16"), init))).toBe(toHex(bytes));
    const capped = capture("netns1000-extack-policy-mtu-u16-capack");
    expect(
      toHex(buildAck(request("netns1000-extack-policy-mtu-u16-capack"), { ...init, capAck: true })),
    ).toBe(toHex(capped));
    const c = decodeAck(parseDatagram(capped)[0]!);
    expect([c.capped, c.requestPayload, c.extack?.offs]).toEqual([true, undefined, 32]);
  });
});

describe("success acks", () => {
  it("RTM_SETLINK lo: 36 bytes, CAPPED even without CAP_ACK", () => {
    const bytes = capture("netns1000-ack-ok-setlink-lo");
    const [m] = parseDatagram(bytes);
    const ack = decodeAck(m!);
    expect([ack.error, ack.code, ack.capped, ack.extack]).toEqual([0, undefined, true, undefined]);
    expect(m!.flags).toBe(NLM_F.CAPPED);
    expect(
      toHex(buildAck(request("netns1000-ack-ok-setlink-lo"), { error: 0, portid: m!.pid, extAck: true })),
    ).toBe(toHex(bytes));
  });

  it("a NOOP REQ|ACK (spec §7.2)", () => {
    const req = hex("10 00 00 00 01 00 05 00 01 00 00 00 00 00 00 00");
    expect(toHex(buildAck(req, { error: 0, portid: 0xc06b46f4 }))).toBe(
      toHex(
        hex(
          "24 00 00 00 02 00 00 01 01 00 00 00 f4 46 6b c0 00 00 00 00 10 00 00 00 01 00 05 00 01 00 00 00 00 00 00 00",
        ),
      ),
    );
  });

  it("the genetlink GETFAMILY nlctrl ack of the capture", () => {
    const bytes = capture("netns1000-genl-ctrl-getfamily-nlctrl");
    const msgs = parseDatagram(bytes.subarray(bytes.length - 36));
    expect(decodeAck(msgs[0]!).error).toBe(0);
    expect(
      toHex(buildAck(request("netns1000-genl-ctrl-getfamily-nlctrl"), { error: 0, portid: msgs[0]!.pid })),
    ).toBe(toHex(bytes.subarray(bytes.length - 36)));
  });
});

describe("errors measured on 6.18 (spec §7.3, §7.7)", () => {
  it("EOPNOTSUPP for an unknown type: flags 0, the request echoed whole", () => {
    const req = hex("10 00 00 00 7f 00 01 00 06 00 00 00 00 00 00 00");
    const want = hex(
      "24 00 00 00 02 00 00 00 06 00 00 00 c6 1c 00 00 a1 ff ff ff 10 00 00 00 7f 00 01 00 06 00 00 00 00 00 00 00",
    );
    expect(toHex(buildAck(req, { error: -95, portid: 0x1cc6 }))).toBe(toHex(want));
    expect(decodeAck(parseDatagram(want)[0]!)).toMatchObject({
      error: -95,
      code: "EOPNOTSUPP",
      capped: false,
    });
  });

  it("GETFAMILY with a NAME lacking its NUL: EINVAL, MSG, OFFS 0x14 and the policy (NLA_NUL_STRING, max length 15)", () => {
    const want = hex(`78 00 00 00 02 00 00 02 04 00 00 00 5f 93 2f c6 ea ff ff ff
      20 00 00 00 10 00 01 00 04 00 00 00 00 00 00 00 03 01 00 00 0a 00 02 00 6e 6c 63 74 72 6c 00 00
      27 00 01 00 ${toHex(Buffer.from("Attribute failed policy validation"))} 00 00
      08 00 02 00 14 00 00 00
      14 00 04 80 08 00 07 00 0f 00 00 00 08 00 01 00 0c 00 00 00`);
    const req = hex(
      "20 00 00 00 10 00 01 00 04 00 00 00 00 00 00 00 03 01 00 00 0a 00 02 00 6e 6c 63 74 72 6c 00 00",
    );
    const ack = decodeAck(parseDatagram(want)[0]!);
    expect([ack.code, ack.extack?.offs, ack.extack?.msg]).toEqual([
      "EINVAL",
      0x14,
      "Attribute failed policy validation",
    ]);
    expect(attrPathAt(req, 0x14, 4)).toEqual([{ type: 2, offset: 20 }]); // CTRL_ATTR_FAMILY_NAME
    const init = { error: -22, portid: 0xc62f935f, extAck: true, extack: ack.extack! };
    expect(toHex(buildAck(req, init))).toBe(toHex(want));
    // With CAP_ACK too: 104 bytes, flags 0x300, the echoed payload gone, the TLVs identical.
    const capped = buildAck(req, { ...init, capAck: true });
    expect(capped.length).toBe(104);
    expect(parseDatagram(capped)[0]!.flags).toBe(0x300);
    expect(toHex(capped.subarray(36))).toBe(toHex(want.subarray(52)));
  });

  it("writes no TLV without NETLINK_EXT_ACK, and OFFS only when it points into the request", () => {
    const req = hex(
      "20 00 00 00 10 00 01 00 04 00 00 00 00 00 00 00 03 01 00 00 0a 00 02 00 6e 6c 63 74 72 6c 00 00",
    );
    const noExt = buildAck(req, { error: -22, portid: 1, extack: { msg: "x", offs: 20 } });
    expect(parseDatagram(noExt)[0]!.flags).toBe(0);
    expect(noExt.length).toBe(16 + 4 + 32);
    // netlink_ack_tlv_len() counts the bad attribute, netlink_ack_tlv_fill() then drops it: the flag comes alone.
    const outside = parseDatagram(
      buildAck(req, { error: -22, portid: 1, extAck: true, extack: { offs: 40 } }),
    )[0]!;
    expect(outside.flags).toBe(NLM_F.ACK_TLVS);
    expect(decodeAck(outside).extack).toEqual({ unknown: [] });
    const noMiss = parseDatagram(
      buildAck(req, { error: -22, portid: 1, extAck: true, extack: { missType: 0 } }),
    )[0]!;
    expect(noMiss.flags).toBe(0);
  });
});

describe("NLMSG_DONE", () => {
  it("carries 0 at the end of a complete dump, and a dump's error when it failed", () => {
    const bytes = capture("host-getaddr-dump");
    const done = parseDatagram(bytes).find((m) => m.type === NLMSG_DONE)!;
    expect(decodeDone(done)).toEqual({ error: 0, code: undefined, extack: undefined });
    const failed = hex("14 00 00 00 03 00 02 00 01 00 00 00 00 00 00 00 f0 ff ff ff");
    expect(decodeDone(parseDatagram(failed)[0]!)).toMatchObject({ error: -16, code: "EBUSY" });
  });

  it("refuses messages of another type", () => {
    const bytes = capture("host-getaddr-dump");
    expect(() => decodeDone(parseDatagram(bytes)[0]!)).toThrow(
      /EINVAL: decodeDone: message type 20 is not NLMSG_DONE/,
    );
    expect(() => decodeAck(parseDatagram(bytes)[0]!)).toThrow(/message type 20 is not NLMSG_ERROR/);
  });
});

describe("property", () => {
  it("mutated acks decode or fail with a KernelError, nothing else", async () => {
    const fc = (await import("fast-check")).default;
    const { KernelError } = await import("@kbridge/uapi");
    const bytes = capture("netns1000-extack-policy-mtu-u16");
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ at: fc.nat({ max: bytes.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }),
          { maxLength: 6 },
        ),
        (edits) => {
          const d = bytes.slice();
          for (const { at, value } of edits) d[at] = value;
          try {
            for (const m of parseDatagram(d)) if (m.type === 2) decodeAck(m);
          } catch (err) {
            expect(KernelError.is(err), String(err)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
