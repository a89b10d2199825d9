// The MMU against the Intel SDM vol. 3 §4.5-4.10 and the kernel's error-code bits (arch/x86/include/asm/trap_pf.h,
// spec §2.3): effective R/W and U/S are the AND over the levels, NX the OR; Accessed is set on every entry used and
// Dirty on the leaf of a write; PS in a PML4E/PML5E, bits at or above MAXPHYADDR, a misaligned huge frame and (without
// EFER.NXE) bit 63 are reserved; SMAP, SMEP, CR0.WP; a TLB that keeps a translation until invlpg / a CR3 load.
import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import {
  _PAGE_ACCESSED,
  _PAGE_DIRTY,
  _PAGE_GLOBAL,
  _PAGE_NX,
  _PAGE_PRESENT,
  _PAGE_PSE,
  _PAGE_RW,
  _PAGE_USER,
  type Access,
  CpuFault,
  GFP_KERNEL,
  Mmu,
  type MmuOptions,
  type Mode,
  PAGE_COPY,
  PAGE_KERNEL,
  PAGE_READONLY_EXEC,
  PAGE_SHARED,
  PAGE_SHARED_EXEC,
  PageTable,
  type PgLevel,
  PhysicalMemory,
  pfn_pte,
  Vmm,
  X86_PF_INSTR,
  X86_PF_PK,
  X86_PF_PROT,
  X86_PF_RSVD,
  X86_PF_SHSTK,
  X86_PF_USER,
  X86_PF_WRITE,
} from "../src/index.js";
import { kerr } from "./kerr.js";

const MiB = 1024 * 1024;
const P = _PAGE_PRESENT;
const RW = _PAGE_RW;
const US = _PAGE_USER;
const NX = _PAGE_NX;
/** PAGE_KERNEL without RW (PAGE_KERNEL_RO is P|A|D|G|NX). */
const PAGE_KERNEL_RO = PAGE_KERNEL & ~RW;
/** PAGE_KERNEL_EXEC: P|RW|A|D|G. */
const PAGE_KERNEL_EXEC = PAGE_KERNEL & ~NX;

interface Machine {
  phys: PhysicalMemory;
  pt: PageTable;
  mmu: Mmu;
  /** A fresh zeroed data frame. */
  page(): number;
}

function machine(opts: MmuOptions = {}, size = 8 * MiB): Machine {
  const phys = new PhysicalMemory({ size });
  const pt = new PageTable(phys, opts.levels ?? 4);
  const mmu = new Mmu(phys, opts);
  mmu.load_cr3(pt.root);
  return { phys, pt, mmu, page: () => phys.alloc_page(GFP_KERNEL) };
}

/** The fault `translate` raises (it must raise one). */
function fault(mmu: Mmu, va: number | bigint, access: Access = "read", mode: Mode = "user"): CpuFault {
  let err: unknown;
  try {
    mmu.translate(va, access, mode);
  } catch (e) {
    err = e;
  }
  expect(err, `${access} ${mode} ${va.toString(16)} should fault`).toBeInstanceOf(CpuFault);
  return err as CpuFault;
}

/** Reads or rewrites one level's entry for `va` in the table frame's bytes. */
function entry(pt: PageTable, va: number | bigint, level: PgLevel): bigint {
  const s = pt.walk(va).steps.find((x) => x.level === level)!;
  return new DataView(pt.phys.ram.buffer).getBigUint64(pt.phys.pfnOffset(s.table / 4096) + s.index * 8, true);
}
function setEntry(pt: PageTable, va: number | bigint, level: PgLevel, value: bigint): void {
  const s = pt.walk(va).steps.find((x) => x.level === level)!;
  new DataView(pt.phys.ram.buffer).setBigUint64(pt.phys.pfnOffset(s.table / 4096) + s.index * 8, value, true);
}

describe("error-code bits (trap_pf.h)", () => {
  it("have the kernel's values", () => {
    expect([
      X86_PF_PROT,
      X86_PF_WRITE,
      X86_PF_USER,
      X86_PF_RSVD,
      X86_PF_INSTR,
      X86_PF_PK,
      X86_PF_SHSTK,
    ]).toEqual([1, 2, 4, 8, 16, 32, 64]);
  });
});

