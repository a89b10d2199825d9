// The alignment macros of include/uapi/linux/netlink.h and include/net/netlink.h, restated one to one.
// Lengths are byte counts (non-negative integers); offsets stand in for the kernel's pointers.

import { KernelError } from "@kbridge/uapi";

function len(op: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new KernelError("EINVAL", `length ${String(n)} is not a non-negative integer`, { op });
  }
  return n;
}

// The low two bits survive ToInt32 for every safe integer, so `& 3` is exact for any length.
const pad4 = (n: number) => (4 - (n & 3)) & 3;

// NLMSG_ALIGNTO
/** Messages are aligned to 4 bytes. */
export const NLMSG_ALIGNTO = 4;

// NLMSG_ALIGN(len)
/** `NLMSG_ALIGN(len)`: `len` rounded up to a multiple of 4. */
export function NLMSG_ALIGN(n: number): number {
  return len("NLMSG_ALIGN", n) + pad4(n);
}

// NLMSG_HDRLEN = NLMSG_ALIGN(sizeof(struct nlmsghdr))
/** `NLMSG_HDRLEN`: the size of `struct nlmsghdr`, 16. */
export const NLMSG_HDRLEN = 16;

// NLMSG_LENGTH(len) = len + NLMSG_HDRLEN
/** `NLMSG_LENGTH(len)`: `nlmsg_len` of a message with `len` payload bytes (no trailing pad). */
export function NLMSG_LENGTH(n: number): number {
  return len("NLMSG_LENGTH", n) + NLMSG_HDRLEN;
}

// NLMSG_SPACE(len) = NLMSG_ALIGN(NLMSG_LENGTH(len))
/** `NLMSG_SPACE(len)`: the bytes a message with `len` payload bytes takes in a datagram. */
export function NLMSG_SPACE(n: number): number {
  return NLMSG_ALIGN(NLMSG_LENGTH(n));
}

// NLMSG_OK(nlh, len): len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= len
/**
 * `NLMSG_OK(nlh, len)`: true when `remaining` bytes hold a whole header and a message of `nlmsgLen`.
 * (`nlmsgLen` is the header's `nlmsg_len`; read it only when `remaining >= 16`.)
 */
export function NLMSG_OK(remaining: number, nlmsgLen: number): boolean {
  return remaining >= NLMSG_HDRLEN && nlmsgLen >= NLMSG_HDRLEN && nlmsgLen <= remaining;
}

// NLMSG_PAYLOAD(nlh, len) = nlh->nlmsg_len - NLMSG_SPACE(len)
/** `NLMSG_PAYLOAD(nlh, len)`: the bytes of a message after a family header of `len` bytes. */
export function NLMSG_PAYLOAD(nlmsgLen: number, n: number): number {
  return len("NLMSG_PAYLOAD", nlmsgLen) - NLMSG_SPACE(n);
}

// nlmsg_msg_size(payload) = NLMSG_HDRLEN + payload
/** `nlmsg_msg_size(payload)`: the length of a message with `payload` bytes, without trailing pad. */
export function nlmsg_msg_size(payload: number): number {
  return NLMSG_HDRLEN + len("nlmsg_msg_size", payload);
}

// nlmsg_total_size(payload) = NLMSG_ALIGN(nlmsg_msg_size(payload))
/** `nlmsg_total_size(payload)`: the length of a message with `payload` bytes, trailing pad included. */
export function nlmsg_total_size(payload: number): number {
  return NLMSG_ALIGN(nlmsg_msg_size(payload));
}

// nlmsg_padlen(payload) = nlmsg_total_size(payload) - nlmsg_msg_size(payload)
/** `nlmsg_padlen(payload)`: the pad bytes after a message with `payload` bytes. */
export function nlmsg_padlen(payload: number): number {
  return nlmsg_total_size(payload) - nlmsg_msg_size(payload);
}

// NLA_ALIGNTO
/** Attributes are aligned to 4 bytes. */
export const NLA_ALIGNTO = 4;

// NLA_ALIGN(len)
/** `NLA_ALIGN(len)`: `len` rounded up to a multiple of 4. */
export function NLA_ALIGN(n: number): number {
  return len("NLA_ALIGN", n) + pad4(n);
}

// NLA_HDRLEN = NLA_ALIGN(sizeof(struct nlattr))
/** `NLA_HDRLEN`: the size of `struct nlattr`, 4. */
export const NLA_HDRLEN = 4;

// nla_attr_size(payload) = NLA_HDRLEN + payload
/** `nla_attr_size(payload)`: `nla_len` of an attribute with `payload` bytes (no pad). */
export function nla_attr_size(payload: number): number {
  return NLA_HDRLEN + len("nla_attr_size", payload);
}

// nla_total_size(payload) = NLA_ALIGN(nla_attr_size(payload))
/** `nla_total_size(payload)`: the bytes an attribute with `payload` bytes takes, pad included. */
export function nla_total_size(payload: number): number {
  return NLA_ALIGN(nla_attr_size(payload));
}

// nla_padlen(payload) = nla_total_size(payload) - nla_attr_size(payload)
/** `nla_padlen(payload)`: the pad bytes after an attribute with `payload` bytes. */
export function nla_padlen(payload: number): number {
  return nla_total_size(payload) - nla_attr_size(payload);
}
