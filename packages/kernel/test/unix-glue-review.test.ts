// Review of the AF_UNIX system-call glue against net/socket.c, net/core/scm.c and fs/fcntl.c: the order of the
// checks, what reaches user memory when a copy faults, the references of files in flight, fcntl's F_SETFL/F_GETFL,
// and the trace text.
import { describe, expect, it } from "vitest";
import {
  AF_NETLINK,
  AF_UNIX,
  F_GETFL,
  F_SETFL,
  Kernel,
  Libc,
  MSG_DONTWAIT,
  O_DIRECT,
  type RecvResult,
  SCM_RIGHTS,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_RAW,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  SOL_SOCKET,
  sockaddrUn,
} from "../src/index.js";

const EBADF = -9;
const EFAULT = -14;
const EINVAL = -22;
const ENOTCONN = -107;
const EOPNOTSUPP = -95;
const EPROTONOSUPPORT = -93;
const ESOCKTNOSUPPORT = -94;
const MSG_CTRUNC = 0x8;
const O_NONBLOCK = 0o4000;
const O_RDWR = 2;
const SOL_NETLINK = 270;
/** An address no test maps. */
const UNMAPPED = 0x10;

const enc = new TextEncoder();

function rightsCmsg(fds: number[], len = 16 + 4 * fds.length): Uint8Array {
  const c = new Uint8Array(Math.max(16, (len + 7) & ~7));
  const dv = new DataView(c.buffer);
  dv.setBigUint64(0, BigInt(len), true);
  dv.setInt32(8, SOL_SOCKET, true);
  dv.setInt32(12, SCM_RIGHTS, true);
  for (const [i, fd] of fds.entries()) dv.setInt32(16 + 4 * i, fd, true);
  return c;
}

// A msghdr with one iovec of `len` bytes, no name, and the control buffer at `ctl` (`ctllen` bytes).
function msghdrAt(p: Libc, len: number, ctl: number, ctllen: number): { mh: number; buf: number } {
  const buf = p.malloc(len);
  const iov = p.malloc(16);
  const iv = new DataView(new ArrayBuffer(16));
  iv.setBigUint64(0, BigInt(buf), true);
  iv.setBigUint64(8, BigInt(len), true);
  p.poke(iov, new Uint8Array(iv.buffer));
  const m = new DataView(new ArrayBuffer(56));
  m.setBigUint64(16, BigInt(iov), true);
  m.setBigUint64(24, 1n, true);
  m.setBigUint64(32, BigInt(ctl), true);
  m.setBigUint64(40, BigInt(ctllen), true);
  return { mh: p.dup(new Uint8Array(m.buffer)), buf };
}

const i32 = (p: Libc, a: number) => new DataView(p.peek(a, 4).buffer).getInt32(0, true);
const u64 = (p: Libc, a: number) => Number(new DataView(p.peek(a, 8).buffer).getBigUint64(0, true));
const openFds = (p: Libc) => p.task.fds.filter((f) => f !== undefined).length;

describe("AF_UNIX glue review: socketpair (__sys_socketpair)", () => {
  it("sv is written before the sockets are created: EFAULT first, the numbers even when creation fails", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "pair" }));
    const sv = p.dup(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    // unix_create(): protocol 7 is EPROTONOSUPPORT — after put_user() stored the reserved descriptors.
    expect(k.sys.socketpair(p.task, AF_UNIX, SOCK_STREAM, 7, sv)).toBe(EPROTONOSUPPORT);
    expect([i32(p, sv), i32(p, sv + 4)]).toEqual([0, 1]);
    expect(openFds(p)).toBe(0);
    // A fault writing sv comes before any family check, and no socket is made.
    const before = k.unix.sockets;
    expect(k.sys.socketpair(p.task, AF_NETLINK, SOCK_RAW, 0, UNMAPPED)).toBe(EFAULT);
    expect(k.sys.socketpair(p.task, AF_UNIX, SOCK_STREAM, 0, UNMAPPED)).toBe(EFAULT);
    expect(k.sys.socketpair(p.task, 46, SOCK_STREAM, 0, UNMAPPED)).toBe(EFAULT);
    expect(k.unix.sockets).toBe(before);
    // netlink_create() runs before sock_no_socketpair: a type netlink has no socket for is ESOCKTNOSUPPORT.
    expect(k.sys.socketpair(p.task, AF_NETLINK, SOCK_STREAM, 0, sv)).toBe(ESOCKTNOSUPPORT);
    expect(k.sys.socketpair(p.task, AF_NETLINK, SOCK_RAW, 0, sv)).toBe(-95);
    // The flags are checked before anything is written.
    expect(k.sys.socketpair(p.task, AF_UNIX, SOCK_STREAM | 0x100, 0, UNMAPPED)).toBe(EINVAL);
  });

  it("the trace shows SOCK_CLOEXEC / SOCK_NONBLOCK of socketpair's type", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "pair" }));
    expect(p.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)).toEqual([0, 1]);
    expect(k.traceText()).toContain("socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, [0, 1]) = 0");
  });
});

