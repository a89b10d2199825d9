// The mmap family against Linux 6.12: the errno of every refused call and the order the checks run in
// (arch/x86/kernel/sys_x86_64.c sys_mmap, mm/mmap.c ksys_mmap_pgoff / do_mmap / __get_unmapped_area,
// mm/huge_memory.c __thp_get_unmapped_area, mm/vma.c do_vmi_munmap, mm/mprotect.c do_mprotect_pkey, mm/mremap.c,
// mm/mmap.c brk), placement (arch_get_unmapped_area_topdown), and /proc/<pid>/maps text (fs/proc/task_mmu.c).

import { KernelError } from "@kbridge/uapi";
import { describe, expect, it } from "vitest";
import {
  GFP_KERNEL,
  MAP_32BIT,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_HUGETLB,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_SYNC,
  type MmapFile,
  type MmOptions,
  type MmStruct,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PageCacheFile,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_NONE,
  PROT_READ,
  PROT_SEM,
  PROT_WRITE,
  pte_pfn,
  SEGV_MAPERR,
  SIGBUS,
  SIGSEGV,
  SignalError,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_HUGETLB,
  VM_IO,
  VM_MAYWRITE,
  VM_PFNMAP,
  VM_SHARED,
  type Vma,
  Vmm,
} from "../src/index.js";

const PAGE = 4096;
const SZ_2M = 2 * 1024 * 1024;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
/** mm->mmap_base without ASLR: DEFAULT_MAP_WINDOW (0x7ffffffff000) minus the 128 MiB minimum stack gap. */
const MMAP_BASE = 0x7ffff7fff000;
const TASK_SIZE = 0x7ffffffff000;
const U64_MAX = 2n ** 64n - 1n;

function setup(options?: MmOptions): { vmm: Vmm; mm: MmStruct } {
  const vmm = new Vmm({ ram: 16 << 20 });
  const mm = vmm.mm_alloc(options);
  vmm.switch_mm(mm);
  return { vmm, mm };
}

/** The errno name a call throws, "ok" when it returns. */
function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof KernelError) return err.code;
    throw err;
  }
  return "ok";
}

function state(vmm: Vmm, mm: MmStruct) {
  return { maps: mm.maps(), stats: mm.stats(), brk: mm.brkValue, free: vmm.phys.freeFrames };
}

/** The call fails with `code` and leaves the address space (VMAs, counters, break, frames) as it was. */
function expectErrno(vmm: Vmm, mm: MmStruct, fn: () => unknown, code: string): void {
  const before = state(vmm, mm);
  expect(errnoOf(fn)).toBe(code);
  expect(state(vmm, mm)).toEqual(before);
}

/** A driver-like file: f_mode bits, and an mmap that accepts (or the given body). */
function devFile(over: Partial<MmapFile> = {}): MmapFile {
  return { readable: true, writable: true, mmap: () => {}, ...over };
}

/** An anonymous maps() line: `start-end perms 00000000 00:00 0 ` (trailing space, no name). */
function anonLine(start: number, end: number, perms: string): string {
  return `${start.toString(16).padStart(8, "0")}-${end.toString(16).padStart(8, "0")} ${perms} 00000000 00:00 0 \n`;
}

/** A maps() line with a name: the prefix padded to column 73 (seq_setwidth(25 + 6 * 8 - 1), seq_pad, ' '). */
function named(prefix: string, name: string): string {
  return `${prefix}${" ".repeat(73 - prefix.length)}${name}\n`;
}

function fill(vmm: Vmm, addr: number, len: number, byte: number): void {
  vmm.userWrite(addr, new Uint8Array(len).fill(byte));
}

