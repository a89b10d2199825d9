// The four cases of the kernel's usercopy KUnit suite (lib/tests/usercopy_kunit.c, formerly lib/test_user_copy.c,
// Kees Cook 2013), as model tests: the same setup (two pages of kmalloc memory `kmem`, a two-page anonymous
// PROT_READ|PROT_WRITE|PROT_EXEC private mapping `umem` below TASK_SIZE) and the same expectations, written anew
// for the model. See ../../../shared/spec/vmm-dma-chrdev-peers.md §4.3.
import { beforeEach, describe, expect, it } from "vitest";
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  type MmStruct,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  Vmm,
} from "../src/index.js";

const PAGE_SIZE = 4096;
const E2BIG = -7;
const EFAULT = -14;

interface Priv {
  vmm: Vmm;
  mm: MmStruct;
  /** kmalloc(2 * PAGE_SIZE): a direct-map pointer. */
  kmem: bigint;
  /** The user mapping. */
  umem: number;
  size: number;
}

let priv: Priv;

// usercopy_test_init()
beforeEach(() => {
  const vmm = new Vmm({ ram: 16 << 20 });
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  const size = 2 * PAGE_SIZE;
  const kmem = vmm.kmem.kmalloc(size);
  const umem = mm.mmap(0, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_ANONYMOUS | MAP_PRIVATE);
  expect(umem).not.toBe(0);
  expect(umem).toBeLessThan(mm.taskSize);
  priv = { vmm, mm, kmem, umem, size };
});

/** The kernel bytes at kmem + off. */
const k = (off: number, len: number) => priv.vmm.kmem.view(priv.kmem + BigInt(off), len);

