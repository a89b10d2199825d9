// uaccess: access_ok, copy_{to,from}_user and their variants, get_user/put_user, clear_user, strncpy_from_user,
// strnlen_user, check_zeroed_user, copy_struct_from_user, hardened usercopy and SMAP — each return-value rule of
// ../../../shared/spec/mm-dma-chrdev.md §1 (include/linux/uaccess.h, lib/usercopy.c, mm/maccess.c,
// arch/x86/include/asm/uaccess_64.h, arch/x86/lib/{getuser,putuser,clear_page_64}.S, lib/strncpy_from_user.c,
// lib/strnlen_user.c, mm/usercopy.c, arch/x86/mm/fault.c).
import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import {
  access_ok,
  KernelOops,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  type MmStruct,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  Vmm,
} from "../src/index.js";
import { kerr } from "./kerr.js";

const PAGE = 4096;
const EFAULT = -14;
const E2BIG = -7;
const INT_MAX = 0x7fffffff;
const TASK_SIZE_MAX = 0x7fff_ffff_f000;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
/** A direct-map address (4-level PAGE_OFFSET) of the first RAM page. */
const KERNEL_ADDR = 0xffff_8880_0000_0000n;

function machine(): { vmm: Vmm; mm: MmStruct } {
  const vmm = new Vmm({ ram: 16 << 20 });
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  return { vmm, mm };
}

/** `n` bytes of a pattern that differs from its neighbours at every offset (never 0). */
function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = ((i * 7 + seed * 13) % 251) + 1;
  return b;
}

/** kmalloc(size) filled with `fill`. */
function kbuf(vmm: Vmm, size: number, fill: number | Uint8Array): bigint {
  const k = vmm.kmem.kmalloc(size);
  const v = vmm.kmem.view(k, size);
  if (typeof fill === "number") v.fill(fill);
  else v.set(fill);
  return k;
}

/** Two RW pages; the second is unmapped ("hole"), PROT_READ or PROT_NONE. Both pages hold 0xee before. */
function twoPages(vmm: Vmm, mm: MmStruct, second: "hole" | "read" | "none"): number {
  const buf = mm.mmap(0, 2 * PAGE, RW, ANON);
  vmm.userWrite(buf, new Uint8Array(2 * PAGE).fill(0xee));
  if (second === "hole") mm.munmap(buf + PAGE, PAGE);
  else mm.mprotect(buf + PAGE, PAGE, second === "read" ? PROT_READ : PROT_NONE);
  return buf;
}

function oopsText(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KernelOops);
    return (e as KernelOops).text;
  }
  throw new Error("no oops");
}

describe("access_ok (include/asm-generic/access_ok.h __access_ok, TASK_SIZE_MAX)", () => {
  it("size 0 passes for NULL and every user address up to TASK_SIZE_MAX", () => {
    expect(access_ok(0, 0)).toBe(true);
    expect(access_ok(0n, 0n)).toBe(true);
    expect(access_ok(0, 1)).toBe(true); // a range check only: page 0 need not be mapped
    expect(access_ok(TASK_SIZE_MAX, 0)).toBe(true);
    expect(access_ok(TASK_SIZE_MAX + 1, 0)).toBe(false);
  });

  it("kernel addresses fail, with or without a size", () => {
    expect(access_ok(0xffff_8000_0000_0000n, 10)).toBe(false);
    expect(access_ok(KERNEL_ADDR, 0)).toBe(false);
    expect(access_ok(0xffff_ffff_ffff_f000n, 1)).toBe(false);
  });

  it("the range must end at or below 0x7ffffffff000: [0x7ffffffff000, +10) fails, [-10, +10) passes", () => {
    expect(access_ok(0x7fff_ffff_f000, 10)).toBe(false);
    expect(access_ok(TASK_SIZE_MAX - 10, 10)).toBe(true);
    expect(access_ok(TASK_SIZE_MAX - 10, 11)).toBe(false);
    expect(access_ok(0, TASK_SIZE_MAX)).toBe(true);
    expect(access_ok(1, TASK_SIZE_MAX)).toBe(false);
    expect(access_ok(0, TASK_SIZE_MAX + 1)).toBe(false);
  });

  it("a range that wraps around 2^64 fails", () => {
    expect(access_ok(0x1000, 2n ** 64n - 1n)).toBe(false);
    expect(access_ok(2n ** 64n - 1n, 2)).toBe(false);
    expect(access_ok(0x7fff_0000_0000, 2n ** 64n - 0x7fff_0000_0000n)).toBe(false);
  });

  it("5-level paging moves the limit to 0x00fffffffffff000 (56 bits)", () => {
    const L5 = 0x00ff_ffff_ffff_f000n;
    expect(access_ok(TASK_SIZE_MAX, 10, 5)).toBe(true);
    expect(access_ok(L5 - 10n, 10, 5)).toBe(true);
    expect(access_ok(L5 - 10n, 11, 5)).toBe(false);
    expect(access_ok(L5, 0, 5)).toBe(true);
    expect(access_ok(L5, 1, 5)).toBe(false);
    expect(access_ok(0xff11_0000_0000_0000n, 1, 5)).toBe(false);
    const vmm5 = new Vmm({ ram: 16 << 20, levels: 5 });
    expect(vmm5.access_ok(TASK_SIZE_MAX, 10)).toBe(true);
    expect(vmm5.access_ok(L5, 1)).toBe(false);
    expect(new Vmm({ ram: 16 << 20 }).access_ok(TASK_SIZE_MAX, 10)).toBe(false);
  });

  it("arguments that are not unsigned 64-bit integers are EINVAL", () => {
    kerr(() => access_ok(-1, 0), "EINVAL");
    kerr(() => access_ok(0, -1), "EINVAL");
    kerr(() => access_ok(1.5, 0), "EINVAL");
    kerr(() => access_ok(2n ** 64n, 0), "EINVAL");
    kerr(() => access_ok(0, -1n), "EINVAL");
    kerr(() => access_ok("0" as unknown as number, 0), "EINVAL");
  });
});

