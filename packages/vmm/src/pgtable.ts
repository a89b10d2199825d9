// x86-64 page tables stored in simulated RAM: arch/x86/include/asm/pgtable_types.h (_PAGE_* bits, PAGE_* protections),
// arch/x86/include/asm/pgtable_64_types.h (shifts), arch/x86/mm/pgprot.c (protection_map), mm/memory.c
// (__pte_alloc & co, free_pgtables). Entries are 64-bit little-endian words inside frames of a PhysicalMemory, read
// as two 32-bit halves so that no BigInt is made on the hot path; virtual addresses are split the same way.

import { type Addr, KernelError, type PagingLevels } from "@kbridge/uapi";
import { __GFP_ZERO, GFP_KERNEL, hex, type PhysicalMemory } from "./page-alloc.js";

/** `_PAGE_BIT_PRESENT` (0). */
export const _PAGE_BIT_PRESENT = 0;
/** `_PAGE_BIT_RW` (1). */
export const _PAGE_BIT_RW = 1;
/** `_PAGE_BIT_USER` (2). */
export const _PAGE_BIT_USER = 2;
/** `_PAGE_BIT_PWT` (3). */
export const _PAGE_BIT_PWT = 3;
/** `_PAGE_BIT_PCD` (4). */
export const _PAGE_BIT_PCD = 4;
/** `_PAGE_BIT_ACCESSED` (5). */
export const _PAGE_BIT_ACCESSED = 5;
/** `_PAGE_BIT_DIRTY` (6). */
export const _PAGE_BIT_DIRTY = 6;
/** `_PAGE_BIT_PSE` (7): a huge page in a PMD (2 MiB) or PUD (1 GiB) entry; `_PAGE_BIT_PAT` in a 4 KiB PTE. */
export const _PAGE_BIT_PSE = 7;
/** `_PAGE_BIT_GLOBAL` (8); `_PAGE_BIT_PROTNONE` in a non-present entry. */
export const _PAGE_BIT_GLOBAL = 8;
/** `_PAGE_BIT_SPECIAL` (9, SOFTW1): the shared zero page and PFN maps. */
export const _PAGE_BIT_SPECIAL = 9;
/** `_PAGE_BIT_NX` (63). */
export const _PAGE_BIT_NX = 63;

/** `_PAGE_PRESENT`. */
export const _PAGE_PRESENT = 1n << 0n;
/** `_PAGE_RW`. */
export const _PAGE_RW = 1n << 1n;
/** `_PAGE_USER`. */
export const _PAGE_USER = 1n << 2n;
/** `_PAGE_PWT`. */
export const _PAGE_PWT = 1n << 3n;
/** `_PAGE_PCD`. */
export const _PAGE_PCD = 1n << 4n;
/** `_PAGE_ACCESSED`. */
export const _PAGE_ACCESSED = 1n << 5n;
/** `_PAGE_DIRTY`. */
export const _PAGE_DIRTY = 1n << 6n;
/** `_PAGE_PSE` (huge page, in PMD and PUD entries). */
export const _PAGE_PSE = 1n << 7n;
/** `_PAGE_PAT` (in 4 KiB PTEs; same bit as PSE). */
export const _PAGE_PAT = 1n << 7n;
/** `_PAGE_GLOBAL`. */
export const _PAGE_GLOBAL = 1n << 8n;
/** `_PAGE_PROTNONE` (= the G bit, in an entry whose P bit is clear: a PROT_NONE page the kernel still tracks). */
export const _PAGE_PROTNONE = 1n << 8n;
/** `_PAGE_SPECIAL`. */
export const _PAGE_SPECIAL = 1n << 9n;
/** `_PAGE_PAT_LARGE` (bit 12 of a 2 MiB / 1 GiB entry). */
export const _PAGE_PAT_LARGE = 1n << 12n;
/** `_PAGE_NX` (bit 63, execute disable). */
export const _PAGE_NX = 1n << 63n;
/** `PTE_PFN_MASK`: bits 12..51, the frame address. */
export const PTE_PFN_MASK = 0x000f_ffff_ffff_f000n;

/** `_PAGE_TABLE` (P|RW|USER|A|D = 0x67): how Linux fills the upper levels of user page tables. */
export const _PAGE_TABLE = 0x67n;
/** `_KERNPG_TABLE` (P|RW|A|D = 0x63): the upper levels of kernel page tables. */
export const _KERNPG_TABLE = 0x63n;

