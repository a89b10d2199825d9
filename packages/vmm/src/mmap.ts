// An address space, the model of struct mm_struct: VMAs (mm/vma.c, mm/mmap.c), the mmap family with Linux's argument
// rules in Linux's order (do_mmap, __get_unmapped_area, arch_get_unmapped_area_topdown, do_vmi_munmap,
// do_mprotect_pkey, mremap, brk), page faults (mm/memory.c handle_mm_fault and the do_*_page family), fork's copy of
// the page tables with copy-on-write (dup_mmap, copy_present_pte), remap_pfn_range, and /proc/<pid>/maps.

import { type Addr, KernelError, type PagingLevels } from "@kbridge/uapi";
import {
  access_error,
  BUS_ADRERR,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SIGBUS,
  SIGSEGV,
  VM_FAULT_MAJOR,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
} from "./fault.js";
import {
  LEGACY_MAP_MASK,
  MAP_32BIT,
  MAP_ABOVE4G,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_HUGETLB,
  MAP_LOCKED,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_TYPE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  PROT_SEM,
  PROT_WRITE,
} from "./mman.js";
import { type Mmu, X86_PF_PROT, X86_PF_WRITE } from "./mmu.js";
import { __GFP_ZERO, GFP_HIGHUSER, hex, type PhysicalMemory } from "./page-alloc.js";
import {
  entryHalves,
  PageTable,
  pteWordsPfn,
  VM_ACCOUNT,
  VM_DONTCOPY,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_HUGETLB,
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
} from "./pgtable.js";

const PAGE = 4096;
const SZ_2M = 2 ** 21;
const SZ_4G = 2 ** 32;
const U64 = 2n ** 64n;

/** What a VMA's `fault` handler is given (a trimmed `struct vm_fault`). */
export interface VmFault {
  /** The VMA. */
  readonly vma: Vma;
  /** The page-aligned faulting address. */
  readonly address: number;
  /** The page of the mapped object: `vm_pgoff + (address - vm_start) / PAGE_SIZE`. */
  readonly pgoff: number;
  /** True for a write fault (`FAULT_FLAG_WRITE`). */
  readonly write: boolean;
}

/**
 * `struct vm_operations_struct`: what a driver or a file system hooks into a VMA. `fault` returns the frame to map
 * with a reference taken for the mapping (as `vmf->page` with get_page), or a `VM_FAULT_*` error code as a negative
 * number (`-VM_FAULT_SIGBUS`).
 */
export interface VmOperations {
  /** `->fault`: the page for `vmf.pgoff`, referenced, or `-VM_FAULT_SIGBUS` / `-VM_FAULT_OOM`. */
  fault?(vmf: VmFault): number;
  /** `->open`: a copy of the VMA was made (split or fork). */
  open?(vma: Vma): void;
  /** `->close`: the VMA goes away. */
  close?(vma: Vma): void;
  /** `->mremap`: the VMA moves; throw a KernelError to refuse. */
  mremap?(vma: Vma): void;
}

/**
 * An open file as mmap sees it: the `f_mode` bits, the mount's noexec, and `f_op->mmap`. A file without `mmap`
 * cannot be mapped (ENODEV), like a pipe. See {@link PageCacheFile} for a regular file with a page cache.
 */
export interface MmapFile {
  /** `FMODE_READ`: opened for reading. */
  readonly readable: boolean;
  /** `FMODE_WRITE`: opened for writing. */
  readonly writable: boolean;
  /** `IS_APPEND(inode)`: an append-only inode. */
  readonly appendOnly?: boolean;
  /** The file sits on a noexec mount (`path_noexec`). */
  readonly noexec?: boolean;
  /** Extra MAP_* flags MAP_SHARED_VALIDATE accepts (`MAP_SYNC` for DAX files). */
  readonly mmapSupportedFlags?: number;
  /** The path /proc/<pid>/maps shows. */
  readonly path?: string;
  /** The inode number /proc/<pid>/maps shows. */
  readonly ino?: number;
  /** The device /proc/<pid>/maps shows, `[major, minor]`. */
  readonly dev?: readonly [number, number];
  /**
   * `get_file()`: a VMA of this file now holds a reference (mmap_region, a split, fork's copy, mremap's move). With
   * {@link MmapFile.fput} it lets the file's owner see that a mapping keeps the file open after close().
   */
  get_file?(): void;
  /** `fput()`: a VMA of this file went away (munmap, exit). */
  fput?(): void;
  /**
   * `f_op->mmap(file, vma)`: set `vma.vm_ops`, adjust `vma.vm_flags`, or map frames now with
   * {@link MmStruct.remap_pfn_range}. Throw a {@link @kbridge/uapi!KernelError} to refuse; mmap returns its errno.
   */
  mmap?(vma: Vma, mm: MmStruct): void;
}

/** `struct vm_area_struct`: one mapping of an address space. Its fields are the kernel's. */
export class Vma {
  /** The address space the VMA belongs to (`vma->vm_mm`). */
  readonly vm_mm: MmStruct;
  /** The first address. */
  vm_start: number;
  /** One past the last address. */
  vm_end: number;
  /** `VM_*` flags. */
  vm_flags: number;
  /** The offset into the mapped object, in pages (an anonymous private VMA uses `vm_start >> PAGE_SHIFT`). */
  vm_pgoff: number;
  /** The PTE protection bits (`vm_get_page_prot(vm_flags)` unless a driver changed them, e.g. pgprot_noncached). */
  vm_page_prot: bigint;
  /** The mapped file, if any. */
  readonly vm_file: MmapFile | undefined;
  /** The VMA's operations (set by `f_op->mmap`). */
  vm_ops: VmOperations | undefined;
  /** A driver's data. */
  vm_private_data: unknown;
  /** A name for /proc/<pid>/maps (`[heap]`, or a driver's). */
  name: string | undefined;
  /** @internal true once an anonymous page was installed (the kernel's `vma->anon_vma`) */
  anon: boolean;

  /** @internal */
  constructor(
    mm: MmStruct,
    start: number,
    end: number,
    flags: number,
    pgoff: number,
    file: MmapFile | undefined,
  ) {
    this.vm_mm = mm;
    this.vm_start = start;
    this.vm_end = end;
    this.vm_flags = flags;
    this.vm_pgoff = pgoff;
    this.vm_page_prot = vm_get_page_prot(flags);
    this.vm_file = file;
    this.vm_ops = undefined;
    this.vm_private_data = undefined;
    this.name = undefined;
    this.anon = false;
  }
}

/** Options of an address space. */
export interface MmOptions {
  /** `vm.mmap_min_addr` (65536, the usual distribution setting; the Kconfig default is 4096). */
  readonly mmapMinAddr?: number;
  /** `vm.max_map_count` (65530). */
  readonly maxMapCount?: number;
  /** The task holds CAP_SYS_RAWIO (may map below mmap_min_addr). */
  readonly capSysRawio?: boolean;
  /** Where the heap starts (`mm->start_brk`); 0x555555559000, as a PIE without ASLR gets it. */
  readonly startBrk?: number;
}

/** The address space's counters. */
export interface MmStats {
  /** Pages mapped: anonymous, file-backed (page cache) and shared anonymous (`MM_ANONPAGES`, `MM_FILEPAGES`, `MM_SHMEMPAGES` summed). */
  readonly rssPages: number;
  /** Faults resolved (minor). */
  readonly minorFaults: number;
  /** Faults that read a page in (`VM_FAULT_MAJOR`). */
  readonly majorFaults: number;
  /** Copy-on-write copies made. */
  readonly cowCopies: number;
  /** Read faults served with the shared zero page. */
  readonly zeroPageMaps: number;
  /** VMAs (`map_count`). */
  readonly mapCount: number;
  /** Mapped bytes (`total_vm` in bytes). */
  readonly totalVm: number;
}

/** The machine an address space lives on. @internal */
export interface MmHost {
  readonly phys: PhysicalMemory;
  readonly mmu: Mmu;
  readonly zeroPfn: number;
  readonly levels: PagingLevels;
}

function einval(op: string, detail: string): KernelError {
  return new KernelError("EINVAL", detail, { syscall: op });
}

// A user-supplied unsigned long: a safe integer or a bigint below 2^64, as a bigint.
function ulong(op: string, what: string, v: unknown): bigint {
  if (typeof v === "bigint" && v >= 0n && v < U64) return v;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw einval(op, `${what} ${String(v)} is not an unsigned long`);
}

function checkInt(op: string, what: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw einval(op, `${what} ${String(v)} is not an unsigned int flag word`);
  return v;
}

const pageAlignUp = (n: number): number => Math.ceil(n / PAGE) * PAGE;

// calc_vm_prot_bits() and calc_vm_flag_bits() (include/linux/mman.h).
function calcVmProtBits(prot: number): number {
  return (
    (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0)
  );
}

/**
 * An address space (`struct mm_struct`): the VMAs, the page tables, the heap, the counters. Made by
 * {@link Vmm.mm_alloc}; the mmap family is here with Linux's argument rules and errnos, in Linux's order.
 * Addresses are numbers (page-aligned VMA bounds are exact as doubles even above 2^53); arguments may be bigints.
 */
export class MmStruct {
  // The bundle names a class that refers to itself `_MmStruct` inside; what users see (inspect, constructor.name) stays MmStruct.
  static {
    Object.defineProperty(this, "name", { value: "MmStruct" });
  }

  /** The page tables. */
  readonly pgd: PageTable;
  /** `TASK_SIZE`: one past the highest user address. */
  readonly taskSize: number;
  /** `mm->mmap_base`: where top-down allocation starts (TASK_SIZE - 128 MiB with 8 MiB of stack rlimit, no ASLR). */
  readonly mmapBase: number;
  /** `mm->start_brk`. */
  readonly startBrk: number;
  /** `mm->brk`. */
  brkValue: number;
  /** `vm.mmap_min_addr`. */
  readonly mmapMinAddr: number;
  /** `vm.max_map_count`. */
  readonly maxMapCount: number;
  /** CAP_SYS_RAWIO. */
  readonly capSysRawio: boolean;
  /** @internal the machine */
  readonly host: MmHost;
  /** @internal VMAs sorted by address */
  readonly vmas: Vma[] = [];
  #dead = false;
  #rss = 0;
  #minor = 0;
  #major = 0;
  #cow = 0;
  #zero = 0;

