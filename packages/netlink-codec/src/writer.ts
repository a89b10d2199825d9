// Building netlink messages: nlmsg_put / nla_put* / nla_nest_start / nla_nest_end / nlmsg_end of
// include/net/netlink.h on a growable buffer, with the kernel's lengths and zeroed padding.

import { type ByteOrder, KernelError, put16, put32, utf8Encode } from "@kbridge/uapi";
import { NLA_HDRLEN, NLMSG_HDRLEN } from "./align.js";
import { NLA_F_NESTED, NLA_TYPE_MASK } from "./nlattr.js";

/** The header fields of a message to build; `nlmsg_len` is computed by {@link NlWriter.endMessage}. */
export interface MessageInit {
  /** `nlmsg_type`. */
  readonly type: number;
  /** `nlmsg_flags` (0 by default). */
  readonly flags?: number;
  /** `nlmsg_seq` (0 by default). */
  readonly seq?: number;
  /** `nlmsg_pid` (0 by default: to the kernel, or from it). */
  readonly pid?: number;
}

/** A nest opened by {@link NlWriter.nestStart}, to be closed by {@link NlWriter.nestEnd}. */
export interface Nest {
  /** Offset of the nest's `struct nlattr`. */
  readonly offset: number;
}

/** The largest attribute payload: `nla_len` is a u16 and counts the 4-byte header. */
export const NLA_MAX_PAYLOAD = 0xffff - NLA_HDRLEN;

const pad = (n: number) => (4 - (n & 3)) & 3;

function bad(code: "EINVAL" | "EMSGSIZE" | "ERANGE", op: string, detail: string): KernelError {
  return new KernelError(code, detail, { op });
}

/**
 * Writes netlink messages into one growing buffer, the way kernel code fills an skb: `beginMessage`
 * (`nlmsg_put`), a family header with `putStruct`, attributes with `put*`, nests with `nestStart`/`nestEnd`,
 * then `endMessage` (`nlmsg_end`, which sets `nlmsg_len` to everything written, attribute padding included).
 * Padding bytes are zero. `finish()` returns the bytes of every message written.
 *
 * @example
 * ```ts
 * const w = new NlWriter();
 * w.beginMessage({ type: 18, flags: NLM_F.REQUEST | NLM_F.DUMP, seq: 1 }); // RTM_GETLINK
 * w.putStruct(new Uint8Array(16));                                        // struct ifinfomsg
 * w.putU32(29, 1);                                                        // IFLA_EXT_MASK
 * w.endMessage();
 * const bytes = w.finish();
 * ```
 */
export class NlWriter {
  #buf: Uint8Array;
  #len = 0;
  #msg = -1;
  #nests: number[] = [];
  readonly #le: boolean;