/** `PAGE_NONE` (A|PROTNONE, not present). */
export const PAGE_NONE = _PAGE_ACCESSED | _PAGE_PROTNONE;
/** `PAGE_SHARED` (P|RW|US|A|NX). */
export const PAGE_SHARED = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
/** `PAGE_SHARED_EXEC` (P|RW|US|A). */
export const PAGE_SHARED_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
/** `PAGE_COPY` (P|US|A|NX): a writable private mapping starts read-only, so that the first write copies. */
export const PAGE_COPY = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
/** `PAGE_COPY_EXEC` (P|US|A). */
export const PAGE_COPY_EXEC = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
/** `PAGE_READONLY` (P|US|A|NX). */
export const PAGE_READONLY = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
/** `PAGE_READONLY_EXEC` (P|US|A). */
export const PAGE_READONLY_EXEC = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
/** `__PAGE_KERNEL` (P|RW|A|NX|D|G). */
export const PAGE_KERNEL = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_NX | _PAGE_DIRTY | _PAGE_GLOBAL;

/** `VM_READ`. */
export const VM_READ = 0x1;
/** `VM_WRITE`. */
export const VM_WRITE = 0x2;
/** `VM_EXEC`. */
export const VM_EXEC = 0x4;
/** `VM_SHARED`. */
export const VM_SHARED = 0x8;
/** `VM_MAYREAD`. */
export const VM_MAYREAD = 0x10;
/** `VM_MAYWRITE`. */
export const VM_MAYWRITE = 0x20;
/** `VM_MAYEXEC`. */
export const VM_MAYEXEC = 0x40;
/** `VM_MAYSHARE`. */
export const VM_MAYSHARE = 0x80;
/** `VM_GROWSDOWN`. */
export const VM_GROWSDOWN = 0x100;
/** `VM_PFNMAP`: raw frame numbers, no `struct page` refcounting (remap_pfn_range). */
export const VM_PFNMAP = 0x400;
/** `VM_LOCKED`. */
export const VM_LOCKED = 0x2000;
/** `VM_IO`: memory-mapped I/O; get_user_pages and ptrace stay away. */
export const VM_IO = 0x4000;
/** `VM_DONTCOPY`: not copied on fork. */
export const VM_DONTCOPY = 0x20000;
/** `VM_DONTEXPAND`: mremap may not grow it. */
export const VM_DONTEXPAND = 0x40000;
/** `VM_ACCOUNT`. */
export const VM_ACCOUNT = 0x100000;
/** `VM_NORESERVE`. */
export const VM_NORESERVE = 0x200000;
/** `VM_HUGETLB`: a hugetlbfs mapping. */
export const VM_HUGETLB = 0x400000;
/** `VM_DONTDUMP`: left out of core dumps. */
export const VM_DONTDUMP = 0x4000000;

// arch/x86/mm/pgprot.c protection_map, indexed by VM_READ|VM_WRITE|VM_EXEC|VM_SHARED.
const PROTECTION_MAP: readonly bigint[] = [
  PAGE_NONE,
  PAGE_READONLY,
  PAGE_COPY,
  PAGE_COPY,
  PAGE_READONLY_EXEC,
  PAGE_READONLY_EXEC,
  PAGE_COPY_EXEC,
  PAGE_COPY_EXEC,
  PAGE_NONE,
  PAGE_READONLY,
  PAGE_SHARED,
  PAGE_SHARED,
  PAGE_READONLY_EXEC,
  PAGE_READONLY_EXEC,
  PAGE_SHARED_EXEC,
  PAGE_SHARED_EXEC,
];

/**
 * `vm_get_page_prot(vm_flags)`: the PTE protection bits of a VMA (arch/x86/mm/pgprot.c, protection_map). A
 * writable private VMA gets `PAGE_COPY` (read-only): its first write faults and copies.
 */
export function vm_get_page_prot(vmFlags: number): bigint {
  if (!Number.isInteger(vmFlags) || vmFlags < 0)
    throw new KernelError("EINVAL", `vm_flags ${String(vmFlags)} is not a flag word`, {
      op: "vm_get_page_prot",
    });
  return PROTECTION_MAP[vmFlags & (VM_READ | VM_WRITE | VM_EXEC | VM_SHARED)]!;
}

