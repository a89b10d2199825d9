// The netlink builders of include/net/netlink.h on an SkBuff, with the kernel's return conventions: the
// skb's tailroom is the only limit, nlmsg_put() returns NULL and nla_put() -EMSGSIZE when it runs out, and
// nothing is changed then.

import { type ByteOrder, get32, KernelError, put16, put32, utf8Encode } from "@kbridge/uapi";
import { NLA_HDRLEN, NLMSG_HDRLEN, nla_total_size, nlmsg_total_size } from "./align.js";
import { NLA_F_NESTED, NLA_TYPE_MASK } from "./nlattr.js";
import { SkBuff, type SkbSizes } from "./skbuff.js";

/** `-EMSGSIZE`, what `nla_put*()` return when the skb has no room (the skb is unchanged). */
export const EMSGSIZE = -90;

const pad4 = (n: number) => (4 - (n & 3)) & 3;

/** `nlmsg_new(payload)`: an skb with room for a message of `payload` bytes (`alloc_skb(nlmsg_total_size(payload))`). */
export function nlmsgNew(payload: number, sizes?: SkbSizes): SkBuff {
  return SkBuff.alloc(nlmsg_total_size(payload), sizes);
}

/**
 * `nlmsg_put()`: appends a header and a `payload`-byte area (its pad zeroed, the area itself not) and returns
 * the header's offset, or null without touching the skb when the tailroom is short of `nlmsg_total_size(payload)`.
 * `nlmsg_len` is `16 + payload` until {@link nlmsgEnd}.
 */
export function nlmsgPut(
  skb: SkBuff,
  portid: number,
  seq: number,
  type: number,
  payload: number,
  flags: number,
  byteOrder: ByteOrder = "little",
): number | null {
  for (const [n, v, max] of [
    ["portid", portid, 0xffffffff],
    ["seq", seq, 0xffffffff],
    ["type", type, 0xffff],
    ["payload", payload, 0x7fffffff],
    ["flags", flags, 0xffff],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max)
      throw new KernelError("EINVAL", `${n} ${String(v)} is out of range 0..${max}`, { op: "nlmsg_put" });
  }
  if (skb.tailroom < nlmsg_total_size(payload)) return null;
  const le = byteOrder === "little";
  const at = skb.put(nlmsg_total_size(payload));
  const b = skb.buffer;
  put32(b, at, NLMSG_HDRLEN + payload, le);
  put16(b, at + 4, type, le);
  put16(b, at + 6, flags, le);
  put32(b, at + 8, seq, le);
  put32(b, at + 12, portid, le);
  b.fill(0, at + NLMSG_HDRLEN + payload, at + nlmsg_total_size(payload));
  return at;
}

/** `nlmsg_end()`: sets `nlmsg_len` to everything from the header to the tail, attribute padding included. */
export function nlmsgEnd(skb: SkBuff, nlh: number, byteOrder: ByteOrder = "little"): void {
  if (!Number.isInteger(nlh) || nlh < skb.data || nlh + NLMSG_HDRLEN > skb.tail) {
    throw new KernelError("EINVAL", `no message header at offset ${String(nlh)} of skb#${skb.id}`, {
      op: "nlmsg_end",
    });
  }
  put32(skb.buffer, nlh, skb.tail - nlh, byteOrder === "little");
}

/**
 * `nlmsg_append()`: grows the current message's data by `NLMSG_ALIGN(size)` (the pad zeroed) and returns the
 * offset of the new area, or null without change when there is no room. It does not add a message; call
 * {@link nlmsgEnd} again.
 */
export function nlmsgAppend(skb: SkBuff, size: number): number | null {
  if (!Number.isInteger(size) || size < 0)
    throw new KernelError("EINVAL", `size ${String(size)} is not a byte count`, { op: "nlmsg_append" });
  const total = size + pad4(size);
  if (skb.tailroom < total) return null;
  const at = skb.put(total);
  skb.buffer.fill(0, at + size, at + total);
  return at;
}

/** `nlmsg_trim()` / `nlmsg_cancel()`: cuts the skb back to `mark` (an offset), dropping what was put after it. */
export function nlmsgTrim(skb: SkBuff, mark: number): void {
  if (!Number.isInteger(mark) || mark < skb.data || mark > skb.tail) {
    throw new KernelError("EINVAL", `mark ${String(mark)} is not inside skb#${skb.id}'s data`, {
      op: "nlmsg_trim",
    });
  }
  skb.trim(mark - skb.data);
}

/**
 * `nla_put()`: appends an attribute with a zeroed pad; returns 0, or {@link EMSGSIZE} (-90) with the skb
 * unchanged when the tailroom is short of `nla_total_size(len)`.
 */
