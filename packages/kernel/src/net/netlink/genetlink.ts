// net/netlink/genetlink.c and include/net/genetlink.h: generic netlink over the af_netlink model. The family
// registry (ids from an idr allocated cyclically, multicast group ids from one global bitmap), the receive path
// genl_rcv → netlink_rcv_skb → genl_rcv_msg with its checks in the kernel's order, per-op policy validation, doit
// and dumpit (through netlink_dump_start), the reply helpers, and the controller family "nlctrl" (GETFAMILY do and
// dump, GETPOLICY with the policy dump of net/netlink/policy.c, NEW/DEL FAMILY and MCAST_GRP notifications).
// Read against Linux 6.12; the multicast helpers free the skb on a bad group index as 6.18 does.

import { type Module, module_put, try_module_get } from "@kbridge/chrdev";
import {
  EMSGSIZE,
  NL_POLICY_TYPE_ATTR,
  NL_VALIDATE,
  NLM_F,
  NLMSG_ALIGN,
  NLMSG_HDRLEN,
  type NlAttr,
  type NlaPolicy,
  nlaNestCancel,
  nlaNestEnd,
  nlaNestStart,
  nlaPut,
  nlaPutString,
  nlaPutU16,
  nlaPutU32,
  nlmsgEnd,
  nlmsgParse,
  nlmsgPut,
  nlmsgTrim,
  type Policy,
  policyAttrs,
  type SkBuff,
} from "@kbridge/netlink-codec";
import { errnoNumber, get16, get32, KernelError, put32, utf8Decode, utf8Encode } from "@kbridge/uapi";
import { CAP_NET_ADMIN, CAP_SYS_ADMIN, Cred } from "../../cred.js";
import {
  type AfNetlink,
  NETLINK,
  NETLINK_CB,
  NETLINK_SKB_DST,
  NETLINK_SOCKOPT,
  type NetlinkCallback,
  type NetlinkCaller,
  type NetlinkExtAck,
  type NetlinkSock,
  NL_CFG_F_NONROOT_RECV,
  NLMSG_GOODSIZE,
  type NlMsgRef,
  SOL_NETLINK,
} from "./af-netlink.js";

/** `GENL_NAMSIZ` (16): a family or group name is at most 15 bytes and its NUL. */
export const GENL_NAMSIZ = 16;
/** `GENL_HDRLEN` (4): `struct genlmsghdr { u8 cmd; u8 version; u16 reserved; }`. */
export const GENL_HDRLEN = 4;
/** `GENL_MIN_ID` (0x10 = NLMSG_MIN_TYPE). */
export const GENL_MIN_ID = 0x10;
/** `GENL_MAX_ID` (1023). */
export const GENL_MAX_ID = 1023;
/** `GENL_ID_CTRL` (0x10): the controller "nlctrl". */
export const GENL_ID_CTRL = 0x10;
/** `GENL_ID_VFS_DQUOT` (0x11): reserved for the family named "VFS_DQUOT". */
export const GENL_ID_VFS_DQUOT = 0x11;
/** `GENL_ID_PMCRAID` (0x12): reserved for the family named "pmcraid". */
export const GENL_ID_PMCRAID = 0x12;
/** `GENL_START_ALLOC` (0x13): the first dynamically allocated family id. */
export const GENL_START_ALLOC = 0x13;

/** `GENL_ADMIN_PERM` (0x01): the op needs CAP_NET_ADMIN in the initial user namespace. */
export const GENL_ADMIN_PERM = 0x01;
/** `GENL_CMD_CAP_DO` (0x02): the op has a doit. */
export const GENL_CMD_CAP_DO = 0x02;
/** `GENL_CMD_CAP_DUMP` (0x04): the op has a dumpit. */
export const GENL_CMD_CAP_DUMP = 0x04;
/** `GENL_CMD_CAP_HASPOL` (0x08): the op has a policy (reported by CTRL_CMD_GETFAMILY only). */
export const GENL_CMD_CAP_HASPOL = 0x08;
/** `GENL_UNS_ADMIN_PERM` (0x10): the op needs CAP_NET_ADMIN in the netns's user namespace. */
export const GENL_UNS_ADMIN_PERM = 0x10;

/** `GENL_DONT_VALIDATE_STRICT` (1): parse doit attributes liberally. */
export const GENL_DONT_VALIDATE_STRICT = 0x1;
/** `GENL_DONT_VALIDATE_DUMP` (2): a legacy op's dump gets no policy (and no header-length check in genl_start). */
export const GENL_DONT_VALIDATE_DUMP = 0x2;
/** `GENL_DONT_VALIDATE_DUMP_STRICT` (4): parse dump attributes liberally. */
export const GENL_DONT_VALIDATE_DUMP_STRICT = 0x4;

/** `GENL_MCAST_CAP_NET_ADMIN` (1): joining the group needs CAP_NET_ADMIN. */
export const GENL_MCAST_CAP_NET_ADMIN = 0x1;
/** `GENL_MCAST_CAP_SYS_ADMIN` (2): joining the group needs CAP_SYS_ADMIN. */
export const GENL_MCAST_CAP_SYS_ADMIN = 0x2;

/** The controller's commands (`CTRL_CMD_*`, include/uapi/linux/genetlink.h). */
export const CTRL_CMD = Object.freeze({
  UNSPEC: 0,
  NEWFAMILY: 1,
  DELFAMILY: 2,
  GETFAMILY: 3,
  NEWOPS: 4,
  DELOPS: 5,
  GETOPS: 6,
  NEWMCAST_GRP: 7,
  DELMCAST_GRP: 8,
  GETMCAST_GRP: 9,
  GETPOLICY: 10,
});

/** The controller's attributes (`CTRL_ATTR_*`). */
export const CTRL_ATTR = Object.freeze({
  UNSPEC: 0,
  FAMILY_ID: 1,
  FAMILY_NAME: 2,
  VERSION: 3,
  HDRSIZE: 4,
  MAXATTR: 5,
  OPS: 6,
  MCAST_GROUPS: 7,
  POLICY: 8,
  OP_POLICY: 9,
  OP: 10,
});

/** The attributes of one CTRL_ATTR_OPS entry (`CTRL_ATTR_OP_*`). */
export const CTRL_ATTR_OP = Object.freeze({ UNSPEC: 0, ID: 1, FLAGS: 2 });

/** The attributes of one CTRL_ATTR_MCAST_GROUPS entry (`CTRL_ATTR_MCAST_GRP_*`). */
export const CTRL_ATTR_MCAST_GRP = Object.freeze({ UNSPEC: 0, NAME: 1, ID: 2 });

/** The attributes of one CTRL_ATTR_OP_POLICY entry (`CTRL_ATTR_POLICY_*`): the policy index of do and dump. */
export const CTRL_ATTR_POLICY = Object.freeze({ UNSPEC: 0, DO: 1, DUMP: 2 });

/** `NLMSG_DEFAULT_SIZE`: `NLMSG_GOODSIZE - NLMSG_HDRLEN` = 3760, what the controller allocates per message. */
export const NLMSG_DEFAULT_SIZE = NLMSG_GOODSIZE - NLMSG_HDRLEN;

const e = (code: Parameters<typeof errnoNumber>[0]) => -errnoNumber(code);
const EPERM = e("EPERM");
const ENOENT = e("ENOENT");
const ENOBUFS = e("ENOBUFS");
const EEXIST = e("EEXIST");
const EINVAL = e("EINVAL");
const ENOSPC = e("ENOSPC");
const ENODATA = e("ENODATA");
const EOPNOTSUPP = e("EOPNOTSUPP");

/** `struct genlmsghdr` of a received message. */
export interface GenlMsgHdr {
  /** `cmd`. */
  readonly cmd: number;
  /** `version`. */
  readonly version: number;
  /** `reserved` (must be 0 for commands at or above the family's `resvStartOp`). */
  readonly reserved: number;
}

/** `struct genl_info`: what a doit (and, through {@link genl_dumpit_info}, a dump) learns about its request. */
export interface GenlInfo {
  /** `snd_seq`: the request's `nlmsg_seq`. */
  readonly sndSeq: number;
  /** `snd_portid`: the requester's port id. */
  readonly sndPortid: number;
  /** `family`. */
  readonly family: GenlFamily;
  /** `nlhdr`: the request. */
  readonly nlhdr: NlMsgRef;
  /** `genlhdr`. */
  readonly genlhdr: GenlMsgHdr;
  /**
   * `attrs`: the validated attribute table by type (offsets from the request's nlmsghdr), or null when the op has
   * no `maxattr` and nothing was parsed.
   */
  readonly attrs: readonly (NlAttr | undefined)[] | null;
  /** `extack`: the request's extended ack (what an error reply carries). */
  extack: NetlinkExtAck;
  /** `user_ptr[2]`: for `preDoit` to hand objects to the doit. */
  readonly userPtr: [unknown, unknown];
}

