// Pipes and FIFOs (fs/pipe.c) through the system calls, with processes: capacity and the merge rule, PIPE_BUF
// atomicity, EPIPE + SIGPIPE, EOF, blocking reads and writes, signals, F_SETPIPE_SZ, packet mode, FIFO opens, poll
// masks and the pages a pipe holds.
import { O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY } from "@kbridge/chrdev";
import { get16, get32, put16, put32 } from "@kbridge/uapi";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import {
  CAP_SYS_RESOURCE,
  FIONREAD,
  mkfifo,
  O_DIRECT,
  O_NOTIFICATION_PIPE,
  pipefs,
  round_pipe_size,
  S_IFIFO,
  sys_mkfifo,
  sys_pipe,
  sys_pipe2,
  unlink_fifo,
} from "../src/fs/pipe.js";
import {
  F_GETFL,
  F_GETPIPE_SZ,
  F_SETFL,
  F_SETPIPE_SZ,
  Kernel,
  Libc,
  O_CLOEXEC,
  SIGINT,
} from "../src/index.js";

const EINTR = 4;
const ENXIO = 6;
const EAGAIN = 11;
const EACCES = 13;
const EFAULT = 14;
const EBUSY = 16;
const EEXIST = 17;
const EXDEV = 18;
const EINVAL = 22;
const EPIPE = 32;
const EPERM = 1;
const SIGPIPE = 13;
const POLLIN = 0x1;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLLRDNORM = 0x40;
const POLLWRNORM = 0x100;

const bytes = (n: number, seed = 0) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const text = (s: string) => new TextEncoder().encode(s);

function boot(): { k: Kernel; a: Libc } {
  const k = new Kernel();
  return { k, a: new Libc(k, k.spawn({ comm: "sh", uid: 1000 })) };
}

function pipe(c: Libc, flags = 0): [number, number] {
  const p = c.malloc(8);
  const r = sys_pipe2(c.kernel, c.task, p, flags);
  expect(r).toBe(0);
  const b = c.peek(p, 8);
  return [get32(b, 0, true), get32(b, 4, true)];
}

function mkfifoAt(c: Libc, path: string, mode = 0o666): number {
  const s = text(path);
  const r = sys_mkfifo(c.kernel, c.task, c.dup(Uint8Array.from([...s, 0])), mode);
  if (r < 0) c.errno = -r;
  return r < 0 ? -1 : r;
}

// poll(fds, n, timeout): the return value and each revents.
function poll(
  c: Libc,
  fds: readonly (readonly [number, number])[],
  timeout = 0,
): { ret: number; revents: number[] } | Promise<{ ret: number; revents: number[] }> {
  const raw = new Uint8Array(fds.length * 8);
  fds.forEach(([fd, ev], i) => {
    put32(raw, i * 8, fd, true);
    put16(raw, i * 8 + 4, ev, true);
  });
  const p = c.dup(raw);
  const done = (ret: number) => {
    const b = c.peek(p, raw.length);
    return { ret, revents: fds.map((_, i) => get16(b, i * 8 + 6, true)) };
  };
  const r = c.kernel.sys.poll(c.task, p, fds.length, timeout);
  return r instanceof Promise ? r.then(done) : done(r);
}

function fionread(c: Libc, fd: number): number {
  const p = c.malloc(4);
  expect(c.ioctl(fd, FIONREAD, p)).toBe(0);
  return get32(c.peek(p, 4), 0, true);
}