describe("copy_to_user: the bytes NOT copied", () => {
  it("a full copy returns 0 and the user bytes equal the kernel bytes", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, 2 * PAGE, RW, ANON);
    const data = pattern(2 * PAGE);
    const k = kbuf(vmm, 2 * PAGE, data);
    expect(vmm.copy_to_user(buf, k, 2 * PAGE)).toBe(0);
    expect(vmm.userRead(buf, 2 * PAGE)).toEqual(data);
    // a Uint8Array kernel buffer, an unaligned start, and a bigint user pointer
    expect(vmm.copy_to_user(BigInt(buf + 4001), data.subarray(0, 150), 150)).toBe(0);
    expect(vmm.userRead(buf + 4001, 150)).toEqual(data.subarray(0, 150));
  });

  it("n = 0 returns 0 and touches nothing, even with NULL", () => {
    const { vmm } = machine();
    expect(vmm.copy_to_user(0, new Uint8Array(0), 0)).toBe(0);
    expect(vmm.copy_from_user(new Uint8Array(0), 0, 0)).toBe(0);
    expect(vmm.copy_to_user(0, 16n, 0)).toBe(0); // ZERO_SIZE_PTR: check_object_size skips n == 0
  });

  it.each([
    [0, 200],
    [1, 200],
    [96, 200],
    [4095, 5000],
  ])(
    "a copy of n bytes starting k = %i bytes before an unmapped page copies exactly k and returns n - k",
    (k, n) => {
      const { vmm, mm } = machine();
      const buf = twoPages(vmm, mm, "hole");
      const data = pattern(n, 2);
      const src = kbuf(vmm, 8192, 0);
      vmm.kmem.view(src, n).set(data);
      expect(vmm.copy_to_user(buf + PAGE - k, src, n)).toBe(n - k);
      expect(vmm.userRead(buf + PAGE - k, k)).toEqual(data.subarray(0, k));
      expect(vmm.userRead(buf + PAGE - k - 1, 1)[0]).toBe(0xee);
    },
  );

  it("stops at a PROT_READ page and leaves the user bytes after the fault untouched", () => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "read");
    const data = pattern(200, 3);
    expect(vmm.copy_to_user(buf + 4000, data, 200)).toBe(104);
    expect(vmm.userRead(buf + 4000, 96)).toEqual(data.subarray(0, 96));
    expect(vmm.userRead(buf + PAGE, PAGE)).toEqual(new Uint8Array(PAGE).fill(0xee));
    // a copy that lies entirely in the read-only page copies nothing
    expect(vmm.copy_to_user(buf + PAGE, data, 10)).toBe(10);
  });

  it("copies into untouched (demand-zero) pages whole, faulting them in", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, 4 * PAGE, RW, ANON);
    vmm.userWrite(buf, Uint8Array.of(1)); // the page tables exist now
    const data = pattern(3 * PAGE, 4);
    const free0 = vmm.phys.freeFrames;
    expect(vmm.copy_to_user(buf + PAGE, data, 3 * PAGE)).toBe(0);
    expect(vmm.userRead(buf + PAGE, 3 * PAGE)).toEqual(data);
    expect(mm.stats().rssPages).toBe(4);
    expect(vmm.uaccessStats().faultsResolved).toBe(3);
    expect(free0 - vmm.phys.freeFrames).toBe(3); // one frame per page
  });

  it("copies into copy-on-write pages after fork whole; the other process keeps its bytes", () => {
    const { vmm, mm: parent } = machine();
    const buf = parent.mmap(0, 2 * PAGE, RW, ANON);
    const a = pattern(2 * PAGE, 5);
    const b = pattern(2 * PAGE, 6);
    vmm.userWrite(buf, a);
    const child = parent.fork();
    vmm.switch_mm(child);
    expect(vmm.copy_to_user(buf + 10, b, 2 * PAGE - 20)).toBe(0);
    expect(vmm.userRead(buf + 10, 2 * PAGE - 20)).toEqual(b.subarray(0, 2 * PAGE - 20));
    expect(vmm.userRead(buf, 10)).toEqual(a.subarray(0, 10)); // the copied page kept the old head
    expect(child.stats().cowCopies).toBe(2);
    vmm.switch_mm(parent);
    expect(vmm.userRead(buf, 2 * PAGE)).toEqual(a);
    // and the other way round: the parent writes, the child still sees b
    expect(vmm.copy_to_user(buf, new Uint8Array(PAGE).fill(0x11), PAGE)).toBe(0);
    vmm.switch_mm(child);
    expect(vmm.userRead(buf + 10, 10)).toEqual(b.subarray(0, 10));
    child.mmput();
    parent.mmput();
  });

  it("an access_ok failure returns n and writes nothing", () => {
    const { vmm, mm } = machine();
    mm.mmap(TASK_SIZE_MAX - PAGE, PAGE, RW, ANON | MAP_FIXED);
    vmm.userWrite(TASK_SIZE_MAX - 10, new Uint8Array(10).fill(0xee));
    expect(vmm.copy_to_user(TASK_SIZE_MAX - 10, pattern(20), 20)).toBe(20);
    expect(vmm.userRead(TASK_SIZE_MAX - 10, 10)).toEqual(new Uint8Array(10).fill(0xee));
    expect(vmm.copy_to_user(KERNEL_ADDR, pattern(64), 64)).toBe(64);
    expect(vmm.uaccessStats().accessOkFailures).toBe(2);
  });

  it("__copy_to_user skips access_ok: the same range copies 10 bytes up to the guard page", () => {
    const { vmm, mm } = machine();
    mm.mmap(TASK_SIZE_MAX - PAGE, PAGE, RW, ANON | MAP_FIXED);
    const data = pattern(20, 7);
    expect(vmm.__copy_to_user(TASK_SIZE_MAX - 10, data, 20)).toBe(10);
    expect(vmm.userRead(TASK_SIZE_MAX - 10, 10)).toEqual(data.subarray(0, 10));
  });

  it("n > INT_MAX returns n at once: no copy, no hardened-usercopy check", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    const k = kbuf(vmm, 64, 0x77);
    expect(vmm.copy_to_user(buf, k, INT_MAX + 1)).toBe(INT_MAX + 1);
    expect(vmm.copy_to_user(buf, k, 2n ** 40n)).toBe(2 ** 40);
    expect(mm.stats().rssPages).toBe(0);
    // INT_MAX itself passes check_copy_size and reaches check_object_size
    expect(() => vmm.copy_to_user(buf, k, INT_MAX)).toThrow(KernelOops);
  });
});

