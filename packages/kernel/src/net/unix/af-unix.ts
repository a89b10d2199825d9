// net/unix/af_unix.c: Unix domain sockets. SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET sockets, socketpair,
// filesystem / abstract / autobound names (unix_bind_bsd, unix_bind_abstract, unix_autobind), connect and the
// listen/accept backlog (unix_stream_connect, unix_wait_for_peer), the stream and datagram send and receive paths
// with the send-buffer accounting of sock_alloc_send_pskb (sk_wmem_alloc against sk_sndbuf, skb truesize),
// max_dgram_qlen, shutdown, release (EOF, ECONNRESET, EPIPE + SIGPIPE), SCM_RIGHTS (files in flight with their skb,
// scm_detach_fds) and SCM_CREDENTIALS (maybe_add_creds, SO_PASSCRED, SO_PEERCRED), and the poll masks of unix_poll
// and unix_dgram_poll. Read against Linux 6.12 (Debian's tree).

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
import { errnoNumber, KernelError, put32, utf8Decode } from "@kbridge/uapi";
import {
  type FileCaller,
  FMODE_READ,
  FMODE_WRITE,
  type IovIter,
  KFile,
  type KFileOps,
  sleepOn,
} from "../../fs/file.js";
import type { Kernel, OpenFile, Task } from "../../kernel.js";
import {
  AF_UNSPEC,
  MSG_DONTWAIT,
  MSG_OOB,
  MSG_PEEK,
  MSG_TRUNC,
  SK_MEM_DEFAULT,
  SK_MEM_MAX,
  SO_RCVBUF,
  SO_SNDBUF,
  SOCK_DGRAM,
  SOCK_MIN_RCVBUF,
  SOCK_MIN_SNDBUF,
  SOCK_RAW,
  SOL_SOCKET,
} from "../netlink/af-netlink.js";

/** `AF_UNIX` / `PF_UNIX` / `AF_LOCAL` (1). */
export const AF_UNIX = 1;
/** `SOCK_STREAM` (1). */
export const SOCK_STREAM = 1;
/** `SOCK_SEQPACKET` (5). */
export const SOCK_SEQPACKET = 5;
/** `MSG_WAITALL` (0x100): a stream read waits for the whole buffer. */
export const MSG_WAITALL = 0x100;
/** `MSG_NOSIGNAL` (0x4000): EPIPE without SIGPIPE. */
export const MSG_NOSIGNAL = 0x4000;
/** `SO_TYPE` (3). */
export const SO_TYPE = 3;
/** `SO_ERROR` (4). */
export const SO_ERROR = 4;
/** `SO_PASSCRED` (16). */
export const SO_PASSCRED = 16;
/** `SO_PEERCRED` (17). */
export const SO_PEERCRED = 17;
/** `SCM_RIGHTS` (1): a control message of file descriptors. */
export const SCM_RIGHTS = 1;
/** `SCM_CREDENTIALS` (2): a control message of `struct ucred`. */
export const SCM_CREDENTIALS = 2;
/** `SCM_MAX_FD` (253): the most descriptors one message may carry (`struct scm_fp_list`). */
export const SCM_MAX_FD = 253;
/** `SHUT_RD` (0). */
export const SHUT_RD = 0;
/** `SHUT_WR` (1). */
export const SHUT_WR = 1;
/** `SHUT_RDWR` (2). */
export const SHUT_RDWR = 2;
/** `UNIX_PATH_MAX` (108): the size of `sun_path`. */
export const UNIX_PATH_MAX = 108;
/** `net.core.somaxconn` (`SOMAXCONN`, 4096): `listen()` caps its backlog here. */
export const SOMAXCONN = 4096;
/**
 * `net.unix.max_dgram_qlen` of the project's measured machine (512, as systemd's `50-default.conf` sets it; the
 * kernel's own default, `unix_net_init()`, is 10).
 */
export const UNIX_MAX_DGRAM_QLEN = 512;

const e = (code: Parameters<typeof errnoNumber>[0]) => -errnoNumber(code);
const EPERM = e("EPERM");
const ENOENT = e("ENOENT");
const EINTR = e("EINTR");
const EAGAIN = e("EAGAIN");
const EFAULT = e("EFAULT");
const EINVAL = e("EINVAL");
const ENOSPC = e("ENOSPC");
const EPIPE = e("EPIPE");
const EMSGSIZE = e("EMSGSIZE");
const EPROTOTYPE = e("EPROTOTYPE");
const ENOPROTOOPT = e("ENOPROTOOPT");
const EPROTONOSUPPORT = e("EPROTONOSUPPORT");
const ESOCKTNOSUPPORT = e("ESOCKTNOSUPPORT");
const EOPNOTSUPP = e("EOPNOTSUPP");
const EADDRINUSE = e("EADDRINUSE");
const ENOBUFS = e("ENOBUFS");
const ECONNRESET = e("ECONNRESET");
const EISCONN = e("EISCONN");
const ENOTCONN = e("ENOTCONN");
const ECONNREFUSED = e("ECONNREFUSED");
const ERESTARTSYS = -512;
const SIGPIPE = 13;

const TCP_ESTABLISHED = 1;
const TCP_CLOSE = 7;
const TCP_LISTEN = 10;
const RCV_SHUTDOWN = 1;
const SEND_SHUTDOWN = 2;
const SHUTDOWN_MASK = 3;
const EPOLLWRBAND = 0x200;
const EPOLLRDHUP = 0x2000;

/** `offsetof(struct sockaddr_un, sun_path)`. */
const SUN_PATH = 2;
/** `sizeof(struct sockaddr_un)`: 110. */
const SOCKADDR_UN_SIZE = SUN_PATH + UNIX_PATH_MAX;
/** `sizeof(struct cmsghdr)` on x86-64. */
const CMSG_HDR = 16;
/** INVALID_UID / INVALID_GID as UNIXCB keeps them when the message carries no credentials. */
const INVALID_ID = -1;
/** `overflowuid` / `overflowgid`: what from_kuid_munged() shows for an invalid id. */
const OVERFLOW_ID = 65534;

// Allocator constants (x86-64, 4 KiB pages, 64-byte cache lines; the same as @kbridge/netlink-codec's
// SKB_SIZES_X86_64).
const PAGE_SIZE = 4096;
const SKB_STRUCT = 256;
const SHINFO = 320;
const SMALL_HEAD_CACHE = 576;
const KMALLOC_CACHES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];
const KMALLOC_MAX = 4 << 20;
/** `SKB_MAX_HEAD(0)` = SKB_WITH_OVERHEAD(PAGE_SIZE): 3776. */
const SKB_MAX_HEAD0 = PAGE_SIZE - SHINFO;
/** `SKB_MAX_ALLOC` = SKB_MAX_ORDER(0, 2): 16064. */
const SKB_MAX_ALLOC = (PAGE_SIZE << 2) - SHINFO;
/** `UNIX_SKB_FRAGS_SZ` = PAGE_SIZE << get_order(32768). */
const UNIX_SKB_FRAGS_SZ = 32768;
/** `MAX_SKB_FRAGS` (CONFIG_MAX_SKB_FRAGS = 17). */
const MAX_SKB_FRAGS = 17;
/** `PAGE_ALLOC_COSTLY_ORDER` (3) = get_order(UNIX_SKB_FRAGS_SZ): the largest page order of an skb fragment. */
const FRAG_ORDER = 3;

const pageAlign = (n: number) => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

// kmalloc_size_roundup(): the slab class, or whole pages (a power of two) past the largest cache.
function kmallocRoundup(n: number): number {
  if (n > 8192) {
    let p = PAGE_SIZE;
    while (p < n) p *= 2;
    return p;
  }
  return KMALLOC_CACHES.find((c) => c >= n)!;
}

/**
 * `truesize` of `alloc_skb_with_frags(header, dataLen, FRAG_ORDER, …, sk->sk_allocation)` for an AF_UNIX socket:
 * the head is `kmalloc_reserve()`d — with GFP_KERNEL_ACCOUNT (`unix_create1()`), so never from the small-head
 * cache when memcg is configured — and `SKB_TRUESIZE(end)`; each page fragment adds `PAGE_SIZE << order`.
 * Returns -1 when the head is larger than kmalloc can give (the allocation fails: ENOBUFS).
 */
function unixSkbTruesize(header: number, dataLen: number, smallHead = false): number {
  const obj = Math.ceil(header / 64) * 64 + SHINFO;
  const total = smallHead && obj <= SMALL_HEAD_CACHE ? SMALL_HEAD_CACHE : kmallocRoundup(obj);
  if (total > KMALLOC_MAX) return -1;
  let truesize = total - SHINFO + SKB_STRUCT + SHINFO;
  let left = dataLen;
  let order = FRAG_ORDER;
  while (left > 0) {
    while (order > 0 && pageAlign(left) < PAGE_SIZE << order) order--;
    const chunk = Math.min(left, PAGE_SIZE << order);
    truesize += PAGE_SIZE << order;
    left -= chunk;
  }
  return truesize;
}

