// Stop 2, @kbridge/netlink-codec: a request built as the kernel's helpers build it, a real kernel reply
// decoded, and a malformed datagram refused with the place and the value.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  attrPathAt,
  decodeAck,
  NLM_F,
  NLMSG_DONE,
  NlWriter,
  nlaGetIn6Addr,
  nlaGetInAddr,
  nlaGetString,
  nlmsgFlagNames,
  PACKET_HOST,
  PACKET_OUTGOING,
  parseAttrs,
  parseDatagram,
  type RawAttr,
  readPcap,
  writePcap,
} from "@kbridge/netlink-codec";
import type { Stop } from "../tour.js";

const RTM_GETADDR = 22;
const IFA_ADDRESS = 1;
const IFA_LABEL = 3;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function requestLines(): string[] {
  const w = new NlWriter();
  w.beginMessage({ type: RTM_GETADDR, flags: NLM_F.REQUEST | NLM_F.DUMP, seq: 2 });
  w.putStruct(new Uint8Array(8)); // struct ifaddrmsg, all zero: every family
  w.endMessage();
  const req = w.finish();
  return [
    `RTM_GETADDR dump request, ${req.length} bytes (flags ${nlmsgFlagNames(0x301, "get").join("|")}):`,
    `  ${hex(req.subarray(0, 16))}   nlmsghdr`,
    `  ${hex(req.subarray(16)).padEnd(47)}   struct ifaddrmsg`,
  ];
}

function replyLines(): string[] {
  // What Linux 6.18 answered to exactly that request on the capture machine (vectors/netlink/).
  const bin = readFileSync(new URL("../../../../vectors/netlink/host-getaddr-dump.bin", import.meta.url));
  const lens = readFileSync(
    new URL("../../../../vectors/netlink/host-getaddr-dump.lens", import.meta.url),
    "utf8",
  )
    .trim()
    .split("\n")
    .map(Number);
  const lines = [`the kernel's reply: ${lens.length} datagrams, ${bin.length} bytes:`];
  let off = 0;
  for (const n of lens) {
    for (const m of parseDatagram(new Uint8Array(bin.buffer, bin.byteOffset + off, n))) {
      if (m.type === NLMSG_DONE) {
        lines.push(`  NLMSG_DONE (flags ${nlmsgFlagNames(m.flags).join("|")}): the dump is complete`);
        continue;
      }
      const family = m.payload[0] === 2 ? "inet " : "inet6";
      const ifindex = new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(4, true);
      const attrs = parseAttrs(m.payload, 8);
      const addr = attrs.find((a) => a.type === IFA_ADDRESS)!;
      const label = attrs.find((a) => a.type === IFA_LABEL);
      const text = addr.payload.length === 4 ? nlaGetInAddr(addr) : nlaGetIn6Addr(addr);
      lines.push(
        `  RTM_NEWADDR ${family} ${`${text}/${m.payload[1]}`.padEnd(28)} ifindex ${ifindex}${label ? ` (${nlaGetString(label)})` : ""}`,
      );
    }
    off += n;
  }
  return lines;
}

function extAckLines(): string[] {
  // RTM_SETLINK on lo with a 2-byte IFLA_MTU, and what Linux 6.18 answered (vectors/netlink/).
  const dir = new URL("../../../../vectors/netlink/", import.meta.url);
  const request = new Uint8Array(readFileSync(new URL("netns1000-extack-policy-mtu-u16.req.bin", dir)));
  const reply = new Uint8Array(readFileSync(new URL("netns1000-extack-policy-mtu-u16.bin", dir)));
  const ack = decodeAck(parseDatagram(reply)[0]!);
  const [bad] = attrPathAt(request, ack.extack?.offs ?? 0, 16);
  const names: Record<number, string> = { 4: "IFLA_MTU" };
  const attrLen = bad ? request[bad.offset]! | (request[bad.offset + 1]! << 8) : 0;
  return [
    `RTM_SETLINK lo with a ${attrLen - 4}-byte IFLA_MTU; the kernel answered NLMSG_ERROR ${ack.error} (${ack.code}):`,
    `  message: "${ack.extack?.msg}"`,
    `  offset ${ack.extack?.offs} in the request is ${bad ? `${names[bad.type] ?? `type ${bad.type}`} (attribute type ${bad.type})` : "no attribute"}`,
    `  the policy it failed: ${describePolicy(ack.extack?.policy ?? [])}`,
  ];
}

// NL_POLICY_TYPE_ATTR_TYPE (1) names the attribute type (NL_ATTR_TYPE_U32 = 4 …); MIN/MAX_VALUE_U (4, 5) its range.
function describePolicy(policy: readonly RawAttr[]): string {
  const attrTypes: Record<number, string> = {
    2: "u8",
    3: "u16",
    4: "u32",
    5: "u64",
    11: "string",
    12: "nul-string",
  };
  const value = (t: number) => {
    const a = policy.find((x) => x.rawType === t);
    if (a === undefined || !("payload" in a)) return undefined;
    const dv = new DataView(a.payload.buffer, a.payload.byteOffset, a.payload.length);
    return a.payload.length === 8 ? dv.getBigUint64(0, true) : BigInt(dv.getUint32(0, true));
  };
  const type = value(1);
  const min = value(4);
  const max = value(5);
  const name = type === undefined ? "unknown type" : (attrTypes[Number(type)] ?? `NL_ATTR_TYPE ${type}`);
  return min !== undefined && max !== undefined ? `${name} in ${min}..${max}` : name;
}

function pcapLines(): string[] {
  // The request and the reply of the ext-ack exchange as a pcap that tshark and Wireshark open.
  const dir = new URL("../../../../vectors/netlink/", import.meta.url);
  const request = new Uint8Array(readFileSync(new URL("netns1000-extack-policy-mtu-u16.req.bin", dir)));
  const reply = new Uint8Array(readFileSync(new URL("netns1000-extack-policy-mtu-u16.bin", dir)));
  const pcap = writePcap([
    { protocol: 0, pkttype: PACKET_OUTGOING, data: request },
    { protocol: 0, pkttype: PACKET_HOST, micros: 1, data: reply },
  ]);
  const tmp = mkdtempSync(join(tmpdir(), "kbridge-tour-"));
  try {
    const file = join(tmp, "extack.pcap");
    writeFileSync(file, pcap);
    const back = readPcap(new Uint8Array(readFileSync(file)));
    return [
      `wrote ${pcap.length} bytes of pcap (LINKTYPE_NETLINK 253, ${back.records.length} datagrams: ${back.records.map((r) => `${r.data.length} B`).join(", ")});`,
      "  `tshark -r extack.pcap -V` dissects it as rtnetlink (an interop test checks that when tshark is installed).",
    ];
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function errorLines(): string[] {
  const bad = Uint8Array.from([40, 0, 0, 0, 16, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  try {
    parseDatagram(bad);
    return ["(the malformed datagram was accepted: this is a bug)"];
  } catch (err) {
    return [
      "a datagram that claims 40 bytes but holds 20 is refused, never read past its end:",
      `  ${(err as Error).message}`,
    ];
  }
}

/** The netlink-codec stop of the tour. */
export const netlinkCodecStop: Stop = {
  title: "@kbridge/netlink-codec: netlink messages, byte for byte",
  lines: () => [
    ...requestLines(),
    "",
    ...replyLines(),
    "",
    ...extAckLines(),
    "",
    ...pcapLines(),
    "",
    ...errorLines(),
  ],
};