describe("copy_from_user: the bytes NOT copied, the tail zeroed", () => {
  it("a full copy returns 0", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, 2 * PAGE, RW, ANON);
    const data = pattern(2 * PAGE, 8);
    vmm.userWrite(buf, data);
    const k = kbuf(vmm, 2 * PAGE, 0xcc);
    expect(vmm.copy_from_user(k, buf, 2 * PAGE)).toBe(0);
    expect(vmm.kmem.view(k, 2 * PAGE)).toEqual(data);
  });

  it.each([
    [0, 200],
    [1, 200],
    [96, 200],
    [4095, 5000],
  ])("a copy of n bytes starting k = %i bytes before an unmapped page fills k and zeroes n - k", (k, n) => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "hole");
    const data = pattern(PAGE, 9);
    vmm.userWrite(buf, data);
    const dst = kbuf(vmm, 8192, 0xcc);
    expect(vmm.copy_from_user(dst, buf + PAGE - k, n)).toBe(n - k);
    const want = new Uint8Array(8192).fill(0xcc);
    want.fill(0, 0, n);
    want.set(data.subarray(PAGE - k));
    expect(vmm.kmem.view(dst, 8192)).toEqual(want);
  });

  it("stops at a PROT_NONE page (a PROT_READ page is copied) and zeroes a Uint8Array's tail too", () => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "none");
    const dst = new Uint8Array(256).fill(0xcc);
    expect(vmm.copy_from_user(dst, buf + 4000, 200)).toBe(104);
    const want = new Uint8Array(256).fill(0xcc);
    want.fill(0xee, 0, 96);
    want.fill(0, 96, 200);
    expect(dst).toEqual(want);
    const { vmm: v2, mm: m2 } = machine();
    const ro = twoPages(v2, m2, "read");
    const d2 = new Uint8Array(200).fill(0xcc);
    expect(v2.copy_from_user(d2, ro + 4000, 200)).toBe(0);
    expect(d2).toEqual(new Uint8Array(200).fill(0xee));
  });

  it("reads untouched pages as zeros (the shared zero page) and allocates nothing for them", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, 4 * PAGE, RW, ANON);
    vmm.userWrite(buf, Uint8Array.of(1)); // the page tables exist now
    const free0 = vmm.phys.freeFrames;
    const dst = new Uint8Array(3 * PAGE).fill(0xcc);
    expect(vmm.copy_from_user(dst, buf + PAGE, 3 * PAGE)).toBe(0);
    expect(dst).toEqual(new Uint8Array(3 * PAGE));
    expect(mm.stats().zeroPageMaps).toBe(3);
    expect(free0 - vmm.phys.freeFrames).toBe(0);
  });

  it("an access_ok failure returns n and zeroes all n kernel bytes (not more)", () => {
    const { vmm, mm } = machine();
    mm.mmap(TASK_SIZE_MAX - PAGE, PAGE, RW, ANON | MAP_FIXED);
    vmm.userWrite(TASK_SIZE_MAX - PAGE, pattern(PAGE, 10));
    const dst = kbuf(vmm, 64, 0xcc);
    expect(vmm.copy_from_user(dst, TASK_SIZE_MAX - 10, 20)).toBe(20);
    expect(vmm.kmem.view(dst, 64)).toEqual(Uint8Array.from({ length: 64 }, (_, i) => (i < 20 ? 0 : 0xcc)));
    const d2 = new Uint8Array(80).fill(0xcc);
    expect(vmm.copy_from_user(d2.subarray(0, 64), KERNEL_ADDR, 64)).toBe(64);
    expect(d2).toEqual(Uint8Array.from({ length: 80 }, (_, i) => (i < 64 ? 0 : 0xcc)));
  });

  it("__copy_from_user skips access_ok and does not zero the uncopied tail", () => {
    const { vmm, mm } = machine();
    mm.mmap(TASK_SIZE_MAX - PAGE, PAGE, RW, ANON | MAP_FIXED);
    const data = pattern(PAGE, 11);
    vmm.userWrite(TASK_SIZE_MAX - PAGE, data);
    const dst = new Uint8Array(20).fill(0xcc);
    expect(vmm.__copy_from_user(dst, TASK_SIZE_MAX - 10, 20)).toBe(10);
    const want = new Uint8Array(20).fill(0xcc);
    want.set(data.subarray(PAGE - 10));
    expect(dst).toEqual(want);
    // at a hole in the middle of user memory
    const buf = twoPages(vmm, mm, "hole");
    const d2 = new Uint8Array(200).fill(0xcc);
    expect(vmm.__copy_from_user(d2, buf + 4000, 200)).toBe(104);
    expect(d2.subarray(96)).toEqual(new Uint8Array(104).fill(0xcc));
  });

  it("n > INT_MAX returns n without copying or zeroing", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(buf, pattern(64));
    const dst = kbuf(vmm, 64, 0xcc);
    expect(vmm.copy_from_user(dst, buf, INT_MAX + 1)).toBe(INT_MAX + 1);
    expect(vmm.copy_from_user(dst, KERNEL_ADDR, 2 ** 32)).toBe(2 ** 32);
    expect(vmm.kmem.view(dst, 64)).toEqual(new Uint8Array(64).fill(0xcc));
  });
});

