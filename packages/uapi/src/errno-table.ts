// Generated once from the Linux UAPI headers (asm-generic/errno-base.h, errno.h, linux/errno.h)
// with glibc strerror() messages; checked entry by entry against vectors/uapi/errno.json.

/** One row of the errno table: a primary name, its number and what glibc prints for it. */
export interface ErrnoEntry {
  /** The symbolic name, e.g. `EFAULT`. */
  readonly name: string;
  /** The positive errno number, e.g. 14. */
  readonly errno: number;
  /** What glibc `strerror()` prints for it; for kernel-internal codes, what the kernel header says it means. */
  readonly message: string;
  /** Other names of the same number (`EWOULDBLOCK` for `EAGAIN`). */
  readonly aliases: readonly string[];
  /** True for the kernel-internal codes 512…531 of include/linux/errno.h, which never reach user space. */
  readonly internal: boolean;
}

/**
 * Every errno number of x86-64 Linux (the asm-generic numbering, shared by arm64, riscv and most
 * other architectures), by name. Aliases (`EWOULDBLOCK`, `EDEADLOCK`) and the kernel-internal codes
 * (`ERESTARTSYS` 512 … `ENOGRACE` 531) are included; see {@link ERRNO_TABLE} for which is which.
 */
export const Errno = {
  /** 1: Operation not permitted. */
  EPERM: 1,
  /** 2: No such file or directory. */
  ENOENT: 2,
  /** 3: No such process. */
  ESRCH: 3,
  /** 4: Interrupted system call. */
  EINTR: 4,
  /** 5: Input/output error. */
  EIO: 5,
  /** 6: No such device or address. */
  ENXIO: 6,
  /** 7: Argument list too long. */
  E2BIG: 7,
  /** 8: Exec format error. */
  ENOEXEC: 8,
  /** 9: Bad file descriptor. */
  EBADF: 9,
  /** 10: No child processes. */
  ECHILD: 10,
  /** 11: Resource temporarily unavailable. */
  EAGAIN: 11,
  /** 11: alias of `EAGAIN`. */
  EWOULDBLOCK: 11,
  /** 12: Cannot allocate memory. */
  ENOMEM: 12,
  /** 13: Permission denied. */
  EACCES: 13,
  /** 14: Bad address. */
  EFAULT: 14,
  /** 15: Block device required. */
  ENOTBLK: 15,
  /** 16: Device or resource busy. */
  EBUSY: 16,
  /** 17: File exists. */
  EEXIST: 17,
  /** 18: Invalid cross-device link. */
  EXDEV: 18,
  /** 19: No such device. */
  ENODEV: 19,
  /** 20: Not a directory. */
  ENOTDIR: 20,
  /** 21: Is a directory. */
  EISDIR: 21,
  /** 22: Invalid argument. */
  EINVAL: 22,
  /** 23: Too many open files in system. */
  ENFILE: 23,
  /** 24: Too many open files. */
  EMFILE: 24,
  /** 25: Inappropriate ioctl for device. */
  ENOTTY: 25,
  /** 26: Text file busy. */
  ETXTBSY: 26,
  /** 27: File too large. */
  EFBIG: 27,
  /** 28: No space left on device. */
  ENOSPC: 28,
  /** 29: Illegal seek. */
  ESPIPE: 29,
  /** 30: Read-only file system. */
  EROFS: 30,
  /** 31: Too many links. */
  EMLINK: 31,
  /** 32: Broken pipe. */
  EPIPE: 32,
  /** 33: Numerical argument out of domain. */
  EDOM: 33,
  /** 34: Numerical result out of range. */
  ERANGE: 34,
  /** 35: Resource deadlock avoided. */
  EDEADLK: 35,
  /** 35: alias of `EDEADLK`. */
  EDEADLOCK: 35,
  /** 36: File name too long. */
  ENAMETOOLONG: 36,
  /** 37: No locks available. */
  ENOLCK: 37,
  /** 38: Function not implemented. */
  ENOSYS: 38,
  /** 39: Directory not empty. */
  ENOTEMPTY: 39,
  /** 40: Too many levels of symbolic links. */
  ELOOP: 40,
  /** 42: No message of desired type. */
  ENOMSG: 42,
  /** 43: Identifier removed. */
  EIDRM: 43,
  /** 44: Channel number out of range. */
  ECHRNG: 44,
  /** 45: Level 2 not synchronized. */
  EL2NSYNC: 45,
  /** 46: Level 3 halted. */
  EL3HLT: 46,
  /** 47: Level 3 reset. */
  EL3RST: 47,
  /** 48: Link number out of range. */
  ELNRNG: 48,
  /** 49: Protocol driver not attached. */
  EUNATCH: 49,
  /** 50: No CSI structure available. */
  ENOCSI: 50,
  /** 51: Level 2 halted. */
  EL2HLT: 51,
  /** 52: Invalid exchange. */
  EBADE: 52,
  /** 53: Invalid request descriptor. */
  EBADR: 53,
  /** 54: Exchange full. */
  EXFULL: 54,
  /** 55: No anode. */
  ENOANO: 55,
  /** 56: Invalid request code. */
  EBADRQC: 56,
  /** 57: Invalid slot. */
  EBADSLT: 57,
  /** 59: Bad font file format. */
  EBFONT: 59,
  /** 60: Device not a stream. */
  ENOSTR: 60,
  /** 61: No data available. */
  ENODATA: 61,
  /** 62: Timer expired. */
  ETIME: 62,
  /** 63: Out of streams resources. */
  ENOSR: 63,
  /** 64: Machine is not on the network. */
  ENONET: 64,
  /** 65: Package not installed. */
  ENOPKG: 65,
  /** 66: Object is remote. */
  EREMOTE: 66,
  /** 67: Link has been severed. */
  ENOLINK: 67,
  /** 68: Advertise error. */
  EADV: 68,
  /** 69: Srmount error. */
  ESRMNT: 69,
  /** 70: Communication error on send. */
  ECOMM: 70,
  /** 71: Protocol error. */
  EPROTO: 71,
  /** 72: Multihop attempted. */
  EMULTIHOP: 72,
  /** 73: RFS specific error. */
  EDOTDOT: 73,
  /** 74: Bad message. */
  EBADMSG: 74,
  /** 75: Value too large for defined data type. */
  EOVERFLOW: 75,
  /** 76: Name not unique on network. */
  ENOTUNIQ: 76,
  /** 77: File descriptor in bad state. */
  EBADFD: 77,
  /** 78: Remote address changed. */
  EREMCHG: 78,
  /** 79: Can not access a needed shared library. */
  ELIBACC: 79,
  /** 80: Accessing a corrupted shared library. */
  ELIBBAD: 80,
  /** 81: .lib section in a.out corrupted. */
  ELIBSCN: 81,
  /** 82: Attempting to link in too many shared libraries. */
  ELIBMAX: 82,
  /** 83: Cannot exec a shared library directly. */
  ELIBEXEC: 83,
  /** 84: Invalid or incomplete multibyte or wide character. */
  EILSEQ: 84,
  /** 85: Interrupted system call should be restarted. */
  ERESTART: 85,
  /** 86: Streams pipe error. */
  ESTRPIPE: 86,
  /** 87: Too many users. */
  EUSERS: 87,
  /** 88: Socket operation on non-socket. */
  ENOTSOCK: 88,
  /** 89: Destination address required. */
  EDESTADDRREQ: 89,
  /** 90: Message too long. */
  EMSGSIZE: 90,
  /** 91: Protocol wrong type for socket. */
  EPROTOTYPE: 91,
  /** 92: Protocol not available. */
  ENOPROTOOPT: 92,
  /** 93: Protocol not supported. */
  EPROTONOSUPPORT: 93,
  /** 94: Socket type not supported. */
  ESOCKTNOSUPPORT: 94,
  /** 95: Operation not supported. */
  EOPNOTSUPP: 95,
  /** 95: glibc's alias of `EOPNOTSUPP` (bits/errno.h); the kernel headers do not define it. */
  ENOTSUP: 95,
  /** 96: Protocol family not supported. */
  EPFNOSUPPORT: 96,
  /** 97: Address family not supported by protocol. */
  EAFNOSUPPORT: 97,
  /** 98: Address already in use. */
  EADDRINUSE: 98,
  /** 99: Cannot assign requested address. */
  EADDRNOTAVAIL: 99,
  /** 100: Network is down. */
  ENETDOWN: 100,
  /** 101: Network is unreachable. */
  ENETUNREACH: 101,
  /** 102: Network dropped connection on reset. */
  ENETRESET: 102,
  /** 103: Software caused connection abort. */
  ECONNABORTED: 103,
  /** 104: Connection reset by peer. */
  ECONNRESET: 104,
  /** 105: No buffer space available. */
  ENOBUFS: 105,
  /** 106: Transport endpoint is already connected. */
  EISCONN: 106,
  /** 107: Transport endpoint is not connected. */
  ENOTCONN: 107,
  /** 108: Cannot send after transport endpoint shutdown. */
  ESHUTDOWN: 108,
  /** 109: Too many references: cannot splice. */
  ETOOMANYREFS: 109,
  /** 110: Connection timed out. */
  ETIMEDOUT: 110,
  /** 111: Connection refused. */
  ECONNREFUSED: 111,
  /** 112: Host is down. */
  EHOSTDOWN: 112,
  /** 113: No route to host. */
  EHOSTUNREACH: 113,
  /** 114: Operation already in progress. */
  EALREADY: 114,
  /** 115: Operation now in progress. */
  EINPROGRESS: 115,
  /** 116: Stale file handle. */
  ESTALE: 116,
  /** 117: Structure needs cleaning. */
  EUCLEAN: 117,
  /** 118: Not a XENIX named type file. */
  ENOTNAM: 118,
  /** 119: No XENIX semaphores available. */
  ENAVAIL: 119,
  /** 120: Is a named type file. */
  EISNAM: 120,
  /** 121: Remote I/O error. */
  EREMOTEIO: 121,
  /** 122: Disk quota exceeded. */
  EDQUOT: 122,
  /** 123: No medium found. */
  ENOMEDIUM: 123,
  /** 124: Wrong medium type. */
  EMEDIUMTYPE: 124,
  /** 125: Operation canceled. */
  ECANCELED: 125,
  /** 126: Required key not available. */
  ENOKEY: 126,
  /** 127: Key has expired. */
  EKEYEXPIRED: 127,
  /** 128: Key has been revoked. */
  EKEYREVOKED: 128,
  /** 129: Key was rejected by service. */
  EKEYREJECTED: 129,
  /** 130: Owner died. */
  EOWNERDEAD: 130,
  /** 131: State not recoverable. */
  ENOTRECOVERABLE: 131,
  /** 132: Operation not possible due to RF-kill. */
  ERFKILL: 132,
  /** 133: Memory page has hardware error. */
  EHWPOISON: 133,
  /** 512: Kernel-internal, never seen by user space: restart the system call, or fail with EINTR if the signal handler says so. */
  ERESTARTSYS: 512,
  /** 513: Kernel-internal, never seen by user space: always restart the system call after the signal. */
  ERESTARTNOINTR: 513,
  /** 514: Kernel-internal, never seen by user space: restart if no handler. */
  ERESTARTNOHAND: 514,
  /** 515: Kernel-internal, never seen by user space: no ioctl command (the syscall layer turns it into ENOTTY). */
  ENOIOCTLCMD: 515,
  /** 516: Kernel-internal, never seen by user space: restart by calling sys_restart_syscall. */
  ERESTART_RESTARTBLOCK: 516,
  /** 517: Kernel-internal, never seen by user space: driver requests probe retry. */
  EPROBE_DEFER: 517,
  /** 518: Kernel-internal, never seen by user space: open found a stale dentry. */
  EOPENSTALE: 518,
  /** 519: Kernel-internal, never seen by user space: parameter not supported. */
  ENOPARAM: 519,
  /** 521: Kernel-internal, never seen by user space: illegal NFS file handle. */
  EBADHANDLE: 521,
  /** 522: Kernel-internal, never seen by user space: update synchronization mismatch. */
  ENOTSYNC: 522,
  /** 523: Kernel-internal, never seen by user space: cookie is stale. */
  EBADCOOKIE: 523,
  /**
   * 524: Kernel-internal: operation is not supported (an NFSv3 code). Meant never to reach user space, yet some
   * drivers leak it, where it prints as "Unknown error 524"; checkpatch asks for EOPNOTSUPP instead.
   */
  ENOTSUPP: 524,
  /** 525: Kernel-internal, never seen by user space: buffer or request is too small. */
  ETOOSMALL: 525,
  /** 526: Kernel-internal, never seen by user space: an untranslatable error occurred. */
  ESERVERFAULT: 526,
  /** 527: Kernel-internal, never seen by user space: type not supported by server. */
  EBADTYPE: 527,
  /** 528: Kernel-internal, never seen by user space: request initiated, but will not complete before timeout. */
  EJUKEBOX: 528,
  /** 529: Kernel-internal, never seen by user space: iocb queued, will get completion event. */
  EIOCBQUEUED: 529,
  /** 530: Kernel-internal, never seen by user space: conflict with recalled state. */
  ERECALLCONFLICT: 530,
  /** 531: Kernel-internal, never seen by user space: NFS file lock reclaim refused. */
  ENOGRACE: 531,
} as const;

