// Netlink messages: the constants of include/uapi/linux/netlink.h, the 16-byte nlmsghdr read and written in
// either byte order, and a datagram parser that splits what recvmsg() returns into messages.

import type { ByteOrder } from "@kbridge/uapi";
import { get16, get32, KernelError, put16, put32 } from "@kbridge/uapi";
import { NLMSG_HDRLEN } from "./align.js";
import { NetlinkParseError } from "./errors.js";

/** `NLMSG_NOOP` (1): nothing; to be ignored. */
export const NLMSG_NOOP = 1;
/** `NLMSG_ERROR` (2): an error or, with error 0, an acknowledgement; payload `struct nlmsgerr`. */
export const NLMSG_ERROR = 2;
/** `NLMSG_DONE` (3): ends a multipart (dump) reply; payload an `int` error, maybe ext-ack TLVs. */
export const NLMSG_DONE = 3;
/** `NLMSG_OVERRUN` (4): data lost (reserved; Linux signals overruns with ENOBUFS instead). */
export const NLMSG_OVERRUN = 4;
/** `NLMSG_MIN_TYPE` (0x10): types below it are reserved control messages. */
export const NLMSG_MIN_TYPE = 0x10;

/**
 * The `NLM_F_*` flags of `nlmsg_flags`. Bits 0x100, 0x200 and 0x400 mean different things by context:
 * ROOT/MATCH/ATOMIC on GET requests, REPLACE/EXCL/CREATE (and APPEND 0x800) on NEW requests,
 * NONREC/BULK on DEL requests, CAPPED/ACK_TLVS on NLMSG_ERROR acks. DUMP is ROOT|MATCH.
 */
export const NLM_F = Object.freeze({
  /** 0x01: a request; the kernel processes only messages with it. */
  REQUEST: 0x01,
  /** 0x02: part of a multipart reply, ended by NLMSG_DONE. */
  MULTI: 0x02,
  /** 0x04: reply with an ack (NLMSG_ERROR with error 0) on success. */
  ACK: 0x04,
  /** 0x08: echo the resulting notification to the requester. */
  ECHO: 0x08,
  /** 0x10: the dump was inconsistent (the data changed while it ran). */
  DUMP_INTR: 0x10,
  /** 0x20: the dump was filtered as requested. */
  DUMP_FILTERED: 0x20,
  /** 0x100 on GET: return the whole table. */
  ROOT: 0x100,
  /** 0x200 on GET: return all matching entries. */
  MATCH: 0x200,
  /** 0x400 on GET: an atomic snapshot. */
  ATOMIC: 0x400,
  /** 0x300 on GET: ROOT|MATCH, a dump (genetlink needs both bits, rtnetlink either). */
  DUMP: 0x300,
  /** 0x100 on NEW: replace an existing object. */
  REPLACE: 0x100,
  /** 0x200 on NEW: fail if the object exists. */
  EXCL: 0x200,
  /** 0x400 on NEW: create the object if it does not exist. */
  CREATE: 0x400,
  /** 0x800 on NEW: add to the end of the list. */
  APPEND: 0x800,
  /** 0x100 on DEL: do not delete recursively. */
  NONREC: 0x100,
  /** 0x200 on DEL: delete several objects. */
  BULK: 0x200,
  /** 0x100 on an ack: the request's payload was not echoed (NETLINK_CAP_ACK, or a success ack). */
  CAPPED: 0x100,
  /** 0x200 on an ack: extended-ack TLVs follow. */
  ACK_TLVS: 0x200,
});

/** Which meaning the context-dependent flag bits have: a GET/NEW/DEL request, an ack, or anything else. */
export type FlagContext = "get" | "new" | "del" | "ack" | "other";

const COMMON: readonly [number, string][] = [
  [0x01, "REQUEST"],
  [0x02, "MULTI"],
  [0x04, "ACK"],
  [0x08, "ECHO"],
  [0x10, "DUMP_INTR"],
  [0x20, "DUMP_FILTERED"],
];
const BY_CONTEXT: Record<FlagContext, readonly [number, string][]> = {
  get: [
    [0x300, "DUMP"],
    [0x100, "ROOT"],
    [0x200, "MATCH"],
    [0x400, "ATOMIC"],
  ],
  new: [
    [0x100, "REPLACE"],
    [0x200, "EXCL"],
    [0x400, "CREATE"],
    [0x800, "APPEND"],
  ],
  del: [
    [0x100, "NONREC"],
    [0x200, "BULK"],
  ],
  ack: [
    [0x100, "CAPPED"],
    [0x200, "ACK_TLVS"],
  ],
  other: [],
};