/** A doit: `int (*doit)(struct sk_buff *skb, struct genl_info *info)`; 0 or a negative errno. */
export type GenlDoit = (skb: SkBuff, info: GenlInfo) => number;
/** A dumpit: fills `skb`; > 0 for more, 0 when done, or a negative errno (as netlink_dump reads it). */
export type GenlDumpit = (skb: SkBuff, cb: NetlinkCallback) => number;
/** A dump's `start` or `done`: 0 or a negative errno. */
export type GenlDumpCallback = (cb: NetlinkCallback) => number;

/** A legacy op (`struct genl_ops`): one command with a doit and/or a dumpit. */
export interface GenlOps {
  /** `cmd` (u8). */
  readonly cmd: number;
  /** `GENL_ADMIN_PERM` / `GENL_UNS_ADMIN_PERM`. */
  readonly flags?: number;
  /** `GENL_DONT_VALIDATE_*` (only for commands below the family's `resvStartOp`). */
  readonly validate?: number;
  /** The op's own policy (else the family's). */
  readonly policy?: Policy;
  /** `maxattr` (default: the op's policy's `maxType`, else the family's maxattr). */
  readonly maxattr?: number;
  /** `doit`. */
  readonly doit?: GenlDoit;
  /** `dumpit`. */
  readonly dumpit?: GenlDumpit;
  /** `start` of the dump. */
  readonly start?: GenlDumpCallback;
  /** `done` of the dump. */
  readonly done?: GenlDumpCallback;
}

/**
 * A split op (`struct genl_split_ops`): the do or the dump half of a command, `flags` saying which
 * (`GENL_CMD_CAP_DO` or `GENL_CMD_CAP_DUMP`). Halves of one command are adjacent, do first, sorted by cmd.
 */
export interface GenlSplitOps extends GenlOps {
  /** `GENL_CMD_CAP_DO` or `GENL_CMD_CAP_DUMP`, with `GENL_ADMIN_PERM` / `GENL_UNS_ADMIN_PERM`. */
  readonly flags: number;
}

/** An op as the receive path resolved it (the kernel's `struct genl_split_ops` after `genl_get_cmd`). */
export interface GenlResolvedOp {
  /** `cmd`. */
  readonly cmd: number;
  /** Permission flags with `GENL_CMD_CAP_DO` or `GENL_CMD_CAP_DUMP`. */
  readonly flags: number;
  /** `validate`. */
  readonly validate: number;
  /** The policy validating the request (the reject-all policy for ops that must take no attributes). */
  readonly policy: Policy | undefined;
  /** `maxattr`: attributes are parsed only when it is not 0. */
  readonly maxattr: number;
  /** `doit`. */
  readonly doit: GenlDoit | undefined;
  /** `dumpit`. */
  readonly dumpit: GenlDumpit | undefined;
  /** `start`. */
  readonly start: GenlDumpCallback | undefined;
  /** `done`. */
  readonly done: GenlDumpCallback | undefined;
}

/** `struct genl_multicast_group`. */
export interface GenlMulticastGroup {
  /** The name (1..15 bytes). */
  readonly name: string;
  /** `GENL_MCAST_CAP_NET_ADMIN` / `GENL_MCAST_CAP_SYS_ADMIN`. */
  readonly flags?: number;
}

/**
 * `struct genl_family`: what a module registers. {@link Genetlink.genl_register_family} writes `id` and
 * `mcgrpOffset` into it, as the kernel writes them into the module's struct.
 */
export interface GenlFamily {
  /** The name (at most 15 bytes). */
  readonly name: string;
  /** `version` (u32), sent in every genlmsghdr the family puts. */
  readonly version?: number;
  /** `hdrsize`: the family header after the genlmsghdr. */
  readonly hdrsize?: number;
  /** `maxattr` (default: the family policy's `maxType`, else 0), reported as CTRL_ATTR_MAXATTR. */
  readonly maxattr?: number;
  /** The family-wide policy, for ops without their own. */
  readonly policy?: Policy;
  /** Legacy ops. */
  readonly ops?: readonly GenlOps[];
  /** Split ops (after the legacy ones when both are given). */
  readonly splitOps?: readonly GenlSplitOps[];
  /** Multicast groups. */
  readonly mcgrps?: readonly GenlMulticastGroup[];
  /** `resv_start_op` (u8): commands from here on get strict header checks and reject-all default policies. */
  readonly resvStartOp?: number;
  /**
   * `parallel_ops`: whether the ops run without `genl_mutex`. The model runs every op to completion in the
   * sender's call, so the mutex serialises nothing here; the flag is kept as the family declares it.
   */
  readonly parallelOps?: boolean;
  /** `module`: pinned while a dump of the family runs (and by GETPOLICY dumps of it). */
  readonly module?: Module;
  /** `pre_doit`: runs before every doit; an error skips the doit. */
  readonly preDoit?: (op: GenlResolvedOp, skb: SkBuff, info: GenlInfo) => number;
  /** `post_doit`: runs after every doit. */
  readonly postDoit?: (op: GenlResolvedOp, skb: SkBuff, info: GenlInfo) => void;
  /** `bind(i)`: a socket joined group index `i`. */
  readonly bind?: (group: number) => void;
  /** `unbind(i)`: a socket left group index `i`. */
  readonly unbind?: (group: number) => void;
  /** Set by registration: the family id (0 before). */
  id?: number;
  /** Set by registration: the global id of the family's group 0. */
  mcgrpOffset?: number;
}

/** What a dump of a generic netlink op sees (`struct genl_dumpit_info`). */
export interface GenlDumpitInfo {
  /** The op being dumped. */
  readonly op: GenlResolvedOp;
  /** The request as for a doit; `extack` is the dump's. */
  readonly info: GenlInfo;
}

/** What {@link Genetlink} is built with. */
export interface GenetlinkOptions {
  /**
   * `current_cred()` while a socket joins a group: genl_bind's `ns_capable()` asks the joining task. Without it
   * the joiner is taken to hold no capability, so groups with GENL_MCAST_CAP_* flags refuse every join.
   */
  readonly currentCred?: () => Cred | undefined;
  /**
   * `request_module()` of CTRL_CMD_GETFAMILY for an unknown name (CONFIG_MODULES), called with
   * `"net-pf-16-proto-16-family-<name>"`; it may register the family before the lookup is retried.
   */
  readonly requestModule?: (alias: string) => void;
}

// The state of one genetlink dump (cb->data): genl_start_context, then genl_dumpit_info.
const dumpInfos = new WeakMap<NetlinkCallback, GenlDumpitInfo>();

/**
 * `genl_dumpit_info(cb)`: the op and parsed request of the generic netlink dump `cb` belongs to (set by genl_start
 * before the op's `start` runs).
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a callback that is not a genetlink dump's
 */
export function genl_dumpit_info(cb: NetlinkCallback): GenlDumpitInfo {
  const info = dumpInfos.get(cb);
  if (info === undefined)
    throw new KernelError("EINVAL", "not a generic netlink dump", { op: "genl_dumpit_info" });
  return info;
}

/** `genlmsg_total_size(payload)`: `NLMSG_ALIGN(GENL_HDRLEN + payload)`. */
export function genlmsg_total_size(payload: number): number {
  return NLMSG_ALIGN(GENL_HDRLEN + payload);
}

/** `nlmsg_report(nlh)`: whether the requester asked for an echo (NLM_F_ECHO). */
export function nlmsg_report(nlh: NlMsgRef): boolean {
  return (nlh.flags & NLM_F.ECHO) !== 0;
}

/**
 * `netlink_capable(skb, cap)` (`__netlink_ns_capable` in the initial user namespace): the sender holds `cap`
 * and so does whoever opened the sending socket's file, unless the message was sent with an explicit address.
 */
export function netlink_capable(skb: SkBuff, cap: number): boolean {
  const p = NETLINK_CB(skb);
  const fileOk = (p.flags & NETLINK_SKB_DST) !== 0 || (p.sk?.fileCred?.capable(cap) ?? false);
  return fileOk && (p.cred?.capable(cap) ?? false);
}

// genl_policy_reject_all[]: two NLA_REJECT entries, maxattr 1.
const REJECT: NlaPolicy = { type: "reject" };
const GENL_POLICY_REJECT_ALL: Policy = { maxType: 1, attrs: { 0: REJECT, 1: REJECT } };

// ctrl_policy_family[] and ctrl_policy_policy[].
const CTRL_FAMILY_ID_POLICY: NlaPolicy = { type: "u16" };
const CTRL_FAMILY_NAME_POLICY: NlaPolicy = { type: "nul-string", len: GENL_NAMSIZ - 1 };
const CTRL_POLICY_FAMILY: Policy = {
  maxType: CTRL_ATTR.FAMILY_NAME,
  attrs: { [CTRL_ATTR.FAMILY_ID]: CTRL_FAMILY_ID_POLICY, [CTRL_ATTR.FAMILY_NAME]: CTRL_FAMILY_NAME_POLICY },
};
const CTRL_POLICY_POLICY: Policy = {
  maxType: CTRL_ATTR.OP,
  attrs: {
    [CTRL_ATTR.FAMILY_ID]: CTRL_FAMILY_ID_POLICY,
    [CTRL_ATTR.FAMILY_NAME]: CTRL_FAMILY_NAME_POLICY,
    [CTRL_ATTR.OP]: { type: "u32" },
  },
};