describe("mmap: errors in Linux's order", () => {
  it("an unaligned offset is EINVAL before everything else (sys_mmap)", () => {
    const { vmm, mm } = setup();
    // no file, no MAP_ANONYMOUS (EBADF), length 0 (EINVAL), length -1 (ENOMEM): the offset comes first
    expectErrno(vmm, mm, () => mm.mmap(0, 0, PROT_READ, MAP_PRIVATE, undefined, 1), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0, U64_MAX, PROT_READ, 0, undefined, 0x800), "EINVAL");
    // even for an anonymous mapping, whose offset is otherwise ignored
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, ANON, undefined, 4095), "EINVAL");
    expect(mm.mmap(0, PAGE, RW, ANON, undefined, 8192)).toBe(MMAP_BASE - PAGE);
  });

  it("no file without MAP_ANONYMOUS is EBADF, before length 0 (ksys_mmap_pgoff)", () => {
    const { vmm, mm } = setup();
    expectErrno(vmm, mm, () => mm.mmap(0, 0, PROT_READ, MAP_PRIVATE), "EBADF");
    expectErrno(vmm, mm, () => mm.mmap(0, 0, PROT_READ, 0), "EBADF");
    expectErrno(vmm, mm, () => mm.mmap(0, U64_MAX, RW, MAP_SHARED | MAP_FIXED, undefined), "EBADF");
  });

  it("MAP_HUGETLB on a file that is not hugetlbfs is EINVAL before the length checks", () => {
    const { vmm, mm } = setup();
    const f = devFile();
    expectErrno(vmm, mm, () => mm.mmap(0, U64_MAX, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, f), "EINVAL");
  });

  it("length 0 is EINVAL before MAP_FIXED's address checks", () => {
    const { vmm, mm } = setup();
    expectErrno(vmm, mm, () => mm.mmap(0, 0, RW, ANON), "EINVAL");
    // MAP_FIXED below mmap_min_addr would be EPERM, past TASK_SIZE ENOMEM
    expectErrno(vmm, mm, () => mm.mmap(0x1000, 0, RW, ANON | MAP_FIXED), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0xffff800000000000n, 0, RW, ANON | MAP_FIXED), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0, 0, RW, MAP_SHARED, devFile()), "EINVAL");
  });

  it("a length that overflows PAGE_ALIGN is ENOMEM, before the mapping type (flags=0, len=-1)", () => {
    const { vmm, mm } = setup();
    const f = devFile();
    expectErrno(vmm, mm, () => mm.mmap(0, U64_MAX, PROT_READ, 0, f), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(0, U64_MAX, PROT_READ, MAP_ANONYMOUS), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(0, 2n ** 64n - 4095n, RW, ANON), "ENOMEM");
  });

  it("a length above TASK_SIZE is ENOMEM, before MAP_FIXED's alignment", () => {
    const { vmm, mm } = setup();
    expectErrno(vmm, mm, () => mm.mmap(0, 2n ** 64n - 4096n, RW, ANON), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(0, TASK_SIZE + PAGE, RW, ANON), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(1, TASK_SIZE + PAGE, RW, ANON | MAP_FIXED), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(0, TASK_SIZE + PAGE, RW, MAP_ANONYMOUS), "ENOMEM");
  });

  it("map_count above vm.max_map_count is ENOMEM, before the mapping type", () => {
    const { vmm, mm } = setup({ maxMapCount: 2 });
    // three VMAs that cannot merge: map_count 3 > 2
    mm.mmap(0, PAGE, PROT_READ, ANON);
    mm.mmap(0, PAGE, RW, ANON);
    mm.mmap(0, PAGE, PROT_READ, ANON);
    expect(mm.stats().mapCount).toBe(3);
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, ANON), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, MAP_ANONYMOUS), "ENOMEM");
    // munmap that would split one VMA in three at map_count >= max: ENOMEM too (vms_gather_munmap_vmas)
    const big = setup({ maxMapCount: 1 });
    const a = big.mm.mmap(0, 3 * PAGE, RW, ANON);
    expectErrno(big.vmm, big.mm, () => big.mm.munmap(a + PAGE, PAGE), "ENOMEM");
    expect(big.mm.munmap(a, PAGE)).toBe(0);
  });

  it("MAP_FIXED: end past TASK_SIZE ENOMEM, then unaligned EINVAL, then below mmap_min_addr EPERM", () => {
    const { vmm, mm } = setup();
    expectErrno(vmm, mm, () => mm.mmap(TASK_SIZE, PAGE, RW, ANON | MAP_FIXED), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(TASK_SIZE - PAGE + 1, PAGE, RW, ANON | MAP_FIXED), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(0x10000001, PAGE, RW, ANON | MAP_FIXED), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0x1001, PAGE, RW, ANON | MAP_FIXED), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0x1000, PAGE, RW, ANON | MAP_FIXED), "EPERM");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, ANON | MAP_FIXED), "EPERM");
    expectErrno(vmm, mm, () => mm.mmap(0xf000, PAGE, RW, ANON | MAP_FIXED), "EPERM");
    // EPERM comes before the mapping type and before MAP_FIXED_NOREPLACE's EEXIST
    expectErrno(vmm, mm, () => mm.mmap(0x1000, PAGE, RW, MAP_ANONYMOUS | MAP_FIXED), "EPERM");
    expectErrno(vmm, mm, () => mm.mmap(0x1001, PAGE, RW, ANON | MAP_FIXED_NOREPLACE), "EINVAL");
    expect(mm.mmap(0x10000, PAGE, RW, ANON | MAP_FIXED)).toBe(0x10000);
    expect(mm.mmap(TASK_SIZE - PAGE, PAGE, RW, ANON | MAP_FIXED)).toBe(TASK_SIZE - PAGE);
    expect(mm.maps()).toBe(anonLine(0x10000, 0x11000, "rw-p") + anonLine(0x7fffffffe000, TASK_SIZE, "rw-p"));
  });

  it("MAP_FIXED below mmap_min_addr is allowed with CAP_SYS_RAWIO or a lower vm.mmap_min_addr", () => {
    const raw = setup({ capSysRawio: true });
    expect(raw.mm.mmap(0, PAGE, RW, ANON | MAP_FIXED)).toBe(0);
    raw.vmm.userWrite(0, new Uint8Array([7]));
    expect(raw.vmm.userRead(0, 1)).toEqual(new Uint8Array([7]));
    expect(raw.mm.maps()).toBe(anonLine(0, 0x1000, "rw-p"));
    const low = setup({ mmapMinAddr: 4096 });
    expect(low.mm.mmap(0x1000, PAGE, RW, ANON | MAP_FIXED)).toBe(0x1000);
    expectErrno(low.vmm, low.mm, () => low.mm.mmap(0, PAGE, RW, ANON | MAP_FIXED), "EPERM");
  });

  it("MAP_FIXED_NOREPLACE: EEXIST on any overlap, before the mapping type; the exact address otherwise", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0x20000000, 2 * PAGE, RW, ANON | MAP_FIXED);
    expectErrno(vmm, mm, () => mm.mmap(a + PAGE, 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE), "EEXIST");
    expectErrno(vmm, mm, () => mm.mmap(a - PAGE, 2 * PAGE, RW, ANON | MAP_FIXED_NOREPLACE), "EEXIST");
    expectErrno(vmm, mm, () => mm.mmap(a, PAGE, RW, MAP_ANONYMOUS | MAP_FIXED_NOREPLACE), "EEXIST");
    expectErrno(
      vmm,
      mm,
      () => mm.mmap(a - PAGE, 4 * PAGE, RW, 0x0f | MAP_FIXED_NOREPLACE, devFile()),
      "EEXIST",
    );
    expect(mm.mmap(a + 2 * PAGE, PAGE, PROT_READ, ANON | MAP_FIXED_NOREPLACE)).toBe(a + 2 * PAGE);
    expect(mm.maps()).toBe(anonLine(a, a + 2 * PAGE, "rw-p") + anonLine(a + 2 * PAGE, a + 3 * PAGE, "r--p"));
  });

  it("MAP_FIXED replaces what it covers, splitting the old mapping", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0x30000000, 3 * PAGE, RW, ANON | MAP_FIXED);
    fill(vmm, a, 3 * PAGE, 0xaa);
    const free = vmm.phys.freeFrames;
    expect(mm.mmap(a + PAGE, PAGE, PROT_READ, ANON | MAP_FIXED)).toBe(a + PAGE);
    expect(vmm.phys.freeFrames).toBe(free + 1); // the replaced page went back
    expect(mm.maps()).toBe(
      anonLine(a, a + PAGE, "rw-p") +
        anonLine(a + PAGE, a + 2 * PAGE, "r--p") +
        anonLine(a + 2 * PAGE, a + 3 * PAGE, "rw-p"),
    );
    expect(vmm.userRead(a + PAGE - 1, 2)).toEqual(new Uint8Array([0xaa, 0]));
    expect(vmm.userRead(a + 2 * PAGE, 1)).toEqual(new Uint8Array([0xaa]));
    expect(mm.stats().rssPages).toBe(2); // the two old pages; the zero page just read is not counted
  });

  it("an anonymous mapping takes MAP_SHARED or MAP_PRIVATE only: EINVAL for 0, MAP_SHARED_VALIDATE, 0xf", () => {
    const { vmm, mm } = setup();
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, MAP_ANONYMOUS), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, MAP_ANONYMOUS | MAP_SHARED_VALIDATE), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, MAP_ANONYMOUS | 0x0f), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, MAP_ANONYMOUS | MAP_SHARED | MAP_GROWSDOWN), "EINVAL");
    expect(mm.mmap(0, PAGE, RW, MAP_ANONYMOUS | MAP_SHARED)).toBe(MMAP_BASE - PAGE);
  });

  it("a file mapping's type: EINVAL for 0 or 0xf, after EOVERFLOW", () => {
    const { vmm, mm } = setup();
    const f = new PageCacheFile(vmm.phys, { size: PAGE });
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, 0, f), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, 0x0f, f), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, 0, f, 2n ** 63n - 4096n), "EOVERFLOW");
  });

  it("EOVERFLOW when offset + length passes the largest file offset (file_mmap_ok, MAX_LFS_FILESIZE)", () => {
    const { vmm, mm } = setup();
    const f = new PageCacheFile(vmm.phys, { size: PAGE, path: "/big", ino: 5, dev: [8, 1] });
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, f, 2n ** 63n - 4096n), "EOVERFLOW");
    expectErrno(
      vmm,
      mm,
      () => mm.mmap(0, 2 * PAGE, PROT_READ, MAP_PRIVATE, f, 2n ** 63n - 8192n),
      "EOVERFLOW",
    );
    // after MAP_FIXED_NOREPLACE's EEXIST and MAP_FIXED's EPERM
    const a = mm.mmap(0x40000000, PAGE, PROT_READ, ANON | MAP_FIXED);
    expectErrno(
      vmm,
      mm,
      () => mm.mmap(a, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, f, 2n ** 63n),
      "EEXIST",
    );
    expectErrno(
      vmm,
      mm,
      () => mm.mmap(0x1000, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED, f, 2n ** 63n),
      "EPERM",
    );
    // the last page below 2^63 is fine
    const b = mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, f, 2n ** 63n - 8192n);
    expect(mm.maps()).toContain(
      named(`${b.toString(16)}-${(b + PAGE).toString(16)} r--p 7fffffffffffe000 08:01 5`, "/big"),
    );
  });

  it("a character device's limit is ULONG_MAX, not MAX_LFS_FILESIZE (file_mmap_size_max)", () => {
    const { vmm, mm } = setup();
    const dev = devFile();
    expect(mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, dev, 2n ** 63n)).toBe(MMAP_BASE - PAGE);
    expect(mm.vma_lookup(MMAP_BASE - PAGE)!.vm_pgoff).toBe(2 ** 51);
    expect(mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, dev, 2n ** 64n - 8192n)).toBe(MMAP_BASE - 2 * PAGE);
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, dev, 2n ** 64n - 4096n), "EOVERFLOW");
    expectErrno(
      vmm,
      mm,
      () => mm.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, dev, 2n ** 64n - 8192n),
      "EOVERFLOW",
    );
  });

  it("MAP_SHARED_VALIDATE refuses flags outside LEGACY_MAP_MASK with EOPNOTSUPP; MAP_SHARED ignores them", () => {
    const { vmm, mm } = setup();
    const f = devFile();
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | 0x200000, f), "EOPNOTSUPP");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, f), "EOPNOTSUPP");
    // EOPNOTSUPP comes before EACCES (not readable, PROT_WRITE on a read-only fd)
    const ro = devFile({ readable: false, writable: false });
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, MAP_SHARED_VALIDATE | 0x200000, ro), "EOPNOTSUPP");
    expect(mm.mmap(0, PAGE, PROT_READ, MAP_SHARED | 0x200000 | MAP_SYNC, f)).toBe(MMAP_BASE - PAGE);
    // a DAX-like file takes MAP_SYNC
    const dax = devFile({ mmapSupportedFlags: MAP_SYNC });
    expect(mm.mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, dax)).toBe(MMAP_BASE - 2 * PAGE);
    expect(mm.maps()).toBe(
      `7ffff7ffd000-7ffff7ffe000 r--s 00000000 00:00 0 \n7ffff7ffe000-7ffff7fff000 r--s 00000000 00:00 0 \n`,
    );
  });

  it("a file not opened for reading is EACCES for every mapping type", () => {
    const { vmm, mm } = setup();
    const wo = new PageCacheFile(vmm.phys, { size: PAGE, readable: false, writable: true });
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, wo), "EACCES");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, wo), "EACCES");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_NONE, MAP_SHARED_VALIDATE, wo), "EACCES");
    // before ENODEV
    expectErrno(
      vmm,
      mm,
      () => mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, { readable: false, writable: true }),
      "EACCES",
    );
  });

  it("MAP_SHARED + PROT_WRITE on a read-only fd is EACCES; MAP_PRIVATE + PROT_WRITE is fine", () => {
    const { vmm, mm } = setup();
    const ro = new PageCacheFile(vmm.phys, {
      size: 2 * PAGE,
      writable: false,
      path: "/ro",
      ino: 9,
      dev: [0, 0x2a],
    });
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, MAP_SHARED, ro), "EACCES");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_WRITE, MAP_SHARED_VALIDATE, ro), "EACCES");
    const p = mm.mmap(0, PAGE, RW, MAP_PRIVATE, ro);
    expect(p).toBe(MMAP_BASE - PAGE);
    // MAP_SHARED without PROT_WRITE works, read-only for good: VM_MAYWRITE and VM_SHARED are cleared
    const s = mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, ro, PAGE);
    expect(s).toBe(MMAP_BASE - 2 * PAGE);
    const vma = mm.vma_lookup(s)!;
    expect(vma.vm_flags & (VM_MAYWRITE | VM_SHARED)).toBe(0);
    expect(mm.maps()).toBe(
      named("7ffff7ffd000-7ffff7ffe000 r--s 00001000 00:2a 9", "/ro") +
        named("7ffff7ffe000-7ffff7fff000 rw-p 00000000 00:2a 9", "/ro"),
    );
    expectErrno(vmm, mm, () => mm.mprotect(s, PAGE, RW), "EACCES");
    expect(mm.mprotect(p, PAGE, PROT_READ)).toBe(0);
    expect(mm.mprotect(p, PAGE, RW)).toBe(0);
  });

  it("an append-only inode refuses shared mappings through a writable fd, even without PROT_WRITE", () => {
    const { vmm, mm } = setup();
    const ap = devFile({ appendOnly: true });
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, ap), "EACCES");
    expect(mm.mmap(0, PAGE, RW, MAP_PRIVATE, ap)).toBe(MMAP_BASE - PAGE);
    expect(mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, devFile({ appendOnly: true, writable: false }))).toBe(
      MMAP_BASE - 2 * PAGE,
    );
  });

  it("a file without f_op->mmap is ENODEV; noexec + PROT_EXEC is EPERM before it", () => {
    const { vmm, mm } = setup();
    const pipe: MmapFile = { readable: true, writable: true };
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, pipe), "ENODEV");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_SHARED, pipe), "ENODEV");
    expectErrno(
      vmm,
      mm,
      () => mm.mmap(0, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, { ...pipe, noexec: true }),
      "EPERM",
    );
    const nx = devFile({ noexec: true });
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_EXEC, MAP_PRIVATE, nx), "EPERM");
    // without PROT_EXEC it maps, and VM_MAYEXEC is gone: mprotect(PROT_EXEC) is EACCES
    const a = mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE, nx);
    expectErrno(vmm, mm, () => mm.mprotect(a, PAGE, PROT_READ | PROT_EXEC), "EACCES");
    // MAP_GROWSDOWN on a file: EINVAL after ENODEV
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, pipe), "ENODEV");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_GROWSDOWN, devFile()), "EINVAL");
  });

  it("an error from f_op->mmap is mmap's, and the VMA is gone again", () => {
    const { vmm, mm } = setup();
    let seen: Vma | undefined;
    const f = devFile({
      mmap: (vma) => {
        seen = vma;
        throw new KernelError("ENXIO", "no such region");
      },
    });
    expectErrno(vmm, mm, () => mm.mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, f, 3 * PAGE), "ENXIO");
    expect(seen?.vm_start).toBe(MMAP_BASE - 2 * PAGE);
    expect(seen?.vm_end).toBe(MMAP_BASE);
    expect(seen?.vm_pgoff).toBe(3);
    expect(mm.stats().mapCount).toBe(0);
  });
});

