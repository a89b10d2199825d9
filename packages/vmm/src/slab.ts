// Kernel memory: the direct map (arch/x86/include/asm/page_64.h __va/__pa, PAGE_OFFSET), kmalloc caches
// (mm/slab_common.c kmalloc_info, mm/slub.c), large kmalloc from the page allocator, and the hardened-usercopy
// object check (mm/usercopy.c __check_object_size, mm/slub.c __check_heap_object).

import { KernelError, type PagingLevels } from "@kbridge/uapi";
import { __GFP_COMP, __GFP_ZERO, GFP_KERNEL, hex, type PhysicalMemory } from "./page-alloc.js";

/** `PAGE_OFFSET` with 4-level paging and no KASLR: the direct map of all RAM starts here. */
export const PAGE_OFFSET_L4 = 0xffff_8880_0000_0000n;
/** `PAGE_OFFSET` with 5-level paging and no KASLR. */
export const PAGE_OFFSET_L5 = 0xff11_0000_0000_0000n;

// mm/slab_common.c kmalloc_info[]: the kmalloc caches of SLUB on x86-64 (KMALLOC_MIN_SIZE 8), up to
// KMALLOC_MAX_CACHE_SIZE = 2 * PAGE_SIZE. Larger requests go to the page allocator.
const KMALLOC_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192] as const;
/** `KMALLOC_MAX_CACHE_SIZE` (8 KiB with SLUB): larger kmallocs are compound pages. */
export const KMALLOC_MAX_CACHE_SIZE = 8192;

/**
 * The kernel's report of a fatal error (an oops or a `BUG()`): not an errno the caller gets back but the end of the
 * task that hit it. The model throws it as a {@link @kbridge/uapi!KernelError} (errno EFAULT) whose `text` is the
 * line the kernel would log, e.g. `usercopy: Kernel memory exposure attempt detected from SLUB object 'kmalloc-64'
 * (offset 0, size 100)!`.
 */
export class KernelOops extends KernelError {
  /** What the kernel logs. */
  readonly text: string;

  /** @internal */
  constructor(text: string, op: string) {
    super("EFAULT", `kernel oops: ${text}`, { op });
    this.name = "KernelOops";
    this.text = text;
  }
}

interface Slab {
  readonly cache: number; // index into KMALLOC_SIZES, or -1 for a large kmalloc
  readonly pfn: number;
  readonly order: number;
  readonly objects: Uint8Array; // 1 = allocated, per object
}

/**
 * Kernel memory of one machine: the direct map (`__va`, `__pa`), `kmalloc`/`kzalloc`/`kfree`/`ksize` over
 * kmalloc caches (objects in slabs taken from the page allocator) and large allocations (compound pages), and
 * `check_object_size()`, the hardened-usercopy check of copy_to_user / copy_from_user. Kernel pointers are
 * bigints in the direct map, as on x86-64 (0xffff888000000000 + physical address).
 */
export class KernelMemory {
  /** The RAM. */
  readonly phys: PhysicalMemory;
  /** `PAGE_OFFSET`. */
  readonly pageOffset: bigint;
  // Per pfn of a slab or large kmalloc: the slab.
  readonly #slabs = new Map<number, Slab>();
  // Partial slabs per cache.
  readonly #partial: Slab[][] = KMALLOC_SIZES.map(() => []);
  #objects = 0;

  /** @internal */
  constructor(phys: PhysicalMemory, levels: PagingLevels) {
    this.phys = phys;
    this.pageOffset = levels === 5 ? PAGE_OFFSET_L5 : PAGE_OFFSET_L4;
  }

  /** kmalloc objects (and large kmallocs) allocated now. */
  get objects(): number {
    return this.#objects;
  }

  /** `__va(pa)`: the direct-map address of a physical address. */
  __va(pa: number): bigint {
    if (!Number.isSafeInteger(pa) || pa < 0)
      throw new KernelError("EINVAL", `physical address ${String(pa)} is not valid`, { op: "__va" });
    return this.pageOffset + BigInt(pa);
  }

  /**
   * `__pa(va)`: the physical address of a direct-map address.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for an address outside the direct map
   */
  __pa(va: bigint): number {
    if (typeof va !== "bigint" || va < this.pageOffset || va - this.pageOffset >= 2n ** 46n)
      throw new KernelError(
        "EINVAL",
        `${typeof va === "bigint" ? hex(va) : String(va)} is not a direct-map address`,
        { op: "__pa" },
      );
    return Number(va - this.pageOffset);
  }