export function nlaPut(skb: SkBuff, type: number, data: Uint8Array, byteOrder: ByteOrder = "little"): number {
  if (!Number.isInteger(type) || type < 0 || type > 0xffff)
    throw new KernelError("EINVAL", `nla_type ${String(type)} is not a u16`, { op: "nla_put" });
  if (!(data instanceof Uint8Array))
    throw new KernelError("EINVAL", `${String(data)} is not a Uint8Array`, { op: "nla_put" });
  if (data.length > 0xffff - NLA_HDRLEN) {
    throw new KernelError(
      "ERANGE",
      `attribute type ${type & NLA_TYPE_MASK}: ${data.length} bytes exceed what nla_len counts`,
      { op: "nla_put" },
    );
  }
  if (skb.tailroom < nla_total_size(data.length)) return EMSGSIZE;
  const le = byteOrder === "little";
  const at = skb.put(nla_total_size(data.length));
  const b = skb.buffer;
  put16(b, at, NLA_HDRLEN + data.length, le);
  put16(b, at + 2, type, le);
  b.set(data, at + NLA_HDRLEN);
  b.fill(0, at + NLA_HDRLEN + data.length, at + nla_total_size(data.length));
  return 0;
}

function intBytes(v: number, size: 1 | 2 | 4, le: boolean): Uint8Array {
  const b = new Uint8Array(size);
  if (size === 1) b[0] = v;
  else if (size === 2) put16(b, 0, v, le);
  else put32(b, 0, v, le);
  return b;
}

function checkInt(op: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new KernelError("ERANGE", `${String(v)} does not fit in 0..${max}`, { op });
}

/** `nla_put_u8()`: 0 or -EMSGSIZE. */
export function nlaPutU8(skb: SkBuff, type: number, v: number): number {
  checkInt("nla_put_u8", v, 0xff);
  return nlaPut(skb, type, intBytes(v, 1, true));
}

/** `nla_put_u16()`: 0 or -EMSGSIZE. */
export function nlaPutU16(skb: SkBuff, type: number, v: number, byteOrder: ByteOrder = "little"): number {
  checkInt("nla_put_u16", v, 0xffff);
  return nlaPut(skb, type, intBytes(v, 2, byteOrder === "little"), byteOrder);
}

/** `nla_put_u32()`: 0 or -EMSGSIZE. */
export function nlaPutU32(skb: SkBuff, type: number, v: number, byteOrder: ByteOrder = "little"): number {
  checkInt("nla_put_u32", v, 0xffffffff);
  return nlaPut(skb, type, intBytes(v, 4, byteOrder === "little"), byteOrder);
}

/** `nla_put_string()`: the UTF-8 string and its NUL; 0 or -EMSGSIZE. */
export function nlaPutString(skb: SkBuff, type: number, s: string, byteOrder: ByteOrder = "little"): number {
  if (typeof s !== "string")
    throw new KernelError("EINVAL", `${String(s)} is not a string`, { op: "nla_put_string" });
  const b = utf8Encode(s);
  const p = new Uint8Array(b.length + 1);
  p.set(b);
  return nlaPut(skb, type, p, byteOrder);
}

/** `nla_put_flag()`: a zero-length attribute; 0 or -EMSGSIZE. */
export function nlaPutFlag(skb: SkBuff, type: number, byteOrder: ByteOrder = "little"): number {
  return nlaPut(skb, type, new Uint8Array(0), byteOrder);
}

/**
 * `nla_nest_start()`: opens a nest (NLA_F_NESTED set unless `flagged` is false, as `nla_nest_start_noflag()`)
 * and returns its offset, or null when there is no room for its header.
 */
export function nlaNestStart(
  skb: SkBuff,
  type: number,
  flagged = true,
  byteOrder: ByteOrder = "little",
): number | null {
  if (!Number.isInteger(type) || type < 0 || type > NLA_TYPE_MASK) {
    throw new KernelError("EINVAL", `attribute type ${String(type)} is out of range 0..${NLA_TYPE_MASK}`, {
      op: "nla_nest_start",
    });
  }
  const at = skb.tail;
  return nlaPut(skb, flagged ? type | NLA_F_NESTED : type, new Uint8Array(0), byteOrder) === 0 ? at : null;
}

/** `nla_nest_end()`: sets the nest's `nla_len` to everything put since it started; returns `skb->len`. */
export function nlaNestEnd(skb: SkBuff, start: number, byteOrder: ByteOrder = "little"): number {
  if (!Number.isInteger(start) || start < skb.data || start + NLA_HDRLEN > skb.tail) {
    throw new KernelError("EINVAL", `no nest at offset ${String(start)} of skb#${skb.id}`, {
      op: "nla_nest_end",
    });
  }
  const len = skb.tail - start;
  if (len > 0xffff)
    throw new KernelError("EMSGSIZE", `nest of ${len} bytes exceeds what nla_len counts`, {
      op: "nla_nest_end",
    });
  put16(skb.buffer, start, len, byteOrder === "little");
  return skb.len;
}

/** `nla_nest_cancel()`: drops the nest and everything in it. */
export function nlaNestCancel(skb: SkBuff, start: number): void {
  nlmsgTrim(skb, start);
}

/** `nlmsg_len` of the message at `nlh` as currently written. */
export function nlmsgLen(skb: SkBuff, nlh: number, byteOrder: ByteOrder = "little"): number {
  return get32(skb.buffer, nlh, byteOrder === "little");
}
