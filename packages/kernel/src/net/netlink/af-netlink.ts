// net/netlink/af_netlink.c: the netlink socket layer. The protocol table (MAX_LINKS), kernel sockets of
// netlink_kernel_create, port ids (autobind: the tgid, then the random negative range), bind/connect and
// multicast membership with their permission checks, netlink_sendmsg/netlink_recvmsg, netlink_unicast and
// netlink_broadcast consuming their skb, receive-buffer accounting with truesize and the 6.16+ admission rule,
// overrun and ENOBUFS, netlink_rcv_skb, netlink_ack and the dump machinery. Read against Linux 6.12 (Debian's
// tree, which carries the 2025 rmem patches) and checked against the measurements of a 6.18 kernel.

import { type Module, module_put, try_module_get, WaitQueueHead } from "@kbridge/chrdev";
import {
  buildAck,
  EMSGSIZE,
  NLM_F,
  NLMSG_ALIGN,
  NLMSG_DONE,
  NLMSG_HDRLEN,
  NLMSG_MIN_TYPE,
  type NlaPolicy,
  nlmsg_total_size,
  nlmsgEnd,
  nlmsgPut,
  policyAttrs,
  SKB_SIZES_X86_64,
  SkBuff,
  SkbHeadCache,
} from "@kbridge/netlink-codec";
import { errnoNumber, get16, get32, KernelError, put32 } from "@kbridge/uapi";
import { CAP_NET_ADMIN, CAP_NET_BROADCAST, type Cred } from "../../cred.js";

/** `MAX_LINKS`: netlink protocols are 0..31. */
export const MAX_LINKS = 32;
/** `AF_NETLINK` (16). */
export const AF_NETLINK = 16;
/** `AF_UNSPEC` (0): `connect()` with it disconnects. */
export const AF_UNSPEC = 0;
/** `SOCK_DGRAM` (2). */
export const SOCK_DGRAM = 2;
/** `SOCK_RAW` (3). */
export const SOCK_RAW = 3;
/** `SOL_NETLINK` (270): the level of the netlink socket options. */
export const SOL_NETLINK = 270;
/** `SOL_SOCKET` (1). */
export const SOL_SOCKET = 1;
/** `SO_SNDBUF` (7). */
export const SO_SNDBUF = 7;
/** `SO_RCVBUF` (8). */
export const SO_RCVBUF = 8;

/** Netlink protocol numbers of include/uapi/linux/netlink.h. */
export const NETLINK = Object.freeze({
  ROUTE: 0,
  UNUSED: 1,
  USERSOCK: 2,
  FIREWALL: 3,
  SOCK_DIAG: 4,
  NFLOG: 5,
  XFRM: 6,
  SELINUX: 7,
  ISCSI: 8,
  AUDIT: 9,
  FIB_LOOKUP: 10,
  CONNECTOR: 11,
  NETFILTER: 12,
  IP6_FW: 13,
  DNRTMSG: 14,
  KOBJECT_UEVENT: 15,
  GENERIC: 16,
  SCSITRANSPORT: 18,
  ECRYPTFS: 19,
  RDMA: 20,
  CRYPTO: 21,
  SMC: 22,
});

/** The `SOL_NETLINK` socket options (`NETLINK_ADD_MEMBERSHIP` 1 … `NETLINK_GET_STRICT_CHK` 12). */
export const NETLINK_SOCKOPT = Object.freeze({
  ADD_MEMBERSHIP: 1,
  DROP_MEMBERSHIP: 2,
  PKTINFO: 3,
  BROADCAST_ERROR: 4,
  NO_ENOBUFS: 5,
  RX_RING: 6,
  TX_RING: 7,
  LISTEN_ALL_NSID: 8,
  LIST_MEMBERSHIPS: 9,
  CAP_ACK: 10,
  EXT_ACK: 11,
  GET_STRICT_CHK: 12,
});

/** `NL_CFG_F_NONROOT_RECV` (1): anyone may bind to groups and join them. */
export const NL_CFG_F_NONROOT_RECV = 1;
/** `NL_CFG_F_NONROOT_SEND` (2): anyone may send to an explicit port or group. */
export const NL_CFG_F_NONROOT_SEND = 2;

/** `MSG_OOB` (1). */
export const MSG_OOB = 0x1;
/** `MSG_PEEK` (2): return the datagram and leave it queued. */
export const MSG_PEEK = 0x2;
/** `MSG_CTRUNC` (8): control data did not fit. */
export const MSG_CTRUNC = 0x8;
/** `MSG_TRUNC` (0x20): as a flag, return the datagram's whole length; in msg_flags, the datagram was cut. */
export const MSG_TRUNC = 0x20;
/** `MSG_DONTWAIT` (0x40): do not block. */
export const MSG_DONTWAIT = 0x40;

/** `NETLINK_SKB_DST` (8): the message was sent with an explicit `msg_name`. */
export const NETLINK_SKB_DST = 0x8;

/** `SOCK_MIN_RCVBUF` on x86-64: 2304. */
export const SOCK_MIN_RCVBUF = 2304;
/** `SOCK_MIN_SNDBUF` on x86-64: 4608. */
export const SOCK_MIN_SNDBUF = 4608;
/** `net.core.rmem_default` / `wmem_default`: 212992. */
export const SK_MEM_DEFAULT = 212992;
/** `net.core.rmem_max` / `wmem_max` of the measured machine: 4194304. */
export const SK_MEM_MAX = 4194304;
/** `NLMSG_GOODSIZE`: `SKB_WITH_OVERHEAD(min(PAGE_SIZE, 8192))` = 3776 on x86-64. */
export const NLMSG_GOODSIZE = 3776;
/** `SKB_WITH_OVERHEAD(32768)`: the cap of `max_recvmsg_len`, 32448. */
export const NLMSG_RECVMSG_MAX = 32768 - 320;

const e = (code: Parameters<typeof errnoNumber>[0]) => -errnoNumber(code);
const EPERM = e("EPERM");
const ENOENT = e("ENOENT");
const ESRCH = e("ESRCH");
const EINTR = e("EINTR");
const EAGAIN = e("EAGAIN");
const EFAULT = e("EFAULT");
const EBUSY = e("EBUSY");
const EINVAL = e("EINVAL");
const ENODATA = e("ENODATA");
const EMSGSIZE_ = e("EMSGSIZE");
const ENOPROTOOPT = e("ENOPROTOOPT");
const EPROTONOSUPPORT = e("EPROTONOSUPPORT");
const ESOCKTNOSUPPORT = e("ESOCKTNOSUPPORT");
const EOPNOTSUPP = e("EOPNOTSUPP");
const EADDRINUSE = e("EADDRINUSE");
const ENOBUFS = e("ENOBUFS");
const ECONNREFUSED = e("ECONNREFUSED");
const ERESTARTSYS = -512;

/** Who is calling: the `current` task as af_netlink asks about it. */
export interface NetlinkCaller {
  /** `task_tgid_vnr(current)`: the first port id autobind tries. */
  readonly tgid: number;
  /** `current->pid`, put in the message's credentials. */
  readonly pid: number;
  /** `current_cred()`. */
  readonly cred: Cred;
  /**
   * The queues the calling task sleeps on (the system-call layer's `Task.sleepingOn`): a blocking send or receive
   * adds its own wait queue here while it sleeps, so a signal to this task (and only to it) interrupts the sleep
   * with EINTR, as `signal_pending(current)` does in `netlink_attachskb` and `__skb_wait_for_more_packets`.
   */
  readonly sleepingOn?: Set<WaitQueueHead>;
}

/** `struct netlink_kernel_cfg`. */
export interface NetlinkKernelCfg {
  /** Number of multicast groups; fewer than 32 is raised to 32. */
  readonly groups?: number;
  /** `NL_CFG_F_NONROOT_RECV` | `NL_CFG_F_NONROOT_SEND`. */
  readonly flags?: number;
  /** `input`: called with each skb a user sends to port 0, in the sender's context. */
  readonly input?: (skb: SkBuff) => void;
  /** `bind`: called per group joined; a negative errno refuses it. */
  readonly bind?: (group: number) => number;
  /** `unbind`: called per group left (and for each joined group at release). */
  readonly unbind?: (group: number) => void;
  /** The module that owns the socket (its `input` code). */
  readonly module?: Module;
}

/** `struct netlink_skb_parms` (`NETLINK_CB(skb)`). */
export interface NetlinkSkbParms {
  /** The sender's port id (0 for the kernel). */
  portid: number;
  /** The group the message was multicast to (what PKTINFO and msg_name report), 0 for none. */
  dstGroup: number;
  /** `NETLINK_SKB_DST` when sent with an explicit address. */
  flags: number;
  /** `NETLINK_CREDS(skb)`: the sender's pid, uid and gid. */
  creds: { readonly pid: number; readonly uid: number; readonly gid: number };
  /** `NETLINK_CB(skb).sk`: the sending socket, set when a kernel socket receives the skb. */
  sk: NetlinkSock | undefined;
  /** The sender's credentials at send time (what `netlink_capable` asks in the sender's context). */
  cred: Cred | undefined;
}

