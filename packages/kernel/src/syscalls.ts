// The system-call layer: every argument that is a pointer is a user address in the calling task's address space,
// and every byte crosses through copy_from_user / copy_to_user (accounted by the vmm), as net/socket.c
// (__sys_socket, __sys_bind, ___sys_sendmsg, ____sys_recvmsg, move_addr_to_kernel/user, put_cmsg),
// fs/read_write.c, fs/ioctl.c, fs/open.c, mm/mmap.c and kernel/module/main.c do it. Each call appends an
// strace-like line to the kernel's trace.

import { DEFAULT_POLLMASK, O_NONBLOCK, PollTable, type WaitQueueHead } from "@kbridge/chrdev";
import { nlmsgFlagNames } from "@kbridge/netlink-codec";
import { type Addr, get16, get32, KernelError, put32, utf8Decode } from "@kbridge/uapi";
import { MAP_ANONYMOUS } from "@kbridge/vmm";
import { CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN, CAP_SYS_MODULE } from "./cred.js";
import { type FileCaller, FMODE_READ, FMODE_WRITE, type IovIter, type KFile } from "./fs/file.js";
import { get_pipe_info, O_DIRECT, sys_mkfifo, sys_pipe2 } from "./fs/pipe.js";
import { sys_futex } from "./kernel/futex.js";
import type { Kernel, Task } from "./kernel.js";
import { OpenFile } from "./kernel.js";
import { ShmOpenFile, sys_ftruncate, sys_unlink } from "./mm/shmem.js";
import {
  AF_NETLINK,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  NETLINK_SOCKOPT,
  type NetlinkCaller,
  type NetlinkRecv,
  type NetlinkSock,
  SOL_NETLINK,
  SOL_SOCKET,
  type SockaddrNl,
} from "./net/netlink/af-netlink.js";
import {
  AF_UNIX,
  fput,
  SCM_MAX_FD,
  SOCK_SEQPACKET,
  type UnixRecv,
  ucredBytes,
  unix_get_socket,
} from "./net/unix/af-unix.js";

const EPERM = -1;
const ENOENT = -2;
const EINTR = -4;
const EOPNOTSUPP = -95;
const ESRCH = -3;
const EBADF = -9;
const EFAULT = -14;
const EINVAL = -22;
const ENOTTY = -25;
const ESPIPE = -29;
const ENODEV = -19;
const ENOTSOCK = -88;
const EMSGSIZE = -90;
const ENOPROTOOPT = -92;
const EAFNOSUPPORT = -97;
const ENOBUFS = -105;

/** `SOCK_NONBLOCK` (O_NONBLOCK, 0o4000). */
export const SOCK_NONBLOCK = 0o4000;
/** `SOCK_CLOEXEC` (O_CLOEXEC, 0o2000000). */
export const SOCK_CLOEXEC = 0o2000000;
/** `O_CLOEXEC` (0o2000000). */
export const O_CLOEXEC = 0o2000000;
/** `sizeof(struct sockaddr_storage)`: 128, the most an address may be. */
export const SOCKADDR_STORAGE_SIZE = 128;
/** `UIO_MAXIOV`: 1024 iovecs at most. */
export const UIO_MAXIOV = 1024;
/** `MODULE_NAME_LEN`: 56. */
export const MODULE_NAME_LEN = 56;
/** `F_GETFD` (1). */
export const F_GETFD = 1;
/** `F_SETFD` (2). */
export const F_SETFD = 2;
/** `F_GETFL` (3). */
export const F_GETFL = 3;
/** `F_SETFL` (4). */
export const F_SETFL = 4;
/** `F_SETPIPE_SZ` (1031): F_LINUX_SPECIFIC_BASE + 7. */
export const F_SETPIPE_SZ = 1031;
/** `F_GETPIPE_SZ` (1032). */
export const F_GETPIPE_SZ = 1032;
/** `FD_CLOEXEC` (1). */
export const FD_CLOEXEC = 1;
const FCNTL_NAMES: Readonly<Record<number, string>> = {
  1: "F_GETFD",
  2: "F_SETFD",
  3: "F_GETFL",
  4: "F_SETFL",
  1031: "F_SETPIPE_SZ",
  1032: "F_GETPIPE_SZ",
};
/** `POLLNVAL` (0x20): the fd is not open. */
export const POLLNVAL = 0x20;

const MAX_RW_COUNT = 0x7ffff000;
/** `MSG_CMSG_CLOEXEC` (0x40000000): kept in the msg_flags recvmsg writes back. */
const MSG_CMSG_CLOEXEC = 0x40000000;
/** `MSG_CMSG_COMPAT` (0x80000000): sendmsg and recvmsg refuse it from a 64-bit caller (EINVAL). */
const MSG_CMSG_COMPAT = 0x80000000;
/** `SOCK_MAX`: socket types are below 11. */
const SOCK_MAX = 11;
/** `sizeof(struct cmsghdr) + 20`: control data up to this size uses ____sys_sendmsg's stack buffer. */
const CTL_STACK = 36;
/** `net.core.optmem_max` (128 KiB since 6.9): sock_kmalloc() refuses a control buffer this large (ENOBUFS). */
const OPTMEM_MAX = 128 * 1024;
const SCM_RIGHTS = 1;
const SCM_CREDENTIALS = 2;
/** `TCP_ESTABLISHED`: a connected AF_UNIX socket's `sk_state`. */
const TCP_ESTABLISHED = 1;

const AF_NAMES: Readonly<Record<number, string>> = {
  0: "AF_UNSPEC",
  1: "AF_UNIX",
  2: "AF_INET",
  10: "AF_INET6",
  16: "AF_NETLINK",
};
const SOCK_NAMES: Readonly<Record<number, string>> = {
  1: "SOCK_STREAM",
  2: "SOCK_DGRAM",
  3: "SOCK_RAW",
  5: "SOCK_SEQPACKET",
};
const NETLINK_NAMES = [
  "NETLINK_ROUTE",
  "NETLINK_UNUSED",
  "NETLINK_USERSOCK",
  "NETLINK_FIREWALL",
  "NETLINK_SOCK_DIAG",
  "NETLINK_NFLOG",
  "NETLINK_XFRM",
  "NETLINK_SELINUX",
  "NETLINK_ISCSI",
  "NETLINK_AUDIT",
  "NETLINK_FIB_LOOKUP",
  "NETLINK_CONNECTOR",
  "NETLINK_NETFILTER",
  "NETLINK_IP6_FW",
  "NETLINK_DNRTMSG",
  "NETLINK_KOBJECT_UEVENT",
  "NETLINK_GENERIC",
];
const NLOPT_NAMES = [
  "",
  "NETLINK_ADD_MEMBERSHIP",
  "NETLINK_DROP_MEMBERSHIP",
  "NETLINK_PKTINFO",
  "NETLINK_BROADCAST_ERROR",
  "NETLINK_NO_ENOBUFS",
  "NETLINK_RX_RING",
  "NETLINK_TX_RING",
  "NETLINK_LISTEN_ALL_NSID",
  "NETLINK_LIST_MEMBERSHIPS",
  "NETLINK_CAP_ACK",
  "NETLINK_EXT_ACK",
  "NETLINK_GET_STRICT_CHK",
];
const MSG_NAMES: readonly [number, string][] = [
  [0x1, "MSG_OOB"],
  [0x2, "MSG_PEEK"],
  [0x8, "MSG_CTRUNC"],
  [0x20, "MSG_TRUNC"],
  [0x40, "MSG_DONTWAIT"],
  [0x100, "MSG_WAITALL"],
  [0x40000000, "MSG_CMSG_CLOEXEC"],
];

const hex = (v: number) => `0x${v.toString(16)}`;
const named = (table: Readonly<Record<number, string>> | readonly string[], v: number) =>
  (table as Record<number, string>)[v] || String(v);