const EMPTY_OP: GenlResolvedOp = Object.freeze({
  cmd: 0,
  flags: 0,
  validate: 0,
  policy: undefined,
  maxattr: 0,
  doit: undefined,
  dumpit: undefined,
  start: undefined,
  done: undefined,
});

// One entry of genl_op_iter: a command with its do and dump halves (EMPTY_OP for a missing half).
interface OpEntry {
  readonly cmd: number;
  readonly flags: number;
  readonly doit: GenlResolvedOp;
  readonly dumpit: GenlResolvedOp;
}

// struct netlink_policy_dump_state
interface PolicyDumpState {
  readonly policies: { policy: Policy; maxtype: number }[];
  policyIdx: number;
  attrIdx: number;
}

// struct ctrl_dump_policy_ctx (in cb->ctx)
interface CtrlDumpPolicyCtx {
  state: PolicyDumpState | undefined;
  rt: GenlFamily;
  opIter: OpEntry[];
  opIterIdx: number;
  owner: Module | undefined;
  op: number;
  famId: number;
  dumpMap: boolean;
  singleOp: boolean;
}

const policyCtxs = new WeakMap<NetlinkCallback, CtrlDumpPolicyCtx>();

// netlink_policy_dump_add_policy(): the policy, then every nested policy reachable from the table, each
// (policy, maxtype) pair once, in the order found.
function policyDumpAddPolicy(state: PolicyDumpState, policy: Policy | undefined, maxtype: number): void {
  const add = (p: Policy | undefined, m: number) => {
    if (p === undefined || m === 0) return;
    if (!state.policies.some((x) => x.policy === p && x.maxtype === m))
      state.policies.push({ policy: p, maxtype: m });
  };
  add(policy, maxtype);
  for (let i = 0; i < state.policies.length; i++) {
    const { policy: p, maxtype: m } = state.policies[i]!;
    for (let type = 0; type <= m; type++) {
      const pt = p.attrs[type];
      if (pt !== undefined && (pt.type === "nested" || pt.type === "nested-array")) {
        add(pt.nested, pt.nested?.maxType ?? 0);
      }
    }
  }
}

// netlink_policy_dump_get_policy_idx()
function policyDumpGetPolicyIdx(state: PolicyDumpState, policy: Policy, maxtype: number): number {
  const i = state.policies.findIndex((x) => x.policy === policy && x.maxtype === maxtype);
  return Math.max(i, 0);
}

const policyDumpFinished = (state: PolicyDumpState) => state.policyIdx >= state.policies.length;

// __netlink_policy_dump_write_attr() with a dump state: a nest `nestattr` holding the entry's description.
function policyDumpWriteAttr(state: PolicyDumpState, skb: SkBuff, pt: NlaPolicy, nestattr: number): number {
  const attr = nlaNestStart(skb, nestattr);
  if (attr === null) return ENOBUFS;
  let attrs: { rawType: number; payload: Uint8Array }[];
  if (
    (pt.type === "nested" || pt.type === "nested-array") &&
    pt.nested !== undefined &&
    pt.nested.maxType > 0
  ) {
    const u32 = (t: number, v: number) => {
      const b = new Uint8Array(4);
      put32(b, 0, v, true);
      return { rawType: t, payload: b };
    };
    attrs = [
      u32(NL_POLICY_TYPE_ATTR.POLICY_IDX, policyDumpGetPolicyIdx(state, pt.nested, pt.nested.maxType)),
      u32(NL_POLICY_TYPE_ATTR.POLICY_MAXTYPE, pt.nested.maxType),
      u32(NL_POLICY_TYPE_ATTR.TYPE, pt.type === "nested" ? 13 : 14),
    ];
  } else {
    attrs = policyAttrs(pt).flatMap((a) => ("payload" in a ? [a] : []));
  }
  if (attrs.length === 0) {
    // NLA_UNSPEC, NLA_REJECT and the types the writer does not describe.
    nlaNestCancel(skb, attr);
    return ENODATA;
  }
  for (const a of attrs) {
    if (nlaPut(skb, a.rawType, a.payload) !== 0) {
      nlaNestCancel(skb, attr);
      return ENOBUFS;
    }
  }
  nlaNestEnd(skb, attr);
  return 0;
}

// netlink_policy_dump_write(): the next describable entry as nest(policy_idx) { nest(attr_idx) { … } }.
function policyDumpWrite(skb: SkBuff, state: PolicyDumpState): number {
  for (;;) {
    const { policy, maxtype } = state.policies[state.policyIdx]!;
    const pt = policy.attrs[state.attrIdx] ?? { type: "unspec" };
    const outer = nlaNestStart(skb, state.policyIdx);
    if (outer === null) return ENOBUFS;
    const err = policyDumpWriteAttr(state, skb, pt, state.attrIdx);
    let again = false;
    if (err === ENODATA) {
      nlaNestCancel(skb, outer);
      again = true;
    } else if (err !== 0) {
      nlaNestCancel(skb, outer);
      return ENOBUFS;
    } else {
      nlaNestEnd(skb, outer);
    }
    state.attrIdx++;
    if (state.attrIdx > maxtype) {
      state.attrIdx = 0;
      state.policyIdx++;
    }
    if (!again) return 0;
    if (policyDumpFinished(state)) return ENODATA;
  }
}

const encoder = (s: string) => utf8Encode(s);
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
// The bytes of a C string attribute up to its NUL (policy validation made sure there is one).
function cString(a: NlAttr): Uint8Array {
  const nul = a.payload.indexOf(0);
  return a.payload.subarray(0, nul < 0 ? a.payload.length : nul);
}

function checkU32(op: string, what: string, v: unknown, max = 0xffffffff): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
    throw new KernelError("EINVAL", `${what} ${String(v)} is not in 0..${max}`, { op });
  }
  return v;
}

/**
 * Generic netlink (`NETLINK_GENERIC`, protocol 16) of one kernel: the family registry, the kernel socket and its
 * input, and the controller family "nlctrl". Calls return what the kernel's do (0, an id, or a negative errno)
 * and throw a `KernelError` only for arguments no C caller could pass.
 */
export class Genetlink {
  /** The socket layer this runs on. */
  readonly af: AfNetlink;
  /** `genl_ctrl`: the controller family (id 16, group "notify" = 16). */
  readonly ctrl: GenlFamily;
  /** Kernel warnings (`WARN_ON`) the model hit, oldest first. */
  readonly warnings: string[] = [];
  readonly #idr = new Map<number, GenlFamily>();
  #idrNext = 0;
  // mc_groups: the global bitmap of group ids in use, mc_groups_longs 64-bit words.
  #mcGroups: boolean[] = [];
  #mcGroupsLongs = 1;
  #sock: NetlinkSock | undefined;
  #clearing = false;
  readonly #currentCred: () => Cred | undefined;
  readonly #requestModule: ((alias: string) => void) | undefined;
  // The caller of the socket-option calls genetlink makes itself (group clean-up at unregister).
  readonly #kernelCaller: NetlinkCaller = { tgid: 0, pid: 0, cred: new Cred({ uid: 0, gid: 0 }) };

  /**
   * `genl_init()`: registers nlctrl (before the socket exists, so without notifications), then
   * `genl_pernet_init()` creates the NETLINK_GENERIC kernel socket with NL_CFG_F_NONROOT_RECV and the bind/unbind
   * hooks.
   * @throws {@link @kbridge/uapi!KernelError} EEXIST when protocol 16 already has a kernel socket (the kernel panics)
   */
  constructor(af: AfNetlink, options: GenetlinkOptions = {}) {
    this.af = af;
    this.#currentCred = options.currentCred ?? (() => undefined);
    this.#requestModule = options.requestModule;
    for (let i = 0; i < 64; i++) this.#mcGroups.push(i <= 1 || i === 16 || i === 17 || i === 18);
    this.ctrl = {
      name: "nlctrl",
      version: 2,
      resvStartOp: CTRL_CMD.GETPOLICY + 1,
      parallelOps: false,
      mcgrps: [{ name: "notify" }],
      splitOps: [
        {
          cmd: CTRL_CMD.GETFAMILY,
          validate: GENL_DONT_VALIDATE_STRICT,
          policy: CTRL_POLICY_FAMILY,
          maxattr: CTRL_POLICY_FAMILY.maxType,
          doit: (skb, info) => this.#ctrlGetfamily(skb, info),
          flags: GENL_CMD_CAP_DO,
        },
        {
          cmd: CTRL_CMD.GETFAMILY,
          validate: GENL_DONT_VALIDATE_DUMP,
          policy: CTRL_POLICY_FAMILY,
          maxattr: CTRL_POLICY_FAMILY.maxType,
          dumpit: (skb, cb) => this.#ctrlDumpfamily(skb, cb),
          flags: GENL_CMD_CAP_DUMP,
        },
        {
          cmd: CTRL_CMD.GETPOLICY,
          policy: CTRL_POLICY_POLICY,
          maxattr: CTRL_POLICY_POLICY.maxType,
          start: (cb) => this.#ctrlDumppolicyStart(cb),
          dumpit: (skb, cb) => this.#ctrlDumppolicy(skb, cb),
          done: (cb) => this.#ctrlDumppolicyDone(cb),
          flags: GENL_CMD_CAP_DUMP,
        },
      ],
    };
    const err = this.genl_register_family(this.ctrl);
    if (err !== 0)
      throw new KernelError("EINVAL", `GENL: Cannot register controller: ${err}`, { op: "genl_init" });
    const sock = af.netlink_kernel_create(NETLINK.GENERIC, {
      input: (skb) => this.genl_rcv(skb),
      flags: NL_CFG_F_NONROOT_RECV,
      bind: (group) => this.#genlBind(group),
      unbind: (group) => this.#genlUnbind(group),
    });
    if (sock === null) {
      throw new KernelError("EEXIST", "GENL: Cannot initialize generic netlink", { op: "genl_pernet_init" });
    }
    this.#sock = sock;
  }