describe("translate: hits, misses, not-present faults", () => {
  it("walks once, then serves the TLB; counts both", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED));
    expect(mmu.stats()).toEqual({ tlbHits: 0, walks: 0, faults: 0, flushes: 1, invlpgs: 0 });
    expect(mmu.translate(0x400123)).toBe(f * 4096 + 0x123);
    expect(mmu.stats()).toMatchObject({ tlbHits: 0, walks: 1, faults: 0 });
    expect(mmu.translate(0x400fff, "read")).toBe(f * 4096 + 0xfff);
    expect(mmu.translate(0x400000n, "write")).toBe(f * 4096); // PAGE_SHARED has no D yet: a write walks to set it
    expect(mmu.translate(0x400008, "write")).toBe(f * 4096 + 8);
    expect(mmu.stats()).toMatchObject({ tlbHits: 2, walks: 2, faults: 0 });
    expect(mmu.tlbLookup(0x400abc)).toEqual({
      phys: f * 4096 + 0xabc,
      writable: true,
      user: true,
      nx: true,
      global: false,
      dirty: true,
    });
    expect(mmu.tlbLookup(0x401000)).toBeUndefined();
  });

  it("not present at each level: P=0 with W, U and I as the access was", () => {
    const { pt, mmu, page } = machine();
    pt.set(0x400000, pfn_pte(page(), PAGE_SHARED));
    // Empty PGD slot, empty PUD slot, empty PMD slot, empty PTE slot: all the same error code.
    for (const va of [0x8000000000, 0x40000000, 0x600000, 0x401000]) {
      const cases: [Access, Mode, number][] = [
        ["read", "user", 0x4],
        ["write", "user", 0x6],
        ["exec", "user", 0x14],
        ["read", "kernel", 0x0],
        ["write", "kernel", 0x2],
        ["exec", "kernel", 0x10],
      ];
      for (const [access, mode, code] of cases) {
        const e = fault(mmu, va, access, mode);
        expect(e.vector).toBe("#PF");
        expect(e.errorCode, `${access} ${mode} at ${va.toString(16)}`).toBe(code);
        expect(e.reason).toBe("not-present");
        expect(e.address).toBe(BigInt(va));
      }
    }
    expect(mmu.stats().faults).toBe(24);
    expect(mmu.stats().tlbHits).toBe(0);
  });

  it("the fault is a KernelError (EFAULT) with the oops text's error code", () => {
    const { pt, mmu, page } = machine();
    pt.set(0x400000, pfn_pte(page(), PAGE_COPY));
    const e = fault(mmu, 0x400010, "write");
    expect(e).toBeInstanceOf(KernelError);
    expect(e.code).toBe("EFAULT");
    expect(e.name).toBe("CpuFault");
    expect(e.address).toBe(0x400010n);
    expect(e.message).toContain("#PF: error_code(0x0007) - permissions violation");
    expect(fault(mmu, 0x500000).message).toContain("#PF: error_code(0x0004) - not-present page");
  });

  it("a non-canonical address is #GP, not #PF", () => {
    const { mmu } = machine();
    for (const va of [
      0x800000000000,
      0x0000_8000_0000_1000n,
      0xffff_7fff_ffff_f000n,
      0x8000_0000_0000_0000n,
    ]) {
      for (const mode of ["user", "kernel"] as const) {
        const e = fault(mmu, va, "read", mode);
        expect(e.vector).toBe("#GP");
        expect(e.errorCode).toBe(0);
        expect(e.reason).toBe("non-canonical");
        expect(e.address).toBe(BigInt(va));
        expect(e.message).toContain("general protection fault");
      }
    }
    // Canonical kernel addresses are #PF.
    expect(fault(mmu, 0xffff_8000_0000_0000n, "read", "kernel").vector).toBe("#PF");
  });

  it("rejects bad arguments and a translation before the first CR3 load with EINVAL", () => {
    const phys = new PhysicalMemory({ size: 4 * MiB });
    const mmu = new Mmu(phys);
    expect(mmu.cr3).toBeUndefined();
    kerr(() => mmu.translate(0x1000), "EINVAL");
    kerr(() => mmu.load_cr3(4096), "EINVAL"); // not RAM
    const pt = new PageTable(phys);
    mmu.load_cr3(pt.root);
    expect(mmu.cr3).toBe(pt.root);
    kerr(() => mmu.translate(-1), "EINVAL");
    kerr(() => mmu.translate(2n ** 64n), "EINVAL");
    kerr(() => mmu.translate(0x1000, "fetch" as Access), "EINVAL");
    kerr(() => mmu.translate(0x1000, "read", "root" as Mode), "EINVAL");
    for (const o of [{ levels: 3 }, { physBits: 35 }, { physBits: 53 }, { tlbEntries: 3 }, { tlbEntries: 0 }])
      kerr(() => new Mmu(phys, o as MmuOptions), "EINVAL");
  });
});