/** `NETLINK_CB(skb)`: the netlink control block of an skb, kept in `skb.cb` (created empty on first use; a clone gets a copy). */
export function NETLINK_CB(skb: SkBuff): NetlinkSkbParms {
  let p = skb.cb as NetlinkSkbParms | undefined;
  if (p === undefined) {
    p = { portid: 0, dstGroup: 0, flags: 0, creds: NO_CREDS, sk: undefined, cred: undefined };
    skb.cb = p;
  }
  return p;
}

const NO_CREDS = Object.freeze({ pid: 0, uid: 0, gid: 0 });
const NO_CMSGS: NetlinkRecv["cmsgs"] = Object.freeze([]);

/**
 * `struct netlink_ext_ack` as a family fills it: message, the offending attribute (its offset from the start of
 * the request's nlmsghdr), the policy entry it failed, a missing attribute and a cookie.
 */
export interface NetlinkExtAck {
  /** `_msg`. */
  msg?: string;
  /** `bad_attr`, as an offset from the request's nlmsghdr (what NLMSGERR_ATTR_OFFS carries). */
  badAttr?: number;
  /** `policy`: the entry `bad_attr` failed. */
  policy?: NlaPolicy;
  /** `miss_type`. */
  missType?: number;
  /** `miss_nest`, as an offset from the request's nlmsghdr. */
  missNest?: number;
  /** `cookie`. */
  cookie?: Uint8Array;
}

/** A message of an skb being processed: where it is and its header fields (`struct nlmsghdr *`). */
export interface NlMsgRef {
  /** The skb's buffer offset of the header. */
  readonly at: number;
  /** `nlmsg_len`. */
  readonly len: number;
  /** `nlmsg_type`. */
  readonly type: number;
  /** `nlmsg_flags`. */
  readonly flags: number;
  /** `nlmsg_seq`. */
  readonly seq: number;
  /** `nlmsg_pid`. */
  readonly pid: number;
  /** The message's `len` bytes, header included (a view of the skb's buffer). */
  readonly bytes: Uint8Array;
}

function msgAt(skb: SkBuff, at: number): NlMsgRef {
  const b = skb.buffer;
  const len = get32(b, at, true);
  return {
    at,
    len,
    type: get16(b, at + 4, true),
    flags: get16(b, at + 6, true),
    seq: get32(b, at + 8, true),
    pid: get32(b, at + 12, true),
    bytes: b.subarray(at, at + Math.min(len, skb.tail - at)),
  };
}

/** `struct netlink_callback`: the state of one dump, kept in the requesting socket. */
export interface NetlinkCallback {
  /** `cb->skb`: the request skb (a reference is held while the dump runs). */
  readonly skb: SkBuff;
  /** `cb->nlh`: the request message. */
  readonly nlh: NlMsgRef;
  /** `cb->data` from the dump control. */
  readonly data: unknown;
  /** `cb->strict_check`: the requester set NETLINK_GET_STRICT_CHK. */
  readonly strictCheck: boolean;
  /** `cb->args[6]` / `cb->ctx`: the dumper's resumable cursor, zeroed at start. */
  readonly args: number[];
  /** `cb->seq`: the dumper's generation counter, for {@link nl_dump_check_consistent}. */
  seq: number;
  /** `cb->prev_seq`. */
  prevSeq: number;
  /** `cb->answer_flags`, or-ed into NLMSG_DONE's flags. */
  answerFlags: number;
  /** `cb->extack` while `dump` runs. */
  extack: NetlinkExtAck | undefined;
  /** The requester's port id (`NETLINK_CB(cb->skb).portid`). */
  readonly portid: number;
}

/** `struct netlink_dump_control`. */
export interface NetlinkDumpControl {
  /** Fills `skb`; returns > 0 (more to come, usually `skb.len`), 0 (done) or a negative errno. */
  readonly dump: (skb: SkBuff, cb: NetlinkCallback) => number;
  /** Runs once before the first chunk; an error aborts the dump and is the request's error. */
  readonly start?: (cb: NetlinkCallback) => number;
  /** Runs once at the end (also when the socket is closed mid-dump). */
  readonly done?: (cb: NetlinkCallback) => void;
  /** `cb->data`. */
  readonly data?: unknown;
  /** Minimum allocation of each chunk (`min_dump_alloc`). */
  readonly minDumpAlloc?: number;
  /** The module whose code `dump` is (a reference is held while it runs). */
  readonly module?: Module;
}

/** One datagram handed to recvmsg: the bytes, and the address and control messages that go with it. */
export interface NetlinkRecv {
  /** Bytes returned (the datagram's whole length when MSG_TRUNC was a flag), or a negative errno. */
  readonly result: number;
  /** `msg_flags` out (MSG_TRUNC when the datagram was cut). */
  readonly flags: number;
  /** The source address's `nl_pid` (the sender's port, 0 for the kernel); 0 when nothing was received. */
  readonly portid: number;
  /** The source address's `nl_groups`: the group mask the message was multicast to; 0 when nothing was received. */
  readonly groups: number;
  /** Control messages: `{ level, type, data }`, as `put_cmsg` is asked to write them. */
  readonly cmsgs: readonly { readonly level: number; readonly type: number; readonly data: Uint8Array }[];
}

/**
 * `struct sk_buff_head`: a FIFO of skbs with O(1) `skb_queue_tail` and `skb_dequeue` (a growable ring, as a linked
 * list would be in the kernel).
 */
export class SkbQueue {
  #ring: (SkBuff | undefined)[] = new Array(16);
  #head = 0;
  #len = 0;

  /** `skb_queue_len()`. */
  get length(): number {
    return this.#len;
  }