/**
 * Names the bits of `nlmsg_flags` as the context reads them: `nlmsgFlagNames(0x301, 'get')` is
 * `['REQUEST', 'DUMP']`, `nlmsgFlagNames(0x300, 'ack')` is `['CAPPED', 'ACK_TLVS']`. Bits without a name in
 * that context are listed in hex.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when `flags` is not a u16 or `context` is unknown
 */
export function nlmsgFlagNames(flags: number, context: FlagContext = "other"): string[] {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff) {
    throw new KernelError("EINVAL", `flags ${String(flags)} is not a u16`, { op: "nlmsgFlagNames" });
  }
  const table = BY_CONTEXT[context];
  if (table === undefined) {
    throw new KernelError("EINVAL", `flag context ${JSON.stringify(context)} is unknown`, {
      op: "nlmsgFlagNames",
    });
  }
  const names: string[] = [];
  let rest = flags;
  for (const [bits, name] of [...COMMON, ...table]) {
    if ((rest & bits) === bits) {
      names.push(name);
      rest &= ~bits;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names;
}

/** The fields of `struct nlmsghdr`. */
export interface NlMsgHdr {
  /** `nlmsg_len`: the message's length including this 16-byte header. */
  readonly len: number;
  /** `nlmsg_type`: a control type (< 0x10) or the family's message type (genetlink: the family id). */
  readonly type: number;
  /** `nlmsg_flags`: `NLM_F_*` bits. */
  readonly flags: number;
  /** `nlmsg_seq`: the sequence number, echoed in replies. */
  readonly seq: number;
  /** `nlmsg_pid`: the port id (sender's by convention; the requester's in kernel replies). */
  readonly pid: number;
}

/** One message of a datagram: its header, where it is, and its payload as a view of the datagram (no copy). */
export interface NlMessage extends NlMsgHdr {
  /** Offset of the header in the parsed buffer. */
  readonly offset: number;
  /** The payload after the header: `nlmsg_len - 16` bytes, a subarray of the datagram. */
  readonly payload: Uint8Array;
}

/** How to read headers: host byte order is little-endian on x86-64. */
export interface HeaderOptions {
  /** Byte order of `nlmsghdr`/`nlattr` fields (netlink uses host order); `'little'` by default. */
  readonly byteOrder?: ByteOrder;
}

function isLittle(options: HeaderOptions | undefined, op: string): boolean {
  const order = options?.byteOrder ?? "little";
  if (order !== "little" && order !== "big") {
    throw new KernelError("EINVAL", `byte order ${JSON.stringify(order)} is neither "little" nor "big"`, {
      op,
    });
  }
  return order === "little";
}

function checkBuffer(op: string, buf: unknown): Uint8Array {
  if (!(buf instanceof Uint8Array))
    throw new KernelError("EINVAL", `${String(buf)} is not a Uint8Array`, { op });
  return buf;
}

/**
 * Reads the `nlmsghdr` at `offset`.
 * @throws {@link NetlinkParseError} EBADMSG when fewer than 16 bytes remain
 */
export function readNlmsghdr(buf: Uint8Array, offset = 0, options?: HeaderOptions): NlMsgHdr {
  checkBuffer("readNlmsghdr", buf);
  const le = isLittle(options, "readNlmsghdr");
  if (!Number.isInteger(offset) || offset < 0 || offset + NLMSG_HDRLEN > buf.length) {
    throw new NetlinkParseError(
      "EBADMSG",
      "readNlmsghdr",
      offset,
      "nlmsghdr",
      `${Math.max(0, buf.length - offset)} bytes`,
      "a header needs 16 bytes",
    );
  }
  return {
    len: get32(buf, offset, le),
    type: get16(buf, offset + 4, le),
    flags: get16(buf, offset + 6, le),
    seq: get32(buf, offset + 8, le),
    pid: get32(buf, offset + 12, le),
  };
}

/** The fields of a header to write; `len` is required here (builders compute it for you). */
export type NlMsgHdrInit = NlMsgHdr;

/**
 * Writes a `nlmsghdr` at `offset`; every field is range-checked before a byte is written.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when a field does not fit or the buffer is too short
 */
export function writeNlmsghdr(
  buf: Uint8Array,
  offset: number,
  hdr: NlMsgHdrInit,
  options?: HeaderOptions,
): void {
  checkBuffer("writeNlmsghdr", buf);
  const le = isLittle(options, "writeNlmsghdr");
  if (!Number.isInteger(offset) || offset < 0 || offset + NLMSG_HDRLEN > buf.length) {
    throw new KernelError(
      "EINVAL",
      `a 16-byte header does not fit at offset ${offset} of ${buf.length} bytes`,
      {
        op: "writeNlmsghdr",
      },
    );
  }
  const fields: [keyof NlMsgHdr, number][] = [
    ["len", 0xffffffff],
    ["type", 0xffff],
    ["flags", 0xffff],
    ["seq", 0xffffffff],
    ["pid", 0xffffffff],
  ];
  for (const [name, max] of fields) {
    const v = hdr[name];
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new KernelError("EINVAL", `nlmsg_${name} ${String(v)} is out of range 0..${max}`, {
        op: "writeNlmsghdr",
      });
    }
  }
  put32(buf, offset, hdr.len, le);
  put16(buf, offset + 4, hdr.type, le);
  put16(buf, offset + 6, hdr.flags, le);
  put32(buf, offset + 8, hdr.seq, le);
  put32(buf, offset + 12, hdr.pid, le);
}