describe("protection faults: effective permissions over the levels", () => {
  it("user write to a read-only page: P|W|U = 0x7", () => {
    const { pt, mmu, page } = machine();
    pt.set(0x400000, pfn_pte(page(), PAGE_COPY));
    expect(mmu.translate(0x400000, "read")).toBeGreaterThan(0);
    const e = fault(mmu, 0x400000, "write");
    expect(e.errorCode).toBe(X86_PF_PROT | X86_PF_WRITE | X86_PF_USER);
    expect(e.reason).toBe("protection");
  });

  it("user access to a supervisor page: P|U (0x5), P|W|U (0x7), P|U|I (0x15)", () => {
    const { pt, mmu, page } = machine();
    pt.set(0x400000, pfn_pte(page(), PAGE_KERNEL_EXEC));
    expect(fault(mmu, 0x400000, "read").errorCode).toBe(0x5);
    expect(fault(mmu, 0x400000, "write").errorCode).toBe(0x7);
    expect(fault(mmu, 0x400000, "exec").errorCode).toBe(0x15);
    // The kernel itself may read, write and execute it.
    expect(() => mmu.translate(0x400000, "read", "kernel")).not.toThrow();
    expect(() => mmu.translate(0x400000, "write", "kernel")).not.toThrow();
    expect(() => mmu.translate(0x400000, "exec", "kernel")).not.toThrow();
  });

  it("exec of an NX page: P|U|I = 0x15 in user mode, P|I = 0x11 in the kernel", () => {
    const { pt, mmu, page } = machine();
    pt.set(0x400000, pfn_pte(page(), PAGE_SHARED));
    pt.set(0x600000, pfn_pte(page(), PAGE_KERNEL));
    const u = fault(mmu, 0x400000, "exec");
    expect(u.errorCode).toBe(X86_PF_PROT | X86_PF_USER | X86_PF_INSTR);
    expect(u.reason).toBe("protection");
    const k = fault(mmu, 0x600000, "exec", "kernel");
    expect(k.errorCode).toBe(X86_PF_PROT | X86_PF_INSTR);
    expect(k.reason).toBe("protection");
    // PAGE_SHARED_EXEC runs.
    pt.set(0x401000, pfn_pte(page(), PAGE_SHARED_EXEC));
    expect(() => mmu.translate(0x401000, "exec")).not.toThrow();
  });

  it("R/W and U/S are ANDed, NX is ORed over the levels", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED_EXEC)); // the leaf allows everything
    expect(mmu.translate(0x400000, "write")).toBe(f * 4096);
    expect(mmu.translate(0x400000, "exec")).toBe(f * 4096);
    const table = (lvl: PgLevel) => entry(pt, 0x400000, lvl);
    for (const lvl of ["pgd", "pud", "pmd"] as const) {
      const orig = table(lvl);
      // R/W clear in one upper level: a user write faults; a read still works.
      setEntry(pt, 0x400000, lvl, orig & ~RW);
      mmu.__flush_tlb_all();
      expect(mmu.translate(0x400000, "read")).toBe(f * 4096);
      expect(fault(mmu, 0x400000, "write").errorCode, `RW=0 in ${lvl}`).toBe(0x7);
      // U/S clear in one upper level: the page is a supervisor page.
      setEntry(pt, 0x400000, lvl, orig & ~US);
      mmu.__flush_tlb_all();
      expect(fault(mmu, 0x400000, "read").errorCode, `US=0 in ${lvl}`).toBe(0x5);
      expect(mmu.translate(0x400000, "read", "kernel")).toBe(f * 4096); // and SMAP no longer applies
      // NX set in one upper level: no fetch.
      setEntry(pt, 0x400000, lvl, orig | NX);
      mmu.__flush_tlb_all();
      expect(mmu.translate(0x400000, "write")).toBe(f * 4096);
      expect(fault(mmu, 0x400000, "exec").errorCode, `NX in ${lvl}`).toBe(0x15);
      setEntry(pt, 0x400000, lvl, orig);
    }
    mmu.__flush_tlb_all();
    expect(mmu.translate(0x400000, "exec")).toBe(f * 4096);
  });
});

