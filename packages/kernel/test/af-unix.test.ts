// af_unix against net/unix/af_unix.c (Linux 6.12): stream, datagram and seqpacket sockets between processes, names,
// connect/listen/accept, EOF/EPIPE/ECONNRESET, the send-buffer and max_dgram_qlen limits, SCM_RIGHTS and
// SCM_CREDENTIALS, SO_PEERCRED, poll masks, and the leak counters at the end of each story.
import { describe, expect, it } from "vitest";
import {
  type FileCaller,
  FMODE_READ,
  FMODE_WRITE,
  type IovIter,
  Kernel,
  KFile,
  Libc,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_TRUNC,
  type OpenFile,
  SO_RCVBUF,
  SO_SNDBUF,
  SOCK_DGRAM,
  SOL_SOCKET,
  type Task,
} from "../src/index.js";
import {
  AF_UNIX,
  AfUnix,
  fput,
  MSG_NOSIGNAL,
  SCM_MAX_FD,
  SCM_RIGHTS,
  SHUT_WR,
  SO_ERROR,
  SO_PASSCRED,
  SO_PEERCRED,
  SO_TYPE,
  SOCK_SEQPACKET,
  SOCK_STREAM,
  scm_detach_fds,
  type UnixRecv,
  unix_get_socket,
} from "../src/net/unix/af-unix.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const EPERM = -1;
const ENOENT = -2;
const EINTR = -4;
const EAGAIN = -11;
const EINVAL = -22;
const EPIPE = -32;
const EPROTOTYPE = -91;
const EOPNOTSUPP = -95;
const EADDRINUSE = -98;
const ECONNRESET = -104;
const EISCONN = -106;
const ENOTCONN = -107;
const ECONNREFUSED = -111;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLHUP = 0x10;
const POLLRDHUP = 0x2000;

interface Proc {
  readonly t: Task;
  readonly c: Libc;
  readonly caller: FileCaller;
}

function boot() {
  const k = new Kernel();
  const un = new AfUnix(k);
  const proc = (comm: string, uid = 0): Proc => {
    const t = k.spawn({ comm, uid });
    return { t, c: new Libc(k, t), caller: k.sys.fileCaller(t) };
  };
  return { k, un, proc };
}

// An iov_iter over `n` bytes of the process's memory (filled with `fill`), as syscalls.ts builds it.
function userIter(
  k: Kernel,
  p: Proc,
  n: number,
  fill?: Uint8Array,
): IovIter & { bytes(m: number): Uint8Array } {
  const base = p.c.malloc(Math.max(n, 1));
  if (fill) p.c.poke(base, fill);
  let at = 0;
  const enter = () => {
    if (k.vmm.current !== p.t.mm) k.vmm.switch_mm(p.t.mm);
  };
  return {
    get count() {
      return n - at;
    },
    copyOut(src: Uint8Array) {
      enter();
      const m = Math.min(src.length, n - at);
      if (m === 0) return 0;
      const done = m - k.vmm.copy_to_user(base + at, src.subarray(0, m), m);
      at += done;
      return done;
    },
    copyIn(dst: Uint8Array) {
      enter();
      const m = Math.min(dst.length, n - at);
      if (m === 0) return 0;
      const done = m - k.vmm.copy_from_user(dst.subarray(0, m), base + at, m);
      at += done;
      return done;
    },
    bytes(m: number) {
      return p.c.peek(base, m);
    },
  };
}

// struct sockaddr_un for a path (length: offsetof(sun_path) + strlen + 1, as SUN_LEN + 1) or an abstract name.
function sun(path: string): { addr: Uint8Array; len: number } {
  const p = enc.encode(path);
  const addr = new Uint8Array(110);
  addr[0] = AF_UNIX;
  addr.set(p, 2);
  return { addr, len: 2 + p.length + (path.startsWith("\0") ? 0 : 1) };
}

const f = (r: KFile | number): KFile => {
  if (typeof r === "number") throw new Error(`errno ${r}`);
  return r;
};
const pair = (r: [KFile, KFile] | number): [KFile, KFile] => {
  if (typeof r === "number") throw new Error(`errno ${r}`);
  return r;
};

function send(un: AfUnix, file: KFile, k: Kernel, p: Proc, text: string | Uint8Array, flags = 0, extra = {}) {
  const data = typeof text === "string" ? enc.encode(text) : text;
  return un.sendmsg(file, { namelen: 0, iter: userIter(k, p, data.length, data), flags, ...extra }, p.caller);
}

function recv(un: AfUnix, file: KFile, k: Kernel, p: Proc, n: number, flags = 0) {
  const it = userIter(k, p, n);
  const done = (r: UnixRecv) => ({
    ...r,
    text: r.result > 0 ? dec.decode(it.bytes(Math.min(r.result, n))) : "",
  });
  const r = un.recvmsg(file, it, flags, p.caller);
  return r instanceof Promise ? r.then(done) : done(r);
}

