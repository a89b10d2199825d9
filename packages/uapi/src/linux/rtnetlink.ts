// include/uapi/linux/rtnetlink.h and if_addr.h: the fixed headers of rtnetlink link, address and route messages.

import { s32, struct, u8, u16, u32 } from "../struct.js";

/** `struct rtattr`: 4 bytes; rtnetlink's older name for the attribute header (same layout as nlattr). */
export const rtattr = struct("rtattr", {
  rta_len: u16,
  rta_type: u16,
});

/** `struct ifinfomsg`: 16 bytes; the header of RTM_NEWLINK/GETLINK messages. */
export const ifinfomsg = struct("ifinfomsg", {
  ifi_family: u8,
  __ifi_pad: u8,
  ifi_type: u16,
  ifi_index: s32,
  ifi_flags: u32,
  ifi_change: u32,
});

/** `struct ifaddrmsg` (linux/if_addr.h): 8 bytes; the header of RTM_NEWADDR/GETADDR messages. */
export const ifaddrmsg = struct("ifaddrmsg", {
  ifa_family: u8,
  ifa_prefixlen: u8,
  ifa_flags: u8,
  ifa_scope: u8,
  ifa_index: u32,
});

/** `struct rtmsg`: 12 bytes; the header of RTM_NEWROUTE/GETROUTE messages. */
export const rtmsg = struct("rtmsg", {
  rtm_family: u8,
  rtm_dst_len: u8,
  rtm_src_len: u8,
  rtm_tos: u8,
  rtm_table: u8,
  rtm_protocol: u8,
  rtm_scope: u8,
  rtm_type: u8,
  rtm_flags: u32,
});
