// Page tables against the kernel's definitions: arch/x86/include/asm/pgtable_types.h (_PAGE_* bits, PAGE_*
// protections, _PAGE_TABLE), arch/x86/include/asm/pgtable_64_types.h (shifts, 512 entries), arch/x86/mm/pgprot.c
// (protection_map), include/linux/mm.h (VM_* flags), and the spec §2.1-2.2 (address decomposition, canonical form).
// The tables live in RAM: every entry is checked in the bytes of its frame (64-bit little-endian at index * 8).
import { describe, expect, it } from "vitest";
import {
  __GFP_ZERO,
  _KERNPG_TABLE,
  _PAGE_ACCESSED,
  _PAGE_BIT_ACCESSED,
  _PAGE_BIT_DIRTY,
  _PAGE_BIT_GLOBAL,
  _PAGE_BIT_NX,
  _PAGE_BIT_PCD,
  _PAGE_BIT_PRESENT,
  _PAGE_BIT_PSE,
  _PAGE_BIT_PWT,
  _PAGE_BIT_RW,
  _PAGE_BIT_SPECIAL,
  _PAGE_BIT_USER,
  _PAGE_DIRTY,
  _PAGE_GLOBAL,
  _PAGE_NX,
  _PAGE_PAT,
  _PAGE_PAT_LARGE,
  _PAGE_PCD,
  _PAGE_PRESENT,
  _PAGE_PROTNONE,
  _PAGE_PSE,
  _PAGE_PWT,
  _PAGE_RW,
  _PAGE_SPECIAL,
  _PAGE_TABLE,
  _PAGE_USER,
  GFP_KERNEL,
  P4D_SHIFT,
  PAGE_COPY,
  PAGE_COPY_EXEC,
  PAGE_KERNEL,
  PAGE_NONE,
  PAGE_READONLY,
  PAGE_READONLY_EXEC,
  PAGE_SHARED,
  PAGE_SHARED_EXEC,
  PageTable,
  type PgLevel,
  PhysicalMemory,
  PMD_SHIFT,
  PTE_PFN_MASK,
  PTRS_PER_PTE,
  PUD_SHIFT,
  pfn_pte,
  pgtableIndexes,
  pte_pfn,
  VM_ACCOUNT,
  VM_DONTCOPY,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_IO,
  VM_LOCKED,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  vm_get_page_prot,
} from "../src/index.js";
import { kerr } from "./kerr.js";

const MiB = 1024 * 1024;

/** Entry `index` of a table frame's bytes (64-bit little-endian). */
function entryAt(bytes: Uint8Array, index: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(index * 8, true);
}

/** The indexes of the non-zero entries of a table frame. */
function usedIndexes(bytes: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < 512; i++) if (entryAt(bytes, i) !== 0n) out.push(i);
  return out;
}

