// POSIX shared memory on /dev/shm and futexes, driven through system calls by processes: two processes share the
// frames of one object, ftruncate and SIGBUS past EOF, shm_unlink while mapped, the open() errno rules, futex
// WAIT/WAKE across processes on a shared page, EAGAIN, EINTR, private keys. Every frame is back at the end.
import { O_RDONLY, O_RDWR } from "@kbridge/chrdev";
import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, SIGBUS, SignalError } from "@kbridge/vmm";
import { describe, expect, it } from "vitest";
import { Kernel, Libc } from "../src/index.js";
import { FUTEX_PRIVATE_FLAG, FUTEX_WAIT, FUTEX_WAKE, futexWaiters, sys_futex } from "../src/kernel/futex.js";
import { O_CREAT, O_EXCL, O_TRUNC, shm_open, shm_unlink, sys_ftruncate } from "../src/mm/shmem.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | -1 | Promise<Uint8Array | -1>) =>
  b instanceof Promise ? "<promise>" : b === -1 ? "<-1>" : new TextDecoder().decode(b);
const u32 = (v: number) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);

function boot() {
  const k = new Kernel();
  const shm = k.shm; // /dev/shm is mounted at boot
  const free0 = k.vmm.phys.stats().freeFrames;
  const a = new Libc(k, k.spawn({ comm: "a", uid: 1000 }));
  const b = new Libc(k, k.spawn({ comm: "b", uid: 1000 }));
  return { k, shm, a, b, free0 };
}