/** The credentials a message or a connection carries (`struct ucred`: pid, uid, gid). */
export interface UnixCred {
  /** The process id (0: none). */
  readonly pid: number;
  /** The user id. */
  readonly uid: number;
  /** The group id. */
  readonly gid: number;
}

/** An AF_UNIX socket inode created by binding to a filesystem path; it outlives the socket until unlinked. */
class SockInode {
  /** The socket bound to it, while it lives (`unix_find_socket_byinode()`). */
  sock: UnixSock | undefined;
  constructor(sock: UnixSock) {
    this.sock = sock;
  }
}

/** An skb on an AF_UNIX receive queue, with its control block (`struct unix_skb_parms`). */
interface UnixSkb {
  /** The payload (`skb->len` bytes). */
  readonly data: Uint8Array;
  /** `UNIXCB(skb).consumed`: bytes of a stream skb already read. */
  consumed: number;
  /** `skb->truesize`, charged to the owner's `sk_wmem_alloc`. */
  readonly truesize: number;
  /** `skb->sk`: the sending socket (for a connection request, the embryo). */
  readonly owner: UnixSock;
  /** `UNIXCB(skb).pid` (0: NULL). */
  pid: number;
  /** `UNIXCB(skb).uid` (-1: INVALID_UID). */
  uid: number;
  /** `UNIXCB(skb).gid` (-1: INVALID_GID). */
  gid: number;
  /** `UNIXCB(skb).fp`: the files in flight. */
  fp: OpenFile[] | undefined;
}

/** `struct scm_cookie` of a send: the credentials given with SCM_CREDENTIALS and the files of SCM_RIGHTS. */
interface Scm {
  readonly creds: UnixCred | undefined;
  fp: OpenFile[] | undefined;
}

/** An AF_UNIX socket (`struct unix_sock` with its `struct sock` and `struct socket`). */
export class UnixSock {
  /** `sk_type`: SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET. */
  readonly type: number;
  /** The socket inode number (`socket:[ino]`). */
  readonly ino: number;
  /** `sk_state`: TCP_CLOSE (7), TCP_ESTABLISHED (1) or TCP_LISTEN (10). */
  state = TCP_CLOSE;
  /** `sk_shutdown`: RCV_SHUTDOWN (1) | SEND_SHUTDOWN (2). */
  shutdown = 0;
  /** `sk_err`: a pending error (positive errno), reported once. */
  err = 0;
  /** `unix_peer(sk)`. */
  peer: UnixSock | undefined;
  /** `u->addr`: the bound name as `sockaddr_un` bytes (`addr->len` of them). */
  addr: Uint8Array | undefined;
  /** SOCK_DEAD: released. */
  dead = false;
  /** SOCK_PASSCRED (SO_PASSCRED). */
  passcred = false;
  /** `sk_sndbuf`. */
  sndbuf = SK_MEM_DEFAULT;
  /** `sk_rcvbuf` (stored and reported; AF_UNIX does not charge its receive queue). */
  rcvbuf = SK_MEM_DEFAULT;
  /** `sk_wmem_alloc - 1`: the truesize of this socket's skbs not yet freed. */
  wmem = 0;
  /** `sk_max_ack_backlog`: max_dgram_qlen, or the listen backlog. */
  maxAckBacklog: number;
  /** `sk_peer_pid` / `sk_peer_cred` (SO_PEERCRED); undefined: none. */
  peerCred: UnixCred | undefined;
  /** `u->scm_stat.nr_fds`: files in flight queued on this socket. */
  nrFds = 0;
  /** The open file (`sk->sk_socket`); undefined for an embryo not yet accepted and after release. */
  file: KFile | undefined;
  /** @internal `sk_receive_queue` */
  readonly queue: UnixSkb[] = [];
  /** @internal `sk_sleep(sk)`: readers, writers waiting for buffer space, pollers */
  readonly wq = new WaitQueueHead();
  /** @internal `u->peer_wait`: senders waiting for room in this socket's queue, connectors for its backlog */
  readonly peerWait = new WaitQueueHead();
  /** @internal the inode of a filesystem binding found by connect (`unix_insert_bsd_socket`) */
  inode: SockInode | undefined;
  /** @internal the abstract-table key of a bound abstract name */
  abstractKey: string | undefined;

  /** @internal */
  constructor(type: number, ino: number, maxDgramQlen: number) {
    this.type = type;
    this.ino = ino;
    this.maxAckBacklog = maxDgramQlen;
  }

  /** Bytes queued for reading (`unix_inq_len`: all of them for a stream, the first datagram otherwise). */
  get inq(): number {
    if (this.type === SOCK_DGRAM) return this.queue[0]?.data.length ?? 0;
    return this.queue.reduce((s, b) => s + b.data.length - b.consumed, 0);
  }
}

/** What {@link AfUnix.sendmsg} sends: the `struct msghdr` the generic layer copied in. */
export interface UnixSendMsg {
  /** `msg_name` as copied by move_addr_to_kernel (bytes past `namelen` are ignored). */
  readonly name?: Uint8Array;
  /** `msg_namelen` (0: none). */
  readonly namelen: number;
  /** The data. */
  readonly iter: IovIter;
  /** SCM_RIGHTS: the files, each with a reference taken for the message; the call consumes these references. */
  readonly rights?: readonly OpenFile[];
  /** SCM_CREDENTIALS, when the message carried one (already checked by scm_check_creds). */
  readonly creds?: UnixCred;
  /** `msg_flags` of sendmsg (MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB …). */
  readonly flags: number;
}

/** What {@link AfUnix.recvmsg} returns. */
export interface UnixRecv {
  /** Bytes received, 0 at end of file, or a negative errno. */
  readonly result: number;
  /** msg_flags bits the protocol sets (MSG_TRUNC). */
  readonly flags: number;
  /** `msg_name`: the sender's address when it is bound. */
  readonly name?: Uint8Array;
  /** SCM_RIGHTS: the files received, each holding one reference for the receiver (see {@link scm_detach_fds}). */
  readonly rights: OpenFile[];
  /** Whether the socket has SO_PASSCRED: the receiver gets an SCM_CREDENTIALS message (`creds`). */
  readonly passcred: boolean;
  /** SCM_CREDENTIALS to deliver when `passcred`. */
  readonly creds?: UnixCred;
}

/** What {@link AfUnix} is created with. */
export interface AfUnixOptions {
  /** Inode numbers for sockets (the kernel's counter, shared with the other socket families). */
  readonly nextIno?: () => number;
  /** `net.unix.max_dgram_qlen` (512 by default, see {@link UNIX_MAX_DGRAM_QLEN}). */
  readonly maxDgramQlen?: number;
}

/** `unix_get_socket()`: the AF_UNIX socket behind an open file, if it is one. */
export function unix_get_socket(file: KFile): UnixSock | undefined {
  return file.private instanceof UnixSock ? file.private : undefined;
}

/**
 * `fput()`: drops one reference to an open file; the last one releases it as `close()` of its last descriptor
 * does (a netlink socket, an in-kernel file's `->release`, a character device).
 * @throws {@link @kbridge/uapi!KernelError} EBADF for a file without references
 */
export function fput(kernel: Kernel, file: OpenFile): void {
  if (file.refs <= 0) throw new KernelError("EBADF", "fput of a file without references", { op: "fput" });
  if (--file.refs > 0) return;
  const o = file.object;
  if (o.kind === "netlink") kernel.netlink.release(o.sock);
  else if (o.kind === "kfile") {
    o.file.released = true;
    o.file.ops.release?.(o.file);
  } else kernel.vfs.close(o.file);
}

/**
 * `scm_detach_fds()` of net/core/scm.c: installs in `task` as many of the received `files` as fit in `room` bytes
 * of control buffer (an SCM_RIGHTS message: a 16-byte header, then 4 bytes per descriptor) — each keeps the
 * reference it travelled with — and drops the others (`__scm_destroy`). `truncated` is the MSG_CTRUNC of the
 * message. `cmsg` is what is written at the control pointer (`cmsg_len` = CMSG_LEN(4·n), SOL_SOCKET, SCM_RIGHTS,
 * the descriptors) and `used` how far the control pointer moves (CMSG_SPACE(4·n), at most `room`). With no control
 * buffer at all, pass `room` 0: every file is dropped.
 */
