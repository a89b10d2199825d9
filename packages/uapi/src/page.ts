// Page-size vocabulary shared by vmm, dma-device and chrdev: arch/x86/include/asm/page_types.h (PAGE_*),
// include/linux/mm.h (PAGE_ALIGN, offset_in_page) and arch/x86/include/asm/page_64_types.h (TASK_SIZE_MAX).

import { KernelError } from "./errno.js";

// PAGE_SHIFT
/** log2 of the base page size on x86-64 (12). */
export const PAGE_SHIFT = 12;
// PAGE_SIZE = 1 << PAGE_SHIFT
/** The base page size on x86-64 (4096 bytes). */
export const PAGE_SIZE = 4096;
// PAGE_MASK = ~(PAGE_SIZE - 1), as a 64-bit unsigned value
/** `PAGE_MASK`: the bits of an address above the page offset, as an unsigned 64-bit value. */
export const PAGE_MASK = 0xffff_ffff_ffff_f000n;

/** An address or length: a non-negative safe integer, or a bigint for values past 2^53. */
export type Addr = number | bigint;

const U64_MAX = (1n << 64n) - 1n;

function checkAddr(op: string, addr: unknown): bigint {
  let v: bigint | undefined;
  if (typeof addr === "bigint") v = addr;
  else if (typeof addr === "number" && Number.isSafeInteger(addr)) v = BigInt(addr);
  if (v === undefined || v < 0n || v > U64_MAX) {
    throw new KernelError("EINVAL", `${String(addr)} is not an unsigned 64-bit address`, { op });
  }
  return v;
}

// The result in the argument's type; a number result must stay exact.
function same<T extends Addr>(op: string, like: T, v: bigint): T {
  if (typeof like === "bigint") return v as T;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new KernelError("EINVAL", `${like} gives ${v}, past 2^53 - 1; pass a bigint`, { op });
  }
  return Number(v) as T;
}

/**
 * `PAGE_ALIGN(addr)`: rounds up to the next page boundary. Like the kernel macro it wraps at 2^64
 * (`PAGE_ALIGN(2n ** 64n - 1n) === 0n`); callers that must refuse the wrap check the result, as mmap does
 * (`if (!len) return -ENOMEM` after `PAGE_ALIGN(len)`). Returns a number for a number argument and a
 * bigint for a bigint.
 * @throws {@link KernelError} EINVAL when `addr` is not an unsigned 64-bit integer, or when a number
 * argument would give a result past 2^53 - 1 (pass a bigint)
 */
export function PAGE_ALIGN<T extends Addr>(addr: T): T {
  const v = checkAddr("PAGE_ALIGN", addr);
  return same("PAGE_ALIGN", addr, BigInt.asUintN(64, v + BigInt(PAGE_SIZE - 1)) & PAGE_MASK);
}

/** `PAGE_ALIGN_DOWN(addr)`: rounds down to the page boundary at or below `addr`. */
export function PAGE_ALIGN_DOWN<T extends Addr>(addr: T): T {
  return same("PAGE_ALIGN_DOWN", addr, checkAddr("PAGE_ALIGN_DOWN", addr) & PAGE_MASK);
}

/** `PAGE_ALIGNED(addr)`: true when `addr` is a multiple of the page size. */
export function PAGE_ALIGNED(addr: Addr): boolean {
  return (checkAddr("PAGE_ALIGNED", addr) & BigInt(PAGE_SIZE - 1)) === 0n;
}

/** `offset_in_page(addr)`: the offset of `addr` inside its page (0..4095). */
export function offset_in_page(addr: Addr): number {
  return Number(checkAddr("offset_in_page", addr) & BigInt(PAGE_SIZE - 1));
}

/** `PFN_DOWN(addr)` (`addr >> PAGE_SHIFT`): the page frame number that contains a physical address. */
export function PFN_DOWN<T extends Addr>(addr: T): T {
  return same("PFN_DOWN", addr, checkAddr("PFN_DOWN", addr) >> BigInt(PAGE_SHIFT));
}

/**
 * `PFN_UP(addr)`: the page frame number of the first frame at or above `addr`. Like the macro, the addition
 * wraps at 2^64 (`PFN_UP(2^64 - 1) === 0`).
 */
export function PFN_UP<T extends Addr>(addr: T): T {
  const v = BigInt.asUintN(64, checkAddr("PFN_UP", addr) + BigInt(PAGE_SIZE - 1));
  return same("PFN_UP", addr, v >> BigInt(PAGE_SHIFT));
}

/** `PFN_PHYS(pfn)` (`pfn << PAGE_SHIFT`): the physical address of a page frame. */
export function PFN_PHYS<T extends Addr>(pfn: T): T {
  const v = checkAddr("PFN_PHYS", pfn) << BigInt(PAGE_SHIFT);
  if (v > U64_MAX)
    throw new KernelError("EINVAL", `pfn ${String(pfn)} is past the 64-bit physical space`, {
      op: "PFN_PHYS",
    });
  return same("PFN_PHYS", pfn, v);
}

/**
 * `__VIRTUAL_MASK_SHIFT`: bits of a user virtual address (47 with 4-level paging, 56 with 5-level).
 */
export type PagingLevels = 4 | 5;

/**
 * `TASK_SIZE_MAX`: one past the highest user address, `(1 << __VIRTUAL_MASK_SHIFT) - PAGE_SIZE`. The
 * top page below the canonical hole stays unmapped: on Intel CPUs a SYSCALL from the last page would
 * return with SYSRET to a non-canonical address and fault in kernel mode, and the guard page also stops
 * speculation from running into the hole (arch/x86/include/asm/page_64_types.h).
 * 4-level paging: 0x7ffffffff000; 5-level: 0xfffffffffff000.
 * @throws {@link KernelError} EINVAL when `levels` is not 4 or 5
 */
export function taskSizeMax(levels: PagingLevels = 4): bigint {
  if (levels !== 4 && levels !== 5) {
    throw new KernelError("EINVAL", `paging levels ${String(levels)} is not 4 or 5`, { op: "TASK_SIZE_MAX" });
  }
  return (1n << (levels === 4 ? 47n : 56n)) - BigInt(PAGE_SIZE);
}

/** `TASK_SIZE_MAX` with 4-level paging: 0x7ffffffff000 (128 TiB minus one page). */
export const TASK_SIZE_MAX_4LEVEL: bigint = taskSizeMax(4);
/** `TASK_SIZE_MAX` with 5-level paging (LA57): 0xfffffffffff000 (64 PiB minus one page). */
export const TASK_SIZE_MAX_5LEVEL: bigint = taskSizeMax(5);
