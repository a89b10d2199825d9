// The simulated machine: one kernel with its memory (vmm), character devices and modules (chrdev), the netlink
// socket layer, and the tasks that run on it — kernel/fork.c, kernel/exit.c and the file table of fs/file.c
// as far as the system calls of this package need them.

import { ChrdevRegistry, type File, Inode, ModuleLoader, Vfs, type WaitQueueHead } from "@kbridge/chrdev";
import { errnoName, KernelError, strerror } from "@kbridge/uapi";
import { type MmStruct, Vmm } from "@kbridge/vmm";
import { Cred } from "./cred.js";
import type { FileCaller, KFile } from "./fs/file.js";
import { pipefs } from "./fs/pipe.js";
import { mountProc, mountSys, type SysFs } from "./fs/procfs.js";
import { mountShm, type ShmFs } from "./mm/shmem.js";
import { type Rtnetlink, rtnetlink_net_init } from "./net/core/rtnetlink.js";
import { AfNetlink, type NetlinkCaller, type NetlinkSock } from "./net/netlink/af-netlink.js";
import { Genetlink } from "./net/netlink/genetlink.js";
import { AfUnix } from "./net/unix/af-unix.js";
import { Syscalls } from "./syscalls.js";

/** `SIGINT` (2). */
export const SIGINT = 2;
/** `SIGKILL` (9). */
export const SIGKILL = 9;
/** `SIGTERM` (15). */
export const SIGTERM = 15;
/** `SIGPIPE` (13). */
export const SIGPIPE = 13;

/**
 * How a mounted file system opens a path: an in-kernel file, a negative errno (ENOENT, EACCES …), or a Promise when
 * the open sleeps (a FIFO waiting for its other end). `flags` are the open flags without O_CLOEXEC.
 */
export type PathOpener = (
  path: string,
  flags: number,
  mode: number,
  caller: FileCaller,
) => KFile | number | Promise<KFile | number>;

/** What a file descriptor refers to: a netlink socket or an open character device. */
export type FileObject =
  | { readonly kind: "netlink"; readonly sock: NetlinkSock }
  | { readonly kind: "chrdev"; readonly file: File; readonly path: string }
  | { readonly kind: "kfile"; readonly file: KFile };

/** An open file description (`struct file`) shared by the descriptors that refer to it (after fork or dup). */
export class OpenFile {
  /** What it is. */
  readonly object: FileObject;
  /** `f_flags` that can change after open (O_NONBLOCK). */
  flags: number;
  /** Descriptors (in every task) that refer to it. */
  refs = 1;

  /** @internal */
  constructor(object: FileObject, flags: number) {
    this.object = object;
    this.flags = flags;
  }
}

/** How a task is created by {@link Kernel.spawn}. */
export interface SpawnOptions {
  /** The command name (`comm`, at most 15 characters shown). */
  readonly comm?: string;
  /** User id (0 by default). */
  readonly uid?: number;
  /** Group id (the uid by default). */
  readonly gid?: number;
  /** Effective capabilities; by default all for uid 0, none otherwise. */
  readonly caps?: Iterable<number>;
}

/** A process (one thread: pid = tgid): credentials, an fd table and an address space. */
export class Task {
  /** The process id. */
  readonly pid: number;
  /** The thread-group id (= pid: one thread per process). */
  readonly tgid: number;
  /** The parent's pid (0 for a spawned task). */
  readonly ppid: number;
  /** `comm`. */
  readonly comm: string;
  /** The credentials. */
  cred: Cred;
  /** The address space. */
  readonly mm: MmStruct;
  /** The descriptor table: index = fd. */
  readonly fds: (OpenFile | undefined)[] = [];
  /** Descriptors with FD_CLOEXEC. */
  readonly cloexec = new Set<number>();
  /** Signals sent and not yet delivered. */
  readonly pending = new Set<number>();
  /** The exit code once it exited. */
  exitCode: number | undefined;
  /** @internal the queues the task sleeps on */
  readonly sleepingOn = new Set<WaitQueueHead>();
  /** @internal what a signal interrupts besides those queues (poll) */
  readonly interrupts = new Set<() => void>();

  /** @internal */
  constructor(pid: number, ppid: number, comm: string, cred: Cred, mm: MmStruct) {
    this.pid = pid;
    this.tgid = pid;
    this.ppid = ppid;
    this.comm = comm;
    this.cred = cred;
    this.mm = mm;
  }

  /** Whether the task has exited. */
  get exited(): boolean {
    return this.exitCode !== undefined;
  }

  /** The task as af_netlink sees `current`. */
  get caller(): NetlinkCaller {
    return { tgid: this.tgid, pid: this.pid, cred: this.cred };
  }
}

