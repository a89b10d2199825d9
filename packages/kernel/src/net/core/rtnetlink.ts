// net/core/rtnetlink.c with the pieces of net/core/dev.c, net/ipv4/devinet.c and net/ipv6/addrconf.c it needs:
// a minimal routing netlink inside the simulated kernel. A link table (lo and links a test adds), IPv4 and IPv6
// addresses, rtnetlink_rcv_msg's dispatch rules (short payloads, unknown types, CAP_NET_ADMIN), RTM_GETLINK
// (doit and dump), RTM_SETLINK/RTM_NEWLINK with ifla_policy, RTM_NEWADDR for IPv4, RTM_GETADDR dumps, and the
// RTM_NEWLINK/RTM_NEWADDR notifications. Read against Linux 6.12 and checked against the 6.18 captures of
// vectors/netlink. The model is written from the kernel's behaviour; no kernel code is copied.

import {
  EMSGSIZE,
  NL_VALIDATE,
  NLA_HDRLEN,
  NLM_F,
  NLMSG_HDRLEN,
  type NlAttr,
  type NlaPolicy,
  nla_total_size,
  nlaNestEnd,
  nlaNestStart,
  nlaParse,
  nlaPut,
  nlaPutString,
  nlaPutU8,
  nlaPutU32,
  nlmsgEnd,
  nlmsgParse,
  nlmsgPut,
  nlmsgTrim,
  type ParseResult,
  type Policy,
  type SkBuff,
} from "@kbridge/netlink-codec";
import { errnoNumber, get16, get32, KernelError, put16, put32, utf8Decode, utf8Encode } from "@kbridge/uapi";
import { CAP_NET_ADMIN } from "../../cred.js";
import {
  type AfNetlink,
  NETLINK,
  NETLINK_CB,
  NETLINK_SKB_DST,
  type NetlinkCallback,
  type NetlinkExtAck,
  type NetlinkSock,
  NL_CFG_F_NONROOT_RECV,
  NLMSG_GOODSIZE,
  type NlMsgRef,
  nl_dump_check_consistent,
} from "../netlink/af-netlink.js";

const e = (code: Parameters<typeof errnoNumber>[0]) => -errnoNumber(code);
const EPERM = e("EPERM");
const EINVAL = e("EINVAL");
const ENODEV = e("ENODEV");
const EEXIST = e("EEXIST");
const ENOBUFS = e("ENOBUFS");
const ENOMEM = e("ENOMEM");
const EOPNOTSUPP = e("EOPNOTSUPP");

// ------------------------------------------------------------------------------------------------ uapi numbers

/** The rtnetlink message types of include/uapi/linux/rtnetlink.h that the model names (`RTM_*`). */
export const RTM = Object.freeze({
  BASE: 16,
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
  NEWROUTE: 24,
  DELROUTE: 25,
  GETROUTE: 26,
  /** `RTM_GETTUNNEL` (122), the last type of 6.12. */
  GETTUNNEL: 122,
  /** `RTM_MAX`: `((__RTM_MAX + 3) & ~3) - 1` = 123 in 6.12; a type above it is EOPNOTSUPP at once. */
  MAX: 123,
});

/** The rtnetlink multicast groups (`enum rtnetlink_groups`) that the model uses. */
export const RTNLGRP = Object.freeze({
  NONE: 0,
  LINK: 1,
  NOTIFY: 2,
  NEIGH: 3,
  TC: 4,
  IPV4_IFADDR: 5,
  IPV4_MROUTE: 6,
  IPV4_ROUTE: 7,
  IPV4_RULE: 8,
  IPV6_IFADDR: 9,
  IPV6_MROUTE: 10,
  IPV6_ROUTE: 11,
  IPV4_MROUTE_R: 30,
  IPV6_MROUTE_R: 31,
  STATS: 36,
});

/** `RTNLGRP_MAX` of 6.12: `__RTNLGRP_MAX - 1` = 36 (RTNLGRP_STATS). */
export const RTNLGRP_MAX = 36;

/** `AF_UNSPEC` / `PF_UNSPEC` (0). */
export const PF_UNSPEC = 0;
/** `AF_INET` / `PF_INET` (2). */
export const PF_INET = 2;
/** `AF_INET6` / `PF_INET6` (10). */
export const PF_INET6 = 10;
/** `PF_PACKET` (17): `rtnl_dump_all` skips it. */
export const PF_PACKET = 17;
/** `RTNL_FAMILY_MAX` (129). */
export const RTNL_FAMILY_MAX = 129;

/** `IFLA_*` link attributes of include/uapi/linux/if_link.h (6.12: IFLA_MAX is 66, IFLA_DPLL_PIN). */
export const IFLA = Object.freeze({
  UNSPEC: 0,
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  QDISC: 6,
  STATS: 7,
  COST: 8,
  PRIORITY: 9,
  MASTER: 10,
  WIRELESS: 11,
  PROTINFO: 12,
  TXQLEN: 13,
  MAP: 14,
  WEIGHT: 15,
  OPERSTATE: 16,
  LINKMODE: 17,
  LINKINFO: 18,
  NET_NS_PID: 19,
  IFALIAS: 20,
  NUM_VF: 21,
  VFINFO_LIST: 22,
  STATS64: 23,
  VF_PORTS: 24,
  PORT_SELF: 25,
  AF_SPEC: 26,
  GROUP: 27,
  NET_NS_FD: 28,
  EXT_MASK: 29,
  PROMISCUITY: 30,
  NUM_TX_QUEUES: 31,
  NUM_RX_QUEUES: 32,
  CARRIER: 33,
  PHYS_PORT_ID: 34,
  CARRIER_CHANGES: 35,
  PHYS_SWITCH_ID: 36,
  LINK_NETNSID: 37,
  PHYS_PORT_NAME: 38,
  PROTO_DOWN: 39,
  GSO_MAX_SEGS: 40,
  GSO_MAX_SIZE: 41,
  PAD: 42,
  XDP: 43,
  EVENT: 44,
  NEW_NETNSID: 45,
  TARGET_NETNSID: 47,
  CARRIER_UP_COUNT: 48,
  CARRIER_DOWN_COUNT: 49,
  NEW_IFINDEX: 50,
  MIN_MTU: 51,
  MAX_MTU: 52,
  PROP_LIST: 53,
  ALT_IFNAME: 54,
  PERM_ADDRESS: 55,
  PROTO_DOWN_REASON: 56,
  PARENT_DEV_NAME: 57,
  PARENT_DEV_BUS_NAME: 58,
  GRO_MAX_SIZE: 59,
  TSO_MAX_SIZE: 60,
  TSO_MAX_SEGS: 61,
  ALLMULTI: 62,
  DEVLINK_PORT: 63,
  GSO_IPV4_MAX_SIZE: 64,
  GRO_IPV4_MAX_SIZE: 65,
  DPLL_PIN: 66,
  /** `IFLA_MAX` in 6.12. */
  MAX: 66,
});

/** `IFLA_INFO_*`: the attributes inside IFLA_LINKINFO. */
export const IFLA_INFO = Object.freeze({ KIND: 1, DATA: 2, XSTATS: 3, SLAVE_KIND: 4, SLAVE_DATA: 5, MAX: 5 });

/** `IFA_*` address attributes of include/uapi/linux/if_addr.h. */
export const IFA = Object.freeze({
  ADDRESS: 1,
  LOCAL: 2,
  LABEL: 3,
  BROADCAST: 4,
  ANYCAST: 5,
  CACHEINFO: 6,
  MULTICAST: 7,
  FLAGS: 8,
  RT_PRIORITY: 9,
  TARGET_NETNSID: 10,
  PROTO: 11,
  MAX: 11,
});

/** `IFA_F_*` address flags. */
export const IFA_F = Object.freeze({
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
  MCAUTOJOIN: 0x400,
  STABLE_PRIVACY: 0x800,
});

/** `IFAPROT_*`: who added an address (IFA_PROTO). */
export const IFAPROT = Object.freeze({ UNSPEC: 0, KERNEL_LO: 1, KERNEL_RA: 2, KERNEL_LL: 3 });

/** `IFF_*` interface flags of include/uapi/linux/if.h. */
export const IFF = Object.freeze({
  UP: 0x1,
  BROADCAST: 0x2,
  DEBUG: 0x4,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  NOTRAILERS: 0x20,
  RUNNING: 0x40,
  NOARP: 0x80,
  PROMISC: 0x100,
  ALLMULTI: 0x200,
  MASTER: 0x400,
  SLAVE: 0x800,
  MULTICAST: 0x1000,
  PORTSEL: 0x2000,
  AUTOMEDIA: 0x4000,
  DYNAMIC: 0x8000,
  LOWER_UP: 0x10000,
  DORMANT: 0x20000,
  ECHO: 0x40000,
});

/** `ARPHRD_ETHER` (1). */
export const ARPHRD_ETHER = 1;
/** `ARPHRD_LOOPBACK` (772). */
export const ARPHRD_LOOPBACK = 772;
/** `IF_OPER_*` (RFC 2863 operational states) as IFLA_OPERSTATE carries them. */
export const IF_OPER = Object.freeze({ UNKNOWN: 0, NOTPRESENT: 1, DOWN: 2, LOWERLAYERDOWN: 3, UP: 6 });
/** `INFINITY_LIFE_TIME`: a permanent address's lifetimes. */
export const INFINITY_LIFE_TIME = 0xffffffff;
/** `IFNAMSIZ` (16). */
export const IFNAMSIZ = 16;
/** `RT_SCOPE_*` as ifa_scope carries it. */
export const RT_SCOPE = Object.freeze({ UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 });

/** `RTNL_FLAG_*` of a handler registration (include/net/rtnetlink.h). */
export const RTNL_FLAG = Object.freeze({
  DOIT_UNLOCKED: 1 << 0,
  BULK_DEL_SUPPORTED: 1 << 1,
  DUMP_UNLOCKED: 1 << 2,
  DUMP_SPLIT_NLM_DONE: 1 << 3,
});

// ------------------------------------------------------------------------------------------------ policies

/**
 * `MAX_TCP_HEADER + 1`, the minimum of IFLA_GSO_MAX_SIZE and IFLA_GSO_IPV4_MAX_SIZE. Inferred for an x86-64
 * distribution config (`L1_CACHE_ALIGN(128 + MAX_HEADER)` with MAX_HEADER = 176): 320 + 1. Not measured.
 */
export const GSO_MAX_SIZE_MIN = 321;

const u32: NlaPolicy = { type: "u32" };
const u8: NlaPolicy = { type: "u8" };
const s32: NlaPolicy = { type: "s32" };
const nested: NlaPolicy = { type: "nested" };
const reject: NlaPolicy = { type: "reject" };

/**
 * `ifla_policy[IFLA_MAX + 1]` of net/core/rtnetlink.c (6.12), the policy of RTM_NEWLINK/SETLINK/GETLINK. IFLA_MTU
 * is a plain NLA_U32, so a short IFLA_MTU fails its minimum length with ERANGE and the extack policy is the u32
 * range {0, 0xffffffff}. Nested attributes are validated as nests only (their own policies are not modelled).
 */
