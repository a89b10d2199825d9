// AF_UNIX through the system calls: socketpair, a named listener with connect/accept, SCM_RIGHTS moving an open file
// from one process to another in sendmsg/recvmsg control data, SCM_CREDENTIALS, and the trace.
import { describe, expect, it } from "vitest";
import {
  AF_NETLINK,
  AF_UNIX,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  NETLINK,
  type RecvResult,
  SCM_CREDENTIALS,
  SCM_RIGHTS,
  SO_PASSCRED,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_STREAM,
  SOL_SOCKET,
  sockaddrUn,
} from "../src/index.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

function rightsCmsg(fds: number[]): Uint8Array {
  const c = new Uint8Array(16 + 4 * fds.length + (fds.length % 2 ? 4 : 0));
  const dv = new DataView(c.buffer);
  dv.setBigUint64(0, BigInt(16 + 4 * fds.length), true);
  dv.setInt32(8, SOL_SOCKET, true);
  dv.setInt32(12, SCM_RIGHTS, true);
  for (const [i, fd] of fds.entries()) dv.setInt32(16 + 4 * i, fd, true);
  return c;
}

describe("AF_UNIX through system calls", () => {
  it("socketpair: a stream between two descriptors, and the trace", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "pair" }));
    const sv = p.socketpair(AF_UNIX, SOCK_STREAM);
    expect(sv).toEqual([0, 1]);
    const [a, b] = sv as [number, number];
    expect(p.write(a, enc.encode("hello"))).toBe(5);
    expect(p.write(a, enc.encode(" world"))).toBe(6);
    expect(dec.decode(p.read(b, 64) as Uint8Array)).toBe("hello world"); // a stream has no boundaries
    expect(k.traceText()).toContain("socketpair(AF_UNIX, SOCK_STREAM, 0, [0, 1]) = 0");
    p.close(a);
    expect(p.read(b, 64)).toEqual(new Uint8Array(0)); // EOF
  });

  it("a named listener: bind, listen, connect, accept, names both ways", async () => {
    const k = new Kernel();
    const server = new Libc(k, k.spawn({ comm: "server" }));
    const client = new Libc(k, k.spawn({ comm: "client", uid: 1000 }));
    const ls = server.socket(AF_UNIX, SOCK_STREAM, 0);
    expect(server.bind(ls, sockaddrUn("/run/demo.sock"))).toBe(0);
    expect(server.listen(ls, 4)).toBe(0);
    const pending = server.accept(ls);
    expect(pending).toBeInstanceOf(Promise);
    const cs = client.socket(AF_UNIX, SOCK_STREAM, 0);
    expect(client.connect(cs, sockaddrUn("/run/demo.sock"))).toBe(0);
    const conn = (await pending) as number;
    expect(conn).toBe(1);
    expect(k.traceText()).toContain('bind(0, {sa_family=AF_UNIX, sun_path="/run/demo.sock"}, 17) = 0');
    expect(client.write(cs, enc.encode("ping"))).toBe(4);
    expect(dec.decode(server.read(conn, 16) as Uint8Array)).toBe("ping");
    // A second bind of the same path while it exists is EADDRINUSE.
    const other = server.socket(AF_UNIX, SOCK_STREAM, 0);
    expect(server.bind(other, sockaddrUn("/run/demo.sock"))).toBe(-1);
    expect(server.errno).toBe(98);
    // Nothing listens at another path: ECONNREFUSED (the path does not exist: ENOENT).
    const c2 = client.socket(AF_UNIX, SOCK_STREAM, 0);
    expect(client.connect(c2, sockaddrUn("/run/nothing.sock"))).toBe(-1);
    expect([2, 111]).toContain(client.errno);
  });

  it("SCM_RIGHTS moves an open netlink socket to another process; SCM_CREDENTIALS with SO_PASSCRED", () => {
    const k = new Kernel();
    const parent = new Libc(k, k.spawn({ comm: "parent" }));
    const [a, b] = parent.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    const child = new Libc(k, k.fork(parent.task));
    parent.close(b);
    child.close(a);
    const nl = parent.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    parent.bind(nl, {});
    expect(parent.sendmsg(a, { iov: [enc.encode("take this")], control: rightsCmsg([nl]) })).toBe(9);
    parent.close(nl); // still open: the message holds a reference
    expect(child.setsockopt(b, SOL_SOCKET, SO_PASSCRED, 1)).toBe(0);
    const r = child.recvmsg(b, 64, MSG_DONTWAIT, 64) as RecvResult;
    expect(dec.decode(r.data)).toBe("take this");
    const rights = r.cmsgs.find((c) => c.type === SCM_RIGHTS)!;
    const got = new DataView(rights.data.buffer, rights.data.byteOffset).getInt32(0, true);
    expect(child.task.fds[got]?.object.kind).toBe("netlink");
    // The passed socket is the parent's: same port.
    expect(child.getsockname(got)).toEqual({ nl_family: AF_NETLINK, nl_pid: parent.task.pid, nl_groups: 0 });
    // Credentials came too (sent without SO_PASSCRED on either side, read with it: as the kernel reports them).
    expect(r.cmsgs.some((c) => c.type === SCM_CREDENTIALS)).toBe(true);
    child.close(got);
    expect(k.netlink.sockets().filter((s) => !s.kernel)).toHaveLength(0);
    expect(k.unix.filesInFlight).toBe(0);
  });

  it("a control buffer too small for the descriptors: MSG_CTRUNC and the files are dropped", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn());
    const [a, b] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    const nl = p.socket(AF_NETLINK, SOCK_RAW, NETLINK.USERSOCK);
    p.sendmsg(a, { iov: [enc.encode("x")], control: rightsCmsg([nl, nl]) });
    p.close(nl);
    const r = p.recvmsg(b, 8, MSG_DONTWAIT, 20) as RecvResult;
    expect(r.flags & 0x8).toBe(0x8); // MSG_CTRUNC: room for one descriptor only
    expect(r.cmsgs[0]!.data.length).toBe(4);
    const fd = new DataView(r.cmsgs[0]!.data.buffer, r.cmsgs[0]!.data.byteOffset).getInt32(0, true);
    p.close(fd);
    expect(k.netlink.sockets().filter((s) => !s.kernel)).toHaveLength(0);
  });

  it("unix_gc: a socket sent over itself and closed is collected at the next release of a unix socket", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn());
    const [a, b] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    // b travels in a message queued on b itself (a's peer): only that message keeps it.
    expect(p.sendmsg(a, { iov: [enc.encode("x")], control: rightsCmsg([b]) })).toBe(1);
    p.close(b);
    expect(k.unix.sockets).toBe(2);
    expect(k.unix.filesInFlight).toBe(1);
    // Closing a releases it, and unix_release_sock() runs the collector: b's queue is purged and b goes.
    p.close(a);
    expect(k.unix.sockets).toBe(0);
    expect(k.unix.filesInFlight).toBe(0);
    // A socket in flight to a receiver a process still holds is not garbage.
    const [c, d] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    const [e, f] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    p.sendmsg(c, { iov: [enc.encode("y")], control: rightsCmsg([e]) }); // e waits in d's queue
    p.close(e);
    expect(k.unix.unix_gc()).toBe(0);
    const r = p.recvmsg(d, 8, MSG_DONTWAIT, 64) as RecvResult;
    expect(r.cmsgs[0]?.type).toBe(SCM_RIGHTS);
    for (const fd of [
      c,
      d,
      f,
      new DataView(r.cmsgs[0]!.data.buffer, r.cmsgs[0]!.data.byteOffset).getInt32(0, true),
    ])
      p.close(fd);
    expect(k.unix.sockets).toBe(0);
  });
});