describe("AF_UNIX glue review: accept4, setsockopt, getsockopt", () => {
  it("accept4: a bad descriptor is EBADF before bad flags are EINVAL (__sys_accept4)", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "srv" }));
    expect(k.sys.accept4(p.task, 9, 0, 0, 0x1)).toBe(EBADF);
    const [a] = p.socketpair(AF_UNIX, SOCK_STREAM) as [number, number];
    expect(k.sys.accept4(p.task, a, 0, 0, 0x1)).toBe(EINVAL);
  });

  it("another level than SOL_SOCKET is EOPNOTSUPP without touching optval/optlen (no unix ->setsockopt)", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "opt" }));
    const [a] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    expect(k.sys.setsockopt(p.task, a, SOL_NETLINK, 1, UNMAPPED, 4)).toBe(EOPNOTSUPP);
    expect(k.sys.getsockopt(p.task, a, SOL_NETLINK, 1, UNMAPPED, UNMAPPED)).toBe(EOPNOTSUPP);
    // At SOL_SOCKET the value is still read (sk_setsockopt): EFAULT.
    expect(k.sys.setsockopt(p.task, a, SOL_SOCKET, 16, UNMAPPED, 4)).toBe(EFAULT);
  });
});

describe("AF_UNIX glue review: sendmsg control data (__scm_send, scm_fp_copy)", () => {
  it("an SCM_RIGHTS message without a whole descriptor adds nothing and is no error", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "send" }));
    const [a, b] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    expect(p.sendmsg(a, { iov: [enc.encode("x")], control: rightsCmsg([], 16) })).toBe(1);
    expect(p.sendmsg(a, { iov: [enc.encode("y")], control: rightsCmsg([], 19) })).toBe(1);
    const r = p.recvmsg(b, 8, MSG_DONTWAIT) as RecvResult;
    expect(r.ret).toBe(1);
    expect(r.cmsgs).toEqual([]);
  });

  it("seqpacket: ENOTCONN comes before the control data is checked (unix_seqpacket_sendmsg)", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "seq" }));
    const s = p.socket(AF_UNIX, SOCK_SEQPACKET, 0);
    expect(k.sys.sendmsg(p.task, s, msghdrWith(p, rightsCmsg([42])), 0)).toBe(ENOTCONN);
    // Connected, the bad descriptor is what fails.
    const [a] = p.socketpair(AF_UNIX, SOCK_SEQPACKET) as [number, number];
    expect(k.sys.sendmsg(p.task, a, msghdrWith(p, rightsCmsg([42])), 0)).toBe(EBADF);
  });
});

function msghdrWith(p: Libc, control: Uint8Array): number {
  const ctl = p.dup(control);
  const { mh, buf } = msghdrAt(p, 1, ctl, control.length);
  p.poke(buf, Uint8Array.of(0x61));
  return mh;
}

