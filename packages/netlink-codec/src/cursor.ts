// A zero-allocation attribute walk: one cursor object moves over the TLVs and reads payloads in place, for
// hot paths that must not create an object per attribute (mdlayher/netlink's AttributeDecoder, libmnl's
// mnl_attr_for_each). Same checks, same errors as parseAttrs.

import { type ByteOrder, get16, get32, get64, KernelError, utf8Decode } from "@kbridge/uapi";
import { NLA_HDRLEN } from "./align.js";
import { NetlinkParseError } from "./errors.js";
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_TYPE_MASK, type NlAttr } from "./nlattr.js";

/**
 * Walks the attributes of `buf[start, end)` without allocating: call `next()` until it returns false, and
 * read the current attribute through the cursor (`type`, `u32()`, `string()` …). Each header is checked
 * like `nla_ok()` before it is used; a bad one throws a {@link NetlinkParseError} with its offset.
 *
 * @example
 * ```ts
 * const c = new AttrCursor(msg.payload, 16);   // after the ifinfomsg
 * while (c.next()) {
 *   if (c.type === 3) name = c.string();        // IFLA_IFNAME
 *   else if (c.type === 4) mtu = c.u32();       // IFLA_MTU
 * }
 * ```
 */
export class AttrCursor {
  // The bundle names a class that refers to itself `_AttrCursor` inside; what users see (inspect, constructor.name) stays AttrCursor.
  static {
    Object.defineProperty(this, "name", { value: "AttrCursor" });
  }

  /** Offset of the current attribute's header in the buffer (-1 before the first `next()`). */
  offset = -1;
  #buf: Uint8Array;
  #end: number;
  readonly #le: boolean;
  #next: number;

  /**
   * @param buf - the bytes, e.g. a message's payload
   * @param start - where the attributes begin (after the family header)
   * @param end - where they end (default: the end of `buf`)
   * @param byteOrder - of `nla_len`/`nla_type` and host-order payloads; `'little'` by default
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when the range is not inside `buf`
   */
  constructor(buf: Uint8Array, start = 0, end = buf?.length, byteOrder: ByteOrder = "little") {
    checkRange("AttrCursor", buf, start, end);
    if (byteOrder !== "little" && byteOrder !== "big") {
      throw new KernelError(
        "EINVAL",
        `byte order ${JSON.stringify(byteOrder)} is neither "little" nor "big"`,
        { op: "AttrCursor" },
      );
    }
    this.#buf = buf;
    this.#end = end;
    this.#le = byteOrder === "little";
    this.#next = start;
  }

  /**
   * Points the cursor at another range (of the same or another buffer), so one cursor can walk every
   * message of a dump without allocating. The byte order stays.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when the range is not inside `buf`
   */
  reset(buf: Uint8Array, start = 0, end = buf?.length): this {
    checkRange("AttrCursor.reset", buf, start, end);
    return this.point(buf, start, end);
  }

  /** {@link AttrCursor.reset} without the checks, for callers that computed a valid range. @internal */
  point(buf: Uint8Array, start: number, end: number): this {
    this.#buf = buf;
    this.#end = end;
    this.#next = start;
    this.offset = -1;
    return this;
  }

