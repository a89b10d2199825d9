// Stop 1, @kbridge/uapi: an ioctl number decoded, a struct laid out for two ABIs, an errno explained.
import {
  _IOR,
  _IOWR,
  decodeIoctl,
  Errno,
  errnoName,
  formatIoctl,
  I386,
  KernelError,
  msghdr,
  pahole,
  strerror,
  v4l2_capability,
} from "@kbridge/uapi";
import type { Stop } from "../tour.js";

const hex = (n: number) => `0x${n.toString(16)}`;

function ioctlLines(): string[] {
  const cmd = 0x80685600; // what `strace v4l2-ctl --info` shows as the request of VIDIOC_QUERYCAP
  const f = decodeIoctl(cmd);
  const rebuilt = _IOR("V", 0, v4l2_capability);
  const tcgets = decodeIoctl(0x5401);
  return [
    `ioctl request ${hex(cmd)} decodes to ${formatIoctl(cmd)}:`,
    `  dir ${f.dirName} (the kernel copies ${f.size} bytes back to user space), type '${f.typeChar}', nr ${f.nr}`,
    `  _IOR('V', 0, struct v4l2_capability) rebuilds it from the struct's size: ${hex(rebuilt)}`,
    `  legacy TCGETS ${hex(0x5401)} decodes to dir ${tcgets.dirName}, size ${tcgets.size}, yet copies a 36-byte struct termios:`,
    "  the encoding is a convention, so a driver must not trust it for old numbers.",
  ];
}

function structLines(brief = false): string[] {
  const lp64 = msghdr.layout();
  const ilp32 = msghdr.layout(I386);
  const cmd64 = _IOWR("x", 1, lp64);
  const cmd32 = _IOWR("x", 1, ilp32);
  const listing = pahole(lp64);
  const hole = /XXX (\d+) bytes hole/.exec(listing)?.[1] ?? "no";
  return [
    ...(brief
      ? [
          `struct msghdr as a 64-bit program passes it to sendmsg(), laid out like gcc: ${lp64.size} bytes,`,
          `  with a ${hole}-byte hole after msg_namelen, so msg_iov is at ${lp64.offsetof("msg_iov")} (pahole() prints the whole layout);`,
        ]
      : [
          "struct msghdr as a 64-bit program passes it to sendmsg(), laid out like gcc (pahole format):",
          ...listing.split("\n").map((l) => (l === "" ? "" : `  ${l.replaceAll("\t", "    ")}`)),
        ]),
    `the same struct from a 32-bit program is ${ilp32.size} bytes with msg_iov at ${ilp32.offsetof("msg_iov")}, not ${lp64.offsetof("msg_iov")}:`,
    `  an ioctl that takes it gets another number (${hex(cmd64)} vs ${hex(cmd32)}), which is why compat_ioctl exists.`,
  ];
}

function errnoLines(): string[] {
  const ret = -Errno.EFAULT;
  const err = KernelError.fromReturn(ret, "copy_to_user could not write 16 bytes at 0x10", {
    syscall: "read",
  });
  return [
    `a system call returned ${ret}: ${errnoName(-ret)}, which glibc prints as "${strerror(-ret)}"`,
    `  as a KernelError: ${err.message}`,
    `a driver returning -ENOIOCTLCMD (${Errno.ENOIOCTLCMD}) never shows it to user space: "${strerror(Errno.ENOIOCTLCMD)}" is`,
    `  all glibc knows; the VFS turns it into ${errnoName(Errno.ENOTTY)} (${Errno.ENOTTY}, "${strerror(Errno.ENOTTY)}").`,
    `EWOULDBLOCK is EAGAIN: both are ${Errno.EWOULDBLOCK}, and errnoName(${Errno.EWOULDBLOCK}) says ${errnoName(Errno.EWOULDBLOCK)}.`,
  ];
}

/** The uapi stop of the tour. */
export const uapiStop: Stop = {
  title: "@kbridge/uapi: the user-space ABI — ioctl numbers, struct layouts, errno",
  lines: () => [...ioctlLines(), "", ...structLines(), "", ...errnoLines()],
  // In brief, pahole's listing gives way to its verdict (the size and the hole).
  brief: () => [...ioctlLines(), "", ...structLines(true), "", ...errnoLines()],
};
