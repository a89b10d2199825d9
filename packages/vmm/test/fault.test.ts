// User-mode accesses and the page-fault path against Linux 6.12: arch/x86/mm/fault.c (do_user_addr_fault,
// access_error, bad_area*), mm/memory.c (do_anonymous_page with the zero page, do_fault / do_cow_fault /
// do_shared_fault, do_wp_page, copy_present_pte at fork, zap_present_ptes, remap_pfn_range_internal), mm/filemap.c
// (filemap_fault past EOF), mm/gup.c (MAP_POPULATE). Every test checks that no frame leaks.

import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import {
  _PAGE_DIRTY,
  _PAGE_RW,
  _PAGE_SPECIAL,
  BUS_ADRERR,
  GFP_KERNEL,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_LOCKED,
  MAP_NONBLOCK,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  type MmapFile,
  type MmStruct,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PageCacheFile,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  pte_pfn,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SI_KERNEL,
  SIGBUS,
  SIGSEGV,
  SignalError,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_IO,
  VM_PFNMAP,
  Vmm,
} from "../src/index.js";

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const NX = 1n << 63n;
// PAGE_COPY = P | US | A | NX (a private writable VMA's PTEs stay read-only until written).
const PAGE_COPY = 0x25n | NX;

function machine(): { vmm: Vmm; mm: MmStruct; free0: number } {
  const vmm = new Vmm({ ram: 16 << 20 });
  const free0 = vmm.phys.freeFrames;
  const mm = vmm.mm_alloc();
  vmm.switch_mm(mm);
  return { vmm, mm, free0 };
}

/** The signal a user access ends in. */
function signalOf(fn: () => unknown): { signo: number; code: number; addr: bigint } {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignalError) return { signo: err.signo, code: err.si_code, addr: err.si_addr };
    throw err;
  }
  throw new Error("no signal");
}

const bytes = (...b: number[]) => new Uint8Array(b);