describe("pipe2 and the ring", () => {
  it("holds 64 KiB by default: 65536 bytes fit, one more byte is EAGAIN; the bytes come out in order", () => {
    const { k, a } = boot();
    const [r, w] = pipe(a, O_NONBLOCK);
    expect([r, w]).toEqual([0, 1]);
    expect(k.traceText()).toContain("pipe2([0, 1], O_NONBLOCK) = 0");
    expect(a.fcntl(r, F_GETPIPE_SZ)).toBe(65536);
    const data = bytes(65536);
    expect(a.write(w, data)).toBe(65536);
    expect(pipefs(k).pagesInUse).toBe(16);
    expect(a.write(w, bytes(1))).toBe(-1);
    expect(a.errno).toBe(EAGAIN);
    expect(fionread(a, r)).toBe(65536);
    expect(a.read(r, 100000)).toEqual(data);
    expect(a.read(r, 10)).toBe(-1);
    expect(a.errno).toBe(EAGAIN);
    // The pages went back but one, the tmp_page kept for the next write.
    expect(pipefs(k).pagesInUse).toBe(1);
  });

  it("writes of at most PIPE_BUF are atomic: 4096 bytes into a ring with 4095 bytes of room is EAGAIN, 4097 is partial", () => {
    const { a } = boot();
    const [r, w] = pipe(a, O_NONBLOCK);
    // 15 full pages and one page holding 1 byte: every slot is taken, 4095 bytes are left in the last page.
    expect(a.write(w, bytes(61441, 1))).toBe(61441);
    expect(a.write(w, bytes(4096))).toBe(-1);
    expect(a.errno).toBe(EAGAIN);
    // 4097 = one page + 1 byte: the 1 byte merges into the last page, the page finds no slot.
    expect(a.write(w, Uint8Array.of(0xaa, 0xbb))).toBe(2);
    const big = new Uint8Array(4097).fill(0xcc);
    expect(a.write(w, big)).toBe(1);
    expect(a.write(w, new Uint8Array(4092).fill(0xdd))).toBe(4092);
    expect(a.write(w, bytes(1))).toBe(-1);
    expect(a.errno).toBe(EAGAIN);
    const got = a.read(r, 70000) as Uint8Array;
    expect(got.length).toBe(65536);
    expect(got.subarray(0, 61441)).toEqual(bytes(61441, 1));
    expect([...got.subarray(61441, 61444)]).toEqual([0xaa, 0xbb, 0xcc]);
    expect(got.subarray(61444).every((b) => b === 0xdd)).toBe(true);
  });

  it("small writes merge into one page; a write of pages plus a tail puts the tail into the last page first", () => {
    const { k, a } = boot();
    const [r, w] = pipe(a, O_NONBLOCK);
    for (let i = 0; i < 100; i++) expect(a.write(w, Uint8Array.of(i))).toBe(1);
    expect(pipefs(k).pagesInUse).toBe(1);
    expect(a.read(r, 99)).toEqual(bytes(99).map((_, i) => i));
    // 1 byte held at offset 99 of its page: reads do not compact, so the 4095-byte tail of 65535 does not fit
    // there and 15 pages are all that go in.
    expect(a.write(w, bytes(65535))).toBe(61440);
    // A fresh pipe holding 1 byte at offset 0: the tail merges, then 15 pages: all 65535 bytes fit.
    const [r2, w2] = pipe(a, O_NONBLOCK);
    expect(a.write(w2, Uint8Array.of(1))).toBe(1);
    expect(a.write(w2, bytes(65535))).toBe(65535);
    expect(fionread(a, r2)).toBe(65536);
    const got = a.read(r2, 65536) as Uint8Array;
    expect(got.subarray(0, 4096)).toEqual(Uint8Array.from([1, ...bytes(65535).subarray(61440)]));
  });

  it("pipe2 refuses unknown flags (EINVAL); a fault on fds closes both ends again (EFAULT, no descriptor taken)", () => {
    const { k, a } = boot();
    const p = a.malloc(8);
    expect(sys_pipe2(k, a.task, p, 0o1000)).toBe(-EINVAL);
    expect(sys_pipe2(k, a.task, 0x10, 0)).toBe(-EFAULT);
    expect(a.task.fds.filter(Boolean)).toHaveLength(0);
    expect(pipefs(k).pipes.size).toBe(0);
    expect(k.traceText()).toContain("pipe2(0x10, 0) = -1 EFAULT (Bad address)");
    expect(sys_pipe2(k, a.task, p, O_CLOEXEC)).toBe(0);
    expect(a.fcntl(0, 1)).toBe(1); // F_GETFD: FD_CLOEXEC
    expect(a.fcntl(1, F_GETFL)).toBe(O_WRONLY);
    expect(sys_pipe(k, a.task, p)).toBe(0);
    expect(k.traceText(1)).toContain("pipe([2, 3]) = 0");
  });

  it("the ends have their directions: read on the write end and write on the read end are EBADF; lseek is ESPIPE", () => {
    const { k, a } = boot();
    const [r, w] = pipe(a);
    expect(a.read(w, 1)).toBe(-1);
    expect(a.errno).toBe(9);
    expect(a.write(r, bytes(1))).toBe(-1);
    expect(a.errno).toBe(9);
    expect(k.sys.lseek(a.task, r, 0, 0)).toBe(-29);
  });
});

