// fs/pipe.c: anonymous pipes and FIFOs. The ring of page-sized pipe buffers of `struct pipe_inode_info` with its
// head/tail counters and max_usage (pipe_full, pipe_empty, pipe_occupancy), pipe_read and pipe_write with the
// merge into the last buffer (PIPE_BUF_FLAG_CAN_MERGE), packet mode (O_DIRECT, PIPE_BUF_FLAG_PACKET), the
// one-deep page cache (tmp_page), EPIPE + SIGPIPE, pipe_poll, pipe_ioctl (FIONREAD), pipe_release, the
// F_SETPIPE_SZ / F_GETPIPE_SZ of pipe_fcntl (round_pipe_size, pipe_set_size, pipe_resize_ring) with the per-user
// page accounting of alloc_pipe_info (pipe-max-size, pipe-user-pages-soft/-hard), create_pipe_files, do_pipe2,
// fifo_open (r_counter/w_counter, wait_for_partner) and the FIFO inodes that mknodat(S_IFIFO) makes. Read against
// Linux 6.12 (Debian's tree).

import {
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  EPOLLRDNORM,
  EPOLLWRNORM,
  O_NONBLOCK,
  type PollTable,
  poll_wait,
  WaitQueueHead,
} from "@kbridge/chrdev";
import { KernelError, PAGE_SIZE, utf8Decode } from "@kbridge/uapi";
import { CAP_SYS_ADMIN, Cred } from "../cred.js";
import type { Kernel, Task } from "../kernel.js";
import {
  type FileCaller,
  FMODE_READ,
  FMODE_WRITE,
  type IovIter,
  KFile,
  type KFileOps,
  sleepOn,
} from "./file.js";
import { generic_permission, MAY_READ, MAY_WRITE } from "./permission.js";

const EPERM = -1;
const ENOENT = -2;
const EINTR = -4;
const ENXIO = -6;
const EAGAIN = -11;
const ENOMEM = -12;
const EACCES = -13;
const EFAULT = -14;
const EBUSY = -16;
const EEXIST = -17;
const EXDEV = -18;
const EINVAL = -22;
const ENFILE = -23;
const EPIPE = -32;
const ENAMETOOLONG = -36;
const ERESTARTSYS = -512;
const ENOIOCTLCMD = -515;

/** `PIPE_BUF` (4096): writes of at most this many bytes are atomic. */
export const PIPE_BUF = 4096;
/** `PIPE_DEF_BUFFERS` (16): the default ring of a new pipe, 16 pages = 64 KiB. */
export const PIPE_DEF_BUFFERS = 16;
/** `PIPE_MIN_DEF_BUFFERS` (2): what a user over pipe-user-pages-soft gets instead. */
export const PIPE_MIN_DEF_BUFFERS = 2;
/** `/proc/sys/fs/pipe-max-size` by default (1048576): the most an unprivileged F_SETPIPE_SZ may ask. */
export const PIPE_MAX_SIZE = 1048576;
/** `INR_OPEN_CUR` (1024): pipe-user-pages-soft is PIPE_DEF_BUFFERS times this (16384 pages). */
export const INR_OPEN_CUR = 1024;
/** `PIPE_BUF_FLAG_PACKET` (0x08): the buffer is one packet (a write to an O_DIRECT pipe). */
export const PIPE_BUF_FLAG_PACKET = 0x08;
/** `PIPE_BUF_FLAG_CAN_MERGE` (0x10): later writes may append to the buffer. */
export const PIPE_BUF_FLAG_CAN_MERGE = 0x10;
/** `O_DIRECT` (0o40000): a pipe in packet mode (pipe2 flag, and the write end's f_flags). */
export const O_DIRECT = 0o40000;
/** `O_NOTIFICATION_PIPE` (= O_EXCL, 0o200): pipe2 makes a watch-queue (notification) pipe. */
export const O_NOTIFICATION_PIPE = 0o200;
/** `S_IFIFO` (0o010000): the file type of a FIFO. */
export const S_IFIFO = 0o010000;
/** `S_IFMT` (0o170000): the file-type bits of a mode. */
export const S_IFMT = 0o170000;
/** `FIONREAD` (0x541B): the bytes a pipe holds (pipe_ioctl). */
export const FIONREAD = 0x541b;
/** `CAP_SYS_RESOURCE` (24): may go beyond pipe-max-size and the per-user pipe page limits. */
export const CAP_SYS_RESOURCE = 24;

const O_CLOEXEC = 0o2000000;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_ACCMODE = 3;
const O_NOCTTY = 0o400;
const O_TRUNC = 0o1000;
const SIGPIPE = 13;

/** `struct pipe_buffer`: a page, the offset and length of the data in it, and its flags. */
export interface PipeBuffer {
  /** `page`: 4096 bytes. */
  readonly page: Uint8Array;
  /** `offset`: where the data starts in the page. */
  offset: number;
  /** `len`: bytes of data (0 for the slot of a write that faulted). */
  len: number;
  /** `flags`: PIPE_BUF_FLAG_CAN_MERGE or PIPE_BUF_FLAG_PACKET. */
  flags: number;
}

/**
 * `struct pipe_inode_info`: the ring of pipe buffers (`bufs`, indexed by the free-running `head` and `tail` counters
 * masked by `ringSize - 1`), the reader and writer counts, the FIFO open counters, and the two wait queues.
 */