describe("AF_UNIX glue review: recvmsg control data (scm_detach_fds)", () => {
  it("a control buffer that faults installs no descriptor, drops the files and sets MSG_CTRUNC", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "recv" }));
    const [a, b] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    const [r, w] = p.pipe() as [number, number];
    expect(p.sendmsg(a, { iov: [enc.encode("f")], control: rightsCmsg([w]) })).toBe(1);
    expect(p.close(w)).toBe(0); // the message now holds the only reference to the write end
    const fdsBefore = openFds(p);
    const { mh } = msghdrAt(p, 8, UNMAPPED, 64);
    expect(k.sys.recvmsg(p.task, b, mh, 0)).toBe(1);
    expect(openFds(p)).toBe(fdsBefore); // receive_fd()'s put_user failed: nothing installed
    expect(i32(p, mh + 48) & MSG_CTRUNC).toBe(MSG_CTRUNC);
    expect(u64(p, mh + 40)).toBe(0);
    // __scm_destroy() dropped the write end: the pipe reads EOF.
    expect(p.read(r, 8)).toEqual(new Uint8Array(0));
  });

  it("the descriptors are installed as they are stored; MSG_CMSG_CLOEXEC marks them", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "recv" }));
    const [a, b] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    const [r, w] = p.pipe() as [number, number];
    expect(p.sendmsg(a, { iov: [enc.encode("f")], control: rightsCmsg([r, w]) })).toBe(1);
    const ctl = p.malloc(64);
    const { mh } = msghdrAt(p, 8, ctl, 64);
    expect(k.sys.recvmsg(p.task, b, mh, 0x40000000)).toBe(1);
    expect(u64(p, ctl)).toBe(24);
    expect([i32(p, ctl + 8), i32(p, ctl + 12)]).toEqual([SOL_SOCKET, SCM_RIGHTS]);
    const got = [i32(p, ctl + 16), i32(p, ctl + 20)];
    expect(got).toEqual([4, 5]);
    expect(got.every((fd) => p.task.cloexec.has(fd))).toBe(true);
    expect(u64(p, mh + 40)).toBe(24);
    expect(i32(p, mh + 48) & MSG_CTRUNC).toBe(0);
  });

  it("a task killed while its recvmsg takes a message does not leak the files it carried", async () => {
    for (let ticks = 0; ticks < 8; ticks++) {
      const k = new Kernel();
      const rx = new Libc(k, k.spawn({ comm: "rx" }));
      const tx = new Libc(k, k.spawn({ comm: "tx" }));
      const [a, b] = rx.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
      // tx shares the sending end, as after fork().
      const sendEnd = rx.task.fds[a]!;
      sendEnd.refs++;
      tx.task.fds[0] = sendEnd;
      rx.close(a);
      const [r, w] = tx.pipe() as [number, number];
      const { mh } = msghdrAt(rx, 8, rx.malloc(64), 64);
      const pending = k.sys.recvmsg(rx.task, b, mh, 0);
      expect(pending).toBeInstanceOf(Promise);
      expect(tx.sendmsg(0, { iov: [enc.encode("f")], control: rightsCmsg([w]) })).toBe(1);
      expect(tx.close(w)).toBe(0);
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      if (!rx.task.exited) k.kill(rx.task, 9);
      await pending;
      await new Promise((res) => setTimeout(res, 0));
      // Whatever point the kill hit, the write end is gone once the receiver is: the pipe reads EOF.
      expect(tx.fcntl(r, F_SETFL, O_NONBLOCK)).toBe(0);
      expect(tx.read(r, 8)).toEqual(new Uint8Array(0));
    }
  });
});