describe("readers and writers", () => {
  it("no reader: EPIPE and SIGPIPE for the writer", () => {
    const { a } = boot();
    const [r, w] = pipe(a);
    expect(a.close(r)).toBe(0);
    expect(a.task.pending.has(SIGPIPE)).toBe(false);
    expect(a.write(w, text("x"))).toBe(-1);
    expect(a.errno).toBe(EPIPE);
    expect(a.task.pending.has(SIGPIPE)).toBe(true);
  });

  it("a blocked writer whose reader goes returns what it wrote, with SIGPIPE", async () => {
    const { k, a } = boot();
    const [r, w] = pipe(a);
    const child = new Libc(k, k.fork(a.task));
    expect(child.close(w)).toBe(0);
    expect(a.close(r)).toBe(0);
    const wr = a.write(w, bytes(70000));
    expect(wr).toBeInstanceOf(Promise);
    child.close(r);
    expect(await wr).toBe(65536);
    expect(a.task.pending.has(SIGPIPE)).toBe(true);
  });

  it("EOF only after the last writer closes: a forked child's copy keeps the pipe open", async () => {
    const { k, a } = boot();
    const [r, w] = pipe(a);
    const child = new Libc(k, k.fork(a.task));
    expect(a.close(w)).toBe(0);
    const rd = a.read(r, 64);
    expect(rd).toBeInstanceOf(Promise);
    expect(child.write(w, text("hi"))).toBe(2);
    expect(await rd).toEqual(text("hi"));
    // The last writer's exit wakes a sleeping reader with EOF.
    const eof = a.read(r, 64);
    expect(eof).toBeInstanceOf(Promise);
    k.exit(child.task);
    expect(await eof).toEqual(new Uint8Array(0));
    expect(a.read(r, 64)).toEqual(new Uint8Array(0));
  });

  it("a blocking read sleeps until a write; a blocking write of a page sleeps until a page is read", async () => {
    const { k, a } = boot();
    const [r, w] = pipe(a);
    const b = new Libc(k, k.fork(a.task));
    const rd = b.read(r, 100);
    expect(rd).toBeInstanceOf(Promise);
    expect(a.write(w, text("hello"))).toBe(5);
    expect(await rd).toEqual(text("hello"));
    // Fill the ring, then a 4096-byte write waits until a whole page is free.
    expect(a.write(w, bytes(65536))).toBe(65536);
    const wr = a.write(w, bytes(4096, 3));
    expect(wr).toBeInstanceOf(Promise);
    let done = false;
    void (wr as Promise<number>).then(() => {
      done = true;
    });
    expect(b.read(r, 100)).toEqual(bytes(100));
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toBe(false); // the page is not free yet: a slot is
    expect(b.read(r, 3996)).toEqual(bytes(4096).subarray(100));
    expect(await wr).toBe(4096);
    expect(fionread(b, r)).toBe(65536);
  });

  it("a signal ends a blocking read with EINTR, and a blocking write with what it wrote (or EINTR)", async () => {
    const { k, a } = boot();
    const [r, w] = pipe(a);
    const rd = a.read(r, 10);
    expect(rd).toBeInstanceOf(Promise);
    expect(k.kill(a.task, SIGINT)).toBe(0);
    expect(await rd).toBe(-1);
    expect(a.errno).toBe(EINTR);
    expect(k.traceText(1)).toContain("= -1 EINTR");
    const wr = a.write(w, bytes(70000));
    k.kill(a.task, SIGINT);
    expect(await wr).toBe(65536);
    const wr2 = a.write(w, bytes(10));
    k.kill(a.task, SIGINT);
    expect(await wr2).toBe(-1);
    expect(a.errno).toBe(EINTR);
    // The pipe still works.
    expect((a.read(r, 70000) as Uint8Array).length).toBe(65536);
  });

  it("a fault: a read into a bad buffer is EFAULT and keeps the data; a write from a buffer that runs into a hole is EFAULT", () => {
    const { k, a } = boot();
    const [r, w] = pipe(a, O_NONBLOCK);
    const m = a.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
    expect(a.munmap(m + 4096, 4096)).toBe(0);
    expect(a.write(w, text("abc"))).toBe(3);
    expect(k.sys.read(a.task, r, m + 4096, 3)).toBe(-EFAULT);
    expect(fionread(a, r)).toBe(3);
    expect(a.read(r, 3)).toEqual(text("abc"));
    // 100 good bytes then the hole: nothing written, but the slot was taken (an empty buffer: poll says POLLIN).
    expect(k.sys.write(a.task, w, m + 4096 - 100, 300)).toBe(-EFAULT);
    expect(fionread(a, r)).toBe(0);
    expect(poll(a, [[r, POLLIN]])).toEqual({ ret: 1, revents: [POLLIN] });
    expect(a.read(r, 10)).toBe(-1);
    expect(a.errno).toBe(EAGAIN);
    expect(poll(a, [[r, POLLIN]])).toEqual({ ret: 0, revents: [0] });
  });

  it("packet mode (O_DIRECT): each write is a packet, a read takes one packet and drops what does not fit", () => {
    const { a } = boot();
    const [r, w] = pipe(a, O_DIRECT | O_NONBLOCK);
    expect(a.write(w, text("first"))).toBe(5);
    expect(a.write(w, text("second packet"))).toBe(13);
    expect(a.read(r, 100)).toEqual(text("first"));
    expect(a.read(r, 6)).toEqual(text("second"));
    expect(a.read(r, 100)).toBe(-1);
    expect(a.errno).toBe(EAGAIN);
    // Without O_DIRECT the two writes would be one read.
    const [r2, w2] = pipe(a, O_NONBLOCK);
    a.write(w2, text("first"));
    a.write(w2, text("second"));
    expect(a.read(r2, 100)).toEqual(text("firstsecond"));
  });

  it("a notification pipe refuses writes (EXDEV) and resizes (EBUSY)", () => {
    const { a } = boot();
    const [r, w] = pipe(a, O_NOTIFICATION_PIPE);
    expect(a.write(w, text("x"))).toBe(-1);
    expect(a.errno).toBe(EXDEV);
    expect(a.fcntl(r, F_SETPIPE_SZ, 8192)).toBe(-1);
    expect(a.errno).toBe(EBUSY);
  });
});

