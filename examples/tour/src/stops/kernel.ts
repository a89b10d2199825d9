// @kbridge/kernel: processes on one simulated kernel talk netlink through system calls. A monitor joins the link
// group, an administrator sends a bad RTM_SETLINK and gets the kernel's extended ack, then a good one; the monitor
// receives the notification; the syscall trace shows every call with its pointers and result.
import {
  IFLA,
  Kernel,
  Libc,
  NETLINK,
  NETLINK_SOCKOPT,
  RTM,
  RTNLGRP,
  SOCK_RAW,
  SOL_NETLINK,
} from "@kbridge/kernel";
import { decodeAck, NLM_F, NlWriter, parseDatagram } from "@kbridge/netlink-codec";
import { ifinfomsg } from "@kbridge/uapi";
import type { Stop } from "../tour.js";

const AF_NETLINK = 16;

function setlinkMtu(seq: number, mtu: Uint8Array): Uint8Array {
  const w = new NlWriter();
  w.beginMessage({ type: RTM.SETLINK, flags: NLM_F.REQUEST | NLM_F.ACK, seq });
  w.putStruct(ifinfomsg.encode({ ifi_index: 1 }));
  w.putAttr(IFLA.MTU, mtu);
  w.endMessage();
  return w.finish();
}

function lines(): string[] {
  const k = new Kernel();
  const monitor = new Libc(k, k.spawn({ comm: "ip-monitor", uid: 1000 }));
  const admin = new Libc(k, k.spawn({ comm: "ip" }));
  const out: string[] = [];

  const mfd = monitor.socket(AF_NETLINK, SOCK_RAW, NETLINK.ROUTE);
  monitor.bind(mfd, { nl_groups: 1 << (RTNLGRP.LINK - 1) });
  const fd = admin.socket(AF_NETLINK, SOCK_RAW, NETLINK.ROUTE);
  admin.setsockopt(fd, SOL_NETLINK, NETLINK_SOCKOPT.EXT_ACK, 1);

  // A 2-byte IFLA_MTU where the policy wants a u32: the kernel answers with an extended ack.
  admin.sendto(fd, setlinkMtu(1, Uint8Array.of(0xdc, 0x05)), 0, {});
  const bad = admin.recvmsg(fd, 4096, 0x40);
  if (bad instanceof Promise) throw new Error("the ack should be queued");
  const ack = decodeAck(parseDatagram(bad.data)[0]!);
  out.push(
    `RTM_SETLINK lo with a 2-byte IFLA_MTU → NLMSG_ERROR ${ack.error} (${ack.code}) "${ack.extack?.msg}", offset ${ack.extack?.offs}`,
  );

  const mtu = new Uint8Array(4);
  new DataView(mtu.buffer).setUint32(0, 1500, true);
  admin.sendto(fd, setlinkMtu(2, mtu), 0, {});
  const good = admin.recvmsg(fd, 4096, 0x40);
  if (good instanceof Promise) throw new Error("the ack should be queued");
  out.push(`the same with 4 bytes (mtu 1500) → ack ${decodeAck(parseDatagram(good.data)[0]!).error}`);

  const note = monitor.recvmsg(mfd, 8192, 0x40);
  if (note instanceof Promise) throw new Error("the notification should be queued");
  const msg = parseDatagram(note.data)[0]!;
  out.push(
    `the monitor (uid 1000, group RTNLGRP_LINK) got type ${msg.type} (RTM_NEWLINK), ${note.ret} bytes, from port ${note.name?.nl_pid} group mask ${note.name?.nl_groups}`,
  );
  out.push(`lo's mtu is now ${k.rtnl.dev_get_by_name("lo")?.mtu}`);
  out.push("", "the system calls, as strace -f prints them:");
  for (const e of k.trace.filter((t) => t.name !== "mmap")) out.push(`  [pid ${e.pid}] ${e.text}`);
  const c = k.vmm.uaccessStats();
  out.push("", `every byte crossed copy_from_user/copy_to_user: ${c.calls} calls, ${c.bytesCopied} bytes`);
  return out;
}

/** The kernel stop. */
export const kernelStop: Stop = {
  title: "@kbridge/kernel — netlink between processes and the kernel, through system calls",
  lines,
  // In brief, the trace's long lines are cut the way `strace -s` cuts strings.
  brief: () => lines().map((l) => (l.startsWith("  [pid") && l.length > 118 ? `${l.slice(0, 115)}...` : l)),
};