function pollOne(k: Kernel, p: Proc, fd: number, events = POLLIN | POLLOUT | POLLRDHUP): number {
  const a = p.c.malloc(8);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setInt32(0, fd, true);
  new DataView(b.buffer).setInt16(4, events, true);
  p.c.poke(a, b);
  const r = k.sys.poll(p.t, a, 1, 0);
  expect(r).not.toBeInstanceOf(Promise);
  return new DataView(p.c.peek(a, 8).buffer).getUint16(6, true);
}

// A file of the test's own (a pipe-like object): counts its releases.
function testFile() {
  const state = { released: 0 };
  const kf = new KFile(
    { name: () => "pipe:[77]", release: () => void state.released++ },
    FMODE_READ | FMODE_WRITE,
    0,
    {},
  );
  return { kf, state };
}

// What the generic layer does for SCM_RIGHTS: looks the fd up and takes a reference for the message.
function rightsOf(t: Task, ...fds: number[]): OpenFile[] {
  return fds.map((fd) => {
    const o = t.fds[fd]!;
    o.refs++;
    return o;
  });
}

function expectNoLeaks(un: AfUnix) {
  expect({ skbs: un.skbsInFlight, files: un.filesInFlight, socks: un.sockets }).toEqual({
    skbs: 0,
    files: 0,
    socks: 0,
  });
}

describe("SOCK_STREAM", () => {
  it("socketpair: bytes without boundaries, partial reads, EOF after the peer closes", async () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const b = proc("b");
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    expect(fa.ops.name(fa)).toMatch(/^socket:\[\d+\]$/);
    const da = k.installFile(a.t, fa);
    const db = k.installFile(b.t, fb);
    expect(a.c.write(da, enc.encode("hello "))).toBe(6);
    expect(a.c.write(da, enc.encode("world"))).toBe(5);
    expect(un.skbsInFlight).toBe(2);
    expect(dec.decode(b.c.read(db, 3) as Uint8Array)).toBe("hel");
    // One read crosses the boundary of the two writes.
    expect(dec.decode(b.c.read(db, 100) as Uint8Array)).toBe("lo world");
    // Nothing queued: a blocking read sleeps until data comes.
    const pending = b.c.read(db, 100);
    expect(pending).toBeInstanceOf(Promise);
    expect(a.c.write(da, enc.encode("!"))).toBe(1);
    expect(dec.decode((await pending) as Uint8Array)).toBe("!");
    expect(a.c.close(da)).toBe(0);
    expect(b.c.read(db, 100)).toEqual(new Uint8Array(0)); // EOF
    expect(b.c.close(db)).toBe(0);
    expectNoLeaks(un);
  });

  it("MSG_PEEK leaves the data; MSG_WAITALL-less reads return what is there; nonblocking read is EAGAIN", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    expect(recv(un, fb, k, a, 10, MSG_DONTWAIT)).toMatchObject({ result: EAGAIN });
    send(un, fa, k, a, "abc");
    send(un, fa, k, a, "def");
    expect(recv(un, fb, k, a, 10, MSG_PEEK)).toMatchObject({ result: 6, text: "abcdef" });
    expect(recv(un, fb, k, a, 4)).toMatchObject({ result: 4, text: "abcd" });
    expect(fb.private && unix_get_socket(fb)!.inq).toBe(2);
    un.release(fa);
    un.release(fb);
    expectNoLeaks(un);
  });

  it("EPIPE with SIGPIPE writing to a closed peer, not with MSG_NOSIGNAL; ECONNRESET when the peer left unread data", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const b = proc("b");
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    const da = k.installFile(a.t, fa);
    const db = k.installFile(b.t, fb);
    expect(b.c.close(db)).toBe(0);
    expect(send(un, fa, k, a, "x", MSG_NOSIGNAL)).toBe(EPIPE);
    expect(a.t.pending.has(13)).toBe(false);
    expect(a.c.write(da, enc.encode("x"))).toBe(-1);
    expect(a.c.errno).toBe(32);
    expect(a.t.pending.has(13)).toBe(true);
    expect(a.c.read(da, 10)).toEqual(new Uint8Array(0)); // and EOF
    a.c.close(da);

    // The peer closes with our data unread in its queue: our next read is ECONNRESET once, then EOF.
    const [fc, fd] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    expect(send(un, fc, k, a, "unread")).toBe(6);
    un.release(fd);
    expect(recv(un, fc, k, a, 10)).toMatchObject({ result: ECONNRESET });
    expect(recv(un, fc, k, a, 10)).toMatchObject({ result: 0 });
    expect(un.getsockopt(fc, SOL_SOCKET, SO_ERROR, 4)).toEqual({ value: new Uint8Array(4), optlen: 4 });
    un.release(fc);
    expectNoLeaks(un);
  });

  it("shutdown(SHUT_WR): the peer reads EOF and polls RDHUP; we get EPIPE", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    const db = k.installFile(a.t, fb);
    expect(pollOne(k, a, db)).toBe(POLLOUT);
    expect(un.shutdown(fa, SHUT_WR)).toBe(0);
    expect(un.shutdown(fa, 3)).toBe(EINVAL);
    expect(pollOne(k, a, db)).toBe(POLLIN | POLLRDHUP | POLLOUT);
    expect(recv(un, fb, k, a, 10)).toMatchObject({ result: 0 });
    expect(send(un, fa, k, a, "x", MSG_NOSIGNAL)).toBe(EPIPE);
    a.c.close(db);
    un.release(fa);
    expectNoLeaks(un);
  });

  it("the send buffer: 6 skbs of 36544 bytes (truesize 37120) fit in sk_sndbuf 212992; the writer sleeps until a quarter is free", async () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const b = proc("b");
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    const big = new Uint8Array(1 << 20).fill(0x61);
    expect(send(un, fa, k, a, big, MSG_DONTWAIT)).toBe(219264);
    const sa = unix_get_socket(fa)!;
    expect(sa.wmem).toBe(6 * 37120);
    expect(send(un, fa, k, a, "x", MSG_DONTWAIT)).toBe(EAGAIN);
    const da = k.installFile(a.t, fa);
    expect(pollOne(k, a, da) & POLLOUT).toBe(0);
    // A blocking writer sleeps; reading one skb frees 37120, not enough to wake it (unix_writable wants ≤ 1/4).
    const w = send(un, fa, k, a, "tail");
    expect(w).toBeInstanceOf(Promise);
    let woke = false;
    void (w as Promise<number>).then(() => {
      woke = true;
    });
    expect(recv(un, fb, k, b, 36544)).toMatchObject({ result: 36544 });
    await Promise.resolve();
    expect(woke).toBe(false);
    for (let i = 0; i < 4; i++) expect(recv(un, fb, k, b, 36544)).toMatchObject({ result: 36544 });
    expect(await w).toBe(4);
    expect(pollOne(k, a, da) & POLLOUT).toBe(POLLOUT);
    // A signal ends a sleeping writer with EINTR.
    un.setsockopt(fa, SOL_SOCKET, SO_SNDBUF, 0, 4); // 4608: the 36544 + 4 bytes queued exceed it
    const w2 = send(un, fa, k, a, "more");
    expect(w2).toBeInstanceOf(Promise);
    k.kill(a.t, 15);
    expect(await w2).toBe(EINTR);
    a.c.close(da);
    un.release(fb);
    expectNoLeaks(un);
  });
});