/** What {@link Kernel} is booted with. */
export interface KernelOptions {
  /** `get_random_u32()`: a uniform u32 source (port ids); a seeded generator by default, so runs repeat. */
  readonly random?: () => number;
  /** RAM in bytes (64 MiB by default). */
  readonly ram?: number;
  /** The first pid handed out (1000 by default). */
  readonly firstPid?: number;
  /** CONFIG_MODULE_FORCE_UNLOAD. */
  readonly forceUnload?: boolean;
  /** Trace entries kept (10000 by default; 0: no trace). */
  readonly traceLimit?: number;
  /**
   * Milliseconds since boot, for the timestamps the kernel reports (address creation times); by default time
   * stands still at 0, so every run prints the same bytes.
   */
  readonly clock?: () => number;
  /** Boot with lo up and addressed (127.0.0.1/8, ::1/128) as an initial namespace has it; default true. */
  readonly loUp?: boolean;
}

// xorshift32: a deterministic default for get_random_u32().
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/** A line of the system-call trace; its text is built when first read. */
export class TraceEntry {
  /** The calling task. */
  readonly pid: number;
  /** The system call. */
  readonly name: string;
  /** The return value (negative errno for an error). */
  readonly ret: number;
  readonly #args: () => readonly string[];
  readonly #hex: boolean;
  #text: string | undefined;

  /** @internal */
  constructor(pid: number, name: string, args: () => readonly string[], ret: number, hexRet: boolean) {
    this.pid = pid;
    this.name = name;
    this.ret = ret;
    this.#args = args;
    this.#hex = hexRet;
  }

  /** The arguments as strace prints them. */
  get args(): readonly string[] {
    return this.#args();
  }

  /** The strace line: `socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE) = 3` or `… = -1 EFAULT (Bad address)`. */
  get text(): string {
    if (this.#text === undefined) {
      const r = this.ret;
      let t = `${this.name}(${this.#args().join(", ")}) = `;
      if (r < 0 && r >= -4095) t += `-1 ${errnoName(-r) ?? String(-r)} (${strerror(-r)})`;
      else t += this.#hex ? `0x${r.toString(16)}` : String(r);
      this.#text = t;
    }
    return this.#text;
  }
}

/**
 * One simulated machine and its kernel. It owns every piece of state: two kernels share nothing.
 *
 * @example
 * ```ts
 * const k = new Kernel();
 * const t = k.spawn({ comm: "ip" });
 * k.sys.socket(t, 16, 3, 0); // 3
 * ```
 */
export class Kernel {
  /** Memory: frames, page tables, address spaces, uaccess. */
  readonly vmm: Vmm;
  /** Device numbers and cdevs. */
  readonly chrdevs: ChrdevRegistry;
  /** Loaded modules. */
  readonly modules: ModuleLoader;
  /** The VFS dispatch of character devices. */
  readonly vfs: Vfs;
  /** The netlink socket layer. */
  readonly netlink: AfNetlink;
  /** The system calls. */
  readonly sys: Syscalls;
  /** rtnetlink: the NETLINK_ROUTE kernel socket, its links and addresses. */
  readonly rtnl: Rtnetlink;
  /** Generic netlink: the NETLINK_GENERIC kernel socket, the family registry and nlctrl. */
  readonly genl: Genetlink;
  /** AF_UNIX: unix domain sockets, their names and the files in flight. */
  readonly unix: AfUnix;
  /** tmpfs at /dev/shm: POSIX shared memory objects. */
  readonly shm: ShmFs;
  /** sysfs at /sys: drivers' attribute files. */
  readonly sysfs: SysFs;
  /** The task whose system call runs now (`current`), if any. */
  current: Task | undefined;
  /** Milliseconds since boot. */
  readonly clock: () => number;
  /** `get_random_u32()`. */
  readonly random: () => number;
  /** devtmpfs: `/dev/<name>` nodes by path. */
  readonly devtmpfs = new Map<string, Inode>();
  readonly #mounts = new Map<string, PathOpener>();
  /** The live tasks by pid. */
  readonly tasks = new Map<number, Task>();
  /**
   * The system-call trace, oldest first, at most `traceLimit` entries: when full, the oldest eighth is dropped
   * (see {@link Kernel.traceText}).
   */
  readonly trace: TraceEntry[] = [];
  /** How many trace entries are kept (the oldest go first); 0 turns tracing off. */
  traceLimit: number;
  /** System calls made since boot (each a user→kernel→user crossing), traced or not. */
  syscallCount = 0;
  #nextPid: number;
  #ino = 4000;