describe("F_SETPIPE_SZ and F_GETPIPE_SZ", () => {
  it("rounds up to a power of two of pages, at least one page", () => {
    const { a } = boot();
    const [r, w] = pipe(a, O_NONBLOCK);
    expect(a.fcntl(w, F_SETPIPE_SZ, 5000)).toBe(8192);
    expect(a.fcntl(r, F_GETPIPE_SZ)).toBe(8192);
    expect(a.fcntl(r, F_SETPIPE_SZ, 0)).toBe(4096);
    expect(a.write(w, bytes(5000))).toBe(4096);
    expect(a.fcntl(r, F_SETPIPE_SZ, 65537)).toBe(131072);
    expect(a.fcntl(r, F_SETPIPE_SZ, -1)).toBe(-1); // 0xffffffff: above 2^31
    expect(a.errno).toBe(EINVAL);
    expect(round_pipe_size(2 ** 31)).toBe(2 ** 31);
    expect(round_pipe_size(2 ** 31 + 1)).toBe(0);
  });

  it("above pipe-max-size needs CAP_SYS_RESOURCE (EPERM); shrinking below the slots in use is EBUSY", () => {
    const { k, a } = boot();
    const [r, w] = pipe(a, O_NONBLOCK);
    expect(a.fcntl(r, F_SETPIPE_SZ, 1048576)).toBe(1048576);
    expect(a.fcntl(r, F_SETPIPE_SZ, 1048577)).toBe(-1);
    expect(a.errno).toBe(EPERM);
    const admin = new Libc(k, k.spawn({ uid: 1000, caps: [CAP_SYS_RESOURCE] }));
    const [r2] = pipe(admin);
    expect(admin.fcntl(r2, F_SETPIPE_SZ, 1048577)).toBe(2097152);
    // Two slots of data (a page, then a byte that cannot merge into the full page): one slot is too few.
    expect(a.fcntl(r, F_SETPIPE_SZ, 65536)).toBe(65536);
    expect(a.write(w, bytes(4096))).toBe(4096);
    expect(a.write(w, bytes(1))).toBe(1);
    expect(a.fcntl(r, F_SETPIPE_SZ, 4096)).toBe(-1);
    expect(a.errno).toBe(EBUSY);
    expect(a.fcntl(r, F_SETPIPE_SZ, 8192)).toBe(8192);
    expect(a.read(r, 5000)).toEqual(Uint8Array.from([...bytes(4096), ...bytes(1)]));
  });

  it("growing wakes a blocked writer; the data survives a resize of a wrapped ring", async () => {
    const { k, a } = boot();
    const [r, w] = pipe(a);
    const b = new Libc(k, k.fork(a.task));
    expect(a.fcntl(w, F_SETPIPE_SZ, 8192)).toBe(8192);
    expect(a.write(w, bytes(8192))).toBe(8192);
    expect(b.read(r, 4096)).toEqual(bytes(8192).subarray(0, 4096));
    expect(a.write(w, bytes(4096, 9))).toBe(4096); // the ring wraps
    const wr = a.write(w, bytes(4096, 5));
    expect(wr).toBeInstanceOf(Promise);
    expect(b.fcntl(r, F_SETPIPE_SZ, 16384)).toBe(16384);
    expect(await wr).toBe(4096);
    expect(b.read(r, 20000)).toEqual(
      Uint8Array.from([...bytes(8192).subarray(4096), ...bytes(4096, 9), ...bytes(4096, 5)]),
    );
  });

  it("a user over pipe-user-pages-soft gets 2-page pipes and may not grow them", () => {
    const { k, a } = boot();
    const fs = pipefs(k);
    fs.pipeUserPagesSoft = 40;
    const [r1] = pipe(a);
    const [r2] = pipe(a);
    const [r3] = pipe(a);
    expect([a.fcntl(r1, F_GETPIPE_SZ), a.fcntl(r2, F_GETPIPE_SZ), a.fcntl(r3, F_GETPIPE_SZ)]).toEqual([
      65536, 65536, 8192,
    ]);
    expect(fs.userBufs.get(1000)).toBe(34);
    expect(a.fcntl(r3, F_SETPIPE_SZ, 65536)).toBe(-1);
    expect(a.errno).toBe(EPERM);
    expect(fs.userBufs.get(1000)).toBe(34);
  });
});

