/**
 * A running simulated Linux kernel composed from the kbridge packages: tasks with credentials, and the
 * af_netlink socket layer with the rules, errnos and buffer accounting of Linux 6.18.
 *
 * @packageDocumentation
 */

export {
  CAP_LAST_CAP,
  CAP_NET_ADMIN,
  CAP_NET_BROADCAST,
  CAP_SETGID,
  CAP_SETUID,
  CAP_SYS_ADMIN,
  CAP_SYS_MODULE,
  Cred,
  type CredInit,
  capName,
} from "./cred.js";
export {
  type FileCaller,
  FMODE_READ,
  FMODE_WRITE,
  type IovIter,
  KFile,
  type KFileOps,
  sleepOn,
} from "./fs/file.js";
export * from "./fs/permission.js";
export * from "./fs/pipe.js";
export * from "./fs/procfs.js";
export * from "./fs/seq-file.js";
export * from "./kernel/futex.js";
export {
  type FileObject,
  Kernel,
  type KernelOptions,
  OpenFile,
  type PathOpener,
  SIGINT,
  SIGKILL,
  SIGPIPE,
  SIGTERM,
  type SpawnOptions,
  Task,
  TraceEntry,
} from "./kernel.js";
export { type Cmsg, Libc, type RecvResult, type SockaddrNlInit, sockaddrUn } from "./libc.js";
export * from "./mm/shmem.js";
export * from "./net/core/rtnetlink.js";
export * from "./net/netlink/af-netlink.js";
export * from "./net/netlink/genetlink.js";
export * from "./net/unix/af-unix.js";
export {
  F_GETFD,
  F_GETFL,
  F_GETPIPE_SZ,
  F_SETFD,
  F_SETFL,
  F_SETPIPE_SZ,
  FD_CLOEXEC,
  MODULE_NAME_LEN,
  O_CLOEXEC,
  POLLNVAL,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCKADDR_STORAGE_SIZE,
  Syscalls,
  UIO_MAXIOV,
} from "./syscalls.js";