describe("copy_{to,from}_user_nofault (mm/maccess.c): 0 or -EFAULT, no page faults", () => {
  it("fails on a page not faulted in yet, succeeds once it is", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    const data = pattern(100, 12);
    expect(vmm.copy_to_user_nofault(buf, data, 100)).toBe(EFAULT);
    expect(mm.stats().rssPages).toBe(0);
    const dst = new Uint8Array(100).fill(0xcc);
    expect(vmm.copy_from_user_nofault(dst, buf, 100)).toBe(EFAULT);
    expect(dst).toEqual(new Uint8Array(100).fill(0xcc)); // __copy_from_user_inatomic: no zeroing
    vmm.userWrite(buf, new Uint8Array(1));
    expect(vmm.copy_to_user_nofault(buf, data, 100)).toBe(0);
    expect(vmm.copy_from_user_nofault(dst, buf, 100)).toBe(0);
    expect(dst).toEqual(data);
  });

  it("fails on a read-only zero-page or copy-on-write PTE (the write fault is not taken)", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    vmm.userRead(buf, 1); // maps the zero page read-only
    expect(vmm.copy_to_user_nofault(buf, pattern(8), 8)).toBe(EFAULT);
    expect(vmm.copy_from_user_nofault(new Uint8Array(8), buf, 8)).toBe(0);
  });

  it("a partly present range is -EFAULT; access_ok failures are -EFAULT", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, 2 * PAGE, RW, ANON);
    vmm.userWrite(buf, new Uint8Array(PAGE).fill(0xee));
    expect(vmm.copy_to_user_nofault(buf + 4000, pattern(200), 200)).toBe(EFAULT);
    expect(vmm.userRead(buf + 4000, 96)).toEqual(pattern(200).subarray(0, 96)); // what fitted was copied
    expect(vmm.copy_to_user_nofault(KERNEL_ADDR, pattern(8), 8)).toBe(EFAULT);
    expect(vmm.copy_from_user_nofault(new Uint8Array(8), KERNEL_ADDR, 8)).toBe(EFAULT);
  });
});

describe("get_user / put_user", () => {
  const cases = [
    [1, 0x5a],
    [2, 0x5a5b],
    [4, 0x5a5b5c5d],
    [8, 0x5a5b5c5d6a6b6c6dn],
  ] as const;

  it.each(cases)("size %i round-trips %s, little-endian", (size, value) => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    expect(vmm.put_user(buf + 3, value, size)).toBe(0);
    expect(vmm.get_user(buf + 3, size)).toEqual({ ret: 0, val: value });
    const bytes = vmm.userRead(buf + 3, size);
    expect(bytes[0]).toBe(size === 1 ? 0x5a : size === 2 ? 0x5b : size === 4 ? 0x5d : 0x6d);
    expect(bytes[size - 1]).toBe(0x5a);
  });

  it.each(cases)("size %i on a kernel address: -EFAULT, val 0, kernel memory untouched", (size, value) => {
    const { vmm } = machine();
    const k = kbuf(vmm, 8, 0);
    const dv = new DataView(vmm.kmem.view(k, 8).buffer, vmm.kmem.view(k, 8).byteOffset, 8);
    dv.setBigUint64(0, 0xf09fa4aff09fa4afn, true);
    expect(vmm.get_user(k, size)).toEqual({ ret: EFAULT, val: size === 8 ? 0n : 0 });
    expect(vmm.put_user(k, value, size)).toBe(EFAULT);
    expect(dv.getBigUint64(0, true)).toBe(0xf09fa4aff09fa4afn);
  });

  it("an access straddling a page whose neighbour cannot be reached fails whole: nothing stored", () => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "read");
    expect(vmm.put_user(buf + PAGE - 4, 0x1122334455667788n, 8)).toBe(EFAULT);
    expect(vmm.userRead(buf + PAGE - 4, 8)).toEqual(new Uint8Array(8).fill(0xee));
    expect(vmm.get_user(buf + PAGE - 4, 8)).toEqual({ ret: 0, val: 0xeeeeeeeeeeeeeeeen });
    mm.mprotect(buf + PAGE, PAGE, PROT_NONE);
    expect(vmm.get_user(buf + PAGE - 2, 4)).toEqual({ ret: EFAULT, val: 0 });
    expect(vmm.put_user(buf + PAGE - 8, 0x1122334455667788n, 8)).toBe(0); // fits the first page
  });

  it("a put_user straddling two writable pages stores both halves (faulting the second in)", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, 2 * PAGE, RW, ANON);
    expect(vmm.put_user(buf + PAGE - 2, 0xa1b2c3d4, 4)).toBe(0);
    expect(vmm.get_user(buf + PAGE - 2, 4)).toEqual({ ret: 0, val: 0xa1b2c3d4 });
    expect(vmm.userRead(buf + PAGE, 2)).toEqual(Uint8Array.of(0xb2, 0xa1));
  });

  it("negative values are stored two's complement; a top-of-range access is -EFAULT", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    expect(vmm.put_user(buf, -1, 4)).toBe(0);
    expect(vmm.get_user(buf, 4)).toEqual({ ret: 0, val: 0xffffffff });
    expect(vmm.put_user(buf, -2n, 8)).toBe(0);
    expect(vmm.get_user(buf, 8)).toEqual({ ret: 0, val: 2n ** 64n - 2n });
    mm.mmap(TASK_SIZE_MAX - PAGE, PAGE, RW, ANON | MAP_FIXED);
    expect(vmm.get_user(TASK_SIZE_MAX - 8, 8)).toEqual({ ret: 0, val: 0n });
    expect(vmm.get_user(TASK_SIZE_MAX - 4, 8)).toEqual({ ret: EFAULT, val: 0n });
    expect(vmm.put_user(TASK_SIZE_MAX - 4, 1, 8)).toBe(EFAULT);
  });

  it("other sizes and values that do not fit are EINVAL", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    kerr(() => vmm.get_user(buf, 3 as 4), "EINVAL");
    kerr(() => vmm.put_user(buf, 1, 16 as 8), "EINVAL");
    kerr(() => vmm.put_user(buf, 256, 1), "EINVAL");
    kerr(() => vmm.put_user(buf, -129, 1), "EINVAL");
    kerr(() => vmm.put_user(buf, 2n ** 64n, 8), "EINVAL");
    kerr(() => vmm.put_user(buf, 1.5, 4), "EINVAL");
    expect(vmm.put_user(buf, 255, 1)).toBe(0);
    expect(vmm.put_user(buf, -128, 1)).toBe(0);
  });
});

