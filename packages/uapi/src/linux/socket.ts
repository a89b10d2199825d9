// include/uapi/linux/uio.h and include/linux/socket.h (user-space layout as glibc declares it): the
// scatter-gather vector and message header of sendmsg/recvmsg, and the control-message header.

import { ptr, s32, size_t, struct, u32 } from "../struct.js";

/** `struct iovec`: base pointer and length; 16 bytes on x86-64, 8 on i386 (`compat_iovec`). */
export const iovec = struct("iovec", {
  iov_base: ptr,
  iov_len: size_t,
});

/**
 * `struct msghdr` as user space passes it to sendmsg/recvmsg: 56 bytes on x86-64 (msg_iov at 16,
 * msg_flags at 48), 28 bytes on i386 (`compat_msghdr`).
 */
export const msghdr = struct("msghdr", {
  msg_name: ptr,
  msg_namelen: u32,
  msg_iov: ptr,
  msg_iovlen: size_t,
  msg_control: ptr,
  msg_controllen: size_t,
  msg_flags: s32,
});

/** `struct cmsghdr`: 16 bytes on x86-64 (`cmsg_len` is a size_t), 12 on i386; data follows at CMSG_ALIGN(sizeof). */
export const cmsghdr = struct("cmsghdr", {
  cmsg_len: size_t,
  cmsg_level: s32,
  cmsg_type: s32,
});