  /** @throws {@link @kbridge/uapi!KernelError} EINVAL for bad options */
  constructor(options: KernelOptions = {}) {
    if (options.random !== undefined && typeof options.random !== "function")
      throw new KernelError("EINVAL", "random is not a function", { op: "Kernel" });
    const first = options.firstPid ?? 1000;
    if (!Number.isInteger(first) || first < 1 || first > 4194304)
      throw new KernelError("EINVAL", `first pid ${String(first)} is not 1..4194304`, { op: "Kernel" });
    this.#nextPid = first;
    const limit = options.traceLimit ?? 10000;
    if (!Number.isInteger(limit) || limit < 0)
      throw new KernelError("EINVAL", `trace limit ${String(limit)} is not a count`, { op: "Kernel" });
    this.traceLimit = limit;
    this.random = options.random ?? seeded(0x6b627267);
    this.vmm = new Vmm({ ram: options.ram ?? 64 * 1024 * 1024 });
    this.chrdevs = new ChrdevRegistry();
    this.modules = new ModuleLoader({ forceUnload: options.forceUnload ?? false });
    this.vfs = new Vfs(this.vmm, this.chrdevs);
    this.netlink = new AfNetlink({ random: this.random, nextIno: () => ++this.#ino });
    this.sys = new Syscalls(this);
    if (options.clock !== undefined && typeof options.clock !== "function")
      throw new KernelError("EINVAL", "clock is not a function", { op: "Kernel" });
    this.clock = options.clock ?? (() => 0);
    const rtnl = rtnetlink_net_init(this.netlink, {
      loUp: options.loUp ?? true,
      clock: () => Math.floor(this.clock() / 10),
    });
    if (typeof rtnl === "number")
      throw KernelError.fromReturn(rtnl, "rtnetlink did not start", { op: "Kernel" });
    this.rtnl = rtnl;
    this.genl = new Genetlink(this.netlink, { currentCred: () => this.current?.cred });
    this.unix = new AfUnix(this, { nextIno: () => ++this.#ino });
    pipefs(this, { nextIno: () => ++this.#ino });
    this.shm = mountShm(this);
    mountProc(this);
    this.sysfs = mountSys(this);
  }

  /**
   * A new process with an empty address space and no descriptors, as if exec'ed by a shell running as `uid`.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a bad id or capability; ENOMEM without memory
   */
  spawn(options: SpawnOptions = {}): Task {
    const uid = options.uid ?? 0;
    const cred = new Cred({ uid, gid: options.gid ?? uid, ...(options.caps && { caps: options.caps }) });
    const t = new Task(this.#nextPid++, 0, (options.comm ?? "task").slice(0, 15), cred, this.vmm.mm_alloc());
    this.tasks.set(t.pid, t);
    return t;
  }

  /**
   * `fork()`: a child with the parent's credentials, a copy-on-write copy of its address space and its descriptors
   * (sharing the open files).
   * @throws {@link @kbridge/uapi!KernelError} ESRCH for a task that exited
   */
  fork(parent: Task): Task {
    this.#live(parent, "fork");
    const child = new Task(this.#nextPid++, parent.pid, parent.comm, parent.cred, parent.mm.fork());
    parent.fds.forEach((f, fd) => {
      if (f === undefined) return;
      f.refs++;
      child.fds[fd] = f;
    });
    for (const fd of parent.cloexec) child.cloexec.add(fd);
    this.tasks.set(child.pid, child);
    this.record(parent, "fork", () => [], child.pid);
    return child;
  }

  /**
   * `exit(code)` (do_exit): closes every descriptor (the last reference to a file releases it: sockets, devices,
   * module references), tears down the address space (its frames go back) and removes the task.
   * @throws {@link @kbridge/uapi!KernelError} ESRCH for a task that already exited
   */
  exit(task: Task, code = 0): void {
    this.#live(task, "exit");
    if (!Number.isInteger(code)) throw new KernelError("EINVAL", `exit code ${String(code)} is not an int`);
    // Whatever it sleeps in ends first (with EINTR), then its files and memory go.
    task.exitCode = code & 0xff;
    this.#interrupt(task);
    for (let fd = 0; fd < task.fds.length; fd++) this.closeFd(task, fd);
    task.mm.mmput();
    this.tasks.delete(task.pid);
    this.record(task, "exit_group", () => [String(code)], 0);
  }

  /**
   * `kill(pid, sig)`: marks the signal pending; a task sleeping interruptibly wakes with EINTR. SIGKILL ends it.
   * Returns 0 or -ESRCH.
   */
  kill(task: Task, sig: number): number {
    if (!Number.isInteger(sig) || sig < 1 || sig > 64)
      throw new KernelError("EINVAL", `signal ${String(sig)} is not 1..64`, { op: "kill" });
    if (task.exited) return -3;
    if (sig === SIGKILL) {
      this.exit(task, 128 + SIGKILL);
      return 0;
    }
    task.pending.add(sig);
    this.#interrupt(task);
    return 0;
  }

  #interrupt(task: Task): void {
    for (const wq of task.sleepingOn) wq.signal();
    task.sleepingOn.clear();
    for (const f of [...task.interrupts]) f();
  }

  /**
   * `mknod /dev/<name>` in devtmpfs: a node for device number `devt`, found by `open("/dev/<name>")`.
   * @throws {@link @kbridge/uapi!KernelError} EEXIST for a taken name, EINVAL for a bad name
   */
  mknod(name: string, devt: number): Inode {
    if (typeof name !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(name))
      throw new KernelError("EINVAL", `device name ${JSON.stringify(name)} is not a plain file name`, {
        op: "mknod",
      });
    const path = `/dev/${name}`;
    if (this.devtmpfs.has(path)) throw new KernelError("EEXIST", `${path} exists`, { op: "mknod" });
    const inode = new Inode(devt);
    this.devtmpfs.set(path, inode);
    return inode;
  }

  /**
   * Mounts a file system at `prefix` (`/proc`, `/sys`, `/dev/shm`, or one exact path such as a FIFO): `open()` of a
   * path under it calls `opener`, the longest prefix first.
   * @throws {@link @kbridge/uapi!KernelError} EBUSY when something is mounted there already, EINVAL for a relative path
   */
  mount(prefix: string, opener: PathOpener): void {
    if (typeof prefix !== "string" || !prefix.startsWith("/"))
      throw new KernelError("EINVAL", `mount point ${JSON.stringify(prefix)} is not an absolute path`, {
        op: "mount",
      });
    if (typeof opener !== "function")
      throw new KernelError("EINVAL", "the opener is not a function", { op: "mount" });
    if (this.#mounts.has(prefix))
      throw new KernelError("EBUSY", `${prefix} is already mounted`, { op: "mount" });
    this.#mounts.set(prefix, opener);
  }

  /** Removes what {@link Kernel.mount} put at `prefix` (0, or -EINVAL when nothing is there). */
  umount(prefix: string): number {
    return this.#mounts.delete(prefix) ? 0 : -22;
  }

  /** The opener of the longest mounted prefix of `path` (a whole component: `/proc` matches `/proc/1`, not `/procs`). */
  lookupPath(path: string): PathOpener | undefined {
    let best: string | undefined;
    for (const p of this.#mounts.keys()) {
      const under = path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`);
      if (under && (best === undefined || p.length > best.length)) best = p;
    }
    return best === undefined ? undefined : this.#mounts.get(best);
  }

  /** Removes `/dev/<name>` (0, or -ENOENT). */
  unlinkDev(name: string): number {
    return this.devtmpfs.delete(`/dev/${name}`) ? 0 : -2;
  }

  /**
   * `fd_install()` of an in-kernel file (a pipe end, a unix socket, a shared-memory object …) at the lowest free
   * descriptor of `task`; returns the descriptor.
   */
  installFile(task: Task, file: KFile, cloexec = false): number {
    const fd = this.installFd(task, new OpenFile({ kind: "kfile", file }, file.flags));
    if (cloexec) task.cloexec.add(fd);
    return fd;
  }

  /** @internal installs an open file at the lowest free descriptor */
  installFd(task: Task, f: OpenFile): number {
    let fd = 0;
    while (task.fds[fd] !== undefined) fd++;
    task.fds[fd] = f;
    return fd;
  }

  /** @internal drops descriptor `fd`: the last reference releases the object. Returns 0 or -EBADF. */
  closeFd(task: Task, fd: number): number {
    const f = task.fds[fd];
    if (f === undefined) return -9;
    task.fds[fd] = undefined;
    task.cloexec.delete(fd);
    if (--f.refs > 0) return 0;
    if (f.object.kind === "netlink") this.netlink.release(f.object.sock);
    else if (f.object.kind === "kfile") {
      f.object.file.released = true;
      f.object.file.ops.release?.(f.object.file);
    } else this.vfs.close(f.object.file);
    return 0;
  }

  /** @internal appends a trace line */
  record(task: Task, name: string, args: () => readonly string[], ret: number, hexRet = false): void {
    this.syscallCount++;
    if (this.traceLimit === 0) return;
    // The oldest eighth goes at once, so trimming costs O(1) per call on average.
    if (this.trace.length >= this.traceLimit)
      this.trace.splice(0, this.trace.length - this.traceLimit + Math.ceil(this.traceLimit / 8));
    this.trace.push(new TraceEntry(task.pid, name, args, ret, hexRet));
  }

  /** The trace as strace prints it with `-f`: `[pid 1000] socket(…) = 3`, one line per call (the last `n`). */
  traceText(n = this.trace.length): string {
    return this.trace
      .slice(-n)
      .map((e) => `[pid ${e.pid}] ${e.text}`)
      .join("\n");
  }

  #live(task: Task, op: string): void {
    if (!(task instanceof Task)) throw new KernelError("EINVAL", "not a Task", { op });
    if (task.exited) throw new KernelError("ESRCH", `task ${task.pid} has exited`, { op });
  }
}