describe("clear_user", () => {
  it("zeroes up to the first page it cannot write and returns the rest", () => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "read");
    expect(vmm.clear_user(buf + 4000, 200)).toBe(104);
    // bytes 3999..4096: the one before the range, the 96 cleared, the first of the read-only page
    expect(vmm.userRead(buf + 3999, 98)).toEqual(
      Uint8Array.from({ length: 98 }, (_, i) => (i === 0 || i === 97 ? 0xee : 0)),
    );
    expect(vmm.userRead(buf + PAGE, PAGE)).toEqual(new Uint8Array(PAGE).fill(0xee));
  });

  it("clears whole ranges, stops at a hole, and returns n on an access_ok failure", () => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "hole");
    expect(vmm.clear_user(buf + 10, 100)).toBe(0);
    expect(vmm.userRead(buf, 120)).toEqual(
      Uint8Array.from({ length: 120 }, (_, i) => (i < 10 || i >= 110 ? 0xee : 0)),
    );
    expect(vmm.clear_user(buf + PAGE - 1, 5)).toBe(4);
    expect(vmm.clear_user(KERNEL_ADDR, 16)).toBe(16);
    expect(vmm.clear_user(TASK_SIZE_MAX - 4, 8)).toBe(8);
    expect(vmm.clear_user(0, 0)).toBe(0);
  });
});

describe("strncpy_from_user (lib/strncpy_from_user.c)", () => {
  const enc = (s: string) => new TextEncoder().encode(s);

  function withString(s: Uint8Array, at: "start" | "pageEnd") {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, 2 * PAGE, RW, ANON);
    mm.munmap(buf + PAGE, PAGE);
    const addr = at === "start" ? buf : buf + PAGE - s.length;
    vmm.userWrite(addr, s);
    return { vmm, mm, addr };
  }

  it("returns the length without the NUL and copies the NUL", () => {
    const { vmm, addr } = withString(enc("hello\0world"), "start");
    const dst = new Uint8Array(16).fill(0xcc);
    expect(vmm.strncpy_from_user(dst, addr, 16)).toBe(5);
    expect([...dst.subarray(0, 7)]).toEqual([...enc("hello"), 0, 0xcc]);
  });

  it("no NUL within count: returns count and leaves dst unterminated", () => {
    const { vmm, addr } = withString(enc("hello\0"), "start");
    const dst = new Uint8Array(8).fill(0xcc);
    expect(vmm.strncpy_from_user(dst, addr, 3)).toBe(3);
    expect([...dst.subarray(0, 4)]).toEqual([...enc("hel"), 0xcc]);
    expect(vmm.strncpy_from_user(dst, addr, 5)).toBe(5); // the NUL is byte 6: not reached
  });

  it("count <= 0 returns 0 and copies nothing (before the address is checked)", () => {
    const { vmm, addr } = withString(enc("x\0"), "start");
    const dst = new Uint8Array(4).fill(0xcc);
    expect(vmm.strncpy_from_user(dst, addr, 0)).toBe(0);
    expect(vmm.strncpy_from_user(dst, addr, -5)).toBe(0);
    expect(vmm.strncpy_from_user(dst, KERNEL_ADDR, 0)).toBe(0);
    expect(dst).toEqual(new Uint8Array(4).fill(0xcc));
  });

  it("-EFAULT for a kernel address, the guard page, and a fault before the NUL", () => {
    const { vmm, addr } = withString(enc("abc"), "pageEnd");
    const dst = new Uint8Array(16).fill(0xcc);
    expect(vmm.strncpy_from_user(dst, KERNEL_ADDR, 16)).toBe(EFAULT);
    expect(vmm.strncpy_from_user(dst, TASK_SIZE_MAX, 16)).toBe(EFAULT);
    expect(vmm.strncpy_from_user(dst, addr, 16)).toBe(EFAULT);
    expect([...dst.subarray(0, 4)]).toEqual([...enc("abc"), 0xcc]); // partial data may be there
    // the count is reached before the fault: no fault, count returned
    expect(vmm.strncpy_from_user(dst, addr, 3)).toBe(3);
    // a NUL right before the hole
    vmm.userWrite(addr + 2, Uint8Array.of(0));
    expect(vmm.strncpy_from_user(dst, addr, 16)).toBe(2);
  });

  it("running into TASK_SIZE_MAX before count is -EFAULT; reaching count exactly there is not", () => {
    const { vmm, mm } = machine();
    mm.mmap(TASK_SIZE_MAX - PAGE, PAGE, RW, ANON | MAP_FIXED);
    vmm.userWrite(TASK_SIZE_MAX - 4, enc("abcd"));
    const dst = new Uint8Array(100);
    expect(vmm.strncpy_from_user(dst, TASK_SIZE_MAX - 4, 100)).toBe(EFAULT);
    expect(vmm.strncpy_from_user(dst, TASK_SIZE_MAX - 4, 4)).toBe(4);
  });

  it("the kernel buffer is checked by hardened usercopy for count bytes", () => {
    const { vmm, addr } = withString(enc("hi\0"), "start");
    const k = vmm.kmem.kmalloc(16);
    expect(oopsText(() => vmm.strncpy_from_user(k, addr, 100))).toBe(
      "usercopy: Kernel memory overwrite attempt detected to SLUB object 'kmalloc-16' (offset 0, size 100)!",
    );
    expect(vmm.strncpy_from_user(k, addr, 16)).toBe(2);
    expect([...vmm.kmem.view(k, 3)]).toEqual([0x68, 0x69, 0]);
    kerr(() => vmm.strncpy_from_user(k, addr, 1.5), "EINVAL");
  });
});

describe("strnlen_user (lib/strnlen_user.c)", () => {
  it("includes the NUL; an empty string is 1", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(buf, new TextEncoder().encode("hello\0"));
    expect(vmm.strnlen_user(buf, 100)).toBe(6);
    expect(vmm.strnlen_user(buf + 5, 100)).toBe(1);
    expect(vmm.strnlen_user(buf + 3, 3)).toBe(3); // "lo\0" fits exactly
  });

  it("a string longer than count gives a value > count", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(buf, new TextEncoder().encode("hello\0"));
    expect(vmm.strnlen_user(buf, 3)).toBeGreaterThan(3);
    expect(vmm.strnlen_user(buf, 5)).toBeGreaterThan(5);
  });

  it("0 on a fault, an invalid address, or count <= 0", () => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "hole");
    expect(vmm.strnlen_user(buf + PAGE - 3, 100)).toBe(0); // 0xee… runs into the hole
    expect(vmm.strnlen_user(buf + PAGE - 3, 3)).toBe(4); // the count ends before the hole: count + 1
    expect(vmm.strnlen_user(KERNEL_ADDR, 100)).toBe(0);
    expect(vmm.strnlen_user(buf, 0)).toBe(0);
    expect(vmm.strnlen_user(buf, -1)).toBe(0);
    expect(vmm.strnlen_user(buf + PAGE, 10)).toBe(0);
  });
});

