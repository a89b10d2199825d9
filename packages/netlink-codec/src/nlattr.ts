// Netlink attributes (struct nlattr TLVs): an iterator that checks every header before use, typed getters
// that check the payload size, and the flag bits of include/uapi/linux/netlink.h.

import type { ByteOrder } from "@kbridge/uapi";
import { get16, get32, get64, KernelError, utf8Decode } from "@kbridge/uapi";
import { NLA_HDRLEN } from "./align.js";
import { NetlinkParseError } from "./errors.js";

/** `NLA_F_NESTED` (bit 15): the payload is itself a stream of attributes. */
export const NLA_F_NESTED = 0x8000;
/** `NLA_F_NET_BYTEORDER` (bit 14): the payload is in network byte order. */
export const NLA_F_NET_BYTEORDER = 0x4000;
/** `NLA_TYPE_MASK`: the bits of `nla_type` that are the type, without the two flags. */
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** One attribute as found in the bytes: a view, nothing copied. */
export interface NlAttr {
  /** The type without flag bits (`nla_type & NLA_TYPE_MASK`). */
  readonly type: number;
  /** `nla_type` as written, flag bits included (re-emit this to stay lossless). */
  readonly rawType: number;
  /** `NLA_F_NESTED` is set. The kernel does not set it on every nest, so do not rely on it to find nests. */
  readonly nested: boolean;
  /** `NLA_F_NET_BYTEORDER` is set. */
  readonly netByteOrder: boolean;
  /** Offset of the attribute header in the buffer that was walked. */
  readonly offset: number;
  /** The payload (`nla_len - 4` bytes, without pad), a subarray of the walked buffer. */
  readonly payload: Uint8Array;
}

/** How to walk attributes. */
export interface AttrOptions {
  /** Byte order of `nla_len`/`nla_type` and of host-order payloads; `'little'` by default. */
  readonly byteOrder?: ByteOrder;
  /**
   * Refuse bytes after the last whole attribute (the kernel's NL_VALIDATE_TRAILING). Off by default: like
   * `nla_for_each_attr`, up to 3 bytes of remainder are tolerated, more are an error either way.
   */
  readonly strictTrailing?: boolean;
}

function little(options: AttrOptions | undefined, op: string): boolean {
  const order = options?.byteOrder ?? "little";
  if (order !== "little" && order !== "big") {
    throw new KernelError("EINVAL", `byte order ${JSON.stringify(order)} is neither "little" nor "big"`, {
      op,
    });
  }
  return order === "little";
}

/**
 * Walks the attributes in `buf[start, end)`, checking each header like `nla_ok()` before reading it, and
 * stepping by `NLA_ALIGN(nla_len)`. Offsets in the results and errors are relative to `buf`.
 *
 * @example
 * ```ts
 * for (const a of parseAttrs(msg.payload, 16)) {   // after a 16-byte ifinfomsg
 *   if (a.type === 3) console.log(nlaGetString(a)); // IFLA_IFNAME
 * }
 * ```
 * @throws {@link NetlinkParseError} EINVAL for `nla_len` below 4 or past `end`, or a remainder of 4 bytes or more
 * that is no attribute (and any remainder with `strictTrailing`)
 */
