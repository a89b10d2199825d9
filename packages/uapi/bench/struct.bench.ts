// Struct codecs on struct nlmsghdr (include/uapi/linux/netlink.h, 16 bytes): decode, zero-copy views and
// encode, against the DataView reads and writes a hand-written netlink parser would do.

import { nlmsghdr } from "../src/index.js";

const HDR = 16;
const COUNT = 8;

// Eight headers back to back, as in one receive buffer, and the values they hold.
const VALUES = Array.from({ length: COUNT }, (_, k) => ({
  nlmsg_len: HDR + 4 * k,
  nlmsg_type: 16 + k, // RTM_NEWLINK …
  nlmsg_flags: 0x301, // NLM_F_REQUEST | NLM_F_DUMP
  nlmsg_seq: 1000 + k,
  nlmsg_pid: 4242,
}));
const rx = new Uint8Array(COUNT * HDR);
for (const [k, v] of VALUES.entries()) nlmsghdr.encodeInto(v, rx, k * HDR);
const rxView = new DataView(rx.buffer, rx.byteOffset, rx.byteLength);

// Where the encode-into tasks write.
const tx = new Uint8Array(COUNT * HDR);
const txView = new DataView(tx.buffer, tx.byteOffset, tx.byteLength);

export default [
  {
    group: "nlmsghdr decode",
    tasks: {
      "nlmsghdr.decode(buf, off)": (i: number) => nlmsghdr.decode(rx, (i & 7) * HDR),
      "nlmsghdr.view(buf, off), read 5 fields": (i: number) => {
        const h = nlmsghdr.view(rx, (i & 7) * HDR);
        return {
          nlmsg_len: h.nlmsg_len,
          nlmsg_type: h.nlmsg_type,
          nlmsg_flags: h.nlmsg_flags,
          nlmsg_seq: h.nlmsg_seq,
          nlmsg_pid: h.nlmsg_pid,
        };
      },
      "DataView getUint32/getUint16 (baseline)": (i: number) => {
        const off = (i & 7) * HDR;
        return {
          nlmsg_len: rxView.getUint32(off, true),
          nlmsg_type: rxView.getUint16(off + 4, true),
          nlmsg_flags: rxView.getUint16(off + 6, true),
          nlmsg_seq: rxView.getUint32(off + 8, true),
          nlmsg_pid: rxView.getUint32(off + 12, true),
        };
      },
    },
    compare: [
      { name: "nlmsghdr.decode(buf, off)", baseline: "DataView getUint32/getUint16 (baseline)" },
      { name: "nlmsghdr.view(buf, off), read 5 fields", baseline: "DataView getUint32/getUint16 (baseline)" },
    ],
  },
  {
    group: "nlmsghdr encode (new buffer)",
    tasks: {
      "nlmsghdr.encode(value)": (i: number) => nlmsghdr.encode(VALUES[i & 7]!),
      "new Uint8Array + DataView setUint32/setUint16 (baseline)": (i: number) => {
        const v = VALUES[i & 7]!;
        const out = new Uint8Array(HDR);
        const dv = new DataView(out.buffer);
        dv.setUint32(0, v.nlmsg_len, true);
        dv.setUint16(4, v.nlmsg_type, true);
        dv.setUint16(6, v.nlmsg_flags, true);
        dv.setUint32(8, v.nlmsg_seq, true);
        dv.setUint32(12, v.nlmsg_pid, true);
        return out;
      },
    },
    compare: [
      {
        name: "nlmsghdr.encode(value)",
        baseline: "new Uint8Array + DataView setUint32/setUint16 (baseline)",
      },
    ],
  },
  {
    group: "nlmsghdr encode (into a buffer)",
    tasks: {
      "nlmsghdr.encodeInto(value, buf, off)": (i: number) =>
        nlmsghdr.encodeInto(VALUES[i & 7]!, tx, (i & 7) * HDR),
      "nlmsghdr.view(buf, off), set 5 fields": (i: number) => {
        const v = VALUES[i & 7]!;
        const h = nlmsghdr.view(tx, (i & 7) * HDR);
        h.nlmsg_len = v.nlmsg_len;
        h.nlmsg_type = v.nlmsg_type;
        h.nlmsg_flags = v.nlmsg_flags;
        h.nlmsg_seq = v.nlmsg_seq;
        h.nlmsg_pid = v.nlmsg_pid;
        return h;
      },
      "DataView setUint32/setUint16 (baseline)": (i: number) => {
        const v = VALUES[i & 7]!;
        const off = (i & 7) * HDR;
        txView.setUint32(off, v.nlmsg_len, true);
        txView.setUint16(off + 4, v.nlmsg_type, true);
        txView.setUint16(off + 6, v.nlmsg_flags, true);
        txView.setUint32(off + 8, v.nlmsg_seq, true);
        txView.setUint32(off + 12, v.nlmsg_pid, true);
        return HDR;
      },
    },
    compare: [
      { name: "nlmsghdr.encodeInto(value, buf, off)", baseline: "DataView setUint32/setUint16 (baseline)" },
      { name: "nlmsghdr.view(buf, off), set 5 fields", baseline: "DataView setUint32/setUint16 (baseline)" },
    ],
  },
];
