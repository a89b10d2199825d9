// Acknowledgements and errors: NLMSG_ERROR (struct nlmsgerr, with or without the echoed request, with the
// extended-ack TLVs of include/uapi/linux/netlink.h) and NLMSG_DONE's error, decoded and built byte for byte
// as net/netlink/af_netlink.c netlink_ack() and netlink_dump_done() write them.

import {
  type ByteOrder,
  type ErrnoCode,
  errnoName,
  get32,
  isErrValue,
  KernelError,
  utf8Decode,
  utf8Encode,
} from "@kbridge/uapi";
import { NLMSG_ALIGN, NLMSG_HDRLEN } from "./align.js";
import { NetlinkParseError } from "./errors.js";
import { NLA_F_NESTED, parseAttrs } from "./nlattr.js";
import { NLM_F, NLMSG_DONE, NLMSG_ERROR, type NlMessage, type NlMsgHdr, readNlmsghdr } from "./nlmsg.js";
import { decodeRawAttrs, encodeRawAttrs, type RawAttr } from "./rawtree.js";
import { NlWriter } from "./writer.js";

/** `NLMSGERR_ATTR_*`: the extended-ack TLVs after `struct nlmsgerr`. */
export const NLMSGERR_ATTR = Object.freeze({
  /** 1: a NUL-terminated message for humans. */
  MSG: 1,
  /** 2: u32, offset of the offending attribute from the start of the request's nlmsghdr. */
  OFFS: 2,
  /** 3: binary cookie (at most 8 bytes since 6.16, 20 before); may come with success. */
  COOKIE: 3,
  /** 4: nested NL_POLICY_TYPE_ATTR_* describing the policy the attribute failed. */
  POLICY: 4,
  /** 5: u32, type of a missing required attribute. */
  MISS_TYPE: 5,
  /** 6: u32, offset of the nest that lacks the attribute. */
  MISS_NEST: 6,
});

/** The extended ack of an NLMSG_ERROR or NLMSG_DONE. */
export interface ExtAck {
  /** NLMSGERR_ATTR_MSG, e.g. `'Attribute failed policy validation'`. */
  readonly msg?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the bad attribute from the start of the request (its nlmsghdr). */
  readonly offs?: number;
  /** NLMSGERR_ATTR_COOKIE. */
  readonly cookie?: Uint8Array;
  /** NLMSGERR_ATTR_POLICY: the attributes inside the nest (NL_POLICY_TYPE_ATTR_*), raw. */
  readonly policy?: readonly RawAttr[];
  /** NLMSGERR_ATTR_MISS_TYPE. */
  readonly missType?: number;
  /** NLMSGERR_ATTR_MISS_NEST. */
  readonly missNest?: number;
  /** TLVs this version does not know, kept so nothing is lost. */
  readonly unknown: readonly RawAttr[];
}

/** A decoded NLMSG_ERROR: an ack (error 0) or an error, with what the kernel echoed and explained. */
export interface NlAck {
  /** 0 for an ack, else the negative errno (`-34`). */
  readonly error: number;
  /** The errno's name (`'ERANGE'`), or undefined for an ack. */
  readonly code: ErrnoCode | undefined;
  /** The request's header as the kernel echoed it (its original nlmsg_len included). */
  readonly request: NlMsgHdr;
  /** The request's payload, echoed unless capped (NETLINK_CAP_ACK) or a success. */
  readonly requestPayload: Uint8Array | undefined;
  /** NLM_F_CAPPED: the payload was not echoed. */
  readonly capped: boolean;
  /** The extended ack, when NLM_F_ACK_TLVS is set. */
  readonly extack: ExtAck | undefined;
}

/** A decoded NLMSG_DONE: the dump's final error (0 when it completed) and its extended ack. */
export interface NlDone {
  /** 0, or the negative errno the dump ended with (npm `netlink` silently drops it). */
  readonly error: number;
  /** The errno's name, or undefined. */
  readonly code: ErrnoCode | undefined;
  /** The extended ack, when NLM_F_ACK_TLVS is set. */
  readonly extack: ExtAck | undefined;
}

