// Physical memory and the buddy page allocator: mm/page_alloc.c, include/linux/mmzone.h, include/linux/gfp_types.h.
// The RAM is one ArrayBuffer; per-frame state lives in typed arrays indexed by frame, never in per-page objects.

import { KernelError, PAGE_SHIFT, PAGE_SIZE } from "@kbridge/uapi";

// include/linux/gfp_types.h (6.12): the ___GFP_*_BIT enum, in order.
/** `__GFP_DMA`: allocate from ZONE_DMA (below 16 MiB). */
export const __GFP_DMA = 0x1;
/** `__GFP_HIGHMEM`: highmem allowed (no highmem on x86-64: ZONE_NORMAL). */
export const __GFP_HIGHMEM = 0x2;
/** `__GFP_DMA32`: allocate below 4 GiB (ZONE_DMA32, falling back to ZONE_DMA). */
export const __GFP_DMA32 = 0x4;
/** `__GFP_MOVABLE`. Accepted and ignored (no ZONE_MOVABLE in the model). */
export const __GFP_MOVABLE = 0x8;
/** `__GFP_HIGH`: the caller is high priority (GFP_ATOMIC). Accepted; the model has no watermarks. */
export const __GFP_HIGH = 0x20;
/** `__GFP_IO`. */
export const __GFP_IO = 0x40;
/** `__GFP_FS`. */
export const __GFP_FS = 0x80;
/** `__GFP_ZERO`: return zeroed pages. Without it a page holds whatever its last owner left there. */
export const __GFP_ZERO = 0x100;
/** `__GFP_DIRECT_RECLAIM`. */
export const __GFP_DIRECT_RECLAIM = 0x400;
/** `__GFP_KSWAPD_RECLAIM`. */
export const __GFP_KSWAPD_RECLAIM = 0x800;
/** `__GFP_NOWARN`: no "page allocation failure" warning on failure. */
export const __GFP_NOWARN = 0x2000;
/** `__GFP_COMP`: a compound page (head + tails, one refcount on the head). */
export const __GFP_COMP = 0x40000;
/** `__GFP_HARDWALL`. */
export const __GFP_HARDWALL = 0x100000;
/** `GFP_KERNEL` = `__GFP_RECLAIM | __GFP_IO | __GFP_FS` (0xcc0). */
export const GFP_KERNEL = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM | __GFP_IO | __GFP_FS;
/** `GFP_ATOMIC` = `__GFP_HIGH | __GFP_KSWAPD_RECLAIM` (0x820). */
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
/** `GFP_USER` = `GFP_KERNEL | __GFP_HARDWALL`. */
export const GFP_USER = GFP_KERNEL | __GFP_HARDWALL;
/** `GFP_HIGHUSER` = `GFP_USER | __GFP_HIGHMEM`: what anonymous user pages are allocated with. */
export const GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM;
/** `GFP_DMA` = `__GFP_DMA` (0x1). */
export const GFP_DMA = 0x1;
/** `GFP_DMA32` = `__GFP_DMA32` (0x4). */
export const GFP_DMA32 = 0x4;

// Bits 0..23 (___GFP_DMA_BIT .. ___GFP_ZEROTAGS_BIT) exist in every 6.12 config: __GFP_THISNODE 0x200000,
// __GFP_ACCOUNT 0x400000 (GFP_KERNEL_ACCOUNT) and __GFP_ZEROTAGS 0x800000 included; 0x200 is unused but harmless.
// The config-dependent bits after them (KASAN_HW_TAGS, LOCKDEP, SLAB_OBJ_EXT) are not modelled.
const GFP_KNOWN = 0xffffff;

/** `MAX_PAGE_ORDER` (include/linux/mmzone.h, x86-64 default 10): the largest block is 2^10 pages (4 MiB). */
export const MAX_PAGE_ORDER = 10;

/** The zones of x86-64 (include/linux/mmzone.h `enum zone_type`, without ZONE_MOVABLE and ZONE_DEVICE). */
export type ZoneName = "DMA" | "DMA32" | "Normal";

