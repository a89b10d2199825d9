/**
 * The user-space ABI of Linux, as the other kbridge packages and their users share it: errno numbers and
 * the one error type `KernelError`, ioctl request numbers, C struct layouts for LP64 and ILP32, and the
 * page and device-number vocabulary.
 *
 * @packageDocumentation
 */

export { type Abi, type ByteOrder, I386, X86_64 } from "./abi.js";
export { get16, get32, get64, put16, put32 } from "./bytes.js";
export { canGenerateCode } from "./codegen.js";
export {
  ERRNO_TABLE,
  Errno,
  type ErrnoCode,
  type ErrnoEntry,
  errnoEntry,
  errnoName,
  errnoNumber,
  isErrnoCode,
  isErrValue,
  KernelError,
  type KernelErrorOptions,
  MAX_ERRNO,
  strerror,
} from "./errno.js";
export {
  _IO,
  _IOC,
  _IOC_DIR,
  _IOC_DIRBITS,
  _IOC_DIRSHIFT,
  _IOC_NONE,
  _IOC_NR,
  _IOC_NRBITS,
  _IOC_NRSHIFT,
  _IOC_READ,
  _IOC_SIZE,
  _IOC_SIZEBITS,
  _IOC_SIZESHIFT,
  _IOC_TYPE,
  _IOC_TYPEBITS,
  _IOC_TYPESHIFT,
  _IOC_WRITE,
  _IOR,
  _IOW,
  _IOWR,
  decodeIoctl,
  formatIoctl,
  IOC_GENERIC,
  IOC_IN,
  IOC_INOUT,
  IOC_OUT,
  IOC_POWERPC,
  IOCSIZE_MASK,
  IOCSIZE_SHIFT,
  type IoctlFields,
  type IoctlLayout,
  ioctlDirName,
  type Sized,
} from "./ioctl.js";
export {
  MAJOR,
  MAJORMAX,
  MINOR,
  MINORBITS,
  MINORMASK,
  MKDEV,
  new_decode_dev,
  new_encode_dev,
} from "./kdev_t.js";
export { genlmsghdr } from "./linux/genetlink.js";
export { dma_buf_sync, file_clone_range, kvm_regs, pollfd, timespec, v4l2_capability } from "./linux/misc.js";
export { nlattr, nlmsgerr, nlmsghdr, sockaddr_nl } from "./linux/netlink.js";
export { ifaddrmsg, ifinfomsg, rtattr, rtmsg } from "./linux/rtnetlink.js";
export { cmsghdr, iovec, msghdr } from "./linux/socket.js";
export { glibc_termios, termios, termios2, winsize } from "./linux/termios.js";
export {
  type Addr,
  offset_in_page,
  PAGE_ALIGN,
  PAGE_ALIGN_DOWN,
  PAGE_ALIGNED,
  PAGE_MASK,
  PAGE_SHIFT,
  PAGE_SIZE,
  type PagingLevels,
  PFN_DOWN,
  PFN_PHYS,
  PFN_UP,
  TASK_SIZE_MAX_4LEVEL,
  TASK_SIZE_MAX_5LEVEL,
  taskSizeMax,
} from "./page.js";
export { pahole } from "./pahole.js";
export {
  aligned,
  aligned_u64,
  alignof,
  array,
  be16,
  be32,
  be64,
  bytes,
  type CodecOptions,
  type CType,
  char,
  type FieldLayout,
  type InitOf,
  Layout,
  le16,
  le32,
  le64,
  long,
  ptr,
  type StructMembers,
  type StructOptions,
  StructType,
  type StructValue,
  s8,
  s16,
  s32,
  s64,
  size_t,
  sizeof,
  ssize_t,
  struct,
  u8,
  u16,
  u32,
  u64,
  ulong,
  union,
  type ValueOf,
  type ViewOf,
} from "./struct.js";
export { utf8Decode, utf8Encode } from "./utf8.js";
