// Every byte of a datagram labelled with what it is — nlmsghdr fields, family header, nlattr headers,
// payloads, padding, nlmsgerr and its ext-ack — as ranges, as an annotated hexdump (the commented byte arrays
// of rust-netlink's tests, generated) and as a JSON-ready description.

import { type ByteOrder, errnoName, get16, get32, KernelError } from "@kbridge/uapi";
import { decodeAck, decodeDone } from "./ack.js";
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK } from "./nlattr.js";
import {
  type FlagContext,
  familyHeaderLength,
  NLM_F,
  NLMSG_DONE,
  NLMSG_ERROR,
  type NlMessage,
  nlmsgFlagNames,
  parseDatagram,
} from "./nlmsg.js";

/** One labelled byte range. */
export interface Annotation {
  /** Offset in the datagram. */
  readonly offset: number;
  /** Number of bytes. */
  readonly length: number;
  /** What the bytes are, e.g. `'nlmsg_len = 76'`, `'nla_len = 8, nla_type = 1'`, `'payload'`, `'padding'`. */
  readonly label: string;
  /** Nesting depth: 0 for the message header, 1 for top-level attributes, 2 inside a nest … */
  readonly depth: number;
}

/** How to read a datagram's messages. */
export interface AnnotateOptions {
  /** The netlink protocol: 0 (route) and 16 (generic) give the family header sizes; others take `headerLength`. */
  readonly protocol?: number;
  /** The family header size of a message (overrides what `protocol` implies). */
  readonly headerLength?: (msg: NlMessage) => number;
  /** Byte order; `'little'` by default. */
  readonly byteOrder?: ByteOrder;
}

function attrs(
  out: Annotation[],
  b: Uint8Array,
  start: number,
  end: number,
  depth: number,
  le: boolean,
): void {
  let off = start;
  while (end - off >= 4) {
    const len = get16(b, off, le);
    const raw = get16(b, off + 2, le);
    if (len < 4 || len > end - off) {
      out.push({ offset: off, length: end - off, label: `malformed attribute (nla_len ${len})`, depth });
      return;
    }
    const flags = [
      raw & NLA_F_NESTED ? "NESTED" : "",
      raw & NLA_F_NET_BYTEORDER ? "NET_BYTEORDER" : "",
    ].filter(Boolean);
    out.push({
      offset: off,
      length: 4,
      label: `nla_len = ${len}, nla_type = ${raw & NLA_TYPE_MASK}${flags.length ? ` (${flags.join("|")})` : ""}`,
      depth,
    });
    const payload = len - 4;
    if (payload > 0) {
      if (raw & NLA_F_NESTED) attrs(out, b, off + 4, off + len, depth + 1, le);
      else
        out.push({
          offset: off + 4,
          length: payload,
          label: describePayload(b.subarray(off + 4, off + len), le),
          depth,
        });
    }
    const pad = (4 - (len & 3)) & 3;
    if (pad > 0 && off + len + pad <= end)
      out.push({ offset: off + len, length: pad, label: "padding", depth });
    off += len + pad;
  }
  if (end > off) out.push({ offset: off, length: end - off, label: "trailing bytes", depth });
}

function describePayload(p: Uint8Array, le: boolean): string {
  const printable =
    p.length > 1 && p[p.length - 1] === 0 && p.subarray(0, -1).every((c) => c >= 0x20 && c < 0x7f);
  if (printable) return `payload "${String.fromCharCode(...p.subarray(0, -1))}"`;
  if (p.length === 4) return `payload ${get32(p, 0, le)}`;
  if (p.length === 2) return `payload ${get16(p, 0, le)}`;
  if (p.length === 1) return `payload ${p[0]}`;
  return `payload (${p.length} bytes)`;
}

function context(m: NlMessage, protocol: number | undefined): FlagContext {
  if (m.type === NLMSG_ERROR) return "ack";
  if (protocol === 0 && m.type >= 16) return (["new", "del", "get", "other"] as const)[(m.type - 16) & 3]!;
  if ((m.flags & NLM_F.REQUEST) !== 0 && (m.flags & NLM_F.DUMP) === NLM_F.DUMP) return "get";
  return "other";
}

/**
 * Labels every byte of a datagram. Malformed attributes are labelled, not thrown; a malformed message header
 * throws as {@link parseDatagram} does.
 */
