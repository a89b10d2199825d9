// Every capture of vectors/netlink/ (bytes a real Linux 6.18 kernel sent) is framed into the messages the
// manifest lists, and re-encoded byte for byte from a lossless raw tree through NlWriter.
import { describe, expect, it } from "vitest";
import { readDatagrams, readJsonLines, readVector } from "../../../test-support/vectors.js";
import {
  decodeRawAttrs,
  decodeRawMessages,
  encodeRawAttrs,
  encodeRawMessages,
  NLA_F_NESTED,
  NLM_F,
  NLMSG_ALIGN,
  NLMSG_DONE,
  NLMSG_ERROR,
  type NlMessage,
  NlWriter,
  parseDatagram,
  type RawAttr,
} from "../src/index.js";

interface Capture {
  file: string;
  protocol: number;
  datagram_lengths: number[];
  total_bytes: number;
  messages: number;
  types: Record<string, number>;
  request_hex?: string;
}

const manifest = readJsonLines<Capture>("netlink", "manifest.jsonl");

// The family header in front of the attributes, by protocol and message type (the families come later as
// schemas; here the sizes are enough): ifinfomsg 16, ifaddrmsg 8, rtmsg 12, genlmsghdr 4.
function fixedLength(protocol: number, m: NlMessage): number {
  if (m.type === NLMSG_DONE) return 4;
  if (m.type === NLMSG_ERROR) {
    // struct nlmsgerr, then the request's payload unless the ack is capped.
    const echoedLen = new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(4, true);
    return (m.flags & NLM_F.CAPPED) !== 0 ? 20 : 4 + NLMSG_ALIGN(echoedLen);
  }
  if (protocol === 16) return 4;
  if (m.type >= 16 && m.type <= 19) return 16;
  if (m.type >= 20 && m.type <= 23) return 8;
  if (m.type >= 24 && m.type <= 27) return 12;
  throw new Error(`no fixed header size for type ${m.type}`);
}

// Compares byte arrays fast (a deep toEqual on 30 KB arrays is slow) and reports the first difference.
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  let first = -1;
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (actual[i] !== expected[i]) {
      first = i;
      break;
    }
  }
  expect(first === -1 ? "identical" : `first difference at byte ${first} of ${expected.length}`).toBe(
    "identical",
  );
}

function countNests(attrs: readonly RawAttr[]): number {
  return attrs.reduce((n, a) => n + ("children" in a ? 1 + countNests(a.children) : 0), 0);
}

describe.each(manifest)("$file", (c) => {
  it("frames into the messages the manifest lists", () => {
    const types: Record<string, number> = {};
    let count = 0;
    let bytes = 0;
    for (const d of readDatagrams(c.file)) {
      bytes += d.length;
      for (const m of parseDatagram(d)) {
        count++;
        types[m.type] = (types[m.type] ?? 0) + 1;
      }
    }
    expect(bytes).toBe(c.total_bytes);
    expect(readDatagrams(c.file).map((d) => d.length)).toEqual(c.datagram_lengths);
    expect(count).toBe(c.messages);
    expect(types).toEqual(c.types);
  });

  it("re-encodes every datagram byte for byte through decodeRawMessages / encodeRawMessages", () => {
    for (const d of readDatagrams(c.file))
      expectSameBytes(encodeRawMessages(decodeRawMessages(d, c.protocol)), d);
  });

  it("re-encodes every message byte for byte from its raw tree", () => {
    let nests = 0;
    for (const d of readDatagrams(c.file)) {
      const w = new NlWriter();
      for (const m of parseDatagram(d)) {
        const fixed = fixedLength(c.protocol, m);
        const attrs = decodeRawAttrs(m.payload, Math.min(fixed, m.payload.length));
        nests += countNests(attrs);
        w.beginMessage({ type: m.type, flags: m.flags, seq: m.seq, pid: m.pid });
        w.putStruct(m.payload.subarray(0, fixed));
        encodeRawAttrs(w, attrs);
        expect(w.endMessage()).toBe(m.len);
      }
      expectSameBytes(w.finish(), d);
    }
    if (c.file.startsWith("netns1000-getlink")) expect(nests).toBeGreaterThan(1000);
  });

  it.runIf(c.request_hex !== undefined)("frames its request", () => {
    const req = new Uint8Array(readVector("netlink", c.file.replace(/\.bin$/, ".req.bin")));
    expect(Buffer.from(req).toString("hex")).toBe(c.request_hex);
    const [m, ...rest] = parseDatagram(req);
    expect(rest).toHaveLength(0);
    expect(m!.flags & NLM_F.REQUEST).toBe(NLM_F.REQUEST);
    expect(m!.len).toBe(req.length);
  });
});

describe("what the captures show", () => {
  it("the policy ext-ack carries a nested NLMSGERR_ATTR_POLICY with NLA_F_NESTED", () => {
    const [d] = readDatagrams("netns1000-extack-policy-mtu-u16.bin");
    const [m] = parseDatagram(d!);
    expect(m!.type).toBe(NLMSG_ERROR);
    expect(m!.flags).toBe(NLM_F.ACK_TLVS);
    const attrs = decodeRawAttrs(m!.payload, fixedLength(0, m!));
    const policy = attrs.find((a) => (a.rawType & 0x3fff) === 4)!;
    expect(policy.rawType & NLA_F_NESTED).toBe(NLA_F_NESTED);
    expect("children" in policy && policy.children.length).toBe(3);
  });
});
