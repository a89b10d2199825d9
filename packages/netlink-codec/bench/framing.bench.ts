// Framing and attribute walks over a real 1001-link RTM_NEWLINK dump (vectors/netlink/netns1000-getlink-dump):
// what every netlink consumer does first, against a plain hand-written DataView walk of the same bytes.
import { readFileSync } from "node:fs";
import {
  AttrCursor,
  decodeRawAttrs,
  MsgCursor,
  NLMSG_DONE,
  NlWriter,
  parseAttrs,
  parseDatagram,
} from "../src/index.js";

const dir = new URL("../../../vectors/netlink/", import.meta.url);
const bin = new Uint8Array(readFileSync(new URL("netns1000-getlink-dump.bin", dir)));
const lens = readFileSync(new URL("netns1000-getlink-dump.lens", dir), "utf8").trim().split("\n").map(Number);
const datagrams: Uint8Array[] = [];
for (let off = 0, i = 0; i < lens.length; off += lens[i]!, i++)
  datagrams.push(bin.subarray(off, off + lens[i]!));
const MESSAGES = 1002;

/** kbridge: parseDatagram, then parseAttrs of the top level after the 16-byte ifinfomsg. */
function kbridgeWalk(): number {
  let attrs = 0;
  for (const d of datagrams) {
    for (const m of parseDatagram(d)) {
      if (m.type === NLMSG_DONE) continue;
      attrs += parseAttrs(m.payload, 16).length;
    }
  }
  return attrs;
}

/** Baseline: the same walk written by hand with one DataView per datagram and no objects. */
function dataViewWalk(): number {
  let attrs = 0;
  for (const d of datagrams) {
    const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
    for (let off = 0; off + 16 <= d.length; ) {
      const len = dv.getUint32(off, true);
      if (len < 16 || len > d.length - off) throw new Error("bad nlmsg_len");
      if (dv.getUint16(off + 4, true) !== NLMSG_DONE) {
        const end = off + len;
        for (let a = off + 32; a + 4 <= end; ) {
          const alen = dv.getUint16(a, true);
          if (alen < 4 || alen > end - a) throw new Error("bad nla_len");
          attrs++;
          a += (alen + 3) & ~3;
        }
      }
      off += (len + 3) & ~3;
    }
  }
  return attrs;
}

/** kbridge: parseDatagram, then an AttrCursor over the top level (no object per attribute). */
function cursorWalk(): number {
  let attrs = 0;
  for (const d of datagrams) {
    for (const m of parseDatagram(d)) {
      if (m.type === NLMSG_DONE) continue;
      const c = new AttrCursor(m.payload, 16);
      while (c.next()) attrs++;
    }
  }
  return attrs;
}

/** kbridge: MsgCursor + its AttrCursor, nothing allocated per message or attribute. */
function cursorsOnly(): number {
  let attrs = 0;
  for (const d of datagrams) {
    const m = new MsgCursor(d);
    while (m.next()) {
      if (m.type === NLMSG_DONE) continue;
      const a = m.attrs(16);
      while (a.next()) attrs++;
    }
  }
  return attrs;
}

/** kbridge: the whole lossless tree, every nest descended. */
function rawTree(): number {
  let n = 0;
  for (const d of datagrams)
    for (const m of parseDatagram(d)) if (m.type !== NLMSG_DONE) n += decodeRawAttrs(m.payload, 16).length;
  return n;
}

const ifinfomsg = new Uint8Array(16);

export default [
  {
    group: "getlink dump walk (1001 links, 1.5 MB)",
    work: { bytes: bin.length, messages: MESSAGES },
    tasks: {
      "parseDatagram + parseAttrs (top level)": kbridgeWalk,
      "parseDatagram + AttrCursor (top level)": cursorWalk,
      "MsgCursor + AttrCursor (top level)": cursorsOnly,
      "decodeRawAttrs (every nest)": rawTree,
      "DataView walk, no objects (baseline)": dataViewWalk,
    },
    compare: [
      { name: "parseDatagram + parseAttrs (top level)", baseline: "DataView walk, no objects (baseline)" },
      { name: "parseDatagram + AttrCursor (top level)", baseline: "DataView walk, no objects (baseline)" },
      { name: "MsgCursor + AttrCursor (top level)", baseline: "DataView walk, no objects (baseline)" },
      { name: "decodeRawAttrs (every nest)", baseline: "DataView walk, no objects (baseline)" },
    ],
  },
  {
    group: "RTM_GETLINK request encode",
    tasks: {
      "NlWriter: header + ifinfomsg + IFLA_EXT_MASK": (i: number) => {
        const w = new NlWriter({ capacity: 64 });
        w.beginMessage({ type: 18, flags: 0x301, seq: i });
        w.putStruct(ifinfomsg);
        w.putU32(29, 1);
        w.endMessage();
        return w.finish();
      },
      "new Uint8Array + DataView sets (baseline)": (i: number) => {
        const b = new Uint8Array(40);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, 40, true);
        dv.setUint16(4, 18, true);
        dv.setUint16(6, 0x301, true);
        dv.setUint32(8, i, true);
        dv.setUint16(32, 8, true);
        dv.setUint16(34, 29, true);
        dv.setUint32(36, 1, true);
        return b;
      },
    },
    compare: [
      {
        name: "NlWriter: header + ifinfomsg + IFLA_EXT_MASK",
        baseline: "new Uint8Array + DataView sets (baseline)",
      },
    ],
  },
];