  /** @internal use Vmm.mm_alloc */
  constructor(host: MmHost, options: MmOptions = {}) {
    this.host = host;
    this.pgd = new PageTable(host.phys, host.levels);
    // TASK_SIZE_MAX: (1 << 47) - PAGE_SIZE or (1 << 56) - PAGE_SIZE. The default window stays 47-bit with LA57.
    this.taskSize = (host.levels === 5 ? 2 ** 56 : 2 ** 47) - PAGE;
    this.mmapBase = 2 ** 47 - PAGE - 128 * 2 ** 20;
    this.mmapMinAddr = options.mmapMinAddr ?? 65536;
    this.maxMapCount = options.maxMapCount ?? 65530;
    this.capSysRawio = options.capSysRawio ?? false;
    this.startBrk = options.startBrk ?? 0x555555559000;
    if (
      !Number.isSafeInteger(this.startBrk) ||
      this.startBrk % PAGE !== 0 ||
      this.startBrk <= 0 ||
      this.startBrk >= this.taskSize
    )
      throw einval("mm_alloc", `startBrk ${String(options.startBrk)} is not a page-aligned user address`);
    this.brkValue = this.startBrk;
  }

  /** True after {@link mmput} tore it down. */
  get dead(): boolean {
    return this.#dead;
  }

  #alive(op: string): void {
    if (this.#dead)
      throw new KernelError("EINVAL", "the address space was torn down (mmput)", { syscall: op });
  }

  /** The counters. */
  stats(): MmStats {
    return {
      rssPages: this.#rss,
      minorFaults: this.#minor,
      majorFaults: this.#major,
      cowCopies: this.#cow,
      zeroPageMaps: this.#zero,
      mapCount: this.vmas.length,
      totalVm: this.vmas.reduce((s, v) => s + (v.vm_end - v.vm_start), 0),
    };
  }

  /** `find_vma(mm, addr)`: the first VMA ending above `addr` (it may start above it), or undefined. */
  find_vma(addr: number): Vma | undefined {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v[mid]!.vm_end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return v[lo];
  }

  /** `vma_lookup(mm, addr)`: the VMA containing `addr`, or undefined. */
  vma_lookup(addr: number): Vma | undefined {
    const v = this.find_vma(addr);
    return v !== undefined && v.vm_start <= addr ? v : undefined;
  }