describe("reserved bits: RSVD (with P=1)", () => {
  it("bit 51 set in the leaf or in a table entry", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED));
    const leaf = entry(pt, 0x400000, "pte");
    setEntry(pt, 0x400000, "pte", leaf | (1n << 51n));
    const e = fault(mmu, 0x400000);
    expect(e.errorCode).toBe(X86_PF_PROT | X86_PF_USER | X86_PF_RSVD);
    expect(e.reason).toBe("reserved-bit");
    expect(e.message).toContain("error_code(0x000d) - reserved bit violation");
    expect(fault(mmu, 0x400000, "write", "kernel").errorCode).toBe(X86_PF_PROT | X86_PF_WRITE | X86_PF_RSVD);
    expect(fault(mmu, 0x400000, "exec").errorCode).toBe(
      X86_PF_PROT | X86_PF_USER | X86_PF_RSVD | X86_PF_INSTR,
    );
    setEntry(pt, 0x400000, "pte", leaf);
    const pud = entry(pt, 0x400000, "pud");
    setEntry(pt, 0x400000, "pud", pud | (1n << 51n));
    expect(fault(mmu, 0x400000).errorCode).toBe(0xd);
    setEntry(pt, 0x400000, "pud", pud);
    expect(mmu.translate(0x400000)).toBe(f * 4096);
  });

  it("bits from MAXPHYADDR (46 by default) to 51 are reserved; below it they address RAM", () => {
    // RAM at 32 TiB (bit 45 of the address): reachable with MAXPHYADDR 46, reserved with 45.
    const high = 2 ** 45;
    const ranges = [
      { start: 0, size: 4 * MiB },
      { start: high, size: 4 * MiB },
    ];
    const phys = new PhysicalMemory({ ranges });
    const pt = new PageTable(phys);
    const f = high / 4096 + 5;
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED));
    const mmu = new Mmu(phys);
    mmu.load_cr3(pt.root);
    expect(mmu.translate(0x400abc)).toBe(high + 5 * 4096 + 0xabc);
    phys.view(high + 5 * 4096 + 0xabc, 1)[0] = 0x5a;
    expect(phys.ram[4 * MiB + 5 * 4096 + 0xabc]).toBe(0x5a);
    const narrow = new Mmu(phys, { physBits: 45 });
    narrow.load_cr3(pt.root);
    expect(fault(narrow, 0x400abc).errorCode).toBe(0xd);
    // Bit 46 with the default MAXPHYADDR.
    pt.set(0x401000, pfn_pte(2 ** 34, PAGE_SHARED));
    expect(fault(mmu, 0x401000).errorCode).toBe(0xd);
  });

  it("a 2 MiB page in RAM above 8 TiB (a frame number of 2^31 and more)", () => {
    const high = 2 ** 45;
    const phys = new PhysicalMemory({
      ranges: [
        { start: 0, size: 4 * MiB },
        { start: high, size: 4 * MiB },
      ],
    });
    const pt = new PageTable(phys);
    pt.set(0x40000000, pfn_pte(high / 4096 + 512, PAGE_SHARED | _PAGE_PSE), "pmd");
    const mmu = new Mmu(phys);
    mmu.load_cr3(pt.root);
    expect(mmu.translate(0x40000000 + 0x1f_f123)).toBe(high + 2 * MiB + 0x1f_f123);
    expect(mmu.tlbLookup(0x40000000 + 0x1f_f000)?.phys).toBe(high + 2 * MiB + 0x1f_f000);
  });

  it("PS in a PML4 entry (and a PML5 entry) is reserved", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED));
    const pgd = entry(pt, 0x400000, "pgd");
    setEntry(pt, 0x400000, "pgd", pgd | _PAGE_PSE);
    const e = fault(mmu, 0x400000);
    expect(e.errorCode).toBe(0xd);
    expect(e.reason).toBe("reserved-bit");
    setEntry(pt, 0x400000, "pgd", pgd);
    expect(mmu.translate(0x400000)).toBe(f * 4096);

    const m5 = machine({ levels: 5 });
    const g = m5.page();
    m5.pt.set(0x400000, pfn_pte(g, PAGE_SHARED));
    for (const lvl of ["pgd", "p4d"] as const) {
      const orig = entry(m5.pt, 0x400000, lvl);
      setEntry(m5.pt, 0x400000, lvl, orig | _PAGE_PSE);
      m5.mmu.__flush_tlb_all();
      expect(fault(m5.mmu, 0x400000).errorCode, lvl).toBe(0xd);
      setEntry(m5.pt, 0x400000, lvl, orig);
    }
    m5.mmu.__flush_tlb_all();
    expect(m5.mmu.translate(0x400000)).toBe(g * 4096);
  });

  it("a huge page whose frame is not aligned (bits 13..20 / 13..29) is reserved; bit 12 is PAT", () => {
    const { pt, mmu } = machine();
    pt.set(0x40000000, pfn_pte(0x202, PAGE_SHARED | _PAGE_PSE), "pmd"); // bit 13 set
    expect(fault(mmu, 0x40000000).errorCode).toBe(0xd);
    expect(fault(mmu, 0x40000000, "write", "kernel").errorCode).toBe(0xb);
    pt.set(0x40000000, pfn_pte(0x201, PAGE_SHARED | _PAGE_PSE), "pmd"); // bit 12: PAT_LARGE
    expect(mmu.translate(0x40001234)).toBe(0x200000 + 0x1234);
    pt.set(0x80000000, pfn_pte(0x200, PAGE_SHARED | _PAGE_PSE), "pud"); // 1 GiB page at 2 MiB
    expect(fault(mmu, 0x80000000).errorCode).toBe(0xd);
  });

  it("nx: false (EFER.NXE clear) makes bit 63 reserved and fetches are not reported as I unless SMEP", () => {
    const { pt, mmu, page } = machine({ nx: false, smep: false });
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED)); // has NX
    pt.set(0x401000, pfn_pte(f, PAGE_SHARED_EXEC));
    expect(fault(mmu, 0x400000).errorCode).toBe(0xd);
    expect(fault(mmu, 0x400000, "read", "kernel").errorCode).toBe(0x9);
    // Without NX every page is executable.
    expect(mmu.translate(0x401000, "exec")).toBe(f * 4096);
    expect(fault(mmu, 0x402000, "exec").errorCode).toBe(0x4); // no I flag: neither NXE nor SMEP
    const smep = machine({ nx: false, smep: true });
    expect(fault(smep.mmu, 0x402000, "exec").errorCode).toBe(0x14);
    const nxe = machine({ smep: false });
    expect(fault(nxe.mmu, 0x402000, "exec").errorCode).toBe(0x14);
  });
});