describe("poll", () => {
  it("read end: POLLIN|POLLRDNORM with data, POLLHUP with no writer; write end: POLLOUT|POLLWRNORM with room, POLLERR with no reader", () => {
    const { a } = boot();
    const [r, w] = pipe(a, O_NONBLOCK);
    const all = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    expect(
      poll(a, [
        [r, all],
        [w, all],
      ]),
    ).toEqual({ ret: 1, revents: [0, POLLOUT | POLLWRNORM] });
    a.write(w, bytes(65536));
    expect(
      poll(a, [
        [r, all],
        [w, all],
      ]),
    ).toEqual({ ret: 1, revents: [POLLIN | POLLRDNORM, 0] });
    a.close(w);
    expect(poll(a, [[r, POLLIN]])).toEqual({ ret: 1, revents: [POLLIN | POLLHUP] });
    const [r2, w2] = pipe(a);
    a.close(r2);
    expect(poll(a, [[w2, POLLOUT]])).toEqual({ ret: 1, revents: [POLLOUT | POLLERR] });
  });

  it("a poll that waits is woken by a write", async () => {
    const { k, a } = boot();
    const [r, w] = pipe(a);
    const b = new Libc(k, k.fork(a.task));
    const p = poll(a, [[r, POLLIN]], -1);
    expect(p).toBeInstanceOf(Promise);
    expect(b.write(w, text("!"))).toBe(1);
    expect(await p).toEqual({ ret: 1, revents: [POLLIN] });
  });
});