describe("POSIX shared memory", () => {
  it("two processes see each other's stores through MAP_SHARED mappings; read() sees them too", () => {
    const { k, shm, a, b } = boot();
    const fa = shm_open(a, "/ring", O_CREAT | O_RDWR, 0o600);
    expect(fa).toBeGreaterThanOrEqual(0);
    expect(sys_ftruncate(k, a.task, fa, 8192)).toBe(0);
    const fb = shm_open(b, "ring", O_RDWR);
    expect(fb).toBeGreaterThanOrEqual(0);
    const pa = a.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fa);
    const pb = b.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fb);
    expect(pa).toBeGreaterThan(0);
    expect(pb).toBeGreaterThan(0);
    a.poke(pa + 4100, enc("from a"));
    expect(dec(b.peek(pb + 4100, 6))).toBe("from a");
    b.poke(pb, enc("from b"));
    expect(dec(a.peek(pa, 6))).toBe("from b");
    expect(shm.pagesInUse).toBe(2);
    // write() on one fd lands in the mapped frames; read() through the other fd sees the mapped store.
    expect(b.write(fb, enc("XY"))).toBe(2);
    expect(dec(a.peek(pa, 6))).toBe("XYom b");
    expect(a.read(fa, 6)).toEqual(enc("XYom b"));
    expect(k.sys.lseek(a.task, fa, 4100, 0)).toBe(4100);
    expect(dec(a.read(fa, 6) as Uint8Array)).toBe("from a");
    expect(k.traceText()).toContain('openat(AT_FDCWD, "/dev/shm/ring", 02400102) = 0');
  });

  it("MAP_PRIVATE copies on write: the object and the other mappings keep the old bytes", () => {
    const { k, a, b } = boot();
    const fa = shm_open(a, "p", O_CREAT | O_RDWR, 0o600);
    expect(a.write(fa, enc("original"))).toBe(8);
    const shared = a.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fa);
    const priv = a.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fa);
    expect(dec(a.peek(priv, 8))).toBe("original");
    a.poke(priv, enc("CHANGED!"));
    expect(dec(a.peek(priv, 8))).toBe("CHANGED!");
    expect(dec(a.peek(shared, 8))).toBe("original");
    expect(a.task.mm.stats().cowCopies).toBe(1);
    const fb = shm_open(b, "p", O_RDONLY);
    expect(dec(b.read(fb, 8))).toBe("original");
    expect(k.sys.munmap(a.task, priv, 4096)).toBe(0);
  });

  it("ftruncate: EINVAL for a negative length or a read-only fd, EBADF; a mapping past EOF is SIGBUS", () => {
    const { k, a } = boot();
    const fd = shm_open(a, "t", O_CREAT | O_RDWR, 0o600);
    expect(sys_ftruncate(k, a.task, fd, -1)).toBe(-22);
    expect(sys_ftruncate(k, a.task, 42, 10)).toBe(-9);
    const ro = shm_open(a, "t", O_RDONLY);
    expect(sys_ftruncate(k, a.task, ro, 10)).toBe(-22);
    expect(sys_ftruncate(k, a.task, fd, 5000)).toBe(0);
    const p = a.mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    a.poke(p + 4096, enc("page1")); // page 1 holds bytes 4096..4999: inside
    let err: unknown;
    try {
      a.peek(p + 2 * 4096, 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SignalError);
    expect((err as SignalError).signo).toBe(SIGBUS);
    // Shrinking unmaps what lies past the new end: the page that was mapped is SIGBUS now.
    expect(sys_ftruncate(k, a.task, fd, 100)).toBe(0);
    expect(() => a.peek(p + 4096, 1)).toThrow(/SIGBUS/);
    expect(dec(a.peek(p, 2))).toBe("\0\0");
    // Growing again gives zeroes, not the old bytes.
    expect(sys_ftruncate(k, a.task, fd, 8192)).toBe(0);
    expect(a.peek(p + 4096, 5)).toEqual(new Uint8Array(5));
    expect(k.traceText()).toContain("ftruncate(0, -1) = -1 EINVAL");
  });

  it("shm_unlink while mapped keeps the memory until munmap; then every frame is back", () => {
    const { k, shm, a, b, free0 } = boot();
    const fd = shm_open(a, "gone", O_CREAT | O_RDWR, 0o600);
    expect(sys_ftruncate(k, a.task, fd, 4096)).toBe(0);
    const p = a.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    a.poke(p, enc("still here"));
    expect(a.close(fd)).toBe(0);
    expect(shm_unlink(b, "gone")).toBe(0); // same uid: the owner may delete in the sticky /dev/shm
    expect(shm_open(b, "gone", O_RDWR)).toBe(-1);
    expect(b.errno).toBe(2);
    expect(dec(a.peek(p, 10))).toBe("still here");
    expect(a.task.mm.maps()).toContain("/dev/shm/gone (deleted)");
    expect(shm.objects).toBe(1);
    expect(shm.pagesInUse).toBe(1);
    expect(a.munmap(p, 4096)).toBe(0);
    expect(shm.objects).toBe(0);
    expect(shm.pagesInUse).toBe(0);
    k.exit(a.task);
    k.exit(b.task);
    expect(k.vmm.phys.stats().freeFrames).toBeGreaterThanOrEqual(free0);
  });

  it("open() on /dev/shm: ENOENT, EEXIST, EACCES, ENAMETOOLONG, O_TRUNC; glibc's EINVAL and the sticky EACCES", () => {
    const { k, shm } = boot();
    const owner = new Libc(k, k.spawn({ uid: 1000 }));
    const other = new Libc(k, k.spawn({ uid: 1001 }));
    const root = new Libc(k, k.spawn({ uid: 0 }));
    expect(owner.open("/dev/shm/x", O_RDWR)).toBe(-1);
    expect(owner.errno).toBe(2);
    const fd = owner.open("/dev/shm/x", O_CREAT | O_EXCL | O_RDWR, 0o644) as number;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(owner.write(fd, enc("abc"))).toBe(3);
    expect(owner.open("/dev/shm/x", O_CREAT | O_EXCL | O_RDWR, 0o644)).toBe(-1);
    expect(owner.errno).toBe(17);
    expect(shm.lookup("x")?.mode).toBe(0o644);
    expect(other.open("/dev/shm/x", O_RDWR)).toBe(-1); // 0644: others may not write
    expect(other.errno).toBe(13);
    expect(other.open("/dev/shm/x", O_RDONLY | O_TRUNC)).toBe(-1); // O_TRUNC needs write permission
    expect(other.errno).toBe(13);
    expect(dec(other.read(other.open("/dev/shm/x", O_RDONLY) as number, 10))).toBe("abc");
    expect(root.open("/dev/shm/x", O_RDWR)).toBeGreaterThanOrEqual(0); // CAP_DAC_OVERRIDE
    expect(owner.open(`/dev/shm/${"n".repeat(256)}`, O_CREAT | O_RDWR)).toBe(-1);
    expect(owner.errno).toBe(36);
    expect(owner.open(`/dev/shm/${"n".repeat(255)}`, O_CREAT | O_RDWR)).toBeGreaterThanOrEqual(0);
    expect(owner.open("/dev/shm/x/y", O_CREAT | O_RDWR)).toBe(-1);
    expect(owner.errno).toBe(20);
    expect(owner.open("/dev/shm", O_RDWR)).toBe(-1);
    expect(owner.errno).toBe(21);
    // A file created by this open is not checked against its own mode.
    expect(owner.open("/dev/shm/zero", O_CREAT | O_RDWR, 0)).toBeGreaterThanOrEqual(0);
    // O_TRUNC empties an existing object.
    const t = owner.open("/dev/shm/x", O_RDWR | O_TRUNC) as number;
    expect(owner.read(t, 10)).toEqual(new Uint8Array(0));
    // glibc's checks, before any system call.
    expect(shm_open(owner, "a/b", O_CREAT | O_RDWR)).toBe(-1);
    expect(owner.errno).toBe(22);
    expect(shm_open(owner, "///", O_CREAT | O_RDWR)).toBe(-1);
    expect(owner.errno).toBe(22);
    // The sticky directory: another user cannot remove it (EPERM, which glibc's shm_unlink reports as EACCES).
    expect(shm_unlink(other, "x")).toBe(-1);
    expect(other.errno).toBe(13);
    expect(k.traceText()).toContain('unlink("/dev/shm/x") = -1 EPERM');
    expect(shm_unlink(root, "x")).toBe(0);
    expect(shm_unlink(root, "x")).toBe(-1);
    expect(root.errno).toBe(2);
  });
});