describe("Accessed and Dirty bits", () => {
  it("A on every entry used, D on the leaf only and only on a write", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0x400000, pfn_pte(f, P | RW | US | NX)); // no A, no D
    // Upper entries with neither A nor D (Linux fills them with _PAGE_TABLE, which has both).
    for (const lvl of ["pgd", "pud", "pmd"] as const)
      setEntry(pt, 0x400000, lvl, entry(pt, 0x400000, lvl) & ~(_PAGE_ACCESSED | _PAGE_DIRTY));
    const levels = ["pgd", "pud", "pmd", "pte"] as const;
    const bits = () => levels.map((l) => Number(entry(pt, 0x400000, l) & 0x60n));
    expect(bits()).toEqual([0, 0, 0, 0]);
    mmu.translate(0x400000, "read");
    expect(bits()).toEqual([0x20, 0x20, 0x20, 0x20]);
    mmu.translate(0x400000, "write");
    expect(bits()).toEqual([0x20, 0x20, 0x20, 0x60]);
    expect(entry(pt, 0x400000, "pte")).toBe((BigInt(f) << 12n) | 0x67n | NX);
    expect(mmu.tlbLookup(0x400000)?.dirty).toBe(true);
  });

  it("D is set through a TLB entry that was filled by a read", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED));
    mmu.translate(0x400000, "read");
    expect(mmu.tlbLookup(0x400000)?.dirty).toBe(false);
    expect(entry(pt, 0x400000, "pte") & _PAGE_DIRTY).toBe(0n);
    const walks = mmu.stats().walks;
    mmu.translate(0x400010, "write");
    expect(mmu.stats().walks).toBe(walks + 1);
    expect(entry(pt, 0x400000, "pte") & _PAGE_DIRTY).toBe(_PAGE_DIRTY);
    mmu.translate(0x400020, "write");
    expect(mmu.stats().walks).toBe(walks + 1);
  });

  it("a faulting write sets no D; a huge page gets its A/D in the PMD entry", () => {
    const { pt, mmu, page } = machine();
    pt.set(0x400000, pfn_pte(page(), P | US | NX)); // read-only, no A
    fault(mmu, 0x400000, "write");
    expect(entry(pt, 0x400000, "pte") & _PAGE_DIRTY).toBe(0n);
    pt.set(0x40000000, pfn_pte(0x200, P | RW | US | _PAGE_PSE), "pmd");
    mmu.translate(0x40123456, "write");
    expect(pt.get(0x40000000, "pmd")).toBe(0x200000n | 0xe7n);
  });
});