export function scm_detach_fds(
  kernel: Kernel,
  task: Task,
  files: readonly OpenFile[],
  room: number,
  cloexec: boolean,
): { fds: number[]; truncated: boolean; cmsg: Uint8Array | undefined; used: number } {
  const fdmax = room <= CMSG_HDR ? 0 : Math.floor((room - CMSG_HDR) / 4);
  const n = Math.min(fdmax, files.length);
  const fds: number[] = [];
  for (let i = 0; i < n; i++) {
    const fd = kernel.installFd(task, files[i]!);
    if (cloexec) task.cloexec.add(fd);
    fds.push(fd);
  }
  for (let i = n; i < files.length; i++) fput(kernel, files[i]!);
  let cmsg: Uint8Array | undefined;
  let used = 0;
  if (n > 0) {
    cmsg = new Uint8Array(CMSG_HDR + 4 * n);
    const dv = new DataView(cmsg.buffer);
    dv.setBigUint64(0, BigInt(cmsg.length), true);
    dv.setInt32(8, SOL_SOCKET, true);
    dv.setInt32(12, SCM_RIGHTS, true);
    fds.forEach((fd, i) => {
      dv.setInt32(CMSG_HDR + 4 * i, fd, true);
    });
    used = Math.min(CMSG_HDR + ((4 * n + 7) & ~7), room);
  }
  return { fds, truncated: n < files.length || (files.length > 0 && fdmax <= 0), cmsg, used };
}

/** The 12 data bytes of an SCM_CREDENTIALS message or of SO_PEERCRED (`struct ucred`: pid, uid, gid). */
export function ucredBytes(c: UnixCred): Uint8Array {
  const b = new Uint8Array(12);
  put32(b, 0, c.pid >>> 0, true);
  put32(b, 4, c.uid >>> 0, true);
  put32(b, 8, c.gid >>> 0, true);
  return b;
}

const credOf = (caller: FileCaller): UnixCred => ({
  pid: caller.tgid,
  uid: caller.cred.uid,
  gid: caller.cred.gid,
});
const intr = (r: number) => (r === ERESTARTSYS ? EINTR : r);
const munge = (id: number) => (id === INVALID_ID ? OVERFLOW_ID : id);

/**
 * The AF_UNIX family of one kernel: its sockets, the abstract namespace (per socket type, as the hash of
 * `unix_abstract_hash()` makes it), the socket inodes of filesystem names, and the `proto_ops` the generic socket
 * system calls dispatch to. Methods return what the kernel returns (a count, 0, a negative errno) and a Promise
 * when the caller sleeps; a signal to the sleeping task ends the sleep with EINTR.
 */
export class AfUnix {
  // The bundle names a class that refers to itself `_AfUnix` inside; what users see (inspect, constructor.name) stays AfUnix.
  static {
    Object.defineProperty(this, "name", { value: "AfUnix" });
  }

  readonly #kernel: Kernel;
  readonly #nextIno: () => number;
  /** `net.unix.max_dgram_qlen`. */
  readonly maxDgramQlen: number;
  readonly #abstract = new Map<number, Map<string, UnixSock>>();
  readonly #paths = new Map<string, SockInode>();
  readonly #ops: KFileOps;
  #sockets = 0;
  #skbs = 0;
  #inflight = 0;
  readonly #all = new Set<UnixSock>();
  #gcRunning = false;