/** `PAGE_SHIFT`, `PMD_SHIFT`, `PUD_SHIFT`, `P4D_SHIFT` and `PGDIR_SHIFT` (39 with 4 levels, 48 with 5). */
export const PMD_SHIFT = 21;
/** `PUD_SHIFT` (30). */
export const PUD_SHIFT = 30;
/** `P4D_SHIFT` (39). */
export const P4D_SHIFT = 39;
/** `PTRS_PER_PTE` and every other level: 512 entries of 8 bytes. */
export const PTRS_PER_PTE = 512;

/** The name of a paging level, from the root down (`p4d` exists only with 5-level paging). */
export type PgLevel = "pgd" | "p4d" | "pud" | "pmd" | "pte";

/** One step of a page-table walk. */
export interface WalkStep {
  /** The level of the table read. */
  readonly level: PgLevel;
  /** The index into that table (0..511). */
  readonly index: number;
  /** The physical address of the table. */
  readonly table: number;
  /** The physical address of the entry (`table + index * 8`). */
  readonly entryAddr: number;
  /** The entry's 64 bits. */
  readonly entry: bigint;
}

/** The result of {@link PageTable.walk}. */
export interface Walk {
  /** The entries read, root first; the walk stops at a non-present entry or at a leaf. */
  readonly steps: readonly WalkStep[];
  /** The physical address the walk resolves to, or undefined when an entry on the way is not present. */
  readonly phys: number | undefined;
  /** The size of the page mapped by the leaf (4096, 2 MiB or 1 GiB), when present. */
  readonly pageSize: number | undefined;
}

const TWO32 = 2 ** 32;

/**
 * Splits a virtual address into its high and low 32 bits, checking that it is a canonical x86-64 address:
 * for numbers a safe integer (user addresses), for bigints any unsigned 64-bit value.
 * @internal
 */
export function splitVa(op: string, va: Addr, levels: PagingLevels): [hi: number, lo: number] {
  let hi: number;
  let lo: number;
  if (typeof va === "number") {
    if (!Number.isSafeInteger(va) || va < 0)
      throw new KernelError("EINVAL", `address ${String(va)} is not an unsigned integer`, { op });
    hi = Math.floor(va / TWO32);
    lo = va >>> 0;
  } else if (typeof va === "bigint") {
    if (va < 0n || va >= 1n << 64n)
      throw new KernelError("EINVAL", `address ${String(va)} is not an unsigned 64-bit value`, { op });
    hi = Number(va >> 32n);
    lo = Number(va & 0xffffffffn);
  } else throw new KernelError("EINVAL", `address ${String(va)} is not a number or bigint`, { op });
  if (!isCanonical(hi, levels))
    throw new KernelError(
      "EINVAL",
      `address ${hex(BigInt(hi) * BigInt(TWO32) + BigInt(lo))} is not canonical with ${levels}-level paging`,
      { op },
    );
  return [hi, lo];
}

/** True when the high 32 bits make a canonical address: bits 63..47 (4-level) or 63..56 (5-level) all equal. @internal */
export function isCanonical(hi: number, levels: PagingLevels): boolean {
  const top = levels === 4 ? hi >>> 15 : hi >>> 24; // bits 63..47 or 63..56
  return top === 0 || top === (levels === 4 ? 0x1ffff : 0xff);
}

/** The index into each level's table for a split address. @internal */
function levelIndex(level: number, hi: number, lo: number): number {
  switch (level) {
    case 0: // pte
      return (lo >>> 12) & 511;
    case 1: // pmd
      return (lo >>> 21) & 511;
    case 2: // pud
      return ((lo >>> 30) | (hi << 2)) & 511;
    case 3: // p4d (the pgd of 4-level paging)
      return (hi >>> 7) & 511;
    default: // pgd of 5-level paging
      return (hi >>> 16) & 511;
  }
}

const LEVEL_NAMES: readonly PgLevel[] = ["pte", "pmd", "pud", "p4d", "pgd"];

/**
 * The table indexes of a virtual address, root first: `{ pgd, p4d?, pud, pmd, pte, offset }` (`pgd_index()`,
 * `p4d_index()`, `pud_index()`, `pmd_index()`, `pte_index()`); `p4d` only with 5-level paging.
 * @throws {@link @kbridge/uapi!KernelError} EINVAL for a non-canonical address
 */
