// A lossless, schema-free attribute tree: what a capture holds, kept so that encoding it again gives the
// same bytes. Nests are descended only where NLA_F_NESTED says so and the children tile the payload exactly.

import type { ByteOrder } from "@kbridge/uapi";
import { get32 } from "@kbridge/uapi";
import { NLMSG_ALIGN } from "./align.js";
import { type AttrOptions, NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK, parseAttrs } from "./nlattr.js";
import {
  familyHeaderLength,
  NLM_F,
  NLMSG_DONE,
  NLMSG_ERROR,
  type NlMessage,
  parseDatagram,
} from "./nlmsg.js";
import { NlWriter } from "./writer.js";

/** An attribute of a raw tree: a leaf with its payload bytes, or a nest with its children. */
export type RawAttr =
  | {
      /** `nla_type` as found, flag bits included. */
      readonly rawType: number;
      /** The payload bytes (a view of the parsed buffer). */
      readonly payload: Uint8Array;
    }
  | {
      /** `nla_type` as found, NLA_F_NESTED included. */
      readonly rawType: number;
      /** The attributes inside the nest. */
      readonly children: readonly RawAttr[];
    };

// Whether a flagged nest's payload is exactly a sequence of attributes, each padded, with nothing left over.
function tiles(payload: Uint8Array, options: AttrOptions | undefined): RawAttr[] | undefined {
  try {
    const kids = parseAttrs(payload, 0, payload.length, { ...options, strictTrailing: true });
    let end = 0;
    for (const k of kids) end = k.offset + 4 + k.payload.length + ((4 - (k.payload.length & 3)) & 3);
    if (end !== payload.length && !(kids.length === 0 && payload.length === 0)) return undefined;
    // Padding inside the nest must be zero, or re-encoding would not reproduce it.
    for (const k of kids) {
      const padEnd = k.offset + 4 + k.payload.length + ((4 - (k.payload.length & 3)) & 3);
      for (let i = k.offset + 4 + k.payload.length; i < padEnd; i++) if (payload[i] !== 0) return undefined;
    }
    return kids.map((k) => toRaw(k.rawType, k.payload, options));
  } catch {
    return undefined;
  }
}

function toRaw(rawType: number, payload: Uint8Array, options: AttrOptions | undefined): RawAttr {
  const nestedOnly = (rawType & (NLA_F_NESTED | NLA_F_NET_BYTEORDER)) === NLA_F_NESTED;
  if (nestedOnly) {
    const children = tiles(payload, options);
    if (children !== undefined) return { rawType, children };
  }
  return { rawType, payload };
}

/**
 * Decodes the attributes of `buf[start, end)` into a raw tree: every attribute with its exact `nla_type`,
 * nests (NLA_F_NESTED) as children when their payload is a clean attribute stream, everything else as bytes.
 * @throws {@link NetlinkParseError} as {@link parseAttrs} does for the top level
 */
export function decodeRawAttrs(
  buf: Uint8Array,
  start = 0,
  end = buf?.length,
  options?: AttrOptions,
): RawAttr[] {
  return parseAttrs(buf, start, end, options).map((a) => toRaw(a.rawType, a.payload, options));
}

/** Writes a raw tree with a writer; the bytes equal those it was decoded from when their padding was zero. */
export function encodeRawAttrs(w: NlWriter, attrs: readonly RawAttr[]): void {
  for (const a of attrs) {
    if ("children" in a) {
      const nest = w.nestStart(a.rawType & NLA_TYPE_MASK, (a.rawType & NLA_F_NESTED) !== 0);
      encodeRawAttrs(w, a.children);
      w.nestEnd(nest);
    } else {
      w.putAttr(a.rawType, a.payload);
    }
  }
}

/** A whole message kept losslessly: its header fields, the bytes before its attributes, and the attributes. */
export interface RawMessage {
  /** `nlmsg_type`. */
  readonly type: number;
  /** `nlmsg_flags`. */
  readonly flags: number;
  /** `nlmsg_seq`. */
  readonly seq: number;
  /** `nlmsg_pid`. */
  readonly pid: number;
  /** The family header (or nlmsgerr with the echoed request, or DONE's error), kept as bytes. */
  readonly fixed: Uint8Array;
  /** The attributes after it. */
  readonly attrs: readonly RawAttr[];
}

/** Where the attributes of a message start, after its family header, or its nlmsgerr and echoed request. */
function fixedLength(m: NlMessage, protocol: number, le: boolean): number {
  const p = m.payload;
  if (m.type === NLMSG_DONE) return Math.min(4, p.length);
  if (m.type === NLMSG_ERROR) {
    if (p.length < 20) return p.length;
    const capped = (m.flags & NLM_F.CAPPED) !== 0 || get32(p, 0, le) === 0;
    return capped ? 20 : Math.min(p.length, 4 + NLMSG_ALIGN(get32(p, 4, le)));
  }
  const hdr = familyHeaderLength(protocol, m.type);
  return Math.min(p.length, hdr + ((4 - (hdr & 3)) & 3));
}

/**
 * Decodes every message of a datagram into {@link RawMessage}s: family headers by `protocol` (0 rtnetlink,
 * 16 genetlink; others have none), acks and DONE by their own layout. Encoding them with
 * {@link encodeRawMessages} gives the datagram back, byte for byte, for what the kernel writes.
 * @throws {@link NetlinkParseError} for a malformed datagram (attributes that are not a clean stream stay bytes)
 */
export function decodeRawMessages(
  datagram: Uint8Array,
  protocol: number,
  options?: AttrOptions,
): RawMessage[] {
  const le = (options?.byteOrder ?? "little") === "little";
  return parseDatagram(datagram, options).map((m) => {
    const fixed = fixedLength(m, protocol, le);
    let attrs: RawAttr[];
    try {
      attrs = decodeRawAttrs(m.payload, fixed, m.payload.length, { ...options, strictTrailing: true });
    } catch {
      // Not an attribute stream after all: keep everything as bytes.
      return { type: m.type, flags: m.flags, seq: m.seq, pid: m.pid, fixed: m.payload, attrs: [] };
    }
    return {
      type: m.type,
      flags: m.flags,
      seq: m.seq,
      pid: m.pid,
      fixed: m.payload.subarray(0, fixed),
      attrs,
    };
  });
}

/** Encodes messages decoded by {@link decodeRawMessages} (or built by hand) into one datagram. */
export function encodeRawMessages(
  messages: readonly RawMessage[],
  options?: { byteOrder?: ByteOrder },
): Uint8Array {
  const w = new NlWriter({ byteOrder: options?.byteOrder });
  for (const m of messages) {
    w.beginMessage({ type: m.type, flags: m.flags, seq: m.seq, pid: m.pid });
    w.putStruct(m.fixed);
    encodeRawAttrs(w, m.attrs);
    w.endMessage();
  }
  return w.finish();
}