export class PipeInodeInfo {
  /** The inode number (`pipe:[ino]`). */
  readonly ino: number;
  /** `bufs`: the ring. */
  bufs: (PipeBuffer | undefined)[];
  /** `head`: the slot the next buffer goes into (free-running). */
  head = 0;
  /** `tail`: the slot the next read takes from (free-running). */
  tail = 0;
  /** `ring_size`: slots in the ring (a power of two). */
  ringSize: number;
  /** `max_usage`: how many slots may be used (the capacity is max_usage pages). */
  maxUsage: number;
  /** `nr_accounted`: pages charged to the user. */
  nrAccounted: number;
  /** `tmp_page`: a freed page kept for the next write. */
  tmpPage: Uint8Array | undefined;
  /** `readers`: open files with FMODE_READ. */
  readers = 0;
  /** `writers`: open files with FMODE_WRITE. */
  writers = 0;
  /** `files`: open files (the pipe is freed when this reaches 0). */
  files = 0;
  /** `r_counter`: readers ever opened (fifo_open waits for it to change). */
  rCounter = 1;
  /** `w_counter`: writers ever opened. */
  wCounter = 1;
  /** `rd_wait`: readers (and FIFO openers) sleep here. */
  readonly rdWait = new WaitQueueHead();
  /** `wr_wait`: writers sleep here. */
  readonly wrWait = new WaitQueueHead();
  /** `poll_usage`: poll was used, so every write wakes the readers. */
  pollUsage = false;
  /** `watch_queue != NULL`: an O_NOTIFICATION_PIPE (writes are EXDEV, resizes EBUSY). */
  watchQueue = false;
  /** `user`: the uid the pages are charged to. */
  readonly user: number;
  /** True once free_pipe_info ran. */
  freed = false;
  /** @internal */
  readonly fs: PipeFs;

  /** @internal use {@link PipeFs.alloc_pipe_info} */
  constructor(fs: PipeFs, ino: number, slots: number, user: number) {
    this.fs = fs;
    this.ino = ino;
    this.bufs = new Array<PipeBuffer | undefined>(slots);
    this.ringSize = slots;
    this.maxUsage = slots;
    this.nrAccounted = slots;
    this.user = user;
  }

  /** `pipe_empty(head, tail)`. */
  get empty(): boolean {
    return this.head === this.tail;
  }

  /** `pipe_occupancy(head, tail)`: slots in use. */
  get occupancy(): number {
    return this.head - this.tail;
  }

  /** `pipe_full(head, tail, max_usage)`. */
  get full(): boolean {
    return this.occupancy >= this.maxUsage;
  }

  /** The bytes held (what FIONREAD reports). */
  get bytes(): number {
    let n = 0;
    for (let i = this.tail; i !== this.head; i++) n += this.#slot(i)?.len ?? 0;
    return n;
  }

  /** Pages the pipe holds now: one per buffer in the ring, plus tmp_page. */
  get pages(): number {
    return this.occupancy + (this.tmpPage === undefined ? 0 : 1);
  }

  /** `pipe_readable()`: data, or no writer left. */
  readable(): boolean {
    return !this.empty || this.writers === 0;
  }

  /** `pipe_writable()`: room, or no reader left. */
  writable(): boolean {
    return !this.full || this.readers === 0;
  }

  /** @internal the buffer of slot `i` (masked) */
  slot(i: number): PipeBuffer | undefined {
    return this.#slot(i);
  }

  #slot(i: number): PipeBuffer | undefined {
    return this.bufs[i & (this.ringSize - 1)];
  }
}

/** The per-file side of a pipe end: `file->private_data` and `file->f_pipe`. */
export interface PipeFile {
  /** `private_data`. */
  readonly pipe: PipeInodeInfo;
  /** `f_pipe`: the w_counter a nonblocking FIFO reader saw at open (EPOLLHUP waits for a later writer). */
  readonly fPipe: number;
  /** The FIFO inode, for a FIFO. */
  readonly inode?: FifoInode;
}

/** A FIFO made by mknodat(S_IFIFO): its inode (`i_pipe` while it is open) and its owner and mode. */
export class FifoInode {
  /** The path. */
  readonly path: string;
  /** `i_ino`. */
  readonly ino: number;
  /** `i_uid`. */
  readonly uid: number;
  /** `i_gid`. */
  readonly gid: number;
  /** The permission bits (after the umask). */
  readonly mode: number;
  /** `i_pipe`: the pipe while some file has the FIFO open. */
  pipe: PipeInodeInfo | undefined;

  /** @internal */
  constructor(path: string, ino: number, uid: number, gid: number, mode: number) {
    this.path = path;
    this.ino = ino;
    this.uid = uid;
    this.gid = gid;
    this.mode = mode;
  }
}

/** How {@link pipefs} sets up the pipe file system of a kernel (the first call decides). */
export interface PipeFsOptions {
  /** `get_next_ino()`: inode numbers, shared with the kernel's other pseudo files if given. */
  readonly nextIno?: () => number;
  /** The umask applied to mkfifo modes (022 by default, as a login shell has it). */
  readonly umask?: number;
}

const root = new Cred({ uid: 0, gid: 0 });

/**
 * pipefs of one kernel: its sysctls (`fs.pipe-max-size`, `fs.pipe-user-pages-soft`, `fs.pipe-user-pages-hard`), the
 * pages charged to each user (`user->pipe_bufs`), the pages all pipes hold, the live pipes, the FIFO inodes and the
 * `file_operations` of pipes and FIFOs (`pipefifo_fops`).
 */