describe("SOCK_DGRAM and SOCK_SEQPACKET", () => {
  it("socketpair(SOCK_DGRAM): one message per recv, MSG_TRUNC, MSG_PEEK", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const [fa, fb] = pair(un.socketpair(SOCK_DGRAM, 0, a.caller));
    expect(send(un, fa, k, a, "abc")).toBe(3);
    expect(send(un, fa, k, a, "defgh")).toBe(5);
    expect(send(un, fa, k, a, "")).toBe(0);
    expect(recv(un, fb, k, a, 2, MSG_PEEK)).toMatchObject({ result: 2, flags: MSG_TRUNC, text: "ab" });
    expect(recv(un, fb, k, a, 2)).toMatchObject({ result: 2, flags: MSG_TRUNC, text: "ab" });
    // The flag MSG_TRUNC returns the real length.
    expect(recv(un, fb, k, a, 3, MSG_TRUNC)).toMatchObject({ result: 5, flags: MSG_TRUNC, text: "def" });
    expect(recv(un, fb, k, a, 10)).toMatchObject({ result: 0, flags: 0 });
    expect(recv(un, fb, k, a, 10, MSG_DONTWAIT)).toMatchObject({ result: EAGAIN });
    un.release(fa);
    un.release(fb);
    expectNoLeaks(un);
  });

  it("bound receivers: sendto by path, the sender's name, connect sets the peer, EPERM, AF_UNSPEC, ECONNREFUSED after close", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const b = proc("b");
    const srv = f(un.socket(SOCK_DGRAM, 0, b.caller));
    const cli = f(un.socket(SOCK_DGRAM, 0, a.caller));
    const third = f(un.socket(SOCK_DGRAM, 0, a.caller));
    const s = sun("/run/srv.sock");
    expect(un.bind(srv, s.addr, s.len, b.caller)).toBe(0);
    const c = sun("\0client");
    expect(un.bind(cli, c.addr, c.len, a.caller)).toBe(0);
    const data = enc.encode("ping");
    expect(
      un.sendmsg(cli, { name: s.addr, namelen: s.len, iter: userIter(k, a, 4, data), flags: 0 }, a.caller),
    ).toBe(4);
    const r = recv(un, srv, k, b, 10) as UnixRecv & { text: string };
    expect(r.text).toBe("ping");
    expect(r.name).toEqual(c.addr.subarray(0, c.len));
    expect(send(un, cli, k, a, "x")).toBe(ENOTCONN);
    expect(un.connect(cli, s.addr, s.len, false, a.caller)).toBe(0);
    expect(send(un, cli, k, a, "x")).toBe(1);
    // srv connects to cli; a third socket may no longer send to srv.
    expect(un.connect(srv, c.addr, c.len, false, b.caller)).toBe(0);
    expect(
      un.sendmsg(third, { name: s.addr, namelen: s.len, iter: userIter(k, a, 1, data), flags: 0 }, a.caller),
    ).toBe(EPERM);
    expect(un.connect(third, s.addr, s.len, false, a.caller)).toBe(EPERM);
    // AF_UNSPEC disconnects.
    expect(un.connect(cli, new Uint8Array(2), 2, false, a.caller)).toBe(0);
    expect(send(un, cli, k, a, "x")).toBe(ENOTCONN);
    expect(un.connect(cli, s.addr, s.len, false, a.caller)).toBe(0);
    // The receiver closes: the connected sender gets ECONNREFUSED once and is disconnected.
    un.release(srv);
    expect(send(un, cli, k, a, "x")).toBe(ECONNREFUSED);
    expect(send(un, cli, k, a, "x")).toBe(ENOTCONN);
    expect(un.connect(cli, s.addr, s.len, false, a.caller)).toBe(ECONNREFUSED); // the inode stays, no socket
    un.release(cli);
    un.release(third);
    expectNoLeaks(un);
  });

  it("max_dgram_qlen: 513 datagrams wait in an unconnected receiver, then EAGAIN, or a sender sleeps until one is read", async () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const b = proc("b");
    const srv = f(un.socket(SOCK_DGRAM, 0, b.caller));
    const s = sun("\0q");
    un.bind(srv, s.addr, s.len, b.caller);
    const cli = f(un.socket(SOCK_DGRAM, 0, a.caller));
    expect(un.connect(cli, s.addr, s.len, false, a.caller)).toBe(0);
    // With the default sk_sndbuf, 1-byte datagrams (truesize 768) stop the sender first: 278 fit.
    let n = 0;
    while (send(un, cli, k, a, "d", MSG_DONTWAIT) === 1) n++;
    expect(n).toBe(278);
    expect(send(un, cli, k, a, "d", MSG_DONTWAIT)).toBe(EAGAIN);
    expect(unix_get_socket(cli)!.wmem).toBe(278 * 768);
    un.setsockopt(cli, SOL_SOCKET, SO_SNDBUF, 1 << 20, 4);
    while (send(un, cli, k, a, "d", MSG_DONTWAIT) === 1) n++;
    expect(n).toBe(513); // queue length > sk_max_ack_backlog (512) is full
    const dc = k.installFile(a.t, cli);
    expect(pollOne(k, a, dc) & POLLOUT).toBe(0);
    const w = send(un, cli, k, a, "last");
    expect(w).toBeInstanceOf(Promise);
    expect(recv(un, srv, k, b, 1)).toMatchObject({ result: 1 });
    expect(await w).toBe(4);
    un.release(srv);
    a.c.close(dc);
    expectNoLeaks(un);
  });

  it("SOCK_SEQPACKET: listen/accept, message boundaries, EOF after close, EPIPE without SIGPIPE", async () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const b = proc("b");
    const l = f(un.socket(SOCK_SEQPACKET, 0, b.caller));
    const s = sun("\0seq");
    expect(un.bind(l, s.addr, s.len, b.caller)).toBe(0);
    expect(un.listen(l, 5, b.caller)).toBe(0);
    const cli = f(un.socket(SOCK_SEQPACKET, 0, a.caller));
    expect(send(un, cli, k, a, "x")).toBe(ENOTCONN);
    expect(un.connect(cli, s.addr, s.len, false, a.caller)).toBe(0);
    const acc = f((await un.accept(l, false, b.caller)) as KFile | number);
    expect(send(un, cli, k, a, "one")).toBe(3);
    expect(send(un, cli, k, a, "two!")).toBe(4);
    expect(recv(un, acc, k, b, 10)).toMatchObject({ result: 3, text: "one" });
    expect(recv(un, acc, k, b, 2)).toMatchObject({ result: 2, flags: MSG_TRUNC, text: "tw" });
    un.release(cli);
    expect(recv(un, acc, k, b, 10)).toMatchObject({ result: 0 });
    expect(recv(un, acc, k, b, 10, MSG_DONTWAIT)).toMatchObject({ result: 0 });
    expect(send(un, acc, k, b, "x")).toBe(EPIPE);
    expect(b.t.pending.has(13)).toBe(false);
    un.release(acc);
    un.release(l);
    expectNoLeaks(un);
  });
});