  #intersects(start: number, end: number): boolean {
    const v = this.find_vma(start);
    return v !== undefined && v.vm_start < end;
  }

  #insert(vma: Vma): void {
    const i = this.vmas.findIndex((v) => v.vm_start >= vma.vm_end);
    if (i < 0) this.vmas.push(vma);
    else this.vmas.splice(i, 0, vma);
  }

  // ---- the page-table side -------------------------------------------------------------------------------------

  /** @internal flush one page from the TLB of the CPU, when this address space is loaded there */
  flushPage(addr: number): void {
    const mmu = this.host.mmu;
    if (mmu.cr3 === this.pgd.root) mmu.invlpg(addr);
  }

  #flushAll(): void {
    const mmu = this.host.mmu;
    if (mmu.cr3 === this.pgd.root) mmu.flush_tlb_local();
  }

  // The ram32 word of the PTE of `addr`, or -1 when its table is missing (alloc false).
  #pteWord(addr: number, alloc: boolean): number {
    return this.pgd.entryWord(Math.floor(addr / SZ_4G), addr >>> 0, 0, alloc);
  }

  // set_pte_at(mk_pte(pfn, prot)): a protection without P (PAGE_NONE) stores the frame bits inverted (pfn_pte).
  #setPte(w: number, pfn: number, prot: bigint, extraLo = 0): void {
    const [plo, phi] = entryHalves(prot);
    const ram32 = this.host.phys.ram32;
    const invert = (plo & 1) === 0;
    const fl = (pfn % 0x100000) * 4096;
    const fh = Math.floor(pfn / 0x100000);
    ram32[w] = ((invert ? ~fl & 0xfffff000 : fl) + ((plo | extraLo) & 0xfff)) >>> 0;
    ram32[w + 1] = ((invert ? ~fh & 0xfffff : fh) | (phi & 0xfff00000)) >>> 0;
  }

  // zap_pte_range(): clear the PTEs of [start, end), dropping the page references they hold.
  #zap(start: number, end: number, _vma: Vma): void {
    const ram32 = this.host.phys.ram32;
    const phys = this.host.phys;
    for (let a = start; a < end; a += PAGE) {
      const w = this.#pteWord(a, false);
      if (w < 0) {
        // No PTE table here: skip to the next 2 MiB.
        a = Math.floor(a / SZ_2M) * SZ_2M + SZ_2M - PAGE;
        continue;
      }
      const lo = ram32[w]!;
      const hi = ram32[w + 1]!;
      if (lo === 0 && hi === 0) continue;
      ram32[w] = 0;
      ram32[w + 1] = 0;
      const present = (lo & 1) !== 0 || (lo & 0x100) !== 0; // pte_present(): P or PROTNONE
      // zap_present_ptes(): vm_normal_page() is NULL for a special PTE (the zero page, remap_pfn_range): no
      // reference to drop and no RSS counter; a page copied-on-write inside a VM_PFNMAP VMA is a normal page.
      if (present && (lo & 0x200) === 0) {
        this.#rss--;
        phys.put_page(pteWordsPfn(lo, hi));
      }
      this.flushPage(a);
    }
  }

  // ---- mmap -----------------------------------------------------------------------------------------------------

  /**
   * `mmap(addr, length, prot, flags, fd, offset)`: maps `length` bytes and returns the page-aligned start. Anonymous
   * with `MAP_ANONYMOUS` (pass `file` undefined), or a file. The checks come in the kernel's order (sys_mmap,
   * ksys_mmap_pgoff, do_mmap, __get_unmapped_area, mmap_region): offset unaligned EINVAL → no file EBADF → length 0
   * EINVAL → PAGE_ALIGN overflow ENOMEM → pgoff overflow EOVERFLOW → map_count ENOMEM → length > TASK_SIZE ENOMEM →
   * MAP_FIXED checks (end ENOMEM, unaligned EINVAL, below mmap_min_addr EPERM) → MAP_FIXED_NOREPLACE EEXIST →
   * MAP_LOCKED EPERM → the mapping type and file mode (EINVAL, EOPNOTSUPP, EACCES, EPERM, ENODEV) → `f_op->mmap`.
   * Without MAP_FIXED, `addr` is a hint (raised to mmap_min_addr); the search is top-down from mmap_base, and a
   * length that is a multiple of 2 MiB without a hint is 2 MiB-aligned (thp_get_unmapped_area).
   * @returns the address of the mapping
   * @throws {@link @kbridge/uapi!KernelError} with the errno Linux returns
   */
  mmap(addr: Addr, length: Addr, prot: number, flags: number, file?: MmapFile, offset: Addr = 0): number {
    const op = "mmap";
    this.#alive(op);
    let a = ulong(op, "addr", addr);
    const len0 = ulong(op, "length", length);
    const off = ulong(op, "offset", offset);
    checkInt(op, "prot", prot);
    checkInt(op, "flags", flags);
    // arch/x86/kernel/sys_x86_64.c sys_mmap: the offset must be page-aligned.
    if (off % 4096n !== 0n) throw einval(op, `offset ${hex(off)} is not page-aligned`);
    const anon = (flags & MAP_ANONYMOUS) !== 0;
    if (!anon && file === undefined)
      throw new KernelError("EBADF", "no file for a mapping without MAP_ANONYMOUS (bad fd)", { syscall: op });
    if (!anon && (flags & MAP_HUGETLB) !== 0) throw einval(op, "MAP_HUGETLB on a file that is not hugetlbfs");
    // ksys_mmap_pgoff(): anonymous MAP_HUGETLB maps a hugetlbfs file (hugetlb_file_setup) of the huge page size that
    // MAP_HUGE_* names (2 MiB by default; x86-64 has 2 MiB and 1 GiB), the length rounded up to it.
    let huge = 0;
    if (anon && (flags & MAP_HUGETLB) !== 0) {
      const log = (flags >>> 26) & 0x3f;
      if (log !== 0 && log !== 21 && log !== 30)
        throw einval(op, `MAP_HUGE size 2^${log} is not a huge page size of x86-64 (2 MiB or 1 GiB)`);
      huge = log === 30 ? 2 ** 30 : SZ_2M;
    }
    const mfile = huge > 0 ? hugetlbFile() : anon ? undefined : file;
    let pgoff = off / 4096n;
    // do_mmap
    if (len0 === 0n) throw einval(op, "length 0");
    if ((flags & MAP_FIXED_NOREPLACE) !== 0) flags |= MAP_FIXED;
    if ((flags & MAP_FIXED) === 0) {
      a &= ~4095n; // round_hint_to_min()
      if (a !== 0n && a < BigInt(this.mmapMinAddr)) a = BigInt(pageAlignUp(this.mmapMinAddr));
    }
    const unit = BigInt(huge > 0 ? huge : PAGE);
    const lenA = ((len0 + unit - 1n) / unit) * unit;
    if (lenA >= U64)
      throw new KernelError("ENOMEM", `length ${hex(len0)} overflows when page-aligned`, { syscall: op });
    if (pgoff + lenA / 4096n >= U64 >> 12n && ((pgoff + (lenA >> 12n)) & (U64 - 1n)) < pgoff)
      throw new KernelError(
        "EOVERFLOW",
        `offset ${hex(off)} + length ${hex(lenA)} overflows the page offset`,
        { syscall: op },
      );
    if (this.vmas.length > this.maxMapCount)
      throw new KernelError(
        "ENOMEM",
        `map_count ${this.vmas.length} is above vm.max_map_count ${this.maxMapCount}`,
        { syscall: op },
      );
    let vmFlags =
      calcVmProtBits(prot) |
      (flags & MAP_GROWSDOWN ? VM_GROWSDOWN : 0) |
      (flags & MAP_LOCKED ? VM_LOCKED : 0) |
      VM_MAYREAD |
      VM_MAYWRITE |
      VM_MAYEXEC;
    if (lenA > BigInt(this.taskSize))
      throw new KernelError("ENOMEM", `length ${hex(lenA)} is larger than TASK_SIZE`, { syscall: op });
    const len = Number(lenA);
    const start = this.#getUnmappedArea(
      op,
      a,
      len,
      flags,
      mfile === undefined && (flags & MAP_SHARED) !== 0,
      mfile !== undefined ? off : 0n,
      huge,
    );
    if ((flags & MAP_FIXED_NOREPLACE) !== 0 && this.#intersects(start, start + len))
      throw new KernelError(
        "EEXIST",
        `[${hex(start)}, ${hex(start + len)}) overlaps an existing mapping (MAP_FIXED_NOREPLACE)`,
        { syscall: op },
      );
    // MAP_LOCKED: can_do_mlock() passes (RLIMIT_MEMLOCK is 8 MiB by default) and the model keeps no locked_vm, so
    // neither EPERM nor EAGAIN (mlock_future_ok) can happen here.
    if (mfile !== undefined) {
      // file_mmap_ok() with file_mmap_size_max(): MAX_LFS_FILESIZE for a regular file (a page cache), ULONG_MAX for
      // the rest (character devices, pipes).
      const maxSize = mfile instanceof PageCacheFile ? 2n ** 63n - 1n : U64 - 1n;
      if (lenA > maxSize || pgoff > (maxSize - lenA) >> 12n)
        throw new KernelError("EOVERFLOW", `offset ${hex(off)} + length is past the largest file offset`, {
          syscall: op,
        });
      const mask = LEGACY_MAP_MASK | (mfile.mmapSupportedFlags ?? 0);
      switch (flags & MAP_TYPE) {
        // biome-ignore lint/suspicious/noFallthroughSwitchClause: the kernel's own fall-through
        case MAP_SHARED:
          flags &= LEGACY_MAP_MASK;
        // biome-ignore lint/suspicious/noFallthroughSwitchClause: the kernel's own fall-through
        case MAP_SHARED_VALIDATE:
          if ((flags & ~mask) !== 0)
            throw new KernelError(
              "EOPNOTSUPP",
              `flags ${hex(flags & ~mask)} are not supported by this file (MAP_SHARED_VALIDATE)`,
              { syscall: op },
            );
          if ((prot & PROT_WRITE) !== 0 && !mfile.writable)
            throw new KernelError("EACCES", "MAP_SHARED with PROT_WRITE on a file not opened for writing", {
              syscall: op,
            });
          if (mfile.appendOnly === true && mfile.writable)
            throw new KernelError("EACCES", "shared mapping of an append-only file opened for writing", {
              syscall: op,
            });
          vmFlags |= VM_SHARED | VM_MAYSHARE;
          if (!mfile.writable) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
        case MAP_PRIVATE:
          if (!mfile.readable)
            throw new KernelError("EACCES", "the file is not opened for reading", { syscall: op });
          if (mfile.noexec === true) {
            if ((vmFlags & VM_EXEC) !== 0)
              throw new KernelError("EPERM", "PROT_EXEC on a noexec mount", { syscall: op });
            vmFlags &= ~VM_MAYEXEC;
          }
          if (mfile.mmap === undefined)
            throw new KernelError("ENODEV", "the file has no mmap operation", { syscall: op });
          if ((vmFlags & VM_GROWSDOWN) !== 0) throw einval(op, "MAP_GROWSDOWN on a file");
          break;
        default:
          throw einval(
            op,
            `mapping type ${hex(flags & MAP_TYPE)} is not MAP_SHARED, MAP_PRIVATE or MAP_SHARED_VALIDATE`,
          );
      }
    } else {
      switch (flags & MAP_TYPE) {
        case MAP_SHARED:
          if ((vmFlags & VM_GROWSDOWN) !== 0) throw einval(op, "MAP_GROWSDOWN with MAP_SHARED");
          pgoff = 0n;
          vmFlags |= VM_SHARED | VM_MAYSHARE;
          break;
        case MAP_PRIVATE:
          pgoff = BigInt(start / PAGE);
          break;
        default:
          throw einval(
            op,
            `mapping type ${hex(flags & MAP_TYPE)} is not MAP_SHARED or MAP_PRIVATE for anonymous memory${(flags & MAP_TYPE) === 8 ? " (MAP_DROPPABLE is not modelled)" : ""}`,
          );
      }
    }
    if ((flags & MAP_NORESERVE) !== 0) vmFlags |= VM_NORESERVE;
    else if ((vmFlags & VM_SHARED) === 0 && (vmFlags & VM_WRITE) !== 0) vmFlags |= VM_ACCOUNT;
    this.#mmapRegion(op, mfile, start, len, vmFlags, Number(pgoff), flags);
    // do_mmap(): `(vm_flags & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE` → mm_populate(addr,
    // len) faults the new range in (not the rest of a VMA it merged into), writing where private and writable.
    if ((vmFlags & VM_LOCKED) !== 0 || (flags & (MAP_POPULATE | 0x010000)) === MAP_POPULATE)
      this.populate(start, start + len);
    return start;
  }

  // mmap_region(): replace what MAP_FIXED covers, make the VMA, call f_op->mmap, merge with a neighbour.
  #mmapRegion(
    op: string,
    file: MmapFile | undefined,
    start: number,
    len: number,
    vmFlags: number,
    pgoff: number,
    flags: number,
  ): Vma {
    const end = start + len;
    if ((flags & MAP_FIXED) !== 0 && this.#intersects(start, end)) this.#unmapRange(op, start, end);
    const vma = new Vma(this, start, end, vmFlags, pgoff, file);
    if (file === undefined && (vmFlags & VM_SHARED) !== 0) {
      // shmem_zero_setup(): shared anonymous memory is a shmem file of the mapping's size ("/dev/zero (deleted)").
      const shm = new PageCacheFile(this.host.phys, { size: len, path: "/dev/zero (deleted)", dev: [0, 1] });
      SHMEM_FILES.add(shm);
      (vma as { vm_file: MmapFile | undefined }).vm_file = shm;
      shm.mmap(vma);
      // The shmem file lives as long as a VMA maps it: count the VMAs (splits and forks open, unmaps close).
      let users = 1;
      vma.vm_ops = {
        ...vma.vm_ops,
        open: () => {
          users++;
        },
        close: () => {
          if (--users === 0) shm.release();
        },
      };
    }
    if (file !== undefined) {
      this.#insert(vma);
      try {
        file.mmap!(vma, this);
      } catch (err) {
        // The driver refused: unmap what it may have mapped and report its error.
        this.#zap(vma.vm_start, vma.vm_end, vma);
        this.vmas.splice(this.vmas.indexOf(vma), 1);
        if (err instanceof KernelError) throw err;
        throw new KernelError("EINVAL", `f_op->mmap failed: ${String(err)}`, { syscall: op, cause: err });
      }
      file.get_file?.(); // vma->vm_file = get_file(file)
      return vma;
    }
    this.#insert(vma);
    return this.#tryMerge(vma);
  }

  // vma_merge(): an anonymous private VMA joins an adjacent one with the same flags (the kernel also merges files with
  // contiguous offsets; the model keeps file and special VMAs apart).
  #tryMerge(vma: Vma): Vma {
    const mergeable = (a: Vma, b: Vma) =>
      a.vm_end === b.vm_start &&
      a.vm_file === undefined &&
      b.vm_file === undefined &&
      a.vm_ops === undefined &&
      b.vm_ops === undefined &&
      a.vm_flags === b.vm_flags &&
      (a.vm_flags & (VM_PFNMAP | VM_IO | VM_SHARED)) === 0 &&
      a.name === b.name &&
      a.vm_page_prot === b.vm_page_prot &&
      a.vm_pgoff + (a.vm_end - a.vm_start) / PAGE === b.vm_pgoff;
    let i = this.vmas.indexOf(vma);
    const next = this.vmas[i + 1];
    if (next !== undefined && mergeable(vma, next)) {
      vma.vm_end = next.vm_end;
      vma.anon ||= next.anon;
      this.vmas.splice(i + 1, 1);
    }
    const prev = this.vmas[i - 1];
    if (prev !== undefined && mergeable(prev, vma)) {
      prev.vm_end = vma.vm_end;
      prev.anon ||= vma.anon;
      this.vmas.splice(i, 1);
      i--;
      return prev;
    }
    return vma;
  }

  // __get_unmapped_area() with arch_get_unmapped_area_topdown() and vm_unmapped_area().
  // `shmem`: the area comes from shmem_get_unmapped_area() (shared anonymous memory), which does not align for THP
  // by default; `off`: the file offset in bytes (0 for anonymous memory).
  #getUnmappedArea(
    op: string,
    hint: bigint,
    len: number,
    flags: number,
    shmem: boolean,
    off = 0n,
    huge = 0,
  ): number {
    const taskSize = this.taskSize;
    if (huge > 0) return this.#hugetlbUnmappedArea(op, hint, len, flags, huge);
    if ((flags & MAP_FIXED) !== 0) {
      if (hint > BigInt(taskSize - len))
        throw new KernelError("ENOMEM", `MAP_FIXED range [${hex(hint)}, +${hex(len)}) ends past TASK_SIZE`, {
          syscall: op,
        });
      if (hint % 4096n !== 0n) throw einval(op, `MAP_FIXED address ${hex(hint)} is not page-aligned`);
      const addr = Number(hint);
      if (addr < this.mmapMinAddr && !this.capSysRawio)
        throw new KernelError(
          "EPERM",
          `address ${hex(addr)} is below vm.mmap_min_addr ${hex(this.mmapMinAddr)} (CAP_SYS_RAWIO needed)`,
          { syscall: op },
        );
      return addr;
    }
    const defaultWindow = 2 ** 47 - PAGE;
    let addr = -1;
    const is32 = (flags & MAP_32BIT) !== 0;
    if (hint !== 0n) {
      const h = Number(hint);
      if (is32) {
        // MAP_32BIT goes to arch_get_unmapped_area() (find_start_end: [1 GiB, 2 GiB)): a hint that fits below
        // 2 GiB and is free is taken.
        if (h <= 0x80000000 - len) {
          const next = this.find_vma(h);
          if (next === undefined || h + len <= next.vm_start) return this.#checkMinAddr(op, h);
        }
      } else if (h <= taskSize - len && h > defaultWindow === h + len > defaultWindow) {
        // mmap_address_hint_valid(): fits below TASK_SIZE and does not straddle the 47-bit default window.
        const next = this.find_vma(h);
        if (next === undefined || h + len <= next.vm_start) return this.#checkMinAddr(op, h);
      }
    }
    const low = (flags & MAP_ABOVE4G) !== 0 ? SZ_4G : PAGE;
    const high = this.mmapBase + (hint > BigInt(defaultWindow) ? taskSize - defaultWindow : 0);
    // mm_get_unmapped_area(): bottom-up in [1 GiB, 2 GiB) for MAP_32BIT; else top-down below mmap_base, then the
    // bottom-up fallback of arch_get_unmapped_area() from TASK_UNMAPPED_BASE.
    const search = (l: number): number => {
      if (is32) return this.#bottomUp(l, 0x40000000, 0x80000000);
      const a = this.#topDown(l, low, high);
      return a >= 0 ? a : this.#bottomUp(l, pageAlignUp(defaultWindow / 3), taskSize);
    };
    // __get_unmapped_area(): without a get_unmapped_area of its own — private anonymous memory, and in 6.12 also a
    // file without one (a character device) — a 2 MiB multiple without a hint is aligned for THP
    // (thp_get_unmapped_area_vmflags → __thp_get_unmapped_area: a padded area, then the offset within it that
    // matches the file offset modulo 2 MiB; the mm is top-down, so an already aligned padded area takes the upper
    // boundary — also for MAP_32BIT, whose search is bottom-up). A file offset that leaves less than 2 MiB
    // aligned is not padded. Shared anonymous memory is shmem, whose get_unmapped_area aligns only with shmem huge
    // pages enabled (not by default).
    const offAlign = ((off + BigInt(SZ_2M - 1)) / BigInt(SZ_2M)) * BigInt(SZ_2M);
    const offEnd = off + BigInt(len);
    const thp =
      offEnd > offAlign && offEnd - offAlign >= BigInt(SZ_2M) && off + BigInt(len + SZ_2M) < 2n ** 63n;
    if (hint === 0n && len % SZ_2M === 0 && !shmem && thp) {
      const padded = search(len + SZ_2M);
      if (padded >= 0) {
        const offSub = Number((off - BigInt(padded)) & BigInt(SZ_2M - 1));
        addr = offSub === 0 ? padded + SZ_2M : padded + offSub;
      }
    }
    if (addr < 0) addr = search(len);
    if (addr < 0 || addr > taskSize - len)
      throw new KernelError("ENOMEM", `no free range of ${hex(len)} bytes in the address space`, {
        syscall: op,
      });
    return this.#checkMinAddr(op, addr);
  }

  // arch/x86/mm/hugetlbpage.c hugetlb_get_unmapped_area(): MAP_FIXED must be huge-aligned (prepare_hugepage_range);
  // a hint is rounded down to the huge page size; else top-down below mmap_base in huge-aligned steps, then
  // bottom-up from TASK_UNMAPPED_BASE. Then __get_unmapped_area()'s own checks.
  #hugetlbUnmappedArea(op: string, hint: bigint, len: number, flags: number, huge: number): number {
    const taskSize = this.taskSize;
    const defaultWindow = 2 ** 47 - PAGE;
    let addr = -1;
    if ((flags & MAP_FIXED) !== 0) {
      if (hint % BigInt(huge) !== 0n)
        throw einval(
          op,
          `MAP_FIXED address ${hex(hint)} is not aligned to the ${huge >> 20} MiB huge page size`,
        );
      if (hint > BigInt(taskSize - len))
        throw new KernelError("ENOMEM", `MAP_FIXED range [${hex(hint)}, +${hex(len)}) ends past TASK_SIZE`, {
          syscall: op,
        });
      addr = Number(hint);
    } else {
      const h = Number(hint - (hint % BigInt(huge)));
      if (h !== 0 && h <= taskSize - len && h > defaultWindow === h + len > defaultWindow) {
        const next = this.find_vma(h);
        if (next === undefined || h + len <= next.vm_start) addr = h;
      }
      if (addr < 0) {
        const high = this.mmapBase + (hint > BigInt(defaultWindow) ? taskSize - defaultWindow : 0);
        addr = this.#topDown(len, PAGE, high, huge);
        if (addr < 0) addr = this.#bottomUp(len, pageAlignUp(defaultWindow / 3), defaultWindow, huge);
      }
      if (addr < 0 || addr > taskSize - len)
        throw new KernelError("ENOMEM", `no free huge-aligned range of ${hex(len)} bytes`, { syscall: op });
    }
    return this.#checkMinAddr(op, addr);
  }

  // security_mmap_addr() -> cap_mmap_addr(): below mmap_min_addr needs CAP_SYS_RAWIO.
  #checkMinAddr(op: string, addr: number): number {
    if (addr < this.mmapMinAddr && !this.capSysRawio)
      throw new KernelError("EPERM", `address ${hex(addr)} is below vm.mmap_min_addr`, { syscall: op });
    return addr;
  }

  // vm_unmapped_area() top-down: the highest gap in [low, high) that holds len, the mapping at its top.
  #topDown(len: number, low: number, high: number, align = PAGE): number {
    let gapEnd = high;
    for (let i = this.vmas.length - 1; i >= -1; i--) {
      const v = this.vmas[i];
      const gapStart = v === undefined ? low : Math.max(low, v.vm_end);
      if (v !== undefined && v.vm_start >= high) continue;
      const end = Math.min(gapEnd, high);
      // The highest start in the gap that keeps `align` (a huge page size for hugetlb, else a page).
      const at = Math.floor((end - len) / align) * align;
      if (end - len >= gapStart && at >= gapStart) return at;
      if (v === undefined) break;
      gapEnd = Math.min(gapEnd, v.vm_start);
      if (v.vm_end <= low) break;
    }
    return -1;
  }

  // vm_unmapped_area() bottom-up: the lowest gap in [low, high) that holds len.
  #bottomUp(len: number, low: number, high: number, align = PAGE): number {
    const up = (a: number) => Math.ceil(a / align) * align;
    let gapStart = up(low);
    for (const v of this.vmas) {
      if (v.vm_end <= gapStart) continue;
      if (Math.min(v.vm_start, high) - gapStart >= len) return gapStart;
      gapStart = up(Math.max(gapStart, v.vm_end));
      if (gapStart >= high) return -1;
    }
    return high - gapStart >= len ? gapStart : -1;
  }

  // ---- munmap ---------------------------------------------------------------------------------------------------

  /**
   * `munmap(addr, length)` (`__vm_munmap` → `do_vmi_munmap`): unmaps whole pages, splitting VMAs at the ends.
   * Unaligned addr, length 0, or a range past TASK_SIZE → EINVAL; a range with no mapping → 0. Splitting a VMA in
   * two when map_count is at vm.max_map_count → ENOMEM.
   * @returns 0
   * @throws {@link @kbridge/uapi!KernelError} EINVAL or ENOMEM as Linux
   */
  munmap(addr: Addr, length: Addr): 0 {
    const op = "munmap";
    this.#alive(op);
    const a = ulong(op, "addr", addr);
    const l = ulong(op, "length", length);
    if (a % 4096n !== 0n) throw einval(op, `address ${hex(a)} is not page-aligned`);
    if (a > BigInt(this.taskSize) || l > BigInt(this.taskSize) - a)
      throw einval(op, `[${hex(a)}, +${hex(l)}) is not inside the user address space`);
    const len = Number((l + 4095n) & ~4095n);
    if (len === 0) throw einval(op, "length 0");
    const start = Number(a);
    this.#unmapRange(op, start, start + len);
    return 0;
  }

  // do_vmi_align_munmap(): split the VMAs at start and end, zap and remove the ones inside.
  #unmapRange(op: string, start: number, end: number): void {
    const first = this.find_vma(start);
    if (first === undefined || first.vm_start >= end) return;
    // A split in the middle of one VMA adds one.
    if (first.vm_start < start && first.vm_end > end && this.vmas.length >= this.maxMapCount)
      throw new KernelError("ENOMEM", "splitting the mapping would exceed vm.max_map_count", { syscall: op });
    if (first.vm_start < start) this.#split(first, start);
    const last = this.find_vma(end - 1);
    if (last !== undefined && last.vm_start < end && last.vm_end > end) this.#split(last, end);
    for (let v = this.find_vma(start); v !== undefined && v.vm_start < end; v = this.find_vma(start)) {
      this.#zap(v.vm_start, v.vm_end, v);
      v.vm_ops?.close?.(v);
      v.vm_file?.fput?.(); // remove_vma(): fput(vma->vm_file)
      this.vmas.splice(this.vmas.indexOf(v), 1);
    }
    this.#freeEmptyTables(start, end);
  }

  // __split_vma(): the VMA keeps [vm_start, at); a copy takes [at, vm_end).
  #split(vma: Vma, at: number): Vma {
    const tail = new Vma(
      this,
      at,
      vma.vm_end,
      vma.vm_flags,
      vma.vm_pgoff + (at - vma.vm_start) / PAGE,
      vma.vm_file,
    );
    tail.vm_page_prot = vma.vm_page_prot;
    tail.vm_ops = vma.vm_ops;
    tail.vm_private_data = vma.vm_private_data;
    tail.name = vma.name;
    tail.anon = vma.anon;
    vma.vm_end = at;
    this.vmas.splice(this.vmas.indexOf(vma) + 1, 0, tail);
    tail.vm_file?.get_file?.();
    tail.vm_ops?.open?.(tail);
    return tail;
  }

  // free_pgtables() after an unmap: the page tables whose whole span lies between the VMA before the hole and the
  // VMA after it hold nothing any more and go back to the allocator (free_pgd_range with floor and ceiling).
  #freeEmptyTables(start: number, end: number): void {
    const next = this.find_vma(start);
    let floor = 0;
    for (const v of this.vmas) if (v.vm_end <= start) floor = v.vm_end;
    const ceiling = next !== undefined && next.vm_start >= end ? next.vm_start : 2 ** 57;
    this.pgd.free_pgd_range(floor, ceiling);
  }

  // ---- mprotect -------------------------------------------------------------------------------------------------

  /**
   * `mprotect(addr, length, prot)` (`do_mprotect_pkey`): GROWSDOWN|GROWSUP together EINVAL → unaligned EINVAL →
   * length 0 returns 0 → end overflow ENOMEM → unknown prot bits EINVAL → no VMA at addr ENOMEM → per VMA: a
   * permission the VMA may not get (`VM_MAY*`) EACCES, a hole ENOMEM. VMAs before a hole or a refused VMA keep the new
   * protection (Linux is not atomic here). PTEs change with the VMA; a private writable page stays read-only until
   * its next write unless it is exclusively owned and dirty.
   * @returns 0
   * @throws {@link @kbridge/uapi!KernelError} with Linux's errno
   */
  mprotect(addr: Addr, length: Addr, prot: number): 0 {
    const op = "mprotect";
    this.#alive(op);
    const a = ulong(op, "addr", addr);
    const l = ulong(op, "length", length);
    checkInt(op, "prot", prot);
    const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
    if (grows === (PROT_GROWSDOWN | PROT_GROWSUP))
      throw einval(op, "PROT_GROWSDOWN and PROT_GROWSUP together");
    if (a % 4096n !== 0n) throw einval(op, `address ${hex(a)} is not page-aligned`);
    if (l === 0n) return 0;
    const lenA = (l + 4095n) & ~4095n;
    const endB = a + lenA;
    if (lenA >= U64 || endB >= U64 || endB <= a)
      throw new KernelError("ENOMEM", `[${hex(a)}, +${hex(l)}) wraps around`, { syscall: op });
    // arch_validate_prot(): x86 knows READ, WRITE, EXEC and SEM.
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) !== 0)
      throw einval(op, `prot ${hex(prot)} has unknown bits`);
    const start = Number(a);
    const end = endB > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(endB);
    const first = this.find_vma(start);
    if (first === undefined || first.vm_start >= end)
      throw new KernelError("ENOMEM", `no mapping in [${hex(start)}, ${hex(end)})`, { syscall: op });
    if ((grows & PROT_GROWSDOWN) !== 0) {
      if ((first.vm_flags & VM_GROWSDOWN) === 0)
        throw einval(op, "PROT_GROWSDOWN on a mapping that does not grow down");
    } else if (first.vm_start > start)
      throw new KernelError("ENOMEM", `address ${hex(start)} is not mapped`, { syscall: op });
    // PROT_GROWSUP needs VM_GROWSUP, which x86 does not have (VM_NONE): always EINVAL once a VMA is found.
    else if ((grows & PROT_GROWSUP) !== 0)
      throw einval(op, "PROT_GROWSUP on a mapping that does not grow up");
    // PROT_GROWSDOWN: `start = vma->vm_start`, the change reaches down to the start of the stack VMA.
    let tmp = (grows & PROT_GROWSDOWN) !== 0 ? first.vm_start : Math.max(first.vm_start, start);
    let nstart = tmp;
    for (let v = this.find_vma(nstart); v !== undefined && v.vm_start < end; v = this.find_vma(nstart)) {
      if (v.vm_start > tmp)
        throw new KernelError("ENOMEM", `address ${hex(tmp)} is not mapped`, { syscall: op });
      const newFlags = calcVmProtBits(prot) | (v.vm_flags & ~(VM_READ | VM_WRITE | VM_EXEC));
      // VM_MAY* >> 4 lines up with VM_*: a permission the VMA may never have.
      if (newFlags & ~(newFlags >> 4) & (VM_READ | VM_WRITE | VM_EXEC))
        throw new KernelError(
          "EACCES",
          `the mapping at ${hex(v.vm_start)} may not become ${protString(prot)} (VM_MAY* missing)`,
          { syscall: op },
        );
      tmp = Math.min(v.vm_end, end);
      this.#mprotectFixup(v, nstart, tmp, newFlags);
      // `tmp = vma_iter_end(&vmi)`: the end of the VMA just changed, which a merge may have moved past `end`.
      tmp = this.find_vma(tmp - 1)?.vm_end ?? tmp;
      nstart = tmp;
    }
    // `if (!error && tmp < end) error = -ENOMEM`: a hole after the last VMA.
    if (tmp < end) throw new KernelError("ENOMEM", `address ${hex(tmp)} is not mapped`, { syscall: op });
    return 0;
  }

  // mprotect_fixup(): split off [start, end), give it the new flags, rewrite its PTEs (change_protection), merge.
  #mprotectFixup(vma: Vma, start: number, end: number, newFlags: number): void {
    if (newFlags === vma.vm_flags) return;
    let v = vma;
    if (v.vm_start < start) v = this.#split(v, start);
    if (v.vm_end > end) this.#split(v, end);
    // VM_ACCOUNT is gained when a private mapping becomes writable.
    if ((newFlags & VM_WRITE) !== 0 && (newFlags & (VM_SHARED | VM_NORESERVE)) === 0) newFlags |= VM_ACCOUNT;
    v.vm_flags = newFlags;
    v.vm_page_prot = vm_get_page_prot(newFlags);
    this.#changeProtection(v);
    this.#tryMerge(v);
  }

  // change_pte_range() → pte_modify(): keep the bits of _PAGE_CHG_MASK (frame, PWT/PCD/PAT, A, D, software bits),
  // take P/RW/US/NX/PROTNONE from the new protection, and invert the frame bits when the entry turns PROT_NONE or
  // back (flip_protnone_guard, the L1TF mitigation).
  #changeProtection(v: Vma): void {
    const ram32 = this.host.phys.ram32;
    const [plo, phi] = entryHalves(v.vm_page_prot);
    const keepLo = 0xfffff000 | 0xf8 | 0xe00; // pfn, PWT/PCD/A/D/PAT, software bits 9..11
    for (let a = v.vm_start; a < v.vm_end; a += PAGE) {
      const w = this.#pteWord(a, false);
      if (w < 0) {
        a = Math.floor(a / SZ_2M) * SZ_2M + SZ_2M - PAGE;
        continue;
      }
      const lo = ram32[w]!;
      if ((lo & 1) === 0 && (lo & 0x100) === 0) continue; // not present
      const hi = ram32[w + 1]!;
      const pfn = pteWordsPfn(lo, hi);
      let nlo = (lo & keepLo) | (plo & 0x107);
      let nhi = (hi & 0x7fffffff) | (phi & 0x80000000);
      if (((lo & 1) === 0) !== ((nlo & 1) === 0)) {
        nlo ^= 0xfffff000;
        nhi ^= 0xfffff;
      }
      const special = (lo & 0x200) !== 0;
      // can_change_pte_writable(): a private page becomes writable at once only when exclusively ours and dirty.
      if ((v.vm_flags & VM_WRITE) !== 0 && (nlo & 1) !== 0) {
        if ((v.vm_flags & VM_SHARED) !== 0) nlo |= 2;
        else if (!special && (lo & 0x40) !== 0 && this.host.phys.page_ref_count(pfn) === 1) nlo |= 2;
      }
      ram32[w] = nlo >>> 0;
      ram32[w + 1] = nhi >>> 0;
      this.flushPage(a);
    }
  }

  // ---- brk ------------------------------------------------------------------------------------------------------

  /**
   * `brk(addr)`: moves the end of the heap and returns the new break, or the old one when the move is refused
   * (brk reports failure that way, not with an errno): below start_brk, into another mapping (one guard page kept),
   * or past TASK_SIZE. Growing maps anonymous `rw-p` memory named `[heap]`; shrinking unmaps it.
   */
  brk(addr: Addr): number {
    const op = "brk";
    this.#alive(op);
    const want = ulong(op, "addr", addr);
    const orig = this.brkValue;
    if (want < BigInt(this.startBrk) || want > BigInt(this.taskSize)) return orig;
    const brk = Number(want);
    const newbrk = pageAlignUp(brk);
    const oldbrk = pageAlignUp(this.brkValue);
    if (oldbrk === newbrk) {
      this.brkValue = brk;
      return brk;
    }
    if (brk <= this.brkValue) {
      const v = this.find_vma(newbrk);
      if (v === undefined || v.vm_start >= oldbrk) return orig;
      this.brkValue = brk;
      this.#unmapRange(op, newbrk, oldbrk);
      return brk;
    }
    if (newbrk > this.taskSize) return orig;
    const next = this.find_vma(oldbrk);
    if (next !== undefined && newbrk + PAGE > next.vm_start) return orig;
    // do_brk_flags(): extend the [heap] VMA or make it.
    const prev = this.vmas.find((v) => v.vm_end === oldbrk && v.name === "[heap]");
    if (prev !== undefined) prev.vm_end = newbrk;
    else {
      const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
      const v = new Vma(this, oldbrk, newbrk, flags, oldbrk / PAGE, undefined);
      v.name = "[heap]";
      this.#insert(v);
    }
    this.brkValue = brk;
    return brk;
  }

  // ---- mremap ---------------------------------------------------------------------------------------------------

  /**
   * `mremap(old_address, old_size, new_size, flags, new_address)`: shrinks in place, grows in place when the pages
   * after the VMA are free, or moves the mapping (page tables and all) with MREMAP_MAYMOVE, to `newAddress` with
   * MREMAP_FIXED; MREMAP_DONTUNMAP leaves the old range mapped but empty. Errors as Linux: unknown flags, FIXED or
   * DONTUNMAP without MAYMOVE, DONTUNMAP with a size change, unaligned addresses, new_size 0 → EINVAL; no VMA at the
   * old address → EFAULT; with MREMAP_FIXED/DONTUNMAP the new range is checked (EINVAL) and unmapped before the old
   * one (mremap_to); a shrink in place only unmaps the tail; growing or moving: an old range crossing the VMA's end
   * or growing a VM_DONTEXPAND/VM_PFNMAP VMA → EFAULT, no room and no MAYMOVE → ENOMEM.
   * @returns the (possibly new) address
   */
  mremap(oldAddress: Addr, oldSize: Addr, newSize: Addr, flags: number, newAddress: Addr = 0): number {
    const op = "mremap";
    this.#alive(op);
    const oa = ulong(op, "old_address", oldAddress);
    const os = ulong(op, "old_size", oldSize);
    const ns = ulong(op, "new_size", newSize);
    const na = ulong(op, "new_address", newAddress);
    checkInt(op, "flags", flags);
    if ((flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) !== 0)
      throw einval(op, `flags ${hex(flags)} has unknown bits`);
    if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0)
      throw einval(op, "MREMAP_FIXED without MREMAP_MAYMOVE");
    if ((flags & MREMAP_DONTUNMAP) !== 0 && ((flags & MREMAP_MAYMOVE) === 0 || os !== ns))
      throw einval(op, "MREMAP_DONTUNMAP needs MREMAP_MAYMOVE and equal sizes");
    if (oa % 4096n !== 0n) throw einval(op, `old_address ${hex(oa)} is not page-aligned`);
    // PAGE_ALIGN() in unsigned long: a length within a page of 2^64 wraps to 0.
    const oldLen = Number(((os + 4095n) & ~4095n) % U64);
    const newLen0 = ((ns + 4095n) & ~4095n) % U64;
    if (newLen0 === 0n) throw einval(op, "new_size 0");
    const old = Number(oa);
    if (this.vma_lookup(old) === undefined)
      throw new KernelError("EFAULT", `no mapping at ${hex(old)}`, { syscall: op });
    const dontUnmap = (flags & MREMAP_DONTUNMAP) !== 0;
    if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) {
      // mremap_to(): the new range is checked (and MREMAP_FIXED's unmapped) before the old one is looked at.
      if (na % 4096n !== 0n) throw einval(op, `new_address ${hex(na)} is not page-aligned`);
      if (newLen0 > BigInt(this.taskSize) || na > BigInt(this.taskSize) - newLen0)
        throw einval(op, "new range past TASK_SIZE");
      const newLen = Number(newLen0);
      const dst = Number(na);
      if (old + oldLen > dst && dst + newLen > old) throw einval(op, "the new range overlaps the old one");
      if (this.vmas.length + 2 >= this.maxMapCount - 3)
        throw new KernelError("ENOMEM", "map_count too close to vm.max_map_count", { syscall: op });
      if ((flags & MREMAP_FIXED) !== 0) this.#unmapRange(op, dst, dst + newLen);
      let len = oldLen;
      if (len > newLen) {
        this.#munmapTail(op, old + newLen, len - newLen);
        len = newLen;
      }
      const vma = this.#vmaToResize(op, old, len, newLen, flags);
      const to =
        (flags & MREMAP_FIXED) !== 0
          ? dst
          : this.#getUnmappedArea(
              op,
              na,
              newLen,
              vma.vm_flags & VM_MAYSHARE ? MAP_SHARED : 0,
              vma.vm_file !== undefined && SHMEM_FILES.has(vma.vm_file),
              vma.vm_file !== undefined ? BigInt(vma.vm_pgoff + (old - vma.vm_start) / PAGE) * 4096n : 0n,
            );
      return this.#move(vma, old, len, to, newLen, dontUnmap);
    }
    // Always allow a shrinking remap: it only unmaps the tail (no check of the old range against its VMA).
    if (BigInt(oldLen) >= newLen0) {
      if (BigInt(oldLen) > newLen0) this.#munmapTail(op, old + Number(newLen0), oldLen - Number(newLen0));
      return old;
    }
    const newLen = Number(newLen0);
    const vma = this.#vmaToResize(op, old, oldLen, newLen, flags);
    // Grow in place when the old range ends the VMA and the gap after it is free (vma_expandable).
    if (old + oldLen === vma.vm_end) {
      const next = this.find_vma(vma.vm_end);
      if (old + newLen <= this.taskSize && (next === undefined || next.vm_start >= old + newLen)) {
        vma.vm_end = old + newLen;
        if (vma.vm_file === undefined) this.#tryMerge(vma); // vma_merge_extend()
        return old;
      }
    }
    if ((flags & MREMAP_MAYMOVE) === 0)
      throw new KernelError("ENOMEM", "no room to grow in place and no MREMAP_MAYMOVE", { syscall: op });
    const dst = this.#getUnmappedArea(
      op,
      0n,
      newLen,
      vma.vm_flags & VM_MAYSHARE ? MAP_SHARED : 0,
      vma.vm_file !== undefined && SHMEM_FILES.has(vma.vm_file),
      vma.vm_file !== undefined ? BigInt(vma.vm_pgoff + (old - vma.vm_start) / PAGE) * 4096n : 0n,
    );
    return this.#move(vma, old, oldLen, dst, newLen, false);
  }

  // do_vmi_munmap() of the tail a shrink drops, with its range check (EINVAL past TASK_SIZE).
  #munmapTail(op: string, start: number, len: number): void {
    if (start > this.taskSize || len > this.taskSize - start)
      throw einval(op, `[${hex(start)}, +${hex(len)}) is not inside the user address space`);
    this.#unmapRange(op, start, start + len);
  }

  // vma_to_resize() (mm/mremap.c): the checks of the old range before it grows or moves.
  #vmaToResize(op: string, old: number, oldLen: number, newLen: number, flags: number): Vma {
    const vma = this.vma_lookup(old);
    if (vma === undefined) throw new KernelError("EFAULT", `no mapping at ${hex(old)}`, { syscall: op });
    if (oldLen === 0 && (vma.vm_flags & (VM_SHARED | VM_MAYSHARE)) === 0)
      throw einval(op, "old_size 0 on a private mapping");
    if ((flags & MREMAP_DONTUNMAP) !== 0 && (vma.vm_flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0)
      throw einval(op, "MREMAP_DONTUNMAP on a VM_DONTEXPAND or VM_PFNMAP mapping");
    if (oldLen > vma.vm_end - old)
      throw new KernelError("EFAULT", `[${hex(old)}, +${hex(oldLen)}) crosses the end of its mapping`, {
        syscall: op,
      });
    if (newLen !== oldLen && (vma.vm_flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0)
      throw new KernelError("EFAULT", "growing a VM_DONTEXPAND or VM_PFNMAP mapping", { syscall: op });
    return vma;
  }

  // move_vma(): a new VMA at dst with the old one's flags; the PTEs of [old, old+len) move; the old range goes.
  #move(vma: Vma, old: number, len: number, dst: number, newLen: number, dontUnmap: boolean): number {
    vma.vm_ops?.mremap?.(vma);
    // MREMAP_DONTUNMAP leaves the old VMA whole (only its PTEs move); otherwise [old, old + len) is split off.
    let src = vma;
    if (!dontUnmap) {
      if (src.vm_start < old) src = this.#split(src, old);
      if (src.vm_end > old + len) this.#split(src, old + len);
    }
    // copy_vma(): the offset continues the old one's, except that an anonymous VMA never faulted (no anon_vma)
    // takes its new address's, "to increase its chance of merging".
    const unfaulted = vma.vm_file === undefined && vma.vm_ops === undefined && !vma.anon;
    const moved = new Vma(
      this,
      dst,
      dst + newLen,
      src.vm_flags,
      unfaulted ? dst / PAGE : vma.vm_pgoff + (old - vma.vm_start) / PAGE,
      src.vm_file,
    );
    moved.vm_page_prot = src.vm_page_prot;
    moved.vm_ops = src.vm_ops;
    moved.vm_private_data = src.vm_private_data;
    moved.name = src.name;
    moved.anon = src.anon;
    const ram32 = this.host.phys.ram32;
    for (let off = 0; off < len; off += PAGE) {
      const w = this.#pteWord(old + off, false);
      if (w < 0 || (ram32[w] === 0 && ram32[w + 1] === 0)) continue;
      const d = this.#pteWord(dst + off, true);
      ram32[d] = ram32[w]!;
      ram32[d + 1] = ram32[w + 1]!;
      ram32[w] = 0;
      ram32[w + 1] = 0;
      this.flushPage(old + off);
    }
    this.#insert(moved);
    if (dontUnmap) {
      moved.vm_file?.get_file?.();
      moved.vm_ops?.open?.(moved);
      // The old VMA stays with its range empty; when it moved whole, unlink_anon_vmas() makes it unfaulted again.
      if (src.vm_start === old && src.vm_end === old + len) {
        src.anon = false;
        if (src.vm_file === undefined && src.vm_ops === undefined) src.vm_pgoff = src.vm_start / PAGE;
      }
    } else {
      // do_vmi_munmap() of the old range: its page tables go too (free_pgtables).
      this.vmas.splice(this.vmas.indexOf(src), 1);
      this.#freeEmptyTables(old, old + len);
    }
    // copy_vma() → vma_merge_new_range(): the new VMA joins a compatible neighbour.
    if (moved.vm_file === undefined && moved.vm_ops === undefined) this.#tryMerge(moved);
    return dst;
  }

  // ---- drivers ---------------------------------------------------------------------------------------------------

  /**
   * `remap_pfn_range(vma, addr, pfn, size, prot)`: maps frames `pfn…` at `[addr, addr + size)` of the VMA now, as
   * special PTEs without page references, and marks the VMA `VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP`. A
   * copy-on-write VMA (private and may-write) must be remapped whole, and its vm_pgoff becomes `pfn`. Usually called
   * from a driver's `mmap`.
   * @throws {@link @kbridge/uapi!KernelError} EINVAL for a range outside the VMA, unaligned values, or a partial
   * remap of a COW mapping; ENOMEM when a page table cannot be allocated
   */
  remap_pfn_range(vma: Vma, addr: number, pfn: number, size: number, prot: bigint = vma.vm_page_prot): 0 {
    const op = "remap_pfn_range";
    if (!(vma instanceof Vma) || !this.vmas.includes(vma))
      throw new KernelError("EINVAL", "the VMA is not one of this address space", { op });
    if (
      !Number.isSafeInteger(addr) ||
      !Number.isSafeInteger(size) ||
      !Number.isSafeInteger(pfn) ||
      pfn < 0 ||
      size <= 0
    )
      throw new KernelError(
        "EINVAL",
        `addr ${String(addr)}, pfn ${String(pfn)}, size ${String(size)} are not valid`,
        { op },
      );
    const end = addr + pageAlignUp(size);
    if (addr % PAGE !== 0 || addr < vma.vm_start || end > vma.vm_end)
      throw new KernelError(
        "EINVAL",
        `[${hex(addr)}, ${hex(end)}) is not a page-aligned part of the VMA [${hex(vma.vm_start)}, ${hex(vma.vm_end)})`,
        { op },
      );
    const cow = (vma.vm_flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
    if (cow) {
      if (addr !== vma.vm_start || end !== vma.vm_end)
        throw new KernelError("EINVAL", "a copy-on-write mapping must be remapped whole", { op });
      vma.vm_pgoff = pfn;
    }
    vma.vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
    for (let off = 0; addr + off < end; off += PAGE) {
      const w = this.#pteWord(addr + off, true);
      if (this.host.phys.ram32[w] !== 0 || this.host.phys.ram32[w + 1] !== 0)
        throw new KernelError("EBUSY", `a page is already mapped at ${hex(addr + off)}`, { op });
      this.#setPte(w, pfn + off / PAGE, prot, 0x200); // pte_mkspecial; raw PFNs are not counted in RSS
    }
    return 0;
  }

  // ---- faults ---------------------------------------------------------------------------------------------------

  /**
   * The kernel's side of a page fault on a user address (`do_user_addr_fault` from the VMA lookup on, then
   * `handle_mm_fault`): finds the VMA, checks `access_error`, and resolves the fault — demand-zero (a read maps the
   * shared zero page), a file or driver page (`->fault`), copy-on-write, or a write to a clean shared page. Returns
   * 0 when the access can be retried, or the signal it ends in: `{ signo: SIGSEGV, code: SEGV_MAPERR | SEGV_ACCERR }`,
   * `{ signo: SIGBUS, code: BUS_ADRERR }`; out of memory is `{ signo: 0, code: VM_FAULT_OOM }`.
   * @param address - the faulting address (CR2)
   * @param errorCode - the x86 page-fault error code (`X86_PF_*`)
   */
  handle_fault(address: number, errorCode: number): 0 | { signo: number; code: number } {
    this.#alive("page fault");
    const vma = this.vma_lookup(address);
    if (vma === undefined) return { signo: SIGSEGV, code: SEGV_MAPERR };
    if (access_error(errorCode, vma.vm_flags)) return { signo: SIGSEGV, code: SEGV_ACCERR };
    const r = this.#handleMmFault(vma, Math.floor(address / PAGE) * PAGE, (errorCode & X86_PF_WRITE) !== 0);
    if (r & VM_FAULT_OOM) return { signo: 0, code: VM_FAULT_OOM };
    if (r & VM_FAULT_SIGBUS) return { signo: SIGBUS, code: BUS_ADRERR };
    if (r & 0x40) return { signo: SIGSEGV, code: SEGV_MAPERR }; // VM_FAULT_SIGSEGV
    if (r & VM_FAULT_MAJOR) this.#major++;
    else this.#minor++;
    return 0;
  }

  /**
   * `mm_populate()` / MAP_POPULATE: faults in every page of `[start, end)` (writing where the mapping is private and
   * writable, so no zero page or shared COW page is left), stopping at the first that cannot be.
   */
  populate(start: number, end: number): void {
    for (let a = start; a < end; a += PAGE) {
      const v = this.vma_lookup(a);
      if (v === undefined || (v.vm_flags & (VM_IO | VM_PFNMAP)) !== 0) continue;
      const write = (v.vm_flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
      if ((v.vm_flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0) continue;
      const w = this.#pteWord(a, false);
      if (w >= 0) {
        const lo = this.host.phys.ram32[w]!;
        if ((lo & 1) !== 0 && (!write || (lo & 2) !== 0)) continue;
      }
      const r = this.handle_fault(
        a,
        (write ? X86_PF_WRITE : 0) | (w >= 0 && (this.host.phys.ram32[w]! & 1) !== 0 ? X86_PF_PROT : 0),
      );
      if (r !== 0) break;
    }
  }

  // handle_mm_fault() → handle_pte_fault(): the PTE decides.
  #handleMmFault(vma: Vma, addr: number, write: boolean): number {
    const phys = this.host.phys;
    const ram32 = phys.ram32;
    let w: number;
    try {
      w = this.#pteWord(addr, true);
    } catch {
      return VM_FAULT_OOM;
    }
    if (w < 0) return VM_FAULT_OOM;
    const lo = ram32[w]!;
    const hi = ram32[w + 1]!;
    if (lo === 0 && hi === 0) {
      if (vma.vm_ops?.fault !== undefined) return this.#doFault(vma, addr, w, write);
      if ((vma.vm_flags & VM_PFNMAP) !== 0 || vma.vm_file !== undefined) return VM_FAULT_SIGBUS;
      return this.#doAnonymousPage(vma, w, write);
    }
    if ((lo & 1) === 0) {
      // A PROTNONE entry in a VMA that allows the access again (do_numa_page): rebuild it from vm_page_prot.
      const pfn = pteWordsPfn(lo, hi);
      this.#setPte(w, pfn, vma.vm_page_prot, lo & 0x260);
      this.flushPage(addr);
      return 0;
    }
    if (write && (lo & 2) === 0) return this.#doWpPage(vma, addr, w);
    // A spurious fault: the PTE allows the access, a stale TLB entry did not (flush_tlb_fix_spurious_fault).
    ram32[w] = (lo | 0x20 | (write ? 0x40 : 0)) >>> 0;
    this.flushPage(addr);
    return 0;
  }

  // do_anonymous_page(): a read maps the shared zero page read-only; a write gets a zeroed page of its own.
  #doAnonymousPage(vma: Vma, w: number, write: boolean): number {
    if (!write) {
      this.#setPte(w, this.host.zeroPfn, vma.vm_page_prot & ~2n, 0x200); // pte_mkspecial(ZERO_PAGE), never writable
      this.#zero++; // `goto setpte`: the zero page is not counted in MM_ANONPAGES
      return 0;
    }
    let pfn: number;
    try {
      pfn = this.host.phys.alloc_pages(GFP_HIGHUSER | __GFP_ZERO, 0);
    } catch {
      return VM_FAULT_OOM;
    }
    vma.anon = true;
    // mk_pte + pte_mkwrite(pte_mkdirty()) when the VMA is writable.
    this.#setPte(w, pfn, vma.vm_page_prot | ((vma.vm_flags & VM_WRITE) !== 0 ? 0x42n : 0n));
    this.#rss++;
    return 0;
  }

  // do_fault(): do_read_fault, do_cow_fault (private write) or do_shared_fault.
  #doFault(vma: Vma, addr: number, w: number, write: boolean): number {
    const pgoff = vma.vm_pgoff + (addr - vma.vm_start) / PAGE;
    const got = vma.vm_ops!.fault!({ vma, address: addr, pgoff, write });
    if (!Number.isSafeInteger(got)) return VM_FAULT_SIGBUS;
    if (got < 0) return -got;
    if (!this.host.phys.pfn_valid(got)) return VM_FAULT_SIGBUS;
    const shared = (vma.vm_flags & VM_SHARED) !== 0;
    if (write && !shared) {
      // do_cow_fault(): a private copy of the file's page.
      let pfn: number;
      try {
        pfn = this.host.phys.alloc_pages(GFP_HIGHUSER, 0);
      } catch {
        this.host.phys.put_page(got);
        return VM_FAULT_OOM;
      }
      this.#copyFrame(pfn, got);
      this.host.phys.put_page(got);
      vma.anon = true;
      this.#cow++;
      this.#setPte(w, pfn, vma.vm_page_prot | 0x42n);
      this.#rss++;
      return 0;
    }
    // finish_fault(): the page itself; a shared write maps it writable and dirty.
    this.#setPte(w, got, vma.vm_page_prot | (write && shared ? 0x42n : 0n));
    this.#rss++;
    return 0;
  }

  // do_wp_page(): a write to a present read-only PTE in a writable VMA.
  #doWpPage(vma: Vma, addr: number, w: number): number {
    const phys = this.host.phys;
    const ram32 = phys.ram32;
    const lo = ram32[w]!;
    const hi = ram32[w + 1]!;
    const pfn = (hi & 0xfffff) * 0x100000 + (lo >>> 12);
    if ((vma.vm_flags & VM_SHARED) !== 0) {
      // wp_page_shared(): the shared page becomes writable and dirty.
      ram32[w] = (lo | 0x62) >>> 0;
      this.flushPage(addr);
      return 0;
    }
    const special = (lo & 0x200) !== 0;
    if (!special && phys.page_ref_count(pfn) === 1) {
      // wp_page_reuse(): nobody else maps it; write in place.
      ram32[w] = (lo | 0x62) >>> 0;
      this.flushPage(addr);
      return 0;
    }
    // wp_page_copy(): a new page, a copy of the old one (zeroed when the old one is the zero page).
    let npfn: number;
    try {
      npfn = phys.alloc_pages(GFP_HIGHUSER | (pfn === this.host.zeroPfn ? __GFP_ZERO : 0), 0);
    } catch {
      return VM_FAULT_OOM;
    }
    if (pfn !== this.host.zeroPfn) this.#copyFrame(npfn, pfn);
    vma.anon = true;
    this.#cow++;
    this.#setPte(w, npfn, vma.vm_page_prot | 0x62n);
    if (!special) phys.put_page(pfn);
    else this.#rss++; // wp_page_copy() without an old folio (zero page, raw PFN): inc_mm_counter(MM_ANONPAGES)
    this.flushPage(addr);
    return 0;
  }

  #copyFrame(to: number, from: number): void {
    const phys = this.host.phys;
    const src = phys.pfnOffset(from);
    phys.ram.copyWithin(phys.pfnOffset(to), src, src + PAGE);
  }

  // ---- fork and exit ---------------------------------------------------------------------------------------------

  /**
   * `dup_mm()` for `fork()`: a new address space with copies of the VMAs (not VM_DONTCOPY ones) and, where
   * `vma_needs_copy()` says so (anonymous pages, PFN maps), of the page tables: private writable pages are
   * write-protected in both parent and child and shared until one of them writes (copy-on-write); shared pages stay
   * shared. The child's PTEs are made old (A clear), shared ones clean.
   * @throws {@link @kbridge/uapi!KernelError} ENOMEM when page tables cannot be allocated (the child is torn down)
   */
  fork(): MmStruct {
    this.#alive("fork");
    const child = new MmStruct(this.host, {
      mmapMinAddr: this.mmapMinAddr,
      maxMapCount: this.maxMapCount,
      capSysRawio: this.capSysRawio,
      startBrk: this.startBrk,
    });
    child.brkValue = this.brkValue;
    const phys = this.host.phys;
    const ram32 = phys.ram32;
    try {
      for (const v of this.vmas) {
        if ((v.vm_flags & VM_DONTCOPY) !== 0) continue;
        const c = new Vma(child, v.vm_start, v.vm_end, v.vm_flags, v.vm_pgoff, v.vm_file);
        c.vm_page_prot = v.vm_page_prot;
        c.vm_ops = v.vm_ops;
        c.vm_private_data = v.vm_private_data;
        c.name = v.name;
        c.anon = v.anon;
        child.vmas.push(c);
        c.vm_file?.get_file?.();
        c.vm_ops?.open?.(c);
        if (!v.anon && (v.vm_flags & VM_PFNMAP) === 0) continue; // vma_needs_copy(): faults will fill the child
        const cow = (v.vm_flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
        for (let a = v.vm_start; a < v.vm_end; a += PAGE) {
          const w = this.#pteWord(a, false);
          if (w < 0) {
            a = Math.floor(a / SZ_2M) * SZ_2M + SZ_2M - PAGE;
            continue;
          }
          let lo = ram32[w]!;
          const hi = ram32[w + 1]!;
          if (lo === 0 && hi === 0) continue;
          const present = (lo & 1) !== 0 || (lo & 0x100) !== 0;
          if (present && (lo & 0x200) === 0)
            // copy_present_ptes(): vm_normal_page() decides, as in zap
            phys.get_page(pteWordsPfn(lo, hi));
          if (cow && (lo & 2) !== 0) {
            lo &= ~2; // ptep_set_wrprotect() in the parent too
            ram32[w] = lo >>> 0;
          }
          const cw = child.#pteWord(a, true);
          let clo = lo & ~0x20; // pte_mkold
          if ((v.vm_flags & VM_SHARED) !== 0) clo &= ~0x40; // pte_mkclean
          ram32[cw] = clo >>> 0;
          ram32[cw + 1] = hi;
          if (present && (lo & 0x200) === 0) child.#rss++;
        }
      }
    } catch (err) {
      child.mmput();
      throw err;
    }
    this.#flushAll(); // flush_tlb_mm(): the parent's writable TLB entries are stale now
    return child;
  }

  /**
   * `mmput()` → `exit_mmap()`: unmaps every VMA (dropping every page reference), frees the page tables and the
   * root. After it every frame the address space held is back with the allocator (unless shared with another).
   */
  mmput(): void {
    if (this.#dead) return;
    for (const v of [...this.vmas]) {
      this.#zap(v.vm_start, v.vm_end, v);
      v.vm_ops?.close?.(v);
      v.vm_file?.fput?.(); // remove_vma(): fput(vma->vm_file)
    }
    this.vmas.length = 0;
    const mmu = this.host.mmu;
    if (mmu.cr3 === this.pgd.root) mmu.flush_tlb_local();
    this.pgd.free(true);
    this.#dead = true;
  }

  // ---- /proc ------------------------------------------------------------------------------------------------------

  /**
   * The address space in `/proc/<pid>/maps` format (fs/proc/task_mmu.c show_map_vma): `start-end perms offset
   * dev inode`, padded to column 73 before a name (`[heap]`, a file's path).
   */
  maps(): string {
    let out = "";
    for (const v of this.vmas) {
      const f = v.vm_flags;
      const perms = `${f & VM_READ ? "r" : "-"}${f & VM_WRITE ? "w" : "-"}${f & VM_EXEC ? "x" : "-"}${f & VM_MAYSHARE ? "s" : "p"}`;
      const file = v.vm_file;
      const off = file !== undefined ? v.vm_pgoff * PAGE : 0;
      const [maj, min] = file?.dev ?? [0, 0];
      const head = `${hex8(v.vm_start)}-${hex8(v.vm_end)} ${perms} ${hex8(off)} ${hex2(maj)}:${hex2(min)} ${file?.ino ?? 0} `;
      const name = file?.path ?? v.name;
      out += name === undefined ? `${head}\n` : `${head.padEnd(72)} ${name}\n`;
    }
    return out;
  }
}

// The shmem files behind shared anonymous mappings (shmem_zero_setup): their get_unmapped_area is shmem's.
const SHMEM_FILES = new WeakSet<MmapFile>();

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

function protString(prot: number): string {
  return `${prot & PROT_READ ? "r" : "-"}${prot & PROT_WRITE ? "w" : "-"}${prot & PROT_EXEC ? "x" : "-"}`;
}

// The hugetlbfs file of an anonymous MAP_HUGETLB mapping ("/anon_hugepage (deleted)"): hugetlbfs_file_mmap() marks the
// VMA VM_HUGETLB | VM_DONTEXPAND and reserves the huge pages. The model's machine has no huge pages (vm.nr_hugepages
// is 0, the default), so the reservation fails with ENOMEM, unless MAP_NORESERVE skipped it; then every fault finds
// no huge page to allocate and ends in SIGBUS (hugetlb_no_page → alloc_hugetlb_folio fails).
function hugetlbFile(): MmapFile {
  return {
    readable: true,
    writable: true,
    path: "/anon_hugepage (deleted)",
    mmap(vma: Vma): void {
      vma.vm_flags |= VM_HUGETLB | VM_DONTEXPAND;
      if ((vma.vm_flags & VM_NORESERVE) === 0)
        throw new KernelError("ENOMEM", "no huge pages can be reserved (vm.nr_hugepages is 0)", {
          syscall: "mmap",
        });
      vma.vm_ops = { fault: () => -VM_FAULT_SIGBUS };
    },
  };
}

/**
 * A file with a page cache (mm/filemap.c, mm/shmem.c): its bytes live in frames allocated on first access and
 * shared by every mapping; `mmap` installs a `->fault` that hands out those frames (`filemap_fault`), and a page
 * wholly past the end of the file faults with SIGBUS. `read`/`write` go through the same frames, so a MAP_SHARED
 * store is visible to `read`, and a `write` to every mapping.
 */
export class PageCacheFile implements MmapFile {
  /** FMODE_READ. */
  readonly readable: boolean;
  /** FMODE_WRITE. */
  readonly writable: boolean;
  /** The path for /proc/<pid>/maps. */
  readonly path: string | undefined;
  /** The inode number. */
  readonly ino: number;
  /** The device. */
  readonly dev: readonly [number, number];
  readonly #phys: PhysicalMemory;
  readonly #pages = new Map<number, number>(); // page index -> pfn (the cache's reference)
  #size: number;

  /**
   * @param phys - the RAM the page cache uses
   * @param options - size in bytes, initial contents, open mode, and what /proc/<pid>/maps shows
   */
  constructor(
    phys: PhysicalMemory,
    options: {
      size?: number;
      data?: Uint8Array;
      readable?: boolean;
      writable?: boolean;
      path?: string;
      ino?: number;
      dev?: readonly [number, number];
    } = {},
  ) {
    this.#phys = phys;
    this.readable = options.readable ?? true;
    this.writable = options.writable ?? true;
    this.path = options.path;
    this.ino = options.ino ?? 0;
    this.dev = options.dev ?? [0, 0];
    const size = options.size ?? options.data?.length ?? 0;
    if (!Number.isSafeInteger(size) || size < 0)
      throw new KernelError("EINVAL", `size ${String(options.size)} is not a byte count`, {
        op: "PageCacheFile",
      });
    this.#size = size;
    if (options.data !== undefined) this.write(0, options.data);
  }

  /** `i_size`. */
  get size(): number {
    return this.#size;
  }

  /** Frames the page cache holds. */
  get cachedPages(): number {
    return this.#pages.size;
  }

  // find_or_create_page(): the frame of page `index`, zero-filled when new.
  #page(index: number): number {
    let pfn = this.#pages.get(index);
    if (pfn === undefined) {
      pfn = this.#phys.alloc_pages(GFP_HIGHUSER | __GFP_ZERO, 0);
      this.#pages.set(index, pfn);
    }
    return pfn;
  }

  /** Reads up to `length` bytes at `offset` (fewer at the end of the file). */
  read(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
      throw new KernelError(
        "EINVAL",
        `offset ${String(offset)} / length ${String(length)} are not byte counts`,
        { op: "PageCacheFile.read" },
      );
    const n = Math.max(0, Math.min(length, this.#size - offset));
    const out = new Uint8Array(n);
    for (let done = 0; done < n; ) {
      const pos = offset + done;
      const chunk = Math.min(PAGE - (pos % PAGE), n - done);
      const pfn = this.#pages.get(Math.floor(pos / PAGE));
      if (pfn !== undefined) {
        const o = this.#phys.pfnOffset(pfn) + (pos % PAGE);
        out.set(this.#phys.ram.subarray(o, o + chunk), done);
      }
      done += chunk;
    }
    return out;
  }

  /**
   * Writes `data` at `offset`, growing the file.
   * @throws {@link @kbridge/uapi!KernelError} ENOMEM when the page cache cannot get a frame
   */
  write(offset: number, data: Uint8Array): number {
    if (!Number.isSafeInteger(offset) || offset < 0 || !(data instanceof Uint8Array))
      throw new KernelError("EINVAL", `offset ${String(offset)} or data is not valid`, {
        op: "PageCacheFile.write",
      });
    for (let done = 0; done < data.length; ) {
      const pos = offset + done;
      const chunk = Math.min(PAGE - (pos % PAGE), data.length - done);
      const o = this.#phys.pfnOffset(this.#page(Math.floor(pos / PAGE))) + (pos % PAGE);
      this.#phys.ram.set(data.subarray(done, done + chunk), o);
      done += chunk;
    }
    this.#size = Math.max(this.#size, offset + data.length);
    return data.length;
  }

  /** `f_op->mmap` (generic_file_mmap): the VMA's pages come from the page cache through `->fault`. */
  mmap(vma: Vma): void {
    vma.vm_ops = {
      fault: (vmf) => {
        // filemap_fault(): a page wholly past EOF is SIGBUS.
        if (vmf.pgoff * PAGE >= pageAlignUp(this.#size)) return -VM_FAULT_SIGBUS;
        let pfn: number;
        try {
          pfn = this.#page(vmf.pgoff);
        } catch {
          return -VM_FAULT_OOM;
        }
        this.#phys.get_page(pfn);
        return pfn;
      },
    };
  }

  /** Drops the page cache (the file is deleted and no longer mapped): every frame back to the allocator. */
  release(): void {
    for (const pfn of this.#pages.values()) this.#phys.put_page(pfn);
    this.#pages.clear();
  }
}