describe("usercopy", () => {
  it("usercopy_test_valid: legitimate copies and get_user/put_user round trips", () => {
    const { vmm, kmem, umem } = priv;
    k(0, 2 * PAGE_SIZE).fill(0x3a);
    expect(vmm.copy_to_user(umem, kmem, PAGE_SIZE)).toBe(0);
    k(0, PAGE_SIZE).fill(0);
    expect(vmm.copy_from_user(kmem, umem, PAGE_SIZE)).toBe(0);
    expect(k(0, PAGE_SIZE)).toEqual(k(PAGE_SIZE, PAGE_SIZE));
    expect(k(0, PAGE_SIZE)).toEqual(new Uint8Array(PAGE_SIZE).fill(0x3a));

    const legit = [
      [1, 0x5a],
      [2, 0x5a5b],
      [4, 0x5a5b5c5d],
      [8, 0x5a5b5c5d6a6b6c6dn],
    ] as const;
    for (const [size, check] of legit) {
      expect(vmm.put_user(umem, check, size), `legitimate put_user (${size})`).toBe(0);
      const { ret, val } = vmm.get_user(umem, size);
      expect(ret, `legitimate get_user (${size})`).toBe(0);
      expect(val, `legitimate get_user (${size}) copy`).toBe(check);
    }
  });

  it("usercopy_test_invalid: kernel addresses as user pointers are refused, with tail zeroing", () => {
    const { vmm, kmem, umem } = priv;
    k(0, PAGE_SIZE).fill(0x5a);
    k(PAGE_SIZE, PAGE_SIZE).fill(0);

    // all-kernel copy_from_user: refused, and the destination is zeroed
    expect(vmm.copy_from_user(kmem, kmem + BigInt(PAGE_SIZE), PAGE_SIZE)).not.toBe(0);
    expect(k(0, PAGE_SIZE)).toEqual(k(PAGE_SIZE, PAGE_SIZE));
    expect(k(0, PAGE_SIZE)).toEqual(new Uint8Array(PAGE_SIZE));

    // all-kernel copy_to_user, and the reversed one (a user pointer as the kernel source): both refused by
    // access_ok on the destination, the source never read
    k(0, PAGE_SIZE).fill(0x5a);
    expect(vmm.copy_to_user(kmem, kmem + BigInt(PAGE_SIZE), PAGE_SIZE)).toBe(PAGE_SIZE);
    expect(vmm.copy_to_user(kmem, BigInt(umem), PAGE_SIZE)).toBe(PAGE_SIZE);
    expect(k(0, PAGE_SIZE)).toEqual(new Uint8Array(PAGE_SIZE).fill(0x5a));

    const illegal = [
      [1, 0x5a],
      [2, 0x5a5b],
      [4, 0x5a5b5c5d],
      [8, 0x5a5b5c5d6a6b6c6dn],
    ] as const;
    const u64 = new DataView(k(0, 8).buffer, k(0, 8).byteOffset, 8);
    for (const [size, check] of illegal) {
      const got = vmm.get_user(kmem, size);
      expect(got.ret, `illegal get_user (${size})`).not.toBe(0);
      expect(got.ret).toBe(EFAULT);
      expect(got.val, `zeroing failure for illegal get_user (${size})`).toBe(size === 8 ? 0n : 0);
      u64.setBigUint64(0, 0xf09fa4aff09fa4afn, true);
      expect(vmm.put_user(kmem, check, size), `illegal put_user (${size})`).toBe(EFAULT);
      expect(u64.getBigUint64(0, true), `illegal put_user (${size}) wrote to kernel memory`).toBe(
        0xf09fa4aff09fa4afn,
      );
    }
  });

  it("usercopy_test_check_nonzero_user: check_zeroed_user agrees with memchr_inv across a page boundary", () => {
    const { vmm, umem } = priv;
    const size = 1024;
    const start0 = PAGE_SIZE - size / 2;
    const zeroStart = size / 4;
    const zeroEnd = size - zeroStart;
    // [ 00 ff 00 ff ... 00 00 00 00 ... ff 00 ff 00 ]
    const kmem = new Uint8Array(size);
    for (let i = 1; i < zeroStart; i += 2) kmem[i] = 0xff;
    for (let i = zeroEnd; i < size; i += 2) kmem[i] = 0xff;
    const u = umem + start0;
    expect(vmm.copy_to_user(u, kmem, size)).toBe(0);

    const isZeroed = (from: number, len: number) => {
      for (let i = from; i < from + len; i++) if (kmem[i] !== 0) return 0;
      return 1;
    };
    // The kernel tries all 525,825 pairs; here: every pair up to 40 bytes long, and every pair of points near the
    // edges that matter (the buffer's ends, the zero run's ends, the page boundary at 512), all lengths between.
    const near = new Set<number>();
    for (const c of [0, zeroStart, size / 2, zeroEnd, size])
      for (let d = -12; d <= 12; d++) if (c + d >= 0 && c + d <= size) near.add(c + d);
    const points = [...near].sort((a, b) => a - b);
    let pairs = 0;
    const check = (start: number, end: number) => {
      const len = end - start;
      const retval = vmm.check_zeroed_user(u + start, len);
      const expected = isZeroed(start, len);
      if (retval !== expected) expect({ start, end, retval }).toEqual({ start, end, retval: expected });
      pairs++;
    };
    for (let start = 0; start <= size; start++)
      for (let end = start; end <= Math.min(size, start + 40); end++) check(start, end);
    for (const start of points) for (const end of points) if (end > start + 40) check(start, end);
    expect(pairs).toBeGreaterThan(45000);
    // spot values: the zero run alone, the run plus one pattern byte on each side, the whole window
    expect(vmm.check_zeroed_user(u + zeroStart, zeroEnd - zeroStart)).toBe(1);
    expect(vmm.check_zeroed_user(u + zeroStart - 1, zeroEnd - zeroStart + 1)).toBe(0);
    expect(vmm.check_zeroed_user(u + zeroStart, zeroEnd - zeroStart + 1)).toBe(0); // kmem[zeroEnd] is 0xff
    expect(vmm.check_zeroed_user(u, size)).toBe(0);
  });

  it("usercopy_test_copy_struct_from_user: same size, old user space, new user space", () => {
    const { vmm, kmem, umem, size } = priv;
    const umemSrc = new Uint8Array(size).fill(0x3e);
    expect(vmm.copy_to_user(umem, umemSrc, size)).toBe(0);

    // usize == ksize
    let ksize = size;
    let usize = size;
    let expected = umemSrc.slice(0, ksize);
    k(0, size).fill(0);
    expect(vmm.copy_struct_from_user(kmem, ksize, umem, usize)).toBe(0);
    expect(k(0, ksize)).toEqual(expected);

    // old user space: usize < ksize
    ksize = size;
    usize = size / 2;
    expected = new Uint8Array(ksize);
    expected.set(umemSrc.subarray(0, usize));
    k(0, size).fill(0x77); // not zero, so that the zero-fill shows
    expect(vmm.copy_struct_from_user(kmem, ksize, umem, usize)).toBe(0);
    expect(k(0, ksize)).toEqual(expected);

    // new user space with non-zero trailing bytes: -E2BIG
    ksize = size / 2;
    usize = size;
    k(0, size).fill(0);
    expect(vmm.copy_struct_from_user(kmem, ksize, umem, usize)).toBe(E2BIG);

    // new user space whose trailing bytes were cleared: success, ksize bytes copied
    expected = umemSrc.slice(0, ksize);
    expect(vmm.clear_user(umem + ksize, usize - ksize)).toBe(0);
    k(0, size).fill(0);
    expect(vmm.copy_struct_from_user(kmem, ksize, umem, usize)).toBe(0);
    expect(k(0, ksize)).toEqual(expected);
    expect(k(ksize, size - ksize)).toEqual(new Uint8Array(size - ksize));
  });
});