function msgFlags(f: number): string {
  if (f === 0) return "0";
  const out: string[] = [];
  let rest = f;
  for (const [bit, name] of MSG_NAMES) {
    if (f & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(hex(rest));
  return out.join("|");
}
// A socket type as strace shows it: the type, then SOCK_NONBLOCK and SOCK_CLOEXEC.
function sockType(type: number): string {
  const extra = [
    type & SOCK_NONBLOCK ? "SOCK_NONBLOCK" : "",
    type & SOCK_CLOEXEC ? "SOCK_CLOEXEC" : "",
  ].filter(Boolean);
  return [named(SOCK_NAMES, type & 0xf), ...extra].join("|");
}
const C_ESCAPES: Readonly<Record<number, string>> = {
  34: '\\"',
  92: "\\\\",
  12: "\\f",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  11: "\\v",
};
// strace's string_quote(): printable ASCII as is, the C escapes, anything else in octal (three digits when a
// digit 0-7 follows, so the escape cannot run on).
function quoteBytes(b: Uint8Array): string {
  let out = '"';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    const esc = C_ESCAPES[c];
    if (esc !== undefined) out += esc;
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else {
      const next = b[i + 1];
      const full = next !== undefined && next >= 0x30 && next <= 0x37;
      out += `\\${full ? c.toString(8).padStart(3, "0") : c.toString(8)}`;
    }
  }
  return `${out}"`;
}
function fmtSockaddr(a: Uint8Array, len: number): string {
  if (len < 2) return "{}";
  const fam = get16(a, 0, true);
  if (fam === AF_UNIX) {
    if (len <= 2) return "{sa_family=AF_UNIX}";
    // print_sockaddr_data_un(): at most sizeof(struct sockaddr_un) bytes; a path ends at its NUL, an abstract
    // name (leading NUL, shown as @) is all of its bytes, NULs included.
    const path = a.subarray(2, Math.min(len, 110));
    if (path[0] === 0) return `{sa_family=AF_UNIX, sun_path=@${quoteBytes(path.subarray(1))}}`;
    const nul = path.indexOf(0);
    return `{sa_family=AF_UNIX, sun_path=${quoteBytes(path.subarray(0, nul < 0 ? path.length : nul))}}`;
  }
  if (fam !== AF_NETLINK || len < 12) return `{sa_family=${named(AF_NAMES, fam)}}`;
  return `{sa_family=AF_NETLINK, nl_pid=${get32(a, 4, true)}, nl_groups=${get32(a, 8, true).toString(16).padStart(8, "0")}}`;
}
function fmtNlmsg(b: Uint8Array | undefined, total: number): string | undefined {
  if (b === undefined) return undefined;
  if (b.length < 16) return `"${b.length} bytes"`;
  const flags = get16(b, 6, true);
  const names = nlmsgFlagNames(flags).join("|") || "0";
  return `[{nlmsg_len=${get32(b, 0, true)}, nlmsg_type=${hex(get16(b, 4, true))}, nlmsg_flags=${names}, nlmsg_seq=${get32(b, 8, true)}, nlmsg_pid=${get32(b, 12, true)}}${total > 16 ? ", ..." : ""}]`;
}

// import_ubuf(): the length is a size_t, so a negative int is huge and capped at MAX_RW_COUNT like any other.
function ubufLen(len: number): number {
  return len < 0 || len > MAX_RW_COUNT ? MAX_RW_COUNT : len;
}

interface Iov {
  readonly base: number;
  readonly len: number;
}

/** A kernel address as a JS number (user addresses below 2^53). */
function addr(v: bigint): number {
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/**
 * The system calls of one {@link Kernel}. Each takes the calling task first; pointers are user addresses in its
 * address space. They return what the kernel returns to user space (a count, an fd, 0) or a negative errno, and a
 * Promise for a call that sleeps (a blocking recvmsg or read with nothing to read).
 */
export class Syscalls {
  readonly #k: Kernel;

  /** @internal */
  constructor(kernel: Kernel) {
    this.#k = kernel;
  }

  #enter(t: Task, op: string): void {
    if (t === null || typeof t !== "object" || t.exited === undefined)
      throw new KernelError("EINVAL", "not a Task", { syscall: op });
    if (t.exited) throw new KernelError("ESRCH", `task ${t.pid} has exited`, { syscall: op });
    if (this.#k.vmm.current !== t.mm) this.#k.vmm.switch_mm(t.mm);
    this.#k.current = t;
  }

  #ints(op: string, args: Readonly<Record<string, unknown>>): void {
    // for-in, not Object.entries: every system call passes here, and the entries array was a tenth of a round trip.
    for (const name in args) this.#int(op, name, args[name]);
  }

  #int(op: string, name: string, v: unknown): number {
    if (typeof v !== "number" || !Number.isInteger(v))
      throw new KernelError("EINVAL", `${name} ${String(v)} is not an integer`, { syscall: op });
    return v;
  }

  #done<T extends number>(
    t: Task,
    name: string,
    args: () => string[],
    ret: T | Promise<T>,
    hexRet = false,
  ): T | Promise<T> {
    if (ret instanceof Promise) {
      return ret.then((r) => {
        this.#k.record(t, name, args, r, hexRet);
        return r;
      });
    }
    this.#k.record(t, name, args, ret, hexRet);
    return ret;
  }

  #copyIn(src: number, n: number): Uint8Array | number {
    const b = new Uint8Array(n);
    if (n > 0 && this.#k.vmm.copy_from_user(b, src, n) !== 0) return EFAULT;
    return b;
  }

  #copyOut(dst: number, b: Uint8Array): number {
    if (b.length > 0 && this.#k.vmm.copy_to_user(dst, b, b.length) !== 0) return EFAULT;
    return 0;
  }

  #getInt(p: number): number | undefined {
    const r = this.#k.vmm.get_user(p, 4);
    return r.ret === 0 ? Number(r.val) | 0 : undefined;
  }

  #putInt(p: number, v: number): number {
    return this.#k.vmm.put_user(p, v >>> 0, 4);
  }

  // `current` as af_netlink sees it, with the queues a blocking call sleeps on (so a signal reaches it).
  /** @internal `current` as an in-kernel file's methods see it. */
  fileCaller(t: Task): FileCaller {
    return {
      tgid: t.tgid,
      pid: t.pid,
      cred: t.cred,
      sleepingOn: t.sleepingOn,
      signal: (sig) => {
        this.#k.kill(t, sig);
      },
    };
  }

  // An iov_iter over one user buffer: copies go through copy_to_user / copy_from_user in the task's address space
  // (re-entered when the copy runs after a sleep).
  #iter(t: Task, base: number, len: number): IovIter {
    let at = 0;
    const vmm = this.#k.vmm;
    const enter = () => {
      if (vmm.current !== t.mm) vmm.switch_mm(t.mm);
    };
    return {
      get count() {
        return len - at;
      },
      copyOut(src: Uint8Array): number {
        enter();
        const n = Math.min(src.length, len - at);
        if (n === 0) return 0;
        const done = n - vmm.copy_to_user(base + at, src.subarray(0, n), n);
        at += done;
        return done;
      },
      copyIn(dst: Uint8Array): number {
        enter();
        const n = Math.min(dst.length, len - at);
        if (n === 0) return 0;
        const left = vmm.copy_from_user(dst.subarray(0, n), base + at, n);
        at += n - left;
        return n - left;
      },
    };
  }

  #caller(t: Task): NetlinkCaller & { readonly sleepingOn: Set<WaitQueueHead> } {
    return { tgid: t.tgid, pid: t.pid, cred: t.cred, sleepingOn: t.sleepingOn };
  }

  // get_unused_fd_flags(): the lowest descriptor from `from` on that is free (installFd takes the lowest).
  #freeFd(t: Task, from: number): number {
    let fd = from;
    while (t.fds[fd] !== undefined) fd++;
    return fd;
  }

  // The AF_UNIX socket behind descriptor `fd`, if it is one.
  #unixOf(t: Task, fd: number): KFile | undefined {
    const o = t.fds[fd]?.object;
    return o?.kind === "kfile" && unix_get_socket(o.file) !== undefined ? o.file : undefined;
  }

  // An iov_iter over several user buffers (import_iovec's result), in the task's address space.
  #iterv(t: Task, iovs: readonly Iov[]): IovIter {
    let i = 0;
    let off = 0;
    const vmm = this.#k.vmm;
    const total = iovs.reduce((n, v) => n + v.len, 0);
    let done = 0;
    const step = (buf: Uint8Array, out: boolean): number => {
      if (vmm.current !== t.mm) vmm.switch_mm(t.mm);
      let copied = 0;
      while (copied < buf.length && i < iovs.length) {
        const v = iovs[i]!;
        const n = Math.min(v.len - off, buf.length - copied);
        if (n > 0) {
          const part = buf.subarray(copied, copied + n);
          const left = out
            ? vmm.copy_to_user(v.base + off, part, n)
            : vmm.copy_from_user(part, v.base + off, n);
          copied += n - left;
          off += n - left;
          done += n - left;
          if (left > 0) return copied;
        }
        if (off === v.len) {
          i++;
          off = 0;
        }
      }
      return copied;
    };
    return {
      get count() {
        return total - done;
      },
      copyOut: (src) => step(src, true),
      copyIn: (dst) => step(dst, false),
    };
  }

  #sock(t: Task, fd: number): NetlinkSock | number {
    const f = t.fds[fd];
    if (f === undefined) return EBADF;
    return f.object.kind === "netlink" ? f.object.sock : ENOTSOCK;
  }

  // move_addr_to_kernel()
  #addrIn(uaddr: number, ulen: number): Uint8Array | number {
    if (ulen < 0 || ulen > SOCKADDR_STORAGE_SIZE) return EINVAL;
    // sockaddr_storage; only the bytes a netlink address uses are kept (12 at least, zeroed past ulen).
    const b = new Uint8Array(Math.max(ulen, 12));
    if (ulen === 0) return b;
    const got = this.#copyIn(uaddr, ulen);
    if (typeof got === "number") return got;
    b.set(got);
    return b;
  }

  // move_addr_to_user(): at most *ulen bytes of the address, then *ulen = its real length.
  #addrOut(kaddr: Uint8Array, uaddr: number, ulenPtr: number): number {
    const len = this.#getInt(ulenPtr);
    if (len === undefined) return EFAULT;
    const n = Math.min(len, kaddr.length);
    if (n < 0) return EINVAL;
    if (n > 0 && this.#copyOut(uaddr, kaddr.subarray(0, n)) !== 0) return EFAULT;
    return this.#putInt(ulenPtr, kaddr.length) === 0 ? 0 : EFAULT;
  }

  #nl(a: Uint8Array): SockaddrNl {
    return { family: get16(a, 0, true), portid: get32(a, 4, true), groups: get32(a, 8, true) };
  }

  #nlBytes(a: SockaddrNl): Uint8Array {
    const b = new Uint8Array(12);
    b[0] = a.family & 0xff;
    b[1] = a.family >> 8;
    put32(b, 4, a.portid, true);
    put32(b, 8, a.groups, true);
    return b;
  }

  /** `socket(domain, type, protocol)`: AF_NETLINK only (EAFNOSUPPORT for the others), SOCK_NONBLOCK/SOCK_CLOEXEC. */
  socket(t: Task, domain: number, type: number, protocol: number): number {
    this.#enter(t, "socket");
    this.#ints("socket", { domain, type, protocol });
    const args = () => {
      const proto = domain === AF_NETLINK ? named(NETLINK_NAMES, protocol) : String(protocol);
      return [named(AF_NAMES, domain), sockType(type), proto];
    };
    const ret = ((): number => {
      const flags = type & ~0xf;
      if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return EINVAL;
      if (domain < 0 || domain >= 46) return EAFNOSUPPORT;
      // __sock_create(): only type >= SOCK_MAX is EINVAL here; type 0 reaches the family (ESOCKTNOSUPPORT).
      if ((type & 0xf) >= SOCK_MAX) return EINVAL;
      if (domain === AF_UNIX) {
        const kf = this.#k.unix.socket(type & 0xf, protocol, this.fileCaller(t), flags & SOCK_NONBLOCK);
        if (typeof kf === "number") return kf;
        return this.#k.installFile(t, kf, (flags & SOCK_CLOEXEC) !== 0);
      }
      if (domain !== AF_NETLINK) return EAFNOSUPPORT;
      const sk = this.#k.netlink.socket(type & 0xf, protocol, t.caller);
      if (typeof sk === "number") return sk;
      const fd = this.#k.installFd(
        t,
        new OpenFile({ kind: "netlink", sock: sk }, flags & SOCK_NONBLOCK ? O_NONBLOCK : 0),
      );
      if (flags & SOCK_CLOEXEC) t.cloexec.add(fd);
      return fd;
    })();
    return this.#done(t, "socket", args, ret) as number;
  }

  #addrCall(
    t: Task,
    op: "bind" | "connect",
    fd: number,
    uaddr: Addr,
    addrlen: number,
  ): number | Promise<number> {
    this.#enter(t, op);
    this.#int(op, "fd", fd);
    this.#int(op, "addrlen", addrlen);
    const p = Number(uaddr);
    let shown = hex(p);
    const ret = ((): number | Promise<number> => {
      const ux = this.#unixOf(t, fd);
      if (ux !== undefined) {
        const a = this.#addrIn(p, addrlen);
        if (typeof a === "number") return a;
        shown = fmtSockaddr(a, addrlen);
        return op === "bind"
          ? this.#k.unix.bind(ux, a, addrlen, this.fileCaller(t))
          : this.#k.unix.connect(ux, a, addrlen, (ux.flags & O_NONBLOCK) !== 0, this.fileCaller(t));
      }
      // __sys_bind() looks the socket up before copying the address; __sys_connect() copies the address
      // before __sys_connect_file() finds the file is not a socket.
      if (op === "connect" && t.fds[fd] === undefined) return EBADF;
      let sk = op === "bind" ? this.#sock(t, fd) : undefined;
      if (typeof sk === "number") return sk;
      const a = this.#addrIn(p, addrlen);
      if (typeof a === "number") return a;
      if (sk === undefined) sk = this.#sock(t, fd);
      if (typeof sk === "number") return sk;
      shown = fmtSockaddr(a, addrlen);
      return op === "bind"
        ? this.#k.netlink.bind(sk, this.#nl(a), addrlen, t.caller)
        : this.#k.netlink.connect(sk, this.#nl(a), addrlen, t.caller);
    })();
    return this.#done(t, op, () => [String(fd), shown, String(addrlen)], ret);
  }

  /** `bind(fd, addr, addrlen)`: a netlink or AF_UNIX address. */
  bind(t: Task, fd: number, uaddr: Addr, addrlen: number): number {
    return this.#addrCall(t, "bind", fd, uaddr, addrlen) as number;
  }

  /** `connect(fd, addr, addrlen)`: a Promise when an AF_UNIX stream connect waits for room in the backlog. */
  connect(t: Task, fd: number, uaddr: Addr, addrlen: number): number | Promise<number> {
    return this.#addrCall(t, "connect", fd, uaddr, addrlen);
  }

  /** `socketpair(domain, type, protocol, sv)`: two connected AF_UNIX sockets; `int sv[2]` is written back. */
  socketpair(t: Task, domain: number, type: number, protocol: number, svPtr: Addr): number {
    this.#enter(t, "socketpair");
    this.#ints("socketpair", { domain, type, protocol });
    let shown = hex(Number(svPtr));
    const ret = ((): number => {
      const flags = type & ~0xf;
      if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return EINVAL;
      // __sys_socketpair() reserves both descriptors (get_unused_fd_flags) and put_user()s them into sv before
      // sock_create(): a fault is EFAULT whatever the family, and sv holds the numbers even when the creation
      // fails after (put_unused_fd gives them back).
      const a = this.#freeFd(t, 0);
      const b = this.#freeFd(t, a + 1);
      const sv = Number(svPtr);
      if (this.#putInt(sv, a) !== 0 || this.#putInt(sv + 4, b) !== 0) return EFAULT;
      // __sock_create()
      if (domain < 0 || domain >= 46) return EAFNOSUPPORT;
      if ((type & 0xf) >= SOCK_MAX) return EINVAL;
      if (domain === AF_NETLINK) {
        // netlink_create() runs (its type and protocol checks), then netlink_ops.socketpair is
        // sock_no_socketpair: EOPNOTSUPP, and sock_release() of both.
        const sk = this.#k.netlink.socket(type & 0xf, protocol, t.caller);
        if (typeof sk === "number") return sk;
        this.#k.netlink.release(sk);
        return EOPNOTSUPP;
      }
      if (domain !== AF_UNIX) return EAFNOSUPPORT;
      const pair = this.#k.unix.socketpair(type & 0xf, protocol, this.fileCaller(t), flags & SOCK_NONBLOCK);
      if (typeof pair === "number") return pair;
      // fd_install() of both at the reserved numbers (the lowest free ones, as installFile picks them).
      const cloexec = (flags & SOCK_CLOEXEC) !== 0;
      this.#k.installFile(t, pair[0], cloexec);
      this.#k.installFile(t, pair[1], cloexec);
      shown = `[${a}, ${b}]`;
      return 0;
    })();
    return this.#done(
      t,
      "socketpair",
      () => [named(AF_NAMES, domain), sockType(type), String(protocol), shown],
      ret,
    ) as number;
  }

  /** `listen(fd, backlog)`: AF_UNIX stream and seqpacket sockets; EOPNOTSUPP for netlink. */
  listen(t: Task, fd: number, backlog: number): number {
    this.#enter(t, "listen");
    this.#ints("listen", { fd, backlog });
    const ret = ((): number => {
      const ux = this.#unixOf(t, fd);
      if (ux !== undefined) return this.#k.unix.listen(ux, backlog, this.fileCaller(t));
      const sk = this.#sock(t, fd);
      return typeof sk === "number" ? sk : EOPNOTSUPP;
    })();
    return this.#done(t, "listen", () => [String(fd), String(backlog)], ret) as number;
  }

  /**
   * `accept4(fd, addr, addrlen*, flags)`: the next connection of a listening AF_UNIX socket as a new descriptor
   * (SOCK_NONBLOCK, SOCK_CLOEXEC), its peer's address written back when asked; a Promise while none is pending.
   */
  accept4(t: Task, fd: number, uaddr: Addr, ulen: Addr, flags = 0): number | Promise<number> {
    this.#enter(t, "accept4");
    this.#ints("accept4", { fd, flags });
    const ret = ((): number | Promise<number> => {
      // __sys_accept4(): the descriptor first (EBADF), then __sys_accept4_file()'s flags (EINVAL), then
      // do_accept()'s sock_from_file() (ENOTSOCK); netlink_ops.accept is sock_no_accept (EOPNOTSUPP).
      if (t.fds[fd] === undefined) return EBADF;
      if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) return EINVAL;
      const ux = this.#unixOf(t, fd);
      if (ux === undefined) {
        const sk = this.#sock(t, fd);
        return typeof sk === "number" ? sk : EOPNOTSUPP;
      }
      const done = (r: KFile | number): number => {
        if (typeof r === "number") return r;
        if (t.exited) {
          this.#k.unix.release(r);
          return EINTR;
        }
        if (this.#k.vmm.current !== t.mm) this.#k.vmm.switch_mm(t.mm);
        const nfd = this.#k.installFile(t, r, (flags & SOCK_CLOEXEC) !== 0);
        if (Number(uaddr) !== 0) {
          const a = this.#k.unix.getname(r, true);
          if (typeof a !== "number") {
            const e = this.#addrOut(a, Number(uaddr), Number(ulen));
            if (e) {
              this.#k.closeFd(t, nfd);
              return e;
            }
          }
        }
        return nfd;
      };
      const r = this.#k.unix.accept(
        ux,
        (ux.flags & O_NONBLOCK) !== 0,
        this.fileCaller(t),
        flags & SOCK_NONBLOCK,
      );
      return r instanceof Promise ? r.then(done) : done(r);
    })();
    return this.#done(
      t,
      "accept4",
      () => [String(fd), hex(Number(uaddr)), hex(Number(ulen)), String(flags)],
      ret,
    );
  }

  /** `shutdown(fd, how)`: SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 on an AF_UNIX socket; EOPNOTSUPP for netlink. */
  shutdown(t: Task, fd: number, how: number): number {
    this.#enter(t, "shutdown");
    this.#ints("shutdown", { fd, how });
    const ret = ((): number => {
      const ux = this.#unixOf(t, fd);
      if (ux !== undefined) return this.#k.unix.shutdown(ux, how);
      const sk = this.#sock(t, fd);
      return typeof sk === "number" ? sk : EOPNOTSUPP;
    })();
    return this.#done(
      t,
      "shutdown",
      () => [String(fd), ["SHUT_RD", "SHUT_WR", "SHUT_RDWR"][how] ?? String(how)],
      ret,
    ) as number;
  }

  #nameCall(t: Task, op: "getsockname" | "getpeername", fd: number, uaddr: Addr, ulen: Addr): number {
    this.#enter(t, op);
    this.#int(op, "fd", fd);
    let shown = hex(Number(uaddr));
    let shownLen = "[12]";
    const ret = ((): number => {
      const ux = this.#unixOf(t, fd);
      if (ux !== undefined) {
        const a = this.#k.unix.getname(ux, op === "getpeername");
        if (typeof a === "number") return a;
        const r = this.#addrOut(a, Number(uaddr), Number(ulen));
        if (r === 0) {
          shown = fmtSockaddr(a, a.length);
          shownLen = `[${a.length}]`;
        }
        return r;
      }
      const sk = this.#sock(t, fd);
      if (typeof sk === "number") return sk;
      const a = this.#nlBytes(this.#k.netlink.getname(sk, op === "getpeername"));
      const r = this.#addrOut(a, Number(uaddr), Number(ulen));
      if (r === 0) shown = fmtSockaddr(a, 12);
      return r;
    })();
    return this.#done(t, op, () => [String(fd), shown, shownLen], ret) as number;
  }

  /** `getsockname(fd, addr, addrlen*)`. */
  getsockname(t: Task, fd: number, uaddr: Addr, ulen: Addr): number {
    return this.#nameCall(t, "getsockname", fd, uaddr, ulen);
  }

  /** `getpeername(fd, addr, addrlen*)`. */
  getpeername(t: Task, fd: number, uaddr: Addr, ulen: Addr): number {
    return this.#nameCall(t, "getpeername", fd, uaddr, ulen);
  }

  /** `setsockopt(fd, level, optname, optval, optlen)`: SOL_NETLINK options and SO_RCVBUF/SO_SNDBUF. */
  setsockopt(t: Task, fd: number, level: number, optname: number, optval: Addr, optlen: number): number {
    this.#enter(t, "setsockopt");
    this.#ints("setsockopt", { fd, level, optname, optlen });
    let val: number | undefined;
    const ret = ((): number => {
      const ux = this.#unixOf(t, fd);
      if (ux !== undefined) {
        if (optlen < 0) return EINVAL;
        // do_sock_setsockopt(): AF_UNIX has no ->setsockopt, so another level is EOPNOTSUPP before optval is read.
        if (level !== SOL_SOCKET) return this.#k.unix.setsockopt(ux, level, optname, 0, optlen);
        if (optlen < 4) return EINVAL;
        let v = 0;
        if (optlen >= 4) {
          const got = this.#getInt(Number(optval));
          if (got === undefined) return EFAULT;
          v = got;
          val = v;
        }
        return this.#k.unix.setsockopt(ux, level, optname, v, optlen);
      }
      const sk = this.#sock(t, fd);
      if (typeof sk === "number") return sk;
      if (optlen < 0) return EINVAL;
      if (level !== SOL_NETLINK && level !== SOL_SOCKET) return ENOPROTOOPT;
      if (level === SOL_SOCKET && optlen < 4) return EINVAL;
      let v = 0;
      if (optlen >= 4) {
        const got = this.#getInt(Number(optval));
        if (got === undefined) return EFAULT;
        v = got;
        val = v;
      }
      return this.#k.netlink.setsockopt(sk, level, optname, v, optlen, t.caller);
    })();
    const args = () => [
      String(fd),
      level === SOL_NETLINK ? "SOL_NETLINK" : level === SOL_SOCKET ? "SOL_SOCKET" : String(level),
      level === SOL_NETLINK
        ? named(NLOPT_NAMES, optname)
        : optname === 8
          ? "SO_RCVBUF"
          : optname === 7
            ? "SO_SNDBUF"
            : String(optname),
      val === undefined ? hex(Number(optval)) : `[${val}]`,
      String(optlen),
    ];
    return this.#done(t, "setsockopt", args, ret) as number;
  }

  /** `getsockopt(fd, level, optname, optval, optlen*)`. */
  getsockopt(t: Task, fd: number, level: number, optname: number, optval: Addr, optlenPtr: Addr): number {
    this.#enter(t, "getsockopt");
    this.#ints("getsockopt", { fd, level, optname });
    let shown = hex(Number(optval));
    const ret = ((): number => {
      const ux = this.#unixOf(t, fd);
      if (ux !== undefined) {
        // do_sock_getsockopt(): AF_UNIX has no ->getsockopt, so another level is EOPNOTSUPP; the optlen the
        // kernel reads beforehand (max_optlen, for BPF) does not fail the call.
        if (level !== SOL_SOCKET) return this.#k.unix.getsockopt(ux, level, optname, 0) as number;
        const len = this.#getInt(Number(optlenPtr));
        if (len === undefined) return EFAULT;
        const r = this.#k.unix.getsockopt(ux, level, optname, len);
        if (typeof r === "number") return r;
        // sk_getsockopt(): the value, then the length.
        if (this.#copyOut(Number(optval), r.value) !== 0) return EFAULT;
        if (this.#putInt(Number(optlenPtr), r.optlen) !== 0) return EFAULT;
        shown = `[${Array.from(r.value).join(", ")}]`;
        return 0;
      }
      const sk = this.#sock(t, fd);
      if (typeof sk === "number") return sk;
      if (level !== SOL_NETLINK && level !== SOL_SOCKET) return ENOPROTOOPT;
      const len = this.#getInt(Number(optlenPtr));
      if (len === undefined) return EFAULT;
      const r = this.#k.netlink.getsockopt(sk, level, optname, len);
      if (typeof r === "number") return r;
      if (level === SOL_NETLINK && optname !== NETLINK_SOCKOPT.LIST_MEMBERSHIPS) {
        // netlink_getsockopt(): put_user(len, optlen), then the int.
        if (this.#putInt(Number(optlenPtr), r.optlen) !== 0) return EFAULT;
        if (this.#copyOut(Number(optval), r.value) !== 0) return EFAULT;
      } else {
        // LIST_MEMBERSHIPS writes the words, then the length even when a word faulted; sk_getsockopt() writes
        // the value, then the length.
        const err = this.#copyOut(Number(optval), r.value) !== 0 ? EFAULT : 0;
        if (err && level === SOL_SOCKET) return err;
        if (this.#putInt(Number(optlenPtr), r.optlen) !== 0) return EFAULT;
        if (err) return err;
      }
      shown = `[${Array.from(r.value).join(", ")}]`;
      return 0;
    })();
    return this.#done(
      t,
      "getsockopt",
      () => [String(fd), String(level), String(optname), shown, hex(Number(optlenPtr))],
      ret,
    ) as number;
  }

  // import_iovec(): the iovec array from the user, each checked with access_ok; the total capped at MAX_RW_COUNT.
  #iovecs(iovPtr: number, iovlen: number): Iov[] | number {
    if (iovlen > UIO_MAXIOV) return EMSGSIZE;
    const raw = this.#copyIn(iovPtr, iovlen * 16);
    if (typeof raw === "number") return raw;
    const out: Iov[] = [];
    let total = 0;
    const dv = new DataView(raw.buffer);
    for (let i = 0; i < iovlen; i++) {
      const base = addr(dv.getBigUint64(i * 16, true));
      const len64 = dv.getBigInt64(i * 16 + 8, true);
      if (len64 < 0n) return EINVAL;
      let len = len64 > BigInt(MAX_RW_COUNT) ? MAX_RW_COUNT : Number(len64);
      if (len > MAX_RW_COUNT - total) len = MAX_RW_COUNT - total;
      if (!this.#k.vmm.access_ok(base, len)) return EFAULT;
      total += len;
      out.push({ base, len });
    }
    return out;
  }

  #gather(iovs: readonly Iov[]): (dst: Uint8Array) => number {
    return (dst) => {
      let off = 0;
      for (const v of iovs) {
        if (v.len === 0) continue;
        if (this.#k.vmm.copy_from_user(dst.subarray(off, off + v.len), v.base, v.len) !== 0) return EFAULT;
        off += v.len;
      }
      return 0;
    };
  }

  #scatter(t: Task, iovs: readonly Iov[]): (src: Uint8Array) => number {
    return (src) => {
      // The copy can run after a sleep, when another task's address space may be loaded.
      if (this.#k.vmm.current !== t.mm) this.#k.vmm.switch_mm(t.mm);
      let off = 0;
      for (const v of iovs) {
        if (off >= src.length) break;
        const n = Math.min(v.len, src.length - off);
        if (n > 0 && this.#k.vmm.copy_to_user(v.base, src.subarray(off, off + n), n) !== 0) return EFAULT;
        off += n;
      }
      return 0;
    };
  }

  // __scm_send() for a netlink socket: SOL_SOCKET messages are checked; SCM_RIGHTS is for AF_UNIX only.
  // __scm_send() for a netlink socket: each control message must fit (CMSG_OK); SOL_SOCKET ones are checked —
  // SCM_RIGHTS is for AF_UNIX only, SCM_CREDENTIALS passes scm_check_creds() and names a live process — and the
  // result is the credentials the message carries (the sender's own by default, scm_set_cred()).
  #scmSend(t: Task, ctl: Uint8Array): number | { pid: number; uid: number; gid: number } {
    let creds = { pid: t.tgid, uid: t.cred.uid, gid: t.cred.gid };
    let off = 0;
    const dv = new DataView(ctl.buffer, ctl.byteOffset, ctl.byteLength);
    while (off + 16 <= ctl.length) {
      const len = dv.getBigUint64(off, true);
      if (len < 16n || len > BigInt(ctl.length - off)) return EINVAL;
      const level = dv.getInt32(off + 8, true);
      const type = dv.getInt32(off + 12, true);
      if (level === SOL_SOCKET) {
        if (type === SCM_RIGHTS) return EINVAL; // descriptors travel over AF_UNIX only
        if (type !== SCM_CREDENTIALS) return EINVAL; // SCM_PIDFD and unknown types
        if (len !== 28n) return EINVAL;
        const pid = dv.getInt32(off + 16, true);
        const uid = dv.getUint32(off + 20, true);
        const gid = dv.getUint32(off + 24, true);
        if (uid === 0xffffffff || gid === 0xffffffff) return EINVAL;
        const c = t.cred;
        const ok =
          (pid === t.tgid || c.capable(CAP_SYS_ADMIN)) &&
          (uid === c.uid || c.capable(CAP_SETUID)) &&
          (gid === c.gid || c.capable(CAP_SETGID));
        if (!ok) return EPERM;
        if (pid !== t.tgid && !this.#k.tasks.has(pid)) return ESRCH;
        creds = { pid, uid, gid };
      }
      off += Number((len + 7n) & ~7n);
    }
    return creds;
  }

  // AF_UNIX sendmsg: __scm_send() turns SCM_RIGHTS into open files (a reference each, at most SCM_MAX_FD in all)
  // and SCM_CREDENTIALS into checked credentials; unix_*_sendmsg then owns the files, on success or failure.
  #unixSend(
    t: Task,
    ux: KFile,
    iovs: Iov[],
    name: Uint8Array | undefined,
    namelen: number,
    flags: number,
    ctl?: Uint8Array,
  ): number | Promise<number> {
    const rights: OpenFile[] = [];
    let creds: { pid: number; uid: number; gid: number } | undefined;
    const undo = (e: number) => {
      for (const f of rights) fput(this.#k, f);
      return e;
    };
    // unix_seqpacket_sendmsg(): sock_error() and the ENOTCONN check come before unix_dgram_sendmsg()'s
    // scm_send(); af_unix reports them (and clears the error) when handed the message without its control data.
    const sk = unix_get_socket(ux)!;
    const seqpacketFails = sk.type === SOCK_SEQPACKET && (sk.err !== 0 || sk.state !== TCP_ESTABLISHED);
    if (ctl !== undefined && !seqpacketFails) {
      const dv = new DataView(ctl.buffer, ctl.byteOffset, ctl.byteLength);
      let off = 0;
      while (off + 16 <= ctl.length) {
        const len = dv.getBigUint64(off, true);
        if (len < 16n || len > BigInt(ctl.length - off)) return undo(EINVAL);
        const level = dv.getInt32(off + 8, true);
        const type = dv.getInt32(off + 12, true);
        if (level === SOL_SOCKET) {
          if (type === SCM_RIGHTS) {
            // scm_fp_copy(): a message without a whole descriptor is no error (it adds nothing).
            const num = Math.floor((Number(len) - 16) / 4);
            if (rights.length + num > SCM_MAX_FD) return undo(EINVAL);
            for (let i = 0; i < num; i++) {
              const f = t.fds[dv.getInt32(off + 16 + i * 4, true)];
              if (f === undefined) return undo(EBADF);
              f.refs++;
              rights.push(f);
            }
          } else if (type === SCM_CREDENTIALS) {
            const c = this.#scmSend(t, ctl.subarray(off, off + Number(len)));
            if (typeof c === "number") return undo(c);
            creds = c;
          } else return undo(EINVAL);
        }
        off += Number((len + 7n) & ~7n);
      }
    }
    const fl = ux.flags & O_NONBLOCK ? flags | MSG_DONTWAIT : flags;
    return this.#k.unix.sendmsg(
      ux,
      {
        ...(name !== undefined && namelen > 0 && { name }),
        namelen,
        iter: this.#iterv(t, iovs),
        ...(rights.length > 0 && { rights }),
        ...(creds !== undefined && { creds }),
        flags: fl,
      },
      this.fileCaller(t),
    );
  }

  #sendCommon(
    t: Task,
    fd: number,
    iovs: Iov[],
    name: Uint8Array | undefined,
    namelen: number,
    flags: number,
    ctl?: Uint8Array,
  ): number | Promise<number> {
    const f = t.fds[fd]!;
    const sk = (f.object as { sock: NetlinkSock }).sock;
    const len = iovs.reduce((s, v) => s + v.len, 0);
    const fl = f.flags & O_NONBLOCK ? flags | MSG_DONTWAIT : flags;
    return this.#k.netlink.sendmsg(
      sk,
      {
        ...(name && namelen > 0 && { name: this.#nl(name), namelen }),
        len,
        flags: fl,
        // netlink_sendmsg() runs scm_send() after its MSG_OOB and ENODATA checks.
        ...(ctl !== undefined && { scm: () => this.#scmSend(t, ctl) }),
      },
      this.#gather(iovs),
      this.#caller(t),
    );
  }

  /** `sendmsg(fd, msg, flags)`: the msghdr, its address, iovecs and control data are copied in, then netlink_sendmsg. */
  sendmsg(t: Task, fd: number, msgPtr: Addr, flags: number): number | Promise<number> {
    this.#enter(t, "sendmsg");
    this.#int("sendmsg", "fd", fd);
    this.#int("sendmsg", "flags", flags);
    let shown = hex(Number(msgPtr));
    const ret = ((): number | Promise<number> => {
      if (flags & MSG_CMSG_COMPAT) return EINVAL;
      const ux = this.#unixOf(t, fd);
      const sk = ux === undefined ? this.#sock(t, fd) : undefined;
      if (typeof sk === "number") return sk;
      // copy_msghdr_from_user() / __copy_msghdr(): a NULL name has length 0 whatever msg_namelen says.
      const mh = this.#copyIn(Number(msgPtr), 56);
      if (typeof mh === "number") return mh;
      const dv = new DataView(mh.buffer);
      const namePtr = addr(dv.getBigUint64(0, true));
      let namelen = namePtr === 0 ? 0 : dv.getInt32(8, true);
      const iovPtr = addr(dv.getBigUint64(16, true));
      const iovlen = dv.getBigUint64(24, true);
      const ctlPtr = addr(dv.getBigUint64(32, true));
      const ctllen = dv.getBigUint64(40, true);
      if (namelen < 0) return EINVAL;
      if (namelen > SOCKADDR_STORAGE_SIZE) namelen = SOCKADDR_STORAGE_SIZE;
      let name: Uint8Array | undefined;
      if (namePtr !== 0 && namelen > 0) {
        const a = this.#addrIn(namePtr, namelen);
        if (typeof a === "number") return a;
        name = a;
      } else namelen = 0;
      if (iovlen > BigInt(UIO_MAXIOV)) return EMSGSIZE;
      const iovs = this.#iovecs(iovPtr, Number(iovlen));
      if (typeof iovs === "number") return iovs;
      // ____sys_sendmsg(): the control data is copied in after the msghdr and iovecs; checked by scm_send() later.
      if (ctllen > 0x7fffffffn) return ENOBUFS;
      let ctl: Uint8Array | undefined;
      if (ctllen > 0n) {
        if (ctllen > BigInt(CTL_STACK) && ctllen >= BigInt(OPTMEM_MAX)) return ENOBUFS;
        const c = this.#copyIn(ctlPtr, Number(ctllen));
        if (typeof c === "number") return c;
        ctl = c;
      }
      shown = `{msg_name=${name ? fmtSockaddr(name, namelen) : "NULL"}, msg_namelen=${namelen}, msg_iov=[${iovs
        .map(
          (v) =>
            `{iov_base=${fmtNlmsg(this.#peekNl(v.base, v.len), v.len) ?? hex(v.base)}, iov_len=${v.len}}`,
        )
        .join(", ")}], msg_iovlen=${iovs.length}, msg_controllen=${ctllen}, msg_flags=0}`;
      if (ux !== undefined) return this.#unixSend(t, ux, iovs, name, namelen, flags, ctl);
      return this.#sendCommon(t, fd, iovs, name, namelen, flags, ctl);
    })();
    return this.#done(t, "sendmsg", () => [String(fd), shown, msgFlags(flags)], ret);
  }

  /** `sendto(fd, buf, len, flags, addr, addrlen)`. */
  sendto(
    t: Task,
    fd: number,
    buf: Addr,
    len: number,
    flags: number,
    uaddr: Addr = 0,
    addrlen = 0,
  ): number | Promise<number> {
    this.#enter(t, "sendto");
    this.#ints("sendto", { fd, len, flags, addrlen });
    let head: Uint8Array | undefined;
    let addrBytes: Uint8Array | undefined;
    const ret = ((): number | Promise<number> => {
      const n = ubufLen(len);
      if (!this.#k.vmm.access_ok(Number(buf), n)) return EFAULT;
      const ux = this.#unixOf(t, fd);
      const sk = ux === undefined ? this.#sock(t, fd) : undefined;
      if (typeof sk === "number") return sk;
      let name: Uint8Array | undefined;
      if (Number(uaddr) !== 0) {
        const a = this.#addrIn(Number(uaddr), addrlen);
        if (typeof a === "number") return a;
        name = a;
        addrBytes = a;
      }
      if (ux !== undefined)
        return this.#unixSend(t, ux, [{ base: Number(buf), len: n }], name, name ? addrlen : 0, flags);
      head = this.#peekNl(Number(buf), n);
      return this.#sendCommon(t, fd, [{ base: Number(buf), len: n }], name, name ? addrlen : 0, flags);
    })();
    return this.#done(
      t,
      "sendto",
      () => [
        String(fd),
        fmtNlmsg(head, len) ?? hex(Number(buf)),
        String(len),
        msgFlags(flags),
        addrBytes ? fmtSockaddr(addrBytes, addrlen) : Number(uaddr) === 0 ? "NULL" : hex(Number(uaddr)),
        String(addrlen),
      ],
      ret,
    );
  }

  // What strace shows of a netlink message: its header, read as a debugger would (not a crossing).
  #peekNl(p: number, n: number): Uint8Array | undefined {
    if (n < 16 || this.#k.traceLimit === 0) return undefined;
    try {
      return this.#k.vmm.userRead(p, 16);
    } catch {
      return undefined;
    }
  }

  // AF_UNIX recvmsg and what ____sys_recvmsg/scm_recv write of it: SCM_CREDENTIALS (with SO_PASSCRED) then
  // SCM_RIGHTS (scm_detach_fds: the files that fit become descriptors, the rest are dropped with MSG_CTRUNC).
  #unixRecv(
    t: Task,
    ux: KFile,
    iovs: Iov[],
    flags: number,
    ctlPtr: number,
    ctllen: number,
    after: (r: UnixRecv, outFlags: number, used: number) => number,
  ): number | Promise<number> {
    const fl = ux.flags & O_NONBLOCK ? flags | MSG_DONTWAIT : flags;
    const finish = (r: UnixRecv): number => {
      if (r.result < 0) {
        for (const f of r.rights) fput(this.#k, f);
        return r.result;
      }
      if (this.#k.vmm.current !== t.mm) this.#k.vmm.switch_mm(t.mm);
      let outFlags = r.flags | (flags & MSG_CMSG_CLOEXEC);
      let cp = ctlPtr;
      let room = ctllen;
      if (cp === 0) {
        if (r.passcred || r.rights.length > 0) outFlags |= MSG_CTRUNC;
        for (const f of r.rights) fput(this.#k, f);
        return after(r, outFlags, 0);
      }
      if (r.passcred) {
        const data = ucredBytes(r.creds ?? { pid: 0, uid: 65534, gid: 65534 });
        const cmlen = 16 + data.length;
        if (room < 16) outFlags |= MSG_CTRUNC;
        else {
          const wrote = Math.min(cmlen, room);
          if (wrote < cmlen) outFlags |= MSG_CTRUNC;
          const hdr = new Uint8Array(cmlen);
          new DataView(hdr.buffer).setBigUint64(0, BigInt(wrote), true);
          put32(hdr, 8, SOL_SOCKET, true);
          put32(hdr, 12, SCM_CREDENTIALS, true);
          hdr.set(data, 16);
          if (this.#copyOut(cp, hdr.subarray(0, wrote)) === 0) {
            const space = Math.min(16 + ((data.length + 7) & ~7), room);
            cp += space;
            room -= space;
          }
        }
      }
      if (r.rights.length > 0) {
        const d = this.#detachFds(t, r.rights, cp, room, (flags & MSG_CMSG_CLOEXEC) !== 0);
        cp += d.used;
        room -= d.used;
        if (d.truncated) outFlags |= MSG_CTRUNC;
      }
      return after(r, outFlags, ctllen - room);
    };
    const r = this.#k.unix.recvmsg(ux, this.#iterv(t, iovs), fl, this.fileCaller(t));
    if (!(r instanceof Promise)) return finish(r);
    return r.then((v) => {
      if (!t.exited) return finish(v);
      // The task died while the message was taken: the files it carried are dropped, not leaked.
      for (const f of v.rights) fput(this.#k, f);
      return EINTR;
    });
  }

  // scm_detach_fds(): for each file that fits in the control buffer, a descriptor is reserved and put_user()d
  // into the SCM_RIGHTS data (receive_fd()); it is installed only when that store succeeds, and the first fault
  // ends the loop. The header (cmsg_level, cmsg_type, then cmsg_len) follows when at least one went; the
  // control pointer moves only if the header was stored. Files not installed are dropped (__scm_destroy), and
  // MSG_CTRUNC says some did not arrive.
  #detachFds(
    t: Task,
    files: readonly OpenFile[],
    cp: number,
    room: number,
    cloexec: boolean,
  ): { used: number; truncated: boolean } {
    const fdmax = Math.min(room <= 16 ? 0 : Math.floor((room - 16) / 4), files.length);
    let i = 0;
    for (; i < fdmax; i++) {
      if (this.#putInt(cp + 16 + 4 * i, this.#freeFd(t, 0)) !== 0) break;
      const fd = this.#k.installFd(t, files[i]!);
      if (cloexec) t.cloexec.add(fd);
    }
    let used = 0;
    if (i > 0) {
      const vmm = this.#k.vmm;
      const err =
        vmm.put_user(cp + 8, SOL_SOCKET, 4) ||
        vmm.put_user(cp + 12, SCM_RIGHTS, 4) ||
        vmm.put_user(cp, 16 + 4 * i, 8);
      if (!err) used = Math.min(16 + ((4 * i + 7) & ~7), room);
    }
    for (let j = i; j < files.length; j++) fput(this.#k, files[j]!);
    return { used, truncated: i < files.length || (files.length > 0 && fdmax <= 0) };
  }

  #recvCommon(
    t: Task,
    fd: number,
    iovs: Iov[],
    flags: number,
    after: (r: NetlinkRecv) => number,
  ): number | Promise<number> {
    const f = t.fds[fd]!;
    const sk = (f.object as { sock: NetlinkSock }).sock;
    const len = iovs.reduce((s, v) => s + v.len, 0);
    const fl = f.flags & O_NONBLOCK ? flags | MSG_DONTWAIT : flags;
    const r = this.#k.netlink.recvmsg(sk, len, fl, this.#scatter(t, iovs), this.#caller(t));
    if (r instanceof Promise) {
      return r.then((res) => {
        if (t.exited) return EINTR;
        if (this.#k.vmm.current !== t.mm) this.#k.vmm.switch_mm(t.mm);
        return res.result < 0 ? res.result : after(res);
      });
    }
    return r.result < 0 ? r.result : after(r);
  }

  /**
   * `recvmsg(fd, msg, flags)`: one datagram into the iovecs; msg_name, msg_namelen, the control messages
   * (`put_cmsg`: MSG_CTRUNC when they do not fit), msg_controllen and msg_flags are written back.
   */
  recvmsg(t: Task, fd: number, msgPtr: Addr, flags: number): number | Promise<number> {
    this.#enter(t, "recvmsg");
    this.#int("recvmsg", "fd", fd);
    this.#int("recvmsg", "flags", flags);
    const mp = Number(msgPtr);
    let shown = hex(mp);
    const ret = ((): number | Promise<number> => {
      if (flags & MSG_CMSG_COMPAT) return EINVAL;
      const ux = this.#unixOf(t, fd);
      const sk = ux === undefined ? this.#sock(t, fd) : undefined;
      if (typeof sk === "number") return sk;
      const mh = this.#copyIn(mp, 56);
      if (typeof mh === "number") return mh;
      const dv = new DataView(mh.buffer);
      const namePtr = addr(dv.getBigUint64(0, true));
      // __copy_msghdr(): a NULL name has length 0, so a negative msg_namelen only matters with a name.
      const namelen = namePtr === 0 ? 0 : dv.getInt32(8, true);
      if (namelen < 0) return EINVAL;
      const iovPtr = addr(dv.getBigUint64(16, true));
      const iovlen = dv.getBigUint64(24, true);
      const ctlPtr = addr(dv.getBigUint64(32, true));
      const ctllen = Number(dv.getBigUint64(40, true));
      if (iovlen > BigInt(UIO_MAXIOV)) return EMSGSIZE;
      const iovs = this.#iovecs(iovPtr, Number(iovlen));
      if (typeof iovs === "number") return iovs;
      if (ux !== undefined) {
        return this.#unixRecv(t, ux, iovs, flags, ctlPtr, ctllen, (r, outFlags, used) => {
          if (namePtr !== 0) {
            if (r.name !== undefined) {
              const e = this.#addrOut(r.name, namePtr, mp + 8);
              if (e) return e;
            } else if (this.#putInt(mp + 8, 0) !== 0) return EFAULT;
          }
          if (this.#putInt(mp + 48, outFlags) !== 0) return EFAULT;
          const u = new Uint8Array(8);
          new DataView(u.buffer).setBigUint64(0, BigInt(used), true);
          if (this.#copyOut(mp + 40, u) !== 0) return EFAULT;
          shown = `{msg_name=${r.name ? fmtSockaddr(r.name, r.name.length) : "NULL"}, msg_iov=[${iovs
            .map((v) => `{iov_base=${hex(v.base)}, iov_len=${v.len}}`)
            .join(", ")}], msg_controllen=${used}, msg_flags=${msgFlags(outFlags)}}`;
          return r.result;
        });
      }
      return this.#recvCommon(t, fd, iovs, flags, (r) => {
        // ____sys_recvmsg(): msg_flags starts as the caller's MSG_CMSG_CLOEXEC; netlink_recvmsg() adds MSG_TRUNC
        // and put_cmsg() MSG_CTRUNC. The control messages are written during netlink_recvmsg(), before the
        // address, msg_flags and msg_controllen.
        let outFlags = r.flags | (flags & MSG_CMSG_CLOEXEC);
        // put_cmsg(): each message at the control pointer while room is left.
        let cp = ctlPtr;
        let room = ctllen;
        for (const c of r.cmsgs) {
          const cmlen = 16 + c.data.length;
          if (cp === 0 || room < 16) {
            outFlags |= MSG_CTRUNC;
            continue;
          }
          let wrote = cmlen;
          if (room < cmlen) {
            outFlags |= MSG_CTRUNC;
            wrote = room;
          }
          const hdr = new Uint8Array(cmlen);
          new DataView(hdr.buffer).setBigUint64(0, BigInt(wrote), true);
          put32(hdr, 8, c.level, true);
          put32(hdr, 12, c.type, true);
          hdr.set(c.data, 16);
          if (this.#copyOut(cp, hdr.subarray(0, wrote)) !== 0) break;
          const space = Math.min(16 + ((c.data.length + 7) & ~7), room);
          cp += space;
          room -= space;
        }
        if (namePtr !== 0) {
          const a = this.#nlBytes({ family: AF_NETLINK, portid: r.portid, groups: r.groups });
          const e = this.#addrOut(a, namePtr, mp + 8);
          if (e) return e;
        }
        if (this.#putInt(mp + 48, outFlags) !== 0) return EFAULT;
        const used = new Uint8Array(8);
        new DataView(used.buffer).setBigUint64(0, BigInt(ctllen - room), true);
        if (this.#copyOut(mp + 40, used) !== 0) return EFAULT;
        shown = `{msg_name=${namePtr !== 0 ? fmtSockaddr(this.#nlBytes({ family: AF_NETLINK, portid: r.portid, groups: r.groups }), 12) : "NULL"}, msg_iov=[${iovs
          .map((v) => `{iov_base=${hex(v.base)}, iov_len=${v.len}}`)
          .join(", ")}], msg_controllen=${ctllen - room}, msg_flags=${msgFlags(outFlags)}}`;
        return r.result;
      });
    })();
    return this.#done(t, "recvmsg", () => [String(fd), shown, msgFlags(flags)], ret);
  }

  /** `recvfrom(fd, buf, len, flags, addr, addrlen*)`. */
  recvfrom(
    t: Task,
    fd: number,
    buf: Addr,
    len: number,
    flags: number,
    uaddr: Addr = 0,
    ulen: Addr = 0,
  ): number | Promise<number> {
    this.#enter(t, "recvfrom");
    this.#ints("recvfrom", { fd, len, flags });
    let shownAddr = Number(uaddr) === 0 ? "NULL" : hex(Number(uaddr));
    let shownLen = Number(ulen) === 0 ? "NULL" : "[12]";
    const ret = ((): number | Promise<number> => {
      const n = ubufLen(len);
      if (!this.#k.vmm.access_ok(Number(buf), n)) return EFAULT;
      const ux = this.#unixOf(t, fd);
      if (ux !== undefined) {
        return this.#unixRecv(t, ux, [{ base: Number(buf), len: n }], flags, 0, 0, (r) => {
          // __sys_recvfrom(): with an address buffer, move_addr_to_user() runs whatever msg_namelen is — 0 when
          // the sender is unbound, so *addrlen becomes 0 (and an unreadable addrlen is EFAULT).
          if (Number(uaddr) !== 0) {
            const a = r.name ?? new Uint8Array(0);
            const e = this.#addrOut(a, Number(uaddr), Number(ulen));
            if (e) return e;
            shownAddr = r.name === undefined ? "NULL" : fmtSockaddr(r.name, r.name.length);
            shownLen = `[${a.length}]`;
          }
          return r.result;
        });
      }
      const sk = this.#sock(t, fd);
      if (typeof sk === "number") return sk;
      return this.#recvCommon(t, fd, [{ base: Number(buf), len: n }], flags, (r) => {
        if (Number(uaddr) !== 0) {
          const a = this.#nlBytes({ family: AF_NETLINK, portid: r.portid, groups: r.groups });
          const e = this.#addrOut(a, Number(uaddr), Number(ulen));
          if (e) return e;
          shownAddr = fmtSockaddr(a, 12);
        }
        return r.result;
      });
    })();
    return this.#done(
      t,
      "recvfrom",
      () => [String(fd), hex(Number(buf)), String(len), msgFlags(flags), shownAddr, shownLen],
      ret,
    );
  }

  /** `close(fd)`: the last descriptor of an open file releases it. */
  close(t: Task, fd: number): number {
    this.#enter(t, "close");
    this.#int("close", "fd", fd);
    return this.#done(t, "close", () => [String(fd)], this.#k.closeFd(t, fd)) as number;
  }

  /** `openat(AT_FDCWD, path, flags)`: only devtmpfs nodes exist (`/dev/<name>`); other paths are ENOENT. */
  open(t: Task, pathPtr: Addr, flags: number, mode = 0o666): number | Promise<number> {
    this.#enter(t, "openat");
    this.#int("open", "flags", flags);
    this.#int("open", "mode", mode);
    let shown = hex(Number(pathPtr));
    const ret = ((): number | Promise<number> => {
      const buf = new Uint8Array(4096);
      const n = this.#k.vmm.strncpy_from_user(buf, pathPtr, 4096);
      if (n < 0) return n;
      if (n === 4096) return -36; // ENAMETOOLONG
      const path = utf8Decode(buf, 0, n);
      shown = JSON.stringify(path);
      if (n === 0) return ENOENT;
      // A file system mounted at a prefix of the path (procfs, sysfs, /dev/shm, FIFOs …) opens it itself.
      const opener = this.#k.lookupPath(path);
      if (opener !== undefined) {
        const install = (r: KFile | number): number => {
          if (typeof r === "number") return r;
          return this.#k.installFile(t, r, (flags & O_CLOEXEC) !== 0);
        };
        const r = opener(path, flags & ~O_CLOEXEC, mode, this.fileCaller(t));
        return r instanceof Promise ? r.then(install) : install(r);
      }
      const inode = this.#k.devtmpfs.get(path);
      if (inode === undefined) return ENOENT;
      const file = this.#k.vfs.open(inode, flags & ~O_CLOEXEC);
      if (typeof file === "number") return file;
      const fd = this.#k.installFd(t, new OpenFile({ kind: "chrdev", file, path }, flags));
      if (flags & O_CLOEXEC) t.cloexec.add(fd);
      return fd;
    })();
    return this.#done(t, "openat", () => ["AT_FDCWD", shown, `0${(flags >>> 0).toString(8)}`], ret);
  }

  #rw(t: Task, op: "read" | "write", fd: number, buf: Addr, count: number): number | Promise<number> {
    this.#enter(t, op);
    this.#int(op, "fd", fd);
    this.#int(op, "count", count);
    const ret = ((): number | Promise<number> => {
      const f = t.fds[fd];
      if (f === undefined) return EBADF;
      if (f.object.kind === "chrdev") {
        const r =
          op === "read"
            ? this.#k.vfs.read(f.object.file, buf, count)
            : this.#k.vfs.write(f.object.file, buf, count);
        return r;
      }
      const n = ubufLen(count);
      if (f.object.kind === "kfile") {
        // vfs_read()/vfs_write(): the open mode, the method, access_ok, then ->read_iter/->write_iter.
        const kf = f.object.file;
        if ((kf.mode & (op === "read" ? FMODE_READ : FMODE_WRITE)) === 0) return EBADF;
        const method = op === "read" ? kf.ops.read : kf.ops.write;
        if (method === undefined) return EINVAL;
        if (!this.#k.vmm.access_ok(Number(buf), n)) return EFAULT;
        return method.call(
          kf.ops,
          kf,
          this.#iter(t, Number(buf), n),
          (kf.flags & O_NONBLOCK) !== 0,
          this.fileCaller(t),
        );
      }
      if (!this.#k.vmm.access_ok(Number(buf), n)) return EFAULT;
      const iov = [{ base: Number(buf), len: n }];
      return op === "read"
        ? this.#recvCommon(t, fd, iov, 0, (r) => r.result)
        : this.#sendCommon(t, fd, iov, undefined, 0, 0);
    })();
    return this.#done(t, op, () => [String(fd), hex(Number(buf)), String(count)], ret);
  }

  /** `read(fd, buf, count)`: a device's `->read`, or one datagram of a socket. */
  read(t: Task, fd: number, buf: Addr, count: number): number | Promise<number> {
    return this.#rw(t, "read", fd, buf, count);
  }

  /** `write(fd, buf, count)`: a device's `->write`, or a datagram to a socket's connected destination. */
  write(t: Task, fd: number, buf: Addr, count: number): number | Promise<number> {
    return this.#rw(t, "write", fd, buf, count);
  }

  /** `lseek(fd, offset, whence)`: sockets are ESPIPE. */
  lseek(t: Task, fd: number, offset: number, whence: number): number {
    this.#enter(t, "lseek");
    const ret = ((): number => {
      const f = t.fds[fd];
      if (f === undefined) return EBADF;
      if (f.object.kind === "kfile") {
        const kf = f.object.file;
        return kf.ops.llseek === undefined ? ESPIPE : kf.ops.llseek(kf, offset, whence);
      }
      if (f.object.kind !== "chrdev") return ESPIPE;
      return this.#k.vfs.llseek(f.object.file, offset, whence);
    })();
    return this.#done(
      t,
      "lseek",
      () => [String(fd), String(offset), ["SEEK_SET", "SEEK_CUR", "SEEK_END"][whence] ?? String(whence)],
      ret,
    ) as number;
  }

  /** `ioctl(fd, cmd, arg)`: do_vfs_ioctl and the driver for devices; a netlink socket knows no ioctl (ENOTTY). */
  ioctl(t: Task, fd: number, cmd: number, arg: number): number {
    this.#enter(t, "ioctl");
    this.#int("ioctl", "fd", fd);
    this.#int("ioctl", "cmd", cmd);
    const ret = ((): number => {
      const f = t.fds[fd];
      if (f === undefined) return EBADF;
      if (f.object.kind === "chrdev") return this.#k.vfs.ioctl(f.object.file, cmd >>> 0, arg);
      // do_vfs_ioctl() handles FIOCLEX, FIONCLEX and FIONBIO for every file.
      if (cmd === 0x5451) t.cloexec.add(fd);
      else if (cmd === 0x5450) t.cloexec.delete(fd);
      else if (cmd === 0x5421) {
        const v = this.#getInt(arg);
        if (v === undefined) return EFAULT;
        f.flags = v ? f.flags | O_NONBLOCK : f.flags & ~O_NONBLOCK;
        if (f.object.kind === "kfile") f.object.file.flags = f.flags;
      } else if (f.object.kind === "kfile") {
        const kf = f.object.file;
        if (kf.ops.ioctl === undefined) return ENOTTY;
        const r = kf.ops.ioctl(kf, cmd >>> 0, arg, this.fileCaller(t));
        return r === -515 ? ENOTTY : r; // -ENOIOCTLCMD
      } else return ENOTTY;
      return 0;
    })();
    return this.#done(t, "ioctl", () => [String(fd), hex(cmd >>> 0), hex(arg)], ret) as number;
  }

  /** `mmap(addr, length, prot, flags, fd, offset)`: anonymous memory, or a device's `->mmap`; sockets are ENODEV. */
  mmap(
    t: Task,
    addrHint: Addr,
    length: Addr,
    prot: number,
    flags: number,
    fd: number,
    offset: Addr = 0,
  ): number {
    this.#enter(t, "mmap");
    const ret = ((): number => {
      try {
        if (flags & MAP_ANONYMOUS) return t.mm.mmap(addrHint, length, prot, flags, undefined, offset);
        const f = t.fds[fd];
        if (f === undefined) return EBADF;
        if (f.object.kind === "kfile") {
          const kf = f.object.file;
          if (kf.ops.mmap === undefined) return ENODEV;
          return kf.ops.mmap(kf, t.mm, Number(addrHint), Number(length), prot, flags, Number(offset));
        }
        if (f.object.kind !== "chrdev") return ENODEV;
        return this.#k.vfs.mmap(t.mm, f.object.file, addrHint, length, prot, flags, offset);
      } catch (e) {
        if (e instanceof KernelError) return -e.errno;
        throw e;
      }
    })();
    return this.#done(
      t,
      "mmap",
      () => [hex(Number(addrHint)), String(length), String(prot), hex(flags), String(fd), String(offset)],
      ret,
      true,
    ) as number;
  }

  /** `munmap(addr, length)`. */
  munmap(t: Task, start: Addr, length: Addr): number {
    this.#enter(t, "munmap");
    const ret = ((): number => {
      try {
        return t.mm.munmap(start, length);
      } catch (e) {
        if (e instanceof KernelError) return -e.errno;
        throw e;
      }
    })();
    return this.#done(t, "munmap", () => [hex(Number(start)), String(length)], ret) as number;
  }

  /**
   * `poll(fds, nfds, timeout)`: the ready mask of each `struct pollfd` (POLLNVAL for a closed fd). With nothing
   * ready: 0 at once for timeout 0 — and for a positive timeout too, since the model's time does not pass while
   * a task waits —, or a Promise that settles at the next wake-up (EINTR on a signal) for a negative one.
   */
  poll(t: Task, fdsPtr: Addr, nfds: number, timeout: number): number | Promise<number> {
    this.#enter(t, "poll");
    this.#int("poll", "nfds", nfds);
    this.#int("poll", "timeout", timeout);
    const p = Number(fdsPtr);
    const ret = ((): number | Promise<number> => {
      if (nfds < 0 || nfds > 1024) return EINVAL;
      const raw = this.#copyIn(p, nfds * 8);
      if (typeof raw === "number") return raw;
      const scan = (): number => {
        let ready = 0;
        for (let i = 0; i < nfds; i++) {
          const fd = get32(raw, i * 8, true) | 0;
          const events = get16(raw, i * 8 + 4, true);
          let rev = 0;
          if (fd >= 0) {
            const f = t.fds[fd];
            if (f === undefined) rev = POLLNVAL;
            else {
              const o = f.object;
              const mask =
                o.kind === "netlink"
                  ? this.#k.netlink.poll(o.sock)
                  : o.kind === "kfile"
                    ? (o.file.ops.poll?.(o.file) ?? DEFAULT_POLLMASK)
                    : this.#k.vfs.poll(o.file);
              rev = mask & (events | 0x8 | 0x10);
            }
          }
          raw[i * 8 + 6] = rev & 0xff;
          raw[i * 8 + 7] = rev >> 8;
          if (rev) ready++;
        }
        return ready;
      };
      const ready = scan();
      if (ready > 0 || timeout >= 0) return this.#copyOut(p, raw) || ready;
      // do_poll(): the first pass registers a poll table with every file (a socket's queue, a device's
      // poll_wait queues); any wake-up rescans. The wake-up runs inside whoever woke it, so the copy of the
      // results is made in this task's address space and the waker's is put back.
      return new Promise<number>((resolve) => {
        let settled = false;
        const offs: (() => void)[] = [];
        const finish = (r: number) => {
          if (settled) return;
          settled = true;
          for (const o of offs.splice(0)) o();
          pt.free();
          t.interrupts.delete(interrupted);
          resolve(r);
        };
        const interrupted = () => finish(EINTR);
        const wake = () => {
          if (settled) return;
          const n = scan();
          if (n === 0) return;
          const prev = this.#k.vmm.current;
          if (prev !== t.mm) this.#k.vmm.switch_mm(t.mm);
          const r = this.#copyOut(p, raw) || n;
          if (prev !== undefined && prev !== t.mm) this.#k.vmm.switch_mm(prev);
          finish(r);
        };
        const pt = new PollTable(wake);
        t.interrupts.add(interrupted);
        const socks = new Set<NetlinkSock>();
        for (let i = 0; i < nfds; i++) {
          const f = t.fds[get32(raw, i * 8, true) | 0];
          if (f === undefined) continue;
          const o = f.object;
          if (o.kind === "netlink") socks.add(o.sock);
          else if (o.kind === "kfile") o.file.ops.poll?.(o.file, pt);
          else this.#k.vfs.poll(o.file, pt);
        }
        for (const sk of socks) offs.push(sk.readers.addPoller(wake));
      });
    })();
    return this.#done(t, "poll", () => [hex(p), String(nfds), String(timeout)], ret);
  }

  /**
   * `fcntl(fd, cmd, arg)`: F_GETFD/F_SETFD (FD_CLOEXEC), F_GETFL/F_SETFL (O_NONBLOCK, O_APPEND), and the commands a
   * file type handles itself (a pipe's F_SETPIPE_SZ/F_GETPIPE_SZ); anything else is EINVAL.
   */
  fcntl(t: Task, fd: number, cmd: number, arg = 0): number {
    this.#enter(t, "fcntl");
    this.#ints("fcntl", { fd, cmd, arg });
    const ret = ((): number => {
      const f = t.fds[fd];
      if (f === undefined) return EBADF;
      switch (cmd) {
        case F_GETFD:
          return t.cloexec.has(fd) ? FD_CLOEXEC : 0;
        case F_SETFD:
          if (arg & FD_CLOEXEC) t.cloexec.add(fd);
          else t.cloexec.delete(fd);
          return 0;
        case F_GETFL: {
          const kf = f.object.kind === "kfile" ? f.object.file : undefined;
          // sock_alloc_file() opens a socket O_RDWR.
          if (f.object.kind === "netlink") return f.flags | 2;
          const acc = kf === undefined ? 0 : (kf.mode & 3) === 3 ? 2 : kf.mode & FMODE_WRITE ? 1 : 0;
          return (kf?.flags ?? f.flags) | acc;
        }
        case F_SETFL: {
          // setfl(): only O_APPEND, O_NONBLOCK, O_NDELAY, O_DIRECT, O_NOATIME and FASYNC change. O_DIRECT is
          // EINVAL unless the file is a FIFO (a pipe's packet mode) or has FMODE_CAN_ODIRECT (tmpfs:
          // shmem_file_open); sockets and character devices have neither.
          const kf = f.object.kind === "kfile" ? f.object.file : undefined;
          const canDirect =
            kf !== undefined && (get_pipe_info(kf) !== undefined || kf.private instanceof ShmOpenFile);
          if (arg & O_DIRECT && !canDirect) return EINVAL;
          const settable = 0o2000 | O_NONBLOCK | O_DIRECT;
          f.flags = (f.flags & ~settable) | (arg & settable);
          if (f.object.kind === "kfile")
            f.object.file.flags = (f.object.file.flags & ~settable) | (arg & settable);
          return 0;
        }
      }
      if (f.object.kind === "kfile") {
        const kf = f.object.file;
        const r = kf.ops.fcntl?.(kf, cmd, arg, this.fileCaller(t));
        if (r !== undefined) return r;
      }
      // pipe_fcntl() on a file that is not a pipe: EBADF.
      if (cmd === F_SETPIPE_SZ || cmd === F_GETPIPE_SZ) return EBADF;
      return EINVAL;
    })();
    return this.#done(
      t,
      "fcntl",
      () => [String(fd), FCNTL_NAMES[cmd] ?? String(cmd), String(arg)],
      ret,
    ) as number;
  }

  /** `pipe2(fds, flags)`: a pipe's read and write ends; `int fds[2]` is written back. */
  pipe2(t: Task, fdsPtr: Addr, flags = 0): number {
    return sys_pipe2(this.#k, t, fdsPtr, flags);
  }

  /** `mknodat(AT_FDCWD, path, S_IFIFO | mode, 0)` (mkfifo): a named pipe at `path`. */
  mkfifo(t: Task, pathPtr: Addr, mode = 0o666): number {
    return sys_mkfifo(this.#k, t, pathPtr, mode);
  }

  /** `ftruncate(fd, length)`: sets the size of a shared-memory object (EINVAL for other files). */
  ftruncate(t: Task, fd: number, length: number): number {
    return sys_ftruncate(this.#k, t, fd, length);
  }

  /** `unlink(path)`: a /dev/shm object (shm_unlink) or a /dev node (root only). */
  unlink(t: Task, pathPtr: Addr): number {
    return sys_unlink(this.#k, t, Number(pathPtr));
  }

  /** `futex(uaddr, op, val, timeout, uaddr2, val3)`: FUTEX_WAIT and FUTEX_WAKE (private and shared keys). */
  futex(
    t: Task,
    uaddr: Addr,
    op: number,
    val: number,
    timeoutPtr: Addr = 0,
    uaddr2: Addr = 0,
    val3 = 0,
  ): number | Promise<number> {
    return sys_futex(this.#k, t, Number(uaddr), op, val, Number(timeoutPtr), Number(uaddr2), val3);
  }

  /** `init_module`: loads a module definition (the image is JavaScript here). EPERM without CAP_SYS_MODULE. */
  init_module(t: Task, def: import("@kbridge/chrdev").ModuleDefinition): number {
    this.#enter(t, "init_module");
    const ret = ((): number => {
      if (!t.cred.capable(CAP_SYS_MODULE)) return EPERM;
      const m = this.#k.modules.init_module(def);
      return typeof m === "number" ? m : 0;
    })();
    return this.#done(t, "init_module", () => [`"${def?.name}"`], ret) as number;
  }

  /** `delete_module(name, flags)`: EPERM without CAP_SYS_MODULE, then the name from user memory, then the unload rules. */
  delete_module(t: Task, namePtr: Addr, flags: number): number {
    this.#enter(t, "delete_module");
    let shown = hex(Number(namePtr));
    const ret = ((): number => {
      if (!t.cred.capable(CAP_SYS_MODULE)) return EPERM;
      const buf = new Uint8Array(MODULE_NAME_LEN);
      const n = this.#k.vmm.strncpy_from_user(buf, namePtr, MODULE_NAME_LEN);
      if (n === 0 || n === MODULE_NAME_LEN) return ENOENT;
      if (n < 0) return n;
      const name = utf8Decode(buf, 0, n);
      shown = JSON.stringify(name);
      return this.#k.modules.delete_module(name, flags, true);
    })();
    return this.#done(
      t,
      "delete_module",
      () => [shown, flags === 0 ? "0" : `O_NONBLOCK|${flags}`],
      ret,
    ) as number;
  }
}