/**
 * Splits a datagram into its messages, as `NLMSG_OK`/`NLMSG_NEXT` walk it, checking every header first:
 * `nlmsg_len` below 16 or past the end of the datagram, a tail too short for a header, or non-zero bytes
 * after the last message are errors with their offset. Each message is stepped over by
 * `NLMSG_ALIGN(nlmsg_len)`; like the kernel (`netlink_rcv_skb`), the last message may end without its pad.
 *
 * Payloads are subarrays of `buf` (zero-copy); nothing is read past `buf.length`.
 *
 * @example
 * ```ts
 * for (const msg of parseDatagram(datagram)) {
 *   if (msg.type === NLMSG_DONE) break;
 *   console.log(msg.type, msg.payload.length);
 * }
 * ```
 * @throws {@link NetlinkParseError} EBADMSG naming the offset, field and value that are wrong
 */
export function parseDatagram(buf: Uint8Array, options?: HeaderOptions): NlMessage[] {
  checkBuffer("parseDatagram", buf);
  // A Node Buffer's subarray() builds another Buffer, several times slower than a Uint8Array's: view it plainly.
  if (buf.constructor !== Uint8Array) buf = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = isLittle(options, "parseDatagram");
  const out: NlMessage[] = [];
  const end = buf.length;
  let off = 0;
  while (off < end) {
    const remaining = end - off;
    if (remaining < NLMSG_HDRLEN) {
      for (let i = off; i < end; i++) {
        if (buf[i] !== 0) {
          throw new NetlinkParseError(
            "EBADMSG",
            "parseDatagram",
            off,
            "nlmsghdr",
            `${remaining} bytes`,
            "trailing bytes too short for a header",
          );
        }
      }
      break; // zero padding after the last message
    }
    const len = get32(buf, off, le);
    if (len < NLMSG_HDRLEN) {
      throw new NetlinkParseError(
        "EBADMSG",
        "parseDatagram",
        off,
        "nlmsg_len",
        len,
        "shorter than the 16-byte header",
      );
    }
    if (len > remaining) {
      throw new NetlinkParseError(
        "EBADMSG",
        "parseDatagram",
        off,
        "nlmsg_len",
        len,
        `runs past the end of the datagram (${remaining} bytes left)`,
      );
    }
    out.push({
      offset: off,
      len,
      type: get16(buf, off + 4, le),
      flags: get16(buf, off + 6, le),
      seq: get32(buf, off + 8, le),
      pid: get32(buf, off + 12, le),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += len + ((4 - (len & 3)) & 3);
  }
  return out;
}

/**
 * The family header of a message as the kernel's families define it: rtnetlink link 16 (ifinfomsg), address 8
 * (ifaddrmsg), route 12 (rtmsg), neighbour 12 (ndmsg), rule 12 (fib_rule_hdr); genetlink 4 (genlmsghdr).
 * Control messages have none (their payload is described on its own). Unknown types: 0.
 */
export function familyHeaderLength(protocol: number, type: number): number {
  if (type < 0x10) return 0;
  if (protocol === 16) return 4;
  if (protocol === 0) {
    const kind = (type - 16) >> 2; // RTM_* come in groups of four (NEW, DEL, GET, SET)
    return [16, 8, 12, 12, 12][kind] ?? 0;
  }
  return 0;
}