export class PipeFs {
  /** The kernel. */
  readonly kernel: Kernel;
  /** `fs.pipe-max-size` (set it with {@link PipeFs.setPipeMaxSize}). */
  pipeMaxSize = PIPE_MAX_SIZE;
  /** `fs.pipe-user-pages-soft`: above it an unprivileged user's new pipes get 2 pages (0: no limit). */
  pipeUserPagesSoft = PIPE_DEF_BUFFERS * INR_OPEN_CUR;
  /** `fs.pipe-user-pages-hard`: above it an unprivileged user gets no pipe (0: no limit, the default). */
  pipeUserPagesHard = 0;
  /** `user->pipe_bufs`: pipe pages charged per uid. */
  readonly userBufs = new Map<number, number>();
  /** The live pipes (allocated by alloc_pipe_info, not yet freed). */
  readonly pipes = new Set<PipeInodeInfo>();
  /** FIFOs by path. */
  readonly fifos = new Map<string, FifoInode>();
  /** The umask of mkfifo. */
  readonly umask: number;
  /** `pipefifo_fops`. */
  readonly fops: KFileOps;
  readonly #nextIno: () => number;
  #pages = 0;

  /** @internal use {@link pipefs} */
  constructor(kernel: Kernel, options: PipeFsOptions = {}) {
    this.kernel = kernel;
    let ino = 9000;
    this.#nextIno = options.nextIno ?? (() => ++ino);
    this.umask = (options.umask ?? 0o022) & 0o777;
    this.fops = pipeFops(this);
  }

  /** Pages held by all pipes of the kernel (buffers in rings and tmp_pages): 0 when every pipe is gone. */
  get pagesInUse(): number {
    return this.#pages;
  }

  /** @internal alloc_page() / __free_page() accounting */
  chargePages(n: number): void {
    this.#pages += n;
  }

  /**
   * Writes `/proc/sys/fs/pipe-max-size` (proc_dopipe_max_size): the value is rounded by round_pipe_size; 0 after
   * rounding (above 2^31) is -EINVAL. Returns 0 or -EINVAL.
   */
  setPipeMaxSize(v: number): number {
    if (!Number.isInteger(v) || v < 0) return EINVAL;
    const r = round_pipe_size(v);
    if (r === 0) return EINVAL;
    this.pipeMaxSize = r;
    return 0;
  }

  /** `account_pipe_buffers(user, old, new)`: the user's new total. */
  account_pipe_buffers(uid: number, old: number, now: number): number {
    const v = (this.userBufs.get(uid) ?? 0) + now - old;
    if (v === 0) this.userBufs.delete(uid);
    else this.userBufs.set(uid, v);
    return v;
  }

  /** `too_many_pipe_buffers_soft()`. */
  too_many_pipe_buffers_soft(userBufs: number): boolean {
    return this.pipeUserPagesSoft !== 0 && userBufs > this.pipeUserPagesSoft;
  }

  /** `too_many_pipe_buffers_hard()`. */
  too_many_pipe_buffers_hard(userBufs: number): boolean {
    return this.pipeUserPagesHard !== 0 && userBufs > this.pipeUserPagesHard;
  }