describe("FIFOs", () => {
  it("mkfifo makes a FIFO (EEXIST the second time); O_RDONLY waits for a writer, the two ends talk", async () => {
    const { k, a } = boot();
    expect(mkfifoAt(a, "/tmp/fifo", 0o644)).toBe(0);
    expect(k.traceText(1)).toContain('mknodat(AT_FDCWD, "/tmp/fifo", S_IFIFO|0644, 0) = 0');
    expect(mkfifoAt(a, "/tmp/fifo")).toBe(-1);
    expect(a.errno).toBe(EEXIST);
    const b = new Libc(k, k.spawn({ uid: 1000 }));
    const rd = a.open("/tmp/fifo", O_RDONLY);
    expect(rd).toBeInstanceOf(Promise);
    const fdw = b.open("/tmp/fifo", O_WRONLY);
    expect(fdw).toBe(0);
    const fdr = await rd;
    expect(fdr).toBe(0);
    expect(b.write(fdw as number, text("through the fifo"))).toBe(16);
    expect(a.read(fdr, 100)).toEqual(text("through the fifo"));
    b.close(fdw as number);
    expect(a.read(fdr, 100)).toEqual(new Uint8Array(0));
    a.close(fdr);
    expect(pipefs(k).pipes.size).toBe(0);
  });

  it("O_WRONLY|O_NONBLOCK with no reader is ENXIO; O_WRONLY waits for a reader; O_RDWR never waits", async () => {
    const { k, a } = boot();
    expect(mkfifo(k, "/run/f", 0o666, a.task.cred)).not.toBeTypeOf("number");
    expect(a.open("/run/f", O_WRONLY | O_NONBLOCK)).toBe(-1);
    expect(a.errno).toBe(ENXIO);
    const b = new Libc(k, k.spawn({ uid: 1000 }));
    const wr = a.open("/run/f", O_WRONLY);
    expect(wr).toBeInstanceOf(Promise);
    const fdr = b.open("/run/f", O_RDONLY | O_NONBLOCK);
    expect(fdr).toBe(0);
    expect(await wr).toBe(0);
    const c = new Libc(k, k.spawn({ uid: 1000 }));
    expect(c.open("/run/f", O_RDWR)).toBe(0);
    expect(c.open("/run/f", 3)).toBe(-1); // access mode 3: fifo_open's default case
    expect(c.errno).toBe(EINVAL);
  });

  it("a nonblocking reader with no writer reads EOF, and sees no POLLHUP until a writer came and went", () => {
    const { k, a } = boot();
    mkfifo(k, "/f", 0o666, a.task.cred);
    const fd = a.open("/f", O_RDONLY | O_NONBLOCK) as number;
    expect(a.read(fd, 10)).toEqual(new Uint8Array(0));
    expect(poll(a, [[fd, POLLIN]])).toEqual({ ret: 0, revents: [0] });
    const b = new Libc(k, k.spawn({ uid: 1000 }));
    const w = b.open("/f", O_WRONLY) as number;
    b.close(w);
    expect(poll(a, [[fd, POLLIN]])).toEqual({ ret: 1, revents: [POLLHUP] });
  });

  it("a signal ends a waiting open with EINTR and gives the pipe back; the mode bits apply (EACCES)", async () => {
    const { k, a } = boot();
    const root = new Libc(k, k.spawn({ comm: "root" }));
    expect(mkfifoAt(root, "/srv/f", 0o666)).toBe(0); // umask 022: 0644
    const o = a.open("/srv/f", O_RDONLY);
    expect(pipefs(k).pipes.size).toBe(1);
    k.kill(a.task, SIGINT);
    expect(await o).toBe(-1);
    expect(a.errno).toBe(EINTR);
    expect(pipefs(k).pipes.size).toBe(0);
    expect(a.open("/srv/f", O_WRONLY)).toBe(-1);
    expect(a.errno).toBe(EACCES);
    expect(unlink_fifo(k, "/srv/f")).toBe(0);
    expect(a.open("/srv/f", O_RDONLY)).toBe(-1);
    expect(a.errno).toBe(2);
    expect(sys_mkfifo(k, a.task, a.dup(text("/d\0")), 0o040755)).toBe(-EPERM);
    expect(sys_mkfifo(k, a.task, 0x10, S_IFIFO | 0o600)).toBe(-EFAULT);
  });
});

