// include/uapi/linux/genetlink.h: the generic netlink header that follows nlmsghdr.

import { struct, u8, u16 } from "../struct.js";

/** `struct genlmsghdr`: 4 bytes; command, family version and a reserved field. */
export const genlmsghdr = struct("genlmsghdr", {
  cmd: u8,
  version: u8,
  reserved: u16,
});