describe("names, connect, listen and accept", () => {
  it("bind: a path (EADDRINUSE while its inode exists, even after close, until unlink), abstract, autobind, EINVAL", () => {
    const { un, proc } = boot();
    const a = proc("a");
    const s1 = f(un.socket(SOCK_STREAM, 0, a.caller));
    const s2 = f(un.socket(SOCK_STREAM, 0, a.caller));
    const p = sun("/tmp/x.sock");
    expect(un.getname(s1, false)).toEqual(Uint8Array.of(1, 0));
    expect(un.getname(s1, true)).toBe(ENOTCONN);
    expect(un.bind(s1, p.addr, p.len, a.caller)).toBe(0);
    // The address keeps the NUL: offsetof(sun_path) + strlen + 1, even when addrlen did not count it.
    expect(un.getname(s1, false)).toEqual(p.addr.subarray(0, p.len));
    expect(un.bind(s2, p.addr, p.len - 1, a.caller)).toBe(EADDRINUSE);
    const other = sun("/tmp/y.sock");
    expect(un.bind(s1, other.addr, other.len, a.caller)).toBe(EINVAL); // bound already
    expect(un.bind(s2, other.addr, other.len - 1, a.caller)).toBe(0);
    expect((un.getname(s2, false) as Uint8Array).length).toBe(2 + 11 + 1);
    un.release(s1);
    const s3 = f(un.socket(SOCK_STREAM, 0, a.caller));
    expect(un.bind(s3, p.addr, p.len, a.caller)).toBe(EADDRINUSE);
    const c = f(un.socket(SOCK_STREAM, 0, a.caller));
    expect(un.connect(c, p.addr, p.len, false, a.caller)).toBe(ECONNREFUSED);
    expect(un.unlink("/tmp/x.sock")).toBe(0);
    expect(un.unlink("/tmp/x.sock")).toBe(ENOENT);
    expect(un.connect(c, p.addr, p.len, false, a.caller)).toBe(ENOENT);
    expect(un.bind(s3, p.addr, p.len, a.caller)).toBe(0);
    // Abstract: the whole addrlen is the name; EADDRINUSE within a type only.
    const ab = sun("\0name");
    const d1 = f(un.socket(SOCK_DGRAM, 0, a.caller));
    const d2 = f(un.socket(SOCK_DGRAM, 0, a.caller));
    const st = f(un.socket(SOCK_STREAM, 0, a.caller));
    expect(un.bind(d1, ab.addr, ab.len, a.caller)).toBe(0);
    expect(un.bind(d2, ab.addr, ab.len, a.caller)).toBe(EADDRINUSE);
    expect(un.bind(st, ab.addr, ab.len, a.caller)).toBe(0);
    expect(un.bind(d2, ab.addr, ab.len + 1, a.caller)).toBe(0); // "\0name\0" is another name
    expect(un.getname(d1, false)).toEqual(ab.addr.subarray(0, 7));
    // Autobind: addrlen 2.
    const au = f(un.socket(SOCK_DGRAM, 0, a.caller));
    expect(un.bind(au, Uint8Array.of(1, 0), 2, a.caller)).toBe(0);
    const name = un.getname(au, false) as Uint8Array;
    expect(name.length).toBe(8);
    expect(name[2]).toBe(0);
    expect(String.fromCharCode(...name.subarray(3))).toMatch(/^[0-9a-f]{5}$/);
    expect(un.bind(au, Uint8Array.of(1, 0), 2, a.caller)).toBe(0); // autobind of a bound socket: 0
    expect(un.bind(au, ab.addr, ab.len, a.caller)).toBe(EINVAL);
    // unix_validate_addr()
    const fresh = f(un.socket(SOCK_DGRAM, 0, a.caller));
    expect(un.bind(fresh, Uint8Array.of(1), 1, a.caller)).toBe(EINVAL);
    expect(un.bind(fresh, Uint8Array.of(2, 0, 0x41), 3, a.caller)).toBe(EINVAL);
    expect(un.bind(fresh, new Uint8Array(111).fill(0x41, 2).fill(1, 0, 1), 111, a.caller)).toBe(EINVAL);
    const full = new Uint8Array(110).fill(0x41);
    full[0] = 1;
    full[1] = 0;
    expect(un.bind(fresh, full, 110, a.caller)).toBe(0);
    expect((un.getname(fresh, false) as Uint8Array).length).toBe(111); // 108 bytes of path + the NUL
    for (const s of [s2, s3, c, d1, d2, st, au, fresh]) un.release(s);
    expectNoLeaks(un);
  });

  it("socket(): protocol and type checks; listen on a dgram socket and on an unbound one", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    expect(un.socket(SOCK_STREAM, 2, a.caller)).toBe(-93); // EPROTONOSUPPORT
    expect(un.socket(4, 0, a.caller)).toBe(-94); // ESOCKTNOSUPPORT
    const raw = f(un.socket(3, 1, a.caller));
    expect(un.getsockopt(raw, SOL_SOCKET, SO_TYPE, 4)).toEqual({
      value: Uint8Array.of(2, 0, 0, 0),
      optlen: 4,
    });
    expect(un.listen(raw, 1, a.caller)).toBe(EOPNOTSUPP);
    const st = f(un.socket(SOCK_STREAM, 0, a.caller));
    expect(un.listen(st, 1, a.caller)).toBe(EINVAL);
    expect(un.accept(st, true, a.caller)).toBe(EINVAL);
    expect(recv(un, st, k, a, 0)).toMatchObject({ result: EINVAL });
    un.release(raw);
    un.release(st);
    expectNoLeaks(un);
  });

  it("connect: ECONNREFUSED without a listener, EPROTOTYPE for another type; the backlog admits backlog + 1, then EAGAIN or sleep", async () => {
    const { k, un, proc } = boot();
    const srv = proc("srv", 1000);
    const cl = proc("cli", 2000);
    const l = f(un.socket(SOCK_STREAM, 0, srv.caller));
    const p = sun("/run/l.sock");
    const c0 = f(un.socket(SOCK_STREAM, 0, cl.caller));
    expect(un.connect(c0, sun("\0nobody").addr, sun("\0nobody").len, false, cl.caller)).toBe(ECONNREFUSED);
    expect(un.bind(l, p.addr, p.len, srv.caller)).toBe(0);
    expect(un.connect(c0, p.addr, p.len, false, cl.caller)).toBe(ECONNREFUSED); // bound, not listening
    const dg = f(un.socket(SOCK_DGRAM, 0, cl.caller));
    expect(un.connect(dg, p.addr, p.len, false, cl.caller)).toBe(EPROTOTYPE);
    expect(un.listen(l, 1, srv.caller)).toBe(0);
    const dl = k.installFile(srv.t, l);
    expect(pollOne(k, srv, dl)).toBe(0);
    expect(un.accept(l, true, srv.caller)).toBe(EAGAIN);
    const cs = [0, 1, 2].map(() => f(un.socket(SOCK_STREAM, 0, cl.caller)));
    expect(un.connect(cs[0]!, p.addr, p.len, true, cl.caller)).toBe(0);
    expect(un.connect(cs[0]!, p.addr, p.len, true, cl.caller)).toBe(EISCONN);
    expect(un.connect(cs[1]!, p.addr, p.len, true, cl.caller)).toBe(0);
    expect(un.connect(cs[2]!, p.addr, p.len, true, cl.caller)).toBe(EAGAIN);
    expect(pollOne(k, srv, dl)).toBe(POLLIN);
    const waiting = un.connect(cs[2]!, p.addr, p.len, false, cl.caller);
    expect(waiting).toBeInstanceOf(Promise);
    const a0 = f((await un.accept(l, true, srv.caller)) as KFile | number);
    expect(await waiting).toBe(0);
    // SO_PEERCRED: the client sees the listener's credentials from listen(), the server the connector's.
    const cred = (file: KFile) => {
      const r = un.getsockopt(file, SOL_SOCKET, SO_PEERCRED, 12) as { value: Uint8Array };
      const dv = new DataView(r.value.buffer, r.value.byteOffset);
      return [dv.getInt32(0, true), dv.getUint32(4, true), dv.getUint32(8, true)];
    };
    expect(cred(cs[0]!)).toEqual([srv.t.pid, 1000, 1000]);
    expect(cred(a0)).toEqual([cl.t.pid, 2000, 2000]);
    expect(cred(c0)).toEqual([0, 0xffffffff, 0xffffffff]);
    // Names: the accepted socket has the listener's, its peer (the client) is unbound.
    expect(un.getname(a0, false)).toEqual(p.addr.subarray(0, p.len));
    expect(un.getname(a0, true)).toEqual(Uint8Array.of(1, 0));
    expect(un.getname(cs[0]!, true)).toEqual(p.addr.subarray(0, p.len));
    // Data both ways over the accepted connection.
    expect(send(un, cs[0]!, k, cl, "req")).toBe(3);
    expect(recv(un, a0, k, srv, 8)).toMatchObject({ result: 3, text: "req" });
    // Closing the listener releases the connections still waiting: their clients get ECONNRESET.
    a0.ops.release?.(a0);
    srv.c.close(dl);
    expect(recv(un, cs[1]!, k, cl, 8)).toMatchObject({ result: ECONNRESET });
    expect(recv(un, cs[0]!, k, cl, 8)).toMatchObject({ result: 0 });
    for (const s of [c0, dg, ...cs]) un.release(s);
    expectNoLeaks(un);
  });
});

