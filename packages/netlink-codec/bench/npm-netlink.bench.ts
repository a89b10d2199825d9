// Against npm `netlink@0.3.0` on the same real 1001-link RTM_NEWLINK dump (vectors/netlink/netns1000-getlink-dump):
// the framing + top-level attribute walk, and a typed decode of every link.
import { readFileSync } from "node:fs";
import { parseAttributes, parseMessages, rt } from "netlink";
import {
  loadSpec,
  MsgCursor,
  NetlinkFamily,
  NLMSG_DONE,
  parseDatagram,
  RT_LINK_SPEC,
  rtLinkFamily,
} from "../src/index.js";

const dir = new URL("../../../vectors/netlink/", import.meta.url);
const bin = readFileSync(new URL("netns1000-getlink-dump.bin", dir));
const lens = readFileSync(new URL("netns1000-getlink-dump.lens", dir), "utf8").trim().split("\n").map(Number);
const datagrams: Buffer[] = [];
for (let off = 0, i = 0; i < lens.length; off += lens[i]!, i++)
  datagrams.push(bin.subarray(off, off + lens[i]!));
const rtLink = rtLinkFamily();
// The same spec cut down to what npm netlink types (it leaves IFLA_AF_SPEC and IFLA_MAP as buffers): the same work
// on both sides. The bundled spec also types IFLA_AF_SPEC's ~170 inet/inet6 values per link.
function cut(spec: string, from: string, to: string): string {
  if (!spec.includes(from)) throw new Error(`bench: the rt-link spec no longer has ${from}`);
  return spec.replace(from, to);
}
const sameWork = new NetlinkFamily(
  loadSpec(
    cut(
      cut(
        RT_LINK_SPEC,
        "{ name: af-spec, type: nest, nested-attributes: af-spec-attrs, value: 26 }",
        "{ name: af-spec, type: binary, value: 26 }",
      ),
      "{ name: map, type: binary, struct: rtnl-link-ifmap, value: 14 }",
      "{ name: map, type: binary, value: 14 }",
    ),
  ),
);
const decodeAll = (family: NetlinkFamily) => {
  let n = 0;
  for (const d of datagrams) {
    for (const m of parseDatagram(d)) if (m.type === 16) n += family.decode(m).attrs.length;
  }
  return n;
};

const work = { bytes: bin.length, messages: 1002 };

export default [
  {
    group: "vs npm netlink: framing + top-level attribute walk",
    work,
    tasks: {
      "kbridge MsgCursor + AttrCursor": () => {
        let n = 0;
        for (const d of datagrams) {
          const m = new MsgCursor(d);
          while (m.next()) {
            if (m.type === NLMSG_DONE) continue;
            const a = m.attrs(16);
            while (a.next()) n++;
          }
        }
        return n;
      },
      "npm netlink parseMessages + parseAttributes (baseline)": () => {
        let n = 0;
        for (const d of datagrams) {
          for (const m of parseMessages(d)) {
            if (m.type === NLMSG_DONE) continue;
            parseAttributes(m.data.subarray(16), () => n++);
          }
        }
        return n;
      },
    },
    compare: [
      {
        name: "kbridge MsgCursor + AttrCursor",
        baseline: "npm netlink parseMessages + parseAttributes (baseline)",
      },
    ],
  },
  {
    group: "vs npm netlink: typed decode of every link",
    work,
    tasks: {
      "kbridge NetlinkFamily.decode, npm netlink's coverage": () => decodeAll(sameWork),
      "kbridge NetlinkFamily.decode, bundled rt-link (AF_SPEC, MAP typed too)": () => decodeAll(rtLink),
      "npm netlink rt.parseMessage (baseline)": () => {
        let n = 0;
        for (const d of datagrams) {
          for (const m of parseMessages(d))
            if (m.type === 16) n += Object.keys(rt.parseMessage(m.type, m.data)).length;
        }
        return n;
      },
    },
    compare: [
      {
        name: "kbridge NetlinkFamily.decode, npm netlink's coverage",
        baseline: "npm netlink rt.parseMessage (baseline)",
      },
      {
        name: "kbridge NetlinkFamily.decode, bundled rt-link (AF_SPEC, MAP typed too)",
        baseline: "npm netlink rt.parseMessage (baseline)",
      },
    ],
  },
];
