// The source article's case 1 — a kernel module that multicasts "Device status changed: online" on its own netlink
// protocol, and a user program that listens — run on the simulated kernel twice: as the article wrote it, with what
// the model reports for each of its mistakes (rows N1–N9 of the project's review of the article), and done right.
import {
  AF_NETLINK,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  NETLINK_SOCKOPT,
  type NetlinkSock,
  NL_CFG_F_NONROOT_RECV,
  type RecvResult,
  SIGKILL,
  SOCK_RAW,
  SOL_NETLINK,
} from "@kbridge/kernel";
import { decodeDone, NLMSG_DONE, nlmsgEnd, nlmsgPut, parseDatagram } from "@kbridge/netlink-codec";
import { strerror, utf8Decode, utf8Encode } from "@kbridge/uapi";

/** The article's `NETLINK_MY_PROTO`: 32, outside the 0..31 that exist. */
export const ARTICLE_PROTO = 32;
/** A protocol number mainline leaves free (23–31 are unassigned): what a private protocol can use. */
export const FREE_PROTO = 25;
/** The article's multicast group. */
const GROUP = 1;
/** The message, as a C string literal: 29 characters and a NUL. */
const LITERAL = utf8Encode("Device status changed: online\0");

/** What FORTIFY_SOURCE makes of a memcpy that reads past its source object: a kernel BUG. */
export class FortifyPanic extends Error {}

// The kernel's fortified memcpy: the compiler knows the source object's size (__builtin_object_size) and
// fortify_panic() BUG()s when the copy reads past it.
function memcpy(dst: Uint8Array, src: Uint8Array, n: number): void {
  if (n > src.length) {
    throw new FortifyPanic(
      `detected buffer overflow in memcpy: ${n} bytes read from a ${src.length}-byte object (${n - src.length} past its end)`,
    );
  }
  dst.set(src.subarray(0, n));
}

const perror = (what: string, libc: Libc) => `${what}: ${strerror(libc.errno)}`;

/** The article's module, with the protocol and copy length as parameters so each mistake can be shown on its own. */
function articleModule(k: Kernel, proto: number, len: number, log: string[]) {
  let nlSk: NetlinkSock | null = null;
  // netlink_send_multicast() as the article wrote it.
  const send = (msg: Uint8Array, n: number): number => {
    const skb = k.netlink.nlmsg_new(n);
    const nlh = nlmsgPut(skb, 0, 0, NLMSG_DONE, n, 0); // data sent as NLMSG_DONE (N7)
    if (nlh === null) {
      skb.free();
      return -22;
    }
    memcpy(skb.buffer.subarray(nlh + 16), msg, n); // n = 32 for a 30-byte literal (N2)
    const ret = k.netlink.netlink_broadcast(nlSk!, skb, 0, GROUP); // raw broadcast: dst_group stays 0 (N8)
    if (ret < 0) {
      log.push(`  pr_err: netlink_broadcast failed: ${ret}`);
      try {
        skb.free(); // nlmsg_free(skb) after netlink_broadcast consumed it (N4)
      } catch (e) {
        log.push(`  the model catches the second free: ${(e as Error).message}`);
      }
      return ret;
    }
    return 0;
  };
  return {
    send,
    def: {
      name: "netlink_custom",
      init: () => {
        // cfg.groups = MY_MULTICAST_GROUP ("binds the group", N5); no cfg.flags (N6); no input.
        nlSk = k.netlink.netlink_kernel_create(proto, { groups: GROUP });
        if (nlSk === null) {
          log.push("  pr_err: netlink_kernel_create failed");
          return -12; // -ENOMEM
        }
        log.push("  pr_info: Netlink custom protocol initialized");
        send(LITERAL, len); // from module_init, before anyone can listen (N3)
        return 0;
      },
      exit: () => {
        if (nlSk) k.netlink.netlink_kernel_release(nlSk);
      },
    },
  };
}