describe("AF_UNIX glue review: recvfrom's address (__sys_recvfrom, move_addr_to_user)", () => {
  it("an unbound sender still writes *addrlen = 0, and an unreadable addrlen is EFAULT", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "rf" }));
    const [a, b] = p.socketpair(AF_UNIX, SOCK_DGRAM) as [number, number];
    expect(p.write(a, enc.encode("one"))).toBe(3);
    const buf = p.malloc(8);
    const addr = p.malloc(110);
    const len = p.dup(Uint8Array.of(110, 0, 0, 0));
    expect(k.sys.recvfrom(p.task, b, buf, 8, 0, addr, len)).toBe(3);
    expect(i32(p, len)).toBe(0);
    expect(p.write(a, enc.encode("two"))).toBe(3);
    expect(k.sys.recvfrom(p.task, b, buf, 8, 0, addr, UNMAPPED)).toBe(EFAULT);
  });

  it("a bound sender's address and its length, in memory and in the trace", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "rf" }));
    const rx = p.socket(AF_UNIX, SOCK_DGRAM, 0);
    const tx = p.socket(AF_UNIX, SOCK_DGRAM, 0);
    expect(p.bind(rx, sockaddrUn("/run/rx"))).toBe(0);
    expect(p.bind(tx, sockaddrUn("/run/tx"))).toBe(0);
    expect(p.connect(tx, sockaddrUn("/run/rx"))).toBe(0);
    expect(p.write(tx, enc.encode("hi"))).toBe(2);
    const buf = p.malloc(8);
    const addr = p.malloc(110);
    const len = p.dup(Uint8Array.of(110, 0, 0, 0));
    expect(k.sys.recvfrom(p.task, rx, buf, 8, 0, addr, len)).toBe(2);
    expect(i32(p, len)).toBe(10);
    expect(k.traceText(1)).toContain('{sa_family=AF_UNIX, sun_path="/run/tx"}, [10]) = 2');
  });
});

describe("AF_UNIX glue review: fcntl (do_fcntl, setfl)", () => {
  it("F_GETFL of a netlink socket has O_RDWR, as sock_alloc_file opened it", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "nl" }));
    const s = p.socket(AF_NETLINK, SOCK_RAW, 0);
    expect(p.fcntl(s, F_GETFL)).toBe(O_RDWR);
    const u = p.socket(AF_UNIX, SOCK_STREAM, 0);
    expect(p.fcntl(u, F_GETFL)).toBe(O_RDWR);
  });

  it("F_SETFL O_DIRECT: EINVAL on a socket; on a pipe it is set and cleared (packet mode)", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "fl" }));
    const u = p.socket(AF_UNIX, SOCK_STREAM, 0);
    expect(k.sys.fcntl(p.task, u, F_SETFL, O_DIRECT | O_NONBLOCK)).toBe(EINVAL);
    expect(p.fcntl(u, F_GETFL)).toBe(O_RDWR); // nothing changed
    const [r, w] = p.pipe() as [number, number];
    expect(p.fcntl(w, F_SETFL, O_DIRECT)).toBe(0);
    expect(p.fcntl(w, F_GETFL) & O_DIRECT).toBe(O_DIRECT);
    expect(p.write(w, enc.encode("ab"))).toBe(2);
    expect(p.write(w, enc.encode("cd"))).toBe(2);
    expect(p.read(r, 16)).toEqual(enc.encode("ab")); // one packet per read
    expect(p.fcntl(w, F_SETFL, 0)).toBe(0);
    expect(p.fcntl(w, F_GETFL) & O_DIRECT).toBe(0);
    expect(p.read(r, 16)).toEqual(enc.encode("cd"));
    expect(p.write(w, enc.encode("ef"))).toBe(2);
    expect(p.write(w, enc.encode("gh"))).toBe(2);
    expect(p.read(r, 16)).toEqual(enc.encode("efgh")); // merged again
  });
});

describe("AF_UNIX glue review: the trace", () => {
  it("getsockname shows the address's real length; sun_path is quoted as strace quotes it", () => {
    const k = new Kernel();
    const p = new Libc(k, k.spawn({ comm: "tr" }));
    const s = p.socket(AF_UNIX, SOCK_DGRAM, 0);
    expect(p.bind(s, sockaddrUn("a\0b\n", true))).toBe(0);
    const addr = p.malloc(110);
    const len = p.dup(Uint8Array.of(110, 0, 0, 0));
    expect(k.sys.getsockname(p.task, s, addr, len)).toBe(0);
    expect(i32(p, len)).toBe(7);
    expect(k.traceText(1)).toContain('getsockname(0, {sa_family=AF_UNIX, sun_path=@"a\\0b\\n"}, [7]) = 0');
    const t = p.socket(AF_UNIX, SOCK_DGRAM, 0);
    expect(p.bind(t, sockaddrUn('/run/"q"\t1'))).toBe(0);
    expect(k.traceText(1)).toContain('sun_path="/run/\\"q\\"\\t1"}');
  });
});
