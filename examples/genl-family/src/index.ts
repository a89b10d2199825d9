// A module registers a generic netlink family "kb_sensor" with a policy and a multicast group; a user program finds
// it by name through nlctrl (CTRL_CMD_GETFAMILY), then sends good and bad requests and prints the kernel's exact
// answers: acks, replies, and extended acks with the message, the offset of the bad attribute and the policy it
// failed — what a family gets for free by declaring a policy instead of checking attributes by hand.
import {
  AF_NETLINK,
  CTRL_ATTR,
  CTRL_ATTR_MCAST_GRP,
  CTRL_CMD,
  GENL_ADMIN_PERM,
  GENL_ID_CTRL,
  type GenlFamily,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  NETLINK,
  NETLINK_SOCKOPT,
  type RecvResult,
  SOCK_RAW,
  SOL_NETLINK,
} from "@kbridge/kernel";
import {
  decodeAck,
  decodeRawAttrs,
  NL_POLICY_TYPE_ATTR,
  NLM_F,
  type NlMessage,
  NlWriter,
  nlaPutString,
  nlaPutU32,
  type Policy,
  parseDatagram,
  type RawAttr,
} from "@kbridge/netlink-codec";
import { errnoName, strerror, utf8Decode, utf8Encode } from "@kbridge/uapi";

/** The family's commands. */
export const SENSOR_CMD = Object.freeze({ GET: 1, SET: 2, EVENT: 3 });
/** The family's attributes. */
export const SENSOR_ATTR = Object.freeze({ ID: 1, NAME: 2, RATE: 3 });

const policy: Policy = {
  maxType: 3,
  attrs: {
    [SENSOR_ATTR.ID]: { type: "u32", validation: { kind: "range", min: 1, max: 16 } },
    [SENSOR_ATTR.NAME]: { type: "nul-string", len: 15 },
    [SENSOR_ATTR.RATE]: { type: "u32", validation: { kind: "range", min: 1, max: 1000 } },
  },
};

/** Loads the sensor module into `k`: it registers the family and keeps the rate of sensor `id`. */
function loadModule(k: Kernel, insmod: Libc): GenlFamily {
  const rates = new Map<number, number>([[3, 10]]);
  const genl = k.genl;
  const u32 = (a: { payload: Uint8Array } | undefined) =>
    a === undefined ? undefined : new DataView(a.payload.buffer, a.payload.byteOffset).getUint32(0, true);
  const family: GenlFamily = {
    name: "kb_sensor",
    version: 1,
    maxattr: 3,
    policy,
    resvStartOp: SENSOR_CMD.SET + 1,
    mcgrps: [{ name: "events" }],
    ops: [
      {
        cmd: SENSOR_CMD.GET,
        doit: (_skb, info) => {
          const id = u32(info.attrs?.[SENSOR_ATTR.ID]);
          if (id === undefined) {
            info.extack.msg = "sensor id missing";
            info.extack.missType = SENSOR_ATTR.ID;
            return -22;
          }
          const rate = rates.get(id);
          if (rate === undefined) {
            info.extack.msg = "no such sensor";
            return -19; // -ENODEV
          }
          const skb = genl.genlmsg_new(64);
          const hdr = genl.genlmsg_put(skb, info.sndPortid, info.sndSeq, family, 0, SENSOR_CMD.GET)!;
          nlaPutU32(skb, SENSOR_ATTR.ID, id);
          nlaPutString(skb, SENSOR_ATTR.NAME, `temp${id}`);
          nlaPutU32(skb, SENSOR_ATTR.RATE, rate);
          genl.genlmsg_end(skb, hdr);
          return genl.genlmsg_reply(skb, info);
        },
      },
      {
        cmd: SENSOR_CMD.SET,
        flags: GENL_ADMIN_PERM,
        doit: (_skb, info) => {
          const id = u32(info.attrs?.[SENSOR_ATTR.ID]) ?? 0;
          const rate = u32(info.attrs?.[SENSOR_ATTR.RATE]);
          if (!rates.has(id) || rate === undefined) return -22;
          rates.set(id, rate);
          // Tell the listeners of "events".
          const skb = genl.genlmsg_new(32);
          const hdr = genl.genlmsg_put(skb, 0, 0, family, 0, SENSOR_CMD.EVENT)!;
          nlaPutU32(skb, SENSOR_ATTR.ID, id);
          nlaPutU32(skb, SENSOR_ATTR.RATE, rate);
          genl.genlmsg_end(skb, hdr);
          genl.genlmsg_multicast(family, skb, 0, 0);
          return 0;
        },
      },
    ],
  };
  insmod.init_module({
    name: "kb_sensor",
    init: () => genl.genl_register_family(family),
    exit: () => {
      genl.genl_unregister_family(family);
    },
  });
  return family;
}