export function pgtableIndexes(
  va: Addr,
  levels: PagingLevels = 4,
): { pgd: number; p4d?: number; pud: number; pmd: number; pte: number; offset: number } {
  if (levels !== 4 && levels !== 5)
    throw new KernelError("EINVAL", `paging levels ${String(levels)} is not 4 or 5`, {
      op: "pgtableIndexes",
    });
  const [hi, lo] = splitVa("pgtableIndexes", va, levels);
  const out = {
    pgd: levelIndex(levels === 5 ? 4 : 3, hi, lo),
    pud: levelIndex(2, hi, lo),
    pmd: levelIndex(1, hi, lo),
    pte: levelIndex(0, hi, lo),
    offset: lo & 4095,
  };
  return levels === 5 ? { ...out, p4d: levelIndex(3, hi, lo) } : out;
}

/**
 * The frame number in an entry (`pte_pfn()`): bits 12..51. A non-zero entry without the P bit (PROT_NONE, swap)
 * holds the frame number inverted, the L1TF mitigation of arch/x86/include/asm/pgtable-invert.h
 * (`protnone_mask`), and is inverted back here.
 */
export function pte_pfn(entry: bigint): number {
  const v = entry !== 0n && (entry & _PAGE_PRESENT) === 0n ? ~entry : entry;
  return Number((v & PTE_PFN_MASK) >> 12n);
}

/**
 * `pfn_pte(pfn, prot)`: an entry mapping frame `pfn` with protection bits `prot`; with a protection that is not
 * present (PAGE_NONE) the frame bits are stored inverted, as the kernel does (pgtable-invert.h).
 */
export function pfn_pte(pfn: number, prot: bigint): bigint {
  if (!Number.isSafeInteger(pfn) || pfn < 0 || pfn >= 2 ** 40)
    throw new KernelError("EINVAL", `pfn ${String(pfn)} does not fit bits 12..51`, { op: "pfn_pte" });
  let bits = BigInt(pfn) << 12n;
  if (prot !== 0n && (prot & _PAGE_PRESENT) === 0n) bits = ~bits;
  return (bits & PTE_PFN_MASK) | (prot & ~PTE_PFN_MASK);
}

/**
 * The frame of an entry given as 32-bit halves, with the PROT_NONE inversion undone (pte_pfn on the hot path).
 * @internal
 */
export function pteWordsPfn(lo: number, hi: number): number {
  if ((lo & 1) === 0 && (lo !== 0 || hi !== 0)) return (~hi & 0xfffff) * 0x100000 + (~lo >>> 12);
  return (hi & 0xfffff) * 0x100000 + (lo >>> 12);
}

/** Splits a 64-bit entry into its 32-bit halves. @internal */
export function entryHalves(entry: bigint): [lo: number, hi: number] {
  return [Number(entry & 0xffffffffn), Number((entry >> 32n) & 0xffffffffn)];
}

/**
 * A page-table tree rooted at one frame: `pgd_alloc()`, the allocation of intermediate tables on demand
 * (`__p4d_alloc`, `__pud_alloc`, `__pmd_alloc`, `__pte_alloc`, filled with `_PAGE_TABLE`), leaf updates, a walk that
 * reports every entry read, and `free_pgtables()`. The tables live in the frames of a {@link PhysicalMemory}, so
 * `hexdump(root)` shows the same bytes the kernel's tables would hold.
 */
export class PageTable {
  /** The RAM the tables live in. */
  readonly phys: PhysicalMemory;
  /** The root table's frame (what CR3 holds). */
  readonly root: number;
  /** 4 or 5. */
  readonly levels: PagingLevels;
  /** Frames of tables below the root currently allocated. */
  #tables = 0;

  /**
   * @param phys - the RAM
   * @param levels - 4- or 5-level paging
   * @throws {@link @kbridge/uapi!KernelError} ENOMEM when no frame is free for the root
   */
  constructor(phys: PhysicalMemory, levels: PagingLevels = 4) {
    if (levels !== 4 && levels !== 5)
      throw new KernelError("EINVAL", `paging levels ${String(levels)} is not 4 or 5`, { op: "pgd_alloc" });
    this.phys = phys;
    this.levels = levels;
    this.root = phys.alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
  }

  /** Frames used by the tables, the root included. */
  get tableFrames(): number {
    return this.#tables + 1;
  }