describe("check_zeroed_user (lib/usercopy.c)", () => {
  it("1 for all zero (and size 0), 0 for a non-zero byte, -EFAULT when unreadable", () => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "hole");
    vmm.clear_user(buf, 64);
    expect(vmm.check_zeroed_user(buf, 64)).toBe(1);
    expect(vmm.check_zeroed_user(buf, 65)).toBe(0);
    expect(vmm.check_zeroed_user(buf + PAGE, 0)).toBe(1);
    expect(vmm.check_zeroed_user(KERNEL_ADDR, 0)).toBe(1);
    expect(vmm.check_zeroed_user(KERNEL_ADDR, 8)).toBe(EFAULT);
    expect(vmm.check_zeroed_user(buf + PAGE, 8)).toBe(EFAULT);
    vmm.clear_user(buf + PAGE - 16, 16);
    expect(vmm.check_zeroed_user(buf + PAGE - 16, 32)).toBe(EFAULT); // zeros, then the hole
  });

  it("a non-zero byte before the fault answers 0: the scan stops there, word by word", () => {
    const { vmm, mm } = machine();
    const buf = twoPages(vmm, mm, "hole");
    expect(vmm.check_zeroed_user(buf + PAGE - 16, 32)).toBe(0);
    expect(vmm.check_zeroed_user(buf + PAGE - 1, 2)).toBe(0);
  });

  it("agrees with a plain scan over every (start, end) pair of a 1024-byte window across a page boundary", () => {
    const { vmm, mm } = machine();
    const umem = mm.mmap(0, 2 * PAGE, RW, ANON);
    const size = 1024;
    const base = PAGE - size / 2;
    const k = new Uint8Array(size);
    for (let i = 1; i < size / 4; i += 2) k[i] = 0xff;
    for (let i = size - size / 4; i < size; i += 2) k[i] = 0xff;
    expect(vmm.copy_to_user(umem + base, k, size)).toBe(0);
    // firstNonZero[i]: the first non-zero index >= i
    const firstNonZero = new Int32Array(size + 1).fill(size);
    for (let i = size - 1; i >= 0; i--) firstNonZero[i] = k[i] !== 0 ? i : firstNonZero[i + 1]!;
    let mismatches = 0;
    let checked = 0;
    // every start, and every end for starts near the zero run's edges; a stride elsewhere keeps it under a second
    for (let start = 0; start <= size; start++) {
      const dense =
        Math.abs(start - size / 4) < 8 || Math.abs(start - (size - size / 4)) < 8 || start % 61 === 0;
      for (let end = start; end <= size; end += dense ? 1 : 7) {
        const expected = firstNonZero[start]! >= end ? 1 : 0;
        if (vmm.check_zeroed_user(umem + base + start, end - start) !== expected) mismatches++;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(70000);
    expect(mismatches).toBe(0);
  });
});

describe("copy_struct_from_user (include/linux/uaccess.h)", () => {
  function setup() {
    const { vmm, mm } = machine();
    const umem = mm.mmap(0, 2 * PAGE, RW, ANON);
    vmm.userWrite(umem, new Uint8Array(2 * PAGE).fill(0x3e));
    return { vmm, mm, umem };
  }

  it("usize == ksize copies exactly", () => {
    const { vmm, umem } = setup();
    const dst = new Uint8Array(64);
    expect(vmm.copy_struct_from_user(dst, 64, umem, 64)).toBe(0);
    expect(dst).toEqual(new Uint8Array(64).fill(0x3e));
  });

  it("usize < ksize copies usize bytes and zero-fills the rest of the kernel struct", () => {
    const { vmm, umem } = setup();
    const k = kbuf(vmm, 64, 0xcc);
    expect(vmm.copy_struct_from_user(k, 48, umem, 24)).toBe(0);
    expect(vmm.kmem.view(k, 64)).toEqual(
      Uint8Array.from({ length: 64 }, (_, i) => (i < 24 ? 0x3e : i < 48 ? 0 : 0xcc)),
    );
  });

  it("usize > ksize: a non-zero tail is -E2BIG; cleared with clear_user it is 0 and ksize bytes are copied", () => {
    const { vmm, umem } = setup();
    const dst = new Uint8Array(64).fill(0xcc);
    expect(vmm.copy_struct_from_user(dst, 32, umem, 64)).toBe(E2BIG);
    expect(vmm.clear_user(umem + 32, 32)).toBe(0);
    expect(vmm.copy_struct_from_user(dst, 32, umem, 64)).toBe(0);
    expect(dst).toEqual(Uint8Array.from({ length: 64 }, (_, i) => (i < 32 ? 0x3e : 0xcc)));
  });

  it("faults: an unreadable tail is -EFAULT, a non-zero byte before the fault is -E2BIG", () => {
    const { vmm, mm } = machine();
    const umem = twoPages(vmm, mm, "hole");
    vmm.clear_user(umem, PAGE);
    const dst = new Uint8Array(64);
    expect(vmm.copy_struct_from_user(dst, 32, umem + PAGE - 32, 64)).toBe(EFAULT);
    expect(vmm.copy_struct_from_user(dst, 64, umem + PAGE - 32, 32)).toBe(0);
    expect(vmm.copy_struct_from_user(dst, 64, umem + PAGE, 32)).toBe(EFAULT);
    expect(vmm.copy_struct_from_user(dst, 32, umem + PAGE - 48, 64)).toBe(EFAULT); // zeros, then the hole
    vmm.userWrite(umem + PAGE - 1, Uint8Array.of(1));
    expect(vmm.copy_struct_from_user(dst, 32, umem + PAGE - 48, 64)).toBe(E2BIG);
  });

  it("ksize larger than the kernel object is -E2BIG (the WARN_ON_ONCE)", () => {
    const { vmm, umem } = setup();
    expect(vmm.copy_struct_from_user(new Uint8Array(16), 32, umem, 32)).toBe(E2BIG);
    kerr(() => vmm.copy_struct_from_user(new Uint8Array(16), -1, umem, 8), "EINVAL");
    kerr(() => vmm.copy_struct_from_user(new Uint8Array(16), 8, umem, 0.5), "EINVAL");
  });
});