describe("mmap: placement", () => {
  it("goes top-down from mmap_base and merges adjacent anonymous mappings", () => {
    const { mm } = setup();
    expect(mm.mmapBase).toBe(MMAP_BASE);
    expect(mm.mmap(0, PAGE, RW, ANON)).toBe(0x7ffff7ffe000);
    expect(mm.mmap(0, 100, RW, ANON)).toBe(0x7ffff7ffd000);
    expect(mm.maps()).toBe("7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
    expect(mm.stats().mapCount).toBe(1);
    // a different protection does not merge
    expect(mm.mmap(0, 2 * PAGE, PROT_READ, ANON)).toBe(0x7ffff7ffb000);
    // shared anonymous memory is shmem: never merged, "/dev/zero (deleted)"
    expect(mm.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS)).toBe(0x7ffff7ffa000);
    expect(mm.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS)).toBe(0x7ffff7ff9000);
    expect(mm.maps()).toBe(
      `7ffff7ff9000-7ffff7ffa000 rw-s 00000000 00:01 0${" ".repeat(26)}/dev/zero (deleted)\n` +
        `7ffff7ffa000-7ffff7ffb000 rw-s 00000000 00:01 0${" ".repeat(26)}/dev/zero (deleted)\n` +
        "7ffff7ffb000-7ffff7ffd000 r--p 00000000 00:00 0 \n" +
        "7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n",
    );
    // a freed hole at the top is reused first
    mm.munmap(0x7ffff7ffe000, PAGE);
    expect(mm.mmap(0, PAGE, PROT_READ, ANON)).toBe(0x7ffff7ffe000);
  });

  it("merges a mapping that fills the gap between two compatible ones into one VMA", () => {
    const { mm } = setup();
    mm.mmap(0x50000000, PAGE, RW, ANON | MAP_FIXED);
    mm.mmap(0x50002000, PAGE, RW, ANON | MAP_FIXED);
    expect(mm.stats().mapCount).toBe(2);
    mm.mmap(0x50001000, PAGE, RW, ANON | MAP_FIXED);
    expect(mm.maps()).toBe(anonLine(0x50000000, 0x50003000, "rw-p"));
  });

  it("honours a free hint (page-rounded down), ignores a busy one, raises a low one to mmap_min_addr", () => {
    const { mm } = setup();
    expect(mm.mmap(0x200000123, PAGE, RW, ANON)).toBe(0x200000000);
    // busy: the hint is ignored, the area comes from the top-down search
    expect(mm.mmap(0x200000000, PAGE, PROT_READ, ANON)).toBe(MMAP_BASE - PAGE);
    // partly busy (the end would overlap) is busy too
    expect(mm.mmap(0x1ffffe000, 3 * PAGE, PROT_READ, ANON)).toBe(MMAP_BASE - 4 * PAGE);
    // fits below the next mapping
    expect(mm.mmap(0x1ffffe000, 2 * PAGE, PROT_READ, ANON)).toBe(0x1ffffe000);
    // below vm.mmap_min_addr (65536): raised to it
    expect(mm.mmap(0x1000, PAGE, RW, ANON)).toBe(0x10000);
    expect(mm.mmap(0x1000, PAGE, RW, ANON)).toBe(MMAP_BASE - 5 * PAGE);
    // a hint that does not fit below TASK_SIZE is ignored
    expect(mm.mmap(TASK_SIZE - PAGE, 2 * PAGE, PROT_READ, ANON)).toBe(MMAP_BASE - 7 * PAGE);
  });

  it("aligns a private anonymous 2 MiB multiple without hint to 2 MiB (THP); not shared, not with a hint", () => {
    const { mm } = setup();
    // padded search: 4 MiB top-down at 0x7ffff7bff000, rounded up to 0x7ffff7c00000
    expect(mm.mmap(0, SZ_2M, RW, ANON)).toBe(0x7ffff7c00000);
    expect(mm.mmap(0, 2 * SZ_2M, RW, ANON)).toBe(0x7ffff7800000);
    // not a 2 MiB multiple: plain top-down, right below
    expect(mm.mmap(0, SZ_2M + PAGE, PROT_READ, ANON)).toBe(0x7ffff7800000 - SZ_2M - PAGE);
    // shared anonymous memory (shmem, huge pages off): plain top-down
    const s = setup().mm;
    expect(s.mmap(0, SZ_2M, RW, MAP_SHARED | MAP_ANONYMOUS)).toBe(MMAP_BASE - SZ_2M);
    // a busy hint falls back to the search without THP alignment
    const h = setup().mm;
    h.mmap(0x60000000, PAGE, PROT_READ, ANON | MAP_FIXED);
    expect(h.mmap(0x60000000, SZ_2M, RW, ANON)).toBe(MMAP_BASE - SZ_2M);
  });

  it("takes the upper 2 MiB boundary when the padded area is already aligned (top-down)", () => {
    const { mm } = setup();
    mm.mmap(0x7ffff7e00000, PAGE, PROT_READ, ANON | MAP_FIXED);
    // the gap above is too small; below 0x7ffff7e00000 the padded area starts at 0x7ffff7a00000, aligned
    expect(mm.mmap(0, SZ_2M, RW, ANON)).toBe(0x7ffff7c00000);
  });

  it("MAP_32BIT maps bottom-up from 1 GiB below 2 GiB", () => {
    const { mm } = setup();
    expect(mm.mmap(0, PAGE, RW, ANON | MAP_32BIT)).toBe(0x40000000);
    expect(mm.mmap(0, 3 * PAGE, RW, ANON | MAP_32BIT)).toBe(0x40001000);
    expect(mm.maps()).toBe(anonLine(0x40000000, 0x40004000, "rw-p"));
    // a hint below 2 GiB is honoured when free (arch_get_unmapped_area)
    expect(mm.mmap(0x10000000, PAGE, PROT_READ, ANON | MAP_32BIT)).toBe(0x10000000);
    // the THP padding applies here too: a 2 MiB multiple is padded, and the aligned start of the padded area
    // is passed over because the mm is top-down (__thp_get_unmapped_area)
    const t = setup().mm;
    expect(t.mmap(0, SZ_2M, RW, ANON | MAP_32BIT)).toBe(0x40200000);
  });

  it("6.12 THP-aligns a file without a get_unmapped_area of its own too, at its offset modulo 2 MiB", () => {
    const dev = devFile();
    expect(setup().mm.mmap(0, SZ_2M, PROT_READ, MAP_SHARED, dev)).toBe(0x7ffff7c00000);
    expect(setup().mm.mmap(0, SZ_2M, PROT_READ, MAP_SHARED, dev, SZ_2M)).toBe(0x7ffff7c00000);
    // an offset that leaves less than 2 MiB aligned is not padded
    expect(setup().mm.mmap(0, SZ_2M, PROT_READ, MAP_SHARED, dev, PAGE)).toBe(MMAP_BASE - SZ_2M);
    // 4 MiB at offset 4 KiB: the padded area 0x7ffff79ff000, moved up to the address that is 4 KiB into a 2 MiB page
    expect(setup().mm.mmap(0, 2 * SZ_2M, PROT_READ, MAP_SHARED, dev, PAGE)).toBe(0x7ffff7a01000);
    const { vmm, mm } = setup();
    const file = new PageCacheFile(vmm.phys, { size: SZ_2M });
    expect(mm.mmap(0, SZ_2M, RW, MAP_PRIVATE, file)).toBe(0x7ffff7c00000);
  });

  it("with 5-level paging a hint above 47 bits is honoured; without one the default window stays 47-bit", () => {
    const vmm = new Vmm({ ram: 16 << 20, levels: 5 });
    const mm = vmm.mm_alloc();
    expect(mm.mmap(0, PAGE, RW, ANON)).toBe(MMAP_BASE - PAGE);
    expect(mm.mmap(2 ** 50, PAGE, RW, ANON)).toBe(2 ** 50);
  });
});

