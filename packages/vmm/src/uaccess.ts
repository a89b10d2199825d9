// The range check of uaccess: include/asm-generic/access_ok.h __access_ok (the generic rule the model follows) and
// TASK_SIZE_MAX (arch/x86/include/asm/page_64_types.h). The copies themselves are methods of Vmm (vmm.ts).

import { type Addr, KernelError, type PagingLevels } from "@kbridge/uapi";

/**
 * The kernel side of a copy: a kernel pointer (a direct-map address from `kmalloc` or `__va`, checked by hardened
 * usercopy against its object) or a `Uint8Array`, a buffer of kernel code such as an array on its stack (its length
 * is the object bound).
 */
export type KernelBuf = bigint | Uint8Array;

/** The uaccess counters of a {@link Vmm}: where copy time goes. */
export interface UaccessStats {
  /** uaccess calls (copy_*_user, get/put_user, strncpy/strnlen_user, clear_user, …). */
  readonly calls: number;
  /** Bytes copied between user and kernel. */
  readonly bytesCopied: number;
  /** Bytes not copied (returned to callers as the residual count). */
  readonly bytesNotCopied: number;
  /** User pages touched (one translation each). */
  readonly pagesTouched: number;
  /** Faults taken during copies and resolved (demand-zero, COW, page-in). */
  readonly faultsResolved: number;
  /** Faults that stopped a copy. */
  readonly faultsFailed: number;
  /** Calls refused by access_ok. */
  readonly accessOkFailures: number;
}

/**
 * `access_ok(ptr, size)`: true when `[ptr, ptr + size)` lies below `TASK_SIZE_MAX` without wrapping (the generic
 * `__access_ok`: `size <= limit && addr <= limit - size`). A range check only: whether pages are mapped is found out
 * by the copy. A zero size passes for any user address, NULL included. (x86-64 since 6.5 checks only the start
 * for constant sizes up to a page and relies on the guard page; the model uses the generic rule.)
 * @throws {@link @kbridge/uapi!KernelError} EINVAL when ptr or size is not an unsigned 64-bit integer
 */
export function access_ok(ptr: Addr, size: Addr, levels: PagingLevels = 4): boolean {
  const p = u64("access_ok", "ptr", ptr);
  const s = u64("access_ok", "size", size);
  const limit = levels === 5 ? 2n ** 56n - 4096n : 2n ** 47n - 4096n;
  return s <= limit && p <= limit - s;
}

/** An unsigned 64-bit argument as a bigint. @internal */
export function u64(op: string, what: string, v: unknown): bigint {
  if (typeof v === "bigint" && v >= 0n && v < 2n ** 64n) return v;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new KernelError("EINVAL", `${what} ${String(v)} is not an unsigned 64-bit integer`, { op });
}