describe("pages", () => {
  it("every page goes back when every descriptor is closed, whatever was left in the pipes", () => {
    const { k, a } = boot();
    const fs = pipefs(k);
    const [r, w] = pipe(a, O_NONBLOCK);
    a.write(w, bytes(30000));
    a.read(r, 5000);
    const [r2, w2] = pipe(a, O_NONBLOCK);
    a.fcntl(w2, F_SETPIPE_SZ, 1 << 20);
    a.write(w2, bytes(300000));
    const child = new Libc(k, k.fork(a.task));
    mkfifo(k, "/q", 0o666, a.task.cred);
    const q = a.open("/q", O_RDWR) as number;
    a.write(q, bytes(9000));
    expect(fs.pagesInUse).toBeGreaterThan(80);
    for (const fd of [r, w, r2, w2, q]) expect(a.close(fd)).toBe(0);
    // The child still holds both pipes (not the FIFO, opened after the fork).
    expect(fs.pipes.size).toBe(2);
    expect(fs.pagesInUse).toBe(8 + 74);
    k.exit(child.task);
    expect(fs.pagesInUse).toBe(0);
    expect(fs.pipes.size).toBe(0);
    expect(fs.userBufs.size).toBe(0);
  });

  it("the trace names the ends pipe:[ino]; F_SETFL O_NONBLOCK makes a read EAGAIN", () => {
    const { k, a } = boot();
    const [r] = pipe(a);
    const f = a.task.fds[r]!;
    expect(f.object.kind).toBe("kfile");
    if (f.object.kind === "kfile") expect(f.object.file.ops.name(f.object.file)).toMatch(/^pipe:\[\d+\]$/);
    expect(a.fcntl(r, F_SETFL, O_NONBLOCK)).toBe(0);
    expect(a.read(r, 1)).toBe(-1);
    expect(a.errno).toBe(EAGAIN);
    expect(k.trace.length).toBeGreaterThan(0);
  });
});