describe("munmap", () => {
  it("EINVAL for an unaligned address, length 0, or a range outside the user half; 0 for a hole", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON);
    expectErrno(vmm, mm, () => mm.munmap(a + 1, PAGE), "EINVAL");
    expectErrno(vmm, mm, () => mm.munmap(a, 0), "EINVAL");
    expectErrno(vmm, mm, () => mm.munmap(0xffff800000000000n, PAGE), "EINVAL");
    expectErrno(vmm, mm, () => mm.munmap(a, TASK_SIZE), "EINVAL");
    expectErrno(vmm, mm, () => mm.munmap(TASK_SIZE + PAGE, PAGE), "EINVAL");
    expectErrno(vmm, mm, () => mm.munmap(0, U64_MAX), "EINVAL");
    expect(mm.munmap(0x10000000, 16 * PAGE)).toBe(0);
    expect(mm.munmap(TASK_SIZE - PAGE, PAGE)).toBe(0);
    expect(mm.stats().mapCount).toBe(1);
  });

  it("splits a VMA in three; the unaligned length is rounded up; the pages go back", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0, 4 * PAGE, RW, ANON);
    fill(vmm, a, 4 * PAGE, 0x5a);
    const free = vmm.phys.freeFrames;
    expect(mm.munmap(a + PAGE, PAGE + 1)).toBe(0);
    expect(vmm.phys.freeFrames).toBe(free + 2);
    expect(mm.maps()).toBe(anonLine(a, a + PAGE, "rw-p") + anonLine(a + 3 * PAGE, a + 4 * PAGE, "rw-p"));
    expect(mm.stats().rssPages).toBe(2);
    expect(mm.stats().totalVm).toBe(2 * PAGE);
    expect(vmm.userRead(a + 3 * PAGE, 1)).toEqual(new Uint8Array([0x5a]));
    const e = errorOf(() => vmm.userRead(a + PAGE, 1));
    expect(e).toBeInstanceOf(SignalError);
    expect((e as SignalError).signo).toBe(SIGSEGV);
    expect((e as SignalError).si_code).toBe(SEGV_MAPERR);
    // one call across both pieces and the hole between them
    expect(mm.munmap(a, 4 * PAGE)).toBe(0);
    expect(mm.maps()).toBe("");
  });
});

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("mprotect", () => {
  it("checks in do_mprotect_pkey's order", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0, 2 * PAGE, RW, ANON);
    // GROWSDOWN|GROWSUP first (before alignment and length 0)
    expectErrno(vmm, mm, () => mm.mprotect(a + 1, 0, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), "EINVAL");
    // unaligned start (before length 0)
    expectErrno(vmm, mm, () => mm.mprotect(a + 1, 0, PROT_READ), "EINVAL");
    // length 0 succeeds before prot is looked at, mapped or not
    expect(mm.mprotect(a, 0, 0x80)).toBe(0);
    expect(mm.mprotect(0x10000000, 0, 0xf0)).toBe(0);
    // end overflow is ENOMEM before the prot bits
    expectErrno(vmm, mm, () => mm.mprotect(a, U64_MAX, 0x80), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mprotect(a, 2n ** 64n - BigInt(a), 0x80), "ENOMEM");
    // unknown prot bits
    expectErrno(vmm, mm, () => mm.mprotect(a, PAGE, 0x80), "EINVAL");
    expectErrno(vmm, mm, () => mm.mprotect(a, PAGE, PROT_READ | 0x10), "EINVAL");
    // no VMA at all, or a hole at the start
    expectErrno(vmm, mm, () => mm.mprotect(0x10000000, PAGE, PROT_READ), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mprotect(a - PAGE, 2 * PAGE, PROT_READ), "ENOMEM");
    // PROT_GROWSDOWN on a VMA that does not grow down
    expectErrno(vmm, mm, () => mm.mprotect(a, PAGE, PROT_READ | PROT_GROWSDOWN), "EINVAL");
    // PROT_SEM is accepted
    expect(mm.mprotect(a, 2 * PAGE, RW | PROT_SEM)).toBe(0);
    expect(mm.maps()).toBe(anonLine(a, a + 2 * PAGE, "rw-p"));
  });

  it("PROT_GROWSDOWN on a MAP_GROWSDOWN VMA reaches down to the VMA's start", () => {
    const { mm } = setup();
    const a = mm.mmap(0x70000000, 4 * PAGE, RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
    expect(mm.mprotect(a + 2 * PAGE, PAGE, PROT_READ | PROT_GROWSDOWN)).toBe(0);
    expect(mm.maps()).toBe(anonLine(a, a + 3 * PAGE, "r--p") + anonLine(a + 3 * PAGE, a + 4 * PAGE, "rw-p"));
    // PROT_GROWSUP: x86 has no VM_GROWSUP
    expect(errnoOf(() => mm.mprotect(a, PAGE, PROT_READ | PROT_GROWSUP))).toBe("EINVAL");
  });

  it("a hole is ENOMEM, but the VMAs before it have been changed already", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0x70000000, 4 * PAGE, RW, ANON | MAP_FIXED);
    mm.munmap(a + 2 * PAGE, PAGE);
    fill(vmm, a, PAGE, 1);
    expect(errnoOf(() => mm.mprotect(a + PAGE, 3 * PAGE, PROT_READ))).toBe("ENOMEM");
    expect(mm.maps()).toBe(
      anonLine(a, a + PAGE, "rw-p") +
        anonLine(a + PAGE, a + 2 * PAGE, "r--p") +
        anonLine(a + 3 * PAGE, a + 4 * PAGE, "rw-p"),
    );
    expect(errorOf(() => vmm.userWrite(a + PAGE, new Uint8Array(1)))).toBeInstanceOf(SignalError);
    vmm.userWrite(a, new Uint8Array([2]));
  });

  it("splits a VMA and merges it back when the protection is restored", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0, 3 * PAGE, RW, ANON);
    fill(vmm, a, 3 * PAGE, 9);
    expect(mm.mprotect(a + PAGE, PAGE, PROT_NONE)).toBe(0);
    expect(mm.maps()).toBe(
      anonLine(a, a + PAGE, "rw-p") +
        anonLine(a + PAGE, a + 2 * PAGE, "---p") +
        anonLine(a + 2 * PAGE, a + 3 * PAGE, "rw-p"),
    );
    expect(mm.mprotect(a + PAGE, PAGE, RW)).toBe(0);
    expect(mm.maps()).toBe(anonLine(a, a + 3 * PAGE, "rw-p"));
    expect(vmm.userRead(a + PAGE, 1)).toEqual(new Uint8Array([9]));
  });

  it("adding PROT_WRITE to a MAP_SHARED mapping of a read-only file is EACCES; the earlier VMA already changed", () => {
    const { vmm, mm } = setup();
    const ro = devFile({ writable: false });
    const a = mm.mmap(0x71000000, PAGE, PROT_READ, ANON | MAP_FIXED);
    mm.mmap(0x71001000, PAGE, PROT_READ, MAP_SHARED | MAP_FIXED, ro);
    expectErrno(vmm, mm, () => mm.mprotect(a + PAGE, PAGE, RW), "EACCES");
    expect(errnoOf(() => mm.mprotect(a, 2 * PAGE, RW))).toBe("EACCES");
    expect(mm.maps()).toBe(anonLine(a, a + PAGE, "rw-p") + anonLine(a + PAGE, a + 2 * PAGE, "r--s"));
  });
});