  /** `skb_queue_tail()`. */
  enqueue(skb: SkBuff): void {
    if (this.#len === this.#ring.length) {
      const bigger: (SkBuff | undefined)[] = new Array(this.#ring.length * 2);
      for (let i = 0; i < this.#len; i++) bigger[i] = this.#ring[(this.#head + i) % this.#ring.length];
      this.#ring = bigger;
      this.#head = 0;
    }
    this.#ring[(this.#head + this.#len) % this.#ring.length] = skb;
    this.#len++;
  }

  /** `skb_dequeue()`: the oldest skb, or undefined. */
  dequeue(): SkBuff | undefined {
    if (this.#len === 0) return undefined;
    const skb = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#len--;
    return skb;
  }

  /** `skb_peek()`: the oldest skb, left queued. */
  peek(): SkBuff | undefined {
    return this.#len === 0 ? undefined : this.#ring[this.#head];
  }

  /** The queued skbs, oldest first. */
  *[Symbol.iterator](): IterableIterator<SkBuff> {
    for (let i = 0; i < this.#len; i++) yield this.#ring[(this.#head + i) % this.#ring.length]!;
  }
}

type NlOpt = keyof NetlinkSock["opts"];
// The socket options that are plain flags of nlk->flags, by option number (netlink_setsockopt/getsockopt).
const SET_FLAGS: Readonly<Record<number, NlOpt>> = {
  [NETLINK_SOCKOPT.PKTINFO]: "pktinfo",
  [NETLINK_SOCKOPT.BROADCAST_ERROR]: "broadcastError",
  [NETLINK_SOCKOPT.CAP_ACK]: "capAck",
  [NETLINK_SOCKOPT.EXT_ACK]: "extAck",
  [NETLINK_SOCKOPT.GET_STRICT_CHK]: "strictChk",
};
const GET_FLAGS: Readonly<Record<number, NlOpt>> = {
  ...SET_FLAGS,
  [NETLINK_SOCKOPT.NO_ENOBUFS]: "noEnobufs",
  [NETLINK_SOCKOPT.LISTEN_ALL_NSID]: "listenAllNsid",
};

// The per-protocol entry of nl_table[].
class NlTable {
  readonly ports = new Map<number, NetlinkSock>();
  readonly mcList = new Set<NetlinkSock>();
  listeners: Uint32Array | undefined;
  groups = 0;
  flags = 0;
  registered = 0;
  bind: ((group: number) => number) | undefined;
  unbind: ((group: number) => void) | undefined;
  module: Module | undefined;
}

const popcount32 = (v: number) => {
  let n = 0;
  for (let x = v >>> 0; x !== 0; x &= x - 1) n++;
  return n;
};
// ffs(): 1-based index of the lowest set bit, 0 for none.
const ffs = (v: number) => (v === 0 ? 0 : 32 - Math.clz32((v & -v) >>> 0));

/**
 * An interruptible sleep of the calling task on `wq` until `cond()` holds: 0, or −ERESTARTSYS when a signal to
 * this task interrupts it. The task sleeps on a queue of its own, woken with `wq` and registered in its
 * `sleepingOn`, so a signal to it does not wake the other tasks sleeping on `wq` (each checks its own
 * `signal_pending(current)` in the kernel).
 */
function sleepOn(
  wq: WaitQueueHead,
  cond: () => boolean,
  caller: Pick<NetlinkCaller, "sleepingOn"> | undefined,
): Promise<number> {
  const own = new WaitQueueHead();
  const r = own.wait_event_interruptible(cond);
  if (r === 0) return Promise.resolve(0);
  const off = wq.addPoller(() => own.wake_up_interruptible());
  caller?.sleepingOn?.add(own);
  return r.then((v) => {
    off();
    caller?.sleepingOn?.delete(own);
    return v;
  });
}

/**
 * A netlink socket (`struct netlink_sock`). User sockets come from {@link AfNetlink.socket}, kernel sockets from
 * {@link AfNetlink.netlink_kernel_create}. Its state is readable for tests and `/proc/net/netlink`; change it
 * only through the af_netlink calls.
 */
export class NetlinkSock {
  /** The protocol (0..31). */
  readonly protocol: number;
  /** A kernel socket (`NETLINK_F_KERNEL_SOCKET`). */
  readonly kernel: boolean;
  /** The inode number `/proc/net/netlink` shows (`sock_i_ino`). */
  readonly ino: number;
  /** `nlk->portid` (u32). */
  portid = 0;
  /** `nlk->bound`. */
  bound = false;
  /** `nlk->dst_portid`. */
  dstPortid = 0;
  /** `nlk->dst_group` (a group number, 0 for none). */
  dstGroup = 0;
  /** `sk_state == NETLINK_CONNECTED`. */
  connected = false;
  /** The options PKTINFO, BROADCAST_ERROR, NO_ENOBUFS, LISTEN_ALL_NSID, CAP_ACK, EXT_ACK, STRICT_CHK. */
  readonly opts = {
    pktinfo: false,
    broadcastError: false,
    noEnobufs: false,
    listenAllNsid: false,
    capAck: false,
    extAck: false,
    strictChk: false,
  };
  /** `nlk->ngroups`: the size of the group bitmap. */
  ngroups = 0;
  /** `nlk->groups`: the joined groups, 32 per word (bit n-1 is group n). */
  groups: Uint32Array = new Uint32Array(0);
  /** `nlk->subscriptions`: how many groups are joined. */
  subscriptions = 0;
  /** `sk_rcvbuf`. */
  rcvbuf = SK_MEM_DEFAULT;
  /** `sk_sndbuf`. */
  sndbuf = SK_MEM_DEFAULT;
  /** `sk_rmem_alloc`: truesize of the queued skbs. */
  rmem = 0;
  /** `sk_err`: a pending error (positive errno), reported by the next receive. */
  err = 0;
  /** `NETLINK_S_CONGESTED`. */
  congested = false;
  /** `sk_drops`. */
  drops = 0;
  /** `nlk->max_recvmsg_len`. */
  maxRecvmsgLen = 0;
  /** The receive queue (`sk_receive_queue`). */
  readonly queue = new SkbQueue();
  /** `nlk->cb_running`. */
  cbRunning = false;
  /** `nlk->dump_done_errno`. */
  dumpDoneErrno = 0;
  /** Readers and writers waiting (`sk_sleep` for data, `nlk->wait` for space). */
  readonly readers = new WaitQueueHead();
  /** Senders waiting for room (`nlk->wait`). */
  readonly writers = new WaitQueueHead();
  /** The socket has been released. */
  released = false;
  /** The credentials of whoever opened the socket file (`file->f_cred`). */
  readonly fileCred: Cred | undefined;
  /** `nlk->netlink_rcv`: the input of a kernel socket. */
  readonly input: ((skb: SkBuff) => void) | undefined;
  /** `nlk->netlink_bind` / `netlink_unbind` (copied from the table when the socket is created). */
  bindHook: ((group: number) => number) | undefined;
  /** See {@link NetlinkSock.bindHook}. */
  unbindHook: ((group: number) => void) | undefined;
  /** The module of a kernel socket. */
  readonly module: Module | undefined;
  /** @internal */ cb: (NetlinkCallback & { control: NetlinkDumpControl }) | undefined;

  /** @internal */
  constructor(
    protocol: number,
    kernel: boolean,
    ino: number,
    fileCred: Cred | undefined,
    input?: (skb: SkBuff) => void,
    module?: Module,
  ) {
    this.protocol = protocol;
    this.kernel = kernel;
    this.ino = ino;
    this.fileCred = fileCred;
    this.input = input;
    this.module = module;
  }

  /** Whether group `group` (1-based) is joined. */
  inGroup(group: number): boolean {
    const i = group - 1;
    return i >= 0 && i < this.ngroups && ((this.groups[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }
}

/** What {@link AfNetlink} is built with. */
export interface AfNetlinkOptions {
  /** `get_random_u32()`: a uniform u32 (autobind's random start). */
  readonly random: () => number;
  /** Called when a socket is created, to number it (`sock_i_ino`). */
  readonly nextIno: () => number;
}

/**
 * The af_netlink layer of one kernel (one network namespace, `init_net`): `nl_table[MAX_LINKS]` and every
 * socket. Calls return what the kernel's return (0, a count, or a negative errno) and throw a `KernelError`
 * only for arguments no C caller could pass (a non-number where an int goes).
 */
export class AfNetlink {
  readonly #tables: NlTable[] = Array.from({ length: MAX_LINKS }, () => new NlTable());
  readonly #random: () => number;
  readonly #nextIno: () => number;
  readonly #sockets = new Set<NetlinkSock>();
  readonly #heads = new SkbHeadCache();

  constructor(options: AfNetlinkOptions) {
    this.#random = options.random;
    this.#nextIno = options.nextIno;
    // netlink_add_usersock_entry(): USERSOCK is registered without a kernel socket, 32 groups, NONROOT_SEND.
    const us = this.#tables[NETLINK.USERSOCK]!;
    us.groups = 32;
    us.listeners = new Uint32Array(1);
    us.flags = NL_CFG_F_NONROOT_SEND;
    us.registered = 1;
  }

  /** Every open socket, kernel ones included. */
  sockets(): NetlinkSock[] {
    return [...this.#sockets];
  }

  /**
   * How many skb heads allocated by af_netlink and the families are alive (queued, being processed, or leaked):
   * after every socket is closed this is 0 unless something leaked.
   */
  skbsInUse(): number {
    return this.#heads.active;
  }

  /** `nlmsg_new(payload)`, counted by {@link AfNetlink.skbsInUse}. */
  nlmsg_new(payload: number): SkBuff {
    return SkBuff.alloc(nlmsg_total_size(payload), SKB_SIZES_X86_64, this.#heads);
  }

  /** `alloc_skb(size)`, counted by {@link AfNetlink.skbsInUse}. */
  alloc_skb(size: number): SkBuff {
    return SkBuff.alloc(size, SKB_SIZES_X86_64, this.#heads);
  }

  /** Whether protocol `protocol` has a kernel socket or table entry (`nl_table[p].registered`). */
  registered(protocol: number): boolean {
    return (this.#tables[protocol]?.registered ?? 0) > 0;
  }

  /** The number of multicast groups of `protocol` (`nl_table[p].groups`). */
  protocolGroups(protocol: number): number {
    return this.#tables[protocol]?.groups ?? 0;
  }

  /** `netlink_lookup()`: the socket bound to `portid` in `protocol`. */
  lookup(protocol: number, portid: number): NetlinkSock | undefined {
    return this.#tables[protocol]?.ports.get(portid >>> 0);
  }

  // ---------------------------------------------------------------- kernel sockets

  /**
   * `netlink_kernel_create(&init_net, unit, cfg)`: the kernel socket (port 0) of protocol `unit`, or null when
   * `unit` is outside 0..31 or already has one. The first creator's groups (at least 32), flags and hooks
   * are the table's; a later one only counts.
   */
  netlink_kernel_create(unit: number, cfg: NetlinkKernelCfg = {}): NetlinkSock | null {
    if (!Number.isInteger(unit)) throw new KernelError("EINVAL", `unit ${String(unit)} is not an int`);
    if (unit < 0 || unit >= MAX_LINKS) return null;
    const t = this.#tables[unit]!;
    if (t.ports.has(0)) return null;
    const groups = Math.max(cfg.groups ?? 0, 32);
    const sk = new NetlinkSock(unit, true, this.#nextIno(), undefined, cfg.input, cfg.module);
    sk.portid = 0;
    sk.bound = true;
    t.ports.set(0, sk);
    if (t.registered === 0) {
      t.groups = groups;
      t.listeners = new Uint32Array(Math.ceil(groups / 64) * 2);
      t.module = cfg.module;
      t.bind = cfg.bind;
      t.unbind = cfg.unbind;
      t.flags = cfg.flags ?? 0;
      t.registered = 1;
    } else {
      t.registered++;
    }
    this.#sockets.add(sk);
    return sk;
  }

  /** `netlink_kernel_release(sk)`. */
  netlink_kernel_release(sk: NetlinkSock): void {
    if (!sk.kernel) throw new KernelError("EINVAL", `port ${sk.portid} is not a kernel socket`);
    this.release(sk);
  }

  /** `__netlink_change_ngroups()`: grows a protocol's group count (genetlink, as families add groups). */
  netlink_change_ngroups(protocol: number, groups: number): number {
    const t = this.#tables[protocol];
    if (t === undefined || t.registered === 0) return EINVAL;
    if (!Number.isInteger(groups) || groups < 1) return EINVAL;
    const g = Math.max(groups, 32);
    const words = Math.ceil(g / 64) * 2;
    if (t.listeners === undefined || t.listeners.length < words) {
      const l = new Uint32Array(words);
      if (t.listeners) l.set(t.listeners);
      t.listeners = l;
    }
    t.groups = g;
    return 0;
  }

  /** `netlink_has_listeners(sk, group)`: whether any socket of `sk`'s protocol joined `group`. */
  netlink_has_listeners(sk: NetlinkSock, group: number): boolean {
    const l = this.#tables[sk.protocol]!.listeners;
    const i = group - 1;
    return l !== undefined && i >= 0 && i < l.length * 32 && ((l[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }

  // ---------------------------------------------------------------- user sockets

  /**
   * `socket(AF_NETLINK, type, protocol)` (`netlink_create`): ESOCKTNOSUPPORT for a type other than SOCK_RAW or
   * SOCK_DGRAM, EPROTONOSUPPORT outside 0..31 or for a protocol nothing registered.
   */
  socket(type: number, protocol: number, caller: NetlinkCaller): NetlinkSock | number {
    if (!Number.isInteger(type) || !Number.isInteger(protocol)) {
      throw new KernelError("EINVAL", `socket(${String(type)}, ${String(protocol)}) needs ints`, {
        op: "socket",
      });
    }
    if (type !== SOCK_RAW && type !== SOCK_DGRAM) return ESOCKTNOSUPPORT;
    if (protocol < 0 || protocol >= MAX_LINKS) return EPROTONOSUPPORT;
    const t = this.#tables[protocol]!;
    if (t.registered === 0) return EPROTONOSUPPORT;
    // __netlink_create() takes a reference on the table's module for the socket's lifetime.
    if (t.module !== undefined && !try_module_get(t.module)) return EPROTONOSUPPORT;
    const sk = new NetlinkSock(protocol, false, this.#nextIno(), caller.cred, undefined, t.module);
    sk.bindHook = t.bind;
    sk.unbindHook = t.unbind;
    this.#sockets.add(sk);
    return sk;
  }

  // netlink_allowed(): the table's NONROOT flag or CAP_NET_ADMIN.
  #allowed(sk: NetlinkSock, flag: number, caller: NetlinkCaller): boolean {
    return (this.#tables[sk.protocol]!.flags & flag) !== 0 || caller.cred.capable(CAP_NET_ADMIN);
  }

  // netlink_realloc_groups()
  #reallocGroups(sk: NetlinkSock): number {
    const t = this.#tables[sk.protocol]!;
    if (t.registered === 0) return ENOENT;
    if (sk.ngroups >= t.groups) return 0;
    const words = Math.ceil(t.groups / 64) * 2;
    const g = new Uint32Array(words);
    g.set(sk.groups.subarray(0, Math.min(sk.groups.length, words)));
    sk.groups = g;
    sk.ngroups = t.groups;
    return 0;
  }

  // netlink_update_listeners(): the OR of every member's groups.
  #updateListeners(protocol: number): void {
    const t = this.#tables[protocol]!;
    const l = t.listeners;
    if (l === undefined) return;
    l.fill(0);
    for (const s of t.mcList) {
      for (let i = 0; i < Math.min(s.groups.length, l.length); i++) l[i]! |= s.groups[i]!;
    }
  }

  // netlink_update_subscriptions()
  #updateSubscriptions(sk: NetlinkSock, subscriptions: number): void {
    const t = this.#tables[sk.protocol]!;
    if (sk.subscriptions !== 0 && subscriptions === 0) t.mcList.delete(sk);
    else if (sk.subscriptions === 0 && subscriptions !== 0) t.mcList.add(sk);
    sk.subscriptions = subscriptions;
  }

  // netlink_insert(): note that a refused port stays in nlk->portid, as the kernel leaves it.
  #insert(sk: NetlinkSock, portid: number): number {
    if (sk.bound) return sk.portid === portid >>> 0 ? 0 : EBUSY;
    sk.portid = portid >>> 0;
    const t = this.#tables[sk.protocol]!;
    if (t.ports.has(sk.portid)) return EADDRINUSE;
    t.ports.set(sk.portid, sk);
    sk.bound = true;
    return 0;
  }

  // get_random_u32_below(ceil) as it compiles for a constant ceil (include/linux/random.h): the high half of the
  // 64-bit product ceil × get_random_u32(), drawing again while the low half falls below (2^32 − ceil) % ceil.
  #randomBelow(ceil: number): number {
    const reject = (4294967296 - ceil) % ceil;
    for (;;) {
      const mult = BigInt(ceil) * BigInt(this.#random() >>> 0);
      if (Number(mult & 0xffffffffn) >= reject) return Number(mult >> 32n);
    }
  }

  // netlink_autobind(): the tgid, then a random start in [S32_MIN, -4097] walking down. The rover is an s32: past
  // S32_MIN it wraps to S32_MAX, which the next collision sends back to -4097.
  #autobind(sk: NetlinkSock, caller: NetlinkCaller): number {
    const t = this.#tables[sk.protocol]!;
    let portid = caller.tgid | 0;
    let rover = -4096;
    for (;;) {
      if (t.ports.has(portid >>> 0)) {
        if (rover === -4096) {
          // rover = S32_MIN + get_random_u32_below(-4096 - S32_MIN)
          rover = -2147483648 + this.#randomBelow(2147479552);
        } else if (rover >= -4096) {
          rover = -4097;
        }
        portid = rover;
        rover = (rover - 1) | 0;
        continue;
      }
      const err = this.#insert(sk, portid);
      if (err === EADDRINUSE) continue;
      return err === EBUSY ? 0 : err;
    }
  }

  #checkAddr(op: string, addr: SockaddrNl | undefined): void {
    if (addr === undefined) return;
    for (const [k, v] of [
      ["family", addr.family],
      ["portid", addr.portid],
      ["groups", addr.groups],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new KernelError("EINVAL", `sockaddr_nl ${k} ${String(v)} is not a u32`, { op });
      }
    }
  }

  /**
   * `bind()` (`netlink_bind`): `addrLen` is what the caller passed as the address length. EINVAL for a short
   * address, a family other than AF_NETLINK or a second bind to another port; EPERM for groups without
   * NL_CFG_F_NONROOT_RECV or CAP_NET_ADMIN; EADDRINUSE for a taken port. The 32-bit group mask replaces groups
   * 1..32; memberships above 32 stay.
   */
  bind(sk: NetlinkSock, addr: SockaddrNl, addrLen: number, caller: NetlinkCaller): number {
    this.#checkAddr("bind", addr);
    if (addrLen < 12) return EINVAL;
    if (addr.family !== AF_NETLINK) return EINVAL;
    let groups = addr.groups >>> 0;
    if (groups !== 0) {
      if (!this.#allowed(sk, NL_CFG_F_NONROOT_RECV, caller)) return EPERM;
      const err = this.#reallocGroups(sk);
      if (err) return err;
    }
    if (sk.ngroups < 32) groups &= sk.ngroups === 0 ? 0 : (2 ** sk.ngroups - 1) >>> 0;
    const bound = sk.bound;
    if (bound && addr.portid >>> 0 !== sk.portid) return EINVAL;
    const undo = (upTo: number) => {
      if (sk.unbindHook === undefined) return;
      for (let g = 0; g < upTo; g++) if ((groups >>> g) & 1) sk.unbindHook(g + 1);
    };
    if (sk.bindHook !== undefined && groups !== 0) {
      for (let g = 0; g < 32; g++) {
        if (((groups >>> g) & 1) === 0) continue;
        const err = sk.bindHook(g + 1);
        if (err) {
          undo(g);
          return err;
        }
      }
    }
    if (!bound) {
      const err = addr.portid !== 0 ? this.#insert(sk, addr.portid) : this.#autobind(sk, caller);
      if (err) {
        undo(32);
        return err;
      }
    }
    if (groups === 0 && (sk.groups.length === 0 || sk.groups[0] === 0)) return 0;
    this.#updateSubscriptions(sk, sk.subscriptions + popcount32(groups) - popcount32(sk.groups[0]!));
    sk.groups[0] = groups;
    this.#updateListeners(sk.protocol);
    return 0;
  }

  /**
   * `connect()` (`netlink_connect`): AF_UNSPEC disconnects; EINVAL for another family or a short address; EPERM
   * for a port or groups without NL_CFG_F_NONROOT_SEND or CAP_NET_ADMIN. Autobinds, then only `addr.portid` may
   * unicast to this socket.
   */
  connect(sk: NetlinkSock, addr: SockaddrNl, addrLen: number, caller: NetlinkCaller): number {
    this.#checkAddr("connect", addr);
    if (addrLen < 2) return EINVAL;
    if (addr.family === AF_UNSPEC) {
      sk.connected = false;
      sk.dstPortid = 0;
      sk.dstGroup = 0;
      return 0;
    }
    if (addr.family !== AF_NETLINK) return EINVAL;
    if (addrLen < 12) return EINVAL;
    if ((addr.groups !== 0 || addr.portid !== 0) && !this.#allowed(sk, NL_CFG_F_NONROOT_SEND, caller))
      return EPERM;
    const err = sk.bound ? 0 : this.#autobind(sk, caller);
    if (err === 0) {
      sk.connected = true;
      sk.dstPortid = addr.portid >>> 0;
      sk.dstGroup = ffs(addr.groups);
    }
    return err;
  }

  /** `getsockname()` / `getpeername()` (`netlink_getname`). */
  getname(sk: NetlinkSock, peer: boolean): SockaddrNl {
    if (peer) {
      const g = sk.dstGroup;
      return {
        family: AF_NETLINK,
        portid: sk.dstPortid,
        groups: g === 0 || g > 32 ? 0 : (1 << (g - 1)) >>> 0,
      };
    }
    return { family: AF_NETLINK, portid: sk.portid, groups: sk.groups[0] ?? 0 };
  }

  /**
   * `setsockopt()` at SOL_NETLINK (`netlink_setsockopt`) or SOL_SOCKET SO_RCVBUF/SO_SNDBUF (`sk_setsockopt`).
   * `val` is the int read from the user when `optlen >= 4`, else 0, as the kernel reads it.
   */
  setsockopt(
    sk: NetlinkSock,
    level: number,
    optname: number,
    val: number,
    optlen: number,
    caller: NetlinkCaller,
  ): number {
    if (level === SOL_SOCKET) {
      if (optlen < 4) return EINVAL;
      if (optname === SO_RCVBUF || optname === SO_SNDBUF) {
        const v = Math.min(val >>> 0, SK_MEM_MAX);
        if (optname === SO_RCVBUF) sk.rcvbuf = Math.max(v * 2, SOCK_MIN_RCVBUF);
        else sk.sndbuf = Math.max(v * 2, SOCK_MIN_SNDBUF);
        return 0;
      }
      return ENOPROTOOPT;
    }
    if (level !== SOL_NETLINK) return ENOPROTOOPT;
    const v = optlen >= 4 ? val >>> 0 : 0;
    const o = NETLINK_SOCKOPT;
    switch (optname) {
      case o.ADD_MEMBERSHIP:
      case o.DROP_MEMBERSHIP: {
        if (!this.#allowed(sk, NL_CFG_F_NONROOT_RECV, caller)) return EPERM;
        const err = this.#reallocGroups(sk);
        if (err) return err;
        if (v === 0 || v - 1 >= sk.ngroups) return EINVAL;
        const add = optname === o.ADD_MEMBERSHIP;
        if (add && sk.bindHook !== undefined) {
          const r = sk.bindHook(v);
          if (r) return r;
        }
        // netlink_update_socket_mc()
        const i = v - 1;
        const old = (sk.groups[i >>> 5]! >>> (i & 31)) & 1;
        const now = add ? 1 : 0;
        if (add) sk.groups[i >>> 5]! |= 1 << (i & 31);
        else sk.groups[i >>> 5]! &= ~(1 << (i & 31));
        this.#updateSubscriptions(sk, sk.subscriptions + now - old);
        this.#updateListeners(sk.protocol);
        if (!add && sk.unbindHook !== undefined) sk.unbindHook(v);
        return 0;
      }
      case o.NO_ENOBUFS:
        sk.opts.noEnobufs = v !== 0;
        if (v !== 0) {
          sk.congested = false;
          sk.writers.wake_up_interruptible();
        }
        return 0;
      case o.LISTEN_ALL_NSID:
        if (!caller.cred.capable(CAP_NET_BROADCAST)) return EPERM;
        sk.opts.listenAllNsid = v !== 0;
        return 0;
      default: {
        // The plain flags: PKTINFO, BROADCAST_ERROR, CAP_ACK, EXT_ACK, GET_STRICT_CHK (assign_bit).
        const key = SET_FLAGS[optname];
        if (key === undefined) return ENOPROTOOPT;
        sk.opts[key] = v !== 0;
        return 0;
      }
    }
  }

  /**
   * `getsockopt()` (`netlink_getsockopt`, `sk_getsockopt` for SO_RCVBUF/SO_SNDBUF): `len` is the caller's buffer
   * length. Returns the bytes to write back and the new `optlen`, or a negative errno. LIST_MEMBERSHIPS writes as
   * many u32 words as fit and reports the length the whole bitmap needs.
   */
  getsockopt(
    sk: NetlinkSock,
    level: number,
    optname: number,
    len: number,
  ): { value: Uint8Array; optlen: number } | number {
    if (level === SOL_SOCKET) {
      if (len < 0) return EINVAL;
      if (optname !== SO_RCVBUF && optname !== SO_SNDBUF) return ENOPROTOOPT;
      const n = Math.min(len, 4);
      const b = new Uint8Array(4);
      put32(b, 0, optname === SO_RCVBUF ? sk.rcvbuf : sk.sndbuf, true);
      return { value: b.subarray(0, n), optlen: n };
    }
    if (level !== SOL_NETLINK) return ENOPROTOOPT;
    if (len < 0) return EINVAL;
    const o = NETLINK_SOCKOPT;
    if (optname === o.LIST_MEMBERSHIPS) {
      const words: number[] = [];
      for (let pos = 0; pos * 8 < sk.ngroups; pos += 4) {
        if (len - pos < 4) break;
        words.push(sk.groups[pos / 4] ?? 0);
      }
      const b = new Uint8Array(words.length * 4);
      for (const [i, w] of words.entries()) put32(b, i * 4, w, true);
      return { value: b, optlen: Math.ceil(Math.ceil(sk.ngroups / 8) / 4) * 4 };
    }
    const key = GET_FLAGS[optname];
    if (key === undefined) return ENOPROTOOPT;
    const flag = sk.opts[key];
    if (len < 4) return EINVAL;
    const b = new Uint8Array(4);
    b[0] = flag ? 1 : 0;
    return { value: b, optlen: 4 };
  }

  // ---------------------------------------------------------------- sending

  /**
   * `sendmsg()` (`netlink_sendmsg`), checks in the kernel's order: MSG_OOB → EOPNOTSUPP, an empty message →
   * ENODATA, the control messages (`msg.scm`, scm_send), a short address or wrong family → EINVAL, an explicit
   * destination without permission → EPERM, autobind, `len > sndbuf − 32` → EMSGSIZE, then the copy from the user (`copyIn` fills the skb's data and
   * returns 0 or −EFAULT). A group destination is broadcast (its result ignored) and the unicast's result is
   * returned, so a multicast on a protocol without a kernel socket delivers and still says ECONNREFUSED.
   * Returns a Promise when a blocking send waits for room in the receiver's buffer (a signal to `caller` ends
   * the wait with EINTR; see {@link NetlinkCaller.sleepingOn}).
   */
  sendmsg(
    sk: NetlinkSock,
    msg: {
      readonly name?: SockaddrNl;
      readonly namelen?: number;
      readonly len: number;
      readonly flags: number;
      /**
       * `scm_send()`: checks the control messages and returns a negative errno, or the credentials the message
       * carries (SCM_CREDENTIALS; the caller's own when none); runs after the ENODATA check.
       */
      readonly scm?: () => number | { readonly pid: number; readonly uid: number; readonly gid: number };
    },
    copyIn: (dst: Uint8Array) => number,
    caller: NetlinkCaller,
  ): number | Promise<number> {
    this.#checkAddr("sendmsg", msg.name);
    if (!Number.isInteger(msg.len) || msg.len < 0) {
      throw new KernelError("EINVAL", `message length ${String(msg.len)} is not a size`, { op: "sendmsg" });
    }
    if (msg.flags & MSG_OOB) return EOPNOTSUPP;
    if (msg.len === 0) return ENODATA;
    let creds: NetlinkSkbParms["creds"] | undefined;
    if (msg.scm !== undefined) {
      const r = msg.scm();
      if (typeof r === "number") {
        if (r !== 0) return r;
      } else creds = r;
    }
    let dstPortid: number;
    let dstGroup: number;
    let skbFlags = 0;
    const namelen = msg.name === undefined ? 0 : (msg.namelen ?? 12);
    if (namelen !== 0 && msg.name !== undefined) {
      if (namelen < 12) return EINVAL;
      if (msg.name.family !== AF_NETLINK) return EINVAL;
      dstPortid = msg.name.portid >>> 0;
      dstGroup = ffs(msg.name.groups);
      if ((dstGroup !== 0 || dstPortid !== 0) && !this.#allowed(sk, NL_CFG_F_NONROOT_SEND, caller))
        return EPERM;
      skbFlags |= NETLINK_SKB_DST;
    } else {
      dstPortid = sk.dstPortid;
      dstGroup = sk.dstGroup;
    }
    if (!sk.bound) {
      const err = this.#autobind(sk, caller);
      if (err) return err;
    }
    if (msg.len > sk.sndbuf - 32) return EMSGSIZE_;
    let skb: SkBuff;
    try {
      skb = this.alloc_skb(msg.len);
    } catch {
      return ENOBUFS;
    }
    const p = NETLINK_CB(skb);
    p.portid = sk.portid;
    p.dstGroup = dstGroup;
    // scm_set_cred(): the sender's tgid, uid and gid unless SCM_CREDENTIALS said otherwise.
    p.creds = creds ?? { pid: caller.tgid, uid: caller.cred.uid, gid: caller.cred.gid };
    p.flags = skbFlags;
    p.cred = caller.cred;
    const at = skb.put(msg.len);
    if (copyIn(skb.buffer.subarray(at, at + msg.len)) !== 0) {
      skb.free();
      return EFAULT;
    }
    if (dstGroup !== 0) {
      skb.get();
      this.netlink_broadcast(sk, skb, dstPortid, dstGroup);
    }
    return this.netlink_unicast(sk, skb, dstPortid, (msg.flags & MSG_DONTWAIT) !== 0, caller);
  }

  // netlink_getsockbyportid()
  #getsockbyportid(ssk: NetlinkSock, portid: number): NetlinkSock | number {
    const sk = this.#tables[ssk.protocol]!.ports.get(portid >>> 0);
    if (sk === undefined) return ECONNREFUSED;
    if (sk.connected && sk.dstPortid !== ssk.portid) return ECONNREFUSED;
    return sk;
  }

  // netlink_overrun()
  #overrun(sk: NetlinkSock): void {
    if (!sk.opts.noEnobufs && !sk.congested) {
      sk.congested = true;
      sk.err = -ENOBUFS;
      sk.readers.wake_up_interruptible();
    }
    sk.drops++;
  }

  // __netlink_sendskb(): queue it and wake the reader.
  #queue(sk: NetlinkSock, skb: SkBuff): number {
    const len = skb.len;
    sk.queue.enqueue(skb);
    sk.readers.wake_up_interruptible();
    return len;
  }

  // The 6.16+ admission: add first, accept into an empty queue or within rcvbuf, never while congested.
  #admit(sk: NetlinkSock, skb: SkBuff): boolean {
    const rmem = sk.rmem + skb.truesize;
    if ((rmem === skb.truesize || rmem <= sk.rcvbuf) && !sk.congested) {
      sk.rmem = rmem;
      return true;
    }
    return false;
  }

  /**
   * `netlink_unicast(ssk, skb, portid, nonblock)`: always consumes `skb`. To a kernel socket: its input runs now,
   * in the caller's context; without one, ECONNREFUSED. To a user socket: queued if admitted; else EAGAIN when
   * nonblocking (an overrun of the receiver only if the sender is the kernel), or a Promise that waits for room
   * (or a signal: EINTR). Returns the bytes sent or a negative errno.
   */
  netlink_unicast(
    ssk: NetlinkSock,
    skb: SkBuff,
    portid: number,
    nonblock: boolean,
    caller?: NetlinkCaller,
  ): number | Promise<number> {
    skb = this.#trim(skb);
    return this.#unicast(ssk, skb, portid, nonblock, caller);
  }

  // netlink_trim(): an skb whose unused tailroom is at least half its truesize (a reply built in an
  // nlmsg_new(NLMSG_DEFAULT_SIZE) buffer, say) gets a head of just [head, tail): pskb_expand_head(skb, 0, -delta)
  // reallocates it, and as the skb has no owner yet its truesize follows the new head. A shared skb is cloned
  // first, so the other holder keeps the original. (The model's skb cannot change its head, so the trimmed one
  // is a new skb with the same bytes and control block.)
  #trim(skb: SkBuff): SkBuff {
    const delta = skb.end - skb.tail;
    if (delta * 2 < skb.truesize) return skb;
    let n: SkBuff;
    try {
      n = this.alloc_skb(skb.tail);
    } catch {
      return skb; // pskb_expand_head() failing leaves the skb as it was
    }
    n.reserve(skb.data);
    n.putData(skb.bytes());
    if (skb.cb !== undefined) n.cb = { ...skb.cb };
    skb.consume();
    return n;
  }

  // netlink_unicast() from its retry label, the skb trimmed.
  #unicast(
    ssk: NetlinkSock,
    skb: SkBuff,
    portid: number,
    nonblock: boolean,
    caller: NetlinkCaller | undefined,
  ): number | Promise<number> {
    const target = this.#getsockbyportid(ssk, portid);
    if (typeof target === "number") {
      skb.free();
      return target;
    }
    if (target.kernel) return this.#unicastKernel(target, skb, ssk);
    if (this.#admit(target, skb)) return this.#queue(target, skb);
    if (nonblock) {
      if (ssk.kernel) this.#overrun(target);
      skb.free();
      return EAGAIN;
    }
    // netlink_attachskb(): sleep on the receiver until space (or a signal to this task), then look the port up
    // again.
    return (async () => {
      const woke = await sleepOn(
        target.writers,
        () =>
          target.released ||
          ((target.rmem === 0 || target.rmem + skb.truesize <= target.rcvbuf) && !target.congested),
        caller,
      );
      if (woke !== 0) {
        skb.free();
        return woke === ERESTARTSYS ? EINTR : woke;
      }
      return this.#unicast(ssk, skb, portid, false, caller);
    })();
  }

  // netlink_unicast_kernel()
  #unicastKernel(sk: NetlinkSock, skb: SkBuff, ssk: NetlinkSock): number {
    if (sk.input === undefined) {
      skb.free();
      return ECONNREFUSED;
    }
    const len = skb.len;
    sk.rmem += skb.truesize;
    NETLINK_CB(skb).sk = ssk;
    try {
      sk.input(skb);
    } finally {
      sk.rmem -= skb.truesize;
      if (!skb.freed) skb.consume();
    }
    return len;
  }

  /**
   * `netlink_broadcast(ssk, skb, portid, group)`: delivers to every member of `group` except `ssk` and `portid`,
   * and always consumes `skb`. An unshared skb goes itself to the first receiver, clones (shared data) to the
   * others. Returns 0 when someone got it, −ESRCH when nobody did, −ENOBUFS when a receiver with
   * NETLINK_BROADCAST_ERROR missed it. `filter`, when given, skips receivers it returns true for
   * (`netlink_broadcast_filtered`).
   */
  netlink_broadcast(
    ssk: NetlinkSock,
    skb: SkBuff,
    portid: number,
    group: number,
    filter?: (sk: NetlinkSock, skb: SkBuff) => boolean,
  ): number {
    skb = this.#trim(skb);
    let skb2: SkBuff | undefined;
    let deliveryFailure = false;
    let delivered = false;
    for (const sk of [...this.#tables[ssk.protocol]!.mcList]) {
      if (sk === ssk) continue;
      if (sk.portid === portid >>> 0 || group - 1 >= sk.ngroups || !sk.inGroup(group)) continue;
      if (skb2 === undefined) skb2 = skb.shared ? skb.clone() : skb.get();
      if (filter?.(sk, skb2) === true) {
        skb2.free();
        skb2 = undefined;
        continue;
      }
      if (this.#admit(sk, skb2)) {
        this.#queue(sk, skb2);
        delivered = true;
        skb2 = undefined;
      } else {
        this.#overrun(sk);
        if (sk.opts.broadcastError) deliveryFailure = true;
      }
    }
    skb.consume();
    if (deliveryFailure) {
      skb2?.free();
      return ENOBUFS;
    }
    skb2?.consume();
    return delivered ? 0 : ESRCH;
  }

  /** `nlmsg_unicast()`: a nonblocking {@link AfNetlink.netlink_unicast} whose success is 0. */
  nlmsg_unicast(ssk: NetlinkSock, skb: SkBuff, portid: number): number {
    const r = this.netlink_unicast(ssk, skb, portid, true) as number;
    return Math.min(r, 0);
  }

  /** `nlmsg_multicast()`: sets `NETLINK_CB(skb).dst_group` (what receivers see), then broadcasts; success is 0. */
  nlmsg_multicast(ssk: NetlinkSock, skb: SkBuff, portid: number, group: number): number {
    NETLINK_CB(skb).dstGroup = group;
    const r = this.netlink_broadcast(ssk, skb, portid, group);
    return Math.min(r, 0);
  }

  /**
   * `nlmsg_notify()`: multicasts to `group` (−ESRCH counts as success) and, when `report`, unicasts a copy to
   * `portid` too, which is then left out of the multicast so it gets the message once; without `report` a
   * requester that joined `group` gets the multicast like any member. Returns the first error.
   */
  nlmsg_notify(ssk: NetlinkSock, skb: SkBuff, portid: number, group: number, report: boolean): number {
    let err = 0;
    if (group !== 0) {
      // The requester is left out of the multicast only when it gets its own copy (report); otherwise port 0,
      // which no multicast member has, is "excluded".
      let exclude = 0;
      if (report) {
        skb.get();
        exclude = portid;
      }
      err = this.nlmsg_multicast(ssk, skb, exclude, group);
      if (err === ESRCH) err = 0;
    }
    if (report) {
      const err2 = this.nlmsg_unicast(ssk, skb, portid);
      if (err === 0 && err2 < 0) err = err2;
    }
    return err;
  }

  /**
   * `netlink_set_err(ssk, portid, group, code)`: sets `sk_err` on every member of `group` but `portid`; for
   * ENOBUFS skips NO_ENOBUFS sockets and returns how many it skipped.
   */
  netlink_set_err(ssk: NetlinkSock, portid: number, group: number, code: number): number {
    let skipped = 0;
    for (const sk of this.#tables[ssk.protocol]!.mcList) {
      if (sk === ssk || sk.portid === portid >>> 0 || !sk.inGroup(group)) continue;
      if (code === -ENOBUFS && sk.opts.noEnobufs) {
        skipped++;
        continue;
      }
      sk.err = code;
      sk.readers.wake_up_interruptible();
    }
    return skipped;
  }

  // ---------------------------------------------------------------- receiving

  /**
   * `recvmsg()` (`netlink_recvmsg`): a pending `sk_err` first, then at most one datagram. A buffer shorter than
   * the datagram gets what fits and MSG_TRUNC, and the rest is lost; the MSG_TRUNC flag makes the result the
   * whole length; MSG_PEEK leaves it queued. `copyOut` writes the bytes to the user (0 or −EFAULT). With nothing
   * queued: EAGAIN when nonblocking, else a Promise that waits (EINTR on a signal to `caller`, whose
   * `sleepingOn` gets the queue it sleeps on). Reading may run the next chunk of a dump. Only a call that gets a
   * datagram records `len` in `max_recvmsg_len` (what sizes later dump chunks).
   */
  recvmsg(
    sk: NetlinkSock,
    len: number,
    flags: number,
    copyOut: (src: Uint8Array) => number,
    caller?: Pick<NetlinkCaller, "sleepingOn">,
  ): NetlinkRecv | Promise<NetlinkRecv> {
    if (!Number.isInteger(len) || len < 0) {
      throw new KernelError("EINVAL", `buffer length ${String(len)} is not a size`, { op: "recvmsg" });
    }
    if (sk.released) return { result: -9, flags: 0, portid: 0, groups: 0, cmsgs: NO_CMSGS };
    if (flags & MSG_OOB) return { result: EOPNOTSUPP, flags: 0, portid: 0, groups: 0, cmsgs: NO_CMSGS };
    // skb_recv_datagram(): the pending error, then the queue, then wait.
    if (sk.err !== 0) {
      const err = sk.err;
      sk.err = 0;
      this.#rcvWake(sk);
      return { result: -err, flags: 0, portid: 0, groups: 0, cmsgs: NO_CMSGS };
    }
    if (sk.queue.length === 0) {
      if (flags & MSG_DONTWAIT) {
        this.#rcvWake(sk);
        return { result: EAGAIN, flags: 0, portid: 0, groups: 0, cmsgs: NO_CMSGS };
      }
      return (async () => {
        const woke = await sleepOn(
          sk.readers,
          () => sk.queue.length > 0 || sk.err !== 0 || sk.released,
          caller,
        );
        if (woke !== 0)
          return {
            result: woke === ERESTARTSYS ? EINTR : woke,
            flags: 0,
            portid: 0,
            groups: 0,
            cmsgs: NO_CMSGS,
          };
        return this.recvmsg(sk, len, flags, copyOut, caller);
      })();
    }
    const skb = (flags & MSG_PEEK ? sk.queue.peek() : sk.queue.dequeue())!;
    // netlink_recvmsg() records the length once skb_recv_datagram() returned a datagram.
    if (len > sk.maxRecvmsgLen) sk.maxRecvmsgLen = Math.min(len, NLMSG_RECVMSG_MAX);
    const total = skb.len;
    let copied = total;
    let outFlags = 0;
    if (len < copied) {
      outFlags |= MSG_TRUNC;
      copied = len;
    }
    let err = copied === 0 ? 0 : copyOut(skb.buffer.subarray(skb.data, skb.data + copied));
    const p = NETLINK_CB(skb);
    const g = p.dstGroup;
    const groups = g === 0 || g > 32 ? 0 : (1 << (g - 1)) >>> 0;
    let cmsgs: NetlinkRecv["cmsgs"] = NO_CMSGS;
    if (sk.opts.pktinfo) {
      const b = new Uint8Array(4);
      put32(b, 0, g, true);
      cmsgs = [{ level: SOL_NETLINK, type: NETLINK_SOCKOPT.PKTINFO, data: b }];
    }
    if (flags & MSG_TRUNC) copied = total;
    if (!(flags & MSG_PEEK)) {
      sk.rmem -= skb.truesize;
      skb.consume();
    }
    if (sk.cbRunning && sk.rmem <= sk.rcvbuf >> 1) {
      const r = this.#dump(sk);
      if (r) {
        sk.err = -r;
      }
    }
    this.#rcvWake(sk);
    if (err > 0) err = 0;
    return { result: err || copied, flags: outFlags, portid: p.portid, groups, cmsgs };
  }

  // netlink_rcv_wake()
  #rcvWake(sk: NetlinkSock): void {
    if (sk.queue.length === 0) sk.congested = false;
    if (!sk.congested) sk.writers.wake_up_interruptible();
  }

  /** The `poll()` mask of a netlink socket (`datagram_poll`): readable, always writable, error. */
  poll(sk: NetlinkSock): number {
    // sock_writeable() always holds (netlink charges nothing to sk_wmem_alloc): EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND.
    let mask = 0x004 | 0x100 | 0x200;
    if (sk.err !== 0) mask |= 0x008;
    if (sk.queue.length > 0) mask |= 0x001 | 0x040;
    return mask;
  }

  // ---------------------------------------------------------------- kernel input, acks, dumps

  /**
   * `netlink_rcv_skb(skb, cb)`: runs `cb` on each request of the datagram and acks as the kernel does: a bad
   * length stops silently; messages without NLM_F_REQUEST and control types are acked (if asked) unprocessed; an
   * error is always acked, success only with NLM_F_ACK; −EINTR (a dump started) is never acked.
   */
  netlink_rcv_skb(skb: SkBuff, cb: (skb: SkBuff, nlh: NlMsgRef, extack: NetlinkExtAck) => number): number {
    while (skb.len >= NLMSG_HDRLEN) {
      const extack: NetlinkExtAck = {};
      const nlh = msgAt(skb, skb.data);
      let err = 0;
      if (nlh.len < NLMSG_HDRLEN || skb.len < nlh.len) return 0;
      let skip = false;
      if (nlh.flags & NLM_F.REQUEST && nlh.type >= NLMSG_MIN_TYPE) {
        err = cb(skb, nlh, extack);
        if (err === EINTR) skip = true;
      }
      if (!skip && (nlh.flags & NLM_F.ACK || err !== 0)) this.netlink_ack(skb, nlh, err, extack);
      skb.pull(Math.min(NLMSG_ALIGN(nlh.len), skb.len));
    }
    return 0;
  }

  /**
   * `netlink_ack(in_skb, nlh, err, extack)`: builds the NLMSG_ERROR for request `nlh` (echoed unless success or
   * the requester's CAP_ACK; TLVs with its EXT_ACK) and unicasts it to the requester without blocking.
   */
  netlink_ack(inSkb: SkBuff, nlh: NlMsgRef, err: number, extack?: NetlinkExtAck): void {
    const p = NETLINK_CB(inSkb);
    const requester = p.sk;
    if (requester === undefined) {
      throw new KernelError("EINVAL", `skb#${inSkb.id} did not come from a socket`, { op: "netlink_ack" });
    }
    const kernelSk = this.#tables[requester.protocol]!.ports.get(0);
    const x = extack;
    if (err === 0 && (!requester.opts.extAck || (x?.msg === undefined && x?.cookie === undefined))) {
      // The common success ack: 36 bytes, NLM_F_CAPPED, the request's header echoed.
      const skb = this.nlmsg_new(20);
      const at = nlmsgPut(skb, p.portid, nlh.seq, 2 /* NLMSG_ERROR */, 20, NLM_F.CAPPED)!;
      skb.buffer.set(nlh.bytes.subarray(0, NLMSG_HDRLEN), at + NLMSG_HDRLEN + 4);
      if (kernelSk === undefined) skb.free();
      else this.nlmsg_unicast(kernelSk, skb, p.portid);
      return;
    }
    const bytes = buildAck(nlh.bytes.subarray(0, nlh.len), {
      error: err,
      portid: p.portid,
      capAck: requester.opts.capAck,
      extAck: requester.opts.extAck,
      extack: ackExtack(x),
    });
    let skb: SkBuff;
    try {
      skb = this.nlmsg_new(bytes.length - NLMSG_HDRLEN);
    } catch {
      requester.err = -ENOBUFS;
      return;
    }
    skb.putData(bytes);
    if (kernelSk === undefined) {
      skb.free();
      return;
    }
    this.nlmsg_unicast(kernelSk, skb, p.portid);
  }

  /**
   * `netlink_dump_start(ssk, skb, nlh, control)`: starts a dump for the requester of `skb` and runs its first
   * chunk now. Returns −EINTR when started (so no ack is sent), ECONNREFUSED without a requester, EBUSY when a
   * dump already runs on that socket, EPROTONOSUPPORT when the module is going, or `start`'s error.
   */
  netlink_dump_start(ssk: NetlinkSock, skb: SkBuff, nlh: NlMsgRef, control: NetlinkDumpControl): number {
    skb.get();
    const p = NETLINK_CB(skb);
    const sk = this.#tables[ssk.protocol]!.ports.get(p.portid);
    if (sk === undefined) {
      skb.free();
      return ECONNREFUSED;
    }
    if (sk.cbRunning) {
      skb.free();
      return EBUSY;
    }
    if (!try_module_get(control.module)) {
      skb.free();
      return EPROTONOSUPPORT;
    }
    // cb->nlh points into the request skb, which the dump keeps alive; netlink_rcv_skb pulls past it, so the
    // model keeps a copy of the bytes.
    const copy = nlh.bytes.slice(0, nlh.len);
    const cb = {
      skb,
      nlh: { ...nlh, bytes: copy },
      data: control.data,
      strictCheck: p.sk?.opts.strictChk ?? false,
      args: [0, 0, 0, 0, 0, 0],
      seq: 0,
      prevSeq: 0,
      answerFlags: 0,
      extack: undefined,
      portid: p.portid,
      control,
    };
    sk.cb = cb;
    if (control.start !== undefined) {
      const r = control.start(cb);
      if (r) {
        module_put(control.module);
        sk.cb = undefined;
        skb.free();
        return r;
      }
    }
    sk.cbRunning = true;
    sk.dumpDoneErrno = 0x7fffffff;
    const r = this.#dump(sk);
    if (r) return r;
    return EINTR;
  }

  // netlink_dump(): one chunk, or the NLMSG_DONE, into the requester's queue.
  #dump(sk: NetlinkSock): number {
    const cb = sk.cb;
    if (!sk.cbRunning || cb === undefined) return EINVAL;
    const allocMin = Math.max(cb.control.minDumpAlloc ?? 0, NLMSG_GOODSIZE);
    let allocSize = allocMin;
    let skb: SkBuff;
    try {
      if (allocMin < sk.maxRecvmsgLen) allocSize = sk.maxRecvmsgLen;
      skb = this.alloc_skb(allocSize);
    } catch {
      return ENOBUFS;
    }
    const rmem = sk.rmem + skb.truesize;
    if (rmem !== skb.truesize && rmem >= sk.rcvbuf) {
      skb.free();
      return ENOBUFS;
    }
    sk.rmem = rmem;
    skb.reserve(skb.tailroom - allocSize);
    // netlink_dump()'s extack lives for one call: a NLMSG_DONE that did not fit after the last messages goes out
    // in the next call with an empty extack (no TLVs).
    const extack: NetlinkExtAck = {};
    if (sk.dumpDoneErrno > 0) {
      cb.extack = extack;
      let r: number;
      try {
        r = cb.control.dump(skb, cb);
      } catch (err) {
        sk.rmem -= skb.truesize;
        skb.free();
        throw err;
      }
      if (r === EMSGSIZE && skb.len > 0) r = skb.len;
      sk.dumpDoneErrno = r;
      cb.extack = undefined;
    }
    if (sk.dumpDoneErrno > 0 || skb.tailroom < nlmsg_total_size(4)) {
      this.#queue(sk, skb);
      return 0;
    }
    if (!this.#dumpDone(sk, skb, cb, extack)) {
      sk.rmem -= skb.truesize;
      skb.free();
      return ENOBUFS;
    }
    this.#queue(sk, skb);
    this.#endDump(sk);
    return 0;
  }

  // netlink_dump_done(): NLMSG_DONE with the dump's errno, NLM_F_MULTI and TLVs if the requester wants them.
  #dumpDone(sk: NetlinkSock, skb: SkBuff, cb: NetlinkCallback, extack: NetlinkExtAck): boolean {
    const at = nlmsgPut(skb, cb.portid, cb.nlh.seq, NLMSG_DONE, 4, NLM_F.MULTI | cb.answerFlags);
    if (at === null) return false;
    nl_dump_check_consistent(cb, skb, at);
    const b = skb.buffer;
    put32(b, at + NLMSG_HDRLEN, sk.dumpDoneErrno >>> 0, true);
    const err = sk.dumpDoneErrno;
    const tlvs = ackTlvs(sk, err, extack, cb.nlh.bytes);
    if (tlvs !== undefined) {
      b[at + 6]! |= NLM_F.ACK_TLVS & 0xff;
      b[at + 7]! |= NLM_F.ACK_TLVS >> 8;
      if (skb.tailroom >= tlvs.length) {
        skb.putData(tlvs);
        nlmsgEnd(skb, at);
      }
    }
    return true;
  }

  #endDump(sk: NetlinkSock): void {
    const cb = sk.cb;
    if (cb === undefined) return;
    cb.control.done?.(cb);
    sk.cbRunning = false;
    sk.cb = undefined;
    module_put(cb.control.module);
    cb.skb.consume();
  }

  // ---------------------------------------------------------------- release

  /**
   * `close()` of a netlink socket (`netlink_release`): unhashes it, calls the table's `unbind` for each joined
   * group, ends a running dump (calling `done`), frees the queued skbs and drops its module reference.
   */
  release(sk: NetlinkSock): void {
    if (sk.released) {
      throw new KernelError("EBADF", `netlink socket (port ${sk.portid}) is already released`, {
        op: "release",
      });
    }
    const t = this.#tables[sk.protocol]!;
    if (sk.bound && t.ports.get(sk.portid) === sk) t.ports.delete(sk.portid);
    if (sk.subscriptions !== 0) {
      t.mcList.delete(sk);
      sk.subscriptions = 0;
      this.#updateListeners(sk.protocol);
    }
    if (sk.unbindHook !== undefined) {
      for (let g = 1; g <= sk.ngroups; g++) if (sk.inGroup(g)) sk.unbindHook(g);
    }
    sk.released = true;
    sk.readers.wake_up_interruptible();
    sk.writers.wake_up_interruptible();
    if (sk.cbRunning) this.#endDump(sk);
    for (let skb = sk.queue.dequeue(); skb !== undefined; skb = sk.queue.dequeue()) {
      sk.rmem -= skb.truesize;
      skb.free();
    }
    if (sk.kernel) {
      if (--t.registered === 0) {
        t.listeners = undefined;
        t.module = undefined;
        t.bind = undefined;
        t.unbind = undefined;
        t.flags = 0;
      }
    } else {
      module_put(sk.module);
    }
    this.#sockets.delete(sk);
  }

  /** `/proc/net/netlink` (`netlink_native_seq_show`), one row per bound socket, by protocol and port. */
  procNetNetlink(): string {
    const hdr = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n";
    const rows: string[] = [];
    for (let p = 0; p < MAX_LINKS; p++) {
      for (const sk of this.#tables[p]!.ports.values()) {
        const pad = (v: string | number, w: number) => String(v).padEnd(w);
        rows.push(
          `${sk.ino.toString(16).padStart(16, "0")} ${pad(p, 3)} ${pad(sk.portid, 10)} ${(sk.groups[0] ?? 0)
            .toString(16)
            .padStart(
              8,
              "0",
            )} ${pad(sk.rmem, 8)} ${pad(0, 8)} ${pad(sk.cbRunning ? 1 : 0, 5)} ${pad(2, 8)} ${pad(sk.drops, 8)} ${pad(sk.ino, 8)}\n`,
        );
      }
    }
    return hdr + rows.join("");
  }
}

/** `struct sockaddr_nl` as af_netlink reads it. */
export interface SockaddrNl {
  /** `nl_family`: AF_NETLINK (16). */
  readonly family: number;
  /** `nl_pid`: a port id. */
  readonly portid: number;
  /** `nl_groups`: a mask of groups 1..32. */
  readonly groups: number;
}

/**
 * `nl_dump_check_consistent(cb, nlh)`: sets NLM_F_DUMP_INTR on the message at `at` when the dumper's generation
 * (`cb.seq`) changed since the previous message, then remembers it.
 */
export function nl_dump_check_consistent(cb: NetlinkCallback, skb: SkBuff, at: number): void {
  if (cb.prevSeq !== 0 && cb.seq !== cb.prevSeq) {
    const b = skb.buffer;
    b[at + 6]! |= NLM_F.DUMP_INTR;
  }
  cb.prevSeq = cb.seq;
}

// The kernel's extack as buildAck() takes it.
function ackExtack(x: NetlinkExtAck | undefined) {
  return {
    ...(x?.msg !== undefined && { msg: x.msg }),
    ...(x?.badAttr !== undefined && { offs: x.badAttr }),
    ...(x?.cookie !== undefined && { cookie: x.cookie }),
    ...(x?.policy !== undefined && { policy: policyAttrs(x.policy) }),
    ...(x?.missType !== undefined && { missType: x.missType }),
    ...(x?.missNest !== undefined && { missNest: x.missNest }),
  };
}

// netlink_ack_tlv_len() + netlink_ack_tlv_fill() for NLMSG_DONE: the TLVs netlink_ack would write after a
// capped nlmsgerr for the request `req` (empty when announced but none fits the rules), or undefined for none.
function ackTlvs(sk: NetlinkSock, err: number, x: NetlinkExtAck, req: Uint8Array): Uint8Array | undefined {
  if (!sk.opts.extAck) return undefined;
  const ack = buildAck(req, { error: err, portid: 0, capAck: true, extAck: true, extack: ackExtack(x) });
  if ((get16(ack, 6, true) & NLM_F.ACK_TLVS) === 0) return undefined;
  return ack.subarray(NLMSG_HDRLEN + 4 + NLMSG_HDRLEN);
}