  /**
   * @param kernel - the kernel (its random source for autobind, devtmpfs for names that exist, the fd tables)
   * @param options - inode numbers and max_dgram_qlen
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for bad options
   */
  constructor(kernel: Kernel, options: AfUnixOptions = {}) {
    if (kernel === null || typeof kernel !== "object")
      throw new KernelError("EINVAL", "not a Kernel", { op: "AfUnix" });
    const q = options.maxDgramQlen ?? UNIX_MAX_DGRAM_QLEN;
    if (!Number.isInteger(q) || q < 0 || q > 0x7fffffff)
      throw new KernelError("EINVAL", `max_dgram_qlen ${String(q)} is not a count`, { op: "AfUnix" });
    this.#kernel = kernel;
    this.maxDgramQlen = q;
    let ino = 30000;
    this.#nextIno = options.nextIno ?? (() => ++ino);
    this.#ops = {
      read: (file, to, nonblock, caller) => this.#read(file, to, nonblock, caller),
      write: (file, from, nonblock, caller) =>
        this.sendmsg(file, { namelen: 0, iter: from, flags: nonblock ? MSG_DONTWAIT : 0 }, caller),
      poll: (file, pt) => this.poll(file, pt),
      release: (file) => this.release(file),
      name: (file) => `socket:[${this.#sk(file, "name").ino}]`,
    };
  }

  /** Live sockets (created and not yet released, embryos included). */
  get sockets(): number {
    return this.#sockets;
  }

  /** skbs allocated and not yet freed: messages and stream segments queued, connection requests. */
  get skbsInFlight(): number {
    return this.#skbs;
  }

  /** File references held by messages in flight (`unix_tot_inflight` counts the unix sockets among them). */
  get filesInFlight(): number {
    return this.#inflight;
  }

  #sk(file: KFile, op: string): UnixSock {
    const sk = file instanceof KFile ? unix_get_socket(file) : undefined;
    if (sk === undefined) throw new KernelError("ENOTSOCK", "not an AF_UNIX socket", { op });
    return sk;
  }

  // unix_create1()
  #create(type: number): UnixSock {
    this.#sockets++;
    const sk = new UnixSock(type, this.#nextIno(), this.maxDgramQlen);
    this.#all.add(sk);
    return sk;
  }

  /**
   * `unix_gc()` (net/unix/garbage.c): collects the unix sockets that only messages in flight keep open and that no
   * process can reach any more — a socket sent over itself, or a ring of sockets each queued in another's receive
   * queue, all of whose descriptors were closed — by purging their receive queues, which drops the files. A socket
   * referenced from the queue of a socket still held by a process stays. The kernel runs it from
   * `unix_release_sock()` while files are in flight; so does the model. Returns how many sockets it collected.
   */
  unix_gc(): number {
    if (this.#inflight === 0 || this.#gcRunning) return 0;
    const sockOf = (f: OpenFile) => (f.object.kind === "kfile" ? unix_get_socket(f.object.file) : undefined);
    // What a socket's queue holds in flight (a listener's embryos' queues included: scan_children()).
    const held = (sk: UnixSock): OpenFile[] => {
      const out: OpenFile[] = [];
      for (const skb of sk.queue) {
        for (const f of skb.fp ?? []) out.push(f);
        if (sk.state === TCP_LISTEN) for (const e of skb.owner.queue) for (const f of e.fp ?? []) out.push(f);
      }
      return out;
    };
    const inflight = new Map<UnixSock, { file: OpenFile; refs: number }>();
    for (const sk of this.#all)
      for (const f of held(sk)) {
        const t = sockOf(f);
        if (t === undefined) continue;
        const e = inflight.get(t);
        if (e === undefined) inflight.set(t, { file: f, refs: 1 });
        else e.refs++;
      }
    // Candidates: every reference to the file is in flight (no descriptor, no mapping holds it).
    const outside = new Map<UnixSock, number>();
    for (const [sk, e] of inflight) if (e.file.refs === e.refs) outside.set(sk, e.refs);
    // References from candidates' own queues do not keep anything alive (dec_inflight over the candidates).
    for (const sk of outside.keys())
      for (const f of held(sk)) {
        const t = sockOf(f);
        if (t !== undefined && outside.has(t)) outside.set(t, outside.get(t)! - 1);
      }
    // What is still referenced from outside is alive, and so is everything its queue holds (inc_inflight_move_tail).
    const alive = new Set([...outside].filter(([, n]) => n > 0).map(([sk]) => sk));
    const work = [...alive];
    for (let sk = work.pop(); sk !== undefined; sk = work.pop())
      for (const f of held(sk)) {
        const t = sockOf(f);
        if (t !== undefined && outside.has(t) && !alive.has(t)) {
          alive.add(t);
          work.push(t);
        }
      }
    const garbage = [...outside.keys()].filter((sk) => !alive.has(sk));
    this.#gcRunning = true;
    try {
      // The hitlist: every garbage socket's queue, then purged (the files' last references go).
      const hitlist: UnixSkb[] = [];
      for (const sk of garbage) {
        for (const skb of sk.queue.splice(0)) {
          sk.nrFds -= skb.fp?.length ?? 0;
          hitlist.push(skb);
        }
      }
      for (const skb of hitlist) this.#freeSkb(skb);
    } finally {
      this.#gcRunning = false;
    }
    return garbage.length;
  }

  // sock_alloc_file(): O_RDWR plus O_NONBLOCK of SOCK_NONBLOCK.
  #allocFile(sk: UnixSock, flags: number): KFile {
    const f = new KFile(this.#ops, FMODE_READ | FMODE_WRITE, flags & O_NONBLOCK, sk);
    sk.file = f;
    return f;
  }

  /**
   * `unix_create()`: a socket of `type` (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET; SOCK_RAW becomes SOCK_DGRAM) as
   * an open file. `protocol` must be 0 or PF_UNIX (EPROTONOSUPPORT); another type is ESOCKTNOSUPPORT. `flags`:
   * O_NONBLOCK (SOCK_NONBLOCK) for the file; the caller installs it (and handles SOCK_CLOEXEC). `type` is the bare
   * type: `__sock_create()`'s `type >= SOCK_MAX` check (EINVAL) is the generic layer's.
   */
  socket(type: number, protocol: number, _caller: FileCaller, flags = 0): KFile | number {
    if (protocol !== 0 && protocol !== AF_UNIX) return EPROTONOSUPPORT;
    let t = type;
    if (t === SOCK_RAW) t = SOCK_DGRAM;
    if (t !== SOCK_STREAM && t !== SOCK_DGRAM && t !== SOCK_SEQPACKET) return ESOCKTNOSUPPORT;
    return this.#allocFile(this.#create(t), flags);
  }

  /**
   * `socketpair()` with `unix_socketpair()`: two sockets joined back to back, ESTABLISHED, each with the caller's
   * credentials as SO_PEERCRED.
   */
  socketpair(type: number, protocol: number, caller: FileCaller, flags = 0): [KFile, KFile] | number {
    const fa = this.socket(type, protocol, caller, flags);
    if (typeof fa === "number") return fa;
    const fb = this.socket(type, protocol, caller, flags) as KFile;
    const a = this.#sk(fa, "socketpair");
    const b = this.#sk(fb, "socketpair");
    a.peer = b;
    b.peer = a;
    a.peerCred = credOf(caller);
    b.peerCred = credOf(caller);
    a.state = TCP_ESTABLISHED;
    b.state = TCP_ESTABLISHED;
    return [fa, fb];
  }

  // The sockaddr_storage the generic layer hands over: `addrlen` bytes of `addr`, zeros after.
  #storage(addr: Uint8Array | undefined, addrlen: number): Uint8Array {
    const sa = new Uint8Array(128);
    if (addr !== undefined && addrlen > 0) sa.set(addr.subarray(0, Math.min(addrlen, addr.length, 128)));
    return sa;
  }

  // unix_validate_addr()
  #validate(sa: Uint8Array, len: number): number {
    if (len <= SUN_PATH || len > SOCKADDR_UN_SIZE) return EINVAL;
    if ((sa[0]! | (sa[1]! << 8)) !== AF_UNIX) return EINVAL;
    return 0;
  }

  // unix_mkname_bsd(): the path up to its NUL within addr_len (terminated at addr_len), and the address length
  // kept: strlen + offsetof(sun_path) + 1.
  #mknameBsd(sa: Uint8Array, len: number): { path: string; len: number } {
    sa[len] = 0;
    let n = 0;
    while (sa[SUN_PATH + n] !== 0) n++;
    return { path: utf8Decode(sa, SUN_PATH, SUN_PATH + n), len: n + SUN_PATH + 1 };
  }

  #abstractTable(type: number): Map<string, UnixSock> {
    let t = this.#abstract.get(type);
    if (t === undefined) {
      t = new Map();
      this.#abstract.set(type, t);
    }
    return t;
  }

  static #key(name: Uint8Array): string {
    return String.fromCharCode(...name);
  }

  // unix_autobind(): "\0" and five hex digits from a random start, the next free one.
  #autobind(sk: UnixSock): number {
    if (sk.addr !== undefined) return 0;
    const table = this.#abstractTable(sk.type);
    let ordernum = this.#kernel.random() >>> 0;
    const lastnum = ordernum & 0xfffff;
    for (;;) {
      ordernum = (ordernum + 1) & 0xfffff;
      const name = new Uint8Array(SUN_PATH + 6);
      name[0] = AF_UNIX;
      const hex = ordernum.toString(16).padStart(5, "0");
      for (let i = 0; i < 5; i++) name[SUN_PATH + 1 + i] = hex.charCodeAt(i);
      const key = AfUnix.#key(name);
      if (table.has(key)) {
        if (ordernum === lastnum) return ENOSPC;
        continue;
      }
      table.set(key, sk);
      sk.addr = name;
      sk.abstractKey = key;
      return 0;
    }
  }

  /**
   * `unix_bind()`: `addrlen` 2 with AF_UNIX autobinds (`\0` + five hex digits; 0 on a bound socket); otherwise
   * `unix_validate_addr()` (EINVAL unless 2 < addrlen ≤ 110 and the family is AF_UNIX), then a filesystem name
   * (`unix_bind_bsd`: EADDRINUSE when the path exists — a socket inode of this family, which outlives its socket
   * until {@link AfUnix.unlink}, or a devtmpfs node —, EINVAL when the socket is bound already, the path created
   * then removed again) or an abstract name (`unix_bind_abstract`: EINVAL when bound, EADDRINUSE when the name is
   * taken by a socket of the same type). Paths are kept as given: there is no cwd or directory tree.
   */
  bind(file: KFile, addr: Uint8Array, addrlen: number, _caller: FileCaller): number {
    const sk = this.#sk(file, "bind");
    const sa = this.#storage(addr, addrlen);
    if (addrlen === SUN_PATH && (sa[0]! | (sa[1]! << 8)) === AF_UNIX) return this.#autobind(sk);
    const err = this.#validate(sa, addrlen);
    if (err) return err;
    if (sa[SUN_PATH] !== 0) {
      const { path, len } = this.#mknameBsd(sa, addrlen);
      // kern_path_create() + vfs_mknod(): EEXIST, reported as EADDRINUSE.
      if (this.#paths.has(path) || this.#kernel.devtmpfs.has(path)) return EADDRINUSE;
      if (sk.addr !== undefined) return EINVAL; // out_unlock: the new node is unlinked again
      const inode = new SockInode(sk);
      this.#paths.set(path, inode);
      sk.addr = sa.slice(0, len);
      sk.inode = inode;
      return 0;
    }
    if (sk.addr !== undefined) return EINVAL;
    const table = this.#abstractTable(sk.type);
    const name = sa.slice(0, addrlen);
    const key = AfUnix.#key(name);
    if (table.has(key)) return EADDRINUSE;
    table.set(key, sk);
    sk.addr = name;
    sk.abstractKey = key;
    return 0;
  }

  /**
   * `unlink(path)` of a socket's filesystem name: the inode goes (a later connect is ENOENT, a bind may take the
   * name again); the socket bound to it keeps its address. 0, or -ENOENT when no socket inode has that path.
   */
  unlink(path: string): number {
    return this.#paths.delete(path) ? 0 : ENOENT;
  }

  // unix_find_other(): unix_find_bsd() (ENOENT, ECONNREFUSED for a non-socket or a socket gone, EPROTOTYPE) or
  // unix_find_abstract() (ECONNREFUSED).
  #findOther(sa: Uint8Array, len: number, type: number): UnixSock | number {
    if (sa[SUN_PATH] !== 0) {
      const { path } = this.#mknameBsd(sa, len);
      const inode = this.#paths.get(path);
      if (inode === undefined) return this.#kernel.devtmpfs.has(path) ? ECONNREFUSED : ENOENT;
      const sk = inode.sock;
      if (sk === undefined) return ECONNREFUSED;
      if (sk.type !== type) return EPROTOTYPE;
      return sk;
    }
    return this.#abstractTable(type).get(AfUnix.#key(sa.subarray(0, len))) ?? ECONNREFUSED;
  }

  // sock_error(): the pending error, cleared.
  #sockError(sk: UnixSock): number {
    const err = sk.err;
    sk.err = 0;
    return err ? -err : 0;
  }

  // unix_recvq_full_lockless()
  #full(sk: UnixSock): boolean {
    return sk.queue.length > sk.maxAckBacklog;
  }

  // unix_writable()
  #writable(sk: UnixSock): boolean {
    return sk.state !== TCP_LISTEN && (sk.wmem + 1) * 4 <= sk.sndbuf;
  }

  // unix_write_space(): wakes writers once a quarter of the send buffer is free.
  #writeSpace(sk: UnixSock): void {
    if (this.#writable(sk)) sk.wq.wake_up_interruptible();
  }

  // skb_set_owner_w() of a new skb.
  #allocSkb(owner: UnixSock, data: Uint8Array, truesize: number): UnixSkb {
    owner.wmem += truesize;
    this.#skbs++;
    return { data, consumed: 0, truesize, owner, pid: 0, uid: INVALID_ID, gid: INVALID_ID, fp: undefined };
  }

  // kfree_skb() / consume_skb(): unix_destruct_scm() drops the files still attached, sock_wfree() uncharges the
  // owner and calls its write_space.
  #freeSkb(skb: UnixSkb): void {
    if (skb.fp !== undefined) {
      const fp = skb.fp;
      skb.fp = undefined;
      this.#inflight -= fp.length;
      for (const f of fp) fput(this.#kernel, f);
    }
    skb.owner.wmem -= skb.truesize;
    this.#skbs--;
    this.#writeSpace(skb.owner);
  }

  // scm_destroy(): the files not attached to an skb are dropped.
  #scmDestroy(scm: Scm): void {
    if (scm.fp === undefined) return;
    const fp = scm.fp;
    scm.fp = undefined;
    for (const f of fp) fput(this.#kernel, f);
  }

  // unix_scm_to_skb(): credentials given with SCM_CREDENTIALS, and the files (unix_attach_fds).
  #scmToSkb(scm: Scm, skb: UnixSkb, sendFds: boolean): void {
    if (scm.creds !== undefined) {
      skb.pid = scm.creds.pid;
      skb.uid = scm.creds.uid;
      skb.gid = scm.creds.gid;
    }
    if (scm.fp !== undefined && sendFds) {
      skb.fp = scm.fp;
      scm.fp = undefined;
      this.#inflight += skb.fp.length;
    }
  }

  // maybe_add_creds(): the sender's credentials when either end has SO_PASSCRED or the receiver is an embryo.
  #maybeAddCreds(skb: UnixSkb, sk: UnixSock, other: UnixSock, caller: FileCaller): void {
    if (skb.pid !== 0) return;
    if (sk.passcred || other.file === undefined || other.passcred) {
      skb.pid = caller.tgid;
      skb.uid = caller.cred.uid;
      skb.gid = caller.cred.gid;
    }
  }

  // skb_queue_tail() + scm_stat_add() + sk_data_ready()
  #deliver(other: UnixSock, skb: UnixSkb): void {
    other.nrFds += skb.fp?.length ?? 0;
    other.queue.push(skb);
    other.wq.wake_up_interruptible();
  }

  /**
   * `connect()`: `unix_dgram_connect()` for SOCK_DGRAM (sets or, with AF_UNSPEC, clears the default peer; EPERM
   * when the target is connected elsewhere; a queue from the old peer is purged), `unix_stream_connect()` for
   * SOCK_STREAM and SOCK_SEQPACKET (ECONNREFUSED unless the target listens; a full backlog is EAGAIN when
   * nonblocking, else the caller sleeps on the listener; EISCONN when connected). `nonblock` is O_NONBLOCK of the
   * file (the file's own flag is honoured too).
   */
  connect(
    file: KFile,
    addr: Uint8Array,
    addrlen: number,
    nonblock: boolean,
    caller: FileCaller,
  ): number | Promise<number> {
    const sk = this.#sk(file, "connect");
    const sa = this.#storage(addr, addrlen);
    if (sk.type === SOCK_DGRAM) return this.#dgramConnect(sk, sa, addrlen);
    const err = this.#validate(sa, addrlen);
    if (err) return err;
    if (sk.passcred && sk.addr === undefined) {
      const r = this.#autobind(sk);
      if (r) return r;
    }
    return this.#streamConnect(sk, sa, addrlen, nonblock || (file.flags & O_NONBLOCK) !== 0, caller);
  }

  #dgramConnect(sk: UnixSock, sa: Uint8Array, alen: number): number {
    if (alen < SUN_PATH) return EINVAL;
    let other: UnixSock | undefined;
    if ((sa[0]! | (sa[1]! << 8)) !== AF_UNSPEC) {
      const err = this.#validate(sa, alen);
      if (err) return err;
      if (sk.passcred && sk.addr === undefined) {
        const r = this.#autobind(sk);
        if (r) return r;
      }
      const o = this.#findOther(sa, alen, sk.type);
      if (typeof o === "number") return o;
      if (o.peer !== undefined && o.peer !== sk) return EPERM; // unix_may_send()
      sk.state = TCP_ESTABLISHED;
      o.state = TCP_ESTABLISHED;
      other = o;
    }
    const old = sk.peer;
    sk.peer = other;
    if (old !== undefined) {
      if (other === undefined) sk.state = TCP_CLOSE;
      sk.wq.wake_up_interruptible(); // unix_dgram_peer_wake_disconnect_wakeup()
      if (other !== old) {
        this.#dgramDisconnected(sk, old);
        if (old.peer === undefined) old.state = TCP_CLOSE;
      }
    }
    return 0;
  }

  // unix_dgram_disconnected(): what came from the old peer is dropped; a peer connected back gets ECONNRESET.
  #dgramDisconnected(sk: UnixSock, other: UnixSock): void {
    if (sk.queue.length === 0) return;
    this.#purge(sk);
    sk.peerWait.wake_up_interruptible();
    if (!other.dead && other.peer === sk) {
      other.err = -ECONNRESET;
      other.wq.wake_up_interruptible();
    }
  }

  #purge(sk: UnixSock): void {
    for (const skb of sk.queue.splice(0)) {
      sk.nrFds -= skb.fp?.length ?? 0;
      this.#freeSkb(skb);
    }
  }

  #streamConnect(
    sk: UnixSock,
    sa: Uint8Array,
    alen: number,
    nonblock: boolean,
    caller: FileCaller,
  ): number | Promise<number> {
    const other = this.#findOther(sa, alen, sk.type);
    if (typeof other === "number") return other;
    if (other.state !== TCP_LISTEN || other.shutdown & RCV_SHUTDOWN) return ECONNREFUSED;
    if (this.#full(other)) {
      if (nonblock) return EAGAIN;
      // unix_wait_for_peer(), then look the listener up again.
      const r = sleepOn(
        other.peerWait,
        () => other.dead || (other.shutdown & RCV_SHUTDOWN) !== 0 || !this.#full(other),
        caller,
      );
      return Promise.resolve(r).then((v) =>
        v !== 0 ? intr(v) : this.#streamConnect(sk, sa, alen, nonblock, caller),
      );
    }
    if (sk.state !== TCP_CLOSE) return sk.state === TCP_ESTABLISHED ? EISCONN : EINVAL;
    // The embryo: connected back to sk, the listener's address, the connector's credentials.
    const newsk = this.#create(sk.type);
    newsk.peer = sk;
    newsk.state = TCP_ESTABLISHED;
    newsk.peerCred = credOf(caller);
    newsk.addr = other.addr;
    sk.peerCred = other.peerCred; // copy_peercred(): the listener's, from listen()
    sk.state = TCP_ESTABLISHED;
    sk.peer = newsk;
    // sock_wmalloc(newsk, 1, …, GFP_KERNEL): the request queued on the listener.
    this.#deliver(other, this.#allocSkb(newsk, new Uint8Array(0), unixSkbTruesize(1, 0, true)));
    return 0;
  }

  /**
   * `listen()`: `__sys_listen()` caps the backlog at somaxconn (an unsigned compare: a negative one is 4096), then
   * `unix_listen()`: EOPNOTSUPP for SOCK_DGRAM, EINVAL when unbound or connected; the listener's credentials become
   * what connectors see as SO_PEERCRED. The backlog lets `backlog + 1` connections wait.
   */
  listen(file: KFile, backlog: number, caller: FileCaller): number {
    const sk = this.#sk(file, "listen");
    let b = backlog;
    if (b >>> 0 > SOMAXCONN) b = SOMAXCONN;
    if (sk.type !== SOCK_STREAM && sk.type !== SOCK_SEQPACKET) return EOPNOTSUPP;
    if (sk.addr === undefined) return EINVAL;
    if (sk.state !== TCP_CLOSE && sk.state !== TCP_LISTEN) return EINVAL;
    if (b > sk.maxAckBacklog) sk.peerWait.wake_up_interruptible();
    sk.maxAckBacklog = b;
    sk.state = TCP_LISTEN;
    sk.peerCred = credOf(caller);
    return 0;
  }

  /**
   * `unix_accept()`: EOPNOTSUPP for SOCK_DGRAM, EINVAL unless listening; the first waiting connection as a new open
   * file (flags: O_NONBLOCK for it, from accept4's SOCK_NONBLOCK), inheriting SO_PASSCRED. An empty backlog is
   * EAGAIN when `nonblock` (the listener's O_NONBLOCK), else the caller sleeps; EINVAL after shutdown(SHUT_RD).
   */
  accept(
    file: KFile,
    nonblock: boolean,
    caller: FileCaller,
    flags = 0,
  ): KFile | number | Promise<KFile | number> {
    const sk = this.#sk(file, "accept");
    if (sk.type !== SOCK_STREAM && sk.type !== SOCK_SEQPACKET) return EOPNOTSUPP;
    if (sk.state !== TCP_LISTEN) return EINVAL;
    const nb = nonblock || (file.flags & O_NONBLOCK) !== 0;
    // skb_recv_datagram()
    const err = this.#sockError(sk);
    if (err) return err;
    const skb = sk.queue.shift();
    if (skb === undefined) {
      if (nb) return EAGAIN;
      if (sk.shutdown & RCV_SHUTDOWN) return EINVAL;
      return Promise.resolve(
        sleepOn(
          sk.wq,
          () => sk.queue.length > 0 || sk.err !== 0 || (sk.shutdown & RCV_SHUTDOWN) !== 0,
          caller,
        ),
      ).then((v) => (v !== 0 ? intr(v) : this.accept(file, nonblock, caller, flags)));
    }
    const tsk = skb.owner;
    this.#freeSkb(skb);
    sk.peerWait.wake_up_interruptible();
    tsk.passcred = sk.passcred; // unix_sock_inherit_flags()
    return this.#allocFile(tsk, flags);
  }

  /**
   * `unix_getname()`: the socket's (or with `peer`, its peer's: ENOTCONN without one) address as the kernel copies
   * it — `addr->len` bytes (a path's length counts its NUL: 2 + strlen + 1; an abstract name its whole given
   * length; an autobound one 8), or just the family (2 bytes) when unbound.
   */
  getname(file: KFile, peer: boolean): Uint8Array | number {
    const sk = this.#sk(file, "getname");
    const s = peer ? sk.peer : sk;
    if (s === undefined) return ENOTCONN;
    if (s.addr === undefined) return Uint8Array.of(AF_UNIX, 0);
    return s.addr.slice();
  }

  /**
   * `sendmsg()`: `unix_stream_sendmsg()`, `unix_dgram_sendmsg()` or `unix_seqpacket_sendmsg()`. The call owns the
   * references of `msg.rights`: they travel with the message, or are dropped when it fails. More than
   * SCM_MAX_FD files is EINVAL (scm_fp_copy). MSG_DONTWAIT, or O_NONBLOCK of the file, does not sleep.
   */
  sendmsg(file: KFile, msg: UnixSendMsg, caller: FileCaller): number | Promise<number> {
    const sk = this.#sk(file, "sendmsg");
    const flags = file.flags & O_NONBLOCK ? msg.flags | MSG_DONTWAIT : msg.flags;
    const rights = msg.rights === undefined || msg.rights.length === 0 ? undefined : [...msg.rights];
    const scm: Scm = { creds: msg.creds, fp: rights };
    if (rights !== undefined && rights.length > SCM_MAX_FD) {
      this.#scmDestroy(scm);
      return EINVAL;
    }
    if (sk.type === SOCK_STREAM) return this.#streamSendmsg(sk, msg, flags, scm, caller);
    if (sk.type === SOCK_SEQPACKET) {
      const err = this.#sockError(sk);
      if (err || sk.state !== TCP_ESTABLISHED) {
        this.#scmDestroy(scm);
        return err || ENOTCONN;
      }
      return this.#dgramSendmsg(sk, undefined, 0, msg.iter, flags, scm, caller);
    }
    return this.#dgramSendmsg(sk, msg.name, msg.namelen, msg.iter, flags, scm, caller);
  }

  // sock_alloc_send_pskb() before the allocation: 0 when there is room, an error, or a Promise of 1 (look again)
  // after sock_wait_for_wmem().
  #sendRoom(sk: UnixSock, flags: number, caller: FileCaller): number | Promise<number> {
    const err = this.#sockError(sk);
    if (err) return err;
    if (sk.shutdown & SEND_SHUTDOWN) return EPIPE;
    if (sk.wmem < sk.sndbuf) return 0;
    if (flags & MSG_DONTWAIT) return EAGAIN;
    return Promise.resolve(
      sleepOn(
        sk.wq,
        () => sk.wmem + 1 < sk.sndbuf || (sk.shutdown & SEND_SHUTDOWN) !== 0 || sk.err !== 0,
        caller,
      ),
    ).then((v) => (v !== 0 ? intr(v) : 1));
  }

  #streamSendmsg(
    sk: UnixSock,
    msg: UnixSendMsg,
    flags: number,
    scm: Scm,
    caller: FileCaller,
  ): number | Promise<number> {
    const fail = (err: number) => {
      this.#scmDestroy(scm);
      return err;
    };
    // MSG_OOB: CONFIG_AF_UNIX_OOB is not modelled.
    if (flags & MSG_OOB) return fail(EOPNOTSUPP);
    if (msg.namelen) return fail(sk.state === TCP_ESTABLISHED ? EISCONN : EOPNOTSUPP);
    const other = sk.peer;
    if (other === undefined) return fail(ENOTCONN);
    if (sk.shutdown & SEND_SHUTDOWN) {
      if (!(flags & MSG_NOSIGNAL)) caller.signal(SIGPIPE);
      return fail(EPIPE);
    }
    return this.#streamSendLoop(sk, other, msg.iter, msg.iter.count, flags, scm, { sent: 0 }, caller);
  }

  #streamSendLoop(
    sk: UnixSock,
    other: UnixSock,
    iter: IovIter,
    len: number,
    flags: number,
    scm: Scm,
    st: { sent: number },
    caller: FileCaller,
  ): number | Promise<number> {
    const out = (err: number) => {
      this.#scmDestroy(scm);
      return st.sent || intr(err);
    };
    while (st.sent < len) {
      // Keep two messages in the pipe; a head of at most SKB_MAX_HEAD(0) and page fragments of UNIX_SKB_FRAGS_SZ.
      let size = len - st.sent;
      size = Math.min(size, (sk.sndbuf >> 1) - 64, SKB_MAX_HEAD0 + UNIX_SKB_FRAGS_SZ);
      const dataLen = Math.min(size, pageAlign(Math.max(0, size - SKB_MAX_HEAD0)));
      const room = this.#sendRoom(sk, flags, caller);
      if (room instanceof Promise) {
        return room.then((r) =>
          r < 0 ? out(r) : this.#streamSendLoop(sk, other, iter, len, flags, scm, st, caller),
        );
      }
      if (room < 0) return out(room);
      const truesize = unixSkbTruesize(size - dataLen, dataLen);
      if (truesize < 0) return out(ENOBUFS);
      const skb = this.#allocSkb(sk, new Uint8Array(size), truesize);
      this.#scmToSkb(scm, skb, true); // only the first skb carries the files: scm.fp is taken
      if (iter.copyIn(skb.data) < size) {
        this.#freeSkb(skb);
        return out(EFAULT);
      }
      if (other.dead || other.shutdown & RCV_SHUTDOWN) {
        this.#freeSkb(skb);
        if (st.sent === 0 && !(flags & MSG_NOSIGNAL)) caller.signal(SIGPIPE);
        return out(EPIPE);
      }
      this.#maybeAddCreds(skb, sk, other, caller);
      this.#deliver(other, skb);
      st.sent += size;
    }
    this.#scmDestroy(scm);
    return st.sent;
  }

  #dgramSendmsg(
    sk: UnixSock,
    name: Uint8Array | undefined,
    namelen: number,
    iter: IovIter,
    flags: number,
    scm: Scm,
    caller: FileCaller,
  ): number | Promise<number> {
    const fail = (err: number) => {
      this.#scmDestroy(scm);
      return intr(err);
    };
    if (flags & MSG_OOB) return fail(EOPNOTSUPP);
    let sa: Uint8Array | undefined;
    let other: UnixSock | undefined;
    if (namelen) {
      sa = this.#storage(name, namelen);
      const err = this.#validate(sa, namelen);
      if (err) return fail(err);
    } else {
      other = sk.peer;
      if (other === undefined) return fail(ENOTCONN);
    }
    if (sk.passcred && sk.addr === undefined) {
      const err = this.#autobind(sk);
      if (err) return fail(err);
    }
    const len = iter.count;
    if (len > sk.sndbuf - 32) return fail(EMSGSIZE);
    const dataLen =
      len > SKB_MAX_ALLOC ? pageAlign(Math.min(len - SKB_MAX_ALLOC, MAX_SKB_FRAGS * PAGE_SIZE)) : 0;
    const alloc = (): number | Promise<number> => {
      const room = this.#sendRoom(sk, flags, caller);
      if (room instanceof Promise) return room.then((r) => (r < 0 ? fail(r) : alloc()));
      if (room < 0) return fail(room);
      const truesize = unixSkbTruesize(len - dataLen, dataLen);
      if (truesize < 0) return fail(ENOBUFS);
      const skb = this.#allocSkb(sk, new Uint8Array(len), truesize);
      this.#scmToSkb(scm, skb, true);
      if (iter.copyIn(skb.data) < len) {
        this.#freeSkb(skb);
        return fail(EFAULT);
      }
      return this.#dgramDeliver(sk, other, sa, namelen, skb, flags, caller);
    };
    return alloc();
  }

  // unix_dgram_sendmsg() from `restart:`: find the receiver, check it, wait for room in its queue, queue.
  #dgramDeliver(
    sk: UnixSock,
    to: UnixSock | undefined,
    sa: Uint8Array | undefined,
    namelen: number,
    skb: UnixSkb,
    flags: number,
    caller: FileCaller,
  ): number | Promise<number> {
    const drop = (err: number) => {
      this.#freeSkb(skb);
      return intr(err);
    };
    let other = to;
    for (;;) {
      if (other === undefined) {
        if (sa === undefined) return drop(ECONNRESET);
        const o = this.#findOther(sa, namelen, sk.type);
        if (typeof o === "number") return drop(o);
        other = o;
      }
      if (other.peer !== undefined && other.peer !== sk) return drop(EPERM); // unix_may_send()
      if (other.dead) {
        let err = 0;
        if (sk.type === SOCK_SEQPACKET) err = EPIPE;
        else if (sk.peer === other) {
          sk.peer = undefined;
          sk.wq.wake_up_interruptible();
          sk.state = TCP_CLOSE;
          this.#dgramDisconnected(sk, other);
          err = ECONNREFUSED;
        }
        other = undefined;
        if (err) return drop(err);
        continue;
      }
      break;
    }
    const o = other;
    if (o.shutdown & RCV_SHUTDOWN) return drop(EPIPE);
    if (o !== sk && o.peer !== sk && this.#full(o)) {
      if (flags & MSG_DONTWAIT) return drop(EAGAIN);
      return Promise.resolve(
        sleepOn(o.peerWait, () => o.dead || (o.shutdown & RCV_SHUTDOWN) !== 0 || !this.#full(o), caller),
      ).then((v) => (v !== 0 ? drop(v) : this.#dgramDeliver(sk, o, sa, namelen, skb, flags, caller)));
    }
    this.#maybeAddCreds(skb, sk, o, caller);
    this.#deliver(o, skb);
    return skb.data.length;
  }

  /**
   * `recvmsg()`: `unix_stream_recvmsg()` (bytes without boundaries; a read stops at a message that carried files
   * and, with SO_PASSCRED, between writers of different credentials; 0 at EOF; EINVAL when not connected) or
   * `unix_dgram_recvmsg()` / `unix_seqpacket_recvmsg()` (one message; MSG_TRUNC in `flags` when cut, its whole
   * length returned with the MSG_TRUNC flag; MSG_PEEK leaves it queued and duplicates its files). MSG_DONTWAIT or
   * the file's O_NONBLOCK: EAGAIN instead of sleeping. The credentials come back when the socket has SO_PASSCRED
   * (`want.passcred` is accepted for callers keeping the flag themselves and is OR-ed in).
   */
  recvmsg(
    file: KFile,
    iter: IovIter,
    flags: number,
    caller: FileCaller,
    want: { passcred: boolean } = { passcred: false },
  ): UnixRecv | Promise<UnixRecv> {
    const sk = this.#sk(file, "recvmsg");
    const fl = file.flags & O_NONBLOCK ? flags | MSG_DONTWAIT : flags;
    const passcred = sk.passcred || want.passcred;
    if (sk.type === SOCK_STREAM) {
      if (sk.state !== TCP_ESTABLISHED) return this.#fail(EINVAL, passcred);
      // MSG_OOB with CONFIG_AF_UNIX_OOB and nothing sent out of band: unix_stream_recv_urg() says EINVAL.
      if (fl & MSG_OOB) return this.#fail(EINVAL, passcred);
      const size = iter.count;
      const st: StreamReadState = {
        copied: 0,
        size,
        target: Math.max(1, fl & MSG_WAITALL ? size : Math.min(1, size)),
        creds: undefined,
        checkCreds: false,
        rights: [],
        name: undefined,
      };
      return this.#streamRead(sk, iter, fl, passcred, st, caller);
    }
    if (sk.type === SOCK_SEQPACKET && sk.state !== TCP_ESTABLISHED) return this.#fail(ENOTCONN, passcred);
    if (fl & MSG_OOB) return this.#fail(EOPNOTSUPP, passcred);
    return this.#dgramRecv(sk, iter, fl, passcred, caller);
  }

  #fail(result: number, passcred: boolean): UnixRecv {
    return { result: intr(result), flags: 0, rights: [], passcred };
  }

  // unix_detach_fds() (the skb's files move to the receiver) or unix_peek_fds() (a reference more for each).
  #takeFds(skb: UnixSkb, peek: boolean): OpenFile[] {
    const fp = skb.fp;
    if (fp === undefined) return [];
    if (peek) {
      for (const f of fp) f.refs++;
      return [...fp];
    }
    skb.fp = undefined;
    this.#inflight -= fp.length;
    return fp;
  }

  #skbCreds(skb: UnixSkb): UnixCred {
    return { pid: skb.pid, uid: munge(skb.uid), gid: munge(skb.gid) };
  }

  #dgramRecv(
    sk: UnixSock,
    iter: IovIter,
    flags: number,
    passcred: boolean,
    caller: FileCaller,
  ): UnixRecv | Promise<UnixRecv> {
    const peek = (flags & MSG_PEEK) !== 0;
    // __skb_try_recv_datagram(): the pending error first, then the queue.
    const err = this.#sockError(sk);
    if (err) return this.#fail(err, passcred);
    const skb = sk.queue[0];
    if (skb === undefined) {
      if (flags & MSG_DONTWAIT) {
        // A disconnected non-blocking SEQPACKET socket reads EOF.
        const eof = sk.type === SOCK_SEQPACKET && (sk.shutdown & RCV_SHUTDOWN) !== 0;
        return this.#fail(eof ? 0 : EAGAIN, passcred);
      }
      // __skb_wait_for_more_packets()
      if (sk.shutdown & RCV_SHUTDOWN) return this.#fail(0, passcred);
      const connectionBad = () => sk.type === SOCK_SEQPACKET && sk.state !== TCP_ESTABLISHED;
      if (connectionBad()) return this.#fail(ENOTCONN, passcred);
      return Promise.resolve(
        sleepOn(
          sk.wq,
          () => sk.queue.length > 0 || sk.err !== 0 || (sk.shutdown & RCV_SHUTDOWN) !== 0 || connectionBad(),
          caller,
        ),
      ).then((v) => (v !== 0 ? this.#fail(v, passcred) : this.#dgramRecv(sk, iter, flags, passcred, caller)));
    }
    if (!peek) {
      sk.queue.shift();
      sk.nrFds -= skb.fp?.length ?? 0;
    }
    sk.peerWait.wake_up_interruptible();
    const name = skb.owner.addr?.slice();
    const skbLen = skb.data.length;
    let size = iter.count;
    let outFlags = 0;
    if (size > skbLen) size = skbLen;
    else if (size < skbLen) outFlags |= MSG_TRUNC;
    if (iter.copyOut(skb.data.subarray(0, size)) < size) {
      if (!peek) this.#freeSkb(skb); // the datagram is gone, with its files
      return this.#fail(EFAULT, passcred);
    }
    const creds = this.#skbCreds(skb);
    const rights = this.#takeFds(skb, peek);
    if (!peek) this.#freeSkb(skb);
    return {
      result: flags & MSG_TRUNC ? skbLen : size,
      flags: outFlags,
      ...(name !== undefined && { name }),
      rights,
      passcred,
      ...(passcred && { creds }),
    };
  }

  #streamRead(
    sk: UnixSock,
    iter: IovIter,
    flags: number,
    passcred: boolean,
    st: StreamReadState,
    caller: FileCaller,
  ): UnixRecv | Promise<UnixRecv> {
    const peek = (flags & MSG_PEEK) !== 0;
    let err = 0;
    // do { … } while (size)
    outer: for (;;) {
      if (sk.dead) {
        err = ECONNRESET;
        break;
      }
      let i = 0;
      let skb = sk.queue[0];
      // `again:` — MSG_PEEK walks on to the next skb from here, whatever size is left.
      for (;;) {
        if (skb === undefined) {
          if (st.copied >= st.target) break outer;
          err = this.#sockError(sk); // POSIX 1003.1g mandates this order
          if (err) break outer;
          if (sk.shutdown & RCV_SHUTDOWN) break outer;
          if (flags & MSG_DONTWAIT) {
            err = EAGAIN;
            break outer;
          }
          // unix_stream_data_wait(), then `redo`.
          const last = sk.queue[sk.queue.length - 1];
          return Promise.resolve(
            sleepOn(
              sk.wq,
              () =>
                sk.queue[sk.queue.length - 1] !== last ||
                sk.err !== 0 ||
                (sk.shutdown & RCV_SHUTDOWN) !== 0 ||
                sk.dead,
              caller,
            ),
          ).then((v) =>
            v !== 0
              ? this.#streamDone(v, st, passcred)
              : this.#streamRead(sk, iter, flags, passcred, st, caller),
          );
        }
        if (st.checkCreds) {
          const c = this.#skbCreds(skb);
          // Never glue messages from different writers.
          if (c.pid !== st.creds!.pid || c.uid !== st.creds!.uid || c.gid !== st.creds!.gid) break outer;
        } else if (passcred) {
          st.creds = this.#skbCreds(skb);
          st.checkCreds = true;
        }
        if (skb.owner.addr !== undefined) st.name = skb.owner.addr;
        const chunk = Math.min(skb.data.length - skb.consumed, st.size);
        if (iter.copyOut(skb.data.subarray(skb.consumed, skb.consumed + chunk)) < chunk) {
          if (st.copied === 0) st.copied = EFAULT;
          break outer;
        }
        st.copied += chunk;
        st.size -= chunk;
        if (!peek) {
          skb.consumed += chunk;
          if (skb.fp !== undefined) {
            sk.nrFds -= skb.fp.length; // scm_stat_del()
            st.rights.push(...this.#takeFds(skb, false));
          }
          if (skb.data.length - skb.consumed > 0) break outer;
          sk.queue.shift();
          this.#freeSkb(skb);
          if (st.rights.length > 0) break outer;
          break;
        }
        if (skb.fp !== undefined) {
          st.rights.push(...this.#takeFds(skb, true));
          break outer;
        }
        skb = sk.queue[++i];
        if (skb === undefined) break outer;
      }
      if (st.size === 0) break;
    }
    return this.#streamDone(err, st, passcred);
  }

  #streamDone(err: number, st: StreamReadState, passcred: boolean): UnixRecv {
    const result = st.copied !== 0 ? st.copied : intr(err);
    // scm_recv_unix() runs with the cookie as the read left it (zeroed when no skb set the credentials).
    return {
      result,
      flags: 0,
      ...(st.name !== undefined && { name: st.name.slice() }),
      rights: st.rights,
      passcred,
      ...(passcred && { creds: st.creds ?? { pid: 0, uid: 0, gid: 0 } }),
    };
  }

  /**
   * `unix_shutdown()`: SHUT_RD/SHUT_WR/SHUT_RDWR (EINVAL otherwise) on this socket, mirrored on a stream or
   * seqpacket peer (our SHUT_WR is its RCV_SHUTDOWN: it reads EOF; our SHUT_RD its SEND_SHUTDOWN: it gets EPIPE).
   */
  shutdown(file: KFile, how: number): number {
    const sk = this.#sk(file, "shutdown");
    if (how < SHUT_RD || how > SHUT_RDWR) return EINVAL;
    const mode = how + 1;
    sk.shutdown |= mode;
    const other = sk.peer;
    sk.wq.wake_up_interruptible();
    if (other !== undefined && (sk.type === SOCK_STREAM || sk.type === SOCK_SEQPACKET)) {
      let peerMode = 0;
      if (mode & RCV_SHUTDOWN) peerMode |= SEND_SHUTDOWN;
      if (mode & SEND_SHUTDOWN) peerMode |= RCV_SHUTDOWN;
      other.shutdown |= peerMode;
      other.wq.wake_up_interruptible();
    }
    return 0;
  }

  /**
   * `setsockopt()`: AF_UNIX has no options of its own (another level is EOPNOTSUPP); at SOL_SOCKET
   * (`sk_setsockopt`, EINVAL when `optlen` < 4) SO_PASSCRED, SO_SNDBUF and SO_RCVBUF (twice the value, capped at
   * wmem_max/rmem_max, at least SOCK_MIN_SNDBUF/SOCK_MIN_RCVBUF; a larger send buffer wakes writers). SO_TYPE,
   * SO_ERROR, SO_PEERCRED and options not modelled are ENOPROTOOPT. `val` is the int the generic layer read.
   */
  setsockopt(file: KFile, level: number, optname: number, val: number, optlen: number): number {
    const sk = this.#sk(file, "setsockopt");
    if (level !== SOL_SOCKET) return EOPNOTSUPP;
    if (optlen < 4) return EINVAL;
    switch (optname) {
      case SO_PASSCRED:
        sk.passcred = val !== 0;
        return 0;
      case SO_SNDBUF: {
        const v = Math.min(Math.min(val >>> 0, SK_MEM_MAX), 0x3fffffff);
        sk.sndbuf = Math.max(v * 2, SOCK_MIN_SNDBUF);
        this.#writeSpace(sk);
        return 0;
      }
      case SO_RCVBUF: {
        const v = Math.min(Math.min(val >>> 0, SK_MEM_MAX), 0x3fffffff);
        sk.rcvbuf = Math.max(v * 2, SOCK_MIN_RCVBUF);
        return 0;
      }
      default:
        return ENOPROTOOPT;
    }
  }

  /**
   * `getsockopt()` at SOL_SOCKET (`sk_getsockopt`; another level is EOPNOTSUPP): SO_TYPE, SO_ERROR (the pending
   * error, cleared), SO_PASSCRED, SO_SNDBUF, SO_RCVBUF as an int, SO_PEERCRED as `struct ucred` (pid 0 and ids -1
   * without a peer). At most `len` bytes (EINVAL when negative); `optlen` is what goes back to the user.
   */
  getsockopt(
    file: KFile,
    level: number,
    optname: number,
    len: number,
  ): { value: Uint8Array; optlen: number } | number {
    const sk = this.#sk(file, "getsockopt");
    if (level !== SOL_SOCKET) return EOPNOTSUPP;
    if (len < 0) return EINVAL;
    let v: number;
    switch (optname) {
      case SO_TYPE:
        v = sk.type;
        break;
      case SO_ERROR:
        v = -this.#sockError(sk);
        break;
      case SO_PASSCRED:
        v = sk.passcred ? 1 : 0;
        break;
      case SO_SNDBUF:
        v = sk.sndbuf;
        break;
      case SO_RCVBUF:
        v = sk.rcvbuf;
        break;
      case SO_PEERCRED: {
        const c = sk.peerCred ?? { pid: 0, uid: -1, gid: -1 };
        const n = Math.min(len, 12);
        return { value: ucredBytes(c).subarray(0, n), optlen: n };
      }
      default:
        return ENOPROTOOPT;
    }
    const b = new Uint8Array(4);
    put32(b, 0, v >>> 0, true);
    const n = Math.min(len, 4);
    return { value: b.subarray(0, n), optlen: n };
  }

  /**
   * `unix_poll()` (SOCK_STREAM) or `unix_dgram_poll()` (SOCK_DGRAM, SOCK_SEQPACKET): the ready mask; `pt` is
   * registered on the socket's queue and, when a datagram peer's queue is full, on the peer's (the peer_wake
   * relay).
   */
  poll(file: KFile, pt?: PollTable): number {
    const sk = this.#sk(file, "poll");
    poll_wait(sk.wq, pt);
    let mask = 0;
    const stream = sk.type === SOCK_STREAM;
    if (sk.err) mask |= EPOLLERR;
    if (stream && sk.shutdown === SHUTDOWN_MASK) mask |= EPOLLHUP;
    if (sk.shutdown & RCV_SHUTDOWN) mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
    if (!stream && sk.shutdown === SHUTDOWN_MASK) mask |= EPOLLHUP;
    if (sk.queue.length > 0) mask |= EPOLLIN | EPOLLRDNORM;
    if (sk.type !== SOCK_DGRAM && sk.state === TCP_CLOSE) mask |= EPOLLHUP;
    let writable = this.#writable(sk);
    if (!stream && writable) {
      const other = sk.peer;
      if (other !== undefined && other.peer !== sk && this.#full(other) && !other.dead) {
        poll_wait(other.peerWait, pt);
        writable = false;
      }
    }
    if (writable) mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
    return mask;
  }

  // sock_read_iter(): 0 for an empty buffer, else recvmsg without a control buffer — files that came with the data
  // are dropped (scm_recv_unix without msg_control).
  #read(file: KFile, to: IovIter, nonblock: boolean, caller: FileCaller): number | Promise<number> {
    if (to.count === 0) return 0;
    const done = (r: UnixRecv) => {
      for (const f of r.rights) fput(this.#kernel, f);
      return r.result;
    };
    const r = this.recvmsg(file, to, nonblock ? MSG_DONTWAIT : 0, caller);
    return r instanceof Promise ? r.then(done) : done(r);
  }

  /**
   * `unix_release()` → `unix_release_sock()`, the file's `->release`: the names go (a filesystem name's inode
   * stays), a stream or seqpacket peer gets SHUTDOWN_MASK (EOF, EPIPE) and ECONNRESET when this socket had unread
   * data, a listener's waiting connections are released (their connectors get ECONNRESET), the queue is freed with
   * the files in flight on it.
   */
  release(file: KFile): void {
    this.#releaseSock(this.#sk(file, "release"), false);
  }

  #releaseSock(sk: UnixSock, embrion: boolean): void {
    if (sk.dead) return;
    if (sk.abstractKey !== undefined && this.#abstractTable(sk.type).get(sk.abstractKey) === sk)
      this.#abstractTable(sk.type).delete(sk.abstractKey);
    if (sk.inode !== undefined && sk.inode.sock === sk) sk.inode.sock = undefined;
    sk.dead = true;
    sk.file = undefined;
    sk.shutdown = SHUTDOWN_MASK;
    const state = sk.state;
    sk.state = TCP_CLOSE;
    const pair = sk.peer;
    sk.peer = undefined;
    sk.peerWait.wake_up_interruptible();
    sk.wq.wake_up_interruptible();
    if (pair !== undefined && (sk.type === SOCK_STREAM || sk.type === SOCK_SEQPACKET)) {
      pair.shutdown = SHUTDOWN_MASK;
      if (sk.queue.length > 0 || embrion) pair.err = -ECONNRESET;
      pair.wq.wake_up_interruptible();
    }
    for (let skb = sk.queue.shift(); skb !== undefined; skb = sk.queue.shift()) {
      sk.nrFds -= skb.fp?.length ?? 0;
      if (state === TCP_LISTEN) this.#releaseSock(skb.owner, true);
      this.#freeSkb(skb);
    }
    this.#sockets--;
    this.#all.delete(sk);
    // unix_release_sock(): while files are in flight, look for cycles nobody can receive any more.
    if (this.#inflight > 0) this.unix_gc();
  }
}

interface StreamReadState {
  copied: number;
  size: number;
  readonly target: number;
  creds: UnixCred | undefined;
  checkCreds: boolean;
  readonly rights: OpenFile[];
  name: Uint8Array | undefined;
}