describe("SCM_RIGHTS and SCM_CREDENTIALS", () => {
  it("a file passed from one process to another stays open after the sender closes it", () => {
    const { k, un, proc } = boot();
    const a = proc("sender");
    const b = proc("receiver");
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    const da = k.installFile(a.t, fa);
    const db = k.installFile(b.t, fb);
    const { kf, state } = testFile();
    const fdA = k.installFile(a.t, kf);
    expect(send(un, fa, k, a, "f", 0, { rights: rightsOf(a.t, fdA) })).toBe(1);
    expect(a.c.close(fdA)).toBe(0);
    expect(state.released).toBe(0);
    expect(un.filesInFlight).toBe(1);
    const r = recv(un, fb, k, b, 10) as UnixRecv;
    expect(r.rights.length).toBe(1);
    expect(un.filesInFlight).toBe(0);
    const got = scm_detach_fds(k, b.t, r.rights, 64, false);
    expect(got.truncated).toBe(false);
    expect(got.used).toBe(24); // CMSG_SPACE(4)
    expect(new DataView(got.cmsg!.buffer).getBigUint64(0, true)).toBe(20n);
    expect(new DataView(got.cmsg!.buffer).getInt32(12, true)).toBe(SCM_RIGHTS);
    const fdB = got.fds[0]!;
    expect(b.t.fds[fdB]).toBeDefined();
    expect((b.t.fds[fdB]!.object as { file: KFile }).file).toBe(kf);
    expect(state.released).toBe(0);
    expect(b.c.close(fdB)).toBe(0);
    expect(state.released).toBe(1);
    a.c.close(da);
    b.c.close(db);
    expectNoLeaks(un);
  });

  it("a netlink socket travels too; unread rights are dropped when the receiver closes; read() drops them", () => {
    const { k, un, proc } = boot();
    const a = proc("sender");
    const [fa, fb] = pair(un.socketpair(SOCK_DGRAM, 0, a.caller));
    const nl = a.c.socket(16, 3, 2);
    expect(nl).toBeGreaterThanOrEqual(0);
    const nlObj = a.t.fds[nl]!;
    const before = k.netlink.sockets().length;
    expect(send(un, fa, k, a, "n", 0, { rights: rightsOf(a.t, nl) })).toBe(1);
    a.c.close(nl);
    expect(k.netlink.sockets().length).toBe(before); // alive in flight
    un.release(fb); // unread
    expect(nlObj.refs).toBe(0);
    expect(k.netlink.sockets().length).toBe(before - 1);
    un.release(fa);

    // read() has no control buffer: the files of the message are dropped.
    const [fc, fd] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    const { kf, state } = testFile();
    const fdX = k.installFile(a.t, kf);
    send(un, fc, k, a, "r", 0, { rights: rightsOf(a.t, fdX) });
    a.c.close(fdX);
    const dd = k.installFile(a.t, fd);
    expect(dec.decode(a.c.read(dd, 10) as Uint8Array)).toBe("r");
    expect(state.released).toBe(1);
    a.c.close(dd);
    un.release(fc);
    expectNoLeaks(un);
  });

  it("MSG_CTRUNC: the descriptors that do not fit in the control buffer are closed; a stream read stops after a message with files", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const b = proc("b");
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    const files = [testFile(), testFile(), testFile()];
    const fds = files.map((x) => k.installFile(a.t, x.kf));
    expect(send(un, fa, k, a, "abc", 0, { rights: rightsOf(a.t, ...fds) })).toBe(3);
    expect(send(un, fa, k, a, "def")).toBe(3);
    for (const fd of fds) a.c.close(fd);
    // The read stops at the end of the skb that carried files.
    const r = recv(un, fb, k, b, 10) as UnixRecv & { text: string };
    expect(r.text).toBe("abc");
    const got = scm_detach_fds(k, b.t, r.rights, 16 + 8, false);
    expect(got.fds.length).toBe(2);
    expect(got.truncated).toBe(true);
    expect(got.used).toBe(24);
    expect(files.map((x) => x.state.released)).toEqual([0, 0, 1]);
    // No control buffer at all: every file is dropped, MSG_CTRUNC.
    const none = scm_detach_fds(k, b.t, [], 0, false);
    expect(none.truncated).toBe(false);
    for (const fd of got.fds) b.c.close(fd);
    expect(files.map((x) => x.state.released)).toEqual([1, 1, 1]);
    expect(recv(un, fb, k, b, 10)).toMatchObject({ text: "def" });
    // More than SCM_MAX_FD files: EINVAL, the references dropped.
    const many = testFile();
    const fdm = k.installFile(a.t, many.kf);
    const rights = rightsOf(a.t, ...new Array<number>(SCM_MAX_FD + 1).fill(fdm));
    expect(send(un, fa, k, a, "m", 0, { rights })).toBe(EINVAL);
    expect(a.t.fds[fdm]!.refs).toBe(1);
    a.c.close(fdm);
    un.release(fa);
    un.release(fb);
    expectNoLeaks(un);
  });

  it("MSG_PEEK duplicates the files; fput drops a reference", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const [fa, fb] = pair(un.socketpair(SOCK_DGRAM, 0, a.caller));
    const x = testFile();
    const fd = k.installFile(a.t, x.kf);
    send(un, fa, k, a, "p", 0, { rights: rightsOf(a.t, fd) });
    a.c.close(fd);
    const peeked = recv(un, fb, k, a, 4, MSG_PEEK) as UnixRecv;
    expect(peeked.rights[0]!.refs).toBe(2);
    fput(k, peeked.rights[0]!);
    expect(x.state.released).toBe(0);
    const r = recv(un, fb, k, a, 4) as UnixRecv;
    expect(un.filesInFlight).toBe(0);
    fput(k, r.rights[0]!);
    expect(x.state.released).toBe(1);
    expect(() => fput(k, r.rights[0]!)).toThrow(/EBADF|references/);
    un.release(fa);
    un.release(fb);
    expectNoLeaks(un);
  });

  it("SO_PASSCRED: every message carries the sender's credentials, or those it gave; none without it", () => {
    const { k, un, proc } = boot();
    const a = proc("a", 1000);
    const b = proc("b", 2000);
    const [fa, fb] = pair(un.socketpair(SOCK_DGRAM, 0, a.caller));
    expect(send(un, fa, k, a, "1")).toBe(1);
    let r = recv(un, fb, k, b, 4) as UnixRecv;
    expect(r.passcred).toBe(false);
    expect(r.creds).toBeUndefined();
    // Sent while nobody asked for credentials, received with SO_PASSCRED: pid 0, overflow ids.
    expect(send(un, fa, k, a, "2")).toBe(1);
    expect(un.setsockopt(fb, SOL_SOCKET, SO_PASSCRED, 1, 4)).toBe(0);
    expect(un.getsockopt(fb, SOL_SOCKET, SO_PASSCRED, 4)).toEqual({
      value: Uint8Array.of(1, 0, 0, 0),
      optlen: 4,
    });
    r = recv(un, fb, k, b, 4) as UnixRecv;
    expect(r.creds).toEqual({ pid: 0, uid: 65534, gid: 65534 });
    expect(send(un, fa, k, a, "3")).toBe(1);
    r = recv(un, fb, k, b, 4) as UnixRecv;
    expect(r.creds).toEqual({ pid: a.t.pid, uid: 1000, gid: 1000 });
    expect(send(un, fa, k, a, "4", 0, { creds: { pid: a.t.pid, uid: 1000, gid: 1000 } })).toBe(1);
    expect((recv(un, fb, k, b, 4) as UnixRecv).creds).toEqual({ pid: a.t.pid, uid: 1000, gid: 1000 });
    // SO_PASSCRED on an unbound dgram sender autobinds it: the receiver sees its name.
    expect(un.setsockopt(fa, SOL_SOCKET, SO_PASSCRED, 1, 4)).toBe(0);
    send(un, fa, k, a, "5");
    expect((recv(un, fb, k, b, 4) as UnixRecv).name?.length).toBe(8);
    expect(un.setsockopt(fa, SOL_SOCKET, SO_PASSCRED, 1, 2)).toBe(EINVAL);
    expect(un.setsockopt(fa, 0, SO_PASSCRED, 1, 4)).toBe(EOPNOTSUPP);
    expect(un.setsockopt(fa, SOL_SOCKET, SO_PEERCRED, 1, 4)).toBe(-92);
    expect(un.setsockopt(fa, SOL_SOCKET, SO_RCVBUF, 1, 4)).toBe(0);
    expect(un.getsockopt(fa, SOL_SOCKET, SO_RCVBUF, 4)).toEqual({
      value: Uint8Array.of(0, 9, 0, 0),
      optlen: 4,
    });
    un.release(fa);
    un.release(fb);
    expectNoLeaks(un);
  });

  it("a stream read with SO_PASSCRED does not glue the data of two writers; SO_PEERCRED of a socketpair", () => {
    const { k, un, proc } = boot();
    const a = proc("a", 1000);
    const b = proc("b", 2000);
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    un.setsockopt(fb, SOL_SOCKET, SO_PASSCRED, 1, 4);
    send(un, fa, k, a, "from-a ");
    send(un, fa, k, b, "from-b"); // a descriptor shared with process b writes too
    const r1 = recv(un, fb, k, b, 64) as UnixRecv & { text: string };
    expect(r1.text).toBe("from-a ");
    expect(r1.creds).toEqual({ pid: a.t.pid, uid: 1000, gid: 1000 });
    const r2 = recv(un, fb, k, b, 64) as UnixRecv & { text: string };
    expect(r2.text).toBe("from-b");
    expect(r2.creds).toEqual({ pid: b.t.pid, uid: 2000, gid: 2000 });
    const pc = un.getsockopt(fb, SOL_SOCKET, SO_PEERCRED, 8) as { value: Uint8Array; optlen: number };
    expect(pc.optlen).toBe(8);
    expect(new DataView(pc.value.buffer).getInt32(0, true)).toBe(a.t.pid);
    un.release(fa);
    un.release(fb);
    expectNoLeaks(un);
  });
});

