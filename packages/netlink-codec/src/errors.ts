// The error a malformed netlink datagram or attribute stream raises: a KernelError (EBADMSG or EINVAL)
// that also says where (byte offset), in which field, and which value was wrong.

import { type ErrnoCode, KernelError } from "@kbridge/uapi";

/**
 * A KernelError raised while parsing netlink bytes, with the position of the problem. Parsers never read
 * past the end of their input: they stop at the first bad field and throw this.
 */
export class NetlinkParseError extends KernelError {
  /** Byte offset of the bad field from the start of the buffer that was parsed. */
  readonly offset: number;
  /** The field, e.g. `'nlmsg_len'` or `'nla_len'`. */
  readonly field: string;
  /** The value found there (or what was missing). */
  readonly value: number | bigint | string;

  /** @internal */
  constructor(
    code: ErrnoCode,
    op: string,
    offset: number,
    field: string,
    value: number | bigint | string,
    detail: string,
  ) {
    super(code, `at offset ${offset}: ${field} ${String(value)}: ${detail}`, { op });
    this.name = "NetlinkParseError";
    this.offset = offset;
    this.field = field;
    this.value = value;
  }
}