/** The user program's start, as the article wrote it: socket(), then bind() with nl_pid 0 and nl_groups 1. */
function articleListener(libc: Libc, proto: number, out: string[]): number {
  const fd = libc.socket(AF_NETLINK, SOCK_RAW, proto);
  if (fd < 0) {
    out.push(`  ${perror("socket failed", libc)}`);
    return -1;
  }
  if (libc.bind(fd, { nl_pid: 0, nl_groups: GROUP }) < 0) {
    out.push(`  ${perror("bind failed", libc)}`);
    libc.close(fd);
    return -1;
  }
  return fd;
}

/** The article's case as written, step by step, with what the model reports for each mistake. */
export function articleAsWritten(): string[] {
  const out: string[] = [];

  // N1: protocol 32.
  {
    const k = new Kernel();
    const log: string[] = [];
    const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
    const mod = articleModule(k, ARTICLE_PROTO, 32, log);
    out.push("N1  insmod with NETLINK_MY_PROTO 32:");
    insmod.init_module(mod.def);
    out.push(...log, `  ${k.trace.at(-1)?.text}`);
    const user = new Libc(k, k.spawn({ comm: "netlink_user", uid: 1000 }));
    articleListener(user, ARTICLE_PROTO, out);
    out.push("    (protocols are 0..31: MAX_LINKS is 32, and 23–31 are the free ones)");
  }

  // N2: with a valid protocol, the 32-byte copy of a 30-byte literal.
  {
    const k = new Kernel();
    const log: string[] = [];
    const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
    const mod = articleModule(k, FREE_PROTO, 32, log);
    out.push("", `N2  the same module on protocol ${FREE_PROTO}: memcpy(nlmsg_data(nlh), msg, 32)`);
    try {
      insmod.init_module(mod.def);
    } catch (e) {
      if (!(e instanceof FortifyPanic)) throw e;
      out.push(...log, `  kernel BUG: ${e.message}`);
      k.kill(insmod.task, SIGKILL);
      const m = k.modules.find_module("netlink_custom");
      const probe = new Libc(k, k.spawn({ comm: "probe", uid: 1000 }));
      const fd = probe.socket(AF_NETLINK, SOCK_RAW, FREE_PROTO);
      out.push(
        `  insmod is killed; the module stays ${m?.state} (rmmod: ${strerror(-k.modules.delete_module("netlink_custom"))}),`,
        `  and its kernel socket stays registered: socket(AF_NETLINK, SOCK_RAW, ${FREE_PROTO}) = ${fd}`,
      );
    }
  }

  // N3, N4, N5: with the length corrected to 30, the broadcast from module_init.
  const k = new Kernel();
  const log: string[] = [];
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  const mod = articleModule(k, FREE_PROTO, LITERAL.length, log);
  out.push("", "N3  with the length corrected to 30, the broadcast from module_init:");
  insmod.init_module(mod.def);
  out.push(...log.splice(0));
  out.push("N4  (that was nlmsg_free after netlink_broadcast, which always consumes the skb)");
  out.push(
    `N5  cfg.groups = 1 "binds the group": it only sizes the protocol's groups, raised to ${k.netlink.protocolGroups(FREE_PROTO)}`,
  );

  // N6: the user program run without root.
  const user = new Libc(k, k.spawn({ comm: "netlink_user", uid: 1000 }));
  out.push("", "N6  ./netlink_user as uid 1000 (no NL_CFG_F_NONROOT_RECV in cfg.flags):");
  articleListener(user, FREE_PROTO, out);

  // N7, N8, N9: as root the listener joins; the module sends again.
  const root = new Libc(k, k.spawn({ comm: "netlink_user" }));
  const fd = articleListener(root, FREE_PROTO, out);
  const port = root.getsockname(fd);
  out.push(
    "",
    `N9  as root, bind(nl_pid = 0 "receive everything") autobinds the socket to port ${port === -1 ? "?" : port.nl_pid} (its pid):`,
    "    it gets unicasts to that port and multicasts of the groups it joined, nothing more",
  );
  mod.send(LITERAL, LITERAL.length);
  const r = root.recvmsg(fd, 1024, MSG_DONTWAIT) as RecvResult;
  const msg = parseDatagram(r.data)[0]!;
  out.push(
    `N7  the listener gets type ${msg.type} (NLMSG_DONE), flags ${msg.flags}, nlmsg_len ${msg.len} in a ${r.ret}-byte datagram;`,
    `    the article's program prints it only because it tests for NLMSG_DONE: "${utf8Decode(msg.payload, 0, msg.payload.length - 1)}"`,
    `    a netlink library ends the dump there, with error ${decodeDone(msg).error} (the bytes "Devi" read as an int)`,
    `N8  source address (portid ${r.name?.nl_pid}, groups 0x${r.name?.nl_groups.toString(16)}): raw netlink_broadcast leaves NETLINK_CB(skb).dst_group 0`,
  );
  return out;
}