describe("the TLB", () => {
  it("keeps a stale translation after the PTE changes in RAM until invlpg", () => {
    const { pt, mmu, page } = machine();
    const a = page();
    const b = page();
    pt.set(0x400000, pfn_pte(a, PAGE_SHARED));
    expect(mmu.translate(0x400004)).toBe(a * 4096 + 4);
    pt.set(0x400000, pfn_pte(b, PAGE_SHARED)); // no flush
    expect(pt.walk(0x400004).phys).toBe(b * 4096 + 4);
    expect(mmu.translate(0x400004)).toBe(a * 4096 + 4);
    expect(mmu.tlbLookup(0x400004)?.phys).toBe(a * 4096 + 4);
    // Even a cleared PTE still translates.
    pt.set(0x400000, 0n);
    expect(mmu.translate(0x400004)).toBe(a * 4096 + 4);
    pt.set(0x400000, pfn_pte(b, PAGE_SHARED));
    const before = mmu.stats();
    mmu.invlpg(0x400fff);
    expect(mmu.stats().invlpgs).toBe(before.invlpgs + 1);
    expect(mmu.tlbLookup(0x400004)).toBeUndefined();
    expect(mmu.translate(0x400004)).toBe(b * 4096 + 4);
  });

  it("invlpg drops only its own page", () => {
    const { pt, mmu, page } = machine();
    pt.set(0x400000, pfn_pte(page(), PAGE_SHARED));
    pt.set(0x401000, pfn_pte(page(), PAGE_SHARED));
    mmu.translate(0x400000);
    mmu.translate(0x401000);
    mmu.invlpg(0x401000);
    expect(mmu.tlbLookup(0x400000)).toBeDefined();
    expect(mmu.tlbLookup(0x401000)).toBeUndefined();
    kerr(() => mmu.invlpg(0x800000000000), "EINVAL");
  });

  it("load_cr3 drops non-global entries and keeps global ones; __flush_tlb_all drops both", () => {
    const { pt, mmu, page } = machine();
    const u = page();
    const k = page();
    const u2 = page();
    const k2 = page();
    pt.set(0x400000, pfn_pte(u, PAGE_SHARED));
    pt.set(0xffff888000000000n, pfn_pte(k, PAGE_KERNEL)); // G
    mmu.translate(0x400000);
    mmu.translate(0xffff888000000000n, "read", "kernel");
    expect(mmu.tlbLookup(0xffff888000000000n)).toMatchObject({ global: true, user: false, writable: true });
    pt.set(0x400000, pfn_pte(u2, PAGE_SHARED));
    pt.set(0xffff888000000000n, pfn_pte(k2, PAGE_KERNEL));
    const flushes = mmu.stats().flushes;
    mmu.load_cr3(pt.root);
    expect(mmu.stats().flushes).toBe(flushes + 1);
    expect(mmu.tlbLookup(0x400000)).toBeUndefined();
    expect(mmu.translate(0x400000)).toBe(u2 * 4096);
    expect(mmu.translate(0xffff888000000000n, "read", "kernel")).toBe(k * 4096); // still the old one
    mmu.flush_tlb_local();
    expect(mmu.translate(0xffff888000000000n, "read", "kernel")).toBe(k * 4096);
    mmu.__flush_tlb_all();
    expect(mmu.stats().flushes).toBe(flushes + 3);
    expect(mmu.tlbLookup(0xffff888000000000n)).toBeUndefined();
    expect(mmu.translate(0xffff888000000000n, "read", "kernel")).toBe(k2 * 4096);
  });

  it("invlpg of any address in a huge page drops all its 4 KiB pieces", () => {
    const { pt, mmu } = machine();
    pt.set(0x40000000, pfn_pte(0x200, PAGE_SHARED | _PAGE_PSE), "pmd"); // 2 MiB at 2 MiB
    pt.set(0x40200000, pfn_pte(0x400, PAGE_SHARED | _PAGE_PSE), "pmd"); // the next 2 MiB at 4 MiB
    pt.set(0x80000000, pfn_pte(0, PAGE_SHARED | _PAGE_PSE), "pud"); // 1 GiB at 0
    const pieces = [0x40000000, 0x40001000, 0x40105000, 0x401ff000];
    for (const va of pieces) expect(mmu.translate(va + 0x10)).toBe(0x200000 + (va - 0x40000000) + 0x10);
    expect(mmu.translate(0x40200000)).toBe(0x400000);
    // Inside the 8 MiB of RAM, and in TLB sets (vpn & 2047) that none of the 2 MiB pieces uses.
    const giant = [0x80003000, 0x80304000, 0x807fe000];
    for (const va of giant) expect(mmu.translate(va)).toBe(va - 0x80000000);
    for (const va of [...pieces, ...giant]) expect(mmu.tlbLookup(va)).toBeDefined();
    mmu.invlpg(0x40100000); // a piece that was never translated
    for (const va of pieces) expect(mmu.tlbLookup(va), va.toString(16)).toBeUndefined();
    expect(mmu.tlbLookup(0x40200000)).toBeDefined(); // the other huge page stays
    for (const va of giant) expect(mmu.tlbLookup(va)).toBeDefined();
    mmu.invlpg(0x9234_5678);
    for (const va of giant) expect(mmu.tlbLookup(va)).toBeUndefined();
    expect(mmu.tlbLookup(0x40200000)).toBeDefined();
  });

  it("is direct-mapped: a conflicting page evicts the older entry", () => {
    const { pt, mmu, page } = machine({ tlbEntries: 1 });
    const a = page();
    const b = page();
    pt.set(0x400000, pfn_pte(a, PAGE_SHARED));
    pt.set(0x401000, pfn_pte(b, PAGE_SHARED));
    mmu.translate(0x400000);
    expect(mmu.tlbLookup(0x400000)).toBeDefined();
    mmu.translate(0x401000);
    expect(mmu.tlbLookup(0x400000)).toBeUndefined();
    expect(mmu.tlbLookup(0x401000)?.phys).toBe(b * 4096);
  });

  it("a page fault drops the TLB entry of the faulting page (SDM §4.10.4.1)", () => {
    const { pt, mmu, page } = machine();
    const a = page();
    pt.set(0x400000, pfn_pte(a, PAGE_SHARED));
    mmu.translate(0x400000, "read"); // filled without D
    pt.set(0x400000, 0n); // unmapped without a flush
    expect(mmu.translate(0x400000, "read")).toBe(a * 4096); // stale
    // A write needs D: the CPU walks, finds nothing and faults, and the fault invalidates the stale entry.
    expect(fault(mmu, 0x400000, "write").errorCode).toBe(0x6);
    expect(mmu.tlbLookup(0x400000)).toBeUndefined();
    expect(fault(mmu, 0x400000, "read").errorCode).toBe(0x4);
  });

  it("a permission the TLB entry lacks sends the access to the tables (which may allow it now)", () => {
    const { pt, mmu, page } = machine();
    const a = page();
    pt.set(0x400000, pfn_pte(a, PAGE_COPY));
    mmu.translate(0x400000);
    expect(mmu.tlbLookup(0x400000)?.writable).toBe(false);
    pt.set(0x400000, pfn_pte(a, PAGE_SHARED)); // made writable, no flush (the kernel relies on the re-walk)
    expect(mmu.translate(0x400000, "write")).toBe(a * 4096);
    expect(mmu.tlbLookup(0x400000)).toMatchObject({ writable: true, dirty: true });
  });
});