describe("constants (pgtable_types.h, pgtable_64_types.h, mm.h)", () => {
  it("_PAGE_BIT_* and _PAGE_* have the kernel's values", () => {
    expect([
      _PAGE_BIT_PRESENT,
      _PAGE_BIT_RW,
      _PAGE_BIT_USER,
      _PAGE_BIT_PWT,
      _PAGE_BIT_PCD,
      _PAGE_BIT_ACCESSED,
      _PAGE_BIT_DIRTY,
      _PAGE_BIT_PSE,
      _PAGE_BIT_GLOBAL,
      _PAGE_BIT_SPECIAL,
      _PAGE_BIT_NX,
    ]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 63]);
    expect(_PAGE_PRESENT).toBe(0x1n);
    expect(_PAGE_RW).toBe(0x2n);
    expect(_PAGE_USER).toBe(0x4n);
    expect(_PAGE_PWT).toBe(0x8n);
    expect(_PAGE_PCD).toBe(0x10n);
    expect(_PAGE_ACCESSED).toBe(0x20n);
    expect(_PAGE_DIRTY).toBe(0x40n);
    expect(_PAGE_PSE).toBe(0x80n);
    expect(_PAGE_PAT).toBe(0x80n);
    expect(_PAGE_GLOBAL).toBe(0x100n);
    expect(_PAGE_PROTNONE).toBe(0x100n);
    expect(_PAGE_SPECIAL).toBe(0x200n);
    expect(_PAGE_PAT_LARGE).toBe(0x1000n);
    expect(_PAGE_NX).toBe(0x8000_0000_0000_0000n);
    expect(PTE_PFN_MASK).toBe(0x000f_ffff_ffff_f000n);
  });

  it("_PAGE_TABLE is 0x67, _KERNPG_TABLE 0x63, and the PAGE_* protections", () => {
    expect(_PAGE_TABLE).toBe(0x67n);
    expect(_PAGE_TABLE).toBe(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY);
    expect(_KERNPG_TABLE).toBe(0x63n);
    expect(PAGE_NONE).toBe(0x120n); // ___A | ___G: not present, PROTNONE
    expect(PAGE_SHARED).toBe(0x8000_0000_0000_0027n);
    expect(PAGE_SHARED_EXEC).toBe(0x27n);
    expect(PAGE_COPY).toBe(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX);
    expect(PAGE_COPY).toBe(0x8000_0000_0000_0025n);
    expect(PAGE_COPY_EXEC).toBe(0x25n);
    expect(PAGE_READONLY).toBe(0x8000_0000_0000_0025n);
    expect(PAGE_READONLY_EXEC).toBe(0x25n);
    expect(PAGE_KERNEL).toBe(0x8000_0000_0000_0163n); // __PAGE_KERNEL: P|RW|A|D|G|NX
  });

  it("shifts and VM_* flags", () => {
    expect([PMD_SHIFT, PUD_SHIFT, P4D_SHIFT, PTRS_PER_PTE]).toEqual([21, 30, 39, 512]);
    expect({
      VM_READ,
      VM_WRITE,
      VM_EXEC,
      VM_SHARED,
      VM_MAYREAD,
      VM_MAYWRITE,
      VM_MAYEXEC,
      VM_MAYSHARE,
      VM_GROWSDOWN,
      VM_PFNMAP,
      VM_LOCKED,
      VM_IO,
      VM_DONTCOPY,
      VM_DONTEXPAND,
      VM_ACCOUNT,
      VM_NORESERVE,
      VM_DONTDUMP,
    }).toEqual({
      VM_READ: 0x1,
      VM_WRITE: 0x2,
      VM_EXEC: 0x4,
      VM_SHARED: 0x8,
      VM_MAYREAD: 0x10,
      VM_MAYWRITE: 0x20,
      VM_MAYEXEC: 0x40,
      VM_MAYSHARE: 0x80,
      VM_GROWSDOWN: 0x100,
      VM_PFNMAP: 0x400,
      VM_LOCKED: 0x2000,
      VM_IO: 0x4000,
      VM_DONTCOPY: 0x20000,
      VM_DONTEXPAND: 0x40000,
      VM_ACCOUNT: 0x100000,
      VM_NORESERVE: 0x200000,
      VM_DONTDUMP: 0x4000000,
    });
  });
});