/**
 * The article's other netlink claims, shown on the model: the "no intermediate buffer" and "16 MB sysctl" of its
 * table (N10), batching with nlmsg_append (N11), and nl_groups as a group number (M22).
 */
export function netlinkClaims(): string[] {
  const out: string[] = [];
  const k = new Kernel();
  const sk = k.netlink.netlink_kernel_create(FREE_PROTO, { flags: NL_CFG_F_NONROOT_RECV }) as NetlinkSock;
  const user = new Libc(k, k.spawn({ comm: "listener", uid: 1000 }));
  const fd = user.socket(AF_NETLINK, SOCK_RAW, FREE_PROTO);
  user.bind(fd, { nl_groups: 1 });
  const rx = k.netlink.sockets().find((s) => !s.kernel)!;
  const put = (skb: ReturnType<typeof k.netlink.nlmsg_new>, text: string) => {
    const b = utf8Encode(`${text}\0`);
    const nlh = nlmsgPut(skb, 0, 0, 0x10, b.length, 0)!;
    skb.buffer.set(b, nlh + 16);
    nlmsgEnd(skb, nlh);
  };
  const one = k.netlink.nlmsg_new(32);
  put(one, "event 1");
  k.netlink.nlmsg_multicast(sk, one, 0, 1);
  out.push(
    `N10 "1 copy, no intermediate buffer": the message waits as an skb in the listener's queue, charged to its receive`,
    `    buffer (rmem ${rx.rmem} of ${rx.rcvbuf}) until recvmsg copies it; no "net.core.netlink_max_skb_len" exists —`,
  );
  const big = user.socket(AF_NETLINK, SOCK_RAW, FREE_PROTO);
  const sent = user.sendto(big, new Uint8Array(212961), 0x40, {});
  out.push(
    `    a user send is bounded by sk_sndbuf − 32: sendto(212961 bytes) = ${sent} ${sent === -1 ? strerror(user.errno) : ""}`,
  );
  const r1 = user.recvmsg(fd, 4096, MSG_DONTWAIT) as RecvResult;
  // N11: two messages put into one skb: one datagram, one recvmsg.
  const batch = k.netlink.nlmsg_new(64);
  put(batch, "event 2");
  put(batch, "event 3");
  k.netlink.nlmsg_multicast(sk, batch, 0, 1);
  const r2 = user.recvmsg(fd, 4096, MSG_DONTWAIT) as RecvResult;
  out.push(
    `N11 batching is nlmsg_put twice into one skb (nlmsg_append only grows the current message): one recvmsg returns`,
    `    ${r2.ret} bytes holding ${parseDatagram(r2.data).length} messages, against ${r1.ret} bytes and 1 message before`,
  );
  // M22: nl_groups is a mask.
  const other = user.socket(AF_NETLINK, SOCK_RAW, FREE_PROTO);
  user.bind(other, { nl_groups: 5 }); // meant "group 5", means groups 1 and 3
  out.push(
    `M22 nl_groups is a bit mask: bind(nl_groups = 5) joins groups ${[1, 2, 3, 4, 5].filter((g) => sockOf(user, other).inGroup(g)).join(" and ")},`,
    `    not group 5; for group N use 1 << (N − 1), or setsockopt(NETLINK_ADD_MEMBERSHIP, N) above 32`,
  );
  return out;
}