const ZONES: readonly ZoneName[] = ["DMA", "DMA32", "Normal"];
// arch/x86/include/asm/dma.h: MAX_DMA_PFN (16 MiB) and MAX_DMA32_PFN (4 GiB).
const MAX_DMA_PFN = (16 * 1024 * 1024) / PAGE_SIZE;
const MAX_DMA32_PFN = 2 ** (32 - PAGE_SHIFT);

function zoneOfPfn(pfn: number): number {
  return pfn < MAX_DMA_PFN ? 0 : pfn < MAX_DMA32_PFN ? 1 : 2;
}

/** A range of RAM in the physical address space, as an e820 "usable" entry: page-aligned start and size in bytes. */
export interface MemoryRange {
  /** The physical address of the first byte (page-aligned). */
  readonly start: number;
  /** The size in bytes (a positive multiple of the page size). */
  readonly size: number;
}

/** Options of {@link PhysicalMemory}. */
export interface PhysicalMemoryOptions {
  /** RAM from physical address 0, in bytes (64 MiB by default). Ignored when `ranges` is given. */
  readonly size?: number;
  /**
   * The usable RAM ranges (an e820 map), e.g. 16 MiB at 0 and 16 MiB at 4 GiB to have frames in all three zones.
   * Frames outside every range do not exist (`pfn_valid()` is false).
   */
  readonly ranges?: readonly MemoryRange[];
}

/** The allocator's counters, per zone and in total. */
export interface MemoryStats {
  /** Frames of RAM. */
  readonly totalFrames: number;
  /** Frames on the free lists. */
  readonly freeFrames: number;
  /** Frames handed out (`totalFrames - freeFrames`). */
  readonly usedFrames: number;
  /** Successful `alloc_pages` calls. */
  readonly allocations: number;
  /** Blocks returned to the free lists (after merging they may be fewer blocks). */
  readonly frees: number;
  /** `alloc_pages` calls that found no block (returned -ENOMEM). */
  readonly failures: number;
  /** Per zone: frames and free frames. */
  readonly zones: Readonly<Record<ZoneName, { readonly frames: number; readonly free: number }>>;
}

// Per-frame flags.
const PG_BUDDY = 1; // head of a free block (PageBuddy)
const PG_HEAD = 2; // head of an allocated block (compound or not): its order is in order[]
const PG_COMPOUND = 4; // the block was allocated with __GFP_COMP
const PG_TAIL = 8; // a tail page of a compound block: head[] names the head

function bad(op: string, detail: string, errno: "EINVAL" | "ENOMEM" = "EINVAL"): KernelError {
  return new KernelError(errno, detail, { op });
}

/**
 * A page descriptor, the model of `struct page`: made on demand by {@link PhysicalMemory.pfn_to_page} (the
 * allocator itself keeps its state in typed arrays, not in these objects). Its getters read the live state.
 */
export class Page {
  /** The page frame number. */
  readonly pfn: number;
  readonly #mem: PhysicalMemory;

  /** @internal */
  constructor(mem: PhysicalMemory, pfn: number) {
    this.#mem = mem;
    this.pfn = pfn;
  }

  /** The physical address of the frame (`page_to_phys`). */
  get phys(): number {
    return this.pfn * PAGE_SIZE;
  }

  /** `page_ref_count()`. */
  get refcount(): number {
    return this.#mem.page_ref_count(this.pfn);
  }

  /** The zone the frame belongs to (`page_zone()`). */
  get zone(): ZoneName {
    return ZONES[zoneOfPfn(this.pfn)]!;
  }

  /** True while the frame is on a free list, as the head of a free block (`PageBuddy`). */
  get buddy(): boolean {
    return this.#mem.isBuddy(this.pfn);
  }
}

/**
 * The physical memory of a simulated machine: RAM frames backed by one ArrayBuffer and the buddy allocator of
 * mm/page_alloc.c over them, with zones DMA (< 16 MiB), DMA32 (< 4 GiB) and Normal, orders 0..MAX_PAGE_ORDER,
 * refcounts (`get_page`/`put_page`), and counters. Models `__alloc_pages`, `__free_pages`, `expand()` and
 * `__free_one_page()` (buddy merging); not modelled: watermarks, per-cpu lists, migrate types, reclaim.
 */