export const IFLA_POLICY: Policy = Object.freeze({
  maxType: IFLA.MAX,
  attrs: Object.freeze<Record<number, NlaPolicy>>({
    [IFLA.IFNAME]: { type: "string", len: IFNAMSIZ - 1 },
    [IFLA.ADDRESS]: { type: "binary", len: 32 },
    [IFLA.BROADCAST]: { type: "binary", len: 32 },
    [IFLA.MAP]: { type: "unspec", len: 32 },
    [IFLA.MTU]: u32,
    [IFLA.LINK]: u32,
    [IFLA.MASTER]: u32,
    [IFLA.CARRIER]: u8,
    [IFLA.TXQLEN]: { type: "u32", validation: { kind: "range", min: 0, max: 0x7fff } },
    [IFLA.WEIGHT]: u32,
    [IFLA.OPERSTATE]: u8,
    [IFLA.LINKMODE]: u8,
    [IFLA.LINKINFO]: nested,
    [IFLA.NET_NS_PID]: u32,
    [IFLA.NET_NS_FD]: u32,
    [IFLA.IFALIAS]: { type: "binary", len: 255 },
    [IFLA.VFINFO_LIST]: nested,
    [IFLA.VF_PORTS]: nested,
    [IFLA.PORT_SELF]: nested,
    [IFLA.AF_SPEC]: nested,
    [IFLA.EXT_MASK]: u32,
    [IFLA.PROMISCUITY]: u32,
    [IFLA.NUM_TX_QUEUES]: u32,
    [IFLA.NUM_RX_QUEUES]: u32,
    [IFLA.GSO_MAX_SEGS]: u32,
    [IFLA.GSO_MAX_SIZE]: { type: "u32", validation: { kind: "min", min: GSO_MAX_SIZE_MIN } },
    [IFLA.PHYS_PORT_ID]: { type: "binary", len: 32 },
    [IFLA.CARRIER_CHANGES]: u32,
    [IFLA.PHYS_SWITCH_ID]: { type: "binary", len: 32 },
    [IFLA.LINK_NETNSID]: s32,
    [IFLA.PROTO_DOWN]: u8,
    [IFLA.XDP]: nested,
    [IFLA.EVENT]: u32,
    [IFLA.GROUP]: u32,
    [IFLA.TARGET_NETNSID]: s32,
    [IFLA.CARRIER_UP_COUNT]: u32,
    [IFLA.CARRIER_DOWN_COUNT]: u32,
    [IFLA.MIN_MTU]: u32,
    [IFLA.MAX_MTU]: u32,
    [IFLA.PROP_LIST]: nested,
    [IFLA.ALT_IFNAME]: { type: "string", len: 127 },
    [IFLA.PERM_ADDRESS]: reject,
    [IFLA.PROTO_DOWN_REASON]: nested,
    [IFLA.NEW_IFINDEX]: { type: "s32", validation: { kind: "min", min: 1 } },
    [IFLA.PARENT_DEV_NAME]: { type: "nul-string" },
    [IFLA.GRO_MAX_SIZE]: u32,
    [IFLA.TSO_MAX_SIZE]: reject,
    [IFLA.TSO_MAX_SEGS]: reject,
    [IFLA.ALLMULTI]: reject,
    [IFLA.GSO_IPV4_MAX_SIZE]: { type: "u32", validation: { kind: "min", min: GSO_MAX_SIZE_MIN } },
    [IFLA.GRO_IPV4_MAX_SIZE]: u32,
  }),
});

/** `ifla_info_policy[IFLA_INFO_MAX + 1]`: the attributes of IFLA_LINKINFO. */
export const IFLA_INFO_POLICY: Policy = Object.freeze({
  maxType: IFLA_INFO.MAX,
  attrs: Object.freeze<Record<number, NlaPolicy>>({
    [IFLA_INFO.KIND]: { type: "string" },
    [IFLA_INFO.DATA]: nested,
    [IFLA_INFO.SLAVE_KIND]: { type: "string" },
    [IFLA_INFO.SLAVE_DATA]: nested,
  }),
});

/** `ifa_ipv4_policy[IFA_MAX + 1]` of net/ipv4/devinet.c: the attributes of an IPv4 RTM_NEWADDR/DELADDR. */
export const IFA_IPV4_POLICY: Policy = Object.freeze({
  maxType: IFA.MAX,
  attrs: Object.freeze<Record<number, NlaPolicy>>({
    [IFA.LOCAL]: u32,
    [IFA.ADDRESS]: u32,
    [IFA.BROADCAST]: u32,
    [IFA.LABEL]: { type: "string", len: IFNAMSIZ - 1 },
    [IFA.CACHEINFO]: { type: "unspec", len: 16 },
    [IFA.FLAGS]: u32,
    [IFA.RT_PRIORITY]: u32,
    [IFA.TARGET_NETNSID]: s32,
    [IFA.PROTO]: u8,
  }),
});

// ------------------------------------------------------------------------------------------------ devices

/** A network device as rtnetlink reports it (the fields of `struct net_device` the model keeps). */
export interface NetDevice {
  /** `dev->ifindex`. */
  readonly ifindex: number;
  /** `dev->name`. */
  name: string;
  /** `dev->type` (ARPHRD_*). */
  readonly type: number;
  /** `dev->flags` (IFF_UP, IFF_LOOPBACK …; RUNNING and LOWER_UP are derived by {@link dev_get_flags}). */
  flags: number;
  /** `dev->mtu`. */
  mtu: number;
  /** `dev->min_mtu`. */
  minMtu: number;
  /** `dev->max_mtu` (0: no maximum). */
  maxMtu: number;
  /** `dev->tx_queue_len`. */
  txqlen: number;
  /** `dev->operstate` while the device runs (IF_OPER_*). */
  operstate: number;
  /** `dev->link_mode`. */
  linkmode: number;
  /** `dev->group`. */
  group: number;
  /** `dev->dev_addr` (`addr_len` bytes). */
  address: Uint8Array;
  /** `dev->broadcast`. */
  broadcast: Uint8Array;
  /** `rtnl_link_ops->kind` ("dummy" …), undefined for a device no rtnl_link_ops created (lo). */
  readonly kind: string | undefined;
  /** The root qdisc's id ("noop" until the first up, then "noqueue" for these IFF_NO_QUEUE devices). */
  qdisc: string;
  /** `netif_carrier_ok()`. */
  carrier: boolean;
  /** `dev->num_tx_queues`, `num_rx_queues`, and the GSO/GRO/TSO limits, as IFLA_* report them. */
  readonly limits: {
    readonly numTxQueues: number;
    readonly numRxQueues: number;
    readonly gsoMaxSegs: number;
    readonly gsoMaxSize: number;
    readonly groMaxSize: number;
    readonly gsoIpv4MaxSize: number;
    readonly groIpv4MaxSize: number;
    readonly tsoMaxSize: number;
    readonly tsoMaxSegs: number;
  };
}

/** What {@link Rtnetlink.addLink} creates a link from. */
export interface LinkInit {
  /** The name (at most 15 bytes, unique). */
  readonly name: string;
  /** The rtnl_link_ops kind; "dummy" by default (an Ethernet device with IFF_BROADCAST|IFF_NOARP). */
  readonly kind?: string;
  /** The MTU; 1500 by default. */
  readonly mtu?: number;
  /** The 6-byte hardware address; a locally administered one derived from the ifindex by default. */
  readonly address?: Uint8Array;
  /** Bring it up (IFF_UP) after registering it. */
  readonly up?: boolean;
}

/** An interface address (`struct in_ifaddr` or `struct inet6_ifaddr`). */
export interface IfAddr {
  /** PF_INET or PF_INET6. */
  readonly family: number;
  /** The device's ifindex. */
  readonly ifindex: number;
  /** `ifa_prefixlen`. */
  readonly prefixlen: number;
  /** `ifa_local` (IPv4) or the address (IPv6): 4 or 16 bytes, network order. */
  readonly local: Uint8Array;
  /** `ifa_address` (the peer for a point-to-point IPv4 address; equal to `local` otherwise). */
  readonly address: Uint8Array;
  /** `ifa_broadcast` (IPv4), or undefined. */
  readonly broadcast: Uint8Array | undefined;
  /** `ifa_label` (IPv4). */
  readonly label: string;
  /** `ifa_flags` (32 bits; the ifaddrmsg carries the low 8). */
  flags: number;
  /** `ifa_scope` (RT_SCOPE_*). */
  readonly scope: number;
  /** `ifa_proto` (IFAPROT_*). */
  proto: number;
  /** `ifa_rt_priority`. */
  rtPriority: number;
  /** Preferred and valid lifetimes in seconds (INFINITY_LIFE_TIME for a permanent address). */
  preferred: number;
  /** See {@link IfAddr.preferred}. */
  valid: number;
  /** `cstamp_delta(ifa_cstamp)`, `cstamp_delta(ifa_tstamp)`: hundredths of a second since boot. */
  cstamp: number;
  /** See {@link IfAddr.cstamp}. */
  tstamp: number;
}

/** What {@link Rtnetlink.addAddress} adds (as `ip addr add` asks the kernel). */
export interface AddrInit {
  /** The device. */
  readonly ifindex: number;
  /** The address, e.g. "127.1.0.1" or "fd00::1". */
  readonly address: string;
  /** The prefix length. */
  readonly prefixlen: number;
  /** The scope (RT_SCOPE_UNIVERSE by default). */
  readonly scope?: number;
  /** An IPv4 broadcast address. */
  readonly broadcast?: string;
}

/** How {@link rtnetlink_net_init} sets up the namespace. */
export interface RtnetlinkOptions {
  /**
   * Bring lo up at creation, with 127.0.0.1/8 and ::1/128 (as the initial namespace has them); default true.
   * False gives a fresh namespace's lo: down and without addresses until "ip link set lo up".
   */
  readonly loUp?: boolean;
  /** The value of `cstamp_delta(jiffies)` for new addresses (hundredths of a second since boot); default 0. */
  readonly clock?: () => number;
}

/** `rtnl_doit_func`: handles one request; returns 0 or a negative errno (acked by netlink_rcv_skb). */
export type RtnlDoit = (skb: SkBuff, nlh: NlMsgRef, extack: NetlinkExtAck) => number;
/** `rtnl_dumpit_func`: fills one dump chunk; > 0 while it put something, 0 when done, or a negative errno. */
export type RtnlDumpit = (skb: SkBuff, cb: NetlinkCallback) => number;
type Doit = RtnlDoit;
type Dumpit = RtnlDumpit;
interface RtnlLink {
  readonly doit?: Doit;
  readonly dumpit?: Dumpit;
  readonly flags: number;
}
// What rtnetlink_dump_start() keeps in cb->data, and rtnl_dump_all()'s cb->family.
interface RtnlDumpData {
  dumpit: Dumpit | undefined;
  family: number;
  readonly flags: number;
}