describe("brk", () => {
  const START = 0x555555559000;

  it("grows, shrinks, refuses by returning the old break, and shows [heap]", () => {
    const { vmm, mm } = setup();
    expect(mm.brk(0)).toBe(START);
    expect(mm.brk(START + 0x21000)).toBe(START + 0x21000);
    expect(mm.maps()).toBe(`555555559000-55555557a000 rw-p 00000000 00:00 0${" ".repeat(26)}[heap]\n`);
    fill(vmm, START, 0x21000, 3);
    // an unaligned break: the heap ends at the next page
    expect(mm.brk(START + 0x22001)).toBe(START + 0x22001);
    expect(mm.vma_lookup(START)!.vm_end).toBe(START + 0x23000);
    // below start_brk: refused
    expect(mm.brk(START - PAGE)).toBe(START + 0x22001);
    // shrink: the pages go back
    const free = vmm.phys.freeFrames;
    expect(mm.brk(START + 0x1000)).toBe(START + 0x1000);
    expect(vmm.phys.freeFrames).toBe(free + 0x20);
    expect(mm.maps()).toBe(`555555559000-55555555a000 rw-p 00000000 00:00 0${" ".repeat(26)}[heap]\n`);
    // grown again, the new pages read zero
    expect(mm.brk(START + 0x3000)).toBe(START + 0x3000);
    expect(vmm.userRead(START + 0x1000, 2)).toEqual(new Uint8Array([0, 0]));
    expect(vmm.userRead(START, 1)).toEqual(new Uint8Array([3]));
    expect(mm.brk(START)).toBe(START);
    expect(mm.maps()).toBe("");
  });

  it("keeps one page between the heap and the next mapping, and stays below TASK_SIZE", () => {
    const { mm } = setup();
    mm.mmap(START + 0x10000, PAGE, PROT_READ, ANON | MAP_FIXED);
    expect(mm.brk(START + 0x10000)).toBe(START);
    expect(mm.brk(START + 0xf001)).toBe(START);
    expect(mm.brk(START + 0xf000)).toBe(START + 0xf000);
    expect(mm.brk(TASK_SIZE + PAGE)).toBe(START + 0xf000);
    expect(mm.brk(2n ** 64n - 1n)).toBe(START + 0xf000);
    expect(mm.stats().mapCount).toBe(2);
  });
});