function request(
  type: number,
  cmd: number,
  seq: number,
  flags: number,
  attrs: [number, Uint8Array][],
): Uint8Array {
  const w = new NlWriter();
  w.beginMessage({ type, flags: NLM_F.REQUEST | flags, seq });
  w.putStruct(Uint8Array.of(cmd, 1, 0, 0)); // struct genlmsghdr { cmd, version, reserved }
  for (const [t, v] of attrs) w.putAttr(t, v);
  w.endMessage();
  return w.finish();
}
const u32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};
const attrsOf = (m: NlMessage) => decodeRawAttrs(m.payload, 4, m.payload.length);
const payloadOf = (a: RawAttr | undefined) =>
  a !== undefined && "payload" in a ? a.payload : new Uint8Array(0);
const u32Of = (a: RawAttr | undefined) =>
  new DataView(payloadOf(a).buffer, payloadOf(a).byteOffset).getUint32(0, true);

// NL_POLICY_TYPE_ATTR_* as text: "u32 in 1..16".
function policyText(attrs: readonly RawAttr[] | undefined): string {
  if (attrs === undefined) return "";
  const get = (t: number) => attrs.find((a) => a.rawType === t);
  const types = [
    "",
    "flag",
    "u8",
    "u16",
    "u32",
    "u64",
    "s8",
    "s16",
    "s32",
    "s64",
    "binary",
    "string",
    "nul-string",
  ];
  const P = NL_POLICY_TYPE_ATTR;
  let s = types[u32Of(get(P.TYPE))] ?? `type ${u32Of(get(P.TYPE))}`;
  const min = get(P.MIN_VALUE_U);
  const max = get(P.MAX_VALUE_U);
  if (min && max) s += ` in ${u32Of(min)}..${u32Of(max)}`;
  const maxLen = get(P.MAX_LENGTH);
  if (maxLen) s += ` of at most ${u32Of(maxLen)} bytes`;
  return s;
}

