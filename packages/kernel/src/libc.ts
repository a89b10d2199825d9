// The user side: what a C program's libc does around a system call — marshal structs into the process's memory
// with the uapi layouts, pass pointers, read results back — so a simulated program reads like C and every byte
// that reaches the kernel crosses copy_from_user / copy_to_user. The program's own loads and stores into its
// memory are user-mode accesses (they fault like a CPU's), not crossings.

import type { ModuleDefinition } from "@kbridge/chrdev";
import { cmsghdr, get32, iovec, KernelError, msghdr, sockaddr_nl, utf8Encode } from "@kbridge/uapi";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "@kbridge/vmm";
import type { Kernel, Task } from "./kernel.js";
import { AF_NETLINK } from "./net/netlink/af-netlink.js";

/** A netlink address as a program fills `struct sockaddr_nl`. */
export interface SockaddrNlInit {
  /** `nl_family`, AF_NETLINK by default. */
  readonly nl_family?: number;
  /** `nl_pid`: 0 for the kernel (as destination) or autobind (in bind). */
  readonly nl_pid?: number;
  /** `nl_groups`: a mask of groups 1..32. */
  readonly nl_groups?: number;
}

/** A control message received with recvmsg. */
export interface Cmsg {
  /** `cmsg_level`. */
  readonly level: number;
  /** `cmsg_type`. */
  readonly type: number;
  /** The data after the header (`cmsg_len - 16` bytes). */
  readonly data: Uint8Array;
}

/** What {@link Libc.recvmsg} gives back. */
export interface RecvResult {
  /** The return value: bytes (or the datagram's length with MSG_TRUNC), or -1. */
  readonly ret: number;
  /** The bytes the kernel wrote into the buffer. */
  readonly data: Uint8Array;
  /** msg_name as the kernel wrote it. */
  readonly name:
    | { readonly nl_family: number; readonly nl_pid: number; readonly nl_groups: number }
    | undefined;
  /** msg_flags (MSG_TRUNC, MSG_CTRUNC). */
  readonly flags: number;
  /** The control messages. */
  readonly cmsgs: readonly Cmsg[];
}

const HEAP_CHUNK = 64 * 1024;

/**
 * A tiny libc for one simulated process: `socket`, `bind`, `sendmsg`, `recvmsg`, `open`, `read`, `ioctl` … return
 * what C returns (a value, or -1 with {@link Libc.errno} set) and marshal their structs into the process's memory.
 * Buffers come from a bump allocator over anonymous mappings ({@link Libc.malloc}).
 *
 * @example
 * ```ts
 * const k = new Kernel();
 * const libc = new Libc(k, k.spawn({ comm: "prog" }));
 * const fd = libc.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK); // 3
 * ```
 */
export class Libc {
  /** The kernel. */
  readonly kernel: Kernel;
  /** The process. */
  readonly task: Task;
  /** `errno` of the last failed call. */
  errno = 0;
  #heap = 0;
  #heapEnd = 0;

  /** @param kernel - the machine @param task - the process this libc runs in */
  constructor(kernel: Kernel, task: Task) {
    this.kernel = kernel;
    this.task = task;
  }