describe("mremap", () => {
  it("flag and argument errors come before the VMA lookup", () => {
    const { vmm, mm } = setup();
    const hole = 0x10000000;
    expectErrno(vmm, mm, () => mm.mremap(hole, PAGE, PAGE, 8), "EINVAL");
    expectErrno(vmm, mm, () => mm.mremap(hole, PAGE, PAGE, MREMAP_FIXED, 0x20000000), "EINVAL");
    // DONTUNMAP without MAYMOVE, or with a size change, is EINVAL before the alignment check
    expectErrno(vmm, mm, () => mm.mremap(hole + 1, PAGE, PAGE, MREMAP_DONTUNMAP), "EINVAL");
    expectErrno(vmm, mm, () => mm.mremap(hole, PAGE, 2 * PAGE, MREMAP_DONTUNMAP | MREMAP_MAYMOVE), "EINVAL");
    expectErrno(vmm, mm, () => mm.mremap(hole + 1, PAGE, PAGE, MREMAP_MAYMOVE), "EINVAL");
    expectErrno(vmm, mm, () => mm.mremap(hole, PAGE, 0, MREMAP_MAYMOVE), "EINVAL");
    // only then: no VMA at the old address
    expectErrno(vmm, mm, () => mm.mremap(hole, PAGE, 2 * PAGE, MREMAP_MAYMOVE), "EFAULT");
    expectErrno(vmm, mm, () => mm.mremap(hole, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 1), "EFAULT");
  });

  it("shrinks in place, even when the old range runs past the VMA (the shrink path only unmaps)", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0, 4 * PAGE, RW, ANON);
    fill(vmm, a, 4 * PAGE, 4);
    const free = vmm.phys.freeFrames;
    expect(mm.mremap(a, 4 * PAGE, PAGE + 1, 0)).toBe(a);
    expect(vmm.phys.freeFrames).toBe(free + 2);
    expect(mm.maps()).toBe(anonLine(a, a + 2 * PAGE, "rw-p"));
    expect(vmm.userRead(a + PAGE, 1)).toEqual(new Uint8Array([4]));
    // old_len 8 pages over a 2-page VMA: the shrink path unmaps [a + PAGE, a + 8 PAGE) and returns a
    expect(mm.mremap(a, 8 * PAGE, PAGE, 0)).toBe(a);
    expect(mm.maps()).toBe(anonLine(a, a + PAGE, "rw-p"));
    // old_len == new_len returns the address without looking further
    expect(mm.mremap(a, 5 * PAGE, 5 * PAGE, 0)).toBe(a);
  });

  it("grows in place when the pages after the VMA are free; otherwise ENOMEM without MREMAP_MAYMOVE", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0x80000000, 2 * PAGE, RW, ANON | MAP_FIXED);
    mm.mmap(0x80004000, PAGE, PROT_READ, ANON | MAP_FIXED);
    expect(mm.mremap(a, 2 * PAGE, 4 * PAGE, 0)).toBe(a);
    expect(mm.maps()).toBe(anonLine(a, a + 4 * PAGE, "rw-p") + anonLine(a + 4 * PAGE, a + 5 * PAGE, "r--p"));
    expectErrno(vmm, mm, () => mm.mremap(a, 4 * PAGE, 5 * PAGE, 0), "ENOMEM");
    // an old range that is not the end of the VMA cannot grow in place either
    expectErrno(vmm, mm, () => mm.mremap(a, PAGE, 2 * PAGE, 0), "ENOMEM");
    // growing with the old range past the VMA end is EFAULT
    expectErrno(vmm, mm, () => mm.mremap(a, 5 * PAGE, 6 * PAGE, MREMAP_MAYMOVE), "EFAULT");
    // old_len 0 duplicates only shared mappings: EINVAL on a private one
    expectErrno(vmm, mm, () => mm.mremap(a, 0, PAGE, MREMAP_MAYMOVE), "EINVAL");
  });

  it("MREMAP_MAYMOVE moves the pages themselves, and the old range is gone", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0x90000000, 2 * PAGE, RW, ANON | MAP_FIXED);
    mm.mmap(0x90002000, PAGE, PROT_READ, ANON | MAP_FIXED);
    vmm.userWrite(a, new Uint8Array([1, 2, 3]));
    vmm.userWrite(a + PAGE, new Uint8Array([4]));
    const pfn = pte_pfn(mm.pgd.get(a)!);
    const free = vmm.phys.freeFrames;
    const rss = mm.stats().rssPages;
    const b = mm.mremap(a, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE);
    expect(b).toBe(MMAP_BASE - 3 * PAGE);
    expect(pte_pfn(mm.pgd.get(b)!)).toBe(pfn); // the same frame, not a copy
    expect(vmm.userRead(b, 3)).toEqual(new Uint8Array([1, 2, 3]));
    expect(vmm.userRead(b + PAGE, 1)).toEqual(new Uint8Array([4]));
    expect(vmm.userRead(b + 2 * PAGE, 1)).toEqual(new Uint8Array([0]));
    expect(mm.stats().rssPages).toBe(rss); // the zero page of the new third page is not RSS
    expect(vmm.phys.freeFrames).toBeLessThanOrEqual(free); // only page tables for the new place
    expect(mm.maps()).toBe(anonLine(0x90002000, 0x90003000, "r--p") + anonLine(b, b + 3 * PAGE, "rw-p"));
    expect(errorOf(() => vmm.userRead(a, 1))).toBeInstanceOf(SignalError);
  });

  it("MREMAP_FIXED moves to the given address, replacing what is there", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0xa0000000, 2 * PAGE, RW, ANON | MAP_FIXED);
    vmm.userWrite(a, new Uint8Array([8]));
    const dst = mm.mmap(0xb0000000, 4 * PAGE, PROT_READ, ANON | MAP_FIXED);
    // unaligned, past TASK_SIZE, overlapping: EINVAL
    expectErrno(
      vmm,
      mm,
      () => mm.mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 1),
      "EINVAL",
    );
    expectErrno(
      vmm,
      mm,
      () => mm.mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, TASK_SIZE - PAGE),
      "EINVAL",
    );
    expectErrno(
      vmm,
      mm,
      () => mm.mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, a + PAGE),
      "EINVAL",
    );
    // the new address is checked before the old range (mremap_to runs before vma_to_resize)
    expectErrno(
      vmm,
      mm,
      () => mm.mremap(a, 9 * PAGE, 9 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 1),
      "EINVAL",
    );
    expect(mm.mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst + PAGE)).toBe(dst + PAGE);
    expect(mm.maps()).toBe(
      anonLine(dst, dst + PAGE, "r--p") +
        anonLine(dst + PAGE, dst + 3 * PAGE, "rw-p") +
        anonLine(dst + 3 * PAGE, dst + 4 * PAGE, "r--p"),
    );
    expect(vmm.userRead(dst + PAGE, 1)).toEqual(new Uint8Array([8]));
    // shrinking while moving: the tail is unmapped first
    expect(mm.mremap(dst + PAGE, 2 * PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0xc0000000)).toBe(0xc0000000);
    expect(vmm.userRead(0xc0000000, 1)).toEqual(new Uint8Array([8]));
    expect(mm.maps()).toBe(
      anonLine(dst, dst + PAGE, "r--p") +
        anonLine(dst + 3 * PAGE, dst + 4 * PAGE, "r--p") +
        anonLine(0xc0000000, 0xc0001000, "rw-p"),
    );
  });

  it("MREMAP_DONTUNMAP moves the pages and leaves the old range mapped and empty", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0xd0000000, 2 * PAGE, RW, ANON | MAP_FIXED);
    fill(vmm, a, 2 * PAGE, 0x77);
    const free = vmm.phys.freeFrames;
    const b = mm.mremap(a, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    expect(b).toBe(MMAP_BASE - 2 * PAGE);
    expect(vmm.userRead(b, 1)).toEqual(new Uint8Array([0x77]));
    expect(vmm.userRead(a, 1)).toEqual(new Uint8Array([0]));
    expect(mm.maps()).toBe(anonLine(a, a + 2 * PAGE, "rw-p") + anonLine(b, b + 2 * PAGE, "rw-p"));
    expect(vmm.phys.freeFrames).toBeLessThanOrEqual(free);
  });

  it("a move frees the page tables the old range no longer needs, like munmap", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0x100000000, PAGE, RW, ANON | MAP_FIXED);
    vmm.userWrite(a, new Uint8Array([3]));
    expect(mm.pgd.tableFrames).toBe(4); // PGD, PUD, PMD, PTE
    const free = vmm.phys.freeFrames;
    expect(mm.mremap(a, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x7f0000000000)).toBe(0x7f0000000000);
    expect(mm.pgd.tableFrames).toBe(4); // three new tables up there, the three old ones freed
    expect(vmm.phys.freeFrames).toBe(free);
    expect(vmm.userRead(0x7f0000000000, 1)).toEqual(new Uint8Array([3]));
  });

  it("MREMAP_DONTUNMAP of part of a VMA leaves the old VMA whole, that part empty", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0xe0000000, 3 * PAGE, RW, ANON | MAP_FIXED);
    fill(vmm, a, 3 * PAGE, 0x66);
    const b = mm.mremap(a + PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    expect(b).toBe(MMAP_BASE - PAGE);
    expect(mm.maps()).toBe(anonLine(a, a + 3 * PAGE, "rw-p") + anonLine(b, b + PAGE, "rw-p"));
    expect(vmm.userRead(a, 1)).toEqual(new Uint8Array([0x66]));
    expect(vmm.userRead(a + PAGE, 1)).toEqual(new Uint8Array([0]));
    expect(vmm.userRead(a + 2 * PAGE, 1)).toEqual(new Uint8Array([0x66]));
    expect(vmm.userRead(b, 1)).toEqual(new Uint8Array([0x66]));
  });

  it("a moved VMA merges with a neighbour when its offset continues it (never faulted: the new address's)", () => {
    const { vmm, mm } = setup();
    mm.mmap(0xf0000000, PAGE, RW, ANON | MAP_FIXED);
    const y = mm.mmap(0xf0010000, 2 * PAGE, RW, ANON | MAP_FIXED);
    expect(mm.mremap(y, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0xf0001000)).toBe(0xf0001000);
    expect(mm.maps()).toBe(anonLine(0xf0000000, 0xf0003000, "rw-p"));
    // a faulted one keeps its offset (its anon_vma's): no merge
    const z = mm.mmap(0xf0020000, PAGE, RW, ANON | MAP_FIXED);
    vmm.userWrite(z, new Uint8Array([1]));
    mm.mremap(z, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0xf0003000);
    expect(mm.maps()).toBe(
      anonLine(0xf0000000, 0xf0003000, "rw-p") + anonLine(0xf0003000, 0xf0004000, "rw-p"),
    );
    // growing in place up to a compatible neighbour merges with it (vma_merge_extend)
    const g = mm.mmap(0xf1000000, PAGE, RW, ANON | MAP_FIXED);
    mm.mmap(0xf1002000, PAGE, RW, ANON | MAP_FIXED);
    expect(mm.mremap(g, PAGE, 2 * PAGE, 0)).toBe(g);
    expect(`${mm.maps().split("\n")[2]}\n`).toBe(anonLine(0xf1000000, 0xf1003000, "rw-p"));
    // a move to a new place of a 2 MiB multiple is THP-aligned like a new mapping
    const h = mm.mmap(0xf2000000, PAGE, RW, ANON | MAP_FIXED);
    mm.mmap(0xf2001000, PAGE, PROT_READ, ANON | MAP_FIXED);
    expect(mm.mremap(h, PAGE, SZ_2M, MREMAP_MAYMOVE)).toBe(0x7ffff7c00000);
  });

  it("lengths: a huge new_len is ENOMEM when moving, EINVAL with MREMAP_FIXED; old_len wraps in PAGE_ALIGN", () => {
    const { vmm, mm } = setup();
    const a = mm.mmap(0x12340000, PAGE, RW, ANON | MAP_FIXED);
    expectErrno(vmm, mm, () => mm.mremap(a, PAGE, TASK_SIZE + PAGE, MREMAP_MAYMOVE), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mremap(a, PAGE, TASK_SIZE + PAGE, 0), "ENOMEM");
    expectErrno(
      vmm,
      mm,
      () => mm.mremap(a, PAGE, TASK_SIZE + PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, 0x20000000),
      "EINVAL",
    );
    // old_len 2^64-1 page-aligns to 0: a "duplicate" of a private mapping, EINVAL
    expectErrno(vmm, mm, () => mm.mremap(a, U64_MAX, PAGE, MREMAP_MAYMOVE), "EINVAL");
    // a shrink whose tail runs past TASK_SIZE: do_vmi_munmap's EINVAL
    expectErrno(vmm, mm, () => mm.mremap(a, 2n ** 63n, PAGE, 0), "EINVAL");
  });

  it("a VM_PFNMAP mapping: growing it is EFAULT, MREMAP_DONTUNMAP EINVAL, shrinking fine", () => {
    const { vmm, mm } = setup();
    const frame = vmm.phys.alloc_pages(GFP_KERNEL, 2);
    const drv = devFile({
      mmap: (vma, m) => {
        m.remap_pfn_range(vma, vma.vm_start, frame, vma.vm_end - vma.vm_start);
      },
    });
    const a = mm.mmap(0, 4 * PAGE, RW, MAP_SHARED, drv);
    const f = mm.vma_lookup(a)!.vm_flags;
    expect(f & (VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP)).toBe(
      VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP,
    );
    expectErrno(vmm, mm, () => mm.mremap(a, 4 * PAGE, 5 * PAGE, MREMAP_MAYMOVE), "EFAULT");
    expectErrno(vmm, mm, () => mm.mremap(a, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP), "EINVAL");
    expect(mm.stats().rssPages).toBe(0); // raw PFNs are not counted in RSS
    expect(mm.mremap(a, 4 * PAGE, 2 * PAGE, 0)).toBe(a);
    expect(pte_pfn(mm.pgd.get(a + PAGE)!)).toBe(frame + 1);
    expect(mm.pgd.get(a + 2 * PAGE)).toBe(0n);
    mm.mmput();
    vmm.phys.__free_pages(frame, 2);
  });

  it("old_len 0 duplicates a shared mapping: both see the same pages", () => {
    const { vmm, mm } = setup();
    const free = vmm.phys.freeFrames;
    const a = mm.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS);
    vmm.userWrite(a, new Uint8Array([5]));
    const b = mm.mremap(a, 0, PAGE, MREMAP_MAYMOVE);
    expect(b).not.toBe(a);
    expect(mm.stats().mapCount).toBe(2);
    expect(vmm.userRead(b, 1)).toEqual(new Uint8Array([5]));
    vmm.userWrite(b, new Uint8Array([6]));
    expect(vmm.userRead(a, 1)).toEqual(new Uint8Array([6]));
    mm.munmap(a, PAGE);
    mm.munmap(b, PAGE);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free + 1); // + the page-table root mm_alloc took
  });
});