/** A symbolic errno name known to kbridge (`'EFAULT'`, `'EWOULDBLOCK'`, `'ENOIOCTLCMD'` …). */
export type ErrnoCode = keyof typeof Errno;

/**
 * The errno table, one row per number, in ascending order: the 131 user-visible numbers (1…133 without 41 and 58; 133 names with the
 * kernel's aliases EWOULDBLOCK and EDEADLOCK, and glibc's ENOTSUP besides), then the 19 kernel-internal ones. */
export const ERRNO_TABLE: readonly ErrnoEntry[] = [
  { name: "EPERM", errno: 1, message: "Operation not permitted", aliases: [], internal: false },
  { name: "ENOENT", errno: 2, message: "No such file or directory", aliases: [], internal: false },
  { name: "ESRCH", errno: 3, message: "No such process", aliases: [], internal: false },
  { name: "EINTR", errno: 4, message: "Interrupted system call", aliases: [], internal: false },
  { name: "EIO", errno: 5, message: "Input/output error", aliases: [], internal: false },
  { name: "ENXIO", errno: 6, message: "No such device or address", aliases: [], internal: false },
  { name: "E2BIG", errno: 7, message: "Argument list too long", aliases: [], internal: false },
  { name: "ENOEXEC", errno: 8, message: "Exec format error", aliases: [], internal: false },
  { name: "EBADF", errno: 9, message: "Bad file descriptor", aliases: [], internal: false },
  { name: "ECHILD", errno: 10, message: "No child processes", aliases: [], internal: false },
  {
    name: "EAGAIN",
    errno: 11,
    message: "Resource temporarily unavailable",
    aliases: ["EWOULDBLOCK"],
    internal: false,
  },
  { name: "ENOMEM", errno: 12, message: "Cannot allocate memory", aliases: [], internal: false },
  { name: "EACCES", errno: 13, message: "Permission denied", aliases: [], internal: false },
  { name: "EFAULT", errno: 14, message: "Bad address", aliases: [], internal: false },
  { name: "ENOTBLK", errno: 15, message: "Block device required", aliases: [], internal: false },
  { name: "EBUSY", errno: 16, message: "Device or resource busy", aliases: [], internal: false },
  { name: "EEXIST", errno: 17, message: "File exists", aliases: [], internal: false },
  { name: "EXDEV", errno: 18, message: "Invalid cross-device link", aliases: [], internal: false },
  { name: "ENODEV", errno: 19, message: "No such device", aliases: [], internal: false },
  { name: "ENOTDIR", errno: 20, message: "Not a directory", aliases: [], internal: false },
  { name: "EISDIR", errno: 21, message: "Is a directory", aliases: [], internal: false },
  { name: "EINVAL", errno: 22, message: "Invalid argument", aliases: [], internal: false },
  { name: "ENFILE", errno: 23, message: "Too many open files in system", aliases: [], internal: false },
  { name: "EMFILE", errno: 24, message: "Too many open files", aliases: [], internal: false },
  { name: "ENOTTY", errno: 25, message: "Inappropriate ioctl for device", aliases: [], internal: false },
  { name: "ETXTBSY", errno: 26, message: "Text file busy", aliases: [], internal: false },
  { name: "EFBIG", errno: 27, message: "File too large", aliases: [], internal: false },
  { name: "ENOSPC", errno: 28, message: "No space left on device", aliases: [], internal: false },
  { name: "ESPIPE", errno: 29, message: "Illegal seek", aliases: [], internal: false },
  { name: "EROFS", errno: 30, message: "Read-only file system", aliases: [], internal: false },
  { name: "EMLINK", errno: 31, message: "Too many links", aliases: [], internal: false },
  { name: "EPIPE", errno: 32, message: "Broken pipe", aliases: [], internal: false },
  { name: "EDOM", errno: 33, message: "Numerical argument out of domain", aliases: [], internal: false },
  { name: "ERANGE", errno: 34, message: "Numerical result out of range", aliases: [], internal: false },
  {
    name: "EDEADLK",
    errno: 35,
    message: "Resource deadlock avoided",
    aliases: ["EDEADLOCK"],
    internal: false,
  },
  { name: "ENAMETOOLONG", errno: 36, message: "File name too long", aliases: [], internal: false },
  { name: "ENOLCK", errno: 37, message: "No locks available", aliases: [], internal: false },
  { name: "ENOSYS", errno: 38, message: "Function not implemented", aliases: [], internal: false },
  { name: "ENOTEMPTY", errno: 39, message: "Directory not empty", aliases: [], internal: false },
  { name: "ELOOP", errno: 40, message: "Too many levels of symbolic links", aliases: [], internal: false },
  { name: "ENOMSG", errno: 42, message: "No message of desired type", aliases: [], internal: false },
  { name: "EIDRM", errno: 43, message: "Identifier removed", aliases: [], internal: false },
  { name: "ECHRNG", errno: 44, message: "Channel number out of range", aliases: [], internal: false },
  { name: "EL2NSYNC", errno: 45, message: "Level 2 not synchronized", aliases: [], internal: false },
  { name: "EL3HLT", errno: 46, message: "Level 3 halted", aliases: [], internal: false },
  { name: "EL3RST", errno: 47, message: "Level 3 reset", aliases: [], internal: false },
  { name: "ELNRNG", errno: 48, message: "Link number out of range", aliases: [], internal: false },
  { name: "EUNATCH", errno: 49, message: "Protocol driver not attached", aliases: [], internal: false },
  { name: "ENOCSI", errno: 50, message: "No CSI structure available", aliases: [], internal: false },
  { name: "EL2HLT", errno: 51, message: "Level 2 halted", aliases: [], internal: false },
  { name: "EBADE", errno: 52, message: "Invalid exchange", aliases: [], internal: false },
  { name: "EBADR", errno: 53, message: "Invalid request descriptor", aliases: [], internal: false },
  { name: "EXFULL", errno: 54, message: "Exchange full", aliases: [], internal: false },
  { name: "ENOANO", errno: 55, message: "No anode", aliases: [], internal: false },
  { name: "EBADRQC", errno: 56, message: "Invalid request code", aliases: [], internal: false },
  { name: "EBADSLT", errno: 57, message: "Invalid slot", aliases: [], internal: false },
  { name: "EBFONT", errno: 59, message: "Bad font file format", aliases: [], internal: false },
  { name: "ENOSTR", errno: 60, message: "Device not a stream", aliases: [], internal: false },
  { name: "ENODATA", errno: 61, message: "No data available", aliases: [], internal: false },
  { name: "ETIME", errno: 62, message: "Timer expired", aliases: [], internal: false },
  { name: "ENOSR", errno: 63, message: "Out of streams resources", aliases: [], internal: false },
  { name: "ENONET", errno: 64, message: "Machine is not on the network", aliases: [], internal: false },
  { name: "ENOPKG", errno: 65, message: "Package not installed", aliases: [], internal: false },
  { name: "EREMOTE", errno: 66, message: "Object is remote", aliases: [], internal: false },
  { name: "ENOLINK", errno: 67, message: "Link has been severed", aliases: [], internal: false },
  { name: "EADV", errno: 68, message: "Advertise error", aliases: [], internal: false },
  { name: "ESRMNT", errno: 69, message: "Srmount error", aliases: [], internal: false },
  { name: "ECOMM", errno: 70, message: "Communication error on send", aliases: [], internal: false },
  { name: "EPROTO", errno: 71, message: "Protocol error", aliases: [], internal: false },
  { name: "EMULTIHOP", errno: 72, message: "Multihop attempted", aliases: [], internal: false },
  { name: "EDOTDOT", errno: 73, message: "RFS specific error", aliases: [], internal: false },
  { name: "EBADMSG", errno: 74, message: "Bad message", aliases: [], internal: false },
  {
    name: "EOVERFLOW",
    errno: 75,
    message: "Value too large for defined data type",
    aliases: [],
    internal: false,
  },
  { name: "ENOTUNIQ", errno: 76, message: "Name not unique on network", aliases: [], internal: false },
  { name: "EBADFD", errno: 77, message: "File descriptor in bad state", aliases: [], internal: false },
  { name: "EREMCHG", errno: 78, message: "Remote address changed", aliases: [], internal: false },
  {
    name: "ELIBACC",
    errno: 79,
    message: "Can not access a needed shared library",
    aliases: [],
    internal: false,
  },
  {
    name: "ELIBBAD",
    errno: 80,
    message: "Accessing a corrupted shared library",
    aliases: [],
    internal: false,
  },
  { name: "ELIBSCN", errno: 81, message: ".lib section in a.out corrupted", aliases: [], internal: false },
  {
    name: "ELIBMAX",
    errno: 82,
    message: "Attempting to link in too many shared libraries",
    aliases: [],
    internal: false,
  },
  {
    name: "ELIBEXEC",
    errno: 83,
    message: "Cannot exec a shared library directly",
    aliases: [],
    internal: false,
  },
  {
    name: "EILSEQ",
    errno: 84,
    message: "Invalid or incomplete multibyte or wide character",
    aliases: [],
    internal: false,
  },
  {
    name: "ERESTART",
    errno: 85,
    message: "Interrupted system call should be restarted",
    aliases: [],
    internal: false,
  },
  { name: "ESTRPIPE", errno: 86, message: "Streams pipe error", aliases: [], internal: false },
  { name: "EUSERS", errno: 87, message: "Too many users", aliases: [], internal: false },
  { name: "ENOTSOCK", errno: 88, message: "Socket operation on non-socket", aliases: [], internal: false },
  { name: "EDESTADDRREQ", errno: 89, message: "Destination address required", aliases: [], internal: false },
  { name: "EMSGSIZE", errno: 90, message: "Message too long", aliases: [], internal: false },
  { name: "EPROTOTYPE", errno: 91, message: "Protocol wrong type for socket", aliases: [], internal: false },
  { name: "ENOPROTOOPT", errno: 92, message: "Protocol not available", aliases: [], internal: false },
  { name: "EPROTONOSUPPORT", errno: 93, message: "Protocol not supported", aliases: [], internal: false },
  { name: "ESOCKTNOSUPPORT", errno: 94, message: "Socket type not supported", aliases: [], internal: false },
  {
    name: "EOPNOTSUPP",
    errno: 95,
    message: "Operation not supported",
    aliases: ["ENOTSUP"],
    internal: false,
  },
  { name: "EPFNOSUPPORT", errno: 96, message: "Protocol family not supported", aliases: [], internal: false },
  {
    name: "EAFNOSUPPORT",
    errno: 97,
    message: "Address family not supported by protocol",
    aliases: [],
    internal: false,
  },
  { name: "EADDRINUSE", errno: 98, message: "Address already in use", aliases: [], internal: false },
  {
    name: "EADDRNOTAVAIL",
    errno: 99,
    message: "Cannot assign requested address",
    aliases: [],
    internal: false,
  },
  { name: "ENETDOWN", errno: 100, message: "Network is down", aliases: [], internal: false },
  { name: "ENETUNREACH", errno: 101, message: "Network is unreachable", aliases: [], internal: false },
  {
    name: "ENETRESET",
    errno: 102,
    message: "Network dropped connection on reset",
    aliases: [],
    internal: false,
  },
  {
    name: "ECONNABORTED",
    errno: 103,
    message: "Software caused connection abort",
    aliases: [],
    internal: false,
  },
  { name: "ECONNRESET", errno: 104, message: "Connection reset by peer", aliases: [], internal: false },
  { name: "ENOBUFS", errno: 105, message: "No buffer space available", aliases: [], internal: false },
  {
    name: "EISCONN",
    errno: 106,
    message: "Transport endpoint is already connected",
    aliases: [],
    internal: false,
  },
  {
    name: "ENOTCONN",
    errno: 107,
    message: "Transport endpoint is not connected",
    aliases: [],
    internal: false,
  },
  {
    name: "ESHUTDOWN",
    errno: 108,
    message: "Cannot send after transport endpoint shutdown",
    aliases: [],
    internal: false,
  },
  {
    name: "ETOOMANYREFS",
    errno: 109,
    message: "Too many references: cannot splice",
    aliases: [],
    internal: false,
  },
  { name: "ETIMEDOUT", errno: 110, message: "Connection timed out", aliases: [], internal: false },
  { name: "ECONNREFUSED", errno: 111, message: "Connection refused", aliases: [], internal: false },
  { name: "EHOSTDOWN", errno: 112, message: "Host is down", aliases: [], internal: false },
  { name: "EHOSTUNREACH", errno: 113, message: "No route to host", aliases: [], internal: false },
  { name: "EALREADY", errno: 114, message: "Operation already in progress", aliases: [], internal: false },
  { name: "EINPROGRESS", errno: 115, message: "Operation now in progress", aliases: [], internal: false },
  { name: "ESTALE", errno: 116, message: "Stale file handle", aliases: [], internal: false },
  { name: "EUCLEAN", errno: 117, message: "Structure needs cleaning", aliases: [], internal: false },
  { name: "ENOTNAM", errno: 118, message: "Not a XENIX named type file", aliases: [], internal: false },
  { name: "ENAVAIL", errno: 119, message: "No XENIX semaphores available", aliases: [], internal: false },
  { name: "EISNAM", errno: 120, message: "Is a named type file", aliases: [], internal: false },
  { name: "EREMOTEIO", errno: 121, message: "Remote I/O error", aliases: [], internal: false },
  { name: "EDQUOT", errno: 122, message: "Disk quota exceeded", aliases: [], internal: false },
  { name: "ENOMEDIUM", errno: 123, message: "No medium found", aliases: [], internal: false },
  { name: "EMEDIUMTYPE", errno: 124, message: "Wrong medium type", aliases: [], internal: false },
  { name: "ECANCELED", errno: 125, message: "Operation canceled", aliases: [], internal: false },
  { name: "ENOKEY", errno: 126, message: "Required key not available", aliases: [], internal: false },
  { name: "EKEYEXPIRED", errno: 127, message: "Key has expired", aliases: [], internal: false },
  { name: "EKEYREVOKED", errno: 128, message: "Key has been revoked", aliases: [], internal: false },
  { name: "EKEYREJECTED", errno: 129, message: "Key was rejected by service", aliases: [], internal: false },
  { name: "EOWNERDEAD", errno: 130, message: "Owner died", aliases: [], internal: false },
  { name: "ENOTRECOVERABLE", errno: 131, message: "State not recoverable", aliases: [], internal: false },
  {
    name: "ERFKILL",
    errno: 132,
    message: "Operation not possible due to RF-kill",
    aliases: [],
    internal: false,
  },
  { name: "EHWPOISON", errno: 133, message: "Memory page has hardware error", aliases: [], internal: false },
  {
    name: "ERESTARTSYS",
    errno: 512,
    message: "restart the system call, or fail with EINTR if the signal handler says so",
    aliases: [],
    internal: true,
  },
  {
    name: "ERESTARTNOINTR",
    errno: 513,
    message: "always restart the system call after the signal",
    aliases: [],
    internal: true,
  },
  { name: "ERESTARTNOHAND", errno: 514, message: "restart if no handler", aliases: [], internal: true },
  {
    name: "ENOIOCTLCMD",
    errno: 515,
    message: "no ioctl command (the syscall layer turns it into ENOTTY)",
    aliases: [],
    internal: true,
  },
  {
    name: "ERESTART_RESTARTBLOCK",
    errno: 516,
    message: "restart by calling sys_restart_syscall",
    aliases: [],
    internal: true,
  },
  { name: "EPROBE_DEFER", errno: 517, message: "driver requests probe retry", aliases: [], internal: true },
  { name: "EOPENSTALE", errno: 518, message: "open found a stale dentry", aliases: [], internal: true },
  { name: "ENOPARAM", errno: 519, message: "parameter not supported", aliases: [], internal: true },
  { name: "EBADHANDLE", errno: 521, message: "illegal NFS file handle", aliases: [], internal: true },
  { name: "ENOTSYNC", errno: 522, message: "update synchronization mismatch", aliases: [], internal: true },
  { name: "EBADCOOKIE", errno: 523, message: "cookie is stale", aliases: [], internal: true },
  {
    name: "ENOTSUPP",
    errno: 524,
    message: "operation is not supported (NFSv3; leaked by some drivers as 524, so use EOPNOTSUPP)",
    aliases: [],
    internal: true,
  },
  { name: "ETOOSMALL", errno: 525, message: "buffer or request is too small", aliases: [], internal: true },
  {
    name: "ESERVERFAULT",
    errno: 526,
    message: "an untranslatable error occurred",
    aliases: [],
    internal: true,
  },
  { name: "EBADTYPE", errno: 527, message: "type not supported by server", aliases: [], internal: true },
  {
    name: "EJUKEBOX",
    errno: 528,
    message: "request initiated, but will not complete before timeout",
    aliases: [],
    internal: true,
  },
  {
    name: "EIOCBQUEUED",
    errno: 529,
    message: "iocb queued, will get completion event",
    aliases: [],
    internal: true,
  },
  {
    name: "ERECALLCONFLICT",
    errno: 530,
    message: "conflict with recalled state",
    aliases: [],
    internal: true,
  },
  { name: "ENOGRACE", errno: 531, message: "NFS file lock reclaim refused", aliases: [], internal: true },
];