  /** `net->genl_sock`: the NETLINK_GENERIC kernel socket. */
  get sock(): NetlinkSock {
    return this.#sock!;
  }

  /** The registered families in id order (`idr_for_each_entry(&genl_fam_idr, …)`). */
  families(): GenlFamily[] {
    return [...this.#idr.keys()].sort((a, b) => a - b).map((id) => this.#idr.get(id)!);
  }

  /** The multicast group ids in use (`mc_groups`), ascending, the reserved 0, 1, 16, 17, 18 included. */
  mcGroupsInUse(): number[] {
    const out: number[] = [];
    this.#mcGroups.forEach((used, i) => {
      if (used) out.push(i);
    });
    return out;
  }

  /** `genl_family_find_byid(id)`. */
  genl_family_find_byid(id: number): GenlFamily | undefined {
    return this.#idr.get(id);
  }

  /** `genl_family_find_byname(name)` (`strcmp` on the name's bytes). */
  genl_family_find_byname(name: string | Uint8Array): GenlFamily | undefined {
    const want = typeof name === "string" ? encoder(name) : name;
    for (const f of this.families()) if (sameBytes(encoder(f.name), want)) return f;
    return undefined;
  }

  // ------------------------------------------------------------------ ops tables

  // genl_op_fill_in_reject_policy(): a legacy op at or above resv_start_op without a policy takes no attributes.
  #fromFull(family: GenlFamily, op: GenlOps): GenlOps & { readonly maxattr: number } {
    let maxattr = op.maxattr ?? op.policy?.maxType ?? 0;
    let policy = op.policy;
    if (!maxattr) maxattr = this.#familyMaxattr(family);
    if (policy === undefined) policy = family.policy;
    if (policy === undefined && op.cmd >= (family.resvStartOp ?? 0)) {
      policy = GENL_POLICY_REJECT_ALL;
      maxattr = 1;
    }
    return { ...op, policy, maxattr };
  }

  #familyMaxattr(family: GenlFamily): number {
    return family.maxattr ?? family.policy?.maxType ?? 0;
  }

  // genl_op_fill_in_reject_policy_split() on a split op as registered.
  #fromSplit(op: GenlSplitOps): GenlResolvedOp {
    let policy = op.policy;
    let maxattr = op.maxattr ?? policy?.maxType ?? 0;
    if (policy === undefined) {
      policy = GENL_POLICY_REJECT_ALL;
      maxattr = 1;
    }
    return {
      cmd: op.cmd,
      flags: op.flags,
      validate: op.validate ?? 0,
      policy,
      maxattr,
      doit: op.doit,
      dumpit: op.dumpit,
      start: op.start,
      done: op.done,
    };
  }

  // genl_cmd_full_to_split(): the do or dump half of a legacy op, or undefined (-ENOENT) when it has none.
  #fullToSplit(full: GenlOps & { readonly maxattr: number }, cap: number): GenlResolvedOp | undefined {
    if ((cap & GENL_CMD_CAP_DO && !full.doit) || (cap & GENL_CMD_CAP_DUMP && !full.dumpit)) return undefined;
    const validate = full.validate ?? 0;
    const noPolicy = (cap & GENL_CMD_CAP_DUMP) !== 0 && (validate & GENL_DONT_VALIDATE_DUMP) !== 0;
    const dump = (cap & GENL_CMD_CAP_DUMP) !== 0;
    return {
      cmd: full.cmd,
      flags: (full.flags ?? 0) | cap,
      validate,
      policy: noPolicy ? undefined : full.policy,
      maxattr: noPolicy ? 0 : full.maxattr,
      doit: dump ? undefined : full.doit,
      dumpit: dump ? full.dumpit : undefined,
      start: dump ? full.start : undefined,
      done: dump ? full.done : undefined,
    };
  }

  // genl_get_cmd(): the legacy op of that cmd, else the split op with that cmd and capability.
  #getCmd(cmd: number, cap: number, family: GenlFamily): GenlResolvedOp | undefined {
    const full = family.ops?.find((o) => o.cmd === cmd);
    if (full !== undefined) return this.#fullToSplit(this.#fromFull(family, full), cap);
    const split = family.splitOps?.find((o) => o.cmd === cmd && (o.flags & cap) !== 0);
    return split === undefined ? undefined : this.#fromSplit(split);
  }

  // genl_op_iter: legacy ops one entry each, split ops one entry per command (do and dump halves joined).
  #opEntries(family: GenlFamily): OpEntry[] {
    const out: OpEntry[] = [];
    for (const op of family.ops ?? []) {
      const full = this.#fromFull(family, op);
      const doit = this.#fullToSplit(full, GENL_CMD_CAP_DO) ?? EMPTY_OP;
      const dumpit = this.#fullToSplit(full, GENL_CMD_CAP_DUMP) ?? EMPTY_OP;
      out.push({ cmd: doit.cmd | dumpit.cmd, flags: doit.flags | dumpit.flags, doit, dumpit });
    }
    const split = family.splitOps ?? [];
    for (let i = 0; i < split.length; ) {
      // genl_op_from_split()
      let cnt = 0;
      let doit = EMPTY_OP;
      let dumpit = EMPTY_OP;
      if (split[i]!.flags & GENL_CMD_CAP_DO) {
        doit = this.#fromSplit(split[i]!);
        cnt++;
      }
      const next = split[i + cnt];
      if (next !== undefined && next.flags & GENL_CMD_CAP_DUMP && (!cnt || next.cmd === doit.cmd)) {
        dumpit = this.#fromSplit(next);
        cnt++;
      }
      if (cnt === 0) {
        // The kernel WARNs and would not advance; the model steps over the entry.
        this.warnings.push(
          `WARNING: genl_op_from_split: split op ${i} of ${family.name} is neither do nor dump`,
        );
        cnt = 1;
      }
      out.push({ cmd: doit.cmd | dumpit.cmd, flags: doit.flags | dumpit.flags, doit, dumpit });
      i += cnt;
    }
    return out;
  }

  // genl_validate_ops()
  #validateOps(family: GenlFamily): number {
    const entries = this.#opEntries(family);
    for (let i = 0; i < entries.length; i++) {
      const a = entries[i]!;
      if (!(a.flags & (GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP))) return EINVAL;
      if (a.cmd >= (family.resvStartOp ?? 0) && (a.doit.validate || a.dumpit.validate)) {
        this.warnings.push(
          `WARNING: genl_validate_ops: ${family.name} cmd ${a.cmd} >= resv_start_op has validate flags`,
        );
        return EINVAL;
      }
      for (let j = i + 1; j < entries.length; j++) if (entries[j]!.cmd === a.cmd) return EINVAL;
    }
    const split = family.splitOps ?? [];
    const capCount = (o: GenlSplitOps) =>
      ((o.flags & GENL_CMD_CAP_DO) !== 0 ? 1 : 0) + ((o.flags & GENL_CMD_CAP_DUMP) !== 0 ? 1 : 0);
    const warn = (what: string) => {
      this.warnings.push(`WARNING: genl_validate_ops: ${family.name}: ${what}`);
      return EINVAL;
    };
    if (split.length > 0 && capCount(split[0]!) !== 1) return warn("split op 0 is not exactly do or dump");
    for (let s = 1; s < split.length; s++) {
      const a = split[s - 1]!;
      const b = split[s]!;
      if (capCount(b) !== 1) return warn(`split op ${s} is not exactly do or dump`);
      if (a.cmd < b.cmd) continue;
      if (a.cmd > b.cmd) return warn(`split ops are not sorted at ${s}`);
      if ((a.flags ^ b.flags) & ~(GENL_CMD_CAP_DO | GENL_CMD_CAP_DUMP))
        return warn(`cmd ${a.cmd} halves differ in flags`);
      if (a.flags & GENL_CMD_CAP_DO && b.flags & GENL_CMD_CAP_DUMP) continue;
      return warn(`cmd ${a.cmd} halves are not do then dump`);
    }
    return 0;
  }

  #checkFamily(family: GenlFamily): void {
    const op = "genl_register_family";
    if (family === null || typeof family !== "object" || typeof family.name !== "string") {
      throw new KernelError("EINVAL", "a family needs a name", { op });
    }
    if (encoder(family.name).length >= GENL_NAMSIZ) {
      throw new KernelError("EINVAL", `family name ${JSON.stringify(family.name)} does not fit char[16]`, {
        op,
      });
    }
    checkU32(op, "version", family.version ?? 0);
    checkU32(op, "hdrsize", family.hdrsize ?? 0);
    checkU32(op, "maxattr", family.maxattr ?? 0);
    checkU32(op, "resv_start_op", family.resvStartOp ?? 0, 0xff);
    for (const list of [family.ops ?? [], family.splitOps ?? []]) {
      if (list.length > 255) throw new KernelError("EINVAL", "more than 255 ops (n_ops is a u8)", { op });
      for (const o of list) {
        checkU32(op, "cmd", o?.cmd, 0xff);
        checkU32(op, "op flags", o.flags ?? 0, 0xff);
        checkU32(op, "validate", o.validate ?? 0, 0xff);
        if (o.maxattr !== undefined) checkU32(op, "op maxattr", o.maxattr);
      }
    }
    if ((family.mcgrps?.length ?? 0) > 255) throw new KernelError("EINVAL", "more than 255 groups", { op });
    for (const g of family.mcgrps ?? []) {
      if (g === null || typeof g !== "object" || typeof g.name !== "string") {
        throw new KernelError("EINVAL", "a multicast group needs a name", { op });
      }
    }
  }

  // ------------------------------------------------------------------ registry

  // idr_alloc_cyclic(&genl_fam_idr, family, start, end + 1): the first free id from the cursor, wrapping to start.
  #idrAllocCyclic(family: GenlFamily, start: number, end: number): number {
    const firstFree = (from: number) => {
      for (let id = from; id <= end; id++) if (!this.#idr.has(id)) return id;
      return -1;
    };
    let id = Math.max(this.#idrNext, start);
    let got = firstFree(id);
    if (got < 0 && id > start) {
      id = start;
      got = firstFree(id);
    }
    if (got < 0) return ENOSPC;
    this.#idr.set(got, family);
    this.#idrNext = got + 1;
    return got;
  }

  // genl_allocate_reserve_groups(): the first run of n free ids, growing the bitmap by whole longs.
  #allocateReserveGroups(n: number): number {
    let start = 0;
    let id: number;
    let fits: boolean;
    do {
      const size = this.#mcGroupsLongs * 64;
      id = start;
      while (id < size && this.#mcGroups[id]) id++;
      fits = true;
      for (let i = id; i < Math.min(id + n, size); i++) {
        if (this.#mcGroups[i]) {
          start = i;
          fits = false;
          break;
        }
      }
      if (id + n > size) {
        this.#mcGroupsLongs += Math.ceil(n / 64);
        while (this.#mcGroups.length < this.#mcGroupsLongs * 64) this.#mcGroups.push(false);
      }
    } while (!fits);
    for (let i = id; i < id + n; i++) this.#mcGroups[i] = true;
    return id;
  }

  // genl_validate_assign_mc_groups()
  #validateAssignMcGroups(family: GenlFamily): number {
    const groups = family.mcgrps ?? [];
    const n = groups.length;
    if (n === 0) return 0;
    for (const g of groups) {
      if (g.name === "") {
        this.warnings.push(
          `WARNING: genl_validate_assign_mc_groups: ${family.name} has a group without a name`,
        );
        return EINVAL;
      }
      if (encoder(g.name).length >= GENL_NAMSIZ) {
        this.warnings.push(`WARNING: genl_validate_assign_mc_groups: group ${g.name} is not terminated`);
        return EINVAL;
      }
    }
    let firstId: number;
    let allocated = false;
    const single = () => {
      if (n !== 1) throw new KernelError("EINVAL", `kernel BUG: ${family.name} must have exactly one group`);
    };
    if (family === this.ctrl) {
      single();
      firstId = GENL_ID_CTRL;
    } else if (family.name === "NET_DM") {
      single();
      firstId = 1;
    } else if (family.id === GENL_ID_VFS_DQUOT) {
      single();
      firstId = GENL_ID_VFS_DQUOT;
    } else if (family.id === GENL_ID_PMCRAID) {
      single();
      firstId = GENL_ID_PMCRAID;
    } else {
      allocated = true;
      firstId = this.#allocateReserveGroups(n);
    }
    family.mcgrpOffset = firstId;
    // Still initialising: no socket to grow.
    if (this.#sock === undefined) return 0;
    const err = this.af.netlink_change_ngroups(NETLINK.GENERIC, this.#mcGroupsLongs * 64);
    if (allocated && err) for (let i = 0; i < n; i++) this.#mcGroups[firstId + i] = false;
    return err;
  }

  /**
   * `genl_register_family(family)`: validates the op table (EINVAL), refuses a taken name (EEXIST), allocates the
   * id (16 for nlctrl, 0x11 for "VFS_DQUOT", 0x12 for "pmcraid", else cyclically from 0x13 to 1023; ENOSPC when
   * none is free) and the group ids (EINVAL for a group without a name or one of 16+ bytes — after the id was
   * taken, so the cyclic cursor has moved), then multicasts CTRL_CMD_NEWFAMILY and one CTRL_CMD_NEWMCAST_GRP per
   * group on nlctrl's "notify" group. Writes `family.id` and `family.mcgrpOffset`.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a family no C struct could hold (a name of 16+ bytes, a
   * cmd above 255, a non-integer field)
   */
  genl_register_family(family: GenlFamily): number {
    this.#checkFamily(family);
    const err = this.#validateOps(family);
    if (err) return err;
    if (this.genl_family_find_byname(family.name) !== undefined) return EEXIST;
    let start = GENL_START_ALLOC;
    let end = GENL_MAX_ID;
    if (family === this.ctrl) start = end = GENL_ID_CTRL;
    else if (family.name === "pmcraid") start = end = GENL_ID_PMCRAID;
    else if (family.name === "VFS_DQUOT") start = end = GENL_ID_VFS_DQUOT;
    const id = this.#idrAllocCyclic(family, start, end);
    if (id < 0) return id;
    family.id = id;
    const gerr = this.#validateAssignMcGroups(family);
    if (gerr) {
      this.#idr.delete(id);
      return gerr;
    }
    this.#ctrlEvent(CTRL_CMD.NEWFAMILY, family, undefined, 0);
    (family.mcgrps ?? []).forEach((g, i) => {
      this.#ctrlEvent(CTRL_CMD.NEWMCAST_GRP, family, g, (family.mcgrpOffset ?? 0) + i);
    });
    return 0;
  }

  /**
   * `genl_unregister_family(family)`: ENOENT unless registered. For each group: every member is dropped from it
   * (`__netlink_clear_multicast_users`: no unbind callback runs), its id is freed (except group 1) and
   * CTRL_CMD_DELMCAST_GRP is multicast; then the id is released and CTRL_CMD_DELFAMILY multicast. Dumps already
   * running keep going (the module reference is what pins the family's code).
   */
  genl_unregister_family(family: GenlFamily): number {
    // genl_family_find_byid(family->id); the model also asks that it is this family's entry.
    if (family.id === undefined || this.#idr.get(family.id) !== family) return ENOENT;
    const offset = family.mcgrpOffset ?? 0;
    const groups = family.mcgrps ?? [];
    for (let i = 0; i < groups.length; i++) this.#clearMulticastUsers(offset + i);
    groups.forEach((g, i) => {
      const grpId = offset + i;
      if (grpId !== 1) this.#mcGroups[grpId] = false;
      this.#ctrlEvent(CTRL_CMD.DELMCAST_GRP, family, g, grpId);
    });
    this.#idr.delete(family.id);
    this.#ctrlEvent(CTRL_CMD.DELFAMILY, family, undefined, 0);
    return 0;
  }

  // __netlink_clear_multicast_users(genl_sock, group): netlink_update_socket_mc(nlk, group, 0) on every member.
  // af-netlink.ts has no such call; NETLINK_DROP_MEMBERSHIP does the same bit, subscription and listener updates,
  // and the unbind hook it runs afterwards is silenced here, as the kernel runs none.
  #clearMulticastUsers(group: number): void {
    for (const sk of this.af.sockets()) {
      if (sk.kernel || sk.protocol !== NETLINK.GENERIC || !sk.inGroup(group)) continue;
      this.#clearing = true;
      try {
        this.af.setsockopt(sk, SOL_NETLINK, NETLINK_SOCKOPT.DROP_MEMBERSHIP, group, 4, this.#kernelCaller);
      } finally {
        this.#clearing = false;
      }
    }
  }

  // genl_bind(): the family owning the group decides; GENL_MCAST_CAP_* ask the joining task.
  #genlBind(group: number): number {
    let ret = 0;
    for (const family of this.families()) {
      const n = family.mcgrps?.length ?? 0;
      if (n === 0) continue;
      const i = group - (family.mcgrpOffset ?? 0);
      if (i < 0 || i >= n) continue;
      const grp = family.mcgrps![i]!;
      const cred = this.#currentCred();
      const flags = grp.flags ?? 0;
      if (flags & GENL_MCAST_CAP_NET_ADMIN && !(cred?.capable(CAP_NET_ADMIN) ?? false)) ret = EPERM;
      if (flags & GENL_MCAST_CAP_SYS_ADMIN && !(cred?.capable(CAP_SYS_ADMIN) ?? false)) ret = EPERM;
      if (ret) break;
      family.bind?.(i);
      break;
    }
    return ret;
  }

  // genl_unbind()
  #genlUnbind(group: number): void {
    if (this.#clearing) return;
    for (const family of this.families()) {
      const n = family.mcgrps?.length ?? 0;
      if (n === 0) continue;
      const i = group - (family.mcgrpOffset ?? 0);
      if (i < 0 || i >= n) continue;
      family.unbind?.(i);
      break;
    }
  }

  // ------------------------------------------------------------------ messages

  /** `genlmsg_new(payload)`: `nlmsg_new(genlmsg_total_size(payload))`, tracked by the socket layer. */
  genlmsg_new(payload: number): SkBuff {
    return this.af.nlmsg_new(genlmsg_total_size(checkU32("genlmsg_new", "payload", payload, 0x7ffffff0)));
  }

  /**
   * `genlmsg_put(skb, portid, seq, family, flags, cmd)`: a message of type `family.id` with the genlmsghdr
   * `{cmd, family.version, 0}` and room for the family header; returns the offset of the family header (where
   * attributes go when `hdrsize` is 0), or null when the skb has no room.
   */
  genlmsg_put(
    skb: SkBuff,
    portid: number,
    seq: number,
    family: GenlFamily,
    flags: number,
    cmd: number,
  ): number | null {
    checkU32("genlmsg_put", "cmd", cmd, 0xff);
    const at = nlmsgPut(skb, portid, seq, family.id ?? 0, GENL_HDRLEN + (family.hdrsize ?? 0), flags);
    if (at === null) return null;
    const b = skb.buffer;
    b[at + NLMSG_HDRLEN] = cmd;
    b[at + NLMSG_HDRLEN + 1] = (family.version ?? 0) & 0xff;
    b[at + NLMSG_HDRLEN + 2] = 0;
    b[at + NLMSG_HDRLEN + 3] = 0;
    return at + NLMSG_HDRLEN + GENL_HDRLEN;
  }

  /** `genlmsg_end(skb, hdr)`: sets the length of the message whose family header is at `hdr`. */
  genlmsg_end(skb: SkBuff, hdr: number): void {
    nlmsgEnd(skb, hdr - GENL_HDRLEN - NLMSG_HDRLEN);
  }

  /** `genlmsg_cancel(skb, hdr)`: removes the message whose family header is at `hdr`. */
  genlmsg_cancel(skb: SkBuff, hdr: number): void {
    nlmsgTrim(skb, hdr - GENL_HDRLEN - NLMSG_HDRLEN);
  }

  /** `genlmsg_unicast(net, skb, portid)`: nonblocking, consumes `skb`; 0 or a negative errno. */
  genlmsg_unicast(skb: SkBuff, portid: number): number {
    return this.af.nlmsg_unicast(this.sock, skb, portid);
  }

  /** `genlmsg_reply(skb, info)`: unicasts `skb` to the requester. */
  genlmsg_reply(skb: SkBuff, info: GenlInfo): number {
    return this.genlmsg_unicast(skb, info.sndPortid);
  }

  #badGroup(family: GenlFamily, skb: SkBuff, group: number, fn: string): boolean {
    if (Number.isInteger(group) && group >= 0 && group < (family.mcgrps?.length ?? 0)) return false;
    this.warnings.push(
      `WARNING: ${fn}: group ${group} >= n_mcgrps ${family.mcgrps?.length ?? 0} of ${family.name}`,
    );
    skb.free();
    return true;
  }

  /**
   * `genlmsg_multicast(family, skb, portid, group)`: multicasts to the family's group index `group` (global id
   * `mcgrpOffset + group`), skipping `portid`; consumes `skb`. 0, −ESRCH when nobody listens, or −EINVAL with a
   * warning for an index past the family's groups (the skb is freed, as 6.18 does).
   */
  genlmsg_multicast(family: GenlFamily, skb: SkBuff, portid: number, group: number): number {
    if (this.#badGroup(family, skb, group, "genlmsg_multicast_netns_filtered")) return EINVAL;
    return this.af.nlmsg_multicast(this.sock, skb, portid, (family.mcgrpOffset ?? 0) + group);
  }

  /**
   * `genl_notify(family, skb, info, group)`: multicasts to group index `group` and, when the request had
   * NLM_F_ECHO, unicasts to the requester too. A bad index warns and (as 6.18) frees the skb.
   */
  genl_notify(family: GenlFamily, skb: SkBuff, info: GenlInfo, group: number): void {
    if (this.#badGroup(family, skb, group, "genl_notify")) return;
    this.af.nlmsg_notify(
      this.sock,
      skb,
      info.sndPortid,
      (family.mcgrpOffset ?? 0) + group,
      nlmsg_report(info.nlhdr),
    );
  }

  // ------------------------------------------------------------------ receive path

  /** `genl_rcv(skb)`: the kernel socket's input, `netlink_rcv_skb(skb, genl_rcv_msg)`. */
  genl_rcv(skb: SkBuff): void {
    this.af.netlink_rcv_skb(skb, (s, nlh, extack) => this.#genlRcvMsg(s, nlh, extack));
  }

  // genl_rcv_msg() + genl_family_rcv_msg(): the checks in the kernel's order.
  #genlRcvMsg(skb: SkBuff, nlh: NlMsgRef, extack: NetlinkExtAck): number {
    const family = this.genl_family_find_byid(nlh.type);
    if (family === undefined) return ENOENT;
    const hdrlen = GENL_HDRLEN + (family.hdrsize ?? 0);
    if (nlh.len < NLMSG_HDRLEN + hdrlen) return EINVAL;
    const b = nlh.bytes;
    const hdr: GenlMsgHdr = { cmd: b[16]!, version: b[17]!, reserved: get16(b, 18, true) };
    if (this.#headerCheck(family, nlh, hdr, extack)) return EINVAL;
    const cap = (nlh.flags & NLM_F.DUMP) === NLM_F.DUMP ? GENL_CMD_CAP_DUMP : GENL_CMD_CAP_DO;
    const op = this.#getCmd(hdr.cmd, cap, family);
    if (op === undefined) return EOPNOTSUPP;
    // GENL_UNS_ADMIN_PERM asks the netns's user namespace, which is the initial one in this model.
    if (op.flags & GENL_ADMIN_PERM && !netlink_capable(skb, CAP_NET_ADMIN)) return EPERM;
    if (op.flags & GENL_UNS_ADMIN_PERM && !netlink_capable(skb, CAP_NET_ADMIN)) return EPERM;
    if (cap & GENL_CMD_CAP_DUMP) return this.#rcvMsgDumpit(family, skb, nlh, hdr, extack, op, hdrlen);
    return this.#rcvMsgDoit(family, skb, nlh, hdr, extack, op, hdrlen);
  }

  // genl_header_check()
  #headerCheck(family: GenlFamily, nlh: NlMsgRef, hdr: GenlMsgHdr, extack: NetlinkExtAck): number {
    if (hdr.cmd < (family.resvStartOp ?? 0)) return 0;
    if (hdr.reserved) {
      extack.msg = "genlmsghdr.reserved field is not 0";
      return EINVAL;
    }
    let flags = nlh.flags;
    if ((flags & NLM_F.DUMP) === NLM_F.DUMP) flags &= ~NLM_F.DUMP;
    if (flags & ~(NLM_F.REQUEST | NLM_F.ACK | NLM_F.ECHO)) {
      extack.msg = "ambiguous or reserved bits set in nlmsg_flags";
      return EINVAL;
    }
    return 0;
  }

  // genl_family_rcv_msg_attrs_parse(): nothing without maxattr (6.12), else __nlmsg_parse strictly unless the op
  // says `noStrictFlag`. Returns the table, null, or a negative errno (extack filled).
  #attrsParse(
    nlh: NlMsgRef,
    extack: NetlinkExtAck,
    op: GenlResolvedOp,
    hdrlen: number,
    noStrictFlag: number,
  ): (NlAttr | undefined)[] | null | number {
    if (!op.maxattr) return null;
    let validate: number = op.validate & noStrictFlag ? NL_VALIDATE.LIBERAL : NL_VALIDATE.STRICT;
    let policy: Policy;
    if (op.policy !== undefined) {
      policy = op.policy.maxType === op.maxattr ? op.policy : { ...op.policy, maxType: op.maxattr };
    } else {
      // No policy: __nla_validate_parse() runs no validate_nla(), only the MAXTYPE and TRAILING checks; an empty
      // table whose entries are NLA_UNSPEC without NL_VALIDATE_UNSPEC/NESTED/STRICT_ATTRS does the same.
      policy = { maxType: op.maxattr, attrs: {} };
      validate &= NL_VALIDATE.TRAILING | NL_VALIDATE.MAXTYPE;
    }
    const r = nlmsgParse(nlh.bytes.subarray(0, nlh.len), hdrlen, policy, { validate });
    if (r.extack.msg !== undefined) extack.msg = r.extack.msg;
    if (r.extack.badAttr !== undefined) extack.badAttr = r.extack.badAttr;
    if (r.extack.policy !== undefined) extack.policy = r.extack.policy;
    if (r.error) return r.error;
    return [...r.tb];
  }

  // genl_family_rcv_msg_doit()
  #rcvMsgDoit(
    family: GenlFamily,
    skb: SkBuff,
    nlh: NlMsgRef,
    hdr: GenlMsgHdr,
    extack: NetlinkExtAck,
    op: GenlResolvedOp,
    hdrlen: number,
  ): number {
    const attrs = this.#attrsParse(nlh, extack, op, hdrlen, GENL_DONT_VALIDATE_STRICT);
    if (typeof attrs === "number") return attrs;
    const info: GenlInfo = {
      sndSeq: nlh.seq,
      sndPortid: NETLINK_CB(skb).portid,
      family,
      nlhdr: nlh,
      genlhdr: hdr,
      attrs,
      extack,
      userPtr: [undefined, undefined],
    };
    if (family.preDoit !== undefined) {
      const err = family.preDoit(op, skb, info);
      if (err) return err;
    }
    const err = op.doit!(skb, info);
    family.postDoit?.(op, skb, info);
    return err;
  }

  // genl_family_rcv_msg_dumpit(): __netlink_dump_start with genl_start, genl_dumpit and genl_done.
  #rcvMsgDumpit(
    family: GenlFamily,
    skb: SkBuff,
    nlh: NlMsgRef,
    hdr: GenlMsgHdr,
    extack: NetlinkExtAck,
    op: GenlResolvedOp,
    hdrlen: number,
  ): number {
    return this.af.netlink_dump_start(this.sock, skb, nlh, {
      ...(family.module !== undefined && { module: family.module }),
      // genl_start()
      start: (cb) => {
        if (!(op.validate & GENL_DONT_VALIDATE_DUMP) && cb.nlh.len < NLMSG_HDRLEN + hdrlen) return EINVAL;
        const attrs = this.#attrsParse(cb.nlh, extack, op, hdrlen, GENL_DONT_VALIDATE_DUMP_STRICT);
        if (typeof attrs === "number") return attrs;
        const dumpInfo: GenlDumpitInfo = {
          op,
          info: {
            sndSeq: cb.nlh.seq,
            sndPortid: NETLINK_CB(cb.skb).portid,
            family,
            nlhdr: cb.nlh,
            genlhdr: hdr,
            attrs,
            extack,
            userPtr: [undefined, undefined],
          },
        };
        dumpInfos.set(cb, dumpInfo);
        const rc = op.start?.(cb) ?? 0;
        if (rc) dumpInfos.delete(cb);
        return rc;
      },
      // genl_dumpit()
      dump: (out, cb) => {
        const dumpInfo = dumpInfos.get(cb)!;
        if (cb.extack !== undefined) dumpInfo.info.extack = cb.extack;
        return op.dumpit!(out, cb);
      },
      // genl_done()
      done: (cb) => {
        const dumpInfo = dumpInfos.get(cb);
        if (dumpInfo !== undefined && cb.extack !== undefined) dumpInfo.info.extack = cb.extack;
        op.done?.(cb);
        dumpInfos.delete(cb);
      },
    });
  }

  // ------------------------------------------------------------------ the controller

  // ctrl_fill_info()
  #ctrlFillInfo(
    family: GenlFamily,
    portid: number,
    seq: number,
    flags: number,
    skb: SkBuff,
    cmd: number,
  ): number {
    const hdr = this.genlmsg_put(skb, portid, seq, this.ctrl, flags, cmd);
    if (hdr === null) return EMSGSIZE;
    const fail = () => {
      this.genlmsg_cancel(skb, hdr);
      return EMSGSIZE;
    };
    if (
      nlaPutString(skb, CTRL_ATTR.FAMILY_NAME, family.name) ||
      nlaPutU16(skb, CTRL_ATTR.FAMILY_ID, family.id ?? 0) ||
      nlaPutU32(skb, CTRL_ATTR.VERSION, family.version ?? 0) ||
      nlaPutU32(skb, CTRL_ATTR.HDRSIZE, family.hdrsize ?? 0) ||
      nlaPutU32(skb, CTRL_ATTR.MAXATTR, this.#familyMaxattr(family))
    )
      return fail();
    const entries = this.#opEntries(family);
    if (entries.length > 0) {
      const ops = nlaNestStart(skb, CTRL_ATTR.OPS, false);
      if (ops === null) return fail();
      for (let idx = 0; idx < entries.length; idx++) {
        const i = entries[idx]!;
        let opFlags = i.flags;
        if (i.doit.policy !== undefined || i.dumpit.policy !== undefined) opFlags |= GENL_CMD_CAP_HASPOL;
        const nest = nlaNestStart(skb, idx + 1, false);
        if (nest === null) return fail();
        if (nlaPutU32(skb, CTRL_ATTR_OP.ID, i.cmd) || nlaPutU32(skb, CTRL_ATTR_OP.FLAGS, opFlags))
          return fail();
        nlaNestEnd(skb, nest);
      }
      nlaNestEnd(skb, ops);
    }
    const groups = family.mcgrps ?? [];
    if (groups.length > 0) {
      const grps = nlaNestStart(skb, CTRL_ATTR.MCAST_GROUPS, false);
      if (grps === null) return fail();
      for (let i = 0; i < groups.length; i++) {
        const nest = nlaNestStart(skb, i + 1, false);
        if (nest === null) return fail();
        if (
          nlaPutU32(skb, CTRL_ATTR_MCAST_GRP.ID, (family.mcgrpOffset ?? 0) + i) ||
          nlaPutString(skb, CTRL_ATTR_MCAST_GRP.NAME, groups[i]!.name)
        )
          return fail();
        nlaNestEnd(skb, nest);
      }
      nlaNestEnd(skb, grps);
    }
    this.genlmsg_end(skb, hdr);
    return 0;
  }

  // ctrl_fill_mcgrp_info()
  #ctrlFillMcgrpInfo(
    family: GenlFamily,
    grp: GenlMulticastGroup,
    grpId: number,
    skb: SkBuff,
    cmd: number,
  ): number {
    const hdr = this.genlmsg_put(skb, 0, 0, this.ctrl, 0, cmd);
    if (hdr === null) return -1;
    const fail = () => {
      this.genlmsg_cancel(skb, hdr);
      return EMSGSIZE;
    };
    if (
      nlaPutString(skb, CTRL_ATTR.FAMILY_NAME, family.name) ||
      nlaPutU16(skb, CTRL_ATTR.FAMILY_ID, family.id ?? 0)
    )
      return fail();
    const grps = nlaNestStart(skb, CTRL_ATTR.MCAST_GROUPS, false);
    if (grps === null) return fail();
    const nest = nlaNestStart(skb, 1, false);
    if (nest === null) return fail();
    if (
      nlaPutU32(skb, CTRL_ATTR_MCAST_GRP.ID, grpId) ||
      nlaPutString(skb, CTRL_ATTR_MCAST_GRP.NAME, grp.name)
    )
      return fail();
    nlaNestEnd(skb, nest);
    nlaNestEnd(skb, grps);
    this.genlmsg_end(skb, hdr);
    return 0;
  }

  // ctrl_build_family_msg(): an skb of NLMSG_DEFAULT_SIZE with the family's description, or a negative errno.
  #ctrlBuildFamilyMsg(family: GenlFamily, portid: number, seq: number, cmd: number): SkBuff | number {
    let skb: SkBuff;
    try {
      skb = this.af.nlmsg_new(NLMSG_DEFAULT_SIZE);
    } catch {
      return ENOBUFS;
    }
    const err = this.#ctrlFillInfo(family, portid, seq, 0, skb, cmd);
    if (err < 0) {
      skb.free();
      return err;
    }
    return skb;
  }

  // genl_ctrl_event(): NEW/DEL FAMILY and MCAST_GRP notifications (portid 0, seq 0, flags 0) on "notify".
  #ctrlEvent(event: number, family: GenlFamily, grp: GenlMulticastGroup | undefined, grpId: number): number {
    if (this.#sock === undefined) return 0;
    let msg: SkBuff | number;
    if (grp === undefined) {
      msg = this.#ctrlBuildFamilyMsg(family, 0, 0, event);
    } else {
      let skb: SkBuff;
      try {
        skb = this.af.nlmsg_new(NLMSG_DEFAULT_SIZE);
      } catch {
        return ENOBUFS;
      }
      const err = this.#ctrlFillMcgrpInfo(family, grp, grpId, skb, event);
      if (err < 0) {
        skb.free();
        return err;
      }
      msg = skb;
    }
    if (typeof msg === "number") return msg;
    this.genlmsg_multicast(this.ctrl, msg, 0, 0);
    return 0;
  }

  // ctrl_getfamily(): by FAMILY_ID and/or FAMILY_NAME (the name wins), reply NEWFAMILY.
  #ctrlGetfamily(_skb: SkBuff, info: GenlInfo): number {
    const attrs = info.attrs ?? [];
    let res: GenlFamily | undefined;
    let err = EINVAL;
    const idAttr = attrs[CTRL_ATTR.FAMILY_ID];
    if (idAttr !== undefined) {
      res = this.genl_family_find_byid(get16(idAttr.payload, 0, true));
      err = ENOENT;
    }
    const nameAttr = attrs[CTRL_ATTR.FAMILY_NAME];
    if (nameAttr !== undefined) {
      const name = cString(nameAttr);
      res = this.genl_family_find_byname(name);
      if (res === undefined && this.#requestModule !== undefined) {
        this.#requestModule(`net-pf-16-proto-16-family-${utf8Decode(name)}`);
        res = this.genl_family_find_byname(name);
      }
      err = ENOENT;
    }
    if (res === undefined) return err;
    const msg = this.#ctrlBuildFamilyMsg(res, info.sndPortid, info.sndSeq, CTRL_CMD.NEWFAMILY);
    if (typeof msg === "number") return msg;
    return this.genlmsg_reply(msg, info);
  }

  // ctrl_dumpfamily(): every family from cb->args[0] on, NLM_F_MULTI.
  #ctrlDumpfamily(skb: SkBuff, cb: NetlinkCallback): number {
    let n = 0;
    const skip = cb.args[0] ?? 0;
    let err = 0;
    for (const rt of this.families()) {
      if (n++ < skip) continue;
      err = this.#ctrlFillInfo(rt, cb.portid, cb.nlh.seq, NLM_F.MULTI, skb, CTRL_CMD.NEWFAMILY);
      if (err) {
        n--;
        break;
      }
    }
    cb.args[0] = n;
    return err;
  }

  // genl_get_cmd_both()
  #getCmdBoth(cmd: number, family: GenlFamily): { doit: GenlResolvedOp; dumpit: GenlResolvedOp } | undefined {
    const doit = this.#getCmd(cmd, GENL_CMD_CAP_DO, family);
    const dumpit = this.#getCmd(cmd, GENL_CMD_CAP_DUMP, family);
    if (doit === undefined && dumpit === undefined) return undefined;
    return { doit: doit ?? EMPTY_OP, dumpit: dumpit ?? EMPTY_OP };
  }

  // ctrl_dumppolicy_start()
  #ctrlDumppolicyStart(cb: NetlinkCallback): number {
    const info = genl_dumpit_info(cb).info;
    const tb = info.attrs ?? [];
    const idAttr = tb[CTRL_ATTR.FAMILY_ID];
    const nameAttr = tb[CTRL_ATTR.FAMILY_NAME];
    if (idAttr === undefined && nameAttr === undefined) return EINVAL;
    let famId: number;
    if (idAttr !== undefined) {
      famId = get16(idAttr.payload, 0, true);
    } else {
      const rt = this.genl_family_find_byname(cString(nameAttr!));
      if (rt === undefined) return ENOENT;
      famId = rt.id ?? 0;
    }
    const rt = this.genl_family_find_byid(famId);
    if (rt === undefined) return ENOENT;
    const owner = rt.module;
    if (!try_module_get(owner)) return ENOENT;
    const ctx: CtrlDumpPolicyCtx = {
      state: undefined,
      rt,
      opIter: [],
      opIterIdx: 0,
      owner,
      op: 0,
      famId,
      dumpMap: false,
      singleOp: false,
    };
    const add = (op: GenlResolvedOp) => {
      if (op.policy === undefined) return;
      ctx.state ??= { policies: [], policyIdx: 0, attrIdx: 0 };
      policyDumpAddPolicy(ctx.state, op.policy, op.maxattr);
    };
    const opAttr = tb[CTRL_ATTR.OP];
    if (opAttr !== undefined) {
      ctx.singleOp = true;
      ctx.op = get32(opAttr.payload, 0, true);
      const both = this.#getCmdBoth(ctx.op, rt);
      if (both === undefined) {
        info.extack.badAttr = opAttr.offset;
        module_put(owner);
        return ENOENT;
      }
      add(both.doit);
      add(both.dumpit);
      if (ctx.state === undefined) {
        module_put(owner);
        return ENODATA;
      }
      ctx.dumpMap = true;
      policyCtxs.set(cb, ctx);
      return 0;
    }
    ctx.opIter = this.#opEntries(rt);
    ctx.dumpMap = ctx.opIter.length > 0;
    for (const i of ctx.opIter) {
      add(i.doit);
      add(i.dumpit);
    }
    if (ctx.state === undefined) {
      module_put(owner);
      return ENODATA;
    }
    policyCtxs.set(cb, ctx);
    return 0;
  }

  // ctrl_dumppolicy_prep(): the message header and FAMILY_ID. Like the kernel, a FAMILY_ID that does not fit
  // leaves the bare header in the skb (the callers cancel nothing when prep fails).
  #ctrlDumppolicyPrep(skb: SkBuff, cb: NetlinkCallback, ctx: CtrlDumpPolicyCtx): number | null {
    const hdr = this.genlmsg_put(skb, cb.portid, cb.nlh.seq, this.ctrl, NLM_F.MULTI, CTRL_CMD.GETPOLICY);
    if (hdr === null) return null;
    if (nlaPutU16(skb, CTRL_ATTR.FAMILY_ID, ctx.famId)) return null;
    return hdr;
  }

  // ctrl_dumppolicy_put_op(): OP_POLICY { cmd { DO idx, DUMP idx } } for one command.
  #ctrlDumppolicyPutOp(
    skb: SkBuff,
    cb: NetlinkCallback,
    ctx: CtrlDumpPolicyCtx,
    cmd: number,
    doit: GenlResolvedOp,
    dumpit: GenlResolvedOp,
  ): number {
    if (doit.policy === undefined && dumpit.policy === undefined) return 0;
    const hdr = this.#ctrlDumppolicyPrep(skb, cb, ctx);
    if (hdr === null) return ENOBUFS;
    const fail = () => {
      this.genlmsg_cancel(skb, hdr);
      return ENOBUFS;
    };
    const nestPol = nlaNestStart(skb, CTRL_ATTR.OP_POLICY);
    if (nestPol === null) return fail();
    const nestOp = nlaNestStart(skb, cmd);
    if (nestOp === null) return fail();
    const state = ctx.state!;
    if (doit.policy !== undefined) {
      const idx = policyDumpGetPolicyIdx(state, doit.policy, doit.maxattr);
      if (nlaPutU32(skb, CTRL_ATTR_POLICY.DO, idx)) return fail();
    }
    if (dumpit.policy !== undefined) {
      const idx = policyDumpGetPolicyIdx(state, dumpit.policy, dumpit.maxattr);
      if (nlaPutU32(skb, CTRL_ATTR_POLICY.DUMP, idx)) return fail();
    }
    nlaNestEnd(skb, nestOp);
    nlaNestEnd(skb, nestPol);
    this.genlmsg_end(skb, hdr);
    return 0;
  }

  // ctrl_dumppolicy(): first the per-op policy indexes, then every policy entry, one per message; returns
  // skb->len even when everything fit, so NLMSG_DONE always comes in a datagram of its own.
  #ctrlDumppolicy(skb: SkBuff, cb: NetlinkCallback): number {
    const ctx = policyCtxs.get(cb)!;
    if (ctx.dumpMap) {
      if (ctx.singleOp) {
        const both = this.#getCmdBoth(ctx.op, ctx.rt);
        if (both === undefined) {
          this.warnings.push(`WARNING: ctrl_dumppolicy: op ${ctx.op} of ${ctx.rt.name} is gone`);
          return ENOENT;
        }
        if (this.#ctrlDumppolicyPutOp(skb, cb, ctx, ctx.op, both.doit, both.dumpit)) return skb.len;
        ctx.dumpMap = false;
      }
      while (ctx.dumpMap) {
        const i = ctx.opIter[ctx.opIterIdx]!;
        if (this.#ctrlDumppolicyPutOp(skb, cb, ctx, i.cmd, i.doit, i.dumpit)) return skb.len;
        ctx.opIterIdx++;
        ctx.dumpMap = ctx.opIterIdx < ctx.opIter.length;
      }
    }
    const state = ctx.state!;
    let hdr: number | null = null;
    while (!policyDumpFinished(state)) {
      hdr = this.#ctrlDumppolicyPrep(skb, cb, ctx);
      if (hdr === null) return skb.len;
      const nest = nlaNestStart(skb, CTRL_ATTR.POLICY);
      if (nest === null || policyDumpWrite(skb, state)) {
        this.genlmsg_cancel(skb, hdr);
        return skb.len;
      }
      nlaNestEnd(skb, nest);
      this.genlmsg_end(skb, hdr);
    }
    return skb.len;
  }

  // ctrl_dumppolicy_done()
  #ctrlDumppolicyDone(cb: NetlinkCallback): number {
    const ctx = policyCtxs.get(cb);
    if (ctx !== undefined) {
      module_put(ctx.owner);
      policyCtxs.delete(cb);
    }
    return 0;
  }
}
