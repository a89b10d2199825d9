// Netlink captures as pcap files: classic pcap (magic 0xa1b2c3d4, version 2.4) with LINKTYPE_NETLINK (253),
// each record a 16-byte cooked header (pkttype, ARPHRD_NETLINK = 824, address, netlink protocol; all
// big-endian, as the Linux "cooked" capture writes them) and one datagram. Wireshark and tshark dissect them.

import { get16, get32, KernelError, put16, put32 } from "@kbridge/uapi";

/** `LINKTYPE_NETLINK`: the pcap link type of netlink captures. */
export const LINKTYPE_NETLINK = 253;
/** `ARPHRD_NETLINK`: the hardware type in the cooked header (required by dissectors). */
export const ARPHRD_NETLINK = 824;
/** `PACKET_HOST` (0): a datagram received (a reply). */
export const PACKET_HOST = 0;
/** `PACKET_OUTGOING` (4): a datagram sent (a request). */
export const PACKET_OUTGOING = 4;

const MAGIC = 0xa1b2c3d4;
const COOKED = 16;

/** One datagram of a capture. */
export interface PcapRecord {
  /** Seconds since the epoch. */
  readonly seconds: number;
  /** Microseconds within the second. */
  readonly micros: number;
  /** `PACKET_HOST` for what was received, `PACKET_OUTGOING` for what was sent. */
  readonly pkttype: number;
  /** The netlink protocol (0 route, 16 generic …). */
  readonly protocol: number;
  /** The datagram as captured (maybe cut at the snap length). */
  readonly data: Uint8Array;
  /** The datagram's length on the wire (more than `data.length` when the capture was cut). */
  readonly origLen: number;
}

/** A datagram to write; the timestamp and pkttype default to 0 (`PACKET_HOST`). */
export interface PcapRecordInit {
  /** Seconds since the epoch (0 by default). */
  readonly seconds?: number;
  /** Microseconds within the second (0 by default). */
  readonly micros?: number;
  /** `PACKET_HOST` (default) or `PACKET_OUTGOING`. */
  readonly pkttype?: number;
  /** The netlink protocol. */
  readonly protocol: number;
  /** The datagram. */
  readonly data: Uint8Array;
}

/** A parsed capture. */
export interface Pcap {
  /** The snap length of the file's header. */
  readonly snaplen: number;
  /** The records, in file order. */
  readonly records: readonly PcapRecord[];
}

function bad(op: string, detail: string): KernelError {
  return new KernelError("EINVAL", detail, { op });
}

/**
 * Writes a pcap file (little-endian, microsecond timestamps) of netlink datagrams.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a field out of range or a datagram longer than the snap length
 */
export function writePcap(
  records: readonly PcapRecordInit[],
  options: { snaplen?: number } = {},
): Uint8Array {
  const snaplen = options.snaplen ?? 262144;
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0xffffffff)
    throw bad("writePcap", `snaplen ${String(snaplen)} is out of range`);
  if (!Array.isArray(records)) throw bad("writePcap", `${String(records)} is not an array of records`);
  let total = 24;
  for (const [i, r] of records.entries()) {
    if (!(r?.data instanceof Uint8Array)) throw bad("writePcap", `record ${i}: data is not a Uint8Array`);
    if (r.data.length + COOKED > snaplen)
      throw bad("writePcap", `record ${i}: ${r.data.length} bytes exceed the snap length ${snaplen}`);
    for (const [name, v, max] of [
      ["seconds", r.seconds ?? 0, 0xffffffff],
      ["micros", r.micros ?? 0, 999999],
      ["pkttype", r.pkttype ?? PACKET_HOST, 0xffff],
      ["protocol", r.protocol, 0xffff],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > max)
        throw bad("writePcap", `record ${i}: ${name} ${String(v)} is out of range 0..${max}`);
    }
    total += 16 + COOKED + r.data.length;
  }
  const out = new Uint8Array(total);
  put32(out, 0, MAGIC, true);
  put16(out, 4, 2, true);
  put16(out, 6, 4, true);
  // thiszone 0, sigfigs 0
  put32(out, 16, snaplen, true);
  put32(out, 20, LINKTYPE_NETLINK, true);
  let off = 24;
  for (const r of records) {
    const len = COOKED + r.data.length;
    put32(out, off, r.seconds ?? 0, true);
    put32(out, off + 4, r.micros ?? 0, true);
    put32(out, off + 8, len, true);
    put32(out, off + 12, len, true);
    off += 16;
    put16(out, off, r.pkttype ?? PACKET_HOST, false);
    put16(out, off + 2, ARPHRD_NETLINK, false);
    // address length 0 and 8 address bytes: zero
    put16(out, off + 14, r.protocol, false);
    out.set(r.data, off + COOKED);
    off += len;
  }
  return out;
}