describe("vm_get_page_prot (arch/x86/mm/pgprot.c protection_map)", () => {
  // Indexed by VM_SHARED|VM_EXEC|VM_WRITE|VM_READ, written out as the kernel's table is.
  const NX = 0x8000_0000_0000_0000n;
  const expected: readonly bigint[] = [
    0x120n, // VM_NONE                          PAGE_NONE
    0x25n | NX, // VM_READ                      PAGE_READONLY
    0x25n | NX, // VM_WRITE                     PAGE_COPY
    0x25n | NX, // VM_WRITE|VM_READ             PAGE_COPY
    0x25n, // VM_EXEC                           PAGE_READONLY_EXEC
    0x25n, // VM_EXEC|VM_READ                   PAGE_READONLY_EXEC
    0x25n, // VM_EXEC|VM_WRITE                  PAGE_COPY_EXEC
    0x25n, // VM_EXEC|VM_WRITE|VM_READ          PAGE_COPY_EXEC
    0x120n, // VM_SHARED                        PAGE_NONE
    0x25n | NX, // VM_SHARED|VM_READ            PAGE_READONLY
    0x27n | NX, // VM_SHARED|VM_WRITE           PAGE_SHARED
    0x27n | NX, // VM_SHARED|VM_WRITE|VM_READ   PAGE_SHARED
    0x25n, // VM_SHARED|VM_EXEC                 PAGE_READONLY_EXEC
    0x25n, // VM_SHARED|VM_EXEC|VM_READ         PAGE_READONLY_EXEC
    0x27n, // VM_SHARED|VM_EXEC|VM_WRITE        PAGE_SHARED_EXEC
    0x27n, // VM_SHARED|VM_EXEC|VM_WRITE|VM_READ PAGE_SHARED_EXEC
  ];

  it("gives the kernel's protection for all 16 combinations", () => {
    for (let f = 0; f < 16; f++) expect(vm_get_page_prot(f), `vm_flags ${f}`).toBe(expected[f]);
    // Named as the kernel names them.
    expect(vm_get_page_prot(VM_READ | VM_WRITE)).toBe(PAGE_COPY);
    expect(vm_get_page_prot(VM_SHARED | VM_READ | VM_WRITE)).toBe(PAGE_SHARED);
    expect(vm_get_page_prot(VM_SHARED | VM_READ | VM_WRITE | VM_EXEC)).toBe(PAGE_SHARED_EXEC);
  });

  it("ignores every other flag, and rejects a non-flag word", () => {
    const others = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_MAYSHARE | VM_ACCOUNT | VM_LOCKED | VM_DONTDUMP;
    for (let f = 0; f < 16; f++) expect(vm_get_page_prot(f | others)).toBe(expected[f]);
    kerr(() => vm_get_page_prot(-1), "EINVAL");
    kerr(() => vm_get_page_prot(1.5), "EINVAL");
  });
});

