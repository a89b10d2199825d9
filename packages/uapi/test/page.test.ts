import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  KernelError,
  offset_in_page,
  PAGE_ALIGN,
  PAGE_ALIGN_DOWN,
  PAGE_ALIGNED,
  PAGE_MASK,
  PAGE_SHIFT,
  PAGE_SIZE,
  PFN_DOWN,
  PFN_PHYS,
  PFN_UP,
  TASK_SIZE_MAX_4LEVEL,
  TASK_SIZE_MAX_5LEVEL,
  taskSizeMax,
} from "../src/index.js";

describe("page constants (arch/x86/include/asm/page_types.h)", () => {
  it("are 4 KiB pages", () => {
    expect(PAGE_SHIFT).toBe(12);
    expect(PAGE_SIZE).toBe(1 << PAGE_SHIFT);
    expect(PAGE_MASK).toBe(0xfffffffffffff000n);
  });

  it("PAGE_ALIGN rounds up, keeps aligned values, and wraps at 2^64 like the macro", () => {
    expect(PAGE_ALIGN(0)).toBe(0);
    expect(PAGE_ALIGN(1)).toBe(4096);
    expect(PAGE_ALIGN(4096)).toBe(4096);
    expect(PAGE_ALIGN(4097)).toBe(8192);
    expect(PAGE_ALIGN(2n ** 64n - 1n)).toBe(0n); // mmap(len = -1) turns this into ENOMEM
    expect(PAGE_ALIGN(0x7fff_ffff_f001n)).toBe(0x7fff_ffff_f000n + 4096n);
  });

  it("offset_in_page, PAGE_ALIGN_DOWN, PAGE_ALIGNED and the PFN helpers agree", () => {
    expect(offset_in_page(0x1234)).toBe(0x234);
    expect(PAGE_ALIGN_DOWN(0x1234)).toBe(0x1000);
    expect(PAGE_ALIGNED(0x2000)).toBe(true);
    expect(PAGE_ALIGNED(0x2001n)).toBe(false);
    expect(PFN_DOWN(0x12345)).toBe(0x12);
    expect(PFN_UP(0x12001)).toBe(0x13);
    expect(PFN_PHYS(0x12)).toBe(0x12000);
    expect(PFN_PHYS(2n ** 40n)).toBe(2n ** 52n);
    expect(PFN_UP(2n ** 64n - 1n)).toBe(0n); // the macro's addition wraps, as PAGE_ALIGN's does
  });

  it("TASK_SIZE_MAX is (1 << __VIRTUAL_MASK_SHIFT) - PAGE_SIZE", () => {
    expect(TASK_SIZE_MAX_4LEVEL).toBe(0x7ffffffff000n);
    expect(TASK_SIZE_MAX_5LEVEL).toBe(0xfffffffffff000n);
    expect(taskSizeMax()).toBe(TASK_SIZE_MAX_4LEVEL);
    expect(taskSizeMax(5)).toBe(TASK_SIZE_MAX_5LEVEL);
  });

  it("rejects what is no unsigned 64-bit address", () => {
    for (const [fn, arg, msg] of [
      [() => PAGE_ALIGN(-1), -1, /PAGE_ALIGN: -1 is not an unsigned 64-bit address/],
      [() => PAGE_ALIGN(2n ** 64n), 0, /18446744073709551616 is not/],
      [() => offset_in_page(1.5), 0, /1.5 is not/],
      [() => PFN_PHYS(2n ** 60n), 0, /past the 64-bit physical space/],
      [
        () => PFN_PHYS(2 ** 50),
        0,
        /PFN_PHYS: 1125899906842624 gives 4611686018427387904, past 2\^53 - 1; pass a bigint/,
      ],
      [() => PAGE_ALIGN(Number.MAX_SAFE_INTEGER), 0, /past 2\^53 - 1; pass a bigint/],
      [() => taskSizeMax(3 as 4), 0, /paging levels 3 is not 4 or 5/],
    ] as const) {
      expect(fn).toThrow(KernelError);
      expect(fn).toThrow(msg);
      void arg;
    }
  });

  it("property: PAGE_ALIGN(x) is the least multiple of PAGE_SIZE at or above x", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 4096n }), (x) => {
        const a = PAGE_ALIGN(x);
        expect(a % 4096n).toBe(0n);
        expect(a >= x && a - x < 4096n).toBe(true);
        expect(PAGE_ALIGN_DOWN(x) + BigInt(offset_in_page(x))).toBe(x);
      }),
    );
  });
});