/** Runs the example and returns what it prints. */
export function genlFamilyLines(): string[] {
  const out: string[] = [];
  const k = new Kernel();
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  const family = loadModule(k, insmod);
  out.push(
    `insmod kb_sensor: genl_register_family("kb_sensor") took id ${family.id}, group "events" id ${family.mcgrpOffset}`,
  );

  // The user program: resolve the family by name.
  const user = new Libc(k, k.spawn({ comm: "sensorctl", uid: 1000 }));
  const fd = user.socket(AF_NETLINK, SOCK_RAW, NETLINK.GENERIC);
  user.setsockopt(fd, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1);
  user.setsockopt(fd, SOL_NETLINK, NETLINK_SOCKOPT.CAP_ACK, 1);
  const ask = (req: Uint8Array): NlMessage => {
    user.sendto(fd, req, 0, {});
    const r = user.recvmsg(fd, 8192, MSG_DONTWAIT) as RecvResult;
    return parseDatagram(r.data)[0]!;
  };
  const name = utf8Encode("kb_sensor\0");
  const fam = ask(request(GENL_ID_CTRL, CTRL_CMD.GETFAMILY, 1, 0, [[CTRL_ATTR.FAMILY_NAME, name]]));
  const famAttrs = attrsOf(fam);
  const id = new DataView(
    payloadOf(famAttrs.find((a) => a.rawType === CTRL_ATTR.FAMILY_ID)).buffer,
  ).getUint16(payloadOf(famAttrs.find((a) => a.rawType === CTRL_ATTR.FAMILY_ID)).byteOffset, true);
  const groups = payloadOf(famAttrs.find((a) => a.rawType === CTRL_ATTR.MCAST_GROUPS));
  const group = decodeRawAttrs(groups, 0, groups.length).map((g) => {
    const inner = decodeRawAttrs(payloadOf(g), 0, payloadOf(g).length);
    return {
      id: u32Of(inner.find((a) => a.rawType === CTRL_ATTR_MCAST_GRP.ID)),
      name: utf8Decode(payloadOf(inner.find((a) => a.rawType === CTRL_ATTR_MCAST_GRP.NAME)), 0, 6),
    };
  })[0]!;
  out.push(
    `sensorctl (uid 1000): CTRL_CMD_GETFAMILY "kb_sensor" → family id ${id}, group "${group.name}" = ${group.id}`,
    `  (M21: ids and group ids are handed out at registration, so families never collide — the article's claim that`,
    "   NETLINK_GENERIC causes conflicts is backwards; it is private protocol numbers, 23–31 in all, that collide)",
  );

  const show = (what: string, m: NlMessage) => {
    if (m.type === 2) {
      const a = decodeAck(m);
      const x = a.extack;
      const parts = [`${a.error}${a.code ? ` ${a.code}` : ""}`];
      if (x?.msg) parts.push(`"${x.msg}"`);
      if (x?.offs !== undefined) parts.push(`at offset ${x.offs}`);
      if (x?.policy) parts.push(`policy: ${policyText(x.policy)}`);
      if (x?.missType !== undefined) parts.push(`missing attribute ${x.missType}`);
      out.push(`  ${what} → ${a.error === 0 ? "ack" : "error"} ${parts.join(", ")}`);
    } else {
      const at = attrsOf(m);
      out.push(
        `  ${what} → reply: id ${u32Of(at[0])}, name "${utf8Decode(payloadOf(at[1]), 0, payloadOf(at[1]).length - 1)}", rate ${u32Of(at[2])}`,
      );
    }
  };
  out.push("requests, with NETLINK_EXT_ACK:");
  show("GET id 3", ask(request(id, SENSOR_CMD.GET, 2, 0, [[SENSOR_ATTR.ID, u32(3)]])));
  show("GET id 0", ask(request(id, SENSOR_CMD.GET, 3, 0, [[SENSOR_ATTR.ID, u32(0)]])));
  show("GET id as 2 bytes", ask(request(id, SENSOR_CMD.GET, 4, 0, [[SENSOR_ATTR.ID, Uint8Array.of(3, 0)]])));
  show(
    "GET with attribute 9",
    ask(
      request(id, SENSOR_CMD.GET, 5, 0, [
        [SENSOR_ATTR.ID, u32(3)],
        [9, u32(1)],
      ]),
    ),
  );
  show(
    "GET with a 20-byte name",
    ask(request(id, SENSOR_CMD.GET, 6, 0, [[SENSOR_ATTR.NAME, utf8Encode("a-much-too-long-name\0")]])),
  );
  show("GET without an id", ask(request(id, SENSOR_CMD.GET, 7, 0, [])));
  show("GET id 5", ask(request(id, SENSOR_CMD.GET, 8, 0, [[SENSOR_ATTR.ID, u32(5)]])));
  show("command 7", ask(request(id, 7, 9, 0, [])));
  show(
    "SET rate 50 as uid 1000",
    ask(
      request(id, SENSOR_CMD.SET, 10, NLM_F.ACK, [
        [SENSOR_ATTR.ID, u32(3)],
        [SENSOR_ATTR.RATE, u32(50)],
      ]),
    ),
  );
  show(`family id ${id + 100}`, ask(request(id + 100, SENSOR_CMD.GET, 11, 0, [])));

  // An administrator sets the rate; the listener of "events" (uid 1000: genetlink allows non-root joins) hears it.
  // (bound first: an unbound socket has port 0, which netlink_broadcast's "portid == sender's" test skips)
  const mon = user.socket(AF_NETLINK, SOCK_RAW, NETLINK.GENERIC);
  user.bind(mon, {});
  const joined = user.setsockopt(mon, SOL_NETLINK, NETLINK_SOCKOPT.ADD_MEMBERSHIP, group.id);
  const admin = new Libc(k, k.spawn({ comm: "sensorctl" }));
  const afd = admin.socket(AF_NETLINK, SOCK_RAW, NETLINK.GENERIC);
  admin.sendto(
    afd,
    request(id, SENSOR_CMD.SET, 1, NLM_F.ACK, [
      [SENSOR_ATTR.ID, u32(3)],
      [SENSOR_ATTR.RATE, u32(50)],
    ]),
    0,
    {},
  );
  const ack = parseDatagram((admin.recvmsg(afd, 1024, MSG_DONTWAIT) as RecvResult).data)[0]!;
  const ev = user.recvmsg(mon, 1024, MSG_DONTWAIT) as RecvResult;
  const evMsg = parseDatagram(ev.data)[0]!;
  out.push(
    `root: SET id 3 rate 50 → ack ${decodeAck(ack).error}; the "events" listener (joined: ${joined}) got cmd ${evMsg.payload[0]} with rate ${u32Of(attrsOf(evMsg)[1])}`,
  );
  out.push(`then GET id 3:`);
  show("GET id 3", ask(request(id, SENSOR_CMD.GET, 12, 0, [[SENSOR_ATTR.ID, u32(3)]])));
  const rc = insmod.delete_module("kb_sensor");
  const gone = ask(request(GENL_ID_CTRL, CTRL_CMD.GETFAMILY, 13, 0, [[CTRL_ATTR.FAMILY_NAME, name]]));
  out.push(
    `rmmod kb_sensor = ${rc}; GETFAMILY "kb_sensor" now → ${decodeAck(gone).error} (${errnoName(-decodeAck(gone).error)}: ${strerror(-decodeAck(gone).error)})`,
  );
  return out;
}

/** Prints the example. */
export function runExample(print: (line: string) => void): void {
  for (const l of genlFamilyLines()) print(l);
}