  /**
   * `alloc_pipe_info()`: a pipe of PIPE_DEF_BUFFERS slots (fewer when pipe-max-size is below 64 KiB and the caller
   * lacks CAP_SYS_RESOURCE; 2 when an unprivileged user is over the soft limit), charged to `cred.uid`; undefined
   * when an unprivileged user is over the hard limit.
   */
  alloc_pipe_info(cred: Cred): PipeInodeInfo | undefined {
    let bufs = PIPE_DEF_BUFFERS;
    if (bufs * PAGE_SIZE > this.pipeMaxSize && !cred.capable(CAP_SYS_RESOURCE))
      bufs = Math.floor(this.pipeMaxSize / PAGE_SIZE);
    let userBufs = this.account_pipe_buffers(cred.uid, 0, bufs);
    if (this.too_many_pipe_buffers_soft(userBufs) && pipe_is_unprivileged_user(cred)) {
      userBufs = this.account_pipe_buffers(cred.uid, bufs, PIPE_MIN_DEF_BUFFERS);
      bufs = PIPE_MIN_DEF_BUFFERS;
    }
    if (this.too_many_pipe_buffers_hard(userBufs) && pipe_is_unprivileged_user(cred)) {
      this.account_pipe_buffers(cred.uid, bufs, 0);
      return undefined;
    }
    const pipe = new PipeInodeInfo(this, this.#nextIno(), bufs, cred.uid);
    this.pipes.add(pipe);
    return pipe;
  }

  /** `free_pipe_info()`: uncharges the user and frees every buffer's page and tmp_page. */
  free_pipe_info(pipe: PipeInodeInfo): void {
    if (pipe.freed) return;
    pipe.freed = true;
    this.account_pipe_buffers(pipe.user, pipe.nrAccounted, 0);
    let n = 0;
    for (let i = 0; i < pipe.bufs.length; i++) {
      if (pipe.bufs[i] !== undefined) n++;
      pipe.bufs[i] = undefined;
    }
    if (pipe.tmpPage !== undefined) n++;
    pipe.tmpPage = undefined;
    pipe.head = pipe.tail = 0;
    this.#pages -= n;
    this.pipes.delete(pipe);
  }

  /** A fresh inode number (`get_next_ino()`). */
  nextIno(): number {
    return this.#nextIno();
  }
}

const registry = new WeakMap<Kernel, PipeFs>();

/**
 * The pipe file system of `kernel` (`pipe_mnt`), set up on first use (`init_pipe_fs`).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when `kernel` is not an object
 */
export function pipefs(kernel: Kernel, options?: PipeFsOptions): PipeFs {
  if (kernel === null || typeof kernel !== "object")
    throw new KernelError("EINVAL", "not a Kernel", { op: "pipefs" });
  let fs = registry.get(kernel);
  if (fs === undefined) {
    fs = new PipeFs(kernel, options);
    registry.set(kernel, fs);
  }
  return fs;
}

/** `pipe_is_unprivileged_user()`: neither CAP_SYS_RESOURCE nor CAP_SYS_ADMIN. */
export function pipe_is_unprivileged_user(cred: Cred): boolean {
  return !cred.capable(CAP_SYS_RESOURCE) && !cred.capable(CAP_SYS_ADMIN);
}

/**
 * `round_pipe_size(size)`: at least one page, else the next power of two; 0 (invalid) above 2^31. `size` is an
 * unsigned int.
 */
export function round_pipe_size(size: number): number {
  const s = size >>> 0;
  if (s > 2 ** 31) return 0;
  if (s < PAGE_SIZE) return PAGE_SIZE;
  let p = PAGE_SIZE;
  while (p < s) p *= 2;
  return p;
}

/** The pipe behind an in-kernel file, if it is a pipe or FIFO end (`get_pipe_info`). */
export function get_pipe_info(file: KFile): PipeInodeInfo | undefined {
  const p = file.private as PipeFile | undefined;
  return p !== null && typeof p === "object" && p.pipe instanceof PipeInodeInfo ? p.pipe : undefined;
}

// alloc_page() for a write: tmp_page if there is one.
function takePage(pipe: PipeInodeInfo): Uint8Array {
  const page = pipe.tmpPage;
  if (page !== undefined) {
    pipe.tmpPage = undefined;
    return page;
  }
  pipe.fs.chargePages(1);
  return new Uint8Array(PAGE_SIZE);
}

// anon_pipe_buf_release() through pipe_update_tail(): the page becomes tmp_page when there is none, else is freed.
function pipe_update_tail(pipe: PipeInodeInfo, tail: number): number {
  const i = tail & (pipe.ringSize - 1);
  const buf = pipe.bufs[i];
  pipe.bufs[i] = undefined;
  if (buf !== undefined) {
    if (pipe.tmpPage === undefined) pipe.tmpPage = buf.page;
    else pipe.fs.chargePages(-1);
  }
  pipe.tail = tail + 1;
  return pipe.tail;
}

/**
 * `pipe_read()`: copies what the ring holds (up to the count) to the user, buffer by buffer; a packet buffer is read
 * whole (what does not fit is dropped) and ends the read. With nothing to read: 0 (EOF) when no writer is left,
 * -EAGAIN when nonblocking, else sleeps on rd_wait until data comes or the last writer goes (-EINTR on a signal:
 * -ERESTARTSYS, which the system call returns as EINTR). A copy that faults returns what was read, or -EFAULT.
 */
export function pipe_read(
  file: KFile,
  to: IovIter,
  nonblock: boolean,
  caller: Pick<FileCaller, "sleepingOn">,
): number | Promise<number> {
  const pipe = (file.private as PipeFile).pipe;
  let totalLen = to.count;
  if (totalLen === 0) return 0;
  // One pass under the pipe mutex; undefined when the reader must sleep (nothing was read then).
  const attempt = (wokeUp: boolean): number | undefined => {
    let ret = 0;
    const wasFull = pipe.full;
    for (;;) {
      const head = pipe.head;
      let tail = pipe.tail;
      if (head !== tail) {
        const buf = pipe.slot(tail)!;
        let chars = buf.len;
        if (chars > totalLen) chars = totalLen;
        const written = to.copyOut(buf.page.subarray(buf.offset, buf.offset + chars));
        if (written < chars) {
          if (ret === 0) ret = EFAULT;
          break;
        }
        ret += chars;
        buf.offset += chars;
        buf.len -= chars;
        if (buf.flags & PIPE_BUF_FLAG_PACKET) {
          totalLen = chars;
          buf.len = 0;
        }
        if (buf.len === 0) tail = pipe_update_tail(pipe, tail);
        totalLen -= chars;
        if (totalLen === 0) break;
        if (head !== tail) continue;
      }
      if (pipe.writers === 0) break;
      if (ret !== 0) break;
      if (nonblock) {
        ret = EAGAIN;
        break;
      }
      // Nothing read: wake a writer if the pipe was full (a zero-length buffer may have gone), then sleep.
      if (wasFull) pipe.wrWait.wake_up_interruptible();
      return undefined;
    }
    // wake_next_reader: after a sleep, another reader is told when data is left.
    if (wasFull) pipe.wrWait.wake_up_interruptible();
    if (wokeUp && !pipe.empty) pipe.rdWait.wake_up_interruptible();
    return ret;
  };
  const run = (wokeUp: boolean): number | Promise<number> => {
    const r = attempt(wokeUp);
    if (r !== undefined) return r;
    const s = sleepOn(pipe.rdWait, () => pipe.readable(), caller);
    if (s === 0) return run(true);
    return s.then((v) => (v === ERESTARTSYS ? EINTR : run(true)));
  };
  return run(false);
}

/**
 * `pipe_write()`: no reader → SIGPIPE to the caller and -EPIPE. A write whose size is not a multiple of a page first
 * appends its tail part (`count % PAGE_SIZE` bytes) to the last buffer if that buffer can merge and the bytes fit in
 * its page; the rest goes a page per slot. A write of at most PIPE_BUF bytes thus either fits whole or waits, and is
 * never split. When the ring is full: nonblocking → what was written, or -EAGAIN; blocking → sleeps on wr_wait until
 * room, and when the last reader goes SIGPIPE is sent and what was written (or -EPIPE) returned; a signal ends it with
 * what was written or -EINTR. A fault returns what was written before the page that faulted, or -EFAULT.
 */
export function pipe_write(
  file: KFile,
  from: IovIter,
  nonblock: boolean,
  caller: Pick<FileCaller, "sleepingOn" | "signal">,
): number | Promise<number> {
  const pipe = (file.private as PipeFile).pipe;
  if (pipe.watchQueue) return EXDEV;
  const totalLen = from.count;
  if (totalLen === 0) return 0;
  const packet = (file.flags & O_DIRECT) !== 0;
  let ret = 0;
  let wasEmpty = false;
  let wakeNextWriter = false;

  const out = (): number => {
    if (pipe.full) wakeNextWriter = false;
    if (wasEmpty || pipe.pollUsage) pipe.rdWait.wake_up_interruptible();
    if (wakeNextWriter) pipe.wrWait.wake_up_interruptible();
    return ret;
  };

  if (pipe.readers === 0) {
    caller.signal(SIGPIPE);
    ret = EPIPE;
    return out();
  }
  wasEmpty = pipe.empty;
  const chars = totalLen & (PAGE_SIZE - 1);
  if (chars !== 0 && !wasEmpty) {
    const buf = pipe.slot(pipe.head - 1)!;
    const offset = buf.offset + buf.len;
    if (buf.flags & PIPE_BUF_FLAG_CAN_MERGE && offset + chars <= PAGE_SIZE) {
      const got = from.copyIn(buf.page.subarray(offset, offset + chars));
      if (got < chars) {
        ret = EFAULT;
        return out();
      }
      buf.len += got;
      ret = got;
      if (from.count === 0) return out();
    }
  }

  // The loop of pipe_write: undefined when the writer must sleep.
  const loop = (): number | undefined => {
    for (;;) {
      if (pipe.readers === 0) {
        caller.signal(SIGPIPE);
        if (ret === 0) ret = EPIPE;
        return out();
      }
      const head = pipe.head;
      if (!pipe.full) {
        const page = takePage(pipe);
        // The slot is taken before the copy: a fault leaves an empty buffer for the reader to drop.
        pipe.head = head + 1;
        const buf: PipeBuffer = {
          page,
          offset: 0,
          len: 0,
          flags: packet ? PIPE_BUF_FLAG_PACKET : PIPE_BUF_FLAG_CAN_MERGE,
        };
        pipe.bufs[head & (pipe.ringSize - 1)] = buf;
        const copied = from.copyIn(page);
        if (copied < PAGE_SIZE && from.count !== 0) {
          if (ret === 0) ret = EFAULT;
          return out();
        }
        ret += copied;
        buf.len = copied;
        if (from.count === 0) return out();
      }
      if (!pipe.full) continue;
      if (nonblock) {
        if (ret === 0) ret = EAGAIN;
        return out();
      }
      if (wasEmpty) pipe.rdWait.wake_up_interruptible();
      return undefined;
    }
  };

  const run = (): number | Promise<number> => {
    const r = loop();
    if (r !== undefined) return r;
    const s = sleepOn(pipe.wrWait, () => pipe.writable(), caller);
    const after = (v: number): number | Promise<number> => {
      wasEmpty = pipe.empty;
      wakeNextWriter = true;
      // signal_pending(): the loop would find the ring still full and stop with what it wrote.
      if (v === ERESTARTSYS) {
        if (ret === 0) ret = EINTR;
        return out();
      }
      return run();
    };
    return s === 0 ? after(0) : s.then(after);
  };
  return run();
}

/**
 * `pipe_poll()`: registers on rd_wait (read end) and wr_wait (write end); the read end is EPOLLIN|EPOLLRDNORM with
 * data and EPOLLHUP with no writer (unless it is a nonblocking FIFO reader that has seen no writer since it
 * opened); the write end is EPOLLOUT|EPOLLWRNORM with a free slot and EPOLLERR with no reader.
 */
export function pipe_poll(file: KFile, pt?: PollTable): number {
  const pf = file.private as PipeFile;
  const pipe = pf.pipe;
  pipe.pollUsage = true;
  if (file.mode & FMODE_READ) poll_wait(pipe.rdWait, pt);
  if (file.mode & FMODE_WRITE) poll_wait(pipe.wrWait, pt);
  let mask = 0;
  if (file.mode & FMODE_READ) {
    if (!pipe.empty) mask |= EPOLLIN | EPOLLRDNORM;
    if (pipe.writers === 0 && pf.fPipe !== pipe.wCounter) mask |= EPOLLHUP;
  }
  if (file.mode & FMODE_WRITE) {
    if (!pipe.full) mask |= EPOLLOUT | EPOLLWRNORM;
    if (pipe.readers === 0) mask |= EPOLLERR;
  }
  return mask;
}

/**
 * `pipe_resize_ring()`: a ring of `nrSlots` slots with the buffers moved to its start; -EBUSY when more slots are in
 * use than it would have. Wakes the writers.
 */
export function pipe_resize_ring(pipe: PipeInodeInfo, nrSlots: number): number {
  const n = pipe.occupancy;
  if (nrSlots < n) return EBUSY;
  const bufs = new Array<PipeBuffer | undefined>(nrSlots);
  for (let i = 0; i < n; i++) bufs[i] = pipe.slot(pipe.tail + i);
  pipe.bufs = bufs;
  pipe.ringSize = nrSlots;
  if (pipe.maxUsage > nrSlots) pipe.maxUsage = nrSlots;
  pipe.tail = 0;
  pipe.head = n;
  if (!pipe.watchQueue) {
    pipe.maxUsage = nrSlots;
    pipe.nrAccounted = nrSlots;
  }
  pipe.wrWait.wake_up_interruptible();
  return 0;
}

/**
 * `pipe_set_size()` (F_SETPIPE_SZ): rounds `arg` (round_pipe_size; 0 → -EINVAL); growing past pipe-max-size needs
 * CAP_SYS_RESOURCE (-EPERM), growing past the per-user limits needs CAP_SYS_RESOURCE or CAP_SYS_ADMIN (-EPERM);
 * shrinking below the slots in use is -EBUSY; a notification pipe is -EBUSY. Returns the new size in bytes.
 */
export function pipe_set_size(pipe: PipeInodeInfo, arg: number, cred: Cred): number {
  if (pipe.watchQueue) return EBUSY;
  const size = round_pipe_size(arg);
  const nrSlots = size / PAGE_SIZE;
  if (nrSlots === 0) return EINVAL;
  const fs = pipe.fs;
  if (nrSlots > pipe.maxUsage && size > fs.pipeMaxSize && !cred.capable(CAP_SYS_RESOURCE)) return EPERM;
  const userBufs = fs.account_pipe_buffers(pipe.user, pipe.nrAccounted, nrSlots);
  let ret = 0;
  if (
    nrSlots > pipe.maxUsage &&
    (fs.too_many_pipe_buffers_hard(userBufs) || fs.too_many_pipe_buffers_soft(userBufs)) &&
    pipe_is_unprivileged_user(cred)
  )
    ret = EPERM;
  else ret = pipe_resize_ring(pipe, nrSlots);
  if (ret < 0) {
    fs.account_pipe_buffers(pipe.user, nrSlots, pipe.nrAccounted);
    return ret;
  }
  return pipe.maxUsage * PAGE_SIZE;
}

/** `pipe_fcntl()`: F_SETPIPE_SZ (1031) and F_GETPIPE_SZ (1032); undefined for other commands. */
export function pipe_fcntl(file: KFile, cmd: number, arg: number, cred: Cred): number | undefined {
  const pipe = get_pipe_info(file);
  if (pipe === undefined) return cmd === 1031 || cmd === 1032 ? -9 : undefined;
  if (cmd === 1031) return pipe_set_size(pipe, arg >>> 0, cred);
  if (cmd === 1032) return pipe.maxUsage * PAGE_SIZE;
  return undefined;
}

// put_pipe_info(): the last file frees the pipe (and detaches it from the FIFO inode).
function put_pipe_info(pipe: PipeInodeInfo, inode: FifoInode | undefined): void {
  if (--pipe.files > 0) return;
  if (inode !== undefined && inode.pipe === pipe) inode.pipe = undefined;
  pipe.fs.free_pipe_info(pipe);
}

/**
 * `pipe_release()`: the reader or writer goes; when that leaves one side with nobody, both queues are woken (a reader
 * sees EOF, a writer EPIPE); the last file frees the pipe.
 */
export function pipe_release(file: KFile): void {
  const pf = file.private as PipeFile;
  const pipe = pf.pipe;
  if (file.mode & FMODE_READ) pipe.readers--;
  if (file.mode & FMODE_WRITE) pipe.writers--;
  if ((pipe.readers === 0) !== (pipe.writers === 0)) {
    pipe.rdWait.wake_up_interruptible();
    pipe.wrWait.wake_up_interruptible();
  }
  put_pipe_info(pipe, pf.inode);
}

function pipeFops(fs: PipeFs): KFileOps {
  return {
    read: (file, to, nonblock, caller) => pipe_read(file, to, nonblock, caller),
    write: (file, from, nonblock, caller) => pipe_write(file, from, nonblock, caller),
    poll: (file, pt) => pipe_poll(file, pt),
    // pipe_ioctl(): FIONREAD puts the bytes held as an int; anything else is -ENOIOCTLCMD (ENOTTY).
    ioctl: (file, cmd, arg) => {
      if (cmd !== FIONREAD) return ENOIOCTLCMD;
      return fs.kernel.vmm.put_user(arg, get_pipe_info(file)!.bytes, 4);
    },
    fcntl: (file, cmd, arg, caller) => pipe_fcntl(file, cmd, arg, caller.cred),
    release: (file) => pipe_release(file),
    name: (file) => {
      const pf = file.private as PipeFile;
      return pf.inode?.path ?? `pipe:[${pf.pipe.ino}]`;
    },
  };
}

/**
 * `create_pipe_files()`: a new pipe inode (`get_pipe_inode`: readers = writers = 1, files = 2) and its two files:
 * the read end (O_RDONLY plus O_NONBLOCK) and the write end (O_WRONLY plus O_NONBLOCK and O_DIRECT). Returns
 * `[read end, write end]`, or -ENFILE when the user is over pipe-user-pages-hard. `cred` is `current_cred()`
 * (a kernel thread's, with every capability, by default). O_CLOEXEC is the descriptors' business, not the files'.
 */
export function create_pipe_files(kernel: Kernel, flags: number, cred: Cred = root): [KFile, KFile] | number {
  const fs = pipefs(kernel);
  const pipe = fs.alloc_pipe_info(cred);
  if (pipe === undefined) return ENFILE;
  pipe.files = 2;
  pipe.readers = pipe.writers = 1;
  if (flags & O_NOTIFICATION_PIPE) pipe.watchQueue = true;
  const w = new KFile(fs.fops, FMODE_WRITE, 1 | (flags & (O_NONBLOCK | O_DIRECT)), { pipe, fPipe: 0 });
  const r = new KFile(fs.fops, FMODE_READ, flags & O_NONBLOCK, { pipe, fPipe: 0 });
  return [r, w];
}

function pipe2Flags(flags: number): string {
  const names: [number, string][] = [
    [O_CLOEXEC, "O_CLOEXEC"],
    [O_NONBLOCK, "O_NONBLOCK"],
    [O_DIRECT, "O_DIRECT"],
    [O_NOTIFICATION_PIPE, "O_NOTIFICATION_PIPE"],
  ];
  const out: string[] = [];
  let rest = flags;
  for (const [bit, name] of names) {
    if (flags & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(`0x${(rest >>> 0).toString(16)}`);
  return out.join("|") || "0";
}

// What Syscalls' #enter does: a live task becomes `current`, its address space the one uaccess works in.
function enter(k: Kernel, t: Task, op: string): void {
  if (t === null || typeof t !== "object" || t.exited === undefined)
    throw new KernelError("EINVAL", "not a Task", { syscall: op });
  if (t.exited) throw new KernelError("ESRCH", `task ${t.pid} has exited`, { syscall: op });
  if (k.vmm.current !== t.mm) k.vmm.switch_mm(t.mm);
  k.current = t;
}

function int(op: string, name: string, v: unknown): void {
  if (typeof v !== "number" || !Number.isInteger(v))
    throw new KernelError("EINVAL", `${name} ${String(v)} is not an integer`, { syscall: op });
}

// get_unused_fd_flags(): the lowest free descriptor not in `taken`.
function unusedFd(t: Task, taken: number): number {
  let fd = 0;
  while (t.fds[fd] !== undefined || fd === taken) fd++;
  return fd;
}

// fput() of a file never installed: its release runs at once.
function fput(file: KFile): void {
  file.released = true;
  file.ops.release?.(file);
}

/**
 * `pipe2(fds, flags)` (do_pipe2): flags other than O_CLOEXEC, O_NONBLOCK, O_DIRECT and O_NOTIFICATION_PIPE are
 * -EINVAL; the two ends get the two lowest free descriptors (read end first, both FD_CLOEXEC with O_CLOEXEC), and
 * `int fds[2]` is copied to the user before they are installed: when that faults the files are put back and the
 * call is -EFAULT, with no descriptor taken. Traced as strace prints it (`pipe2([3, 4], O_CLOEXEC) = 0`).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when `flags` is not an integer or `t` not a task; ESRCH for an
 * exited task
 */
export function sys_pipe2(k: Kernel, t: Task, fdsPtr: number | bigint, flags = 0): number {
  return do_pipe2(k, t, fdsPtr, flags, "pipe2");
}

/**
 * `pipe(fds)`: pipe2 with no flags (traced as `pipe`).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when `t` is not a task; ESRCH for an exited task
 */
export function sys_pipe(k: Kernel, t: Task, fdsPtr: number | bigint): number {
  return do_pipe2(k, t, fdsPtr, 0, "pipe");
}

function do_pipe2(k: Kernel, t: Task, fdsPtr: number | bigint, flags: number, name: string): number {
  enter(k, t, name);
  int(name, "flags", flags);
  const p = Number(fdsPtr);
  let shown = `0x${p.toString(16)}`;
  const ret = ((): number => {
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE)) return EINVAL;
    const files = create_pipe_files(k, flags, t.cred);
    if (typeof files === "number") return files;
    const fdr = unusedFd(t, -1);
    const fdw = unusedFd(t, fdr);
    const fds = new Uint8Array(8);
    const dv = new DataView(fds.buffer);
    dv.setInt32(0, fdr, true);
    dv.setInt32(4, fdw, true);
    if (k.vmm.copy_to_user(p, fds, 8) !== 0) {
      fput(files[0]);
      fput(files[1]);
      return EFAULT;
    }
    const cloexec = (flags & O_CLOEXEC) !== 0;
    k.installFile(t, files[0], cloexec);
    k.installFile(t, files[1], cloexec);
    shown = `[${fdr}, ${fdw}]`;
    return 0;
  })();
  k.record(t, name, () => (name === "pipe" ? [shown] : [shown, pipe2Flags(flags)]), ret);
  return ret;
}

/**
 * `fifo_open()` of a FIFO inode (after the VFS's checks: O_CREAT|O_EXCL is -EEXIST, the permission bits -EACCES, an
 * access mode of 3 is -EINVAL in fifo_open). The first open allocates the pipe, charged to the opener. O_RDONLY
 * waits for a writer (w_counter to change) unless O_NONBLOCK; O_WRONLY|O_NONBLOCK with no reader is -ENXIO,
 * O_WRONLY waits for a reader; O_RDWR never waits. Each open wakes the other side's waiters. A signal ends a wait
 * with -EINTR and gives the open back. Returns the file, an errno, or a Promise when it waits.
 */
export function fifo_open(
  fs: PipeFs,
  inode: FifoInode,
  flags: number,
  caller: Pick<FileCaller, "sleepingOn" | "cred">,
): KFile | number | Promise<KFile | number> {
  if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return EEXIST;
  const fmode = ((flags & O_ACCMODE) + 1) & O_ACCMODE;
  const acc = flags & O_ACCMODE;
  // may_open() → inode_permission(): O_RDONLY wants MAY_READ, O_WRONLY MAY_WRITE, 2 and 3 both.
  const want = acc === 0 ? MAY_READ : acc === 1 ? MAY_WRITE : MAY_READ | MAY_WRITE;
  if (!generic_permission(caller.cred, inode, want)) return EACCES;
  let pipe = inode.pipe;
  if (pipe !== undefined) pipe.files++;
  else {
    pipe = fs.alloc_pipe_info(caller.cred);
    if (pipe === undefined) return ENOMEM;
    pipe.files = 1;
    inode.pipe = pipe;
  }
  const p = pipe;
  const fflags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
  const file = (fPipe: number) => new KFile(fs.fops, fmode, fflags, { pipe: p, fPipe, inode });
  const wake_up_partner = () => p.rdWait.wake_up_interruptible();
  // wait_for_partner(): sleeps on rd_wait until the counter moves.
  const waitFor = (
    counter: () => number,
    undo: () => void,
    fPipe: number,
  ): KFile | number | Promise<KFile | number> => {
    const cur = counter();
    const s = sleepOn(p.rdWait, () => counter() !== cur, caller);
    if (s === 0) return file(fPipe);
    return s.then((v) => {
      if (v !== ERESTARTSYS) return file(fPipe);
      undo();
      put_pipe_info(p, inode);
      return EINTR;
    });
  };
  switch (fmode) {
    case FMODE_READ: {
      p.rCounter++;
      if (p.readers++ === 0) wake_up_partner();
      if (p.writers === 0) {
        if (flags & O_NONBLOCK) return file(p.wCounter);
        return waitFor(
          () => p.wCounter,
          () => {
            if (--p.readers === 0) p.wrWait.wake_up_interruptible();
          },
          0,
        );
      }
      return file(0);
    }
    case FMODE_WRITE: {
      if (flags & O_NONBLOCK && p.readers === 0) {
        put_pipe_info(p, inode);
        return ENXIO;
      }
      p.wCounter++;
      if (p.writers++ === 0) wake_up_partner();
      if (p.readers === 0)
        return waitFor(
          () => p.rCounter,
          () => {
            if (--p.writers === 0) p.rdWait.wake_up_interruptible();
          },
          0,
        );
      return file(0);
    }
    case FMODE_READ | FMODE_WRITE: {
      p.readers++;
      p.writers++;
      p.rCounter++;
      p.wCounter++;
      if (p.readers === 1 || p.writers === 1) wake_up_partner();
      return file(0);
    }
    default:
      put_pipe_info(p, inode);
      return EINVAL;
  }
}

/**
 * Makes a FIFO at `path` owned by `cred` with `mode & 0o777 & ~umask` (vfs_mknod of S_IFIFO) and mounts its opener
 * there (an exact-path mount, so `open()` reaches {@link fifo_open}). Returns the inode, or -EEXIST when the path
 * names a FIFO, a devtmpfs node or a mount point already, -ENOENT for a path that is not absolute.
 */
export function mkfifo(kernel: Kernel, path: string, mode: number, cred: Cred = root): FifoInode | number {
  const fs = pipefs(kernel);
  if (typeof path !== "string" || !path.startsWith("/") || path.length < 2) return ENOENT;
  if (fs.fifos.has(path) || kernel.devtmpfs.has(path)) return EEXIST;
  const inode = new FifoInode(path, fs.nextIno(), cred.uid, cred.gid, mode & 0o777 & ~fs.umask);
  try {
    kernel.mount(path, (_p, flags, _mode, caller) => fifo_open(fs, inode, flags, caller));
  } catch (e) {
    if (e instanceof KernelError && e.code === "EBUSY") return EEXIST;
    throw e;
  }
  fs.fifos.set(path, inode);
  return inode;
}

/** `unlink(path)` of a FIFO: the name goes (open ends keep the pipe). 0, or -ENOENT when no FIFO is there. */
export function unlink_fifo(kernel: Kernel, path: string): number {
  const fs = pipefs(kernel);
  if (!fs.fifos.delete(path)) return ENOENT;
  kernel.umount(path);
  return 0;
}

/**
 * `mkfifo(path, mode)` as glibc makes it: `mknodat(AT_FDCWD, path, S_IFIFO | mode, 0)`. The path is copied from the
 * user first (-EFAULT, -ENAMETOOLONG, -ENOENT for ""); then {@link mkfifo} with the caller's credentials (-EEXIST).
 * A mode whose file type is S_IFDIR is -EPERM and one that is no file type -EINVAL (may_mknod, checked before the
 * path); other types than S_IFIFO are not modelled (-EPERM). Traced as `mknodat`.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when `mode` is not an integer or `t` not a task; ESRCH for an
 * exited task
 */
export function sys_mkfifo(k: Kernel, t: Task, pathPtr: number | bigint, mode: number): number {
  enter(k, t, "mknodat");
  int("mknodat", "mode", mode);
  const m = (mode & S_IFMT) === 0 ? mode | S_IFIFO : mode;
  let shown = `0x${Number(pathPtr).toString(16)}`;
  const ret = ((): number => {
    const type = m & S_IFMT;
    // may_mknod()
    if (type === 0o040000) return EPERM;
    if (![0o100000, 0o020000, 0o060000, S_IFIFO, 0o140000].includes(type)) return EINVAL;
    const buf = new Uint8Array(4096);
    const n = k.vmm.strncpy_from_user(buf, pathPtr, 4096);
    if (n < 0) return n;
    if (n === 4096) return ENAMETOOLONG;
    if (n === 0) return ENOENT;
    const path = utf8Decode(buf, 0, n);
    shown = JSON.stringify(path);
    if (type !== S_IFIFO) return EPERM;
    const r = mkfifo(k, path, m, t.cred);
    return typeof r === "number" ? r : 0;
  })();
  const typeName = (m & S_IFMT) === S_IFIFO ? "S_IFIFO" : `0${((m & S_IFMT) >>> 0).toString(8)}`;
  k.record(t, "mknodat", () => ["AT_FDCWD", shown, `${typeName}|0${(m & 0o7777).toString(8)}`, "0"], ret);
  return ret;
}