describe("SIGSEGV: SEGV_MAPERR and SEGV_ACCERR (access_error)", () => {
  it("a hole is SEGV_MAPERR at the first byte of the missing page", () => {
    const { vmm, mm, free0 } = machine();
    expect(signalOf(() => vmm.userRead(0x10000000, 1))).toEqual({
      signo: SIGSEGV,
      code: SEGV_MAPERR,
      addr: 0x10000000n,
    });
    expect(signalOf(() => vmm.userWrite(0x10000123, bytes(1)))).toEqual({
      signo: SIGSEGV,
      code: SEGV_MAPERR,
      addr: 0x10000123n,
    });
    expect(signalOf(() => vmm.userFetch(0))).toEqual({ signo: SIGSEGV, code: SEGV_MAPERR, addr: 0n });
    const a = mm.mmap(0, PAGE, RW, ANON);
    // an access running off the end of the mapping: the bytes before the hole are stored, then the signal
    expect(signalOf(() => vmm.userWrite(a + PAGE - 2, bytes(1, 2, 3, 4)))).toEqual({
      signo: SIGSEGV,
      code: SEGV_MAPERR,
      addr: BigInt(a + PAGE),
    });
    expect(vmm.userRead(a + PAGE - 2, 2)).toEqual(bytes(1, 2));
    // a non-canonical address is a #GP: SIGSEGV with SI_KERNEL
    expect(signalOf(() => vmm.userRead(0x800000000000n, 1)).code).toBe(SI_KERNEL);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("a write to PROT_READ, a read of PROT_NONE, an instruction fetch from non-exec memory: SEGV_ACCERR", () => {
    const { vmm, mm, free0 } = machine();
    const ro = mm.mmap(0, PAGE, PROT_READ, ANON);
    const none = mm.mmap(0, PAGE, PROT_NONE, ANON);
    const rw = mm.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    const rx = mm.mmap(0, PAGE, PROT_READ | PROT_EXEC, ANON);
    const accerr = (addr: number) => ({ signo: SIGSEGV, code: SEGV_ACCERR, addr: BigInt(addr) });
    // not present yet, and present (the zero page after a read)
    expect(signalOf(() => vmm.userWrite(ro + 5, bytes(1)))).toEqual(accerr(ro + 5));
    expect(vmm.userRead(ro, 1)).toEqual(bytes(0));
    expect(signalOf(() => vmm.userWrite(ro + 6, bytes(1)))).toEqual(accerr(ro + 6));
    expect(signalOf(() => vmm.userRead(none, 1))).toEqual(accerr(none));
    expect(signalOf(() => vmm.userWrite(none, bytes(1)))).toEqual(accerr(none));
    expect(signalOf(() => vmm.userFetch(none))).toEqual(accerr(none));
    // a fetch from a not-present non-exec page: VM_EXEC is not checked at first; the page comes in with NX and the
    // retry faults PROT|INSTR (same result, one page-in later)
    expect(signalOf(() => vmm.userFetch(rw + 7))).toEqual(accerr(rw + 7));
    expect(mm.stats().rssPages).toBe(1); // the shmem page came in
    expect(signalOf(() => vmm.userFetch(ro))).toEqual(accerr(ro));
    expect(vmm.userFetch(rx + 3)).toBe(0);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("PROT_NONE keeps the page: mprotect back and the bytes are there", () => {
    const { vmm, mm, free0 } = machine();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON);
    vmm.userWrite(a + PAGE, bytes(0x42));
    mm.mprotect(a, 2 * PAGE, PROT_NONE);
    expect(signalOf(() => vmm.userRead(a + PAGE, 1)).code).toBe(SEGV_ACCERR);
    mm.mprotect(a, 2 * PAGE, PROT_READ);
    expect(vmm.userRead(a + PAGE, 1)).toEqual(bytes(0x42));
    expect(signalOf(() => vmm.userWrite(a + PAGE, bytes(1))).code).toBe(SEGV_ACCERR);
    mm.mprotect(a, 2 * PAGE, RW);
    vmm.userWrite(a + PAGE, bytes(0x43));
    expect(vmm.userRead(a + PAGE, 1)).toEqual(bytes(0x43));
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("x86 cannot express write-only: a PROT_WRITE mapping is readable", () => {
    const { vmm, mm, free0 } = machine();
    const a = mm.mmap(0, PAGE, PROT_WRITE, ANON);
    expect(vmm.userRead(a, 4)).toEqual(bytes(0, 0, 0, 0));
    vmm.userWrite(a, bytes(9, 8));
    expect(vmm.userRead(a, 2)).toEqual(bytes(9, 8));
    expect(signalOf(() => vmm.userFetch(a)).code).toBe(SEGV_ACCERR);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });
});

describe("anonymous memory: the zero page, then a page of its own", () => {
  it("a read maps the shared zero page read-only (special, not RSS); the first write allocates", () => {
    const { vmm, mm, free0 } = machine();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON);
    const tables0 = mm.pgd.tableFrames;
    const free1 = vmm.phys.freeFrames;
    expect(vmm.userRead(a, PAGE)).toEqual(new Uint8Array(PAGE));
    const tables = mm.pgd.tableFrames - tables0; // PUD, PMD, PTE tables
    expect(tables).toBe(3);
    expect(vmm.phys.freeFrames).toBe(free1 - tables); // no data frame
    expect(mm.pgd.get(a)).toBe((BigInt(vmm.zeroPfn) << 12n) | PAGE_COPY | _PAGE_SPECIAL);
    expect(mm.stats()).toMatchObject({ zeroPageMaps: 1, rssPages: 0, minorFaults: 1 });
    // the same zero page again for the second page
    expect(vmm.userRead(a + PAGE + 100, 1)).toEqual(bytes(0));
    expect(pte_pfn(mm.pgd.get(a + PAGE)!)).toBe(vmm.zeroPfn);
    expect(mm.stats().zeroPageMaps).toBe(2);
    // a write to the zero page: a new zeroed frame, writable and dirty
    vmm.userWrite(a + 10, bytes(0xab));
    const pte = mm.pgd.get(a)!;
    const pfn = pte_pfn(pte);
    expect(pfn).not.toBe(vmm.zeroPfn);
    expect(pte).toBe((BigInt(pfn) << 12n) | PAGE_COPY | _PAGE_RW | _PAGE_DIRTY);
    expect(vmm.phys.freeFrames).toBe(free1 - tables - 1);
    expect(vmm.phys.page_ref_count(pfn)).toBe(1);
    const expected = new Uint8Array(12);
    expected[10] = 0xab;
    expect(vmm.userRead(a, 12)).toEqual(expected);
    expect(mm.stats()).toMatchObject({ zeroPageMaps: 2, rssPages: 1 });
    // the zero page itself is untouched
    expect(vmm.phys.view(vmm.zeroPfn * PAGE, PAGE)).toEqual(new Uint8Array(PAGE));
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("a first write (no read before) allocates at once, without the zero page", () => {
    const { vmm, mm, free0 } = machine();
    const a = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(a + PAGE - 1, bytes(1));
    const pte = mm.pgd.get(a)!;
    expect(pte & (_PAGE_RW | _PAGE_DIRTY | _PAGE_SPECIAL)).toBe(_PAGE_RW | _PAGE_DIRTY);
    expect(mm.stats()).toMatchObject({ zeroPageMaps: 0, rssPages: 1, cowCopies: 0, minorFaults: 1 });
    mm.munmap(a, PAGE);
    expect(mm.stats().rssPages).toBe(0);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });
});

describe("file pages (PageCacheFile)", () => {
  it("MAP_SHARED stores reach the file, and file writes reach the mapping", () => {
    const { vmm, mm, free0 } = machine();
    const file = new PageCacheFile(vmm.phys, {
      data: new TextEncoder().encode("hello, page cache"),
      path: "/f",
    });
    const a = mm.mmap(0, PAGE, RW, MAP_SHARED, file);
    expect(vmm.userRead(a, 5)).toEqual(new TextEncoder().encode("hello"));
    vmm.userWrite(a, new TextEncoder().encode("HELLO"));
    expect(new TextDecoder().decode(file.read(0, 17))).toBe("HELLO, page cache");
    file.write(7, new TextEncoder().encode("PAGE"));
    expect(new TextDecoder().decode(vmm.userRead(a, 17))).toBe("HELLO, PAGE cache");
    // the page cache's frame, mapped writable and dirty; one reference for the cache, one for the PTE
    const pfn = pte_pfn(mm.pgd.get(a)!);
    expect(mm.pgd.get(a)! & (_PAGE_RW | _PAGE_DIRTY)).toBe(_PAGE_RW | _PAGE_DIRTY);
    expect(vmm.phys.page_ref_count(pfn)).toBe(2);
    expect(mm.stats().cowCopies).toBe(0);
    mm.mmput();
    expect(vmm.phys.page_ref_count(pfn)).toBe(1);
    file.release();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("MAP_PRIVATE stores stay private (do_cow_fault / wp_page_copy); later file writes show on untouched pages", () => {
    const { vmm, mm, free0 } = machine();
    const file = new PageCacheFile(vmm.phys, { data: new Uint8Array(2 * PAGE).fill(0x11) });
    const a = mm.mmap(0, 2 * PAGE, RW, MAP_PRIVATE, file);
    // a write fault on a page not present: do_cow_fault copies the file page
    vmm.userWrite(a, bytes(0x22));
    // a read then a write: the page-cache page read-only, then wp_page_copy
    expect(vmm.userRead(a + PAGE, 1)).toEqual(bytes(0x11));
    const cachePfn = pte_pfn(mm.pgd.get(a + PAGE)!);
    expect(mm.pgd.get(a + PAGE)! & _PAGE_RW).toBe(0n);
    vmm.userWrite(a + PAGE + 1, bytes(0x33));
    expect(pte_pfn(mm.pgd.get(a + PAGE)!)).not.toBe(cachePfn);
    expect(file.read(0, 2)).toEqual(bytes(0x11, 0x11));
    expect(file.read(PAGE, 2)).toEqual(bytes(0x11, 0x11));
    expect(vmm.userRead(a, 2)).toEqual(bytes(0x22, 0x11));
    expect(vmm.userRead(a + PAGE, 2)).toEqual(bytes(0x11, 0x33));
    expect(mm.stats().cowCopies).toBe(2);
    expect(vmm.phys.page_ref_count(cachePfn)).toBe(1); // only the cache holds it now
    // a file write is not seen through the private copies
    file.write(0, bytes(0x44));
    expect(vmm.userRead(a, 1)).toEqual(bytes(0x22));
    mm.mmput();
    file.release();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("a page wholly past EOF is SIGBUS (BUS_ADRERR); the tail of the last page reads 0", () => {
    const { vmm, mm, free0 } = machine();
    const file = new PageCacheFile(vmm.phys, { data: new Uint8Array(5000).fill(7) });
    const a = mm.mmap(0, 3 * PAGE, PROT_READ, MAP_SHARED, file);
    expect(vmm.userRead(a + 4998, 4)).toEqual(bytes(7, 7, 0, 0));
    expect(signalOf(() => vmm.userRead(a + 2 * PAGE + 5, 1))).toEqual({
      signo: SIGBUS,
      code: BUS_ADRERR,
      addr: BigInt(a + 2 * PAGE + 5),
    });
    // a private write fault past EOF is SIGBUS too
    const p = mm.mmap(0, 3 * PAGE, RW, MAP_PRIVATE, file);
    expect(signalOf(() => vmm.userWrite(p + 2 * PAGE, bytes(1))).signo).toBe(SIGBUS);
    expect(mm.stats().rssPages).toBe(1);
    // growing the file makes the page valid
    file.write(3 * PAGE - 1, bytes(9));
    expect(vmm.userRead(a + 3 * PAGE - 1, 1)).toEqual(bytes(9));
    mm.mmput();
    file.release();
    expect(vmm.phys.freeFrames).toBe(free0);
  });
});

describe("remap_pfn_range from a driver's mmap", () => {
  function driver(vmm: Vmm, pages: number, remapPages = pages) {
    const order = Math.ceil(Math.log2(pages));
    const pfn = vmm.phys.alloc_pages(GFP_KERNEL, order);
    for (let i = 0; i < pages; i++) vmm.phys.view((pfn + i) * PAGE, PAGE).fill(0xd0 + i);
    const file: MmapFile = {
      readable: true,
      writable: true,
      path: "/dev/buf0",
      ino: 413,
      dev: [0, 5],
      mmap: (vma, mm) => {
        mm.remap_pfn_range(vma, vma.vm_start, pfn + vma.vm_pgoff, remapPages * PAGE, vma.vm_page_prot);
      },
    };
    return { pfn, order, file };
  }

  it("maps the frames now, as special PTEs, with VM_IO|VM_PFNMAP|VM_DONTEXPAND|VM_DONTDUMP", () => {
    const { vmm, mm, free0 } = machine();
    const { pfn, order, file } = driver(vmm, 2);
    const a = mm.mmap(0, 2 * PAGE, RW, MAP_SHARED, file);
    const vma = mm.vma_lookup(a)!;
    const flags = VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
    expect(vma.vm_flags & flags).toBe(flags);
    expect(pte_pfn(mm.pgd.get(a + PAGE)!)).toBe(pfn + 1);
    expect(mm.pgd.get(a)! & _PAGE_SPECIAL).toBe(_PAGE_SPECIAL);
    expect(mm.stats().minorFaults).toBe(0);
    expect(vmm.userRead(a + PAGE, 1)).toEqual(bytes(0xd1));
    vmm.userWrite(a, bytes(0xee));
    expect(vmm.phys.view(pfn * PAGE, 1)).toEqual(bytes(0xee));
    // no struct page references for raw PFNs
    expect(vmm.phys.page_ref_count(pfn)).toBe(1);
    expect(mm.stats().rssPages).toBe(0);
    mm.munmap(a, 2 * PAGE);
    expect(vmm.phys.page_ref_count(pfn)).toBe(1);
    mm.mmput();
    vmm.phys.__free_pages(pfn, order);
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("a part not remapped has no ->fault: SIGBUS", () => {
    const { vmm, mm, free0 } = machine();
    const { pfn, order, file } = driver(vmm, 1);
    const a = mm.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, file);
    expect(vmm.userRead(a, 1)).toEqual(bytes(0xd0));
    expect(signalOf(() => vmm.userRead(a + PAGE, 1))).toEqual({
      signo: SIGBUS,
      code: BUS_ADRERR,
      addr: BigInt(a + PAGE),
    });
    mm.mmput();
    vmm.phys.__free_pages(pfn, order);
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("a copy-on-write mapping must be remapped whole: EINVAL, and mmap fails with it", () => {
    const { vmm, mm, free0 } = machine();
    const { pfn, order, file } = driver(vmm, 2, 1);
    const free1 = vmm.phys.freeFrames;
    // MAP_PRIVATE keeps VM_MAYWRITE: a COW mapping, even PROT_READ on a read-only fd
    for (const f of [file, { ...file, writable: false }]) {
      let code = "ok";
      try {
        mm.mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE, f);
      } catch (err) {
        code = err instanceof KernelError ? err.code : String(err);
      }
      expect(code).toBe("EINVAL");
      expect(mm.maps()).toBe("");
      expect(mm.stats().mapCount).toBe(0);
    }
    expect(vmm.phys.freeFrames).toBe(free1);
    // MAP_SHARED of a read-only fd has no VM_MAYWRITE: not COW, a partial remap is fine
    const ro: MmapFile = { ...file, writable: false };
    expect(mm.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, ro)).toBe(0x7ffff7ffd000);
    mm.mmput();
    vmm.phys.__free_pages(pfn, order);
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("a whole COW remap sets vm_pgoff to the pfn; a write copies into an ordinary page that is freed again", () => {
    const { vmm, mm, free0 } = machine();
    const { pfn, order, file } = driver(vmm, 2);
    const a = mm.mmap(0, 2 * PAGE, RW, MAP_PRIVATE, file);
    expect(mm.vma_lookup(a)!.vm_pgoff).toBe(pfn);
    const head = `${a.toString(16)}-${(a + 2 * PAGE).toString(16)} rw-p ${(pfn * PAGE).toString(16).padStart(8, "0")} 00:05 413`;
    expect(mm.maps()).toBe(`${head.padEnd(73)}/dev/buf0\n`);
    expect(mm.pgd.get(a)! & _PAGE_RW).toBe(0n);
    vmm.userWrite(a, bytes(1));
    const copy = pte_pfn(mm.pgd.get(a)!);
    expect(copy).not.toBe(pfn);
    expect(mm.pgd.get(a)! & _PAGE_SPECIAL).toBe(0n);
    expect(vmm.userRead(a, 2)).toEqual(bytes(1, 0xd0));
    expect(vmm.phys.view(pfn * PAGE, 1)).toEqual(bytes(0xd0)); // the device's frame is untouched
    expect(mm.stats()).toMatchObject({ rssPages: 1, cowCopies: 1 });
    // fork shares the copied page (a normal page: referenced) and the raw PFN (not referenced)
    const child = mm.fork();
    expect(vmm.phys.page_ref_count(copy)).toBe(2);
    vmm.switch_mm(child);
    expect(vmm.userRead(a, 1)).toEqual(bytes(1));
    expect(vmm.userRead(a + PAGE, 1)).toEqual(bytes(0xd1));
    child.mmput();
    expect(vmm.phys.page_ref_count(copy)).toBe(1);
    mm.munmap(a, 2 * PAGE);
    mm.mmput();
    expect(vmm.phys.page_ref_count(pfn)).toBe(1);
    vmm.phys.__free_pages(pfn, order);
    expect(vmm.phys.freeFrames).toBe(free0);
  });
});

describe("fork and copy-on-write", () => {
  it("private pages are shared write-protected; each side's writes stay its own; frames balance", () => {
    const { vmm, mm: parent, free0 } = machine();
    const a = parent.mmap(0, 2 * PAGE, RW, ANON);
    vmm.userWrite(a, bytes(0xa1));
    vmm.userWrite(a + PAGE, bytes(0xa2));
    const p0 = pte_pfn(parent.pgd.get(a)!);
    const p1 = pte_pfn(parent.pgd.get(a + PAGE)!);
    const child = parent.fork();
    // both PTEs read-only now, the frames referenced twice
    expect(parent.pgd.get(a)! & _PAGE_RW).toBe(0n);
    expect(child.pgd.get(a)! & _PAGE_RW).toBe(0n);
    expect(pte_pfn(child.pgd.get(a)!)).toBe(p0);
    expect(vmm.phys.page_ref_count(p0)).toBe(2);
    expect(child.stats().rssPages).toBe(2);
    // the child writes: a copy for the child, the parent keeps its bytes
    vmm.switch_mm(child);
    const beforeCopy = vmm.phys.freeFrames;
    vmm.userWrite(a, bytes(0xc1));
    expect(vmm.phys.freeFrames).toBe(beforeCopy - 1);
    expect(pte_pfn(child.pgd.get(a)!)).not.toBe(p0);
    expect(vmm.phys.page_ref_count(p0)).toBe(1);
    expect(child.stats().cowCopies).toBe(1);
    vmm.switch_mm(parent);
    expect(vmm.userRead(a, 1)).toEqual(bytes(0xa1));
    // the parent's page is exclusively its own again: the write reuses it (wp_page_reuse), no new frame
    const beforeReuse = vmm.phys.freeFrames;
    vmm.userWrite(a, bytes(0xa3));
    expect(vmm.phys.freeFrames).toBe(beforeReuse);
    expect(pte_pfn(parent.pgd.get(a)!)).toBe(p0);
    expect(parent.stats().cowCopies).toBe(0);
    // the other way round on the second page: the parent writes first
    vmm.userWrite(a + PAGE, bytes(0xb3));
    expect(pte_pfn(parent.pgd.get(a + PAGE)!)).not.toBe(p1);
    vmm.switch_mm(child);
    expect(vmm.userRead(a, 1)).toEqual(bytes(0xc1));
    expect(vmm.userRead(a + PAGE, 1)).toEqual(bytes(0xa2));
    expect(pte_pfn(child.pgd.get(a + PAGE)!)).toBe(p1);
    child.mmput();
    expect(child.dead).toBe(true);
    parent.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("MAP_SHARED writes are seen by both sides; the shmem page is referenced by the cache and both PTEs", () => {
    const { vmm, mm: parent, free0 } = machine();
    const s = parent.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    vmm.userWrite(s, bytes(1));
    const child = parent.fork();
    vmm.switch_mm(child);
    expect(vmm.userRead(s, 1)).toEqual(bytes(1));
    vmm.userWrite(s, bytes(2));
    vmm.switch_mm(parent);
    expect(vmm.userRead(s, 1)).toEqual(bytes(2));
    vmm.userWrite(s, bytes(3));
    vmm.switch_mm(child);
    expect(vmm.userRead(s, 1)).toEqual(bytes(3));
    const pfn = pte_pfn(child.pgd.get(s)!);
    expect(pte_pfn(parent.pgd.get(s)!)).toBe(pfn);
    expect(vmm.phys.page_ref_count(pfn)).toBe(3);
    expect(child.stats().cowCopies + parent.stats().cowCopies).toBe(0);
    // the shmem object outlives the parent's unmap while the child maps it
    vmm.switch_mm(parent);
    parent.munmap(s, PAGE);
    expect(vmm.phys.page_ref_count(pfn)).toBe(2);
    parent.mmput();
    vmm.switch_mm(child);
    expect(vmm.userRead(s, 1)).toEqual(bytes(3));
    child.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("zero-page-only private memory and MAP_PRIVATE file pages are not copied at fork: the child faults them", () => {
    const { vmm, mm: parent, free0 } = machine();
    const z = parent.mmap(0, PAGE, RW, ANON);
    expect(vmm.userRead(z, 1)).toEqual(bytes(0));
    const child = parent.fork();
    expect(child.pgd.get(z) ?? 0n).toBe(0n);
    vmm.switch_mm(child);
    expect(vmm.userRead(z, 1)).toEqual(bytes(0));
    vmm.userWrite(z, bytes(5));
    vmm.switch_mm(parent);
    expect(vmm.userRead(z, 1)).toEqual(bytes(0));
    parent.mmput();
    child.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });
});

describe("no frame leaks across mprotect, mremap, munmap, fork", () => {
  it("a long sequence ends with every frame back", () => {
    const { vmm, mm, free0 } = machine();
    const a = mm.mmap(0, 8 * PAGE, RW, ANON);
    for (let i = 0; i < 8; i++) vmm.userWrite(a + i * PAGE, bytes(i + 1));
    mm.mprotect(a + 2 * PAGE, 2 * PAGE, PROT_READ);
    mm.mprotect(a + 3 * PAGE, PAGE, PROT_NONE);
    const b = mm.mremap(a + 4 * PAGE, 4 * PAGE, 6 * PAGE, MREMAP_MAYMOVE);
    expect(vmm.userRead(b + 3 * PAGE, 1)).toEqual(bytes(8));
    vmm.userWrite(b + 5 * PAGE, bytes(9));
    mm.munmap(a + PAGE, PAGE);
    const c = mm.mremap(b, 2 * PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x100000000);
    expect(vmm.userRead(c, 1)).toEqual(bytes(5));
    const s = mm.mmap(0, 3 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    vmm.userWrite(s, new Uint8Array(3 * PAGE).fill(1));
    mm.mprotect(s + PAGE, PAGE, PROT_READ); // splits the shmem VMA
    const child = mm.fork();
    vmm.switch_mm(child);
    vmm.userWrite(b + 3 * PAGE, bytes(0xcc));
    vmm.userWrite(s + 2 * PAGE, bytes(0xdd));
    mm.munmap(s, PAGE);
    vmm.switch_mm(mm);
    expect(vmm.userRead(b + 3 * PAGE, 1)).toEqual(bytes(8));
    expect(vmm.userRead(s + 2 * PAGE, 1)).toEqual(bytes(0xdd));
    mm.mmap(a, 2 * PAGE, PROT_READ, ANON | MAP_FIXED);
    mm.munmap(0, 0x7ffffffff000);
    expect(mm.stats()).toMatchObject({ mapCount: 0, rssPages: 0 });
    child.mmput();
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });
});

describe("MAP_POPULATE", () => {
  it("prefaults: private writable pages get frames of their own, read-only ones the zero page", () => {
    const { vmm, mm, free0 } = machine();
    const free1 = vmm.phys.freeFrames;
    const a = mm.mmap(0, 4 * PAGE, RW, ANON | MAP_POPULATE);
    expect(mm.stats()).toMatchObject({ rssPages: 4, zeroPageMaps: 0, minorFaults: 4 });
    const pfns = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const pte = mm.pgd.get(a + i * PAGE)!;
      expect(pte & (_PAGE_RW | _PAGE_SPECIAL)).toBe(_PAGE_RW);
      pfns.add(pte_pfn(pte));
    }
    expect(pfns.size).toBe(4);
    expect(pfns.has(vmm.zeroPfn)).toBe(false);
    expect(vmm.phys.freeFrames).toBe(free1 - 4 - (mm.pgd.tableFrames - 1));
    // a read-only private mapping is populated with read faults: the zero page
    const r = mm.mmap(0, 2 * PAGE, PROT_READ, ANON | MAP_POPULATE);
    expect(pte_pfn(mm.pgd.get(r)!)).toBe(vmm.zeroPfn);
    expect(mm.stats()).toMatchObject({ rssPages: 4, zeroPageMaps: 2 });
    // shared anonymous memory: shmem pages, read faults
    const s = mm.mmap(0, 2 * PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE);
    expect(mm.stats().rssPages).toBe(6);
    expect(mm.pgd.get(s + PAGE)! & _PAGE_SPECIAL).toBe(0n);
    // MAP_POPULATE | MAP_NONBLOCK populates nothing
    const n = mm.mmap(0, 2 * PAGE, RW, ANON | MAP_POPULATE | MAP_NONBLOCK);
    expect(mm.pgd.get(n) ?? 0n).toBe(0n);
    expect(mm.stats().rssPages).toBe(6);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("populates only the new range, also when it merges into an existing VMA; MAP_LOCKED populates too", () => {
    const { vmm, mm, free0 } = machine();
    const a = mm.mmap(0x30000000, 2 * PAGE, RW, ANON | MAP_FIXED);
    mm.mmap(0x30002000, 2 * PAGE, RW, ANON | MAP_FIXED | MAP_POPULATE);
    expect(mm.stats()).toMatchObject({ mapCount: 1, rssPages: 2 });
    expect(mm.pgd.get(a)).toBe(0n);
    expect(mm.pgd.get(a + 2 * PAGE)! & _PAGE_RW).toBe(_PAGE_RW);
    // VM_LOCKED populates even with MAP_NONBLOCK
    mm.mmap(0x40000000, PAGE, RW, ANON | MAP_FIXED | MAP_LOCKED | MAP_NONBLOCK);
    expect(mm.stats().rssPages).toBe(3);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });

  it("populates file mappings through ->fault, private writable ones with copies", () => {
    const { vmm, mm, free0 } = machine();
    const file = new PageCacheFile(vmm.phys, { data: new Uint8Array(2 * PAGE).fill(3) });
    const a = mm.mmap(0, 2 * PAGE, RW, MAP_PRIVATE | MAP_POPULATE, file);
    expect(mm.stats()).toMatchObject({ rssPages: 2, cowCopies: 2 });
    expect(file.cachedPages).toBe(2);
    expect(mm.pgd.get(a)! & _PAGE_RW).toBe(_PAGE_RW);
    const sh = mm.mmap(0x200000000, 2 * PAGE, PROT_READ, MAP_SHARED | MAP_POPULATE | MAP_FIXED, file);
    expect(pte_pfn(mm.pgd.get(sh)!)).not.toBe(pte_pfn(mm.pgd.get(a)!));
    expect(mm.stats().rssPages).toBe(4);
    mm.mmput();
    file.release();
    expect(vmm.phys.freeFrames).toBe(free0);
  });
});

describe("PROT_NONE on populated pages", () => {
  it("keeps the frame in an inverted, non-present PTE and gets it back on mprotect (pgtable-invert.h)", () => {
    const { vmm, mm, free0 } = machine();
    const a = mm.mmap(0, PAGE, RW, ANON);
    vmm.userWrite(a, Uint8Array.of(0x11, 0x22));
    const before = mm.pgd.get(a)!;
    const pfn = pte_pfn(before);
    mm.mprotect(a, PAGE, PROT_NONE);
    const none = mm.pgd.get(a)!;
    // P and RW clear, PROTNONE (bit 8) set, A and D kept, NX from PAGE_NONE (none), frame bits inverted.
    expect(none & 0x1ffn).toBe(0x160n);
    expect((none >> 12n) & 0xff_ffff_ffffn).toBe(~BigInt(pfn) & 0xff_ffff_ffffn);
    expect(pte_pfn(none)).toBe(pfn);
    expect(signalOf(() => vmm.userRead(a, 1))).toEqual({
      signo: SIGSEGV,
      code: SEGV_ACCERR,
      addr: BigInt(a),
    });
    mm.mprotect(a, PAGE, PROT_READ);
    const back = mm.pgd.get(a)!;
    expect(pte_pfn(back)).toBe(pfn);
    expect(back & 0xfffn).toBe(0x065n); // P|US|A|D, read-only
    expect([...vmm.userRead(a, 2)]).toEqual([0x11, 0x22]);
    // A PROT_NONE page still holds its frame: munmap releases it.
    mm.mprotect(a, PAGE, PROT_NONE);
    mm.munmap(a, PAGE);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0);
  });
});