export class PhysicalMemory {
  /** The whole RAM, every range back to back in pfn order (use {@link pfnOffset} to find a frame). */
  readonly ram: Uint8Array;
  /** The RAM as little-endian 32-bit words (page-table entries are read through it). */
  readonly ram32: Uint32Array;
  /** The RAM ranges, sorted. */
  readonly ranges: readonly MemoryRange[];
  /** Frames of RAM. */
  readonly totalFrames: number;

  // Range lookup: first pfn, end pfn and first frame index of each range.
  readonly #rStart: number[];
  readonly #rEnd: number[];
  readonly #rBase: number[];
  readonly #single: boolean;
  /**
   * With one RAM range, its first pfn, and one past its last (-1 and -1 with several ranges): the MMU maps a pfn to
   * its frame with one subtraction then.
   * @internal
   */
  readonly linearStart: number;
  /** @internal see linearStart */
  readonly linearEnd: number;

  // Per frame (by frame index).
  readonly #ref: Int32Array;
  readonly #order: Int8Array;
  readonly #flags: Uint8Array;
  readonly #head: Int32Array; // compound tail -> head frame index
  readonly #next: Int32Array; // free-list links (frame indexes, -1 ends)
  readonly #prev: Int32Array;
  // Free lists: heads by zone * NR_PAGE_ORDERS + order.
  readonly #freeHead: Int32Array;
  readonly #zoneFrames = [0, 0, 0];
  readonly #zoneFree = [0, 0, 0];
  #allocations = 0;
  #frees = 0;
  #failures = 0;
  readonly #pages = new Map<number, Page>();