/** `enum rtnl_kinds` and `rtnl_msgtype_kind()`: NEW, DEL, GET, SET by the low two bits of the type. */
export function rtnl_msgtype_kind(type: number): "new" | "del" | "get" | "set" {
  return (["new", "del", "get", "set"] as const)[(type - RTM.BASE) & 3]!;
}

/** `dev_get_flags()`: `dev->flags` with RUNNING and LOWER_UP derived from the running and carrier state. */
export function dev_get_flags(dev: NetDevice): number {
  let flags = dev.flags & ~(IFF.PROMISC | IFF.ALLMULTI | IFF.RUNNING | IFF.LOWER_UP | IFF.DORMANT);
  if (dev.flags & IFF.UP) {
    // netif_oper_up(): IF_OPER_UP or IF_OPER_UNKNOWN.
    if (dev.operstate === IF_OPER.UP || dev.operstate === IF_OPER.UNKNOWN) flags |= IFF.RUNNING;
    if (dev.carrier) flags |= IFF.LOWER_UP;
  }
  return flags >>> 0;
}

/** `rtnl_link_get_size()`: IFLA_LINKINFO with IFLA_INFO_KIND of a device created by rtnl_link_ops. */
function linkInfoSize(dev: NetDevice): number {
  if (dev.kind === undefined) return 0;
  return nla_total_size(NLA_HDRLEN) + nla_total_size(utf8Encode(dev.kind).length + 1);
}

/**
 * `if_nlmsg_size(dev, 0)`: the payload `nlmsg_new` reserves for one RTM_NEWLINK of `dev`, the kernel's sum for a
 * device without VFs, ports, alternative names, devlink port or DPLL pin (x86-64: 64-bit attributes need no pad),
 * plus IFLA_LINKINFO for a device with a kind. IFLA_AF_SPEC is not counted because the model does not emit it.
 */
export function if_nlmsg_size(dev: NetDevice): number {
  const t = nla_total_size;
  return (
    16 + // NLMSG_ALIGN(sizeof(struct ifinfomsg))
    t(IFNAMSIZ) + // IFLA_IFNAME
    t(256) + // IFLA_IFALIAS
    t(IFNAMSIZ) + // IFLA_QDISC
    t(32) + // IFLA_MAP (rtnl_link_ifmap)
    t(96) + // IFLA_STATS
    t(200) + // IFLA_STATS64
    t(32) * 2 + // IFLA_ADDRESS, IFLA_BROADCAST (MAX_ADDR_LEN)
    t(4) * 5 + // TXQLEN, WEIGHT, MTU, LINK, MASTER
    t(1) + // CARRIER
    t(4) * 11 + // PROMISCUITY, ALLMULTI, NUM_TX/RX_QUEUES, GSO/GRO/TSO limits
    t(1) * 2 + // OPERSTATE, LINKMODE
    t(4) * 3 + // CARRIER_CHANGES, LINK_NETNSID, GROUP
    t(0) + // IFLA_NUM_VF (no RTEXT_FILTER_VF)
    linkInfoSize(dev) +
    t(32) * 2 + // PHYS_PORT_ID, PHYS_SWITCH_ID
    t(IFNAMSIZ) + // PHYS_PORT_NAME
    (t(0) + t(1) * 2 + t(4) * 3) + // rtnl_xdp_size()
    t(4) * 3 + // EVENT, NEW_NETNSID, NEW_IFINDEX
    t(1) + // rtnl_proto_down_size() without a reason
    t(4) * 5 + // TARGET_NETNSID, CARRIER_UP/DOWN_COUNT, MIN_MTU, MAX_MTU
    t(32) + // PERM_ADDRESS
    t(0) * 2 // rtnl_devlink_port_size(), rtnl_dpll_pin_size()
  );
}

/** `inet_nlmsg_size()`: the payload reserved for one IPv4 RTM_NEWADDR (96 bytes). */
export function inet_nlmsg_size(): number {
  const t = nla_total_size;
  return 8 + t(4) * 3 + t(IFNAMSIZ) + t(4) + t(1) + t(4) + t(16);
}

/** `inet6_ifaddr_msgsize()`: the payload reserved for one IPv6 RTM_NEWADDR (92 bytes). */
export function inet6_ifaddr_msgsize(): number {
  const t = nla_total_size;
  return 8 + t(16) * 2 + t(16) + t(4) + t(1) + t(4);
}

// IPv4 dotted quad or IPv6 text to bytes; undefined when it is neither.
function parseAddr(s: string): Uint8Array | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4 !== null) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? Uint8Array.from(b) : undefined;
  }
  if (!/^[0-9a-fA-F:]+$/.test(s) || s.split("::").length > 2) return undefined;
  const [head = "", tail] = s.split("::");
  const groups = (p: string) => (p === "" ? [] : p.split(":"));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const fill = 8 - h.length - t.length;
  if ((tail === undefined && fill !== 0) || fill < 0) return undefined;
  const all = [...h, ...Array<string>(fill).fill("0"), ...t];
  if (all.some((g) => g.length === 0 || g.length > 4)) return undefined;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    put16(out, i * 2, Number.parseInt(g, 16), false);
  });
  return out;
}

// inet_make_mask() as a comparable number.
const mask4 = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const be32 = (b: Uint8Array) => get32(b, 0, false);

/**
 * The routing netlink of one network namespace: the NETLINK_ROUTE kernel socket (`net->rtnl`), the device table
 * (`dev_base_head` / `dev_by_index`) and the IPv4/IPv6 address lists. Create it with {@link rtnetlink_net_init}.
 */
export class Rtnetlink {
  /** The NETLINK_ROUTE kernel socket (`net->rtnl`). */
  readonly sk: NetlinkSock;
  readonly #af: AfNetlink;
  readonly #devs = new Map<number, NetDevice>();
  readonly #in4 = new Map<number, IfAddr[]>();
  readonly #in6 = new Map<number, IfAddr[]>();
  readonly #handlers = new Map<string, RtnlLink>();
  readonly #clock: () => number;
  #ifindex = 0;
  /** `net->dev_base_seq`: bumped by every device registration. */
  devBaseSeq = 1;
  /** `net->ipv4.dev_addr_genid` / IPv6 `dev_addr_genid`: bumped by every address change. */
  addrGenid = 0;

