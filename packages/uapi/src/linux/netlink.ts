// include/uapi/linux/netlink.h: the netlink message header, attribute header, error message and address.

import { s32, struct, u16, u32 } from "../struct.js";

/** `struct nlmsghdr`: 16 bytes, 4-aligned; the header of every netlink message. */
export const nlmsghdr = struct("nlmsghdr", {
  nlmsg_len: u32,
  nlmsg_type: u16,
  nlmsg_flags: u16,
  nlmsg_seq: u32,
  nlmsg_pid: u32,
});

/** `struct nlattr`: 4 bytes, 2-aligned; the header of a netlink attribute (type bits 15/14 are NESTED/NET_BYTEORDER). */
export const nlattr = struct("nlattr", {
  nla_len: u16,
  nla_type: u16,
});

/** `struct nlmsgerr`: 20 bytes; the payload of NLMSG_ERROR, a negative errno (or 0 for an ack) and the request's header. */
export const nlmsgerr = struct("nlmsgerr", {
  error: s32,
  msg: nlmsghdr,
});

/** `struct sockaddr_nl`: 12 bytes; the address of a netlink socket (family AF_NETLINK 16, port id, group bitmask). */
export const sockaddr_nl = struct("sockaddr_nl", {
  nl_family: u16,
  nl_pad: u16,
  nl_pid: u32,
  nl_groups: u32,
});