export function annotate(datagram: Uint8Array, options: AnnotateOptions = {}): Annotation[] {
  const le = (options.byteOrder ?? "little") === "little";
  const out: Annotation[] = [];
  for (const m of parseDatagram(datagram, { byteOrder: options.byteOrder })) {
    const o = m.offset;
    const flags = nlmsgFlagNames(m.flags, context(m, options.protocol));
    out.push(
      { offset: o, length: 4, label: `nlmsg_len = ${m.len}`, depth: 0 },
      { offset: o + 4, length: 2, label: `nlmsg_type = ${m.type}${typeName(m.type)}`, depth: 0 },
      {
        offset: o + 6,
        length: 2,
        label: `nlmsg_flags = 0x${m.flags.toString(16)}${flags.length ? ` (${flags.join("|")})` : ""}`,
        depth: 0,
      },
      { offset: o + 8, length: 4, label: `nlmsg_seq = ${m.seq}`, depth: 0 },
      { offset: o + 12, length: 4, label: `nlmsg_pid = ${m.pid}`, depth: 0 },
    );
    const p = o + 16;
    const end = o + m.len;
    if (m.type === NLMSG_ERROR && m.payload.length >= 20) {
      const error = get32(datagram, p, le) | 0;
      out.push({
        offset: p,
        length: 4,
        label: `error = ${error}${error ? ` (${errnoName(-error) ?? "?"})` : " (ack)"}`,
        depth: 1,
      });
      out.push({ offset: p + 4, length: 16, label: "the request's nlmsghdr", depth: 1 });
      const ack = decodeAck(m, { byteOrder: options.byteOrder });
      let tlv = p + 20;
      if (ack.requestPayload !== undefined && ack.requestPayload.length > 0) {
        out.push({
          offset: p + 20,
          length: ack.requestPayload.length,
          label: "the request's payload",
          depth: 1,
        });
        tlv = p + 4 + ((ack.request.len + 3) & ~3);
      }
      if (tlv < end) attrs(out, datagram, tlv, end, 1, le);
    } else if (m.type === NLMSG_DONE && m.payload.length >= 4) {
      const done = decodeDone(m, { byteOrder: options.byteOrder });
      out.push({
        offset: p,
        length: 4,
        label: `error = ${done.error}${done.code ? ` (${done.code})` : ""}`,
        depth: 1,
      });
      if (p + 4 < end) attrs(out, datagram, p + 4, end, 1, le);
    } else {
      const hdr = Math.min(
        options.headerLength?.(m) ?? familyHeaderLength(options.protocol ?? -1, m.type),
        m.payload.length,
      );
      if (!Number.isInteger(hdr) || hdr < 0) {
        throw new KernelError("EINVAL", `family header length ${String(hdr)} is not a size`, {
          op: "annotate",
        });
      }
      if (hdr > 0) out.push({ offset: p, length: hdr, label: `family header (${hdr} bytes)`, depth: 1 });
      const pad = (4 - (hdr & 3)) & 3;
      if (pad > 0 && p + hdr + pad <= end)
        out.push({ offset: p + hdr, length: pad, label: "padding", depth: 1 });
      attrs(out, datagram, Math.min(end, p + hdr + pad), end, 1, le);
    }
    const aligned = o + ((m.len + 3) & ~3);
    if (aligned > end && aligned <= datagram.length)
      out.push({ offset: end, length: aligned - end, label: "padding", depth: 0 });
  }
  return out;
}

function typeName(type: number): string {
  return type === 1
    ? " (NLMSG_NOOP)"
    : type === 2
      ? " (NLMSG_ERROR)"
      : type === 3
        ? " (NLMSG_DONE)"
        : type === 4
          ? " (NLMSG_OVERRUN)"
          : "";
}

/**
 * An annotated hexdump: one line per labelled range (long payloads wrap at 16 bytes), offset, bytes and label,
 * indented by nesting depth.
 *
 * @example
 * ```text
 * 000000  4c 00 00 00                                       nlmsg_len = 76
 * 000004  14 00                                             nlmsg_type = 20
 * ```
 */
export function hexdump(datagram: Uint8Array, options: AnnotateOptions = {}): string {
  const lines: string[] = [];
  for (const a of annotate(datagram, options)) {
    for (let i = 0; i < a.length; i += 16) {
      const chunk = datagram.subarray(a.offset + i, a.offset + Math.min(a.length, i + 16));
      const hex = Array.from(chunk, (x) => x.toString(16).padStart(2, "0")).join(" ");
      const label = i === 0 ? `${"  ".repeat(a.depth)}${a.label}` : "";
      lines.push(`${(a.offset + i).toString(16).padStart(6, "0")}  ${hex.padEnd(48)}  ${label}`.trimEnd());
    }
  }
  return lines.join("\n");
}