  /**
   * @param options - RAM size (64 MiB from 0 by default) or an e820-like list of ranges
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for unaligned, empty, overlapping or oversized ranges
   */
  constructor(options: PhysicalMemoryOptions = {}) {
    const op = "PhysicalMemory";
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1)
      throw bad(op, "the host is big-endian; page tables are stored little-endian as on x86");
    const ranges = options.ranges ?? [{ start: 0, size: options.size ?? 64 * 1024 * 1024 }];
    if (!Array.isArray(ranges) || ranges.length === 0) throw bad(op, "ranges must be a non-empty array");
    const sorted = [...ranges].sort((a, b) => a.start - b.start);
    let total = 0;
    let lastEnd = -1;
    for (const r of sorted) {
      if (
        r === null ||
        typeof r !== "object" ||
        !Number.isSafeInteger(r.start) ||
        !Number.isSafeInteger(r.size) ||
        r.start < 0 ||
        r.size <= 0 ||
        r.start % PAGE_SIZE !== 0 ||
        r.size % PAGE_SIZE !== 0
      )
        throw bad(op, `range ${JSON.stringify(r)} is not page-aligned with a positive size`);
      if (r.start < lastEnd) throw bad(op, `range at ${hex(r.start)} overlaps the range before it`);
      if (r.start + r.size > 2 ** 52)
        throw bad(op, `range at ${hex(r.start)} ends past the 52-bit physical space`);
      lastEnd = r.start + r.size;
      total += r.size / PAGE_SIZE;
    }
    // An ArrayBuffer of a few GiB is the most an engine gives; the model is for megabytes.
    if (total > 1 << 20)
      throw bad(op, `${total} frames (${total * 4} KiB) is more RAM than the model backs (4 GiB)`);
    this.ranges = sorted.map((r) => ({ start: r.start, size: r.size }));
    this.totalFrames = total;
    const buf = new ArrayBuffer(total * PAGE_SIZE);
    this.ram = new Uint8Array(buf);
    this.ram32 = new Uint32Array(buf);
    this.#rStart = [];
    this.#rEnd = [];
    this.#rBase = [];
    let base = 0;
    for (const r of this.ranges) {
      this.#rStart.push(r.start / PAGE_SIZE);
      this.#rEnd.push((r.start + r.size) / PAGE_SIZE);
      this.#rBase.push(base);
      base += r.size / PAGE_SIZE;
    }
    this.#single = this.ranges.length === 1;
    this.linearStart = this.#single ? this.#rStart[0]! : -1;
    this.linearEnd = this.#single ? this.#rEnd[0]! : -1;
    this.#ref = new Int32Array(total);
    this.#order = new Int8Array(total).fill(-1);
    this.#flags = new Uint8Array(total);
    this.#head = new Int32Array(total).fill(-1);
    this.#next = new Int32Array(total).fill(-1);
    this.#prev = new Int32Array(total).fill(-1);
    this.#freeHead = new Int32Array(ZONES.length * (MAX_PAGE_ORDER + 1)).fill(-1);
    // memblock_free_all(): every range handed to the buddy allocator in the largest aligned blocks that fit,
    // never across a zone boundary.
    for (let i = 0; i < this.ranges.length; i++) {
      let pfn = this.#rStart[i]!;
      const end = this.#rEnd[i]!;
      while (pfn < end) {
        const zone = zoneOfPfn(pfn);
        const zoneEnd = Math.min(end, zone === 0 ? MAX_DMA_PFN : zone === 1 ? MAX_DMA32_PFN : end);
        let order = MAX_PAGE_ORDER;
        while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > zoneEnd)) order--;
        this.#zoneFrames[zone]! += 2 ** order;
        this.#freeBlock(this.#index(pfn), pfn, order, zone);
        pfn += 2 ** order;
      }
    }
    this.#frees = 0; // the blocks handed over at boot are not frees
  }

  // The frame index of a pfn, or -1 when no RAM backs it.
  #index(pfn: number): number {
    if (this.#single) {
      const s = this.#rStart[0]!;
      return pfn >= s && pfn < this.#rEnd[0]! ? pfn - s : -1;
    }
    for (let i = 0; i < this.#rStart.length; i++) {
      if (pfn >= this.#rStart[i]! && pfn < this.#rEnd[i]!) return pfn - this.#rStart[i]! + this.#rBase[i]!;
    }
    return -1;
  }

  #pfnOfIndex(index: number): number {
    for (let i = this.#rBase.length - 1; i >= 0; i--) {
      if (index >= this.#rBase[i]!) return index - this.#rBase[i]! + this.#rStart[i]!;
    }
    return -1;
  }

  /** `pfn_valid()`: true when RAM backs the frame. */
  pfn_valid(pfn: number): boolean {
    return Number.isSafeInteger(pfn) && pfn >= 0 && this.#index(pfn) >= 0;
  }

  /**
   * The byte offset of frame `pfn` in {@link ram}, or -1 when no RAM backs it (the MMU's hot path uses this).
   */
  pfnOffset(pfn: number): number {
    const i = this.#index(pfn);
    return i < 0 ? -1 : i * PAGE_SIZE;
  }

  #checkPfn(op: string, pfn: unknown): number {
    if (typeof pfn !== "number" || !Number.isSafeInteger(pfn) || pfn < 0)
      throw bad(op, `pfn ${String(pfn)} is not a page frame number`);
    const i = this.#index(pfn);
    if (i < 0) throw bad(op, `pfn ${hex(pfn)} is not RAM (pfn_valid is false)`);
    return i;
  }

  /**
   * `pfn_to_page()`: the descriptor of a frame (one object per frame, made on first use).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when no RAM backs `pfn`
   */
  pfn_to_page(pfn: number): Page {
    this.#checkPfn("pfn_to_page", pfn);
    let p = this.#pages.get(pfn);
    if (p === undefined) {
      p = new Page(this, pfn);
      this.#pages.set(pfn, p);
    }
    return p;
  }

  /**
   * `page_to_pfn()`.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a page of another PhysicalMemory
   */
  page_to_pfn(page: Page): number {
    if (!(page instanceof Page) || this.#pages.get(page.pfn) !== page)
      throw bad("page_to_pfn", `${String(page)} is not a page of this memory`);
    return page.pfn;
  }

  /** True while `pfn` is the head of a free block. */
  isBuddy(pfn: number): boolean {
    const i = this.#index(pfn);
    return i >= 0 && (this.#flags[i]! & PG_BUDDY) !== 0;
  }

  /**
   * `page_ref_count()`: the references to a frame (0 for a free frame and for the tail frames of a
   * non-compound block).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when no RAM backs `pfn`
   */
  page_ref_count(pfn: number): number {
    return this.#ref[this.#checkPfn("page_ref_count", pfn)]!;
  }

  /**
   * `alloc_pages(gfp, order)`: a block of 2^order physically contiguous frames, returned as the pfn of its
   * first frame with a refcount of 1. The zone comes from `gfp` as `gfp_zone()` picks it, with the zonelist
   * fallback: GFP_KERNEL tries Normal, then DMA32, then DMA; `__GFP_DMA32` DMA32 then DMA; `__GFP_DMA` only DMA.
   * The block is split from the smallest free block that fits (`expand()`: the upper halves go back to the
   * free lists). `__GFP_ZERO` zeroes it; otherwise it holds what its last owner left.
   * @throws {@link @kbridge/uapi!KernelError} ENOMEM when no zone has a block of that order (the kernel
   * returns NULL; the model keeps the memory unchanged); EINVAL for an order above MAX_PAGE_ORDER, unknown
   * gfp bits, or two of `__GFP_DMA`, `__GFP_HIGHMEM`, `__GFP_DMA32` together (the kernel's GFP_ZONE_BAD)
   */
  alloc_pages(gfp: number, order = 0): number {
    const op = "alloc_pages";
    // gfp > GFP_KNOWN is (gfp & ~GFP_KNOWN) != 0 without the int32 truncation of & (gfp_t is 32 bits).
    if (!Number.isInteger(gfp) || gfp < 0 || gfp > GFP_KNOWN)
      throw bad(op, `gfp ${String(gfp)} has bits outside the gfp_t flags of 6.12`);
    if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER)
      throw bad(op, `order ${String(order)} is outside 0..${MAX_PAGE_ORDER} (MAX_PAGE_ORDER)`);
    // include/linux/gfp.h GFP_ZONE_BAD: at most one of __GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32 may be set.
    const zoneBits = gfp & (__GFP_DMA | __GFP_HIGHMEM | __GFP_DMA32);
    if ((zoneBits & (zoneBits - 1)) !== 0)
      throw bad(op, "two of __GFP_DMA, __GFP_HIGHMEM, __GFP_DMA32 together name no zone (GFP_ZONE_BAD)");
    const top = (gfp & __GFP_DMA) !== 0 ? 0 : (gfp & __GFP_DMA32) !== 0 ? 1 : 2;
    for (let zone = top; zone >= 0; zone--) {
      for (let o = order; o <= MAX_PAGE_ORDER; o++) {
        const slot = zone * (MAX_PAGE_ORDER + 1) + o;
        const i = this.#freeHead[slot]!;
        if (i < 0) continue;
        this.#unlink(i, slot);
        this.#zoneFree[zone]! -= 2 ** o;
        // expand(): halve the block until it has the requested order; the upper halves go back.
        let size = o;
        while (size > order) {
          size--;
          const upper = i + 2 ** size;
          this.#zoneFree[zone]! += 2 ** size;
          this.#push(upper, zone * (MAX_PAGE_ORDER + 1) + size, size);
        }
        this.#flags[i] = PG_HEAD | ((gfp & __GFP_COMP) !== 0 ? PG_COMPOUND : 0);
        this.#order[i] = order;
        this.#ref[i] = 1;
        if ((gfp & __GFP_COMP) !== 0) {
          for (let k = 1; k < 2 ** order; k++) {
            this.#flags[i + k] = PG_TAIL;
            this.#head[i + k] = i;
          }
        }
        if ((gfp & __GFP_ZERO) !== 0) this.ram.fill(0, i * PAGE_SIZE, (i + 2 ** order) * PAGE_SIZE);
        this.#allocations++;
        return this.#pfnOfIndex(i);
      }
    }
    this.#failures++;
    throw bad(
      op,
      `no free block of order ${order} in zone ${ZONES[top]}${top > 0 ? " or below" : ""} (page allocation failure)`,
      "ENOMEM",
    );
  }

  /** `alloc_page(gfp)`: `alloc_pages(gfp, 0)`. */
  alloc_page(gfp: number): number {
    return this.alloc_pages(gfp, 0);
  }

  // The head frame index of an allocated frame: itself, or the head of its compound block.
  #headOf(i: number): number {
    return (this.#flags[i]! & PG_TAIL) !== 0 ? this.#head[i]! : i;
  }

  /**
   * `get_page()`: takes a reference (on the head of a compound page).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a frame that is free (the kernel's VM_BUG_ON)
   */
  get_page(pfn: number): void {
    const i = this.#headOf(this.#checkPfn("get_page", pfn));
    if (this.#ref[i]! <= 0) throw bad("get_page", `pfn ${hex(pfn)} is free (refcount ${this.#ref[i]})`);
    this.#ref[i]!++;
  }

  /**
   * `put_page()`: drops a reference; the last one frees a compound block whole, and only the first frame of a
   * multi-page block that is not compound (its other frames leak, as in the kernel: free those with `__free_pages`).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a frame that is already free (the kernel reports
   * "Bad page state")
   */
  put_page(pfn: number): void {
    const i = this.#headOf(this.#checkPfn("put_page", pfn));
    if (this.#ref[i]! <= 0)
      throw bad("put_page", `pfn ${hex(pfn)} is free (Bad page state: refcount ${this.#ref[i]})`);
    if (--this.#ref[i]! === 0) {
      // A compound page goes back whole; a block of several pages that is not compound is, for put_page, the
      // first page alone (an order-0 folio): the kernel frees that page and the tail pages are leaked. Use
      // __free_pages for such blocks. The model leaks them too (they stay allocated, no owner).
      const order = (this.#flags[i]! & PG_COMPOUND) !== 0 ? this.#order[i]! : 0;
      this.#order[i] = order;
      this.#release(i, order);
    }
  }

  /**
   * `__free_pages(page, order)`: drops the caller's reference to a block of 2^order frames. When it was the last,
   * the block goes back to the free lists, merged with its free buddies. When other references remain on a block
   * that is not compound, the kernel frees the tail frames at once and keeps only the first frame for the other
   * holders (mm/page_alloc.c `__free_pages`); the model does the same.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when `pfn` is not the first frame of an allocated block of
   * that order, or is free (a double free)
   */
  __free_pages(pfn: number, order: number): void {
    const op = "__free_pages";
    const i = this.#checkPfn(op, pfn);
    if ((this.#flags[i]! & PG_HEAD) === 0 || this.#ref[i]! <= 0)
      throw bad(op, `pfn ${hex(pfn)} is not an allocated block (double free or tail page): Bad page state`);
    if (order !== this.#order[i])
      throw bad(
        op,
        `pfn ${hex(pfn)} was allocated with order ${this.#order[i]}, freed with order ${String(order)}`,
      );
    if (--this.#ref[i]! === 0) {
      this.#release(i, order);
      return;
    }
    if ((this.#flags[i]! & PG_COMPOUND) === 0) {
      // Others hold the first frame: the tails go now, in halves (page + 2^(order-1) at order-1, …).
      let o = order;
      while (o-- > 0) this.#freeBlock(i + 2 ** o, this.#pfnOfIndex(i + 2 ** o), o, zoneOfPfn(pfn));
      this.#order[i] = 0;
    }
  }

  /** `__free_page(page)`: `__free_pages(page, 0)`. */
  __free_page(pfn: number): void {
    this.__free_pages(pfn, 0);
  }

  #release(i: number, order: number): void {
    for (let k = 1; k < 2 ** order; k++) {
      this.#flags[i + k] = 0;
      this.#head[i + k] = -1;
    }
    const pfn = this.#pfnOfIndex(i);
    this.#freeBlock(i, pfn, order, zoneOfPfn(pfn));
  }

  // __free_one_page(): merge with the buddy while it is a free block of the same order in the same zone.
  #freeBlock(i: number, pfn: number, order: number, zone: number): void {
    this.#flags[i] = 0;
    this.#ref[i] = 0;
    this.#frees++;
    this.#zoneFree[zone]! += 2 ** order;
    while (order < MAX_PAGE_ORDER) {
      // __find_buddy_pfn(): pfn ^ (1 << order), in float arithmetic (a JS ^ truncates pfns >= 2^31).
      const buddyPfn = Math.floor(pfn / 2 ** order) % 2 === 0 ? pfn + 2 ** order : pfn - 2 ** order;
      const b = this.#index(buddyPfn);
      if (
        b < 0 ||
        zoneOfPfn(buddyPfn) !== zone ||
        (this.#flags[b]! & PG_BUDDY) === 0 ||
        this.#order[b] !== order
      )
        break;
      this.#unlink(b, zone * (MAX_PAGE_ORDER + 1) + order);
      this.#flags[b] = 0;
      this.#order[b] = -1;
      if (buddyPfn < pfn) {
        this.#order[i] = -1;
        i = b;
        pfn = buddyPfn;
      }
      order++;
    }
    this.#push(i, zone * (MAX_PAGE_ORDER + 1) + order, order);
  }

  #push(i: number, slot: number, order: number): void {
    this.#flags[i] = PG_BUDDY;
    this.#order[i] = order;
    this.#ref[i] = 0;
    const h = this.#freeHead[slot]!;
    this.#next[i] = h;
    this.#prev[i] = -1;
    if (h >= 0) this.#prev[h] = i;
    this.#freeHead[slot] = i;
  }

  #unlink(i: number, slot: number): void {
    const n = this.#next[i]!;
    const p = this.#prev[i]!;
    if (p >= 0) this.#next[p] = n;
    else this.#freeHead[slot] = n;
    if (n >= 0) this.#prev[n] = p;
    this.#next[i] = -1;
    this.#prev[i] = -1;
    this.#flags[i] = 0;
  }

  /** The counters: frames free and used, per zone and in total, and the allocation calls. */
  stats(): MemoryStats {
    const free = this.#zoneFree.reduce((a, b) => a + b, 0);
    return {
      totalFrames: this.totalFrames,
      freeFrames: free,
      usedFrames: this.totalFrames - free,
      allocations: this.#allocations,
      frees: this.#frees,
      failures: this.#failures,
      zones: {
        DMA: { frames: this.#zoneFrames[0]!, free: this.#zoneFree[0]! },
        DMA32: { frames: this.#zoneFrames[1]!, free: this.#zoneFree[1]! },
        Normal: { frames: this.#zoneFrames[2]!, free: this.#zoneFree[2]! },
      },
    };
  }

  /** Free frames (all zones). */
  get freeFrames(): number {
    return this.#zoneFree[0]! + this.#zoneFree[1]! + this.#zoneFree[2]!;
  }

  /**
   * The free blocks per zone and order, as `/proc/buddyinfo` prints them
   * (`Node 0, zone      DMA      1      0 …`, one column per order 0..10).
   */
  buddyinfo(): string {
    const lines: string[] = [];
    for (let z = 0; z < ZONES.length; z++) {
      if (this.#zoneFrames[z] === 0) continue;
      const counts: string[] = [];
      for (let o = 0; o <= MAX_PAGE_ORDER; o++) {
        let n = 0;
        for (let i = this.#freeHead[z * (MAX_PAGE_ORDER + 1) + o]!; i >= 0; i = this.#next[i]!) n++;
        counts.push(String(n).padStart(6));
      }
      // mm/vmstat.c frag_show_print(): "Node %d, zone %8s " then "%6lu " per order (a space after the last too).
      lines.push(`Node 0, zone ${ZONES[z]!.padStart(8)} ${counts.join(" ")} `);
    }
    return `${lines.join("\n")}\n`;
  }

  /**
   * A view of `length` bytes of RAM at physical address `phys` (no copy), for code that owns the memory.
   * @throws {@link @kbridge/uapi!KernelError} EFAULT when the range is not inside one RAM range
   */
  view(phys: number, length: number): Uint8Array {
    const op = "PhysicalMemory.view";
    if (!Number.isSafeInteger(phys) || phys < 0 || !Number.isSafeInteger(length) || length < 0)
      throw bad(op, `phys ${String(phys)} / length ${String(length)} are not non-negative integers`);
    const pfn = Math.floor(phys / PAGE_SIZE);
    const i = this.#index(pfn);
    const lastPfn = Math.floor((phys + Math.max(length, 1) - 1) / PAGE_SIZE);
    const j = this.#index(lastPfn);
    if (i < 0 || j < 0 || j - i !== lastPfn - pfn)
      throw new KernelError("EFAULT", `physical range ${hex(phys)}+${length} is not inside one RAM range`, {
        op,
      });
    const off = i * PAGE_SIZE + (phys % PAGE_SIZE);
    return this.ram.subarray(off, off + length);
  }
}

/** `0x…` for a number. */
export function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}