describe("futex", () => {
  function shared() {
    const { k, shm, a, b, free0 } = boot();
    const fa = shm_open(a, "lock", O_CREAT | O_RDWR, 0o600);
    sys_ftruncate(k, a.task, fa, 4096);
    const fb = shm_open(b, "lock", O_RDWR);
    const pa = a.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fa);
    // A different address in b: the key is the object's page, not the address.
    const pb = b.mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fb) + 0;
    return { k, shm, a, b, pa, pb, free0 };
  }

  it("WAIT in one process settles after WAKE from another on the same shared page", async () => {
    const { k, a, b, pa, pb } = shared();
    a.poke(pa + 64, u32(7));
    let settled: number | undefined;
    const w = sys_futex(k, a.task, pa + 64, FUTEX_WAIT, 7);
    expect(w).toBeInstanceOf(Promise);
    void (w as Promise<number>).then((r) => {
      settled = r;
    });
    await Promise.resolve();
    expect(settled).toBeUndefined();
    expect(futexWaiters(k)).toBe(1);
    expect(sys_futex(k, b.task, pb + 68, FUTEX_WAKE, 1)).toBe(0); // another word: nobody
    b.poke(pb + 64, u32(8));
    expect(sys_futex(k, b.task, pb + 64, FUTEX_WAKE, 1)).toBe(1);
    expect(await w).toBe(0);
    expect(settled).toBe(0);
    expect(futexWaiters(k)).toBe(0);
    expect(k.traceText()).toContain("futex(0x");
  });

  it("EAGAIN when the value changed, EINVAL unaligned, EFAULT unmapped; WAKE wakes at most val", async () => {
    const { k, a, b, pa, pb } = shared();
    a.poke(pa, u32(1));
    expect(sys_futex(k, a.task, pa, FUTEX_WAIT, 2)).toBe(-11);
    expect(sys_futex(k, a.task, pa + 2, FUTEX_WAIT, 1)).toBe(-22);
    expect(sys_futex(k, a.task, 0x1000, FUTEX_WAIT, 1)).toBe(-14);
    const c = new Libc(k, k.fork(b.task));
    const w1 = sys_futex(k, a.task, pa, FUTEX_WAIT, 1) as Promise<number>;
    const w2 = sys_futex(k, b.task, pb, FUTEX_WAIT, 1) as Promise<number>;
    const w3 = sys_futex(k, c.task, pb, FUTEX_WAIT, 1) as Promise<number>;
    expect(futexWaiters(k)).toBe(3);
    expect(sys_futex(k, a.task, pa, FUTEX_WAKE, 2)).toBe(2);
    expect(await w1).toBe(0);
    expect(await w2).toBe(0);
    expect(futexWaiters(k)).toBe(1);
    expect(sys_futex(k, a.task, pa, FUTEX_WAKE, 0)).toBe(1); // nr_wake 0 still wakes one
    expect(await w3).toBe(0);
  });

  it("a signal ends the wait with EINTR and wakes nobody else", async () => {
    const { k, a, b, pa, pb } = shared();
    const wa = sys_futex(k, a.task, pa, FUTEX_WAIT, 0) as Promise<number>;
    const wb = sys_futex(k, b.task, pb, FUTEX_WAIT, 0) as Promise<number>;
    expect(k.kill(a.task, 15)).toBe(0);
    expect(await wa).toBe(-4);
    expect(futexWaiters(k)).toBe(1);
    expect(sys_futex(k, a.task, pa, FUTEX_WAKE, 10)).toBe(1);
    expect(await wb).toBe(0);
  });

  it("private keys do not meet across processes; a shared wait on private anonymous memory does not either", async () => {
    const { k, a } = boot();
    const p = a.malloc(8);
    a.poke(p, u32(0));
    const child = new Libc(k, k.fork(a.task));
    const w = sys_futex(k, child.task, p, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0) as Promise<number>;
    expect(sys_futex(k, a.task, p, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1)).toBe(0);
    expect(sys_futex(k, a.task, p, FUTEX_WAKE, 1)).toBe(0);
    expect(sys_futex(k, child.task, p, FUTEX_WAKE, 1)).toBe(0); // shared key ≠ private key
    expect(sys_futex(k, child.task, p, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1)).toBe(1);
    expect(await w).toBe(0);
    // A finite timeout: the model's time does not pass, so the wait times out at once.
    const ts = a.dup(new Uint8Array(16));
    expect(sys_futex(k, a.task, p, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, ts)).toBe(-110);
    a.poke(ts + 8, u32(1_000_000_000));
    expect(sys_futex(k, a.task, p, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, ts)).toBe(-22);
  });

  it("exit of every process gives every frame back and leaves no waiter", async () => {
    const { k, shm, a, b, pa, free0 } = shared();
    const w = sys_futex(k, a.task, pa, FUTEX_WAIT, 0) as Promise<number>;
    k.exit(a.task);
    expect(await w).toBe(-4);
    k.exit(b.task);
    expect(futexWaiters(k)).toBe(0);
    expect(shm.pagesInUse).toBe(1); // still named in /dev/shm
    const root = new Libc(k, k.spawn());
    expect(shm_unlink(root, "lock")).toBe(0);
    expect(shm.pagesInUse).toBe(0);
    k.exit(root.task);
    expect(k.vmm.phys.stats().freeFrames).toBe(free0);
  });
});