describe("pgtableIndexes (pgd_index .. pte_index)", () => {
  it("4 levels: boundary addresses", () => {
    const cases: [number | bigint, [number, number, number, number, number]][] = [
      [0, [0, 0, 0, 0, 0]],
      [0x1000, [0, 0, 0, 1, 0]],
      [0xfff, [0, 0, 0, 0, 4095]],
      [0x1fffff, [0, 0, 0, 511, 4095]],
      [0x200000, [0, 0, 1, 0, 0]],
      [0x3fffffff, [0, 0, 511, 511, 4095]],
      [0x40000000, [0, 1, 0, 0, 0]],
      [0xffffffff, [0, 3, 511, 511, 4095]],
      [0x100000000, [0, 4, 0, 0, 0]],
      [0x7fffffffff, [0, 511, 511, 511, 4095]],
      [0x8000000000, [1, 0, 0, 0, 0]],
      [0x7f1234567abc, [254, 72, 418, 359, 0xabc]],
      [0x7ffffffff000, [255, 511, 511, 511, 0]],
      [0x7fffffffffff, [255, 511, 511, 511, 4095]],
      [0x7ffffffff000n, [255, 511, 511, 511, 0]],
      [0xffff800000000000n, [256, 0, 0, 0, 0]],
      [0xffffffff81000000n, [511, 510, 8, 0, 0]], // __START_KERNEL_map + 16 MiB
      [0xffffffffffffffffn, [511, 511, 511, 511, 4095]],
    ];
    for (const [va, [pgd, pud, pmd, pte, offset]] of cases) {
      const idx = pgtableIndexes(va);
      expect(idx, `va ${va.toString(16)}`).toEqual({ pgd, pud, pmd, pte, offset });
      expect("p4d" in idx).toBe(false);
    }
  });

  it("5 levels: the pgd indexes bits 56..48 and p4d bits 47..39", () => {
    const cases: [number | bigint, [number, number, number, number, number, number]][] = [
      [0, [0, 0, 0, 0, 0, 0]],
      [0x7ffffffff000, [0, 255, 511, 511, 511, 0]],
      [0x800000000000, [0, 256, 0, 0, 0, 0]], // non-canonical with 4 levels, fine with 5
      [0x1000000000000, [1, 0, 0, 0, 0, 0]],
      [0x00ff_ffff_ffff_f000n, [255, 511, 511, 511, 511, 0]], // the last user page of 5-level paging
      [0x00ff_ffff_ffff_ffffn, [255, 511, 511, 511, 511, 4095]],
      [0xff00000000000000n, [256, 0, 0, 0, 0, 0]], // the first kernel address
      [0xff11000000000000n, [273, 0, 0, 0, 0, 0]], // __PAGE_OFFSET_BASE_L5
      [0xffff800000000000n, [511, 256, 0, 0, 0, 0]],
      [0xffffffffffffffffn, [511, 511, 511, 511, 511, 4095]],
    ];
    for (const [va, [pgd, p4d, pud, pmd, pte, offset]] of cases)
      expect(pgtableIndexes(va, 5), `va ${va.toString(16)}`).toEqual({ pgd, p4d, pud, pmd, pte, offset });
  });

  it("rejects non-canonical addresses and non-addresses with EINVAL", () => {
    for (const va of [
      0x800000000000,
      0x8000_0000_0000n,
      0xffff_7fff_ffff_f000n,
      0x0001_0000_0000_0000n,
      2n ** 63n,
    ])
      kerr(() => pgtableIndexes(va), "EINVAL");
    for (const va of [
      0x0100_0000_0000_0000n,
      0xfeff_ffff_ffff_f000n,
      0x8000_0000_0000_0000n,
      0x7fff_ffff_ffff_ffffn,
    ])
      kerr(() => pgtableIndexes(va, 5), "EINVAL");
    for (const va of [-1, 0.5, 2 ** 64, -1n, 2n ** 64n, Number.NaN])
      kerr(() => pgtableIndexes(va as number), "EINVAL");
    kerr(() => pgtableIndexes("0x1000" as unknown as number), "EINVAL");
    kerr(() => pgtableIndexes(0, 3 as 4), "EINVAL");
  });
});

describe("pfn_pte / pte_pfn", () => {
  it("place the frame at bits 12..51 and round-trip", () => {
    expect(pfn_pte(0x12345, PAGE_SHARED)).toBe(0x8000_0000_1234_5027n);
    expect(pfn_pte(0, PAGE_READONLY_EXEC)).toBe(0x25n);
    expect(pfn_pte(2 ** 40 - 1, PAGE_KERNEL)).toBe(0x800f_ffff_ffff_f163n);
    for (const pfn of [0, 1, 0x1ff, 0x12345, 2 ** 31, 2 ** 32 + 7, 2 ** 40 - 1])
      for (const prot of [PAGE_SHARED, PAGE_COPY, PAGE_KERNEL, PAGE_NONE, _PAGE_TABLE])
        expect(pte_pfn(pfn_pte(pfn, prot))).toBe(pfn);
    // Software bits 52..62 and NX are not part of the frame.
    expect(pte_pfn(0xfff0_0000_0000_1067n)).toBe(1);
    expect(pte_pfn(0x000f_ffff_ffff_f001n)).toBe(2 ** 40 - 1);
  });

  it("store the frame inverted in a non-present entry, as the L1TF mitigation does (pgtable-invert.h)", () => {
    // PAGE_NONE = A|PROTNONE: no P bit, so pfn_pte() xors the frame bits with protnone_mask() = ~0.
    expect(pfn_pte(0x12345, PAGE_NONE)).toBe(0x000f_ffff_edcb_a120n);
    expect(pte_pfn(0x000f_ffff_edcb_a120n)).toBe(0x12345);
    // A non-zero entry without P reads back inverted; an all-zero entry is pte_none and stays 0.
    expect(pte_pfn(0x000f_ffff_ffff_f000n)).toBe(0);
    expect(pte_pfn(0n)).toBe(0);
  });

  it("rejects a frame that does not fit 40 bits", () => {
    kerr(() => pfn_pte(2 ** 40, PAGE_SHARED), "EINVAL");
    kerr(() => pfn_pte(-1, PAGE_SHARED), "EINVAL");
    kerr(() => pfn_pte(1.5, PAGE_SHARED), "EINVAL");
  });
});