  /** `page_address(page)`: the direct-map address of frame `pfn`. */
  page_address(pfn: number): bigint {
    return this.__va(pfn * 4096);
  }

  /**
   * A view of `length` bytes of kernel memory at `va` (no copy), what kernel code reads and writes directly.
   * @throws {@link KernelOops} when the range is not mapped RAM (a kernel access there would oops)
   */
  view(va: bigint, length: number): Uint8Array {
    const off = this.ramOffset(va, length);
    if (off < 0)
      throw new KernelOops(`BUG: unable to handle page fault for address: ${hexPtr(va)}`, "kernel access");
    return this.phys.ram.subarray(off, off + length);
  }

  /** The byte offset in RAM of `[va, va + length)`, or -1 when it is not contiguous RAM of the direct map. @internal */
  ramOffset(va: bigint, length: number): number {
    if (typeof va !== "bigint" || va < this.pageOffset || !Number.isSafeInteger(length) || length < 0)
      return -1;
    const pa = va - this.pageOffset;
    if (pa + BigInt(length) > 2n ** 46n) return -1;
    const p = Number(pa);
    try {
      return this.phys.view(p, length).byteOffset;
    } catch {
      return -1;
    }
  }

  /**
   * `kmalloc(size, gfp)`: an object of at least `size` bytes from the smallest kmalloc cache that fits (kmalloc-8 …
   * kmalloc-8k), or pages for larger sizes (`kmalloc_large`: a compound page of the order that fits). Without
   * `__GFP_ZERO` the object holds what was there before. `kmalloc(0)` returns ZERO_SIZE_PTR (16n), which kfree accepts.
   * @returns the object's direct-map address
   * @throws {@link @kbridge/uapi!KernelError} ENOMEM when no memory is left; EINVAL for a bad size
   */
  kmalloc(size: number, gfp: number = GFP_KERNEL): bigint {
    const op = "kmalloc";
    if (!Number.isSafeInteger(size) || size < 0)
      throw new KernelError("EINVAL", `size ${String(size)} is not a byte count`, { op });
    if (size === 0) return 16n; // ZERO_SIZE_PTR
    if (size > KMALLOC_MAX_CACHE_SIZE) {
      let order = 0;
      while (4096 * 2 ** order < size) order++;
      if (order > 10)
        throw new KernelError("ENOMEM", `size ${size} is more than MAX_PAGE_ORDER pages`, { op });
      const pfn = this.phys.alloc_pages((gfp & ~__GFP_COMP) | __GFP_COMP, order);
      this.#slabs.set(pfn, { cache: -1, pfn, order, objects: Uint8Array.of(1) });
      this.#objects++;
      return this.page_address(pfn);
    }
    const cache = KMALLOC_SIZES.findIndex((s) => s >= size);
    const objSize = KMALLOC_SIZES[cache]!;
    let slab = this.#partial[cache]![0];
    if (slab === undefined) {
      // allocate_slab(): SLUB sizes slabs to hold at least a few objects; order 0 up to 512 bytes, more above.
      const order = objSize <= 512 ? 0 : objSize <= 1024 ? 1 : objSize <= 2048 ? 2 : 3;
      const pfn = this.phys.alloc_pages((gfp & ~(__GFP_ZERO | __GFP_COMP)) | __GFP_COMP, order);
      slab = { cache, pfn, order, objects: new Uint8Array((4096 * 2 ** order) / objSize) };
      for (let k = 0; k < 2 ** order; k++) this.#slabs.set(pfn + k, slab);
      this.#partial[cache]!.push(slab);
    }
    const i = slab.objects.indexOf(0);
    slab.objects[i] = 1;
    if (!slab.objects.includes(0)) this.#partial[cache]!.shift();
    this.#objects++;
    const va = this.page_address(slab.pfn) + BigInt(i * objSize);
    if ((gfp & __GFP_ZERO) !== 0) this.view(va, objSize).fill(0);
    return va;
  }

  /** `kzalloc(size, gfp)`: kmalloc with `__GFP_ZERO`. */
  kzalloc(size: number, gfp: number = GFP_KERNEL): bigint {
    return this.kmalloc(size, gfp | __GFP_ZERO);
  }