  /** @internal use {@link rtnetlink_net_init} */
  constructor(af: AfNetlink, sk: NetlinkSock, options: RtnetlinkOptions) {
    this.#af = af;
    this.sk = sk;
    this.#clock = options.clock ?? (() => 0);
    // rtnetlink_init(), devinet_init(), addrconf_init(): the handlers the model implements.
    const reg = (family: number, type: number, doit?: Doit, dumpit?: Dumpit, flags = 0) =>
      this.#handlers.set(`${family}:${type}`, {
        ...(doit && { doit }),
        ...(dumpit && { dumpit }),
        flags,
      });
    reg(
      PF_UNSPEC,
      RTM.GETLINK,
      (s, n, x) => this.rtnl_getlink(s, n, x),
      (s, cb) => this.rtnl_dump_ifinfo(s, cb),
      RTNL_FLAG.DUMP_SPLIT_NLM_DONE,
    );
    reg(PF_UNSPEC, RTM.SETLINK, (s, n, x) => this.rtnl_setlink(s, n, x));
    reg(PF_UNSPEC, RTM.NEWLINK, (s, n, x) => this.rtnl_newlink(s, n, x));
    reg(PF_UNSPEC, RTM.GETADDR, undefined, (s, cb) => this.rtnl_dump_all(s, cb));
    reg(PF_INET, RTM.NEWADDR, (s, n, x) => this.inet_rtm_newaddr(s, n, x));
    reg(
      PF_INET,
      RTM.GETADDR,
      undefined,
      (s, cb) => this.inet_dump_ifaddr(s, cb),
      RTNL_FLAG.DUMP_UNLOCKED | RTNL_FLAG.DUMP_SPLIT_NLM_DONE,
    );
    reg(PF_INET6, RTM.GETADDR, undefined, (s, cb) => this.inet6_dump_ifaddr(s, cb), RTNL_FLAG.DUMP_UNLOCKED);

    // loopback_net_init(): lo is ifindex 1, registered first.
    const lo = this.#register({
      name: "lo",
      type: ARPHRD_LOOPBACK,
      flags: IFF.LOOPBACK,
      mtu: 65536,
      minMtu: 0,
      maxMtu: 0,
      txqlen: 1000,
      address: new Uint8Array(6),
      broadcast: new Uint8Array(6),
      kind: undefined,
    });
    if (options.loUp ?? true) this.dev_change_flags(lo, lo.flags | IFF.UP);
  }

  // ---------------------------------------------------------------------------------------- devices

  /** The devices in ifindex order (`for_each_netdev`). */
  links(): NetDevice[] {
    return [...this.#devs.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  /** `__dev_get_by_index()`. */
  dev_get_by_index(ifindex: number): NetDevice | undefined {
    return this.#devs.get(ifindex);
  }

  /** `__dev_get_by_name()`. */
  dev_get_by_name(name: string): NetDevice | undefined {
    for (const d of this.#devs.values()) if (d.name === name) return d;
    return undefined;
  }

  /** The addresses of `family` (PF_INET, PF_INET6) or of both, in each device's list order. */
  addresses(family?: number): IfAddr[] {
    const out: IfAddr[] = [];
    for (const dev of this.links()) {
      if (family !== PF_INET6) out.push(...(this.#in4.get(dev.ifindex) ?? []));
      if (family !== PF_INET) out.push(...(this.#in6.get(dev.ifindex) ?? []));
    }
    return out;
  }

  // register_netdevice(): the next ifindex, then RTM_NEWLINK with ifi_change ~0 to RTNLGRP_LINK.
  #register(
    init: Omit<NetDevice, "ifindex" | "operstate" | "linkmode" | "group" | "qdisc" | "carrier" | "limits">,
  ) {
    const dev: NetDevice = {
      ...init,
      ifindex: ++this.#ifindex,
      operstate: IF_OPER.UNKNOWN,
      linkmode: 0,
      group: 0,
      qdisc: "noop",
      carrier: true,
      limits: {
        numTxQueues: 1,
        numRxQueues: 1,
        gsoMaxSegs: 65535,
        gsoMaxSize: 65536,
        groMaxSize: 65536,
        gsoIpv4MaxSize: 65536,
        groIpv4MaxSize: 65536,
        tsoMaxSize: 524280,
        tsoMaxSegs: 65535,
      },
    };
    this.#devs.set(dev.ifindex, dev);
    this.devBaseSeq++;
    this.rtmsg_ifinfo(RTM.NEWLINK, dev, 0xffffffff, 0, undefined);
    return dev;
  }

  /**
   * Creates a link as `ip link add NAME type KIND` does (`rtnl_newlink_create` + `register_netdevice`): an
   * Ethernet device (dummy_setup: IFF_BROADCAST|IFF_NOARP, min/max MTU 0), announced to RTNLGRP_LINK. Returns
   * the device, −EEXIST for a taken name, −EINVAL for an empty or too long name or an address that is not 6 bytes.
   */
  addLink(init: LinkInit): NetDevice | number {
    if (typeof init?.name !== "string")
      throw new KernelError("EINVAL", "a link needs a name", { op: "addLink" });
    const bytes = utf8Encode(init.name);
    if (bytes.length === 0 || bytes.length >= IFNAMSIZ || init.name.includes("/")) return EINVAL;
    if (this.dev_get_by_name(init.name) !== undefined) return EEXIST;
    const mtu = init.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 0 || mtu > 0x7fffffff) return EINVAL;
    if (init.address !== undefined && init.address.length !== 6) return EINVAL;
    const next = this.#ifindex + 1;
    // eth_hw_addr_random() stands in as a locally administered unicast address made from the ifindex.
    const address =
      init.address?.slice() ??
      Uint8Array.of(0x02, 0, 0, (next >> 16) & 0xff, (next >> 8) & 0xff, next & 0xff);
    const dev = this.#register({
      name: init.name,
      type: ARPHRD_ETHER,
      flags: IFF.BROADCAST | IFF.NOARP,
      mtu,
      minMtu: 0,
      maxMtu: 0,
      txqlen: 1000,
      address,
      broadcast: new Uint8Array(6).fill(0xff),
      kind: init.kind ?? "dummy",
    });
    if (init.up === true) this.dev_change_flags(dev, dev.flags | IFF.UP);
    return dev;
  }

  /**
   * `dev_change_flags(dev, flags)` (`__dev_change_flags` + `__dev_notify_flags`): applies the user-settable flags
   * and IFF_UP, then RTM_NEWLINK with the changed bits in ifi_change to RTNLGRP_LINK (port 0, seq 0). Bringing a
   * loopback device up adds 127.0.0.1/8 and ::1/128 as inetdev_event and addrconf do on NETDEV_UP.
   */
  dev_change_flags(dev: NetDevice, flags: number, portid = 0, nlh?: NlMsgRef): number {
    const old = dev.flags;
    const settable =
      IFF.DEBUG | IFF.NOTRAILERS | IFF.NOARP | IFF.DYNAMIC | IFF.MULTICAST | IFF.PORTSEL | IFF.AUTOMEDIA;
    // IFF_VOLATILE: the flags the driver and the stack own, kept as they are.
    const volatile =
      IFF.LOOPBACK |
      IFF.POINTOPOINT |
      IFF.BROADCAST |
      IFF.ECHO |
      IFF.MASTER |
      IFF.SLAVE |
      IFF.RUNNING |
      IFF.LOWER_UP |
      IFF.DORMANT;
    dev.flags = (flags & settable) | (dev.flags & (IFF.UP | volatile | IFF.PROMISC | IFF.ALLMULTI));
    if ((old ^ flags) & IFF.UP) {
      if (old & IFF.UP) dev.flags &= ~IFF.UP;
      else {
        dev.flags |= IFF.UP; // __dev_open(); dev_activate() attaches noqueue to an IFF_NO_QUEUE device.
        dev.qdisc = "noqueue";
      }
    }
    const changes = (old ^ dev.flags) >>> 0;
    if (changes !== 0) this.rtmsg_ifinfo(RTM.NEWLINK, dev, changes, portid, nlh);
    if (changes & IFF.UP && dev.flags & IFF.UP && dev.flags & IFF.LOOPBACK) this.#loopbackUp(dev);
    return 0;
  }

  // inetdev_event(NETDEV_UP) and addrconf's init_loopback(): lo's addresses, each announced.
  #loopbackUp(dev: NetDevice): void {
    const now = this.#clock();
    if (this.#list(PF_INET, dev.ifindex).length === 0) {
      const lo4 = Uint8Array.of(127, 0, 0, 1);
      this.#insertIfa({
        family: PF_INET,
        ifindex: dev.ifindex,
        prefixlen: 8,
        local: lo4,
        address: lo4,
        broadcast: undefined,
        label: dev.name,
        flags: IFA_F.PERMANENT,
        scope: RT_SCOPE.HOST,
        proto: 0,
        rtPriority: 0,
        preferred: INFINITY_LIFE_TIME,
        valid: INFINITY_LIFE_TIME,
        cstamp: now,
        tstamp: now,
      });
    }
    const l6 = this.#list(PF_INET6, dev.ifindex);
    if (l6.length === 0) {
      const lo6 = new Uint8Array(16);
      lo6[15] = 1;
      const ifa: IfAddr = {
        family: PF_INET6,
        ifindex: dev.ifindex,
        prefixlen: 128,
        local: lo6,
        address: lo6,
        broadcast: undefined,
        label: "",
        flags: IFA_F.PERMANENT,
        scope: RT_SCOPE.HOST,
        proto: IFAPROT.KERNEL_LO,
        rtPriority: 0,
        preferred: INFINITY_LIFE_TIME,
        valid: INFINITY_LIFE_TIME,
        cstamp: now,
        tstamp: now,
      };
      l6.push(ifa);
      this.addrGenid++;
      this.inet6_ifa_notify(RTM.NEWADDR, ifa);
    }
  }

  /**
   * `dev_set_mtu_ext(dev, mtu)`: nothing for the same MTU; −EINVAL ("mtu less than device minimum" /
   * "mtu greater than device maximum") outside [min_mtu, max_mtu]; else sets it and NETDEV_CHANGEMTU makes
   * rtnetlink_event send RTM_NEWLINK (ifi_change 0) to RTNLGRP_LINK.
   */
  dev_set_mtu(dev: NetDevice, mtu: number, extack?: NetlinkExtAck): number {
    const m = mtu | 0; // the kernel takes an int
    if (m === dev.mtu) return 0;
    if (m < 0 || m < dev.minMtu) {
      if (extack) extack.msg = "mtu less than device minimum";
      return EINVAL;
    }
    if (dev.maxMtu > 0 && m > dev.maxMtu) {
      if (extack) extack.msg = "mtu greater than device maximum";
      return EINVAL;
    }
    dev.mtu = m;
    this.rtmsg_ifinfo(RTM.NEWLINK, dev, 0, 0, undefined);
    return 0;
  }

  // ---------------------------------------------------------------------------------------- addresses

  /**
   * Adds an address as `ip addr add` does through RTM_NEWADDR, without a socket (`__inet_insert_ifa` for IPv4,
   * `ipv6_add_addr` for IPv6, permanent, no request port): announced with RTM_NEWADDR to RTNLGRP_IPV4_IFADDR or
   * RTNLGRP_IPV6_IFADDR. Returns 0, −ENODEV, −EEXIST, or −EINVAL for a bad address or prefix length.
   */
  addAddress(init: AddrInit): number {
    const dev = this.#devs.get(init?.ifindex);
    if (dev === undefined) return ENODEV;
    const bytes = parseAddr(init.address);
    if (bytes === undefined) return EINVAL;
    const v4 = bytes.length === 4;
    if (!Number.isInteger(init.prefixlen) || init.prefixlen < 0 || init.prefixlen > (v4 ? 32 : 128))
      return EINVAL;
    const bcast = init.broadcast === undefined ? undefined : parseAddr(init.broadcast);
    if (init.broadcast !== undefined && bcast?.length !== 4) return EINVAL;
    const now = this.#clock();
    const ifa: IfAddr = {
      family: v4 ? PF_INET : PF_INET6,
      ifindex: dev.ifindex,
      prefixlen: init.prefixlen,
      local: bytes,
      address: bytes,
      broadcast: bcast,
      label: v4 ? dev.name : "",
      flags: IFA_F.PERMANENT,
      scope: init.scope ?? RT_SCOPE.UNIVERSE,
      proto: 0,
      rtPriority: 0,
      preferred: INFINITY_LIFE_TIME,
      valid: INFINITY_LIFE_TIME,
      cstamp: now,
      tstamp: now,
    };
    if (v4) return this.#insertIfa(ifa);
    const l6 = this.#list(PF_INET6, dev.ifindex);
    if (l6.some((a) => eq(a.local, bytes))) return EEXIST;
    l6.push(ifa);
    this.addrGenid++;
    this.inet6_ifa_notify(RTM.NEWADDR, ifa);
    return 0;
  }

  // __inet_insert_ifa(): duplicate → EEXIST, same subnet → secondary (scope must match); a primary goes after
  // the last primary of narrower-or-equal scope, a secondary at the end; then rtmsg_ifa().
  #insertIfa(ifa: IfAddr, nlh?: NlMsgRef, portid = 0, extack?: NetlinkExtAck): number {
    if (be32(ifa.local) === 0) return 0;
    ifa.flags &= ~IFA_F.SECONDARY;
    const list = this.#list(PF_INET, ifa.ifindex);
    const m = mask4(ifa.prefixlen);
    let lastPrimary = 0;
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!;
      if (!(a.flags & IFA_F.SECONDARY) && ifa.scope <= a.scope) lastPrimary = i + 1;
      if (mask4(a.prefixlen) === m && ((be32(a.address) ^ be32(ifa.address)) & m) === 0) {
        if (be32(a.local) === be32(ifa.local)) return EEXIST;
        if (a.scope !== ifa.scope) {
          if (extack) extack.msg = "ipv4: Invalid scope value";
          return EINVAL;
        }
        ifa.flags |= IFA_F.SECONDARY;
      }
    }
    list.splice(ifa.flags & IFA_F.SECONDARY ? list.length : lastPrimary, 0, ifa);
    this.addrGenid++;
    this.rtmsg_ifa(RTM.NEWADDR, ifa, nlh, portid);
    return 0;
  }

  // The in_device's ifa_list or the inet6_dev's addr_list of a device (created empty on first use).
  #list(family: number, ifindex: number): IfAddr[] {
    const m = family === PF_INET ? this.#in4 : this.#in6;
    let l = m.get(ifindex);
    if (l === undefined) {
      l = [];
      m.set(ifindex, l);
    }
    return l;
  }

  // ---------------------------------------------------------------------------------------- fill

  /**
   * `rtnl_fill_ifinfo()`: one RTM_NEWLINK/DELLINK of `dev` into `skb`, attributes in the kernel's order (IFNAME,
   * TXQLEN, OPERSTATE … CARRIER_DOWN_COUNT, PROTO_DOWN, ADDRESS, BROADCAST, STATS64, STATS, LINKINFO, QDISC, MAP).
   * Returns 0, or −EMSGSIZE with the skb unchanged. Not modelled: XDP, IFLA_AF_SPEC, VF and port attributes.
   */
  rtnl_fill_ifinfo(
    skb: SkBuff,
    dev: NetDevice,
    type: number,
    portid: number,
    seq: number,
    change: number,
    flags: number,
  ): number {
    const nlh = nlmsgPut(skb, portid, seq, type, 16, flags);
    if (nlh === null) return EMSGSIZE;
    const b = skb.buffer;
    const ifm = nlh + NLMSG_HDRLEN;
    b[ifm] = PF_UNSPEC;
    b[ifm + 1] = 0;
    put16(b, ifm + 2, dev.type, true);
    put32(b, ifm + 4, dev.ifindex, true);
    put32(b, ifm + 8, dev_get_flags(dev), true);
    put32(b, ifm + 12, change >>> 0, true);
    const running = (dev.flags & IFF.UP) !== 0;
    const l = dev.limits;
    const puts: (() => number)[] = [
      () => nlaPutString(skb, IFLA.IFNAME, dev.name),
      () => nlaPutU32(skb, IFLA.TXQLEN, dev.txqlen),
      () => nlaPutU8(skb, IFLA.OPERSTATE, running ? dev.operstate : IF_OPER.DOWN),
      () => nlaPutU8(skb, IFLA.LINKMODE, dev.linkmode),
      () => nlaPutU32(skb, IFLA.MTU, dev.mtu),
      () => nlaPutU32(skb, IFLA.MIN_MTU, dev.minMtu),
      () => nlaPutU32(skb, IFLA.MAX_MTU, dev.maxMtu),
      () => nlaPutU32(skb, IFLA.GROUP, dev.group),
      () => nlaPutU32(skb, IFLA.PROMISCUITY, 0),
      () => nlaPutU32(skb, IFLA.ALLMULTI, 0),
      () => nlaPutU32(skb, IFLA.NUM_TX_QUEUES, l.numTxQueues),
      () => nlaPutU32(skb, IFLA.GSO_MAX_SEGS, l.gsoMaxSegs),
      () => nlaPutU32(skb, IFLA.GSO_MAX_SIZE, l.gsoMaxSize),
      () => nlaPutU32(skb, IFLA.GRO_MAX_SIZE, l.groMaxSize),
      () => nlaPutU32(skb, IFLA.GSO_IPV4_MAX_SIZE, l.gsoIpv4MaxSize),
      () => nlaPutU32(skb, IFLA.GRO_IPV4_MAX_SIZE, l.groIpv4MaxSize),
      () => nlaPutU32(skb, IFLA.TSO_MAX_SIZE, l.tsoMaxSize),
      () => nlaPutU32(skb, IFLA.TSO_MAX_SEGS, l.tsoMaxSegs),
      () => nlaPutU32(skb, IFLA.NUM_RX_QUEUES, l.numRxQueues),
      () => nlaPutU8(skb, IFLA.CARRIER, dev.carrier ? 1 : 0),
      () => nlaPutU32(skb, IFLA.CARRIER_CHANGES, 0),
      () => nlaPutU32(skb, IFLA.CARRIER_UP_COUNT, 0),
      () => nlaPutU32(skb, IFLA.CARRIER_DOWN_COUNT, 0),
      () => nlaPutU8(skb, IFLA.PROTO_DOWN, 0),
      () => nlaPut(skb, IFLA.ADDRESS, dev.address),
      () => nlaPut(skb, IFLA.BROADCAST, dev.broadcast),
      () => nlaPut(skb, IFLA.STATS64, new Uint8Array(200)),
      () => nlaPut(skb, IFLA.STATS, new Uint8Array(96)),
      () => this.#fillLinkInfo(skb, dev),
      () => nlaPutString(skb, IFLA.QDISC, dev.qdisc),
      () => nlaPut(skb, IFLA.MAP, new Uint8Array(32)),
    ];
    for (const put of puts) {
      if (put() !== 0) {
        nlmsgTrim(skb, nlh);
        return EMSGSIZE;
      }
    }
    nlmsgEnd(skb, nlh);
    return 0;
  }

  // rtnl_link_fill(): IFLA_LINKINFO { IFLA_INFO_KIND } for a device with rtnl_link_ops.
  #fillLinkInfo(skb: SkBuff, dev: NetDevice): number {
    if (dev.kind === undefined) return 0;
    const nest = nlaNestStart(skb, IFLA.LINKINFO, false);
    if (nest === null) return EMSGSIZE;
    if (nlaPutString(skb, IFLA_INFO.KIND, dev.kind) !== 0) {
      nlmsgTrim(skb, nest);
      return EMSGSIZE;
    }
    nlaNestEnd(skb, nest);
    return 0;
  }

  /**
   * `inet_fill_ifaddr()` / `inet6_fill_ifaddr()`: one RTM_NEWADDR/DELADDR of `ifa`. IPv4: ADDRESS, LOCAL,
   * BROADCAST, LABEL, PROTO, FLAGS, RT_PRIORITY, CACHEINFO (each only when set, FLAGS and CACHEINFO always);
   * IPv6: ADDRESS, RT_PRIORITY, CACHEINFO, FLAGS, PROTO. Returns 0 or −EMSGSIZE with the skb unchanged.
   */
  fill_ifaddr(skb: SkBuff, ifa: IfAddr, type: number, portid: number, seq: number, flags: number): number {
    const nlh = nlmsgPut(skb, portid, seq, type, 8, flags);
    if (nlh === null) return EMSGSIZE;
    const b = skb.buffer;
    const ifm = nlh + NLMSG_HDRLEN;
    b[ifm] = ifa.family;
    b[ifm + 1] = ifa.prefixlen;
    b[ifm + 2] = ifa.flags & 0xff;
    b[ifm + 3] = ifa.scope;
    put32(b, ifm + 4, ifa.ifindex, true);
    // put_cacheinfo(): ifa_prefered, ifa_valid, cstamp, tstamp (u32 each, host order).
    const ci = new Uint8Array(16);
    put32(ci, 0, ifa.flags & IFA_F.PERMANENT ? INFINITY_LIFE_TIME : ifa.preferred, true);
    put32(ci, 4, ifa.flags & IFA_F.PERMANENT ? INFINITY_LIFE_TIME : ifa.valid, true);
    put32(ci, 8, ifa.cstamp, true);
    put32(ci, 12, ifa.tstamp, true);
    const puts: (() => number)[] =
      ifa.family === PF_INET
        ? [
            () => (be32(ifa.address) ? nlaPut(skb, IFA.ADDRESS, ifa.address) : 0),
            () => (be32(ifa.local) ? nlaPut(skb, IFA.LOCAL, ifa.local) : 0),
            () => (ifa.broadcast && be32(ifa.broadcast) ? nlaPut(skb, IFA.BROADCAST, ifa.broadcast) : 0),
            () => (ifa.label !== "" ? nlaPutString(skb, IFA.LABEL, ifa.label) : 0),
            () => (ifa.proto ? nlaPutU8(skb, IFA.PROTO, ifa.proto) : 0),
            () => nlaPutU32(skb, IFA.FLAGS, ifa.flags),
            () => (ifa.rtPriority ? nlaPutU32(skb, IFA.RT_PRIORITY, ifa.rtPriority) : 0),
            () => nlaPut(skb, IFA.CACHEINFO, ci),
          ]
        : [
            () => nlaPut(skb, IFA.ADDRESS, ifa.local),
            () => (ifa.rtPriority ? nlaPutU32(skb, IFA.RT_PRIORITY, ifa.rtPriority) : 0),
            () => nlaPut(skb, IFA.CACHEINFO, ci),
            () => nlaPutU32(skb, IFA.FLAGS, ifa.flags),
            () => (ifa.proto ? nlaPutU8(skb, IFA.PROTO, ifa.proto) : 0),
          ];
    for (const put of puts) {
      if (put() !== 0) {
        nlmsgTrim(skb, nlh);
        return EMSGSIZE;
      }
    }
    nlmsgEnd(skb, nlh);
    return 0;
  }

  // ---------------------------------------------------------------------------------------- notifications

  /**
   * `rtmsg_ifinfo()` (`rtmsg_ifinfo_build_skb` + `rtmsg_ifinfo_send`): RTM_NEWLINK/DELLINK of `dev` in an skb of
   * `if_nlmsg_size`, to RTNLGRP_LINK through `rtnl_notify`. The header carries the request's port and seq only
   * when it asked for NLM_F_ECHO; otherwise port 0, seq 0. A failed build sets ENOBUFS on the group's members.
   */
  rtmsg_ifinfo(
    type: number,
    dev: NetDevice,
    change: number,
    portid: number,
    nlh: NlMsgRef | undefined,
  ): void {
    const report = nlh !== undefined && (nlh.flags & NLM_F.ECHO) !== 0;
    const pid = report ? portid : 0;
    const seq = report ? nlh.seq : 0;
    let skb: SkBuff;
    try {
      skb = this.#af.nlmsg_new(if_nlmsg_size(dev));
    } catch {
      this.#af.netlink_set_err(this.sk, 0, RTNLGRP.LINK, ENOBUFS);
      return;
    }
    const err = this.rtnl_fill_ifinfo(skb, dev, type, pid, seq, change, 0);
    if (err < 0) {
      skb.free();
      this.#af.netlink_set_err(this.sk, 0, RTNLGRP.LINK, err);
      return;
    }
    this.rtnl_notify(skb, pid, RTNLGRP.LINK, nlh);
  }

  /**
   * `rtmsg_ifa()` (net/ipv4/devinet.c): RTM_NEWADDR/DELADDR of an IPv4 address in an skb of `inet_nlmsg_size()`
   * (truesize 832 on x86-64) to RTNLGRP_IPV4_IFADDR. The header carries the requester's port and the request's
   * seq (0, 0 without a request); the requester itself is left out of the multicast unless it asked for ECHO.
   */
  rtmsg_ifa(type: number, ifa: IfAddr, nlh: NlMsgRef | undefined, portid: number): void {
    this.#notifyAddr(type, ifa, inet_nlmsg_size(), portid, nlh?.seq ?? 0, RTNLGRP.IPV4_IFADDR, nlh);
  }

  /** `inet6_ifa_notify()`: RTM_NEWADDR/DELADDR of an IPv6 address (port 0, seq 0) to RTNLGRP_IPV6_IFADDR. */
  inet6_ifa_notify(type: number, ifa: IfAddr): void {
    this.#notifyAddr(type, ifa, inet6_ifaddr_msgsize(), 0, 0, RTNLGRP.IPV6_IFADDR, undefined);
  }

  #notifyAddr(
    type: number,
    ifa: IfAddr,
    size: number,
    portid: number,
    seq: number,
    group: number,
    nlh?: NlMsgRef,
  ) {
    let skb: SkBuff;
    try {
      skb = this.#af.nlmsg_new(size);
    } catch {
      this.#af.netlink_set_err(this.sk, 0, group, ENOBUFS);
      return;
    }
    const err = this.fill_ifaddr(skb, ifa, type, portid, seq, 0);
    if (err < 0) {
      skb.free();
      this.#af.netlink_set_err(this.sk, 0, group, err);
      return;
    }
    this.rtnl_notify(skb, portid, group, nlh);
  }

  /** `rtnl_notify(skb, net, pid, group, nlh)`: `nlmsg_notify` with report = the request's NLM_F_ECHO. */
  rtnl_notify(skb: SkBuff, pid: number, group: number, nlh: NlMsgRef | undefined): number {
    const report = nlh !== undefined && (nlh.flags & NLM_F.ECHO) !== 0;
    return this.#af.nlmsg_notify(this.sk, skb, pid, group, report);
  }

  // ---------------------------------------------------------------------------------------- input

  /** `rtnetlink_rcv()`: the kernel socket's input, `netlink_rcv_skb(skb, rtnetlink_rcv_msg)`. */
  rtnetlink_rcv(skb: SkBuff): void {
    this.#af.netlink_rcv_skb(skb, (s, nlh, extack) => this.rtnetlink_rcv_msg(s, nlh, extack));
  }

  /**
   * `rtnetlink_rcv_msg()`: a type above RTM_MAX → −EOPNOTSUPP; a payload shorter than `struct rtgenmsg` (1 byte)
   * → 0 (nothing happens; acked only with NLM_F_ACK); NEW/DEL/SET kinds without CAP_NET_ADMIN of the sender →
   * −EPERM; a GET with either dump bit starts the family's (or PF_UNSPEC's) dump; otherwise the doit of the
   * family or PF_UNSPEC, or −EOPNOTSUPP when neither has one.
   */
  rtnetlink_rcv_msg(skb: SkBuff, nlh: NlMsgRef, extack: NetlinkExtAck): number {
    if (nlh.type > RTM.MAX) return EOPNOTSUPP;
    const type = nlh.type - RTM.BASE;
    if (nlh.len - NLMSG_HDRLEN < 1) return 0;
    let family = nlh.bytes[NLMSG_HDRLEN]!;
    const kind = rtnl_msgtype_kind(nlh.type);
    if (kind !== "get" && !netlink_net_capable(skb, CAP_NET_ADMIN)) return EPERM;
    const get = (f: number) => this.#handlers.get(`${f}:${type + RTM.BASE}`);
    if (kind === "get" && nlh.flags & NLM_F.DUMP) {
      let link = get(family);
      if (link?.dumpit === undefined) {
        family = PF_UNSPEC;
        link = get(family);
        if (link?.dumpit === undefined) return EOPNOTSUPP;
      }
      const minDumpAlloc = type + RTM.BASE === RTM.GETLINK ? this.rtnl_calcit(nlh) : 0;
      return this.rtnetlink_dump_start(skb, nlh, link.dumpit, link.flags, minDumpAlloc);
    }
    let link = get(family);
    if (link?.doit === undefined) {
      link = get(PF_UNSPEC);
      if (link?.doit === undefined) return EOPNOTSUPP;
    }
    if (kind === "del" && nlh.flags & NLM_F.BULK && !(link.flags & RTNL_FLAG.BULK_DEL_SUPPORTED)) {
      extack.msg = "Bulk delete is not supported";
      return EOPNOTSUPP;
    }
    return link.doit(skb, nlh, extack);
  }

  /**
   * `rtnetlink_dump_start()` + `rtnl_dumpit()`: a dumper registered without DUMP_UNLOCKED, or with
   * DUMP_SPLIT_NLM_DONE, runs through `rtnl_dumpit`, which with SPLIT_NLM_DONE returns `skb->len` until the
   * dumper is done, so NLMSG_DONE always comes in a datagram of its own.
   */
  rtnetlink_dump_start(
    skb: SkBuff,
    nlh: NlMsgRef,
    dumpit: Dumpit,
    flags: number,
    minDumpAlloc: number,
  ): number {
    const data: RtnlDumpData = { dumpit, family: 0, flags };
    const wrap = (flags & RTNL_FLAG.DUMP_SPLIT_NLM_DONE) !== 0 || (flags & RTNL_FLAG.DUMP_UNLOCKED) === 0;
    const dump: Dumpit = wrap
      ? (s, cb) => {
          const d = cb.data as RtnlDumpData;
          if (d.dumpit === undefined) return 0;
          const err = d.dumpit(s, cb);
          if (d.flags & RTNL_FLAG.DUMP_SPLIT_NLM_DONE) {
            if (err < 0 && err !== EMSGSIZE) return err;
            if (err === 0) d.dumpit = undefined;
            return s.len;
          }
          return err;
        }
      : dumpit;
    return this.#af.netlink_dump_start(this.sk, skb, nlh, { dump, data, minDumpAlloc });
  }

  /**
   * `rtnl_calcit()`: the minimum dump allocation of RTM_GETLINK: NLMSG_GOODSIZE unless the request carries a
   * 4-byte IFLA_EXT_MASK, then the largest `if_nlmsg_size` of the devices.
   */
  rtnl_calcit(nlh: NlMsgRef): number {
    const hdrlen = nlh.len - NLMSG_HDRLEN < 16 ? 1 : 16;
    if (nlh.len < NLMSG_HDRLEN + hdrlen) return NLMSG_GOODSIZE;
    let mask = 0;
    const start = NLMSG_HDRLEN + ((hdrlen + 3) & ~3);
    for (let at = start; at + NLA_HDRLEN <= nlh.len; ) {
      const len = get16(nlh.bytes, at, true);
      if (len < NLA_HDRLEN || at + len > nlh.len) break;
      if ((get16(nlh.bytes, at + 2, true) & 0x3fff) === IFLA.EXT_MASK && len === 8)
        mask = get32(nlh.bytes, at + 4, true);
      at += (len + 3) & ~3;
    }
    if (mask === 0) return NLMSG_GOODSIZE;
    let size = 0;
    for (const d of this.#devs.values()) size = Math.max(size, if_nlmsg_size(d));
    return size;
  }

  // ---------------------------------------------------------------------------------------- link handlers

  // rtnl_dev_get(): the device named by IFLA_IFNAME (or IFLA_ALT_IFNAME, matched as a name).
  #devByName(tb: readonly (NlAttr | undefined)[]): NetDevice | undefined {
    const a = tb[IFLA.IFNAME] ?? tb[IFLA.ALT_IFNAME];
    if (a === undefined) return undefined;
    const z = a.payload.indexOf(0);
    const name = utf8Decode(a.payload.subarray(0, z < 0 ? a.payload.length : z));
    return this.dev_get_by_name(name.slice(0, a === tb[IFLA.IFNAME] ? IFNAMSIZ - 1 : 127));
  }

  /**
   * `rtnl_getlink()`: RTM_GETLINK doit. −EINVAL "Invalid header for get link" for a short header; the policy
   * (strictly with GET_STRICT_CHK, with "Unsupported attribute in get link request" for attributes other than
   * IFNAME, ALT_IFNAME, EXT_MASK, TARGET_NETNSID); the device by ifi_index or IFLA_IFNAME (−EINVAL without
   * either, −ENODEV when missing); then one RTM_NEWLINK unicast to the requester.
   */
  rtnl_getlink(skb: SkBuff, nlh: NlMsgRef, extack: NetlinkExtAck): number {
    if (nlh.len < NLMSG_HDRLEN + 16) {
      extack.msg = "Invalid header for get link";
      return EINVAL;
    }
    const strict = NETLINK_CB(skb).sk?.opts.strictChk === true;
    const ifm = nlh.bytes.subarray(NLMSG_HDRLEN);
    if (
      strict &&
      (ifm[1] !== 0 || get16(ifm, 2, true) !== 0 || get32(ifm, 8, true) || get32(ifm, 12, true))
    ) {
      extack.msg = "Invalid values in header for get link request";
      return EINVAL;
    }
    const r = this.#parse(
      nlh,
      16,
      IFLA_POLICY,
      strict ? NL_VALIDATE.DEPRECATED_STRICT : NL_VALIDATE.LIBERAL,
      extack,
    );
    if (r.error < 0) return r.error;
    if (strict) {
      const ok = new Set<number>([IFLA.IFNAME, IFLA.ALT_IFNAME, IFLA.EXT_MASK, IFLA.TARGET_NETNSID]);
      if (r.tb.some((a, i) => a !== undefined && !ok.has(i))) {
        extack.msg = "Unsupported attribute in get link request";
        return EINVAL;
      }
    }
    if (r.tb[IFLA.TARGET_NETNSID] !== undefined) return EINVAL; // no other namespace exists in the model
    const index = get32(ifm, 4, true) | 0;
    let dev: NetDevice | undefined;
    if (index > 0) dev = this.#devs.get(index);
    else if (r.tb[IFLA.IFNAME] !== undefined || r.tb[IFLA.ALT_IFNAME] !== undefined)
      dev = this.#devByName(r.tb);
    else return EINVAL;
    if (dev === undefined) return ENODEV;
    let nskb: SkBuff;
    try {
      nskb = this.#af.nlmsg_new(if_nlmsg_size(dev));
    } catch {
      return ENOBUFS;
    }
    const portid = NETLINK_CB(skb).portid;
    const err = this.rtnl_fill_ifinfo(nskb, dev, RTM.NEWLINK, portid, nlh.seq, 0, 0);
    if (err < 0) {
      nskb.free();
      return err;
    }
    return this.#af.nlmsg_unicast(this.sk, nskb, portid);
  }

  /**
   * `rtnl_dump_ifinfo()`: RTM_NEWLINK (NLM_F_MULTI) for each device from the cursor in `cb.args[0]` (the ifindex),
   * stopping at the first that does not fit. Request validation as `rtnl_valid_dump_ifinfo_req` (strict only with
   * GET_STRICT_CHK; otherwise a bad request still dumps everything).
   */
  rtnl_dump_ifinfo(skb: SkBuff, cb: NetlinkCallback): number {
    const nlh = cb.nlh;
    const extack = cb.extack ?? {};
    let flags: number = NLM_F.MULTI;
    let valid = true;
    if (cb.strictCheck) {
      if (nlh.len < NLMSG_HDRLEN + 16) {
        extack.msg = "Invalid header for link dump";
        return EINVAL;
      }
      const ifm = nlh.bytes.subarray(NLMSG_HDRLEN);
      if (ifm[1] !== 0 || get16(ifm, 2, true) !== 0 || get32(ifm, 8, true) || get32(ifm, 12, true)) {
        extack.msg = "Invalid values in header for link dump request";
        return EINVAL;
      }
      if (get32(ifm, 4, true) !== 0) {
        extack.msg = "Filter by device index not supported for link dumps";
        return EINVAL;
      }
    }
    const hdrlen = cb.strictCheck || nlh.len - NLMSG_HDRLEN >= 16 ? 16 : 1;
    const r = this.#parse(
      nlh,
      hdrlen,
      IFLA_POLICY,
      cb.strictCheck ? NL_VALIDATE.DEPRECATED_STRICT : NL_VALIDATE.LIBERAL,
      extack,
    );
    if (r.error < 0) {
      if (cb.strictCheck) return r.error;
      valid = false;
    }
    let master = 0;
    let kind: string | undefined;
    if (valid) {
      for (let i = 0; i <= IFLA.MAX; i++) {
        const a = r.tb[i];
        if (a === undefined) continue;
        if (i === IFLA.EXT_MASK) continue;
        if (i === IFLA.MASTER) master = get32(a.payload, 0, true);
        else if (i === IFLA.LINKINFO) kind = linkinfoKind(a);
        else if (i === IFLA.TARGET_NETNSID) {
          extack.msg = "Invalid target network namespace id";
          return EINVAL;
        } else if (cb.strictCheck) {
          extack.msg = "Unsupported attribute in link dump request";
          return EINVAL;
        }
      }
      if (master !== 0 || kind !== undefined) flags |= NLM_F.DUMP_FILTERED;
    }
    let err = 0;
    const portid = cb.portid;
    for (const dev of this.links()) {
      if (dev.ifindex < cb.args[0]!) continue;
      cb.args[0] = dev.ifindex;
      // link_dump_filtered(): no device has a master in the model; a kind filter compares kinds.
      if (master !== 0 || (kind !== undefined && dev.kind !== kind)) continue;
      err = this.rtnl_fill_ifinfo(skb, dev, RTM.NEWLINK, portid, nlh.seq, 0, flags);
      if (err < 0) break;
    }
    if (err === 0) cb.args[0] = this.#ifindex + 1;
    cb.seq = this.devBaseSeq;
    if (skb.len > 0) nl_dump_check_consistent(cb, skb, skb.data);
    return err;
  }

  /**
   * `rtnl_setlink()`: RTM_SETLINK. `nlmsg_parse_deprecated` with ifla_policy (so a 2-byte IFLA_MTU is −ERANGE
   * "Attribute failed policy validation" at its offset), the device by ifi_index or name (−EINVAL without
   * either, −ENODEV when missing), `validate_linkmsg`, then `do_setlink`.
   */
  rtnl_setlink(skb: SkBuff, nlh: NlMsgRef, extack: NetlinkExtAck): number {
    const r = this.#parse(nlh, 16, IFLA_POLICY, NL_VALIDATE.LIBERAL, extack);
    if (r.error < 0) return r.error;
    const uniq = ensureUniqueNetns(r.tb, extack);
    if (uniq < 0) return uniq;
    const index = get32(nlh.bytes, NLMSG_HDRLEN + 4, true) | 0;
    let dev: NetDevice | undefined;
    if (index > 0) dev = this.#devs.get(index);
    else if (r.tb[IFLA.IFNAME] !== undefined || r.tb[IFLA.ALT_IFNAME] !== undefined)
      dev = this.#devByName(r.tb);
    else return EINVAL;
    if (dev === undefined) return ENODEV;
    const v = validateLinkmsg(dev, r.tb);
    if (v < 0) return v;
    return this.do_setlink(skb, dev, nlh, r.tb, extack);
  }

  /**
   * `do_setlink()` for the attributes the model keeps: IFLA_ADDRESS, IFLA_MTU (`dev_set_mtu_ext`), IFLA_GROUP,
   * IFLA_IFNAME (a rename when the device was chosen by index), IFLA_BROADCAST, ifi_flags/ifi_change
   * (`dev_change_flags` with `rtnl_dev_combine_flags`), IFLA_TXQLEN; the rest is accepted and ignored.
   */
  do_setlink(
    skb: SkBuff,
    dev: NetDevice,
    nlh: NlMsgRef,
    tb: readonly (NlAttr | undefined)[],
    extack: NetlinkExtAck,
  ) {
    void skb;
    const ifm = nlh.bytes.subarray(NLMSG_HDRLEN, NLMSG_HDRLEN + 16);
    let modified = false;
    let notify = false;
    const finish = (err: number) => {
      if (modified && notify) this.rtmsg_ifinfo(RTM.NEWLINK, dev, 0, 0, undefined); // netdev_state_change()
      return err;
    };
    const addr = tb[IFLA.ADDRESS];
    if (addr !== undefined) {
      const n = addr.payload.subarray(0, dev.address.length);
      if (!eq(n, dev.address)) {
        dev.address = n.slice();
        this.rtmsg_ifinfo(RTM.NEWLINK, dev, 0, 0, undefined); // NETDEV_CHANGEADDR
      }
      modified = true;
    }
    const mtu = tb[IFLA.MTU];
    if (mtu !== undefined) {
      const err = this.dev_set_mtu(dev, get32(mtu.payload, 0, true), extack);
      if (err < 0) return finish(err);
      modified = true;
    }
    const group = tb[IFLA.GROUP];
    if (group !== undefined) {
      dev.group = get32(group.payload, 0, true);
      modified = notify = true;
    }
    const index = get32(ifm, 4, true) | 0;
    const name = tb[IFLA.IFNAME];
    if (index > 0 && name !== undefined) {
      const z = name.payload.indexOf(0);
      const s = utf8Decode(name.payload.subarray(0, z < 0 ? name.payload.length : z));
      if (s !== "" && s !== dev.name) {
        if (this.dev_get_by_name(s) !== undefined) return finish(EEXIST);
        dev.name = s.slice(0, IFNAMSIZ - 1);
        this.rtmsg_ifinfo(RTM.NEWLINK, dev, 0, 0, undefined); // NETDEV_CHANGENAME
      }
      if (s !== "") modified = true;
    }
    const bcast = tb[IFLA.BROADCAST];
    if (bcast !== undefined) {
      dev.broadcast = bcast.payload.subarray(0, dev.broadcast.length).slice();
      this.rtmsg_ifinfo(RTM.NEWLINK, dev, 0, 0, undefined); // NETDEV_CHANGEADDR
    }
    const ifiFlags = get32(ifm, 8, true);
    const ifiChange = get32(ifm, 12, true);
    if (ifiFlags || ifiChange) {
      // rtnl_dev_combine_flags(): ifi_change 0 means "all bits".
      const flags = ifiChange ? (ifiFlags & ifiChange) | (dev_get_flags(dev) & ~ifiChange) : ifiFlags;
      const err = this.dev_change_flags(dev, flags >>> 0);
      if (err < 0) return finish(err);
    }
    const txq = tb[IFLA.TXQLEN];
    if (txq !== undefined) {
      const v = get32(txq.payload, 0, true);
      if (v !== dev.txqlen) {
        dev.txqlen = v;
        this.rtmsg_ifinfo(RTM.NEWLINK, dev, 0, 0, undefined); // NETDEV_CHANGE_TX_QUEUE_LEN
      }
      modified = true;
    }
    return finish(0);
  }

  /**
   * `rtnl_newlink()` (`__rtnl_newlink`): with an existing device (by index or name), −EEXIST under NLM_F_EXCL,
   * −EOPNOTSUPP under NLM_F_REPLACE, else `do_setlink`; without one, −ENODEV unless NLM_F_CREATE, −EOPNOTSUPP for
   * IFLA_MAP/IFLA_PROTINFO, −EOPNOTSUPP "Unknown device type" for a kind other than "dummy" (no modules), else a
   * new dummy device (`rtnl_newlink_create`), announced with ifi_change ~0.
   */
  rtnl_newlink(skb: SkBuff, nlh: NlMsgRef, extack: NetlinkExtAck): number {
    const r = this.#parse(nlh, 16, IFLA_POLICY, NL_VALIDATE.LIBERAL, extack);
    if (r.error < 0) return r.error;
    const uniq = ensureUniqueNetns(r.tb, extack);
    if (uniq < 0) return uniq;
    const index = get32(nlh.bytes, NLMSG_HDRLEN + 4, true) | 0;
    let dev: NetDevice | undefined;
    let specified = true;
    if (index > 0) dev = this.#devs.get(index);
    else if (index < 0) {
      extack.msg = "ifindex can't be negative";
      return EINVAL;
    } else if (r.tb[IFLA.IFNAME] !== undefined || r.tb[IFLA.ALT_IFNAME] !== undefined)
      dev = this.#devByName(r.tb);
    else specified = false;
    let kind: string | undefined;
    const li = r.tb[IFLA.LINKINFO];
    if (li !== undefined) {
      const p = nlaParse(
        nlh.bytes,
        li.offset + NLA_HDRLEN,
        li.offset + NLA_HDRLEN + li.payload.length,
        IFLA_INFO_POLICY,
        {
          validate: NL_VALIDATE.LIBERAL,
        },
      );
      if (p.error < 0) return p.error;
      const k = p.tb[IFLA_INFO.KIND];
      kind = k === undefined ? undefined : cstr(k.payload);
    }
    if (dev !== undefined) {
      if (nlh.flags & NLM_F.EXCL) return EEXIST;
      if (nlh.flags & NLM_F.REPLACE) return EOPNOTSUPP;
      const v = validateLinkmsg(dev, r.tb);
      if (v < 0) return v;
      return this.do_setlink(skb, dev, nlh, r.tb, extack);
    }
    if (!(nlh.flags & NLM_F.CREATE)) {
      void specified; // rtnl_group_changelink() for IFLA_GROUP without a device is not modelled
      return ENODEV;
    }
    if (r.tb[IFLA.MAP] !== undefined || r.tb[IFLA.PROTINFO] !== undefined) return EOPNOTSUPP;
    if (kind !== "dummy") {
      extack.msg = "Unknown device type";
      return EOPNOTSUPP;
    }
    // rtnl_create_link(): the name (or "dummy%d"), MTU, address, then register_netdevice().
    const nameAttr = r.tb[IFLA.IFNAME];
    let name = nameAttr === undefined ? undefined : cstr(nameAttr.payload);
    const txqAttr = r.tb[IFLA.TXQLEN];
    if (name === undefined) {
      let i = 0;
      while (this.dev_get_by_name(`dummy${i}`) !== undefined) i++;
      name = `dummy${i}`;
    }
    if (this.dev_get_by_name(name) !== undefined) return EEXIST;
    const a = r.tb[IFLA.ADDRESS];
    if (a !== undefined && a.payload.length !== 6) return EINVAL; // dummy_validate()
    const mtuAttr = r.tb[IFLA.MTU];
    const created = this.#register({
      name,
      type: ARPHRD_ETHER,
      flags: IFF.BROADCAST | IFF.NOARP,
      mtu: mtuAttr === undefined ? 1500 : get32(mtuAttr.payload, 0, true) | 0,
      minMtu: 0,
      maxMtu: 0,
      txqlen: txqAttr === undefined ? 1000 : get32(txqAttr.payload, 0, true),
      address:
        a?.payload.slice() ??
        Uint8Array.of(
          0x02,
          0,
          0,
          ((this.#ifindex + 1) >> 16) & 0xff,
          ((this.#ifindex + 1) >> 8) & 0xff,
          (this.#ifindex + 1) & 0xff,
        ),
      broadcast: new Uint8Array(6).fill(0xff),
      kind,
    });
    const ifiFlags = get32(nlh.bytes, NLMSG_HDRLEN + 8, true);
    const ifiChange = get32(nlh.bytes, NLMSG_HDRLEN + 12, true);
    if (ifiFlags || ifiChange) {
      const flags = ifiChange ? (ifiFlags & ifiChange) | (dev_get_flags(created) & ~ifiChange) : ifiFlags;
      this.dev_change_flags(created, flags >>> 0, NETLINK_CB(skb).portid, nlh);
    }
    return 0;
  }

  // ---------------------------------------------------------------------------------------- address handlers

  /**
   * `inet_rtm_newaddr()` (`rtm_to_ifaddr` + `__inet_insert_ifa`): IPv4 RTM_NEWADDR with ifa_ipv4_policy;
   * −EINVAL "ipv4: Invalid prefix length" / "ipv4: Local address is not supplied"; −ENODEV "ipv4: Device not
   * found"; an existing address is −EEXIST "ipv4: Address already assigned" unless NLM_F_REPLACE without
   * NLM_F_EXCL (then re-announced). The notification carries the requester's port and seq.
   */
  inet_rtm_newaddr(skb: SkBuff, nlh: NlMsgRef, extack: NetlinkExtAck): number {
    const r = this.#parse(nlh, 8, IFA_IPV4_POLICY, NL_VALIDATE.LIBERAL, extack);
    if (r.error < 0) return r.error;
    const ifm = nlh.bytes.subarray(NLMSG_HDRLEN, NLMSG_HDRLEN + 8);
    const prefixlen = ifm[1]!;
    if (prefixlen > 32) {
      extack.msg = "ipv4: Invalid prefix length";
      return EINVAL;
    }
    const local = r.tb[IFA.LOCAL];
    if (local === undefined) {
      extack.msg = "ipv4: Local address is not supplied";
      return EINVAL;
    }
    const dev = this.#devs.get(get32(ifm, 4, true));
    if (dev === undefined) {
      extack.msg = "ipv4: Device not found";
      return ENODEV;
    }
    const address = r.tb[IFA.ADDRESS] ?? local;
    const flagsAttr = r.tb[IFA.FLAGS];
    let flags = flagsAttr === undefined ? ifm[2]! : get32(flagsAttr.payload, 0, true);
    let valid = INFINITY_LIFE_TIME;
    let preferred = INFINITY_LIFE_TIME;
    const ci = r.tb[IFA.CACHEINFO];
    if (ci !== undefined) {
      preferred = get32(ci.payload, 0, true);
      valid = get32(ci.payload, 4, true);
      if (valid === 0 || preferred > valid) {
        extack.msg = "ipv4: address lifetime invalid";
        return EINVAL;
      }
    }
    // set_ifa_lifetime(): an infinite valid lifetime makes it permanent; a zero preferred one deprecated.
    flags &= ~(IFA_F.PERMANENT | IFA_F.DEPRECATED);
    if (valid === INFINITY_LIFE_TIME) flags |= IFA_F.PERMANENT;
    if (preferred === 0) flags |= IFA_F.DEPRECATED;
    const now = this.#clock();
    const lab = r.tb[IFA.LABEL];
    const prio = r.tb[IFA.RT_PRIORITY];
    const proto = r.tb[IFA.PROTO];
    const bc = r.tb[IFA.BROADCAST];
    const ifa: IfAddr = {
      family: PF_INET,
      ifindex: dev.ifindex,
      prefixlen,
      local: local.payload.slice(0, 4),
      address: address.payload.slice(0, 4),
      broadcast: bc?.payload.slice(0, 4),
      label: lab === undefined ? dev.name : cstr(lab.payload),
      flags,
      scope: ifm[3]!,
      proto: proto === undefined ? 0 : proto.payload[0]!,
      rtPriority: prio === undefined ? 0 : get32(prio.payload, 0, true),
      preferred,
      valid,
      cstamp: now,
      tstamp: now,
    };
    const m = mask4(prefixlen);
    const existing = this.#list(PF_INET, dev.ifindex).find(
      (a) =>
        mask4(a.prefixlen) === m &&
        ((be32(a.address) ^ be32(ifa.address)) & m) === 0 &&
        be32(a.local) === be32(ifa.local),
    );
    const portid = NETLINK_CB(skb).portid;
    if (existing === undefined || be32(ifa.local) === 0) return this.#insertIfa(ifa, nlh, portid, extack);
    if (nlh.flags & NLM_F.EXCL || !(nlh.flags & NLM_F.REPLACE)) {
      extack.msg = "ipv4: Address already assigned";
      return EEXIST;
    }
    existing.rtPriority = ifa.rtPriority;
    existing.proto = ifa.proto;
    existing.flags =
      (existing.flags & ~(IFA_F.PERMANENT | IFA_F.DEPRECATED)) |
      (flags & (IFA_F.PERMANENT | IFA_F.DEPRECATED));
    existing.preferred = preferred;
    existing.valid = valid;
    existing.tstamp = now;
    this.rtmsg_ifa(RTM.NEWADDR, existing, nlh, portid);
    return 0;
  }

  /**
   * `rtnl_dump_all()`: RTM_GETADDR for AF_UNSPEC runs every family's dumper in family order (PF_INET, then
   * PF_INET6), resetting the cursor between families; returns `skb->len` while it put something.
   */
  rtnl_dump_all(skb: SkBuff, cb: NetlinkCallback): number {
    const data = cb.data as RtnlDumpData;
    const sIdx = data.family === 0 ? 1 : data.family;
    const type = cb.nlh.type;
    let ret = 0;
    let idx = 1;
    for (; idx <= RTNL_FAMILY_MAX; idx++) {
      if (idx < sIdx || idx === PF_PACKET) continue;
      const link = this.#handlers.get(`${idx}:${type}`);
      if (link?.dumpit === undefined) continue;
      if (idx > sIdx) {
        cb.args.fill(0);
        cb.prevSeq = 0;
        cb.seq = 0;
      }
      ret = link.dumpit(skb, cb);
      if (ret) break;
    }
    data.family = idx;
    return skb.len || ret;
  }

  /** `inet_dump_ifaddr()` (without strict-check filters): IPv4 RTM_NEWADDR per device from the cursor. */
  inet_dump_ifaddr(skb: SkBuff, cb: NetlinkCallback): number {
    return this.#dumpAddrs(skb, cb, PF_INET);
  }

  /** `inet6_dump_ifaddr()` (without strict-check filters): IPv6 RTM_NEWADDR per device from the cursor. */
  inet6_dump_ifaddr(skb: SkBuff, cb: NetlinkCallback): number {
    return this.#dumpAddrs(skb, cb, PF_INET6);
  }

  // in_dev_dump_addr() / in6_dump_addrs() over for_each_netdev_dump(): args[0] ifindex, args[1] ip_idx.
  #dumpAddrs(skb: SkBuff, cb: NetlinkCallback, family: number): number {
    cb.seq = this.devBaseSeq + this.addrGenid;
    for (const dev of this.links()) {
      if (dev.ifindex < cb.args[0]!) continue;
      cb.args[0] = dev.ifindex;
      let ipIdx = 0;
      for (const ifa of (family === PF_INET ? this.#in4 : this.#in6).get(dev.ifindex) ?? []) {
        if (ipIdx < cb.args[1]!) {
          ipIdx++;
          continue;
        }
        const at = skb.tail;
        const err = this.fill_ifaddr(skb, ifa, RTM.NEWADDR, cb.portid, cb.nlh.seq, NLM_F.MULTI);
        if (err < 0) {
          cb.args[1] = ipIdx;
          return err;
        }
        nl_dump_check_consistent(cb, skb, at);
        ipIdx++;
      }
      cb.args[1] = 0;
    }
    cb.args[0] = this.#ifindex + 1;
    return 0;
  }

  // nlmsg_parse*(): the codec's validator; extack's offset is from the request's nlmsghdr.
  #parse(
    nlh: NlMsgRef,
    hdrlen: number,
    policy: Policy,
    validate: number,
    extack: NetlinkExtAck,
  ): ParseResult {
    const r = nlmsgParse(nlh.bytes.subarray(0, nlh.len), hdrlen, policy, { validate });
    if (r.extack.msg !== undefined) extack.msg = r.extack.msg;
    if (r.error < 0) {
      if (r.extack.badAttr !== undefined) extack.badAttr = r.extack.badAttr;
      if (r.extack.policy !== undefined) extack.policy = r.extack.policy;
    }
    return r;
  }
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// nla_strscpy() of a string attribute: up to the first NUL.
function cstr(p: Uint8Array): string {
  const z = p.indexOf(0);
  return utf8Decode(p.subarray(0, z < 0 ? p.length : z));
}

// linkinfo_to_kind_ops(): the IFLA_INFO_KIND inside an IFLA_LINKINFO, if any.
function linkinfoKind(a: NlAttr): string | undefined {
  const buf = a.payload;
  for (let at = 0; at + NLA_HDRLEN <= buf.length; ) {
    const len = get16(buf, at, true);
    if (len < NLA_HDRLEN || at + len > buf.length) break;
    if ((get16(buf, at + 2, true) & 0x3fff) === IFLA_INFO.KIND)
      return cstr(buf.subarray(at + NLA_HDRLEN, at + len));
    at += (len + 3) & ~3;
  }
  return undefined;
}

// rtnl_ensure_unique_netns(): only one of NET_NS_PID, NET_NS_FD, TARGET_NETNSID (the model has one namespace).
function ensureUniqueNetns(tb: readonly (NlAttr | undefined)[], extack: NetlinkExtAck): number {
  const n = [IFLA.NET_NS_PID, IFLA.NET_NS_FD, IFLA.TARGET_NETNSID].filter((i) => tb[i] !== undefined).length;
  if (n > 1) {
    extack.msg = "multiple netns identifying attributes specified";
    return EINVAL;
  }
  if (n === 1) {
    extack.msg = "Other network namespaces are not modelled";
    return EINVAL;
  }
  return 0;
}

// validate_linkmsg(): the address lengths (the GSO/GRO limits and AF_SPEC checks are not modelled).
function validateLinkmsg(dev: NetDevice, tb: readonly (NlAttr | undefined)[]): number {
  const a = tb[IFLA.ADDRESS];
  if (a !== undefined && a.payload.length < dev.address.length) return EINVAL;
  const b = tb[IFLA.BROADCAST];
  if (b !== undefined && b.payload.length < dev.broadcast.length) return EINVAL;
  return 0;
}

/**
 * `netlink_net_capable(skb, cap)` (`__netlink_ns_capable`): the sender had `cap` when it sent `skb` and, unless it
 * sent to an explicit address (NETLINK_SKB_DST), whoever opened its socket had it too.
 */
export function netlink_net_capable(skb: SkBuff, cap: number): boolean {
  const p = NETLINK_CB(skb);
  const opener = (p.flags & NETLINK_SKB_DST) !== 0 || (p.sk?.fileCred?.capable(cap) ?? true);
  return opener && p.cred?.capable(cap) === true;
}

/**
 * `rtnetlink_net_init(net)`: creates the NETLINK_ROUTE kernel socket (RTNLGRP_MAX groups, NL_CFG_F_NONROOT_RECV,
 * input `rtnetlink_rcv`) and the namespace's devices (lo, ifindex 1). Returns −ENOMEM when the kernel socket
 * cannot be created (protocol 0 already has one), as the kernel's init does.
 */
export function rtnetlink_net_init(af: AfNetlink, options: RtnetlinkOptions = {}): Rtnetlink | number {
  let rtnl: Rtnetlink | undefined;
  const sk = af.netlink_kernel_create(NETLINK.ROUTE, {
    groups: RTNLGRP_MAX,
    flags: NL_CFG_F_NONROOT_RECV,
    input: (skb) => {
      if (rtnl === undefined)
        throw new KernelError("ENODEV", "rtnetlink is not initialised", { op: "rtnetlink_rcv" });
      rtnl.rtnetlink_rcv(skb);
    },
  });
  if (sk === null) return ENOMEM;
  rtnl = new Rtnetlink(af, sk, options);
  return rtnl;
}