describe("maps() format (show_map_vma)", () => {
  it("pads the name to column 73 and keeps the trailing space of anonymous lines", () => {
    const { vmm, mm } = setup();
    const f = new PageCacheFile(vmm.phys, {
      size: 3 * PAGE,
      path: "/usr/lib/libz.so.1",
      ino: 1835070,
      dev: [259, 2],
    });
    mm.mmap(0x10000, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, f, 2 * PAGE);
    mm.mmap(0, PAGE, PROT_NONE, ANON);
    const lines = mm.maps().split("\n");
    expect(lines).toEqual([
      "00010000-00011000 r-xp 00002000 103:02 1835070                           /usr/lib/libz.so.1",
      "7ffff7ffe000-7ffff7fff000 ---p 00000000 00:00 0 ",
      "",
    ]);
    expect(lines[0]!.indexOf("/usr")).toBe(73);
  });

  it("shows a MAP_POPULATE'd mapping like any other", () => {
    const { mm } = setup();
    mm.mmap(0, 2 * PAGE, RW, ANON | MAP_POPULATE);
    expect(mm.maps()).toBe("7ffff7ffd000-7ffff7fff000 rw-p 00000000 00:00 0 \n");
  });
});

describe("anonymous MAP_HUGETLB on a machine without huge pages (vm.nr_hugepages = 0)", () => {
  const HUGE = ANON | MAP_HUGETLB;
  it("fails with ENOMEM when the huge pages cannot be reserved (hugetlbfs_file_mmap → hugetlb_reserve_pages)", () => {
    const { vmm, mm } = setup();
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, HUGE), "ENOMEM");
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB), "ENOMEM");
  });

  it("rejects a MAP_HUGE size x86-64 does not have (hstate_sizelog), and unaligned MAP_FIXED (prepare_hugepage_range)", () => {
    const { vmm, mm } = setup();
    expectErrno(vmm, mm, () => mm.mmap(0, PAGE, RW, HUGE | (25 << 26) | MAP_NORESERVE), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0x40001000, PAGE, RW, HUGE | MAP_FIXED | MAP_NORESERVE), "EINVAL");
    expectErrno(vmm, mm, () => mm.mmap(0, 0, RW, HUGE | MAP_NORESERVE), "EINVAL");
  });

  it("with MAP_NORESERVE maps a huge-aligned, huge-rounded VMA whose faults end in SIGBUS", () => {
    const { vmm, mm } = setup();
    const free0 = vmm.phys.freeFrames;
    const a = mm.mmap(0, PAGE, RW, HUGE | MAP_NORESERVE);
    expect(a % SZ_2M).toBe(0);
    expect(a).toBe(MMAP_BASE + PAGE - 2 * SZ_2M); // the highest 2 MiB-aligned start below mmap_base
    const vma = mm.vma_lookup(a)!;
    expect(vma.vm_end - vma.vm_start).toBe(SZ_2M);
    expect(vma.vm_flags & (VM_HUGETLB | VM_DONTEXPAND)).toBe(VM_HUGETLB | VM_DONTEXPAND);
    expect(mm.maps()).toBe(
      named(
        `${a.toString(16)}-${(a + SZ_2M).toString(16)} rw-p 00000000 00:00 0 `,
        "/anon_hugepage (deleted)",
      ),
    );
    let err: unknown;
    try {
      vmm.userWrite(a, Uint8Array.of(1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SignalError);
    expect((err as SignalError).signo).toBe(SIGBUS);
    // 1 GiB pages: the mapping is rounded to 1 GiB and aligned to it.
    const g = mm.mmap(0, PAGE, RW, HUGE | (30 << 26) | MAP_NORESERVE);
    expect(g % 2 ** 30).toBe(0);
    expect(mm.vma_lookup(g)!.vm_end - g).toBe(2 ** 30);
    mm.mmput();
    expect(vmm.phys.freeFrames).toBe(free0 + 1); // the page-table root too
  });
});