describe("PageTable in RAM", () => {
  it("set() allocates zeroed tables linked with _PAGE_TABLE; walk() shows each level's entry", () => {
    const m = new PhysicalMemory({ size: 8 * MiB });
    m.ram.fill(0xee); // stale bytes everywhere: the tables must come zeroed (__GFP_ZERO)
    const pt = new PageTable(m);
    expect(pt.levels).toBe(4);
    expect(pt.tableFrames).toBe(1);
    expect(m.page_ref_count(pt.root)).toBe(1);
    expect(usedIndexes(pt.tableBytes(0, "pgd")!)).toEqual([]);
    const used0 = m.stats().usedFrames;

    const va = 0x7f1234567abc; // pgd 254, pud 72, pmd 418, pte 359, offset 0xabc
    const data = m.alloc_page(GFP_KERNEL);
    const leaf = pfn_pte(data, PAGE_SHARED);
    expect(pt.get(va)).toBeUndefined();
    pt.set(va, leaf);
    expect(pt.tableFrames).toBe(4); // root + pud + pmd + pte tables
    expect(m.stats().usedFrames).toBe(used0 + 1 + 3);
    expect(pt.get(va)).toBe(leaf);
    expect(pt.get(va - 0xabc)).toBe(leaf);
    expect(pt.get(va + 0x1000)).toBe(0n); // same PTE table, empty slot

    const w = pt.walk(va);
    expect(w.steps.map((s) => [s.level, s.index])).toEqual([
      ["pgd", 254],
      ["pud", 72],
      ["pmd", 418],
      ["pte", 359],
    ]);
    expect(w.phys).toBe(data * 4096 + 0xabc);
    expect(w.pageSize).toBe(4096);
    expect(w.steps[0]!.table).toBe(pt.root * 4096);
    const levels: PgLevel[] = ["pgd", "pud", "pmd", "pte"];
    const tables = new Set<number>([pt.root]);
    for (let i = 0; i < 4; i++) {
      const s = w.steps[i]!;
      expect(s.entryAddr).toBe(s.table + s.index * 8);
      // The bytes of the frame hold the entry at index * 8, and nothing else.
      const bytes = pt.tableBytes(va, levels[i]!)!;
      expect(bytes.byteLength).toBe(4096);
      expect(entryAt(bytes, s.index)).toBe(s.entry);
      expect(usedIndexes(bytes)).toEqual([s.index]);
      expect(m.view(s.table, 4096)).toEqual(bytes);
      if (i < 3) {
        // An intermediate entry: the next table's pfn | _PAGE_TABLE (0x67), nothing more.
        const next = w.steps[i + 1]!.table / 4096;
        expect(s.entry).toBe((BigInt(next) << 12n) | 0x67n);
        expect(m.page_ref_count(next)).toBe(1);
        tables.add(next);
      } else expect(s.entry).toBe(leaf);
    }
    expect(tables.size).toBe(4);
    // The raw little-endian bytes of the last PTE: 27 .. (pfn << 12) .. 80.
    const pteBytes = pt.tableBytes(va, "pte")!.subarray(359 * 8, 360 * 8);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, leaf, true);
    expect([...pteBytes]).toEqual([...b]);
    expect(pteBytes[0]).toBe(0x27);
    expect(pteBytes[7]).toBe(0x80);
    // No P4D with 4 levels.
    expect(pt.tableBytes(va, "p4d")).toBeUndefined();
  });

  it("a second mapping shares the tables it can; a new 1 GiB slot adds a PMD and a PTE table", () => {
    const m = new PhysicalMemory({ size: 8 * MiB });
    const pt = new PageTable(m);
    pt.set(0x400000, pfn_pte(0x100, PAGE_COPY));
    expect(pt.tableFrames).toBe(4);
    pt.set(0x401000, pfn_pte(0x101, PAGE_COPY)); // same PTE table
    expect(pt.tableFrames).toBe(4);
    pt.set(0x600000, pfn_pte(0x102, PAGE_COPY)); // same PMD table, new PTE table
    expect(pt.tableFrames).toBe(5);
    pt.set(0x40000000, pfn_pte(0x103, PAGE_COPY)); // same PUD table, new PMD + PTE
    expect(pt.tableFrames).toBe(7);
    expect(usedIndexes(pt.tableBytes(0x400000, "pte")!)).toEqual([0, 1]);
    expect(usedIndexes(pt.tableBytes(0x400000, "pmd")!)).toEqual([2, 3]);
    expect(usedIndexes(pt.tableBytes(0x400000, "pud")!)).toEqual([0, 1]);
    expect(usedIndexes(pt.tableBytes(0x400000, "pgd")!)).toEqual([0]);
    expect(pt.walk(0x401234).phys).toBe(0x101234);
    expect(pt.walk(0x600010).phys).toBe(0x102010);
    expect(pt.walk(0x40000fff).phys).toBe(0x103fff);
    // A missing PTE table: the walk stops at the PMD's empty entry.
    const miss = pt.walk(0x800000);
    expect(miss.steps.map((s) => [s.level, s.entry])).toEqual([
      ["pgd", miss.steps[0]!.entry],
      ["pud", miss.steps[1]!.entry],
      ["pmd", 0n],
    ]);
    expect(miss.phys).toBeUndefined();
    expect(miss.pageSize).toBeUndefined();
    expect(pt.get(0x800000)).toBeUndefined();
    expect(pt.tableBytes(0x800000, "pte")).toBeUndefined();
  });

  it("a not-present leaf stops the walk with phys undefined; the kernel half uses pgd entries 256..511", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const pt = new PageTable(m);
    pt.set(0x1000, pfn_pte(0x42, PAGE_NONE));
    const w = pt.walk(0x1000);
    expect(w.steps).toHaveLength(4);
    expect(w.steps[3]!.entry).toBe(pfn_pte(0x42, PAGE_NONE));
    expect(w.phys).toBeUndefined();
    pt.set(0xffff888000000000n, pfn_pte(0x43, PAGE_KERNEL));
    expect(usedIndexes(pt.tableBytes(0, "pgd")!)).toEqual([0, 273]);
    expect(pt.walk(0xffff888000000123n).phys).toBe(0x43123);
    expect(pt.get(0xffff888000000000n)).toBe(0x8000_0000_0004_3163n);
  });

  it("2 MiB pages: set(va, entry, 'pmd') with PS; the walk ends at the PMD", () => {
    const m = new PhysicalMemory({ size: 8 * MiB });
    const pt = new PageTable(m);
    const va = 0x40000000 + 3 * 0x200000; // pud 1, pmd 3
    const entry = pfn_pte(0x200, PAGE_SHARED | _PAGE_PSE | _PAGE_DIRTY); // 2 MiB at 2 MiB
    pt.set(va, entry, "pmd");
    expect(pt.tableFrames).toBe(3); // root + pud + pmd: no PTE table
    expect(pt.get(va, "pmd")).toBe(entry);
    expect(entryAt(pt.tableBytes(va, "pmd")!, 3)).toBe(entry);
    const w = pt.walk(va + 0x1abcde);
    expect(w.steps.map((s) => s.level)).toEqual(["pgd", "pud", "pmd"]);
    expect(w.steps[2]!.entry).toBe(entry);
    expect(w.pageSize).toBe(2 * MiB);
    expect(w.phys).toBe(0x200000 + 0x1abcde);
    // There is no PTE under a huge PMD: get() at "pte" finds none, set() at "pte" is EINVAL.
    expect(pt.get(va + 0x1000)).toBeUndefined();
    expect(pt.tableBytes(va, "pte")).toBeUndefined();
    kerr(() => pt.set(va + 0x1000, pfn_pte(1, PAGE_SHARED)), "EINVAL");
    expect(pt.tableFrames).toBe(3);
    // Bit 12 of a huge entry is PAT, not part of the frame address.
    pt.set(va, entry | _PAGE_PAT_LARGE, "pmd");
    expect(pt.walk(va + 0x10).phys).toBe(0x200010);
  });

  it("1 GiB pages: set(va, entry, 'pud') with PS; the walk ends at the PUD", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const pt = new PageTable(m);
    const va = 0x7f80_0000_0000 + 2 * 2 ** 30; // pgd 255, pud 2
    const entry = pfn_pte(0x40000 * 3, PAGE_READONLY_EXEC | _PAGE_PSE); // the GiB at 3 GiB
    pt.set(va, entry, "pud");
    expect(pt.tableFrames).toBe(2);
    expect(pt.get(va, "pud")).toBe(entry);
    expect(pt.get(va, "pmd")).toBeUndefined();
    const w = pt.walk(va + 0x3fff_ffff);
    expect(w.steps.map((s) => [s.level, s.index])).toEqual([
      ["pgd", 255],
      ["pud", 2],
    ]);
    expect(w.pageSize).toBe(2 ** 30);
    expect(w.phys).toBe(3 * 2 ** 30 + 0x3fff_ffff);
    kerr(() => pt.set(va, pfn_pte(0x200, PAGE_SHARED | _PAGE_PSE), "pmd"), "EINVAL");
  });

  it("5 levels: pgd -> p4d -> pud -> pmd -> pte", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const pt = new PageTable(m, 5);
    expect(pt.levels).toBe(5);
    const va = 0x00ff_ffff_ffff_f123n; // pgd 255, p4d 511, pud 511, pmd 511, pte 511
    pt.set(va, pfn_pte(0x77, PAGE_SHARED));
    expect(pt.tableFrames).toBe(5);
    const w = pt.walk(va);
    expect(w.steps.map((s) => [s.level, s.index])).toEqual([
      ["pgd", 255],
      ["p4d", 511],
      ["pud", 511],
      ["pmd", 511],
      ["pte", 511],
    ]);
    expect(w.phys).toBe(0x77123);
    for (let i = 0; i < 4; i++)
      expect(w.steps[i]!.entry).toBe((BigInt(w.steps[i + 1]!.table / 4096) << 12n) | 0x67n);
    expect(entryAt(pt.tableBytes(va, "p4d")!, 511)).toBe(w.steps[1]!.entry);
    expect(entryAt(pt.tableBytes(va, "pgd")!, 255)).toBe(w.steps[0]!.entry);
    // An address only 5-level paging has.
    pt.set(0x800000000000, pfn_pte(0x78, PAGE_SHARED));
    expect(pt.walk(0x800000000abc).phys).toBe(0x78abc);
    kerr(() => pt.set(0x0100_0000_0000_0000n, pfn_pte(0x78, PAGE_SHARED)), "EINVAL");
  });

  it("set/get/walk/tableBytes reject non-canonical addresses and bad entries", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const pt = new PageTable(m);
    const before = m.stats().usedFrames;
    kerr(() => pt.set(0x800000000000, pfn_pte(1, PAGE_SHARED)), "EINVAL");
    kerr(() => pt.get(0xffff_0000_0000_0000n), "EINVAL");
    kerr(() => pt.walk(0x8000_0000_0000n), "EINVAL");
    kerr(() => pt.tableBytes(0x8000_0000_0000n, "pte"), "EINVAL");
    kerr(() => pt.set(0x1000, -1n), "EINVAL");
    kerr(() => pt.set(0x1000, 2n ** 64n), "EINVAL");
    kerr(() => pt.set(0x1000, 5 as unknown as bigint), "EINVAL");
    expect(m.stats().usedFrames).toBe(before);
    expect(pt.tableFrames).toBe(1);
    kerr(() => new PageTable(m, 3 as 4), "EINVAL");
  });

  it("a non-present upper entry with content (swap, PROTNONE) is not replaced by a table", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const pt = new PageTable(m);
    pt.set(0x40000000, 0x120n, "pud"); // PROT_NONE-like content at a PUD slot
    kerr(() => pt.set(0x40001000, pfn_pte(1, PAGE_SHARED)), "EINVAL");
    expect(pt.get(0x40000000, "pud")).toBe(0x120n);
    expect(pt.tableFrames).toBe(2);
  });

  it("free() returns every table frame, and the root unless told to keep it", () => {
    for (const levels of [4, 5] as const) {
      const m = new PhysicalMemory({ size: 8 * MiB });
      const initial = m.buddyinfo();
      const pt = new PageTable(m, levels);
      pt.set(0x1000, pfn_pte(0x300, PAGE_SHARED));
      pt.set(0x7ffffffff000, pfn_pte(0x301, PAGE_SHARED));
      pt.set(0x40000000, pfn_pte(0x200, PAGE_SHARED | _PAGE_PSE), "pmd");
      pt.set(0x8000000000, pfn_pte(0x40000, PAGE_SHARED | _PAGE_PSE), "pud");
      pt.set(0xffff888000000000n, pfn_pte(0x302, PAGE_KERNEL));
      const frames = pt.tableFrames;
      expect(frames).toBe(levels === 4 ? 1 + 3 + 3 + 1 + 1 + 3 : 1 + 4 + 3 + 1 + 1 + 4);
      expect(m.stats().usedFrames).toBe(frames);
      pt.free(false);
      expect(pt.tableFrames).toBe(1);
      expect(m.stats().usedFrames).toBe(1);
      expect(usedIndexes(pt.tableBytes(0, "pgd")!)).toEqual([]);
      expect(pt.walk(0x1000).phys).toBeUndefined();
      pt.set(0x2000, pfn_pte(0x300, PAGE_SHARED)); // still usable
      pt.free();
      expect(m.stats().usedFrames).toBe(0);
      expect(m.buddyinfo()).toBe(initial);
    }
  });

  it("free_pgd_range frees the tables that map nothing inside [floor, ceiling)", () => {
    const m = new PhysicalMemory({ size: 4 * MiB });
    const pt = new PageTable(m);
    pt.set(0x200000, pfn_pte(0x300, PAGE_SHARED)); // pmd 1
    pt.set(0x400000, pfn_pte(0x301, PAGE_SHARED)); // pmd 2
    expect(pt.tableFrames).toBe(5);
    pt.set(0x400000, 0n); // unmapped: its PTE table is empty now
    pt.free_pgd_range(0x400000, 0x600000);
    expect(pt.tableFrames).toBe(4);
    expect(usedIndexes(pt.tableBytes(0x200000, "pmd")!)).toEqual([1]);
    expect(pt.walk(0x200000).phys).toBe(0x300000);
    // A range that still maps a page keeps its tables.
    pt.free_pgd_range(0, 2 ** 47);
    expect(pt.tableFrames).toBe(4);
    pt.set(0x200000, 0n);
    pt.free_pgd_range(0, 2 ** 47);
    expect(pt.tableFrames).toBe(1);
    expect(m.stats().usedFrames).toBe(1);
    expect(m.alloc_page(GFP_KERNEL | __GFP_ZERO)).toBeGreaterThan(0);
  });
});