describe("poll", () => {
  it("unix_poll of a fresh stream socket is POLLOUT|POLLHUP; after the peer closes POLLIN|POLLRDHUP|POLLHUP", () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const d0 = k.installFile(a.t, f(un.socket(SOCK_STREAM, 0, a.caller)));
    expect(pollOne(k, a, d0)).toBe(POLLOUT | POLLHUP);
    const [fa, fb] = pair(un.socketpair(SOCK_STREAM, 0, a.caller));
    const da = k.installFile(a.t, fa);
    un.release(fb);
    expect(pollOne(k, a, da)).toBe(POLLIN | POLLRDHUP | POLLHUP | POLLOUT);
    const dg = k.installFile(a.t, f(un.socket(SOCK_DGRAM, 0, a.caller)));
    expect(pollOne(k, a, dg)).toBe(POLLOUT);
    a.c.close(d0);
    a.c.close(da);
    a.c.close(dg);
    expectNoLeaks(un);
  });

  it("a blocking poll wakes when data arrives", async () => {
    const { k, un, proc } = boot();
    const a = proc("a");
    const [fa, fb] = pair(un.socketpair(SOCK_DGRAM, 0, a.caller));
    const db = k.installFile(a.t, fb);
    const pa = a.c.malloc(8);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setInt32(0, db, true);
    new DataView(b.buffer).setInt16(4, POLLIN, true);
    a.c.poke(pa, b);
    const r = k.sys.poll(a.t, pa, 1, -1);
    expect(r).toBeInstanceOf(Promise);
    send(un, fa, k, a, "wake");
    expect(await r).toBe(1);
    expect(new DataView(a.c.peek(pa, 8).buffer).getUint16(6, true)).toBe(POLLIN);
    a.c.close(db);
    un.release(fa);
    expectNoLeaks(un);
  });
});