  /**
   * Moves to the next attribute; false when none is left (fewer than 4 bytes remain, as `nla_ok()` says).
   * @throws {@link NetlinkParseError} EINVAL for an `nla_len` below 4 or past the end
   */
  next(): boolean {
    const b = this.#buf;
    const off = this.#next;
    const left = this.#end - off;
    if (left < NLA_HDRLEN) return false;
    const len = get16(b, off, this.#le);
    if (len < NLA_HDRLEN)
      throw new NetlinkParseError(
        "EINVAL",
        "AttrCursor",
        off,
        "nla_len",
        len,
        "shorter than the 4-byte header",
      );
    if (len > left) {
      throw new NetlinkParseError(
        "EINVAL",
        "AttrCursor",
        off,
        "nla_len",
        len,
        `runs past the end of the attributes (${left} bytes left)`,
      );
    }
    // Only the offset is stored; type and length are read from the header when asked for.
    this.offset = off;
    this.#next = off + ((len + 3) & ~3);
    return true;
  }

  /** `nla_type` of the current attribute, flag bits included. */
  get rawType(): number {
    return get16(this.#buf, this.offset + 2, this.#le);
  }

  /** Offset of the current payload in the buffer. */
  get payloadOffset(): number {
    return this.offset + NLA_HDRLEN;
  }

  /** Length of the current payload (`nla_len - 4`). */
  get payloadLength(): number {
    return get16(this.#buf, this.offset, this.#le) - NLA_HDRLEN;
  }

  /** The type without flag bits. */
  get type(): number {
    return this.rawType & NLA_TYPE_MASK;
  }

  /** `NLA_F_NESTED` is set on the current attribute. */
  get nested(): boolean {
    return (this.rawType & NLA_F_NESTED) !== 0;
  }

  /** `NLA_F_NET_BYTEORDER` is set on the current attribute. */
  get netByteOrder(): boolean {
    return (this.rawType & NLA_F_NET_BYTEORDER) !== 0;
  }

  #need(op: string, size: number, what: string): number {
    if (this.offset < 0) throw new KernelError("EINVAL", "no current attribute (call next() first)", { op });
    if (this.payloadLength !== size) {
      throw new NetlinkParseError(
        "ERANGE",
        op,
        this.offset,
        "nla_len",
        this.payloadLength + NLA_HDRLEN,
        `attribute type ${this.type} has a ${this.payloadLength}-byte payload, ${what} needs ${size}`,
      );
    }
    return this.payloadOffset;
  }

  /** The current payload as a u8. @throws {@link NetlinkParseError} ERANGE when it is not 1 byte */
  u8(): number {
    return this.#buf[this.#need("nla_get_u8", 1, "u8")]!;
  }

  /** The current payload as a host-order u16. @throws {@link NetlinkParseError} ERANGE when it is not 2 bytes */
  u16(): number {
    return get16(this.#buf, this.#need("nla_get_u16", 2, "u16"), this.#le);
  }

  /** The current payload as a host-order u32. @throws {@link NetlinkParseError} ERANGE when it is not 4 bytes */
  u32(): number {
    return get32(this.#buf, this.#need("nla_get_u32", 4, "u32"), this.#le);
  }

  /** The current payload as a host-order u64 (bigint). @throws {@link NetlinkParseError} ERANGE when it is not 8 bytes */
  u64(): bigint {
    return get64(this.#buf, this.#need("nla_get_u64", 8, "u64"), this.#le);
  }

  /** The current payload as a string: the bytes before the first NUL (or all), UTF-8. */
  string(): string {
    if (this.offset < 0)
      throw new KernelError("EINVAL", "no current attribute (call next() first)", { op: "nla_get_string" });
    const b = this.#buf;
    const start = this.payloadOffset;
    const stop = start + this.payloadLength;
    let end = start;
    while (end < stop && b[end] !== 0) end++;
    return utf8Decode(b, start, end);
  }

  /** The current payload as a view of the buffer (no copy). */
  bytes(): Uint8Array {
    if (this.offset < 0)
      throw new KernelError("EINVAL", "no current attribute (call next() first)", { op: "nla_data" });
    return this.#buf.subarray(this.payloadOffset, this.payloadOffset + this.payloadLength);
  }

  /** A cursor over the current attribute's payload, for a nest (flagged or not). */
  nest(): AttrCursor {
    if (this.offset < 0)
      throw new KernelError("EINVAL", "no current attribute (call next() first)", {
        op: "nla_for_each_nested",
      });
    return new AttrCursor(
      this.#buf,
      this.payloadOffset,
      this.payloadOffset + this.payloadLength,
      this.#le ? "little" : "big",
    );
  }

  /** The current attribute as an {@link NlAttr} object (allocates), for the typed `nlaGet*` functions. */
  attr(): NlAttr {
    const payload = this.bytes();
    return {
      type: this.type,
      rawType: this.rawType,
      nested: this.nested,
      netByteOrder: this.netByteOrder,
      offset: this.offset,
      payload,
    };
  }
}

/**
 * Walks the messages of a datagram without allocating, with the checks and errors of `parseDatagram`:
 * call `next()` until it returns false and read the current header fields; walk its attributes with
 * {@link MsgCursor.attrs}, which reuses one {@link AttrCursor}.
 *
 * @example
 * ```ts
 * const m = new MsgCursor(datagram);
 * while (m.next()) {
 *   if (m.type === NLMSG_DONE) break;
 *   const a = m.attrs(16);                    // after the ifinfomsg
 *   while (a.next()) if (a.type === 4) mtu = a.u32();
 * }
 * ```
 */
export class MsgCursor {
  /** `nlmsg_len` of the current message. */
  len = 0;
  /** `nlmsg_type` of the current message. */
  type = 0;
  /** `nlmsg_flags` of the current message. */
  flags = 0;
  /** `nlmsg_seq` of the current message. */
  seq = 0;
  /** `nlmsg_pid` of the current message. */
  pid = 0;
  /** Offset of the current message's header in the datagram. */
  offset = -1;
  readonly #buf: Uint8Array;
  readonly #le: boolean;
  readonly #attrs: AttrCursor;
  #next = 0;

  /**
   * @param buf - one datagram
   * @param byteOrder - of the headers; `'little'` by default
   */
  constructor(buf: Uint8Array, byteOrder: ByteOrder = "little") {
    if (!(buf instanceof Uint8Array))
      throw new KernelError("EINVAL", `${String(buf)} is not a Uint8Array`, { op: "MsgCursor" });
    this.#attrs = new AttrCursor(buf, 0, 0, byteOrder);
    this.#buf = buf;
    this.#le = byteOrder === "little";
  }

  /**
   * Moves to the next message; false at the end of the datagram (zero padding after the last message is
   * allowed, as in `parseDatagram`).
   * @throws {@link NetlinkParseError} EBADMSG for a bad `nlmsg_len` or stray trailing bytes
   */
  next(): boolean {
    const b = this.#buf;
    const off = this.#next;
    const left = b.length - off;
    if (left <= 0) return false;
    if (left < 16) {
      for (let i = off; i < b.length; i++) {
        if (b[i] !== 0) {
          throw new NetlinkParseError(
            "EBADMSG",
            "MsgCursor",
            off,
            "nlmsghdr",
            `${left} bytes`,
            "trailing bytes too short for a header",
          );
        }
      }
      this.#next = b.length;
      return false;
    }
    const le = this.#le;
    const len = get32(b, off, le);
    if (len < 16)
      throw new NetlinkParseError(
        "EBADMSG",
        "MsgCursor",
        off,
        "nlmsg_len",
        len,
        "shorter than the 16-byte header",
      );
    if (len > left) {
      throw new NetlinkParseError(
        "EBADMSG",
        "MsgCursor",
        off,
        "nlmsg_len",
        len,
        `runs past the end of the datagram (${left} bytes left)`,
      );
    }
    this.len = len;
    this.type = get16(b, off + 4, le);
    this.flags = get16(b, off + 6, le);
    this.seq = get32(b, off + 8, le);
    this.pid = get32(b, off + 12, le);
    this.offset = off;
    this.#next = off + len + ((4 - (len & 3)) & 3);
    return true;
  }

  /** Offset of the current payload (after the 16-byte header) in the datagram. */
  get payloadOffset(): number {
    return this.offset + 16;
  }

  /** The current payload as a view of the datagram (allocates the view). */
  payload(): Uint8Array {
    if (this.offset < 0)
      throw new KernelError("EINVAL", "no current message (call next() first)", { op: "MsgCursor.payload" });
    return this.#buf.subarray(this.offset + 16, this.offset + this.len);
  }

  /**
   * The attributes of the current message after a family header of `headerLength` bytes, as the one
   * reused {@link AttrCursor} of this message cursor (valid until the next call).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when the family header is longer than the payload
   */
  attrs(headerLength = 0): AttrCursor {
    if (this.offset < 0)
      throw new KernelError("EINVAL", "no current message (call next() first)", { op: "MsgCursor.attrs" });
    const start = this.offset + 16 + ((headerLength + 3) & ~3);
    const end = this.offset + this.len;
    if (!Number.isInteger(headerLength) || headerLength < 0 || start > end) {
      throw new KernelError(
        "EINVAL",
        `a ${String(headerLength)}-byte family header does not fit in a ${this.len - 16}-byte payload`,
        {
          op: "MsgCursor.attrs",
        },
      );
    }
    return this.#attrs.point(this.#buf, start, end);
  }
}

function checkRange(op: string, buf: unknown, start: number, end: number): void {
  if (!(buf instanceof Uint8Array))
    throw new KernelError("EINVAL", `${String(buf)} is not a Uint8Array`, { op });
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > buf.length) {
    throw new KernelError(
      "EINVAL",
      `range [${start}, ${end}) is not inside a buffer of ${buf.length} bytes`,
      { op },
    );
  }
}