function parseExtAck(buf: Uint8Array, start: number, le: boolean): ExtAck {
  const byteOrder: ByteOrder = le ? "little" : "big";
  const out: {
    msg?: string;
    offs?: number;
    cookie?: Uint8Array;
    policy?: readonly RawAttr[];
    missType?: number;
    missNest?: number;
    unknown: RawAttr[];
  } = { unknown: [] };
  for (const a of parseAttrs(buf, start, buf.length, { byteOrder })) {
    const u32 = () => {
      if (a.payload.length !== 4) {
        throw new NetlinkParseError(
          "EBADMSG",
          "nlmsgerr",
          a.offset,
          "nla_len",
          a.payload.length + 4,
          "ext-ack u32 needs 4 bytes",
        );
      }
      return get32(a.payload, 0, le);
    };
    switch (a.type) {
      case NLMSGERR_ATTR.MSG: {
        const nul = a.payload.indexOf(0);
        out.msg = utf8Decode(a.payload, 0, nul < 0 ? a.payload.length : nul);
        break;
      }
      case NLMSGERR_ATTR.OFFS:
        out.offs = u32();
        break;
      case NLMSGERR_ATTR.COOKIE:
        out.cookie = a.payload.slice();
        break;
      case NLMSGERR_ATTR.POLICY:
        out.policy = decodeRawAttrs(a.payload, 0, a.payload.length, { byteOrder });
        break;
      case NLMSGERR_ATTR.MISS_TYPE:
        out.missType = u32();
        break;
      case NLMSGERR_ATTR.MISS_NEST:
        out.missNest = u32();
        break;
      default:
        out.unknown.push({ rawType: a.rawType, payload: a.payload });
    }
  }
  return out;
}

function le(options: { byteOrder?: ByteOrder } | undefined): boolean {
  return (options?.byteOrder ?? "little") === "little";
}

/**
 * Decodes an NLMSG_ERROR message. The request's payload is echoed only for an error without NLM_F_CAPPED;
 * the TLVs follow it (or the 16-byte echoed header) when NLM_F_ACK_TLVS is set.
 * @throws {@link NetlinkParseError} EBADMSG when the message is too short for what its flags promise;
 * {@link @kbridge/uapi!KernelError} EINVAL when it is not an NLMSG_ERROR
 */
export function decodeAck(msg: NlMessage, options?: { byteOrder?: ByteOrder }): NlAck {
  if (msg?.type !== NLMSG_ERROR) {
    throw new KernelError("EINVAL", `message type ${String(msg?.type)} is not NLMSG_ERROR (2)`, {
      op: "decodeAck",
    });
  }
  const little = le(options);
  const p = msg.payload;
  if (p.length < 20) {
    throw new NetlinkParseError(
      "EBADMSG",
      "decodeAck",
      msg.offset,
      "nlmsg_len",
      msg.len,
      "an nlmsgerr needs 20 bytes of payload",
    );
  }
  const error = get32(p, 0, little) | 0;
  if (error > 0 || (error < 0 && !isErrValue(error))) {
    throw new NetlinkParseError(
      "EBADMSG",
      "decodeAck",
      msg.offset + 16,
      "error",
      error,
      "is neither 0 nor a negative errno",
    );
  }
  const request = readNlmsghdr(p, 4, { byteOrder: little ? "little" : "big" });
  const capped = (msg.flags & NLM_F.CAPPED) !== 0 || error === 0;
  let tlvStart = 20;
  let requestPayload: Uint8Array | undefined;
  if (!capped) {
    const len = request.len - NLMSG_HDRLEN;
    if (len < 0 || 20 + len > p.length) {
      throw new NetlinkParseError(
        "EBADMSG",
        "decodeAck",
        msg.offset + 20,
        "nlmsg_len",
        request.len,
        "the echoed request does not fit in the ack",
      );
    }
    requestPayload = p.subarray(20, 20 + len);
    tlvStart = Math.min(p.length, 4 + NLMSG_ALIGN(request.len));
  }
  const extack = (msg.flags & NLM_F.ACK_TLVS) !== 0 ? parseExtAck(p, tlvStart, little) : undefined;
  return {
    error,
    code: error === 0 ? undefined : errnoName(-error),
    request,
    requestPayload,
    capped,
    extack,
  };
}

