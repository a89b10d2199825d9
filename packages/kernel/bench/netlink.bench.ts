// af_netlink's two hot paths. (1) A kernel multicast of one 64-byte message to 64 listeners: each delivery is an
// skb clone (shared data), a queue append and rmem accounting — no data copy until recvmsg; the listeners' queues
// are emptied after every 64 multicasts, by dropping the skbs as recvmsg would, so the drain is part of the cost.
// (2) A NLMSG_NOOP request with NLM_F_ACK to a kernel socket and its 36-byte ack back, through the system calls
// (sendto + recvfrom: user pointers, copies, the trace) and, as the baseline, the same at the socket layer.
// A real NETLINK_ROUTE request/ack round trip costs 1.56 µs on the project's reference VM (bench-results/ipc-baselines.md); Node cannot
// open a netlink socket without a native addon, so it is quoted rather than measured here.
import { nlmsgPut } from "@kbridge/netlink-codec";
import {
  AF_NETLINK,
  AfNetlink,
  Cred,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  MSG_TRUNC,
  NETLINK,
  type NetlinkCaller,
  type NetlinkSock,
  SO_RCVBUF,
  SOCK_RAW,
  SOL_SOCKET,
} from "../src/index.js";

const root: NetlinkCaller = { tgid: 1, pid: 1, cred: new Cred({ uid: 0, gid: 0 }) };
const af = new AfNetlink({
  random: () => 0x9e3779b9,
  nextIno: (() => {
    let i = 0;
    return () => ++i;
  })(),
});
const ksk = af.netlink_kernel_create(NETLINK.ROUTE, { groups: 32, input: () => {} })!;
const listeners: NetlinkSock[] = [];
for (let i = 0; i < 64; i++) {
  const s = af.socket(SOCK_RAW, NETLINK.ROUTE, { ...root, tgid: 100 + i }) as NetlinkSock;
  af.setsockopt(s, SOL_SOCKET, SO_RCVBUF, 1 << 22, 4, root);
  af.bind(s, { family: AF_NETLINK, portid: 0, groups: 1 }, 12, root);
  listeners.push(s);
}
const payload = new Uint8Array(48);
let sent = 0;
const noCopy = () => 0;
function multicast(): number {
  const skb = af.nlmsg_new(48);
  skb.buffer.set(payload, (nlmsgPut(skb, 0, 0, 0x10, 48, 0) as number) + 16);
  const r = af.nlmsg_multicast(ksk, skb, 0, 1);
  if (++sent % 64 === 0) {
    for (const s of listeners) while (s.queue.length > 0) af.recvmsg(s, 0, MSG_DONTWAIT | MSG_TRUNC, noCopy);
  }
  return r;
}

// The round trip: a module-less kernel socket that acks with netlink_rcv_skb.
const k = new Kernel();
k.netlink.netlink_kernel_create(23, {
  input: (skb) => k.netlink.netlink_rcv_skb(skb, () => 0),
});
const libc = new Libc(k, k.spawn());
const fd = libc.socket(AF_NETLINK, SOCK_RAW, 23);
libc.bind(fd, {});
const req = new Uint8Array(16);
new DataView(req.buffer).setUint32(0, 16, true);
new DataView(req.buffer).setUint16(6, 0x5, true); // NLM_F_REQUEST | NLM_F_ACK; type NLMSG_NOOP
const ureq = libc.dup(req);
const uack = libc.malloc(64);
function syscallRoundTrip(): number {
  k.sys.sendto(libc.task, fd, ureq, 16, 0);
  const r = k.sys.recvfrom(libc.task, fd, uack, 64, MSG_DONTWAIT) as number;
  return r;
}
const usk = (libc.task.fds[fd]!.object as { sock: NetlinkSock }).sock;
const kbuf = new Uint8Array(64);
const fill = (d: Uint8Array) => {
  d.set(req);
  return 0;
};
const keep = (s: Uint8Array) => {
  kbuf.set(s);
  return 0;
};
function socketRoundTrip(): number {
  k.netlink.sendmsg(usk, { len: 16, flags: MSG_DONTWAIT }, fill, libc.task.caller);
  const r = k.netlink.recvmsg(usk, 64, MSG_DONTWAIT, keep);
  return (r as { result: number }).result;
}

export default [
  {
    group: "kernel multicast of a 64-byte message to 64 listeners",
    work: { bytes: 64 * 64, messages: 64 },
    tasks: {
      "nlmsg_multicast to 64 listeners": multicast,
    },
  },
  {
    group: "NLMSG_NOOP request and its ack, 16 bytes out and 36 back",
    tasks: {
      "sendto + recvfrom system calls": syscallRoundTrip,
      "netlink sendmsg + recvmsg at the socket layer (baseline)": socketRoundTrip,
    },
    compare: [
      {
        name: "sendto + recvfrom system calls",
        baseline: "netlink sendmsg + recvmsg at the socket layer (baseline)",
      },
    ],
  },
];
