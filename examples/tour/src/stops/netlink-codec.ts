// Stop 2, @kbridge/netlink-codec: a request built as the kernel's helpers build it, a real kernel reply
// decoded, and a malformed datagram refused with the place and the value.
import { readFileSync } from "node:fs";
import {
  NLM_F,
  NLMSG_DONE,
  NlWriter,
  nlaGetIn6Addr,
  nlaGetInAddr,
  nlaGetString,
  nlmsgFlagNames,
  parseAttrs,
  parseDatagram,
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
  lines: () => [...requestLines(), "", ...replyLines(), "", ...errorLines()],
};