describe("SMAP, SMEP, CR0.WP", () => {
  it("SMAP: a kernel data access to a user page faults with P set, unless stac()", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED));
    const r = fault(mmu, 0x400000, "read", "kernel");
    expect(r.errorCode).toBe(X86_PF_PROT);
    expect(r.reason).toBe("smap");
    expect(fault(mmu, 0x400000, "write", "kernel").errorCode).toBe(X86_PF_PROT | X86_PF_WRITE);
    expect(mmu.ac).toBe(false);
    mmu.stac();
    expect(mmu.ac).toBe(true);
    expect(mmu.translate(0x400000, "read", "kernel")).toBe(f * 4096);
    expect(mmu.translate(0x400000, "write", "kernel")).toBe(f * 4096);
    mmu.clac();
    // The TLB entry is there, but it is a user page: SMAP applies on a hit too.
    expect(mmu.tlbLookup(0x400000)).toBeDefined();
    expect(fault(mmu, 0x400000, "read", "kernel").reason).toBe("smap");
    // User mode is not affected.
    expect(mmu.translate(0x400000, "read", "user")).toBe(f * 4096);
  });

  it("SMAP off: the kernel reads user pages freely", () => {
    const { pt, mmu, page } = machine({ smap: false });
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_SHARED));
    expect(mmu.translate(0x400000, "read", "kernel")).toBe(f * 4096);
  });

  it("SMEP: a kernel fetch from a user page faults with P|I, even with AC set", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0x400000, pfn_pte(f, PAGE_READONLY_EXEC));
    mmu.stac();
    const e = fault(mmu, 0x400000, "exec", "kernel");
    expect(e.errorCode).toBe(X86_PF_PROT | X86_PF_INSTR);
    expect(e.reason).toBe("smep");
    expect(e.message).toContain("permissions violation (SMEP)");
    mmu.clac();
    expect(mmu.translate(0x400000, "exec", "user")).toBe(f * 4096);
    // With the entry cached, the kernel fetch still faults.
    expect(fault(mmu, 0x400000, "exec", "kernel").reason).toBe("smep");
    const off = machine({ smep: false });
    off.pt.set(0x400000, pfn_pte(f, PAGE_READONLY_EXEC));
    expect(off.mmu.translate(0x400000, "exec", "kernel")).toBe(f * 4096);
  });

  it("CR0.WP: the kernel cannot write a read-only page; with WP clear it can", () => {
    const { pt, mmu, page } = machine();
    const f = page();
    pt.set(0xffff888000000000n, pfn_pte(f, PAGE_KERNEL_RO & ~_PAGE_DIRTY));
    const e = fault(mmu, 0xffff888000000000n, "write", "kernel");
    expect(e.errorCode).toBe(X86_PF_PROT | X86_PF_WRITE);
    expect(e.reason).toBe("protection");
    const wp = new Mmu(pt.phys, { wp: false });
    wp.load_cr3(pt.root);
    expect(wp.translate(0xffff888000000010n, "write", "kernel")).toBe(f * 4096 + 0x10);
    expect(pt.get(0xffff888000000000n)! & _PAGE_DIRTY).toBe(_PAGE_DIRTY);
    // Also a read-only user page (with AC set for SMAP); user mode still faults.
    pt.set(0x400000, pfn_pte(f, PAGE_COPY));
    wp.stac();
    expect(wp.translate(0x400000, "write", "kernel")).toBe(f * 4096);
    wp.clac();
    expect(fault(wp, 0x400000, "write", "user").errorCode).toBe(0x7);
  });
});