describe("hardened usercopy (mm/usercopy.c __check_object_size, mm/slub.c __check_heap_object)", () => {
  it("copy_to_user of 100 bytes from a kmalloc(64) object: exposure from SLUB object 'kmalloc-64'", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    const k = vmm.kmem.kmalloc(64);
    expect(oopsText(() => vmm.copy_to_user(buf, k, 100))).toBe(
      "usercopy: Kernel memory exposure attempt detected from SLUB object 'kmalloc-64' (offset 0, size 100)!",
    );
    expect(oopsText(() => vmm.copy_from_user(k, buf, 100))).toBe(
      "usercopy: Kernel memory overwrite attempt detected to SLUB object 'kmalloc-64' (offset 0, size 100)!",
    );
    expect(oopsText(() => vmm.copy_to_user(buf, k + 8n, 57))).toBe(
      "usercopy: Kernel memory exposure attempt detected from SLUB object 'kmalloc-64' (offset 8, size 57)!",
    );
    expect(vmm.copy_to_user(buf, k + 8n, 56)).toBe(0);
    const e = (() => {
      try {
        vmm.copy_to_user(buf, k, 100);
      } catch (err) {
        return err as KernelOops;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(KernelError);
    expect(e?.code).toBe("EFAULT");
  });

  it("names the cache the object came from: kmalloc-128 for 100 bytes, kmalloc-2k, page alloc above 8 KiB", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, 16 * PAGE, RW, ANON);
    const k100 = vmm.kmem.kmalloc(100);
    expect(vmm.copy_to_user(buf, k100, 128)).toBe(0); // the whole object is whitelisted
    expect(oopsText(() => vmm.copy_to_user(buf, k100, 129))).toContain("'kmalloc-128' (offset 0, size 129)!");
    const k2k = vmm.kmem.kmalloc(2000);
    expect(oopsText(() => vmm.copy_from_user(k2k + 48n, buf, 2001))).toBe(
      "usercopy: Kernel memory overwrite attempt detected to SLUB object 'kmalloc-2k' (offset 48, size 2001)!",
    );
    const big = vmm.kmem.kmalloc(20000); // kmalloc_large: an order-3 compound page
    expect(vmm.copy_to_user(buf, big + 100n, 8 * PAGE - 100)).toBe(0);
    expect(oopsText(() => vmm.copy_to_user(buf, big + 100n, 8 * PAGE - 99))).toBe(
      `usercopy: Kernel memory exposure attempt detected from page alloc (offset 100, size ${8 * PAGE - 99})!`,
    );
  });

  it("NULL and ZERO_SIZE_PTR are 'null address'; a wrapping range is 'wrapped address'", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    expect(oopsText(() => vmm.copy_to_user(buf, 0n, 10))).toBe(
      "usercopy: Kernel memory exposure attempt detected from null address (offset 0, size 10)!",
    );
    expect(oopsText(() => vmm.copy_from_user(16n, buf, 10))).toBe(
      "usercopy: Kernel memory overwrite attempt detected to null address (offset 16, size 10)!",
    );
    // usercopy_abort("wrapped address", NULL, to_user, 0, ptr + n): the size printed is the wrapped end
    expect(oopsText(() => vmm.copy_to_user(buf, 0xffff_ffff_ffff_fff0n, 32))).toBe(
      "usercopy: Kernel memory exposure attempt detected from wrapped address (offset 0, size 16)!",
    );
  });

  it("a Uint8Array (a buffer of known size) shorter than n: check_copy_size WARNs and nothing is copied or zeroed", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(buf, new Uint8Array(32).fill(0x77));
    const small = new Uint8Array(16).fill(0xaa);
    expect(vmm.copy_to_user(buf, small, 17)).toBe(17);
    expect(vmm.copy_from_user(small, buf, 32)).toBe(32);
    expect([...small]).toEqual(new Array(16).fill(0xaa)); // not copied, not zeroed
    expect(vmm.dmesg()).toEqual([
      "WARNING: Buffer overflow detected (16 < 17)!",
      "WARNING: Buffer overflow detected (16 < 32)!",
    ]);
    expect(vmm.copy_to_user(buf, small, 16)).toBe(0);
    // __copy_*_user skip check_copy_size: hardened usercopy catches the stack object instead.
    expect(oopsText(() => vmm.__copy_to_user(buf, small, 17))).toMatch(
      /^usercopy: Kernel memory exposure attempt detected from process stack \(offset \d+, size 17\)!$/,
    );
    expect(oopsText(() => vmm.__copy_from_user(small, buf, 32))).toMatch(
      /^usercopy: Kernel memory overwrite attempt detected to process stack \(offset \d+, size 32\)!$/,
    );
  });

  it("the check runs before access_ok: a bad user pointer does not hide the violation", () => {
    const { vmm } = machine();
    const k = vmm.kmem.kmalloc(64);
    expect(() => vmm.copy_to_user(KERNEL_ADDR, k, 65)).toThrow(KernelOops);
    expect(() => vmm.copy_from_user(k, KERNEL_ADDR, 65)).toThrow(KernelOops);
  });
});