  // The ram32 word index of entry `index` in the table at frame `pfn`.
  #word(pfn: number, index: number): number {
    const off = this.phys.pfnOffset(pfn);
    return off < 0 ? -1 : off / 4 + index * 2;
  }

  /**
   * The ram32 word index of the entry that maps `[hi, lo]` at `stopLevel` (0 = pte, 1 = pmd, 2 = pud), allocating
   * missing tables when `alloc` is true; -1 when a table is missing (and `alloc` is false) or a huge page sits above.
   * @internal
   */
  entryWord(hi: number, lo: number, stopLevel: number, alloc: boolean): number {
    const ram32 = this.phys.ram32;
    let table = this.root;
    for (let level = this.levels === 5 ? 4 : 3; level > stopLevel; level--) {
      const w = this.#word(table, levelIndex(level, hi, lo));
      if (w < 0) return -1; // an entry points outside RAM
      const e = ram32[w]!;
      if ((e & 1) === 0) {
        if (!alloc) return -1;
        if (e !== 0 || ram32[w + 1] !== 0) return -1; // a non-present entry with content (swap, PROTNONE): not a table
        const pfn = this.phys.alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
        this.#tables++;
        // pmd_populate() & co: the table's frame with _PAGE_TABLE.
        ram32[w] = ((pfn % 0x100000) * 4096 + 0x67) >>> 0;
        ram32[w + 1] = Math.floor(pfn / 0x100000);
        table = pfn;
        continue;
      }
      if (level <= 2 && (e & 0x80) !== 0) return -1; // a huge page maps this range
      table = (ram32[w + 1]! & 0xfffff) * 0x100000 + (e >>> 12);
    }
    return this.#word(table, levelIndex(stopLevel, hi, lo));
  }

  /**
   * Reads the entry mapping `va` at `level` ("pte" by default; "pmd"/"pud" for huge pages), or undefined when a
   * table on the way is missing.
   */
  get(va: Addr, level: "pte" | "pmd" | "pud" = "pte"): bigint | undefined {
    const [hi, lo] = splitVa("PageTable.get", va, this.levels);
    const w = this.entryWord(hi, lo, LEVEL_NAMES.indexOf(level), false);
    if (w < 0) return undefined;
    return (BigInt(this.phys.ram32[w + 1]!) << 32n) | BigInt(this.phys.ram32[w]!);
  }

  /**
   * Writes the entry mapping `va` at `level`, allocating the tables above it (`set_pte_at`, `set_pmd_at`,
   * `set_pud`). Like the kernel's helpers it flushes no TLB: the caller does (`flush_tlb_page`).
   * @throws {@link @kbridge/uapi!KernelError} EINVAL when a huge page already maps the range above `level`;
   * ENOMEM when a table cannot be allocated
   */
  set(va: Addr, entry: bigint, level: "pte" | "pmd" | "pud" = "pte"): void {
    const op = "PageTable.set";
    const [hi, lo] = splitVa(op, va, this.levels);
    if (typeof entry !== "bigint" || entry < 0n || entry >= 1n << 64n)
      throw new KernelError("EINVAL", `entry ${String(entry)} is not a 64-bit value`, { op });
    const w = this.entryWord(hi, lo, LEVEL_NAMES.indexOf(level), true);
    if (w < 0)
      throw new KernelError(
        "EINVAL",
        `a huge page or a non-table entry maps ${hex(BigInt(hi) * 2n ** 32n + BigInt(lo))} above the ${level}`,
        { op },
      );
    const [l, h] = entryHalves(entry);
    this.phys.ram32[w] = l;
    this.phys.ram32[w + 1] = h;
  }

  /**
   * The walk a CPU would do for `va`: every entry read, root first, and where it leads. It has no side effects
   * (no A/D bits, no TLB), like v86's `do_page_walk` without side effects.
   */
  walk(va: Addr): Walk {
    const [hi, lo] = splitVa("PageTable.walk", va, this.levels);
    const ram32 = this.phys.ram32;
    const steps: WalkStep[] = [];
    let table = this.root;
    const top = this.levels === 5 ? 4 : 3;
    for (let level = top; level >= 0; level--) {
      const index = levelIndex(level, hi, lo);
      const w = this.#word(table, index);
      if (w < 0) break;
      const e = (BigInt(ram32[w + 1]!) << 32n) | BigInt(ram32[w]!);
      steps.push({
        level: level === top ? "pgd" : LEVEL_NAMES[level]!,
        index,
        table: table * 4096,
        entryAddr: table * 4096 + index * 8,
        entry: e,
      });
      if ((e & 1n) === 0n) return { steps, phys: undefined, pageSize: undefined };
      const next = pte_pfn(e);
      if (level === 0 || (level <= 2 && (e & _PAGE_PSE) !== 0n)) {
        const size = level === 0 ? 4096 : level === 1 ? 2 ** 21 : 2 ** 30;
        const base = level === 0 ? next * 4096 : Number(e & PTE_PFN_MASK & ~BigInt(size - 1));
        const off = level === 0 ? lo & 4095 : level === 1 ? lo & (2 ** 21 - 1) : lo & (2 ** 30 - 1);
        return { steps, phys: base + off, pageSize: size };
      }
      table = next;
    }
    return { steps, phys: undefined, pageSize: undefined };
  }

  /**
   * `free_pgd_range(floor, ceiling)`: frees every table below the root whose whole span lies inside
   * `[floor, ceiling)` and that maps nothing any more (what munmap does after zapping the PTEs).
   */
  free_pgd_range(floor: number, ceiling: number): void {
    const ram32 = this.phys.ram32;
    const top = this.levels === 5 ? 4 : 3;
    const span = (level: number) => 2 ** (12 + 9 * level); // what one entry of a table at `level` maps
    // Returns true when the table at `pfn` holds no entry after the visit.
    const visit = (pfn: number, level: number, base: number): boolean => {
      const w0 = this.phys.pfnOffset(pfn) / 4;
      let empty = true;
      for (let i = 0; i < 512; i++) {
        const lo = ram32[w0 + i * 2]!;
        const hi = ram32[w0 + i * 2 + 1]!;
        if (lo === 0 && hi === 0) continue;
        const from = base + i * span(level);
        const to = from + span(level);
        const table = level > 0 && (lo & 1) !== 0 && !(level <= 2 && (lo & 0x80) !== 0);
        if (table && to > floor && from < ceiling) {
          const child = (hi & 0xfffff) * 0x100000 + (lo >>> 12);
          if (visit(child, level - 1, from) && from >= floor && to <= ceiling) {
            this.phys.__free_pages(child, 0);
            this.#tables--;
            ram32[w0 + i * 2] = 0;
            ram32[w0 + i * 2 + 1] = 0;
            continue;
          }
        }
        empty = false;
      }
      return empty;
    };
    visit(this.root, top, 0);
  }

  /**
   * `free_pgtables()` for the whole tree below the root, and the root with it (`pgd_free`) when `root` is true.
   * Leaf frames are not touched: unmap them first.
   */
  free(root = true): void {
    const ram32 = this.phys.ram32;
    const freeLevel = (pfn: number, level: number): void => {
      const base = this.phys.pfnOffset(pfn) / 4;
      for (let i = 0; i < 512; i++) {
        const e = ram32[base + i * 2]!;
        if ((e & 1) === 0 || level === 0 || (level <= 2 && (e & 0x80) !== 0)) continue;
        const child = (ram32[base + i * 2 + 1]! & 0xfffff) * 0x100000 + (e >>> 12);
        if (level > 1) freeLevel(child, level - 1);
        this.phys.__free_pages(child, 0);
        this.#tables--;
        ram32[base + i * 2] = 0;
        ram32[base + i * 2 + 1] = 0;
      }
    };
    freeLevel(this.root, this.levels === 5 ? 4 : 3);
    if (root) this.phys.__free_pages(this.root, 0);
  }

  /**
   * The table frame holding `va`'s entry at `level`, as 512 64-bit entries (for hexdumps), or undefined when a
   * table on the way is missing.
   */
  tableBytes(va: Addr, level: PgLevel): Uint8Array | undefined {
    const [hi, lo] = splitVa("PageTable.tableBytes", va, this.levels);
    const li = LEVEL_NAMES.indexOf(level);
    if (li === 3 && this.levels === 4) return undefined;
    const top = this.levels === 5 ? 4 : 3;
    if (li === top || (level === "pgd" && top === 3)) return this.phys.view(this.root * 4096, 4096);
    const w = this.entryWord(hi, lo, li, false);
    if (w < 0) return undefined;
    const start = (w * 4) & ~4095;
    return this.phys.ram.subarray(start, start + 4096);
  }
}