describe("5-level paging", () => {
  it("translates through five tables and accepts addresses above 2^47", () => {
    const { pt, mmu, page } = machine({ levels: 5 });
    expect(mmu.levels).toBe(5);
    const a = page();
    const b = page();
    pt.set(0x00ff_ffff_ffff_f000n, pfn_pte(a, PAGE_SHARED));
    pt.set(0x800000000000, pfn_pte(b, PAGE_SHARED));
    expect(mmu.translate(0x00ff_ffff_ffff_f123n)).toBe(a * 4096 + 0x123);
    expect(mmu.translate(0x800000000004)).toBe(b * 4096 + 4);
    expect(pt.walk(0x800000000004).steps).toHaveLength(5);
    for (const s of pt.walk(0x800000000004).steps) expect(s.entry & _PAGE_ACCESSED).toBe(_PAGE_ACCESSED);
    const e = fault(mmu, 0x0100_0000_0000_0000n);
    expect(e.vector).toBe("#GP");
    expect(fault(mmu, 0x00ff_ffff_ffff_e000n).errorCode).toBe(0x4);
    // The same address with 4 levels is non-canonical.
    expect(fault(machine().mmu, 0x800000000000).vector).toBe("#GP");
  });
});

describe("through a Vmm", () => {
  it("switch_mm loads the address space's root; the MMU walks its tables", () => {
    const vmm = new Vmm({ ram: 16 * MiB });
    const mm = vmm.mm_alloc();
    vmm.switch_mm(mm);
    expect(vmm.mmu.cr3).toBe(mm.pgd.root);
    const f = vmm.phys.alloc_page(GFP_KERNEL);
    mm.pgd.set(0x10000000, pfn_pte(f, PAGE_SHARED | _PAGE_GLOBAL));
    expect(vmm.mmu.translate(0x10000abc, "write")).toBe(f * 4096 + 0xabc);
    expect(vmm.mmu.tlbLookup(0x10000000)).toMatchObject({ global: true, dirty: true, nx: true, user: true });
    expect(fault(vmm.mmu, 0x10000000, "read", "kernel").reason).toBe("smap");
  });
});