  #ret(r: number): number {
    if (r < 0 && r >= -4095) {
      this.errno = -r;
      return -1;
    }
    return r;
  }

  /**
   * `malloc(n)`: `n` bytes of the process's memory (8-byte aligned, never freed; the heap grows by mmap).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a bad size, ENOMEM when the process has no room
   */
  malloc(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > 1 << 30)
      throw new KernelError("EINVAL", `malloc of ${String(n)} bytes`, { op: "malloc" });
    const size = Math.max(8, (n + 7) & ~7);
    if (this.#heap + size > this.#heapEnd) {
      const len = Math.max(HEAP_CHUNK, (size + 4095) & ~4095);
      const a = this.kernel.sys.mmap(
        this.task,
        0,
        len,
        PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS,
        -1,
        0,
      );
      if (a < 0) throw KernelError.fromReturn(a, "the heap could not grow", { op: "malloc" });
      this.#heap = a;
      this.#heapEnd = a + len;
    }
    const p = this.#heap;
    this.#heap += size;
    return p;
  }

  /** Stores `bytes` at `addr` (the program's own store; faults as a CPU's would). */
  poke(addr: number, bytes: Uint8Array): void {
    this.#mm();
    if (bytes.length > 0) this.kernel.vmm.userWrite(addr, bytes);
  }

  /** Loads `n` bytes at `addr` (the program's own load). */
  peek(addr: number, n: number): Uint8Array {
    this.#mm();
    return n === 0 ? new Uint8Array(0) : this.kernel.vmm.userRead(addr, n);
  }

  #mm(): void {
    if (this.kernel.vmm.current !== this.task.mm) this.kernel.vmm.switch_mm(this.task.mm);
  }

  /** A copy of `bytes` in the process's memory; returns its address. */
  dup(bytes: Uint8Array): number {
    const p = this.malloc(bytes.length);
    this.poke(p, bytes);
    return p;
  }

  #sockaddr(a: SockaddrNlInit): number {
    return this.dup(
      sockaddr_nl.encode({
        nl_family: a.nl_family ?? AF_NETLINK,
        nl_pid: a.nl_pid ?? 0,
        nl_groups: a.nl_groups ?? 0,
      }),
    );
  }

  /** `socket(domain, type, protocol)`. */
  socket(domain: number, type: number, protocol: number): number {
    return this.#ret(this.kernel.sys.socket(this.task, domain, type, protocol));
  }

  // A netlink address from its fields, or raw sockaddr bytes (an AF_UNIX address from sockaddrUn()).
  #addr(addr: SockaddrNlInit | Uint8Array): { p: number; len: number } {
    return addr instanceof Uint8Array
      ? { p: this.dup(addr), len: addr.length }
      : { p: this.#sockaddr(addr), len: sockaddr_nl.size };
  }

  /** `bind(fd, addr, addrlen)`: a netlink address's fields, or sockaddr bytes (see {@link sockaddrUn}). */
  bind(fd: number, addr: SockaddrNlInit | Uint8Array, addrlen?: number): number {
    const a = this.#addr(addr);
    return this.#ret(this.kernel.sys.bind(this.task, fd, a.p, addrlen ?? a.len));
  }

  /** `connect(fd, addr, addrlen)`: a Promise when an AF_UNIX connect waits for the listener's backlog. */
  connect(fd: number, addr: SockaddrNlInit | Uint8Array, addrlen?: number): number | Promise<number> {
    const a = this.#addr(addr);
    return this.#settle(this.kernel.sys.connect(this.task, fd, a.p, addrlen ?? a.len));
  }

  /** `socketpair(domain, type, protocol, sv)`: the two descriptors, or -1. */
  socketpair(domain: number, type: number, protocol = 0): [number, number] | -1 {
    const sv = this.malloc(8);
    if (this.#ret(this.kernel.sys.socketpair(this.task, domain, type, protocol, sv)) < 0) return -1;
    const b = this.peek(sv, 8);
    return [get32(b, 0, true), get32(b, 4, true)];
  }

  /** `listen(fd, backlog)`. */
  listen(fd: number, backlog: number): number {
    return this.#ret(this.kernel.sys.listen(this.task, fd, backlog));
  }

  /** `accept4(fd, NULL, NULL, flags)`: the new descriptor, or -1; a Promise while no connection is pending. */
  accept(fd: number, flags = 0): number | Promise<number> {
    return this.#settle(this.kernel.sys.accept4(this.task, fd, 0, 0, flags));
  }

  /** `shutdown(fd, how)`. */
  shutdown(fd: number, how: number): number {
    return this.#ret(this.kernel.sys.shutdown(this.task, fd, how));
  }

  /** `getsockname(fd, &addr, &len)`: the address, or -1. */
  getsockname(fd: number): { nl_family: number; nl_pid: number; nl_groups: number } | -1 {
    const a = this.malloc(sockaddr_nl.size);
    const l = this.dup(u32(sockaddr_nl.size));
    const r = this.#ret(this.kernel.sys.getsockname(this.task, fd, a, l));
    return r < 0 ? -1 : nlName(this.peek(a, sockaddr_nl.size));
  }

  /** `setsockopt(fd, level, optname, &int, optlen)` with an int value. */
  setsockopt(fd: number, level: number, optname: number, value: number, optlen = 4): number {
    const p = this.dup(u32(value));
    return this.#ret(this.kernel.sys.setsockopt(this.task, fd, level, optname, p, optlen));
  }

  /** `getsockopt(fd, level, optname, buf, &len)`: the bytes written (as many as the kernel reported), or -1. */
  getsockopt(
    fd: number,
    level: number,
    optname: number,
    len = 4,
  ): { value: Uint8Array; optlen: number } | -1 {
    const p = this.malloc(Math.max(len, 0));
    const l = this.dup(u32(len));
    const r = this.#ret(this.kernel.sys.getsockopt(this.task, fd, level, optname, p, l));
    if (r < 0) return -1;
    const optlen = get32(this.peek(l, 4), 0, true);
    return { value: this.peek(p, Math.min(optlen, len)), optlen };
  }

  /** `sendto(fd, buf, len, flags, &to, 12)`; without `to`, a NULL address. */
  sendto(fd: number, bytes: Uint8Array, flags = 0, to?: SockaddrNlInit): number | Promise<number> {
    const b = this.dup(bytes);
    const a = to === undefined ? 0 : this.#sockaddr(to);
    return this.#settle(
      this.kernel.sys.sendto(this.task, fd, b, bytes.length, flags, a, to === undefined ? 0 : 12),
    );
  }

  /**
   * `sendmsg(fd, &msg, flags)` with a msghdr built from `msg`: the address, one iovec per buffer and raw control
   * bytes.
   */
  sendmsg(
    fd: number,
    msg: {
      readonly name?: SockaddrNlInit;
      readonly iov: readonly Uint8Array[];
      readonly control?: Uint8Array;
    },
    flags = 0,
  ): number | Promise<number> {
    return this.#settle(this.kernel.sys.sendmsg(this.task, fd, this.#msghdr(msg), flags));
  }

  #msghdr(msg: {
    readonly name?: SockaddrNlInit;
    readonly iov: readonly Uint8Array[];
    readonly control?: Uint8Array;
  }): number {
    const iov = this.malloc(iovec.size * msg.iov.length);
    for (const [i, b] of msg.iov.entries()) {
      this.poke(
        iov + i * iovec.size,
        iovec.encode({ iov_base: BigInt(this.dup(b)), iov_len: BigInt(b.length) }),
      );
    }
    const name = msg.name === undefined ? 0 : this.#sockaddr(msg.name);
    const ctl = msg.control === undefined ? 0 : this.dup(msg.control);
    return this.dup(
      msghdr.encode({
        msg_name: BigInt(name),
        msg_namelen: name === 0 ? 0 : 12,
        msg_iov: BigInt(iov),
        msg_iovlen: BigInt(msg.iov.length),
        msg_control: BigInt(ctl),
        msg_controllen: BigInt(msg.control?.length ?? 0),
        msg_flags: 0,
      }),
    );
  }

  /**
   * `recvmsg(fd, &msg, flags)` into one buffer of `len` bytes, with room for an address and `controllen` bytes of
   * control messages; the result decodes what the kernel wrote back. A Promise when the call sleeps.
   */
  recvmsg(fd: number, len = 32768, flags = 0, controllen = 64): RecvResult | Promise<RecvResult> {
    const buf = this.malloc(len);
    const name = this.malloc(sockaddr_nl.size);
    const ctl = controllen > 0 ? this.malloc(controllen) : 0;
    const iov = this.dup(iovec.encode({ iov_base: BigInt(buf), iov_len: BigInt(len) }));
    const mh = this.dup(
      msghdr.encode({
        msg_name: BigInt(name),
        msg_namelen: sockaddr_nl.size,
        msg_iov: BigInt(iov),
        msg_iovlen: 1n,
        msg_control: BigInt(ctl),
        msg_controllen: BigInt(controllen),
        msg_flags: 0,
      }),
    );
    const finish = (r: number): RecvResult => {
      const ret = this.#ret(r);
      if (ret < 0) return { ret, data: new Uint8Array(0), name: undefined, flags: 0, cmsgs: [] };
      const m = msghdr.decode(this.peek(mh, msghdr.size));
      const used = Number(m.msg_controllen);
      const cmsgs: Cmsg[] = [];
      if (used > 0) {
        const c = this.peek(ctl, used);
        for (let off = 0; off + cmsghdr.size <= used; ) {
          const h = cmsghdr.decode(c, off);
          const l = Number(h.cmsg_len);
          if (l < cmsghdr.size) break;
          cmsgs.push({ level: h.cmsg_level, type: h.cmsg_type, data: c.slice(off + cmsghdr.size, off + l) });
          off += (l + 7) & ~7;
        }
      }
      return {
        ret,
        data: this.peek(buf, Math.min(ret, len)),
        name: m.msg_namelen >= sockaddr_nl.size ? nlName(this.peek(name, sockaddr_nl.size)) : undefined,
        flags: m.msg_flags,
        cmsgs,
      };
    };
    const r = this.kernel.sys.recvmsg(this.task, fd, mh, flags);
    return r instanceof Promise ? r.then(finish) : finish(r);
  }

  /** `recv(fd, buf, len, flags)`: the bytes received, or -1. */
  recv(fd: number, len: number, flags = 0): Uint8Array | -1 | Promise<Uint8Array | -1> {
    const buf = this.malloc(len);
    const finish = (r: number) => {
      const ret = this.#ret(r);
      return ret < 0 ? (-1 as const) : this.peek(buf, Math.min(ret, len));
    };
    const r = this.kernel.sys.recvfrom(this.task, fd, buf, len, flags, 0, 0);
    return r instanceof Promise ? r.then(finish) : finish(r);
  }

  /** `close(fd)`. */
  close(fd: number): number {
    return this.#ret(this.kernel.sys.close(this.task, fd));
  }

  /** `open(path, flags, mode)`: a Promise when the open sleeps (a FIFO without its other end). */
  open(path: string, flags: number, mode = 0o666): number | Promise<number> {
    const s = utf8Encode(path);
    const p = this.malloc(s.length + 1);
    this.poke(p, Uint8Array.from([...s, 0]));
    return this.#settle(this.kernel.sys.open(this.task, p, flags, mode));
  }

  /** `ftruncate(fd, length)`. */
  ftruncate(fd: number, length: number): number {
    return this.#ret(this.kernel.sys.ftruncate(this.task, fd, length));
  }

  /** `unlink(path)`. */
  unlink(path: string): number {
    return this.#ret(this.kernel.sys.unlink(this.task, this.#cstr(path)));
  }

  /** `futex(uaddr, op, val)`: FUTEX_WAIT sleeps (a Promise) until a FUTEX_WAKE on the same word. */
  futex(uaddr: number, op: number, val: number): number | Promise<number> {
    return this.#settle(this.kernel.sys.futex(this.task, uaddr, op, val));
  }

  /** `mkfifo(path, mode)`: a named pipe. */
  mkfifo(path: string, mode = 0o666): number {
    return this.#ret(this.kernel.sys.mkfifo(this.task, this.#cstr(path), mode));
  }

  /** `pipe2(fds, flags)`: the read and write ends, or -1. */
  pipe(flags = 0): [number, number] | -1 {
    const fds = this.malloc(8);
    if (this.#ret(this.kernel.sys.pipe2(this.task, fds, flags)) < 0) return -1;
    const b = this.peek(fds, 8);
    return [get32(b, 0, true), get32(b, 4, true)];
  }

  #cstr(s: string): number {
    const b = utf8Encode(s);
    const p = this.malloc(b.length + 1);
    this.poke(p, Uint8Array.from([...b, 0]));
    return p;
  }

  /** `fcntl(fd, cmd, arg)`. */
  fcntl(fd: number, cmd: number, arg = 0): number {
    return this.#ret(this.kernel.sys.fcntl(this.task, fd, cmd, arg));
  }

  /** `read(fd, buf, n)`: the bytes read, or -1. */
  read(fd: number, n: number): Uint8Array | -1 | Promise<Uint8Array | -1> {
    const buf = this.malloc(n);
    const finish = (r: number) => {
      const ret = this.#ret(r);
      return ret < 0 ? (-1 as const) : this.peek(buf, ret);
    };
    const r = this.kernel.sys.read(this.task, fd, buf, n);
    return r instanceof Promise ? r.then(finish) : finish(r);
  }

  /** `write(fd, buf, n)`. */
  write(fd: number, bytes: Uint8Array): number | Promise<number> {
    return this.#settle(this.kernel.sys.write(this.task, fd, this.dup(bytes), bytes.length));
  }

  /** `ioctl(fd, cmd, arg)` with a raw argument (a number or a pointer). */
  ioctl(fd: number, cmd: number, arg = 0): number {
    return this.#ret(this.kernel.sys.ioctl(this.task, fd, cmd, arg));
  }

  /** `mmap(addr, length, prot, flags, fd, offset)`: the address, or -1 (MAP_FAILED). */
  mmap(addr: number, length: number, prot: number, flags: number, fd: number, offset = 0): number {
    return this.#ret(this.kernel.sys.mmap(this.task, addr, length, prot, flags, fd, offset));
  }

  /** `munmap(addr, length)`. */
  munmap(addr: number, length: number): number {
    return this.#ret(this.kernel.sys.munmap(this.task, addr, length));
  }

  /** `init_module` of a module definition. */
  init_module(def: ModuleDefinition): number {
    return this.#ret(this.kernel.sys.init_module(this.task, def));
  }

  /** `delete_module(name, flags)`. */
  delete_module(name: string, flags = 0): number {
    const s = utf8Encode(name);
    const p = this.malloc(s.length + 1);
    this.poke(p, Uint8Array.from([...s, 0]));
    return this.#ret(this.kernel.sys.delete_module(this.task, p, flags));
  }

  #settle(r: number | Promise<number>): number | Promise<number> {
    return r instanceof Promise ? r.then((v) => this.#ret(v)) : this.#ret(r);
  }
}

/**
 * `struct sockaddr_un` bytes for `path` as a program passes them with `offsetof(sun_path) + strlen + 1`; an abstract
 * name (Linux's leading-NUL namespace) is given without its NUL and gets `2 + 1 + length` bytes.
 */
export function sockaddrUn(path: string, abstract = false): Uint8Array {
  const p = utf8Encode(path);
  const b = new Uint8Array(2 + (abstract ? 1 : 0) + p.length + (abstract ? 0 : 1));
  b[0] = 1; // AF_UNIX
  b.set(p, abstract ? 3 : 2);
  return b;
}

function nlName(b: Uint8Array): { nl_family: number; nl_pid: number; nl_groups: number } {
  const { nl_family, nl_pid, nl_groups } = sockaddr_nl.decode(b);
  return { nl_family, nl_pid, nl_groups };
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