/**
 * Reads a pcap file of netlink datagrams (either byte order, microsecond or nanosecond timestamps).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a file that is not pcap or not LINKTYPE_NETLINK, EBADMSG
 * (naming the offset) for a truncated record or cooked header
 */
export function readPcap(bytes: Uint8Array): Pcap {
  if (!(bytes instanceof Uint8Array)) throw bad("readPcap", `${String(bytes)} is not a Uint8Array`);
  if (bytes.length < 24) throw bad("readPcap", `${bytes.length} bytes are too short for a pcap header (24)`);
  const magicLe = get32(bytes, 0, true);
  let le: boolean;
  let nanos = false;
  if (magicLe === MAGIC || magicLe === 0xa1b23c4d) {
    le = true;
    nanos = magicLe === 0xa1b23c4d;
  } else if (get32(bytes, 0, false) === MAGIC || get32(bytes, 0, false) === 0xa1b23c4d) {
    le = false;
    nanos = get32(bytes, 0, false) === 0xa1b23c4d;
  } else {
    throw bad("readPcap", `magic 0x${magicLe.toString(16)} is not pcap's (pcapng is not supported)`);
  }
  const linktype = get32(bytes, 20, le) & 0x0fffffff;
  if (linktype !== LINKTYPE_NETLINK)
    throw bad("readPcap", `link type ${linktype} is not LINKTYPE_NETLINK (253)`);
  const snaplen = get32(bytes, 16, le);
  const records: PcapRecord[] = [];
  let off = 24;
  while (off < bytes.length) {
    if (bytes.length - off < 16) {
      throw new KernelError(
        "EBADMSG",
        `record header at offset ${off} is cut (${bytes.length - off} of 16 bytes)`,
        { op: "readPcap" },
      );
    }
    const incl = get32(bytes, off + 8, le);
    const orig = get32(bytes, off + 12, le);
    const sub = get32(bytes, off + 4, le);
    if (incl > bytes.length - off - 16) {
      throw new KernelError(
        "EBADMSG",
        `record at offset ${off}: incl_len ${incl} runs past the end of the file`,
        { op: "readPcap" },
      );
    }
    if (incl < COOKED) {
      throw new KernelError(
        "EBADMSG",
        `record at offset ${off}: ${incl} bytes are too short for the cooked header (16)`,
        { op: "readPcap" },
      );
    }
    const rec = bytes.subarray(off + 16, off + 16 + incl);
    if (get16(rec, 2, false) !== ARPHRD_NETLINK) {
      throw new KernelError(
        "EBADMSG",
        `record at offset ${off}: hardware type ${get16(rec, 2, false)} is not ARPHRD_NETLINK (824)`,
        {
          op: "readPcap",
        },
      );
    }
    records.push({
      seconds: get32(bytes, off, le),
      micros: nanos ? Math.floor(sub / 1000) : sub,
      pkttype: get16(rec, 0, false),
      protocol: get16(rec, 14, false),
      data: rec.subarray(COOKED),
      origLen: Math.max(orig - COOKED, incl - COOKED),
    });
    off += 16 + incl;
  }
  return { snaplen, records };
}
