/**
 * Linux character devices: device-number regions with fs/char_dev.c's rules (static and dynamic majors, overlaps,
 * splitting per major), cdevs made live over ranges, /proc/devices, and the VFS's dispatch of file_operations with
 * the errnos Linux returns when an operation is missing or misused.
 *
 * @packageDocumentation
 */

export {
  Cdev,
  CHRDEV_MAJOR_DYN_END,
  CHRDEV_MAJOR_DYN_EXT_END,
  CHRDEV_MAJOR_DYN_EXT_START,
  CHRDEV_MAJOR_HASH_SIZE,
  CHRDEV_MAJOR_MAX,
  type ChrdevRegion,
  ChrdevRegistry,
  LOCAL_EXPERIMENTAL_CHAR_MAJORS,
} from "./char-dev.js";
export {
  findIoctlCollisions,
  type IoctlArgType,
  type IoctlCollision,
  type IoctlCommand,
  IoctlTable,
} from "./ioctl.js";
export { IOCTL_NAMES, ioctlName } from "./ioctl-names.js";
export {
  Module,
  type ModuleDefinition,
  ModuleLoader,
  type ModuleState,
  module_put,
  try_module_get,
} from "./module.js";
export {
  DEFAULT_POLLMASK,
  ENOIOCTLCMD,
  FASYNC,
  FIGETBSZ,
  FIOASYNC,
  FIOCLEX,
  FIONBIO,
  FIONCLEX,
  FIOQSIZE,
  File,
  type FileOperations,
  FMODE_LSEEK,
  FMODE_READ,
  FMODE_WRITE,
  Inode,
  MAX_RW_COUNT,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  SEEK_CUR,
  SEEK_END,
  SEEK_SET,
  Vfs,
} from "./vfs.js";
export {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLPRI,
  EPOLLRDNORM,
  EPOLLWRNORM,
  ERESTARTSYS,
  PollTable,
  poll_wait,
  WaitQueueHead,
} from "./wait.js";