// The kernel's socket behind a process's descriptor (what /proc/net/netlink would show).
function sockOf(libc: Libc, fd: number): NetlinkSock {
  const o = libc.task.fds[fd]!.object;
  if (o.kind !== "netlink") throw new Error("not a netlink socket");
  return o.sock;
}

/** The corrected case: a free protocol, NONROOT_RECV, a real message type, strlen + 1, nlmsg_multicast, -ESRCH as success. */
export function doneRight(): string[] {
  const out: string[] = [];
  const k = new Kernel();
  let nlSk: NetlinkSock | null = null;
  const results: number[] = [];
  const send = (text: string): number => {
    const s = utf8Encode(`${text}\0`); // strlen + 1
    const skb = k.netlink.nlmsg_new(s.length);
    const nlh = nlmsgPut(skb, 0, 0, 0x10, s.length, 0); // NLMSG_MIN_TYPE: a data message
    if (nlh === null) {
      skb.free();
      return -90; // -EMSGSIZE
    }
    skb.buffer.set(s, nlh + 16);
    nlmsgEnd(skb, nlh);
    const ret = k.netlink.nlmsg_multicast(nlSk!, skb, 0, GROUP); // sets dst_group; consumes the skb
    results.push(ret);
    return ret === -3 ? 0 : ret; // -ESRCH: nobody listens, which is fine (nlmsg_notify does the same)
  };
  const insmod = new Libc(k, k.spawn({ comm: "insmod" }));
  insmod.init_module({
    name: "netlink_status",
    init: () => {
      nlSk = k.netlink.netlink_kernel_create(FREE_PROTO, { groups: GROUP, flags: NL_CFG_F_NONROOT_RECV });
      if (nlSk === null) return -12;
      return send("Device status changed: online");
    },
    exit: () => {
      if (nlSk) k.netlink.netlink_kernel_release(nlSk);
    },
  });
  out.push(
    `insmod: protocol ${FREE_PROTO} with NL_CFG_F_NONROOT_RECV; the status sent at load reached nobody (${results[0]}, -ESRCH), treated as success, nothing freed twice`,
  );

  const user = new Libc(k, k.spawn({ comm: "status_listener", uid: 1000 }));
  const fd = user.socket(AF_NETLINK, SOCK_RAW, FREE_PROTO);
  user.bind(fd, { nl_groups: 1 << (GROUP - 1) });
  user.setsockopt(fd, SOL_NETLINK, NETLINK_SOCKOPT.PKTINFO, 1);
  send("Device status changed: online");
  const r = user.recvmsg(fd, 1024, MSG_DONTWAIT) as RecvResult;
  const msg = parseDatagram(r.data)[0]!;
  out.push(
    `uid 1000 joined group ${GROUP}; the module multicasts; the listener gets type 0x${msg.type.toString(16)}, nlmsg_len ${msg.len} in ${r.ret} bytes:`,
    `  "${utf8Decode(msg.payload, 0, msg.payload.indexOf(0))}" from (portid ${r.name?.nl_pid}, groups 0x${r.name?.nl_groups.toString(16)}), PKTINFO group ${r.cmsgs[0]?.data[0]}`,
    "",
    "the listener's system calls:",
    ...k.trace
      .filter((e) => e.pid === user.task.pid && e.name !== "mmap")
      .map((e) => `  ${e.text.length > 150 ? `${e.text.slice(0, 147)}...` : e.text}`),
  );
  user.close(fd);
  k.exit(user.task);
  const rc = insmod.delete_module("netlink_status");
  out.push(
    "",
    `rmmod: delete_module = ${rc}; skbs alive: ${k.netlink.skbsInUse()}; netlink sockets left: ${k.netlink.sockets().filter((s) => s.protocol === FREE_PROTO).length}`,
  );
  return out;
}

/** Prints the whole example. */
export function runExample(print: (line: string) => void): void {
  print("The source article's netlink case, as written:");
  for (const l of articleAsWritten()) print(l);
  for (const l of netlinkClaims()) print(l);
  print("");
  print("Done right:");
  for (const l of doneRight()) print(l);
}