describe("SMAP: kernel code dereferencing a user pointer (arch/x86/mm/fault.c)", () => {
  it("a present user page is an oops with a permissions-violation error code, not -EFAULT", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(buf, Uint8Array.of(1, 2, 3, 4));
    const text = oopsText(() => vmm.kernelRead(buf, 4));
    const addr = buf.toString(16).padStart(16, "0");
    expect(text).toBe(
      `BUG: unable to handle page fault for address: ${addr}\n#PF: supervisor read access in kernel mode\n#PF: error_code(0x0001) - permissions violation`,
    );
  });

  it("a not-present user page and NULL oops too, with their own texts", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    expect(oopsText(() => vmm.kernelRead(buf + 8, 1))).toContain(
      "#PF: error_code(0x0000) - not-present page",
    );
    expect(oopsText(() => vmm.kernelRead(0, 1))).toMatch(
      /^BUG: kernel NULL pointer dereference, address: 0000000000000000\n/,
    );
  });

  it("without SMAP the read succeeds; kernel addresses read the direct map", () => {
    const vmm = new Vmm({ ram: 16 << 20, smap: false });
    const mm = vmm.mm_alloc();
    vmm.switch_mm(mm);
    const buf = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(buf, Uint8Array.of(1, 2, 3, 4));
    expect(vmm.kernelRead(buf, 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
    const k = kbuf(vmm, 8, 0x42);
    expect(vmm.kernelRead(k, 8)).toEqual(new Uint8Array(8).fill(0x42));
  });

  it("copy_* run with AC set: the same page is fine for copy_from_user", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(buf, Uint8Array.of(9, 8, 7));
    const dst = new Uint8Array(3);
    expect(vmm.copy_from_user(dst, buf, 3)).toBe(0);
    expect(dst).toEqual(Uint8Array.of(9, 8, 7));
    expect(vmm.mmu.ac).toBe(false);
  });
});

describe("uaccessStats", () => {
  it("counts calls, bytes, faults and access_ok refusals", () => {
    const { vmm, mm } = machine();
    expect(vmm.uaccessStats()).toEqual({
      calls: 0,
      bytesCopied: 0,
      bytesNotCopied: 0,
      pagesTouched: 0,
      faultsResolved: 0,
      faultsFailed: 0,
      accessOkFailures: 0,
    });
    const buf = mm.mmap(0, 2 * PAGE, RW, ANON);
    mm.munmap(buf + PAGE, PAGE);
    expect(vmm.copy_to_user(buf + 4000, pattern(200), 200)).toBe(104);
    expect(vmm.copy_from_user(new Uint8Array(10), KERNEL_ADDR, 10)).toBe(10);
    expect(vmm.uaccessStats()).toEqual({
      calls: 2,
      bytesCopied: 96,
      bytesNotCopied: 114,
      // the first page: a walk that faults, the retry after the demand-zero fault; the hole: one walk
      pagesTouched: 3,
      faultsResolved: 1,
      faultsFailed: 1,
      accessOkFailures: 1,
    });
  });
});

describe("bad arguments are KernelError EINVAL", () => {
  it("copies, counts and pointers", () => {
    const { vmm, mm } = machine();
    const buf = mm.mmap(0, PAGE, RW, ANON);
    const k = new Uint8Array(8);
    kerr(() => vmm.copy_to_user(-1, k, 1), "EINVAL");
    kerr(() => vmm.copy_to_user(buf, k, -1), "EINVAL");
    kerr(() => vmm.copy_to_user(buf, k, 1.5), "EINVAL");
    kerr(() => vmm.copy_to_user(buf, k, -1n), "EINVAL");
    kerr(() => vmm.copy_to_user(buf, k, 2n ** 64n), "EINVAL");
    kerr(() => vmm.copy_to_user(buf, k, "8" as unknown as number), "EINVAL");
    kerr(() => vmm.copy_to_user(buf, 5 as unknown as bigint, 1), "EINVAL");
    kerr(() => vmm.copy_from_user(k, 2n ** 64n, 1), "EINVAL");
    kerr(() => vmm.copy_from_user([] as unknown as Uint8Array, buf, 1), "EINVAL");
    kerr(() => vmm.__copy_from_user(k, buf, Number.NaN), "EINVAL");
    kerr(() => vmm.__copy_to_user(buf, k, Number.POSITIVE_INFINITY), "EINVAL");
    kerr(() => vmm.copy_to_user_nofault(buf, k, -2), "EINVAL");
    kerr(() => vmm.copy_from_user_nofault(k, -1, 1), "EINVAL");
    kerr(() => vmm.clear_user(buf, -1), "EINVAL");
    kerr(() => vmm.clear_user(-4096, 1), "EINVAL");
    kerr(() => vmm.get_user(-1, 4), "EINVAL");
    kerr(() => vmm.put_user(-1, 0, 4), "EINVAL");
    kerr(() => vmm.strncpy_from_user(k, -1, 4), "EINVAL");
    kerr(() => vmm.strnlen_user(buf, 2.5), "EINVAL");
    kerr(() => vmm.strnlen_user(-1, 4), "EINVAL");
    kerr(() => vmm.check_zeroed_user(buf, -1), "EINVAL");
    kerr(() => vmm.check_zeroed_user(-1, 4), "EINVAL");
    kerr(() => vmm.copy_struct_from_user(k, 8, -1, 8), "EINVAL");
    kerr(() => vmm.userRead(buf, -1), "EINVAL");
    kerr(() => vmm.userWrite(buf, [1] as unknown as Uint8Array), "EINVAL");
    kerr(() => vmm.kernelRead(buf, -1), "EINVAL");
    kerr(() => vmm.access_ok(-1, 0), "EINVAL");
  });

  it("no address space loaded, a dead one, or one of another machine", () => {
    const vmm = new Vmm({ ram: 16 << 20 });
    kerr(() => vmm.copy_to_user(0x10000, new Uint8Array(1), 1), "EINVAL");
    kerr(() => vmm.copy_from_user(new Uint8Array(1), 0x10000, 1), "EINVAL");
    kerr(() => vmm.userRead(0x10000, 1), "EINVAL");
    const mm = vmm.mm_alloc();
    mm.mmput();
    kerr(() => vmm.switch_mm(mm), "EINVAL");
    const other = new Vmm({ ram: 16 << 20 });
    kerr(() => vmm.switch_mm(other.mm_alloc()), "EINVAL");
    kerr(() => vmm.switch_mm({} as MmStruct), "EINVAL");
  });
});