/**
 * Decodes an NLMSG_DONE message: its `int` error (a dump that failed ends with it, not with NLMSG_ERROR) and
 * the ext-ack TLVs after it. A DONE of only a header (old kernels) reads as error 0.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when it is not an NLMSG_DONE
 */
export function decodeDone(msg: NlMessage, options?: { byteOrder?: ByteOrder }): NlDone {
  if (msg?.type !== NLMSG_DONE) {
    throw new KernelError("EINVAL", `message type ${String(msg?.type)} is not NLMSG_DONE (3)`, {
      op: "decodeDone",
    });
  }
  const little = le(options);
  const p = msg.payload;
  if (p.length < 4) return { error: 0, code: undefined, extack: undefined };
  const error = get32(p, 0, little) | 0;
  const extack = (msg.flags & NLM_F.ACK_TLVS) !== 0 ? parseExtAck(p, 4, little) : undefined;
  return { error, code: error === 0 || !isErrValue(error) ? undefined : errnoName(-error), extack };
}

/** What {@link buildAck} needs to know about the requester and the outcome. */
export interface AckInit {
  /** 0 for success, else a negative errno (`-22`). */
  readonly error: number;
  /** The requester's port id (the ack's nlmsg_pid). */
  readonly portid: number;
  /** The requester set NETLINK_CAP_ACK: never echo the request's payload. */
  readonly capAck?: boolean;
  /** The requester set NETLINK_EXT_ACK: TLVs are written; without it, `extack` is ignored. */
  readonly extAck?: boolean;
  /** The extended ack (the kernel's `struct netlink_ext_ack`). */
  readonly extack?: Omit<ExtAck, "unknown">;
  /** Byte order, `'little'` by default. */
  readonly byteOrder?: ByteOrder;
}

/**
 * Builds the NLMSG_ERROR the kernel sends for `request` (one whole message). Models
 * net/netlink/af_netlink.c `netlink_ack()`: the request's payload is echoed for an error unless
 * `capAck` (else NLM_F_CAPPED); with `extAck`, MSG and COOKIE are written when present, and for an error
 * also OFFS (only if it points into the request), POLICY (a nest with NLA_F_NESTED; an empty one is not
 * written), MISS_TYPE (when not 0) and MISS_NEST (only if inside the request), in that order. NLM_F_ACK_TLVS is
 * set when the extack holds any of them, as `netlink_ack_tlv_len()` counts, even if none ends up written.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a request that is not one whole message or an error that is no errno
 */