  #find(op: string, va: bigint): { slab: Slab; index: number; size: number; start: bigint } {
    if (typeof va !== "bigint")
      throw new KernelError("EINVAL", `${String(va)} is not a kernel pointer`, { op });
    const off = this.ramOffset(va, 1);
    const slab = off < 0 ? undefined : this.#slabs.get(Math.floor(Number(va - this.pageOffset) / 4096));
    if (slab === undefined) throw new KernelError("EINVAL", `${hexPtr(va)} is not a kmalloc object`, { op });
    const base = this.page_address(slab.pfn);
    if (slab.cache < 0) return { slab, index: 0, size: 4096 * 2 ** slab.order, start: base };
    const size = KMALLOC_SIZES[slab.cache]!;
    const index = Number((va - base) / BigInt(size));
    return { slab, index, size, start: base + BigInt(index * size) };
  }

  /**
   * `kfree(ptr)`: returns an object; NULL and ZERO_SIZE_PTR are ignored.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a pointer that is not the start of a live object (SLUB
   * reports "double free or corruption" or an invalid free)
   */
  kfree(va: bigint): void {
    const op = "kfree";
    if (va === 0n || va === 16n) return;
    const { slab, index, start } = this.#find(op, va);
    if (start !== va)
      throw new KernelError("EINVAL", `${hexPtr(va)} points inside an object, not at its start`, { op });
    if (slab.objects[index] !== 1) throw new KernelError("EINVAL", `double free of ${hexPtr(va)}`, { op });
    slab.objects[index] = 0;
    this.#objects--;
    if (slab.cache < 0) {
      this.#slabs.delete(slab.pfn);
      this.phys.put_page(slab.pfn);
      return;
    }
    const partial = this.#partial[slab.cache]!;
    if (!slab.objects.includes(1)) {
      // An empty slab goes back to the page allocator (SLUB keeps a few; the model keeps none).
      const i = partial.indexOf(slab);
      if (i >= 0) partial.splice(i, 1);
      for (let k = 0; k < 2 ** slab.order; k++) this.#slabs.delete(slab.pfn + k);
      this.phys.put_page(slab.pfn);
    } else if (!partial.includes(slab)) partial.push(slab);
  }

  /**
   * `ksize(ptr)`: the usable size of an object (its cache's object size).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a pointer that is not a live object
   */
  ksize(va: bigint): number {
    const { slab, index, size } = this.#find("ksize", va);
    if (slab.objects[index] !== 1) throw new KernelError("EINVAL", `${hexPtr(va)} is free`, { op: "ksize" });
    return size;
  }

  /**
   * `check_object_size(ptr, n, to_user)` (mm/usercopy.c, CONFIG_HARDENED_USERCOPY): a copy of `n` bytes at `va` must
   * not wrap, must not start at NULL/ZERO_SIZE_PTR, must stay inside one kmalloc object ("SLUB object") or one
   * large allocation ("page alloc"). A violation is `usercopy_abort()`: the kernel logs and BUGs.
   * @throws {@link KernelOops} with the kernel's message on a violation
   */
  check_object_size(va: bigint, n: number, toUser: boolean): void {
    if (n === 0) return;
    const abort = (name: string, detail: string, offset: bigint | number, len: bigint | number) => {
      const what = toUser ? "exposure" : "overwrite";
      const dir = toUser ? "from" : "to";
      return new KernelOops(
        `usercopy: Kernel memory ${what} attempt detected ${dir} ${name}${detail === "" ? "" : ` '${detail}'`} (offset ${offset}, size ${len})!`,
        "check_object_size",
      );
    };
    // check_bogus_address(): usercopy_abort("wrapped address", NULL, to_user, 0, ptr + n) — the size printed is
    // the wrapped end, ptr + n modulo 2^64.
    if (va + BigInt(n) > 2n ** 64n) throw abort("wrapped address", "", 0, (va + BigInt(n)) % 2n ** 64n);
    if (va <= 16n) throw abort("null address", "", va, n);
    const pfn = va >= this.pageOffset ? Number((va - this.pageOffset) / 4096n) : -1;
    const slab = this.#slabs.get(pfn);
    if (slab === undefined) return;
    const base = this.page_address(slab.pfn);
    if (slab.cache < 0) {
      const size = 4096 * 2 ** slab.order;
      const offset = Number(va - base);
      if (n > size - offset) throw abort("page alloc", "", offset, n);
      return;
    }
    const size = KMALLOC_SIZES[slab.cache]!;
    const offset = Number((va - base) % BigInt(size));
    if (offset > size || n > size - offset)
      throw abort("SLUB object", `kmalloc-${cacheName(size)}`, offset, n);
  }
}

function cacheName(size: number): string {
  return size >= 1024 ? `${size / 1024}k` : String(size);
}

/** A kernel pointer as `%px` prints it: 16 hex digits. */
export function hexPtr(va: bigint): string {
  return va.toString(16).padStart(16, "0");
}