  /** @param options - byte order of headers and host-order payloads (`'little'` by default), initial capacity */
  constructor(options: { byteOrder?: ByteOrder; capacity?: number } = {}) {
    const order = options.byteOrder ?? "little";
    if (order !== "little" && order !== "big") {
      throw bad("EINVAL", "NlWriter", `byte order ${JSON.stringify(order)} is neither "little" nor "big"`);
    }
    const cap = options.capacity ?? 256;
    if (!Number.isInteger(cap) || cap < 0 || cap > 0x7fffffff) {
      throw bad("EINVAL", "NlWriter", `capacity ${String(cap)} is not a size`);
    }
    this.#le = order === "little";
    this.#buf = new Uint8Array(Math.max(cap, 16));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  #reserve(n: number): number {
    const at = this.#len;
    const need = at + n;
    if (need > this.#buf.length) {
      const next = new Uint8Array(Math.max(need, this.#buf.length * 2));
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
    }
    // Fresh or reused bytes: always zero, as the kernel zeroes padding.
    this.#buf.fill(0, at, need);
    this.#len = need;
    return at;
  }

  #inMessage(op: string): void {
    if (this.#msg < 0) throw bad("EINVAL", op, "no message is open (call beginMessage first)");
  }

  /**
   * Starts a message: writes its header with `nlmsg_len` 16 for now. Models `nlmsg_put()`.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when a message is already open or a field is out of range
   */
  beginMessage(init: MessageInit): number {
    if (this.#msg >= 0) throw bad("EINVAL", "nlmsg_put", "a message is already open (call endMessage first)");
    const { type, flags = 0, seq = 0, pid = 0 } = init ?? ({} as MessageInit);
    for (const [name, v, max] of [
      ["nlmsg_type", type, 0xffff],
      ["nlmsg_flags", flags, 0xffff],
      ["nlmsg_seq", seq, 0xffffffff],
      ["nlmsg_pid", pid, 0xffffffff],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > max)
        throw bad("EINVAL", "nlmsg_put", `${name} ${String(v)} is out of range 0..${max}`);
    }
    const at = this.#reserve(NLMSG_HDRLEN);
    put32(this.#buf, at, NLMSG_HDRLEN, this.#le);
    put16(this.#buf, at + 4, type, this.#le);
    put16(this.#buf, at + 6, flags, this.#le);
    put32(this.#buf, at + 8, seq, this.#le);
    put32(this.#buf, at + 12, pid, this.#le);
    this.#msg = at;
    return at;
  }

  /**
   * Appends a family header or any fixed bytes to the open message, padded to 4 (like the `payload` of
   * `nlmsg_put()`, e.g. a `struct ifinfomsg` or `struct genlmsghdr`).
   */
  putStruct(bytes: Uint8Array): void {
    this.#inMessage("nlmsg_put");
    if (!(bytes instanceof Uint8Array))
      throw bad("EINVAL", "nlmsg_put", `${String(bytes)} is not a Uint8Array`);
    const at = this.#reserve(bytes.length + pad(bytes.length));
    this.#buf.set(bytes, at);
  }

  /**
   * Appends an attribute with a raw `nla_type` (flag bits kept as given) and payload. Models `nla_put()`.
   * @throws {@link @kbridge/uapi!KernelError} ERANGE when the payload exceeds 65531 bytes, EINVAL for a type past 16 bits
   */
  putAttr(rawType: number, payload: Uint8Array): void {
    this.#inMessage("nla_put");
    if (!Number.isInteger(rawType) || rawType < 0 || rawType > 0xffff) {
      throw bad("EINVAL", "nla_put", `nla_type ${String(rawType)} is not a u16`);
    }
    if (!(payload instanceof Uint8Array))
      throw bad("EINVAL", "nla_put", `payload ${String(payload)} is not a Uint8Array`);
    if (payload.length > NLA_MAX_PAYLOAD) {
      throw bad(
        "ERANGE",
        "nla_put",
        `attribute type ${rawType & NLA_TYPE_MASK}: ${payload.length} bytes exceed the ${NLA_MAX_PAYLOAD} an nla_len can count`,
      );
    }
    const at = this.#reserve(NLA_HDRLEN + payload.length + pad(payload.length));
    put16(this.#buf, at, NLA_HDRLEN + payload.length, this.#le);
    put16(this.#buf, at + 2, rawType, this.#le);
    this.#buf.set(payload, at + NLA_HDRLEN);
  }

  #putInt(
    op: string,
    type: number,
    v: number | bigint,
    bytes: 1 | 2 | 4 | 8,
    signed: boolean,
    le: boolean,
  ): void {
    const bits = BigInt(bytes * 8);
    const min = signed ? -(1n << (bits - 1n)) : 0n;
    const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
    let x: bigint | undefined;
    if (typeof v === "bigint") x = v;
    else if (typeof v === "number" && Number.isSafeInteger(v)) x = BigInt(v);
    if (x === undefined || x < min || x > max) {
      throw bad("ERANGE", op, `attribute type ${type}: ${String(v)} does not fit in ${bytes * 8} bits`);
    }
    const p = new Uint8Array(bytes);
    const u = BigInt.asUintN(bytes * 8, x);
    for (let i = 0; i < bytes; i++) p[le ? i : bytes - 1 - i] = Number((u >> BigInt(8 * i)) & 0xffn);
    this.putAttr(type, p);
  }

  /** `nla_put_u8()`. */
  putU8(type: number, v: number): void {
    this.#putInt("nla_put_u8", type, v, 1, false, true);
  }

  /** `nla_put_u16()` in host order. */
  putU16(type: number, v: number): void {
    this.#putInt("nla_put_u16", type, v, 2, false, this.#le);
  }

  /** `nla_put_u32()` in host order. */
  putU32(type: number, v: number): void {
    this.#putInt("nla_put_u32", type, v, 4, false, this.#le);
  }

  /** `nla_put_u64_64bit()` without a pad attribute (x86-64 needs none): 8 bytes in host order. */
  putU64(type: number, v: bigint | number): void {
    this.#putInt("nla_put_u64", type, v, 8, false, this.#le);
  }

  /** `nla_put_s8()`. */
  putS8(type: number, v: number): void {
    this.#putInt("nla_put_s8", type, v, 1, true, true);
  }

  /** `nla_put_s16()`. */
  putS16(type: number, v: number): void {
    this.#putInt("nla_put_s16", type, v, 2, true, this.#le);
  }

  /** `nla_put_s32()`. */
  putS32(type: number, v: number): void {
    this.#putInt("nla_put_s32", type, v, 4, true, this.#le);
  }

  /** `nla_put_s64()`. */
  putS64(type: number, v: bigint | number): void {
    this.#putInt("nla_put_s64", type, v, 8, true, this.#le);
  }

  /** `nla_put_be16()`: network order, whatever the host order. */
  putBe16(type: number, v: number): void {
    this.#putInt("nla_put_be16", type, v, 2, false, false);
  }

  /** `nla_put_be32()`: network order. */
  putBe32(type: number, v: number): void {
    this.#putInt("nla_put_be32", type, v, 4, false, false);
  }

  /** `nla_put_be64()`: network order. */
  putBe64(type: number, v: bigint | number): void {
    this.#putInt("nla_put_be64", type, v, 8, false, false);
  }

  /** `nla_put_uint()` (NLA_UINT): 4 bytes when the value fits in 32 bits, else 8, as the kernel writes it. */
  putUint(type: number, v: bigint | number): void {
    const x = typeof v === "bigint" ? v : Number.isSafeInteger(v) ? BigInt(v) : undefined;
    if (x !== undefined && x >= 0n && x <= 0xffffffffn)
      this.#putInt("nla_put_uint", type, x, 4, false, this.#le);
    else this.#putInt("nla_put_uint", type, v, 8, false, this.#le);
  }

  /** `nla_put_sint()` (NLA_SINT): 4 bytes when the value fits in s32, else 8. */
  putSint(type: number, v: bigint | number): void {
    const x = typeof v === "bigint" ? v : Number.isSafeInteger(v) ? BigInt(v) : undefined;
    if (x !== undefined && x >= -(1n << 31n) && x < 1n << 31n)
      this.#putInt("nla_put_sint", type, x, 4, true, this.#le);
    else this.#putInt("nla_put_sint", type, v, 8, true, this.#le);
  }

  /** `nla_put_flag()`: an attribute without payload. */
  putFlag(type: number): void {
    this.putAttr(type, new Uint8Array(0));
  }

  /** `nla_put_string()`: UTF-8 with its terminating NUL (nla_len counts it), as the kernel writes strings. */
  putString(type: number, s: string): void {
    if (typeof s !== "string")
      throw bad("EINVAL", "nla_put_string", `attribute type ${type}: ${String(s)} is not a string`);
    const b = utf8Encode(s);
    const p = new Uint8Array(b.length + 1);
    p.set(b);
    this.putAttr(type, p);
  }

  /** `nla_put_in_addr()`: an IPv4 address from dotted-quad text. */
  putInAddr(type: number, addr: string): void {
    const parts = typeof addr === "string" ? addr.split(".") : [];
    const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : Number.NaN));
    if (bytes.length !== 4 || bytes.some((b) => !(b >= 0 && b <= 255))) {
      throw bad("EINVAL", "nla_put_in_addr", `${JSON.stringify(addr)} is not an IPv4 address`);
    }
    this.putAttr(type, Uint8Array.from(bytes));
  }

  /**
   * `nla_put_in6_addr()`: an IPv6 address from its text (RFC 4291: hex groups, one `::`, an embedded IPv4 tail
   * such as `::ffff:192.0.2.1`; no zone id).
   */
  putIn6Addr(type: number, addr: string): void {
    this.putAttr(type, parseIn6(addr));
  }

  /** A link-layer address (IFLA_ADDRESS) from `aa:bb:cc:dd:ee:ff` text (1 to 32 bytes, `:` or `-` between). */
  putLladdr(type: number, addr: string): void {
    const parts = typeof addr === "string" ? addr.split(/[:-]/) : [];
    if (parts.length < 1 || parts.length > 32 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
      throw bad("EINVAL", "nla_put", `${JSON.stringify(addr)} is not a link-layer address`);
    }
    this.putAttr(
      type,
      Uint8Array.from(parts, (p) => Number.parseInt(p, 16)),
    );
  }

  /** `nla_put_bitfield32()`: value then selector, host order. */
  putBitfield32(type: number, value: number, selector: number): void {
    for (const [n, v] of [
      ["value", value],
      ["selector", selector],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw bad("ERANGE", "nla_put_bitfield32", `attribute type ${type}: ${n} ${String(v)} is not a u32`);
      }
    }
    const p = new Uint8Array(8);
    const dv = new DataView(p.buffer);
    dv.setUint32(0, value, this.#le);
    dv.setUint32(4, selector, this.#le);
    this.putAttr(type, p);
  }

  /**
   * Opens a nest: an attribute whose payload is the attributes written until {@link NlWriter.nestEnd}.
   * Models `nla_nest_start()`, which sets NLA_F_NESTED; pass `flagged: false` for `nla_nest_start_noflag()`
   * (IFLA_LINKINFO and other old nests are written without it).
   */
  nestStart(type: number, flagged = true): Nest {
    this.#inMessage("nla_nest_start");
    if (!Number.isInteger(type) || type < 0 || type > NLA_TYPE_MASK) {
      throw bad(
        "EINVAL",
        "nla_nest_start",
        `attribute type ${String(type)} is out of range 0..${NLA_TYPE_MASK}`,
      );
    }
    const at = this.#reserve(NLA_HDRLEN);
    put16(this.#buf, at + 2, flagged ? type | NLA_F_NESTED : type, this.#le);
    this.#nests.push(at);
    return { offset: at };
  }

  /**
   * Closes the innermost nest: its `nla_len` becomes everything written since `nestStart`, the last child's
   * padding included. Models `nla_nest_end()`.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when `nest` is not the innermost open nest, EMSGSIZE past 65535 bytes
   */
  nestEnd(nest: Nest): void {
    const top = this.#nests[this.#nests.length - 1];
    if (top === undefined || nest?.offset !== top) {
      throw bad(
        "EINVAL",
        "nla_nest_end",
        `nest at offset ${String(nest?.offset)} is not the innermost open nest`,
      );
    }
    const len = this.#len - top;
    if (len > 0xffff)
      throw bad("EMSGSIZE", "nla_nest_end", `nest of ${len} bytes exceeds the 65535 an nla_len can count`);
    this.#nests.pop();
    put16(this.#buf, top, len, this.#le);
  }

  /**
   * Closes the open message: `nlmsg_len` becomes everything written since `beginMessage`. Models `nlmsg_end()`.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when no message is open or a nest is still open
   */
  endMessage(): number {
    this.#inMessage("nlmsg_end");
    if (this.#nests.length > 0) {
      throw bad(
        "EINVAL",
        "nlmsg_end",
        `${this.#nests.length} nest(s) still open (the innermost at offset ${this.#nests.at(-1)})`,
      );
    }
    const len = this.#len - this.#msg;
    put32(this.#buf, this.#msg, len, this.#le);
    this.#msg = -1;
    return len;
  }

  /**
   * The bytes of every message written (a copy), and the writer is emptied for reuse.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL while a message is open
   */
  finish(): Uint8Array {
    if (this.#msg >= 0) throw bad("EINVAL", "finish", "a message is still open (call endMessage first)");
    const out = this.#buf.slice(0, this.#len);
    this.#len = 0;
    return out;
  }
}

// RFC 4291 text to 16 bytes.
function parseIn6(addr: string): Uint8Array {
  const fail = () => bad("EINVAL", "nla_put_in6_addr", `${JSON.stringify(addr)} is not an IPv6 address`);
  if (typeof addr !== "string" || addr.length > 45) throw fail();
  let text = addr;
  const tail: number[] = [];
  const v4 = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4 !== null) {
    const octets = v4.slice(2).map(Number);
    if (octets.some((o) => o > 255)) throw fail();
    tail.push(((octets[0]! << 8) | octets[1]!) >>> 0, ((octets[2]! << 8) | octets[3]!) >>> 0);
    text = v4[1]!.endsWith("::") ? v4[1]! : v4[1]!.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) throw fail();
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const all = [...head, ...rest];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) throw fail();
  const have = all.length + tail.length;
  if (halves.length === 1 ? have !== 8 : have > 7) throw fail();
  const words = [
    ...head.map((g) => Number.parseInt(g, 16)),
    ...new Array(8 - have).fill(0),
    ...rest.map((g) => Number.parseInt(g, 16)),
    ...tail,
  ];
  if (halves.length === 1 && words.length !== 8) throw fail();
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}