export function buildAck(request: Uint8Array, init: AckInit): Uint8Array {
  const byteOrder = init?.byteOrder ?? "little";
  const req = readNlmsghdr(request, 0, { byteOrder });
  if (req.len !== request.length && NLMSG_ALIGN(req.len) !== request.length) {
    throw new KernelError(
      "EINVAL",
      `request nlmsg_len ${req.len} does not match its ${request.length} bytes`,
      { op: "netlink_ack" },
    );
  }
  const { error, portid } = init;
  if (!Number.isInteger(error) || error > 0 || (error < 0 && !isErrValue(error))) {
    throw new KernelError("EINVAL", `error ${String(error)} is neither 0 nor a negative errno`, {
      op: "netlink_ack",
    });
  }
  const echo = error !== 0 && init.capAck !== true;
  const x = init.extAck === true ? init.extack : undefined;
  const inside = (off: number | undefined) => off !== undefined && off >= NLMSG_HDRLEN && off < req.len;
  const tlvs: [number, Uint8Array | readonly RawAttr[]][] = [];
  const u32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, byteOrder === "little");
    return b;
  };
  if (x?.msg !== undefined) {
    const s = utf8Encode(x.msg);
    const b = new Uint8Array(s.length + 1);
    b.set(s);
    tlvs.push([NLMSGERR_ATTR.MSG, b]);
  }
  if (x?.cookie !== undefined && x.cookie.length > 0) tlvs.push([NLMSGERR_ATTR.COOKIE, x.cookie]);
  // netlink_ack_tlv_len() decides NLM_F_ACK_TLVS from what the extack holds, before netlink_ack_tlv_fill()
  // drops an OFFS/MISS_NEST outside the request or a policy the dump writer skips: the flag can come alone.
  let announced = tlvs.length > 0;
  if (error !== 0 && x !== undefined) {
    if (x.offs !== undefined) {
      announced = true;
      if (inside(x.offs)) tlvs.push([NLMSGERR_ATTR.OFFS, u32(x.offs)]);
    }
    if (x.policy !== undefined) {
      announced = true;
      // An empty policy stands for one the dump writer skips (NLA_UNSPEC, NLA_REJECT, BE16/BE32): no TLV.
      if (x.policy.length > 0) tlvs.push([NLMSGERR_ATTR.POLICY | NLA_F_NESTED, x.policy]);
    }
    if (x.missType !== undefined && x.missType !== 0) {
      announced = true;
      tlvs.push([NLMSGERR_ATTR.MISS_TYPE, u32(x.missType)]);
    }
    if (x.missNest !== undefined) {
      announced = true;
      if (inside(x.missNest)) tlvs.push([NLMSGERR_ATTR.MISS_NEST, u32(x.missNest)]);
    }
  }
  let flags = echo ? 0 : NLM_F.CAPPED;
  if (announced) flags |= NLM_F.ACK_TLVS;
  const w = new NlWriter({ byteOrder, capacity: 64 + request.length });
  w.beginMessage({ type: NLMSG_ERROR, flags, seq: req.seq, pid: portid });
  const head = new Uint8Array(4);
  new DataView(head.buffer).setInt32(0, error, byteOrder === "little");
  w.putStruct(concat(head, echo ? request.subarray(0, req.len) : request.subarray(0, NLMSG_HDRLEN)));
  for (const [type, value] of tlvs) {
    if (value instanceof Uint8Array) w.putAttr(type, value);
    else encodeRawAttrs(w, [{ rawType: type, children: value }]);
  }
  w.endMessage();
  return w.finish();
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** One step of an attribute path: the attribute's type and its offset from the start of the request. */
export interface AttrPathStep {
  /** The attribute's type (without flag bits). */
  readonly type: number;
  /** Offset of its header from the start of the request's nlmsghdr (what NLMSGERR_ATTR_OFFS counts). */
  readonly offset: number;
}

/**
 * Maps an NLMSGERR_ATTR_OFFS back to the attribute it names in the original request: the path from the
 * top-level attribute down through nests to the one whose header starts at `offs` (e.g. `[{type: 4,
 * offset: 32}]`, IFLA_MTU, for an RTM_SETLINK with a 16-byte ifinfomsg). Nests are followed whether or not
 * NLA_F_NESTED is set. Returns `[]` when no attribute starts there.
 * @param request - the request message as sent (header included)
 * @param headerLength - the family header after nlmsghdr (16 for ifinfomsg, 4 for genlmsghdr)
 */
export function attrPathAt(
  request: Uint8Array,
  offs: number,
  headerLength: number,
  options?: { byteOrder?: ByteOrder },
): AttrPathStep[] {
  const byteOrder = options?.byteOrder ?? "little";
  const req = readNlmsghdr(request, 0, { byteOrder });
  if (!Number.isInteger(offs) || offs < 0) {
    throw new KernelError("EINVAL", `offset ${String(offs)} is not a non-negative integer`, {
      op: "attrPathAt",
    });
  }
  const end = Math.min(req.len, request.length);
  const start = NLMSG_HDRLEN + NLMSG_ALIGN(headerLength);
  if (start > end) return [];
  const walk = (from: number, to: number): AttrPathStep[] => {
    let attrs: ReturnType<typeof parseAttrs>;
    try {
      attrs = parseAttrs(request, from, to, { byteOrder });
    } catch {
      return [];
    }
    for (const a of attrs) {
      const aEnd = a.offset + 4 + a.payload.length;
      if (a.offset === offs) return [{ type: a.type, offset: a.offset }];
      if (offs > a.offset && offs < aEnd) {
        const inner = walk(a.offset + 4, aEnd);
        return inner.length > 0 ? [{ type: a.type, offset: a.offset }, ...inner] : [];
      }
    }
    return [];
  };
  return walk(start, end);
}