export function parseAttrs(buf: Uint8Array, start = 0, end = buf?.length, options?: AttrOptions): NlAttr[] {
  if (!(buf instanceof Uint8Array))
    throw new KernelError("EINVAL", `${String(buf)} is not a Uint8Array`, { op: "parseAttrs" });
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > buf.length) {
    throw new KernelError(
      "EINVAL",
      `range [${start}, ${end}) is not inside a buffer of ${buf.length} bytes`,
      {
        op: "parseAttrs",
      },
    );
  }
  const le = little(options, "parseAttrs");
  // A Node Buffer's subarray() builds another Buffer, several times slower than a Uint8Array's: view it plainly.
  if (buf.constructor !== Uint8Array) buf = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlAttr[] = [];
  let off = start;
  while (end - off >= NLA_HDRLEN) {
    const len = get16(buf, off, le);
    const raw = get16(buf, off + 2, le);
    if (len < NLA_HDRLEN) {
      throw new NetlinkParseError(
        "EINVAL",
        "parseAttrs",
        off,
        "nla_len",
        len,
        "shorter than the 4-byte header",
      );
    }
    if (len > end - off) {
      throw new NetlinkParseError(
        "EINVAL",
        "parseAttrs",
        off,
        "nla_len",
        len,
        `runs past the end of the attributes (${end - off} bytes left)`,
      );
    }
    out.push({
      type: raw & NLA_TYPE_MASK,
      rawType: raw,
      nested: (raw & NLA_F_NESTED) !== 0,
      netByteOrder: (raw & NLA_F_NET_BYTEORDER) !== 0,
      offset: off,
      payload: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += len + ((4 - (len & 3)) & 3);
  }
  if (off < end && options?.strictTrailing === true) {
    throw new NetlinkParseError(
      "EINVAL",
      "parseAttrs",
      off,
      "remainder",
      `${end - off} bytes`,
      "bytes leftover after parsing attributes",
    );
  }
  return out;
}

function need(a: NlAttr, op: string, size: number, what: string): void {
  if (a === null || typeof a !== "object" || !(a.payload instanceof Uint8Array)) {
    throw new KernelError("EINVAL", `${String(a)} is not an attribute`, { op });
  }
  if (a.payload.length !== size) {
    throw new NetlinkParseError(
      "ERANGE",
      op,
      a.offset,
      "nla_len",
      a.payload.length + NLA_HDRLEN,
      `attribute type ${a.type} has a ${a.payload.length}-byte payload, ${what} needs ${size}`,
    );
  }
}

/** `nla_get_u8()`: an 8-bit payload. @throws {@link NetlinkParseError} ERANGE when the payload is not 1 byte */
export function nlaGetU8(a: NlAttr): number {
  need(a, "nla_get_u8", 1, "u8");
  return a.payload[0]!;
}

/** `nla_get_u16()` in host order (or `byteOrder`). @throws {@link NetlinkParseError} ERANGE when not 2 bytes */
export function nlaGetU16(a: NlAttr, byteOrder: ByteOrder = "little"): number {
  need(a, "nla_get_u16", 2, "u16");
  return get16(a.payload, 0, byteOrder === "little");
}

/** `nla_get_u32()` in host order (or `byteOrder`). @throws {@link NetlinkParseError} ERANGE when not 4 bytes */
export function nlaGetU32(a: NlAttr, byteOrder: ByteOrder = "little"): number {
  need(a, "nla_get_u32", 4, "u32");
  return get32(a.payload, 0, byteOrder === "little");
}

/** `nla_get_u64()` as a bigint. @throws {@link NetlinkParseError} ERANGE when not 8 bytes */
export function nlaGetU64(a: NlAttr, byteOrder: ByteOrder = "little"): bigint {
  need(a, "nla_get_u64", 8, "u64");
  return get64(a.payload, 0, byteOrder === "little");
}

/** `nla_get_s8()`. */
export function nlaGetS8(a: NlAttr): number {
  return (nlaGetU8(a) << 24) >> 24;
}

/** `nla_get_s16()`. */
export function nlaGetS16(a: NlAttr, byteOrder: ByteOrder = "little"): number {
  return (nlaGetU16(a, byteOrder) << 16) >> 16;
}

/** `nla_get_s32()`. */
export function nlaGetS32(a: NlAttr, byteOrder: ByteOrder = "little"): number {
  return nlaGetU32(a, byteOrder) | 0;
}

/** `nla_get_s64()` as a bigint. */
export function nlaGetS64(a: NlAttr, byteOrder: ByteOrder = "little"): bigint {
  return BigInt.asIntN(64, nlaGetU64(a, byteOrder));
}

/** `nla_get_be16()`: a 16-bit payload in network order (ports). */
export function nlaGetBe16(a: NlAttr): number {
  return nlaGetU16(a, "big");
}

/** `nla_get_be32()`: a 32-bit payload in network order. */
export function nlaGetBe32(a: NlAttr): number {
  return nlaGetU32(a, "big");
}

/** `nla_get_be64()`: a 64-bit payload in network order. */
export function nlaGetBe64(a: NlAttr): bigint {
  return nlaGetU64(a, "big");
}

/**
 * `nla_get_uint()` (NLA_UINT, 6.7+): a 4- or 8-byte unsigned payload, as a bigint.
 * @throws {@link NetlinkParseError} ERANGE when the payload is neither 4 nor 8 bytes
 */
export function nlaGetUint(a: NlAttr, byteOrder: ByteOrder = "little"): bigint {
  if (a?.payload?.length === 4) return BigInt(nlaGetU32(a, byteOrder));
  need(a, "nla_get_uint", 8, "uint (4 or 8 bytes)");
  return get64(a.payload, 0, byteOrder === "little");
}

/** `nla_get_sint()` (NLA_SINT, 6.7+): a 4- or 8-byte signed payload, as a bigint. */
export function nlaGetSint(a: NlAttr, byteOrder: ByteOrder = "little"): bigint {
  if (a?.payload?.length === 4) return BigInt(nlaGetS32(a, byteOrder));
  need(a, "nla_get_sint", 8, "sint (4 or 8 bytes)");
  return BigInt.asIntN(64, get64(a.payload, 0, byteOrder === "little"));
}

/** `nla_get_flag()`: a flag attribute is true by its presence; its payload must be empty. */
export function nlaGetFlag(a: NlAttr): true {
  need(a, "nla_get_flag", 0, "a flag");
  return true;
}

/** `struct nla_bitfield32`: the bits to set and which bits the value speaks for. */
export interface Bitfield32 {
  /** The bit values. */
  readonly value: number;
  /** Which bits of `value` are meaningful. */
  readonly selector: number;
}

/** `nla_get_bitfield32()` (two host-order u32). @throws {@link NetlinkParseError} ERANGE when not 8 bytes */
export function nlaGetBitfield32(a: NlAttr, byteOrder: ByteOrder = "little"): Bitfield32 {
  need(a, "nla_get_bitfield32", 8, "bitfield32");
  const le = byteOrder === "little";
  return { value: get32(a.payload, 0, le), selector: get32(a.payload, 4, le) };
}

/**
 * A string attribute (NLA_STRING / NLA_NUL_STRING): the bytes before the first NUL, or all of them, as UTF-8.
 * The kernel's `nla_strscpy()` reads the same bytes.
 */
export function nlaGetString(a: NlAttr): string {
  if (a === null || typeof a !== "object" || !(a.payload instanceof Uint8Array)) {
    throw new KernelError("EINVAL", `${String(a)} is not an attribute`, { op: "nla_get_string" });
  }
  const p = a.payload;
  const nul = p.indexOf(0);
  return utf8Decode(p, 0, nul < 0 ? p.length : nul);
}

/** The payload itself (NLA_BINARY), a view of the parsed buffer. */
export function nlaGetBinary(a: NlAttr): Uint8Array {
  if (a === null || typeof a !== "object" || !(a.payload instanceof Uint8Array)) {
    throw new KernelError("EINVAL", `${String(a)} is not an attribute`, { op: "nla_data" });
  }
  return a.payload;
}

/** `nla_get_in_addr()`: an IPv4 address (4 bytes, network order) in dotted quad: `'127.0.0.1'`. */
export function nlaGetInAddr(a: NlAttr): string {
  need(a, "nla_get_in_addr", 4, "an IPv4 address");
  return Array.from(a.payload).join(".");
}

/** `nla_get_in6_addr()`: an IPv6 address (16 bytes) in RFC 5952 text: `'fd00::1'`. */
export function nlaGetIn6Addr(a: NlAttr): string {
  need(a, "nla_get_in6_addr", 16, "an IPv6 address");
  return formatIn6(a.payload);
}

/** A link-layer address (IFLA_ADDRESS) of any length as `'aa:bb:cc:dd:ee:ff'`. */
export function nlaGetLladdr(a: NlAttr): string {
  return Array.from(nlaGetBinary(a), (b) => b.toString(16).padStart(2, "0")).join(":");
}

// RFC 5952: lower case, leading zeros dropped, the longest run (leftmost on a tie) of two or more zero
// groups written as "::", and IPv4-mapped addresses with a dotted tail.
function formatIn6(p: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((p[i]! << 8) | p[i + 1]!);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${p[12]}.${p[13]}.${p[14]}.${p[15]}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}
